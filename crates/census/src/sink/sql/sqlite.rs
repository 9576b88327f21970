//! The SQLite store (`<output-dir>/census.db` by default): every scan of an output
//! folder accumulates in one database, so that `census query` can ask about the latest
//! scan and `census diff` can compare any two. What differs from PostgreSQL: opening
//! the file, the statements, and the database at rest. Not for reading it
//! ([`crate::store::sqlite`]).
//!
//! While a scan writes, the database runs in WAL mode with `synchronous=NORMAL`:
//! readers never block the writer, and a committed transaction survives the process
//! being killed. Rows go in one `INSERT OR REPLACE` each (prepared once). At the end
//! the WAL is checkpointed and the database returns to rollback-journal mode, so that
//! at rest it is the one file `census.db` (for copies and uploads).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection};

use super::inventory::{enriched_tags, row_region, tags_json};
use super::schema::{self, create_view, Db, SCHEMA_VERSION};
use super::{int, Dialect, Rows, SqlSink, SqlWriter, Stop, Writing};
use crate::sink::{AccountReport, CallRecord, ScanInfo, Totals};
use crate::store::sqlite::{schema_version, sql_error, StoreError};
use crate::store::views;

/// The SQLite sink.
pub type SqliteSink = SqlSink<Sqlite>;

/// SQLite, in a file.
pub struct Sqlite;

impl Dialect for Sqlite {
    type Target = PathBuf;
    type Writer = Writer;
    /// Chunks of 256 rows, at most 64 waiting; transactions of at most 2,000 rows or
    /// 100 ms.
    const WRITING: Writing = Writing::new("census-sqlite", 256, 64, 2000, 100);

    fn name(path: &PathBuf) -> String {
        format!("SQLite database {}", path.display())
    }

    fn error(_: &PathBuf, stop: Stop) -> String {
        match stop {
            Stop::Closed => "the database was already closed".into(),
            Stop::Stopped => "the database writer stopped".into(),
        }
    }

    fn open(path: &PathBuf) -> Result<Writer, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Writer {
            conn: open_for_writing(path)?,
            scan_id: None,
        })
    }
}

impl SqliteSink {
    /// Opens (creating if needed) the database at `path` and starts its writer.
    pub fn open(path: &Path) -> std::io::Result<SqliteSink> {
        SqlSink::start(&path.to_path_buf())
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        self.target()
    }
}

/// Opens (creating if needed) the database for writing, with the schema in place.
pub fn open_for_writing(path: &Path) -> Result<Connection, StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::util::fs::create_private_dir_all(dir).map_err(|e| StoreError::NotCensus {
            path: path.display().to_string(),
            error: format!("cannot create its folder: {e}"),
        })?;
    }
    // A new database is created readable by its owner only (its -wal and -shm files
    // take its mode), before SQLite opens it: an empty file is an empty database.
    if !path.exists() {
        crate::util::fs::private_file()
            .write(true)
            .open(path)
            .map_err(|e| StoreError::NotCensus {
                path: path.display().to_string(),
                error: format!("cannot create it: {e}"),
            })?;
    }
    let conn = Connection::open(path).map_err(sql_error(path))?;
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .map_err(sql_error(path))?;
    let found = schema_version(&conn, path)?;
    // WAL needs a moment alone with the database; a long query holding it keeps the
    // rollback journal, which works too (writers then wait for readers).
    if let Err(e) = conn.pragma_update(None, "journal_mode", "WAL") {
        tracing::warn!("{}: WAL mode not available now ({e})", path.display());
    }
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(sql_error(path))?;
    // SQLite's default 2 MB page cache (a scan's inserts mostly touch the tails of the
    // indexes) and WAL checkpoints every 32 MB.
    conn.pragma_update(None, "cache_size", -2_000)
        .map_err(sql_error(path))?;
    conn.pragma_update(None, "wal_autocheckpoint", 8192)
        .map_err(sql_error(path))?;
    conn.execute_batch(&format!(
        "{}{}{}",
        schema::migrations(Db::Sqlite, found),
        schema::ddl(Db::Sqlite),
        schema::inventory_view(Db::Sqlite)
    ))
    .map_err(|e| StoreError::NotCensus {
        path: path.display().to_string(),
        error: e.to_string(),
    })?;
    conn.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(sql_error(path))?;
    Ok(conn)
}

