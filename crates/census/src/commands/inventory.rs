//! `census inventory`: the resources of the store's `inventory` table, filtered the way
//! people ask ("everything in account X", "every ec2 instance tagged Owner=payments",
//! "every resource without an Environment tag"), printed as a table, JSON or CSV.
//!
//! Also the filter that `census report tags` shares ([`Filter`], [`Reader::rows`]):
//! the flags checked once ([`Filter::from_flags`]: a type without its service or a tag
//! filter without its key is one line and exit 1), accounts, regions, types and the
//! scan selected in SQL with bound parameters, and tags checked here over the streamed
//! rows (keys exactly, else ignoring case, as the account report reads account tags).
//! Rows come sorted by account, region, type and id, and are written as they come
//! ([`print_rows`]); a table, which must know its column widths before its first line,
//! reads the store twice rather than hold the rows.
//!
//! Without `--scan`, each list call's rows of its latest scan, as the view
//! `inventory_latest` shows them; the latest scan per call is picked once in the
//! statement, not once per row as in the view, which keeps the command fast on large
//! stores. Not for the links between resources, nor for writing the store.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::cli::inventory::{FilterFlags, InventoryFlags};
use crate::cli::store::StoreFlags;
use crate::store::postgres::{self as pg, PgUrl};
use crate::store::sqlite::{self, ScanRow};
use crate::util::print::{escape, Format};

/// The columns `census inventory` prints.
pub const COLUMNS: &[&str] = &[
    "account_id",
    "account_name",
    "region",
    "resource_type",
    "resource_id",
    "arn",
    "name",
    "created",
    "tags",
];

/// A `--type`: one type, or every type of a service, in the model's or in
/// CloudFormation's spelling; compared in lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeSpec {
    /// `ec2:Instance`.
    Type(String),
    /// `ec2`, `ec2:*`: every type whose `resource_type` starts with `ec2:`.
    Service(String),
    /// `AWS::EC2::Instance`.
    Cfn(String),
    /// `AWS::EC2::*`: every CloudFormation type starting with `aws::ec2::`.
    CfnService(String),
}

impl TypeSpec {
    /// Reads one `--type` value.
    pub fn parse(given: &str) -> Result<TypeSpec> {
        let s = given.trim().to_ascii_lowercase();
        let fix = "write a type such as ec2:Instance or AWS::EC2::Instance, or a service such as ec2 or ec2:*";
        let word = |w: &str| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if s.contains("::") {
            let parts: Vec<&str> = s.split("::").collect();
            match parts.as_slice() {
                [a, b] | [a, b, "*"] if word(a) && word(b) => {
                    return Ok(TypeSpec::CfnService(format!("{a}::{b}::")))
                }
                [a, b, c] if word(a) && word(b) && word(c) => return Ok(TypeSpec::Cfn(s)),
                _ => bail!(
                    "--type {given:?} is not a CloudFormation type (AWS::SERVICE::TYPE): {fix}"
                ),
            }
        }
        match s.split_once(':') {
            Some(("", _)) => {
                bail!("--type {given:?} names no service before ':': {fix}")
            }
            Some((service, "*")) if word(service) => Ok(TypeSpec::Service(service.to_string())),
            Some((service, kind)) if word(service) && word(kind) => Ok(TypeSpec::Type(s)),
            None if word(&s) => Ok(TypeSpec::Service(s)),
            _ => bail!("--type {given:?} is not a type: {fix}"),
        }
    }

    /// Whether a row's types match.
    pub fn matches(&self, resource_type: &str, cfn_type: Option<&str>) -> bool {
        let (rt, cfn) = (
            resource_type.to_ascii_lowercase(),
            cfn_type.map(str::to_ascii_lowercase),
        );
        match self {
            TypeSpec::Type(t) => rt == *t,
            TypeSpec::Service(s) => rt.split_once(':').is_some_and(|(svc, _)| svc == s),
            TypeSpec::Cfn(t) => cfn.as_deref() == Some(t.as_str()),
            TypeSpec::CfnService(p) => cfn.is_some_and(|c| c.starts_with(p.as_str())),
        }
    }

