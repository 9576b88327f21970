//! Account discovery: which accounts a scan covers.
//!
//! Sources, combinable (see [`Options`]):
//! - `--org`: every ACTIVE account of the caller's organization;
//! - `--org-role-arn ARN...`: other organizations (multi-payer), each entered through a
//!   role, usually in its management account;
//! - `--role-arns`: an explicit list of roles, one per account (no Organizations
//!   permission needed);
//! - `--accounts` without any of the above: those accounts, entered through the role
//!   name or template;
//! - nothing: the caller's own account.
//!
//! Then the filters: `--ou` / `--exclude-ou` (recursive through child OUs, for accounts
//! found through Organizations), `--accounts` / `--exclude-accounts`, and
//! `--include-management`. The result is sorted by account id, without duplicates.
//! Organization accounts carry their name, e-mail, OU id and path, and tags.
//!
//! One failing organization (or tag listing, or OU walk) is a [`Problem`] in the
//! [`Discovery`], not a failure of the run; only malformed input is a
//! [`DiscoverError`]. Organizations calls go through awsdyn, in the partition's global
//! region, retried and rate-limited like any other.
//!
//! Not for credentials: entering an organization's role is [`Access`]'s work; the routes
//! into the organizations come back in [`Discovery::routes`] for the caller to register.

mod input;
mod organization;
pub mod tenants;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use awsdyn::client::Client;
use futures::future::join_all;
use serde::Serialize;

pub use input::{check, expand_list, read_list, ListKind};

use crate::account::Account;
use crate::auth::{Access, AccessError, Base, OrgRoute, RoleArn};
use organization::{OrgRead, Reader};

/// Where accounts come from and which to keep. `Options::default()` is "the caller's
/// own account", with the defaults of the flags that have one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `--org`: the caller's own organization.
    pub org: bool,
    /// `--org-role-arn`: roles to enter other organizations through.
    pub org_role_arns: Vec<String>,
    /// `--chain-through-management`: assume member roles of an `--org-role-arn`
    /// organization from its management role (default), or from the base identity.
    pub chain_through_management: bool,
    /// `--role-arns` / `--role-arns-file` (already read; see [`read_list`]).
    pub role_arns: Vec<String>,
    /// `--ou`: keep only accounts under these OUs (or roots), at any depth. Applies to
    /// accounts found through Organizations; `--role-arns` accounts outside the
    /// organizations read are kept.
    pub ous: Vec<String>,
    /// `--exclude-ou`: drop accounts under these OUs, at any depth (same scope).
    pub exclude_ous: Vec<String>,
    /// `--accounts` (already read; see [`expand_list`]): with a source above, keep only
    /// these; without one, these are the accounts.
    pub accounts: Vec<String>,
    /// `--exclude-accounts`.
    pub exclude_accounts: Vec<String>,
    /// `--include-management` (default on): keep the organizations' management accounts.
    pub include_management: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            org: false,
            org_role_arns: Vec::new(),
            chain_through_management: true,
            role_arns: Vec::new(),
            ous: Vec::new(),
            exclude_ous: Vec::new(),
            accounts: Vec::new(),
            exclude_accounts: Vec::new(),
            include_management: true,
        }
    }
}

/// What discovery found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Discovery {
    /// The accounts to scan, sorted by id, each once.
    pub accounts: Vec<Account>,
    /// The organizations read, in the order given (`--org` first).
    pub organizations: Vec<OrgInfo>,
    /// What went wrong without stopping discovery.
    pub problems: Vec<Problem>,
    /// How the organizations entered through `--org-role-arn` are entered, for
    /// [`Access::add_routes`] (discovery only reads; the caller registers them).
    #[serde(skip)]
    pub routes: Vec<OrgRoute>,
}

