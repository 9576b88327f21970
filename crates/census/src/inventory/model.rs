//! What the botocore model says about one list operation's resources: which output
//! list holds them, whether its elements are wrappers to flatten, and for the resource
//! shape its type, ARN, name, creation-time and tags members. Pure; one model in.

use std::collections::HashSet;

use awsdyn::model::{ServiceModel, Shape, ShapeType};
use serde_json::Value;

use crate::spec::derive::{items, noun, singular};

/// The identifier words a member name ends with (`TableName`, `QueueUrl`).
const IDENTIFIERS: [&str; 4] = ["Name", "Id", "Arn", "Url"];

/// Member names (any case) that hold an item's tags.
const TAG_MEMBERS: [&str; 4] = ["tags", "taglist", "tagset", "tagsmap"];

/// Words (lower case) a timestamp member's name contains when it says creation.
const CREATED_WORDS: [&str; 3] = ["creat", "launchtime", "launchdate"];

/// How an item holds its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagForm {
    /// A list of structures, e.g. `Tags: [{Key, Value}]`: the member, its key and its
    /// value member names.
    List {
        member: String,
        key: String,
        value: String,
    },
    /// A map `{key: value}` under `member`.
    Map { member: String },
}

/// The facts about one resource shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemFacts {
    /// The model's shape name (`Instance`, `TableName`).
    pub shape: String,
    /// `<service>:<Noun>`.
    pub resource_type: String,
    /// The item is a scalar (a table name, a queue URL).
    pub scalar: bool,
    /// For a scalar item: which identifier it is (`Name`, `Id`, `Arn`, `Url`), if its
    /// list says.
    pub scalar_kind: Option<&'static str>,
    /// The ARN member: `Arn` (any case) or `<X>Arn` where `X` names the shape.
    pub arn: Option<String>,
    /// The shape's own `Id`/`<X>Id` member (an ARN for some: cloudformation `StackId`).
    pub id: Option<String>,
    /// Every other `*Arn` string member (one holding `arn:` is the ARN if it is the
    /// only one).
    pub other_arns: Vec<String>,
    /// The name member: `<X>Identifier` where `X` names the shape (rds
    /// `DBInstanceIdentifier`), else `Name` (any case) or `<X>Name`.
    pub name: Option<String>,
    /// The creation-time member: typed as a timestamp, named for creation.
    pub created: Option<String>,
    /// The region member: `Region` or `<X>Region` (s3 `BucketRegion`): where the
    /// resource is when a global call lists it.
    pub region: Option<String>,
    pub tags: Option<TagForm>,
    /// The structure's members (to match items of array results).
    pub members: HashSet<String>,
    /// The members that name another resource.
    pub links: Vec<LinkPath>,
}

/// A step of a [`LinkPath`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A structure's member.
    Member(String),
    /// Each element of a list.
    Each,
}

/// A member (path) of a resource shape that names another resource by id or ARN:
/// `SubnetId`, `SecurityGroups[].GroupId`, `VpcConfig.SubnetIds[]`, lambda's `Role`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkPath {
    pub steps: Vec<Step>,
    /// The path as `links.kind` shows it: `SecurityGroups[].GroupId`.
    pub kind: String,
    /// The resource type it names, when the model's operations name it
    /// (`ec2:Subnet` for `SubnetId`, since ec2 has `DescribeSubnets`).
    pub to_type: Option<String>,
    /// It holds ARNs: only values starting with `arn:` are links.
    pub arn: bool,
}

impl LinkPath {
    /// The non-empty string values at this path of `item`.
    pub fn values<'a>(&self, item: &'a Value, out: &mut Vec<&'a str>) {
        fn walk<'a>(at: &'a Value, steps: &[Step], arn: bool, out: &mut Vec<&'a str>) {
            match steps.split_first() {
                None => {
                    if let Some(s) = at.as_str() {
                        if !s.is_empty() && (!arn || s.starts_with("arn:")) {
                            out.push(s);
                        }
                    }
                }
                Some((Step::Member(m), rest)) => {
                    if let Some(v) = at.get(m) {
                        walk(v, rest, arn, out);
                    }
                }
                Some((Step::Each, rest)) => {
                    for v in at.as_array().into_iter().flatten() {
                        walk(v, rest, arn, out);
                    }
                }
            }
        }
        walk(item, &self.steps, self.arn, out);
    }
}

