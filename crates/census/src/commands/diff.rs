//! `census diff [SCAN_A] [SCAN_B]`: what changed from scan A to scan B, by account,
//! region and type (the view name, `ec2_describe_instances`), as a table, JSON or CSV.
//!
//! Without scan ids, B is the latest finished scan and A the one before it; with one
//! id, that scan is compared with the latest finished scan. Each row is a resource
//! added, removed or changed, with its ARN, `resource_type` (`ec2:Instance`) and name
//! where the scan's inventory has them (empty in databases older than the inventory;
//! `resource_id` is always there), the JSON paths that changed and its tag changes
//! (`tag Owner: payments -> billing`, `tag +Environment=prod`, `tag -Team`; in JSON an
//! object `{"added": {k: v}, "removed": {k: v}, "changed": {k: [old, new]}}`);
//! `--summary` counts them per account, region and type instead, with `tags_only`
//! counting the changed resources whose only change is their tags. What could not be
//! compared (calls that failed, accounts that could not be accessed, in either scan) is
//! told on stderr. See [`crate::store::diff`] for the rules, which this command only
//! prints. With `--postgres URL` (or `$CENSUS_POSTGRES_URL`) the scans are read from
//! PostgreSQL.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use anyhow::{bail, Result};

use crate::cli::store::DiffFlags;
use crate::store::diff::{postgres_diff, sqlite_diff, Change, Diff, Kind};
use crate::store::postgres::{self as pg, PgUrl};
use crate::store::sqlite::{account_name, open_read_only, scans, ScanRow};
use crate::store::views::view_name;
use crate::util::print::{Cell, Format, RowWriter};

/// The store the scans are read from.
enum Store {
    Sqlite(rusqlite::Connection),
    Postgres(Box<postgres::Client>, PgUrl),
}

impl Store {
    fn scans(&mut self) -> Result<Vec<ScanRow>> {
        Ok(match self {
            Store::Sqlite(c) => scans(c)?,
            Store::Postgres(c, url) => pg::scans(c).map_err(|e| url.error(&pg::error_text(&e)))?,
        })
    }

    fn diff(&mut self, a: &str, b: &str) -> Result<Diff> {
        Ok(match self {
            Store::Sqlite(c) => sqlite_diff(c, a, b)?,
            Store::Postgres(c, url) => {
                postgres_diff(c, a, b).map_err(|e| url.error(&pg::error_text(&e)))?
            }
        })
    }

    /// Refuses an unfinished sharded scan (unless `partial`).
    fn check_finished(&mut self, scan: &str, partial: bool) -> Result<()> {
        use crate::store::shards::{check_finished, Db};
        match self {
            Store::Sqlite(c) => check_finished(Db::Sqlite(c), scan, partial),
            Store::Postgres(c, url) => check_finished(Db::Postgres(c, url), scan, partial),
        }
    }

    fn account_name(&mut self, scan: &str, account: &str) -> Result<Option<String>> {
        Ok(match self {
            Store::Sqlite(c) => account_name(c, scan, account)?,
            Store::Postgres(c, url) => {
                pg::account_name(c, scan, account).map_err(|e| url.error(&pg::error_text(&e)))?
            }
        })
    }
}

