//! `census export graph`: the inventory of the scan database as a graph file, in
//! GraphML ([`graphml`]), Graphviz DOT ([`dot`]), Cytoscape.js JSON ([`cyto`]) or a
//! Cypher script for Neo4j ([`cypher`]). Not for reading the inventory as rows
//! (`census query`, `census inventory`), nor for anything that calls AWS.
//!
//! # The graph
//! Nodes, each with a `kind`:
//! - `resource`: one per `inventory` row (of `inventory_latest`, or of `--scan`). Id:
//!   the row's ARN; a row without one gets `census:<account>:<region>:<source>:<resource_id>`.
//!   Rows that share an ARN (a subnet shared through RAM and listed by both accounts,
//!   the same resource listed by two calls) are one node, whose attributes are those
//!   of the first row in (account, region, type, resource id, source) order.
//!   Attributes: `resource_type`, `cfn_type`, `service`, `account_id`,
//!   `account_name`, `region`, `name`, `arn`, `resource_id`, `source`, `created`,
//!   `scan_id`, `tags` (the `{key: value}` object) and `unresolved`: the row's links
//!   whose target the scan does not hold (`to_arn` NULL), as `[{kind, raw}]`, so that
//!   nothing of `links` is dropped.
//! - `account`: one per account (id: the 12-digit account id) of the scan's
//!   `accounts` (the latest scan's, plus the latest row of any other account that
//!   the exported rows name), and of any account that resources name but `accounts`
//!   lacks. Attributes: `name`, `status`, `partition`, `org_id`, `ou_id`, `ou_path`,
//!   `scan_status`, `tags`.
//! - `organization` (`o-...`), `root` (`r-...`) and `ou` (`ou-...`), from the
//!   accounts' `org_id`, `ou_id` and `ou_path` (`Root/Workloads/Prod`, see
//!   `discover::organization`). An account's `ou_id` names its parent; OUs above it
//!   are known by path, and take the id of another account's parent with that path,
//!   else `census:ou:<org>:<path>` (the root: `census:root:<org>`).
//!
//! Edges, each with a `kind`: `contains` from the organization to its root, from a
//! root or OU to its OUs and accounts, from an account to its resources (one per
//! account and node: a node listed by two accounts is in both); and one per row and
//! distinct (`links.kind`, `to_arn`) whose target is a node of the export, with the
//! member's value as `raw`, from the row's node. A link whose target is not a node
//! (left out by `--account` or `--type`, or not among the rows exported) is counted in
//! the summary line on standard error, not written.
//!
//! # Streaming
//! One query reads the rows in account order, each with its links grouped (unresolved
//! and resolved), and the nodes are written as they come; each row's edges go to a
//! temporary file (`$TMPDIR`), replayed once every node is out, since an edge's target
//! may come later. Accounts and the OU tree are held (a few thousand rows); what else
//! stays in memory is the set of node ids (to merge rows sharing an ARN and to know
//! which link targets are nodes), and what a format must hold: the Cypher script
//! batches up to [`cypher::BATCH`] rows per label or relationship type.
//!
//! Not for: per-format details (see each module).

pub mod cypher;
pub mod cyto;
pub mod dot;
mod files;
pub mod graphml;
mod read;
mod tree;

use files::{Spill, Target};
use tree::Tree;

use std::collections::{BTreeMap, HashSet};
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Result;
use serde_json::Value;

use crate::cli::export::{GraphFlags, GraphFormat};

/// A node attribute's value: text, or JSON (tags, unresolved links) that a format
/// writes as JSON text or as a nested value.
#[derive(Debug, Clone, PartialEq)]
pub enum Prop {
    Text(String),
    Json(Value),
}

impl Prop {
    /// The value as text: JSON values compact.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Prop::Text(s) => std::borrow::Cow::Borrowed(s),
            Prop::Json(v) => std::borrow::Cow::Owned(v.to_string()),
        }
    }
}

