//! Reading the scans with their shards (`scans` and `scan_shards`, schema 5): what
//! `census scans` lists, and the check that keeps `census diff`, `census report`,
//! `census inventory` and `census export graph` from reading an unfinished sharded
//! scan as if it were whole (unless `--partial`). Not for writing them (see
//! `sink::sql::shards`, which says when a scan counts as finished).

use anyhow::Result;
use serde_json::{json, Value};

use super::postgres::{self as pg, PgUrl};

/// One shard's row.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardRow {
    pub index: i64,
    pub count: i64,
    pub started: String,
    pub finished: Option<String>,
    /// `running`, `finished`, `failed` or `interrupted`.
    pub status: String,
    /// accounts, accounts_failed, calls, calls_failed, items (NULL until finished).
    pub counts: [Option<i64>; 5],
    /// The flags as recorded (JSON text), secrets redacted.
    pub flags: Option<String>,
}

impl ShardRow {
    /// `2/3`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.index, self.count)
    }
}

/// One scan and its shards.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanState {
    pub scan_id: String,
    pub seq: i64,
    pub started: String,
    pub finished: Option<String>,
    /// accounts, accounts_failed, calls, calls_failed, items.
    pub counts: [Option<i64>; 5],
    /// By index; empty for a scan written before schema 5.
    pub shards: Vec<ShardRow>,
}

impl ScanState {
    /// The number of shards the scan was split into (1 when unsharded or unknown).
    pub fn count(&self) -> i64 {
        self.shards.iter().map(|s| s.count).max().unwrap_or(1)
    }

    /// Whether the scan was split into shards.
    pub fn sharded(&self) -> bool {
        self.count() > 1
    }

    /// The shards of `1..=N` with no row here.
    pub fn missing(&self) -> Vec<i64> {
        (1..=self.count())
            .filter(|k| !self.shards.iter().any(|s| s.index == *k))
            .collect()
    }

    /// The shard rows that are not finished.
    pub fn unfinished(&self) -> Vec<&ShardRow> {
        self.shards
            .iter()
            .filter(|s| s.status != "finished")
            .collect()
    }

    /// Whether the scan is finished: `scans.finished` is set and every shard recorded
    /// here finished. (In PostgreSQL `scans.finished` waits for all N shards; a
    /// shard's own SQLite file holds its shard only, and is finished when it is.)
    pub fn complete(&self) -> bool {
        self.finished.is_some() && self.unfinished().is_empty()
    }

    /// `finished`, `running` (a shard still running, none stopped or missing), or
    /// `incomplete` (a shard missing, interrupted or failed).
    pub fn status(&self) -> &'static str {
        if self.complete() {
            "finished"
        } else if self
            .unfinished()
            .iter()
            .any(|s| s.status == "interrupted" || s.status == "failed")
            || (self.finished.is_none()
                && !self.missing().is_empty()
                && self.unfinished().is_empty())
        {
            "incomplete"
        } else {
            "running"
        }
    }

    /// What keeps the scan from being finished, one phrase per shard: `shard 3/3
    /// never started`, `shard 2/3 running since 2026-11-24T06:30:00Z (or killed)`,
    /// `shard 1/3 interrupted`. Empty when it is finished.
    pub fn problems(&self) -> Vec<String> {
        if self.complete() {
            return Vec::new();
        }
        let n = self.count();
        let mut out: Vec<(i64, String)> = self
            .missing()
            .into_iter()
            .map(|k| (k, format!("shard {k}/{n} never started")))
            .collect();
        for s in self.unfinished() {
            let what = match s.status.as_str() {
                "running" => format!("running since {} (or killed)", s.started),
                other => other.to_string(),
            };
            out.push((s.index, format!("shard {} {what}", s.name())));
        }
        out.sort();
        out.into_iter().map(|(_, p)| p).collect()
    }

    /// The scan as `census scans --output json` shows it.
    pub fn to_json(&self) -> Value {
        let counts = |c: &[Option<i64>; 5]| {
            json!({"accounts": c[0], "accounts_failed": c[1], "calls": c[2],
                   "calls_failed": c[3], "items": c[4]})
        };
        let mut scan = json!({
            "scan_id": self.scan_id,
            "status": self.status(),
            "started": self.started,
            "finished": self.finished,
            "shard_count": self.count(),
            "missing_shards": self.missing(),
            "problems": self.problems(),
        });
        merge(&mut scan, counts(&self.counts));
        scan["shards"] = self
            .shards
            .iter()
            .map(|s| {
                let mut v = json!({
                    "shard": s.name(),
                    "index": s.index,
                    "count": s.count,
                    "status": s.status,
                    "started": s.started,
                    "finished": s.finished,
                    "flags": s.flags.as_deref().and_then(|f| serde_json::from_str::<Value>(f).ok()),
                });
                merge(&mut v, counts(&s.counts));
                v
            })
            .collect();
        scan
    }
}

