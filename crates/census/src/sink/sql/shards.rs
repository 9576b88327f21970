//! The `scan_shards` rows: each run of a scan (a shard `K/N`, or the whole scan as
//! shard 1/1) records itself when it begins (`running`), and its end (`finished` with
//! its counts, or `interrupted` / `failed`); the scan's `scans.finished` is set only
//! when every one of its shards has finished. Not for reading them (see
//! [`crate::store::shards`]).
//!
//! When a scan counts as finished:
//! - PostgreSQL (every shard writes to the one database): when all N shards' rows say
//!   `finished`. The shard that finishes locks the scan's `scans` row (`SELECT ... FOR
//!   UPDATE`) before it marks its own row, and sets `scans.finished` in the same
//!   transaction: shards finishing at once take turns, and the last one (whose
//!   statements, under READ COMMITTED, see the others' committed rows) sets it. A shard
//!   that begins (or resumes) clears `scans.finished` again.
//! - SQLite: a shard's own file (`census.shard-2-of-4.db`) holds its own row only, and
//!   the scan is finished in that file when the shards in it are (all of them
//!   `finished`); a database several shards wrote to (`--db` given to each, or merged)
//!   holds their rows, and the same rule then needs each of them.
//!
//! `scans`'s totals are the sums of the shard rows' counts (one shard: its own).
//!
//! The statements go through the writer's [`super::SqlWriter::run_for_scan`] (the
//! scan id as `$1`, the other values written in as literals), so that each database's
//! writer needs nothing of its own for them.

use serde_json::Value;

use super::int;
use super::resolve::Step;
use super::schema::Db;
use crate::shard::Shard;
use crate::sink::Totals;

/// This run's shard and the flags it was started with (secrets already redacted).
#[derive(Debug, Clone)]
pub struct ShardRun {
    pub shard: Shard,
    /// JSON: the command line's flags (see [`crate::shard::recorded_flags`]).
    pub flags: Value,
}

impl Default for ShardRun {
    fn default() -> ShardRun {
        ShardRun {
            shard: Shard { index: 1, count: 1 },
            flags: Value::Null,
        }
    }
}

/// A shard's end other than finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// The run was stopped (Ctrl-C, SIGTERM) before it finished: `--resume` it.
    Interrupted,
    /// The database writer failed.
    Failed,
}

