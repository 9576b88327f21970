//! `census report tags`: which resources of the scan database miss required tags (absent,
//! or with a blank value), counted per account and type, or listed one per resource
//! (`--resources`); printed as a table, JSON or CSV, or written as CSV (`-o FILE`,
//! where a cell a spreadsheet would take for a formula gets a leading `'`, as in the
//! account report; printed CSV keeps the data exact, as `census query`'s does).
//!
//! The requirements default to the account report's organization conventions
//! (`census report accounts`: Environment, and Aide_ID with its alternates AideId and
//! AIDE_ID), written `Environment,Aide_ID|AideId|AIDE_ID`: one of the alternates with a
//! value satisfies a requirement. Tag keys match exactly, else ignoring case, as the
//! account report reads them. Resources are chosen with `census inventory`'s filter
//! ([`super::inventory::Filter`]); the report reads the store only, never AWS.
//!
//! Not for account tags (the account report's) nor for fixing tags.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::{bail, Context, Result};

use serde_json::Value;

use super::inventory::{print_rows, Filter, Reader, Requirement, Row};
use crate::cli::inventory::ReportTagsFlags;
use crate::report::table::no_formula;
use crate::report::{DEFAULT_AIDE_ID_TAGS, DEFAULT_ENVIRONMENT_TAGS};
use crate::util::print::{Cell, Format, RowWriter};

/// The default requirements: the account report's Environment and Aide_ID tags.
pub fn default_requirements() -> Vec<Requirement> {
    [DEFAULT_ENVIRONMENT_TAGS, DEFAULT_AIDE_ID_TAGS]
        .iter()
        .map(|keys| Requirement {
            keys: keys.iter().map(|k| k.to_string()).collect(),
        })
        .collect()
}

/// `--require`'s requirements, or the defaults.
pub fn requirements(given: &[String]) -> Result<Vec<Requirement>> {
    if given.is_empty() {
        return Ok(default_requirements());
    }
    let mut out: Vec<Requirement> = Vec::new();
    for g in given {
        let r = Requirement::parse(g, "--require")?;
        if !out.contains(&r) {
            out.push(r);
        }
    }
    Ok(out)
}

/// The counts of one account and type.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    pub account_name: Option<String>,
    /// Resources.
    pub resources: u64,
    /// Resources missing at least one requirement.
    pub noncompliant: u64,
    /// Resources missing each requirement, in `--require`'s order.
    pub missing: Vec<u64>,
}

/// The summary: counts per (account id, type).
pub type Summary = BTreeMap<(String, String), Counts>;

/// Adds a resource to the summary; the labels of the requirements it misses.
pub fn tally(summary: &mut Summary, required: &[Requirement], row: &Row) -> Vec<String> {
    let missing = missing(required, row);
    let c = summary
        .entry((row.account_id.clone(), row.resource_type.clone()))
        .or_insert_with(|| Counts {
            account_name: row.account_name.clone(),
            missing: vec![0; required.len()],
            ..Counts::default()
        });
    c.resources += 1;
    if missing.iter().any(|m| *m) {
        c.noncompliant += 1;
    }
    for (n, m) in c.missing.iter_mut().zip(&missing) {
        *n += u64::from(*m);
    }
    labels(required, &missing)
}

/// Which requirements a resource misses, in order.
fn missing(required: &[Requirement], row: &Row) -> Vec<bool> {
    required.iter().map(|r| !r.satisfied(&row.tags)).collect()
}

/// The labels of the requirements `missing` marks.
fn labels(required: &[Requirement], missing: &[bool]) -> Vec<String> {
    required
        .iter()
        .zip(missing)
        .filter(|(_, m)| **m)
        .map(|(r, _)| r.label())
        .collect()
}

/// The per-resource columns.
const RESOURCE_COLUMNS: &[&str] = &[
    "account_id",
    "account_name",
    "region",
    "resource_type",
    "resource_id",
    "arn",
    "name",
    "missing",
];