/// Every node attribute, in the order formats declare and write them.
pub const NODE_KEYS: &[&str] = &[
    "kind",
    "label",
    "resource_type",
    "cfn_type",
    "service",
    "account_id",
    "account_name",
    "region",
    "name",
    "arn",
    "resource_id",
    "source",
    "created",
    "scan_id",
    "status",
    "partition",
    "org_id",
    "management_account_id",
    "ou_id",
    "ou_path",
    "path",
    "scan_status",
    "tags",
    "unresolved",
];

/// Every edge attribute.
pub const EDGE_KEYS: &[&str] = &["kind", "raw"];

/// A node: its id, its `kind` (`resource`, `account`, `ou`, `root`, `organization`),
/// a label for people, and its attributes (keys from [`NODE_KEYS`], absent when
/// unknown).
#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    pub kind: &'static str,
    pub label: String,
    pub props: Vec<(&'static str, Prop)>,
}

impl Node {
    /// The attribute `key`, if the node has it.
    pub fn get(&self, key: &str) -> Option<&Prop> {
        self.props.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// All attributes, `kind` and `label` first.
    pub fn all_props(&self) -> impl Iterator<Item = (&'static str, std::borrow::Cow<'_, Prop>)> {
        use std::borrow::Cow;
        [
            ("kind", Cow::Owned(Prop::Text(self.kind.to_string()))),
            ("label", Cow::Owned(Prop::Text(self.label.clone()))),
        ]
        .into_iter()
        .chain(self.props.iter().map(|(k, v)| (*k, Cow::Borrowed(v))))
    }
}

/// An edge: `kind` is `contains` or the link's member path; `raw` the link's value.
#[derive(Debug, Clone)]
pub struct Edge {
    pub id: String,
    pub source: String,
    pub target: String,
    pub kind: String,
    pub raw: Option<String>,
}

/// A graph file format's writer. The driver calls [`begin`](GraphWriter::begin), then
/// [`node`](GraphWriter::node) for every node (between
/// [`open_account`](GraphWriter::open_account) and
/// [`close_account`](GraphWriter::close_account) for an account and its resources),
/// then [`edge`](GraphWriter::edge) for every edge, then
/// [`finish`](GraphWriter::finish). Every edge's ends were given as nodes before.
pub trait GraphWriter {
    fn begin(&mut self) -> Result<()>;
    fn open_account(&mut self, _account: &Node) -> Result<()> {
        Ok(())
    }
    fn node(&mut self, node: &Node) -> Result<()>;
    fn close_account(&mut self) -> Result<()> {
        Ok(())
    }
    fn edge(&mut self, edge: &Edge) -> Result<()>;
    fn finish(&mut self) -> Result<()>;
}

/// What was written, for the summary line.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    pub resources: u64,
    pub merged: u64,
    pub accounts: u64,
    pub org_nodes: u64,
    pub links: u64,
    pub contains: u64,
    pub unresolved: u64,
    pub outside: u64,
}

/// An `accounts` row.
#[derive(Debug, Clone, Default)]
pub(crate) struct AccountRow {
    pub id: String,
    pub name: Option<String>,
    pub status: Option<String>,
    pub partition: Option<String>,
    pub org_id: Option<String>,
    pub management_account_id: Option<String>,
    pub ou_id: Option<String>,
    pub ou_path: Option<String>,
    pub scan_status: Option<String>,
    pub tags: Option<String>,
}

/// An inventory row with its unresolved links (JSON text of `[{kind, raw}]`).
#[derive(Debug, Clone, Default)]
pub(crate) struct ResourceRow {
    pub scan_id: String,
    pub account_id: String,
    pub account_name: Option<String>,
    pub region: String,
    pub service: String,
    pub resource_type: String,
    pub cfn_type: Option<String>,
    pub resource_id: String,
    pub arn: Option<String>,
    pub name: Option<String>,
    pub created: Option<String>,
    pub tags: Option<String>,
    pub source: String,
    pub unresolved: Option<String>,
    /// Resolved links, JSON text of `[{kind, to_arn, raw}]`.
    pub links: Option<String>,
}

/// A resource row's node id: its ARN, else the synthetic id.
pub fn node_id(
    arn: Option<&str>,
    account: &str,
    region: &str,
    source: &str,
    resource_id: &str,
) -> String {
    match arn.filter(|a| !a.is_empty()) {
        Some(a) => a.to_string(),
        None => format!("census:{account}:{region}:{source}:{resource_id}"),
    }
}

