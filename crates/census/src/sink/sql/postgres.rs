//! The PostgreSQL store (`census scan --postgres URL`): the same rows and views as
//! SQLite (see [`crate::store::postgres`] for how they differ), in a database that
//! several scanners may write to at once. What differs from SQLite: connecting and
//! claiming a scan id, the statements, and the advisory lock. Not for reading it
//! ([`crate::store::postgres`]) nor for the URL ([`PgUrl`]).
//!
//! How it writes:
//! - Rows and calls are queued per transaction and written at its end, before it
//!   commits: `resources`, `inventory` and `links` rows with one binary `COPY` each
//!   ([`copy`]), calls with one `INSERT ... SELECT FROM unnest(...)`, detail calls'
//!   additions to inventory rows with one `UPDATE ... FROM unnest(...)`: a few round
//!   trips per transaction, however many calls it holds.
//! - A call's earlier rows are deleted before its new rows go in unless the scan's id
//!   was just claimed (it has no rows yet) and the call was not written in this run;
//!   so `COPY` never meets a row of the same key. Where a key could repeat (twice in
//!   one transaction, or rows of a call whose earlier rows went in an earlier
//!   transaction) the rows are upserted instead (`INSERT ... ON CONFLICT`), the last
//!   one winning.
//! - Scanners writing at once: each claims its scan id first
//!   ([`PostgresSink::claim_scan_id`]; a taken id gets `-2`, `-3`...), rows of different
//!   scans never share a key, and schema creation, new view columns and view changes
//!   are made under an advisory lock ([`LOCK`]).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::io::{self, Write};
use std::sync::mpsc;
use std::sync::Arc;

use postgres::{Client, Statement};

use super::inventory::{enriched_tags, row_region, tags_json};
use super::schema::{self, create_view, Db, SCHEMA_VERSION};
use super::{int, CallKey, Dialect, Msg, Rows, SqlSink, SqlWriter, Stop, Writing};
use crate::inventory::{Enrichment, Link, Resource};
use crate::sink::{AccountReport, CallRecord, ScanInfo, Totals};
use crate::store::items::ItemRow;
use crate::store::postgres::{error_text, PgError, PgUrl};
use crate::store::views;
use copy::CopyRows;

mod copy;
mod flush;

/// The PostgreSQL sink.
pub type PostgresSink = SqlSink<Postgres>;

/// The advisory lock held while the schema, view columns or views change ("census").
pub const LOCK: i64 = 0x0000_6365_6e73_7573;

/// PostgreSQL, at a URL.
pub struct Postgres;

impl Dialect for Postgres {
    type Target = PgUrl;
    type Writer = Writer;
    /// Chunks of 500 rows, at most 8 (4,000 rows) waiting; transactions of at most 5,000
    /// rows or 200 ms.
    const WRITING: Writing = Writing::new("census-postgres", 500, 8, 5000, 200);

    fn name(url: &PgUrl) -> String {
        format!("PostgreSQL database {url}")
    }

    fn error(url: &PgUrl, stop: Stop) -> String {
        let what = match stop {
            Stop::Closed => "already closed",
            Stop::Stopped => "the database writer stopped",
        };
        url.error(what).0
    }

    /// Connects and creates the schema if needed. The error is one line naming the
    /// database (without its password) and what to do.
    fn open(url: &PgUrl) -> Result<Writer, Box<dyn std::error::Error + Send + Sync>> {
        let client = open_for_writing(url).map_err(|e| e.0)?;
        Ok(Writer::new(client, url.clone()).map_err(|e| url.error(&error_text(&e)).0)?)
    }
}

impl PostgresSink {
    /// Connects, creates the schema if needed, and starts the writer. The error is one
    /// line naming the database (without its password) and what to do.
    pub fn open(url: &PgUrl) -> io::Result<PostgresSink> {
        SqlSink::start(url)
    }

