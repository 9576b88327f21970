//! Reading the `inventory` table: the statement for a [`Filter`] (bound parameters,
//! the latest scan per call picked once, byte order on both stores), and the rows
//! streamed from SQLite or PostgreSQL ([`Reader::rows`]) with their tags checked here.
//! Not for printing them ([`super::print_rows`]).

use std::collections::BTreeSet;
use std::io::Write;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use super::filter::{Filter, Tags};
use crate::cli::store::StoreFlags;
use crate::store::postgres::{self as pg, PgUrl};
use crate::store::sqlite::{self, ScanRow};
use crate::util::print::escape;

/// One inventory row as the commands print it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub account_id: String,
    pub account_name: Option<String>,
    pub region: String,
    pub resource_type: String,
    pub cfn_type: Option<String>,
    pub resource_id: String,
    pub arn: Option<String>,
    pub name: Option<String>,
    pub created: Option<String>,
    pub tags: Tags,
}

/// A statement under construction: its bound parameters, numbered for the store.
pub(super) struct Query {
    postgres: bool,
    params: Vec<String>,
}

impl Query {
    pub(super) fn bind(&mut self, value: &str) -> String {
        self.params.push(value.to_string());
        let n = self.params.len();
        if self.postgres {
            format!("${n}")
        } else {
            format!("?{n}")
        }
    }

    fn list(&mut self, values: &[String]) -> String {
        let marks: Vec<String> = values.iter().map(|v| self.bind(v)).collect();
        marks.join(", ")
    }
}

/// The rows statement for `filter` (columns as [`Row`]'s, tags last).
pub(super) fn rows_sql(filter: &Filter, postgres: bool) -> (String, Vec<String>) {
    let mut q = Query {
        postgres,
        params: Vec::new(),
    };
    let mut cond = Vec::new();
    let mut sql = String::new();
    match &filter.scan {
        Some(scan) => cond.push(format!("i.scan_id = {}", q.bind(scan))),
        None => {
            // The latest scan per call, as inventory_latest picks it.
            sql.push_str(&format!(
                "WITH latest AS ({}) ",
                crate::sink::sql::schema::LATEST_PER_CALL
            ));
        }
    }
    sql.push_str(
        "SELECT i.account_id, a.name, i.region, i.resource_type, i.cfn_type, i.resource_id, \
         i.arn, i.name, i.created, i.tags FROM inventory i ",
    );
    if filter.scan.is_none() {
        sql.push_str("JOIN latest l ON l.scan_id = i.scan_id AND l.stem = i.source ");
    }
    sql.push_str("LEFT JOIN accounts a ON a.scan_id = i.scan_id AND a.account_id = i.account_id");
    if !filter.accounts.is_empty() {
        let ids = q.list(&filter.accounts);
        let names = q.list(&filter.accounts);
        cond.push(format!(
            "(i.account_id IN ({ids}) OR lower(a.name) IN ({names}))"
        ));
    }
    if !filter.regions.is_empty() {
        cond.push(format!("lower(i.region) IN ({})", q.list(&filter.regions)));
    }
    if !filter.types.is_empty() {
        let any: Vec<String> = filter.types.iter().map(|t| t.sql(&mut q)).collect();
        cond.push(format!("({})", any.join(" OR ")));
    }
    if !cond.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&cond.join(" AND "));
    }
    // Byte order on both stores (PostgreSQL's default collation may ignore case and
    // punctuation).
    let c = if postgres { " COLLATE \"C\"" } else { "" };
    sql.push_str(&format!(
        " ORDER BY i.account_id{c}, i.region{c}, i.resource_type{c}, i.resource_id{c}"
    ));
    (sql, q.params)
}

/// Tags from the store's JSON object (strings kept, other values as their JSON text).
fn tags_from(value: Value) -> Tags {
    match value {
        Value::Object(m) => m
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s,
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                (k, v)
            })
            .collect(),
        _ => Tags::new(),
    }
}

