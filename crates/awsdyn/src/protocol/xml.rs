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
// The plan: per structure, its members as the XML sees them.

#[derive(Debug)]
struct MemberPlan<'m> {
    /// The key in the output object.
    name: &'m str,
    /// The element (or attribute) name.
    xml_name: &'m str,
    target: ShapeId,
    kind: ShapeType,
    flattened: bool,
    attribute: bool,
    /// The member whose element followed this one's last time (learned while parsing;
    /// `NONE` when unknown). Responses repeat the same order, so this usually hits.
    next: Cell<u16>,
}

/// No member.
const NONE: u16 = u16::MAX;

#[derive(Debug, Default)]
struct StructPlan<'m> {
    members: Vec<MemberPlan<'m>>,
    /// Open-addressing table from element name to member: (name, member index), size a
    /// power of two. Holds each member's element name and, for a flattened list, the
    /// list member's `locationName` (botocore names the elements so; the Smithy tests
    /// use the member's name: both are accepted).
    table: Vec<Option<(&'m str, u16)>>,
    has_attributes: bool,
    /// A tagged union: a single unknown child becomes `SDK_UNKNOWN_MEMBER`.
    union: bool,
    /// The member whose element came first last time.
    first: Cell<u16>,
    /// How many members the last instance had: the capacity of the next one's map.
    size: Cell<u32>,
}

#[inline]
fn name_hash(name: &[u8]) -> usize {
    // FNV-1a: element names are short.
    let mut h: u32 = 0x811c_9dc5;
    for &b in name {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    h as usize
}

impl<'m> StructPlan<'m> {
    fn build_table(&mut self, alt_names: &[(&'m str, u16)]) {
        let entries = self.members.len() + alt_names.len();
        let size = (entries * 2).next_power_of_two().max(4);
        self.table = vec![None; size];
        let mask = size - 1;
        let names: Vec<(&'m str, u16)> = self
            .members
            .iter()
            .enumerate()
            .filter(|(_, m)| !m.attribute)
            .map(|(i, m)| (m.xml_name, i as u16))
            .chain(alt_names.iter().copied())
            .collect();
        for (name, i) in names {
            let mut slot = name_hash(name.as_bytes()) & mask;
            loop {
                match self.table[slot] {
                    None => {
                        self.table[slot] = Some((name, i));
                        break;
                    }
                    // The first member with a name keeps it.
                    Some((n, _)) if n == name => break,
                    Some(_) => slot = (slot + 1) & mask,
                }
            }
        }
    }

    /// The member whose element is named `name`.
    #[inline]
    fn lookup(&self, name: &[u8]) -> Option<usize> {
        let mask = self.table.len() - 1;
        let mut slot = name_hash(name) & mask;
        loop {
            match self.table[slot] {
                None => return None,
                Some((n, i)) if n.as_bytes() == name => return Some(i as usize),
                Some(_) => slot = (slot + 1) & mask,
            }
        }
    }
}

/// Map key/value element names and targets.
#[derive(Debug)]
struct MapPlan<'m> {
    key_name: &'m str,
    value_name: &'m str,
    value: ShapeId,
}

/// The structures reachable from the root shape, compiled.
struct Plan<'m> {
    /// ShapeId -> index in `structs` + 1 (0: not a planned structure).
    index: Vec<u32>,
    structs: Vec<StructPlan<'m>>,
}

fn ref_location_name<'m>(model: &'m ServiceModel, r: &'m ShapeRef) -> Option<&'m str> {
    r.location_name
        .as_deref()
        .or_else(|| model.shape(r.target).location_name.as_deref())
}

fn map_plan<'m>(model: &'m ServiceModel, id: ShapeId) -> Option<MapPlan<'m>> {
    let shape = model.shape(id);
    let key = shape.key.as_ref()?;
    let value = shape.value.as_ref()?;
    Some(MapPlan {
        key_name: ref_location_name(model, key).unwrap_or("key"),
        value_name: ref_location_name(model, value).unwrap_or("value"),
        value: value.target,
    })
}

