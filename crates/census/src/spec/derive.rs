//! Detail calls derived from the models (issue 11, `"details": "auto"`): for each list
//! operation of a service, the read operations whose every required input member can
//! be filled from one item of its result, and how.
//!
//! Pure: a service model in, a [`Derivation`] per list operation out; nothing is
//! called. No per-service code: the few facts the rules need (operations never
//! derived, shape-name suffixes, identifier member names) are data,
//! `presets/not_details.json`, on top of `presets/secrets.json`.
//!
//! The rules, comparing member names case-insensitively:
//!
//! - A list operation `L` is a `List*`, `Describe*` or `Get*` operation that needs no
//!   input, does not stream, and whose output has a list: the member its paginator's
//!   first `result_key` names (a dotted path through structures), or else the one
//!   list member of its output.
//! - A detail `D` is a `List*`, `Describe*` or `Get*` operation of the same service,
//!   other than `L`, with at least one required input member, that does not stream and
//!   is neither a secret (`presets/secrets.json`, called without parameters) nor in
//!   `presets/not_details.json`.
//! - Each required member `R` of `D` is filled from a structure item (shape `S`):
//!   1. by the item's member of the same name and type (`RoleName` ← `.RoleName`);
//!   2. for `R` = `X` + an identifier (`Name`, `Id`, `Arn`, `Url`) where `X` names
//!      `S` (the shape's name less a suffix such as `Summary`, `ListEntry`), by the
//!      item's member named that identifier (`BucketName` ← `.Name`), and for an
//!      `<X>Id` without an `Id` member, its `Arn` or else `Name` (`SecretId` ← `.ARN`);
//!   3. for `R` = `X` naming `S`, by the item's first identifier member
//!      (S3's `Bucket` ← `.Name` of a `Bucket` item).
//!   4. for a member that takes any resource's ARN (`ResourceArn`), by the item's
//!      `<X>Arn` or `Arn` (`ListTagsForResource`'s `ResourceArn` ← `.TopicArn`).
//! - A bare identifier (`name`, `id`, `arn`) is filled only when `D`'s name, less its
//!   verb, starts with the item's noun (`DescribeEksAnywhereSubscription`'s `id` from
//!   an `EksAnywhereSubscription`, not `DescribeCluster`'s `name` from an
//!   `AccessPolicy`).
//! - A scalar item (a list of strings) fills the one required member of `D` that its
//!   list member names, singular (`TableNames` → `TableName` ← `.`), or a bare
//!   identifier when `D` names the list's noun (eks `clusters` → `DescribeCluster`'s
//!   `name`); `D` must require nothing else.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use awsdyn::model::{Operation, ServiceModel, Shape, ShapeId, ShapeType};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::preset::{secret, streams};

/// The facts the rules need, as data.
const NOT_DETAILS: &str = include_str!("../../presets/not_details.json");

/// Verbs of list and detail operations (the next character upper case or a digit).
const VERBS: [&str; 3] = ["List", "Describe", "Get"];

/// One list operation and the detail operations derived for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derivation {
    /// Model name of the list operation, e.g. `ListBuckets`.
    pub list: String,
    /// Where its items are in its output: the result key, e.g. `Buckets`, or a dotted
    /// path (`DistributionList.Items`).
    pub result_key: String,
    /// The item shape's name, e.g. `Bucket`, `TableName`.
    pub item_shape: String,
    /// Whether an item is a scalar (a name, an ARN, a URL) rather than a structure.
    pub scalar: bool,
    /// The detail operations, by name.
    pub details: Vec<Detail>,
}