/// The store the rows are read from: `--db` or `--postgres`/`$CENSUS_POSTGRES_URL`.
pub enum Reader {
    Sqlite(rusqlite::Connection, String),
    Postgres(Box<postgres::Client>, PgUrl),
}

impl Reader {
    /// Opens the store `flags` name, read-only.
    pub fn open(flags: &StoreFlags) -> Result<Reader> {
        let (path, postgres) = flags.databases();
        Ok(match postgres {
            Some(url) => Reader::Postgres(Box::new(url.open_read_only()?), url),
            None => {
                let conn = sqlite::open_read_only(&path)?;
                let version = sqlite::schema_version(&conn, &path)?;
                if version < 3 {
                    bail!(
                        "{}: made by a census without the inventory (schema version {version}); run census scan again with this census",
                        path.display()
                    );
                }
                Reader::Sqlite(conn, path.display().to_string())
            }
        })
    }

    /// Where the rows come from, for messages.
    fn describe(&self) -> String {
        match self {
            Reader::Sqlite(_, path) => path.clone(),
            Reader::Postgres(_, url) => format!("PostgreSQL at {url}"),
        }
    }

    fn pg_error(url: &PgUrl, e: &postgres::Error) -> anyhow::Error {
        anyhow::anyhow!("{}", url.error(&pg::error_text(e)))
    }

    fn scans(&mut self) -> Result<Vec<ScanRow>> {
        Ok(match self {
            Reader::Sqlite(c, _) => sqlite::scans(c)?,
            Reader::Postgres(c, url) => pg::scans(c).map_err(|e| Self::pg_error(url, &e))?,
        })
    }

    /// The `(text, optional text)` rows of `sql`.
    fn pairs(&mut self, sql: &str) -> Result<BTreeSet<(String, Option<String>)>> {
        Ok(match self {
            Reader::Sqlite(c, _) => c
                .prepare(sql)?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?,
            Reader::Postgres(c, url) => c
                .query(sql, &[])
                .map_err(|e| Self::pg_error(url, &e))?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect(),
        })
    }

    /// Every `(resource_type, cfn_type)` in the store, for suggestions.
    fn known_types(&mut self) -> Result<BTreeSet<(String, Option<String>)>> {
        self.pairs("SELECT DISTINCT resource_type, cfn_type FROM inventory")
    }

