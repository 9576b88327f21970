//! A Cypher script for Neo4j (`cypher-shell -f graph.cypher`, or pasted in Neo4j
//! Browser), statements separated by `;`:
//! - First `CREATE CONSTRAINT census_node_id IF NOT EXISTS FOR (n:CensusNode) REQUIRE
//!   n.id IS UNIQUE` and `CREATE INDEX census_aws_tag_id IF NOT EXISTS FOR
//!   (t:AWSTag) ON (t.id)` (Neo4j 4.4 and later), so that the MERGEs find nodes by id.
//! - Nodes: `UNWIND [{id, props, tags}, ...] AS row MERGE (n:CensusNode {id: row.id})
//!   SET n += row.props, n:<labels>`, then each tag as Cartography models them: `MERGE
//!   (t:AWSTag {id: key + ':' + value})` with `key` and `value`, and
//!   `(n)-[:TAGGED]->(t)`. Labels: every node `CensusNode`; resources `AWSResource` and
//!   one from their type ([`type_label`]: `AWS::EC2::Instance` -> `EC2Instance`, else
//!   `ec2:Instance` -> `EC2Instance`), accounts `AWSAccount`, OUs
//!   `AWSOrganizationalUnit`, roots `AWSOrganizationRoot`, organizations
//!   `AWSOrganization`. Properties: the node's attributes as strings; `tags` and
//!   `unresolved` also as JSON text.
//! - Relationships: `UNWIND [{source, target, kind, raw}, ...] AS r MATCH (a:CensusNode
//!   {id: r.source}) MATCH (b:CensusNode {id: r.target}) MERGE (a)-[e:<TYPE> {kind:
//!   r.kind}]->(b) SET e.raw = r.raw`, the type from the kind ([`rel_type`]:
//!   `contains` -> `CONTAINS`, `SecurityGroups[].GroupId` ->
//!   `SECURITY_GROUPS_GROUP_ID`), the kind itself kept as `kind`.
//!
//! Rows are batched per label set and per relationship type, up to [`BATCH`] per
//! statement; MERGE makes running the script twice change nothing. Strings are
//! single-quoted with `\\`, `\'` and `\n`-style escapes (`\uXXXX` for other control
//! characters); labels and types are back-quoted. Not for running the script.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Result;

use super::{Edge, GraphWriter, Node, Prop};

/// Rows per UNWIND statement.
pub const BATCH: usize = 500;

/// Writes a Cypher script to `W`.
pub struct CypherWriter<W: Write> {
    out: W,
    /// Node rows (map literals) by label list (`:AWSResource:EC2Instance`).
    nodes: BTreeMap<String, Vec<String>>,
    /// Relationship rows by type.
    edges: BTreeMap<String, Vec<String>>,
    nodes_done: bool,
}

impl<W: Write> CypherWriter<W> {
    pub fn new(out: W) -> Self {
        CypherWriter {
            out,
            nodes: BTreeMap::new(),
            edges: BTreeMap::new(),
            nodes_done: false,
        }
    }

    fn flush_nodes(&mut self, labels: &str) -> Result<()> {
        let Some(rows) = self.nodes.get_mut(labels).filter(|r| !r.is_empty()) else {
            return Ok(());
        };
        writeln!(
            self.out,
            "UNWIND [\n{}\n] AS row\nMERGE (n:CensusNode {{id: row.id}})\nSET n += row.props, n{labels}\nWITH n, row\nUNWIND row.tags AS tag\nMERGE (t:AWSTag {{id: tag.key + ':' + tag.value}})\nSET t.key = tag.key, t.value = tag.value\nMERGE (n)-[:TAGGED]->(t);\n",
            rows.join(",\n")
        )?;
        rows.clear();
        Ok(())
    }

    fn flush_edges(&mut self, rel: &str) -> Result<()> {
        let Some(rows) = self.edges.get_mut(rel).filter(|r| !r.is_empty()) else {
            return Ok(());
        };
        writeln!(
            self.out,
            "UNWIND [\n{}\n] AS r\nMATCH (a:CensusNode {{id: r.source}})\nMATCH (b:CensusNode {{id: r.target}})\nMERGE (a)-[e:{rel} {{kind: r.kind}}]->(b)\nSET e.raw = r.raw;\n",
            rows.join(",\n")
        )?;
        rows.clear();
        Ok(())
    }

    /// Writes the nodes still held, once, before the first relationship.
    fn end_nodes(&mut self) -> Result<()> {
        if !self.nodes_done {
            let labels: Vec<String> = self.nodes.keys().cloned().collect();
            for l in labels {
                self.flush_nodes(&l)?;
            }
            self.nodes_done = true;
        }
        Ok(())
    }
}