    /// The SQL condition on `i.resource_type` / `i.cfn_type`.
    fn sql(&self, q: &mut Query) -> String {
        match self {
            TypeSpec::Type(t) => format!("lower(i.resource_type) = {}", q.bind(t)),
            TypeSpec::Service(s) => {
                let prefix = format!("{s}:");
                let n = prefix.chars().count();
                format!(
                    "substr(lower(i.resource_type), 1, {n}) = {}",
                    q.bind(&prefix)
                )
            }
            TypeSpec::Cfn(t) => format!("lower(i.cfn_type) = {}", q.bind(t)),
            TypeSpec::CfnService(p) => {
                let n = p.chars().count();
                format!("substr(lower(i.cfn_type), 1, {n}) = {}", q.bind(p))
            }
        }
    }
}

/// A `--tag`: a key, and the value it must have (any value when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagFilter {
    pub key: String,
    pub value: Option<String>,
}

impl TagFilter {
    /// Reads `KEY=VALUE` or `KEY`.
    pub fn parse(given: &str) -> Result<TagFilter> {
        let (key, value) = match given.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.to_string())),
            None => (given.trim(), None),
        };
        if key.is_empty() {
            bail!("--tag {given:?} has no key: write KEY=VALUE, or KEY for any value");
        }
        Ok(TagFilter {
            key: key.to_string(),
            value,
        })
    }

    /// Whether `tags` has the key (with the value, if one is given).
    pub fn holds(&self, tags: &Tags) -> bool {
        match (tag_value(tags, &self.key), &self.value) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(v), Some(want)) => v == want,
        }
    }
}

/// A required tag: keys that are alternates of each other (`Aide_ID|AideId|AIDE_ID`);
/// satisfied when one of them has a value that is not blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub keys: Vec<String>,
}

impl Requirement {
    /// Reads `KEY` or `KEY|KEY...`; `flag` names the flag in the error.
    pub fn parse(given: &str, flag: &str) -> Result<Requirement> {
        let keys: Vec<String> = given.split('|').map(|k| k.trim().to_string()).collect();
        if keys.iter().any(String::is_empty) {
            bail!("{flag} {given:?} has an empty tag key: write KEY, or alternates as KEY|KEY");
        }
        Ok(Requirement { keys })
    }

    /// `Environment`, `Aide_ID|AideId|AIDE_ID`.
    pub fn label(&self) -> String {
        self.keys.join("|")
    }

    /// Whether one of the keys has a value that is not blank.
    pub fn satisfied(&self, tags: &Tags) -> bool {
        self.keys
            .iter()
            .any(|k| tag_value(tags, k).is_some_and(|v| !v.trim().is_empty()))
    }
}

/// A resource's tags, keys in order.
pub type Tags = BTreeMap<String, String>;

/// The value of tag `key`: the exact key's, else the first key equal ignoring case.
pub fn tag_value<'a>(tags: &'a Tags, key: &str) -> Option<&'a str> {
    tags.get(key)
        .or_else(|| {
            tags.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
        .map(String::as_str)
}

/// The checked filter: what to select in SQL, and the tag conditions checked here.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Account ids and names, lower case.
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub types: Vec<TypeSpec>,
    pub tags: Vec<TagFilter>,
    /// `--missing-tag`: each must be unsatisfied.
    pub missing: Vec<Requirement>,
    pub scan: Option<String>,
}

