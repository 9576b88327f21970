//! The SQLite store (`<output-dir>/census.db` by default): every scan of an output
//! folder accumulates in one database, so that `census query` can ask about the latest
//! scan and `census diff` can compare any two. The schema, the views and the identity
//! of resources are described in [`crate::store`].
//!
//! How it writes:
//! - One writer thread owns the connection and takes rows over a bounded channel, so
//!   memory stays flat whatever the scan's size: a call's items are cut into rows (JSON
//!   text, identifier, top-level members) on the calling thread and sent in chunks of
//!   [`CHUNK`]; the channel holds at most [`QUEUE`] chunks.
//! - Rows are written in transactions of at most [`BATCH_ROWS`] rows or [`BATCH_TIME`];
//!   a transaction ends as soon as nothing more is waiting (group commit), so small
//!   scans do not wait for timers.
//! - [`Sink::call`] returns once the call's rows are committed. Put this sink before
//!   the JSON tree in the sink list: a call in the tree's journal is then always in the
//!   database too, and `--resume` (which re-runs only calls missing from the journal)
//!   leaves the database complete.
//! - Writes are idempotent: a call's earlier rows (from an interrupted run) are deleted
//!   before its new rows go in, and rows replace rows with the same key.
//! - Views are (re)created when a stem is first written in a run and whenever its
//!   items show a top-level member not seen before.
//! - At the end the WAL is checkpointed and the database returns to rollback-journal
//!   mode, so that at rest it is the one file `census.db` (for copies and uploads).

use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{params, Connection};
use serde_json::Value;

use super::batch::{self, Ack, Batched};
use super::{AccountReport, CallRecord, ScanInfo, Sink, Totals};
use crate::store::items::{call_rows, ItemRow, ShapeCache};
use crate::store::sqlite::{open_for_writing, refresh_view};

/// Rows per chunk sent to the writer.
pub const CHUNK: usize = 256;
/// Chunks waiting for the writer at most.
pub const QUEUE: usize = 64;
/// Rows per transaction at most.
pub const BATCH_ROWS: usize = 2000;
/// Time a transaction stays open at most.
pub const BATCH_TIME: Duration = Duration::from_millis(100);

/// Which call rows belong to.
struct CallKey {
    account_id: String,
    region: String,
    stem: String,
    service: String,
    operation: String,
}

enum Msg {
    Begin(ScanInfo, Ack),
    Account(Box<AccountReport>),
    /// Rows of a call; `first` deletes the call's earlier rows.
    Rows {
        call: Arc<CallKey>,
        first: bool,
        rows: Vec<ItemRow>,
    },
    /// A call is complete: its record and the top-level members its items had.
    Call {
        call: Arc<CallKey>,
        first: bool,
        rows: Vec<ItemRow>,
        record: Box<CallRecord>,
        members: Vec<String>,
        ack: Ack,
    },
    Finish {
        scan: ScanInfo,
        totals: Totals,
        accounts: Vec<AccountReport>,
        ack: Ack,
    },
}

/// The SQLite sink.
pub struct SqliteSink {
    path: PathBuf,
    sender: Mutex<Option<SyncSender<Msg>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    shapes: ShapeCache,
}

