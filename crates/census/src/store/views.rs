//! Views: their names and columns (shared by the SQL stores) and the SQLite text that
//! creates them.
//!
//! Column rules: the member columns are in the order of their names (byte order, as
//! `item_columns` lists them: the same columns, numbered the same, whichever account's
//! answer was written first); the fixed columns `scan_id`, `account_id`, `account_name`, `region`
//! and `resource_id` come first and `item` last; each top-level member becomes a
//! column of its own name (a scalar as its SQL value, an object or a list as JSON
//! text: `json_extract(State, '$.Name')`, `State ->> 'Name'`), except that a member whose name equals (ignoring case, as
//! SQL does) a fixed column or an earlier member is called `item_<name>` (`item_Region`),
//! with `_2`, `_3`... if that is taken too. Names with a double quote or a control
//! character are left out (`json_extract(item, ...)` still reaches them), and so is
//! every member past the first [`MAX_COLUMNS`].

use std::collections::HashSet;

/// The columns every view starts with.
pub const LEADING: [&str; 5] = [
    "scan_id",
    "account_id",
    "account_name",
    "region",
    "resource_id",
];
/// The column with the whole item, last.
pub const ITEM: &str = "item";
/// Member columns per view at most (SQLite allows 2000 columns).
pub const MAX_COLUMNS: usize = 1000;
/// The store's own tables, which no view may be named like.
pub const TABLES: [&str; 5] = ["scans", "accounts", "calls", "resources", "item_columns"];

/// The view of a stem: lower-case letters, digits and `_` (`ec2-describe_vpcs` ->
/// `ec2_describe_vpcs`).
pub fn view_name(stem: &str) -> String {
    let mut name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 'v');
    }
    if TABLES.contains(&name.as_str()) {
        name.push_str("_view");
    }
    name
}

/// `(column, member)` for the members, by the module's rules.
pub fn member_columns<'a>(members: impl IntoIterator<Item = &'a str>) -> Vec<(String, String)> {
    let mut taken: HashSet<String> = LEADING
        .iter()
        .chain([&ITEM])
        .map(|c| c.to_string())
        .collect();
    let mut out = Vec::new();
    for m in members {
        if out.len() >= MAX_COLUMNS {
            break;
        }
        if m.is_empty() || m.chars().any(|c| c == '"' || c.is_control()) {
            continue;
        }
        let mut column = m.to_string();
        if taken.contains(&column.to_lowercase()) {
            column = format!("item_{m}");
            let mut n = 1;
            while taken.contains(&column.to_lowercase()) {
                n += 1;
                column = format!("item_{m}_{n}");
            }
        }
        taken.insert(column.to_lowercase());
        out.push((column, m.to_string()));
    }
    out
}

