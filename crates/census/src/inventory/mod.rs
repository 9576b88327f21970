//! One inventory (issue 13, first piece): each resource item of a list call's result
//! as one [`Resource`] row with its type, identifier, partition-aware ARN, name,
//! creation time and tags. Pure: a result in, rows out; nothing is called and nothing
//! is stored here (the SQL table, links and exports build on this).
//!
//! Everything is decided from the botocore models ([`model`]) and data, never from
//! service names:
//! - Which list: the output list the paginator's first result key names (or the
//!   output's only list, as `spec::derive` finds it); without one, every top-level
//!   list. A result that is an array (a result key applied) is matched to the list
//!   whose element shape covers the items' members with the fewest to spare.
//! - Wrappers: a list element structure with exactly one list-of-structures member is
//!   flattened one level when the inner element is what the operation names and the
//!   wrapper is not (ec2 `DescribeInstances`: `Reservation` → `Instance`), or when the
//!   wrapper has no identifier of its own and the inner element has one.
//! - `resource_type`: `<service>:<Noun>`, the item shape's name less a suffix of
//!   `presets/not_details.json`'s `shape_suffixes` (`FunctionConfiguration` →
//!   `Function`); a scalar item is named by its list, singular, less `Name`/`Id`/`Arn`/
//!   `Url` (`TableNames` → `Table`, `QueueUrls` → `Queue`). `cfn_type` from
//!   `presets/cfn_types.json`.
//! - `resource_id`: the item's identity as the SQL stores give it
//!   ([`crate::store::items::identify_shaped`]).
//! - `arn`: the shape's `Arn` or `<X>Arn` member (`X` naming the shape), its own
//!   `Id`/`<X>Id` when that holds an ARN (`StackId`), a scalar item listed as ARNs, the
//!   only `*Arn` member holding `arn:` when the shape has no identifier of its own
//!   (without one, it points at another resource: a stack's `RoleARN`); else built from
//!   `presets/arn_formats.json` with the account's partition, region and account id.
//! - `name`: the `Name` tag, else the shape's `Name`/`<X>Name` member, else a scalar
//!   name item, or a scalar URL's or ARN's last segment.
//! - `created`: the timestamp member named for creation (`CreationDate`, `CreateDate`,
//!   `LaunchTime`, `CreatedTimestamp`), as the result holds it (boto3's ISO 8601).
//! - `tags`: one `{key: value}` object from a `Tags`/`TagList`/`TagSet`/`tags` member,
//!   whether a list of `{Key, Value}` (`key`/`value`, `TagKey`/`TagValue`) or a map.

pub mod model;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::store::items::{identify_shaped, tag_pair, Shapes};
pub use model::{ItemFacts, LinkPath, ListFacts, OperationFacts, TagForm};

const ARN_FORMATS: &str = include_str!("../../presets/arn_formats.json");
const CFN_TYPES: &str = include_str!("../../presets/cfn_types.json");
const LINK_TYPES: &str = include_str!("../../presets/link_types.json");

/// `arn_source` of an ARN that is the item's own member.
pub const ARN_FROM_ITEM: &str = "item";
/// `arn_source` of an ARN built from `presets/arn_formats.json`.
pub const ARN_FROM_FORMAT: &str = "format";

/// One inventory row (without the scan's account and call columns).
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// `<service>:<Noun>`, e.g. `ec2:Instance`.
    pub resource_type: String,
    /// The CloudFormation type where known, e.g. `AWS::EC2::Instance`.
    pub cfn_type: Option<String>,
    /// The item's identifier, as the SQL stores key it (repeats get `#2`...).
    pub resource_id: String,
    /// The id its service names it by, which other resources' members hold: the
    /// shape's own `Id` member (`subnet-0abc`) unless that is an ARN, else its name,
    /// else `resource_id`.
    pub native_id: String,
    pub arn: Option<String>,
    /// Where `arn` came from: [`ARN_FROM_ITEM`] or [`ARN_FROM_FORMAT`] (the SQL
    /// stores add `detail` and `tagging`).
    pub arn_source: Option<&'static str>,
    pub name: Option<String>,
    /// ISO 8601.
    pub created: Option<String>,
    /// Its region when the item says (s3 `BucketRegion`); else the call's.
    pub region: Option<String>,
    /// `{key: value}`.
    pub tags: Map<String, Value>,
    /// The members naming other resources.
    pub links: Vec<Link>,
}

