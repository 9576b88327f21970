//! Command-line flags, parsed with clap: the commands, their flags and the checks of
//! single values (counts, seconds, log levels), and usage errors as one line.
//!
//! Not for running anything: [`crate::commands::run`] dispatches a parsed command line.

pub mod accounts;
pub mod call;
pub mod config;
pub mod decode;
pub mod export;
pub mod iam;
pub mod inventory;
pub mod merge;
pub mod report;
pub mod report_html;
pub mod scan;
pub mod store;

use clap::{Parser, Subcommand};

pub use report::{ReportAccountsFlags, ReportCommand};
pub use scan::{DoctorFlags, ScanFlags};

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
    /// Reports: accounts (from live AWS data), tags (from the scan database).
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
    Config(config::ConfigCommand),
    /// Print the IAM documents Census needs: the management-side policy, the member
    /// role's trust policy, and a CloudFormation template (StackSet-ready) for the
    /// member role.
    #[command(subcommand)]
    Iam(iam::IamCommand),
    /// Call one AWS operation and print its result as JSON (boto3-shaped), like the aws CLI.
    ///
    /// Service and operation names may be written as botocore/boto3 (`ec2`,
    /// `describe_instances`), CLI (`describe-instances`) or model (`DescribeInstances`)
    /// names. All pages are fetched and merged unless --no-paginate is given.
    Call(call::CallFlags),
    /// Parse a raw AWS response body with the bundled models and print what `census
    /// call` prints for that answer: the boto3-shaped JSON, or the modeled error.
    ///
    /// For debugging an answer captured with a proxy or a trace, or measuring the
    /// parsers. Give the status and headers the answer came with: the rest protocols
    /// read members, the content type and error codes from headers. Example:
    /// census decode ec2 describe-instances answer.xml;
    /// census decode lambda get-function --status 404 -H 'x-amzn-errortype: ResourceNotFoundException' body.json
    #[command(
        after_help = "Exit status: 0 decoded; 1 an error answer (the error on standard error, its boto3-shaped form on standard output, as census call reports it), or bad input (unknown service or operation, unreadable file, a body that does not parse)."
    )]
    Decode(decode::DecodeFlags),
    /// Run one SQL statement over the scan database (read-only) and print the rows.
    ///
    /// Views named <service>_<function> (ec2_describe_instances) show the latest
    /// finished scan's items, one column per top-level scalar member plus scan_id,
    /// account_id, account_name, region, resource_id and item (the JSON); the tables
    /// scans, accounts, calls and resources hold every scan. Example:
    /// census query "select InstanceId, account_name from ec2_describe_instances where region = 'eu-west-1'"
    Query(store::QueryFlags),
    /// List the resources of the scan database's inventory: every account, region and
    /// type, filtered by account, region, type and tags.
    ///
    /// One row per resource: account_id, account_name, region, resource_type,
    /// resource_id, arn, name, created, tags; sorted by account, region, type and id.
    /// Examples: census inventory --account prod-01 --type ec2:Instance;
    /// census inventory --tag Owner=payments --output csv;
    /// census inventory --type AWS::S3::Bucket --missing-tag Environment
    Inventory(inventory::InventoryFlags),
    /// Compare two scans: resources added, removed and changed (with the JSON paths
    /// that changed and their tag changes), by account, region and type.
    ///
    /// Without scan ids: the last two finished scans of the database; with one: that
    /// scan against the latest finished one. Each resource shows its ARN, resource_type
    /// (ec2:Instance) and name where the scan's inventory has them; tags compare as
    /// maps: "tag Owner: payments -> billing", "tag +Environment=prod", "tag -Team".
    Diff(store::DiffFlags),
    /// List the scans of the database, newest first, with their shards: id, status
    /// (finished, running, incomplete), start and end, accounts, calls and failures;
    /// for a sharded scan one row per shard (K/N), and the shards missing (never
    /// started) or not finished (running, killed, interrupted, failed).
    ///
    /// A sharded scan is finished when all N shards are. Each shard's own SQLite file
    /// (census.shard-2-of-4.db) holds its shard only; PostgreSQL holds them all.
    Scans(store::ScansFlags),
    /// Write the scan database's inventory to a file for other tools: a graph for
    /// Gephi, yEd, networkx, Graphviz, Cytoscape.js or Neo4j.
    #[command(
        subcommand,
        after_help = "Exit status: 0 written; 1 could not run (bad flags, no database, an output that cannot be written)."
    )]
    Export(export::ExportCommand),
    /// Merge the shards of one sharded scan (census scan --shard K/N --scan-id ID) into
    /// the scan folder and census.db an unsharded scan writes.
    ///
    /// Takes the shards' folders (scan folders, or output folders holding one scan and
    /// its census.shard-K-of-N.db files) or the S3 prefixes census scan --s3-upload
    /// filled; writes DIR/<scan-id>/ (one accounts.json, one summary.json, the account
    /// folders hard-linked or copied unchanged) and DIR/census.db. Refuses, before
    /// writing anything, shards of different scans or shard counts, a missing or
    /// unfinished shard, a folder that is not a scan folder and an output folder that
    /// is not empty (unless --force). An unsharded scan given alone is copied.
    #[command(
        after_help = "Exit status: 0 merged; 1 could not merge (the message names the folder and what is wrong; nothing is written)."
    )]
    Merge(merge::MergeFlags),
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
        /// For each list operation, the detail operations derived from the models
        /// and the parameter each takes from an item (jq on the item).
        #[arg(long, conflicts_with = "reads")]
        details: bool,
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
pub(crate) fn positive(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("0 would run nothing: give a number from 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{s:?} is not a whole number: give a number from 1")),
    }
}

/// Seconds that must be at least 1 (`--call-timeout`...).
pub(crate) fn positive_secs(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(0) => Err("0 seconds would fail everything: give whole seconds from 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{s:?} is not whole seconds: give a number from 1")),
    }
}

/// `--retry-delay`: seconds, 0 to 60, fractions allowed.
pub(crate) fn parse_delay(s: &str) -> Result<f64, String> {
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
        assert!(f.targets.accounts.org);
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
