//! `census inventory`: the resources of the store's `inventory` table, filtered the way
//! people ask ("everything in account X", "every ec2 instance tagged Owner=payments",
//! "every resource without an Environment tag"), printed as a table, JSON or CSV.
//!
//! Also what `census report tags` shares: the filter (`filter.rs`, [`Filter`]: the
//! flags checked once, a type without its service or a tag filter without its key is
//! one line and exit 1), the reading (`read.rs`, [`Reader::rows`]: accounts, regions,
//! types and the scan selected in SQL with bound parameters, tags checked over the
//! streamed rows, keys exactly, else ignoring case, as the account report reads account
//! tags) and the printing ([`print_rows`], here).
//! Rows come sorted by account, region, type and id, and are written as they come
//! ([`print_rows`]); a table, which must know its column widths before its first line,
//! reads the store twice rather than hold the rows.
//!
//! Without `--scan`, each list call's rows of its latest scan, as the view
//! `inventory_latest` shows them; the latest scan per call is picked once in the
//! statement, not once per row as in the view, which keeps the command fast on large
//! stores. Not for the links between resources, nor for writing the store.

mod filter;
mod read;

use std::io::Write;

use anyhow::Result;
use serde_json::Value;

pub use filter::{tag_value, Filter, Requirement, TagFilter, Tags, TypeSpec};
pub use read::{Reader, Row};

use crate::cli::inventory::InventoryFlags;
use crate::util::print::{escape, Format};

/// The columns `census inventory` prints.
pub const COLUMNS: &[&str] = &[
    "account_id",
    "account_name",
    "region",
    "resource_type",
    "resource_id",
    "arn",
    "name",
    "created",
    "tags",
];

/// Whether a row is in account `given` (an id, or a name in lower case).
fn in_account(row: &Row, given: &str) -> bool {
    row.account_id.to_lowercase() == given
        || row
            .account_name
            .as_deref()
            .is_some_and(|n| n.to_lowercase() == given)
}

/// `tags` as JSON text, keys in order.
pub fn tags_text(tags: &Tags) -> String {
    serde_json::to_string(tags).unwrap_or_else(|_| "{}".into())
}

/// A value as table and CSV text: nothing for null, a string as it is, a list of
/// strings joined with `, `, anything else (tags) as JSON text.
fn shown(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(a) if a.iter().all(Value::is_string) => a
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// `census inventory`'s values of a row, in [`COLUMNS`]' order.
pub fn inventory_values(r: &Row) -> Vec<Value> {
    vec![
        Value::from(r.account_id.as_str()),
        Value::from(r.account_name.as_deref()),
        Value::from(r.region.as_str()),
        Value::from(r.resource_type.as_str()),
        Value::from(r.resource_id.as_str()),
        Value::from(r.arn.as_deref()),
        Value::from(r.name.as_deref()),
        Value::from(r.created.as_deref()),
        serde_json::to_value(&r.tags).unwrap_or_default(),
    ]
}

/// One table line: cells padded to `widths`, two spaces apart, trailing blanks cut.
fn table_line(cells: &[String], widths: &[usize]) -> String {
    let mut s = String::new();
    for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
        if i > 0 {
            s.push_str("  ");
        }
        s.push_str(c);
        s.push_str(&" ".repeat(w.saturating_sub(c.chars().count())));
    }
    s.truncate(s.trim_end().len());
    s.push('\n');
    s
}

/// Streams the rows `filter` selects and prints, in `format`, at most `limit` of
/// those `values` gives values for (in `columns`' order; `None` leaves a row out).
/// CSV and JSON are written as rows come; a table is read twice from the store, the
/// first pass measuring its columns, so that no row is held however many there are
/// (`values` is told which pass prints). Table cells show control characters escaped
/// ([`escape`]); JSON and CSV keep the data exact. Returns the rows printed.
pub fn print_rows(
    reader: &mut Reader,
    filter: &Filter,
    format: Format,
    columns: &[&str],
    limit: u64,
    out: &mut dyn Write,
    mut values: impl FnMut(&Row, bool) -> Option<Vec<Value>>,
) -> Result<u64> {
    let mut printed = 0u64;
    match format {
        Format::Table => {
            let mut widths: Vec<usize> =
                columns.iter().map(|c| escape(c).chars().count()).collect();
            let mut measured = 0u64;
            reader.rows(filter, |row| {
                if let Some(v) = values(&row, false) {
                    for (w, v) in widths.iter_mut().zip(&v) {
                        *w = (*w).max(escape(&shown(v)).chars().count());
                    }
                    measured += 1;
                }
                Ok(measured < limit)
            })?;
            let header: Vec<String> = columns.iter().map(|c| escape(c).into_owned()).collect();
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            out.write_all(table_line(&header, &widths).as_bytes())?;
            out.write_all(table_line(&rule, &widths).as_bytes())?;
            let mut w = std::io::BufWriter::new(&mut *out);
            reader.rows(filter, |row| {
                if let Some(v) = values(&row, true) {
                    let cells: Vec<String> =
                        v.iter().map(|v| escape(&shown(v)).into_owned()).collect();
                    w.write_all(table_line(&cells, &widths).as_bytes())?;
                    printed += 1;
                }
                Ok(printed < limit)
            })?;
            w.flush()?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            w.write_record(columns)?;
            reader.rows(filter, |row| {
                if let Some(v) = values(&row, true) {
                    w.write_record(v.iter().map(shown))?;
                    printed += 1;
                }
                Ok(printed < limit)
            })?;
            w.flush()?;
        }
        Format::Json => {
            let mut w = std::io::BufWriter::new(&mut *out);
            w.write_all(b"[")?;
            reader.rows(filter, |row| {
                if let Some(v) = values(&row, true) {
                    let o: serde_json::Map<String, Value> =
                        columns.iter().map(|c| c.to_string()).zip(v).collect();
                    w.write_all(if printed == 0 { b"\n  " } else { b",\n  " })?;
                    serde_json::to_writer(&mut w, &o)?;
                    printed += 1;
                }
                Ok(printed < limit)
            })?;
            w.write_all(if printed == 0 { b"]\n" } else { b"\n]\n" })?;
            w.flush()?;
        }
    }
    out.flush()?;
    Ok(printed)
}

/// Runs `census inventory`: the rows to `out`, notes to `err`.
pub fn run(args: &InventoryFlags, mut out: impl Write, mut err: impl Write) -> Result<()> {
    let filter = Filter::from_flags(&args.filter, &args.missing_tags)?;
    let given_types = crate::cli::dedup(args.filter.types.clone());
    let mut reader = Reader::open(&args.store)?;
    let mut seen = vec![false; filter.types.len()];
    let mut seen_accounts = vec![false; filter.accounts.len()];
    let limit = args.limit.unwrap_or(u64::MAX);
    print_rows(
        &mut reader,
        &filter,
        args.store.output,
        COLUMNS,
        limit,
        &mut out,
        |row, printing| {
            if printing {
                for (spec, seen) in filter.types.iter().zip(seen.iter_mut()) {
                    *seen = *seen || spec.matches(&row.resource_type, row.cfn_type.as_deref());
                }
                for (given, seen) in filter.accounts.iter().zip(seen_accounts.iter_mut()) {
                    *seen = *seen || in_account(row, given);
                }
            }
            Some(inventory_values(row))
        },
    )?;
    reader.tell_unknown_types(&filter, &given_types, &seen, &mut err)?;
    reader.tell_unknown_accounts(&filter, &seen_accounts, &mut err)?;
    Ok(())
}

#[cfg(test)]
mod tests;
