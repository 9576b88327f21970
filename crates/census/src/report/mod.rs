//! Reports built from live AWS data, for people who today run them as scripts.
//!
//! `census report accounts`: the account metadata report. For each organization
//! (the caller's; those entered with `--org-role-arn`; those listed in a DynamoDB
//! tenants table, see [`crate::discover::tenants`]) one CSV,
//! `aws-{management account id}-account-metadata-report-{timestamp}.csv` (timestamp
//! `YYYYMMDDTHHMMSSZ`, UTC, the same for every file of a run), with the columns
//! Account_Id, Account_Name, Org_ID, Tenant_Name, CSP, Billing_Account_State,
//! Region_Group, Regions, Tenant_ID, Environment, Aide_ID, and a twelfth, Notes.
//!
//! - Accounts, names, statuses and tags come from Organizations (through
//!   [`crate::discover`]); every account of the organization has a row, suspended or
//!   closed ones included (they are not entered; their Notes say so).
//! - Billing_Account_State is the account's Organizations status; CSP is `AWS`.
//! - Environment and Aide_ID are account tags (`--environment-tag`, `--aide-id-tag`;
//!   defaults `Environment` and `Aide_ID`, `AideId`, `AIDE_ID`: the first key present
//!   wins, case-insensitively if no exact match).
//! - Regions: where the account has resources, found as [`resources`] says; sorted,
//!   joined with `,`. Region_Group maps them through [`groups::RegionGroups`] (default
//!   [`groups::DEFAULT_GROUPS`]): one group gives its name, several `multi`, none an
//!   empty cell.
//! - Tenant_Name and Tenant_ID come from the tenants table, or from `--tenant-name`
//!   and `--tenant-id` for organizations not listed there.
//!
//! Accounts are processed in parallel (`--concurrency`), each within
//! `--account-timeout`; an account that fails (role, DescribeRegions, a region's
//! tagging API) or runs out of time keeps its row, with what went wrong in Notes and
//! whatever was found before. Each CSV is written to `--local-dir` (atomically), then
//! uploaded to `--s3-bucket` under `--s3-prefix` (see [`crate::sink::s3`]).
//!
//! `.env` (read at start) and the environment give defaults: `OUTPUT_BUCKET` for
//! `--s3-bucket`, `DYNAMO_TABLE_NAME` for `--tenants-table`, `CROSS_ACCOUNT_ROLE_NAME`
//! for `--role-name`.
//!
//! Exit status: 0 every organization reported and no row has notes; 2 reported, but
//! some organization could not be read or some row has notes; 1 nothing could be
//! reported, or an upload failed (the local files are kept).
//!
//! Not for discovering accounts or reading the tenants table (see [`crate::discover`] and
//! [`crate::discover::tenants`]), nor for scanning resources (see `census scan`).

pub mod groups;
pub mod html;
pub mod resources;
pub mod table;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use futures::stream::{self, StreamExt};

use crate::account::Account;
use crate::cli::ReportAccountsFlags;
use crate::discover::tenants;
use crate::discover::{OrgInfo, Problem};
use crate::session::Session;
use crate::sink::s3::{Bucket, S3Url};
use crate::util::print::escape;
use groups::RegionGroups;
use resources::{Found, Settings};
use table::{Row, TagKeys};

/// Default `--environment-tag`.
pub const DEFAULT_ENVIRONMENT_TAGS: &[&str] = &["Environment"];
/// Default `--aide-id-tag`.
pub const DEFAULT_AIDE_ID_TAGS: &[&str] = &["Aide_ID", "AideId", "AIDE_ID"];
pub use crate::cli::report::{DEFAULT_ACCOUNT_TIMEOUT, DEFAULT_CONCURRENCY};

/// A flag's value, or an environment variable's when the flag is not given.
fn or_env(value: &Option<String>, var: &str) -> Option<String> {
    value
        .clone()
        .or_else(|| std::env::var(var).ok())
        .filter(|v| !v.trim().is_empty())
}

fn tag_keys(given: &[String], defaults: &[&str]) -> TagKeys {
    if given.is_empty() {
        TagKeys(defaults.iter().map(|k| k.to_string()).collect())
    } else {
        TagKeys(given.to_vec())
    }
}

/// An organization to write a report for.
struct OrgReport {
    info: OrgInfo,
    tenant_name: String,
    tenant_id: String,
}

/// Everything an account's processing needs.
struct Ctx {
    session: Session,
    settings: Settings,
    catalog: Arc<crate::regions::Catalog>,
    timeout: Duration,
}

/// What processing one account gave.
struct Outcome {
    found: Found,
}

async fn process(ctx: &Ctx, account: &Account) -> Outcome {
    let found = Mutex::new(Found::default());
    let work = async {
        let credentials = ctx
            .session
            .access()
            .credentials(account)
            .await
            .map_err(|e| e.to_string())?;
        resources::collect(
            ctx.session.client(),
            ctx.session.base(),
            credentials,
            account,
            &ctx.settings,
            &ctx.catalog,
            &found,
        )
        .await;
        Ok::<(), String>(())
    };
    let result = tokio::time::timeout(ctx.timeout, work).await;
    let mut found = found.into_inner().unwrap_or_else(|e| e.into_inner());
    match result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => found
            .notes
            .insert(0, crate::auth::one_line(&format!("not entered: {e}"))),
        Err(_) => found.notes.push(format!(
            "timed out after {}s (--account-timeout): Regions may be incomplete",
            ctx.timeout.as_secs()
        )),
    }
    tracing::info!(
        "account {}: {} resources in {} regions",
        account.id,
        found.resources,
        found.regions.len()
    );
    Outcome { found }
}