/// `s` as a Cypher string literal.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// `name` as a back-quoted label or relationship type.
fn quoted_name(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// The label of a resource type: the CloudFormation type's service and resource
/// (`AWS::EC2::Instance` -> `EC2Instance`) when known, else the service (upper case
/// when at most 3 letters, else capitalised) and shape (`ec2:Instance` ->
/// `EC2Instance`, `lambda:FunctionConfiguration` -> `LambdaFunctionConfiguration`),
/// letters, digits and `_` only.
pub fn type_label(cfn_type: Option<&str>, resource_type: &str) -> String {
    let raw = match cfn_type.and_then(|c| c.strip_prefix("AWS::")) {
        Some(rest) => rest.replace("::", ""),
        None => {
            let (service, shape) = resource_type.split_once(':').unwrap_or(("", resource_type));
            let service = if service.len() <= 3 {
                service.to_ascii_uppercase()
            } else {
                let mut c = service.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            };
            format!("{service}{shape}")
        }
    };
    let label: String = raw
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if label.is_empty() {
        "AWSResourceOfUnknownType".to_string()
    } else {
        label
    }
}

/// The relationship type of a link kind: its words in upper case joined by `_`
/// (`SecurityGroups[].GroupId` -> `SECURITY_GROUPS_GROUP_ID`, `contains` ->
/// `CONTAINS`); `LINKS_TO` when it has no letters.
pub fn rel_type(kind: &str) -> String {
    let mut out = String::new();
    let mut prev: Option<char> = None;
    for c in kind.chars() {
        if c.is_ascii_alphanumeric() {
            let boundary = c.is_ascii_uppercase()
                && prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit());
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_uppercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
        prev = Some(c);
    }
    let out = out.trim_end_matches('_').to_string();
    if out.is_empty() {
        "LINKS_TO".to_string()
    } else {
        out
    }
}

/// The labels of a node after `CensusNode`.
fn labels(node: &Node) -> String {
    let names: Vec<String> = match node.kind {
        "resource" => {
            let cfn = node.get("cfn_type").map(|p| p.text().into_owned());
            let rt = node
                .get("resource_type")
                .map(|p| p.text().into_owned())
                .unwrap_or_default();
            vec!["AWSResource".into(), type_label(cfn.as_deref(), &rt)]
        }
        "account" => vec!["AWSAccount".into()],
        "ou" => vec!["AWSOrganizationalUnit".into()],
        "root" => vec!["AWSOrganizationRoot".into()],
        "organization" => vec!["AWSOrganization".into()],
        other => vec![type_label(None, other)],
    };
    names
        .iter()
        .map(|n| format!(":{}", quoted_name(n)))
        .collect()
}

impl<W: Write> GraphWriter for CypherWriter<W> {
    fn begin(&mut self) -> Result<()> {
        writeln!(
            self.out,
            "// The Census inventory graph: run with cypher-shell -f FILE (Neo4j 4.4 or later).\nCREATE CONSTRAINT census_node_id IF NOT EXISTS FOR (n:CensusNode) REQUIRE n.id IS UNIQUE;\nCREATE INDEX census_aws_tag_id IF NOT EXISTS FOR (t:AWSTag) ON (t.id);\n"
        )?;
        Ok(())
    }

    fn node(&mut self, node: &Node) -> Result<()> {
        let mut props = Vec::new();
        let mut tags = Vec::new();
        for (key, value) in node.all_props() {
            props.push(format!("{key}: {}", string(&value.text())));
            if let (true, Prop::Json(serde_json::Value::Object(map))) =
                (key == "tags", value.as_ref())
            {
                for (k, v) in map {
                    let v = match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    tags.push(format!("{{key: {}, value: {}}}", string(k), string(&v)));
                }
            }
        }
        let row = format!(
            "{{id: {}, props: {{{}}}, tags: [{}]}}",
            string(&node.id),
            props.join(", "),
            tags.join(", ")
        );
        let labels = labels(node);
        let rows = self.nodes.entry(labels.clone()).or_default();
        rows.push(row);
        if rows.len() >= BATCH {
            self.flush_nodes(&labels)?;
        }
        Ok(())
    }

    fn edge(&mut self, edge: &Edge) -> Result<()> {
        self.end_nodes()?;
        let rel = quoted_name(&rel_type(&edge.kind));
        let raw = edge
            .raw
            .as_deref()
            .map(string)
            .unwrap_or_else(|| "null".into());
        let row = format!(
            "{{source: {}, target: {}, kind: {}, raw: {raw}}}",
            string(&edge.source),
            string(&edge.target),
            string(&edge.kind)
        );
        let rows = self.edges.entry(rel.clone()).or_default();
        rows.push(row);
        if rows.len() >= BATCH {
            self.flush_edges(&rel)?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        self.end_nodes()?;
        let rels: Vec<String> = self.edges.keys().cloned().collect();
        for r in rels {
            self.flush_edges(&r)?;
        }
        self.out.flush()?;
        Ok(())
    }
}
