//! The `json` protocol (1.0 and 1.1) and the JSON body codec shared with `rest-json`.

use serde_json::Value;

use crate::model::{Operation, ServiceModel, ShapeId};
use crate::protocol::{Request, Response};
use crate::{Error, ServiceError};

pub fn serialize(_model: &ServiceModel, op: &Operation, _input: &Value) -> Result<Request, Error> {
    Err(Error::Model(format!("{}: json serialization is not implemented yet", op.name)))
}

pub fn parse(_model: &ServiceModel, op: &Operation, _resp: &Response) -> Result<Value, Error> {
    Err(Error::Model(format!("{}: json parsing is not implemented yet", op.name)))
}

/// Serializes `value` as the JSON document of structure `shape` (every member present
/// in `value` is written; callers drop HTTP-bound members first).
pub fn serialize_body(_model: &ServiceModel, _shape: ShapeId, _value: &Value) -> Result<Vec<u8>, String> {
    Err("not implemented yet".into())
}

/// Parses a JSON document of shape `shape` into boto3-shaped output.
pub fn parse_body(_model: &ServiceModel, _shape: ShapeId, _body: &[u8]) -> Result<Value, String> {
    Err("not implemented yet".into())
}

/// Parses a JSON-protocol error response (json and rest-json): code from
/// `x-amzn-errortype`, `__type` or `code`, message from `message`/`Message`,
/// modeled fields from the error shape.
pub fn parse_error(_model: &ServiceModel, _op: &Operation, resp: &Response) -> ServiceError {
    ServiceError { code: "Unknown".into(), message: String::new(), request_id: None, status: resp.status, fields: Default::default() }
}
