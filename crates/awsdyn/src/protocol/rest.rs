//! HTTP bindings shared by `rest-json` and `rest-xml`: URI labels (greedy too), query
//! strings, headers (incl. `headers` prefix maps), status code, and payload members.
//!
//! Request side: [`serialize_http`] fills the method, the URI (path and query string)
//! and the headers of a request and hands back the members that go into the body; the
//! protocol modules write the body. Response side: [`parse_http`] reads the
//! header/status-bound members of an output or error shape, and [`payload`] tells the
//! protocol modules how the body is bound.
//!
//! Encoding follows botocore: URI labels keep only the unreserved characters
//! (`A-Za-z0-9-._~`), greedy labels `{Key+}` keep `/` too; query keys and values keep
//! only the unreserved characters; constant query strings written in `requestUri`
//! (`/path?uploads`, `?list-type=2`) are kept as written.

use base64::Engine;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{Map, Value};

use crate::model::{
    Location, Operation, ServiceModel, Shape, ShapeId, ShapeRef, ShapeType, XmlNamespace,
};
use crate::protocol::{Request, Response};
use crate::timestamp::{self, Timestamp};
use crate::Error;

/// Characters percent-encoded in URI labels, query keys and query values: all but
/// the unreserved characters.
const LABEL: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// Greedy labels (`{Key+}`) also keep `/`.
const GREEDY_LABEL: &AsciiSet = &LABEL.remove(b'/');

/// Percent-encodes a URI label or a query key/value as botocore does.
pub fn encode_label(s: &str) -> String {
    utf8_percent_encode(s, LABEL).to_string()
}

/// Percent-encodes a greedy URI label (`{Key+}`): like [`encode_label`] but `/` stays.
pub fn encode_greedy_label(s: &str) -> String {
    utf8_percent_encode(s, GREEDY_LABEL).to_string()
}

// ---------------------------------------------------------------------------
// Traits as botocore sees them: the member reference's traits over the shape's.

/// The serialized name of a member/list member/map key: the reference's
/// `locationName`, else the target shape's.
pub fn location_name<'a>(r: &'a ShapeRef, s: &'a Shape) -> Option<&'a str> {
    r.location_name.as_deref().or(s.location_name.as_deref())
}

/// The `timestampFormat` of a reference, else of its target shape.
pub fn timestamp_format<'a>(r: Option<&'a ShapeRef>, s: &'a Shape) -> Option<&'a str> {
    r.and_then(|r| r.timestamp_format.as_deref())
        .or(s.timestamp_format.as_deref())
}

/// The `xmlNamespace` of a reference, else of its target shape.
pub fn xml_namespace<'a>(r: Option<&'a ShapeRef>, s: &'a Shape) -> Option<&'a XmlNamespace> {
    r.and_then(|r| r.xml_namespace.as_ref())
        .or(s.xml_namespace.as_ref())
}

/// Whether a reference (or its target list/map shape) is flattened.
pub fn flattened(r: Option<&ShapeRef>, s: &Shape) -> bool {
    r.is_some_and(|r| r.flattened) || s.flattened
}

/// Where a member is bound: the reference's `location`.
///
/// botocore also honours a `location` written on the target shape (only the legacy
/// test models do that); `Shape` does not carry that trait yet.
pub fn member_location(r: &ShapeRef, _s: &Shape) -> Option<Location> {
    r.location
}

/// The `payload` member of a structure used as an operation's input or output.
///
/// botocore also honours a `payload` written on the operation's input/output
/// reference (only older models do that), which wins.
pub fn payload_member<'a>(op_ref: Option<&'a ShapeRef>, s: &'a Shape) -> Option<&'a str> {
    op_ref
        .and_then(|r| r.payload.as_deref())
        .or(s.payload.as_deref())
}

fn jsonvalue(r: &ShapeRef, s: &Shape) -> bool {
    r.jsonvalue || s.jsonvalue
}