impl SqliteSink {
    /// Opens (creating if needed) the database at `path` and starts its writer.
    pub fn open(path: &Path) -> io::Result<SqliteSink> {
        let conn = open_for_writing(path).map_err(io::Error::other)?;
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let writer = std::thread::Builder::new()
            .name("census-sqlite".into())
            .spawn(move || batch::run(Writer::new(conn), rx, BATCH_ROWS, BATCH_TIME))?;
        Ok(SqliteSink {
            path: path.to_path_buf(),
            sender: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            shapes: ShapeCache::default(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn send(&self, msg: Msg) -> io::Result<()> {
        let sender = self
            .sender
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| io::Error::other("the database was already closed"))?;
        sender
            .send(msg)
            .map_err(|_| io::Error::other("the database writer stopped"))
    }

    fn wait(ack: Receiver<Result<(), String>>) -> io::Result<()> {
        match ack.recv() {
            Ok(r) => r.map_err(io::Error::other),
            Err(_) => Err(io::Error::other("the database writer stopped")),
        }
    }

    /// Stops the writer after what was sent is written.
    fn close(&self) {
        self.sender.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(w) = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = w.join();
        }
    }
}

impl Drop for SqliteSink {
    fn drop(&mut self) {
        self.close();
    }
}

impl Sink for SqliteSink {
    fn name(&self) -> String {
        format!("SQLite database {}", self.path.display())
    }

    fn begin(&self, scan: &ScanInfo) -> io::Result<()> {
        let (ack, done) = mpsc::sync_channel(1);
        self.send(Msg::Begin(scan.clone(), ack))?;
        Self::wait(done)
    }

    fn account(&self, report: &AccountReport) -> io::Result<()> {
        self.send(Msg::Account(Box::new(report.clone())))
    }

    fn call(&self, record: &CallRecord, result: Option<&Value>) -> io::Result<()> {
        let call = Arc::new(CallKey {
            account_id: record.account_id.clone(),
            region: record.region.clone(),
            stem: record.stem.clone(),
            service: record.service.clone(),
            operation: record.operation.clone(),
        });
        let mut first = true;
        let (rows, members) = match result {
            Some(result) => {
                let shapes = self.shapes.get(&record.service, &record.operation);
                call_rows(&shapes, result, CHUNK, |rows| {
                    let msg = Msg::Rows {
                        call: call.clone(),
                        first,
                        rows,
                    };
                    first = false;
                    self.send(msg)
                })?
            }
            None => (Vec::new(), Vec::new()),
        };
        let (ack, done) = mpsc::sync_channel(1);
        self.send(Msg::Call {
            call,
            first,
            rows,
            record: Box::new(record.clone()),
            members,
            ack,
        })?;
        Self::wait(done)
    }

    fn finish(
        &self,
        scan: &ScanInfo,
        totals: &Totals,
        accounts: &[AccountReport],
        _records: &[CallRecord],
    ) -> io::Result<()> {
        let (ack, done) = mpsc::sync_channel(1);
        self.send(Msg::Finish {
            scan: scan.clone(),
            totals: totals.clone(),
            accounts: accounts.to_vec(),
            ack,
        })?;
        let r = Self::wait(done);
        self.close();
        r
    }
}

/// SQLite integers are signed.
fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The writer thread's state.
struct Writer {
    conn: Connection,
    scan_id: Option<String>,
    /// Top-level members per stem, as recorded in `item_columns`.
    members: HashMap<String, HashSet<String>>,
    /// Stems whose view must be (re)created after the transaction.
    dirty: HashSet<String>,
    /// The first error: every later request fails with it.
    error: Option<String>,
}

impl Writer {
    fn new(conn: Connection) -> Writer {
        Writer {
            conn,
            scan_id: None,
            members: HashMap::new(),
            dirty: HashSet::new(),
            error: None,
        }
    }

    fn exec(&self, sql: &str) -> rusqlite::Result<()> {
        self.conn.execute_batch(sql)
    }

    fn fail(&mut self, e: rusqlite::Error) {
        tracing::error!("census.db: {e}");
        if self.error.is_none() {
            self.error = Some(e.to_string());
        }
    }

    fn scan_id(&self) -> rusqlite::Result<&str> {
        self.scan_id.as_deref().ok_or(rusqlite::Error::InvalidQuery)
    }

    /// Applies one message inside the open transaction; returns the rows written.
    fn apply_msg(&mut self, msg: Msg, acks: &mut Vec<Ack>) -> rusqlite::Result<usize> {
        match msg {
            Msg::Begin(scan, ack) => {
                acks.push(ack);
                self.conn.execute(
                    "INSERT INTO scans (scan_id, seq, started, version, resumed)
                     VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM scans), ?2, ?3, ?4)
                     ON CONFLICT (scan_id) DO UPDATE SET resumed = excluded.resumed,
                         finished = NULL, version = excluded.version",
                    params![scan.id, scan.started, scan.version, scan.resumed],
                )?;
                self.scan_id = Some(scan.id);
                Ok(1)
            }
            Msg::Account(report) => {
                self.write_account(&report)?;
                Ok(1)
            }
            Msg::Rows { call, first, rows } => self.write_rows(&call, first, &rows),
            Msg::Call {
                call,
                first,
                rows,
                record,
                members,
                ack,
            } => {
                acks.push(ack);
                let n = self.write_rows(&call, first, &rows)?;
                self.write_call(&record)?;
                self.write_members(&record.stem, &members)?;
                Ok(n + 1)
            }
            Msg::Finish { ack, .. } => {
                acks.push(ack);
                Ok(0)
            }
        }
    }

