//! The AWS wire protocols: request serialization and response parsing, driven by the
//! shapes of a [`ServiceModel`].
//!
//! Input and output are boto3-shaped JSON: member names as in the model; timestamps
//! in output as Python's `isoformat()` writes boto3's datetimes (see
//! [`crate::timestamp::to_boto3`]); blobs in output as base64 strings and in input as
//! strings whose UTF-8 bytes are the blob; `ResponseMetadata` omitted.

use serde_json::{Map, Value};

use crate::model::{Operation, Protocol, ServiceModel, ShapeId, ShapeType};
use crate::Error;

pub mod ec2;
pub mod json;
pub(crate) mod pretty;
pub mod query;
pub mod rest;
pub mod rest_json;
pub mod rest_xml;
pub mod xml;

/// A serialized request, before endpoint resolution and signing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    pub method: String,
    /// Path and query string, percent-encoded, starting with `/`; relative to the
    /// endpoint URL's own path (`/custom` + `/` = `/custom/`).
    pub uri: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The operation's host prefix with its labels filled in (`foo.bar.`), if any.
    pub host_prefix: Option<String>,
}

impl Request {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// A received response.
#[derive(Debug, Clone, Copy)]
pub struct Response<'a> {
    pub status: u16,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

impl Response<'_> {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(self.headers, name)
    }
}

fn find_header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Serializes `input` (boto3-shaped parameters) into a request for `op`. Absent
/// idempotency-token members get a random UUID, as in botocore.
pub fn serialize(model: &ServiceModel, op: &Operation, input: &Value) -> Result<Request, Error> {
    serialize_with_token(model, op, input, &|| uuid::Uuid::new_v4().to_string())
}

/// [`serialize`] with the source of idempotency tokens given (tests use a fixed one).
pub fn serialize_with_token(
    model: &ServiceModel,
    op: &Operation,
    input: &Value,
    new_token: &dyn Fn() -> String,
) -> Result<Request, Error> {
    let mut input = input.clone();
    fill_idempotency_tokens(model, op, &mut input, new_token);
    let mut req = match model.protocol()? {
        Protocol::Query => query::serialize(model, op, &input)?,
        Protocol::Ec2 => ec2::serialize(model, op, &input)?,
        Protocol::Json => json::serialize(model, op, &input)?,
        Protocol::RestJson => rest_json::serialize(model, op, &input)?,
        Protocol::RestXml => rest_xml::serialize(model, op, &input)?,
    };
    req.host_prefix = host_prefix(model, op, &input)?;
    compress_body(op, &mut req);
    Ok(req)
}

/// Bodies below this size are sent as they are (botocore's
/// `request_min_compression_size_bytes` default).
pub const MIN_COMPRESSION_SIZE: usize = 10_240;

/// Operations with the `requestcompression` trait listing gzip get their body gzipped
/// once it reaches [`MIN_COMPRESSION_SIZE`], with `gzip` appended to Content-Encoding.
fn compress_body(op: &Operation, req: &mut Request) {
    let Some(rc) = &op.requestcompression else {
        return;
    };
    let gzip = rc["encodings"]
        .as_array()
        .is_some_and(|e| e.iter().any(|x| x == "gzip"));
    if !gzip || req.body.len() < MIN_COMPRESSION_SIZE {
        return;
    }
    // Streaming bodies are not compressed in place (botocore leaves them too).
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    if enc.write_all(&req.body).is_err() {
        return;
    }
    let Ok(body) = enc.finish() else { return };
    req.body = body;
    match req
        .headers
        .iter_mut()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-encoding"))
    {
        Some((_, v)) => {
            v.push_str(", gzip");
        }
        None => req
            .headers
            .push(("Content-Encoding".to_string(), "gzip".to_string())),
    }
}

/// Parses a response to `op`: the boto3-shaped output, or [`Error::Service`] for an
/// error response.
pub fn parse(model: &ServiceModel, op: &Operation, resp: &Response) -> Result<Value, Error> {
    match model.protocol()? {
        Protocol::Query => query::parse(model, op, resp),
        Protocol::Ec2 => ec2::parse(model, op, resp),
        Protocol::Json => json::parse(model, op, resp),
        Protocol::RestJson => rest_json::parse(model, op, resp),
        Protocol::RestXml => rest_xml::parse(model, op, resp),
    }
}

/// Top-level input members marked `idempotencyToken` get a random UUID when absent,
/// as botocore does.
fn fill_idempotency_tokens(
    model: &ServiceModel,
    op: &Operation,
    input: &mut Value,
    new_token: &dyn Fn() -> String,
) {
    let Some(input_ref) = &op.input else { return };
    let shape = model.shape(input_ref.target);
    let Value::Object(obj) = input else { return };
    for (name, member) in &shape.members {
        if member.idempotency_token && !obj.contains_key(name) {
            obj.insert(name.clone(), Value::String(new_token()));
        }
    }
}