/// A resource id for a label: an ARN's resource part without its type
/// (`arn:aws:ec2:...:subnet/subnet-1` -> `subnet-1`, `...:function:worker` -> `worker`),
/// any other id as it is.
pub fn short_id(id: &str) -> &str {
    if !id.starts_with("arn:") {
        return id;
    }
    let Some(resource) = id.splitn(6, ':').nth(5) else {
        return id;
    };
    match resource.find(['/', ':']) {
        Some(i) if i + 1 < resource.len() => &resource[i + 1..],
        _ => resource,
    }
}

/// JSON text from the store as a value (the text itself when it is not JSON).
fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// Tags as an object with its keys in order, whatever order the store kept them in
/// (PostgreSQL's `jsonb` has its own), so both stores export the same bytes.
fn tags_prop(text: Option<&str>) -> Prop {
    let value = match text.map(json) {
        Some(Value::Object(map)) => {
            let sorted: BTreeMap<String, Value> = map.into_iter().collect();
            Value::Object(sorted.into_iter().collect())
        }
        Some(other) => other,
        None => Value::Object(Default::default()),
    };
    Prop::Json(value)
}

/// Unresolved links as `[{kind, raw}]`, each object's members in that order.
fn unresolved_prop(text: &str) -> Prop {
    let value = match json(text) {
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|i| {
                    serde_json::json!({
                        "kind": i.get("kind").cloned().unwrap_or(Value::Null),
                        "raw": i.get("raw").cloned().unwrap_or(Value::Null),
                    })
                })
                .collect(),
        ),
        other => other,
    };
    Prop::Json(value)
}

fn text(props: &mut Vec<(&'static str, Prop)>, key: &'static str, v: Option<&str>) {
    if let Some(v) = v {
        props.push((key, Prop::Text(v.to_string())));
    }
}

impl ResourceRow {
    pub(crate) fn node_id(&self) -> String {
        node_id(
            self.arn.as_deref(),
            &self.account_id,
            &self.region,
            &self.source,
            &self.resource_id,
        )
    }

    fn node(&self, id: String) -> Node {
        let mut p = Vec::with_capacity(16);
        text(&mut p, "resource_type", Some(&self.resource_type));
        text(&mut p, "cfn_type", self.cfn_type.as_deref());
        text(&mut p, "service", Some(&self.service));
        text(&mut p, "account_id", Some(&self.account_id));
        text(&mut p, "account_name", self.account_name.as_deref());
        text(&mut p, "region", Some(&self.region));
        text(&mut p, "name", self.name.as_deref());
        text(&mut p, "arn", self.arn.as_deref());
        text(&mut p, "resource_id", Some(&self.resource_id));
        text(&mut p, "source", Some(&self.source));
        text(&mut p, "created", self.created.as_deref());
        text(&mut p, "scan_id", Some(&self.scan_id));
        p.push(("tags", tags_prop(self.tags.as_deref())));
        if let Some(u) = &self.unresolved {
            p.push(("unresolved", unresolved_prop(u)));
        }
        Node {
            id,
            kind: "resource",
            label: self
                .name
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| short_id(&self.resource_id).to_string()),
            props: p,
        }
    }
}

impl AccountRow {
    fn node(&self) -> Node {
        let mut p = Vec::with_capacity(10);
        text(&mut p, "account_id", Some(&self.id));
        text(&mut p, "name", self.name.as_deref());
        text(&mut p, "status", self.status.as_deref());
        text(&mut p, "partition", self.partition.as_deref());
        text(&mut p, "org_id", self.org_id.as_deref());
        text(
            &mut p,
            "management_account_id",
            self.management_account_id.as_deref(),
        );
        text(&mut p, "ou_id", self.ou_id.as_deref());
        text(&mut p, "ou_path", self.ou_path.as_deref());
        text(&mut p, "scan_status", self.scan_status.as_deref());
        p.push(("tags", tags_prop(self.tags.as_deref())));
        Node {
            id: self.id.clone(),
            kind: "account",
            label: self.name.clone().unwrap_or_else(|| self.id.clone()),
            props: p,
        }
    }
}

