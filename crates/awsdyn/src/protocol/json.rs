//! The `json` protocol (1.0 and 1.1) and the JSON body codec shared with `rest-json`.
//!
//! Serialization walks the input value and the input shape together and writes the
//! JSON document directly. Parsing is a single pass: a serde [`DeserializeSeed`] walks
//! the shape while `serde_json` reads the body and builds the boto3-shaped output
//! value as it goes, without an intermediate document.

use std::cell::RefCell;
use std::fmt;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::model::{Operation, ServiceModel, Shape, ShapeId, ShapeRef, ShapeType};
use crate::protocol::{self, Request, Response};
use crate::timestamp;
use crate::{Error, ServiceError};

pub(crate) mod stream;

// ---------------------------------------------------------------------------
// The `json` protocol.

/// Serializes a `json` protocol request: `POST /` with `X-Amz-Target` and the JSON
/// document of the input (`{}` when the operation has no input).
#[allow(clippy::result_large_err)] // the crate's Error carries a ServiceError inline
pub fn serialize(model: &ServiceModel, op: &Operation, input: &Value) -> Result<Request, Error> {
    let meta = &model.metadata;
    let version = meta
        .json_version
        .as_deref()
        .filter(|v| !v.is_empty())
        .unwrap_or("1.0");
    let target = match meta.target_prefix.as_deref().filter(|p| !p.is_empty()) {
        Some(prefix) => format!("{prefix}.{}", op.name),
        None => op.name.clone(),
    };
    let mut headers = vec![
        ("X-Amz-Target".to_string(), target),
        (
            "Content-Type".to_string(),
            format!("application/x-amz-json-{version}"),
        ),
    ];
    if is_query_compatible(model) {
        headers.push(("x-amzn-query-mode".to_string(), "true".to_string()));
    }
    let body = match &op.input {
        Some(input_ref) => {
            serialize_body(model, input_ref.target, input).map_err(|message| Error::Validation {
                operation: op.name.clone(),
                message,
            })?
        }
        None => b"{}".to_vec(),
    };
    let method = super::http_method(op);
    Ok(Request {
        method,
        uri: "/".to_string(),
        headers,
        body,
        host_prefix: None,
    })
}

/// Parses a `json` protocol response: the output document for a 2xx status, else
/// [`Error::Service`].
#[allow(clippy::result_large_err)]
pub fn parse(model: &ServiceModel, op: &Operation, resp: &Response) -> Result<Value, Error> {
    // botocore treats 301 and above as errors.
    if resp.status >= 301 {
        return Err(Error::Service(parse_error(model, op, resp)));
    }
    let Some(output) = &op.output else {
        return Ok(protocol::empty());
    };
    parse_body(model, output.target, resp.body).map_err(|message| Error::Parse {
        operation: op.name.clone(),
        status: resp.status,
        message,
    })
}

fn is_query_compatible(model: &ServiceModel) -> bool {
    matches!(&model.metadata.aws_query_compatible, Some(v) if !v.is_null())
}

// ---------------------------------------------------------------------------
// Serialization.

/// Serializes `value` as the JSON document of structure `shape` (every member present
/// in `value` is written; callers drop HTTP-bound members first).
///
/// Null members are left out; member names are their `locationName` when set;
/// timestamps are epoch seconds unless the member says `iso8601` or `rfc822`; blobs
/// are base64; documents and `jsonvalue` members are written as given.
pub fn serialize_body(
    model: &ServiceModel,
    shape: ShapeId,
    value: &Value,
) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(256);
    if value.is_null() && model.shape(shape).kind == ShapeType::Structure {
        out.extend_from_slice(b"{}");
    } else {
        write_shape(model, shape, None, value, &mut out)?;
    }
    Ok(out)
}

