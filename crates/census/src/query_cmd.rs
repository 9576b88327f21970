//! `census query "SQL"`: one SQL statement over the scan database, read-only, printed
//! as a table, JSON or CSV; `census query --tables` lists the tables and views.
//!
//! The database is opened read-only, so a statement that would change it fails. The
//! views show the latest scan (see [`crate::store`]); the tables hold every scan.
//! With `--postgres URL` (or `$CENSUS_POSTGRES_URL`) the statement runs on PostgreSQL,
//! in a read-only transaction, in PostgreSQL's dialect (see [`crate::store::postgres`]).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Result};
use rusqlite::Connection;

use crate::store::output::{Cell, Format, RowWriter};
use crate::store::postgres::{printable, AnyCell, PgUrl};
use crate::store::sqlite::open_read_only;
use crate::store::views::quote_ident;

/// `census query`'s flags, as parsed.
#[derive(Debug, Clone)]
pub struct QueryArgs {
    pub sql: Option<String>,
    pub db: PathBuf,
    /// Query this PostgreSQL database instead of the SQLite file.
    pub postgres: Option<PgUrl>,
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
    if args.tables && args.sql.is_some() {
        bail!("give either an SQL statement or --tables, not both");
    }
    let sql = args.sql.as_deref().unwrap_or("").trim();
    if !args.tables && sql.is_empty() {
        bail!("no SQL statement given: census query \"select ...\" (census query --tables lists the tables and views)");
    }
    if let Some(url) = &args.postgres {
        let mut client = url.open_read_only()?;
        if args.tables {
            return pg_tables(url, &mut client, args.output, out);
        }
        return pg_query(url, &mut client, sql, args.output, out);
    }
    let conn = open_read_only(&args.db)?;
    if args.tables {
        return tables(&conn, args.output, out);
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

/// One line saying what is wrong with a statement run on PostgreSQL: `SQL error: syntax
/// error at or near "selec"`, with a hint for unknown tables and columns.
pub fn pg_sql_error(url: &PgUrl, e: &postgres::Error) -> anyhow::Error {
    use postgres::error::SqlState;
    let Some(db) = e.as_db_error() else {
        return anyhow!("{}", url.error(&crate::store::postgres::error_text(e)));
    };
    let code = db.code();
    let hint = if *code == SqlState::UNDEFINED_TABLE {
        " (census query --tables lists the tables and views)"
    } else if *code == SqlState::UNDEFINED_COLUMN {
        " (census query --tables lists the tables and views; PostgreSQL folds unquoted names to lower case, so quote mixed-case columns: \"VpcId\")"
    } else if *code == SqlState::READ_ONLY_SQL_TRANSACTION {
        " (census query only reads)"
    } else if *code == SqlState::UNDEFINED_FUNCTION {
        " (view columns are text in PostgreSQL: cast them, \"IsDefault\"::boolean, \"Size\"::bigint)"
    } else {
        ""
    };
    let position = match db.position() {
        Some(postgres::error::ErrorPosition::Original(p)) => format!(" (at character {p})"),
        _ => String::new(),
    };
    anyhow!(
        "SQL error: {}{position}{hint}",
        db.message().replace('\n', " ")
    )
}

fn pg_query(
    url: &PgUrl,
    client: &mut postgres::Client,
    sql: &str,
    format: Format,
    out: impl Write,
) -> Result<()> {
    use postgres::fallible_iterator::FallibleIterator;
    let stmt = client.prepare(sql).map_err(|e| pg_sql_error(url, &e))?;
    for c in stmt.columns() {
        if !printable(c.type_()) {
            bail!(
                "column {} has type {}, which census query cannot print; cast it to text ({}::text)",
                c.name(),
                c.type_(),
                quote_ident(c.name())
            );
        }
    }
    let columns: Vec<String> = stmt
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    let n = columns.len();
    let mut writer = RowWriter::new(format, columns, out)?;
    let mut rows = client
        .query_raw(&stmt, std::iter::empty::<&str>())
        .map_err(|e| pg_sql_error(url, &e))?;
    while let Some(row) = rows.next().map_err(|e| pg_sql_error(url, &e))? {
        let mut cells = Vec::with_capacity(n);
        for i in 0..n {
            let AnyCell(cell) = row
                .try_get(i)
                .map_err(|e| anyhow!("column {}: {e}", row.columns()[i].name()))?;
            cells.push(cell);
        }
        writer.row(cells)?;
    }
    writer.finish()?;
    Ok(())
}

/// The tables and views of the census schema with their row counts, tables first.
fn pg_tables(
    url: &PgUrl,
    client: &mut postgres::Client,
    format: Format,
    out: impl Write,
) -> Result<()> {
    let list: Vec<(String, String)> = client
        .query(
            "SELECT c.relname::text, CASE WHEN c.relkind = 'v' THEN 'view' ELSE 'table' END
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v')
               AND c.relname <> 'census_schema'
             ORDER BY c.relkind = 'v', c.relname::text COLLATE \"C\"",
            &[],
        )
        .map_err(|e| pg_sql_error(url, &e))?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut writer = RowWriter::new(
        format,
        vec!["name".into(), "type".into(), "rows".into()],
        out,
    )?;
    for (name, kind) in list {
        let rows: i64 = client
            .query_one(&format!("SELECT COUNT(*) FROM {}", quote_ident(&name)), &[])
            .map_err(|e| pg_sql_error(url, &e))?
            .get(0);
        writer.row(vec![Cell::Text(name), Cell::Text(kind), Cell::Int(rows)])?;
    }
    writer.finish()?;
    Ok(())
}