    /// Claims `id` for a new scan: true when no scan had it (it is then this scan's,
    /// and no other scanner can take it), false when it is taken. A claimed id whose
    /// scan never begins is released when the sink closes.
    pub fn claim_scan_id(&self, id: &str) -> io::Result<bool> {
        let (ack, done) = mpsc::sync_channel(1);
        self.send(Msg::Claim(id.to_string(), ack))?;
        self.wait(done)
    }
}

/// Connects and makes sure the census schema is there (creating it when missing).
pub fn open_for_writing(url: &PgUrl) -> Result<Client, PgError> {
    let mut client = url.connect()?;
    ensure_schema(&mut client)
        .map_err(|e| url.error(&error_text(&e)))?
        .map_err(|found| url.newer(found))?;
    Ok(client)
}

/// Creates the schema if needed, under the advisory lock. `Err(found)` when the
/// database has a newer schema.
fn ensure_schema(client: &mut Client) -> Result<Result<(), i64>, postgres::Error> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])?;
    let exists: bool = tx
        .query_one("SELECT to_regclass('census_schema') IS NOT NULL", &[])?
        .get(0);
    let found: Option<i64> = if exists {
        tx.query_one("SELECT MAX(version) FROM census_schema", &[])?
            .get(0)
    } else {
        None
    };
    if let Some(v) = found.filter(|v| *v > SCHEMA_VERSION) {
        return Ok(Err(v));
    }
    let migrations = schema::migrations(Db::Postgres, found.unwrap_or(0));
    tx.batch_execute(&format!(
        "{migrations}{}{}",
        schema::ddl(Db::Postgres),
        schema::inventory_view(Db::Postgres)
    ))?;
    if found.is_none() {
        tx.execute(
            "INSERT INTO census_schema (version) VALUES ($1)",
            &[&SCHEMA_VERSION],
        )?;
    } else if !migrations.is_empty() {
        tx.execute("UPDATE census_schema SET version = $1", &[&SCHEMA_VERSION])?;
    }
    tx.commit()?;
    Ok(Ok(()))
}