/// One output list of an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFacts {
    /// The output member (`Reservations`), or a dotted path (`DistributionList.Items`).
    pub path: String,
    /// Its elements.
    pub element: ItemFacts,
    /// When the elements are wrappers: the member holding the real resources and
    /// their facts (`Instances`, `ec2:Instance`).
    pub inner: Option<(String, ItemFacts)>,
}

impl ListFacts {
    /// The facts of the resources this list gives.
    pub fn resource(&self) -> &ItemFacts {
        self.inner.as_ref().map_or(&self.element, |(_, f)| f)
    }
}

/// The resource lists of one operation's output: the list its paginator names (or its
/// only list) first, then the other top-level lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperationFacts {
    pub lists: Vec<ListFacts>,
    /// Whether the first list is the one the model designates (paginator result key or
    /// the only list); when it is, the other lists are not resources.
    pub designated: bool,
    /// An output without lists whose one structure member is the resource
    /// (organizations `DescribeOrganization`: `Organization`).
    pub single: Option<(String, ItemFacts)>,
}

impl OperationFacts {
    /// The facts of `service`'s `operation`; empty when the model does not know it.
    pub fn for_operation(service: &str, operation: &str) -> OperationFacts {
        let Ok(model) = awsdyn::model::load(service) else {
            return OperationFacts::default();
        };
        Self::from_model(&model, operation)
    }

    /// As [`OperationFacts::for_operation`], from a loaded model.
    pub fn from_model(model: &ServiceModel, operation: &str) -> OperationFacts {
        // The model's key, which paginators use (CloudFront's `ListDistributions`,
        // whose wire name is `ListDistributions2020_05_31`).
        let Some(key) = model.operation_key(operation) else {
            return OperationFacts::default();
        };
        let op = &model.operations[key];
        let Some(output) = op.output.as_ref() else {
            return OperationFacts::default();
        };
        let op_noun = singular(verbless(key)).to_ascii_lowercase();
        let mut out = OperationFacts::default();
        if let Some((path, member, element)) = items(model, key, op) {
            out.designated = true;
            out.lists.push(list_facts(
                model,
                &op_noun,
                path,
                &member,
                model.shape(element),
            ));
        }
        let structures: Vec<(&String, &Shape)> = model
            .shape(output.target)
            .members
            .iter()
            .map(|(m, r)| (m, model.shape(r.target)))
            .filter(|(_, t)| t.kind == ShapeType::Structure)
            .collect();
        for (member, r) in &model.shape(output.target).members {
            let target = model.shape(r.target);
            if target.kind != ShapeType::List || out.lists.iter().any(|l| l.path == *member) {
                continue;
            }
            if let Some(e) = &target.member {
                let facts = list_facts(
                    model,
                    &op_noun,
                    member.clone(),
                    member,
                    model.shape(e.target),
                );
                out.lists.push(facts);
            }
        }
        if let ([(member, shape)], true) = (structures.as_slice(), out.lists.is_empty()) {
            out.single = Some(((*member).clone(), item_facts(model, member, shape)));
        }
        out
    }
}

/// `DescribeInstances` → `Instances`.
fn verbless(op: &str) -> &str {
    ["List", "Describe", "Get"]
        .iter()
        .find_map(|v| op.strip_prefix(v).filter(|r| !r.is_empty()))
        .unwrap_or(op)
}

fn list_facts(
    model: &ServiceModel,
    op_noun: &str,
    path: String,
    member: &str,
    element: &Shape,
) -> ListFacts {
    let facts = item_facts(model, member, element);
    let inner = wrapped(model, op_noun, element, &facts);
    ListFacts {
        path,
        element: facts,
        inner,
    }
}

/// Whether the shape noun `n` is what the operation lists (`instance` for
/// DescribeInstances; also `dbinstance` ends with `instance`).
fn names_operation(op_noun: &str, shape: &str) -> bool {
    let n = noun(shape).to_ascii_lowercase();
    !n.is_empty() && (op_noun == n || op_noun.ends_with(&n) && n.len() >= 4)
}

