//! The store the HTML report reads: SQLite or PostgreSQL behind one "run this
//! statement, hand me each row" call, so that the report's queries are written once
//! (portable SQL: `$1` parameters, JSON columns cast to text, counts with `COUNT`).
//!
//! Not for writing the store, nor for arbitrary user SQL (`census query` checks and
//! limits what it runs; the report runs only its own statements).

use anyhow::{anyhow, Result};
use rusqlite::types::ValueRef;

use crate::store::diff::{postgres_diff, sqlite_diff, Diff};
use crate::store::postgres::{self as pg, AnyCell, PgUrl};
use crate::store::sqlite::{self, ScanRow};
use crate::util::print::Cell;

/// An open store, read-only.
pub enum Source {
    Sqlite(rusqlite::Connection, String),
    Postgres(Box<postgres::Client>, PgUrl),
}

impl Source {
    /// Opens the SQLite file, or the PostgreSQL database when `postgres` is given.
    pub fn open(db: &std::path::Path, postgres: Option<&PgUrl>) -> Result<Source> {
        Ok(match postgres {
            Some(url) => Source::Postgres(Box::new(url.open_read_only()?), url.clone()),
            None => Source::Sqlite(sqlite::open_read_only(db)?, db.display().to_string()),
        })
    }

    /// Where the data comes from, for messages: the file, or the PostgreSQL URL
    /// without its password.
    pub fn name(&self) -> String {
        match self {
            Source::Sqlite(_, path) => path.clone(),
            Source::Postgres(_, url) => format!("PostgreSQL at {url}"),
        }
    }

    /// Every scan, oldest first.
    pub fn scans(&mut self) -> Result<Vec<ScanRow>> {
        Ok(match self {
            Source::Sqlite(c, path) => {
                sqlite::scans(c).map_err(|e| anyhow!("{path}: reading scans: {e}"))?
            }
            Source::Postgres(c, url) => pg::scans(c).map_err(|e| url.error(&pg::error_text(&e)))?,
        })
    }

    /// Whether the database has table `name` (older schemas lack `inventory`).
    pub fn has_table(&mut self, name: &str) -> Result<bool> {
        let mut found = false;
        let sql = match self {
            Source::Sqlite(..) => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1"
            }
            Source::Postgres(..) => "SELECT COUNT(*) FROM pg_tables WHERE tablename = $1",
        };
        self.each(sql, &[name], |r| {
            found = int(&r[0]) > 0;
            Ok(())
        })?;
        Ok(found)
    }

    /// `census diff`'s comparison of scans `a` and `b`.
    pub fn diff(&mut self, a: &str, b: &str) -> Result<Diff> {
        Ok(match self {
            Source::Sqlite(c, path) => {
                sqlite_diff(c, a, b).map_err(|e| anyhow!("{path}: comparing scans: {e}"))?
            }
            Source::Postgres(c, url) => {
                postgres_diff(c, a, b).map_err(|e| url.error(&pg::error_text(&e)))?
            }
        })
    }

    /// Runs `sql` (parameters `$1`, `$2`... bound to `params`) and calls `each` with
    /// every row's cells.
    pub fn each(
        &mut self,
        sql: &str,
        params: &[&str],
        mut each: impl FnMut(&[Cell]) -> Result<()>,
    ) -> Result<()> {
        match self {
            Source::Sqlite(c, path) => {
                let fail =
                    |e: rusqlite::Error| anyhow!("{path}: {e} (in the report's query {sql:?})");
                let mut stmt = c.prepare(sql).map_err(fail)?;
                let n = stmt.column_count();
                let mut rows = stmt
                    .query(rusqlite::params_from_iter(params.iter()))
                    .map_err(fail)?;
                let mut cells = Vec::with_capacity(n);
                while let Some(row) = rows.next().map_err(fail)? {
                    cells.clear();
                    for i in 0..n {
                        cells.push(match row.get_ref(i).map_err(fail)? {
                            ValueRef::Null => Cell::Null,
                            ValueRef::Integer(v) => Cell::Int(v),
                            ValueRef::Real(v) => Cell::Real(v),
                            ValueRef::Text(t) => {
                                Cell::Text(String::from_utf8_lossy(t).into_owned())
                            }
                            ValueRef::Blob(b) => Cell::Blob(b.to_vec()),
                        });
                    }
                    each(&cells)?;
                }
            }
            Source::Postgres(c, url) => {
                let args: Vec<&(dyn postgres::types::ToSql + Sync)> = params
                    .iter()
                    .map(|p| p as &(dyn postgres::types::ToSql + Sync))
                    .collect();
                let rows = c
                    .query(sql, &args)
                    .map_err(|e| url.error(&pg::error_text(&e)))?;
                let mut cells = Vec::new();
                for row in rows {
                    cells.clear();
                    for i in 0..row.len() {
                        let AnyCell(cell) =
                            row.try_get(i).map_err(|e| url.error(&pg::error_text(&e)))?;
                        cells.push(cell);
                    }
                    each(&cells)?;
                }
            }
        }
        Ok(())
    }
}

/// A cell as text (`""` for NULL).
pub fn text(c: &Cell) -> String {
    match c {
        Cell::Null => String::new(),
        Cell::Text(s) => s.clone(),
        Cell::Int(i) => i.to_string(),
        Cell::Real(f) => f.to_string(),
        Cell::Json(v) => v.to_string(),
        Cell::List(l) => l.join(","),
        Cell::Blob(b) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// A cell as a number (0 for NULL or text).
pub fn int(c: &Cell) -> i64 {
    match c {
        Cell::Int(i) => *i,
        Cell::Real(f) => *f as i64,
        Cell::Text(s) => s.parse().unwrap_or(0),
        _ => 0,
    }
}
