//! The SQL stores' tables as one column list, and the text that creates them and their
//! views in each database ([`ddl`], [`create_view`]). What the tables and views hold
//! is described in [`crate::store`]. Not for reading them, nor for the statements
//! that write rows (see the dialects).

use crate::store::items::SCALAR_COLUMN;
use crate::store::views::{
    member_columns, pg_view_name, quote_ident, quote_literal, view_name, PG_MAX_IDENT,
};

pub use crate::store::SCHEMA_VERSION;

/// The databases the schema is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// The tables, written once for both databases: `{int}` is a count or a flag
/// (SQLite's `INTEGER`, PostgreSQL's `BIGINT`), `{json}` JSON (text in SQLite, `JSONB`
/// in PostgreSQL), `{seq}` the order scans started in (numbered by the writer in
/// SQLite, an identity column in PostgreSQL, so that scanners running at once each get
/// their own).
const TABLES: &str = "
CREATE TABLE IF NOT EXISTS scans (
    scan_id TEXT PRIMARY KEY,
    seq {seq} UNIQUE,
    started TEXT NOT NULL,
    finished TEXT,
    version TEXT NOT NULL,
    resumed {int} NOT NULL DEFAULT 0,
    accounts {int},
    accounts_failed {int},
    calls {int},
    calls_failed {int},
    items {int},
    pages {int},
    absent {int}
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
    tags {json},
    source TEXT,
    scan_status TEXT,
    regions {json},
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
    pages {int} NOT NULL,
    items {int} NOT NULL,
    duration_ms {int} NOT NULL,
    parent TEXT,
    absent {int} NOT NULL DEFAULT 0,
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
    item {json} NOT NULL,
    UNIQUE (scan_id, stem, account_id, region, resource_id)
);
CREATE TABLE IF NOT EXISTS item_columns (
    stem TEXT NOT NULL,
    name TEXT NOT NULL,
    position {int} NOT NULL,
    PRIMARY KEY (stem, name)
);
CREATE TABLE IF NOT EXISTS inventory (
    scan_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    service TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    cfn_type TEXT,
    resource_id TEXT NOT NULL,
    arn TEXT,
    name TEXT,
    created TEXT,
    tags {json} NOT NULL,
    source TEXT NOT NULL,
    arn_source TEXT,
    native_id TEXT,
    UNIQUE (scan_id, source, account_id, region, resource_id)
);
CREATE INDEX IF NOT EXISTS inventory_by_arn ON inventory (arn);
CREATE INDEX IF NOT EXISTS inventory_by_account ON inventory (scan_id, account_id);
CREATE INDEX IF NOT EXISTS inventory_by_id ON inventory (scan_id, native_id);
CREATE TABLE IF NOT EXISTS links (
    scan_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    source TEXT NOT NULL,
    from_source TEXT NOT NULL,
    from_id TEXT NOT NULL,
    from_arn TEXT,
    kind TEXT NOT NULL,
    raw TEXT NOT NULL,
    to_type TEXT,
    to_arn TEXT,
    UNIQUE (scan_id, source, account_id, region, from_id, kind, raw)
);
CREATE INDEX IF NOT EXISTS links_by_from ON links (scan_id, from_arn);
CREATE INDEX IF NOT EXISTS links_by_to ON links (scan_id, to_arn);
CREATE TABLE IF NOT EXISTS scan_shards (
    scan_id TEXT NOT NULL,
    shard_index {int} NOT NULL,
    shard_count {int} NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    status TEXT NOT NULL,
    accounts {int},
    accounts_failed {int},
    calls {int},
    calls_failed {int},
    items {int},
    pages {int},
    absent {int},
    flags {json},
    PRIMARY KEY (scan_id, shard_index)
);
";

