//! The PostgreSQL sink (`census scan --postgres URL`): the same rows and views as the
//! SQLite sink (see [`crate::store`] and [`crate::store::postgres`] for the
//! differences), in a database that several scanners may write to at once.
//!
//! How it writes:
//! - One writer thread owns the connection and takes rows over a bounded channel
//!   (chunks of [`CHUNK`] rows, at most [`QUEUE`] chunks waiting), so memory stays flat
//!   whatever the scan's size; a call's items are cut into rows on the calling thread.
//! - Rows and calls are queued per transaction (at most [`BATCH_ROWS`] rows or
//!   [`BATCH_TIME`], committed as soon as nothing more is waiting) and written at its
//!   end as one `INSERT ... SELECT FROM unnest(...)` for the rows and one for the calls:
//!   a few round trips per transaction, however many calls it holds.
//! - [`Sink::call`] returns once the call's rows are committed: put this sink before
//!   the JSON tree, so that `--resume` leaves the database complete.
//! - Writes are idempotent: a call's earlier rows are deleted before its new rows go
//!   in (unless the scan's id was just claimed, so that it has no rows yet), and rows
//!   replace rows with the same key.
//! - Scanners writing at once: each claims its scan id first
//!   ([`PostgresSink::claim_scan_id`]; a taken id gets `-2`, `-3`...), rows of different
//!   scans never share a key, and new view columns and view changes are made under an
//!   advisory lock.

use std::collections::{HashMap, HashSet};
use std::io;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use postgres::{Client, Statement};
use serde_json::Value;

use super::batch::{self, Ack, Batched};
use super::{AccountReport, CallRecord, ScanInfo, Sink, Totals};
use crate::store::items::{call_rows, ItemRow, ShapeCache};
use crate::store::postgres::{error_text, pg_json, pg_text, refresh_view, PgUrl, LOCK};

/// Rows per chunk sent to the writer (and per INSERT).
pub const CHUNK: usize = 500;
/// Chunks waiting for the writer at most (with [`CHUNK`], at most 4,000 rows held).
pub const QUEUE: usize = 8;
/// Rows per transaction at most.
pub const BATCH_ROWS: usize = 5000;
/// Time a transaction stays open at most.
pub const BATCH_TIME: Duration = Duration::from_millis(200);

/// Which call rows belong to.
struct CallKey {
    account_id: String,
    region: String,
    stem: String,
    service: String,
    operation: String,
}

/// A queued row and the call it belongs to.
type Pending = (Arc<CallKey>, ItemRow);

