//! The commands: [`run`] sets up logging, builds the one tokio runtime for the commands
//! that call AWS, and hands each subcommand to its module ([`scan`], [`query`],
//! [`diff`], [`inventory`], [`doctor`], [`call`], [`decode`], and [`tags`] for `report tags`;
//! `report accounts`, `config` and `iam` live in [`crate::report`] and
//! [`crate::configgen`]).
//!
//! Not for the flags themselves (see [`crate::cli`]) nor for the stages a command
//! drives (discovery, the scan, the sinks).

pub mod call;
pub mod decode;
pub mod diff;
pub mod doctor;
pub mod export;
pub mod inventory;
pub mod merge;
pub mod plan;
pub mod query;
pub mod scan;
mod scan_accounts;
pub mod scans;
pub mod tags;

use std::future::Future;
use std::io::Write;
use std::process::ExitCode;

use anyhow::{bail, Result};

use crate::cli::{Args, Command, ReportCommand};

/// Runs the command `args` names; the exit status, or the error `main` prints.
pub fn run(args: Args) -> Result<ExitCode> {
    init_logging(&args.log_level);
    let mut out = std::io::stdout().lock();
    let code = match args.command {
        Command::Scan(f) => block_on(scan::run(f))??,
        Command::Doctor(f) => block_on(async {
            f.base.check().await?;
            f.targets.roles.check_token_file()?;
            doctor::run(f, &mut out).await
        })??,
        Command::Report(ReportCommand::Accounts(f)) => block_on(async {
            f.base.check().await?;
            crate::report::run_accounts(f).await
        })??,
        Command::Report(ReportCommand::Html(f)) => {
            crate::report::html::run(&f, std::io::stderr())?;
            0
        }
        Command::Report(ReportCommand::Tags(f)) => {
            tags::run(&f, &mut out, std::io::stderr())?;
            0
        }
        Command::Config(c) => block_on(async {
            let common = c.common();
            common.base.check().await?;
            common.targets.roles.check_token_file()?;
            crate::configgen::run(c).await
        })??,
        Command::Iam(c) => {
            crate::configgen::iam::run(c, &mut out)?;
            0
        }
        Command::Call(f) => {
            let value = block_on(call::run(f))??;
            serde_json::to_writer_pretty(&mut out, &value)?;
            writeln!(out)?;
            0
        }
        Command::Decode(f) => {
            decode::run(&f, &mut out)?;
            0
        }
        Command::Query(f) => {
            query::run(&f, &mut out)?;
            0
        }
        Command::Inventory(f) => {
            inventory::run(&f, &mut out, std::io::stderr())?;
            0
        }
        Command::Diff(f) => {
            diff::run(&f, &mut out, std::io::stderr())?;
            0
        }
        Command::Scans(f) => {
            scans::run(&f, &mut out)?;
            0
        }
        Command::Export(crate::cli::export::ExportCommand::Graph(f)) => {
            export::run(&f, std::io::stderr())?;
            0
        }
        Command::Merge(f) => block_on(merge::run(f))??,
        Command::Services { protocol } => {
            services(protocol.as_deref(), &mut out)?;
            0
        }
        Command::Operations {
            service,
            details: true,
            ..
        } => {
            derived_details(&service, &mut out)?;
            0
        }
        Command::Operations { service, reads, .. } => {
            operations(&service, reads, &mut out)?;
            0
        }
    };
    Ok(ExitCode::from(code))
}

/// Runs `work` on the process's tokio runtime, built here and only here (a command
/// runs once per process). The offline commands (query, diff...) run without one:
/// the PostgreSQL client starts its own.
fn block_on<F: Future>(work: F) -> Result<F::Output> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(work))
}

/// `census services`: the bundled services, optionally of one protocol.
fn services(protocol: Option<&str>, out: &mut impl Write) -> Result<()> {
    for s in awsdyn::model::services() {
        if protocol.is_some_and(|p| p != s.protocol) {
            continue;
        }
        writeln!(out, "{:40} {:10} {}", s.name, s.protocol, s.service_id)?;
    }
    Ok(())
}

/// `census operations`: a service's operations, optionally only the reads.
fn operations(service: &str, reads: bool, out: &mut impl Write) -> Result<()> {
    let model = awsdyn::model::load(service)?;
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
    Ok(())
}

/// `census operations --details`: each list operation, where its items are, and the
/// detail operations derived for it with the parameters they take from an item.
fn derived_details(service: &str, out: &mut impl Write) -> Result<()> {
    let model = awsdyn::model::load(service)?;
    let derived = crate::spec::derive::derive(&model);
    if derived.is_empty() {
        bail!("service {} has no list operations", model.name);
    }
    for d in derived {
        let item = if d.scalar { "scalar " } else { "" };
        writeln!(
            out,
            "{} ({}) items .{}[] ({item}{})",
            d.list,
            awsdyn::names::snake_case(&d.list),
            d.result_key,
            d.item_shape
        )?;
        if d.details.is_empty() {
            writeln!(out, "    (no detail derived)")?;
        }
        for x in d.details {
            let params: Vec<String> = x
                .parameters
                .iter()
                .map(|(member, path)| format!("{member} <- {path}"))
                .collect();
            let whose = if x.own { "" } else { "  (related)" };
            writeln!(out, "    {:50} {}{whose}", x.operation, params.join(", "))?;
        }
    }
    Ok(())
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("census={level},awsdyn={level}"))
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(log_colour(
            std::io::IsTerminal::is_terminal(&std::io::stderr()),
            std::env::var_os("NO_COLOR").as_deref(),
        ))
        .with_target(false)
        .try_init();
}

/// Colour in log lines only on a terminal, and never when `NO_COLOR` is set to
/// anything but the empty string (<https://no-color.org>).
fn log_colour(stderr_is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    stderr_is_terminal && no_color.is_none_or(|v| v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn operations_details_prints_mappings() {
        let mut out = Vec::new();
        derived_details("s3", &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("ListBuckets (list_buckets) items .Buckets[] (Bucket)\n"),
            "{text}"
        );
        assert!(text
            .lines()
            .any(|l| l.starts_with("    GetBucketEncryption ") && l.ends_with(" Bucket <- .Name")));
        let mut out = Vec::new();
        derived_details("dynamodb", &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("ListTables (list_tables) items .TableNames[] (scalar TableName)\n"));
        assert!(derived_details("no-such-service", &mut Vec::new()).is_err());
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(log_colour(true, None));
        assert!(log_colour(true, Some(OsStr::new(""))));
        assert!(!log_colour(true, Some(OsStr::new("1"))));
        assert!(!log_colour(false, None));
        assert!(!log_colour(false, Some(OsStr::new("1"))));
    }
}
