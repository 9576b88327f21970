//! Comparing two scans: which resources were added, removed or changed. Not for
//! printing the changes (`census diff`).
//!
//! Resources are matched by `(stem, account, region, resource id)` (see
//! [`super::items`] for the identifier). A resource is *changed* when its item's JSON
//! differs, and the change lists the JSON paths that differ ([`changed_paths`]:
//! `State.Name`, `Tags[1].Value`; arrays compare element by element, so an element
//! added to a list shows as `Tags[2]`; key order alone is no change).
//!
//! Only what both scans saw is compared: the resources of a call that failed in either
//! scan, or of an account that could not be accessed in either scan, are left out
//! (and counted in [`Diff::not_compared_calls`] / listed in
//! [`Diff::not_compared_accounts`]) instead of showing as removed. A call that only one
//! of the scans made (an account, a region or a call that joined or left) shows its
//! resources as added or removed.
//!
//! Both scans are read in key order and merged, so memory holds the changes, not the
//! scans.

use std::cmp::Ordering;

use rusqlite::{params, Connection};
use serde_json::Value;

/// What happened to a resource between scan A and scan B.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Added,
    Removed,
    Changed,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Added => "added",
            Kind::Removed => "removed",
            Kind::Changed => "changed",
        }
    }
}

/// A resource without its item: where it is and the call that listed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub stem: String,
    pub account_id: String,
    pub region: String,
    pub resource_id: String,
    pub service: String,
    pub operation: String,
}

/// One resource as a scan has it.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub listed: Listed,
    /// The item's JSON text.
    pub item: String,
}

impl Resource {
    fn key(&self) -> (&str, &str, &str, &str) {
        let l = &self.listed;
        (&l.stem, &l.account_id, &l.region, &l.resource_id)
    }

    /// The resource as a row of [`SIDE`] or [`PG_SIDE`] gives it, column by column.
    fn from_columns<E>(mut column: impl FnMut(usize) -> Result<String, E>) -> Result<Resource, E> {
        Ok(Resource {
            listed: Listed {
                stem: column(0)?,
                account_id: column(1)?,
                region: column(2)?,
                resource_id: column(3)?,
                service: column(4)?,
                operation: column(5)?,
            },
            item: column(6)?,
        })
    }
}

/// One difference.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub kind: Kind,
    pub resource: Listed,
    /// The JSON paths that differ (changed resources only).
    pub paths: Vec<String>,
}

impl Change {
    fn of(kind: Kind, r: Resource, paths: Vec<String>) -> Change {
        Change {
            kind,
            resource: r.listed,
            paths,
        }
    }
}

/// The JSON paths where `a` and `b` differ: members joined with `.`, array indexes in
/// brackets, members that are not plain names as `["name"]`; `$` for the whole value.
pub fn changed_paths(a: &Value, b: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(a, b, &mut String::new(), &mut out);
    out
}

fn push_key(path: &mut String, key: &str) {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | ':' | '/' | '@'));
    if plain {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
    } else {
        path.push('[');
        path.push_str(&Value::String(key.to_string()).to_string());
        path.push(']');
    }
}

fn shown(path: &str) -> String {
    if path.is_empty() {
        "$".to_string()
    } else {
        path.to_string()
    }
}

fn walk(a: &Value, b: &Value, path: &mut String, out: &mut Vec<String>) {
    let len = path.len();
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                push_key(path, k);
                match y.get(k) {
                    Some(vb) => walk(va, vb, path, out),
                    None => out.push(shown(path)),
                }
                path.truncate(len);
            }
            for k in y.keys().filter(|k| !x.contains_key(*k)) {
                push_key(path, k);
                out.push(shown(path));
                path.truncate(len);
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                path.push_str(&format!("[{i}]"));
                match (x.get(i), y.get(i)) {
                    (Some(va), Some(vb)) => walk(va, vb, path, out),
                    _ => out.push(shown(path)),
                }
                path.truncate(len);
            }
        }
        _ => {
            if a != b {
                out.push(shown(path));
            }
        }
    }
}

