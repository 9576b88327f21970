//! Command-line flags, parsed with clap, and the dispatch to each command.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::cli_accounts::{parse_bool, AccountFlags, BaseFlags, RoleFlags};

/// The exit statuses, shown by `census --help` and `census scan --help`.
pub const EXIT_STATUS: &str = "\
Exit status:
  0    done: every call and account succeeded
  1    could not run: a usage error (unknown flag, bad value, missing argument), bad
       input (scan file, account list, URL), no usable credentials, or an output that
       cannot be written; the message says what and where
  2    finished with failures: the results are written, but some calls or accounts
       failed (summary.json lists them); census doctor: a check failed
  130  interrupted (Ctrl-C, SIGTERM): what was in flight is written; finish with
       census scan --resume DIR";

const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (botocore models 1.43.67)");

#[derive(Debug, Parser)]
#[command(
    name = "census",
    version = VERSION,
    about = "Inventory every AWS resource in every account and region of your AWS Organizations",
    long_about = None,
    after_help = EXIT_STATUS,
)]
pub struct Args {
    /// Log level: error, warn, info, debug, trace; aws-auto-inventory's DEBUG, INFO,
    /// WARNING, ERROR and CRITICAL too (RUST_LOG overrides).
    #[arg(
        short = 'l',
        long = "log-level",
        alias = "log_level",
        global = true,
        default_value = "warn",
        value_parser = parse_log_level,
    )]
    pub log_level: String,
    #[command(subcommand)]
    pub command: Command,
}

/// `census scan` flags. aws-auto-inventory's spellings are accepted too.
#[derive(Debug, clap::Args)]
pub struct ScanFlags {
    /// Scan file (aws-auto-inventory JSON format) or http(s) URL; repeatable.
    #[arg(short = 's', long = "scan", value_name = "FILE|URL")]
    pub scan: Vec<String>,
    /// Built-in spec: core (default when no --scan) or all.
    #[arg(long, value_name = "NAME")]
    pub preset: Vec<String>,
    #[command(flatten)]
    pub accounts: AccountFlags,
    #[command(flatten)]
    pub roles: RoleFlags,
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
    /// Also write the scan to this PostgreSQL database (same tables and views as
    /// census.db), e.g. postgresql://USER:PASSWORD@HOST:5432/census?sslmode=require
    /// [default: $CENSUS_POSTGRES_URL]. Several scanners may write to one database.
    #[arg(long, value_name = "URL")]
    pub postgres: Option<crate::store::postgres::PgUrl>,
    /// After the scan, upload its folder (and its census.db) here, encrypted
    /// (SSE-S3); the local files stay. A failed upload exits 1.
    #[arg(long = "s3-upload", value_name = "s3://BUCKET/PREFIX")]
    pub s3_upload: Option<String>,
}

/// `census doctor` flags: the scan's account, role, region and base-identity flags,
/// and how to print.
#[derive(Debug, clap::Args)]
pub struct DoctorFlags {
    #[command(flatten)]
    pub accounts: AccountFlags,
    #[command(flatten)]
    pub roles: RoleFlags,
    /// Regions the scan would cover instead of each account's enabled regions
    /// (space- or comma-separated): each must be enabled in every account.
    #[arg(short = 'r', long, value_delimiter = ',', num_args = 1.., value_name = "REGION")]
    pub regions: Vec<String>,
    #[command(flatten)]
    pub base: BaseFlags,
    /// Output format: table, json or csv.
    #[arg(long, default_value = "table", value_name = "FORMAT")]
    pub output: crate::store::output::Format,
    /// Accounts checked at once.
    #[arg(long, default_value_t = crate::doctor::DEFAULT_CONCURRENCY, value_parser = positive)]
    pub concurrency: usize,
}

/// `census report` subcommands.
#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// The account metadata report: one CSV per organization with each account's
    /// name, status, tags, the regions it has resources in and their region group.
    ///
    /// Files are named aws-<management account id>-account-metadata-report-<UTC
    /// timestamp>.csv, written to --local-dir and uploaded to --s3-bucket. Columns:
    /// Account_Id, Account_Name, Org_ID, Tenant_Name, CSP, Billing_Account_State,
    /// Region_Group, Regions, Tenant_ID, Environment, Aide_ID, Notes. `.env` keys
    /// OUTPUT_BUCKET, DYNAMO_TABLE_NAME and CROSS_ACCOUNT_ROLE_NAME give defaults.
    Accounts(ReportAccountsFlags),
}

