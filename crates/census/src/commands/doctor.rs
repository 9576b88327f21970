//! `census doctor`: checks everything a scan with the same flags needs, and says what
//! to fix.
//!
//! The checks, one row each:
//! - `identity`: who the base credentials are (sts GetCallerIdentity);
//! - per organization read (`--org`, each `--org-role-arn`): `org-role` (AssumeRole into
//!   the `--org-role-arn`), `organization` (organizations DescribeOrganization) and
//!   `list-accounts` (organizations ListAccounts);
//! - `discovery`: anything else discovery reported (tags or OU tree unreadable, an
//!   `--accounts` id not found: `warn`, the scan runs without it), or no account selected
//!   (`fail`);
//! - per selected account, in parallel (`--concurrency` accounts at once):
//!   `assume-role` (the account's credentials, then sts GetCallerIdentity with them to
//!   confirm they are that account's), `read` (ec2 DescribeRegions in the base region:
//!   a read every ReadOnlyAccess or SecurityAudit role may make, and the scan's own way
//!   of listing an account's regions) and `regions` (the enabled regions, and whether
//!   every `--regions` region is among them).
//!
//! A check that depends on a failed one is `skipped`, with the reason. When discovery
//! fails (ListAccounts denied), the accounts given with `--accounts` are still checked.
//! Failure rows carry the AWS error code and a remediation: the texts of
//! [`crate::auth::AccessError`] for role and read failures, and of discovery for
//! Organizations ones.
//!
//! Exit status: 0 when no check failed (`warn` rows allowed), 2 when one did, 1 when the
//! doctor could not run (bad flag values).
//!
//! Not a scan: it makes one read call per account and writes nothing but its report;
//! it fixes nothing either, it says what to fix.

use std::collections::BTreeSet;
use std::io::Write;

use anyhow::{anyhow, Result};
use awsdyn::client::Target;
use futures::stream::{self, StreamExt};
use serde::Serialize;

use crate::account::Account;
use crate::auth::{AccessError, Base, ReadFailure, RoleArn, RoleOptions};
use crate::cli::DoctorFlags;
use crate::discover::{scope, Discovery, Options, Problem};
use crate::regions::check_region;
use crate::session::{Connection, Session};
use crate::util::print::{Cell, Format, RowWriter};

pub use crate::cli::scan::DOCTOR_CONCURRENCY as DEFAULT_CONCURRENCY;

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    /// Passed, with something the scan will do without (account tags...).
    Warn,
    Fail,
    /// Not run, because a check it depends on failed.
    Skipped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skipped => "skipped",
        }
    }
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckRow {
    /// `identity`, `org-role`, `organization`, `list-accounts`, `discovery`,
    /// `assume-role`, `read`, `regions`.
    pub check: &'static str,
    /// The account the check is about (for organization checks: the account whose
    /// credentials read it).
    pub account_id: Option<String>,
    pub account_name: Option<String>,
    /// The region a call was made in; for `regions`, the regions not enabled.
    pub region: Option<String>,
    pub status: Status,
    /// The AWS error code (or Census's own: `WrongAccount`, `RegionNotEnabled`,
    /// `NoAccounts`).
    pub error_code: Option<String>,
    /// What was found, or what failed, on one line.
    pub message: String,
    /// What to do, for rows that did not pass.
    pub remediation: Option<String>,
}

impl CheckRow {
    fn new(check: &'static str, status: Status, message: impl Into<String>) -> CheckRow {
        CheckRow {
            check,
            account_id: None,
            account_name: None,
            region: None,
            status,
            error_code: None,
            message: message.into(),
            remediation: None,
        }
    }

    fn account(mut self, account: &Account) -> CheckRow {
        self.account_id = Some(account.id.clone());
        self.account_name = Some(account.name.clone());
        self
    }

    fn account_id(mut self, id: &str) -> CheckRow {
        self.account_id = Some(id.to_string());
        self
    }

    fn region(mut self, region: impl Into<String>) -> CheckRow {
        self.region = Some(region.into());
        self
    }

