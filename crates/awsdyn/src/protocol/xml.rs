//! Shape-driven XML parsing, shared by `query`, `ec2` and `rest-xml`.
//!
//! The parser walks quick-xml events over the response body once, guided by the
//! output shape, and builds the boto3-shaped [`Value`] directly: no intermediate DOM.
//! Before parsing, the structures reachable from the root shape are compiled into a
//! small plan (member element names, targets, flattening, attributes), indexed by
//! [`ShapeId`], so that matching a child element against the members of its structure
//! is a byte comparison, usually against the member that comes next in model order.
//!
//! It follows botocore's `BaseXMLResponseParser`:
//! - members are found by `locationName` (else the member name); namespaces and
//!   prefixes are ignored; unknown elements are skipped;
//! - wrapped lists take every child element as an item (`<member>`, `<item>`, ...);
//!   flattened lists (on the member or on the list shape) are the repeated member
//!   elements themselves, named by the member or by the list member's `locationName`;
//! - maps are `<entry><key/><value/></entry>` (custom key/value names honoured) or,
//!   flattened, the repeated member elements holding a key and a value;
//! - `xmlAttribute` members are read from the attributes of the structure's element;
//! - empty elements give `""` for strings, `[]` for lists, `{}` for maps/structures;
//! - numbers, booleans (`true` is true, anything else false), blobs (base64,
//!   normalized), timestamps (any format, output as [`crate::timestamp::to_boto3`]),
//!   float/double `NaN`/`Infinity`/`-Infinity` as strings.
//!
//! A scalar whose text does not parse as its type (say, a non-numeric integer) is
//! kept as the string received rather than failing the whole response.

use std::borrow::Cow;
use std::cell::Cell;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use serde_json::{Map, Value};

use crate::model::{Location, Operation, ServiceModel, ShapeId, ShapeRef, ShapeType};
use crate::protocol::Response;
use crate::ServiceError;

mod error;
mod plan;
mod scalar;
pub(crate) mod stream;

use error::*;
use plan::*;
use scalar::*;

/// Nesting depth beyond which a document is refused (guards the recursion).
const MAX_DEPTH: usize = 200;

/// Parses an XML document and returns the members of structure `shape` read from the
/// children of the root element or, with `wrapper`, of the root's child element of that
/// name (query's `<OpResult>`). `xmlAttribute` members are read from the attributes of
/// that same element (the root, or the wrapper).
///
/// An empty body, a body without a root element, or a missing wrapper give an empty
/// map. Members bound to headers or the status code (`location` `header`, `headers`,
/// `statusCode`) are not looked for in the body.
pub fn parse_members(
    model: &ServiceModel,
    shape: ShapeId,
    body: &[u8],
    wrapper: Option<&str>,
) -> Result<Map<String, Value>, String> {
    if model.shape(shape).kind != ShapeType::Structure {
        return Err(format!(
            "shape {} is a {:?}, not a structure",
            model.shape(shape).name,
            model.shape(shape).kind
        ));
    }
    let plan = Plan::new(model, shape);
    let mut p = Parser::new(model, &plan, body);
    let Some((root, empty)) = p.root()? else {
        return Ok(Map::new());
    };
    match wrapper {
        None => p.structure(shape, &root, empty),
        Some(wrapper) => {
            if empty {
                return Ok(Map::new());
            }
            match p.find_child(wrapper.as_bytes())? {
                Some((start, empty)) => p.structure(shape, &start, empty),
                None => Ok(Map::new()),
            }
        }
    }
}

/// Parses the root element of an XML document as a value of shape `shape` (any type):
/// a structure's members from the root's children, a list's items, a map's entries,
/// or a scalar's text. Useful for a `rest-xml` payload member that is not a structure.
/// An empty body gives `Ok(None)`.
pub fn parse_root_value(
    model: &ServiceModel,
    shape: ShapeId,
    body: &[u8],
) -> Result<Option<Value>, String> {
    let plan = Plan::new(model, shape);
    let mut p = Parser::new(model, &plan, body);
    let Some((root, empty)) = p.root()? else {
        return Ok(None);
    };
    p.value(shape, None, &root, empty, 0).map(Some)
}

