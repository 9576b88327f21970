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

use serde_json::Value;

use super::int;
use crate::shard::Shard;
use crate::sink::{ScanInfo, Totals};

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

/// A database the shard rows are written to; every method runs in the writer's open
/// transaction, except [`ShardSql::shard_stopped`] (which runs after it).
pub trait ShardSql {
    type Error;
    /// The shard begins or resumes: its row says `running` (a resumed shard keeps its
    /// first start time and flags), and the scan is not finished.
    fn shard_begin(&mut self, scan: &ScanInfo, run: &ShardRun) -> Result<(), Self::Error>;
    /// The shard finished: its row says so with its counts; the scan's totals become
    /// the sums of its shards', and the scan is finished when all its shards are.
    /// Runs after the scan's own totals were written.
    fn shard_finish(
        &mut self,
        scan: &ScanInfo,
        run: &ShardRun,
        totals: &Totals,
    ) -> Result<(), Self::Error>;
    /// The shard stopped before finishing (outside any transaction).
    fn shard_stopped(
        &mut self,
        scan_id: &str,
        run: &ShardRun,
        how: Stopped,
    ) -> Result<(), Self::Error>;
}

/// The sums of the scan's shard rows; `finished` ($2) when `complete` holds.
fn totals_sql(param: fn(usize) -> String, complete: &str) -> String {
    let p1 = param(1);
    let sum = |c: &str| format!("{c} = (SELECT sum({c}) FROM scan_shards WHERE scan_id = {p1})");
    format!(
        "UPDATE scans SET {}, {}, {}, {}, {}, {}, {}, finished = CASE WHEN {complete} THEN {} ELSE NULL END WHERE scan_id = {p1}",
        sum("accounts"),
        sum("accounts_failed"),
        sum("calls"),
        sum("calls_failed"),
        sum("items"),
        sum("pages"),
        sum("absent"),
        param(2),
    )
}

impl ShardSql for rusqlite::Connection {
    type Error = rusqlite::Error;

    fn shard_begin(&mut self, scan: &ScanInfo, run: &ShardRun) -> rusqlite::Result<()> {
        self.execute(
            "INSERT INTO scan_shards (scan_id, shard_index, shard_count, started, status, flags)
             VALUES (?1, ?2, ?3, ?4, 'running', ?5)
             ON CONFLICT (scan_id, shard_index) DO UPDATE SET status = 'running',
                 finished = NULL, shard_count = excluded.shard_count,
                 flags = COALESCE(scan_shards.flags, excluded.flags)",
            rusqlite::params![
                scan.id,
                run.shard.index,
                run.shard.count,
                now(),
                (!run.flags.is_null()).then(|| run.flags.to_string())
            ],
        )?;
        self.execute(
            "UPDATE scans SET finished = NULL WHERE scan_id = ?1",
            [&scan.id],
        )?;
        Ok(())
    }

    fn shard_finish(
        &mut self,
        scan: &ScanInfo,
        run: &ShardRun,
        totals: &Totals,
    ) -> rusqlite::Result<()> {
        let finished = now();
        let [a, af, c, cf, i, p, ab] = counts(totals);
        self.execute(
            "UPDATE scan_shards SET status = 'finished', finished = ?3, accounts = ?4,
             accounts_failed = ?5, calls = ?6, calls_failed = ?7, items = ?8, pages = ?9,
             absent = ?10 WHERE scan_id = ?1 AND shard_index = ?2",
            rusqlite::params![scan.id, run.shard.index, finished, a, af, c, cf, i, p, ab],
        )?;
        // One writer at a time (SQLite locks the file for the transaction): every
        // shard in this file finished.
        let complete = "NOT EXISTS (SELECT 1 FROM scan_shards WHERE scan_id = ?1 \
                        AND status <> 'finished')";
        self.execute(
            &totals_sql(|n| format!("?{n}"), complete),
            rusqlite::params![scan.id, finished],
        )?;
        Ok(())
    }

    fn shard_stopped(
        &mut self,
        scan_id: &str,
        run: &ShardRun,
        how: Stopped,
    ) -> rusqlite::Result<()> {
        self.execute(
            "UPDATE scan_shards SET status = ?3 WHERE scan_id = ?1 AND shard_index = ?2
             AND status = 'running'",
            rusqlite::params![scan_id, run.shard.index, how.as_str()],
        )?;
        Ok(())
    }
}

impl ShardSql for postgres::Client {
    type Error = postgres::Error;

    fn shard_begin(&mut self, scan: &ScanInfo, run: &ShardRun) -> Result<(), postgres::Error> {
        let flags = (!run.flags.is_null()).then(|| run.flags.to_string());
        self.execute(
            "INSERT INTO scan_shards (scan_id, shard_index, shard_count, started, status, flags)
             VALUES ($1, $2, $3, $4, 'running', $5::text::jsonb)
             ON CONFLICT (scan_id, shard_index) DO UPDATE SET status = 'running',
                 finished = NULL, shard_count = excluded.shard_count,
                 flags = COALESCE(scan_shards.flags, excluded.flags)",
            &[
                &scan.id,
                &i64::from(run.shard.index),
                &i64::from(run.shard.count),
                &now(),
                &flags,
            ],
        )?;
        self.execute(
            "UPDATE scans SET finished = NULL WHERE scan_id = $1",
            &[&scan.id],
        )?;
        Ok(())
    }

    fn shard_finish(
        &mut self,
        scan: &ScanInfo,
        run: &ShardRun,
        totals: &Totals,
    ) -> Result<(), postgres::Error> {
        // Shards finishing at once take turns on the scan's row (held until commit);
        // each statement after the lock sees the rows the others committed.
        self.execute(
            "SELECT 1 FROM scans WHERE scan_id = $1 FOR UPDATE",
            &[&scan.id],
        )?;
        let finished = now();
        let [a, af, c, cf, i, p, ab] = counts(totals);
        self.execute(
            "UPDATE scan_shards SET status = 'finished', finished = $3, accounts = $4,
             accounts_failed = $5, calls = $6, calls_failed = $7, items = $8, pages = $9,
             absent = $10 WHERE scan_id = $1 AND shard_index = $2",
            &[
                &scan.id,
                &i64::from(run.shard.index),
                &finished,
                &a,
                &af,
                &c,
                &cf,
                &i,
                &p,
                &ab,
            ],
        )?;
        // Every one of the N shards has a finished row.
        let complete = format!(
            "(SELECT count(*) FROM scan_shards WHERE scan_id = $1 AND status = 'finished' \
             AND shard_count = {n} AND shard_index BETWEEN 1 AND {n}) = {n}",
            n = run.shard.count
        );
        self.execute(
            &totals_sql(|n| format!("${n}"), &complete),
            &[&scan.id, &finished],
        )?;
        Ok(())
    }

    fn shard_stopped(
        &mut self,
        scan_id: &str,
        run: &ShardRun,
        how: Stopped,
    ) -> Result<(), postgres::Error> {
        self.execute(
            "UPDATE scan_shards SET status = $3 WHERE scan_id = $1 AND shard_index = $2
             AND status = 'running'",
            &[&scan_id, &i64::from(run.shard.index), &how.as_str()],
        )?;
        Ok(())
    }
}
