//! `census config`: configuration files for other tools, one entry per account of the
//! organizations, from the same discovery as `census scan`.
//!
//! - [`aws_profiles`]: AWS CLI/SDK profiles, `[profile <prefix><account name>]` each,
//!   assuming the account's role from a local profile, the EC2 instance role or the
//!   ECS task role.
//! - [`steampipe`]: a Steampipe `aws.spc`, one connection per account over the
//!   profiles above, and the `aws` aggregator.
//! - [`cartography`]: Cartography's hub-and-spoke profile file.
//!
//! Every account gets a profile that assumes its role (`--role-name`,
//! `--role-arn-template`, or the role a `--role-arns` list names). An organization
//! entered through `--org-role-arn` is entered the way `census scan` enters it: the
//! account that role lives in gets a profile for that role, and with
//! `--chain-through-management` (the default) the organization's other accounts assume
//! their roles from that profile (`source_profile`), so member roles that trust only
//! their management account work. If that account itself is not selected, an entry
//! profile `<prefix>entry-<org id>` is written for the hop.
//!
//! Profile names come from account names: letters, digits, `_`, `-` and `.` are kept,
//! other runs become `-`, at most 40 characters; a name two accounts share (compared
//! as Steampipe connection names, case-insensitively), or that is `default` or the
//! source profile, gets `-<account id>` appended. Output goes to `--output` (written
//! whole or not at all, and never over the AWS config or credentials file) or stdout.

pub mod aws_profiles;
pub mod cartography;
pub mod steampipe;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use awsdyn::client::{Client, ClientConfig};

use crate::account::Account;
use crate::auth::{Access, RoleArn, RoleOptions};
use crate::cli_accounts::{AccountFlags, BaseFlags, RoleFlags};
use crate::discover::OrgInfo;

/// What `--check-conflicts` without a file stands for: the AWS config file
/// (`AWS_CONFIG_FILE`, else `~/.aws/config`).
const DEFAULT_CONFIG_MARK: &str = "~/.aws/config";

/// Longest account-derived part of a profile name (before any `-<account id>`).
const MAX_NAME: usize = 40;

/// `census config` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ConfigCommand {
    /// AWS CLI profiles, one per account: `[profile <prefix><account name>]` with
    /// role_arn, role_session_name, region and the credentials to assume it from.
    ///
    /// Modes: local (source_profile = --source-profile), imds (credential_source =
    /// Ec2InstanceMetadata), ecs (credential_source = EcsContainer). Merge the output
    /// into your AWS config yourself: census never writes over ~/.aws/config, and
    /// --check-conflicts lists the profile names a file already has. Accounts are
    /// selected as census scan selects them; with no source flag, the caller's
    /// organization (--org). role_session_name is --session-name, else census.
    AwsProfiles(ProfilesFlags),
    /// A Steampipe aws.spc: one connection per account (aws_<name>, over the profile
    /// `census config aws-profiles` writes with the same flags) and the aggregator
    /// connection `aws` over aws_*.
    ///
    /// Accounts are selected as census scan selects them; with no source flag, the
    /// caller's organization (--org).
    Steampipe(SteampipeFlags),
    /// Cartography's hub-and-spoke profile file: [default] plus one profile per account
    /// with role_arn, region, output = json and credential_source (the EC2 instance
    /// role by default).
    ///
    /// On the hub: AWS_CONFIG_FILE=<the file> cartography --aws-sync-all-profiles.
    /// Accounts are selected as census scan selects them; with no source flag, the
    /// caller's organization (--org).
    Cartography(ProfilesFlags),
}

/// Flags every `census config` command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonFlags {
    #[command(flatten)]
    pub accounts: AccountFlags,
    #[command(flatten)]
    pub roles: RoleFlags,
    #[command(flatten)]
    pub base: BaseFlags,
    /// Put this in front of every profile name (letters, digits, _ - .).
    #[arg(long, default_value = "")]
    pub prefix: String,
    /// Write here instead of to stdout (never over the AWS config or credentials file).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace --output if it exists.
    #[arg(long)]
    pub force: bool,
}

/// Where a profile's own credentials come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// `source_profile`: a profile of the machine running the tool.
    Local,
    /// `credential_source = Ec2InstanceMetadata`: the EC2 instance's role.
    Imds,
    /// `credential_source = EcsContainer`: the ECS task's role.
    Ecs,
}