/// `census report accounts` flags.
#[derive(Debug, clap::Args)]
pub struct ReportAccountsFlags {
    /// Report on the caller's own organization (the default when neither
    /// --org-role-arn nor --tenants-table is given).
    #[arg(long)]
    pub org: bool,
    /// Enter an organization through this role in its management account; repeatable.
    #[arg(long = "org-role-arn")]
    pub org_role_arns: Vec<String>,
    /// DynamoDB table listing the organizations, one item each [default: $DYNAMO_TABLE_NAME].
    #[arg(long = "tenants-table", value_name = "TABLE")]
    pub tenants_table: Option<String>,
    /// The tenants table's region [default: the base region].
    #[arg(long = "tenants-region")]
    pub tenants_region: Option<String>,
    /// Tenants attribute holding the organization role ARN.
    #[arg(long = "tenant-role-arn-attribute", default_value = "org_role_arn")]
    pub tenant_role_arn_attribute: String,
    /// Tenants attribute holding the management account id (used when there is no role
    /// ARN: the role is then --role-name in that account).
    #[arg(
        long = "tenant-management-account-attribute",
        default_value = "management_account_id"
    )]
    pub tenant_management_account_attribute: String,
    /// Tenants attribute holding the Tenant_Name.
    #[arg(long = "tenant-name-attribute", default_value = "tenant_name")]
    pub tenant_name_attribute: String,
    /// Tenants attribute holding the Tenant_ID.
    #[arg(long = "tenant-id-attribute", default_value = "tenant_id")]
    pub tenant_id_attribute: String,
    /// Tenant_Name for organizations not from the tenants table.
    #[arg(long = "tenant-name")]
    pub tenant_name: Option<String>,
    /// Tenant_ID for organizations not from the tenants table.
    #[arg(long = "tenant-id")]
    pub tenant_id: Option<String>,
    /// Upload the reports to this bucket, encrypted (SSE-S3) [default: $OUTPUT_BUCKET].
    #[arg(long = "s3-bucket")]
    pub s3_bucket: Option<String>,
    /// Key prefix for the reports in the bucket.
    #[arg(long = "s3-prefix")]
    pub s3_prefix: Option<String>,
    /// The bucket's region, when the identity may not ask S3 for it.
    #[arg(long = "s3-region")]
    pub s3_region: Option<String>,
    /// Where the reports are written (and kept).
    #[arg(long = "local-dir", default_value = "census-reports")]
    pub local_dir: PathBuf,
    /// Role to assume in each account [default: $CROSS_ACCOUNT_ROLE_NAME, else
    /// OrganizationAccountAccessRole].
    #[arg(long = "role-name")]
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
    /// Assume member roles from the organization role rather than from the base identity.
    #[arg(long = "chain-through-management", value_parser = parse_bool, default_value = "true", value_name = "BOOL", action = clap::ArgAction::Set)]
    pub chain_through_management: bool,
    /// Look in these regions instead of each account's enabled regions (space- or
    /// comma-separated).
    #[arg(short = 'r', long, value_delimiter = ',', num_args = 1.., value_name = "REGION")]
    pub regions: Vec<String>,
    /// Region groups: a table such as 'US=us-east-1,us-east-2;EU=eu-west-1' or a file
    /// (one NAME=regions per line, or a JSON object of lists) [default:
    /// US=us-east-1,us-east-2,us-west-1,us-west-2;UK=eu-west-2;EU=eu-north-1,eu-west-1;BR=sa-east-1].
    #[arg(long = "region-groups", value_name = "TABLE|FILE")]
    pub region_groups: Option<String>,
    /// Account tag keys for Environment, first present wins (comma-separated)
    /// [default: Environment].
    #[arg(long = "environment-tag", value_delimiter = ',')]
    pub environment_tags: Vec<String>,
    /// Account tag keys for Aide_ID, first present wins (comma-separated) [default:
    /// Aide_ID,AideId,AIDE_ID].
    #[arg(long = "aide-id-tag", value_delimiter = ',')]
    pub aide_id_tags: Vec<String>,
    /// Seconds allowed for one account; a slower account keeps its row with a note.
    #[arg(long = "account-timeout", default_value_t = crate::report::DEFAULT_ACCOUNT_TIMEOUT, value_parser = positive_secs)]
    pub account_timeout: u64,
    /// Accounts processed at once.
    #[arg(long, default_value_t = crate::report::DEFAULT_CONCURRENCY, value_parser = positive)]
    pub concurrency: usize,
    /// Shared-config profile for the base credentials.
    #[arg(long, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// Region for the base identity's own calls.
    #[arg(long)]
    pub region: Option<String>,
}

