//! Graphviz DOT: a `digraph` with the organization, roots and OUs at the top level,
//! one `subgraph cluster_<account id>` per account holding the account and its
//! resources, then the edges (links labelled with their kind, `contains` dashed and
//! grey). Every id and value is a double-quoted string: `\` and `"` escaped, newlines
//! as `\n`, other control characters as U+FFFD; every attribute of the node is kept
//! as a DOT attribute of the same name (`arn`, `tags` as JSON text...), so tools that
//! read DOT (pydot, networkx) see them. The label is the name, then the type, then
//! the region. Not for layout choices beyond these defaults: `dot -Grankdir=TB`
//! overrides them.

use std::io::Write;

use anyhow::Result;

use super::{Edge, GraphWriter, Node};

/// Writes DOT to `W`.
pub struct DotWriter<W: Write> {
    out: W,
    in_cluster: bool,
}

impl<W: Write> DotWriter<W> {
    pub fn new(out: W) -> Self {
        DotWriter {
            out,
            in_cluster: false,
        }
    }
}

/// `s` as a DOT double-quoted string.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A node's shape and fill by kind.
fn style(kind: &str) -> &'static str {
    match kind {
        "organization" => "shape=house, style=filled, fillcolor=\"#f4d58d\"",
        "root" => "shape=invhouse, style=filled, fillcolor=\"#f4d58d\"",
        "ou" => "shape=folder, style=filled, fillcolor=\"#fbe9b7\"",
        "account" => "shape=box3d, style=filled, fillcolor=\"#cfe3f7\"",
        _ => "shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\"",
    }
}

impl<W: Write> GraphWriter for DotWriter<W> {
    fn begin(&mut self) -> Result<()> {
        writeln!(
            self.out,
            "digraph \"census\" {{\n  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=11];\n  node [fontname=\"Helvetica\", fontsize=9];\n  edge [fontname=\"Helvetica\", fontsize=8];"
        )?;
        Ok(())
    }

    fn open_account(&mut self, account: &Node) -> Result<()> {
        let label = match account.label.as_str() {
            l if l == account.id => l.to_string(),
            l => format!("{l} ({})", account.id),
        };
        writeln!(
            self.out,
            "  subgraph {} {{\n    label={};\n    style=\"rounded\";\n    color=\"#7a9cc6\";",
            quote(&format!("cluster_{}", account.id)),
            quote(&label)
        )?;
        self.in_cluster = true;
        Ok(())
    }

    fn node(&mut self, node: &Node) -> Result<()> {
        let mut label = node.label.clone();
        for key in ["resource_type", "region"] {
            if let Some(v) = node.get(key) {
                label.push('\n');
                label.push_str(&v.text());
            }
        }
        let indent = if self.in_cluster { "    " } else { "  " };
        write!(
            self.out,
            "{indent}{} [label={}, {}",
            quote(&node.id),
            quote(&label),
            style(node.kind)
        )?;
        if let Some(arn) = node.get("arn") {
            write!(self.out, ", tooltip={}", quote(&arn.text()))?;
        }
        for (key, value) in node.all_props() {
            if key == "label" {
                continue;
            }
            write!(self.out, ", {key}={}", quote(&value.text()))?;
        }
        writeln!(self.out, "];")?;
        Ok(())
    }

    fn close_account(&mut self) -> Result<()> {
        writeln!(self.out, "  }}")?;
        self.in_cluster = false;
        Ok(())
    }

    fn edge(&mut self, edge: &Edge) -> Result<()> {
        write!(
            self.out,
            "  {} -> {} [id={}, kind={}",
            quote(&edge.source),
            quote(&edge.target),
            quote(&edge.id),
            quote(&edge.kind)
        )?;
        if edge.kind == "contains" {
            write!(
                self.out,
                ", style=dashed, color=\"#9a9a9a\", arrowhead=none"
            )?;
        } else {
            write!(self.out, ", label={}", quote(&edge.kind))?;
        }
        if let Some(raw) = &edge.raw {
            write!(self.out, ", raw={}", quote(raw))?;
        }
        writeln!(self.out, "];")?;
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        writeln!(self.out, "}}")?;
        self.out.flush()?;
        Ok(())
    }
}
