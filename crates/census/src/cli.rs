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
                std::process::exit(if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand { 2 } else { 0 });
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
    let mut out = std::io::stdout().lock();
    match args.command {
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
                let read = ["List", "Describe", "Get"].iter().any(|p| op.name.starts_with(p));
                if reads && !read {
                    continue;
                }
                n += 1;
                writeln!(out, "{:50} {}", op.name, awsdyn::names::snake_case(&op.name))?;
            }
            if n == 0 {
                bail!("service {} has no matching operations", model.name);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