fn merge(into: &mut Value, from: Value) {
    if let (Value::Object(a), Value::Object(b)) = (into, from) {
        a.extend(b);
    }
}

/// A store to read the scans from.
pub enum Db<'a> {
    Sqlite(&'a rusqlite::Connection),
    Postgres(&'a mut postgres::Client, &'a PgUrl),
}

const SCANS: &str = "SELECT scan_id, seq, started, finished, accounts, accounts_failed, \
                     calls, calls_failed, items FROM scans ORDER BY seq DESC";
const SHARDS: &str = "SELECT scan_id, shard_index, shard_count, started, finished, status, \
                      accounts, accounts_failed, calls, calls_failed, items, flags \
                      FROM scan_shards ORDER BY scan_id, shard_index";

/// Every scan with its shards, newest first.
pub fn load(db: Db<'_>) -> Result<Vec<ScanState>> {
    let (mut scans, shards) = match db {
        Db::Sqlite(c) => sqlite_load(c)?,
        Db::Postgres(c, url) => {
            postgres_load(c).map_err(|e| anyhow::anyhow!("{}", url.error(&pg::error_text(&e))))?
        }
    };
    for (scan_id, row) in shards {
        if let Some(s) = scans.iter_mut().find(|s| s.scan_id == scan_id) {
            s.shards.push(row);
        }
    }
    Ok(scans)
}

type Loaded = (Vec<ScanState>, Vec<(String, ShardRow)>);