// ---------------------------------------------------------------------------
// Scalars written as text, the way Python's `str()` writes them.

/// Python's `repr(float)`: shortest round-trip digits, exponent form outside
/// `1e-4 <= |x| < 1e16`, always a `.0` on integral values in fixed form.
pub fn py_float(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let a = x.abs();
    if (1e-4..1e16).contains(&a) {
        let s = format!("{x}");
        if s.contains('.') {
            s
        } else {
            s + ".0"
        }
    } else {
        // `{:e}` gives the shortest digits: `1.5e-5`, `1e16`.
        let s = format!("{x:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
}

/// A number as Python prints it: integers as integers, floats as [`py_float`].
fn py_number(n: &serde_json::Number) -> String {
    if n.is_f64() {
        py_float(n.as_f64().unwrap_or(0.0))
    } else {
        n.to_string()
    }
}

/// `str(value)` of a scalar input value.
fn py_str(v: &Value) -> Option<String> {
    Some(match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => py_number(n),
        Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        _ => return None,
    })
}

/// A float/double given in input: numbers as Python prints them, the special values
/// `NaN`, `Infinity` and `-Infinity` given as strings.
fn float_text(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(py_number(n)),
        Value::String(s) => Some(match s.as_str() {
            "NaN" | "nan" => "NaN".into(),
            "Infinity" | "inf" => "Infinity".into(),
            "-Infinity" | "-inf" => "-Infinity".into(),
            other => other.to_string(),
        }),
        _ => None,
    }
}

/// A boolean given in input, as `true`/`false`.
fn bool_text(v: &Value) -> Option<String> {
    match v {
        Value::Bool(b) => Some(b.to_string()),
        Value::String(s) => Some(s.to_ascii_lowercase()),
        Value::Number(n) => Some((n.as_f64() != Some(0.0)).to_string()),
        _ => None,
    }
}

/// Writes a timestamp in the named wire format (`iso8601`, `rfc822`,
/// `unixTimestamp`), as botocore does with its default precision.
pub fn format_timestamp(t: &Timestamp, format: &str) -> String {
    if format.eq_ignore_ascii_case("rfc822") {
        timestamp::to_rfc822(t)
    } else if format.eq_ignore_ascii_case("unixtimestamp") {
        t.timestamp().to_string()
    } else {
        timestamp::to_iso8601(t)
    }
}

fn input_timestamp(v: &Value, op: &Operation, member: &str) -> Result<Timestamp, Error> {
    timestamp::from_input(v).ok_or_else(|| invalid(op, format!("{member}: invalid timestamp {v}")))
}

fn invalid(op: &Operation, message: String) -> Error {
    Error::Validation {
        operation: op.name.clone(),
        message,
    }
}

/// A scalar bound to the URI or the query string (botocore's
/// `_get_uri_and_query_string_value`).
fn uri_value(
    model: &ServiceModel,
    op: &Operation,
    name: &str,
    r: Option<&ShapeRef>,
    id: ShapeId,
    v: &Value,
) -> Result<String, Error> {
    let shape = model.shape(id);
    let text = match shape.kind {
        ShapeType::Boolean => bool_text(v),
        ShapeType::Timestamp => {
            let t = input_timestamp(v, op, name)?;
            Some(format_timestamp(
                &t,
                timestamp_format(r, shape).unwrap_or("iso8601"),
            ))
        }
        ShapeType::Float | ShapeType::Double => float_text(v),
        _ => py_str(v),
    };
    text.ok_or_else(|| invalid(op, format!("{name}: expected a scalar value, got {v}")))
}

