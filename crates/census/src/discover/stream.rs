//! Discovery as a stream: each selected account is handed on as soon as its
//! organization's ListAccounts page arrives, so that a scan starts on the first page
//! instead of after every Organizations call (at 10,000 accounts and Organizations' 5
//! requests a second, listing alone takes 100 s, the OU tree as long again, and one
//! ListTagsForResource per account 2,000 s). What only describes an account (its OU path
//! without `--ou` filters, its tags) is read afterwards, and comes with the whole
//! [`Discovery`] at the end.
//!
//! In order: the organizations (DescribeOrganization, entering `--org-role-arn` roles,
//! whose routes are registered with [`Access`] at once so that their members can be
//! entered), then each organization's accounts, listed concurrently (with `--ou` or
//! `--exclude-ou`, after its OU tree, which the filters need), then the `--role-arns`
//! accounts no organization listed, or the caller's or `--accounts`' accounts when there
//! is no other source. Then the accounts stream ends, and the OU trees not read yet and
//! the tags of the accounts handed on are read.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

use awsdyn::client::Client;
use futures::future::join_all;
use tokio::sync::mpsc;

use super::organization::{Head, Reader, Tree};
use super::{scope, unique, DiscoverError, Discovery, ListKind, Options, OrgInfo, Problem};
use crate::account::Account;
use crate::auth::{Access, Base, OrgRoute, RoleArn};

/// A discovery under way: see the module documentation.
pub struct Discovering {
    /// Each selected account once, as soon as it is known (before its tags and, without
    /// OU filters, its OU path). Ends when every source has been listed.
    pub accounts: mpsc::UnboundedReceiver<Account>,
    /// The whole discovery: the same accounts, sorted, with everything read about them.
    pub done: tokio::task::JoinHandle<Discovery>,
}

impl Discovering {
    /// Waits for the whole discovery, letting the streamed accounts go.
    pub async fn finish(mut self) -> Discovery {
        while self.accounts.recv().await.is_some() {}
        match self.done.await {
            Ok(d) => d,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
}

/// Starts discovering the accounts `opts` selects. Malformed input is the error, before
/// any call; everything else that goes wrong is a [`Problem`] in the [`Discovery`].
pub fn start(
    client: &Client,
    base: &Base,
    access: &Access,
    opts: &Options,
) -> Result<Discovering, DiscoverError> {
    super::input::check_all("--org-role-arn", ListKind::RoleArns, &opts.org_role_arns)?;
    super::input::check_all("--role-arns", ListKind::RoleArns, &opts.role_arns)?;
    super::input::check_all("--ou", ListKind::OuIds, &opts.ous)?;
    super::input::check_all("--exclude-ou", ListKind::OuIds, &opts.exclude_ous)?;
    super::input::check_all("--accounts", ListKind::AccountIds, &opts.accounts)?;
    super::input::check_all(
        "--exclude-accounts",
        ListKind::AccountIds,
        &opts.exclude_accounts,
    )?;
    let org_sources = opts.org || !opts.org_role_arns.is_empty();
    if (!opts.ous.is_empty() || !opts.exclude_ous.is_empty()) && !org_sources {
        return Err(DiscoverError::Input(
            "--ou and --exclude-ou select accounts of an organization: add --org or --org-role-arn"
                .into(),
        ));
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let driver = Driver {
        client: client.clone(),
        base: base.clone(),
        access: access.clone(),
        opts: opts.clone(),
    };
    let done = tokio::spawn(async move { driver.run(tx).await });
    Ok(Discovering { accounts: rx, done })
}

struct Driver {
    client: Client,
    base: Base,
    access: Access,
    opts: Options,
}

/// One organization being read.
struct Org<'a> {
    reader: Reader<'a>,
    head: Head,
    /// How it was entered (`--org-role-arn`).
    route: Option<OrgRoute>,
}

/// What was found of one organization.
struct OrgFound {
    info: OrgInfo,
    tree: Option<Tree>,
}

/// Which accounts are kept, applied to each account as it is found.
struct Selection<'a> {
    opts: &'a Options,
    access: &'a Access,
    /// Where accounts go; `None` once every source is listed.
    tx: Option<mpsc::UnboundedSender<Account>>,
    /// `--accounts` as a filter (with another source).
    wanted: Option<BTreeSet<String>>,
    excluded: BTreeSet<String>,
    /// Management accounts to leave out (`--include-management false`).
    management: BTreeSet<String>,
    /// `--role-arns` by account id.
    roles: HashMap<String, RoleArn>,
    /// Every id offered or left out by a filter: the first source of an id decides.
    seen: HashSet<String>,
    /// Ids that passed every filter but the shard's.
    passed: usize,
    passed_ids: HashSet<String>,
    /// The accounts handed on, by id.
    kept: BTreeMap<String, Account>,
    problems: Vec<Problem>,
}

impl Selection<'_> {
    /// Hands `a` on unless a filter leaves it out or its id was seen already.
    fn offer(&mut self, mut a: Account) {
        if !self.seen.insert(a.id.clone()) {
            return;
        }
        // Ids name folders and roles: an answer with one that is not 12 digits is left out.
        if let Err(e) = crate::account::check_id(&a.id) {
            self.problems.push(Problem::note(
                format!("accounts from {}", a.source),
                format!("{e}; that account is left out"),
            ));
            return;
        }
        if self.wanted.as_ref().is_some_and(|w| !w.contains(&a.id))
            || self.excluded.contains(&a.id)
            || self.management.contains(&a.id)
        {
            return;
        }
        if let Some(role) = self.roles.get(&a.id) {
            a.role_arn = Some(role.to_string());
        }
        a.is_caller = self.access.role_arn(&a).is_none();
        self.passed += 1;
        self.passed_ids.insert(a.id.clone());
        if self.opts.shard.is_some_and(|s| !s.owns(&a.id)) {
            return;
        }
        self.kept.insert(a.id.clone(), a.clone());
        // The receiver may be gone (a scan that stopped): discovery still ends whole.
        if let Some(tx) = &self.tx {
            let _ = tx.send(a);
        }
    }