fn sqlite_load(c: &rusqlite::Connection) -> rusqlite::Result<Loaded> {
    let scans = c
        .prepare(SCANS)?
        .query_map([], |r| {
            Ok(ScanState {
                scan_id: r.get(0)?,
                seq: r.get(1)?,
                started: r.get(2)?,
                finished: r.get(3)?,
                counts: [r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?],
                shards: Vec::new(),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let has_shards: bool = c.query_row(
        "SELECT count(*) > 0 FROM sqlite_schema WHERE name = 'scan_shards'",
        [],
        |r| r.get(0),
    )?;
    let shards = if has_shards {
        c.prepare(SHARDS)?
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    ShardRow {
                        index: r.get(1)?,
                        count: r.get(2)?,
                        started: r.get(3)?,
                        finished: r.get(4)?,
                        status: r.get(5)?,
                        counts: [r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?],
                        flags: r.get(11)?,
                    },
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?
    } else {
        Vec::new()
    };
    Ok((scans, shards))
}

fn postgres_load(c: &mut postgres::Client) -> Result<Loaded, postgres::Error> {
    let scans = c
        .query(SCANS, &[])?
        .iter()
        .map(|r| ScanState {
            scan_id: r.get(0),
            seq: r.get(1),
            started: r.get(2),
            finished: r.get(3),
            counts: [r.get(4), r.get(5), r.get(6), r.get(7), r.get(8)],
            shards: Vec::new(),
        })
        .collect();
    let has_shards: bool = c
        .query_one("SELECT to_regclass('scan_shards') IS NOT NULL", &[])?
        .get(0);
    let shards = if has_shards {
        c.query(&SHARDS.replace(", flags ", ", flags::text "), &[])?
            .iter()
            .map(|r| {
                (
                    r.get(0),
                    ShardRow {
                        index: r.get(1),
                        count: r.get(2),
                        started: r.get(3),
                        finished: r.get(4),
                        status: r.get(5),
                        counts: [r.get(6), r.get(7), r.get(8), r.get(9), r.get(10)],
                        flags: r.get(11),
                    },
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok((scans, shards))
}

/// Refuses scan `scan_id` when it was split into shards and is not finished (unless
/// `partial`): one line naming the shards missing or unfinished, and the fix. A scan
/// not in the store, or unsharded, passes (the caller says what it says of those).
pub fn check_finished(db: Db<'_>, scan_id: &str, partial: bool) -> Result<()> {
    if partial {
        return Ok(());
    }
    let scans = load(db)?;
    match scans.iter().find(|s| s.scan_id == scan_id) {
        Some(s) => refuse(s),
        None => Ok(()),
    }
}

/// The error for an unfinished sharded scan (see [`check_finished`]).
pub fn refuse(s: &ScanState) -> Result<()> {
    if !s.sharded() || s.complete() {
        return Ok(());
    }
    let stopped: Vec<String> = s.unfinished().iter().map(|r| r.name()).collect();
    let mut fixes = Vec::new();
    if !s.missing().is_empty() {
        fixes.push(format!(
            "run the missing shard(s) with census scan --scan-id {} --shard K/{}",
            s.scan_id,
            s.count()
        ));
    }
    if !stopped.is_empty() {
        fixes.push(format!(
            "if shard {} stopped or was killed, finish it with census scan --resume <output-dir>/{} --shard {}",
            stopped.join(", "),
            s.scan_id,
            stopped[0]
        ));
    }
    fixes.push("give --partial to use it as it is".to_string());
    anyhow::bail!(
        "scan {} is not finished: {}; {}",
        s.scan_id,
        s.problems().join(", "),
        fixes.join(", or ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(index: i64, status: &str) -> ShardRow {
        ShardRow {
            index,
            count: 3,
            started: "2026-11-24T06:30:00Z".into(),
            finished: (status == "finished").then(|| "2026-11-24T06:40:00Z".into()),
            status: status.into(),
            counts: [None; 5],
            flags: None,
        }
    }

    fn scan(finished: bool, shards: Vec<ShardRow>) -> ScanState {
        ScanState {
            scan_id: "nightly".into(),
            seq: 1,
            started: "2026-11-24T06:30:00Z".into(),
            finished: finished.then(|| "2026-11-24T06:40:00Z".into()),
            counts: [None; 5],
            shards,
        }
    }

    #[test]
    fn a_scan_is_finished_when_its_shards_are() {
        let done = scan(
            true,
            vec![row(1, "finished"), row(2, "finished"), row(3, "finished")],
        );
        assert_eq!(done.status(), "finished");
        assert!(refuse(&done).is_ok());

        let partial = scan(false, vec![row(1, "finished"), row(2, "running")]);
        assert_eq!(partial.missing(), [3]);
        assert_eq!(partial.status(), "running");
        let e = refuse(&partial).unwrap_err().to_string();
        assert!(e.contains("shard 2/3 running since"), "{e}");
        assert!(e.contains("shard 3/3 never started"), "{e}");
        assert!(
            e.contains("--resume <output-dir>/nightly --shard 2/3"),
            "{e}"
        );
        assert!(e.contains("--partial"), "{e}");
        assert!(!e.contains('\n'), "{e}");

        let stopped = scan(
            false,
            vec![
                row(1, "finished"),
                row(2, "interrupted"),
                row(3, "finished"),
            ],
        );
        assert_eq!(stopped.status(), "incomplete");
        let e = refuse(&stopped).unwrap_err().to_string();
        assert!(
            e.contains("shard 2/3 interrupted") && !e.contains("never"),
            "{e}"
        );

        let waiting = scan(false, vec![row(1, "finished"), row(2, "finished")]);
        assert_eq!(waiting.status(), "incomplete");

        // A shard's own SQLite file: its shard only, finished there.
        let own_file = scan(true, vec![row(2, "finished")]);
        assert_eq!(own_file.status(), "finished");
        assert!(refuse(&own_file).is_ok());

        // Unsharded and old scans are never refused here.
        let mut single = scan(false, vec![row(1, "running")]);
        single.shards[0].count = 1;
        assert!(refuse(&single).is_ok());
        assert!(refuse(&scan(false, Vec::new())).is_ok());
    }
}
