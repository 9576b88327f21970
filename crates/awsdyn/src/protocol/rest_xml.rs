//! The `rest-xml` protocol: HTTP bindings (see [`super::rest`]) with an XML body.
//!
//! The request body is written the way botocore's `RestXMLSerializer` writes it with
//! ElementTree: the root element is named by the input's (or payload member's)
//! `locationName`; `xmlNamespace` becomes an `xmlns`/`xmlns:prefix` attribute on the
//! element it applies to; `xmlAttribute` members become attributes of their
//! structure's element; lists wrap their items in `<member>` (or the member's
//! `locationName`) unless flattened; maps write `<entry><key/><value/></entry>`.

use base64::Engine;
use serde_json::{Map, Value};

use crate::model::{Operation, ServiceModel, ShapeId, ShapeRef, ShapeType};
use crate::protocol::rest::{self, BodyBinding};
use crate::protocol::{xml, Request, Response};
use crate::timestamp;
use crate::{Error, ServiceError};

pub fn serialize(model: &ServiceModel, op: &Operation, input: &Value) -> Result<Request, Error> {
    let http = rest::serialize_http(model, op, input)?;
    let mut req = http.request;
    let mut content_type = None;
    match http.body {
        BodyBinding::Raw { blob, value, .. } => {
            if let Some(v) = value {
                req.body = super::rest_json::raw_bytes(op, v)?;
            }
            if !blob {
                content_type = Some("text/plain");
            }
        }
        BodyBinding::Payload { member, value, .. } => {
            if let Some(v) = value {
                let target = model.shape(member.target);
                let root = rest::location_name(member, target).unwrap_or(&target.name);
                req.body = write_document(model, op, Some(member), member.target, v, root)?;
                content_type = Some("application/xml");
            }
        }
        BodyBinding::Members { shape, members } => {
            let input_ref = op.input.as_ref();
            let s = model.shape(shape);
            let root = input_ref
                .and_then(|r| rest::location_name(r, s))
                .unwrap_or(&s.name);
            req.body = write_document(model, op, input_ref, shape, &Value::Object(members), root)?;
            content_type = Some("application/xml");
        }
        BodyBinding::None => {}
    }
    if let Some(ct) = content_type {
        if req.header("Content-Type").is_none() {
            req.headers.push(("Content-Type".into(), ct.into()));
        }
    }
    Ok(req)
}

/// The XML half of rest-xml.
pub struct XmlBody;

impl rest::BodyFormat for XmlBody {
    fn members(
        model: &ServiceModel,
        target: ShapeId,
        body: &[u8],
    ) -> Result<Map<String, Value>, String> {
        xml::parse_members(model, target, body, None)
    }

    fn error(model: &ServiceModel, op: &Operation, resp: &Response) -> Option<ServiceError> {
        Some(xml::parse_error(model, op, resp))
    }
}

pub fn parse(model: &ServiceModel, op: &Operation, resp: &Response) -> Result<Value, Error> {
    rest::parse_response::<XmlBody>(model, op, resp)
}

/// A rest-xml error: from the XML body (`<ErrorResponse><Error>` or S3's `<Error>`),
/// else from the HTTP status; see [`rest::parse_error`].
pub fn parse_error(model: &ServiceModel, op: &Operation, resp: &Response) -> ServiceError {
    rest::parse_error::<XmlBody>(model, op, resp)
}

// ---------------------------------------------------------------------------
// The XML writer.

/// An element being built. The body is built as a small tree first because
/// botocore puts a flattened list's `xmlns` on its parent element.
struct Elem {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<Elem>,
}

impl Elem {
    fn new(name: &str) -> Elem {
        Elem {
            name: name.to_string(),
            attrs: Vec::new(),
            text: String::new(),
            children: Vec::new(),
        }
    }

    fn set_attr(&mut self, k: String, v: String) {
        match self.attrs.iter_mut().find(|(n, _)| *n == k) {
            Some(a) => a.1 = v,
            None => self.attrs.push((k, v)),
        }
    }

    fn render(&self, out: &mut String) {
        out.push('<');
        out.push_str(&self.name);
        for (k, v) in &self.attrs {
            out.push(' ');
            out.push_str(k);
            out.push_str("=\"");
            escape(v, true, out);
            out.push('"');
        }
        if self.text.is_empty() && self.children.is_empty() {
            out.push_str(" />");
            return;
        }
        out.push('>');
        escape(&self.text, false, out);
        for c in &self.children {
            c.render(out);
        }
        out.push_str("</");
        out.push_str(&self.name);
        out.push('>');
    }
}

/// ElementTree's escaping: `& < >` in text; also `"` and the whitespace controls in
/// attribute values.
fn escape(s: &str, attr: bool, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\n' if attr => out.push_str("&#10;"),
            '\r' if attr => out.push_str("&#13;"),
            '\t' if attr => out.push_str("&#09;"),
            c => out.push(c),
        }
    }
}