/// A scalar or list bound to a header (botocore's `_convert_header_value`).
fn header_value(
    model: &ServiceModel,
    op: &Operation,
    name: &str,
    r: Option<&ShapeRef>,
    id: ShapeId,
    v: &Value,
) -> Result<String, Error> {
    let shape = model.shape(id);
    let bad = || invalid(op, format!("{name}: unexpected value {v} for a header"));
    Ok(match shape.kind {
        ShapeType::Timestamp => {
            // Headers carry whole seconds.
            let t = input_timestamp(v, op, name)?;
            let t = timestamp::from_epoch(t.timestamp() as f64).unwrap_or(t);
            format_timestamp(&t, timestamp_format(r, shape).unwrap_or("rfc822"))
        }
        ShapeType::List => {
            let items = v.as_array().ok_or_else(bad)?;
            let m = shape.member.as_ref().ok_or_else(bad)?;
            let member_shape = model.shape(m.target);
            let mut parts = Vec::with_capacity(items.len());
            for item in items.iter().filter(|i| !i.is_null()) {
                if member_shape.kind == ShapeType::String {
                    parts.push(quote_header_list_item(&py_str(item).ok_or_else(bad)?));
                } else {
                    parts.push(header_value(model, op, name, Some(m), m.target, item)?);
                }
            }
            parts.join(",")
        }
        ShapeType::String if r.is_some_and(|r| jsonvalue(r, shape)) => {
            base64::engine::general_purpose::STANDARD.encode(compact_ascii_json(v))
        }
        ShapeType::Boolean => bool_text(v).ok_or_else(bad)?,
        ShapeType::Float | ShapeType::Double => float_text(v).ok_or_else(bad)?,
        // Smithy sends blob headers as base64 (botocore would write Python's repr).
        ShapeType::Blob => match v {
            Value::String(s) => base64::engine::general_purpose::STANDARD.encode(s.as_bytes()),
            _ => return Err(bad()),
        },
        _ => py_str(v).ok_or_else(bad)?,
    })
}

/// Quotes one string of a list header as botocore does: values holding a comma or a
/// double quote are wrapped in double quotes, inner quotes escaped with `\`.
pub fn quote_header_list_item(s: &str) -> String {
    if s.contains('"') || s.contains(',') {
        format!("\"{}\"", s.replace('"', "\\\""))
    } else {
        s.to_string()
    }
}

/// `json.dumps(value, separators=(',', ':'))`: compact, non-ASCII escaped as `\uXXXX`.
pub fn compact_ascii_json(v: &Value) -> String {
    let s = serde_json::to_string(v).unwrap_or_default();
    if s.is_ascii() {
        return s;
    }
    let mut out = String::with_capacity(s.len() + 16);
    let mut buf = [0u16; 2];
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            for unit in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Requests.

/// How the request body is bound.
pub enum BodyBinding<'a> {
    /// No input shape, or no member left for the body.
    None,
    /// The members of the input shape without a location (non-null, in input order).
    Members {
        shape: ShapeId,
        members: Map<String, Value>,
    },
    /// A blob or string `payload` member: the body is its raw value (`None` when absent).
    Raw {
        member: &'a ShapeRef,
        blob: bool,
        value: Option<&'a Value>,
    },
    /// A structure (or other non-scalar) `payload` member (`None` when absent).
    Payload {
        name: &'a str,
        member: &'a ShapeRef,
        value: Option<&'a Value>,
    },
}

/// The HTTP-bound part of a request: method, URI, headers, and what goes in the body.
pub struct HttpRequest<'a> {
    pub request: Request,
    pub body: BodyBinding<'a>,
    /// The input shape has a member not bound to the URI, query string or headers
    /// (rest-json then sends `{}` even when no such member is set).
    pub has_body_members: bool,
}

enum QueryValue {
    One(String),
    Many(Vec<String>),
}