/// A member of a resource naming another resource: one `links` row (its ARNs are
/// resolved against the whole scan when it finishes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The member path: `SubnetId`, `SecurityGroups[].GroupId`.
    pub kind: String,
    /// The member's value: an id or an ARN.
    pub raw: String,
    /// The resource type it names, where the models tell.
    pub to_type: Option<String>,
}

/// The links at `paths` of `item`, each `(kind, raw)` once.
pub fn links_of(paths: &[LinkPath], item: &Value) -> Vec<Link> {
    let mut out: Vec<Link> = Vec::new();
    let mut values = Vec::new();
    for p in paths {
        values.clear();
        p.values(item, &mut values);
        for raw in &values {
            if !out.iter().any(|l| l.kind == p.kind && l.raw == *raw) {
                out.push(Link {
                    kind: p.kind.clone(),
                    raw: raw.to_string(),
                    to_type: p.to_type.clone(),
                });
            }
        }
    }
    out
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Data {
    #[allow(dead_code)]
    reason: String,
    types: HashMap<String, String>,
}

fn data(text: &'static str, cell: &'static OnceLock<Data>) -> &'static HashMap<String, String> {
    // Built in and parsed by the tests: it cannot fail at run time.
    &cell
        .get_or_init(|| serde_json::from_str(text).expect("a built-in inventory data file"))
        .types
}

/// The ARN format of a resource type (`presets/arn_formats.json`).
pub fn arn_format(resource_type: &str) -> Option<&'static str> {
    static CELL: OnceLock<Data> = OnceLock::new();
    data(ARN_FORMATS, &CELL)
        .get(resource_type)
        .map(String::as_str)
}

/// The CloudFormation type of a resource type (`presets/cfn_types.json`).
pub fn cfn_type(resource_type: &str) -> Option<&'static str> {
    static CELL: OnceLock<Data> = OnceLock::new();
    data(CFN_TYPES, &CELL)
        .get(resource_type)
        .map(String::as_str)
}

/// The resource type an `<X>Id` member of another service names, by `x` (lower
/// case): `presets/link_types.json`.
pub fn link_type(x: &str) -> Option<&'static str> {
    static CELL: OnceLock<Data> = OnceLock::new();
    data(LINK_TYPES, &CELL).get(x).map(String::as_str)
}

/// Where one call ran: what an ARN is built from.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    /// `aws`, `aws-cn`, `aws-us-gov`...: the account's partition.
    pub partition: &'a str,
    pub region: &'a str,
    pub account_id: &'a str,
}

/// The resources of one call's result (boto3-shaped, result key applied) of
/// `service`'s `operation`, made in `partition`/`region` for `account_id`.
pub fn resources(
    service: &str,
    operation: &str,
    result: &Value,
    partition: &str,
    region: &str,
    account_id: &str,
) -> Vec<Resource> {
    let facts = OperationFacts::for_operation(service, operation);
    let place = Place {
        partition,
        region,
        account_id,
    };
    resources_with(&facts, service, result, place)
}

/// Facts per `(service, operation)` ([`OperationFacts`], [`DetailFacts`]), derived
/// once each: what a caller building the inventory of a whole scan keeps, since every
/// account and region makes the same calls.
#[derive(Debug)]
pub struct FactsCache<T = OperationFacts>(Mutex<HashMap<(String, String), Arc<T>>>);

impl<T> Default for FactsCache<T> {
    fn default() -> Self {
        FactsCache(Mutex::default())
    }
}

/// Facts derived from the models for one operation.
pub trait Derived {
    fn derive(service: &str, operation: &str) -> Self;
}

impl Derived for OperationFacts {
    fn derive(service: &str, operation: &str) -> Self {
        OperationFacts::for_operation(service, operation)
    }
}