/// The flattening rule: a list element structure is a wrapper when, among its members
/// that are lists of structures, either exactly one has elements that the operation
/// names while the wrapper is not named by it (`Reservation` → `Instances` for
/// `DescribeInstances`, beside `Groups`), or the wrapper has no identifier of its own
/// and its only list of structures has elements with one.
fn wrapped(
    model: &ServiceModel,
    op_noun: &str,
    element: &Shape,
    facts: &ItemFacts,
) -> Option<(String, ItemFacts)> {
    if element.kind != ShapeType::Structure {
        return None;
    }
    let lists: Vec<(&String, &Shape)> = element
        .members
        .iter()
        .filter_map(|(m, r)| {
            let t = model.shape(r.target);
            let e = model.shape(t.member.as_ref()?.target);
            (t.kind == ShapeType::List && e.kind == ShapeType::Structure).then_some((m, e))
        })
        .collect();
    if !names_operation(op_noun, &element.name) {
        let named: Vec<_> = lists
            .iter()
            .filter(|(_, e)| names_operation(op_noun, &e.name))
            .collect();
        if let [(member, inner)] = named.as_slice() {
            return Some(((*member).clone(), item_facts(model, member, inner)));
        }
    }
    let [(member, inner)] = lists.as_slice() else {
        return None;
    };
    let inner_facts = item_facts(model, member, inner);
    (!has_identifier(element, facts) && has_identifier(inner, &inner_facts))
        .then(|| ((*member).clone(), inner_facts))
}

/// Whether the structure has an identifier member of its own: `Arn`/`Id`/`Name` or
/// `<X>Arn`/`<X>Id`/`<X>Name` where `X` names it.
fn has_identifier(shape: &Shape, facts: &ItemFacts) -> bool {
    facts.arn.is_some()
        || facts.name.is_some()
        || shape
            .members
            .keys()
            .any(|m| own_member(m, "Id", &shape.name))
}

/// `m` is `<suffix>` or `<X><suffix>` with `X` naming `shape` (equal, its prefix or
/// its suffix, any case).
fn own_member(m: &str, suffix: &str, shape: &str) -> bool {
    let (m, suffix, shape) = (
        m.to_ascii_lowercase(),
        suffix.to_ascii_lowercase(),
        shape.to_ascii_lowercase(),
    );
    if m == suffix {
        return true;
    }
    m.strip_suffix(&suffix)
        .filter(|x| !x.is_empty())
        .is_some_and(|x| shape == x || shape.starts_with(x) || shape.ends_with(x))
}

