//! A call's result cut into items, each with a stable identifier and its top-level
//! members: what the SQL stores (SQLite, PostgreSQL) keep one row of per
//! resource. Not for storing them (the SQL sinks).
//!
//! Items ([`for_each_item`]), from the result as a sink receives it (result key
//! applied):
//! - an array: its elements;
//! - an object with top-level lists: the elements of each list, in member order, each
//!   tagged with the list's member name (`Reservations` for ec2 DescribeInstances
//!   without a result key: one level only, the instances stay inside their
//!   reservation; a result key such as `.Reservations[].Instances[]` gives instances);
//!   the object's other members are not items;
//! - an object without lists, or a scalar: one item; `null` and `{}`: none.
//!
//! This counts exactly what the executor counts (`scan::count_items`).
//!
//! Identity ([`Shapes::identify`]): the first rule that finds a member holding a
//! non-empty string or a number gives the identifier.
//! 1. an `Arn` member (any case); 2. a `<X>Arn` member where `X` names the item's shape
//!    (`FunctionArn` of `FunctionConfiguration`, `KeyArn` of `KeyListEntry`; the
//!    longest such `X` wins);
//! 3. an `Id` member; 4. a `<X>Id` member naming the shape (`VpcId` of `Vpc`, `GroupId`
//!    of `SecurityGroup`, `StackId` of `Stack`; `VpcEndpoint` takes `VpcEndpointId`,
//!    not `VpcId`, since the longest `X` wins);
//! 5. a `Name` member; 6. a `<X>Name` member naming the shape (`logGroupName`);
//! 7. the only `*Arn` member whose value starts with `arn:`;
//! 8. without a known shape: the only `*Id`, else the only `*Name` member;
//! 9. a scalar item (a table name, a queue URL) is its own identifier;
//! 10. else a content hash: `sha256:` and the first 32 hex digits of the SHA-256 of
//!     the item's JSON (such an item shows in a diff as removed and added, never as
//!     changed).
//!
//! "Names the shape" means `X` equals the shape's name, or is its prefix or suffix,
//! compared case-insensitively. The shape of an item comes from the awsdyn model of the
//! operation's output: the element shape of the list member it came from, else the
//! structure reachable from the output (through members and list elements, 3 levels
//! deep) whose members cover all of the item's keys with the fewest members to spare.
//! Without a model (unknown service, jq result keys that build new objects), the item's
//! own keys are used in their order.
//!
//! The same identifier twice in one call's items gets `#2`, `#3`... appended, so no
//! item is lost.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Calls `f(member, item)` for every item of `result` (see the module doc); `member` is
/// the top-level list member the item came from, or `""`.
pub fn for_each_item<'a>(result: &'a Value, mut f: impl FnMut(&'a str, &'a Value)) {
    match result {
        Value::Null => {}
        Value::Array(a) => a.iter().for_each(|v| f("", v)),
        Value::Object(o) => {
            let mut lists = false;
            for (k, v) in o {
                if let Value::Array(a) = v {
                    lists = true;
                    a.iter().for_each(|x| f(k, x));
                }
            }
            if !lists && !o.is_empty() {
                f("", result);
            }
        }
        scalar => f("", scalar),
    }
}

/// The top-level members of an item that views expose as columns: every member that
/// is not null (scalars become SQL values, objects and lists JSON text); `value` for a
/// scalar item.
pub fn column_members(item: &Value) -> impl Iterator<Item = &str> {
    let (object, scalar) = match item {
        Value::Object(o) => (Some(o), false),
        Value::Null => (None, false),
        _ => (None, true),
    };
    let members = object.into_iter().flat_map(|o| {
        o.iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, _)| k.as_str())
    });
    scalar.then_some(SCALAR_COLUMN).into_iter().chain(members)
}

/// The view column of a scalar item.
pub const SCALAR_COLUMN: &str = "value";

/// One item of a call, ready to be a `resources` row.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemRow {
    /// The identifier, with `#2`, `#3`... for repeats within the call.
    pub resource_id: String,
    /// The member the identifier came from ([`Identity::source`]).
    pub id_source: String,
    /// The top-level list the item came from, or `""`.
    pub member: String,
    /// The item's JSON text.
    pub item: String,
}

