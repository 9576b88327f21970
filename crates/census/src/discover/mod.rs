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
//! found through Organizations), `--accounts` / `--exclude-accounts`,
//! `--include-management`, and `--shard`. The result is sorted by account id, without
//! duplicates. Organization accounts carry their name, e-mail, OU id and path, and tags.
//!
//! [`start`] hands each account on as soon as it is listed (a scan starts on the first
//! ListAccounts page) and reads OU paths and tags afterwards; [`discover`] waits for all.
//!
//! One failing organization (or tag listing, or OU walk) is a [`Problem`] in the
//! [`Discovery`], not a failure of the run; only malformed input is a
//! [`DiscoverError`]. Organizations calls go through awsdyn, in the partition's global
//! region, retried and rate-limited like any other.
//!
//! Not for credentials: entering an organization's role is [`Access`]'s work; discovery
//! registers the routes into the organizations it entered with it.

mod input;
mod organization;
mod stream;
pub mod tenants;

use std::collections::BTreeSet;
use std::fmt;

use awsdyn::client::Client;
use serde::{Deserialize, Serialize};

pub use input::{check, expand_list, read_list, ListKind};
pub use stream::{start, Discovering};

use crate::account::Account;
use crate::auth::{Access, AccessError, Base, OrgRoute};
use crate::shard::Shard;

/// Where accounts come from and which to keep. `Options::default()` is "the caller's
/// own account", with the defaults of the flags that have one. Kept in a scan's plan
/// until its discovery ends, so that `--resume` can discover again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
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
    /// `--shard K/N`: keep only the accounts of this shard. Applied before anything more
    /// is read about the accounts (tags), so each shard reads only its own.
    pub shard: Option<Shard>,
    /// Read the organization accounts' tags (`--account-tags`, default on): one
    /// Organizations call per account.
    pub account_tags: bool,
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
            shard: None,
            account_tags: true,
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
    /// How the organizations entered through `--org-role-arn` are entered (already
    /// registered with [`Access::add_routes`]).
    #[serde(skip)]
    pub routes: Vec<OrgRoute>,
    /// How many accounts passed every filter but `--shard`'s.
    #[serde(skip)]
    pub passed_filters: usize,
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

/// Finds the accounts to scan, all of them: [`start`] waited for to its end. See the
/// module documentation.
///
/// `access` only enters organizations (`--org-role-arn`); the routes into them are
/// registered with it ([`Access::add_routes`]) and come back as [`Discovery::routes`],
/// so that [`Access::credentials`] later reaches their members the way
/// `chain_through_management` says.
pub async fn discover(
    client: &Client,
    base: &Base,
    access: &Access,
    opts: &Options,
) -> Result<Discovery, DiscoverError> {
    Ok(start(client, base, access, opts)?.finish().await)
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