/// What each schema version added to the one before: `(version, since, statements)`,
/// with `{int}` as in the tables. A database of an older version (at least `since`,
/// the version that created what the statements change) gets the statements of every
/// later version before [`ddl`] (which then finds its tables in place, or creates them
/// whole).
const MIGRATIONS: &[(i64, i64, &str)] = &[
    (
        2,
        1,
        // Detail calls: the list call a detail belongs to, and the items it found absent.
        "ALTER TABLE scans ADD COLUMN absent {int};
ALTER TABLE calls ADD COLUMN parent TEXT;
ALTER TABLE calls ADD COLUMN absent {int} NOT NULL DEFAULT 0;",
    ),
    // The inventory: a new table and its indexes, which [`ddl`] creates where missing.
    (3, 1, "-- schema 3: the inventory table"),
    // Where each ARN came from, for a database that has the inventory (schema 3); the
    // links table and the new index are created by [`ddl`].
    (
        4,
        3,
        "ALTER TABLE inventory ADD COLUMN arn_source TEXT;
ALTER TABLE inventory ADD COLUMN native_id TEXT;
DROP VIEW IF EXISTS inventory_latest;",
    ),
    // Each shard of a scan, its state and counts: a new table, which [`ddl`] creates.
    (5, 1, "-- schema 5: the scan_shards table"),
];

/// The statements that bring a database of schema version `from` (not 0: an empty
/// database gets [`ddl`] alone) to [`SCHEMA_VERSION`]; empty when it is there.
pub fn migrations(db: Db, from: i64) -> String {
    let int = match db {
        Db::Sqlite => "INTEGER",
        Db::Postgres => "BIGINT",
    };
    MIGRATIONS
        .iter()
        .filter(|(v, since, _)| from > 0 && *v > from && from >= *since)
        .map(|(_, _, sql)| sql.replace("{int}", int))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The statements that create the schema in `db` where it is missing (PostgreSQL's
/// also create `census_schema`, which holds the schema version).
pub fn ddl(db: Db) -> String {
    let (int, json, seq) = match db {
        Db::Sqlite => ("INTEGER", "TEXT", "INTEGER NOT NULL"),
        Db::Postgres => ("BIGINT", "JSONB", "BIGINT GENERATED BY DEFAULT AS IDENTITY"),
    };
    let tables = TABLES
        .replace("{int}", int)
        .replace("{json}", json)
        .replace("{seq}", seq);
    match db {
        Db::Sqlite => tables,
        Db::Postgres => {
            format!("\nCREATE TABLE IF NOT EXISTS census_schema (version BIGINT NOT NULL);{tables}")
        }
    }
}

/// Each list call (`stem`) with its latest scan (`scan_id`): the finished scan that
/// started last, else the unfinished one that started last. Chosen once per call with
/// a window, where a subquery per row takes minutes on large stores. Every reader of
/// "the latest inventory" uses this one statement (the views, `census inventory`,
/// `census export graph`).
pub const LATEST_PER_CALL: &str = "SELECT x.stem AS stem, x.scan_id AS scan_id FROM \
     (SELECT c.stem AS stem, c.scan_id AS scan_id, row_number() OVER \
     (PARTITION BY c.stem ORDER BY s.finished IS NULL, s.seq DESC) AS n \
     FROM (SELECT DISTINCT stem, scan_id FROM calls) c \
     JOIN scans s ON s.scan_id = c.scan_id) x WHERE x.n = 1";

/// The statements that create `inventory_latest` and `links_latest` where they are
/// missing: the `inventory` rows of each list call's latest scan (as the stems' views
/// choose it), with the account's name, and the links of those rows. Run after
/// [`ddl`].
pub fn inventory_view(db: Db) -> String {
    let create = match db {
        Db::Sqlite => "CREATE VIEW IF NOT EXISTS",
        Db::Postgres => "CREATE OR REPLACE VIEW",
    };
    format!(
        "\n{create} inventory_latest AS WITH latest AS ({LATEST_PER_CALL}) SELECT i.scan_id AS scan_id, \
         i.account_id AS account_id, a.name AS account_name, i.region AS region, \
         i.service AS service, i.resource_type AS resource_type, i.cfn_type AS cfn_type, \
         i.resource_id AS resource_id, i.arn AS arn, i.name AS name, i.created AS created, \
         i.tags AS tags, i.source AS source, i.arn_source AS arn_source, \
         i.native_id AS native_id FROM inventory i \
         JOIN latest ON latest.stem = i.source AND latest.scan_id = i.scan_id \
         LEFT JOIN accounts a ON a.scan_id = i.scan_id AND a.account_id = i.account_id;\n\
         {create} links_latest AS WITH latest AS ({LATEST_PER_CALL}) SELECT l.* FROM links l \
         JOIN latest ON latest.stem = l.from_source AND latest.scan_id = l.scan_id;\n"
    )
}

/// The tables and their columns, in order, as [`ddl`] creates them.
pub fn tables() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&str, Vec<&str>)> = Vec::new();
    for line in TABLES.lines() {
        if let Some(rest) = line.strip_prefix("CREATE TABLE IF NOT EXISTS ") {
            out.push((rest.trim_end_matches(" ("), Vec::new()));
        } else if let (Some(column), Some((_, columns))) =
            (line.strip_prefix("    "), out.last_mut())
        {
            let name = column.split(' ').next().unwrap_or_default();
            if !matches!(name, "PRIMARY" | "UNIQUE") {
                columns.push(name);
            }
        }
    }
    out
}