impl Filter {
    /// Checks the flags; `missing` are `--missing-tag`'s values.
    pub fn from_flags(f: &FilterFlags, missing: &[String]) -> Result<Filter> {
        let list = |values: &[String]| -> Vec<String> {
            crate::cli::dedup(values.to_vec())
                .into_iter()
                .filter(|v| !v.is_empty())
                .map(|v| v.to_lowercase())
                .collect()
        };
        let types = crate::cli::dedup(f.types.clone());
        if let Some(empty) = [&f.accounts, &f.regions, &f.types]
            .iter()
            .zip(["--account", "--region", "--type"])
            .find(|(v, _)| v.iter().any(|x| x.trim().is_empty()))
        {
            bail!(
                "{} has an empty value: give a value, or leave the flag out",
                empty.1
            );
        }
        Ok(Filter {
            accounts: list(&f.accounts),
            regions: list(&f.regions),
            types: types
                .iter()
                .map(|t| TypeSpec::parse(t))
                .collect::<Result<_>>()?,
            tags: f
                .tags
                .iter()
                .map(|t| TagFilter::parse(t))
                .collect::<Result<_>>()?,
            missing: missing
                .iter()
                .map(|m| Requirement::parse(m, "--missing-tag"))
                .collect::<Result<_>>()?,
            scan: f.scan.clone().map(|s| s.trim().to_string()),
        })
    }

    /// Whether a row's tags pass `--tag` and `--missing-tag`.
    fn tags_pass(&self, tags: &Tags) -> bool {
        self.tags.iter().all(|t| t.holds(tags)) && self.missing.iter().all(|m| !m.satisfied(tags))
    }
}

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
struct Query {
    postgres: bool,
    params: Vec<String>,
}

