//! Cytoscape.js elements JSON: `{"elements": {"nodes": [{"data": {"id", "kind",
//! "label", ...}}], "edges": [{"data": {"id", "source", "target", "kind", "raw"}}]}}`,
//! ready for `cytoscape({elements: file.elements})` or Cytoscape desktop's JSON import.
//! `tags` is an object and `unresolved` a list, as they are; every other attribute a
//! string. Written element by element, nodes then edges. Not for styles or layouts.

use std::io::Write;

use anyhow::Result;
use serde_json::{Map, Value};

use super::{Edge, GraphWriter, Node, Prop};

/// Writes Cytoscape.js JSON to `W`.
pub struct CytoWriter<W: Write> {
    out: W,
    nodes: u64,
    edges: u64,
}

impl<W: Write> CytoWriter<W> {
    pub fn new(out: W) -> Self {
        CytoWriter {
            out,
            nodes: 0,
            edges: 0,
        }
    }
}

impl<W: Write> GraphWriter for CytoWriter<W> {
    fn begin(&mut self) -> Result<()> {
        self.out.write_all(b"{\"elements\": {\"nodes\": [")?;
        Ok(())
    }

    fn node(&mut self, node: &Node) -> Result<()> {
        let mut data = Map::new();
        data.insert("id".into(), Value::String(node.id.clone()));
        for (key, value) in node.all_props() {
            let v = match value.as_ref() {
                Prop::Text(s) => Value::String(s.clone()),
                Prop::Json(v) => v.clone(),
            };
            data.insert(key.into(), v);
        }
        self.out
            .write_all(if self.nodes == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut self.out, &serde_json::json!({ "data": data }))?;
        self.nodes += 1;
        Ok(())
    }

    fn edge(&mut self, edge: &Edge) -> Result<()> {
        if self.edges == 0 {
            self.out.write_all(b"\n], \"edges\": [\n")?;
        } else {
            self.out.write_all(b",\n")?;
        }
        let mut data = Map::new();
        data.insert("id".into(), Value::String(edge.id.clone()));
        data.insert("source".into(), Value::String(edge.source.clone()));
        data.insert("target".into(), Value::String(edge.target.clone()));
        data.insert("kind".into(), Value::String(edge.kind.clone()));
        if let Some(raw) = &edge.raw {
            data.insert("raw".into(), Value::String(raw.clone()));
        }
        serde_json::to_writer(&mut self.out, &serde_json::json!({ "data": data }))?;
        self.edges += 1;
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        if self.edges == 0 {
            self.out.write_all(b"\n], \"edges\": [")?;
        }
        self.out.write_all(b"\n]}}\n")?;
        self.out.flush()?;
        Ok(())
    }
}