/// `CREATE VIEW` for `stem` with these members (see [`crate::store::views`] for the
/// columns). SQLite's member columns are `json_extract` of `item` (scalars as SQL
/// values, objects and lists as JSON text); PostgreSQL's are text (`item ->> 'VpcId'`:
/// strings without quotes, numbers and booleans as their JSON text, objects and lists
/// as JSON text), and leave out columns whose names are longer than [`PG_MAX_IDENT`]
/// bytes.
pub fn create_view<'a>(db: Db, stem: &str, members: impl IntoIterator<Item = &'a str>) -> String {
    let view = quote_ident(&match db {
        Db::Sqlite => view_name(stem),
        Db::Postgres => pg_view_name(stem),
    });
    let stem_lit = quote_literal(stem);
    let mut select = String::from(
        "r.scan_id AS scan_id, r.account_id AS account_id, a.name AS account_name, \
         r.region AS region, r.resource_id AS resource_id",
    );
    for (column, member) in member_columns(members) {
        if db == Db::Postgres && column.len() > PG_MAX_IDENT {
            continue;
        }
        let expr = member_expr(db, &member);
        select.push_str(&format!(", {expr} AS {}", quote_ident(&column)));
    }
    select.push_str(", r.item AS item");
    format!(
        "CREATE VIEW {view} AS SELECT {select} FROM resources r \
         LEFT JOIN accounts a ON a.scan_id = r.scan_id AND a.account_id = r.account_id \
         WHERE r.stem = {stem_lit} AND r.scan_id = (SELECT c.scan_id FROM calls c \
         JOIN scans s ON s.scan_id = c.scan_id WHERE c.stem = {stem_lit} \
         ORDER BY s.finished IS NULL, s.seq DESC LIMIT 1)"
    )
}

/// The value of `member` of `r.item` in a view.
fn member_expr(db: Db, member: &str) -> String {
    match db {
        // Scalar items (`value`) are the item itself; objects with a `value` member
        // give that member.
        Db::Sqlite if member == SCALAR_COLUMN => "CASE WHEN json_type(r.item) IN ('object', 'array') THEN json_extract(r.item, '$.\"value\"') ELSE json_extract(r.item, '$') END".to_string(),
        Db::Postgres if member == SCALAR_COLUMN => "CASE WHEN jsonb_typeof(r.item) IN ('object', 'array') THEN r.item ->> 'value' ELSE r.item #>> '{}' END".to_string(),
        Db::Sqlite => {
            // In a quoted path label SQLite reads `\` as an escape, as JSON does.
            let label = member.replace('\\', "\\\\");
            format!(
                "json_extract(r.item, {})",
                quote_literal(&format!("$.\"{label}\""))
            )
        }
        Db::Postgres => format!("r.item ->> {}", pg_literal(member)),
    }
}

/// A PostgreSQL string literal that means the same whatever
/// `standard_conforming_strings` says: `E'...'` with backslashes doubled when it holds
/// one.
fn pg_literal(s: &str) -> String {
    if s.contains('\\') {
        format!("E'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
    } else {
        quote_literal(s)
    }
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;
