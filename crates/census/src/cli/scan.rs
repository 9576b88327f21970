//! The flags of `census scan`, and of `census doctor`, which checks what a scan with
//! the same flags needs.
//!
//! Not for checking their values against AWS or the disk: `commands::scan` and
//! `commands::doctor` do that when they run.

use std::path::PathBuf;

use super::accounts::{BaseFlags, TargetFlags};
use super::{parse_delay, positive, positive_secs};

/// Accounts `census doctor` checks at once, unless `--concurrency` says otherwise.
pub const DOCTOR_CONCURRENCY: usize = 16;

/// `census scan` flags. aws-auto-inventory's spellings are accepted too.
#[derive(Debug, clap::Args)]
pub struct ScanFlags {
    /// Scan file (aws-auto-inventory JSON format) or http(s) URL; repeatable.
    #[arg(short = 's', long = "scan", value_name = "FILE|URL")]
    pub scan: Vec<String>,
    /// Built-in spec: core (default when no --scan) or all.
    #[arg(long, value_name = "NAME")]
    pub preset: Vec<String>,
    /// Print what the scan would call, entry by entry of the scan files and presets:
    /// runs as written, runs as a detail of a list call that fills its parameters, or
    /// left out and why (boto3 helper, retired, write, secret, unfillable); then exit,
    /// 0 when the spec loads. Needs no AWS access.
    #[arg(long)]
    pub plan: bool,
    /// With --plan: table (default) or json.
    #[arg(long, value_name = "table|json")]
    pub output: Option<crate::util::print::Format>,
    /// Refuse a scan file with any entry that cannot run as written (an
    /// aws-auto-inventory sample file's boto3 helpers, retired services, calls missing
    /// parameters), instead of running those as details or leaving them out.
    #[arg(long)]
    pub strict: bool,
    /// Detail calls (one read per listed item: a bucket's policy, a table's
    /// description): none; core (default: those the scan files and the core preset
    /// list); auto (also every detail call the models give for each call).
    #[arg(long, default_value = "core", value_name = "none|core|auto")]
    pub details: String,
    /// Detail calls of a list call run for its first N items at most; summary.json says
    /// where it cut. [default: no cap]
    #[arg(long = "max-details-per-call", value_parser = positive, value_name = "N")]
    pub max_details_per_call: Option<usize>,
    #[command(flatten)]
    pub targets: TargetFlags,
    /// Regions to scan instead of each account's enabled regions: space- or
    /// comma-separated (`--regions us-east-1 us-west-2`, `--regions us-east-1,us-west-2`).
    #[arg(short = 'r', long, value_delimiter = ',', num_args = 1.., value_name = "REGION")]
    pub regions: Vec<String>,
    /// Leave out these calls: SERVICE:OPERATION (`ssm:DescribeInstanceInformation`,
    /// `ssm:describe_instance_information`) or SERVICE for all of a service's calls;
    /// repeatable or comma-separated. For calls an SCP denies everywhere, or an emulator
    /// cannot serve.
    #[arg(long, value_delimiter = ',', value_name = "SERVICE[:OPERATION]")]
    pub skip: Vec<String>,
    /// Calls in flight at once (default 64).
    #[arg(long, value_parser = positive)]
    pub concurrency: Option<usize>,
    /// aws-auto-inventory's regions scanned at once: with --concurrent-services, sets
    /// the calls in flight per account (their product).
    #[arg(long = "concurrent-regions", value_parser = positive, value_name = "N")]
    pub concurrent_regions: Option<usize>,
    /// aws-auto-inventory's services scanned at once per region (see --concurrent-regions).
    #[arg(long = "concurrent-services", value_parser = positive, value_name = "N")]
    pub concurrent_services: Option<usize>,
    /// Seconds allowed for one call, pages and retries included. Throttled requests are
    /// retried (exponential backoff, full jitter, at most 20 s apart) for as long as this
    /// allows.
    #[arg(long = "call-timeout", default_value_t = 300, value_parser = positive_secs)]
    pub call_timeout: u64,
    /// Seconds allowed for one account.
    #[arg(long = "account-deadline", default_value_t = 3600, value_parser = positive_secs)]
    pub account_deadline: u64,
    /// Where scans are written.
    #[arg(
        short = 'o',
        long = "output-dir",
        alias = "output_dir",
        default_value = "census-out"
    )]
    pub output_dir: PathBuf,
    /// Finish an interrupted scan, or complete one: give its folder
    /// (census-out/<scan-id>), and --shard when it was a shard. Runs the calls not
    /// finished and those, and the accounts, that ended in a retryable error
    /// (throttling, 5xx, reset, timeout); their new outcome replaces the old.
    #[arg(long, value_name = "SCAN_DIR")]
    pub resume: Option<PathBuf>,
    /// Scan only this shard of the accounts: K/N (K from 1 to N), or auto/N with K
    /// from JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or AWS_BATCH_JOB_ARRAY_INDEX
    /// (AWS Batch array job), both counted from 0. Accounts go to shards by a stable
    /// hash of their id; give every shard the same --scan-id and they merge.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// The scan's id (its folder name) instead of the start time: shards of one scan
    /// share it (e.g. the job's name or date). [default: the start time, 20261124T063000Z]
    #[arg(long = "scan-id", value_name = "ID")]
    pub scan_id: Option<String>,
    #[command(flatten)]
    pub base: BaseFlags,
    /// Retries of a request after a 5xx, a reset or a timeout (throttling is retried
    /// within --call-timeout instead, uncounted) [default: 4, or AWS_MAX_ATTEMPTS - 1].
    /// 0 turns every retry off. A call still failing with such an error is tried once
    /// more after the account's other calls, and again by --resume.
    #[arg(long = "max-retries", alias = "max_retries")]
    pub max_retries: Option<u32>,
    /// Base delay of the retry backoff, in seconds (aws-auto-inventory's flag): the
    /// wait before retry n is random up to DELAY x 2^n, capped.
    #[arg(long = "retry-delay", alias = "retry_delay", value_name = "SECONDS", value_parser = parse_delay)]
    pub retry_delay: Option<f64>,
    /// Retry mode: standard or adaptive.
    #[arg(long = "retry-mode")]
    pub retry_mode: Option<String>,
    /// Fetch only the first page of each call.
    #[arg(long)]
    pub no_paginate: bool,
    /// The SQLite database the scan is also written to [default: <output-dir>/census.db].
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Write no SQLite database.
    #[arg(long = "no-db", conflicts_with = "db")]
    pub no_db: bool,
    /// Leave the `inventory` and `links` tables out of the databases (the calls' own
    /// tables and views are written as always): a little less work for stores that
    /// only answer per-call questions. Give it again with --resume.
    #[arg(long = "no-inventory")]
    pub no_inventory: bool,
    /// Also write the scan to this PostgreSQL database (same tables and views as
    /// census.db), e.g. postgresql://USER:PASSWORD@HOST:5432/census?sslmode=require
    /// [default: $CENSUS_POSTGRES_URL]. Several scanners may write to one database.
    #[arg(long, value_name = "URL")]
    pub postgres: Option<crate::store::postgres::PgUrl>,
    /// After the scan, upload its folder (and its census.db) here, encrypted
    /// (SSE-S3); the local files stay. A failed upload exits 1.
    #[arg(long = "s3-upload", value_name = "s3://BUCKET/PREFIX")]
    pub s3_upload: Option<String>,
    /// After the scan, write report.html into the scan folder: the page `census report
    /// html` writes, of this scan (read from its census.db, or from --postgres with
    /// --no-db). A report that cannot be written exits 1.
    #[arg(long)]
    pub html: bool,
}

/// `census doctor` flags: the scan's account, role, region and base-identity flags,
/// and how to print.
#[derive(Debug, clap::Args)]
pub struct DoctorFlags {
    #[command(flatten)]
    pub targets: TargetFlags,
    /// Regions the scan would cover instead of each account's enabled regions
    /// (space- or comma-separated): each must be enabled in every account.
    #[arg(short = 'r', long, value_delimiter = ',', num_args = 1.., value_name = "REGION")]
    pub regions: Vec<String>,
    #[command(flatten)]
    pub base: BaseFlags,
    /// Output format: table, json or csv.
    #[arg(long, default_value = "table", value_name = "FORMAT")]
    pub output: crate::util::print::Format,
    /// Accounts checked at once.
    #[arg(long, default_value_t = DOCTOR_CONCURRENCY, value_parser = positive)]
    pub concurrency: usize,
}