    /// A failed check from an [`AccessError`]; `context` (the failed step) starts the
    /// message.
    fn access_error(check: &'static str, context: &str, e: &AccessError) -> CheckRow {
        let mut message = if context.is_empty() {
            e.message.clone()
        } else {
            format!("{context}: {}", e.message)
        };
        if let Some(id) = &e.request_id {
            message.push_str(&format!(" [request id {id}]"));
        }
        CheckRow {
            error_code: Some(e.code.clone()).filter(|c| !c.is_empty()),
            remediation: Some(e.remediation.clone()).filter(|r| !r.is_empty()),
            ..CheckRow::new(check, Status::Fail, message)
        }
    }

    fn problem(check: &'static str, status: Status, p: &Problem) -> CheckRow {
        CheckRow {
            error_code: p.code.clone(),
            remediation: p.remediation.clone(),
            ..CheckRow::new(check, status, format!("{}: {}", p.scope, p.detail()))
        }
    }
}

/// The doctor's findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub rows: Vec<CheckRow>,
}

impl Report {
    pub fn count(&self, status: Status) -> usize {
        self.rows.iter().filter(|r| r.status == status).count()
    }

    /// 0 when no check failed, 2 when one did.
    pub fn exit_status(&self) -> u8 {
        if self.count(Status::Fail) > 0 {
            2
        } else {
            0
        }
    }

    /// The column names of [`Report::write`]: the rows' field names.
    pub const COLUMNS: [&'static str; 8] = [
        "check",
        "account_id",
        "account_name",
        "region",
        "status",
        "error_code",
        "message",
        "remediation",
    ];

    /// Writes the rows as a table, a JSON array of objects (keys: [`Report::COLUMNS`],
    /// absent values `null`) or CSV.
    pub fn write(&self, format: Format, out: impl Write) -> std::io::Result<()> {
        let columns = Report::COLUMNS.iter().map(|c| c.to_string()).collect();
        let mut w = RowWriter::new(format, columns, out)?;
        let text = |v: &Option<String>| v.clone().map_or(Cell::Null, Cell::Text);
        for r in &self.rows {
            w.row(vec![
                Cell::Text(r.check.to_string()),
                text(&r.account_id),
                text(&r.account_name),
                text(&r.region),
                Cell::Text(r.status.as_str().to_string()),
                text(&r.error_code),
                Cell::Text(r.message.clone()),
                text(&r.remediation),
            ])?;
        }
        w.finish()?;
        Ok(())
    }
}

