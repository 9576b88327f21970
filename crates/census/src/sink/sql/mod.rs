//! The SQL sinks' one front-end: [`SqlSink`] cuts each call's result into rows on the
//! calling thread and hands them to a writer thread over a bounded channel; the writer
//! applies them in batched transactions ([`batch`]) through a [`SqlWriter`], the only
//! part that differs between SQLite ([`sqlite`]) and PostgreSQL ([`postgres`]). The
//! tables come from one column list ([`schema`]). Not for reading the stores (see
//! `census query` and `census diff`).
//!
//! What every SQL sink does:
//! - Memory stays flat whatever the scan's size: a call's items are cut into rows
//!   (JSON text, identifier, top-level members) and sent in chunks of
//!   [`Writing::chunk`] rows; the channel holds at most [`Writing::queue`] chunks.
//! - Rows are written in transactions of at most [`Writing::batch_rows`] rows or
//!   [`Writing::batch_time`]; a transaction ends as soon as nothing more is waiting
//!   (group commit), so small scans do not wait for timers.
//! - [`Sink::call`] returns once the call's rows are committed. Put a SQL sink before
//!   the JSON tree in the sink list: a call in the tree's journal is then always in the
//!   database too, and `--resume` (which re-runs only calls missing from the journal)
//!   leaves the database complete.
//! - Writes are idempotent: a call's earlier rows (from an interrupted run) are deleted
//!   before its new rows go in, and rows replace rows with the same key.
//! - A list call's resources also become `inventory` rows ([`inventory`]), sent with
//!   its last rows and written with them; its first rows delete its earlier ones.
//! - Views are (re)created when a stem is first written in a run and whenever its
//!   items show a top-level member not seen before.

use std::collections::{HashMap, HashSet};
use std::io;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use super::{AccountReport, CallRecord, DetailItem, ScanInfo, Sink, Totals};
use crate::inventory::{Enrichment, Resource};
use crate::store::items::{call_rows, column_members, ItemRow, ShapeCache};
use batch::{Ack, Batched};

pub mod batch;
pub mod inventory;
pub mod postgres;
pub mod resolve;
pub mod schema;
pub mod shards;
pub mod sqlite;

pub use postgres::PostgresSink;
pub use sqlite::SqliteSink;

/// How a writer thread takes rows.
#[derive(Debug, Clone, Copy)]
pub struct Writing {
    /// The thread's name.
    pub thread: &'static str,
    /// Rows per chunk sent to the writer.
    pub chunk: usize,
    /// Chunks waiting for the writer at most.
    pub queue: usize,
    /// Rows per transaction at most.
    pub batch_rows: usize,
    /// Time a transaction stays open at most.
    pub batch_time: Duration,
}

impl Writing {
    /// A writer thread `thread` taking chunks of `chunk` rows, at most `queue` of them
    /// waiting, in transactions of at most `batch_rows` rows or `batch_ms` milliseconds.
    pub const fn new(
        thread: &'static str,
        chunk: usize,
        queue: usize,
        batch_rows: usize,
        batch_ms: u64,
    ) -> Writing {
        Writing {
            thread,
            chunk,
            queue,
            batch_rows,
            batch_time: Duration::from_millis(batch_ms),
        }
    }
}

/// Why a sink cannot take a write.
#[derive(Debug, Clone, Copy)]
pub enum Stop {
    /// The sink was closed (the scan finished).
    Closed,
    /// The writer thread stopped.
    Stopped,
}

/// A database kind: where it is, how its writer opens, how big its batches are and
/// how its errors read.
pub trait Dialect: Send + Sync + 'static {
    /// Where the database is: a file, a URL.
    type Target: Clone + Send + Sync + 'static;
    /// The writer thread's state.
    type Writer: SqlWriter;
    /// How its writer thread takes rows.
    const WRITING: Writing;
    /// The sink's name in error messages.
    fn name(target: &Self::Target) -> String;
    /// The error of a write the sink cannot take.
    fn error(target: &Self::Target, stop: Stop) -> String;
    /// Opens the database, with its schema in place (on the writer thread).
    fn open(
        target: &Self::Target,
    ) -> Result<Self::Writer, Box<dyn std::error::Error + Send + Sync>>;
}