impl Stopped {
    pub fn as_str(self) -> &'static str {
        match self {
            Stopped::Interrupted => "interrupted",
            Stopped::Failed => "failed",
        }
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The counts of a finished shard, in the table's order (accounts, accounts_failed,
/// calls, calls_failed, items, pages, absent).
fn counts(t: &Totals) -> [i64; 7] {
    [
        int(t.accounts),
        int(t.accounts_failed),
        int(t.calls),
        int(t.calls_failed),
        int(t.items),
        int(t.pages),
        int(t.absent),
    ]
}

/// A string as an SQL literal in `db` (PostgreSQL's `E'...'` when it holds a
/// backslash, so that it means the same whatever `standard_conforming_strings` says).
fn lit(db: Db, s: &str) -> String {
    let quoted = s.replace('\'', "''");
    match db {
        Db::Postgres if s.contains('\\') => format!("E'{}'", quoted.replace('\\', "\\\\")),
        _ => format!("'{quoted}'"),
    }
}

/// A step that always runs.
fn always(db: Db, sql: String) -> Step {
    let when = match db {
        Db::Sqlite => "SELECT $1",
        Db::Postgres => "SELECT $1::text",
    };
    Step {
        when: when.to_string(),
        sql,
    }
}

/// The shard begins or resumes (in the writer's open transaction): its row says
/// `running` (a resumed shard keeps its first start time and flags), and the scan is
/// not finished.
pub fn begin(db: Db, run: &ShardRun) -> Vec<Step> {
    let flags = if run.flags.is_null() {
        "NULL".to_string()
    } else {
        let text = lit(db, &run.flags.to_string());
        match db {
            Db::Sqlite => text,
            Db::Postgres => format!("{text}::jsonb"),
        }
    };
    vec![
        always(
            db,
            format!(
                "INSERT INTO scan_shards (scan_id, shard_index, shard_count, started, status, flags) \
                 VALUES ($1, {}, {}, {}, 'running', {flags}) \
                 ON CONFLICT (scan_id, shard_index) DO UPDATE SET status = 'running', \
                 finished = NULL, shard_count = excluded.shard_count, \
                 flags = COALESCE(scan_shards.flags, excluded.flags)",
                run.shard.index,
                run.shard.count,
                lit(db, &now()),
            ),
        ),
        always(db, "UPDATE scans SET finished = NULL WHERE scan_id = $1".into()),
    ]
}

/// The shard finished (in the transaction that writes the scan's end, after its
/// totals): its row says so with its counts; the scan's totals become the sums of its
/// shards', and the scan is finished when all its shards are.
pub fn finish(db: Db, run: &ShardRun, totals: &Totals) -> Vec<Step> {
    let finished = lit(db, &now());
    let [a, af, c, cf, i, p, ab] = counts(totals);
    let mark = format!(
        "UPDATE scan_shards SET status = 'finished', finished = {finished}, accounts = {a}, \
         accounts_failed = {af}, calls = {c}, calls_failed = {cf}, items = {i}, pages = {p}, \
         absent = {ab} WHERE scan_id = $1 AND shard_index = {}",
        run.shard.index
    );
    let sum = |c: &str| format!("{c} = (SELECT sum({c}) FROM scan_shards WHERE scan_id = $1)");
    let sums = [
        "accounts",
        "accounts_failed",
        "calls",
        "calls_failed",
        "items",
        "pages",
        "absent",
    ]
    .map(sum)
    .join(", ");
    let complete = match db {
        // One writer at a time (SQLite locks the file for the transaction): every
        // shard in this file finished.
        Db::Sqlite => {
            "NOT EXISTS (SELECT 1 FROM scan_shards WHERE scan_id = $1 AND status <> 'finished')"
                .to_string()
        }
        // Every one of the N shards has a finished row.
        Db::Postgres => format!(
            "(SELECT count(*) FROM scan_shards WHERE scan_id = $1 AND status = 'finished' \
             AND shard_count = {n} AND shard_index BETWEEN 1 AND {n}) = {n}",
            n = run.shard.count
        ),
    };
    let totals = format!(
        "UPDATE scans SET {sums}, finished = CASE WHEN {complete} THEN {finished} ELSE NULL END \
         WHERE scan_id = $1"
    );
    match db {
        Db::Sqlite => vec![always(db, mark), always(db, totals)],
        // Shards finishing at once take turns on the scan's row (locked by the `when`
        // query until commit); each statement after it sees the rows the others
        // committed (READ COMMITTED).
        Db::Postgres => {
            let lock = "SELECT 1 FROM scans WHERE scan_id = $1 FOR UPDATE".to_string();
            vec![
                Step {
                    when: lock.clone(),
                    sql: mark,
                },
                Step {
                    when: lock,
                    sql: totals,
                },
            ]
        }
    }
}

/// The shard stopped before finishing (outside any transaction).
pub fn stopped(db: Db, run: &ShardRun, how: Stopped) -> Vec<Step> {
    vec![always(
        db,
        format!(
            "UPDATE scan_shards SET status = '{}' WHERE scan_id = $1 AND shard_index = {} \
             AND status = 'running'",
            how.as_str(),
            run.shard.index
        ),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_literals_that_keep_their_text() {
        let run = ShardRun {
            shard: Shard { index: 2, count: 3 },
            flags: serde_json::json!(["--tag", "it's", "a\\b"]),
        };
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(&super::super::schema::ddl(Db::Sqlite))
            .unwrap();
        conn.execute(
            "INSERT INTO scans (scan_id, seq, started, version) VALUES ('s', 1, 'x', 'v')",
            [],
        )
        .unwrap();
        let apply = |steps: Vec<Step>| {
            for s in steps {
                assert!(conn.prepare(&s.when).unwrap().exists(["s"]).unwrap());
                conn.execute(&s.sql, ["s"]).unwrap();
            }
        };
        apply(begin(Db::Sqlite, &run));
        let flags: String = conn
            .query_row("SELECT flags FROM scan_shards", [], |r| r.get(0))
            .unwrap();
        assert_eq!(serde_json::from_str::<Value>(&flags).unwrap(), run.flags);
        let totals = Totals {
            accounts: 2,
            calls: 5,
            items: 7,
            ..Totals::default()
        };
        apply(finish(Db::Sqlite, &run, &totals));
        let (status, finished, items): (String, Option<String>, i64) = conn
            .query_row(
                "SELECT status, (SELECT finished FROM scans), (SELECT items FROM scans) FROM scan_shards",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(
            (status.as_str(), finished.is_some(), items),
            ("finished", true, 7)
        );
        assert!(lit(Db::Postgres, "a\\b'c").starts_with("E'a\\\\b''c'"));
    }
}