fn write_shape(
    model: &ServiceModel,
    id: ShapeId,
    member: Option<&ShapeRef>,
    value: &Value,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let shape = model.shape(id);
    if member.is_some_and(|m| m.jsonvalue) || shape.jsonvalue {
        return write_raw(value, out);
    }
    match shape.kind {
        ShapeType::Structure if shape.document => write_raw(value, out),
        ShapeType::Structure => {
            let Value::Object(obj) = value else {
                return Err(type_error(shape, "an object", value));
            };
            out.push(b'{');
            let mut first = true;
            for (name, v) in obj {
                if v.is_null() {
                    continue;
                }
                let Some(m) = shape.members.get(name) else {
                    return Err(format!(
                        "unknown member {name:?} of structure {}",
                        shape.name
                    ));
                };
                if !first {
                    out.push(b',');
                }
                first = false;
                write_str(m.location_name.as_deref().unwrap_or(name), out);
                out.push(b':');
                write_shape(model, m.target, Some(m), v, out)
                    .map_err(|e| format!("{name}: {e}"))?;
            }
            out.push(b'}');
            Ok(())
        }
        ShapeType::List => {
            let Value::Array(items) = value else {
                return Err(type_error(shape, "a list", value));
            };
            let m = shape.member.as_ref();
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                match m {
                    Some(m) if !item.is_null() => write_shape(model, m.target, Some(m), item, out)
                        .map_err(|e| format!("[{i}]: {e}"))?,
                    _ => write_raw(item, out)?,
                }
            }
            out.push(b']');
            Ok(())
        }
        ShapeType::Map => {
            let Value::Object(obj) = value else {
                return Err(type_error(shape, "a map", value));
            };
            let v_ref = shape.value.as_ref();
            out.push(b'{');
            for (i, (k, v)) in obj.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(k, out);
                out.push(b':');
                match v_ref {
                    Some(r) if !v.is_null() => write_shape(model, r.target, Some(r), v, out)
                        .map_err(|e| format!("{k}: {e}"))?,
                    _ => write_raw(v, out)?,
                }
            }
            out.push(b'}');
            Ok(())
        }
        ShapeType::Blob => match value {
            Value::String(_) => {
                let encoded = protocol::blob_input_base64(value).unwrap_or_default();
                write_str(&encoded, out);
                Ok(())
            }
            _ => Err(type_error(shape, "a string (blob)", value)),
        },
        ShapeType::Timestamp => {
            let t = timestamp::from_input(value)
                .ok_or_else(|| type_error(shape, "a timestamp", value))?;
            let format = member
                .and_then(|m| m.timestamp_format())
                .or(shape.timestamp_format.as_deref())
                .unwrap_or("unixTimestamp");
            if format.eq_ignore_ascii_case("iso8601") {
                write_str(&timestamp::to_iso8601(&t), out);
                Ok(())
            } else if format.eq_ignore_ascii_case("rfc822") {
                write_str(&timestamp::to_rfc822(&t), out);
                Ok(())
            } else {
                write_raw(&timestamp::to_epoch_value(&t), out)
            }
        }
        // Strings, numbers (NaN and the infinities arrive as the strings botocore
        // writes), booleans: as given.
        _ => write_raw(value, out),
    }
}

fn type_error(shape: &Shape, expected: &str, got: &Value) -> String {
    let kind = crate::validate::type_name(got);
    format!("expected {expected} for {}, got {kind}", shape.name)
}

fn write_raw(value: &Value, out: &mut Vec<u8>) -> Result<(), String> {
    serde_json::to_writer(&mut *out, value).map_err(|e| e.to_string())
}