/// What a SQL database does with a scan's messages, on the writer thread. Every
/// method runs inside the open transaction unless it says otherwise.
pub trait SqlWriter: Send + 'static {
    type Error;
    /// The database kind, for the statements that differ.
    const DB: schema::Db;
    /// The error as the sink reports it.
    fn message(&self, e: &Self::Error) -> String;
    /// Logs the error that stopped the sink.
    fn log(&self, message: &str) {
        tracing::error!("{message}");
    }
    /// Starts a transaction.
    fn begin(&mut self) -> Result<(), Self::Error>;
    /// Commits the transaction (writing what was queued for it).
    fn commit(&mut self) -> Result<(), Self::Error>;
    /// Rolls the transaction back (errors ignored).
    fn rollback(&mut self);
    /// The scan starts or resumes.
    fn begin_scan(&mut self, scan: ScanInfo) -> Result<(), Self::Error>;
    fn write_account(&mut self, report: &AccountReport) -> Result<(), Self::Error>;
    /// Writes (or queues) rows of a call; returns the number of rows.
    fn write_rows(&mut self, rows: Rows) -> Result<usize, Self::Error>;
    fn write_call(&mut self, record: &CallRecord) -> Result<(), Self::Error>;
    /// The top-level members recorded for `stem` in `item_columns`.
    fn known_members(&mut self, stem: &str) -> Result<HashSet<String>, Self::Error>;
    /// Records new top-level members of `stem` in `item_columns`.
    fn add_members(&mut self, stem: &str, new: &[String]) -> Result<(), Self::Error>;
    /// (Re)creates the views of `stems`, in a transaction of its own.
    fn refresh_views(&mut self, stems: &[String]) -> Result<(), Self::Error>;
    /// Writes the scan's end time and totals.
    fn finish_totals(&mut self, scan: &ScanInfo, totals: &Totals) -> Result<(), Self::Error>;
    /// Runs each step's statement whose `when` query finds a row (both with the scan id
    /// as `$1`): [`resolve::statements`].
    fn run_for_scan(&mut self, scan_id: &str, steps: &[resolve::Step]) -> Result<(), Self::Error>;
    /// After the scan's last commit: leave the database as it should be at rest.
    fn at_rest(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
    /// Claims a scan id, outside any transaction (see [`PostgresSink::claim_scan_id`]).
    fn claim(&mut self, _id: &str) -> Result<bool, String> {
        Err("this database does not claim scan ids".into())
    }
    /// Every sender is gone without a finish message.
    fn abandoned(&mut self) {}
}

/// Which call rows belong to.
pub struct CallKey {
    pub account_id: String,
    pub region: String,
    pub stem: String,
    pub service: String,
    pub operation: String,
    /// A detail call's list call.
    pub parent: Option<String>,
}

impl CallKey {
    /// The `source` of the inventory rows the call's links start from: its list
    /// call's stem.
    pub fn from_source(&self) -> &str {
        self.parent.as_deref().unwrap_or(&self.stem)
    }
}

impl CallKey {
    fn of(record: &CallRecord) -> Arc<CallKey> {
        Arc::new(CallKey {
            account_id: record.account_id.clone(),
            region: record.region.clone(),
            stem: record.stem.clone(),
            service: record.service.clone(),
            operation: record.operation.clone(),
            parent: record.parent.clone(),
        })
    }
}

/// The `id_source` of a detail call's rows: their `resource_id` is their list item's.
pub const DETAIL_ID_SOURCE: &str = "list item";

/// Rows of a call; `first` (the call's first rows) deletes the call's earlier rows
/// (its `resources` and `inventory` rows).
pub struct Rows {
    pub call: Arc<CallKey>,
    pub first: bool,
    pub rows: Vec<ItemRow>,
    /// The call's `inventory` rows (all of them come with its last rows).
    pub inventory: Vec<Resource>,
    /// A detail call's additions to its list's `inventory` rows (with its last rows).
    pub enrich: Vec<Enrichment>,
}

/// What the sink sends its writer.
pub enum Msg {
    /// Claim a scan id: `Ok(true)` when it was free and is now this scan's.
    Claim(String, SyncSender<Result<bool, String>>),
    Begin(ScanInfo, shards::ShardRun, Ack),
    Account(Box<AccountReport>),
    /// Rows of a call.
    Rows(Rows),
    /// A call is complete: its last rows, its record and the top-level members its
    /// items had.
    Call {
        rows: Rows,
        record: Box<CallRecord>,
        members: Vec<String>,
        ack: Ack,
    },
    Finish {
        scan: ScanInfo,
        totals: Totals,
        accounts: Vec<AccountReport>,
        /// Resolve the inventory's links.
        inventory: bool,
        ack: Ack,
    },
}

/// A SQL sink: the front-end the executor calls, in front of a writer thread.
pub struct SqlSink<D: Dialect> {
    target: D::Target,
    sender: Mutex<Option<SyncSender<Msg>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    shapes: ShapeCache,
    inventory: inventory::Inventory,
    shard: shards::ShardRun,
}