/// Converts the text of a scalar (from an element or an HTTP header) to the output
/// value for shape `shape`: numbers, booleans, base64-normalized blobs, timestamps
/// (any format) as [`crate::timestamp::to_boto3`] strings, special floats as strings,
/// anything else as the string itself.
pub fn scalar_from_text(model: &ServiceModel, shape: ShapeId, text: &str) -> Value {
    scalar(model.shape(shape).kind, text)
}

/// Parses an XML error response in any of its layouts (`<ErrorResponse><Error>` for
/// query, `<Response><Errors><Error>` for ec2, `<Error>` for rest-xml/s3), with the
/// modeled fields of the error shape.
///
/// The code comes from `<Code>`, the message from `<Message>`, the request id from
/// `<RequestId>`/`<RequestID>` (beside or inside `<Error>`), else from the
/// `x-amzn-requestid` / `x-amz-request-id` headers. Without a code in the body (empty or
/// non-XML body), the code is the HTTP status as a string (`"404"`) and the message its
/// reason phrase (`"Not Found"`), as botocore does. The fields are the members of the
/// error shape (found with [`crate::protocol::error_shape`]) read from the children of
/// the `<Error>` element; members bound to headers or the status code are left to the
/// caller.
pub fn parse_error(model: &ServiceModel, op: &Operation, resp: &Response) -> ServiceError {
    let scan = scan_error(resp.body).unwrap_or_default();
    let mut code = scan.code.map(|c| c.trim().to_string()).unwrap_or_default();
    let mut message = scan.message.unwrap_or_default();
    if code.is_empty() {
        code = resp.status.to_string();
        if message.is_empty() {
            message = crate::protocol::reason_phrase(resp.status).to_string();
        }
    }
    let request_id = scan
        .request_id
        .filter(|s| !s.is_empty())
        .or_else(|| resp.header("x-amzn-requestid").map(str::to_string))
        .or_else(|| resp.header("x-amz-request-id").map(str::to_string));
    let fields = crate::protocol::error_shape(model, op, &code)
        .and_then(|id| error_fields(model, id, resp.body).ok())
        .unwrap_or_default();
    super::service_error(resp, code, message, request_id, fields)
}

// ---------------------------------------------------------------------------
// The parser.

struct Parser<'a, 'm, 'p> {
    model: &'m ServiceModel,
    plan: &'p Plan<'m>,
    reader: Reader<&'a [u8]>,
    /// The body as text, when it is UTF-8 (checked once): a text without entities is
    /// a slice of it, not decoded again.
    body: Option<&'a str>,
}