impl ScanFlags {
    /// The scan's arguments: lists without repeats, the aws-auto-inventory
    /// concurrency flags combined, `$CENSUS_POSTGRES_URL` read.
    pub fn into_args(self) -> crate::scan_cmd::ScanArgs {
        crate::scan_cmd::ScanArgs {
            scan_files: dedup(self.scan),
            presets: dedup(self.preset),
            accounts: self.accounts,
            roles: self.roles,
            base: self.base,
            regions: dedup(self.regions),
            skip: dedup(self.skip),
            concurrency: self.concurrency,
            per_account: match (self.concurrent_regions, self.concurrent_services) {
                (None, None) => None,
                (r, s) => Some(r.unwrap_or(1).saturating_mul(s.unwrap_or(1))),
            },
            call_timeout: self.call_timeout,
            account_deadline: self.account_deadline,
            output_dir: self.output_dir,
            resume: self.resume,
            shard: self.shard,
            scan_id: self.scan_id,
            max_retries: self.max_retries,
            retry_delay: self.retry_delay,
            retry_mode: self.retry_mode,
            no_paginate: self.no_paginate,
            db: self.db,
            no_db: self.no_db,
            postgres: crate::store::postgres::PgUrl::from_flag_or_env(self.postgres),
            s3_upload: self.s3_upload,
        }
    }
}

impl ReportAccountsFlags {
    pub(crate) fn into_args(self) -> crate::report::AccountsArgs {
        crate::report::AccountsArgs {
            org: self.org,
            org_role_arns: self.org_role_arns,
            tenants_table: self.tenants_table,
            tenants_region: self.tenants_region,
            tenant_columns: crate::report::tenants::Columns {
                role_arn: self.tenant_role_arn_attribute,
                management_account: self.tenant_management_account_attribute,
                tenant_name: self.tenant_name_attribute,
                tenant_id: self.tenant_id_attribute,
            },
            tenant_name: self.tenant_name,
            tenant_id: self.tenant_id,
            s3_bucket: self.s3_bucket,
            s3_prefix: self.s3_prefix,
            s3_region: self.s3_region,
            local_dir: self.local_dir,
            role_name: self.role_name,
            role_arn_template: self.role_arn_template,
            external_id: self.external_id,
            session_name: self.session_name,
            duration: self.duration,
            chain_through_management: self.chain_through_management,
            regions: dedup(self.regions),
            region_groups: self.region_groups,
            environment_tags: self.environment_tags,
            aide_id_tags: self.aide_id_tags,
            account_timeout: self.account_timeout,
            concurrency: self.concurrency,
            profile: self.profile,
            region: self.region,
        }
    }
}