/// (Re)creates the view of `stem` from its recorded columns, in the order of their
/// names (see [`views`]).
pub fn refresh_view(conn: &Connection, stem: &str) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT name FROM item_columns WHERE stem = ?1 ORDER BY name COLLATE BINARY",
    )?;
    let members: Vec<String> = stmt
        .query_map([stem], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let sql = format!(
        "DROP VIEW IF EXISTS {}; {};",
        views::quote_ident(&views::view_name(stem)),
        create_view(Db::Sqlite, stem, members.iter().map(String::as_str))
    );
    conn.execute_batch(&sql)
}

/// The writer thread's connection.
pub struct Writer {
    conn: Connection,
    scan_id: Option<String>,
}

impl Writer {
    fn exec(&self, sql: &str) -> rusqlite::Result<()> {
        self.conn.execute_batch(sql)
    }

    fn scan_id(&self) -> rusqlite::Result<&str> {
        self.scan_id.as_deref().ok_or(rusqlite::Error::InvalidQuery)
    }
}

impl SqlWriter for Writer {
    type Error = rusqlite::Error;
    const DB: Db = Db::Sqlite;

    fn run_for_scan(
        &mut self,
        scan_id: &str,
        steps: &[super::resolve::Step],
    ) -> rusqlite::Result<()> {
        for step in steps {
            let needed = self.conn.prepare_cached(&step.when)?.exists([scan_id])?;
            if needed {
                self.conn.execute(&step.sql, [scan_id])?;
            }
        }
        Ok(())
    }

    fn message(&self, e: &rusqlite::Error) -> String {
        e.to_string()
    }

    fn log(&self, message: &str) {
        tracing::error!("census.db: {message}");
    }

    fn begin(&mut self) -> rusqlite::Result<()> {
        self.exec("BEGIN IMMEDIATE")
    }

    fn commit(&mut self) -> rusqlite::Result<()> {
        self.exec("COMMIT")
    }

    fn rollback(&mut self) {
        let _ = self.exec("ROLLBACK");
    }

