//! Comparing two scans: which resources were added, removed or changed, with the ARN,
//! type and name the inventory gives them, and their tag changes as tag changes. Not
//! for printing the changes (`census diff`).
//!
//! Resources are matched by `(stem, account, region, resource id)` (see
//! [`super::items`] for the identifier). A resource is *changed* when its item's JSON
//! differs, and the change lists the JSON paths that differ ([`changed_paths`]:
//! `State.Name`, `Placement.AvailabilityZone`; arrays compare element by element, so
//! an element added to a list shows as `BlockDeviceMappings[2]`; key order alone is no
//! change).
//!
//! Tags are compared as maps, not as JSON ([`compare`]): the item's top-level tag
//! member (`Tags`, `TagList`, `TagSet`, `TagsMap`, any case), a list of key/value
//! structures (`Key`/`Value`, `key`/`value`, `TagKey`/`TagValue`) or a map of scalars,
//! becomes one `{key: value}` map per scan, and the change lists the keys added,
//! removed or changed ([`TagChanges`]) instead of the member's paths, so a reordered tag
//! list is no change. This holds for detail calls' results too: a changed
//! `ListQueueTags`-like result is a tag change of its list item. A tag member of
//! another form (a list of strings) stays paths, and so do the changes to or from a
//! detail call that failed (`{"error": ...}` says nothing of the tags).
//!
//! Each row carries what the `inventory` table of its scan says of the resource (ARN,
//! `resource_type`, name: [`Inventoried`]); a removed resource's from scan A, others'
//! from scan B (else A). A detail call's rows (`calls.parent` set) share their list
//! item's `resource_id` and are looked up as the list call's row, so a changed bucket
//! policy is reported against the bucket's ARN. A database without the `inventory`
//! table (schema 2 and older) still compares, without them.
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
use std::collections::BTreeMap;

use super::items::tag_pair;
use rusqlite::{params, Connection};
use serde_json::{Map, Value};

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

/// What a scan's `inventory` row says of a resource (its list call's row, for a
/// detail call's resource).
#[derive(Debug, Clone, PartialEq)]
pub struct Inventoried {
    /// `<service>:<Noun>`, e.g. `ec2:Instance`.
    pub resource_type: String,
    pub arn: Option<String>,
    pub name: Option<String>,
}

/// One resource as a scan has it.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub listed: Listed,
    /// The item's JSON text.
    pub item: String,
    /// `None` when the scan has no inventory row for it (or no inventory table).
    pub inventory: Option<Inventoried>,
}

impl Resource {
    fn key(&self) -> (&str, &str, &str, &str) {
        let l = &self.listed;
        (&l.stem, &l.account_id, &l.region, &l.resource_id)
    }

    /// The resource as a row of [`side_sql`] gives it: `text` reads the columns that
    /// are never NULL, `maybe` the inventory's.
    fn from_columns<E>(
        mut text: impl FnMut(usize) -> Result<String, E>,
        mut maybe: impl FnMut(usize) -> Result<Option<String>, E>,
    ) -> Result<Resource, E> {
        let inventory = match maybe(7)? {
            Some(resource_type) => Some(Inventoried {
                resource_type,
                arn: maybe(8)?,
                name: maybe(9)?,
            }),
            None => None,
        };
        Ok(Resource {
            listed: Listed {
                stem: text(0)?,
                account_id: text(1)?,
                region: text(2)?,
                resource_id: text(3)?,
                service: text(4)?,
                operation: text(5)?,
            },
            item: text(6)?,
            inventory,
        })
    }
}

/// How a resource's tags changed: one entry per key added, removed or changed, in key
/// order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TagChanges(Vec<TagChange>);

/// One tag key's change: `old` is `None` for a key added, `new` for a key removed.
#[derive(Debug, Clone, PartialEq)]
pub struct TagChange {
    pub key: String,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

impl TagChanges {
    /// The changes from tag map `a` to tag map `b`.
    pub fn between(a: &BTreeMap<String, Value>, b: &BTreeMap<String, Value>) -> TagChanges {
        let mut out = Vec::new();
        for (k, va) in a {
            match b.get(k) {
                Some(vb) if vb == va => {}
                vb => out.push(TagChange {
                    key: k.clone(),
                    old: Some(va.clone()),
                    new: vb.cloned(),
                }),
            }
        }
        for (k, vb) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
            out.push(TagChange {
                key: k.clone(),
                old: None,
                new: Some(vb.clone()),
            });
        }
        out.sort_by(|x, y| x.key.cmp(&y.key));
        TagChanges(out)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &TagChange> {
        self.0.iter()
    }

