//! `census query "SQL"`: one SQL statement over the scan database, read-only, printed
//! as a table, JSON or CSV; `census query --tables` lists the tables and views. Not
//! for writing the store, nor for comparing scans (`census diff`).
//!
//! Read-only in every way, whatever the statement says:
//! - SQLite: the database is opened read-only, the statement must start with SELECT,
//!   WITH, VALUES or a read PRAGMA and be a read by SQLite's own account
//!   (`sqlite3_stmt_readonly`), and an authorizer admits only reads of tables and
//!   columns, functions other than `load_extension`, and the read PRAGMAs: `VACUUM INTO`,
//!   `ATTACH`, writes, transactions and PRAGMA writes are refused.
//! - PostgreSQL (`--postgres URL` or `$CENSUS_POSTGRES_URL`, PostgreSQL's dialect, see
//!   [`crate::store::postgres`]): a READ ONLY session; the statement must start with
//!   SELECT, WITH, VALUES, TABLE or SHOW; calls of the server's file, program, large
//!   object, dblink, settings and backend functions (`pg_read_file`, `lo_export`,
//!   `query_to_xml`, `set_config`...) are refused; and when the role could reach files
//!   or programs (a superuser, or a member of `pg_read_server_files`,
//!   `pg_write_server_files` or `pg_execute_server_program`) the statement runs as
//!   `pg_read_all_data`, which can read every table and nothing else. Even so, give
//!   `census query` a read-only role.
//! - A statement stops after `--timeout` (60 s by default): SQLite through a progress
//!   handler, PostgreSQL through `statement_timeout`.
//!
//! The views show the latest scan (see [`crate::store`]); the tables hold every scan.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use rusqlite::Connection;

use crate::cli::store::QueryFlags;
use crate::store::postgres::{printable, AnyCell, PgUrl};
use crate::store::sqlite::open_read_only;
use crate::store::views::quote_ident;
use crate::util::print::{Cell, Format, RowWriter};

/// The SQL functions a query may not call on PostgreSQL (exact names, and prefixes
/// ending in `_` or `*`): the server's files and programs, large objects (which
/// `lo_import`/`lo_export` move to and from files), other databases, SQL run from a
/// string, settings (a `SET ROLE` in disguise) and other sessions.
pub const PG_REFUSED_FUNCTIONS: &[&str] = &[
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_*",
    "pg_stat_file",
    "pg_file_*",
    "pg_logdir_ls",
    "lo_*",
    "loread",
    "lowrite",
    "dblink*",
    "query_to_xml*",
    "cursor_to_xml*",
    "database_to_xml*",
    "schema_to_xml*",
    "ts_stat",
    "ts_rewrite",
    "pg_logical_*",
    "pg_replication_*",
    "pg_create_*",
    "pg_drop_*",
    "pg_copy_*",
    "pg_backup_*",
    "pg_switch_wal",
    "pg_wal_replay_*",
    "pg_log_backend_memory_contexts",
    "set_config",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_promote",
    "pg_logical_emit_message",
    "pg_notify",
    "pg_advisory_lock*",
    "pg_advisory_xact_lock*",
];

/// Read PRAGMAs a SQLite query may use (without a value, or with a table name).
const SQLITE_READ_PRAGMAS: &[&str] = &[
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
    "function_list",
    "pragma_list",
    "collation_list",
    "compile_options",
    "user_version",
    "schema_version",
    "page_count",
    "page_size",
    "encoding",
];