/// (Re)creates the view of `stem` from its recorded columns; run it inside a
/// transaction that holds [`LOCK`].
pub fn refresh_view(tx: &mut postgres::Transaction<'_>, stem: &str) -> Result<(), postgres::Error> {
    let members: Vec<String> = tx
        .query(
            "SELECT name FROM item_columns WHERE stem = $1 ORDER BY name COLLATE \"C\"",
            &[&stem],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let sql = format!(
        "DROP VIEW IF EXISTS {}; {};",
        views::quote_ident(&views::pg_view_name(stem)),
        create_view(Db::Postgres, stem, members.iter().map(String::as_str))
    );
    tx.batch_execute(&sql)
}

/// Text for PostgreSQL: its `text` cannot hold NUL characters, so they become U+FFFD.
pub fn pg_text(s: &str) -> Cow<'_, str> {
    if s.contains('\0') {
        Cow::Owned(s.replace('\0', "\u{fffd}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// JSON text for `jsonb`, which cannot hold `\u0000` in strings: such characters (in
/// keys or values) become U+FFFD.
pub fn pg_json(json: &str) -> Cow<'_, str> {
    if !json.contains("\\u0000") {
        return Cow::Borrowed(json);
    }
    fn clean(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(s) if s.contains('\0') => {
                *s = s.replace('\0', "\u{fffd}");
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(clean),
            serde_json::Value::Object(o) => {
                let entries: Vec<(String, serde_json::Value)> = std::mem::take(o)
                    .into_iter()
                    .map(|(k, mut v)| {
                        clean(&mut v);
                        (k.replace('\0', "\u{fffd}"), v)
                    })
                    .collect();
                o.extend(entries);
            }
            _ => {}
        }
    }
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(mut v) => {
            clean(&mut v);
            Cow::Owned(v.to_string())
        }
        Err(_) => Cow::Borrowed(json),
    }
}

/// A queued row and the call it belongs to.
type Pending = (Arc<CallKey>, ItemRow);

/// A queued link: its call, the `resource_id` and ARN it starts from, the link.
type LinkRow = (Arc<CallKey>, String, Option<String>, Link);

/// A call's identity: account, region, stem.
type CallId = (String, String, String);

struct Statements {
    delete_call_rows: Statement,
    copy_rows: Statement,
    insert_rows: Statement,
    copy_inventory: Statement,
    insert_inventory: Statement,
    enrich_inventory: Statement,
    copy_links: Statement,
    insert_links: Statement,
    upsert_calls: Statement,
    upsert_account: Statement,
    insert_member: Statement,
}

/// The writer thread's connection and what its open transaction queued.
pub struct Writer {
    client: Client,
    url: PgUrl,
    st: Statements,
    scan_id: Option<String>,
    /// An id claimed by this sink whose scan has not begun.
    claimed: Option<String>,
    /// Whether the open transaction holds the advisory lock.
    locked: bool,
    /// True when this sink claimed the scan's id: no call of the scan has rows yet, so
    /// nothing needs deleting before a call's rows go in.
    fresh: bool,
    /// Rows and calls of the open transaction, written by [`Writer::flush`] in one
    /// statement each before it commits.
    pending_rows: Vec<Pending>,
    /// Rows of calls whose earlier rows went in an earlier transaction of this run:
    /// upserted, not copied.
    pending_upserts: Vec<Pending>,
    /// Calls whose rows went in while the call had not ended.
    spanning: HashSet<CallId>,
    /// Inventory rows of the open transaction, written with the rows.
    pending_inventory: Vec<(Arc<CallKey>, Resource)>,
    /// Detail calls' additions to inventory rows, applied after the rows.
    pending_enrich: Vec<(Arc<CallKey>, Enrichment)>,
    /// Links of the queued inventory rows and additions.
    pending_links: Vec<LinkRow>,
    /// The calls written in this run: one written again has its earlier rows deleted.
    written: HashSet<(String, String, String)>,
    pending_calls: Vec<CallRecord>,
}

impl Writer {
    fn new(mut client: Client, url: PgUrl) -> Result<Writer, postgres::Error> {
        let st = Statements {
            delete_call_rows: client.prepare(
                "WITH inv AS (DELETE FROM inventory WHERE scan_id = $1 AND source = $2
                              AND account_id = $3 AND (region = $4 OR $4 = 'global')),
                      lnk AS (DELETE FROM links WHERE scan_id = $1 AND source = $2
                              AND account_id = $3 AND region = $4)
                 DELETE FROM resources WHERE scan_id = $1 AND stem = $2 AND account_id = $3
                 AND region = $4",
            )?,
            insert_inventory: client.prepare(
                "INSERT INTO inventory (scan_id, account_id, region, service, resource_type,
                 cfn_type, resource_id, arn, name, created, tags, source, arn_source,
                 native_id)
                 SELECT $1, u.account_id, u.region, u.service, u.resource_type, u.cfn_type,
                        u.resource_id, u.arn, u.name, u.created, CAST(u.tags AS jsonb),
                        u.source, u.arn_source, u.native_id
                 FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                             $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
                             $12::text[], $13::text[], $14::text[])
                      AS u(account_id, region, service, resource_type, cfn_type,
                           resource_id, arn, name, created, tags, source, arn_source,
                           native_id)
                 ON CONFLICT (scan_id, source, account_id, region, resource_id) DO UPDATE SET
                     service = excluded.service, resource_type = excluded.resource_type,
                     cfn_type = excluded.cfn_type, arn = excluded.arn, name = excluded.name,
                     created = excluded.created, tags = excluded.tags,
                     arn_source = excluded.arn_source, native_id = excluded.native_id",
            )?,
            copy_inventory: client.prepare(
                "COPY inventory (scan_id, account_id, region, service, resource_type, cfn_type,
                 resource_id, arn, name, created, tags, source, arn_source, native_id)
                 FROM STDIN (FORMAT binary)",
            )?,
            // One row of `u` per inventory row at most (the writer merges a batch's
            // additions to one row first).
            enrich_inventory: client.prepare(
                "UPDATE inventory AS i SET
                     arn = CASE WHEN u.arn IS NOT NULL
                           AND (i.arn IS NULL OR i.arn_source IS DISTINCT FROM 'item')
                           THEN u.arn ELSE i.arn END,
                     arn_source = CASE WHEN u.arn IS NOT NULL
                                  AND (i.arn IS NULL OR i.arn_source IS DISTINCT FROM 'item')
                                  THEN 'detail' ELSE i.arn_source END,
                     tags = CASE WHEN u.tags IS NULL THEN i.tags
                            ELSE i.tags || CAST(u.tags AS jsonb) END,
                     name = COALESCE(u.name, i.name)
                 FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                             $7::text[], $8::text[])
                      AS u(source, account_id, region, resource_id, arn, tags, name)
                 WHERE i.scan_id = $1 AND i.source = u.source AND i.account_id = u.account_id
                 AND (i.region = u.region OR u.region = 'global')
                 AND i.resource_id = u.resource_id",
            )?,
            copy_links: client.prepare(
                "COPY links (scan_id, account_id, region, source, from_source, from_id,
                 from_arn, kind, raw, to_type) FROM STDIN (FORMAT binary)",
            )?,
            insert_links: client.prepare(
                "INSERT INTO links (scan_id, account_id, region, source, from_source, from_id,
                 from_arn, kind, raw, to_type)
                 SELECT $1, u.account_id, u.region, u.source, u.from_source, u.from_id,
                        u.from_arn, u.kind, u.raw, u.to_type
                 FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                             $7::text[], $8::text[], $9::text[], $10::text[])
                      AS u(account_id, region, source, from_source, from_id, from_arn, kind,
                           raw, to_type)
                 ON CONFLICT DO NOTHING",
            )?,
            copy_rows: client.prepare(
                "COPY resources (scan_id, stem, account_id, region, resource_id, service,
                 operation, member, id_source, item) FROM STDIN (FORMAT binary)",
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
                 duration_ms, parent, absent)
                 SELECT $1, u.* FROM unnest($2::text[], $3::text[], $4::text[], $5::text[],
                     $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
                     $12::bigint[], $13::bigint[], $14::bigint[], $15::text[], $16::bigint[])
                     AS u(account_id, region, stem, service, function, operation, status,
                          error_code, error_message, request_id, pages, items, duration_ms,
                          parent, absent)
                 ON CONFLICT (scan_id, account_id, region, stem) DO UPDATE SET
                     service = excluded.service, function = excluded.function,
                     operation = excluded.operation, status = excluded.status,
                     error_code = excluded.error_code, error_message = excluded.error_message,
                     request_id = excluded.request_id, pages = excluded.pages,
                     items = excluded.items, duration_ms = excluded.duration_ms,
                     parent = excluded.parent, absent = excluded.absent",
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
            locked: false,
            fresh: false,
            pending_rows: Vec::new(),
            pending_upserts: Vec::new(),
            spanning: HashSet::new(),
            pending_inventory: Vec::new(),
            pending_enrich: Vec::new(),
            pending_links: Vec::new(),
            written: HashSet::new(),
            pending_calls: Vec::new(),
        })
    }

    fn claim_id(&mut self, id: &str) -> Result<bool, String> {
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

    fn scan_id(&self) -> String {
        self.scan_id.clone().unwrap_or_default()
    }
}