impl<'m> Plan<'m> {
    fn new(model: &'m ServiceModel, root: ShapeId) -> Plan<'m> {
        let mut index = vec![0u32; model.shapes.len()];
        let mut structs = Vec::new();
        let mut visited = vec![false; model.shapes.len()];
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            if std::mem::replace(&mut visited[id as usize], true) {
                continue;
            }
            let shape = model.shape(id);
            match shape.kind {
                ShapeType::Structure => {
                    let mut plan = StructPlan {
                        first: Cell::new(NONE),
                        union: shape.union,
                        ..StructPlan::default()
                    };
                    let mut alt_names = Vec::new();
                    for (name, r) in &shape.members {
                        if matches!(
                            r.location,
                            Some(Location::Header | Location::Headers | Location::StatusCode)
                        ) {
                            continue;
                        }
                        let target = model.shape(r.target);
                        let flattened = r.flattened || target.flattened;
                        let xml_name = ref_location_name(model, r).unwrap_or(name);
                        if flattened && target.kind == ShapeType::List {
                            if let Some(alt) = target
                                .member
                                .as_ref()
                                .and_then(|m| ref_location_name(model, m))
                            {
                                alt_names.push((alt, plan.members.len() as u16));
                            }
                        }
                        plan.has_attributes |= r.xml_attribute;
                        plan.members.push(MemberPlan {
                            name,
                            xml_name,
                            target: r.target,
                            kind: target.kind,
                            flattened,
                            attribute: r.xml_attribute,
                            next: Cell::new(NONE),
                        });
                        stack.push(r.target);
                        if plan.members.len() >= usize::from(NONE) {
                            break;
                        }
                    }
                    plan.build_table(&alt_names);
                    structs.push(plan);
                    index[id as usize] = structs.len() as u32;
                }
                ShapeType::List | ShapeType::Map => {
                    for r in [&shape.member, &shape.key, &shape.value]
                        .into_iter()
                        .flatten()
                    {
                        stack.push(r.target);
                    }
                }
                _ => {}
            }
        }
        Plan { index, structs }
    }

    #[inline]
    fn structure(&self, id: ShapeId) -> &StructPlan<'m> {
        let i = self.index[id as usize];
        assert!(i != 0, "every structure reachable from the root is planned");
        &self.structs[i as usize - 1]
    }
}

// ---------------------------------------------------------------------------
// The parser.

struct Parser<'a, 'm, 'p> {
    model: &'m ServiceModel,
    plan: &'p Plan<'m>,
    reader: Reader<&'a [u8]>,
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
        }
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
                Event::Text(t) => t
                    .unescape()
                    .map_err(|e| xml_err(e, self.reader.buffer_position()))?,
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
            let found = match plan.members.get(usize::from(predicted)) {
                Some(m) if !m.attribute && m.xml_name.as_bytes() == name => {
                    Some(usize::from(predicted))
                }
                _ => plan.lookup(name),
            };
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
fn read_attributes(plan: &StructPlan, start: &BytesStart, out: &mut Map<String, Value>) {
    for attr in start.attributes().with_checks(false).flatten() {
        let key = attr.key.as_ref();
        let m = plan.members.iter().find(|m| {
            m.attribute && {
                let want = m.xml_name.as_bytes();
                key == want || (memchr_colon(want).is_none() && local(key) == want)
            }
        });
        if let Some(m) = m {
            if let Ok(v) = attr.unescape_value() {
                out.insert(m.name.to_string(), scalar(m.kind, &v));
            }
        }
    }
}

/// The output value of a scalar of type `kind` from its text.
fn scalar(kind: ShapeType, text: &str) -> Value {
    match kind {
        ShapeType::String | ShapeType::Character => Value::String(text.to_string()),
        ShapeType::Boolean => Value::Bool(text == "true"),
        ShapeType::Integer | ShapeType::Long | ShapeType::Byte | ShapeType::Short => {
            let t = text.trim();
            if let Ok(i) = t.parse::<i64>() {
                Value::from(i)
            } else if let Ok(u) = t.parse::<u64>() {
                Value::from(u)
            } else {
                Value::String(text.to_string())
            }
        }
        ShapeType::Biginteger | ShapeType::Bigdecimal => {
            let t = text.trim();
            if let Ok(i) = t.parse::<i64>() {
                Value::from(i)
            } else if let Some(n) = t.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
                Value::Number(n)
            } else {
                Value::String(text.to_string())
            }
        }
        ShapeType::Float | ShapeType::Double => float(text),
        ShapeType::Blob => blob(text),
        ShapeType::Timestamp => match fast_utc_iso8601(text) {
            Some(s) => Value::String(s),
            None => match crate::timestamp::parse(text) {
                Some(t) => Value::String(crate::timestamp::to_boto3(&t)),
                None => Value::String(text.to_string()),
            },
        },
        // Not scalars; only reached for text where an aggregate was expected.
        ShapeType::Structure | ShapeType::Map => Value::Object(Map::new()),
        ShapeType::List => Value::Array(Vec::new()),
    }
}