fn write_str(s: &str, out: &mut Vec<u8>) {
    // Writing a str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

// ---------------------------------------------------------------------------
// Parsing.

/// Parses a JSON document of shape `shape` into boto3-shaped output.
///
/// Unknown keys and `__type` are skipped, null members dropped, timestamps (epoch
/// numbers or any date string) written as [`timestamp::to_boto3`] strings, blobs kept
/// as their base64 text, documents passed through. An empty body is `{}`.
pub fn parse_body(model: &ServiceModel, shape: ShapeId, body: &[u8]) -> Result<Value, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(protocol::empty());
    }
    let ctx = Ctx {
        model,
        members: RefCell::new(Vec::new()),
        items: RefCell::new(Vec::new()),
        entries: RefCell::new(Vec::new()),
    };
    let seed = Seed {
        ctx: &ctx,
        id: shape,
    };
    // Checking UTF-8 once for the whole body is cheaper than string by string.
    let value = match std::str::from_utf8(body) {
        Ok(text) => {
            let mut de = serde_json::Deserializer::from_str(text);
            let v = seed.deserialize(&mut de).map_err(|e| e.to_string())?;
            de.end().map_err(|e| e.to_string())?;
            v
        }
        Err(_) => {
            let mut de = serde_json::Deserializer::from_slice(body);
            let v = seed.deserialize(&mut de).map_err(|e| e.to_string())?;
            de.end().map_err(|e| e.to_string())?;
            v
        }
    };
    Ok(match value {
        Value::Null => protocol::empty(),
        v => v,
    })
}

/// Shared state of one parse.
///
/// Containers are collected on stacks before they are built, so that each one is
/// allocated once at its exact size (serde_json gives no length up front): a
/// container pushes its entries above its parents' and takes them off when it ends,
/// so one buffer of each kind serves the whole document.
struct Ctx<'m> {
    model: &'m ServiceModel,
    /// Structure members being parsed: (member index, value).
    members: RefCell<Vec<(u32, Value)>>,
    /// List items being parsed.
    items: RefCell<Vec<Value>>,
    /// Map entries being parsed.
    entries: RefCell<Vec<(String, Value)>>,
}

#[derive(Clone, Copy)]
struct Seed<'a, 'm> {
    ctx: &'a Ctx<'m>,
    id: ShapeId,
}

impl<'de> DeserializeSeed<'de> for Seed<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        let shape = self.ctx.model.shape(self.id);
        match shape.kind {
            ShapeType::Structure if shape.document => Value::deserialize(d),
            ShapeType::Structure => d.deserialize_any(StructVisitor {
                ctx: self.ctx,
                shape,
            }),
            ShapeType::List => match &shape.member {
                Some(m) => d.deserialize_any(ListVisitor {
                    item: Seed {
                        ctx: self.ctx,
                        id: m.target,
                    },
                }),
                None => Value::deserialize(d),
            },
            ShapeType::Map => match &shape.value {
                Some(v) => d.deserialize_any(MapVisitor {
                    value: Seed {
                        ctx: self.ctx,
                        id: v.target,
                    },
                }),
                None => Value::deserialize(d),
            },
            ShapeType::Timestamp => d.deserialize_any(TimestampVisitor),
            // Strings, numbers (and "NaN"/"Infinity"/"-Infinity" as strings), booleans,
            // blobs (base64 text): as they come.
            _ => Value::deserialize(d),
        }
    }
}

/// Implements the visitor methods for values of an unexpected JSON type: they are
/// kept as they come, the way botocore passes through what it does not convert.
macro_rules! pass_through {
    (scalars) => {
        fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
            Ok(Value::Bool(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
            Ok(Value::from(v))
        }
        fn visit_str<E>(self, v: &str) -> Result<Value, E> {
            Ok(Value::String(v.to_string()))
        }
        fn visit_string<E>(self, v: String) -> Result<Value, E> {
            Ok(Value::String(v))
        }
        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_none<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
    };
    (seq) => {
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Value, A::Error> {
            Value::deserialize(SeqAccessDeserializer::new(seq))
        }
    };
    (map) => {
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
            Value::deserialize(MapAccessDeserializer::new(map))
        }
    };
}

struct StructVisitor<'a, 'm> {
    ctx: &'a Ctx<'m>,
    shape: &'m Shape,
}