/// Runs the doctor with parsed flags and prints the report to `out`; returns the exit
/// status. `Err` (exit 1) for flag values that are wrong before any call.
pub async fn run(args: DoctorFlags, out: impl Write) -> Result<u8> {
    let regions = crate::cli::dedup(args.regions);
    for r in &regions {
        check_region(r).map_err(|e| anyhow!("--regions: {e}"))?;
    }
    if let Some(r) = &args.base.region {
        check_region(r).map_err(|e| anyhow!("--region: {e}"))?;
    }
    if args.concurrency == 0 {
        anyhow::bail!("--concurrency: must be at least 1");
    }
    let mut role_options = args.targets.roles.role_options();
    if role_options.session_name.is_none() {
        role_options.session_name = Some(format!(
            "census-doctor-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        ));
    }
    role_options.check()?;
    let opts = args.targets.accounts.options()?;

    let connection = Connection::open(&args.base, None).await?;
    let report = diagnose(connection, role_options, &opts, &regions, args.concurrency).await?;
    report.write(args.output, out)?;
    eprintln!(
        "census doctor: {} checks: {} ok, {} warn, {} failed, {} skipped",
        report.rows.len(),
        report.count(Status::Ok),
        report.count(Status::Warn),
        report.count(Status::Fail),
        report.count(Status::Skipped)
    );
    Ok(report.exit_status())
}

/// Runs every check. `regions` is `--regions` (empty: each account's enabled ones).
/// `Err` only for malformed discovery input.
pub async fn diagnose(
    connection: Connection,
    role_options: RoleOptions,
    opts: &Options,
    regions: &[String],
    concurrency: usize,
) -> Result<Report> {
    let mut rows = Vec::new();
    // As discovery writes them in its problems' scopes.
    let org_roles: Vec<String> = crate::discover::unique(&opts.org_role_arns)
        .iter()
        .filter_map(|a| RoleArn::parse(a).ok())
        .map(|a| a.to_string())
        .collect();
    let session = match connection.session(role_options).await {
        Ok(s) => s,
        Err(e) => {
            rows.push(CheckRow::access_error(
                "identity",
                "sts:GetCallerIdentity",
                &e,
            ));
            let why = "needs the base identity";
            if opts.org {
                rows.push(CheckRow::new("organization", Status::Skipped, why));
                rows.push(CheckRow::new("list-accounts", Status::Skipped, why));
            }
            for role in &org_roles {
                rows.push(CheckRow::new(
                    "org-role",
                    Status::Skipped,
                    format!("{role}: {why}"),
                ));
            }
            // The accounts named on the command line (an organization's are unknown).
            let named: Vec<String> = opts
                .role_arns
                .iter()
                .filter_map(|arn| arn.split(':').nth(4))
                .chain(opts.accounts.iter().map(String::as_str))
                .map(str::to_string)
                .collect();
            for id in crate::discover::unique(&named) {
                rows.push(CheckRow::new("assume-role", Status::Skipped, why).account_id(&id));
            }
            return Ok(Report { rows });
        }
    };
    let access = session.access();
    let caller = access.caller().clone();
    rows.push(
        CheckRow::new("identity", Status::Ok, caller.arn.clone()).account_id(&caller.account_id),
    );

    let found = session.discover(opts).await?;
    let mut used = vec![false; found.problems.len()];
    let mut org_failed = false;
    if opts.org {
        let scope = scope::own_organization(&caller.account_id);
        org_failed |= organization_rows(
            &found,
            &scope,
            None,
            &caller.account_id,
            &mut used,
            &mut rows,
        );
    }
    for role in &org_roles {
        let account_id = role.split(':').nth(4).unwrap_or_default().to_string();
        let assume_scope = scope::org_role(role);
        match find(&found.problems, &assume_scope, "AssumeRole", &mut used) {
            Some(p) => {
                org_failed = true;
                rows.push(CheckRow::problem("org-role", Status::Fail, p).account_id(&account_id));
                for check in ["organization", "list-accounts"] {
                    rows.push(
                        CheckRow::new(check, Status::Skipped, format!("needs {role}"))
                            .account_id(&account_id),
                    );
                }
            }
            None => {
                rows.push(
                    CheckRow::new("org-role", Status::Ok, format!("assumed {role}"))
                        .account_id(&account_id),
                );
                let scope = scope::organization_via(role);
                org_failed |= organization_rows(
                    &found,
                    &scope,
                    Some(role.as_str()),
                    &account_id,
                    &mut used,
                    &mut rows,
                );
            }
        }
    }

    // The accounts: what discovery selected, and, when an organization could not be
    // read, the accounts named with --accounts (checked as they are).
    let mut accounts = found.accounts.clone();
    let mut readded = BTreeSet::new();
    if org_failed {
        let known: BTreeSet<String> = accounts.iter().map(|a| a.id.clone()).collect();
        for id in crate::discover::unique(&opts.accounts) {
            if !known.contains(&id) && !opts.exclude_accounts.contains(&id) {
                let mut a = Account::plain(&id, &caller.partition, None, "accounts");
                a.is_caller = access.role_arn(&a).is_none();
                accounts.push(a);
                readded.insert(id);
            }
        }
        accounts.sort_by(|a, b| a.id.cmp(&b.id));
    }
    for (p, used) in found.problems.iter().zip(&used) {
        let readded_note =
            p.scope == "--accounts" && readded.iter().any(|id| p.message.starts_with(id.as_str()));
        if !used && !readded_note {
            rows.push(CheckRow::problem("discovery", Status::Warn, p));
        }
    }
    if accounts.is_empty() && !org_failed {
        rows.push(CheckRow {
            error_code: Some("NoAccounts".into()),
            remediation: Some(
                "check --org, the --ou/--exclude-ou and --accounts/--exclude-accounts filters, or --role-arns".into(),
            ),
            ..CheckRow::new("discovery", Status::Fail, "no accounts selected")
        });
    }

    let per_account: Vec<Vec<CheckRow>> = stream::iter(&accounts)
        .map(|a| check_account(&session, a, regions))
        .buffered(concurrency.max(1))
        .collect()
        .await;
    rows.extend(per_account.into_iter().flatten());
    Ok(Report { rows })
}

/// The `organization` and `list-accounts` rows of one organization source; returns
/// whether it failed.
fn organization_rows(
    found: &Discovery,
    scope: &str,
    via: Option<&str>,
    account_id: &str,
    used: &mut [bool],
    rows: &mut Vec<CheckRow>,
) -> bool {
    if let Some(p) = find(&found.problems, scope, "DescribeOrganization", used) {
        rows.push(CheckRow::problem("organization", Status::Fail, p).account_id(account_id));
        rows.push(
            CheckRow::new(
                "list-accounts",
                Status::Skipped,
                "needs DescribeOrganization",
            )
            .account_id(account_id),
        );
        return true;
    }
    let info = found
        .organizations
        .iter()
        .find(|o| o.via_role_arn.as_deref() == via);
    let described = match info {
        Some(o) => format!("{} (management account {})", o.id, o.management_account_id),
        None => "read (the same organization as another source)".to_string(),
    };
    rows.push(CheckRow::new("organization", Status::Ok, described).account_id(account_id));
    if let Some(p) = find(&found.problems, scope, "ListAccounts", used) {
        rows.push(CheckRow::problem("list-accounts", Status::Fail, p).account_id(account_id));
        return true;
    }
    let listed = match info {
        Some(o) => format!(
            "{} ACTIVE accounts ({} not active)",
            o.active_accounts,
            o.inactive_accounts.len()
        ),
        None => "listed".to_string(),
    };
    rows.push(CheckRow::new("list-accounts", Status::Ok, listed).account_id(account_id));
    false
}

/// The first unused problem of `scope` about `operation`, marked used.
fn find<'a>(
    problems: &'a [Problem],
    scope: &str,
    operation: &str,
    used: &mut [bool],
) -> Option<&'a Problem> {
    let i = problems.iter().enumerate().position(|(i, p)| {
        !used[i] && p.scope == scope && p.operation.as_deref() == Some(operation)
    })?;
    used[i] = true;
    Some(&problems[i])
}

