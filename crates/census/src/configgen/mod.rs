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
//!
//! Not for Census's own configuration, nor for writing into `~/.aws`: these generate
//! files for other tools; [`iam`] generates the IAM documents Census itself needs.

pub mod aws_profiles;
pub mod cartography;
pub mod iam;
pub mod steampipe;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::account::Account;
use crate::auth::{RoleArn, RoleOptions};
use crate::cli::config::DEFAULT_CONFIG_MARK;
pub use crate::cli::config::{CommonFlags, ConfigCommand, Mode, ProfilesFlags, SteampipeFlags};
use crate::discover::OrgInfo;
use crate::session::Session;
use anyhow::{anyhow, bail, Context, Result};

/// Longest account-derived part of a profile name (before any `-<account id>`).
const MAX_NAME: usize = 40;

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
    let roles = common.targets.roles.role_options();
    roles.check()?;
    let mut options = common.targets.accounts.options()?;
    // A configuration for the caller's own account alone is of no use: without a
    // source, the caller's organization.
    if !options.org
        && options.org_role_arns.is_empty()
        && options.role_arns.is_empty()
        && options.accounts.is_empty()
    {
        options.org = true;
    }
    let session = Session::open(&common.base, roles.clone(), None).await?;
    let found = session.discover(&options).await?;
    for p in &found.problems {
        eprintln!(
            "census: warning: {}",
            crate::util::print::escape(&p.to_string())
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
    let region = session
        .base()
        .region
        .clone()
        .or_else(|| {
            crate::regions::global_region(&session.access().caller().partition).map(str::to_string)
        })
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
            crate::util::fs::write_atomic(path, text.as_bytes())
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
mod tests;