/// An SQL identifier, quoted.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// An SQL string literal.
pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `CREATE VIEW` for `stem` with these members (SQLite, JSON1).
pub fn sqlite_create_view<'a>(stem: &str, members: impl IntoIterator<Item = &'a str>) -> String {
    let view = quote_ident(&view_name(stem));
    let stem_lit = quote_literal(stem);
    let mut select = String::from(
        "r.scan_id AS scan_id, r.account_id AS account_id, a.name AS account_name, \
         r.region AS region, r.resource_id AS resource_id",
    );
    for (column, member) in member_columns(members) {
        let expr = if member == super::items::SCALAR_COLUMN {
            // Scalar items (`value`) are the item itself; objects with a `value`
            // member give that member.
            "CASE WHEN json_type(r.item) IN ('object', 'array') THEN json_extract(r.item, '$.\"value\"') ELSE json_extract(r.item, '$') END".to_string()
        } else {
            // In a quoted path label SQLite reads `\` as an escape, as JSON does.
            let label = member.replace('\\', "\\\\");
            format!(
                "json_extract(r.item, {})",
                quote_literal(&format!("$.\"{label}\""))
            )
        };
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

/// PostgreSQL's longest identifier, in bytes (longer ones are cut, silently).
pub const PG_MAX_IDENT: usize = 63;

/// The view of a stem in PostgreSQL: [`view_name`], or, past [`PG_MAX_IDENT`] bytes,
/// its first 54 bytes, `_` and 8 hex digits of the stem's SHA-256 (so that two long
/// stems never end up with one name).
pub fn pg_view_name(stem: &str) -> String {
    let name = view_name(stem);
    if name.len() <= PG_MAX_IDENT {
        return name;
    }
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(stem.as_bytes());
    let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!("{}_{hex}", &name[..54])
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

/// `CREATE VIEW` for `stem` with these members (PostgreSQL, `item` is JSONB): the
/// columns of [`member_columns`] as text (`item ->> 'VpcId'`: strings without quotes,
/// numbers and booleans as their JSON text, objects and lists as JSON text). Columns
/// whose names are longer than [`PG_MAX_IDENT`] bytes are left out.
pub fn pg_create_view<'a>(stem: &str, members: impl IntoIterator<Item = &'a str>) -> String {
    let view = quote_ident(&pg_view_name(stem));
    let stem_lit = quote_literal(stem);
    let mut select = String::from(
        "r.scan_id AS scan_id, r.account_id AS account_id, a.name AS account_name, \
         r.region AS region, r.resource_id AS resource_id",
    );
    for (column, member) in member_columns(members) {
        if column.len() > PG_MAX_IDENT {
            continue;
        }
        let expr = if member == super::items::SCALAR_COLUMN {
            "CASE WHEN jsonb_typeof(r.item) IN ('object', 'array') THEN r.item ->> 'value' ELSE r.item #>> '{}' END".to_string()
        } else {
            format!("r.item ->> {}", pg_literal(&member))
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(view_name("ec2-describe_vpcs"), "ec2_describe_vpcs");
        assert_eq!(view_name("ec2-describe_images-2"), "ec2_describe_images_2");
        assert_eq!(
            view_name("resource-groups-list_groups"),
            "resource_groups_list_groups"
        );
        assert_eq!(view_name("calls"), "calls_view");
    }

    #[test]
    fn pg_names_fit() {
        assert_eq!(pg_view_name("ec2-describe_vpcs"), "ec2_describe_vpcs");
        let long_a = format!("svc-{}a", "x".repeat(70));
        let long_b = format!("svc-{}b", "x".repeat(70));
        let (a, b) = (pg_view_name(&long_a), pg_view_name(&long_b));
        assert_eq!(a.len(), PG_MAX_IDENT);
        assert_ne!(a, b);
        let sql = pg_create_view("ec2-describe_vpcs", ["VpcId", "value", &"L".repeat(64)]);
        assert!(sql.contains("r.item ->> 'VpcId' AS \"VpcId\""), "{sql}");
        let sql = pg_create_view("svc-op", ["a\\b'c"]);
        assert!(
            sql.contains("r.item ->> E'a\\\\b''c' AS \"a\\b'c\""),
            "{sql}"
        );
        assert!(!sql.contains("LLLL"), "{sql}");
    }

    /// A member whose name holds a backslash (or quote, or dot) has its value in the
    /// SQLite view, as in PostgreSQL's.
    #[test]
    fn odd_member_names_reach_their_values() {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE resources (scan_id, stem, account_id, region, resource_id, item);
             CREATE TABLE accounts (scan_id, account_id, name);
             CREATE TABLE calls (scan_id, stem);
             CREATE TABLE scans (scan_id, seq, finished);
             INSERT INTO scans VALUES ('s', 1, 'x');
             INSERT INTO calls VALUES ('s', 'svc-op');",
        )
        .unwrap();
        let item = serde_json::json!({"a\\b": 1, "c.d": 2, "e'f": 3, "g\\\\h": 4});
        c.execute(
            "INSERT INTO resources VALUES ('s', 'svc-op', '1', 'r', 'i', ?1)",
            [item.to_string()],
        )
        .unwrap();
        c.execute_batch(&sqlite_create_view(
            "svc-op",
            ["a\\b", "c.d", "e'f", "g\\\\h"],
        ))
        .unwrap();
        let got: (i64, i64, i64, i64) = c
            .query_row(
                "SELECT \"a\\b\", \"c.d\", \"e'f\", \"g\\\\h\" FROM svc_op",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(got, (1, 2, 3, 4));
    }

    #[test]
    fn columns() {
        let got = member_columns(["VpcId", "Region", "region", "item", "a\"b", "State"]);
        let got: Vec<&str> = got.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(
            got,
            [
                "VpcId",
                "item_Region",
                "item_region_2",
                "item_item",
                "State"
            ]
        );
    }
}