impl<'de> Visitor<'de> for StructVisitor<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a JSON object for structure {}", self.shape.name)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let shape = self.shape;
        let ctx = self.ctx;
        let base = ctx.members.borrow().len();
        // For unions: the first non-null key the model does not know.
        let mut unknown_tag: Option<String> = None;
        while let Some(key) = map.next_key_seed(KeySeed {
            shape,
            want_unknown: shape.union && unknown_tag.is_none(),
        })? {
            match key {
                Key::Member(i) => {
                    let target = shape.members[i].target;
                    let v = map.next_value_seed(Seed { ctx, id: target })?;
                    if !v.is_null() {
                        ctx.members.borrow_mut().push((i as u32, v));
                    }
                }
                Key::Unknown(name) => {
                    if !map.next_value_seed(NullCheck)? {
                        unknown_tag = Some(name);
                    }
                }
                Key::Skip => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let mut scratch = ctx.members.borrow_mut();
        let entries = &mut scratch[base..];
        if entries.is_empty() {
            drop(scratch);
            if let Some(tag) = unknown_tag {
                let mut inner = Map::with_capacity(1);
                inner.insert("name".to_string(), Value::String(tag));
                let mut out = Map::with_capacity(1);
                out.insert("SDK_UNKNOWN_MEMBER".to_string(), Value::Object(inner));
                return Ok(Value::Object(out));
            }
            return Ok(Value::Object(Map::new()));
        }
        // Members in model order, as botocore builds its dict.
        if !entries.windows(2).all(|w| w[0].0 <= w[1].0) {
            entries.sort_by_key(|e| e.0);
        }
        let mut out = Map::with_capacity(entries.len());
        for (i, v) in scratch.drain(base..) {
            let (name, _) = shape.members.get_index(i as usize).expect("member index");
            out.insert(name.clone(), v);
        }
        Ok(Value::Object(out))
    }

    pass_through!(scalars);
    pass_through!(seq);
}

/// A structure key: the index of the member it names, or something to skip.
enum Key {
    Member(usize),
    /// A key the union does not know (kept for `SDK_UNKNOWN_MEMBER`).
    Unknown(String),
    Skip,
}

struct KeySeed<'m> {
    shape: &'m Shape,
    want_unknown: bool,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E>(self, key: &str) -> Result<Key, E> {
        if let Some(i) = member_index(self.shape, key) {
            return Ok(Key::Member(i));
        }
        if self.want_unknown && key != "__type" {
            return Ok(Key::Unknown(key.to_string()));
        }
        Ok(Key::Skip)
    }
}

/// The member whose wire name (its `locationName`, else its name) is `key`.
#[inline]
fn member_index(shape: &Shape, key: &str) -> Option<usize> {
    let members = &shape.members;
    if members.len() <= 16 {
        // Comparing a few short names beats hashing the key.
        return members
            .iter()
            .position(|(name, m)| m.location_name.as_deref().unwrap_or(name) == key);
    }
    if let Some(i) = members.get_index_of(key) {
        if wire_name(members, i) == key {
            return Some(i);
        }
    }
    members
        .values()
        .position(|m| m.location_name.as_deref() == Some(key))
}

#[inline]
fn wire_name(members: &indexmap::IndexMap<String, ShapeRef>, i: usize) -> &str {
    let (name, m) = members.get_index(i).expect("member index");
    m.location_name.as_deref().unwrap_or(name)
}

/// Reads and discards a value, telling whether it was `null`.
struct NullCheck;

impl<'de> DeserializeSeed<'de> for NullCheck {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NullCheck {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_none<E>(self) -> Result<bool, E> {
        Ok(true)
    }
    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }
}

struct ListVisitor<'a, 'm> {
    item: Seed<'a, 'm>,
}

impl<'de> Visitor<'de> for ListVisitor<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let items = &self.item.ctx.items;
        let base = items.borrow().len();
        // Lists are sparse when parsing: null items stay, as in botocore.
        while let Some(v) = seq.next_element_seed(self.item)? {
            items.borrow_mut().push(v);
        }
        let mut items = items.borrow_mut();
        let mut out = Vec::with_capacity(items.len() - base);
        out.extend(items.drain(base..));
        Ok(Value::Array(out))
    }

    pass_through!(scalars);
    pass_through!(map);
}