/// The operation's `endpoint.hostPrefix` with `{Label}`s replaced by the input's
/// `hostLabel` members.
fn host_prefix(
    model: &ServiceModel,
    op: &Operation,
    input: &Value,
) -> Result<Option<String>, Error> {
    let Some(prefix) = op.endpoint.as_ref().and_then(|e| e.host_prefix.as_ref()) else {
        return Ok(None);
    };
    let mut out = String::with_capacity(prefix.len());
    let mut rest = prefix.as_str();
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .map(|e| e + start)
            .ok_or_else(|| Error::Model(format!("{}: bad hostPrefix {prefix:?}", op.name)))?;
        let label = &rest[start + 1..end];
        let value = input.get(label).and_then(Value::as_str).unwrap_or("");
        if value.is_empty()
            || !value.split('.').all(|part| {
                !part.is_empty()
                    && part.len() < 64
                    && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
        {
            return Err(Error::Validation {
                operation: op.name.clone(),
                message: format!("member {label} must be a valid host label for the host prefix {prefix}, got {value:?}"),
            });
        }
        out.push_str(value);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    let _ = model;
    Ok(Some(out))
}

/// Encodes a blob given in input (a string whose UTF-8 bytes are the blob) as base64.
pub fn blob_input_base64(v: &Value) -> Option<String> {
    use base64::Engine;
    v.as_str()
        .map(|s| base64::engine::general_purpose::STANDARD.encode(s.as_bytes()))
}

/// Encodes bytes received for a blob as the output string (base64).
pub fn blob_output(bytes: &[u8]) -> Value {
    use base64::Engine;
    Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// The operation's HTTP method; `POST` when the model names none.
pub(crate) fn http_method(op: &Operation) -> String {
    if op.http.method.is_empty() {
        "POST".to_string()
    } else {
        op.http.method.clone()
    }
}

/// The service error of a response whose code, message, request id and modeled
/// fields have been read.
pub(crate) fn service_error(
    resp: &Response,
    code: String,
    message: String,
    request_id: Option<String>,
    fields: Map<String, Value>,
) -> crate::ServiceError {
    crate::ServiceError {
        code,
        message,
        request_id,
        status: resp.status,
        fields,
    }
}

/// Strips a botocore error code down to its name: `aws.protocoltests#FooError:http://...`
/// becomes `FooError`.
pub fn clean_error_code(code: &str) -> &str {
    let code = code.split(':').next().unwrap_or(code);
    code.rsplit('#').next().unwrap_or(code).trim()
}

/// Finds the modeled error shape of `op` for `code` (by the shape's `error.code` or its
/// name).
pub fn error_shape(model: &ServiceModel, op: &Operation, code: &str) -> Option<ShapeId> {
    op.errors
        .iter()
        .map(|r| r.target)
        .find(|&id| {
            let s = model.shape(id);
            s.error.as_ref().and_then(|e| e.code.as_deref()) == Some(code) || s.name == code
        })
        .or_else(|| {
            // Errors not listed on the operation may still be modeled by the service.
            model.shape_id(code).filter(|&id| {
                let s = model.shape(id);
                s.kind == ShapeType::Structure && s.exception
            })
        })
}

/// An empty JSON object.
pub fn empty() -> Value {
    Value::Object(Map::new())
}

/// The reason phrase of an HTTP status, as Python's `http.client.responses` has it.
/// The shapes reachable from a root, each given once (depth first): the walk of the
/// streaming parsers' plans, which say which children of each shape they follow
/// ([`ShapeWalk::push`]).
pub(crate) struct ShapeWalk {
    visited: Vec<bool>,
    stack: Vec<ShapeId>,
}

impl ShapeWalk {
    pub(crate) fn new(model: &ServiceModel, root: ShapeId) -> ShapeWalk {
        ShapeWalk {
            visited: vec![false; model.shapes.len()],
            stack: vec![root],
        }
    }

    /// The next shape not given yet.
    pub(crate) fn next(&mut self) -> Option<ShapeId> {
        while let Some(id) = self.stack.pop() {
            if !std::mem::replace(&mut self.visited[id as usize], true) {
                return Some(id);
            }
        }
        None
    }

    /// A shape to give later (if it was not given already).
    pub(crate) fn push(&mut self, id: ShapeId) {
        self.stack.push(id);
    }
}

pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Requested Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a Teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Entity",
        423 => "Locked",
        424 => "Failed Dependency",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        _ => "",
    }
}