fn known(all: &[ScanRow]) -> String {
    if all.is_empty() {
        return "none".to_string();
    }
    all.iter()
        .map(|s| {
            if s.finished.is_some() {
                s.scan_id.clone()
            } else {
                format!("{} (unfinished)", s.scan_id)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Scans A and B from the arguments.
fn pick(args: &DiffFlags, all: &[ScanRow], db: &str) -> Result<(String, String)> {
    let find = |id: &str| -> Result<String> {
        match all.iter().find(|s| s.scan_id == id) {
            Some(s) => Ok(s.scan_id.clone()),
            None => bail!("{db} has no scan {id:?}; its scans are: {}", known(all)),
        }
    };
    let finished: Vec<&ScanRow> = all.iter().filter(|s| s.finished.is_some()).collect();
    let (a, b) = match (&args.scan_a, &args.scan_b) {
        (Some(a), Some(b)) => (find(a)?, find(b)?),
        (Some(a), None) => {
            let a = find(a)?;
            match finished.iter().rev().find(|s| s.scan_id != a) {
                Some(b) => (a, b.scan_id.clone()),
                None => bail!(
                    "{db} has no finished scan to compare {a} with; its scans are: {}",
                    known(all)
                ),
            }
        }
        (None, _) => {
            if finished.len() < 2 {
                bail!(
                    "{db} holds {} finished scan(s), and diff needs two: run census scan again, or name the scans (its scans are: {})",
                    finished.len(),
                    known(all)
                );
            }
            let n = finished.len();
            (
                finished[n - 2].scan_id.clone(),
                finished[n - 1].scan_id.clone(),
            )
        }
    };
    if a == b {
        bail!("SCAN_A and SCAN_B are the same scan ({a}): name two different scans");
    }
    Ok((a, b))
}

/// Runs the diff and writes it to `out`; says on `err` what was compared.
pub fn run(args: &DiffFlags, out: impl Write, mut err: impl Write) -> Result<()> {
    let (path, postgres) = args.store.databases();
    let (mut store, db) = match &postgres {
        Some(url) => (
            Store::Postgres(Box::new(url.open_read_only()?), url.clone()),
            format!("PostgreSQL at {url}"),
        ),
        None => (
            Store::Sqlite(open_read_only(&path)?),
            path.display().to_string(),
        ),
    };
    let all = store.scans()?;
    let (a, b) = pick(args, &all, &db)?;
    for scan in [&a, &b] {
        store.check_finished(scan, args.partial)?;
    }
    let diff = store.diff(&a, &b)?;
    let mut names: HashMap<String, String> = HashMap::new();
    for c in &diff.changes {
        if !names.contains_key(&c.resource.account_id) {
            let name = match store.account_name(&b, &c.resource.account_id)? {
                Some(n) => Some(n),
                None => store.account_name(&a, &c.resource.account_id)?,
            };
            names.insert(c.resource.account_id.clone(), name.unwrap_or_default());
        }
    }
    let mut changes = diff.changes;
    /// Changes are listed by account, region, view, kind and resource.
    fn order(c: &Change) -> (&str, &str, String, Kind, &str) {
        let r = &c.resource;
        (
            &r.account_id,
            &r.region,
            view_name(&r.stem),
            c.kind,
            &r.resource_id,
        )
    }
    changes.sort_by(|x, y| order(x).cmp(&order(y)));
    let count = |k: Kind| changes.iter().filter(|c| c.kind == k).count();
    writeln!(
        err,
        "census: {a} -> {b}: {} added, {} removed, {} changed ({} only in their tags)",
        count(Kind::Added),
        count(Kind::Removed),
        count(Kind::Changed),
        changes.iter().filter(|c| c.tags_only()).count()
    )?;
    if diff.not_compared_calls > 0 || !diff.not_compared_accounts.is_empty() {
        let mut parts = Vec::new();
        if diff.not_compared_calls > 0 {
            parts.push(format!(
                "{} call(s) failed in one of the scans",
                diff.not_compared_calls
            ));
        }
        if !diff.not_compared_accounts.is_empty() {
            parts.push(format!(
                "account(s) {} could not be accessed in one of the scans",
                diff.not_compared_accounts.join(", ")
            ));
        }
        writeln!(
            err,
            "census: note: {}; their resources were not compared (calls and accounts tables say why)",
            parts.join(" and ")
        )?;
    }
    let text = |s: &str| Cell::Text(s.to_string());
    if args.summary {
        let mut groups: BTreeMap<(String, String, String), [i64; 4]> = BTreeMap::new();
        for c in &changes {
            let g = groups
                .entry((
                    c.resource.account_id.clone(),
                    c.resource.region.clone(),
                    view_name(&c.resource.stem),
                ))
                .or_default();
            g[c.kind as usize] += 1;
            g[3] += i64::from(c.tags_only());
        }
        let columns = [
            "account_id",
            "account_name",
            "region",
            "type",
            "added",
            "removed",
            "changed",
            "tags_only",
        ];
        let mut w = RowWriter::with_columns(args.store.output, &columns, out)?;
        for ((account, region, kind), n) in groups {
            let name = names.get(&account).cloned().unwrap_or_default();
            w.row(vec![
                Cell::Text(account),
                Cell::Text(name),
                Cell::Text(region),
                Cell::Text(kind),
                Cell::Int(n[0]),
                Cell::Int(n[1]),
                Cell::Int(n[2]),
                Cell::Int(n[3]),
            ])?;
        }
        w.finish()?;
        return Ok(());
    }
    let columns = [
        "change",
        "account_id",
        "account_name",
        "region",
        "type",
        "resource_type",
        "resource_id",
        "arn",
        "name",
        "paths",
        "tags",
    ];
    let maybe = |s: Option<String>| s.map_or(Cell::Null, Cell::Text);
    let json = args.store.output == Format::Json;
    let mut w = RowWriter::with_columns(args.store.output, &columns, out)?;
    for c in changes {
        let tags = if json {
            Cell::Json(c.tags.to_json())
        } else {
            Cell::List(c.tags.lines())
        };
        let (resource_type, arn, name) = match c.inventory {
            Some(i) => (Some(i.resource_type), i.arn, i.name),
            None => (None, None, None),
        };
        w.row(vec![
            text(c.kind.as_str()),
            text(&c.resource.account_id),
            text(names.get(&c.resource.account_id).map_or("", String::as_str)),
            text(&c.resource.region),
            text(&view_name(&c.resource.stem)),
            maybe(resource_type),
            text(&c.resource.resource_id),
            maybe(arn),
            maybe(name),
            Cell::List(c.paths),
            tags,
        ])?;
    }
    w.finish()?;
    Ok(())
}