    fn write_rows(&self, call: &CallKey, first: bool, rows: &[ItemRow]) -> rusqlite::Result<usize> {
        let scan_id = self.scan_id()?;
        if first {
            self.conn
                .prepare_cached(
                    "DELETE FROM resources WHERE scan_id = ?1 AND stem = ?2 AND account_id = ?3
                     AND region = ?4",
                )?
                .execute(params![scan_id, call.stem, call.account_id, call.region])?;
        }
        let mut insert = self.conn.prepare_cached(
            "INSERT OR REPLACE INTO resources (scan_id, stem, account_id, region, resource_id,
             service, operation, member, id_source, item)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        for r in rows {
            insert.execute(params![
                scan_id,
                call.stem,
                call.account_id,
                call.region,
                r.resource_id,
                call.service,
                call.operation,
                r.member,
                r.id_source,
                r.item
            ])?;
        }
        Ok(rows.len())
    }

    fn write_call(&self, r: &CallRecord) -> rusqlite::Result<()> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO calls (scan_id, account_id, region, stem, service,
                 function, operation, status, error_code, error_message, request_id, pages,
                 items, duration_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?
            .execute(params![
                self.scan_id()?,
                r.account_id,
                r.region,
                r.stem,
                r.service,
                r.function,
                r.operation,
                r.status.as_str(),
                r.error_code,
                r.error_message,
                r.request_id,
                i64::from(r.pages),
                int(r.items),
                int(r.duration_ms)
            ])?;
        Ok(())
    }

