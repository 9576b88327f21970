//! The shards' SQLite databases merged into one `census.db`, generically: each shard
//! database is attached and every table of the schema's list
//! ([`crate::sink::sql::schema::tables`]) is copied with `INSERT ... SELECT` of this
//! scan's rows, so that tables added to the schema later come along without a change
//! here. What is not a copy:
//!
//! - `scans`: one row from the shards' rows: `started` the earliest, `finished` the
//!   latest, `resumed` when any was, the counts (`accounts`, `calls`, `items`...)
//!   added, `seq` the next of the output database, every other column shard 1's;
//! - `item_columns` (no scan id): the members of the scan's stems, numbered in the
//!   order first seen, shard after shard;
//! - then, as a finishing scan does, the inventory's links resolved across the whole
//!   scan (a shard could not resolve a link to another shard's resource) and the views
//!   of the stems made.
//!
//! A database of an older schema is migrated first, on a copy (the shard's own file is
//! only read); a newer one is refused. The merge is built in a new file and then moved
//! into place, or, into an existing `census.db` (`--force`), copied in one transaction.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, OptionalExtension};

use crate::sink::sql::resolve;
use crate::sink::sql::schema::{self, Db};
use crate::sink::sqlite::{open_for_writing, refresh_view};
use crate::store::sqlite::{open_read_only, StoreError, SCHEMA_VERSION};
use crate::store::views::quote_ident;

/// One shard's database.
pub struct Input {
    pub path: PathBuf,
    /// `DIR: shard 2 of 4`, for messages.
    pub what: String,
    /// The command that finishes the shard.
    pub resume: String,
}

/// The counts of `scans` that add up over shards.
const SUMS: [&str; 7] = [
    "accounts",
    "accounts_failed",
    "calls",
    "calls_failed",
    "items",
    "pages",
    "absent",
];

/// Checks that `input` is a census database of a version this census reads, holding
/// `scan_id` finished. Returns its schema version.
pub fn check(input: &Input, scan_id: &str) -> Result<i64> {
    let conn = open_read_only(&input.path).map_err(|e| match e {
        StoreError::Missing { .. } => anyhow!(
            "{}: its database {} is missing; put it beside the scan folder, where census scan wrote it, or add --no-db to merge the folders only",
            input.what,
            input.path.display()
        ),
        other => anyhow!("{}: {other}", input.what),
    })?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| anyhow!("{}: {}: {e}", input.what, input.path.display()))?;
    let finished: Option<Option<String>> = conn
        .query_row(
            "SELECT finished FROM scans WHERE scan_id = ?1",
            [scan_id],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| anyhow!("{}: {}: {e}", input.what, input.path.display()))?;
    match finished {
        None => bail!(
            "{}: its database {} holds no scan {scan_id}; give the database this shard wrote, or add --no-db to merge the folders only",
            input.what,
            input.path.display()
        ),
        Some(None) => bail!(
            "{} did not finish: its database {} says scan {scan_id} is unfinished; finish it with {}, then merge",
            input.what,
            input.path.display(),
            input.resume
        ),
        Some(Some(_)) => Ok(version),
    }
}