struct MapVisitor<'a, 'm> {
    value: Seed<'a, 'm>,
}

impl<'de> Visitor<'de> for MapVisitor<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let entries = &self.value.ctx.entries;
        let base = entries.borrow().len();
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value_seed(self.value)?;
            // Dense maps skip null values.
            if !v.is_null() {
                entries.borrow_mut().push((k, v));
            }
        }
        let mut entries = entries.borrow_mut();
        let mut out = Map::with_capacity(entries.len() - base);
        for (k, v) in entries.drain(base..) {
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }

    pass_through!(scalars);
    pass_through!(seq);
}

struct TimestampVisitor;

impl TimestampVisitor {
    fn epoch(secs: f64, original: Value) -> Value {
        match timestamp::from_epoch(secs) {
            Some(t) => Value::String(timestamp::to_boto3(&t)),
            None => original,
        }
    }
}

impl<'de> Visitor<'de> for TimestampVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a timestamp")
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Self::epoch(v as f64, Value::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Self::epoch(v as f64, Value::from(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Self::epoch(v, Value::from(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(match timestamp::parse(v) {
            Some(t) => timestamp::to_boto3(&t),
            None => v.to_string(),
        }))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    pass_through!(seq);
    pass_through!(map);
}

// ---------------------------------------------------------------------------
// Errors.

/// Parses a JSON-protocol error response (json and rest-json): code from
/// `x-amzn-errortype`, `__type` or `code`, message from `message`/`Message`,
/// modeled fields from the error shape.
pub fn parse_error(model: &ServiceModel, op: &Operation, resp: &Response) -> ServiceError {
    let body = error_body(resp.body);
    let text = |key: &str| {
        body.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };

    let mut code = resp
        .header("x-amzn-errortype")
        .filter(|s| !s.is_empty())
        .or_else(|| text("__type"))
        .or_else(|| text("code"))
        .or_else(|| text("Code"))
        .map(|c| protocol::clean_error_code(c).to_string())
        .filter(|c| !c.is_empty());
    // Services that moved from `query` to JSON send the old code in a header.
    if let Some(query_error) = resp.header("x-amzn-query-error") {
        let mut parts = query_error.split(';');
        if let (Some(c), Some(_), None) = (parts.next(), parts.next(), parts.next()) {
            if !c.is_empty() {
                code = Some(c.to_string());
            }
        }
    }

    let mut message = text("message")
        .or_else(|| text("Message"))
        .or_else(|| text("errorMessage"))
        .unwrap_or("")
        .to_string();
    let code = match code {
        Some(c) => c,
        None => {
            // A response that is not the protocol's (a proxy's or load balancer's
            // page): the status is all there is, as in botocore.
            if message.is_empty()
                || (resp.status >= 500 && resp.body.trim_ascii_start().starts_with(b"<html>"))
            {
                message = crate::protocol::reason_phrase(resp.status).to_string();
            }
            resp.status.to_string()
        }
    };
    let request_id = resp
        .header("x-amzn-requestid")
        .or_else(|| resp.header("x-amz-request-id"))
        .map(str::to_string);

    let fields = match protocol::error_shape(model, op, &code) {
        Some(shape) if !body.is_empty() => match parse_body(model, shape, resp.body) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        },
        _ => Map::new(),
    };
    super::service_error(resp, code, message, request_id, fields)
}

/// The error body as a JSON object: empty for an empty body, `{"message": <text>}`
/// when it is not JSON (as botocore does).
fn error_body(body: &[u8]) -> Map<String, Value> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Map::new();
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => map,
        Ok(_) => Map::new(),
        Err(_) => {
            let mut map = Map::new();
            map.insert(
                "message".to_string(),
                Value::String(String::from_utf8_lossy(body).into_owned()),
            );
            map
        }
    }
}

#[cfg(test)]
mod tests;