    /// Leaves `id` out: a later source naming it does not bring it back.
    fn reject(&mut self, id: &str) {
        self.seen.insert(id.to_string());
    }
}

impl Driver {
    async fn run(&self, tx: mpsc::UnboundedSender<Account>) -> Discovery {
        let opts = &self.opts;
        let caller = self.access.caller();
        let org_sources = opts.org || !opts.org_role_arns.is_empty();
        let ou_filters = !opts.ous.is_empty() || !opts.exclude_ous.is_empty();
        let role_arns: Vec<RoleArn> = unique(&opts.role_arns)
            .iter()
            .filter_map(|a| RoleArn::parse(a).ok())
            .collect();
        let any_source = org_sources || !role_arns.is_empty();

        let mut problems = Vec::new();
        let orgs = self.organizations(&mut problems).await;
        let routes: Vec<OrgRoute> = orgs.iter().filter_map(|o| o.route.clone()).collect();
        self.access.add_routes(&routes);

        let selection = Mutex::new(Selection {
            opts,
            access: &self.access,
            tx: Some(tx),
            wanted: (any_source && !opts.accounts.is_empty())
                .then(|| opts.accounts.iter().cloned().collect()),
            excluded: opts.exclude_accounts.iter().cloned().collect(),
            management: if opts.include_management {
                BTreeSet::new()
            } else {
                orgs.iter()
                    .map(|o| o.head.management_account_id.clone())
                    .collect()
            },
            roles: role_arns
                .iter()
                .map(|r| (r.account_id.clone(), r.clone()))
                .collect(),
            seen: HashSet::new(),
            passed: 0,
            passed_ids: HashSet::new(),
            kept: BTreeMap::new(),
            problems: Vec::new(),
        });
        let lock = || selection.lock().unwrap_or_else(|e| e.into_inner());

        // The organizations' accounts, every organization at once.
        let listed = join_all(
            orgs.iter()
                .map(|org| self.list(org, ou_filters, &selection)),
        )
        .await;
        let mut found = Vec::new();
        let mut listed_orgs = Vec::new();
        for (org, result) in orgs.iter().zip(listed) {
            match result {
                Ok((f, mut p)) => {
                    problems.append(&mut p);
                    found.push(f);
                    listed_orgs.push(org);
                }
                Err(p) => problems.push(p),
            }
        }
        if ou_filters {
            unknown_ous(&found, opts, &mut problems);
        }
        // Then the other sources.
        for arn in &role_arns {
            let a = Account::plain(
                &arn.account_id,
                &arn.partition,
                Some(arn.to_string()),
                "role-arns",
            );
            lock().offer(a);
        }
        if !any_source {
            if opts.accounts.is_empty() {
                lock().offer(Account::plain(
                    &caller.account_id,
                    &caller.partition,
                    None,
                    "caller",
                ));
            } else {
                for id in unique(&opts.accounts) {
                    lock().offer(Account::plain(&id, &caller.partition, None, "accounts"));
                }
            }
        }
        // Every account is handed on: the stream ends.
        let (kept, passed_ids, passed) = {
            let mut s = lock();
            problems.append(&mut s.problems);
            s.tx = None;
            (
                std::mem::take(&mut s.kept),
                std::mem::take(&mut s.passed_ids),
                s.passed,
            )
        };
        if let Some(wanted) = &lock().wanted {
            for id in wanted.iter().filter(|id| !passed_ids.contains(*id)) {
                problems.push(Problem::note(
                    "--accounts".into(),
                    format!(
                        "{id} is not among the accounts found (not in the organizations read, not ACTIVE, excluded by an OU filter, or not in --role-arns)"
                    ),
                ));
            }
        }

        // What describes the accounts handed on: OU paths and tags.
        let mut kept = kept;
        let described = join_all(
            listed_orgs
                .iter()
                .zip(found.iter_mut())
                .map(|(org, f)| self.describe(org, f, &kept)),
        )
        .await;
        for (mut accounts, mut p) in described {
            problems.append(&mut p);
            for a in accounts.drain(..) {
                kept.insert(a.id.clone(), a);
            }
        }
        Discovery {
            accounts: kept.into_values().collect(),
            organizations: found.into_iter().map(|f| f.info).collect(),
            problems,
            routes,
            passed_filters: passed,
        }
    }