/// The best `<suffix>` member naming the shape: the bare one, else the one whose `X`
/// is the shape's name, else its end (`AlarmName` of `MetricAlarm`, not `MetricName`),
/// else its start; the longest `X` first.
fn own(shape: &Shape, model: &ServiceModel, suffix: &str) -> Option<String> {
    let strings = |m: &&String| model.shape(shape.members[*m].target).kind == ShapeType::String;
    let bare = shape
        .members
        .keys()
        .filter(strings)
        .find(|m| m.eq_ignore_ascii_case(suffix));
    if let Some(m) = bare {
        return Some(m.clone());
    }
    shape
        .members
        .keys()
        .filter(strings)
        .filter(|m| own_member(m, suffix, &shape.name))
        .max_by_key(|m| {
            let x = m[..m.len() - suffix.len()].to_ascii_lowercase();
            let s = shape.name.to_ascii_lowercase();
            (x == s, s.ends_with(&x), x.len())
        })
        .cloned()
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

fn item_facts(model: &ServiceModel, list_member: &str, shape: &Shape) -> ItemFacts {
    let service = &model.name;
    if shape.kind != ShapeType::Structure {
        // `TableNames` → `Table`; `QueueUrls` → `Queue`; `clusters` → `Cluster`.
        let one = singular(list_member);
        let kind = IDENTIFIERS.into_iter().find(|i| {
            one.len() > i.len() && one.to_ascii_lowercase().ends_with(&i.to_ascii_lowercase())
        });
        let base = kind.map_or(one.as_str(), |i| &one[..one.len() - i.len()]);
        return ItemFacts {
            shape: shape.name.clone(),
            resource_type: format!("{service}:{}", capitalized(base)),
            scalar: true,
            scalar_kind: kind,
            arn: None,
            id: None,
            other_arns: Vec::new(),
            name: None,
            created: None,
            region: None,
            tags: None,
            members: HashSet::new(),
            links: Vec::new(),
        };
    }
    let arn = own(shape, model, "Arn");
    let other_arns = shape
        .members
        .iter()
        .filter(|(m, r)| {
            m.to_ascii_lowercase().ends_with("arn")
                && Some(*m) != arn.as_ref()
                && model.shape(r.target).kind == ShapeType::String
        })
        .map(|(m, _)| m.clone())
        .collect();
    let created = shape
        .members
        .iter()
        .filter(|(_, r)| model.shape(r.target).kind == ShapeType::Timestamp)
        .map(|(m, _)| m)
        .find(|m| {
            let l = m.to_ascii_lowercase();
            CREATED_WORDS.iter().any(|w| l.contains(w))
        })
        .cloned();
    ItemFacts {
        shape: shape.name.clone(),
        resource_type: format!("{service}:{}", capitalized(noun(&shape.name))),
        scalar: false,
        scalar_kind: None,
        arn,
        id: own(shape, model, "Id"),
        other_arns,
        // `DBInstanceIdentifier` names an RDS instance; its `DBName` is a database in it.
        name: own(shape, model, "Identifier").or_else(|| own(shape, model, "Name")),
        created,
        region: own(shape, model, "Region"),
        tags: tag_form(model, shape),
        members: shape.members.keys().cloned().collect(),
        links: link_paths(model, shape, LINK_DEPTH),
    }
}

/// How deep [`link_paths`] looks into nested structures.
const LINK_DEPTH: usize = 3;

/// The nouns `service`'s operations list, describe or get (`subnet` for
/// `DescribeSubnets`), lower case: what an `<X>Id` member may name.
fn operation_nouns(model: &ServiceModel) -> HashSet<String> {
    model
        .operations
        .keys()
        .filter(|k| ["List", "Describe", "Get"].iter().any(|v| k.starts_with(v)))
        .map(|k| singular(verbless(k)).to_ascii_lowercase())
        .collect()
}

/// The members of `shape` (and of its structures, lists of structures, `depth` levels
/// down) that name another resource: string (or list of string) members named `<X>Id`,
/// `<X>Ids`, `<X>Arn`, `<X>Arns` or typed as an ARN (lambda's `Role`, a `RoleArn`),
/// other than a structure's own identifier (`SubnetId` of a `Subnet`, `VolumeId` of a
/// `VolumeAttachment`). An `<X>Id` is kept only when `X` (or, for a bare `Id`, the
/// member holding it: `SecurityGroups[].GroupId` names a `SecurityGroup`) is a noun the
/// service's operations name; an ARN member always (the ARN tells what it names).
pub fn link_paths(model: &ServiceModel, shape: &Shape, depth: usize) -> Vec<LinkPath> {
    walk_links(model, shape, depth, false)
}

/// As [`link_paths`], for a detail operation's `output`: its structures one level
/// down are the resource itself (`Table` of dynamodb `DescribeTable`), so their own
/// identifiers (`Table.TableArn`, `Role.RoleId`) are not links either.
pub fn detail_link_paths(model: &ServiceModel, output: &Shape, depth: usize) -> Vec<LinkPath> {
    walk_links(model, output, depth, true)
}

fn walk_links(model: &ServiceModel, shape: &Shape, depth: usize, detail: bool) -> Vec<LinkPath> {
    let nouns = operation_nouns(model);
    let mut out = Vec::new();
    let mut at = Walk {
        model,
        nouns: &nouns,
        out: &mut out,
        detail,
    };
    at.structure(shape, &mut Vec::new(), None, depth);
    out
}

struct Walk<'a> {
    model: &'a ServiceModel,
    nouns: &'a HashSet<String>,
    out: &'a mut Vec<LinkPath>,
    /// The shape is a detail's output (see [`detail_link_paths`]).
    detail: bool,
}