/// Which rows: the scan (`None`: the latest rows), account ids, resource types (as
/// `census inventory --type` takes them: `ec2:Instance`, `AWS::EC2::Instance`, `ec2`,
/// `AWS::EC2::*`, any case).
#[derive(Debug, Clone, Default)]
pub(crate) struct Selection {
    pub scan: Option<String>,
    pub accounts: Vec<String>,
    pub types: Vec<crate::commands::inventory::filter::TypeSpec>,
}

/// Runs `census export graph`: reads the store, writes the file (or standard output),
/// and tells on `err` what was written.
pub fn run(args: &GraphFlags, mut err: impl Write) -> Result<()> {
    let to_stdout = args.output.as_deref().is_none_or(|p| p == Path::new("-"));
    // The output's folder first: a typo there should not wait for the whole read.
    let target = match &args.output {
        Some(path) if !to_stdout => Some(Target::create(path)?),
        _ => None,
    };
    let mut store = read::Store::open(args)?;
    let result = (|| -> Result<Counts> {
        match target.as_ref() {
            Some(t) => {
                let out = BufWriter::with_capacity(1 << 16, t.file()?);
                let counts = export(&mut store, args, out)?;
                Ok(counts)
            }
            None => export(
                &mut store,
                args,
                BufWriter::with_capacity(1 << 16, std::io::stdout().lock()),
            ),
        }
    })();
    let counts = match result {
        Ok(c) => c,
        Err(e) => {
            if let Some(t) = &target {
                t.discard();
            }
            return Err(e);
        }
    };
    let shown = match &target {
        Some(t) => {
            t.commit()?;
            t.path.display().to_string()
        }
        None => "standard output".to_string(),
    };
    let mut line = format!(
        "census export graph: {} nodes ({} resources, {} accounts, {} organization/root/OU) and {} edges ({} links, {} contains) to {shown}",
        counts.resources + counts.accounts + counts.org_nodes,
        counts.resources,
        counts.accounts,
        counts.org_nodes,
        counts.links + counts.contains,
        counts.links,
        counts.contains,
    );
    if counts.unresolved > 0 {
        line.push_str(&format!(
            "; {} links to nothing in the scan kept as `unresolved` on their resources",
            counts.unresolved
        ));
    }
    if counts.merged > 0 {
        line.push_str(&format!(
            "; {} rows shared an ARN with another row and were merged into its node",
            counts.merged
        ));
    }
    if counts.outside > 0 {
        line.push_str(&format!(
            "; {} links point at resources that are not in the export (left out by --account/--type, or not among the rows exported) and were left out",
            counts.outside
        ));
    }
    writeln!(err, "{line}")?;
    Ok(())
}

/// Reads the graph from `store` and writes it to `out` in the format asked for.
fn export(store: &mut read::Store, args: &GraphFlags, out: impl Write) -> Result<Counts> {
    let mut writer: Box<dyn GraphWriter + '_> = match args.format {
        GraphFormat::Graphml => Box::new(graphml::GraphmlWriter::new(out)),
        GraphFormat::Dot => Box::new(dot::DotWriter::new(out)),
        GraphFormat::Json => Box::new(cyto::CytoWriter::new(out)),
        GraphFormat::Cypher => Box::new(cypher::CypherWriter::new(out)),
    };
    let selection = store.selection(args)?;
    let counts = write_graph(store, &selection, writer.as_mut())?;
    Ok(counts)
}

