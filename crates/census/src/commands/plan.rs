//! `census scan --plan`: what a scan with these flags would call, entry by entry of its
//! scan files and presets, decided from the files and the bundled models alone (no
//! AWS access, nothing written). Each entry runs as written, runs as a detail of a
//! list call, or is left out with its reason ([`crate::spec::Fate`]).

use std::io::Write;

use anyhow::{bail, Result};
use serde_json::json;

use crate::cli::ScanFlags;
use crate::spec::{fate_counts, Fate, Planned};
use crate::util::print::{Cell, Format, RowWriter};

/// Prints the plan; 0 when the spec loads (its problems are the error otherwise).
pub async fn run(args: &ScanFlags) -> Result<u8> {
    if args.resume.is_some() {
        bail!("--plan and --resume: a resumed scan makes the calls its plan.json lists; leave out --plan");
    }
    let skip = crate::spec::Skip::parse(&args.skip).map_err(anyhow::Error::msg)?;
    let mut spec = super::scan::load_spec(args, args.strict).await?;
    mark_skipped(&mut spec, &skip);
    let format = args.output.unwrap_or_default();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        Format::Json => {
            let counts: serde_json::Map<String, serde_json::Value> = fate_counts(&spec.planned)
                .into_iter()
                .map(|(f, n)| (fate_name(f), json!(n)))
                .collect();
            let doc = json!({
                "entries": spec.planned,
                "counts": counts,
                "calls": spec.calls.len(),
                "details": spec.calls.iter().map(|c| c.details.len()).sum::<usize>(),
            });
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        Format::Table | Format::Csv => {
            let mut rows = RowWriter::with_columns(
                format,
                &["entry", "service", "function", "fate", "note"],
                &mut out,
            )?;
            for p in &spec.planned {
                rows.row(vec![
                    Cell::Text(p.origin.clone()),
                    Cell::Text(p.service.clone()),
                    Cell::Text(p.function.clone()),
                    Cell::Text(p.fate.label().to_string()),
                    Cell::Text(p.note.clone()),
                ])?;
            }
            rows.finish()?;
            if format == Format::Table {
                writeln!(out, "{}", summary_line(&spec.planned, spec.calls.len()))?;
            }
        }
    }
    out.flush()?;
    Ok(0)
}

/// Notes the entries `--skip` leaves out (they keep their fate).
fn mark_skipped(spec: &mut crate::spec::Spec, skip: &crate::spec::Skip) {
    let mut skipped = std::collections::HashSet::new();
    for c in &spec.calls {
        if skip.skips(c) {
            skipped.insert((c.service.clone(), c.function.clone()));
        }
        for d in &c.details {
            if skip.skips(c) || skip.skips_operation(&d.service, &d.operation) {
                skipped.insert((d.service.clone(), d.function.clone()));
            }
        }
    }
    for p in &mut spec.planned {
        let runs = matches!(p.fate, Fate::Runs | Fate::Detail);
        if runs && skipped.contains(&(p.service.clone(), p.function.clone())) {
            p.note = if p.note.is_empty() {
                "left out by --skip".to_string()
            } else {
                format!("{}; left out by --skip", p.note)
            };
        }
    }
}

/// A fate as JSON names it (`runs`, `detail`, `helper`, ...).
fn fate_name(f: Fate) -> String {
    serde_json::to_value(f)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// `12 entries: 3 run as written, 5 as details, 2 boto3 helpers left out, 2 left out
/// with a reason (1 retired, 1 unfillable); 6 calls`.
pub fn summary_line(planned: &[Planned], calls: usize) -> String {
    let counts = fate_counts(planned);
    let n = |f: Fate| counts.get(&f).copied().unwrap_or(0);
    let reasons: Vec<String> = counts
        .iter()
        .filter(|(f, n)| f.skipped_with_reason() && **n > 0)
        .map(|(f, n)| format!("{n} {}", f.label()))
        .collect();
    let skipped: usize = counts
        .iter()
        .filter(|(f, _)| f.skipped_with_reason())
        .map(|(_, n)| n)
        .sum();
    format!(
        "{} entries: {} run as written, {} as details of a list call, {} boto3 helpers left out, {} left out with a reason{}; {calls} calls (list calls added included)",
        planned.len(),
        n(Fate::Runs),
        n(Fate::Detail),
        n(Fate::Helper),
        skipped,
        if reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", reasons.join(", "))
        }
    )
}