/// Serializes the URI, query string and header bindings of `input` for `op`.
pub fn serialize_http<'a>(
    model: &'a ServiceModel,
    op: &'a Operation,
    input: &'a Value,
) -> Result<HttpRequest<'a>, Error> {
    let method = super::http_method(op);
    let uri_template = if op.http.request_uri.is_empty() {
        "/"
    } else {
        op.http.request_uri.as_str()
    };
    let mut request = Request {
        method,
        ..Request::default()
    };
    let Some(input_ref) = &op.input else {
        request.uri = uri_template.to_string();
        return Ok(HttpRequest {
            request,
            body: BodyBinding::None,
            has_body_members: false,
        });
    };
    let shape_id = input_ref.target;
    let shape = model.shape(shape_id);
    static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);
    let params = match input {
        Value::Object(o) => o,
        Value::Null => &*EMPTY,
        other => return Err(invalid(op, format!("input must be an object, got {other}"))),
    };

    let mut labels: Vec<(&str, String)> = Vec::new();
    // Query parameters in order; `true` marks those set by a named member (they win
    // over the same key from a map member).
    let mut query: Vec<(String, QueryValue, bool)> = Vec::new();
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut body_members = Map::new();

    let set_header = |headers: &mut Vec<(String, String)>, k: String, v: String| {
        if let Some(h) = headers.iter_mut().find(|(n, _)| *n == k) {
            h.1 = v;
        } else {
            headers.push((k, v));
        }
    };

    for (name, value) in params {
        if value.is_null() {
            continue;
        }
        let member = shape
            .members
            .get(name)
            .ok_or_else(|| invalid(op, format!("unknown parameter {name:?}")))?;
        let target = model.shape(member.target);
        let key = location_name(member, target).unwrap_or(name);
        match member_location(member, target) {
            Some(Location::Uri) => {
                let v = uri_value(model, op, name, Some(member), member.target, value)?;
                labels.push((key, v));
            }
            Some(Location::Querystring) => match (target.kind, value) {
                (ShapeType::Map, Value::Object(map)) => {
                    let value_ref = target.value.as_deref();
                    for (k, v) in map {
                        let qv = match v {
                            Value::Array(items) => QueryValue::Many(
                                items
                                    .iter()
                                    .filter(|i| !i.is_null())
                                    .map(|i| query_map_value(model, op, name, value_ref, i))
                                    .collect::<Result<_, _>>()?,
                            ),
                            Value::Null => continue,
                            v => QueryValue::One(query_map_value(model, op, name, value_ref, v)?),
                        };
                        match query.iter_mut().find(|(qk, _, _)| qk == k) {
                            Some((_, _, true)) => {}
                            Some(slot) => slot.1 = qv,
                            None => query.push((k.clone(), qv, false)),
                        }
                    }
                }
                (ShapeType::List, Value::Array(items)) => {
                    let m = target
                        .member
                        .as_ref()
                        .ok_or_else(|| invalid(op, format!("{name}: list without member")))?;
                    let vals = items
                        .iter()
                        .filter(|i| !i.is_null())
                        .map(|i| uri_value(model, op, name, Some(m), m.target, i))
                        .collect::<Result<Vec<_>, _>>()?;
                    set_query(&mut query, key, QueryValue::Many(vals));
                }
                _ => {
                    let v = uri_value(model, op, name, Some(member), member.target, value)?;
                    set_query(&mut query, key, QueryValue::One(v));
                }
            },
            Some(Location::Header) => {
                if target.kind == ShapeType::List && value.as_array().is_some_and(|a| a.is_empty())
                {
                    // Empty lists are not sent.
                    continue;
                }
                let v = header_value(model, op, name, Some(member), member.target, value)?;
                set_header(&mut headers, key.to_string(), v);
            }
            Some(Location::Headers) => {
                let map = value.as_object().ok_or_else(|| {
                    invalid(
                        op,
                        format!("{name}: expected a map of headers, got {value}"),
                    )
                })?;
                for (k, v) in map {
                    if v.is_null() {
                        continue;
                    }
                    let v = py_str(v).ok_or_else(|| {
                        invalid(op, format!("{name}.{k}: expected a string, got {v}"))
                    })?;
                    set_header(&mut headers, format!("{key}{k}"), v);
                }
            }
            Some(Location::StatusCode) | None => {
                body_members.insert(name.clone(), value.clone());
            }
        }
    }

    request.uri = render_uri(op, uri_template, &labels)?;
    if !query.is_empty() {
        let mut qs = String::new();
        for (k, v, _) in &query {
            let k = encode_label(k);
            let mut push = |v: &str| {
                if !qs.is_empty() {
                    qs.push('&');
                }
                qs.push_str(&k);
                qs.push('=');
                qs.push_str(&encode_label(v));
            };
            match v {
                QueryValue::One(v) => push(v),
                QueryValue::Many(vs) => vs.iter().for_each(|v| push(v)),
            }
        }
        if !qs.is_empty() {
            request
                .uri
                .push(if request.uri.contains('?') { '&' } else { '?' });
            request.uri.push_str(&qs);
        }
    }
    request.headers = headers;

    let has_body_members = shape
        .members
        .values()
        .any(|m| member_location(m, model.shape(m.target)).is_none());
    let body = match payload_member(Some(input_ref), shape) {
        Some(p) => {
            let member = shape.members.get(p).ok_or_else(|| {
                Error::Model(format!(
                    "{}: payload member {p} is not a member of the input",
                    op.name
                ))
            })?;
            let value = params.get(p).filter(|v| !v.is_null());
            match model.shape(member.target).kind {
                ShapeType::Blob => BodyBinding::Raw {
                    member,
                    blob: true,
                    value,
                },
                ShapeType::String => BodyBinding::Raw {
                    member,
                    blob: false,
                    value,
                },
                _ => BodyBinding::Payload {
                    name: p,
                    member,
                    value,
                },
            }
        }
        None if body_members.is_empty() => BodyBinding::None,
        None => BodyBinding::Members {
            shape: shape_id,
            members: body_members,
        },
    };
    Ok(HttpRequest {
        request,
        body,
        has_body_members,
    })
}

