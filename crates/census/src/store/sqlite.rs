//! The SQLite database: schema, opening (for writing by the sink, read-only for
//! `census query` and `census diff`), views, and the reads the commands need.
//!
//! While a scan writes, the database runs in WAL mode with `synchronous=NORMAL`:
//! readers never block the writer, and a committed transaction survives the process
//! being killed. Between scans it is a single file (see [`crate::sink::sqlite`]).

use std::path::Path;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::views;

/// The schema version in `PRAGMA user_version`.
pub const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS scans (
    scan_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    started TEXT NOT NULL,
    finished TEXT,
    version TEXT NOT NULL,
    resumed INTEGER NOT NULL DEFAULT 0,
    accounts INTEGER,
    accounts_failed INTEGER,
    calls INTEGER,
    calls_failed INTEGER,
    items INTEGER,
    pages INTEGER
);
CREATE TABLE IF NOT EXISTS accounts (
    scan_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    name TEXT,
    email TEXT,
    status TEXT,
    partition TEXT,
    org_id TEXT,
    management_account_id TEXT,
    ou_id TEXT,
    ou_path TEXT,
    tags TEXT,
    source TEXT,
    scan_status TEXT,
    regions TEXT,
    error_code TEXT,
    error_message TEXT,
    remediation TEXT,
    PRIMARY KEY (scan_id, account_id)
);
CREATE TABLE IF NOT EXISTS calls (
    scan_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    stem TEXT NOT NULL,
    service TEXT NOT NULL,
    function TEXT NOT NULL,
    operation TEXT NOT NULL,
    status TEXT NOT NULL,
    error_code TEXT,
    error_message TEXT,
    request_id TEXT,
    pages INTEGER NOT NULL,
    items INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    PRIMARY KEY (scan_id, account_id, region, stem)
);
CREATE INDEX IF NOT EXISTS calls_by_stem ON calls (stem, scan_id);
CREATE TABLE IF NOT EXISTS resources (
    scan_id TEXT NOT NULL,
    stem TEXT NOT NULL,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    service TEXT NOT NULL,
    operation TEXT NOT NULL,
    member TEXT NOT NULL,
    id_source TEXT NOT NULL,
    item TEXT NOT NULL,
    UNIQUE (scan_id, stem, account_id, region, resource_id)
);
CREATE TABLE IF NOT EXISTS item_columns (
    stem TEXT NOT NULL,
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (stem, name)
);
";

/// Why the database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: no census database there; run `census scan` first (it writes <output-dir>/census.db), or give the database with --db")]
    Missing { path: String },
    #[error("{path}: made by a newer census (schema version {found}, this census knows {SCHEMA_VERSION}); upgrade census")]
    Newer { path: String, found: i64 },
    #[error("{path}: not a census database ({error})")]
    NotCensus { path: String, error: String },
    #[error("{path}: {error}")]
    Sql {
        path: String,
        error: rusqlite::Error,
    },
}

fn sql_error(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |error| StoreError::Sql {
        path: path.display().to_string(),
        error,
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
    let found: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| StoreError::NotCensus {
            path: path.display().to_string(),
            error: e.to_string(),
        })?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::Newer {
            path: path.display().to_string(),
            found,
        });
    }
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
    conn.execute_batch(SCHEMA)
        .map_err(|e| StoreError::NotCensus {
            path: path.display().to_string(),
            error: e.to_string(),
        })?;
    conn.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(sql_error(path))?;
    Ok(conn)
}

/// Opens an existing database read-only.
pub fn open_read_only(path: &Path) -> Result<Connection, StoreError> {
    if !path.is_file() {
        return Err(StoreError::Missing {
            path: path.display().to_string(),
        });
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(sql_error(path))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(sql_error(path))?;
    let found: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| StoreError::NotCensus {
            path: path.display().to_string(),
            error: e.to_string(),
        })?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::Newer {
            path: path.display().to_string(),
            found,
        });
    }
    if found < 1 {
        return Err(StoreError::NotCensus {
            path: path.display().to_string(),
            error: "it has no census schema".into(),
        });
    }
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
        views::sqlite_create_view(stem, members.iter().map(String::as_str))
    );
    conn.execute_batch(&sql)
}

/// One scan as `scans` has it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanRow {
    pub scan_id: String,
    pub seq: i64,
    pub started: String,
    pub finished: Option<String>,
}

/// Every scan, oldest first.
pub fn scans(conn: &Connection) -> rusqlite::Result<Vec<ScanRow>> {
    let mut stmt =
        conn.prepare("SELECT scan_id, seq, started, finished FROM scans ORDER BY seq")?;
    let rows = stmt.query_map([], |r| {
        Ok(ScanRow {
            scan_id: r.get(0)?,
            seq: r.get(1)?,
            started: r.get(2)?,
            finished: r.get(3)?,
        })
    })?;
    rows.collect()
}

/// The account names of a scan's accounts, if it has them.
pub fn account_name(
    conn: &Connection,
    scan_id: &str,
    account_id: &str,
) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT name FROM accounts WHERE scan_id = ?1 AND account_id = ?2")?
        .query_row(params![scan_id, account_id], |r| r.get(0))
        .optional()
        .map(Option::flatten)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_opens_twice_and_read_only() {
        let dir = std::env::temp_dir().join(format!("census-store-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("census.db");
        assert!(matches!(
            open_read_only(&path),
            Err(StoreError::Missing { .. })
        ));
        drop(open_for_writing(&path).unwrap());
        let conn = open_for_writing(&path).unwrap();
        conn.execute(
            "INSERT INTO scans (scan_id, seq, started, version) VALUES ('a', 1, 'x', 'v')",
            [],
        )
        .unwrap();
        drop(conn);
        let ro = open_read_only(&path).unwrap();
        assert_eq!(scans(&ro).unwrap().len(), 1);
        assert!(ro.execute("DELETE FROM scans", []).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