/// Cuts a call's result into rows (see the module doc), handing them to `on_chunk` in
/// chunks of `chunk` rows as they are made, so that a large result is never held twice.
/// Returns the last, partial chunk and the top-level members the items had, in
/// first-seen order (the view columns, see [`column_members`]). The first error from
/// `on_chunk` stops the cutting and is returned.
pub fn call_rows<E>(
    shapes: &Shapes,
    result: &Value,
    chunk: usize,
    mut on_chunk: impl FnMut(Vec<ItemRow>) -> Result<(), E>,
) -> Result<(Vec<ItemRow>, Vec<String>), E> {
    let mut rows = Vec::new();
    let mut members: Vec<String> = Vec::new();
    let mut seen_members: HashSet<&str> = HashSet::new();
    let mut ids = Numbering::default();
    let mut failed = None;
    for_each_item(result, |member, item| {
        if failed.is_some() {
            return;
        }
        let json = item.to_string();
        let identity = shapes.identify(member, item, &json);
        let resource_id = ids.number(identity.id);
        for m in column_members(item) {
            if seen_members.insert(m) {
                members.push(m.to_string());
            }
        }
        rows.push(ItemRow {
            resource_id,
            id_source: identity.source,
            member: member.to_string(),
            item: json,
        });
        if rows.len() >= chunk {
            if let Err(e) = on_chunk(std::mem::take(&mut rows)) {
                failed = Some(e);
            }
        }
    });
    match failed {
        Some(e) => Err(e),
        None => Ok((rows, members)),
    }
}

/// Every item of `result` with the top-level list it came from and its `resource_id`,
/// exactly as [`call_rows`] identifies it: what a detail call's rows are keyed by.
pub fn identified_items<'a>(
    shapes: &Shapes,
    result: &'a Value,
) -> Vec<(&'a str, &'a Value, String)> {
    let mut ids = Numbering::default();
    let mut out = Vec::new();
    for_each_item(result, |member, item| {
        let json = item.to_string();
        let id = ids.number(shapes.identify(member, item, &json).id);
        out.push((member, item, id));
    });
    out
}

/// Identifiers made unique within a call: the same one again gets `#2`, `#3`...
#[derive(Default)]
struct Numbering(HashMap<String, u32>);

impl Numbering {
    fn number(&mut self, id: String) -> String {
        let n = self.0.entry(id.clone()).or_insert(0);
        *n += 1;
        if *n == 1 {
            id
        } else {
            format!("{id}#{n}")
        }
    }
}

/// [`Shapes`] per `(service, operation)`, loaded once each: what a sink keeps, since
/// every account and region calls the same operations.
#[derive(Debug, Default)]
pub struct ShapeCache(std::sync::Mutex<HashMap<(String, String), std::sync::Arc<Shapes>>>);

impl ShapeCache {
    /// The shapes of `service`'s `operation`.
    pub fn get(&self, service: &str, operation: &str) -> std::sync::Arc<Shapes> {
        let key = (service.to_string(), operation.to_string());
        if let Some(s) = self.0.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return s.clone();
        }
        let s = std::sync::Arc::new(Shapes::for_operation(service, operation));
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, s.clone());
        s
    }
}

/// An item's identifier and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub id: String,
    /// The member the identifier was taken from, `(item)` for a scalar item, `(hash)`
    /// for a content hash.
    pub source: String,
}

/// A structure shape items may have.
#[derive(Debug, Clone)]
struct ItemShape {
    /// Lower-cased shape name.
    name: String,
    members: HashSet<String>,
}

/// What the model says about the items of one operation's results.
#[derive(Debug, Clone, Default)]
pub struct Shapes {
    shapes: Vec<ItemShape>,
    /// Top-level list member -> its element shape.
    lists: HashMap<String, usize>,
}

const SHAPE_DEPTH: usize = 3;
const MAX_SHAPES: usize = 200;

