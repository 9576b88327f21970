//! GraphML (<http://graphml.graphdrawing.org/>) for Gephi, yEd, networkx and igraph:
//! one `<key>` per attribute of [`NODE_KEYS`] and [`EDGE_KEYS`], every one
//! `attr.type="string"` (ids `n_<name>` and `e_<name>`), a directed `<graph>`, nodes
//! then edges, written with quick-xml as they come. JSON attributes (`tags`,
//! `unresolved`) are JSON text. Characters XML 1.0 cannot hold (control characters
//! other than tab, newline and carriage return, lone surrogates cannot occur in Rust
//! strings) are written as U+FFFD. Not for reading GraphML.

use std::io::Write;

use anyhow::Result;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use super::{Edge, GraphWriter, Node, EDGE_KEYS, NODE_KEYS};

const NS: &str = "http://graphml.graphdrawing.org/xmlns";
const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
const SCHEMA: &str =
    "http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd";

/// Writes GraphML to `W`.
pub struct GraphmlWriter<W: Write> {
    xml: Writer<W>,
}

impl<W: Write> GraphmlWriter<W> {
    pub fn new(out: W) -> Self {
        GraphmlWriter {
            xml: Writer::new_with_indent(out, b' ', 2),
        }
    }

    fn data(&mut self, key: &str, value: &str) -> Result<()> {
        self.xml
            .create_element("data")
            .with_attribute(("key", key))
            .write_text_content(BytesText::new(&xml_text(value)))?;
        Ok(())
    }
}

/// `s` with the characters XML 1.0 does not allow replaced by U+FFFD.
pub fn xml_text(s: &str) -> std::borrow::Cow<'_, str> {
    let allowed = |c: char| !matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}');
    if s.chars().all(allowed) {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(
        s.chars()
            .map(|c| if allowed(c) { c } else { '\u{fffd}' })
            .collect(),
    )
}

impl<W: Write> GraphWriter for GraphmlWriter<W> {
    fn begin(&mut self) -> Result<()> {
        self.xml
            .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        let mut root = BytesStart::new("graphml");
        root.push_attribute(("xmlns", NS));
        root.push_attribute(("xmlns:xsi", XSI));
        root.push_attribute(("xsi:schemaLocation", SCHEMA));
        self.xml.write_event(Event::Start(root))?;
        for (domain, prefix, keys) in [("node", "n", NODE_KEYS), ("edge", "e", EDGE_KEYS)] {
            for key in keys {
                let id = format!("{prefix}_{key}");
                self.xml
                    .create_element("key")
                    .with_attributes([
                        ("id", id.as_str()),
                        ("for", domain),
                        ("attr.name", key),
                        ("attr.type", "string"),
                    ])
                    .write_empty()?;
            }
        }
        let mut graph = BytesStart::new("graph");
        graph.push_attribute(("id", "census"));
        graph.push_attribute(("edgedefault", "directed"));
        self.xml.write_event(Event::Start(graph))?;
        Ok(())
    }

    fn node(&mut self, node: &Node) -> Result<()> {
        let mut start = BytesStart::new("node");
        start.push_attribute(("id", xml_text(&node.id).as_ref()));
        self.xml.write_event(Event::Start(start))?;
        for (key, value) in node.all_props() {
            self.data(&format!("n_{key}"), &value.text())?;
        }
        self.xml.write_event(Event::End(BytesEnd::new("node")))?;
        Ok(())
    }

    fn edge(&mut self, edge: &Edge) -> Result<()> {
        let mut start = BytesStart::new("edge");
        start.push_attribute(("id", edge.id.as_str()));
        start.push_attribute(("source", xml_text(&edge.source).as_ref()));
        start.push_attribute(("target", xml_text(&edge.target).as_ref()));
        self.xml.write_event(Event::Start(start))?;
        self.data("e_kind", &edge.kind)?;
        if let Some(raw) = &edge.raw {
            self.data("e_raw", raw)?;
        }
        self.xml.write_event(Event::End(BytesEnd::new("edge")))?;
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        self.xml.write_event(Event::End(BytesEnd::new("graph")))?;
        self.xml.write_event(Event::End(BytesEnd::new("graphml")))?;
        let out = self.xml.get_mut();
        out.write_all(b"\n")?;
        out.flush()?;
        Ok(())
    }
}