/// The local part of a possibly prefixed XML name (`baz:foo` -> `foo`).
#[inline]
fn local(name: &[u8]) -> &[u8] {
    match memchr_colon(name) {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

#[inline]
fn memchr_colon(name: &[u8]) -> Option<usize> {
    name.iter().position(|&b| b == b':')
}

fn xml_err(e: quick_xml::Error, pos: u64) -> String {
    format!("invalid XML at byte {pos}: {e}")
}

impl<'a, 'm, 'p> Parser<'a, 'm, 'p> {
    fn new(model: &'m ServiceModel, plan: &'p Plan<'m>, body: &'a [u8]) -> Self {
        let mut reader = Reader::from_reader(body);
        reader.config_mut().check_comments = false;
        Parser {
            model,
            plan,
            reader,
            body: std::str::from_utf8(body).ok(),
        }
    }

    /// `bytes` as text when they are a piece of a UTF-8 body without entities (as
    /// quick-xml's unescaping gives them then).
    #[inline]
    fn plain(&self, bytes: &[u8]) -> Option<&'a str> {
        let body = self.body?;
        let start = (bytes.as_ptr() as usize).checked_sub(body.as_ptr() as usize)?;
        let end = start.checked_add(bytes.len())?;
        if end > body.len() || bytes.contains(&b'&') {
            return None;
        }
        body.get(start..end)
    }

    #[inline]
    fn next(&mut self) -> Result<Event<'a>, String> {
        self.reader
            .read_event()
            .map_err(|e| xml_err(e, self.reader.error_position()))
    }

    /// Skips the rest of the element whose start was just read.
    #[inline]
    fn skip(&mut self, start: &BytesStart<'a>) -> Result<(), String> {
        self.reader
            .read_to_end(start.name())
            .map(|_| ())
            .map_err(|e| xml_err(e, self.reader.error_position()))
    }

    /// Reads up to the root element: `Some((start, is_empty_element))`, or `None` for
    /// a document without one.
    /// A body with text but no element is not a document: an error, not an empty answer.
    fn root(&mut self) -> Result<Option<(BytesStart<'a>, bool)>, String> {
        loop {
            match self.next()? {
                Event::Start(e) => return Ok(Some((e, false))),
                Event::Empty(e) => return Ok(Some((e, true))),
                Event::Eof => return Ok(None),
                Event::End(_) => return Err("invalid XML: unexpected end tag".into()),
                Event::Text(t) if t.iter().any(|b| !b.is_ascii_whitespace()) => {
                    return Err("not an XML document: text where the root element belongs".into())
                }
                _ => {}
            }
        }
    }

    /// Among the children of the current element, finds the first named `name`
    /// (skipping the others). Returns `None` at the end of the current element.
    fn find_child(&mut self, name: &[u8]) -> Result<Option<(BytesStart<'a>, bool)>, String> {
        loop {
            match self.next()? {
                Event::Start(e) => {
                    if local(e.name().as_ref()) == name {
                        return Ok(Some((e, false)));
                    }
                    self.skip(&e)?;
                }
                Event::Empty(e) if local(e.name().as_ref()) == name => {
                    return Ok(Some((e, true)));
                }
                Event::End(_) | Event::Eof => return Ok(None),
                _ => {}
            }
        }
    }

    /// Reads the text content of the current element up to its end tag: text and
    /// CDATA concatenated, child elements and comments ignored.
    fn text(&mut self) -> Result<Cow<'a, str>, String> {
        let mut out: Option<Cow<'a, str>> = None;
        loop {
            let piece: Cow<'a, str> = match self.next()? {
                Event::Text(t) => match self.plain(&t) {
                    Some(s) => Cow::Borrowed(s),
                    None => t
                        .unescape()
                        .map_err(|e| xml_err(e, self.reader.buffer_position()))?,
                },
                Event::CData(c) => match c.into_inner() {
                    Cow::Borrowed(b) => Cow::Borrowed(
                        std::str::from_utf8(b).map_err(|e| format!("invalid UTF-8: {e}"))?,
                    ),
                    Cow::Owned(b) => {
                        Cow::Owned(String::from_utf8(b).map_err(|e| format!("invalid UTF-8: {e}"))?)
                    }
                },
                Event::Start(e) => {
                    self.skip(&e)?;
                    continue;
                }
                Event::End(_) => return Ok(out.unwrap_or(Cow::Borrowed(""))),
                Event::Eof => return Err("invalid XML: unexpected end of document".into()),
                _ => continue,
            };
            out = Some(match out {
                None => piece,
                Some(prev) => {
                    let mut s = prev.into_owned();
                    s.push_str(&piece);
                    Cow::Owned(s)
                }
            });
        }
    }

    /// Parses the element just started (`start`) as a value of shape `id`.
    fn value(
        &mut self,
        id: ShapeId,
        kind: Option<ShapeType>,
        start: &BytesStart<'a>,
        empty: bool,
        depth: usize,
    ) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err("XML nested too deeply".into());
        }
        let kind = kind.unwrap_or_else(|| self.model.shape(id).kind);
        match kind {
            ShapeType::Structure => Ok(Value::Object(self.structure_at(id, start, empty, depth)?)),
            ShapeType::List => {
                let mut items = Vec::new();
                if !empty {
                    let member = self.model.shape(id).member.as_ref().map(|m| m.target);
                    self.list_items(member, &mut items, depth)?;
                }
                Ok(Value::Array(items))
            }
            ShapeType::Map => {
                let mut map = Map::new();
                if !empty {
                    self.map_entries(id, &mut map, depth)?;
                }
                Ok(Value::Object(map))
            }
            _ => {
                if empty {
                    Ok(scalar(kind, ""))
                } else {
                    let text = self.text()?;
                    Ok(match kind {
                        ShapeType::String | ShapeType::Character => {
                            Value::String(text.into_owned())
                        }
                        _ => scalar(kind, &text),
                    })
                }
            }
        }
    }

    fn structure(
        &mut self,
        id: ShapeId,
        start: &BytesStart<'a>,
        empty: bool,
    ) -> Result<Map<String, Value>, String> {
        self.structure_at(id, start, empty, 0)
    }

    /// The members of structure `id` from the element just started.
    fn structure_at(
        &mut self,
        id: ShapeId,
        start: &BytesStart<'a>,
        empty: bool,
        depth: usize,
    ) -> Result<Map<String, Value>, String> {
        let plan: &'p StructPlan<'m> = self.plan.structure(id);
        let mut out = Map::with_capacity(plan.size.get() as usize);
        if plan.has_attributes {
            read_attributes(plan, start, &mut out);
        }
        if empty {
            return Ok(out);
        }
        // The member expected next, and the one matched last.
        let mut predicted = plan.first.get();
        let mut last = NONE;
        // For a union: the first element that is not a member, and whether there were
        // elements of other names.
        let mut unknown: Option<BytesStart<'a>> = None;
        let mut others = false;
        loop {
            let (e, child_empty) = match self.next()? {
                Event::Start(e) => (e, false),
                Event::Empty(e) => (e, true),
                Event::End(_) => {
                    if let (Some(u), false, true) = (&unknown, others, out.is_empty()) {
                        // botocore's answer to a union member this model does not know.
                        let tag = String::from_utf8_lossy(local(u.name().as_ref())).into_owned();
                        let mut inner = Map::new();
                        inner.insert("name".into(), Value::String(tag));
                        out.insert("SDK_UNKNOWN_MEMBER".into(), Value::Object(inner));
                    }
                    plan.size.set(out.len() as u32);
                    return Ok(out);
                }
                Event::Eof => return Err("invalid XML: unexpected end of document".into()),
                _ => continue,
            };
            let qname = e.name();
            let name = local(qname.as_ref());
            let found = plan.find(predicted, name);
            let Some(i) = found else {
                if plan.union {
                    match &unknown {
                        None => unknown = Some(e.clone()),
                        Some(u) => others |= local(u.name().as_ref()) != name,
                    }
                }
                if !child_empty {
                    self.skip(&e)?;
                }
                continue;
            };
            match plan.members.get(usize::from(last)) {
                Some(prev) => prev.next.set(i as u16),
                None => plan.first.set(i as u16),
            }
            last = i as u16;
            let m = &plan.members[i];
            predicted = m.next.get();
            if m.flattened && matches!(m.kind, ShapeType::List | ShapeType::Map) {
                self.flattened_item(m, &e, child_empty, &mut out, depth)?;
            } else {
                let v = self.value(m.target, Some(m.kind), &e, child_empty, depth + 1)?;
                out.insert(m.name.to_string(), v);
            }
        }
    }

    /// One element of a flattened list or map member: an item, or a key/value pair.
    fn flattened_item(
        &mut self,
        m: &MemberPlan<'m>,
        e: &BytesStart<'a>,
        empty: bool,
        out: &mut Map<String, Value>,
        depth: usize,
    ) -> Result<(), String> {
        if m.kind == ShapeType::List {
            let member = self.model.shape(m.target).member.as_ref().map(|r| r.target);
            let item = match member {
                Some(t) => self.value(t, None, e, empty, depth + 1)?,
                None => {
                    if !empty {
                        self.skip(e)?;
                    }
                    return Ok(());
                }
            };
            match out.get_mut(m.name) {
                Some(Value::Array(items)) => items.push(item),
                _ => {
                    out.insert(m.name.to_string(), Value::Array(vec![item]));
                }
            }
        } else {
            if !out.contains_key(m.name) {
                out.insert(m.name.to_string(), Value::Object(Map::new()));
            }
            if empty {
                return Ok(());
            }
            let entry = self.map_entry(m.target, depth + 1)?;
            if let (Some((k, v)), Some(Value::Object(map))) = (entry, out.get_mut(m.name)) {
                map.insert(k, v);
            }
        }
        Ok(())
    }

    /// The items of a wrapped list: every child element, whatever its name.
    fn list_items(
        &mut self,
        member: Option<ShapeId>,
        items: &mut Vec<Value>,
        depth: usize,
    ) -> Result<(), String> {
        let member_kind = member.map(|t| self.model.shape(t).kind);
        loop {
            let (e, empty) = match self.next()? {
                Event::Start(e) => (e, false),
                Event::Empty(e) => (e, true),
                Event::End(_) => return Ok(()),
                Event::Eof => return Err("invalid XML: unexpected end of document".into()),
                _ => continue,
            };
            match member {
                Some(t) => items.push(self.value(t, member_kind, &e, empty, depth + 1)?),
                None if !empty => self.skip(&e)?,
                None => {}
            }
        }
    }

    /// The entries of a wrapped map: every child element (`<entry>`) holds a key and a
    /// value.
    fn map_entries(
        &mut self,
        id: ShapeId,
        map: &mut Map<String, Value>,
        depth: usize,
    ) -> Result<(), String> {
        loop {
            match self.next()? {
                Event::Start(_) => {
                    if let Some((k, v)) = self.map_entry(id, depth + 1)? {
                        map.insert(k, v);
                    }
                }
                Event::End(_) => return Ok(()),
                Event::Eof => return Err("invalid XML: unexpected end of document".into()),
                _ => {}
            }
        }
    }

    /// The key and value inside the entry element just started, up to its end.
    fn map_entry(&mut self, id: ShapeId, depth: usize) -> Result<Option<(String, Value)>, String> {
        if depth > MAX_DEPTH {
            return Err("XML nested too deeply".into());
        }
        let Some(mp) = map_plan(self.model, id) else {
            self.skip_rest()?;
            return Ok(None);
        };
        let mut key: Option<String> = None;
        let mut value: Option<Value> = None;
        loop {
            let (e, empty) = match self.next()? {
                Event::Start(e) => (e, false),
                Event::Empty(e) => (e, true),
                Event::End(_) => break,
                Event::Eof => return Err("invalid XML: unexpected end of document".into()),
                _ => continue,
            };
            let qname = e.name();
            let name = local(qname.as_ref());
            if name == mp.key_name.as_bytes() {
                key = Some(if empty {
                    String::new()
                } else {
                    self.text()?.into_owned()
                });
            } else if name == mp.value_name.as_bytes() {
                value = Some(self.value(mp.value, None, &e, empty, depth + 1)?);
            } else if !empty {
                self.skip(&e)?;
            }
        }
        Ok(match (key, value) {
            (Some(k), Some(v)) => Some((k, v)),
            _ => None,
        })
    }

    /// Skips to the end of the current element (its start already read).
    fn skip_rest(&mut self) -> Result<(), String> {
        let mut depth = 0usize;
        loop {
            match self.next()? {
                Event::Start(_) => depth += 1,
                Event::End(_) => {
                    if depth == 0 {
                        return Ok(());
                    }
                    depth -= 1;
                }
                Event::Eof => return Err("invalid XML: unexpected end of document".into()),
                _ => {}
            }
        }
    }
}

/// `xmlAttribute` members from the attributes of a structure's element. A member named
/// `prefix:name` (e.g. `xsi:type`) matches the attribute written with that prefix; one
/// without a prefix matches by local name.
#[cfg(test)]
mod tests;