/// Runs `census report accounts`; returns the exit status.
pub async fn run_accounts(args: ReportAccountsFlags) -> Result<u8> {
    // Offline checks first.
    let groups = match &args.region_groups {
        Some(g) => RegionGroups::from_arg(g).map_err(anyhow::Error::msg)?,
        None => RegionGroups::default(),
    };
    let regions = crate::cli::dedup(args.regions.clone());
    for r in &regions {
        crate::regions::check_region(r).map_err(|e| anyhow!("--regions: {e}"))?;
    }
    for (flag, r) in [
        ("--region", &args.base.region),
        ("--tenants-region", &args.tenants_region),
        ("--s3-region", &args.s3_region),
    ] {
        if let Some(r) = r {
            crate::regions::check_region(r).map_err(|e| anyhow!("{flag}: {e}"))?;
        }
    }
    let destination = match or_env(&args.s3_bucket, "OUTPUT_BUCKET") {
        Some(bucket) => Some(
            S3Url::new(&bucket, args.s3_prefix.as_deref().unwrap_or_default())
                .map_err(|e| anyhow!("--s3-bucket/--s3-prefix (or OUTPUT_BUCKET): {e}"))?,
        ),
        None => {
            if args.s3_prefix.is_some() {
                bail!("--s3-prefix needs a bucket: pass --s3-bucket or set OUTPUT_BUCKET");
            }
            None
        }
    };
    let tenants_table = or_env(&args.tenants_table, "DYNAMO_TABLE_NAME");
    let tenant_columns = args.tenant_columns();
    let role_options = args.assume.role_options(
        or_env(&args.role_name, "CROSS_ACCOUNT_ROLE_NAME")
            .unwrap_or_else(|| crate::auth::DEFAULT_ROLE_NAME.to_string()),
        None,
    );
    role_options.check()?;
    let environment_tags = tag_keys(&args.environment_tags, DEFAULT_ENVIRONMENT_TAGS);
    let aide_id_tags = tag_keys(&args.aide_id_tags, DEFAULT_AIDE_ID_TAGS);
    let timestamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();

    let session = Session::open(&args.base, role_options.clone(), None).await?;
    let (client, base, access) = (session.client(), session.base(), session.access());
    let bucket = match destination {
        Some(url) => Some(Bucket::open(client, base, url, args.s3_region.as_deref()).await?),
        None => None,
    };

    // The organizations: tenants, then discovery.
    let mut problems: Vec<String> = Vec::new();
    let mut tenant_list = Vec::new();
    if let Some(table) = &tenants_table {
        let region = args
            .tenants_region
            .clone()
            .or_else(|| base.region.clone())
            .unwrap_or_else(|| "us-east-1".to_string());
        let read = tenants::read(
            client,
            base,
            &tenants::Source {
                table,
                region,
                columns: &tenant_columns,
                role_name: &role_options.role_name,
                partition: &access.caller().partition,
            },
        )
        .await
        .map_err(anyhow::Error::msg)?;
        if read.tenants.is_empty() && read.problems.is_empty() {
            bail!("the tenants table {table} is empty: add one item per organization (attributes {}, or {}; {}, {})",
                tenant_columns.role_arn, tenant_columns.management_account,
                tenant_columns.tenant_name, tenant_columns.tenant_id);
        }
        problems.extend(read.problems);
        tenant_list = read.tenants;
    }
    let mut org_role_arns = args.org_role_arns.clone();
    org_role_arns.extend(tenant_list.iter().map(|t| t.role_arn.to_string()));
    let options = crate::discover::Options {
        org: args.org || (args.org_role_arns.is_empty() && tenants_table.is_none()),
        org_role_arns,
        chain_through_management: args.chain_through_management,
        ..crate::discover::Options::default()
    };
    let discovery = session.discover(&options).await?;
    problems.extend(discovery.problems.iter().map(Problem::to_string));
    for p in &problems {
        eprintln!("census: warning: {}", escape(p));
    }
    if discovery.organizations.is_empty() {
        bail!(
            "no organization could be read, so there is nothing to report (see the warnings above)"
        );
    }
    let orgs: Vec<OrgReport> = discovery
        .organizations
        .iter()
        .map(|info| {
            let tenant = tenant_list
                .iter()
                .find(|t| info.via_role_arn.as_deref() == Some(t.role_arn.to_string().as_str()))
                .or_else(|| {
                    tenant_list
                        .iter()
                        .find(|t| t.role_arn.account_id == info.management_account_id)
                });
            let (tenant_name, tenant_id) = match tenant {
                Some(t) => (t.name.clone(), t.id.clone()),
                None => (
                    args.tenant_name.clone().unwrap_or_default(),
                    args.tenant_id.clone().unwrap_or_default(),
                ),
            };
            OrgReport {
                info: info.clone(),
                tenant_name,
                tenant_id,
            }
        })
        .collect();

    // Every active account of every organization, in parallel.
    let catalog = session.catalog()?;
    let ctx = Arc::new(Ctx {
        session: session.clone(),
        settings: Settings {
            regions: (!regions.is_empty()).then_some(regions),
            regions_in_flight: 8,
        },
        catalog,
        timeout: Duration::from_secs(args.account_timeout.max(1)),
    });
    let started = std::time::Instant::now();
    let outcomes: HashMap<String, Outcome> = stream::iter(discovery.accounts.clone())
        .map(|account| {
            let ctx = ctx.clone();
            async move {
                let outcome = process(&ctx, &account).await;
                (account.id.clone(), outcome)
            }
        })
        .buffer_unordered(args.concurrency.max(1))
        .collect()
        .await;

    // One CSV per organization.
    std::fs::create_dir_all(&args.local_dir).with_context(|| {
        format!(
            "cannot create the local folder {} (--local-dir)",
            args.local_dir.display()
        )
    })?;
    let mut exit = if problems.is_empty() { 0 } else { 2 };
    // The first failed upload ends the uploading (the next would fail the same way).
    let mut upload_error: Option<crate::sink::s3::UploadError> = None;
    let mut not_uploaded = 0;
    for org in &orgs {
        let mut rows: BTreeMap<String, Row> = BTreeMap::new();
        for account in discovery
            .accounts
            .iter()
            .filter(|a| a.org_id.as_deref() == Some(org.info.id.as_str()))
        {
            let found = outcomes
                .get(&account.id)
                .map(|o| o.found.clone())
                .unwrap_or_default();
            let regions: Vec<String> = found.regions.iter().cloned().collect();
            rows.insert(
                account.id.clone(),
                Row {
                    account_id: account.id.clone(),
                    account_name: account.name.clone(),
                    org_id: org.info.id.clone(),
                    tenant_name: org.tenant_name.clone(),
                    billing_account_state: account.status.clone(),
                    region_group: groups.classify(&regions),
                    regions,
                    tenant_id: org.tenant_id.clone(),
                    environment: environment_tags.lookup(&account.tags),
                    aide_id: aide_id_tags.lookup(&account.tags),
                    notes: found.notes,
                },
            );
        }
        for inactive in &org.info.inactive_accounts {
            rows.entry(inactive.id.clone()).or_insert_with(|| Row {
                account_id: inactive.id.clone(),
                account_name: inactive.name.clone(),
                org_id: org.info.id.clone(),
                tenant_name: org.tenant_name.clone(),
                billing_account_state: inactive.status.clone(),
                tenant_id: org.tenant_id.clone(),
                notes: vec![format!(
                    "not entered: the account is {}, so its regions and tags are not read",
                    inactive.status
                )],
                ..Row::default()
            });
        }
        let rows: Vec<Row> = rows.into_values().collect();
        let failed: Vec<&Row> = rows
            .iter()
            .filter(|r| !r.notes.is_empty() && r.billing_account_state == "ACTIVE")
            .collect();
        if !failed.is_empty() {
            exit = 2;
        }
        let name = table::file_name(&org.info.management_account_id, &timestamp);
        let path = args.local_dir.join(&name);
        let text = table::to_csv(&rows).context("cannot format the report as CSV")?;
        crate::util::fs::write_atomic(&path, &text)
            .with_context(|| format!("cannot write {}", path.display()))?;
        let mut where_to = path.display().to_string();
        if let Some(bucket) = &bucket {
            if upload_error.is_some() {
                not_uploaded += 1;
            } else {
                let key = bucket.url().key(&name);
                match bucket.put_file(&path, &key).await {
                    Ok(()) => where_to.push_str(&format!(" and {}", bucket.url().uri(&key))),
                    Err(e) => upload_error = Some(e),
                }
            }
        }
        let tenant = if org.tenant_name.is_empty() {
            String::new()
        } else {
            format!(", tenant {}", escape(&org.tenant_name))
        };
        eprintln!(
            "census: {} (management account {}{tenant}): {} accounts, {} with errors -> {where_to}",
            escape(&org.info.id),
            escape(&org.info.management_account_id),
            rows.len(),
            failed.len()
        );
        for r in failed {
            eprintln!(
                "census: account {} ({}): {}",
                escape(&r.account_id),
                escape(&r.account_name),
                escape(&r.notes.join("; "))
            );
        }
    }
    eprintln!(
        "census: {} organizations, {} accounts in {:.1}s",
        orgs.len(),
        discovery.accounts.len(),
        started.elapsed().as_secs_f64()
    );
    if let Some(e) = upload_error {
        let more = if not_uploaded > 0 {
            format!(
                "; {not_uploaded} more reports were not uploaded either (they are in {})",
                args.local_dir.display()
            )
        } else {
            String::new()
        };
        eprintln!("census: error: {e}{more}");
        return Ok(1);
    }
    Ok(exit)
}