/// The summary's columns: one `missing:<requirement>` per requirement.
fn summary_columns(required: &[Requirement]) -> Vec<String> {
    let mut c: Vec<String> = [
        "account_id",
        "account_name",
        "resource_type",
        "resources",
        "noncompliant",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    c.extend(required.iter().map(|r| format!("missing:{}", r.label())));
    c
}

/// Text as a cell; `defuse`: with a `'` before what a spreadsheet would take for a
/// formula (the report file, as `census report accounts` writes its own).
fn text(s: String, defuse: bool) -> Cell {
    if defuse {
        Cell::Text(no_formula(&s).into_owned())
    } else {
        Cell::Text(s)
    }
}

fn opt(s: Option<String>, defuse: bool) -> Cell {
    s.map_or(Cell::Null, |s| text(s, defuse))
}

/// Reads the rows and writes the report to `out` in `format`; the summary over every
/// resource read, for the closing note.
fn write_report(
    reader: &mut Reader,
    filter: &Filter,
    required: &[Requirement],
    resources: bool,
    format: Format,
    defuse: bool,
    out: &mut dyn Write,
) -> Result<Summary> {
    let mut summary = Summary::new();
    if resources {
        // Counted on the pass that prints (a table is read twice).
        let text = |s: &str| Value::from(if defuse { no_formula(s) } else { s.into() });
        let opt = |s: &Option<String>| s.as_deref().map_or(Value::Null, text);
        print_rows(
            reader,
            filter,
            format,
            RESOURCE_COLUMNS,
            u64::MAX,
            out,
            |row, printing| {
                let missing = if printing {
                    tally(&mut summary, required, row)
                } else {
                    labels(required, &missing(required, row))
                };
                if missing.is_empty() {
                    return None;
                }
                Some(vec![
                    text(&row.account_id),
                    opt(&row.account_name),
                    text(&row.region),
                    text(&row.resource_type),
                    text(&row.resource_id),
                    opt(&row.arn),
                    opt(&row.name),
                    Value::from(missing),
                ])
            },
        )?;
        return Ok(summary);
    }
    reader.rows(filter, |row| {
        tally(&mut summary, required, &row);
        Ok(true)
    })?;
    let mut w = RowWriter::new(format, summary_columns(required), out)?;
    for ((account, kind), c) in &summary {
        let mut cells = vec![
            text(account.clone(), defuse),
            opt(c.account_name.clone(), defuse),
            text(kind.clone(), defuse),
            Cell::Int(c.resources as i64),
            Cell::Int(c.noncompliant as i64),
        ];
        cells.extend(c.missing.iter().map(|n| Cell::Int(*n as i64)));
        w.row(cells)?;
    }
    w.finish()?;
    Ok(summary)
}

/// Runs `census report tags`: the report to `out` (or to `-o FILE`), a note to `err`.
pub fn run(args: &ReportTagsFlags, mut out: impl Write, mut err: impl Write) -> Result<()> {
    let required = requirements(&args.require)?;
    if required.is_empty() {
        bail!("--require names no tag: give tag keys such as Environment,Owner");
    }
    let filter = Filter::from_flags(&args.filter, &[])?;
    let mut reader = Reader::open(&args.store)?;
    let summary = match &args.out {
        Some(path) => {
            let mut result = None;
            crate::util::fs::write_atomic_with(path, |w| {
                let r = write_report(
                    &mut reader,
                    &filter,
                    &required,
                    args.resources,
                    Format::Csv,
                    true,
                    w,
                );
                let failed = r.as_ref().err().map(|e| format!("{e:#}"));
                result = Some(r);
                match failed {
                    Some(e) => Err(std::io::Error::other(e)),
                    None => Ok(()),
                }
            })
            .or_else(|e| match result.take() {
                // The report's own error, not the file's.
                Some(Err(report)) => Err(report),
                _ => Err(anyhow::Error::new(e))
                    .with_context(|| format!("-o {}: cannot write the report", path.display())),
            })?;
            result.take().unwrap_or_else(|| Ok(Summary::new()))?
        }
        None => write_report(
            &mut reader,
            &filter,
            &required,
            args.resources,
            args.store.output,
            false,
            &mut out,
        )?,
    };
    let total: u64 = summary.values().map(|c| c.resources).sum();
    let noncompliant: u64 = summary.values().map(|c| c.noncompliant).sum();
    let per: Vec<String> = required
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let n: u64 = summary.values().map(|c| c.missing[i]).sum();
            format!("{} {n}", r.label())
        })
        .collect();
    let written = match &args.out {
        Some(p) => format!("; written to {}", p.display()),
        None => String::new(),
    };
    writeln!(
        err,
        "census: {noncompliant} of {total} resources miss a required tag (missing: {}){written}",
        per.join(", ")
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(account: &str, kind: &str, tags: &[(&str, &str)]) -> Row {
        Row {
            account_id: account.into(),
            account_name: Some(format!("name-{account}")),
            region: "us-east-1".into(),
            resource_type: kind.into(),
            cfn_type: None,
            resource_id: "id".into(),
            arn: None,
            name: None,
            created: None,
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn defaults_are_the_account_reports_conventions() {
        let labels: Vec<String> = requirements(&[])
            .unwrap()
            .iter()
            .map(|r| r.label())
            .collect();
        assert_eq!(labels, ["Environment", "Aide_ID|AideId|AIDE_ID"]);
        let given = requirements(&["Owner".into(), "Env|Environment".into(), "Owner".into()]);
        let labels: Vec<String> = given.unwrap().iter().map(|r| r.label()).collect();
        assert_eq!(labels, ["Owner", "Env|Environment"]);
        assert!(requirements(&["Owner|".into()]).is_err());
    }

    #[test]
    fn counts_per_account_and_type() {
        let required = requirements(&[]).unwrap();
        let mut s = Summary::new();
        let all = [("Environment", "prod"), ("AIDE_ID", "A-1")];
        assert!(tally(&mut s, &required, &row("1", "ec2:Vpc", &all)).is_empty());
        assert_eq!(
            tally(
                &mut s,
                &required,
                &row("1", "ec2:Vpc", &[("Environment", " ")])
            ),
            ["Environment", "Aide_ID|AideId|AIDE_ID"]
        );
        assert_eq!(
            tally(
                &mut s,
                &required,
                &row("2", "ec2:Vpc", &[("environment", "dev")])
            ),
            ["Aide_ID|AideId|AIDE_ID"]
        );
        let one = &s[&("1".to_string(), "ec2:Vpc".to_string())];
        assert_eq!(
            (one.resources, one.noncompliant, one.missing.clone()),
            (2, 1, vec![1, 1])
        );
        let two = &s[&("2".to_string(), "ec2:Vpc".to_string())];
        assert_eq!(
            (two.resources, two.noncompliant, two.missing.clone()),
            (1, 1, vec![0, 1])
        );
    }
}