// `Scan` carries every scan flag; the enum is built once per process.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan every account and region: discovery, roles, regions, calls, output files.
    #[command(after_help = EXIT_STATUS)]
    Scan(ScanFlags),
    /// Check everything a scan with the same flags needs, and say what to fix.
    ///
    /// Checks, in parallel: the base identity (sts GetCallerIdentity), Organizations
    /// (DescribeOrganization, ListAccounts, and AssumeRole into each --org-role-arn),
    /// AssumeRole into every selected account, one read call per account (ec2
    /// DescribeRegions in the base region) and each account's enabled regions against
    /// --regions. One row per check: status ok, warn, fail or skipped (a check whose
    /// prerequisite failed), the AWS error code and what to do. Exit status 0 when no
    /// check failed, 2 when one did, 1 for bad flags.
    Doctor(DoctorFlags),
    /// Reports built from live AWS data.
    #[command(
        subcommand,
        after_help = "Exit status: 0 every report written; 1 could not run (bad flags, no credentials, a failed upload); 2 written, but some accounts or organizations could not be read (their rows carry a note)."
    )]
    Report(ReportCommand),
    /// Configuration files for other tools, one entry per account: AWS CLI profiles,
    /// a Steampipe aws.spc, Cartography's profile file.
    #[command(
        subcommand,
        after_help = "Exit status: 0 written; 1 could not run (bad flags, no credentials, an output that exists without --force); 2 written, but discovery had problems, or --check-conflicts found names already in use."
    )]
    Config(crate::config::ConfigCommand),
    /// Print the IAM documents Census needs: the management-side policy, the member
    /// role's trust policy, and a CloudFormation template (StackSet-ready) for the
    /// member role.
    #[command(subcommand)]
    Iam(crate::iam::IamCommand),
    /// Call one AWS operation and print its result as JSON (boto3-shaped), like the aws CLI.
    ///
    /// Service and operation names may be written as botocore/boto3 (`ec2`,
    /// `describe_instances`), CLI (`describe-instances`) or model (`DescribeInstances`)
    /// names. All pages are fetched and merged unless --no-paginate is given.
    Call {
        /// Service name, e.g. ec2, s3, sts, resourcegroupstaggingapi.
        service: String,
        /// Operation name, e.g. describe-instances, DescribeInstances, describe_instances.
        operation: String,
        /// Parameters as a JSON object, e.g. '{"MaxResults": 5}'.
        #[arg(long, value_name = "JSON")]
        param: Option<String>,
        /// Read the parameters (a JSON object) from a file.
        #[arg(long, value_name = "FILE", conflicts_with = "param")]
        param_file: Option<String>,
        /// Region to call (default: AWS_REGION or the profile's region).
        #[arg(long)]
        region: Option<String>,
        /// Shared-config profile to take credentials from.
        #[arg(long, env = "AWS_PROFILE")]
        profile: Option<String>,
        /// Make one request only instead of fetching and merging every page.
        #[arg(long)]
        no_paginate: bool,
        /// Allow an operation that is not a plain read (Create*, Delete*, Terminate*...)
        /// or whose answer holds secrets (sts get_session_token, secretsmanager
        /// get_secret_value...): refused without it.
        #[arg(long)]
        allow_write: bool,
    },
    /// Run one SQL statement over the scan database (read-only) and print the rows.
    ///
    /// Views named <service>_<function> (ec2_describe_instances) show the latest
    /// finished scan's items, one column per top-level scalar member plus scan_id,
    /// account_id, account_name, region, resource_id and item (the JSON); the tables
    /// scans, accounts, calls and resources hold every scan. Example:
    /// census query "select InstanceId, account_name from ec2_describe_instances where region = 'eu-west-1'"
    Query {
        /// The SQL statement (SQLite dialect, JSON1 functions; PostgreSQL's with --postgres).
        #[arg(value_name = "SQL", required_unless_present = "tables")]
        sql: Option<String>,
        /// List the tables and views with their row counts.
        #[arg(long, conflicts_with = "sql")]
        tables: bool,
        /// The database [default: census-out/census.db].
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
        /// Query this PostgreSQL database instead [default: $CENSUS_POSTGRES_URL unless
        /// --db is given].
        #[arg(long, value_name = "URL", conflicts_with = "db")]
        postgres: Option<crate::store::postgres::PgUrl>,
        /// Output format: table, json or csv.
        #[arg(long, default_value = "table", value_name = "FORMAT")]
        output: crate::store::output::Format,
        /// Stop the statement after this many seconds.
        #[arg(long, default_value_t = 60, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
        timeout: u64,
    },
    /// Compare two scans: resources added, removed and changed (with the JSON paths
    /// that changed), by account, region and type.
    ///
    /// Without scan ids: the last two finished scans of the database; with one: that
    /// scan against the latest finished one.
    Diff {
        /// The earlier scan id (e.g. 20261124T063000Z).
        scan_a: Option<String>,
        /// The later scan id.
        scan_b: Option<String>,
        /// The database [default: census-out/census.db].
        #[arg(long, value_name = "PATH")]
        db: Option<PathBuf>,
        /// Read the scans from this PostgreSQL database instead [default:
        /// $CENSUS_POSTGRES_URL unless --db is given].
        #[arg(long, value_name = "URL", conflicts_with = "db")]
        postgres: Option<crate::store::postgres::PgUrl>,
        /// Output format: table, json or csv.
        #[arg(long, default_value = "table", value_name = "FORMAT")]
        output: crate::store::output::Format,
        /// Count the changes per account, region and type instead of listing them.
        #[arg(long)]
        summary: bool,
    },
    /// List the AWS services in the bundled models.
    Services {
        /// Only services speaking this protocol (query, ec2, json, rest-json, rest-xml, ...).
        #[arg(long)]
        protocol: Option<String>,
    },
    /// List the operations of a service (model PascalCase and boto3 snake_case names).
    Operations {
        /// Service name: botocore name (ec2), CLI name or serviceId.
        service: String,
        /// Only read operations (List*, Describe*, Get*).
        #[arg(long)]
        reads: bool,
    },
}

/// Parses the process arguments. `--help` and `--version` print and exit 0; a usage
/// error (unknown flag, bad value, missing argument) prints one line naming the problem
/// and exits 1: 2 means "finished with failures", never "could not start".
pub fn parse() -> Args {
    // `.env` first, so that flags with an environment default (ORG_ROLE_NAME,
    // AWS_PROFILE, ...) see its values too.
    crate::auth::load_dotenv();
    match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                std::process::exit(0);
            }
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                // `census` or `census report` alone: the help, on stderr, as an error.
                eprint!("{}", e.render());
                std::process::exit(1);
            }
            eprintln!("census: error: {}", usage_error_line(&e));
            std::process::exit(1);
        }
    }
}