fn set_query(query: &mut Vec<(String, QueryValue, bool)>, key: &str, v: QueryValue) {
    match query.iter_mut().find(|(k, _, _)| k == key) {
        Some(slot) => {
            slot.1 = v;
            slot.2 = true;
        }
        None => query.push((key.to_string(), v, true)),
    }
}

/// A value of a map bound to the query string: botocore writes it as given.
fn query_map_value(
    model: &ServiceModel,
    op: &Operation,
    name: &str,
    value_ref: Option<&ShapeRef>,
    v: &Value,
) -> Result<String, Error> {
    match value_ref {
        Some(r) if model.shape(r.target).kind != ShapeType::List => {
            uri_value(model, op, name, Some(r), r.target, v)
        }
        Some(r) => {
            let list = model.shape(r.target);
            match list.member.as_ref() {
                Some(m) => uri_value(model, op, name, Some(m), m.target, v),
                None => py_str(v)
                    .ok_or_else(|| invalid(op, format!("{name}: unexpected query value {v}"))),
            }
        }
        None => py_str(v).ok_or_else(|| invalid(op, format!("{name}: unexpected query value {v}"))),
    }
}

/// Expands the `{Label}` and `{Label+}` placeholders of `requestUri`.
fn render_uri(op: &Operation, template: &str, labels: &[(&str, String)]) -> Result<String, Error> {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .map(|e| e + start)
            .ok_or_else(|| Error::Model(format!("{}: bad requestUri {template:?}", op.name)))?;
        let label = &rest[start + 1..end];
        let (label, greedy) = match label.strip_suffix('+') {
            Some(l) => (l, true),
            None => (label, false),
        };
        let value = labels
            .iter()
            .find(|(k, _)| *k == label)
            .map(|(_, v)| v)
            .ok_or_else(|| {
                invalid(
                    op,
                    format!("missing required parameter {label:?} (a URI label)"),
                )
            })?;
        if greedy {
            out.push_str(&encode_greedy_label(value));
        } else {
            out.push_str(&encode_label(value));
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

// ---------------------------------------------------------------------------
// Responses.

/// How the response body of a shape is bound.
pub enum PayloadBinding<'a> {
    /// The body holds the shape's non-located members.
    Members,
    /// A blob or string payload member: the raw body.
    Raw { name: &'a str, blob: bool },
    /// A structure (or other) payload member: the body is that shape's document.
    Shape { name: &'a str, target: ShapeId },
    /// An event stream payload: not supported, the member is left out.
    EventStream,
}

/// How `shape`'s members are bound to the response body.
pub fn payload<'a>(model: &'a ServiceModel, op_ref: &'a ShapeRef) -> PayloadBinding<'a> {
    let s = model.shape(op_ref.target);
    let Some(name) = payload_member(Some(op_ref), s) else {
        return PayloadBinding::Members;
    };
    let Some((name, member)) = s.members.get_key_value(name) else {
        return PayloadBinding::Members;
    };
    let target = model.shape(member.target);
    if target.eventstream {
        return PayloadBinding::EventStream;
    }
    match target.kind {
        ShapeType::Blob => PayloadBinding::Raw { name, blob: true },
        ShapeType::String => PayloadBinding::Raw { name, blob: false },
        _ => PayloadBinding::Shape {
            name,
            target: member.target,
        },
    }
}

/// Reads the members of `shape` bound to the status code, to headers and to header
/// prefix maps into `out` (in member order).
pub fn parse_http(
    model: &ServiceModel,
    shape: ShapeId,
    resp: &Response,
    out: &mut Map<String, Value>,
) -> Result<(), String> {
    for (name, member) in &model.shape(shape).members {
        if let Some(v) = parse_http_member(model, name, member, resp)? {
            out.insert(name.clone(), v);
        }
    }
    Ok(())
}

/// One member bound to the status code, a header or a header prefix map; `None` when
/// the member is bound to the body or its header is absent.
fn parse_http_member(
    model: &ServiceModel,
    name: &str,
    member: &ShapeRef,
    resp: &Response,
) -> Result<Option<Value>, String> {
    let target = model.shape(member.target);
    Ok(match member_location(member, target) {
        Some(Location::StatusCode) => Some(Value::from(resp.status)),
        Some(Location::Headers) => {
            let prefix = location_name(member, target).unwrap_or("");
            let mut map = Map::new();
            for (k, v) in resp.headers {
                if k.len() >= prefix.len()
                    && k.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
                {
                    map.insert(k[prefix.len()..].to_string(), Value::String(v.clone()));
                }
            }
            Some(Value::Object(map))
        }
        Some(Location::Header) => {
            let header = location_name(member, target).unwrap_or(name);
            match resp.header(header) {
                Some(v) => Some(
                    parse_header_value(model, member, member.target, v)
                        .map_err(|e| format!("header {header}: {e}"))?,
                ),
                None => None,
            }
        }
        _ => None,
    })
}

/// Parses one header value into boto3-shaped output for the member `r` of shape `id`.
pub fn parse_header_value(
    model: &ServiceModel,
    r: &ShapeRef,
    id: ShapeId,
    v: &str,
) -> Result<Value, String> {
    let shape = model.shape(id);
    Ok(match shape.kind {
        ShapeType::String if jsonvalue(r, shape) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(v.trim())
                .map_err(|e| format!("not base64: {e}"))?;
            serde_json::from_slice(&bytes).map_err(|e| format!("not JSON: {e}"))?
        }
        ShapeType::Integer
        | ShapeType::Long
        | ShapeType::Short
        | ShapeType::Byte
        | ShapeType::Biginteger => {
            let t = v.trim();
            match t.parse::<i64>() {
                Ok(i) => Value::from(i),
                Err(_) => match t.parse::<u64>() {
                    Ok(u) => Value::from(u),
                    Err(_) => return Err(format!("not an integer: {v:?}")),
                },
            }
        }
        ShapeType::Float | ShapeType::Double | ShapeType::Bigdecimal => {
            float_output(v.trim()).ok_or_else(|| format!("not a number: {v:?}"))?
        }
        ShapeType::Boolean => Value::Bool(v.trim().eq_ignore_ascii_case("true")),
        ShapeType::Timestamp => {
            let t = timestamp::parse(v).ok_or_else(|| format!("not a timestamp: {v:?}"))?;
            Value::String(timestamp::to_boto3(&t))
        }
        ShapeType::List => {
            let m = shape.member.as_ref().ok_or("list without member")?;
            let member_shape = model.shape(m.target);
            let mut items = split_header_list(v);
            if member_shape.kind == ShapeType::Timestamp {
                items = join_http_dates(items);
            }
            let mut out = Vec::with_capacity(items.len());
            for item in &items {
                out.push(parse_header_value(model, m, m.target, item)?);
            }
            Value::Array(out)
        }
        _ => Value::String(v.to_string()),
    })
}

/// A float read from text: `NaN`, `Infinity` and `-Infinity` as those strings.
fn float_output(t: &str) -> Option<Value> {
    let f: f64 = match t.to_ascii_lowercase().as_str() {
        "nan" => return Some(Value::String("NaN".into())),
        "inf" | "infinity" | "+inf" | "+infinity" => return Some(Value::String("Infinity".into())),
        "-inf" | "-infinity" => return Some(Value::String("-Infinity".into())),
        _ => t.parse().ok()?,
    };
    serde_json::Number::from_f64(f).map(Value::Number)
}

/// Splits a list header (RFC 7230): items separated by commas, optional whitespace
/// around them; an item may be a quoted string with `\` escapes.
pub fn split_header_list(v: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut chars = v.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        let mut item = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            item.push(n);
                        }
                    }
                    '"' => break,
                    c => item.push(c),
                }
            }
            // Skip anything up to the next comma.
            for c in chars.by_ref() {
                if c == ',' {
                    break;
                }
            }
            items.push(item);
            if chars.peek().is_none() && !v.trim_end().ends_with(',') {
                break;
            }
        } else {
            let mut ended = true;
            for c in chars.by_ref() {
                if c == ',' {
                    ended = false;
                    break;
                }
                item.push(c);
            }
            items.push(item.trim().to_string());
            if ended {
                break;
            }
        }
    }
    items
}

