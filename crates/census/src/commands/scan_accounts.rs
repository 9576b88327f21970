//! `census scan`'s accounts: discovery started and streamed into the scan, its problems
//! printed when it ends, and the scan's plan rewritten then with every account (until
//! that, the plan keeps the discovery options, so that `--resume` discovers again).

use std::path::PathBuf;

use anyhow::{bail, Result};
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::account::Account;
use crate::discover::{Discovery, Options};
use crate::scan::resume::Plan;
use crate::scan::Accounts;
use crate::session::Session;
use crate::shard::Shard;

/// A discovery that has found its first account, or ended.
pub(super) struct Begun {
    first: Option<Account>,
    accounts: mpsc::UnboundedReceiver<Account>,
    end: End,
}

enum End {
    Running(tokio::task::JoinHandle<Discovery>),
    /// Ended before the first account came (its problems are printed).
    Ended(Box<Discovery>),
}

/// Starts discovering and waits for the first account. Discovery that ends having found
/// no account at all is the error.
pub(super) async fn begin(session: &Session, opts: &Options) -> Result<Begun> {
    let mut discovering = session.start_discovery(opts)?;
    let first = discovering.accounts.recv().await;
    let end = match first {
        Some(_) => End::Running(discovering.done),
        None => {
            let found = join(discovering.done).await;
            report(&found, opts.shard.as_ref());
            if found.passed_filters == 0 {
                bail!("no accounts to scan: discovery found none (check --org, --ou/--accounts filters, or --role-arns)");
            }
            End::Ended(Box::new(found))
        }
    };
    Ok(Begun {
        first,
        accounts: discovering.accounts,
        end,
    })
}

impl Begun {
    /// The whole discovery, when it ended before the first account.
    pub(super) fn ended(&self) -> Option<&Discovery> {
        match &self.end {
            End::Ended(d) => Some(d),
            End::Running(_) => None,
        }
    }

    /// The scan's accounts. When discovery ends, its problems are printed and `plan`
    /// (already written with no accounts and the discovery options) is written again
    /// into `root` with every account.
    pub(super) fn into_accounts(self, mut plan: Plan, root: PathBuf) -> Accounts {
        let Begun {
            first,
            accounts,
            end,
        } = self;
        let stream = futures::stream::iter(first)
            .chain(futures::stream::unfold(accounts, |mut rx| async move {
                rx.recv().await.map(|a| (a, rx))
            }));
        let done = match end {
            End::Ended(_) => {
                return Accounts {
                    stream: Box::pin(stream),
                    complete: Box::pin(std::future::ready(None)),
                }
            }
            End::Running(done) => done,
        };
        let shard = plan.shard;
        let ended = tokio::spawn(async move {
            let found = join(done).await;
            report(&found, shard.as_ref());
            plan.accounts = found.accounts.clone();
            plan.organizations = via_roles(&found);
            plan.discovery = None;
            if let Err(e) = plan.write(&root) {
                eprintln!(
                    "census: warning: cannot write the scan's plan into {}: {e}; census scan --resume will discover the accounts again",
                    root.display()
                );
            }
            found.accounts
        });
        Accounts {
            stream: Box::pin(stream),
            complete: Box::pin(async move {
                if !ended.is_finished() {
                    tracing::info!("every account is scanned; discovery is still reading what describes them (OU paths, tags: --account-tags false leaves the tags out)");
                }
                match ended.await {
                    Ok(accounts) => Some(accounts),
                    Err(e) => std::panic::resume_unwind(e.into_panic()),
                }
            }),
        }
    }
}

/// The organizations entered through a role, as a plan keeps them: `(org id, role ARN)`.
pub(super) fn via_roles(found: &Discovery) -> Vec<(String, String)> {
    found
        .organizations
        .iter()
        .filter_map(|o| o.via_role_arn.clone().map(|arn| (o.id.clone(), arn)))
        .collect()
}

async fn join(done: tokio::task::JoinHandle<Discovery>) -> Discovery {
    match done.await {
        Ok(d) => d,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// Prints discovery's problems (once: not also as log lines) and the shard's share.
fn report(found: &Discovery, shard: Option<&Shard>) {
    for p in &found.problems {
        let p = crate::util::print::escape(&p.to_string()).into_owned();
        eprintln!("census: warning: {p}");
    }
    if let Some(shard) = shard {
        eprintln!(
            "census: shard {shard}: {} of the {} accounts discovered",
            found.accounts.len(),
            found.passed_filters
        );
    }
}