enum Msg {
    /// Claim a scan id: `Ok(true)` when it was free and is now this scan's.
    Claim(String, SyncSender<Result<bool, String>>),
    Begin(ScanInfo, Ack),
    Account(Box<AccountReport>),
    Rows {
        call: Arc<CallKey>,
        first: bool,
        rows: Vec<ItemRow>,
    },
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

/// The PostgreSQL sink.
pub struct PostgresSink {
    url: PgUrl,
    sender: Mutex<Option<SyncSender<Msg>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    shapes: ShapeCache,
}

impl PostgresSink {
    /// Connects, creates the schema if needed, and starts the writer. The error is one
    /// line naming the database (without its password) and what to do.
    pub fn open(url: &PgUrl) -> io::Result<PostgresSink> {
        let (ready_tx, ready) = mpsc::sync_channel(1);
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let thread_url = url.clone();
        let writer = std::thread::Builder::new()
            .name("census-postgres".into())
            .spawn(move || {
                let writer = thread_url
                    .open_for_writing()
                    .map_err(|e| e.0)
                    .and_then(|client| {
                        Writer::new(client, thread_url.clone())
                            .map_err(|e| thread_url.error(&error_text(&e)).0)
                    });
                match writer {
                    Ok(w) => {
                        let _ = ready_tx.send(Ok(()));
                        batch::run(w, rx, BATCH_ROWS, BATCH_TIME);
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
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
                return Err(io::Error::other(url.error("the database writer stopped").0));
            }
        }
        Ok(PostgresSink {
            url: url.clone(),
            sender: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            shapes: ShapeCache::default(),
        })
    }

    /// Claims `id` for a new scan: true when no scan had it (it is then this scan's,
    /// and no other scanner can take it), false when it is taken. A claimed id whose
    /// scan never begins is released when the sink closes.
    pub fn claim_scan_id(&self, id: &str) -> io::Result<bool> {
        let (ack, done) = mpsc::sync_channel(1);
        self.send(Msg::Claim(id.to_string(), ack))?;
        match done.recv() {
            Ok(r) => r.map_err(io::Error::other),
            Err(_) => Err(self.stopped()),
        }
    }

    fn stopped(&self) -> io::Error {
        io::Error::other(self.url.error("the database writer stopped").0)
    }

    fn send(&self, msg: Msg) -> io::Result<()> {
        let sender = self
            .sender
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| io::Error::other(self.url.error("already closed").0))?;
        sender.send(msg).map_err(|_| self.stopped())
    }

    fn wait(&self, ack: Receiver<Result<(), String>>) -> io::Result<()> {
        match ack.recv() {
            Ok(r) => r.map_err(io::Error::other),
            Err(_) => Err(self.stopped()),
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

impl Drop for PostgresSink {
    fn drop(&mut self) {
        self.close();
    }
}

impl Sink for PostgresSink {
    fn name(&self) -> String {
        format!("PostgreSQL database {}", self.url)
    }

    fn begin(&self, scan: &ScanInfo) -> io::Result<()> {
        let (ack, done) = mpsc::sync_channel(1);
        self.send(Msg::Begin(scan.clone(), ack))?;
        self.wait(done)
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
        self.wait(done)
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
        let r = self.wait(done);
        self.close();
        r
    }
}

/// Counts are `bigint`.
fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

struct Statements {
    delete_call_rows: Statement,
    insert_rows: Statement,
    upsert_calls: Statement,
    upsert_account: Statement,
    insert_member: Statement,
}

/// The writer thread's state.
struct Writer {
    client: Client,
    url: PgUrl,
    st: Statements,
    scan_id: Option<String>,
    /// An id claimed by this sink whose scan has not begun.
    claimed: Option<String>,
    members: HashMap<String, HashSet<String>>,
    dirty: HashSet<String>,
    /// Whether the open transaction holds the advisory lock.
    locked: bool,
    /// True when this sink claimed the scan's id: no call of the scan has rows yet, so
    /// nothing needs deleting before a call's rows go in.
    fresh: bool,
    /// Rows and calls of the open transaction, written by [`Writer::flush`] in one
    /// statement each before it commits.
    pending_rows: Vec<Pending>,
    /// The calls written in this run: one written again has its earlier rows deleted.
    written: HashSet<(String, String, String)>,
    pending_calls: Vec<CallRecord>,
    error: Option<String>,
}

impl Writer {
    fn new(mut client: Client, url: PgUrl) -> Result<Writer, postgres::Error> {
        let st = Statements {
            delete_call_rows: client.prepare(
                "DELETE FROM resources WHERE scan_id = $1 AND stem = $2 AND account_id = $3
                 AND region = $4",
            )?,
            insert_rows: client.prepare(
                "INSERT INTO resources (scan_id, stem, account_id, region, resource_id, service,
                 operation, member, id_source, item)
                 SELECT $1, u.stem, u.account_id, u.region, u.resource_id, u.service,
                        u.operation, u.member, u.id_source, CAST(u.item AS jsonb)
                 FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                             $7::text[], $8::text[], $9::text[], $10::text[])
                      AS u(stem, account_id, region, resource_id, service, operation, member,
                           id_source, item)
                 ON CONFLICT (scan_id, stem, account_id, region, resource_id) DO UPDATE SET
                     service = excluded.service, operation = excluded.operation,
                     member = excluded.member, id_source = excluded.id_source,
                     item = excluded.item",
            )?,
            upsert_calls: client.prepare(
                "INSERT INTO calls (scan_id, account_id, region, stem, service, function,
                 operation, status, error_code, error_message, request_id, pages, items,
                 duration_ms)
                 SELECT $1, u.* FROM unnest($2::text[], $3::text[], $4::text[], $5::text[],
                     $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
                     $12::bigint[], $13::bigint[], $14::bigint[])
                     AS u(account_id, region, stem, service, function, operation, status,
                          error_code, error_message, request_id, pages, items, duration_ms)
                 ON CONFLICT (scan_id, account_id, region, stem) DO UPDATE SET
                     service = excluded.service, function = excluded.function,
                     operation = excluded.operation, status = excluded.status,
                     error_code = excluded.error_code, error_message = excluded.error_message,
                     request_id = excluded.request_id, pages = excluded.pages,
                     items = excluded.items, duration_ms = excluded.duration_ms",
            )?,
            upsert_account: client.prepare(
                "INSERT INTO accounts (scan_id, account_id, name, email, status, partition,
                 org_id, management_account_id, ou_id, ou_path, tags, source, scan_status,
                 regions, error_code, error_message, remediation)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, CAST($11::text AS jsonb), $12,
                         $13, CAST($14::text AS jsonb), $15, $16, $17)
                 ON CONFLICT (scan_id, account_id) DO UPDATE SET
                     name = excluded.name, email = excluded.email, status = excluded.status,
                     partition = excluded.partition, org_id = excluded.org_id,
                     management_account_id = excluded.management_account_id,
                     ou_id = excluded.ou_id, ou_path = excluded.ou_path, tags = excluded.tags,
                     source = excluded.source, scan_status = excluded.scan_status,
                     regions = excluded.regions, error_code = excluded.error_code,
                     error_message = excluded.error_message,
                     remediation = excluded.remediation",
            )?,
            insert_member: client.prepare(
                "INSERT INTO item_columns (stem, name, position)
                 VALUES ($1, $2, (SELECT COALESCE(MAX(position), 0) + 1 FROM item_columns
                                  WHERE stem = $1))
                 ON CONFLICT (stem, name) DO NOTHING",
            )?,
        };
        Ok(Writer {
            client,
            url,
            st,
            scan_id: None,
            claimed: None,
            members: HashMap::new(),
            dirty: HashSet::new(),
            locked: false,
            fresh: false,
            pending_rows: Vec::new(),
            written: HashSet::new(),
            pending_calls: Vec::new(),
            error: None,
        })
    }