/// `assume-role`, `read` and `regions` for one account.
async fn check_account(session: &Session, account: &Account, regions: &[String]) -> Vec<CheckRow> {
    let (client, access) = (session.client(), session.access());
    let base = session.base();
    let caller = access.caller();
    let role_arn = access.role_arn(account);
    let skip = |check: &'static str, why: &str| {
        CheckRow::new(check, Status::Skipped, why).account(account)
    };
    let credentials = match access.credentials(account).await {
        Ok(c) => c,
        Err(e) => {
            let context = match &e.role_arn {
                Some(role) => format!("cannot assume {role}"),
                None => String::new(),
            };
            return vec![
                CheckRow::access_error("assume-role", &context, &e).account(account),
                skip(
                    "read",
                    "needs the account's credentials (assume-role failed)",
                ),
                skip(
                    "regions",
                    "needs the account's credentials (assume-role failed)",
                ),
            ];
        }
    };
    let failure = |operation: &'static str, region: &str, e: &awsdyn::Error| {
        AccessError::read_call(
            &ReadFailure {
                account_id: &account.id,
                role_arn: role_arn.as_deref(),
                principal: &caller.arn,
                operation,
                region,
                profile: base.profile.as_deref(),
            },
            e,
        )
    };

    // Whose credentials are these? A template or --role-arns entry naming another
    // account's role would scan that account twice and this one never.
    let sts_region = crate::auth::sts_region(base, &account.partition);
    let target = Target::new(sts_region.clone(), credentials.clone())
        .with_endpoints(base.endpoints.clone())
        .with_label(account.id.clone());
    let mut rows = Vec::with_capacity(3);
    match client
        .call(&target, "sts", "GetCallerIdentity", &serde_json::json!({}))
        .await
    {
        Err(e) => {
            let e = failure("sts:GetCallerIdentity", &sts_region, &e);
            return vec![
                CheckRow::access_error("assume-role", "sts:GetCallerIdentity as the account", &e)
                    .account(account),
                skip("read", "needs working credentials (assume-role failed)"),
                skip("regions", "needs working credentials (assume-role failed)"),
            ];
        }
        Ok(out) => {
            let got = out["Account"].as_str().unwrap_or_default();
            let arn = out["Arn"].as_str().unwrap_or_default();
            if got != account.id {
                return vec![
                    CheckRow {
                        error_code: Some("WrongAccount".into()),
                        remediation: Some(format!(
                            "{} is a role of account {got}, not {}: fix --role-arn-template or the --role-arns entry",
                            role_arn.as_deref().unwrap_or("the role"),
                            account.id
                        )),
                        ..CheckRow::new(
                            "assume-role",
                            Status::Fail,
                            format!("the credentials are {arn}"),
                        )
                    }
                    .account(account),
                    skip("read", "needs the account's own credentials"),
                    skip("regions", "needs the account's own credentials"),
                ];
            }
            let how = match &role_arn {
                None => format!("the caller's own account: base credentials, {arn}"),
                Some(_) => format!("as {arn}"),
            };
            rows.push(CheckRow::new("assume-role", Status::Ok, how).account(account));
        }
    }

    // One read call, which also lists the enabled regions.
    let region = read_region(base, &account.partition);
    let target = Target::new(region.clone(), credentials)
        .with_endpoints(base.endpoints.clone())
        .with_label(account.id.clone());
    let enabled = match crate::regions::enabled_regions(client, &target, &account.partition).await {
        Ok(r) => r,
        Err(e) => {
            let e = failure("ec2:DescribeRegions", &region, &e);
            rows.push(
                CheckRow::access_error("read", "ec2:DescribeRegions", &e)
                    .account(account)
                    .region(region),
            );
            rows.push(skip("regions", "needs the read call (read failed)"));
            return rows;
        }
    };
    rows.push(
        CheckRow::new("read", Status::Ok, "ec2:DescribeRegions answered")
            .account(account)
            .region(region),
    );
    let missing: Vec<&String> = regions.iter().filter(|r| !enabled.contains(r)).collect();
    if missing.is_empty() {
        let message = if regions.is_empty() {
            format!(
                "{} regions enabled; the scan covers them all",
                enabled.len()
            )
        } else {
            format!("all {} --regions enabled", regions.len())
        };
        rows.push(CheckRow::new("regions", Status::Ok, message).account(account));
    } else {
        let list = missing
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",");
        rows.push(
            CheckRow {
                error_code: Some("RegionNotEnabled".into()),
                remediation: Some(format!(
                    "enable {list} in account {} (Account > AWS Regions, or aws account enable-region), or leave it out of --regions",
                    account.id
                )),
                ..CheckRow::new(
                    "regions",
                    Status::Fail,
                    format!(
                        "not enabled in this account: {list} ({} regions are)",
                        enabled.len()
                    ),
                )
            }
            .account(account)
            .region(list),
        );
    }
    rows
}