/// The boto3 form of the common `YYYY-MM-DDTHH:MM:SS[.fff]Z` timestamps, written
/// without a round trip through chrono (the same result as [`crate::timestamp::parse`]
/// then [`crate::timestamp::to_boto3`]: fraction truncated to microseconds, omitted
/// when zero). `None` for anything else.
fn fast_utc_iso8601(text: &str) -> Option<String> {
    let b = text.as_bytes();
    if b.len() < 20 || b[b.len() - 1] != b'Z' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (h, mi, sec) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    chrono::NaiveDate::from_ymd_opt(y as i32, mo, d)?;
    let frac = &b[19..b.len() - 1];
    let mut out = String::with_capacity(32);
    out.push_str(&text[..19]);
    if !frac.is_empty() {
        if frac[0] != b'.' || frac.len() < 2 || !frac[1..].iter().all(u8::is_ascii_digit) {
            return None;
        }
        let f = &text[20..text.len() - 1];
        let f = &f[..f.len().min(6)];
        if f.bytes().any(|c| c != b'0') {
            out.push('.');
            out.push_str(f);
            out.extend(std::iter::repeat_n('0', 6 - f.len()));
        }
    }
    out.push_str("+00:00");
    Some(out)
}

fn float(text: &str) -> Value {
    let t = text.trim();
    match t.parse::<f64>() {
        Ok(f) if f.is_nan() => Value::String("NaN".into()),
        Ok(f) if f.is_infinite() => {
            Value::String(if f > 0.0 { "Infinity" } else { "-Infinity" }.into())
        }
        Ok(f) => serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Err(_) => Value::String(text.to_string()),
    }
}

fn blob(text: &str) -> Value {
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
    use base64::engine::DecodePaddingMode;
    use base64::Engine;
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    if let Ok(bytes) = STANDARD.decode(text) {
        return crate::protocol::blob_output(&bytes);
    }
    // Like Python's b64decode: characters outside the alphabet (line breaks) are dropped.
    let cleaned: Vec<u8> = text
        .bytes()
        .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        .collect();
    match LENIENT.decode(&cleaned) {
        Ok(bytes) => crate::protocol::blob_output(&bytes),
        Err(_) => Value::String(text.to_string()),
    }
}

// ---------------------------------------------------------------------------
// Errors.

#[derive(Default)]
struct ErrorScan {
    code: Option<String>,
    message: Option<String>,
    request_id: Option<String>,
}

/// Reads `Code`, `Message` and `RequestId` from an error document.
fn scan_error(body: &[u8]) -> Result<ErrorScan, String> {
    let mut reader = Reader::from_reader(body);
    reader.config_mut().check_comments = false;
    ScanParser { reader }.scan()
}

struct ScanParser<'a> {
    reader: Reader<&'a [u8]>,
}