    fn claim(&mut self, id: &str) -> Result<bool, String> {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let n = self
            .client
            .execute(
                "INSERT INTO scans (scan_id, started, version) VALUES ($1, $2, $3)
                 ON CONFLICT (scan_id) DO NOTHING",
                &[&id, &now, &env!("CARGO_PKG_VERSION")],
            )
            .map_err(|e| self.url.error(&error_text(&e)).0)?;
        if n == 1 {
            self.claimed = Some(id.to_string());
        }
        Ok(n == 1)
    }

    fn fail(&mut self, e: &postgres::Error) {
        let msg = self.url.error(&error_text(e)).0;
        tracing::error!("{msg}");
        if self.error.is_none() {
            self.error = Some(msg);
        }
    }

    fn scan_id(&self) -> String {
        self.scan_id.clone().unwrap_or_default()
    }

    fn apply_msg(&mut self, msg: Msg, acks: &mut Vec<Ack>) -> Result<usize, postgres::Error> {
        match msg {
            Msg::Claim(_, ack) => {
                let _ = ack.send(Err("a scan id is claimed before the scan begins".into()));
                Ok(0)
            }
            Msg::Begin(scan, ack) => {
                acks.push(ack);
                let resumed = i64::from(scan.resumed);
                self.client.execute(
                    "INSERT INTO scans (scan_id, started, version, resumed)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (scan_id) DO UPDATE SET resumed = excluded.resumed,
                         finished = NULL, version = excluded.version,
                         started = CASE WHEN excluded.resumed = 0 THEN excluded.started
                                   ELSE scans.started END",
                    &[&scan.id, &scan.started, &scan.version, &resumed],
                )?;
                self.fresh = !scan.resumed && self.claimed.as_deref() == Some(scan.id.as_str());
                self.claimed = None;
                self.scan_id = Some(scan.id);
                Ok(1)
            }
            Msg::Account(report) => {
                self.write_account(&report)?;
                Ok(1)
            }
            Msg::Rows { call, first, rows } => self.write_rows(&call, first, rows),
            Msg::Call {
                call,
                first,
                rows,
                record,
                members,
                ack,
            } => {
                acks.push(ack);
                let n = self.write_rows(&call, first, rows)?;
                self.pending_calls.push(*record.clone());
                self.write_members(&record.stem, &members)?;
                Ok(n + 1)
            }
            Msg::Finish { ack, .. } => {
                acks.push(ack);
                Ok(0)
            }
        }
    }

    /// Queues a call's rows; the first chunk of a call first deletes what was written
    /// for it before (by an earlier run, unless the scan is fresh, or by this one).
    fn write_rows(
        &mut self,
        call: &Arc<CallKey>,
        first: bool,
        rows: Vec<ItemRow>,
    ) -> Result<usize, postgres::Error> {
        let again = first
            && !self.written.insert((
                call.account_id.clone(),
                call.region.clone(),
                call.stem.clone(),
            ));
        if again {
            // Its earlier rows may still be queued.
            self.flush()?;
        }
        if first && (!self.fresh || again) {
            let scan_id = self.scan_id();
            self.client.execute(
                &self.st.delete_call_rows,
                &[
                    &scan_id,
                    &pg_text(&call.stem),
                    &pg_text(&call.account_id),
                    &pg_text(&call.region),
                ],
            )?;
        }
        let n = rows.len();
        self.pending_rows
            .extend(rows.into_iter().map(|r| (call.clone(), r)));
        Ok(n)
    }