/// The region of the read call: the base region when it is in the account's
/// partition, else the partition's main region.
fn read_region(base: &Base, partition: &str) -> String {
    if let Some(region) = &base.region {
        if check_region(region).is_ok_and(|p| p == partition) {
            return region.clone();
        }
    }
    crate::regions::global_region(partition)
        .unwrap_or("us-east-1")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(check: &'static str, status: Status) -> CheckRow {
        CheckRow::new(check, status, "m")
    }

    #[test]
    fn exit_status_and_formats() {
        let mut report = Report {
            rows: vec![row("identity", Status::Ok), row("discovery", Status::Warn)],
        };
        assert_eq!(report.exit_status(), 0);
        report.rows.push(CheckRow {
            error_code: Some("AccessDenied".into()),
            remediation: Some("fix it".into()),
            ..row("assume-role", Status::Fail).account_id("111122223333")
        });
        report.rows.push(row("read", Status::Skipped));
        assert_eq!(report.exit_status(), 2);
        let mut json = Vec::new();
        report.write(Format::Json, &mut json).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 4);
        assert_eq!(v[2]["status"], "fail");
        assert_eq!(v[2]["error_code"], "AccessDenied");
        assert_eq!(v[2]["account_id"], "111122223333");
        assert_eq!(v[0]["remediation"], serde_json::Value::Null);
        let mut table = Vec::new();
        report.write(Format::Table, &mut table).unwrap();
        let table = String::from_utf8(table).unwrap();
        assert!(table.starts_with("check "), "{table}");
        assert_eq!(table.lines().count(), 6, "{table}");
    }
}