impl Shapes {
    /// The item shapes of `service`'s `operation` (any name form); empty when the model
    /// does not know them.
    pub fn for_operation(service: &str, operation: &str) -> Shapes {
        let Ok(model) = awsdyn::model::load(service) else {
            return Shapes::default();
        };
        let Some(output) = model.operation(operation).and_then(|o| o.output.as_ref()) else {
            return Shapes::default();
        };
        use awsdyn::model::ShapeType;
        let mut out = Shapes::default();
        let mut index: HashMap<u32, usize> = HashMap::new();
        let mut queue = std::collections::VecDeque::from([(output.target, 0usize)]);
        while let Some((id, depth)) = queue.pop_front() {
            if index.contains_key(&id) || out.shapes.len() >= MAX_SHAPES {
                continue;
            }
            let shape = model.shape(id);
            if shape.kind != ShapeType::Structure {
                continue;
            }
            index.insert(id, out.shapes.len());
            out.shapes.push(ItemShape {
                name: shape.name.to_ascii_lowercase(),
                members: shape.members.keys().cloned().collect(),
            });
            if depth >= SHAPE_DEPTH {
                continue;
            }
            for m in shape.members.values() {
                let target = model.shape(m.target);
                match target.kind {
                    ShapeType::Structure => queue.push_back((m.target, depth + 1)),
                    ShapeType::List => {
                        if let Some(e) = &target.member {
                            queue.push_back((e.target, depth + 1));
                        }
                    }
                    _ => {}
                }
            }
        }
        // The output's own list members.
        let top = model.shape(output.target);
        for (name, m) in &top.members {
            let target = model.shape(m.target);
            if target.kind == ShapeType::List {
                if let Some(i) = target.member.as_ref().and_then(|e| index.get(&e.target)) {
                    out.lists.insert(name.clone(), *i);
                }
            }
        }
        out
    }

    fn shape_of(&self, member: &str, item: &Map<String, Value>) -> Option<&ItemShape> {
        if let Some(&i) = self.lists.get(member) {
            return Some(&self.shapes[i]);
        }
        let mut best: Option<(usize, &ItemShape)> = None;
        for s in &self.shapes {
            if s.members.len() < item.len() || !item.keys().all(|k| s.members.contains(k)) {
                continue;
            }
            if best.is_none_or(|(n, _)| s.members.len() < n) {
                best = Some((s.members.len(), s));
            }
        }
        best.map(|(_, s)| s)
    }

    /// The identity of `item`, which came from the list `member` (or `""`); `json` is
    /// the item's JSON text (for the content hash).
    pub fn identify(&self, member: &str, item: &Value, json: &str) -> Identity {
        match item {
            Value::Object(o) => {
                let shape = self.shape_of(member, o).map(|s| s.name.as_str());
                identify_object(shape, o).unwrap_or_else(|| hash(json))
            }
            Value::String(s) if !s.is_empty() => Identity {
                id: s.clone(),
                source: "(item)".into(),
            },
            Value::Number(n) => Identity {
                id: n.to_string(),
                source: "(item)".into(),
            },
            _ => hash(json),
        }
    }
}

/// The identity of `item` whose shape is known to be `shape` (the model's name, any
/// case): rules 1 to 7, 9 and 10 of the module doc, as [`Shapes::identify`] applies them.
pub fn identify_shaped(shape: &str, item: &Value, json: &str) -> Identity {
    match item {
        Value::Object(o) => {
            let lower = shape.to_ascii_lowercase();
            identify_object(Some(&lower), o).unwrap_or_else(|| hash(json))
        }
        _ => Shapes::default().identify("", item, json),
    }
}