    /// Writes the queued rows and calls: one statement for each.
    fn flush(&mut self) -> Result<(), postgres::Error> {
        let scan_id = self.scan_id();
        if !self.pending_rows.is_empty() {
            let rows = &self.pending_rows;
            let col = |f: &dyn Fn(&Pending) -> &str| -> Vec<String> {
                rows.iter().map(|r| pg_text(f(r)).into_owned()).collect()
            };
            let stems = col(&|r| &r.0.stem);
            let accounts = col(&|r| &r.0.account_id);
            let regions = col(&|r| &r.0.region);
            let ids = col(&|r| &r.1.resource_id);
            let services = col(&|r| &r.0.service);
            let operations = col(&|r| &r.0.operation);
            let members = col(&|r| &r.1.member);
            let sources = col(&|r| &r.1.id_source);
            let items: Vec<_> = rows.iter().map(|r| pg_json(&r.1.item)).collect();
            let items: Vec<&str> = items.iter().map(|s| s.as_ref()).collect();
            self.client.execute(
                &self.st.insert_rows,
                &[
                    &scan_id,
                    &stems,
                    &accounts,
                    &regions,
                    &ids,
                    &services,
                    &operations,
                    &members,
                    &sources,
                    &items,
                ],
            )?;
            self.pending_rows.clear();
        }
        if !self.pending_calls.is_empty() {
            // One row per call (the last record wins), as one INSERT needs.
            let mut last: HashMap<(&str, &str, &str), usize> = HashMap::new();
            for (i, r) in self.pending_calls.iter().enumerate() {
                last.insert((&r.account_id, &r.region, &r.stem), i);
            }
            let mut keep: Vec<usize> = last.into_values().collect();
            keep.sort_unstable();
            let calls: Vec<&CallRecord> = keep.iter().map(|i| &self.pending_calls[*i]).collect();
            let text = |f: &dyn Fn(&CallRecord) -> &str| -> Vec<String> {
                calls.iter().map(|r| pg_text(f(r)).into_owned()).collect()
            };
            let opt = |f: &dyn Fn(&CallRecord) -> Option<&str>| -> Vec<Option<String>> {
                calls
                    .iter()
                    .map(|r| f(r).map(|s| pg_text(s).into_owned()))
                    .collect()
            };
            let pages: Vec<i64> = calls.iter().map(|r| i64::from(r.pages)).collect();
            let items: Vec<i64> = calls.iter().map(|r| int(r.items)).collect();
            let durations: Vec<i64> = calls.iter().map(|r| int(r.duration_ms)).collect();
            self.client.execute(
                &self.st.upsert_calls,
                &[
                    &scan_id,
                    &text(&|r| &r.account_id),
                    &text(&|r| &r.region),
                    &text(&|r| &r.stem),
                    &text(&|r| &r.service),
                    &text(&|r| &r.function),
                    &text(&|r| &r.operation),
                    &text(&|r| r.status.as_str()),
                    &opt(&|r| r.error_code.as_deref()),
                    &opt(&|r| r.error_message.as_deref()),
                    &opt(&|r| r.request_id.as_deref()),
                    &pages,
                    &items,
                    &durations,
                ],
            )?;
            self.pending_calls.clear();
        }
        Ok(())
    }