/// Writes `value` (of shape `id`, referenced by `r`) as an XML document whose root
/// element is `root`.
pub fn write_document(
    model: &ServiceModel,
    op: &Operation,
    r: Option<&ShapeRef>,
    id: ShapeId,
    value: &Value,
    root: &str,
) -> Result<Vec<u8>, Error> {
    let mut pseudo = Elem::new("");
    let mut w = Writer { model, op };
    w.write(&mut pseudo, r, id, value, root)?;
    let mut out = String::new();
    for c in &pseudo.children {
        c.render(&mut out);
    }
    Ok(out.into_bytes())
}

struct Writer<'a> {
    model: &'a ServiceModel,
    op: &'a Operation,
}

impl Writer<'_> {
    fn invalid(&self, message: String) -> Error {
        Error::Validation {
            operation: self.op.name.clone(),
            message,
        }
    }

    fn add_namespace(&self, elem: &mut Elem, r: Option<&ShapeRef>, id: ShapeId) {
        if let Some(ns) = rest::xml_namespace(r, self.model.shape(id)) {
            let name = match ns.prefix.as_deref() {
                Some(p) if !p.is_empty() => format!("xmlns:{p}"),
                _ => "xmlns".to_string(),
            };
            elem.set_attr(name, ns.uri.clone());
        }
    }

    fn write(
        &mut self,
        parent: &mut Elem,
        r: Option<&ShapeRef>,
        id: ShapeId,
        value: &Value,
        name: &str,
    ) -> Result<(), Error> {
        let model = self.model;
        let shape = model.shape(id);
        match shape.kind {
            ShapeType::Structure => {
                let obj = value.as_object().ok_or_else(|| {
                    self.invalid(format!("{name}: expected an object, got {value}"))
                })?;
                let mut node = Elem::new(name);
                self.add_namespace(&mut node, r, id);
                for (k, v) in obj {
                    if v.is_null() {
                        continue;
                    }
                    let member = shape
                        .members
                        .get(k)
                        .ok_or_else(|| self.invalid(format!("{name}: unknown member {k:?}")))?;
                    let target = model.shape(member.target);
                    let member_name = rest::location_name(member, target).unwrap_or(k);
                    if member.xml_attribute {
                        let text = self.scalar_text(Some(member), member.target, v, member_name)?;
                        node.set_attr(member_name.to_string(), text);
                        continue;
                    }
                    self.write(&mut node, Some(member), member.target, v, member_name)?;
                }
                parent.children.push(node);
            }
            ShapeType::List => {
                let items = value
                    .as_array()
                    .ok_or_else(|| self.invalid(format!("{name}: expected a list, got {value}")))?;
                let m = shape.member.as_ref().ok_or_else(|| {
                    Error::Model(format!("list shape {} has no member", shape.name))
                })?;
                if rest::flattened(r, shape) {
                    self.add_namespace(parent, r, id);
                    for item in items {
                        self.write(parent, Some(m), m.target, item, name)?;
                    }
                } else {
                    let mut node = Elem::new(name);
                    self.add_namespace(&mut node, r, id);
                    let item_name =
                        rest::location_name(m, model.shape(m.target)).unwrap_or("member");
                    for item in items {
                        self.write(&mut node, Some(m), m.target, item, item_name)?;
                    }
                    parent.children.push(node);
                }
            }
            ShapeType::Map => {
                let obj = value
                    .as_object()
                    .ok_or_else(|| self.invalid(format!("{name}: expected a map, got {value}")))?;
                let (Some(kr), Some(vr)) = (shape.key.as_ref(), shape.value.as_ref()) else {
                    return Err(Error::Model(format!(
                        "map shape {} has no key or value",
                        shape.name
                    )));
                };
                let key_name = rest::location_name(kr, model.shape(kr.target)).unwrap_or("key");
                let value_name = rest::location_name(vr, model.shape(vr.target)).unwrap_or("value");
                let flat = rest::flattened(r, shape);
                let mut entries = Vec::with_capacity(obj.len());
                for (k, v) in obj {
                    let mut entry = Elem::new(if flat { name } else { "entry" });
                    self.write(
                        &mut entry,
                        Some(kr),
                        kr.target,
                        &Value::String(k.clone()),
                        key_name,
                    )?;
                    self.write(&mut entry, Some(vr), vr.target, v, value_name)?;
                    entries.push(entry);
                }
                if flat {
                    parent.children.extend(entries);
                } else {
                    let mut node = Elem::new(name);
                    self.add_namespace(&mut node, r, id);
                    node.children = entries;
                    parent.children.push(node);
                }
            }
            _ => {
                let mut node = Elem::new(name);
                node.text = self.scalar_text(r, id, value, name)?;
                self.add_namespace(&mut node, r, id);
                parent.children.push(node);
            }
        }
        Ok(())
    }

    fn scalar_text(
        &self,
        r: Option<&ShapeRef>,
        id: ShapeId,
        value: &Value,
        name: &str,
    ) -> Result<String, Error> {
        let shape = self.model.shape(id);
        let bad = || self.invalid(format!("{name}: unexpected value {value}"));
        Ok(match shape.kind {
            ShapeType::Boolean => match value {
                Value::Bool(b) => b.to_string(),
                Value::String(s) => (s.eq_ignore_ascii_case("true")).to_string(),
                Value::Number(n) => (n.as_f64() != Some(0.0)).to_string(),
                _ => return Err(bad()),
            },
            ShapeType::Blob => match value {
                Value::String(s) => base64::engine::general_purpose::STANDARD.encode(s.as_bytes()),
                _ => return Err(bad()),
            },
            ShapeType::Timestamp => {
                let t = timestamp::from_input(value).ok_or_else(bad)?;
                rest::format_timestamp(&t, rest::timestamp_format(r, shape).unwrap_or("iso8601"))
            }
            ShapeType::Float | ShapeType::Double => match value {
                Value::Number(n) if n.is_f64() => rest::py_float(n.as_f64().unwrap_or(0.0)),
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.clone(),
                _ => return Err(bad()),
            },
            _ => match value {
                Value::String(s) => s.clone(),
                Value::Number(n) if n.is_f64() => rest::py_float(n.as_f64().unwrap_or(0.0)),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
                _ => return Err(bad()),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(shapes: Value, op: Value) -> ServiceModel {
        ServiceModel::from_value(
            "t",
            serde_json::json!({
                "metadata": {"protocol": "rest-xml"},
                "operations": {"Op": op},
                "shapes": shapes,
            }),
        )
        .unwrap()
    }

    #[test]
    fn head_error_by_status() {
        let m = model(
            serde_json::json!({"In": {"type": "structure", "members": {}}}),
            serde_json::json!({"name": "Op", "http": {"method": "HEAD", "requestUri": "/"}, "input": {"shape": "In"}}),
        );
        let op = &m.operations["Op"];
        let headers = vec![("x-amz-request-id".to_string(), "R1".to_string())];
        let resp = Response {
            status: 404,
            headers: &headers,
            body: b"",
        };
        let Err(Error::Service(e)) = parse(&m, op, &resp) else {
            panic!()
        };
        assert_eq!(
            (e.code.as_str(), e.message.as_str(), e.request_id.as_deref()),
            ("404", "Not Found", Some("R1"))
        );
    }

    #[test]
    fn xml_body_with_namespaces_attributes_and_flattening() {
        let m = model(
            serde_json::json!({
                "In": {"type": "structure", "members": {
                    "Bucket": {"shape": "S", "location": "uri", "locationName": "Bucket"},
                    "Grantee": {"shape": "Grantee"},
                    "Flat": {"shape": "L", "flattened": true, "locationName": "Item"},
                    "Tags": {"shape": "M"},
                }},
                "Grantee": {"type": "structure", "xmlNamespace": {"prefix": "xsi", "uri": "http://www.w3.org/2001/XMLSchema-instance"}, "members": {
                    "Type": {"shape": "S", "xmlAttribute": true, "locationName": "xsi:type"},
                    "ID": {"shape": "S"},
                }},
                "L": {"type": "list", "member": {"shape": "S"}},
                "M": {"type": "map", "key": {"shape": "S", "locationName": "K"}, "value": {"shape": "S", "locationName": "V"}},
                "S": {"type": "string"},
            }),
            serde_json::json!({"name": "Op", "http": {"method": "PUT", "requestUri": "/{Bucket}?acl"},
                "input": {"shape": "In", "locationName": "Root", "xmlNamespace": {"uri": "https://ns/"}}}),
        );
        let op = &m.operations["Op"];
        let input = serde_json::json!({
            "Bucket": "b",
            "Grantee": {"Type": "CanonicalUser", "ID": "a&b"},
            "Flat": ["x", "y"],
            "Tags": {"k": "v"},
        });
        let req = serialize(&m, op, &input).unwrap();
        assert_eq!(req.uri, "/b?acl");
        assert_eq!(req.header("Content-Type"), Some("application/xml"));
        assert_eq!(
            String::from_utf8(req.body).unwrap(),
            "<Root xmlns=\"https://ns/\">\
             <Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\"><ID>a&amp;b</ID></Grantee>\
             <Item>x</Item><Item>y</Item>\
             <Tags><entry><K>k</K><V>v</V></entry></Tags></Root>"
        );
    }

    #[test]
    fn elements_render_like_elementtree() {
        let mut root = Elem::new("Root");
        root.set_attr("xmlns".into(), "https://foo/".into());
        let mut a = Elem::new("A");
        a.text = "x < y & \"z\"".into();
        a.set_attr("k".into(), "a\"b\nc".into());
        root.children.push(a);
        root.children.push(Elem::new("Empty"));
        let mut out = String::new();
        root.render(&mut out);
        assert_eq!(
            out,
            "<Root xmlns=\"https://foo/\"><A k=\"a&quot;b&#10;c\">x &lt; y &amp; \"z\"</A><Empty /></Root>"
        );
    }
}