impl Query {
    fn bind(&mut self, value: &str) -> String {
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
fn rows_sql(filter: &Filter, postgres: bool) -> (String, Vec<String>) {
    let mut q = Query {
        postgres,
        params: Vec::new(),
    };
    let mut cond = Vec::new();
    let mut sql = String::new();
    match &filter.scan {
        Some(scan) => cond.push(format!("i.scan_id = {}", q.bind(scan))),
        None => {
            // The latest scan per call, as inventory_latest's subquery picks it.
            sql.push_str(
                "WITH latest AS (SELECT stem, scan_id FROM (SELECT c.stem AS stem, \
                 c.scan_id AS scan_id, ROW_NUMBER() OVER (PARTITION BY c.stem \
                 ORDER BY s.finished IS NULL, s.seq DESC) AS n FROM (SELECT DISTINCT stem, \
                 scan_id FROM calls) c JOIN scans s ON s.scan_id = c.scan_id) ranked \
                 WHERE n = 1) ",
            );
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

    /// Every `(resource_type, cfn_type)` in the store, for suggestions.
    fn known_types(&mut self) -> Result<BTreeSet<(String, Option<String>)>> {
        let sql = "SELECT DISTINCT resource_type, cfn_type FROM inventory";
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
        let sql = "SELECT DISTINCT account_id, name FROM accounts";
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

/// Whether a row is in account `given` (an id, or a name in lower case).
fn in_account(row: &Row, given: &str) -> bool {
    row.account_id.to_lowercase() == given
        || row
            .account_name
            .as_deref()
            .is_some_and(|n| n.to_lowercase() == given)
}

/// `tags` as JSON text, keys in order.
pub fn tags_text(tags: &Tags) -> String {
    serde_json::to_string(tags).unwrap_or_else(|_| "{}".into())
}

/// A value as table and CSV text: nothing for null, a string as it is, a list of
/// strings joined with `, `, anything else (tags) as JSON text.
fn shown(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(a) if a.iter().all(Value::is_string) => a
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// `census inventory`'s values of a row, in [`COLUMNS`]' order.
pub fn inventory_values(r: &Row) -> Vec<Value> {
    vec![
        Value::from(r.account_id.as_str()),
        Value::from(r.account_name.as_deref()),
        Value::from(r.region.as_str()),
        Value::from(r.resource_type.as_str()),
        Value::from(r.resource_id.as_str()),
        Value::from(r.arn.as_deref()),
        Value::from(r.name.as_deref()),
        Value::from(r.created.as_deref()),
        serde_json::to_value(&r.tags).unwrap_or_default(),
    ]
}

/// One table line: cells padded to `widths`, two spaces apart, trailing blanks cut.
fn table_line(cells: &[String], widths: &[usize]) -> String {
    let mut s = String::new();
    for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
        if i > 0 {
            s.push_str("  ");
        }
        s.push_str(c);
        s.push_str(&" ".repeat(w.saturating_sub(c.chars().count())));
    }
    s.truncate(s.trim_end().len());
    s.push('\n');
    s
}

/// Streams the rows `filter` selects and prints, in `format`, at most `limit` of
/// those `values` gives values for (in `columns`' order; `None` leaves a row out).
/// CSV and JSON are written as rows come; a table is read twice from the store, the
/// first pass measuring its columns, so that no row is held however many there are
/// (`values` is told which pass prints). Table cells show control characters escaped
/// ([`escape`]); JSON and CSV keep the data exact. Returns the rows printed.
pub fn print_rows(
    reader: &mut Reader,
    filter: &Filter,
    format: Format,
    columns: &[&str],
    limit: u64,
    out: &mut dyn Write,
    mut values: impl FnMut(&Row, bool) -> Option<Vec<Value>>,
) -> Result<u64> {
    let mut printed = 0u64;
    match format {
        Format::Table => {
            let mut widths: Vec<usize> =
                columns.iter().map(|c| escape(c).chars().count()).collect();
            let mut measured = 0u64;
            reader.rows(filter, |row| {
                if let Some(v) = values(&row, false) {
                    for (w, v) in widths.iter_mut().zip(&v) {
                        *w = (*w).max(escape(&shown(v)).chars().count());
                    }
                    measured += 1;
                }
                Ok(measured < limit)
            })?;
            let header: Vec<String> = columns.iter().map(|c| escape(c).into_owned()).collect();
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            out.write_all(table_line(&header, &widths).as_bytes())?;
            out.write_all(table_line(&rule, &widths).as_bytes())?;
            let mut w = std::io::BufWriter::new(&mut *out);
            reader.rows(filter, |row| {
                if let Some(v) = values(&row, true) {
                    let cells: Vec<String> =
                        v.iter().map(|v| escape(&shown(v)).into_owned()).collect();
                    w.write_all(table_line(&cells, &widths).as_bytes())?;
                    printed += 1;
                }
                Ok(printed < limit)
            })?;
            w.flush()?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            w.write_record(columns)?;
            reader.rows(filter, |row| {
                if let Some(v) = values(&row, true) {
                    w.write_record(v.iter().map(shown))?;
                    printed += 1;
                }
                Ok(printed < limit)
            })?;
            w.flush()?;
        }
        Format::Json => {
            let mut w = std::io::BufWriter::new(&mut *out);
            w.write_all(b"[")?;
            reader.rows(filter, |row| {
                if let Some(v) = values(&row, true) {
                    let o: serde_json::Map<String, Value> =
                        columns.iter().map(|c| c.to_string()).zip(v).collect();
                    w.write_all(if printed == 0 { b"\n  " } else { b",\n  " })?;
                    serde_json::to_writer(&mut w, &o)?;
                    printed += 1;
                }
                Ok(printed < limit)
            })?;
            w.write_all(if printed == 0 { b"]\n" } else { b"\n]\n" })?;
            w.flush()?;
        }
    }
    out.flush()?;
    Ok(printed)
}

/// Runs `census inventory`: the rows to `out`, notes to `err`.
pub fn run(args: &InventoryFlags, mut out: impl Write, mut err: impl Write) -> Result<()> {
    let filter = Filter::from_flags(&args.filter, &args.missing_tags)?;
    let given_types = crate::cli::dedup(args.filter.types.clone());
    let mut reader = Reader::open(&args.store)?;
    let mut seen = vec![false; filter.types.len()];
    let mut seen_accounts = vec![false; filter.accounts.len()];
    let limit = args.limit.unwrap_or(u64::MAX);
    print_rows(
        &mut reader,
        &filter,
        args.store.output,
        COLUMNS,
        limit,
        &mut out,
        |row, printing| {
            if printing {
                for (spec, seen) in filter.types.iter().zip(seen.iter_mut()) {
                    *seen = *seen || spec.matches(&row.resource_type, row.cfn_type.as_deref());
                }
                for (given, seen) in filter.accounts.iter().zip(seen_accounts.iter_mut()) {
                    *seen = *seen || in_account(row, given);
                }
            }
            Some(inventory_values(row))
        },
    )?;
    reader.tell_unknown_types(&filter, &given_types, &seen, &mut err)?;
    reader.tell_unknown_accounts(&filter, &seen_accounts, &mut err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_in_both_spellings_and_services() {
        assert_eq!(
            TypeSpec::parse("ec2:Instance").unwrap(),
            TypeSpec::Type("ec2:instance".into())
        );
        assert_eq!(
            TypeSpec::parse(" AWS::EC2::Instance").unwrap(),
            TypeSpec::Cfn("aws::ec2::instance".into())
        );
        for s in ["ec2", "EC2:*"] {
            assert_eq!(TypeSpec::parse(s).unwrap(), TypeSpec::Service("ec2".into()));
        }
        for s in ["AWS::EC2::*", "aws::ec2"] {
            assert_eq!(
                TypeSpec::parse(s).unwrap(),
                TypeSpec::CfnService("aws::ec2::".into())
            );
        }
        for bad in [
            ":Instance",
            "ec2:",
            "AWS::",
            "::EC2::Instance",
            "ec2:a:b",
            "a b",
            "",
        ] {
            let e = TypeSpec::parse(bad).unwrap_err().to_string();
            assert!(e.contains("--type") && e.lines().count() == 1, "{bad}: {e}");
        }
        let instance = TypeSpec::parse("aws::ec2::INSTANCE").unwrap();
        assert!(instance.matches("ec2:Instance", Some("AWS::EC2::Instance")));
        assert!(!instance.matches("ec2:Instance", None));
        let ec2 = TypeSpec::parse("ec2").unwrap();
        assert!(ec2.matches("ec2:Vpc", None));
        assert!(!ec2.matches("ec2instanceconnect:Endpoint", None));
    }

    #[test]
    fn tag_filters_and_requirements() {
        let tags: Tags = [("environment", "prod"), ("Owner", ""), ("AideId", "A-1")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let holds = |s: &str| TagFilter::parse(s).unwrap().holds(&tags);
        assert!(holds("Environment=prod"));
        assert!(holds("Owner"));
        assert!(holds("Owner="));
        assert!(!holds("Owner=x"));
        assert!(!holds("Team"));
        assert!(TagFilter::parse("=x")
            .unwrap_err()
            .to_string()
            .contains("no key"));
        let req = |s: &str| Requirement::parse(s, "--require").unwrap().satisfied(&tags);
        assert!(req("Environment"));
        assert!(!req("Owner"), "an empty value does not count");
        assert!(req("Aide_ID|AideId|AIDE_ID"));
        assert!(!req("Team"));
        assert!(Requirement::parse("A||B", "--require").is_err());
    }

    #[test]
    fn statements_bind_every_value() {
        let filter = Filter {
            accounts: vec!["prod-01".into()],
            regions: vec!["eu-west-1".into()],
            types: vec![
                TypeSpec::Service("ec2".into()),
                TypeSpec::Cfn("aws::s3::bucket".into()),
            ],
            scan: Some("x'; drop table scans".into()),
            ..Filter::default()
        };
        let (sql, params) = rows_sql(&filter, true);
        assert!(
            !sql.contains("drop table") && !sql.contains("prod-01"),
            "{sql}"
        );
        assert_eq!(params.len(), 6);
        assert!(sql.contains("$6") && !sql.contains("$7"), "{sql}");
        let (sql, _) = rows_sql(&Filter::default(), false);
        assert!(
            sql.starts_with("WITH latest") && !sql.contains("WHERE i."),
            "{sql}"
        );
    }
}