/// An organization that was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrgInfo {
    /// `o-...`.
    pub id: String,
    pub arn: String,
    pub management_account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature_set: Option<String>,
    /// The role it was entered through (`--org-role-arn`); `None` for the caller's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via_role_arn: Option<String>,
    /// `r-...`; `None` when the OU tree could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_id: Option<String>,
    /// Every OU, sorted by path (empty when the tree could not be read).
    pub ous: Vec<OuInfo>,
    /// How many ACTIVE accounts it has (before filters).
    pub active_accounts: usize,
    /// The accounts skipped because they are not ACTIVE.
    pub inactive_accounts: Vec<InactiveAccount>,
}

/// An organizational unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OuInfo {
    pub id: String,
    pub name: String,
    /// `Root/Workloads/Prod`.
    pub path: String,
    pub parent_id: String,
}

/// An account skipped because it is not ACTIVE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InactiveAccount {
    pub id: String,
    pub name: String,
    /// `SUSPENDED`, `PENDING_CLOSURE`, `CLOSED`...
    pub status: String,
}

/// Something that went wrong during discovery without stopping it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// What it concerns: `organization of 123456789012`, `--org-role-arn arn:...`,
    /// `--ou ou-...`, `--accounts`.
    pub scope: String,
    /// The AWS error code, when an AWS call failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// What happened and what to do, on one line.
    pub message: String,
    /// The AWS operation that failed (`ListAccounts`, `AssumeRole`...), if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// What to do about it, alone (the end of `message`), when there is a fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.scope, self.message)
    }
}

/// The [`Problem::scope`] of the problems of one source of accounts.
pub mod scope {
    /// Reading the organization of `account_id` (the caller's, `--org`).
    pub fn own_organization(account_id: &str) -> String {
        format!("organization of {account_id}")
    }

    /// Reading the organization entered through `role_arn` (`--org-role-arn`).
    pub fn organization_via(role_arn: &str) -> String {
        format!("organization via {role_arn}")
    }

    /// Assuming the `--org-role-arn` `role_arn`.
    pub fn org_role(role_arn: &str) -> String {
        format!("--org-role-arn {role_arn}")
    }
}

impl Problem {
    /// A problem that is no failed call (a filter that matches nothing...).
    fn note(scope: String, message: String) -> Problem {
        Problem {
            scope,
            code: None,
            message,
            operation: None,
            remediation: None,
        }
    }

    /// `operation` failed with `error`; `what` says what that means, `fix` what to do.
    fn from_call(
        scope: String,
        operation: &str,
        error: &awsdyn::Error,
        what: &str,
        fix: &str,
    ) -> Problem {
        Problem {
            scope,
            code: Some(error.code().to_string()),
            message: crate::auth::one_line(&format!("{what}: {error}; {fix}")),
            operation: Some(operation.to_string()),
            remediation: Some(crate::auth::one_line(fix)),
        }
    }

    fn from_access(scope: String, error: &AccessError) -> Problem {
        Problem {
            scope,
            code: Some(error.code.clone()),
            message: error.to_string(),
            operation: Some("AssumeRole".to_string()),
            remediation: Some(error.remediation.clone()).filter(|r| !r.is_empty()),
        }
    }

    /// The message without its remediation.
    pub fn detail(&self) -> &str {
        self.remediation
            .as_deref()
            .and_then(|fix| self.message.strip_suffix(fix))
            .map(|m| m.trim_end_matches("; "))
            .unwrap_or(&self.message)
    }
}

/// Malformed input: the whole discovery cannot start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscoverError {
    /// A flag or list value is malformed; the text names it and says how to fix it.
    Input(String),
}

