//! `census query "SQL"`: one SQL statement over the scan database, read-only, printed
//! as a table, JSON or CSV; `census query --tables` lists the tables and views.
//!
//! The database is opened read-only, so a statement that would change it fails. The
//! views show the latest scan (see [`crate::store`]); the tables hold every scan.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Result};
use rusqlite::Connection;

use crate::store::output::{Cell, Format, RowWriter};
use crate::store::sqlite::open_read_only;
use crate::store::views::quote_ident;

/// `census query`'s flags, as parsed.
#[derive(Debug, Clone)]
pub struct QueryArgs {
    pub sql: Option<String>,
    pub db: PathBuf,
    pub output: Format,
    pub tables: bool,
}

/// One line saying what is wrong with a statement: `SQL error near "selec": syntax
/// error`, `SQL error: no such table: x (census query --tables lists them)`.
pub fn sql_error(e: &rusqlite::Error) -> anyhow::Error {
    let msg = match e {
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
        rusqlite::Error::MultipleStatement => "only one statement can be run at a time".to_string(),
        other => other.to_string(),
    };
    let msg = msg.replace('\n', " ");
    let hint = if msg.starts_with("no such table") || msg.starts_with("no such column") {
        " (census query --tables lists the tables and views)"
    } else if msg.contains("readonly database") {
        " (census query only reads)"
    } else {
        ""
    };
    if msg.starts_with("near ") {
        anyhow!("SQL error {msg}{hint}")
    } else {
        anyhow!("SQL error: {msg}{hint}")
    }
}

/// Runs the query (or lists the tables) and writes the result to `out`.
pub fn run(args: &QueryArgs, out: impl Write) -> Result<()> {
    let conn = open_read_only(&args.db)?;
    if args.tables {
        if args.sql.is_some() {
            bail!("give either an SQL statement or --tables, not both");
        }
        return tables(&conn, args.output, out);
    }
    let sql = args.sql.as_deref().unwrap_or("").trim();
    if sql.is_empty() {
        bail!("no SQL statement given: census query \"select ...\" (census query --tables lists the tables and views)");
    }
    let mut stmt = conn.prepare(sql).map_err(|e| sql_error(&e))?;
    let columns: Vec<String> = stmt.column_names().map(|c| c.to_string()).collect();
    let n = columns.len();
    let mut writer = RowWriter::new(args.output, columns, out)?;
    let mut rows = stmt.query([]).map_err(|e| sql_error(&e))?;
    while let Some(row) = rows.next().map_err(|e| sql_error(&e))? {
        let mut cells = Vec::with_capacity(n);
        for i in 0..n {
            cells.push(Cell::from(row.get_ref(i)?));
        }
        writer.row(cells)?;
    }
    writer.finish()?;
    Ok(())
}

/// The tables and views with their row counts, tables first.
fn tables(conn: &Connection, format: Format, out: impl Write) -> Result<()> {
    let mut stmt = conn.prepare(
        "SELECT name, type FROM sqlite_schema WHERE type IN ('table', 'view')
         AND name NOT LIKE 'sqlite_%' ORDER BY type, name",
    )?;
    let list: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut writer = RowWriter::new(
        format,
        vec!["name".into(), "type".into(), "rows".into()],
        out,
    )?;
    for (name, kind) in list {
        let rows: i64 = conn
            .query_row(
                &format!("SELECT COUNT(*) FROM {}", quote_ident(&name)),
                [],
                |r| r.get(0),
            )
            .map_err(|e| sql_error(&e))?;
        writer.row(vec![Cell::Text(name), Cell::Text(kind), Cell::Int(rows)])?;
    }
    writer.finish()?;
    Ok(())
}
