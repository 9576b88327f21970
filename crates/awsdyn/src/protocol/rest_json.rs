//! The `rest-json` protocol: HTTP bindings (see [`super::rest`]) with a JSON body.

use serde_json::{Map, Value};

use crate::model::{Operation, ServiceModel};
use crate::protocol::rest::{self, BodyBinding, PayloadBinding};
use crate::protocol::{blob_output, json, Request, Response};
use crate::{Error, ServiceError};

pub fn serialize(model: &ServiceModel, op: &Operation, input: &Value) -> Result<Request, Error> {
    let http = rest::serialize_http(model, op, input)?;
    let mut req = http.request;
    let body_error = |e: String| Error::Validation {
        operation: op.name.clone(),
        message: e,
    };
    let mut content_type = None;
    match http.body {
        BodyBinding::Raw { blob, value, .. } => {
            if let Some(v) = value {
                req.body = raw_bytes(op, v)?;
            }
            // Smithy's defaults for blob and string payloads.
            content_type = Some(if blob {
                "application/octet-stream"
            } else {
                "text/plain"
            });
        }
        BodyBinding::Payload { member, value, .. } => {
            req.body = match value {
                Some(v) => json::serialize_body(model, member.target, v).map_err(body_error)?,
                None => b"{}".to_vec(),
            };
        }
        BodyBinding::Members { shape, members } => {
            req.body =
                json::serialize_body(model, shape, &Value::Object(members)).map_err(body_error)?;
        }
        BodyBinding::None => {
            if http.has_body_members {
                req.body = b"{}".to_vec();
            }
        }
    }
    if content_type.is_none() && !req.body.is_empty() {
        content_type = Some("application/json");
    }
    if let Some(ct) = content_type {
        if req.header("Content-Type").is_none() {
            req.headers.push(("Content-Type".into(), ct.into()));
        }
    }
    Ok(req)
}

/// The bytes of a raw (blob or string) payload given in input.
pub(crate) fn raw_bytes(op: &Operation, v: &Value) -> Result<Vec<u8>, Error> {
    match v {
        Value::String(s) => Ok(s.as_bytes().to_vec()),
        Value::Array(a) => a
            .iter()
            .map(|b| b.as_u64().filter(|b| *b < 256).map(|b| b as u8))
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| Error::Validation {
                operation: op.name.clone(),
                message: "a payload must be a string (or an array of bytes)".into(),
            }),
        other => Err(Error::Validation {
            operation: op.name.clone(),
            message: format!("a payload must be a string, got {other}"),
        }),
    }
}

pub fn parse(model: &ServiceModel, op: &Operation, resp: &Response) -> Result<Value, Error> {
    if resp.status >= 301 {
        return Err(Error::Service(parse_error(model, op, resp)));
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
    rest::parse_http(model, output.target, resp, &mut out).map_err(parse_err)?;
    match rest::payload(model, output) {
        PayloadBinding::Members => {
            if !rest::blank(resp.body) {
                match json::parse_body(model, output.target, resp.body).map_err(parse_err)? {
                    Value::Object(body) => out.extend(body),
                    Value::Null => {}
                    other => return Err(parse_err(format!("expected a JSON object, got {other}"))),
                }
            }
        }
        PayloadBinding::Raw { name, blob } => {
            let v = if blob {
                blob_output(resp.body)
            } else {
                Value::String(String::from_utf8_lossy(resp.body).into_owned())
            };
            out.insert(name.to_string(), v);
        }
        PayloadBinding::Shape { name, target } => {
            let v = if rest::blank(resp.body) {
                Value::Object(Map::new())
            } else {
                json::parse_body(model, target, resp.body).map_err(parse_err)?
            };
            out.insert(name.to_string(), v);
        }
        PayloadBinding::EventStream => {}
    }
    Ok(Value::Object(out))
}

/// A rest-json error: a generic 5xx without a JSON body is classified by its status;
/// otherwise the JSON error (code from `x-amzn-errortype`, `code` or `__type`) with
/// the header- and status-bound members of the modeled error shape added.
pub fn parse_error(model: &ServiceModel, op: &Operation, resp: &Response) -> ServiceError {
    let trimmed = resp.body.trim_ascii();
    if resp.status >= 500
        && resp.header("x-amzn-errortype").is_none()
        && (trimmed.is_empty() || trimmed.starts_with(b"<html>"))
    {
        return ServiceError {
            code: resp.status.to_string(),
            message: crate::protocol::reason_phrase(resp.status).to_string(),
            request_id: rest::request_id(resp),
            status: resp.status,
            fields: Map::new(),
        };
    }
    let mut err = json::parse_error(model, op, resp);
    if err.request_id.is_none() {
        err.request_id = rest::request_id(resp);
    }
    let code = err.code.clone();
    rest::add_error_http_fields(model, op, resp, &code, &mut err.fields);
    err
}