/// One pass over the rows: the nodes (the tree, then each account with its resources)
/// are written as they come, and each row's edges (its account's `contains`, its
/// resolved links) go to a spill file; then the tree's edges, then the spilled edges,
/// those whose target is a node.
pub(crate) fn write_graph(
    store: &mut read::Store,
    selection: &Selection,
    w: &mut dyn GraphWriter,
) -> Result<Counts> {
    let mut counts = Counts::default();
    let accounts = store.accounts(selection)?;
    let tree = Tree::build(&accounts);
    w.begin()?;
    for n in &tree.nodes {
        w.node(n)?;
    }
    counts.org_nodes = tree.nodes.len() as u64;

    let mut spill = Spill::create()?;
    let mut nodes: HashSet<String> = tree.nodes.iter().map(|n| n.id.clone()).collect();
    // Accounts in id order, each followed by its resources (the rows come in account
    // order too); an account that `accounts` lacks gets a node made from its rows.
    let mut pending = accounts.iter().peekable();
    let mut open: Option<String> = None;
    // The nodes the open account contains already (a node listed twice by one
    // account is contained once).
    let mut contained: HashSet<String> = HashSet::new();
    let write_account =
        |w: &mut dyn GraphWriter, node: Node, nodes: &mut HashSet<String>, counts: &mut Counts| {
            w.open_account(&node)?;
            w.node(&node)?;
            nodes.insert(node.id.clone());
            counts.accounts += 1;
            anyhow::Ok(())
        };
    store.resources(selection, &mut |row: ResourceRow| {
        if !selection.types.is_empty()
            && !selection
                .types
                .iter()
                .any(|t| t.matches(&row.resource_type, row.cfn_type.as_deref()))
        {
            return Ok(());
        }
        if open.as_deref() != Some(row.account_id.as_str()) {
            if open.take().is_some() {
                w.close_account()?;
            }
            while let Some(a) = pending.next_if(|a| a.id < row.account_id) {
                write_account(w, a.node(), &mut nodes, &mut counts)?;
                w.close_account()?;
            }
            let node = match pending.next_if(|a| a.id == row.account_id) {
                Some(a) => a.node(),
                None => AccountRow {
                    id: row.account_id.clone(),
                    name: row.account_name.clone(),
                    ..Default::default()
                }
                .node(),
            };
            write_account(w, node, &mut nodes, &mut counts)?;
            open = Some(row.account_id.clone());
            contained.clear();
        }
        let id = row.node_id();
        if contained.insert(id.clone()) {
            spill.edge(&row.account_id, "contains", None, &id)?;
        }
        if let Some(links) = row.links.as_deref().map(json) {
            // Sorted by kind and target: the same target by two raw values (an id and
            // an ARN) is one edge.
            let mut last: Option<(&str, &str)> = None;
            for l in links.as_array().into_iter().flatten() {
                let (Some(kind), Some(to)) = (l["kind"].as_str(), l["to_arn"].as_str()) else {
                    continue;
                };
                if last != Some((kind, to)) {
                    spill.edge(&id, kind, l["raw"].as_str(), to)?;
                    last = Some((kind, to));
                }
            }
        }
        if nodes.contains(&id) {
            counts.merged += 1;
            return Ok(());
        }
        if let Some(u) = row.unresolved.as_deref().map(json) {
            counts.unresolved += u.as_array().map_or(0, |a| a.len() as u64);
        }
        w.node(&row.node(id.clone()))?;
        nodes.insert(id);
        counts.resources += 1;
        Ok(())
    })?;
    if open.is_some() {
        w.close_account()?;
    }
    for a in pending {
        write_account(w, a.node(), &mut nodes, &mut counts)?;
        w.close_account()?;
    }

    let mut edge_no: u64 = 0;
    let mut write_edge = |w: &mut dyn GraphWriter,
                          source: String,
                          target: String,
                          kind: String,
                          raw: Option<String>| {
        edge_no += 1;
        w.edge(&Edge {
            id: format!("e{edge_no}"),
            source,
            target,
            kind,
            raw,
        })
    };
    for (parent, child) in &tree.contains {
        if nodes.contains(child) {
            write_edge(w, parent.clone(), child.clone(), "contains".into(), None)?;
            counts.contains += 1;
        }
    }
    spill.replay(&mut |source, kind, raw, target| {
        if kind == "contains" {
            counts.contains += 1;
        } else if nodes.contains(&target) {
            counts.links += 1;
        } else {
            counts.outside += 1;
            return Ok(());
        }
        write_edge(w, source, target, kind, raw)
    })?;
    w.finish()?;
    Ok(counts)
}

#[cfg(test)]
mod tests;