impl<T: Derived> FactsCache<T> {
    /// The facts of `service`'s `operation`.
    pub fn get(&self, service: &str, operation: &str) -> Arc<T> {
        let key = (service.to_string(), operation.to_string());
        if let Some(f) = self.0.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return f.clone();
        }
        let f = Arc::new(T::derive(service, operation));
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, f.clone());
        f
    }
}

/// What the model says about a detail operation's result: the members naming other
/// resources (`Table.SSEDescription.KMSMasterKeyArn` of dynamodb `DescribeTable`).
#[derive(Debug, Clone, Default)]
pub struct DetailFacts {
    pub links: Vec<LinkPath>,
}

impl Derived for DetailFacts {
    fn derive(service: &str, operation: &str) -> Self {
        let Ok(model) = awsdyn::model::load(service) else {
            return DetailFacts::default();
        };
        let output = model
            .operation_key(operation)
            .and_then(|k| model.operations[k].output.as_ref())
            .map(|o| model.shape(o.target));
        DetailFacts {
            links: output.map_or_else(Vec::new, |o| model::detail_link_paths(&model, o, 3)),
        }
    }
}

/// What a detail call's result adds to its list item's inventory row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Enrichment {
    /// The list item's `resource_id`.
    pub resource_id: String,
    /// The resource's ARN: an `Arn` or `<Noun>Arn` member (`QueueArn`, `TableArn`) of
    /// the result or of its structures one level down.
    pub arn: Option<String>,
    /// Tags, when the result has a tag member (at the top or one level down), in
    /// whichever form: `ListTagsForResource` and friends.
    pub tags: Option<Map<String, Value>>,
    pub links: Vec<Link>,
}

/// The [`Enrichment`] of the item `resource_id` from a detail call's `result`, whose
/// list gives resources named `nouns` (`Queue` for `sqs:Queue`).
pub fn enrichment(
    facts: &DetailFacts,
    nouns: &[String],
    resource_id: &str,
    result: &Value,
) -> Enrichment {
    let mut arn = None;
    let mut tags = None;
    let mut look = |o: &Map<String, Value>| {
        for (k, v) in o {
            if arn.is_none() {
                if let Some(a) = v.as_str().filter(|a| a.starts_with("arn:")) {
                    let lower = k.to_ascii_lowercase();
                    let named = lower.strip_suffix("arn").is_some_and(|x| {
                        x.is_empty() || nouns.iter().any(|n| n.eq_ignore_ascii_case(x))
                    });
                    if named {
                        arn = Some(a.to_string());
                    }
                }
            }
        }
        if tags.is_none() && o.keys().any(|k| is_tag_member(k)) {
            tags = Some(tags_any(&Value::Object(o.clone())));
        }
    };
    if let Some(o) = result.as_object() {
        look(o);
        for v in o.values() {
            if let Some(inner) = v.as_object() {
                look(inner);
            }
        }
    }
    // The paths start at the output; a result key may have taken its first member.
    let mut links = links_of(&facts.links, result);
    if links.is_empty() {
        let shorter: Vec<LinkPath> = facts
            .links
            .iter()
            .filter_map(|p| {
                let at = p
                    .steps
                    .iter()
                    .position(|s| matches!(s, model::Step::Member(_)))?;
                let rest = p.steps.get(at + 1..)?;
                let rest: Vec<model::Step> = rest
                    .iter()
                    .skip_while(|s| matches!(s, model::Step::Each))
                    .cloned()
                    .collect();
                (!rest.is_empty()).then(|| LinkPath {
                    steps: rest,
                    ..p.clone()
                })
            })
            .collect();
        links = links_of(&shorter, result);
    }
    Enrichment {
        resource_id: resource_id.to_string(),
        arn,
        tags,
        links,
    }
}

/// The noun of a resource type: `Queue` of `sqs:Queue`.
pub fn type_noun(resource_type: &str) -> &str {
    resource_type
        .split_once(':')
        .map_or(resource_type, |(_, n)| n)
}