fn hash(json: &str) -> Identity {
    let digest = Sha256::digest(json.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    Identity {
        id: format!("sha256:{hex}"),
        source: "(hash)".into(),
    }
}

fn id_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Rules 1 to 8 of the module doc. `shape` is the lower-cased shape name.
fn identify_object<'a>(shape: Option<&str>, item: &'a Map<String, Value>) -> Option<Identity> {
    let found = |name: &str| -> Option<Identity> {
        id_value(&item[name]).map(|id| Identity {
            id,
            source: name.to_string(),
        })
    };
    // Members with an identifier-like value, lower-cased, in item order.
    let candidates: Vec<(&str, String)> = item
        .iter()
        .filter(|(_, v)| id_value(v).is_some())
        .map(|(k, _)| (k.as_str(), k.to_ascii_lowercase()))
        .collect();
    // `<X><suffix>` members, with X.
    let suffixed = |suffix: &str| -> Vec<(&str, String)> {
        candidates
            .iter()
            .filter(|(_, l)| l.len() > suffix.len() && l.ends_with(suffix))
            .map(|(k, l)| (*k, l[..l.len() - suffix.len()].to_string()))
            .collect()
    };
    for suffix in ["arn", "id", "name"] {
        if let Some((k, _)) = candidates.iter().find(|(_, l)| l == suffix) {
            return found(k);
        }
        if let Some(shape) = shape {
            let best = suffixed(suffix)
                .into_iter()
                .filter(|(_, x)| shape == x || shape.starts_with(x) || shape.ends_with(x))
                .max_by_key(|(_, x)| (x == shape, x.len()));
            if let Some((k, _)) = best {
                return found(k);
            }
        }
    }
    let only = |list: Vec<&'a str>| (list.len() == 1).then(|| list[0]);
    let arns = suffixed("arn")
        .into_iter()
        .map(|(k, _)| k)
        .filter(|k| item[*k].as_str().is_some_and(|v| v.starts_with("arn:")))
        .collect();
    if let Some(k) = only(arns) {
        return found(k);
    }
    if shape.is_none() {
        for suffix in ["id", "name"] {
            if let Some(k) = only(suffixed(suffix).into_iter().map(|(k, _)| k).collect()) {
                return found(k);
            }
        }
    }
    None
}