/// The statement with comments and the contents of string literals and quoted
/// identifiers taken out (quoted identifiers keep their text, lower-cased), lower-cased:
/// what the statement checks look at, so that a word in a string does not count and a
/// comment cannot hide one.
fn code_words(sql: &str) -> String {
    let b: Vec<char> = sql.chars().collect();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '-' && next == Some('-') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
            out.push(' ');
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == '\'' {
            // 'text' ('' inside), E'te\'xt' (backslash escapes): left out.
            // (E alone before the quote: `like'x'` is a plain string after `like`.)
            let backslash = i > 0
                && matches!(b[i - 1], 'e' | 'E')
                && (i < 2 || !(b[i - 2].is_alphanumeric() || b[i - 2] == '_' || b[i - 2] == '$'));
            i += 1;
            while i < b.len() {
                if backslash && b[i] == '\\' {
                    i += 2;
                } else if b[i] == '\'' {
                    if b.get(i + 1) == Some(&'\'') {
                        i += 2;
                    } else {
                        i += 1;
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push_str(" '' ");
        } else if c == '"' {
            // "Ident" ("" inside): its text, so that "pg_read_file"(...) is seen.
            i += 1;
            while i < b.len() {
                if b[i] == '"' {
                    if b.get(i + 1) == Some(&'"') {
                        out.push('"');
                        i += 2;
                    } else {
                        i += 1;
                        break;
                    }
                } else {
                    out.extend(b[i].to_lowercase());
                    i += 1;
                }
            }
        } else if c == '$' && (i == 0 || !(b[i - 1].is_alphanumeric() || b[i - 1] == '_')) {
            // $tag$ ... $tag$ (PostgreSQL): left out.
            let mut j = i + 1;
            while j < b.len() && (b[j].is_alphanumeric() || b[j] == '_') {
                j += 1;
            }
            if j < b.len() && b[j] == '$' {
                let tag: String = b[i..=j].iter().collect();
                let rest: String = b[j + 1..].iter().collect();
                match rest.find(&tag) {
                    Some(end) => i = j + 1 + rest[..end].chars().count() + tag.chars().count(),
                    None => i = b.len(),
                }
                out.push_str(" '' ");
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.extend(c.to_lowercase());
            i += 1;
        }
    }
    out
}

/// The first word of the statement (lower case), comments skipped.
fn first_word(code: &str) -> String {
    code.trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// Refuses a statement that does not start like a read (`allowed` first words).
fn check_first_word(code: &str, allowed: &[&str]) -> Result<()> {
    let first = first_word(code);
    if !allowed.contains(&first.as_str()) {
        let shown = if first.is_empty() {
            "that"
        } else {
            first.as_str()
        };
        bail!(
            "census query only reads (its session is read-only): a statement starting with {} is refused; write one starting with {}",
            shown.to_uppercase(),
            allowed
                .iter()
                .map(|w| w.to_uppercase())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

/// The PostgreSQL statement checks: a read, calling none of [`PG_REFUSED_FUNCTIONS`],
/// with no Unicode-escaped names or strings (`U&"..."`, which could spell one).
pub fn check_pg_statement(sql: &str) -> Result<()> {
    let code = code_words(sql);
    check_first_word(&code, &["select", "with", "values", "table", "show"])?;
    if code.contains("u&") {
        bail!("census query refuses U& (Unicode-escaped) names and strings on PostgreSQL; write the characters themselves");
    }
    // `name (`, `name/**/(` count as `name(` (comments are spaces by now).
    let mut joined = String::with_capacity(code.len());
    for c in code.chars() {
        if c == '(' {
            joined.truncate(joined.trim_end().len());
        }
        joined.push(c);
    }
    for w in joined.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '(')) {
        let Some((name, _)) = w.split_once('(') else {
            continue;
        };
        let refused = PG_REFUSED_FUNCTIONS
            .iter()
            .any(|f| match f.strip_suffix('*') {
                Some(prefix) => name.starts_with(prefix),
                None => name == *f,
            });
        if refused {
            bail!(
                "census query refuses {name}(): it reaches the server's files, programs, settings or other sessions, not the census tables"
            );
        }
    }
    Ok(())
}

/// The SQLite statement check: a read by its first word (the authorizer and
/// `sqlite3_stmt_readonly` do the rest).
fn check_sqlite_statement(sql: &str) -> Result<()> {
    check_first_word(&code_words(sql), &["select", "with", "values", "pragma"])
}

/// Makes a SQLite connection refuse everything but reads (see the module's notes) and
/// interrupt a statement that runs past `timeout` (counted from now).
pub fn guard_sqlite(conn: &mut Connection, timeout: Duration) -> Result<()> {
    use rusqlite::config::DbConfig;
    use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)?;
    conn.authorizer(Some(|ctx: AuthContext<'_>| match ctx.action {
        AuthAction::Select | AuthAction::Read { .. } | AuthAction::Recursive => {
            Authorization::Allow
        }
        AuthAction::Function { function_name } => {
            if function_name.eq_ignore_ascii_case("load_extension") {
                Authorization::Deny
            } else {
                Authorization::Allow
            }
        }
        AuthAction::Pragma {
            pragma_name,
            pragma_value,
        } => {
            let name = pragma_name.to_ascii_lowercase();
            let read = SQLITE_READ_PRAGMAS.contains(&name.as_str())
                && (pragma_value.is_none() || name.contains("info") || name.contains("list"));
            if read {
                Authorization::Allow
            } else {
                Authorization::Deny
            }
        }
        _ => Authorization::Deny,
    }))?;
    let deadline = Instant::now() + timeout;
    conn.progress_handler(10_000, Some(move || Instant::now() >= deadline))?;
    Ok(())
}

/// `sql_error`, saying so when the statement ran out of time or was refused.
fn sqlite_error(e: &rusqlite::Error, timeout: Duration) -> anyhow::Error {
    if let rusqlite::Error::SqliteFailure(f, _) = e {
        if f.code == rusqlite::ErrorCode::OperationInterrupted {
            return anyhow!(
                "SQL error: the statement ran longer than {}s and was stopped; narrow it, or give more time with --timeout",
                timeout.as_secs()
            );
        }
        if f.code == rusqlite::ErrorCode::AuthorizationForStatementDenied {
            return anyhow!(
                "SQL error: not authorized: census query only reads the census tables and views (no writes, ATTACH, VACUUM, transactions, PRAGMA changes or extensions)"
            );
        }
    }
    sql_error(e)
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
pub fn run(args: &QueryFlags, out: impl Write) -> Result<()> {
    let (db, postgres) = args.store.databases();
    let (output, timeout) = (args.store.output, Duration::from_secs(args.timeout));
    if args.tables && args.sql.is_some() {
        bail!("give either an SQL statement or --tables, not both");
    }
    let sql = args.sql.as_deref().unwrap_or("").trim();
    if !args.tables && sql.is_empty() {
        bail!("no SQL statement given: census query \"select ...\" (census query --tables lists the tables and views)");
    }
    if let Some(url) = &postgres {
        let mut client = url.open_read_only()?;
        guard_pg(url, &mut client, timeout)?;
        if args.tables {
            return pg_tables(url, &mut client, output, out);
        }
        return pg_query(url, &mut client, sql, output, timeout, out);
    }
    let mut conn = open_read_only(&db)?;
    if args.tables {
        return tables(&conn, output, out);
    }
    guard_sqlite(&mut conn, timeout)?;
    let sql_error = |e: &rusqlite::Error| sqlite_error(e, timeout);
    // Prepared first (under the authorizer), so that a mistyped statement gets SQLite's
    // own message.
    let mut stmt = conn.prepare(sql).map_err(|e| sql_error(&e))?;
    check_sqlite_statement(sql)?;
    if !stmt.readonly() {
        bail!("census query only reads: that statement would change something (SQLite says it is not read-only)");
    }
    let columns: Vec<String> = stmt.column_names().map(|c| c.to_string()).collect();
    let n = columns.len();
    let mut writer = RowWriter::new(output, columns, out)?;
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
    write_tables(list, format, out, |count| {
        conn.query_row(count, [], |r| r.get(0))
            .map_err(|e| sql_error(&e))
    })
}

/// Writes `(name, type)` of each table and view with its row count, which `count`
/// gives for a `SELECT COUNT(*)`.
fn write_tables(
    list: Vec<(String, String)>,
    format: Format,
    out: impl Write,
    mut count: impl FnMut(&str) -> Result<i64>,
) -> Result<()> {
    let mut writer = RowWriter::with_columns(format, &["name", "type", "rows"], out)?;
    for (name, kind) in list {
        let rows = count(&format!("SELECT COUNT(*) FROM {}", quote_ident(&name)))?;
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

/// The PostgreSQL session's guards: `statement_timeout`, and, when the role could reach
/// the server's files or programs, `SET ROLE pg_read_all_data` (which reads every
/// table and nothing else; refused when the role cannot take it, as then it is not
/// privileged enough to need it... unless it is: then the query is refused).
fn guard_pg(url: &PgUrl, client: &mut postgres::Client, timeout: Duration) -> Result<()> {
    client
        .batch_execute(&format!(
            "SET statement_timeout = {}; SET lock_timeout = {}; SET standard_conforming_strings = on",
            timeout.as_millis(),
            timeout.as_millis()
        ))
        .map_err(|e| pg_sql_error(url, &e))?;
    let privileged: bool = client
        .query_one(
            "SELECT rolsuper OR pg_has_role(current_user, 'pg_read_server_files', 'MEMBER')
                 OR pg_has_role(current_user, 'pg_write_server_files', 'MEMBER')
                 OR pg_has_role(current_user, 'pg_execute_server_program', 'MEMBER')
             FROM pg_roles WHERE rolname = current_user",
            &[],
        )
        .map_err(|e| pg_sql_error(url, &e))?
        .get(0);
    if privileged {
        client.batch_execute("SET ROLE pg_read_all_data").map_err(|e| {
            anyhow!(
                "{}",
                url.error(&format!(
                    "the role can reach the server's files or programs, and could not drop to pg_read_all_data ({}); give census query a read-only role",
                    crate::store::postgres::error_text(&e)
                ))
            )
        })?;
    }
    Ok(())
}

fn pg_query(
    url: &PgUrl,
    client: &mut postgres::Client,
    sql: &str,
    format: Format,
    timeout: Duration,
    out: impl Write,
) -> Result<()> {
    use postgres::fallible_iterator::FallibleIterator;
    let pg_sql_error = |url: &PgUrl, e: &postgres::Error| {
        if e.code() == Some(&postgres::error::SqlState::QUERY_CANCELED) {
            anyhow!(
                "SQL error: the statement ran longer than {}s and was stopped; narrow it, or give more time with --timeout",
                timeout.as_secs()
            )
        } else {
            pg_sql_error(url, e)
        }
    };
    // Preparing runs nothing; it gives a mistyped statement PostgreSQL's own message.
    let stmt = client.prepare(sql).map_err(|e| pg_sql_error(url, &e))?;
    check_pg_statement(sql)?;
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
    write_tables(list, format, out, |count| {
        Ok(client
            .query_one(count, &[])
            .map_err(|e| pg_sql_error(url, &e))?
            .get(0))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_statement_checks() {
        for ok in [
            "select 1",
            "  -- note\n SELECT * FROM ec2_describe_vpcs WHERE name = 'copy pg_read_file(''x'')'",
            "with x as (select 1) select * from x",
            "select \"VpcId\", lower(account_name) from v /* lo_import( */",
            "select $$pg_read_file('/etc/passwd')$$",
            "TABLE scans",
        ] {
            assert!(
                check_pg_statement(ok).is_ok(),
                "{ok}: {:?}",
                check_pg_statement(ok)
            );
        }
        for (bad, want) in [
            (
                "copy scans to '/tmp/x'",
                "statement starting with COPY is refused",
            ),
            (
                "/* x */ COPY (select 1) TO PROGRAM 'touch /tmp/x'",
                "starting with COPY",
            ),
            (
                "select pg_read_file('/etc/passwd')",
                "refuses pg_read_file()",
            ),
            (
                "select pg_catalog.PG_READ_FILE ('/etc/passwd')",
                "refuses pg_read_file()",
            ),
            (
                "select \"pg_read_binary_file\"/**/('/etc/passwd')",
                "refuses pg_read_binary_file()",
            ),
            ("select * from pg_ls_dir('.')", "refuses pg_ls_dir()"),
            ("select pg_stat_file('x')", "refuses pg_stat_file()"),
            ("select lo_import('/etc/passwd')", "refuses lo_import()"),
            ("select lo_export(1, '/tmp/x')", "refuses lo_export()"),
            ("select dblink('x', 'y')", "refuses dblink()"),
            (
                "select query_to_xml('copy (select 1) to program ''id''', true, true, '')",
                "refuses query_to_xml()",
            ),
            (
                "select set_config('role', 'postgres', false)",
                "refuses set_config()",
            ),
            ("select U&\"pg\\0072ead_file\"('x')", "U&"),
            (
                "select 1 where 'a' like'\\' , pg_read_file('/etc/passwd') --'",
                "refuses pg_read_file()",
            ),
            ("select E'\\'', pg_ls_dir('.') --'", "refuses pg_ls_dir()"),
            ("select * from ts_stat('select 1')", "refuses ts_stat()"),
            (
                "select pg_logical_slot_get_changes('s', null, null)",
                "refuses pg_logical_slot_get_changes()",
            ),
            ("delete from scans", "starting with DELETE"),
            ("do $$ begin end $$", "starting with DO"),
            ("explain analyze delete from scans", "starting with EXPLAIN"),
        ] {
            let e = check_pg_statement(bad).unwrap_err().to_string();
            assert!(e.contains(want), "{bad}: {e}");
            assert_eq!(e.lines().count(), 1);
        }
    }

    /// Every attack on a real SQLite database is refused with a clear line, nothing is
    /// written anywhere, and reads still work.
    #[test]
    fn sqlite_reads_only() {
        let dir = std::env::temp_dir().join(format!("census-query-ro-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("census.db");
        drop(crate::sink::sql::sqlite::open_for_writing(&db).unwrap());
        let copy = dir.join("copy.db");
        let run_sql = |sql: &str, timeout: u64| {
            let mut out = Vec::new();
            run(
                &QueryFlags {
                    sql: Some(sql.into()),
                    tables: false,
                    store: crate::cli::store::StoreFlags {
                        db: Some(db.clone()),
                        postgres: None,
                        output: Format::Csv,
                    },
                    timeout,
                },
                &mut out,
            )
            .map(|_| String::from_utf8(out).unwrap())
            .map_err(|e| e.to_string())
        };
        assert_eq!(
            run_sql("select count(*) as n from scans", 60).unwrap(),
            "n\n0\n"
        );
        assert_eq!(
            run_sql("with recursive c(x) as (select 1 union all select x + 1 from c where x < 3) select x from c", 60).unwrap(),
            "x\n1\n2\n3\n"
        );
        assert!(run_sql("pragma table_info(scans)", 60)
            .unwrap()
            .contains("scan_id"));
        let vacuum = format!("vacuum into '{}'", copy.display());
        let attach = format!("attach database '{}' as x", copy.display());
        let cte_vacuum = format!("select 1; vacuum into '{}'", copy.display());
        for (sql, want) in [
            (vacuum.as_str(), "starting with VACUUM is refused"),
            (attach.as_str(), "not authorized"),
            ("select load_extension('/tmp/x.so')", "not authorized"),
            ("pragma user_version = 7", "not authorized"),
            ("pragma journal_mode = delete", "not authorized"),
            ("pragma writable_schema", "not authorized"),
            ("with x as (select 1) delete from scans", "not authorized"),
            (
                "select * from pragma_table_info('scans') join (select writefile('/tmp/x', 'y'))",
                "no such function",
            ),
            ("insert into scans values (1)", "not authorized"),
            (cte_vacuum.as_str(), "one statement"),
            ("begin", "not authorized"),
            ("select 1 from scans; select 2", "one statement"),
        ] {
            let e = run_sql(sql, 60).unwrap_err();
            assert!(e.contains(want), "{sql}: {e}");
            assert_eq!(e.lines().count(), 1, "{e}");
        }
        // The authorizer alone (past the first-word check) stops them too.
        let mut conn = open_read_only(&db).unwrap();
        guard_sqlite(&mut conn, Duration::from_secs(60)).unwrap();
        for sql in [vacuum.as_str(), attach.as_str(), "pragma user_version = 7"] {
            assert!(conn.execute_batch(sql).is_err(), "{sql}");
        }
        assert!(!copy.exists(), "a statement wrote {}", copy.display());
        let e = run_sql(
            "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c",
            1,
        )
        .unwrap_err();
        assert!(e.contains("ran longer than 1s and was stopped"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