/// As [`resources`], with the operation's facts already derived (what a caller
/// keeps per operation).
pub fn resources_with(
    facts: &OperationFacts,
    service: &str,
    result: &Value,
    place: Place,
) -> Vec<Resource> {
    let mut items: Vec<(&Value, Option<&ItemFacts>)> = Vec::new();
    collect(facts, result, &mut items);
    let mut seen: HashMap<String, u32> = HashMap::new();
    items
        .into_iter()
        .map(|(item, f)| {
            let mut r = resource(service, item, f, place);
            let n = seen.entry(r.resource_id.clone()).or_insert(0);
            *n += 1;
            if *n > 1 {
                r.resource_id = format!("{}#{n}", r.resource_id);
            }
            r
        })
        .collect()
}

/// Every resource item of `result` with the facts of its shape.
fn collect<'a>(
    facts: &'a OperationFacts,
    result: &'a Value,
    out: &mut Vec<(&'a Value, Option<&'a ItemFacts>)>,
) {
    match result {
        Value::Null => {}
        Value::Array(a) => {
            for item in a {
                match matching(facts, item) {
                    Some(list) => flatten(list, item, out),
                    None => out.push((item, None)),
                }
            }
        }
        Value::Object(o) => {
            // A designated list under a dotted path (`DistributionList.Items`).
            if let Some(first) = facts.lists.first().filter(|_| facts.designated) {
                if first.path.contains('.') {
                    let mut at = result;
                    for part in first.path.split('.') {
                        at = at.get(part).unwrap_or(&Value::Null);
                    }
                    if let Value::Array(a) = at {
                        a.iter().for_each(|item| flatten(first, item, out));
                        return;
                    }
                }
            }
            let mut lists = false;
            for (member, v) in o {
                let Value::Array(a) = v else { continue };
                lists = true;
                // The designated list's own member also matches when a result key
                // took its parent (`DistributionList` of `DistributionList.Items`).
                let list = facts.lists.iter().position(|l| {
                    l.path == *member
                        || facts.designated && l.path.rsplit('.').next() == Some(member.as_str())
                });
                if facts.designated && list.is_some_and(|i| i > 0) {
                    continue;
                }
                match list.map(|i| &facts.lists[i]) {
                    Some(l) => a.iter().for_each(|item| flatten(l, item, out)),
                    None if !facts.designated || facts.lists.is_empty() => {
                        a.iter().for_each(|item| out.push((item, None)));
                    }
                    None => {}
                }
            }
            if !lists && !o.is_empty() {
                // The one resource of a list-less output (`{"Organization": {...}}`).
                if let Some((member, f)) = &facts.single {
                    if let Some(inner) = o.get(member).filter(|v| v.is_object()) {
                        out.push((inner, Some(f)));
                        return;
                    }
                }
                out.push((result, best_shape(facts, o)));
            }
        }
        scalar => out.push((scalar, matching(facts, scalar).map(ListFacts::resource))),
    }
}

/// `item` of `list`, or the resources it wraps.
fn flatten<'a>(
    list: &'a ListFacts,
    item: &'a Value,
    out: &mut Vec<(&'a Value, Option<&'a ItemFacts>)>,
) {
    if let Some((member, inner)) = &list.inner {
        if let Some(Value::Array(a)) = item.get(member) {
            a.iter().for_each(|x| out.push((x, Some(inner))));
            return;
        }
        if item.get(member).is_none() && covers(inner, item) && !covers(&list.element, item) {
            // Already flattened by a result key (`.Reservations[].Instances[]`).
            out.push((item, Some(inner)));
        }
        return;
    }
    out.push((item, Some(&list.element)));
}

fn covers(f: &ItemFacts, item: &Value) -> bool {
    item.as_object()
        .is_some_and(|o| !f.scalar && o.keys().all(|k| f.members.contains(k)))
}

