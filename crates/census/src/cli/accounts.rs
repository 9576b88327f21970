//! Command-line flags shared by the commands that work on the accounts of one or more
//! organizations (`census scan`, `census config ...`, `census doctor`, `census report
//! accounts`): which accounts ([`AccountFlags`]), how their roles are named and assumed
//! ([`RoleFlags`], [`AssumeFlags`]), and the base identity ([`BaseFlags`]). Each command
//! takes them with `#[command(flatten)]`, so the flags are spelled, documented and
//! checked the same way everywhere.
//!
//! Not for using them: [`crate::session`] opens the connection to AWS they describe.

use std::path::PathBuf;
use std::time::Duration;

use crate::auth::RoleOptions;
use crate::discover::{expand_list, read_list, DiscoverError, ListKind, Options};

/// Parses `true`/`false` (and yes/no, on/off, 1/0) for flags that take a value.
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err(format!("expected true or false, got {s:?}")),
    }
}

/// Which accounts: organizations, role lists, and the filters over them. See
/// [`crate::discover`].
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
    /// Only these account ids: comma-separated, or @FILE (or a plain path) with one or
    /// more per line (`#` starts a comment); repeatable.
    #[arg(long, value_name = "IDS|@FILE")]
    pub accounts: Vec<String>,
    /// Leave out these account ids (comma-separated, or @FILE as for --accounts).
    #[arg(long = "exclude-accounts", value_name = "IDS|@FILE")]
    pub exclude_accounts: Vec<String>,
    /// Keep the organizations' management accounts.
    #[arg(long = "include-management", value_parser = parse_bool, default_value = "true", value_name = "BOOL", action = clap::ArgAction::Set)]
    pub include_management: bool,
    /// Enter an organization through this role in its management account; repeatable (several payers).
    #[arg(long = "org-role-arn")]
    pub org_role_arns: Vec<String>,
    /// Assume member roles from the organization role rather than from the base identity.
    #[arg(long = "chain-through-management", value_parser = parse_bool, default_value = "true", value_name = "BOOL", action = clap::ArgAction::Set)]
    pub chain_through_management: bool,
    /// Exactly these roles (no Organizations access needed); repeatable or comma-separated.
    #[arg(long = "role-arns", value_delimiter = ',')]
    pub role_arns: Vec<String>,
    /// File with one role ARN per line.
    #[arg(long = "role-arns-file", value_name = "FILE")]
    pub role_arns_file: Option<PathBuf>,
    /// Read the organization accounts' tags: one Organizations call per account, which
    /// allows about 5 a second (10,000 accounts: about 33 minutes, read while the scan
    /// runs; a scan waits for them at its end). false leaves the accounts without tags.
    #[arg(long = "account-tags", value_parser = parse_bool, default_value = "true", value_name = "BOOL", action = clap::ArgAction::Set)]
    pub account_tags: bool,
}

impl AccountFlags {
    /// The discovery options these flags say, with `@file` lists and
    /// `--role-arns-file` read and every value checked (the error names the flag or
    /// the file and line).
    pub fn options(&self) -> Result<Options, DiscoverError> {
        // `@FILE` (as the help says) is a file, like `file://FILE` and a plain path.
        let list = |flag: &str, args: &[String], kind: ListKind| {
            let args: Vec<String> = args
                .iter()
                .map(|a| match a.strip_prefix('@') {
                    Some(path) => format!("file://{path}"),
                    None => a.clone(),
                })
                .collect();
            expand_list(flag, &args, kind)
                .map(super::dedup)
                .map_err(|e| match e {
                    DiscoverError::Input(m) if !m.starts_with(flag) && m.contains("cannot read it") => {
                        DiscoverError::Input(format!(
                            "{flag}: {m}; give a readable file with one or more values per line (@FILE or a path)"
                        ))
                    }
                    e => e,
                })
        };
        for arn in &self.org_role_arns {
            crate::auth::RoleArn::parse(arn)
                .map_err(|e| DiscoverError::Input(format!("--org-role-arn: {arn:?} {e}")))?;
        }
        Ok(Options {
            org: self.org,
            org_role_arns: super::dedup(self.org_role_arns.clone()),
            chain_through_management: self.chain_through_management,
            role_arns: {
                let mut v = list("--role-arns", &self.role_arns, ListKind::RoleArns)?;
                if let Some(f) = &self.role_arns_file {
                    v.extend(read_list(f, ListKind::RoleArns)?);
                }
                super::dedup(v)
            },
            ous: list("--ou", &self.ous, ListKind::OuIds)?,
            exclude_ous: list("--exclude-ou", &self.exclude_ous, ListKind::OuIds)?,
            accounts: list("--accounts", &self.accounts, ListKind::AccountIds)?,
            exclude_accounts: list(
                "--exclude-accounts",
                &self.exclude_accounts,
                ListKind::AccountIds,
            )?,
            include_management: self.include_management,
            shard: None,
            account_tags: self.account_tags,
        })
    }
}

/// The accounts a command works on and how it enters them: what `census scan`,
/// `census doctor` and `census config ...` share.
#[derive(Debug, Clone, clap::Args)]
pub struct TargetFlags {
    #[command(flatten)]
    pub accounts: AccountFlags,
    #[command(flatten)]
    pub roles: RoleFlags,
}

/// How the role in each account is named and assumed. See [`RoleOptions`].
#[derive(Debug, Clone, clap::Args)]
pub struct RoleFlags {
    /// Role to assume in each account.
    #[arg(long = "role-name", alias = "org-role-name", env = "ORG_ROLE_NAME")]
    pub role_name: Option<String>,
    #[command(flatten)]
    pub assume: AssumeFlags,
    /// Assume roles with AssumeRoleWithWebIdentity using this token file (IRSA).
    #[arg(
        long = "web-identity",
        value_name = "TOKEN_FILE",
        env = "AWS_WEB_IDENTITY_TOKEN_FILE"
    )]
    pub web_identity: Option<PathBuf>,
}