/// Merges two scans' resources, each in key order, calling `on` for each difference.
pub fn merge<E>(
    a: impl Iterator<Item = Result<Resource, E>>,
    b: impl Iterator<Item = Result<Resource, E>>,
    mut on: impl FnMut(Change),
) -> Result<(), E> {
    let mut a = a.peekable();
    let mut b = b.peekable();
    loop {
        let order = match (a.peek(), b.peek()) {
            (None, None) => return Ok(()),
            (Some(Err(_)), _) => return Err(a.next().unwrap().err().unwrap()),
            (_, Some(Err(_))) => return Err(b.next().unwrap().err().unwrap()),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(Ok(x)), Some(Ok(y))) => x.key().cmp(&y.key()),
        };
        match order {
            Ordering::Less => on(Change::of(Kind::Removed, a.next().unwrap()?, vec![])),
            Ordering::Greater => on(Change::of(Kind::Added, b.next().unwrap()?, vec![])),
            Ordering::Equal => {
                let x = a.next().unwrap()?;
                let y = b.next().unwrap()?;
                if x.item != y.item {
                    let paths = match (
                        serde_json::from_str::<Value>(&x.item),
                        serde_json::from_str::<Value>(&y.item),
                    ) {
                        (Ok(va), Ok(vb)) => changed_paths(&va, &vb),
                        _ => vec!["$".to_string()],
                    };
                    if !paths.is_empty() {
                        on(Change::of(Kind::Changed, y, paths));
                    }
                }
            }
        }
    }
}

/// The differences between two scans.
#[derive(Debug, Default)]
pub struct Diff {
    pub changes: Vec<Change>,
    /// Calls that failed in either scan (their resources were not compared).
    pub not_compared_calls: u64,
    /// Accounts that could not be accessed in either scan.
    pub not_compared_accounts: Vec<String>,
}

/// Resources of scan `this`, in key order, without those the other scan could not see.
const SIDE: &str = "
SELECT r.stem, r.account_id, r.region, r.resource_id, r.service, r.operation, r.item
FROM resources r
WHERE r.scan_id = ?1
  AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.scan_id = ?2 AND c.account_id = r.account_id
                  AND c.region = r.region AND c.stem = r.stem AND c.status <> 'ok')
  AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.scan_id = ?2 AND a.account_id = r.account_id
                  AND a.scan_status <> 'ok')
ORDER BY r.stem, r.account_id, r.region, r.resource_id";

/// Compares scans `a` and `b` of a SQLite store.
pub fn sqlite_diff(conn: &Connection, a: &str, b: &str) -> rusqlite::Result<Diff> {
    let mut diff = Diff::default();
    let row = |r: &rusqlite::Row<'_>| Resource::from_columns(|i| r.get(i));
    let mut sa = conn.prepare(SIDE)?;
    let mut sb = conn.prepare(SIDE)?;
    let ra = sa.query_map(params![a, b], row)?;
    let rb = sb.query_map(params![b, a], row)?;
    merge(ra, rb, |c| diff.changes.push(c))?;
    diff.not_compared_calls = conn.query_row::<i64, _, _>(
        "SELECT COUNT(*) FROM (SELECT 1 FROM calls WHERE scan_id IN (?1, ?2) AND status <> 'ok'
         GROUP BY account_id, region, stem)",
        params![a, b],
        |r| r.get(0),
    )? as u64;
    let mut stmt = conn.prepare(
        "SELECT DISTINCT account_id FROM accounts WHERE scan_id IN (?1, ?2) AND scan_status <> 'ok'
         ORDER BY account_id",
    )?;
    diff.not_compared_accounts = stmt
        .query_map(params![a, b], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(diff)
}

/// [`SIDE`] for PostgreSQL: the item as text (jsonb's canonical form, the same for
/// equal items) and byte order whatever the database's collation, as [`merge`] needs.
const PG_SIDE: &str = "
SELECT r.stem, r.account_id, r.region, r.resource_id, r.service, r.operation, r.item::text
FROM resources r
WHERE r.scan_id = $1
  AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.scan_id = $2 AND c.account_id = r.account_id
                  AND c.region = r.region AND c.stem = r.stem AND c.status <> 'ok')
  AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.scan_id = $2 AND a.account_id = r.account_id
                  AND a.scan_status <> 'ok')
ORDER BY r.stem COLLATE \"C\", r.account_id COLLATE \"C\", r.region COLLATE \"C\",
         r.resource_id COLLATE \"C\"";