/// The list an item of an array result came from: for a scalar, the designated list if
/// its elements are scalars, else the first scalar list; for a structure, the list
/// whose element (or wrapped element) covers its members with the fewest to spare.
fn matching<'a>(facts: &'a OperationFacts, item: &Value) -> Option<&'a ListFacts> {
    match item {
        Value::Object(o) => {
            let mut best: Option<(usize, &ListFacts)> = None;
            for l in &facts.lists {
                for f in std::iter::once(&l.element).chain(l.inner.as_ref().map(|(_, f)| f)) {
                    if covers(f, item) && best.is_none_or(|(n, _)| f.members.len() < n) {
                        best = Some((f.members.len(), l));
                    }
                }
                let _ = o;
            }
            best.map(|(_, l)| l)
        }
        _ => facts.lists.iter().find(|l| l.element.scalar),
    }
}

fn best_shape<'a>(facts: &'a OperationFacts, o: &Map<String, Value>) -> Option<&'a ItemFacts> {
    let item = Value::Object(o.clone());
    let list = matching(facts, &item)?;
    Some(if covers(&list.element, &item) {
        &list.element
    } else {
        list.resource()
    })
}

fn string_member<'a>(item: &'a Value, member: &str) -> Option<&'a str> {
    item.get(member)?.as_str().filter(|s| !s.is_empty())
}

fn resource(service: &str, item: &Value, facts: Option<&ItemFacts>, place: Place) -> Resource {
    let json = item.to_string();
    let identity = match facts {
        Some(f) => identify_shaped(&f.shape, item, &json),
        None => Shapes::default().identify("", item, &json),
    };
    let resource_type =
        facts.map_or_else(|| format!("{service}:Unknown"), |f| f.resource_type.clone());
    let tags = facts.map_or_else(|| tags_any(item), |f| tags(item, f.tags.as_ref()));
    let scalar = item.as_str().filter(|s| !s.is_empty());
    let kind = facts.and_then(|f| f.scalar_kind);
    let name = tags
        .get("Name")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .or_else(|| {
            let f = facts?;
            match (scalar, kind) {
                (Some(s), Some("Name")) => Some(s.to_string()),
                (Some(s), Some("Url")) => s.rsplit('/').find(|x| !x.is_empty()).map(str::to_string),
                // `arn:aws:ecs:us-east-1:1:cluster/prod` → `prod`.
                (Some(s), Some("Arn")) => s
                    .rsplit(['/', ':'])
                    .find(|x| !x.is_empty())
                    .map(str::to_string),
                _ => string_member(item, f.name.as_deref()?).map(str::to_string),
            }
        });
    let created = facts
        .and_then(|f| item.get(f.created.as_deref()?))
        .and_then(|v| match v {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => {
                awsdyn::timestamp::from_epoch(n.as_f64()?).map(|t| awsdyn::timestamp::to_boto3(&t))
            }
            _ => None,
        });
    let (arn, arn_source) = match own_arn(item, facts) {
        Some(a) => (Some(a), Some(ARN_FROM_ITEM)),
        None => match arn_format(&resource_type).and_then(|f| build_arn(f, item, place)) {
            Some(a) => (Some(a), Some(ARN_FROM_FORMAT)),
            None => (None, None),
        },
    };
    // A shape whose only identifier is its ARN (sns `Topic`) is named by the ARN's
    // last part.
    let name = name.or_else(|| {
        let f = facts.filter(|f| !f.scalar && f.id.is_none() && f.name.is_none())?;
        let a = f.arn.as_deref().and_then(|m| string_member(item, m))?;
        a.rsplit([':', '/'])
            .find(|x| !x.is_empty())
            .map(str::to_string)
    });
    let native_id = facts
        .and_then(|f| f.id.as_deref())
        .and_then(|m| string_member(item, m))
        .filter(|s| !s.starts_with("arn:"))
        .or_else(|| string_member(item, facts?.name.as_deref()?))
        .or(scalar.filter(|s| !s.starts_with("arn:")))
        .map_or_else(|| identity.id.clone(), str::to_string);
    let region = facts
        .and_then(|f| string_member(item, f.region.as_deref()?))
        .map(str::to_string);
    Resource {
        cfn_type: cfn_type(&resource_type).map(str::to_string),
        region,
        resource_type,
        native_id,
        resource_id: identity.id,
        arn,
        arn_source,
        name,
        created,
        tags,
        links: facts.map_or_else(Vec::new, |f| links_of(&f.links, item)),
    }
}