impl SqlWriter for Writer {
    type Error = postgres::Error;
    const DB: Db = Db::Postgres;

    fn run_for_scan(
        &mut self,
        scan_id: &str,
        steps: &[super::resolve::Step],
    ) -> Result<(), postgres::Error> {
        for step in steps {
            if !self
                .client
                .query(step.when.as_str(), &[&scan_id])?
                .is_empty()
            {
                self.client.execute(step.sql.as_str(), &[&scan_id])?;
            }
        }
        Ok(())
    }

    fn message(&self, e: &postgres::Error) -> String {
        self.url.error(&error_text(e)).0
    }

    fn begin(&mut self) -> Result<(), postgres::Error> {
        self.locked = false;
        self.client.batch_execute("BEGIN")
    }

    /// Writes the queued rows and calls, then commits.
    fn commit(&mut self) -> Result<(), postgres::Error> {
        self.flush()?;
        self.client.batch_execute("COMMIT")
    }

    fn rollback(&mut self) {
        self.pending_rows.clear();
        self.pending_upserts.clear();
        self.pending_inventory.clear();
        self.pending_enrich.clear();
        self.pending_links.clear();
        self.pending_calls.clear();
        let _ = self.client.batch_execute("ROLLBACK");
    }

    fn begin_scan(&mut self, scan: ScanInfo) -> Result<(), postgres::Error> {
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
        Ok(())
    }