/// A path as an SQLite URI opening it read-only.
fn read_only_uri(path: &Path) -> String {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut uri = String::from("file:");
    for b in path.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(b) {
            uri.push(*b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str("?mode=ro");
    uri
}

/// A copy of an older database in `dir`, migrated to this census's schema; the
/// original is not touched.
fn migrated_copy(input: &Input, dir: &Path, n: usize) -> Result<PathBuf> {
    let copy = dir.join(format!("migrated-{n}.db"));
    std::fs::copy(&input.path, &copy).with_context(|| {
        format!(
            "{}: cannot copy {} to migrate it",
            input.what,
            input.path.display()
        )
    })?;
    let conn = open_for_writing(&copy).map_err(|e| {
        anyhow!(
            "{}: {} could not be migrated to schema {SCHEMA_VERSION} ({e}); open it once with this census (census scan --resume of its folder) or merge with --no-db",
            input.what,
            input.path.display()
        )
    })?;
    at_rest(&conn)?;
    Ok(copy)
}

/// The columns of `table` in the attached database `alias` (none: no such table).
fn columns(conn: &Connection, alias: &str, table: &str) -> rusqlite::Result<Vec<String>> {
    conn.prepare("SELECT name FROM pragma_table_info(?1, ?2)")?
        .query_map([table, alias], |r| r.get(0))?
        .collect()
}

/// Copies the rows of `scan_id` from the attached database `alias` into `main`, every
/// table of the schema but `scans`.
fn copy_rows(conn: &Connection, alias: &str, scan_id: &str) -> Result<()> {
    for (table, wanted) in schema::tables() {
        if table == "scans" {
            continue;
        }
        let present = columns(conn, alias, table)?;
        let cols: Vec<&str> = wanted
            .iter()
            .copied()
            .filter(|c| present.iter().any(|p| p == c))
            .collect();
        if cols.is_empty() {
            continue;
        }
        let list = cols
            .iter()
            .map(|c| quote_ident(c))
            .collect::<Vec<_>>()
            .join(", ");
        let t = quote_ident(table);
        if table == "item_columns" {
            // Numbered again in first-seen order, as a scan numbers them.
            let mut read = conn.prepare(&format!(
                "SELECT stem, name FROM {alias}.item_columns WHERE stem IN
                 (SELECT stem FROM {alias}.calls WHERE scan_id = ?1) ORDER BY stem, position"
            ))?;
            let rows: Vec<(String, String)> = read
                .query_map([scan_id], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let mut insert = conn.prepare(
                "INSERT OR IGNORE INTO main.item_columns (stem, name, position)
                 VALUES (?1, ?2, (SELECT COALESCE(MAX(position), 0) + 1 FROM main.item_columns
                 WHERE stem = ?1))",
            )?;
            for (stem, name) in rows {
                insert.execute([stem, name])?;
            }
        } else if cols.contains(&"scan_id") {
            conn.execute(
                &format!(
                    "INSERT OR REPLACE INTO main.{t} ({list}) SELECT {list} FROM {alias}.{t} WHERE scan_id = ?1"
                ),
                [scan_id],
            )?;
        } else {
            conn.execute(
                &format!("INSERT OR IGNORE INTO main.{t} ({list}) SELECT {list} FROM {alias}.{t}"),
                [],
            )?;
        }
    }
    Ok(())
}

/// The `scans` row of `scan_id` in `alias`, column by column.
fn scan_row(conn: &Connection, alias: &str, scan_id: &str) -> Result<BTreeMap<String, Value>> {
    let mut stmt = conn.prepare(&format!("SELECT * FROM {alias}.scans WHERE scan_id = ?1"))?;
    let names: Vec<String> = stmt.column_names().map(str::to_string).collect();
    let row = stmt.query_row([scan_id], |r| {
        (0..names.len())
            .map(|i| r.get::<_, Value>(i))
            .collect::<rusqlite::Result<Vec<Value>>>()
    })?;
    Ok(names.into_iter().zip(row).collect())
}

/// Two shards' `scans` rows as one (see the module documentation).
fn merge_scan_rows(into: &mut BTreeMap<String, Value>, row: BTreeMap<String, Value>) {
    for (column, value) in row {
        let Some(old) = into.get_mut(&column) else {
            into.insert(column, value);
            continue;
        };
        let merged = match (column.as_str(), &*old, &value) {
            (_, Value::Null, _) if column != "finished" => value.clone(),
            (_, _, Value::Null) => old.clone(),
            ("started", Value::Text(a), Value::Text(b)) => Value::Text(a.min(b).clone()),
            ("finished", Value::Text(a), Value::Text(b)) => Value::Text(a.max(b).clone()),
            ("resumed", Value::Integer(a), Value::Integer(b)) => Value::Integer(*a.max(b)),
            (c, Value::Integer(a), Value::Integer(b)) if SUMS.contains(&c) => Value::Integer(a + b),
            _ => old.clone(),
        };
        *old = merged;
    }
}

/// Inserts the merged `scans` row into `main`, numbered after the scans already there.
fn insert_scan(conn: &Connection, row: &BTreeMap<String, Value>) -> Result<()> {
    let cols: Vec<(&String, &Value)> = row.iter().filter(|(c, _)| *c != "seq").collect();
    let list = cols
        .iter()
        .map(|(c, _)| quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ");
    let marks = (1..=cols.len())
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    conn.execute(
        &format!(
            "INSERT INTO main.scans ({list}, seq) VALUES ({marks},
             (SELECT COALESCE(MAX(seq), 0) + 1 FROM main.scans))"
        ),
        params_from_iter(cols.iter().map(|(_, v)| *v)),
    )?;
    Ok(())
}

/// What a finishing scan does last: the links resolved, over the whole scan.
fn resolve(conn: &Connection, scan_id: &str) -> Result<()> {
    for step in resolve::statements(Db::Sqlite) {
        if conn.prepare(&step.when)?.exists([scan_id])? {
            conn.execute(&step.sql, [scan_id])?;
        }
    }
    Ok(())
}

/// Every stem's view made again from its columns.
fn refresh_views(conn: &Connection) -> Result<()> {
    let stems: Vec<String> = conn
        .prepare("SELECT DISTINCT stem FROM item_columns ORDER BY stem")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    conn.execute_batch("BEGIN IMMEDIATE")?;
    for stem in &stems {
        refresh_view(conn, stem)?;
    }
    conn.execute_batch("COMMIT")?;
    Ok(())
}

/// The database at rest, as a scan leaves it: one file, no WAL.
fn at_rest(conn: &Connection) -> Result<()> {
    conn.execute_batch("PRAGMA optimize")?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    conn.pragma_update(None, "journal_mode", "DELETE")?;
    Ok(())
}

fn attach(conn: &Connection, path: &Path, alias: &str) -> Result<()> {
    conn.execute(
        &format!("ATTACH DATABASE ?1 AS {alias}"),
        [read_only_uri(path)],
    )
    .with_context(|| format!("cannot open {}", path.display()))?;
    Ok(())
}

/// In one transaction: `f`, rolled back when it fails.
fn transaction(conn: &Connection, f: impl FnOnce() -> Result<()>) -> Result<()> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    match f() {
        Ok(()) => {
            conn.execute_batch("COMMIT")?;
            Ok(())
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// Merges the scan `scan_id` of `inputs` (in shard order, each checked by [`check`])
/// into `out` (see the module documentation), working in `staging`.
pub fn merge(out: &Path, inputs: &[Input], scan_id: &str, staging: &Path) -> Result<()> {
    crate::util::fs::create_private_dir_all(staging)
        .with_context(|| format!("cannot create {}", staging.display()))?;
    let staged = staging.join("census.db");
    let _ = std::fs::remove_file(&staged);
    let conn = open_for_writing(&staged).map_err(|e| anyhow!("{e}"))?;
    let mut scan: BTreeMap<String, Value> = BTreeMap::new();
    for (n, input) in inputs.iter().enumerate() {
        let version = check(input, scan_id)?;
        let path = if version < SCHEMA_VERSION {
            migrated_copy(input, staging, n)?
        } else {
            input.path.clone()
        };
        attach(&conn, &path, "shard").with_context(|| input.what.clone())?;
        let copied = transaction(&conn, || {
            merge_scan_rows(&mut scan, scan_row(&conn, "shard", scan_id)?);
            copy_rows(&conn, "shard", scan_id)
        })
        .with_context(|| format!("{}: cannot merge {}", input.what, input.path.display()));
        conn.execute_batch("DETACH DATABASE shard")?;
        copied?;
    }
    transaction(&conn, || {
        insert_scan(&conn, &scan)?;
        resolve(&conn, scan_id)
    })
    .context("cannot finish the merged database")?;
    refresh_views(&conn)?;
    at_rest(&conn)?;
    drop(conn);
    install(&staged, out, scan_id)
}

/// Moves the merged database `staged` to `out`; into an existing `out`, copies its scan
/// in one transaction (the scan's earlier rows there replaced, other scans kept).
fn install(staged: &Path, out: &Path, scan_id: &str) -> Result<()> {
    if !out.exists() {
        return std::fs::rename(staged, out)
            .with_context(|| format!("cannot move the merged database to {}", out.display()));
    }
    let conn = open_for_writing(out).map_err(|e| anyhow!("{e}"))?;
    attach(&conn, staged, "merged")?;
    transaction(&conn, || {
        for (table, cols) in schema::tables() {
            if cols.contains(&"scan_id") {
                conn.execute(
                    &format!("DELETE FROM main.{} WHERE scan_id = ?1", quote_ident(table)),
                    [scan_id],
                )?;
            }
        }
        insert_scan(&conn, &scan_row(&conn, "merged", scan_id)?)?;
        copy_rows(&conn, "merged", scan_id)
    })
    .with_context(|| format!("cannot add the merged scan to {}", out.display()))?;
    conn.execute_batch("DETACH DATABASE merged")?;
    refresh_views(&conn)?;
    at_rest(&conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_rows_merge_by_column() {
        let row = |started: &str, finished: &str, calls: i64, resumed: i64| {
            BTreeMap::from([
                ("scan_id".to_string(), Value::Text("s".into())),
                ("seq".to_string(), Value::Integer(7)),
                ("started".to_string(), Value::Text(started.into())),
                ("finished".to_string(), Value::Text(finished.into())),
                ("version".to_string(), Value::Text("1".into())),
                ("resumed".to_string(), Value::Integer(resumed)),
                ("calls".to_string(), Value::Integer(calls)),
                ("absent".to_string(), Value::Null),
            ])
        };
        let mut m = BTreeMap::new();
        merge_scan_rows(
            &mut m,
            row("2026-01-01T00:00:05Z", "2026-01-01T00:01:00Z", 3, 0),
        );
        merge_scan_rows(
            &mut m,
            row("2026-01-01T00:00:02Z", "2026-01-01T00:03:00Z", 4, 1),
        );
        merge_scan_rows(
            &mut m,
            row("2026-01-01T00:00:09Z", "2026-01-01T00:02:00Z", 5, 0),
        );
        assert_eq!(m["started"], Value::Text("2026-01-01T00:00:02Z".into()));
        assert_eq!(m["finished"], Value::Text("2026-01-01T00:03:00Z".into()));
        assert_eq!(m["calls"], Value::Integer(12));
        assert_eq!(m["resumed"], Value::Integer(1));
        assert_eq!(m["absent"], Value::Null);
        assert_eq!(m["version"], Value::Text("1".into()));
    }

    /// A shard's database: scan `s` with one account's call and item, and an older
    /// scan of another run that must not come along.
    fn shard_db(dir: &Path, name: &str, account: &str, started: &str, finished: &str) -> PathBuf {
        let path = dir.join(name);
        let conn = open_for_writing(&path).unwrap();
        conn.execute_batch(&format!(
            "INSERT INTO scans (scan_id, seq, started, finished, version, resumed, accounts,
                 calls, items) VALUES ('s', 1, '{started}', '{finished}', '1', 0, 1, 2, 3);
             INSERT INTO scans (scan_id, seq, started, finished, version)
                 VALUES ('older', 2, '2020-01-01T00:00:00Z', '2020-01-01T00:01:00Z', '1');
             INSERT INTO accounts (scan_id, account_id, name) VALUES ('s', '{account}', 'n');
             INSERT INTO calls (scan_id, account_id, region, stem, service, function,
                 operation, status, pages, items, duration_ms)
                 VALUES ('s', '{account}', 'us-east-1', 'ec2-describe_vpcs', 'ec2',
                 'describe_vpcs', 'DescribeVpcs', 'ok', 1, 1, 5);
             INSERT INTO resources VALUES ('s', 'ec2-describe_vpcs', '{account}', 'us-east-1',
                 'vpc-{account}', 'ec2', 'DescribeVpcs', 'Vpcs', 'VpcId',
                 '{{\"VpcId\": \"vpc-{account}\"}}');
             INSERT INTO resources VALUES ('older', 'ec2-describe_vpcs', '{account}',
                 'us-east-1', 'vpc-old', 'ec2', 'DescribeVpcs', 'Vpcs', 'VpcId', '{{}}');
             INSERT INTO item_columns VALUES ('ec2-describe_vpcs', 'VpcId', 1);"
        ))
        .unwrap();
        at_rest(&conn).unwrap();
        path
    }

    fn count(conn: &Connection, sql: &str) -> i64 {
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn shard_databases_merge_into_one_scan() {
        let dir = std::env::temp_dir().join(format!("census-merge-db-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let input = |path: PathBuf| Input {
            path,
            what: "x".into(),
            resume: "census scan --resume x".into(),
        };
        let inputs = [
            input(shard_db(
                &dir,
                "a.db",
                "111111111111",
                "2026-01-01T00:00:05Z",
                "2026-01-01T00:02:00Z",
            )),
            input(shard_db(
                &dir,
                "b.db",
                "222222222222",
                "2026-01-01T00:00:01Z",
                "2026-01-01T00:01:00Z",
            )),
        ];
        let out = dir.join("out/census.db");
        std::fs::create_dir_all(dir.join("out")).unwrap();
        merge(&out, &inputs, "s", &dir.join("staging")).unwrap();
        let conn = Connection::open(&out).unwrap();
        let row: (String, String, i64, i64, i64, i64) = conn
            .query_row(
                "SELECT started, finished, accounts, calls, items, seq FROM scans WHERE scan_id = 's'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )
            .unwrap();
        assert_eq!(
            row,
            (
                "2026-01-01T00:00:01Z".into(),
                "2026-01-01T00:02:00Z".into(),
                2,
                4,
                6,
                1
            )
        );
        assert_eq!(count(&conn, "SELECT count(*) FROM scans"), 1, "only scan s");
        assert_eq!(count(&conn, "SELECT count(*) FROM resources"), 2);
        assert_eq!(count(&conn, "SELECT count(*) FROM accounts"), 2);
        assert_eq!(count(&conn, "SELECT count(*) FROM item_columns"), 1);
        assert_eq!(count(&conn, "SELECT count(*) FROM ec2_describe_vpcs"), 2);
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "delete");
        drop(conn);

        // Into a database holding other scans: added after them; again: replaced.
        let existing = dir.join("existing.db");
        std::fs::copy(&inputs[0].path, &existing).unwrap();
        Connection::open(&existing)
            .unwrap()
            .execute_batch(
                "DELETE FROM scans WHERE scan_id = 's'; DELETE FROM resources WHERE scan_id = 's'",
            )
            .unwrap();
        for _ in 0..2 {
            merge(&existing, &inputs, "s", &dir.join("staging")).unwrap();
        }
        let conn = Connection::open(&existing).unwrap();
        assert_eq!(count(&conn, "SELECT seq FROM scans WHERE scan_id = 's'"), 3);
        assert_eq!(
            count(&conn, "SELECT count(*) FROM resources WHERE scan_id = 's'"),
            2
        );
        assert_eq!(
            count(
                &conn,
                "SELECT count(*) FROM resources WHERE scan_id = 'older'"
            ),
            1
        );
        drop(conn);

        // A database of a newer census, and one without the scan: refused.
        let newer = dir.join("newer.db");
        std::fs::copy(&inputs[0].path, &newer).unwrap();
        Connection::open(&newer)
            .unwrap()
            .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        let e = check(&input(newer), "s").unwrap_err().to_string();
        assert!(e.contains("newer census"), "{e}");
        let e = check(&inputs[0], "t").unwrap_err().to_string();
        assert!(e.contains("holds no scan t"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A shard database of schema 3 (no links, no `arn_source`) is migrated on a copy
    /// and merged; the shard's own file stays as it was.
    #[test]
    fn an_older_shard_database_is_migrated_on_a_copy() {
        let dir = std::env::temp_dir().join(format!("census-merge-old-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let now = schema::ddl(Db::Sqlite);
        let v3 = now[..now.find("CREATE TABLE IF NOT EXISTS links").unwrap()]
            .replace("    arn_source TEXT,\n    native_id TEXT,\n", "")
            .replace(
                "CREATE INDEX IF NOT EXISTS inventory_by_id ON inventory (scan_id, native_id);\n",
                "",
            );
        let old = dir.join("old.db");
        let conn = Connection::open(&old).unwrap();
        conn.execute_batch(&v3).unwrap();
        conn.execute_batch(
            "INSERT INTO scans (scan_id, seq, started, finished, version)
                 VALUES ('s', 1, '2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z', '0.1');
             INSERT INTO inventory VALUES ('s', '111111111111', 'us-east-1', 'ec2', 'ec2:Vpc',
                 NULL, 'vpc-1', NULL, NULL, NULL, '{}', 'ec2-describe_vpcs');
             PRAGMA user_version = 3;",
        )
        .unwrap();
        drop(conn);
        let before = std::fs::read(&old).unwrap();
        let input = Input {
            path: old.clone(),
            what: "old".into(),
            resume: String::new(),
        };
        assert_eq!(check(&input, "s").unwrap(), 3);
        let out = dir.join("census.db");
        merge(&out, &[input], "s", &dir.join("staging")).unwrap();
        let conn = Connection::open(&out).unwrap();
        let (id, source): (String, Option<String>) = conn
            .query_row("SELECT resource_id, arn_source FROM inventory", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((id.as_str(), source), ("vpc-1", None));
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        assert_eq!(
            std::fs::read(&old).unwrap(),
            before,
            "the shard's file is untouched"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn uris_escape_what_sqlite_would_read() {
        assert_eq!(
            read_only_uri(Path::new("/a b/c?d#e%.db")),
            "file:/a%20b/c%3Fd%23e%25.db?mode=ro"
        );
    }
}