impl<D: Dialect> SqlSink<D> {
    /// Starts the writer thread, which opens the database (creating the schema if
    /// needed); returns once it is open, or with the error that kept it from opening.
    pub fn start(target: &D::Target) -> io::Result<SqlSink<D>> {
        let (ready_tx, ready) = mpsc::sync_channel(1);
        let (tx, rx) = mpsc::sync_channel(D::WRITING.queue);
        let thread_target = target.clone();
        let writer = std::thread::Builder::new()
            .name(D::WRITING.thread.into())
            .spawn(move || match D::open(&thread_target) {
                Ok(w) => {
                    let _ = ready_tx.send(Ok(()));
                    let Writing {
                        batch_rows,
                        batch_time,
                        ..
                    } = D::WRITING;
                    batch::run(Runner::new(w), rx, batch_rows, batch_time);
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            })?;
        match ready.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let _ = writer.join();
                return Err(io::Error::other(e));
            }
            Err(_) => {
                let _ = writer.join();
                return Err(io::Error::other(D::error(target, Stop::Stopped)));
            }
        }
        Ok(SqlSink {
            target: target.clone(),
            sender: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            shapes: ShapeCache::default(),
            inventory: inventory::Inventory::default(),
            shard: shards::ShardRun::default(),
        })
    }

    /// With `false`, the sink writes no `inventory` or `links` rows and resolves no
    /// links when the scan finishes (`census scan --no-inventory`).
    pub fn with_inventory(mut self, on: bool) -> Self {
        self.inventory.enabled = on;
        self
    }

    /// The shard this run is (1/1 by default) and its flags, for `scan_shards`.
    pub fn with_shard(mut self, run: shards::ShardRun) -> Self {
        self.shard = run;
        self
    }

    /// Where the database is.
    pub fn target(&self) -> &D::Target {
        &self.target
    }

    fn stopped(&self) -> io::Error {
        io::Error::other(D::error(&self.target, Stop::Stopped))
    }

    fn send(&self, msg: Msg) -> io::Result<()> {
        let sender = self
            .sender
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| io::Error::other(D::error(&self.target, Stop::Closed)))?;
        sender.send(msg).map_err(|_| self.stopped())
    }

    fn wait<T>(&self, ack: Receiver<Result<T, String>>) -> io::Result<T> {
        match ack.recv() {
            Ok(r) => r.map_err(io::Error::other),
            Err(_) => Err(self.stopped()),
        }
    }

    /// Sends a call's last rows with its record; returns once they are committed.
    fn end_call(&self, record: &CallRecord, rows: Rows, members: Vec<String>) -> io::Result<()> {
        let (ack, done) = mpsc::sync_channel(1);
        self.send(Msg::Call {
            rows,
            record: Box::new(record.clone()),
            members,
            ack,
        })?;
        self.wait(done)
    }

    /// Stops the writer after what was sent is written.
    fn close(&self) {
        self.sender.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(w) = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = w.join();
        }
    }
}

impl<D: Dialect> Drop for SqlSink<D> {
    fn drop(&mut self) {
        self.close();
    }
}

impl<D: Dialect> Sink for SqlSink<D> {
    fn name(&self) -> String {
        D::name(&self.target)
    }

    fn begin(&self, scan: &ScanInfo) -> io::Result<()> {
        let (ack, done) = mpsc::sync_channel(1);
        self.send(Msg::Begin(scan.clone(), self.shard.clone(), ack))?;
        self.wait(done)
    }

    fn account(&self, report: &AccountReport) -> io::Result<()> {
        self.inventory.account(report);
        self.send(Msg::Account(Box::new(report.clone())))
    }

    fn call(&self, record: &CallRecord, result: Option<&Value>) -> io::Result<()> {
        let call = CallKey::of(record);
        let mut first = true;
        let inventory = result.map_or_else(Vec::new, |r| self.inventory.rows(record, r));
        let (rows, members) = match result {
            Some(result) => {
                let shapes = self.shapes.get(&record.service, &record.operation);
                call_rows(&shapes, result, D::WRITING.chunk, |rows| {
                    let msg = Msg::Rows(Rows {
                        call: call.clone(),
                        first,
                        rows,
                        inventory: Vec::new(),
                        enrich: Vec::new(),
                    });
                    first = false;
                    self.send(msg)
                })?
            }
            None => (Vec::new(), Vec::new()),
        };
        let rows = Rows {
            call,
            first,
            rows,
            inventory,
            enrich: Vec::new(),
        };
        self.end_call(record, rows, members)
    }