/// The key and the value of one entry of a tag list, in whichever case and prefix the
/// service names them (`Key`/`Value`, `key`/`value`, `TagKey`/`TagValue`).
pub fn tag_pair(t: &Map<String, Value>) -> (Option<&Value>, Option<&Value>) {
    let find = |word: &str| {
        t.iter().find_map(|(k, v)| {
            let l = k.to_ascii_lowercase();
            (l == word || l.strip_prefix("tag") == Some(word)).then_some(v)
        })
    };
    (find("key"), find("value"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn items(v: &Value) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        for_each_item(v, |m, x| out.push((m.to_string(), x.clone())));
        out
    }

    #[test]
    fn items_of_results() {
        assert_eq!(items(&json!([1, 2])).len(), 2);
        let r = json!({"Reservations": [{"ReservationId": "r-1"}, {"ReservationId": "r-2"}], "Other": [3], "NextToken": "x"});
        let got = items(&r);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].0, "Reservations");
        assert_eq!(got[2], ("Other".to_string(), json!(3)));
        assert_eq!(
            items(&json!({"Account": "1"})),
            [("".into(), json!({"Account": "1"}))]
        );
        assert!(items(&json!({})).is_empty());
        assert!(items(&Value::Null).is_empty());
        assert_eq!(items(&json!("x")).len(), 1);
        for v in [json!([1, 2]), r, json!({"A": 1}), json!({}), Value::Null] {
            assert_eq!(items(&v).len() as u64, crate::scan::count_items(&v), "{v}");
        }
    }

    fn id(service: &str, op: &str, member: &str, item: Value) -> Identity {
        Shapes::for_operation(service, op).identify(member, &item, &item.to_string())
    }

    #[test]
    fn identities_from_the_model() {
        let cases = [
            (
                "ec2",
                "DescribeVpcs",
                json!({"CidrBlock": "10.0.0.0/16", "VpcId": "vpc-1", "OwnerId": "1", "DhcpOptionsId": "d"}),
                "VpcId",
            ),
            (
                "ec2",
                "DescribeSecurityGroups",
                json!({"GroupName": "g", "OwnerId": "1", "GroupId": "sg-1", "VpcId": "vpc-1"}),
                "GroupId",
            ),
            (
                "ec2",
                "DescribeInstances",
                json!({"ImageId": "ami", "InstanceId": "i-1", "SubnetId": "s", "VpcId": "v"}),
                "InstanceId",
            ),
            (
                "ec2",
                "DescribeVpcEndpoints",
                json!({"VpcEndpointId": "vpce-1", "VpcId": "vpc-1"}),
                "VpcEndpointId",
            ),
            (
                "lambda",
                "ListFunctions",
                json!({"FunctionName": "f", "FunctionArn": "arn:aws:lambda:us-east-1:1:function:f", "Role": "arn:aws:iam::1:role/r"}),
                "FunctionArn",
            ),
            (
                "kms",
                "ListKeys",
                json!({"KeyId": "k", "KeyArn": "arn:aws:kms:us-east-1:1:key/k"}),
                "KeyArn",
            ),
            (
                "iam",
                "ListRoles",
                json!({"Path": "/", "RoleName": "r", "RoleId": "AROA", "Arn": "arn:aws:iam::1:role/r"}),
                "Arn",
            ),
            (
                "s3",
                "ListBuckets",
                json!({"Name": "b", "CreationDate": "2020-01-01T00:00:00+00:00"}),
                "Name",
            ),
            (
                "logs",
                "DescribeLogGroups",
                json!({"logGroupName": "/a", "creationTime": 1, "storedBytes": 0}),
                "logGroupName",
            ),
            (
                "cloudformation",
                "DescribeStacks",
                json!({"StackId": "arn:aws:cloudformation:us-east-1:1:stack/s/1", "StackName": "s", "RoleARN": "arn:aws:iam::1:role/x"}),
                "StackId",
            ),
            (
                "route53",
                "ListHostedZones",
                json!({"Id": "/hostedzone/Z1", "Name": "example.com."}),
                "Id",
            ),
            (
                "sns",
                "ListTopics",
                json!({"TopicArn": "arn:aws:sns:us-east-1:1:t"}),
                "TopicArn",
            ),
        ];
        for (service, op, item, want) in cases {
            let got = id(service, op, "", item.clone());
            assert_eq!(got.source, want, "{service} {op} {item}");
            assert_eq!(json!(got.id), item[want]);
        }
        // Without a result key: the list member says which shape.
        let r = id(
            "ec2",
            "DescribeInstances",
            "Reservations",
            json!({"ReservationId": "r-1", "OwnerId": "1", "Instances": []}),
        );
        assert_eq!(r.source, "ReservationId");
    }

    #[test]
    fn identities_without_a_model() {
        let none = Shapes::default();
        let ident = |v: Value| none.identify("", &v, &v.to_string());
        assert_eq!(ident(json!("table-1")).id, "table-1");
        assert_eq!(
            ident(json!({"x": 1, "ThingArn": "arn:aws:x"})).source,
            "ThingArn"
        );
        assert_eq!(ident(json!({"a": "b", "WidgetId": "w"})).source, "WidgetId");
        assert_eq!(
            ident(json!({"a": "b", "WidgetId": "w", "OwnerId": "o"})).source,
            "(hash)"
        );
        let h = ident(json!({"a": [1]}));
        assert!(h.id.starts_with("sha256:") && h.id.len() == 39, "{h:?}");
        assert_eq!(h, ident(json!({"a": [1]})));
    }

    #[test]
    fn call_rows_number_repeats_and_chunk() {
        let result = json!({"Things": [{"ThingId": "a", "X": 1}, {"ThingId": "a", "Y": null}, {"ThingId": "b", "Z": [1]}]});
        let mut chunks = Vec::new();
        let (rest, members) = call_rows(&Shapes::default(), &result, 2, |c| {
            chunks.push(c);
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].len(), 2);
        assert_eq!(chunks[0][0].resource_id, "a");
        assert_eq!(chunks[0][1].resource_id, "a#2");
        assert_eq!(chunks[0][0].member, "Things");
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].resource_id, "b");
        assert_eq!(members, ["ThingId", "X", "Z"]);
        let failed = call_rows(&Shapes::default(), &result, 1, |_| Err("stop"));
        assert_eq!(failed, Err("stop"));
    }

    #[test]
    fn column_members_of_items() {
        let item = json!({"A": "x", "B": 1, "C": true, "D": null, "E": {"F": 1}, "G": [1]});
        assert_eq!(
            column_members(&item).collect::<Vec<_>>(),
            ["A", "B", "C", "E", "G"]
        );
        assert_eq!(column_members(&json!("t")).collect::<Vec<_>>(), ["value"]);
    }
}
