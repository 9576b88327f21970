//! Command-line flags, parsed with clap, and the dispatch to each command.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::{Parser, Subcommand};

const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (botocore models 1.43.67)");

#[derive(Debug, Parser)]
#[command(
    name = "census",
    version = VERSION,
    about = "Inventory every AWS resource in every account and region of your AWS Organizations",
    long_about = None,
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
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
/// error prints one line naming the problem and exits 2.
pub fn parse() -> Args {
    match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
                || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            {
                let _ = e.print();
                std::process::exit(
                    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                        2
                    } else {
                        0
                    },
                );
            }
            let rendered = e.render().to_string();
            let first = rendered
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ");
            eprintln!("census: error: {first} (see census --help)");
            std::process::exit(2);
        }
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    crate::auth::load_dotenv();
    let mut out = std::io::stdout().lock();
    match args.command {
        Command::Call {
            service,
            operation,
            param,
            param_file,
            region,
            profile,
            no_paginate,
        } => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let value = rt.block_on(crate::call::run(crate::call::CallArgs {
                service,
                operation,
                param,
                param_file,
                region,
                profile,
                no_paginate,
            }))?;
            serde_json::to_writer_pretty(&mut out, &value)?;
            writeln!(out)?;
        }
        Command::Services { protocol } => {
            for s in awsdyn::model::services() {
                if protocol.as_deref().is_some_and(|p| p != s.protocol) {
                    continue;
                }
                writeln!(out, "{:40} {:10} {}", s.name, s.protocol, s.service_id)?;
            }
        }
        Command::Operations { service, reads } => {
            let model = awsdyn::model::load(&service)?;
            let mut n = 0;
            for op in model.operations.values() {
                let read = ["List", "Describe", "Get"]
                    .iter()
                    .any(|p| op.name.starts_with(p));
                if reads && !read {
                    continue;
                }
                n += 1;
                writeln!(
                    out,
                    "{:50} {}",
                    op.name,
                    awsdyn::names::snake_case(&op.name)
                )?;
            }
            if n == 0 {
                bail!("service {} has no matching operations", model.name);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