    /// One row per list item, keyed by the item's `resource_id` (a detail view joins
    /// its list's view on it), holding the detail's result or `{"absent": ...}` /
    /// `{"error": ...}`.
    fn details(&self, record: &CallRecord, items: &[DetailItem]) -> io::Result<()> {
        let call = CallKey::of(record);
        let mut first = true;
        let mut members: Vec<String> = Vec::new();
        let mut rows = Vec::new();
        for item in items {
            let value = item.outcome.to_value();
            for m in column_members(&value) {
                if !members.iter().any(|x| x == m) {
                    members.push(m.to_string());
                }
            }
            rows.push(ItemRow {
                resource_id: item.resource_id.clone(),
                id_source: DETAIL_ID_SOURCE.to_string(),
                member: String::new(),
                item: value.to_string(),
            });
            if rows.len() >= D::WRITING.chunk {
                self.send(Msg::Rows(Rows {
                    call: call.clone(),
                    first,
                    rows: std::mem::take(&mut rows),
                    inventory: Vec::new(),
                    enrich: Vec::new(),
                }))?;
                first = false;
            }
        }
        let rows = Rows {
            call,
            first,
            rows,
            inventory: Vec::new(),
            enrich: self.inventory.enrichments(record, items),
        };
        self.end_call(record, rows, members)
    }

    fn finish(
        &self,
        scan: &ScanInfo,
        totals: &Totals,
        accounts: &[AccountReport],
    ) -> io::Result<()> {
        let (ack, done) = mpsc::sync_channel(1);
        self.send(Msg::Finish {
            scan: scan.clone(),
            totals: totals.clone(),
            accounts: accounts.to_vec(),
            inventory: self.inventory.enabled,
            ack,
        })?;
        let r = self.wait(done);
        self.close();
        r
    }
}

/// Counts as SQL integers, which are signed.
pub fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The writer thread's state around a [`SqlWriter`]: the first error (every later
/// request fails with it) and the view columns known per stem.
struct Runner<W: SqlWriter> {
    w: W,
    /// Top-level members per stem, as recorded in `item_columns`.
    members: HashMap<String, HashSet<String>>,
    /// Stems whose view must be (re)created after the transaction.
    dirty: HashSet<String>,
    error: Option<String>,
    /// The scan id and shard of the scan begun.
    shard: Option<(String, shards::ShardRun)>,
}

impl<W: SqlWriter> Runner<W> {
    fn new(w: W) -> Runner<W> {
        Runner {
            w,
            members: HashMap::new(),
            dirty: HashSet::new(),
            error: None,
            shard: None,
        }
    }

    fn fail(&mut self, e: &W::Error) {
        let message = self.w.message(e);
        self.w.log(&message);
        if self.error.is_none() {
            self.error = Some(message);
        }
    }

    /// Applies one message inside the open transaction; returns the rows written.
    fn apply_msg(&mut self, msg: Msg, acks: &mut Vec<Ack>) -> Result<usize, W::Error> {
        match msg {
            Msg::Claim(_, ack) => {
                let _ = ack.send(Err("a scan id is claimed before the scan begins".into()));
                Ok(0)
            }
            Msg::Begin(scan, run, ack) => {
                acks.push(ack);
                self.w.run_for_scan(&scan.id, &shards::begin(W::DB, &run))?;
                self.shard = Some((scan.id.clone(), run));
                self.w.begin_scan(scan)?;
                Ok(1)
            }
            Msg::Account(report) => {
                self.w.write_account(&report)?;
                Ok(1)
            }
            Msg::Rows(rows) => self.w.write_rows(rows),
            Msg::Call {
                rows,
                record,
                members,
                ack,
            } => {
                acks.push(ack);
                let n = self.w.write_rows(rows)?;
                self.w.write_call(&record)?;
                self.write_members(&record.stem, &members)?;
                Ok(n + 1)
            }
            Msg::Finish { ack, .. } => {
                acks.push(ack);
                Ok(0)
            }
        }
    }

    /// Records the stem's new top-level members; marks its view for (re)creation when it
    /// is new to this run or gained columns.
    fn write_members(&mut self, stem: &str, members: &[String]) -> Result<(), W::Error> {
        if !self.members.contains_key(stem) {
            let known = self.w.known_members(stem)?;
            self.members.insert(stem.to_string(), known);
            self.dirty.insert(stem.to_string());
        }
        let known = &self.members[stem];
        let new: Vec<String> = members
            .iter()
            .filter(|m| !known.contains(*m))
            .cloned()
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        self.w.add_members(stem, &new)?;
        self.members
            .get_mut(stem)
            .expect("loaded above")
            .extend(new);
        self.dirty.insert(stem.to_string());
        Ok(())
    }