    /// Records the stem's new top-level members; marks its view for (re)creation when it
    /// is new to this run or gained columns.
    fn write_members(&mut self, stem: &str, members: &[String]) -> rusqlite::Result<()> {
        if !self.members.contains_key(stem) {
            let known: HashSet<String> = self
                .conn
                .prepare_cached("SELECT name FROM item_columns WHERE stem = ?1")?
                .query_map([stem], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            self.members.insert(stem.to_string(), known);
            self.dirty.insert(stem.to_string());
        }
        let known = self.members.get_mut(stem).expect("loaded above");
        for m in members {
            if known.contains(m) {
                continue;
            }
            self.conn
                .prepare_cached(
                    "INSERT OR IGNORE INTO item_columns (stem, name, position)
                     VALUES (?1, ?2, (SELECT COALESCE(MAX(position), 0) + 1 FROM item_columns
                     WHERE stem = ?1))",
                )?
                .execute(params![stem, m])?;
            known.insert(m.clone());
            self.dirty.insert(stem.to_string());
        }
        Ok(())
    }

    fn write_account(&self, report: &AccountReport) -> rusqlite::Result<()> {
        let a = &report.account;
        let tags = serde_json::to_string(&a.tags).unwrap_or_else(|_| "{}".into());
        let regions = serde_json::to_string(&report.regions).unwrap_or_else(|_| "[]".into());
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO accounts (scan_id, account_id, name, email, status,
                 partition, org_id, management_account_id, ou_id, ou_path, tags, source,
                 scan_status, regions, error_code, error_message, remediation)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                 ?17)",
            )?
            .execute(params![
                self.scan_id()?,
                a.id,
                a.name,
                a.email,
                a.status,
                a.partition,
                a.org_id,
                a.management_account_id,
                a.ou_id,
                a.ou_path,
                tags,
                a.source,
                report.status.as_str(),
                regions,
                report.error_code,
                report.error_message,
                report.remediation
            ])?;
        Ok(())
    }

    fn update_views(&mut self) {
        if self.dirty.is_empty() {
            return;
        }
        let mut stems: Vec<String> = self.dirty.drain().collect();
        stems.sort();
        let result = (|| {
            self.exec("BEGIN IMMEDIATE")?;
            for stem in &stems {
                refresh_view(&self.conn, stem)?;
            }
            self.exec("COMMIT")
        })();
        if let Err(e) = result {
            let _ = self.exec("ROLLBACK");
            self.fail(e);
        }
    }

    fn finish_scan(
        &mut self,
        scan: &ScanInfo,
        totals: &Totals,
        accounts: &[AccountReport],
    ) -> rusqlite::Result<()> {
        self.exec("BEGIN IMMEDIATE")?;
        let result = (|| {
            for a in accounts {
                self.write_account(a)?;
            }
            let finished = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            self.conn.execute(
                "UPDATE scans SET finished = ?2, accounts = ?3, accounts_failed = ?4, calls = ?5,
                 calls_failed = ?6, items = ?7, pages = ?8 WHERE scan_id = ?1",
                params![
                    scan.id,
                    finished,
                    int(totals.accounts),
                    int(totals.accounts_failed),
                    int(totals.calls),
                    int(totals.calls_failed),
                    int(totals.items),
                    int(totals.pages)
                ],
            )?;
            // Views of stems this run did not write stay as they are; those it wrote
            // now point at this finished scan.
            Ok(())
        })();
        match result {
            Ok(()) => self.exec("COMMIT")?,
            Err(e) => {
                let _ = self.exec("ROLLBACK");
                return Err(e);
            }
        }
        self.exec("PRAGMA optimize")?;
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        // At rest the database is one file (readers then leave no -wal/-shm files
        // behind); the next writer turns WAL on again. Fails, harmlessly, while a
        // reader has it open.
        if let Err(e) = self.conn.pragma_update(None, "journal_mode", "DELETE") {
            tracing::debug!("census.db stays in WAL mode: {e}");
        }
        Ok(())
    }
}

impl Batched for Writer {
    type Msg = Msg;

    fn is_finish(msg: &Msg) -> bool {
        matches!(msg, Msg::Finish { .. })
    }

    fn error(&self) -> Option<&String> {
        self.error.as_ref()
    }

    fn begin(&mut self) -> bool {
        match self.exec("BEGIN IMMEDIATE") {
            Ok(()) => true,
            Err(e) => {
                self.fail(e);
                false
            }
        }
    }

    fn apply(&mut self, msg: Msg, acks: &mut Vec<Ack>) -> usize {
        self.apply_msg(msg, acks).unwrap_or_else(|e| {
            self.fail(e);
            0
        })
    }

    fn ack_of(msg: Msg, acks: &mut Vec<Ack>) {
        match msg {
            Msg::Begin(_, ack) | Msg::Call { ack, .. } | Msg::Finish { ack, .. } => acks.push(ack),
            Msg::Account(_) | Msg::Rows { .. } => {}
        }
    }

    fn end(&mut self) {
        if self.error.is_none() {
            if let Err(e) = self.exec("COMMIT") {
                self.fail(e);
            }
        }
        if self.error.is_some() {
            let _ = self.exec("ROLLBACK");
        }
    }

    fn refresh_views(&mut self) {
        self.update_views();
    }

    fn finish(&mut self, msg: Msg) {
        if let Msg::Finish {
            scan,
            totals,
            accounts,
            ack,
        } = msg
        {
            let r = match &self.error {
                Some(e) => Err(e.clone()),
                None => self
                    .finish_scan(&scan, &totals, &accounts)
                    .map_err(|e| e.to_string()),
            };
            let _ = ack.send(r);
        }
    }
}
