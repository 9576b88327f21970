//! The `ec2` protocol: the query form serializer in its ec2 variant
//! ([`query::Variant::Ec2`]: names from `queryName`, else the capitalized
//! `locationName` or member name; every list flattened as `Name.N`), and XML responses
//! whose members sit directly under the root `<OpResponse>` (no result wrapper; the
//! `requestId` element is not returned). Errors are `<Response><Errors><Error>`, read
//! by [`xml::parse_error`].

use serde_json::Value;

use crate::model::{Operation, ServiceModel};
use crate::protocol::query::{self, Variant};
use crate::protocol::{xml, Request, Response};
use crate::Error;

pub fn serialize(model: &ServiceModel, op: &Operation, input: &Value) -> Result<Request, Error> {
    query::serialize_form(model, op, input, Variant::Ec2)
}

pub fn parse(model: &ServiceModel, op: &Operation, resp: &Response) -> Result<Value, Error> {
    if resp.status >= 301 {
        return Err(Error::Service(xml::parse_error(model, op, resp)));
    }
    let Some(output) = &op.output else {
        return Ok(crate::protocol::empty());
    };
    xml::parse_members(model, output.target, resp.body, None)
        .map(Value::Object)
        .map_err(|message| Error::Parse {
            operation: op.name.clone(),
            status: resp.status,
            message,
        })
}
