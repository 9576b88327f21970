//! The `rest-json` protocol: HTTP bindings (see [`super::rest`]) with a JSON body.

use serde_json::{Map, Value};

use crate::model::{Operation, ServiceModel, ShapeId};
use crate::protocol::rest::{self, BodyBinding};
use crate::protocol::{json, Request, Response};
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

/// The JSON half of rest-json.
pub struct JsonBody;

impl rest::BodyFormat for JsonBody {
    fn members(
        model: &ServiceModel,
        target: ShapeId,
        body: &[u8],
    ) -> Result<Map<String, Value>, String> {
        match json::parse_body(model, target, body)? {
            Value::Object(m) => Ok(m),
            Value::Null => Ok(Map::new()),
            other => Err(format!("expected a JSON object, got {other}")),
        }
    }

    fn payload(model: &ServiceModel, target: ShapeId, body: &[u8]) -> Result<Value, String> {
        json::parse_body(model, target, body)
    }

    fn error(model: &ServiceModel, op: &Operation, resp: &Response) -> Option<ServiceError> {
        Some(json::parse_error(model, op, resp))
    }
}

pub fn parse(model: &ServiceModel, op: &Operation, resp: &Response) -> Result<Value, Error> {
    rest::parse_response::<JsonBody>(model, op, resp)
}

/// A rest-json error: a generic 5xx without a JSON body is classified by its status;
/// otherwise the JSON error (code from `x-amzn-errortype`, `code` or `__type`); see
/// [`rest::parse_error`].
pub fn parse_error(model: &ServiceModel, op: &Operation, resp: &Response) -> ServiceError {
    rest::parse_error::<JsonBody>(model, op, resp)
}
