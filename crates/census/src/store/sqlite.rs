//! The SQLite database read: opened read-only for `census query` and `census diff`,
//! and the reads the commands need. Not for writing it or creating its schema (the
//! SQLite sink's, `sink::sql::sqlite`).

use std::path::Path;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

pub use super::SCHEMA_VERSION;

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

pub(crate) fn sql_error(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |error| StoreError::Sql {
        path: path.display().to_string(),
        error,
    }
}

/// The schema version of an open database; an error when a newer census made it.
pub(crate) fn schema_version(conn: &Connection, path: &Path) -> Result<i64, StoreError> {
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
    Ok(found)
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
    let found = schema_version(&conn, path)?;
    if found < 1 {
        return Err(StoreError::NotCensus {
            path: path.display().to_string(),
            error: "it has no census schema".into(),
        });
    }
    Ok(conn)
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
    use crate::sink::sql::sqlite::open_for_writing;

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