/// HTTP dates hold a comma (`Mon, 16 Dec 2019 23:48:18 GMT`): after splitting a list
/// of them on commas, joins each day name back to its date.
fn join_http_dates(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    let mut pending: Option<String> = None;
    for item in items {
        if let Some(day) = pending.take() {
            out.push(format!("{day}, {item}"));
            continue;
        }
        if item.len() >= 3 && item.chars().all(|c| c.is_ascii_alphabetic()) {
            pending = Some(item);
        } else {
            out.push(item);
        }
    }
    out.extend(pending);
    out
}

/// The request id of a REST response: `x-amzn-requestid`, else `x-amz-request-id`.
pub fn request_id(resp: &Response) -> Option<String> {
    resp.header("x-amzn-requestid")
        .or_else(|| resp.header("x-amz-request-id"))
        .map(str::to_string)
}

/// Adds the header- and status-bound members of the modeled error shape for `code`
/// (if any) to `fields`, as botocore's modeled error parse does. A malformed header
/// leaves its member out rather than hiding the error.
pub fn add_error_http_fields(
    model: &ServiceModel,
    op: &Operation,
    resp: &Response,
    code: &str,
    fields: &mut Map<String, Value>,
) {
    let Some(id) = crate::protocol::error_shape(model, op, code) else {
        return;
    };
    for (name, member) in &model.shape(id).members {
        if let Ok(Some(v)) = parse_http_member(model, name, member, resp) {
            fields.insert(name.clone(), v);
        }
    }
}