/// `census config aws-profiles` and `census config cartography` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct ProfilesFlags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// Where the profiles' credentials come from: local, imds or ecs [default: local;
    /// imds for cartography].
    #[arg(long, value_enum)]
    pub mode: Option<Mode>,
    /// Mode local: the profile that holds the credentials to assume the roles from
    /// [default: --profile, else default].
    #[arg(long = "source-profile", value_name = "NAME")]
    pub source_profile: Option<String>,
    /// The region written into every profile [default: --region, else the base
    /// region, else the partition's main region].
    #[arg(long = "profile-region", value_name = "REGION")]
    pub profile_region: Option<String>,
    /// List the profiles of the output that FILE already has (default: the AWS
    /// config file); exit status 2 when there are any.
    #[arg(long = "check-conflicts", value_name = "FILE", num_args = 0..=1, default_missing_value = DEFAULT_CONFIG_MARK)]
    pub check_conflicts: Option<PathBuf>,
}

/// `census config steampipe` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct SteampipeFlags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// The --source-profile given to aws-profiles, if any: an account name that clashes
    /// with it gets the account id there, and so here [default: --profile, else
    /// default].
    #[arg(long = "source-profile", value_name = "NAME")]
    pub source_profile: Option<String>,
    /// The regions of every connection (space- or comma-separated; Steampipe's
    /// wildcards such as * or eu-* allowed) [default: *, every enabled region].
    #[arg(short = 'r', long, value_delimiter = ',', num_args = 1.., value_name = "REGION")]
    pub regions: Vec<String>,
}

/// Where an entry's credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The mode's source: `--source-profile`, the instance role or the task role.
    Base,
    /// Another profile of the same file (an organization's entry profile).
    Profile(String),
}

/// One profile to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The profile name, prefix included.
    pub name: String,
    /// The Steampipe connection name, `aws_<name>`.
    pub connection: String,
    /// The account; `None` for an organization's entry profile that is no selected
    /// account.
    pub account: Option<Account>,
    pub role_arn: String,
    pub source: Source,
    /// The organization it belongs to, if any.
    pub org_id: Option<String>,
}

/// The profiles of a run: organizations in the order read, then accounts not in any.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub entries: Vec<Entry>,
    /// The organizations, for comments.
    pub organizations: Vec<OrgInfo>,
}

impl Plan {
    /// The entries that are accounts (not entry hops).
    pub fn accounts(&self) -> impl Iterator<Item = (&Entry, &Account)> {
        self.entries
            .iter()
            .filter_map(|e| e.account.as_ref().map(|a| (e, a)))
    }
}

/// `name` reduced to `[A-Za-z0-9_.-]`, other runs become `-`, ends trimmed, at most
/// [`MAX_NAME`] characters; `fallback` if nothing is left.
pub fn sanitize(name: &str, fallback: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trim = |s: &str| s.trim_matches(|c| c == '-' || c == '.').to_string();
    let mut out = trim(&out);
    if out.len() > MAX_NAME {
        out = trim(&out[..MAX_NAME]);
    }
    if out.is_empty() {
        fallback.to_string()
    } else {
        out
    }
}