    /// One line per key, in key order: `tag Owner: payments -> billing`, `tag
    /// +Environment=prod`, `tag -Team`. Values that are not strings are shown as JSON.
    pub fn lines(&self) -> Vec<String> {
        fn shown(v: &Value) -> String {
            match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }
        }
        self.0
            .iter()
            .map(|c| match (&c.old, &c.new) {
                (Some(a), Some(b)) => format!("tag {}: {} -> {}", c.key, shown(a), shown(b)),
                (None, Some(b)) => format!("tag +{}={}", c.key, shown(b)),
                _ => format!("tag -{}", c.key),
            })
            .collect()
    }

    /// `{"added": {k: v}, "removed": {k: v}, "changed": {k: [old, new]}}`.
    pub fn to_json(&self) -> Value {
        let (mut added, mut removed, mut changed) = (Map::new(), Map::new(), Map::new());
        for c in &self.0 {
            match (&c.old, &c.new) {
                (Some(a), Some(b)) => {
                    changed.insert(c.key.clone(), Value::Array(vec![a.clone(), b.clone()]));
                }
                (None, Some(b)) => {
                    added.insert(c.key.clone(), b.clone());
                }
                (Some(a), None) => {
                    removed.insert(c.key.clone(), a.clone());
                }
                (None, None) => {}
            }
        }
        let mut o = Map::new();
        o.insert("added".into(), Value::Object(added));
        o.insert("removed".into(), Value::Object(removed));
        o.insert("changed".into(), Value::Object(changed));
        Value::Object(o)
    }
}

/// One difference.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub kind: Kind,
    pub resource: Listed,
    /// The inventory's row for the resource: scan A's for a removed resource, scan B's
    /// (else A's) for the others.
    pub inventory: Option<Inventoried>,
    /// The JSON paths that differ, other than the tag member's (changed resources only).
    pub paths: Vec<String>,
    /// The tag changes (changed resources only).
    pub tags: TagChanges,
}

impl Change {
    /// Only the tags changed.
    pub fn tags_only(&self) -> bool {
        self.kind == Kind::Changed && self.paths.is_empty() && !self.tags.is_empty()
    }
}