/// Whether a body is empty or only whitespace.
pub fn blank(body: &[u8]) -> bool {
    body.iter().all(|b| b.is_ascii_whitespace())
}

/// The body format of a REST protocol (JSON for rest-json, XML for rest-xml): what
/// [`parse_response`] needs from it.
pub trait BodyFormat {
    /// The members of structure `target` in a non-blank `body`.
    fn members(
        model: &ServiceModel,
        target: ShapeId,
        body: &[u8],
    ) -> Result<Map<String, Value>, String>;
    /// A structure (or document) payload member's value from a non-blank `body`.
    fn payload(model: &ServiceModel, target: ShapeId, body: &[u8]) -> Result<Value, String> {
        Self::members(model, target, body).map(Value::Object)
    }
    /// The service error in an error response's body, with code, message and the
    /// body's fields; `None` when the body holds no error the format recognises.
    fn error(model: &ServiceModel, op: &Operation, resp: &Response) -> Option<crate::ServiceError>;
}

/// A REST response parsed the way both REST protocols parse it: a status of 301 or
/// more is an error ([`parse_error`]); otherwise the header/status-bound members, then
/// the body per the payload binding (members, a raw blob/string payload, or a
/// structure payload).
pub fn parse_response<F: BodyFormat>(
    model: &ServiceModel,
    op: &Operation,
    resp: &Response,
) -> Result<Value, Error> {
    if resp.status >= 301 {
        return Err(Error::Service(parse_error::<F>(model, op, resp)));
    }
    let parse_err = |message: String| Error::Parse {
        operation: op.name.clone(),
        status: resp.status,
        message,
    };
    let mut out = Map::new();
    let Some(output) = &op.output else {
        return Ok(Value::Object(out));
    };
    parse_http(model, output.target, resp, &mut out).map_err(parse_err)?;
    match payload(model, output) {
        PayloadBinding::Members => {
            if !blank(resp.body) {
                out.extend(F::members(model, output.target, resp.body).map_err(parse_err)?);
            }
        }
        PayloadBinding::Raw { name, blob } => {
            let v = if blob {
                crate::protocol::blob_output(resp.body)
            } else {
                Value::String(String::from_utf8_lossy(resp.body).into_owned())
            };
            out.insert(name.to_string(), v);
        }
        PayloadBinding::Shape { name, target } => {
            let v = if blank(resp.body) {
                Value::Object(Map::new())
            } else {
                F::payload(model, target, resp.body).map_err(parse_err)?
            };
            out.insert(name.to_string(), v);
        }
        PayloadBinding::EventStream => {}
    }
    Ok(Value::Object(out))
}