    fn begin_scan(&mut self, scan: ScanInfo) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT INTO scans (scan_id, seq, started, version, resumed)
             VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM scans), ?2, ?3, ?4)
             ON CONFLICT (scan_id) DO UPDATE SET resumed = excluded.resumed,
                 finished = NULL, version = excluded.version",
            params![scan.id, scan.started, scan.version, scan.resumed],
        )?;
        self.scan_id = Some(scan.id);
        Ok(())
    }

    fn write_rows(&mut self, rows: Rows) -> rusqlite::Result<usize> {
        let Rows {
            call,
            first,
            rows,
            inventory,
            enrich,
        } = rows;
        let scan_id = self.scan_id()?;
        if first {
            let key = params![scan_id, call.stem, call.account_id, call.region];
            self.conn
                .prepare_cached(
                    "DELETE FROM resources WHERE scan_id = ?1 AND stem = ?2 AND account_id = ?3
                     AND region = ?4",
                )?
                .execute(key)?;
            self.conn
                .prepare_cached(
                    "DELETE FROM inventory WHERE scan_id = ?1 AND source = ?2
                     AND account_id = ?3 AND (region = ?4 OR ?4 = 'global')",
                )?
                .execute(key)?;
            self.conn
                .prepare_cached(
                    "DELETE FROM links WHERE scan_id = ?1 AND source = ?2
                     AND account_id = ?3 AND region = ?4",
                )?
                .execute(key)?;
        }
        let mut insert = self.conn.prepare_cached(
            "INSERT OR REPLACE INTO inventory (scan_id, account_id, region, service,
             resource_type, cfn_type, resource_id, arn, name, created, tags, source,
             arn_source, native_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )?;
        for r in &inventory {
            insert.execute(params![
                scan_id,
                call.account_id,
                row_region(r, &call.region),
                call.service,
                r.resource_type,
                r.cfn_type,
                r.resource_id,
                r.arn,
                r.name,
                r.created,
                tags_json(r),
                call.stem,
                r.arn_source,
                r.native_id
            ])?;
        }
        let mut update = self.conn.prepare_cached(
            "UPDATE inventory SET
                 arn = CASE WHEN ?6 IS NOT NULL AND (arn IS NULL OR arn_source IS NOT 'item')
                       THEN ?6 ELSE arn END,
                 arn_source = CASE WHEN ?6 IS NOT NULL
                              AND (arn IS NULL OR arn_source IS NOT 'item')
                              THEN 'detail' ELSE arn_source END,
                 tags = CASE WHEN ?7 IS NULL THEN tags ELSE json_patch(tags, ?7) END,
                 name = COALESCE(?8, name)
             WHERE scan_id = ?1 AND source = ?2 AND account_id = ?3
             AND (region = ?4 OR ?4 = 'global') AND resource_id = ?5",
        )?;
        for e in &enrich {
            let (tags, name) = enriched_tags(e);
            update.execute(params![
                scan_id,
                call.from_source(),
                call.account_id,
                call.region,
                e.resource_id,
                e.arn,
                tags,
                name
            ])?;
        }
        let mut link = self.conn.prepare_cached(
            "INSERT OR IGNORE INTO links (scan_id, account_id, region, source, from_source,
             from_id, from_arn, kind, raw, to_type)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        let from_lists = inventory
            .iter()
            .map(|r| (r.resource_id.as_str(), r.arn.as_deref(), &r.links));
        let from_details = enrich
            .iter()
            .map(|e| (e.resource_id.as_str(), None, &e.links));
        for (from_id, from_arn, links) in from_lists.chain(from_details) {
            for l in links {
                link.execute(params![
                    scan_id,
                    call.account_id,
                    call.region,
                    call.stem,
                    call.from_source(),
                    from_id,
                    from_arn,
                    l.kind,
                    l.raw,
                    l.to_type
                ])?;
            }
        }
        let mut insert = self.conn.prepare_cached(
            "INSERT OR REPLACE INTO resources (scan_id, stem, account_id, region, resource_id,
             service, operation, member, id_source, item)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        for r in &rows {
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
        Ok(rows.len() + inventory.len())
    }

    fn write_call(&mut self, r: &CallRecord) -> rusqlite::Result<()> {
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO calls (scan_id, account_id, region, stem, service,
                 function, operation, status, error_code, error_message, request_id, pages,
                 items, duration_ms, parent, absent)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
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
                int(r.duration_ms),
                r.parent,
                int(r.absent)
            ])?;
        Ok(())
    }

    fn known_members(&mut self, stem: &str) -> rusqlite::Result<HashSet<String>> {
        self.conn
            .prepare_cached("SELECT name FROM item_columns WHERE stem = ?1")?
            .query_map([stem], |r| r.get(0))?
            .collect()
    }

    fn add_members(&mut self, stem: &str, new: &[String]) -> rusqlite::Result<()> {
        let mut insert = self.conn.prepare_cached(
            "INSERT OR IGNORE INTO item_columns (stem, name, position)
             VALUES (?1, ?2, (SELECT COALESCE(MAX(position), 0) + 1 FROM item_columns
             WHERE stem = ?1))",
        )?;
        for m in new {
            insert.execute(params![stem, m])?;
        }
        Ok(())
    }

    fn write_account(&mut self, report: &AccountReport) -> rusqlite::Result<()> {
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

    fn refresh_views(&mut self, stems: &[String]) -> rusqlite::Result<()> {
        let result = (|| {
            self.exec("BEGIN IMMEDIATE")?;
            for stem in stems {
                refresh_view(&self.conn, stem)?;
            }
            self.exec("COMMIT")
        })();
        if result.is_err() {
            let _ = self.exec("ROLLBACK");
        }
        result
    }

    fn finish_totals(&mut self, scan: &ScanInfo, totals: &Totals) -> rusqlite::Result<()> {
        let finished = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        self.conn.execute(
            "UPDATE scans SET finished = ?2, accounts = ?3, accounts_failed = ?4, calls = ?5,
             calls_failed = ?6, items = ?7, pages = ?8, absent = ?9 WHERE scan_id = ?1",
            params![
                scan.id,
                finished,
                int(totals.accounts),
                int(totals.accounts_failed),
                int(totals.calls),
                int(totals.calls_failed),
                int(totals.items),
                int(totals.pages),
                int(totals.absent)
            ],
        )?;
        Ok(())
    }

    fn at_rest(&mut self) -> rusqlite::Result<()> {
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