impl<'a> ScanParser<'a> {
    fn next(&mut self) -> Result<Event<'a>, String> {
        self.reader
            .read_event()
            .map_err(|e| xml_err(e, self.reader.error_position()))
    }

    fn text(&mut self) -> Result<String, String> {
        let mut out = String::new();
        let mut depth = 0usize;
        loop {
            match self.next()? {
                Event::Text(t) if depth == 0 => out.push_str(
                    &t.unescape()
                        .map_err(|e| xml_err(e, self.reader.buffer_position()))?,
                ),
                Event::CData(c) if depth == 0 => {
                    out.push_str(&String::from_utf8_lossy(&c.into_inner()))
                }
                Event::Start(_) => depth += 1,
                Event::End(_) => {
                    if depth == 0 {
                        return Ok(out);
                    }
                    depth -= 1;
                }
                Event::Eof => return Err("invalid XML: unexpected end of document".into()),
                _ => {}
            }
        }
    }

    fn skip(&mut self, e: &BytesStart<'a>) -> Result<(), String> {
        self.reader
            .read_to_end(e.name())
            .map(|_| ())
            .map_err(|e| xml_err(e, self.reader.error_position()))
    }

    fn scan(mut self) -> Result<ErrorScan, String> {
        let mut out = ErrorScan::default();
        let root = loop {
            match self.next()? {
                Event::Start(e) => break e,
                Event::Empty(_) | Event::Eof | Event::End(_) => return Ok(out),
                _ => {}
            }
        };
        if local(root.name().as_ref()) == b"Error" {
            self.error_children(&mut out)?;
            return Ok(out);
        }
        // Children of the root: <Error>, <Errors><Error>, <RequestId>/<RequestID>.
        loop {
            match self.next()? {
                Event::Start(e) => match local(e.name().as_ref()) {
                    b"Error" => self.error_children(&mut out)?,
                    b"Errors" => loop {
                        match self.next()? {
                            Event::Start(e) if local(e.name().as_ref()) == b"Error" => {
                                if out.code.is_none() {
                                    self.error_children(&mut out)?;
                                } else {
                                    self.skip(&e)?;
                                }
                            }
                            Event::Start(e) => self.skip(&e)?,
                            Event::End(_) => break,
                            Event::Eof => return Ok(out),
                            _ => {}
                        }
                    },
                    b"RequestId" | b"RequestID" => out.request_id = Some(self.text()?),
                    _ => self.skip(&e)?,
                },
                Event::End(_) | Event::Eof => return Ok(out),
                _ => {}
            }
        }
    }

    /// The children of an `<Error>` element (its start already read).
    fn error_children(&mut self, out: &mut ErrorScan) -> Result<(), String> {
        loop {
            match self.next()? {
                Event::Start(e) => match local(e.name().as_ref()) {
                    b"Code" => out.code = Some(self.text()?),
                    b"Message" => out.message = Some(self.text()?),
                    b"RequestId" | b"RequestID" => out.request_id = Some(self.text()?),
                    _ => self.skip(&e)?,
                },
                Event::Empty(e) => match local(e.name().as_ref()) {
                    b"Code" => out.code = Some(String::new()),
                    b"Message" => out.message = Some(String::new()),
                    _ => {}
                },
                Event::End(_) => return Ok(()),
                Event::Eof => return Err("invalid XML: unexpected end of document".into()),
                _ => {}
            }
        }
    }
}

/// The members of error shape `id` from the `<Error>` element of an error document
/// (the root itself when it is `<Error>`, else `<Error>` or `<Errors><Error>` under the
/// root, else the root).
fn error_fields(
    model: &ServiceModel,
    id: ShapeId,
    body: &[u8],
) -> Result<Map<String, Value>, String> {
    if model.shape(id).kind != ShapeType::Structure {
        return Ok(Map::new());
    }
    let plan = Plan::new(model, id);
    let mut p = Parser::new(model, &plan, body);
    let Some((root, empty)) = p.root()? else {
        return Ok(Map::new());
    };
    if empty || local(root.name().as_ref()) == b"Error" {
        return p.structure(id, &root, empty);
    }
    // Look for <Error> or <Errors><Error> among the root's children; failing that,
    // parse the root's children (botocore's fallback) with a fresh reader.
    loop {
        match p.next()? {
            Event::Start(e) => match local(e.name().as_ref()) {
                b"Error" => return p.structure(id, &e, false),
                b"Errors" => {
                    if let Some((err, empty)) = p.find_child(b"Error")? {
                        return p.structure(id, &err, empty);
                    }
                }
                _ => p.skip(&e)?,
            },
            Event::Empty(e) if local(e.name().as_ref()) == b"Error" => {
                return Ok(Map::new());
            }
            Event::End(_) | Event::Eof => break,
            _ => {}
        }
    }
    let mut p = Parser::new(model, &plan, body);
    match p.root()? {
        Some((root, empty)) => p.structure(id, &root, empty),
        None => Ok(Map::new()),
    }
}

#[cfg(test)]
mod tests;