/// Rows fetched per round trip while merging.
const PG_FETCH: i32 = 1000;

/// Compares scans `a` and `b` of a PostgreSQL store; both sides are read through
/// portals a thousand rows at a time.
pub fn postgres_diff(
    client: &mut postgres::Client,
    a: &str,
    b: &str,
) -> Result<Diff, postgres::Error> {
    use std::cell::RefCell;
    use std::collections::VecDeque;
    let mut diff = Diff::default();
    let tx = RefCell::new(client.build_transaction().read_only(true).start()?);
    let stmt = tx.borrow_mut().prepare(PG_SIDE)?;
    let pa = tx.borrow_mut().bind(&stmt, &[&a, &b])?;
    let pb = tx.borrow_mut().bind(&stmt, &[&b, &a])?;
    let side = |portal: postgres::Portal| {
        let mut buf: VecDeque<postgres::Row> = VecDeque::new();
        let mut done = false;
        let tx = &tx;
        std::iter::from_fn(move || -> Option<Result<Resource, postgres::Error>> {
            if buf.is_empty() && !done {
                match tx.borrow_mut().query_portal(&portal, PG_FETCH) {
                    Ok(rows) => {
                        done = rows.len() < PG_FETCH as usize;
                        buf.extend(rows);
                    }
                    Err(e) => {
                        done = true;
                        return Some(Err(e));
                    }
                }
            }
            let r = buf.pop_front()?;
            Some(Resource::from_columns(|i| r.try_get(i)))
        })
    };
    merge(side(pa), side(pb), |c| diff.changes.push(c))?;
    let mut tx = tx.into_inner();
    diff.not_compared_calls = tx
        .query_one(
            "SELECT COUNT(*) FROM (SELECT 1 FROM calls WHERE scan_id IN ($1, $2)
             AND status <> 'ok' GROUP BY account_id, region, stem) f",
            &[&a, &b],
        )?
        .get::<_, i64>(0) as u64;
    diff.not_compared_accounts = tx
        .query(
            "SELECT DISTINCT account_id COLLATE \"C\" FROM accounts
             WHERE scan_id IN ($1, $2) AND scan_status <> 'ok' ORDER BY 1",
            &[&a, &b],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    tx.commit()?;
    Ok(diff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths() {
        let a = json!({"State": {"Name": "running", "Code": 16}, "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}], "Gone": 1, "Env": {"A.B": 1}});
        let b = json!({"State": {"Name": "stopped", "Code": 16}, "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "3"}, {"Key": "c", "Value": "4"}], "New": 1, "Env": {"A.B": 2}});
        assert_eq!(
            changed_paths(&a, &b),
            [
                "State.Name",
                "Tags[1].Value",
                "Tags[2]",
                "Gone",
                "Env[\"A.B\"]",
                "New"
            ]
        );
        assert!(changed_paths(&a, &a).is_empty());
        assert_eq!(changed_paths(&json!(1), &json!(2)), ["$"]);
    }

    fn res(stem: &str, id: &str, item: Value) -> Result<Resource, ()> {
        Ok(Resource {
            listed: Listed {
                stem: stem.into(),
                account_id: "1".into(),
                region: "r".into(),
                resource_id: id.into(),
                service: "s".into(),
                operation: "o".into(),
            },
            item: item.to_string(),
        })
    }

    #[test]
    fn merging() {
        let a = vec![
            res("a", "1", json!({"x": 1})),
            res("a", "2", json!({"x": 1})),
            res("b", "1", json!({"x": 1, "y": 2})),
        ];
        let b = vec![
            res("a", "2", json!({"x": 2})),
            res("a", "3", json!({"x": 1})),
            res("b", "1", json!({"y": 2, "x": 1})),
        ];
        let mut got = Vec::new();
        merge(a.into_iter(), b.into_iter(), |c| {
            got.push((c.kind, c.resource.stem, c.resource.resource_id, c.paths))
        })
        .unwrap();
        assert_eq!(
            got,
            [
                (Kind::Removed, "a".into(), "1".into(), vec![]),
                (Kind::Changed, "a".into(), "2".into(), vec!["x".to_string()]),
                (Kind::Added, "a".into(), "3".into(), vec![]),
            ]
        );
    }
}