impl fmt::Display for DiscoverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiscoverError::Input(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for DiscoverError {}

/// Finds the accounts to scan. See the module documentation.
///
/// `access` only enters organizations (`--org-role-arn`); how it entered them comes
/// back as [`Discovery::routes`], for the caller to register with
/// [`Access::add_routes`] (as [`crate::session::Session::discover`] does), so that
/// [`Access::credentials`] later reaches their members the way
/// `chain_through_management` says.
pub async fn discover(
    client: &Client,
    base: &Base,
    access: &Access,
    opts: &Options,
) -> Result<Discovery, DiscoverError> {
    input::check_all("--org-role-arn", ListKind::RoleArns, &opts.org_role_arns)?;
    input::check_all("--role-arns", ListKind::RoleArns, &opts.role_arns)?;
    input::check_all("--ou", ListKind::OuIds, &opts.ous)?;
    input::check_all("--exclude-ou", ListKind::OuIds, &opts.exclude_ous)?;
    input::check_all("--accounts", ListKind::AccountIds, &opts.accounts)?;
    input::check_all(
        "--exclude-accounts",
        ListKind::AccountIds,
        &opts.exclude_accounts,
    )?;
    let org_sources = opts.org || !opts.org_role_arns.is_empty();
    let ou_filters = !opts.ous.is_empty() || !opts.exclude_ous.is_empty();
    if ou_filters && !org_sources {
        return Err(DiscoverError::Input(
            "--ou and --exclude-ou select accounts of an organization: add --org or --org-role-arn"
                .into(),
        ));
    }
    let org_role_arns: Vec<RoleArn> = unique(&opts.org_role_arns)
        .iter()
        .filter_map(|a| RoleArn::parse(a).ok())
        .collect();
    let role_arns: Vec<RoleArn> = unique(&opts.role_arns)
        .iter()
        .filter_map(|a| RoleArn::parse(a).ok())
        .collect();

    let mut problems = Vec::new();
    let (orgs, routes) =
        read_organizations(client, base, access, opts, &org_role_arns, &mut problems).await;

    // Gather every account from every source, organizations first (they know most).
    let caller = access.caller();
    let mut accounts: BTreeMap<String, Account> = BTreeMap::new();
    for org in &orgs {
        for a in &org.accounts {
            accounts.entry(a.id.clone()).or_insert_with(|| a.clone());
        }
    }
    for arn in &role_arns {
        let role = arn.to_string();
        accounts
            .entry(arn.account_id.clone())
            .and_modify(|a| a.role_arn = Some(role.clone()))
            .or_insert_with(|| {
                Account::plain(&arn.account_id, &arn.partition, Some(role), "role-arns")
            });
    }
    let any_source = org_sources || !role_arns.is_empty();
    if !any_source {
        if opts.accounts.is_empty() {
            let a = Account::plain(&caller.account_id, &caller.partition, None, "caller");
            accounts.insert(a.id.clone(), a);
        } else {
            for id in unique(&opts.accounts) {
                accounts.insert(
                    id.clone(),
                    Account::plain(&id, &caller.partition, None, "accounts"),
                );
            }
        }
    }

    // Ids name folders and roles: an answer with one that is not 12 digits is left out.
    accounts.retain(|id, a| match crate::account::check_id(id) {
        Ok(()) => true,
        Err(e) => {
            problems.push(Problem::note(
                format!("accounts from {}", a.source),
                format!("{e}; that account is left out"),
            ));
            false
        }
    });

    // Filters.
    if ou_filters {
        filter_by_ou(&mut accounts, &orgs, opts, &mut problems);
    }
    if any_source && !opts.accounts.is_empty() {
        let wanted: BTreeSet<&String> = opts.accounts.iter().collect();
        for id in &wanted {
            if !accounts.contains_key(*id) {
                problems.push(Problem::note(
                    "--accounts".into(),
                    format!(
                        "{id} is not among the accounts found (not in the organizations read, not ACTIVE, excluded by an OU filter, or not in --role-arns)"
                    ),
                ));
            }
        }
        accounts.retain(|id, _| wanted.contains(id));
    }
    for id in &opts.exclude_accounts {
        accounts.remove(id);
    }
    if !opts.include_management {
        for org in &orgs {
            accounts.remove(&org.info.management_account_id);
        }
    }

    let accounts = accounts
        .into_values()
        .map(|mut a| {
            a.is_caller = access.role_arn(&a).is_none();
            a
        })
        .collect();
    Ok(Discovery {
        accounts,
        organizations: orgs.into_iter().map(|o| o.info).collect(),
        problems,
        routes,
    })
}

/// Reads `--org` and every `--org-role-arn` organization (concurrently), with the
/// routes into the latter. Failures become problems; an organization reached twice is
/// kept once (the first time).
async fn read_organizations(
    client: &Client,
    base: &Base,
    access: &Access,
    opts: &Options,
    org_role_arns: &[RoleArn],
    problems: &mut Vec<Problem>,
) -> (Vec<OrgRead>, Vec<OrgRoute>) {
    let caller = access.caller();
    let own = async {
        if !opts.org {
            return None;
        }
        let reader = Reader {
            client,
            base,
            credentials: base.credentials.clone(),
            account_id: caller.account_id.clone(),
            principal: caller.arn.clone(),
            partition: caller.partition.clone(),
            via: None,
            caller,
        };
        Some(reader.read().await)
    };
    let others = join_all(org_role_arns.iter().map(|role| async move {
        let credentials = access
            .organization_role(role)
            .await
            .map_err(|e| Problem::from_access(scope::org_role(&role.to_string()), &e))?;
        let reader = Reader {
            client,
            base,
            credentials: credentials.clone(),
            account_id: role.account_id.clone(),
            principal: role.to_string(),
            partition: role.partition.clone(),
            via: Some(role.clone()),
            caller,
        };
        let org = reader.read().await?;
        Ok::<_, Problem>((org, role, credentials))
    }));
    let (own, others) = futures::join!(own, others);

    let mut orgs: Vec<OrgRead> = Vec::new();
    let mut routes = Vec::new();
    let mut keep = |org: OrgRead, problems: &mut Vec<Problem>| {
        if orgs.iter().any(|o| o.info.id == org.info.id) {
            return false;
        }
        problems.extend(org.problems.iter().cloned());
        orgs.push(org);
        true
    };
    match own {
        Some(Ok(org)) => {
            keep(org, problems);
        }
        Some(Err(p)) => problems.push(p),
        None => {}
    }
    for result in others {
        match result {
            Ok((org, role, provider)) => {
                let org_id = org.info.id.clone();
                if keep(org, problems) {
                    routes.push(OrgRoute {
                        org_id,
                        role_arn: role.clone(),
                        provider,
                        chain_members: opts.chain_through_management,
                    });
                }
            }
            Err(p) => problems.push(p),
        }
    }
    (orgs, routes)
}

/// Applies `--ou` and `--exclude-ou` to the accounts found through organizations.
fn filter_by_ou(
    accounts: &mut BTreeMap<String, Account>,
    orgs: &[OrgRead],
    opts: &Options,
    problems: &mut Vec<Problem>,
) {
    // Which organization knows which OU id (or root id).
    let known = |ou: &String| {
        orgs.iter()
            .any(|o| o.info.root_id.as_ref() == Some(ou) || o.info.ous.iter().any(|x| &x.id == ou))
    };
    let all_trees_read = orgs.iter().all(|o| o.parents.is_some());
    for (flag, ids) in [("--ou", &opts.ous), ("--exclude-ou", &opts.exclude_ous)] {
        for ou in ids.iter().filter(|ou| !known(ou)) {
            let orgs_read: Vec<&str> = orgs.iter().map(|o| o.info.id.as_str()).collect();
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
    for org in orgs {
        if org.parents.is_none() {
            let dropped = org
                .accounts
                .iter()
                .filter(|a| accounts.remove(&a.id).is_some())
                .count();
            problems.push(Problem::note(
                format!("organization {}", org.info.id),
                format!(
                    "its OU tree could not be read, so --ou/--exclude-ou cannot be applied: its {dropped} accounts are left out"
                ),
            ));
            continue;
        }
        for a in &org.accounts {
            let ancestors = org.ancestors(&a.id);
            let under = |ids: &[String]| ancestors.iter().any(|p| ids.contains(p));
            let keep = (opts.ous.is_empty() || under(&opts.ous)) && !under(&opts.exclude_ous);
            if !keep {
                accounts.remove(&a.id);
            }
        }
    }
}

/// The values in their first order, each once.
pub(crate) fn unique(values: &[String]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    values
        .iter()
        .filter(|v| seen.insert(v.as_str()))
        .cloned()
        .collect()
}