    /// Records that the scan's shard stopped before finishing (errors logged only: the
    /// scan's own error is the one reported).
    fn shard_stopped(&mut self, how: shards::Stopped) {
        if let Some((id, run)) = self.shard.take() {
            if let Err(e) = self.w.run_for_scan(&id, &shards::stopped(W::DB, &run, how)) {
                tracing::warn!(
                    "could not mark shard {} {}: {}",
                    run.shard,
                    how.as_str(),
                    self.w.message(&e)
                );
            }
        }
    }

    /// The scan's accounts and totals in one transaction, then the database at rest.
    fn finish_scan(
        &mut self,
        scan: &ScanInfo,
        totals: &Totals,
        accounts: &[AccountReport],
        inventory: bool,
    ) -> Result<(), W::Error> {
        self.w.begin()?;
        let result = (|| {
            for a in accounts {
                self.w.write_account(a)?;
            }
            // The inventory's ARNs, tags and links across the whole scan.
            if inventory {
                let started = std::time::Instant::now();
                self.w.run_for_scan(&scan.id, &resolve::statements(W::DB))?;
                tracing::debug!("inventory links resolved in {:?}", started.elapsed());
            }
            // Views of stems this run did not write stay as they are; those it wrote
            // now point at this finished scan.
            self.w.finish_totals(scan, totals)?;
            // The scan's shard row; the scan is finished when all its shards are.
            let run = self
                .shard
                .as_ref()
                .map_or_else(Default::default, |s| s.1.clone());
            self.w
                .run_for_scan(&scan.id, &shards::finish(W::DB, &run, totals))
        })();
        match result {
            Ok(()) => self.w.commit()?,
            Err(e) => {
                self.w.rollback();
                return Err(e);
            }
        }
        self.w.at_rest()
    }
}

impl<W: SqlWriter> Batched for Runner<W> {
    type Msg = Msg;

    fn outside(&mut self, msg: Msg) -> Option<Msg> {
        match msg {
            Msg::Claim(id, ack) => {
                let _ = ack.send(self.w.claim(&id));
                None
            }
            other => Some(other),
        }
    }

    fn is_finish(msg: &Msg) -> bool {
        matches!(msg, Msg::Finish { .. })
    }

    fn error(&self) -> Option<&String> {
        self.error.as_ref()
    }

    fn begin(&mut self) -> bool {
        match self.w.begin() {
            Ok(()) => true,
            Err(e) => {
                self.fail(&e);
                false
            }
        }
    }

    fn apply(&mut self, msg: Msg, acks: &mut Vec<Ack>) -> usize {
        self.apply_msg(msg, acks).unwrap_or_else(|e| {
            self.fail(&e);
            0
        })
    }

    fn ack_of(msg: Msg, acks: &mut Vec<Ack>) {
        match msg {
            Msg::Begin(_, _, ack) | Msg::Call { ack, .. } | Msg::Finish { ack, .. } => {
                acks.push(ack)
            }
            Msg::Claim(_, ack) => {
                let _ = ack.send(Err("the scan had already begun".into()));
            }
            Msg::Account(_) | Msg::Rows(_) => {}
        }
    }

    /// Commits (writing what the transaction queued), or rolls back after an error.
    fn end(&mut self) {
        if self.error.is_none() {
            if let Err(e) = self.w.commit() {
                self.fail(&e);
            }
        }
        if self.error.is_some() {
            self.w.rollback();
        }
    }

    fn refresh_views(&mut self) {
        if self.dirty.is_empty() {
            return;
        }
        let mut stems: Vec<String> = self.dirty.drain().collect();
        stems.sort();
        if let Err(e) = self.w.refresh_views(&stems) {
            self.fail(&e);
        }
    }

    fn finish(&mut self, msg: Msg) {
        if let Msg::Finish {
            scan,
            totals,
            accounts,
            inventory,
            ack,
        } = msg
        {
            let r = match &self.error {
                Some(e) => Err(e.clone()),
                None => self
                    .finish_scan(&scan, &totals, &accounts, inventory)
                    .map_err(|e| self.w.message(&e)),
            };
            if r.is_err() {
                self.shard_stopped(shards::Stopped::Failed);
            }
            let _ = ack.send(r);
        }
    }

    fn abandoned(&mut self) {
        self.w.abandoned();
        // The scan stopped without finishing: interrupted, unless this writer failed.
        let how = match self.error {
            Some(_) => shards::Stopped::Failed,
            None => shards::Stopped::Interrupted,
        };
        self.shard_stopped(how);
    }
}