/// The item's own ARN: its ARN member, a scalar ARN item, else its only `*Arn` member
/// holding an ARN.
fn own_arn(item: &Value, facts: Option<&ItemFacts>) -> Option<String> {
    let is_arn = |s: &&str| s.starts_with("arn:");
    if let Some(s) = item.as_str() {
        return is_arn(&s).then(|| s.to_string());
    }
    let o = item.as_object()?;
    for m in facts.into_iter().flat_map(|f| [&f.arn, &f.id]).flatten() {
        if let Some(s) = string_member(item, m).filter(is_arn) {
            return Some(s.to_string());
        }
    }
    // Another `*Arn` member of a shape with an identifier of its own points elsewhere
    // (a stack's `RoleARN`).
    if facts.is_some_and(|f| f.id.is_some() || f.name.is_some()) {
        return None;
    }
    let mut arns = o.iter().filter_map(|(k, v)| {
        let s = v.as_str().filter(is_arn)?;
        let l = k.to_ascii_lowercase();
        (l.ends_with("arn") && facts.is_none_or(|f| f.arn.as_deref() != Some(k))).then_some(s)
    });
    let first = arns.next()?;
    arns.next().is_none().then(|| first.to_string())
}

/// Fills an ARN format: `${Partition}`, `${Region}`, `${Account}`, `${.}` (a scalar
/// item), `${Member}` (the item's string member); `|last` takes the value's last
/// `/`-separated segment (a queue's name from its URL). `None` if a value is missing.
pub fn build_arn(format: &str, item: &Value, place: Place) -> Option<String> {
    let mut out = String::new();
    let mut rest = format;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let end = rest[at..].find('}')? + at;
        let spec = &rest[at + 2..end];
        let (name, filter) = spec.split_once('|').unwrap_or((spec, ""));
        let value = match name {
            "Partition" => place.partition,
            // Global resources have no region in their ARN (`arn:aws:iam::1:role/x`).
            "Region" if place.region == "global" => "",
            "Region" => place.region,
            "Account" => place.account_id,
            "." => item.as_str().filter(|s| !s.is_empty())?,
            m => string_member(item, m)?,
        };
        match filter {
            "" => out.push_str(value),
            "last" => out.push_str(value.rsplit('/').find(|x| !x.is_empty())?),
            _ => return None,
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    (!place.partition.is_empty()).then_some(out)
}

/// Tags read from the item as the model says it holds them, else from any tag member.
fn tags(item: &Value, form: Option<&TagForm>) -> Map<String, Value> {
    match form {
        Some(TagForm::List { member, key, value }) => {
            let mut out = Map::new();
            for t in item
                .get(member)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(k) = t.get(key).and_then(Value::as_str) {
                    let v = t
                        .get(value)
                        .cloned()
                        .unwrap_or(Value::String(String::new()));
                    out.insert(k.to_string(), v);
                }
            }
            out
        }
        Some(TagForm::Map { member }) => item
            .get(member)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
        None => tags_any(item),
    }
}

/// Whether a member is named as tags are (`Tags`, `TagList`, `TagSet`, `tags`).
fn is_tag_member(k: &str) -> bool {
    ["tags", "taglist", "tagset"].contains(&k.to_ascii_lowercase().as_str())
}

/// Tags of an item without a model: the first tag member in either form.
fn tags_any(item: &Value) -> Map<String, Value> {
    let Some(o) = item.as_object() else {
        return Map::new();
    };
    for (k, v) in o {
        if !is_tag_member(k) {
            continue;
        }
        match v {
            Value::Object(m) => return m.clone(),
            Value::Array(a) => {
                let mut out = Map::new();
                for t in a.iter().filter_map(Value::as_object) {
                    if let (Some(Value::String(key)), value) = tag_pair(t) {
                        let value = value.cloned().unwrap_or(Value::String(String::new()));
                        out.insert(key.clone(), value);
                    }
                }
                return out;
            }
            _ => {}
        }
    }
    Map::new()
}

#[cfg(test)]
mod tests;
