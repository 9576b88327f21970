//! `census scans`: the scans of the store, newest first, with their shards (see
//! [`crate::store::shards`]): a table with one row per scan and, for a sharded scan,
//! one row per shard (`1/3`), missing shards included; or JSON, one object per scan
//! with its `shards`.

use std::io::Write;

use anyhow::Result;

use crate::cli::store::ScansFlags;
use crate::store::shards::{self, Db, ScanState};
use crate::store::sqlite::open_read_only;
use crate::util::print::{Cell, Format, RowWriter};

/// Lists the scans to `out`.
pub fn run(args: &ScansFlags, mut out: impl Write) -> Result<()> {
    let (path, postgres) = args.store.databases();
    let all = match &postgres {
        Some(url) => {
            let mut client = url.open_read_only()?;
            shards::load(Db::Postgres(&mut client, url))?
        }
        None => shards::load(Db::Sqlite(&open_read_only(&path)?))?,
    };
    if args.store.output == Format::Json {
        let list: Vec<serde_json::Value> = all.iter().map(ScanState::to_json).collect();
        serde_json::to_writer_pretty(&mut out, &list)?;
        writeln!(out)?;
        return Ok(());
    }
    let columns = [
        "scan_id",
        "shard",
        "status",
        "started",
        "finished",
        "accounts",
        "accounts_failed",
        "calls",
        "calls_failed",
        "items",
        "note",
    ];
    let mut w = RowWriter::with_columns(args.store.output, &columns, &mut out)?;
    let opt = |v: Option<i64>| v.map_or(Cell::Null, Cell::Int);
    let text = |s: &str| Cell::Text(s.to_string());
    for s in &all {
        let n = s.count();
        let shard = if s.sharded() {
            format!("{} of {n}", s.shards.len())
        } else {
            String::new()
        };
        let note = if s.sharded() && s.complete() && (s.shards.len() as i64) < n {
            // A shard's own SQLite file.
            "the other shards are in their own databases".to_string()
        } else {
            s.problems().join(", ")
        };
        let mut row = vec![
            text(&s.scan_id),
            Cell::Text(shard),
            text(s.status()),
            text(&s.started),
            s.finished.clone().map_or(Cell::Null, Cell::Text),
        ];
        row.extend(s.counts.iter().map(|c| opt(*c)));
        row.push(Cell::Text(note));
        w.row(row)?;
        if !s.sharded() {
            continue;
        }
        let mut shards: Vec<(i64, Vec<Cell>)> = s
            .shards
            .iter()
            .map(|r| {
                let mut row = vec![
                    text(&s.scan_id),
                    Cell::Text(r.name()),
                    text(&r.status),
                    text(&r.started),
                    r.finished.clone().map_or(Cell::Null, Cell::Text),
                ];
                row.extend(r.counts.iter().map(|c| opt(*c)));
                row.push(Cell::Text(
                    if r.status == "running" && s.finished.is_none() {
                        "running, or killed: census scan --resume finishes it".into()
                    } else {
                        String::new()
                    },
                ));
                (r.index, row)
            })
            .collect();
        if s.finished.is_none() {
            for k in s.missing() {
                let mut row = vec![
                    text(&s.scan_id),
                    Cell::Text(format!("{k}/{n}")),
                    text("missing"),
                    Cell::Null,
                    Cell::Null,
                ];
                row.extend([Cell::Null, Cell::Null, Cell::Null, Cell::Null, Cell::Null]);
                row.push(text("never started"));
                shards.push((k, row));
            }
        }
        shards.sort_by_key(|(k, _)| *k);
        for (_, row) in shards {
            w.row(row)?;
        }
    }
    w.finish()?;
    Ok(())
}