    /// Records the stem's new top-level members (under the advisory lock, so that
    /// positions never collide between scanners); marks its view for (re)creation.
    fn write_members(&mut self, stem: &str, members: &[String]) -> Result<(), postgres::Error> {
        if !self.members.contains_key(stem) {
            let known: HashSet<String> = self
                .client
                .query("SELECT name FROM item_columns WHERE stem = $1", &[&stem])?
                .iter()
                .map(|r| r.get(0))
                .collect();
            self.members.insert(stem.to_string(), known);
            self.dirty.insert(stem.to_string());
        }
        let new: Vec<String> = {
            let known = &self.members[stem];
            members
                .iter()
                .filter(|m| !known.contains(*m))
                .cloned()
                .collect()
        };
        if new.is_empty() {
            return Ok(());
        }
        if !self.locked {
            self.client
                .execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])?;
            self.locked = true;
        }
        for m in &new {
            self.client
                .execute(&self.st.insert_member, &[&pg_text(stem), &pg_text(m)])?;
        }
        self.members
            .get_mut(stem)
            .expect("loaded above")
            .extend(new);
        self.dirty.insert(stem.to_string());
        Ok(())
    }

    fn write_account(&mut self, report: &AccountReport) -> Result<(), postgres::Error> {
        let a = &report.account;
        let tags = serde_json::to_string(&a.tags).unwrap_or_else(|_| "{}".into());
        let regions = serde_json::to_string(&report.regions).unwrap_or_else(|_| "[]".into());
        let t = |s: &str| pg_text(s).into_owned();
        let o = |s: &Option<String>| s.as_deref().map(|s| pg_text(s).into_owned());
        let scan_id = self.scan_id();
        self.client.execute(
            &self.st.upsert_account,
            &[
                &scan_id,
                &t(&a.id),
                &t(&a.name),
                &o(&a.email),
                &t(&a.status),
                &t(&a.partition),
                &o(&a.org_id),
                &o(&a.management_account_id),
                &o(&a.ou_id),
                &o(&a.ou_path),
                &pg_json(&tags).into_owned(),
                &t(&a.source),
                &t(report.status.as_str()),
                &pg_json(&regions).into_owned(),
                &o(&report.error_code),
                &o(&report.error_message),
                &o(&report.remediation),
            ],
        )?;
        Ok(())
    }

    fn update_views(&mut self) {
        if self.dirty.is_empty() {
            return;
        }
        let mut stems: Vec<String> = self.dirty.drain().collect();
        stems.sort();
        let result = (|| {
            let mut tx = self.client.transaction()?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])?;
            for stem in &stems {
                refresh_view(&mut tx, stem)?;
            }
            tx.commit()
        })();
        if let Err(e) = result {
            self.fail(&e);
        }
    }

    fn finish_scan(
        &mut self,
        scan: &ScanInfo,
        totals: &Totals,
        accounts: &[AccountReport],
    ) -> Result<(), postgres::Error> {
        self.client.batch_execute("BEGIN")?;
        let result = (|| {
            for a in accounts {
                self.write_account(a)?;
            }
            let finished = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            self.client.execute(
                "UPDATE scans SET finished = $2, accounts = $3, accounts_failed = $4, calls = $5,
                 calls_failed = $6, items = $7, pages = $8 WHERE scan_id = $1",
                &[
                    &scan.id,
                    &finished,
                    &int(totals.accounts),
                    &int(totals.accounts_failed),
                    &int(totals.calls),
                    &int(totals.calls_failed),
                    &int(totals.items),
                    &int(totals.pages),
                ],
            )?;
            Ok(())
        })();
        match result {
            Ok(()) => self.client.batch_execute("COMMIT"),
            Err(e) => {
                let _ = self.client.batch_execute("ROLLBACK");
                Err(e)
            }
        }
    }
}

impl Batched for Writer {
    type Msg = Msg;

    fn outside(&mut self, msg: Msg) -> Option<Msg> {
        match msg {
            Msg::Claim(id, ack) => {
                let _ = ack.send(self.claim(&id));
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
        self.locked = false;
        match self.client.batch_execute("BEGIN") {
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
            Msg::Begin(_, ack) | Msg::Call { ack, .. } | Msg::Finish { ack, .. } => acks.push(ack),
            Msg::Claim(_, ack) => {
                let _ = ack.send(Err("the scan had already begun".into()));
            }
            Msg::Account(_) | Msg::Rows { .. } => {}
        }
    }

    /// Writes the queued rows and calls, then commits (or rolls back after an error).
    fn end(&mut self) {
        if self.error.is_none() {
            if let Err(e) = self.flush() {
                self.fail(&e);
            }
        }
        if self.error.is_none() {
            if let Err(e) = self.client.batch_execute("COMMIT") {
                self.fail(&e);
            }
        }
        self.pending_rows.clear();
        self.pending_calls.clear();
        if self.error.is_some() {
            let _ = self.client.batch_execute("ROLLBACK");
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
                    .map_err(|e| self.url.error(&error_text(&e)).0),
            };
            let _ = ack.send(r);
        }
    }

    /// Releases an id claimed for a scan that never began (the scan stopped before it
    /// started).
    fn abandoned(&mut self) {
        if let Some(id) = self.claimed.take() {
            let _ = self.client.execute(
                "DELETE FROM scans WHERE scan_id = $1 AND NOT EXISTS
                 (SELECT 1 FROM calls WHERE scan_id = $1)",
                &[&id],
            );
        }
    }
}