/// The Steampipe connection-name form of a profile name: lower case, every run of
/// other characters `_`.
pub fn connection_key(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

/// Checks a profile name or prefix given on the command line.
fn check_profile_word(flag: &str, value: &str, allow_empty: bool) -> Result<()> {
    if value.is_empty() && allow_empty {
        return Ok(());
    }
    let ok = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.@+/".contains(c));
    if !ok {
        bail!("{flag}: {value:?} cannot be part of a profile name: use letters, digits and _ - . @ + / only");
    }
    Ok(())
}

/// Builds the profiles for the discovered accounts. `reserved` are names no account
/// profile may take (`default`, the source profile).
pub fn plan(
    accounts: &[Account],
    organizations: &[OrgInfo],
    roles: &RoleOptions,
    chain_through_management: bool,
    prefix: &str,
    reserved: &[&str],
) -> Plan {
    let selected: BTreeSet<&str> = accounts.iter().map(|a| a.id.as_str()).collect();
    // Organizations entered through a role: (org id -> (entry role, its account)).
    let entered: BTreeMap<&str, RoleArn> = organizations
        .iter()
        .filter_map(|o| {
            let role = RoleArn::parse(o.via_role_arn.as_deref()?).ok()?;
            Some((o.id.as_str(), role))
        })
        .collect();
    // Hops: entered organizations, chained, whose entry account is not selected but
    // some other account is.
    let mut hops: Vec<(&str, &RoleArn, String)> = Vec::new();
    if chain_through_management {
        for (org, role) in &entered {
            let has_members = accounts
                .iter()
                .any(|a| a.org_id.as_deref() == Some(*org) && a.id != role.account_id);
            if has_members && !selected.contains(role.account_id.as_str()) {
                hops.push((org, role, format!("{prefix}entry-{org}")));
            }
        }
    }
    let mut taken: BTreeSet<String> = reserved.iter().map(|r| r.to_ascii_lowercase()).collect();
    taken.extend(hops.iter().map(|(_, _, n)| n.to_ascii_lowercase()));
    let names = unique_names(accounts, prefix, &taken);

    let profile_of = |id: &str| names.get(id).map(|n| format!("{prefix}{n}"));
    let mut entries: Vec<Entry> = Vec::new();
    for (org, role, name) in &hops {
        entries.push(Entry {
            name: name.clone(),
            connection: String::new(),
            account: None,
            role_arn: role.to_string(),
            source: Source::Base,
            org_id: Some(org.to_string()),
        });
    }
    for a in accounts {
        let base = &names[&a.id];
        let org = a.org_id.as_deref();
        let route = org.and_then(|o| entered.get(o));
        let (role_arn, source) = match route {
            Some(role) if role.account_id == a.id && a.role_arn.is_none() => {
                (role.to_string(), Source::Base)
            }
            Some(role) if chain_through_management => {
                let via = profile_of(&role.account_id)
                    .filter(|_| selected.contains(role.account_id.as_str()))
                    .unwrap_or_else(|| format!("{prefix}entry-{}", org.unwrap_or_default()));
                (roles.role_arn_for(a), Source::Profile(via))
            }
            _ => (roles.role_arn_for(a), Source::Base),
        };
        entries.push(Entry {
            name: format!("{prefix}{base}"),
            connection: format!("aws_{}", connection_key(base)),
            account: Some(a.clone()),
            role_arn,
            source,
            org_id: a.org_id.clone(),
        });
    }
    // Organizations in the order read, entry hops first; then the rest.
    let rank = |e: &Entry| {
        let org = e
            .org_id
            .as_deref()
            .and_then(|o| organizations.iter().position(|x| x.id == o))
            .unwrap_or(usize::MAX);
        let id = e.account.as_ref().map(|a| a.id.clone());
        (org, e.account.is_some(), id)
    };
    entries.sort_by_key(rank);
    Plan {
        entries,
        organizations: organizations.to_vec(),
    }
}

/// Account id -> the account-derived part of its profile name, unique among the
/// accounts (as connection keys) and not among `taken` (lower-cased full names).
fn unique_names(
    accounts: &[Account],
    prefix: &str,
    taken: &BTreeSet<String>,
) -> BTreeMap<String, String> {
    let mut names: BTreeMap<String, String> = accounts
        .iter()
        .map(|a| (a.id.clone(), sanitize(&a.name, &a.id)))
        .collect();
    // Each round gives every clashing name its account id; another round is needed
    // only when that makes a name equal to another account's plain one (which then
    // gets its own id).
    for _ in 0..4 {
        let mut by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (id, name) in &names {
            by_key
                .entry(connection_key(name))
                .or_default()
                .push(id.clone());
        }
        let mut clash: Vec<String> = by_key
            .values()
            .filter(|ids| ids.len() > 1)
            .flatten()
            .cloned()
            .collect();
        clash.extend(
            names
                .iter()
                .filter(|(_, n)| taken.contains(&format!("{prefix}{n}").to_ascii_lowercase()))
                .map(|(id, _)| id.clone()),
        );
        if clash.is_empty() {
            break;
        }
        for id in clash {
            let name = names.get_mut(&id).expect("known id");
            if !name.ends_with(&format!("-{id}")) {
                *name = format!("{name}-{id}");
            }
        }
    }
    names
}

/// `1 account`, `2 accounts`.
pub(crate) fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("{n} {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// One-line text for a comment: control characters become spaces.
pub(crate) fn comment(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The comment line above an account's entry: name, id, organization and OU path.
pub(crate) fn describe(entry: &Entry) -> String {
    match &entry.account {
        Some(a) => {
            let mut s = format!("{} ({})", a.name, a.id);
            if let Some(path) = &a.ou_path {
                s.push_str(&format!(", {path}"));
            }
            comment(&s)
        }
        None => comment(&format!(
            "entry into organization {} (its role's account is not selected)",
            entry.org_id.as_deref().unwrap_or("?")
        )),
    }
}

/// The header comment naming each organization of the plan.
pub(crate) fn describe_org(org: &OrgInfo) -> String {
    let mut s = format!(
        "Organization {} (management account {})",
        org.id, org.management_account_id
    );
    if let Some(role) = &org.via_role_arn {
        s.push_str(&format!(", entered through {role}"));
    }
    comment(&s)
}

/// What [`discover_plan`] found.
pub(crate) struct Discovered {
    pub plan: Plan,
    pub roles: RoleOptions,
    /// `--region`, else the base identity's region, else the partition's main region.
    pub region: String,
    /// Whether discovery had problems (warned about on stderr).
    pub problems: bool,
}

/// Discovers the accounts and builds the plan; warnings go to stderr. `reserved` as in
/// [`plan`].
pub(crate) async fn discover_plan(common: &CommonFlags, reserved: &[&str]) -> Result<Discovered> {
    check_profile_word("--prefix", &common.prefix, true)?;
    if let Some(r) = &common.base.region {
        crate::regions::check_region(r).map_err(|e| anyhow!("--region: {e}"))?;
    }
    if let Some(out) = &common.output {
        check_output(out, common.force)?;
    }
    let roles = common.roles.role_options();
    roles.check().map_err(|e| anyhow!("{e}"))?;
    let mut options = common.accounts.options().map_err(|e| anyhow!("{e}"))?;
    // A configuration for the caller's own account alone is of no use: without a
    // source, the caller's organization.
    if !options.org
        && options.org_role_arns.is_empty()
        && options.role_arns.is_empty()
        && options.accounts.is_empty()
    {
        options.org = true;
    }
    let base = crate::auth::load_base(
        common.base.profile.as_deref(),
        common.base.region.as_deref(),
    )
    .await?;
    let client = Client::new(ClientConfig {
        retry: awsdyn::retry::RetryConfig::from_env().map_err(|e| anyhow!("{e}"))?,
        ..ClientConfig::default()
    })?;
    let access = Access::new(&client, &base, roles.clone())
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let found = crate::discover::discover(&client, &base, &access, &options)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    for p in &found.problems {
        eprintln!(
            "census: warning: {}",
            crate::store::output::escape(&p.to_string())
        );
    }
    if found.accounts.is_empty() {
        bail!("no accounts: discovery found none (check --org, --org-role-arn, the --ou/--accounts filters, or --role-arns)");
    }
    let plan = plan(
        &found.accounts,
        &found.organizations,
        &roles,
        options.chain_through_management,
        &common.prefix,
        reserved,
    );
    let region = base
        .region
        .clone()
        .or_else(|| crate::regions::global_region(&access.caller().partition).map(str::to_string))
        .unwrap_or_else(|| "us-east-1".to_string());
    Ok(Discovered {
        plan,
        roles,
        region,
        problems: !found.problems.is_empty(),
    })
}

/// The files census never writes: the AWS config and credentials files.
fn protected_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for var in ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"] {
        if let Some(p) = std::env::var_os(var).filter(|p| !p.is_empty()) {
            out.push(PathBuf::from(p));
        }
    }
    if let Some(home) = std::env::var_os("HOME").filter(|p| !p.is_empty()) {
        let aws = PathBuf::from(home).join(".aws");
        out.push(aws.join("config"));
        out.push(aws.join("credentials"));
    }
    out
}

/// The AWS config file the SDKs read: `AWS_CONFIG_FILE`, else `~/.aws/config`.
pub fn default_config_file() -> Option<PathBuf> {
    std::env::var_os("AWS_CONFIG_FILE")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|p| !p.is_empty())
                .map(|h| PathBuf::from(h).join(".aws").join("config"))
        })
}