    /// Streams the rows `filter` selects, sorted, to `each` until it returns false.
    pub fn rows(
        &mut self,
        filter: &Filter,
        mut each: impl FnMut(Row) -> Result<bool>,
    ) -> Result<()> {
        if let Some(scan) = &filter.scan {
            let all = self.scans()?;
            if !all.iter().any(|s| &s.scan_id == scan) {
                let known: Vec<&str> = all.iter().map(|s| s.scan_id.as_str()).collect();
                bail!(
                    "{} has no scan {scan:?}; give one of its scans to --scan: {}",
                    self.describe(),
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                );
            }
            use crate::store::shards::{check_finished, Db};
            match self {
                Reader::Sqlite(c, _) => check_finished(Db::Sqlite(c), scan, filter.partial)?,
                Reader::Postgres(c, url) => {
                    check_finished(Db::Postgres(c, url), scan, filter.partial)?
                }
            }
        }
        match self {
            Reader::Sqlite(conn, path) => {
                let (sql, params) = rows_sql(filter, false);
                let mut stmt = conn
                    .prepare(&sql)
                    .with_context(|| format!("{path}: reading the inventory"))?;
                let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
                while let Some(r) = rows.next()? {
                    let text: String = r.get(9)?;
                    let tags = tags_from(serde_json::from_str(&text).unwrap_or(Value::Null));
                    if !filter.tags_pass(&tags) {
                        continue;
                    }
                    let row = Row {
                        account_id: r.get(0)?,
                        account_name: r.get(1)?,
                        region: r.get(2)?,
                        resource_type: r.get(3)?,
                        cfn_type: r.get(4)?,
                        resource_id: r.get(5)?,
                        arn: r.get(6)?,
                        name: r.get(7)?,
                        created: r.get(8)?,
                        tags,
                    };
                    if !each(row)? {
                        break;
                    }
                }
            }
            Reader::Postgres(client, url) => {
                let (sql, params) = rows_sql(filter, true);
                let url = url.clone();
                let err = |e: postgres::Error| Self::pg_error(&url, &e);
                let stmt = client.prepare(&sql).map_err(err)?;
                let mut rows = client.query_raw(&stmt, params.iter()).map_err(err)?;
                use postgres::fallible_iterator::FallibleIterator;
                while let Some(r) = rows.next().map_err(err)? {
                    let tags = tags_from(r.get::<_, Option<Value>>(9).unwrap_or(Value::Null));
                    if !filter.tags_pass(&tags) {
                        continue;
                    }
                    let row = Row {
                        account_id: r.get(0),
                        account_name: r.get(1),
                        region: r.get(2),
                        resource_type: r.get(3),
                        cfn_type: r.get(4),
                        resource_id: r.get(5),
                        arn: r.get(6),
                        name: r.get(7),
                        created: r.get(8),
                        tags,
                    };
                    if !each(row)? {
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// Says on `err` which `--type` values name no type the store has, with the
    /// closest types it does have. `seen`: the values that matched a printed row.
    pub fn tell_unknown_types(
        &mut self,
        filter: &Filter,
        given: &[String],
        seen: &[bool],
        mut err: impl Write,
    ) -> Result<()> {
        if seen.iter().all(|s| *s) {
            return Ok(());
        }
        let known = self.known_types()?;
        for ((spec, given), _) in filter
            .types
            .iter()
            .zip(given)
            .zip(seen)
            .filter(|(_, seen)| !**seen)
        {
            if known.iter().any(|(t, c)| spec.matches(t, c.as_deref())) {
                continue;
            }
            let names: BTreeSet<&str> = known
                .iter()
                .flat_map(|(t, c)| std::iter::once(t.as_str()).chain(c.as_deref()))
                .collect();
            let closest = awsdyn::names::closest(given, names.iter().copied(), 5);
            let hint = if closest.is_empty() {
                String::new()
            } else {
                format!("; closest: {}", closest.join(", "))
            };
            writeln!(
                err,
                "census: no resource of type {} in {}{hint}",
                escape(given),
                self.describe()
            )?;
        }
        Ok(())
    }

    /// Every `(account_id, name)` of the store's scans, for suggestions.
    fn known_accounts(&mut self) -> Result<BTreeSet<(String, Option<String>)>> {
        self.pairs("SELECT DISTINCT account_id, name FROM accounts")
    }

    /// Says on `err` which `--account` values name no account of the store, with the
    /// closest ids and names it has. `seen`: the values that matched a printed row.
    pub fn tell_unknown_accounts(
        &mut self,
        filter: &Filter,
        seen: &[bool],
        mut err: impl Write,
    ) -> Result<()> {
        if seen.iter().all(|s| *s) {
            return Ok(());
        }
        let known = self.known_accounts()?;
        let names: BTreeSet<&str> = known
            .iter()
            .flat_map(|(id, name)| std::iter::once(id.as_str()).chain(name.as_deref()))
            .collect();
        for (given, _) in filter.accounts.iter().zip(seen).filter(|(_, s)| !**s) {
            if names.iter().any(|n| n.to_lowercase() == *given) {
                continue;
            }
            let closest = awsdyn::names::closest(given, names.iter().copied(), 5);
            let hint = if closest.is_empty() {
                String::new()
            } else {
                format!("; closest: {}", closest.join(", "))
            };
            writeln!(
                err,
                "census: no account {} in {}{hint}",
                escape(given),
                self.describe()
            )?;
        }
        Ok(())
    }
}
