//! The scan: accounts x regions x calls, planned per account and executed through
//! awsdyn with bounded, fair concurrency; every outcome is pushed to the sinks as it
//! happens. Not the choice of calls (`spec`), the writing of results (`sink`), nor
//! the command line (`commands::scan`).
//!
//! By stage: [`plan`] places an account's calls in regions (pure), `execute` sets up
//! accounts and runs their tasks, `writers` runs the sink writes, and [`resume`] keeps
//! the plan and what an interrupted run settled.
//!
//! - Accounts are taken as they come ([`Accounts`]: discovery hands them on page by
//!   page), a bounded number at a time ([`Options::accounts_in_flight`]).
//!   For each: credentials ([`CredentialSource`]), then its enabled regions (or the
//!   given ones), then its tasks: one per global call, one per regional call and region
//!   where the service exists.
//! - Each account runs at most [`Options::per_account`] calls at once, and every call
//!   takes a permit of the global semaphore ([`Options::concurrency`]); the semaphore
//!   is FIFO, so in-flight accounts share it evenly.
//! - A call has a timeout; an account has a deadline, after which its remaining calls
//!   are recorded as failed. awsdyn retries and rate-limits per account/service/region
//!   (throttling for as long as the call's timeout allows, other retryable failures a
//!   few times).
//! - Nothing is lost to a passing fault: a call that still ends in a retryable error
//!   (throttling, 5xx, a reset or a timeout outlasting awsdyn's retries) is not
//!   recorded yet; it gets one more round once the account's other calls are done, and
//!   only that round's outcome is recorded (once). The same holds for the account's
//!   set-up (AssumeRole, DescribeRegions). What still fails is recorded `retryable`,
//!   and `census scan --resume` runs it again.
//! - Memory stays flat in the number of accounts: an account's credentials, tasks and
//!   results live only while it is in flight; results go to the sinks immediately, and
//!   of the calls only running totals are kept (the sinks keep the records).
//! - Sinks write files and databases: they are called on the scan's writer threads,
//!   never on the runtime's, while the call keeps its concurrency permit (so at most
//!   [`Options::concurrency`] results are in memory or being written at once).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::provider::SharedCredentialsProvider;
use awsdyn::client::{Client, EndpointSettings};

use crate::account::Account;
use crate::regions::Catalog;
use crate::sink::{AccountReport, CallRecord, ScanInfo, Sink, Totals};
use crate::spec::Call;

mod details;
mod execute;
pub mod plan;
pub mod progress;
pub mod resume;
mod writers;

pub use execute::{count_items, run, run_until};

/// Why an account could not be accessed.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessFailure {
    pub code: String,
    pub message: String,
    pub remediation: Option<String>,
    /// Another try may work (throttling, 5xx, a reset outlasted the retries and a second
    /// round): the account is recorded so, and `--resume` sets it up again.
    pub retryable: bool,
}

/// A boxed future, for [`CredentialSource`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The accounts a scan covers: as they come (a discovery under way, or a list), then
/// the whole list with everything discovery read about them after handing them on
/// (their tags, OU paths), which the accounts' reports take before the scan finishes.
pub struct Accounts {
    pub stream: futures::stream::BoxStream<'static, Account>,
    /// The accounts described; `None`: as they came.
    pub complete: BoxFuture<'static, Option<Vec<Account>>>,
}

impl From<Vec<Account>> for Accounts {
    fn from(accounts: Vec<Account>) -> Accounts {
        Accounts {
            stream: Box::pin(futures::stream::iter(accounts)),
            complete: Box::pin(std::future::ready(None)),
        }
    }
}

/// How the scan gets credentials for an account (`auth::Access` implements it).
pub trait CredentialSource: Send + Sync {
    fn credentials<'a>(
        &'a self,
        account: &'a Account,
    ) -> BoxFuture<'a, Result<SharedCredentialsProvider, AccessFailure>>;

    /// The account's scan ended: whatever was kept for it (cached credentials) can go.
    fn release(&self, _account: &Account) {}
}

/// Scan settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Calls in flight across the whole scan.
    pub concurrency: usize,
    /// Calls in flight per account.
    pub per_account: usize,
    /// Accounts being worked on at once.
    pub accounts_in_flight: usize,
    /// Time allowed for one call, all its pages and retries included.
    pub call_timeout: Duration,
    /// Time allowed for one account, set-up included.
    pub account_deadline: Duration,
    /// Regions to scan instead of each account's enabled regions.
    pub regions: Option<Vec<String>>,
    /// Fetch every page (default) or only the first.
    pub paginate: bool,
    /// Detail calls of a list call run for its first N items at most.
    pub max_details_per_call: Option<usize>,
}

impl Default for Options {
    fn default() -> Self {
        let concurrency = 64;
        Options {
            concurrency,
            per_account: 16,
            accounts_in_flight: 16,
            call_timeout: Duration::from_secs(300),
            account_deadline: Duration::from_secs(3600),
            regions: None,
            paginate: true,
            max_details_per_call: None,
        }
    }
}

/// Everything one scan run needs.
pub struct Scan {
    pub info: ScanInfo,
    pub client: Client,
    pub endpoints: Arc<EndpointSettings>,
    pub credentials: Arc<dyn CredentialSource>,
    pub calls: Vec<Call>,
    pub catalog: Arc<Catalog>,
    pub sinks: Vec<Arc<dyn Sink>>,
    pub options: Options,
    /// Calls already recorded by an interrupted run (`--resume`), and its account reports.
    pub previous_calls: Vec<CallRecord>,
    pub previous_accounts: Vec<AccountReport>,
}

/// How a scan ended.
#[derive(Debug)]
pub struct Outcome {
    pub totals: Totals,
    pub accounts: Vec<AccountReport>,
    /// Stopped by [`run_until`]'s interrupt: the calls written so far are in the sinks,
    /// the scan is not finished (no summary), and `--resume` completes it.
    pub interrupted: bool,
}

impl Outcome {
    /// 0 complete, 2 complete with failed calls or accounts, 130 interrupted.
    pub fn exit_status(&self) -> u8 {
        if self.interrupted {
            130
        } else if self.totals.calls_failed > 0 || self.totals.accounts_failed > 0 {
            2
        } else {
            0
        }
    }
}

/// A sink failed: the scan stops, since its output would be incomplete.
#[derive(Debug, thiserror::Error)]
#[error("writing to the {sink} failed: {error}")]
pub struct SinkError {
    pub sink: String,
    pub error: std::io::Error,
}