/// clap's error as one line: its first line, with the command's help to read.
fn usage_error_line(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let mut lines = rendered.lines().skip_while(|l| l.trim().is_empty());
    let mut first = lines
        .next()
        .unwrap_or("invalid arguments")
        .trim_start_matches("error: ")
        .trim_end()
        .to_string();
    // "the following required arguments were not provided:" lists them below.
    if first.ends_with(':') {
        let listed: Vec<&str> = lines
            .take_while(|l| l.starts_with("  "))
            .map(str::trim)
            .collect();
        first = format!("{} {}", first, listed.join(", "));
    }
    let tip = rendered
        .lines()
        .find_map(|l| l.trim().strip_prefix("tip: "))
        .map(|t| format!("; {t}"))
        .unwrap_or_default();
    format!("{first}{tip} (see {} --help)", command_path())
}

/// `census scan`, `census report accounts`...: the subcommands named on the command
/// line, for the help hint of a usage error.
fn command_path() -> String {
    use clap::CommandFactory;
    let mut cmd = Args::command();
    let mut path = String::from("census");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if matches!(a.as_str(), "-l" | "--log-level" | "--log_level") {
            args.next();
            continue;
        }
        if a.starts_with('-') {
            continue;
        }
        match cmd.find_subcommand(&a) {
            Some(sub) => {
                path.push(' ');
                path.push_str(sub.get_name());
                cmd = sub.clone();
            }
            None => break,
        }
    }
    path
}

/// The log levels `--log-level` takes, case-insensitively: tracing's, and the Python
/// logging names aws-auto-inventory's `--log_level` takes (WARNING, CRITICAL).
fn parse_log_level(s: &str) -> Result<String, String> {
    let level = match s.to_ascii_lowercase().as_str() {
        "error" | "critical" | "fatal" => "error",
        "warn" | "warning" => "warn",
        "info" => "info",
        "debug" => "debug",
        "trace" => "trace",
        "off" => "off",
        _ => {
            return Err(format!(
                "{s:?} is not a log level: use error, warn, info, debug or trace"
            ))
        }
    };
    Ok(level.to_string())
}

/// A count that must be at least 1 (`--concurrency`...).
fn positive(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("0 would run nothing: give a number from 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{s:?} is not a whole number: give a number from 1")),
    }
}

/// Seconds that must be at least 1 (`--call-timeout`...).
fn positive_secs(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(0) => Err("0 seconds would fail everything: give whole seconds from 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{s:?} is not whole seconds: give a number from 1")),
    }
}

/// `--retry-delay`: seconds, 0 to 60, fractions allowed.
fn parse_delay(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(d) if (0.0..=60.0).contains(&d) => Ok(d),
        _ => Err(format!(
            "{s:?} is not a delay: give seconds from 0 to 60, such as 2 or 0.5"
        )),
    }
}

/// The values of a list flag without repeats, first occurrence kept in place: a region
/// or account given twice is scanned once.
pub fn dedup(values: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    values
        .into_iter()
        .map(|v| v.trim().to_string())
        .filter(|v| seen.insert(v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }

    #[test]
    fn log_levels_in_both_spellings() {
        for (given, level) in [
            ("warn", "warn"),
            ("WARNING", "warn"),
            ("INFO", "info"),
            ("Debug", "debug"),
            ("CRITICAL", "error"),
            ("trace", "trace"),
        ] {
            assert_eq!(parse_log_level(given).unwrap(), level);
        }
        assert!(parse_log_level("loud").unwrap_err().contains("loud"));
    }

    #[test]
    fn regions_space_or_comma_separated_and_repeats_dropped() {
        let a = Args::try_parse_from([
            "census",
            "scan",
            "--regions",
            "us-east-1",
            "us-west-2",
            "-r",
            "eu-west-1,us-east-1",
            "--org",
        ])
        .unwrap();
        let Command::Scan(f) = a.command else {
            panic!("not scan")
        };
        assert!(f.accounts.org);
        assert_eq!(dedup(f.regions), ["us-east-1", "us-west-2", "eu-west-1"]);
        for bad in [
            &["census", "scan", "--concurrency", "0"][..],
            &["census", "scan", "--call-timeout", "0"],
            &["census", "-l", "loud", "scan"],
        ] {
            assert!(Args::try_parse_from(bad).is_err(), "{bad:?}");
        }
    }
}