/// How a role is assumed, whatever its name: the flags of [`RoleFlags`] that
/// `census report accounts` shares (it names its role differently, and has no
/// `--web-identity`).
#[derive(Debug, Clone, clap::Args)]
pub struct AssumeFlags {
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
}

impl AssumeFlags {
    /// The role options for roles named `role_name` (not yet checked: call
    /// [`RoleOptions::check`]).
    pub fn role_options(
        &self,
        role_name: String,
        web_identity_token_file: Option<PathBuf>,
    ) -> RoleOptions {
        RoleOptions {
            role_name,
            role_arn_template: self.role_arn_template.clone(),
            external_id: self.external_id.clone(),
            session_name: self.session_name.clone(),
            duration: self
                .duration
                .map(Duration::from_secs)
                .unwrap_or(crate::auth::DEFAULT_DURATION),
            web_identity_token_file,
        }
    }
}

impl RoleFlags {
    /// `--web-identity` (or `AWS_WEB_IDENTITY_TOKEN_FILE`) must be a readable file:
    /// checked before any call, not found missing at the first AssumeRole.
    pub fn check_token_file(&self) -> anyhow::Result<()> {
        if let Some(file) = &self.web_identity {
            if let Err(e) = std::fs::File::open(file) {
                anyhow::bail!(
                    "--web-identity {} (or AWS_WEB_IDENTITY_TOKEN_FILE): cannot read the token file ({e}); give the file the identity token is mounted at (on EKS, /var/run/secrets/eks.amazonaws.com/serviceaccount/token)",
                    file.display()
                );
            }
        }
        Ok(())
    }

    /// The role options these flags say (defaults filled in; not yet checked: call
    /// [`RoleOptions::check`]).
    pub fn role_options(&self) -> RoleOptions {
        self.assume.role_options(
            self.role_name
                .clone()
                .unwrap_or_else(|| crate::auth::DEFAULT_ROLE_NAME.to_string()),
            self.web_identity.clone(),
        )
    }
}

/// The base identity: where the credentials that start everything come from.
#[derive(Debug, Clone, clap::Args)]
pub struct BaseFlags {
    /// Shared-config profile for the base credentials.
    #[arg(long, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// Region for the base identity's own calls.
    #[arg(long)]
    pub region: Option<String>,
}

impl BaseFlags {
    /// Checks what can be checked before any call: `--profile` names a profile.
    pub async fn check(&self) -> anyhow::Result<()> {
        if let Some(p) = &self.profile {
            check_profile(p).await?;
        }
        Ok(())
    }
}

/// `--profile NAME` (or `AWS_PROFILE`) must name a profile of the shared config or
/// credentials file: aws-config would otherwise fall back to no credentials, and the
/// error would come late and say less.
pub async fn check_profile(name: &str) -> anyhow::Result<()> {
    if name == "default" {
        return Ok(());
    }
    let fs = aws_types::os_shim_internal::Fs::real();
    let env = aws_types::os_shim_internal::Env::real();
    // aws-config's `load` takes this (deprecated) alias of aws-runtime's type.
    #[allow(deprecated)]
    let files = aws_config::profile::profile_file::ProfileFiles::default();
    let set = aws_config::profile::load(&fs, &env, &files, None)
        .await
        .map_err(|e| anyhow::anyhow!("--profile {name}: cannot read the AWS config files: {e}"))?;
    if set.get_profile(name).is_none() {
        let mut names: Vec<&str> = set.profiles().collect();
        names.sort_unstable();
        anyhow::bail!(
            "--profile {name} (or AWS_PROFILE): no such profile in the AWS config or credentials file (known: {}); pick one of them, or create it with aws configure --profile {name}",
            if names.is_empty() { "none".to_string() } else { names.join(", ") }
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cmd {
        #[command(flatten)]
        accounts: AccountFlags,
        #[command(flatten)]
        roles: RoleFlags,
        #[command(flatten)]
        base: BaseFlags,
    }

    #[test]
    fn flags_become_discovery_and_role_options() {
        let cmd = Cmd::try_parse_from([
            "x",
            "--org",
            "--ou",
            "ou-abcd-12345678,r-abcd",
            "--accounts",
            "111111111111,222222222222",
            "--include-management",
            "false",
            "--org-role-arn",
            "arn:aws:iam::210987654321:role/Org",
            "--role-name",
            "Reader",
            "--duration",
            "900",
        ])
        .unwrap();
        let o = cmd.accounts.options().unwrap();
        assert!(o.org && !o.include_management && o.chain_through_management);
        assert_eq!(o.ous, ["ou-abcd-12345678", "r-abcd"]);
        assert_eq!(o.accounts, ["111111111111", "222222222222"]);
        assert_eq!(o.org_role_arns, ["arn:aws:iam::210987654321:role/Org"]);
        let r = cmd.roles.role_options();
        assert_eq!(r.role_name, "Reader");
        assert_eq!(r.duration, Duration::from_secs(900));
        r.check().unwrap();
    }

    #[test]
    fn bad_values_name_the_flag() {
        let cmd = Cmd::try_parse_from(["x", "--accounts", "12345"]).unwrap();
        let e = cmd.accounts.options().unwrap_err().to_string();
        assert!(
            e.starts_with("--accounts: \"12345\"") && e.contains("not 12"),
            "{e}"
        );
    }
}