/// A REST error: the body's error when the format finds one with a code; otherwise
/// (an empty body, as HEAD requests get, or a 5xx with a generic HTML page and no
/// `x-amzn-errortype`) one named by the HTTP status (`404`, `Not Found`). The request
/// id comes from the headers when the body has none, and the header- and status-bound
/// members of the modeled error shape are added to the fields.
pub fn parse_error<F: BodyFormat>(
    model: &ServiceModel,
    op: &Operation,
    resp: &Response,
) -> crate::ServiceError {
    let trimmed = resp.body.trim_ascii();
    let generic = resp.header("x-amzn-errortype").is_none()
        && (trimmed.is_empty() || (resp.status >= 500 && trimmed.starts_with(b"<html>")));
    let mut err = if generic {
        None
    } else {
        F::error(model, op, resp).filter(|e| !e.code.is_empty())
    }
    .unwrap_or_else(|| crate::ServiceError {
        code: resp.status.to_string(),
        message: crate::protocol::reason_phrase(resp.status).to_string(),
        request_id: None,
        status: resp.status,
        fields: Map::new(),
    });
    if err.request_id.is_none() {
        err.request_id = request_id(resp);
    }
    let code = err.code.clone();
    add_error_http_fields(model, op, resp, &code, &mut err.fields);
    err
}

#[cfg(test)]
mod tests;