/// A path made absolute and free of `..` and symbolic links as far as it exists.
fn resolved(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            dir.canonicalize()
                .map(|d| d.join(name))
                .unwrap_or_else(|_| path.to_path_buf())
        }
        _ => path.to_path_buf(),
    }
}

/// Checks `--output` before any call: not an AWS config or credentials file, not an
/// existing file without `--force`, not a folder.
fn check_output(path: &Path, force: bool) -> Result<()> {
    let target = resolved(path);
    if protected_files().iter().any(|p| resolved(p) == target) {
        bail!(
            "--output {}: census never writes over the AWS config or credentials file; write to another file and merge it by hand (--check-conflicts lists the profile names already there)",
            path.display()
        );
    }
    if path.is_dir() {
        bail!("--output {}: is a folder; give a file name", path.display());
    }
    if path.exists() && !force {
        bail!(
            "--output {}: the file exists; pass --force to replace it, or choose another name",
            path.display()
        );
    }
    Ok(())
}

/// Writes `text` to `--output` (whole or not at all) or stdout.
pub(crate) fn write_output(output: Option<&Path>, text: &str) -> Result<()> {
    match output {
        Some(path) => {
            crate::sink::write_atomic(path, text.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("census: wrote {}", path.display());
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(())
}

/// The profile names a config or credentials file has, with their line numbers:
/// `[default]`, `[profile NAME]` and `[NAME]`; `[sso-session ...]` and `[services
/// ...]` sections are not profiles.
pub fn existing_profiles(text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        let Some(inner) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) else {
            continue;
        };
        let inner = inner.trim();
        let mut words = inner.split_whitespace();
        let name = match (words.next(), words.next()) {
            (Some("profile"), Some(name)) => name,
            (Some("sso-session" | "services"), Some(_)) => continue,
            (Some(name), None) => name,
            _ => continue,
        };
        out.push((name.to_string(), n + 1));
    }
    out
}

/// `--check-conflicts`: prints the names of `names` that `file` already has; returns
/// how many.
pub(crate) fn report_conflicts(file: &Path, names: &[String]) -> Result<usize> {
    let file = if file == Path::new(DEFAULT_CONFIG_MARK) {
        default_config_file().ok_or_else(|| {
            anyhow!("--check-conflicts: no AWS config file to check (HOME and AWS_CONFIG_FILE are unset); give the file")
        })?
    } else {
        match (file.strip_prefix("~"), std::env::var_os("HOME")) {
            (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
            _ => file.to_path_buf(),
        }
    };
    let text = std::fs::read_to_string(&file).with_context(|| {
        format!(
            "--check-conflicts {}: cannot read it; give an AWS config file",
            file.display()
        )
    })?;
    let existing = existing_profiles(&text);
    let mut n = 0;
    for name in names {
        if let Some((_, line)) = existing.iter().find(|(e, _)| e == name) {
            eprintln!(
                "census: conflict: profile {name} is already in {} (line {line})",
                file.display()
            );
            n += 1;
        }
    }
    if n == 0 {
        eprintln!(
            "census: none of the {} profiles is in {}",
            names.len(),
            file.display()
        );
    }
    Ok(n)
}

/// Runs a `census config` command; returns the exit status: 0, or 2 when discovery
/// had problems or `--check-conflicts` found names already in use.
pub async fn run(command: ConfigCommand) -> Result<u8> {
    match command {
        ConfigCommand::AwsProfiles(f) => aws_profiles::run(f, aws_profiles::Style::Cli).await,
        ConfigCommand::Cartography(f) => cartography::run(f).await,
        ConfigCommand::Steampipe(f) => steampipe::run(f).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: &str, name: &str, org: Option<&str>) -> Account {
        Account {
            id: id.into(),
            name: name.into(),
            email: None,
            status: "ACTIVE".into(),
            partition: "aws".into(),
            org_id: org.map(str::to_string),
            management_account_id: None,
            ou_id: None,
            ou_path: None,
            tags: Default::default(),
            role_arn: None,
            is_caller: false,
            source: "organizations".into(),
        }
    }

    fn org(id: &str, management: &str, via: Option<&str>) -> OrgInfo {
        OrgInfo {
            id: id.into(),
            arn: String::new(),
            management_account_id: management.into(),
            feature_set: None,
            via_role_arn: via.map(str::to_string),
            root_id: None,
            ous: vec![],
            active_accounts: 0,
            inactive_accounts: vec![],
        }
    }

    #[test]
    fn names_are_sanitized() {
        assert_eq!(sanitize("Prod Account (EU)", "1"), "Prod-Account-EU");
        assert_eq!(sanitize("  ", "111111111111"), "111111111111");
        assert_eq!(sanitize("a/b]c[d#e;f=g", "1"), "a-b-c-d-e-f-g");
        assert_eq!(sanitize("Société Générale", "1"), "Soci-t-G-n-rale");
        assert_eq!(sanitize(&"x".repeat(60), "1").len(), MAX_NAME);
        assert_eq!(connection_key("Prod-Account.EU"), "prod_account_eu");
    }

    #[test]
    fn clashing_and_reserved_names_get_the_account_id() {
        let accounts = vec![
            account("111111111111", "Prod", None),
            account("222222222222", "prod", None),
            account("333333333333", "default", None),
            account("444444444444", "base", None),
            account("555555555555", "dev.eu", None),
            account("666666666666", "dev-eu", None),
            account("777777777777", "unique", None),
        ];
        let p = plan(
            &accounts,
            &[],
            &RoleOptions::default(),
            true,
            "",
            &["default", "base"],
        );
        let names: Vec<&str> = p.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Prod-111111111111",
                "prod-222222222222",
                "default-333333333333",
                "base-444444444444",
                "dev.eu-555555555555",
                "dev-eu-666666666666",
                "unique"
            ]
        );
        let connections: BTreeSet<&str> = p.entries.iter().map(|e| e.connection.as_str()).collect();
        assert_eq!(connections.len(), accounts.len());
        assert!(connections.contains("aws_unique"));
        // With a prefix, "default" is no longer a clash.
        let p = plan(
            &accounts,
            &[],
            &RoleOptions::default(),
            true,
            "acme-",
            &["default"],
        );
        assert!(p.entries.iter().any(|e| e.name == "acme-default"));
    }

    #[test]
    fn entered_organizations_chain_through_their_entry_profile() {
        let role = "arn:aws:iam::210987654321:role/OrgReader";
        let orgs = vec![
            org("o-own", "123456789012", None),
            org("o-other", "210987654321", Some(role)),
        ];
        let accounts = vec![
            account("123456789012", "master", Some("o-own")),
            account("111111111111", "prod", Some("o-own")),
            account("210987654321", "globex", Some("o-other")),
            account("222222222222", "globex-dev", Some("o-other")),
        ];
        let roles = RoleOptions {
            role_name: "Census".into(),
            ..RoleOptions::default()
        };
        let p = plan(&accounts, &orgs, &roles, true, "", &["default"]);
        let by: BTreeMap<&str, &Entry> = p.entries.iter().map(|e| (e.name.as_str(), e)).collect();
        assert_eq!(by["prod"].source, Source::Base);
        assert_eq!(by["prod"].role_arn, "arn:aws:iam::111111111111:role/Census");
        assert_eq!(by["globex"].role_arn, role);
        assert_eq!(by["globex"].source, Source::Base);
        assert_eq!(by["globex-dev"].source, Source::Profile("globex".into()));
        assert_eq!(
            by["globex-dev"].role_arn,
            "arn:aws:iam::222222222222:role/Census"
        );
        // The order: organizations as read.
        let order: Vec<&str> = p.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(order, ["prod", "master", "globex", "globex-dev"]);
        // Without the entry account, a hop profile; without chaining, none.
        let p = plan(
            &accounts[..2]
                .iter()
                .chain(&accounts[3..])
                .cloned()
                .collect::<Vec<_>>(),
            &orgs,
            &roles,
            true,
            "x-",
            &[],
        );
        let hop = p.entries.iter().find(|e| e.account.is_none()).unwrap();
        assert_eq!(
            (hop.name.as_str(), hop.role_arn.as_str()),
            ("x-entry-o-other", role)
        );
        let dev = p.entries.iter().find(|e| e.name == "x-globex-dev").unwrap();
        assert_eq!(dev.source, Source::Profile("x-entry-o-other".into()));
        let p = plan(&accounts, &orgs, &roles, false, "", &[]);
        assert!(p.entries.iter().all(|e| e.source == Source::Base));
    }

    #[test]
    fn existing_profiles_are_found() {
        let text = "[default]\nregion = x\n# [profile commented]\n[profile prod]\n[sso-session s]\n[ services  svc ]\n[plain]\n";
        assert_eq!(
            existing_profiles(text),
            [
                ("default".to_string(), 1),
                ("prod".to_string(), 4),
                ("plain".to_string(), 7)
            ]
        );
    }
}