    /// Queues a call's rows; the first chunk of a call first deletes what was written
    /// for it before (by an earlier run, unless the scan is fresh, or by this one).
    fn write_rows(&mut self, rows: Rows) -> Result<usize, postgres::Error> {
        let Rows {
            call,
            first,
            rows,
            inventory,
            enrich,
        } = rows;
        let id: CallId = (
            call.account_id.clone(),
            call.region.clone(),
            call.stem.clone(),
        );
        let again = first && !self.written.insert(id.clone());
        if again {
            // Its earlier rows may still be queued.
            self.flush()?;
        }
        if first && (!self.fresh || again) {
            let scan_id = self.scan_id();
            let [stem, account, region] =
                [&call.stem, &call.account_id, &call.region].map(|s| pg_text(s));
            self.client.execute(
                &self.st.delete_call_rows,
                &[&scan_id, &stem, &account, &region],
            )?;
        }
        let n = rows.len() + inventory.len();
        // Rows of a call whose earlier rows went in an earlier transaction may repeat
        // their keys.
        if first {
            self.spanning.remove(&id);
        }
        let pending = if self.spanning.contains(&id) {
            &mut self.pending_upserts
        } else {
            &mut self.pending_rows
        };
        pending.extend(rows.into_iter().map(|r| (call.clone(), r)));
        self.pending_inventory
            .extend(inventory.into_iter().map(|r| (call.clone(), r)));
        self.pending_enrich
            .extend(enrich.into_iter().map(|e| (call.clone(), e)));
        Ok(n)
    }

    fn write_call(&mut self, record: &CallRecord) -> Result<(), postgres::Error> {
        self.spanning.remove(&(
            record.account_id.clone(),
            record.region.clone(),
            record.stem.clone(),
        ));
        self.pending_calls.push(record.clone());
        Ok(())
    }

    fn known_members(&mut self, stem: &str) -> Result<HashSet<String>, postgres::Error> {
        Ok(self
            .client
            .query("SELECT name FROM item_columns WHERE stem = $1", &[&stem])?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    /// Under the advisory lock, so that positions never collide between scanners.
    fn add_members(&mut self, stem: &str, new: &[String]) -> Result<(), postgres::Error> {
        if !self.locked {
            self.client
                .execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])?;
            self.locked = true;
        }
        for m in new {
            self.client
                .execute(&self.st.insert_member, &[&pg_text(stem), &pg_text(m)])?;
        }
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

    fn refresh_views(&mut self, stems: &[String]) -> Result<(), postgres::Error> {
        let mut tx = self.client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])?;
        for stem in stems {
            refresh_view(&mut tx, stem)?;
        }
        tx.commit()
    }

    fn finish_totals(&mut self, scan: &ScanInfo, totals: &Totals) -> Result<(), postgres::Error> {
        let finished = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        self.client.execute(
            "UPDATE scans SET finished = $2, accounts = $3, accounts_failed = $4, calls = $5,
             calls_failed = $6, items = $7, pages = $8, absent = $9 WHERE scan_id = $1",
            &[
                &scan.id,
                &finished,
                &int(totals.accounts),
                &int(totals.accounts_failed),
                &int(totals.calls),
                &int(totals.calls_failed),
                &int(totals.items),
                &int(totals.pages),
                &int(totals.absent),
            ],
        )?;
        Ok(())
    }

    fn claim(&mut self, id: &str) -> Result<bool, String> {
        self.claim_id(id)
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

#[cfg(test)]
mod tests;