/// One derived detail operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail {
    /// Model name, e.g. `GetBucketEncryption`.
    pub operation: String,
    /// Each required input member and the jq expression on the item that fills it:
    /// `("Bucket", ".Name")`, `("TableName", ".")`.
    pub parameters: Vec<(String, String)>,
    /// Whether the item's own identifier fills it (`RoleName` of a `Role`, `Bucket`
    /// of a `Bucket`, a scalar item), rather than a reference the item holds to
    /// another resource (`VpcId` of a `CarrierGateway`): a detail of the item
    /// itself, not of something it points at.
    pub own: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Facts {
    #[allow(dead_code)]
    reason: String,
    operations: Vec<Excluded>,
    name_contains: Vec<ExcludedText>,
    name_ends_with: Vec<ExcludedText>,
    shape_suffixes: Vec<String>,
    identifiers: Vec<String>,
    id_accepts: Vec<String>,
    any_arn_members: Vec<String>,
    #[allow(dead_code)]
    any_arn_members_reason: String,
    #[allow(dead_code)]
    id_accepts_reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Excluded {
    service: String,
    operation: String,
    #[allow(dead_code)]
    reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExcludedText {
    text: String,
    #[allow(dead_code)]
    reason: String,
}

fn facts() -> &'static Facts {
    static FACTS: OnceLock<Facts> = OnceLock::new();
    FACTS.get_or_init(|| {
        // Built in and parsed by the tests: it cannot fail at run time.
        serde_json::from_str(NOT_DETAILS).expect("presets/not_details.json is well formed")
    })
}

/// Whether `operation` of `service` is never derived as a detail: it returns secrets
/// or data rather than configuration.
pub fn never_detail(service: &str, operation: &str) -> bool {
    let f = facts();
    secret(service, operation, &Value::Object(Map::new())).is_some()
        || super::secret_list()
            .iter()
            .any(|s| s.service == service && s.operation == operation)
        || f.operations
            .iter()
            .any(|e| e.service == service && e.operation == operation)
        || f.name_contains.iter().any(|t| operation.contains(&t.text))
        || f.name_ends_with
            .iter()
            .any(|t| operation.ends_with(&t.text))
}

fn plain_read(name: &str) -> bool {
    VERBS.iter().any(|verb| {
        name.strip_prefix(verb).is_some_and(|rest| {
            rest.chars()
                .next()
                .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        })
    })
}

fn required(model: &ServiceModel, op: &Operation) -> Vec<String> {
    op.input
        .as_ref()
        .map(|r| model.shape(r.target).required.clone())
        .unwrap_or_default()
}

/// Every list operation of `model` with its derived details, by list operation
/// name; list operations without any detail are included (with none).
pub fn derive(model: &ServiceModel) -> Vec<Derivation> {
    // By the names first, so that only the reads' operations and shapes are decoded.
    let reads: Vec<(&String, &Operation)> = model
        .operations
        .keys()
        .filter(|name| plain_read(name))
        .map(|name| (name, &model.operations[name]))
        .collect();
    let details: Vec<&Operation> = reads
        .iter()
        .filter(|(name, op)| {
            !required(model, op).is_empty()
                && !streams(model, op)
                && !never_detail(&model.name, name)
        })
        .map(|&(_, op)| op)
        .collect();
    let mut out = BTreeMap::new();
    for &(name, op) in &reads {
        if !required(model, op).is_empty() || streams(model, op) {
            continue;
        }
        if never_detail(&model.name, name) {
            continue;
        }
        let Some((result_key, list_member, item)) = items(model, name, op) else {
            continue;
        };
        let item_shape = model.shape(item);
        let scalar = item_shape.kind != ShapeType::Structure;
        let found = details
            .iter()
            .filter(|d| d.name != *name)
            .filter_map(|d| {
                let parameters = fill(model, d, &list_member, item_shape)?;
                let own = scalar
                    || parameters
                        .iter()
                        .all(|(r, _)| identifies(r, &item_shape.name) || bare(r) || any_arn(r));
                Some(Detail {
                    operation: d.name.clone(),
                    parameters,
                    own,
                })
            })
            .collect();
        out.insert(
            name.clone(),
            Derivation {
                list: name.clone(),
                result_key,
                item_shape: item_shape.name.clone(),
                scalar,
                details: found,
            },
        );
    }
    out.into_values().collect()
}

/// The list of a list operation's output: (result key, the list member's name, the
/// item shape). The paginator's first result key if it is a path through structures
/// to a list, else the output's one list member.
pub fn items(
    model: &ServiceModel,
    name: &str,
    op: &Operation,
) -> Option<(String, String, ShapeId)> {
    let output = model.shape(op.output.as_ref()?.target);
    let paginated = model
        .paginators()
        .get(name)
        .and_then(|p| match &p["result_key"] {
            Value::String(s) => Some(s.clone()),
            Value::Array(a) => a.first().and_then(Value::as_str).map(str::to_string),
            _ => None,
        });
    if let Some(key) = paginated {
        if let Some(found) = walk(model, output, &key) {
            return Some(found);
        }
    }
    let mut lists = output
        .members
        .iter()
        .filter(|(_, m)| model.shape(m.target).kind == ShapeType::List);
    let (member, r) = lists.next()?;
    if lists.next().is_some() {
        return None;
    }
    let item = model.shape(r.target).member.as_ref()?.target;
    Some((member.clone(), member.clone(), item))
}

fn walk(model: &ServiceModel, output: &Shape, key: &str) -> Option<(String, String, ShapeId)> {
    if key.contains(['[', '|', ' ']) {
        return None;
    }
    let mut shape = output;
    let mut last = "";
    for part in key.split('.') {
        if shape.kind != ShapeType::Structure {
            return None;
        }
        shape = model.shape(shape.members.get(part)?.target);
        last = part;
    }
    if shape.kind != ShapeType::List {
        return None;
    }
    Some((
        key.to_string(),
        last.to_string(),
        shape.member.as_ref()?.target,
    ))
}

/// The parameters of detail `d` filled from one item, or `None` if one required
/// member cannot be filled.
fn fill(
    model: &ServiceModel,
    d: &Operation,
    list_member: &str,
    item: &Shape,
) -> Option<Vec<(String, String)>> {
    let input = model.shape(d.input.as_ref()?.target);
    let required = &input.required;
    if item.kind != ShapeType::Structure {
        let [r] = required.as_slice() else {
            return None;
        };
        let target = model.shape(input.members.get(r)?.target);
        let one = singular(list_member);
        // `TableNames` → `TableName`; `clusters` → `DescribeCluster`'s `name`.
        let fits = one.eq_ignore_ascii_case(r) || (bare(r) && names_item(&d.name, &one));
        return (target.kind == item.kind && fits).then(|| vec![(r.clone(), ".".to_string())]);
    }
    required
        .iter()
        .map(|r| {
            let kind = model.shape(input.members.get(r)?.target).kind;
            if bare(r) && !names_item(&d.name, &item.name) {
                return None;
            }
            Some((r.clone(), member_for(model, item, r, kind)?))
        })
        .collect()
}

/// The jq path on a structure item that fills required member `r` (of type `kind`).
fn member_for(model: &ServiceModel, item: &Shape, r: &str, kind: ShapeType) -> Option<String> {
    let of_kind = |name: &str| {
        item.members
            .iter()
            .find(|(m, s)| m.eq_ignore_ascii_case(name) && model.shape(s.target).kind == kind)
            .map(|(m, _)| format!(".{m}"))
    };
    if let Some(path) = of_kind(r) {
        return Some(path);
    }
    if kind != ShapeType::String {
        return None;
    }
    let noun = noun(&item.name);
    let ids = &facts().identifiers;
    for id in ids {
        let Some(x) = strip_suffix_ci(r, id) else {
            continue;
        };
        if !x.is_empty() && x.eq_ignore_ascii_case(noun) {
            if let Some(path) = of_kind(id) {
                return Some(path);
            }
            if id == "Id" {
                return facts().id_accepts.iter().find_map(|a| of_kind(a));
            }
        }
    }
    if r.eq_ignore_ascii_case(noun) {
        return ids.iter().find_map(|id| of_kind(id));
    }
    if any_arn(r) {
        return of_kind(&format!("{noun}Arn")).or_else(|| of_kind("Arn"));
    }
    None
}

/// Whether `r` is a bare identifier (`name`, `Id`, `arn`), which says nothing of
/// what it identifies.
fn bare(r: &str) -> bool {
    facts()
        .identifiers
        .iter()
        .any(|id| id.eq_ignore_ascii_case(r))
}

/// Whether `r` takes the ARN of any resource of the service (`ResourceArn`).
fn any_arn(r: &str) -> bool {
    facts()
        .any_arn_members
        .iter()
        .any(|m| m.eq_ignore_ascii_case(r))
}

/// Whether member `r` names the item shape's noun (`RoleName`, `Bucket`, `SecretId`
/// of `Role`, `Bucket`, `SecretListEntry` items).
fn identifies(r: &str, item: &str) -> bool {
    let r = r.to_ascii_lowercase();
    let noun = noun(item);
    r.starts_with(&noun.to_ascii_lowercase()) || r.starts_with(&singular(noun).to_ascii_lowercase())
}

/// Whether operation `d`'s name, less its verb, names the item shape's noun
/// (`DescribeEksAnywhereSubscription` and an `EksAnywhereSubscription` item).
fn names_item(d: &str, item: &str) -> bool {
    let noun = noun(item).to_ascii_lowercase();
    let rest = VERBS
        .iter()
        .find_map(|v| d.strip_prefix(v))
        .unwrap_or(d)
        .to_ascii_lowercase();
    rest.starts_with(&noun)
}

/// The noun a shape name names: `BucketSummary` → `Bucket`.
pub fn noun(shape: &str) -> &str {
    facts()
        .shape_suffixes
        .iter()
        .find_map(|s| shape.strip_suffix(s.as_str()).filter(|x| !x.is_empty()))
        .unwrap_or(shape)
}

fn strip_suffix_ci<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = s.len().checked_sub(suffix.len())?;
    (s.is_char_boundary(cut) && s[cut..].eq_ignore_ascii_case(suffix)).then(|| &s[..cut])
}

/// `TableNames` → `TableName`, `Policies` → `Policy`, `Addresses` → `Address`.
pub fn singular(s: &str) -> String {
    if let Some(x) = s.strip_suffix("ies") {
        return format!("{x}y");
    }
    if let Some(x) = s.strip_suffix("sses") {
        return format!("{x}ss");
    }
    s.strip_suffix('s').unwrap_or(s).to_string()
}

#[cfg(test)]
mod tests;