    /// Reads `--org` and every `--org-role-arn` organization's DescribeOrganization
    /// (concurrently), entering the latter. An organization reached twice is kept once
    /// (the first time).
    async fn organizations(&self, problems: &mut Vec<Problem>) -> Vec<Org<'_>> {
        let opts = &self.opts;
        let caller = self.access.caller();
        let org_role_arns: Vec<RoleArn> = unique(&opts.org_role_arns)
            .iter()
            .filter_map(|a| RoleArn::parse(a).ok())
            .collect();
        let own = async {
            if !opts.org {
                return None;
            }
            let reader = Reader {
                client: &self.client,
                base: &self.base,
                credentials: self.base.credentials.clone(),
                account_id: caller.account_id.clone(),
                principal: caller.arn.clone(),
                partition: caller.partition.clone(),
                via: None,
                caller,
            };
            Some(reader.head().await.map(|head| Org {
                reader,
                head,
                route: None,
            }))
        };
        let others = join_all(org_role_arns.into_iter().map(|role| async move {
            let credentials = self
                .access
                .organization_role(&role)
                .await
                .map_err(|e| Problem::from_access(scope::org_role(&role.to_string()), &e))?;
            let reader = Reader {
                client: &self.client,
                base: &self.base,
                credentials: credentials.clone(),
                account_id: role.account_id.clone(),
                principal: role.to_string(),
                partition: role.partition.clone(),
                via: Some(role.clone()),
                caller,
            };
            let head = reader.head().await?;
            let route = OrgRoute {
                org_id: head.id.clone(),
                role_arn: role,
                provider: credentials,
                chain_members: opts.chain_through_management,
            };
            Ok::<_, Problem>(Org {
                reader,
                head,
                route: Some(route),
            })
        }));
        let (own, others) = futures::join!(own, others);
        let mut orgs: Vec<Org> = Vec::new();
        for result in own.into_iter().chain(others) {
            match result {
                Ok(org) if orgs.iter().any(|o| o.head.id == org.head.id) => {}
                Ok(org) => orgs.push(org),
                Err(p) => problems.push(p),
            }
        }
        orgs
    }

    /// Lists one organization's accounts into the selection (with OU filters, after
    /// reading its tree and applying them).
    async fn list(
        &self,
        org: &Org<'_>,
        ou_filters: bool,
        selection: &Mutex<Selection<'_>>,
    ) -> Result<(OrgFound, Vec<Problem>), Problem> {
        let opts = &self.opts;
        let mut problems = Vec::new();
        let tree = if ou_filters {
            match org.reader.tree().await {
                Ok(t) => Some(t),
                Err(p) => {
                    problems.push(p);
                    None
                }
            }
        } else {
            None
        };
        let mut dropped = 0;
        let listed = org
            .reader
            .list(&org.head, |mut a| {
                let mut s = selection.lock().unwrap_or_else(|e| e.into_inner());
                if !ou_filters {
                    return s.offer(a);
                }
                let Some(tree) = &tree else {
                    dropped += 1;
                    return s.reject(&a.id);
                };
                let ancestors = tree.ancestors(&a.id);
                let under = |ids: &[String]| ancestors.iter().any(|p| ids.contains(p));
                if (opts.ous.is_empty() || under(&opts.ous)) && !under(&opts.exclude_ous) {
                    tree.place(&mut a);
                    s.offer(a);
                } else {
                    s.reject(&a.id);
                }
            })
            .await?;
        if ou_filters && tree.is_none() {
            problems.push(Problem::note(
                format!("organization {}", org.head.id),
                format!(
                    "its OU tree could not be read, so --ou/--exclude-ou cannot be applied: its {dropped} accounts are left out"
                ),
            ));
        }
        let head = &org.head;
        let info = OrgInfo {
            id: head.id.clone(),
            arn: head.arn.clone(),
            management_account_id: head.management_account_id.clone(),
            feature_set: head.feature_set.clone(),
            via_role_arn: org.reader.via.as_ref().map(|r| r.to_string()),
            root_id: tree.as_ref().map(|t| t.root_id.clone()),
            ous: tree.as_ref().map(|t| t.ous.clone()).unwrap_or_default(),
            active_accounts: listed.active,
            inactive_accounts: listed.inactive,
        };
        Ok((OrgFound { info, tree }, problems))
    }

    /// Reads the OU tree (when not read yet) and the tags of the accounts of `org`
    /// handed on; returns them described.
    async fn describe(
        &self,
        org: &Org<'_>,
        found: &mut OrgFound,
        kept: &BTreeMap<String, Account>,
    ) -> (Vec<Account>, Vec<Problem>) {
        let mut problems = Vec::new();
        let mut accounts: Vec<Account> = kept
            .values()
            .filter(|a| a.org_id.as_deref() == Some(org.head.id.as_str()))
            .cloned()
            .collect();
        if accounts.is_empty() {
            return (accounts, problems);
        }
        let tags = async {
            if !self.opts.account_tags {
                return (HashMap::new(), None);
            }
            org.reader
                .tags(accounts.iter().map(|a| a.id.clone()).collect())
                .await
        };
        let tree = async {
            if found.tree.is_some() {
                return None;
            }
            Some(org.reader.tree().await)
        };
        let ((mut tags, tag_problem), tree) = futures::join!(tags, tree);
        match tree {
            Some(Ok(t)) => {
                found.info.root_id = Some(t.root_id.clone());
                found.info.ous = t.ous.clone();
                found.tree = Some(t);
            }
            Some(Err(p)) => problems.push(p),
            None => {}
        }
        problems.extend(tag_problem);
        for a in &mut accounts {
            if let Some(t) = &found.tree {
                t.place(a);
            }
            if let Some(t) = tags.remove(&a.id) {
                a.tags = t;
            }
        }
        (accounts, problems)
    }
}

/// `--ou` / `--exclude-ou` ids no organization read knows.
fn unknown_ous(found: &[OrgFound], opts: &Options, problems: &mut Vec<Problem>) {
    let known = |ou: &String| {
        found
            .iter()
            .any(|o| o.info.root_id.as_ref() == Some(ou) || o.info.ous.iter().any(|x| &x.id == ou))
    };
    let all_trees_read = found.iter().all(|o| o.tree.is_some());
    for (flag, ids) in [("--ou", &opts.ous), ("--exclude-ou", &opts.exclude_ous)] {
        for ou in ids.iter().filter(|ou| !known(ou)) {
            let orgs_read: Vec<&str> = found.iter().map(|o| o.info.id.as_str()).collect();
            let message = if orgs_read.is_empty() {
                "no organization could be read, so no OU is known".to_string()
            } else if all_trees_read {
                format!("{ou} is not an OU of {}", orgs_read.join(", "))
            } else {
                format!("{ou} was not found (some OU trees could not be read)")
            };
            problems.push(Problem::note(format!("{flag} {ou}"), message));
        }
    }
}
