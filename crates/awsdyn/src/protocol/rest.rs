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

mod response;
mod text;

pub use response::*;
pub use text::*;

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
    r.and_then(|r| r.timestamp_format())
        .or(s.timestamp_format.as_deref())
}

/// The `xmlNamespace` of a reference, else of its target shape.
pub fn xml_namespace<'a>(r: Option<&'a ShapeRef>, s: &'a Shape) -> Option<&'a XmlNamespace> {
    r.and_then(|r| r.xml_namespace())
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
    op_ref.and_then(|r| r.payload()).or(s.payload.as_deref())
}

fn jsonvalue(r: &ShapeRef, s: &Shape) -> bool {
    r.jsonvalue || s.jsonvalue
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
                let v = uri_value(model, op, name, member, value)?;
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
                        .map(|i| uri_value(model, op, name, m, i))
                        .collect::<Result<Vec<_>, _>>()?;
                    set_query(&mut query, key, QueryValue::Many(vals));
                }
                _ => {
                    let v = uri_value(model, op, name, member, value)?;
                    set_query(&mut query, key, QueryValue::One(v));
                }
            },
            Some(Location::Header) => {
                if target.kind == ShapeType::List && value.as_array().is_some_and(|a| a.is_empty())
                {
                    // Empty lists are not sent.
                    continue;
                }
                let v = header_value(model, op, name, member, value)?;
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
            uri_value(model, op, name, r, v)
        }
        Some(r) => {
            let list = model.shape(r.target);
            match list.member.as_ref() {
                Some(m) => uri_value(model, op, name, m, v),
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

#[cfg(test)]
mod tests;