impl Walk<'_> {
    fn structure(
        &mut self,
        shape: &Shape,
        steps: &mut Vec<Step>,
        holder: Option<&str>,
        depth: usize,
    ) {
        for (m, r) in &shape.members {
            let t = self.model.shape(r.target);
            steps.push(Step::Member(m.clone()));
            match t.kind {
                ShapeType::String => self.member(shape, m, &t.name, steps, holder),
                ShapeType::List => {
                    if let Some(e) = t.member.as_ref().map(|e| self.model.shape(e.target)) {
                        steps.push(Step::Each);
                        match e.kind {
                            ShapeType::String => self.member(shape, m, &e.name, steps, holder),
                            ShapeType::Structure if depth > 0 => {
                                self.structure(e, steps, Some(&singular(m)), depth - 1)
                            }
                            _ => {}
                        }
                        steps.pop();
                    }
                }
                ShapeType::Structure if depth > 0 => self.structure(t, steps, Some(m), depth - 1),
                _ => {}
            }
            steps.pop();
        }
    }

    /// A string member `m` of `shape`, of the string shape `typed`, under `holder`.
    fn member(
        &mut self,
        shape: &Shape,
        m: &str,
        typed: &str,
        steps: &[Step],
        holder: Option<&str>,
    ) {
        let lower = m.to_ascii_lowercase();
        let cut = |suffixes: &[&str]| {
            suffixes
                .iter()
                .find(|s| lower.ends_with(*s))
                .map(|s| &m[..m.len() - s.len()])
        };
        let (base, arn) = match (cut(&["arns", "arn"]), cut(&["ids", "id"])) {
            (Some(b), _) => (b, true),
            (None, Some(b)) => (b, false),
            (None, None) if typed.to_ascii_lowercase().ends_with("arn") => (m, true),
            (None, None) => return,
        };
        // The resource's own identifier is not a link; a nested structure's is (the
        // `Arn` of a function's `Layers[]`), and one naming the resource itself again
        // (a volume's `Attachments[].VolumeId`) resolves to it and is dropped then.
        let resource_level =
            holder.is_none() || self.detail && matches!(steps, [Step::Member(_), Step::Member(_)]);
        let own = resource_level
            && ["Arn", "Id", "Arns", "Ids"]
                .iter()
                .any(|s| own_member(m, s, &shape.name));
        if own {
            return;
        }
        // What it names: `X` of `<X>Id`, else the structure holding it when that
        // ends with `X` (`SecurityGroups[].GroupId`) or `X` is empty (`Layers[].Arn`);
        // a noun of the service's own operations first, then `link_types.json`
        // (where an empty type says the noun is not a resource: availability zones).
        let holder =
            holder.filter(|h| h.to_ascii_lowercase().ends_with(&base.to_ascii_lowercase()));
        let candidates = [Some(base), holder];
        let own_service = candidates
            .into_iter()
            .flatten()
            .find(|n| !n.is_empty() && self.nouns.contains(&n.to_ascii_lowercase()))
            .map(|n| format!("{}:{}", self.model.name, capitalized(n)));
        let curated = || {
            candidates
                .into_iter()
                .flatten()
                .find_map(|n| super::link_type(&n.to_ascii_lowercase()))
        };
        let to = match own_service {
            Some(t) => match curated() {
                Some("") => return,
                _ => Some(t),
            },
            None => match curated() {
                Some("") => return,
                Some(t) => Some(t.to_string()),
                None if arn => None,
                None => return,
            },
        };
        let mut kind = String::new();
        for s in steps {
            match s {
                Step::Member(x) if kind.is_empty() => kind.push_str(x),
                Step::Member(x) => {
                    kind.push('.');
                    kind.push_str(x);
                }
                Step::Each => kind.push_str("[]"),
            }
        }
        self.out.push(LinkPath {
            steps: steps.to_vec(),
            kind,
            to_type: to,
            arn,
        });
    }
}

/// The tags member and its form: a list of structures with a key and a value member
/// (`Key`/`Value`, `key`/`value`, `TagKey`/`TagValue`), or a map of strings.
fn tag_form(model: &ServiceModel, shape: &Shape) -> Option<TagForm> {
    for (member, r) in &shape.members {
        if !TAG_MEMBERS.contains(&member.to_ascii_lowercase().as_str()) {
            continue;
        }
        let t = model.shape(r.target);
        match t.kind {
            ShapeType::Map => {
                return Some(TagForm::Map {
                    member: member.clone(),
                })
            }
            ShapeType::List => {
                let e = model.shape(t.member.as_ref()?.target);
                let find = |word: &str| {
                    e.members
                        .keys()
                        .find(|m| {
                            let l = m.to_ascii_lowercase();
                            l == word || l == format!("tag{word}")
                        })
                        .cloned()
                };
                if let (Some(key), Some(value)) = (find("key"), find("value")) {
                    return Some(TagForm::List {
                        member: member.clone(),
                        key,
                        value,
                    });
                }
            }
            _ => {}
        }
    }
    None
}
