//! Views: their names and columns, shared by the SQL stores' writers and readers. Not
//! for the text that creates them (`sink::sql::schema::create_view`).
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