/// The JSON paths where `a` and `b` differ: members joined with `.`, array indexes in
/// brackets, members that are not plain names as `["name"]`; `$` for the whole value.
pub fn changed_paths(a: &Value, b: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(a, b, &mut String::new(), &mut out, &[]);
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

/// Adds the paths where `a` and `b` differ under `path` to `out`; members of two
/// objects named in `skip` are left out (not their members' members).
fn walk(a: &Value, b: &Value, path: &mut String, out: &mut Vec<String>, skip: &[String]) {
    let len = path.len();
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x.iter().filter(|(k, _)| !skip.contains(k)) {
                push_key(path, k);
                match y.get(k) {
                    Some(vb) => walk(va, vb, path, out, &[]),
                    None => out.push(shown(path)),
                }
                path.truncate(len);
            }
            for k in y
                .keys()
                .filter(|k| !x.contains_key(*k) && !skip.contains(k))
            {
                push_key(path, k);
                out.push(shown(path));
                path.truncate(len);
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                path.push_str(&format!("[{i}]"));
                match (x.get(i), y.get(i)) {
                    (Some(va), Some(vb)) => walk(va, vb, path, out, &[]),
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

/// Top-level members that hold tags (lower case).
const TAG_MEMBERS: [&str; 4] = ["tags", "taglist", "tagset", "tagsmap"];

/// The tags of an item as one map, with the names of the members they came from;
/// `None` when a tag member has a form this does not read (then its paths are
/// compared instead). An item without a tag member has no tags.
fn tag_map(item: &Value) -> Option<(Vec<String>, BTreeMap<String, Value>)> {
    let mut members = Vec::new();
    let mut tags = BTreeMap::new();
    let Some(o) = item.as_object() else {
        return Some((members, tags));
    };
    for (name, v) in o {
        if !TAG_MEMBERS.contains(&name.to_ascii_lowercase().as_str()) {
            continue;
        }
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    if v.is_object() || v.is_array() {
                        return None;
                    }
                    tags.insert(k.clone(), v.clone());
                }
            }
            Value::Array(list) => {
                for t in list {
                    let (Some(Value::String(key)), value) = tag_pair(t.as_object()?) else {
                        return None;
                    };
                    let value = match value {
                        None => Value::String(String::new()),
                        Some(v) if v.is_object() || v.is_array() => return None,
                        Some(v) => v.clone(),
                    };
                    tags.insert(key.clone(), value);
                }
            }
            Value::Null => {}
            _ => return None,
        }
        members.push(name.clone());
    }
    Some((members, tags))
}

/// A detail call that failed for its item (`{"error": {...}}`, see
/// `sink::DetailOutcome`): it says nothing of the item's tags. (`{"absent": {...}}`
/// does: the item has none.)
fn failed_detail(item: &Value) -> bool {
    item.as_object()
        .is_some_and(|o| o.len() == 1 && o.get("error").is_some_and(Value::is_object))
}

/// How item `a` became item `b`: the JSON paths that differ ([`changed_paths`]) outside
/// the tag members, and the tag changes. When either item's tags cannot be read as a
/// map, or either is a failed detail call's, every difference is a path and there are
/// no tag changes.
pub fn compare(a: &Value, b: &Value) -> (Vec<String>, TagChanges) {
    if failed_detail(a) || failed_detail(b) {
        return (changed_paths(a, b), TagChanges::default());
    }
    let (Some((ma, ta)), Some((mb, tb))) = (tag_map(a), tag_map(b)) else {
        return (changed_paths(a, b), TagChanges::default());
    };
    if ma.is_empty() && mb.is_empty() {
        return (changed_paths(a, b), TagChanges::default());
    }
    let mut skip = ma;
    skip.extend(mb);
    let mut paths = Vec::new();
    walk(a, b, &mut String::new(), &mut paths, &skip);
    (paths, TagChanges::between(&ta, &tb))
}

/// Merges two scans' resources, each in key order, calling `on` for each difference.
pub fn merge<E>(
    a: impl Iterator<Item = Result<Resource, E>>,
    b: impl Iterator<Item = Result<Resource, E>>,
    mut on: impl FnMut(Change),
) -> Result<(), E> {
    let mut a = a.peekable();
    let mut b = b.peekable();
    let one = |kind: Kind, r: Resource| Change {
        kind,
        resource: r.listed,
        inventory: r.inventory,
        paths: vec![],
        tags: TagChanges::default(),
    };
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
            Ordering::Less => on(one(Kind::Removed, a.next().unwrap()?)),
            Ordering::Greater => on(one(Kind::Added, b.next().unwrap()?)),
            Ordering::Equal => {
                let x = a.next().unwrap()?;
                let y = b.next().unwrap()?;
                if x.item == y.item {
                    continue;
                }
                let (paths, tags) = match (
                    serde_json::from_str::<Value>(&x.item),
                    serde_json::from_str::<Value>(&y.item),
                ) {
                    (Ok(va), Ok(vb)) => compare(&va, &vb),
                    _ => (vec!["$".to_string()], TagChanges::default()),
                };
                if !paths.is_empty() || !tags.is_empty() {
                    on(Change {
                        kind: Kind::Changed,
                        resource: y.listed,
                        inventory: y.inventory.or(x.inventory),
                        paths,
                        tags,
                    });
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

/// The resources of scan `this` (the first parameter), in key order, without those the
/// other scan (the second) could not see; with their inventory row's `resource_type`,
/// `arn` and `name` when `inventory` (PostgreSQL, when the table exists), else NULLs. A
/// detail call's rows are looked up as their list call's (`calls.parent`).
/// PostgreSQL's (`pg`) reads the item as text (jsonb's canonical form, the same for
/// equal items) and orders bytewise whatever the database's collation, as [`merge`]
/// needs.
fn side_sql(inventory: bool, pg: bool) -> String {
    let (this, other) = if pg { ("$1", "$2") } else { ("?1", "?2") };
    let (item, order) = if pg {
        (
            "r.item::text",
            "r.stem COLLATE \"C\", r.account_id COLLATE \"C\", r.region COLLATE \"C\",
             r.resource_id COLLATE \"C\"",
        )
    } else {
        ("r.item", "r.stem, r.account_id, r.region, r.resource_id")
    };
    let (columns, joins) = if inventory {
        (
            "i.resource_type, i.arn, i.name",
            "LEFT JOIN calls p ON p.scan_id = r.scan_id AND p.account_id = r.account_id
                  AND p.region = r.region AND p.stem = r.stem
             LEFT JOIN inventory i ON i.scan_id = r.scan_id
                  AND i.source = COALESCE(p.parent, r.stem) AND i.account_id = r.account_id
                  AND i.region = r.region AND i.resource_id = r.resource_id",
        )
    } else {
        ("NULL, NULL, NULL", "")
    };
    format!(
        "SELECT r.stem, r.account_id, r.region, r.resource_id, r.service, r.operation, {item},
                {columns}
         FROM resources r
         {joins}
         WHERE r.scan_id = {this}
           AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.scan_id = {other}
                           AND c.account_id = r.account_id AND c.region = r.region
                           AND c.stem = r.stem AND c.status <> 'ok')
           AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.scan_id = {other}
                           AND a.account_id = r.account_id AND a.scan_status <> 'ok')
         ORDER BY {order}"
    )
}

/// The inventory row of a resource (?5) of a scan (?1, ?2 account, ?3 region) listed
/// by a call (?4), or by the list call of that detail call.
const SQLITE_INVENTORY_ROW: &str = "
SELECT resource_type, arn, name FROM inventory
WHERE scan_id = ?1 AND account_id = ?2 AND region = ?3 AND resource_id = ?5
  AND source = COALESCE((SELECT parent FROM calls WHERE scan_id = ?1 AND account_id = ?2
                         AND region = ?3 AND stem = ?4), ?4)";

/// Compares scans `a` and `b` of a SQLite store. The inventory rows are looked up for
/// the changes only, after the merge (in-process lookups cost less than joining every
/// resource; PostgreSQL's [`side_sql`] joins instead, as a lookup is a round trip).
pub fn sqlite_diff(conn: &Connection, a: &str, b: &str) -> rusqlite::Result<Diff> {
    use rusqlite::OptionalExtension;
    let mut diff = Diff::default();
    let sql = side_sql(false, false);
    let row = |r: &rusqlite::Row<'_>| Resource::from_columns(|i| r.get(i), |i| r.get(i));
    let mut sa = conn.prepare(&sql)?;
    let mut sb = conn.prepare(&sql)?;
    let ra = sa.query_map(params![a, b], row)?;
    let rb = sb.query_map(params![b, a], row)?;
    merge(ra, rb, |c| diff.changes.push(c))?;
    let inventory: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'inventory')",
        [],
        |r| r.get(0),
    )?;
    if inventory {
        let mut stmt = conn.prepare(SQLITE_INVENTORY_ROW)?;
        for c in &mut diff.changes {
            let scans = match c.kind {
                Kind::Removed => [Some(a), None],
                Kind::Added => [Some(b), None],
                Kind::Changed => [Some(b), Some(a)],
            };
            let l = &c.resource;
            for scan in scans.into_iter().flatten() {
                c.inventory = stmt
                    .query_row(
                        params![scan, l.account_id, l.region, l.stem, l.resource_id],
                        |r| {
                            Ok(Inventoried {
                                resource_type: r.get(0)?,
                                arn: r.get(1)?,
                                name: r.get(2)?,
                            })
                        },
                    )
                    .optional()?;
                if c.inventory.is_some() {
                    break;
                }
            }
        }
    }
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
    let inventory: bool = tx
        .borrow_mut()
        .query_one("SELECT to_regclass('inventory') IS NOT NULL", &[])?
        .get(0);
    let stmt = tx.borrow_mut().prepare(&side_sql(inventory, true))?;
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
            Some(Resource::from_columns(|i| r.try_get(i), |i| r.try_get(i)))
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
#[path = "diff_tests.rs"]
mod tests;
