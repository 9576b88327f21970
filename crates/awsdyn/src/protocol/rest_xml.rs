//! The `rest_xml` protocol.

use serde_json::Value;

use crate::model::{Operation, ServiceModel};
use crate::protocol::{Request, Response};
use crate::Error;

pub fn serialize(_model: &ServiceModel, op: &Operation, _input: &Value) -> Result<Request, Error> {
    Err(Error::Model(format!("{}: rest_xml serialization is not implemented yet", op.name)))
}

pub fn parse(_model: &ServiceModel, op: &Operation, _resp: &Response) -> Result<Value, Error> {
    Err(Error::Model(format!("{}: rest_xml parsing is not implemented yet", op.name)))
}
