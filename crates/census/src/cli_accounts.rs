//! The flags that say which accounts a command covers and how it gets into them:
//! shared by `census scan` and `census doctor` (flattened into each with clap), so that
//! the doctor checks exactly what the same flags would scan.
//!
//! [`AccountFlags::discover_options`] and [`AccountFlags::role_options`] turn them into
//! the plain values of [`crate::discover`] and [`crate::auth`].

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use crate::auth::RoleOptions;
use crate::discover::{expand_list, read_list, ListKind};

pub(crate) fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err(format!("expected true or false, got {s:?}")),
    }
}

/// Account selection (`--org`, `--ou`, `--accounts`, `--role-arns`...), access
/// (`--role-name`, `--external-id`, `--web-identity`...), base credentials
/// (`--profile`, `--region`) and `--regions`.
#[derive(Debug, Clone, clap::Args)]
pub struct AccountFlags {
    /// Every ACTIVE account of the caller's organization.
    #[arg(long, alias = "organization-scan")]
    pub org: bool,
    /// Only accounts under these OUs (recursive); repeatable or comma-separated.
    #[arg(long = "ou", value_delimiter = ',')]
    pub ous: Vec<String>,
    /// Leave out accounts under these OUs (recursive).
    #[arg(long = "exclude-ou", value_delimiter = ',')]
    pub exclude_ous: Vec<String>,
    /// Only these account ids (comma-separated, or @file with one per line).
    #[arg(long)]
    pub accounts: Vec<String>,
    /// Leave out these account ids (comma-separated, or @file).
    #[arg(long = "exclude-accounts")]
    pub exclude_accounts: Vec<String>,
    /// Include the organization's management account.
    #[arg(long = "include-management", value_parser = parse_bool, default_value = "true", value_name = "BOOL", action = clap::ArgAction::Set)]
    pub include_management: bool,
    /// Enter an organization through this role in its management account; repeatable (several payers).
    #[arg(long = "org-role-arn")]
    pub org_role_arns: Vec<String>,
    /// Assume member roles from the organization role rather than from the base identity.
    #[arg(long = "chain-through-management", value_parser = parse_bool, default_value = "true", value_name = "BOOL", action = clap::ArgAction::Set)]
    pub chain_through_management: bool,
    /// Exactly these roles, one per account (no Organizations access needed); repeatable or comma-separated.
    #[arg(long = "role-arns", value_delimiter = ',')]
    pub role_arns: Vec<String>,
    /// File with one role ARN per line.
    #[arg(long = "role-arns-file", value_name = "FILE")]
    pub role_arns_file: Option<PathBuf>,
    /// Role to assume in each account.
    #[arg(long = "role-name", alias = "org-role-name", env = "ORG_ROLE_NAME")]
    pub role_name: Option<String>,
    /// Role ARN template with {partition}, {account_id} and {role_name}.
    #[arg(long = "role-arn-template")]
    pub role_arn_template: Option<String>,
    /// External ID for AssumeRole.
    #[arg(long = "external-id")]
    pub external_id: Option<String>,
    /// Role session name.
    #[arg(long = "session-name")]
    pub session_name: Option<String>,
    /// Role session duration in seconds.
    #[arg(long)]
    pub duration: Option<u64>,
    /// Assume roles with AssumeRoleWithWebIdentity using this token file (IRSA).
    #[arg(
        long = "web-identity",
        value_name = "TOKEN_FILE",
        env = "AWS_WEB_IDENTITY_TOKEN_FILE"
    )]
    pub web_identity: Option<PathBuf>,
    /// Regions to cover instead of each account's enabled regions (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub regions: Vec<String>,
    /// Shared-config profile for the base credentials.
    #[arg(long, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// Region for the base identity's own calls.
    #[arg(long)]
    pub region: Option<String>,
}

impl Default for AccountFlags {
    /// The flags' defaults: the caller's own account, management account and chaining on.
    fn default() -> Self {
        AccountFlags {
            org: false,
            ous: Vec::new(),
            exclude_ous: Vec::new(),
            accounts: Vec::new(),
            exclude_accounts: Vec::new(),
            include_management: true,
            org_role_arns: Vec::new(),
            chain_through_management: true,
            role_arns: Vec::new(),
            role_arns_file: None,
            role_name: None,
            role_arn_template: None,
            external_id: None,
            session_name: None,
            duration: None,
            web_identity: None,
            regions: Vec::new(),
            profile: None,
            region: None,
        }
    }
}

impl AccountFlags {
    /// How roles are named and assumed. `--session-name` falls back to
    /// `default_session` when given (else Access picks `census-<timestamp>`). Not yet
    /// checked: call [`RoleOptions::check`].
    pub fn role_options(&self, default_session: Option<String>) -> RoleOptions {
        RoleOptions {
            role_name: self
                .role_name
                .clone()
                .unwrap_or_else(|| crate::auth::DEFAULT_ROLE_NAME.to_string()),
            role_arn_template: self.role_arn_template.clone(),
            external_id: self.external_id.clone(),
            session_name: self.session_name.clone().or(default_session),
            duration: self
                .duration
                .map(Duration::from_secs)
                .unwrap_or(crate::auth::DEFAULT_DURATION),
            web_identity_token_file: self.web_identity.clone(),
        }
    }

    /// Where accounts come from and which to keep, with `@file` lists and
    /// `--role-arns-file` read.
    pub fn discover_options(&self) -> Result<crate::discover::Options> {
        Ok(crate::discover::Options {
            org: self.org,
            org_role_arns: self.org_role_arns.clone(),
            chain_through_management: self.chain_through_management,
            role_arns: {
                let mut v = expand_list("--role-arns", &self.role_arns, ListKind::RoleArns)?;
                if let Some(f) = &self.role_arns_file {
                    v.extend(read_list(f, ListKind::RoleArns)?);
                }
                v
            },
            ous: expand_list("--ou", &self.ous, ListKind::OuIds)?,
            exclude_ous: expand_list("--exclude-ou", &self.exclude_ous, ListKind::OuIds)?,
            accounts: expand_list("--accounts", &self.accounts, ListKind::AccountIds)?,
            exclude_accounts: expand_list(
                "--exclude-accounts",
                &self.exclude_accounts,
                ListKind::AccountIds,
            )?,
            include_management: self.include_management,
        })
    }
}
