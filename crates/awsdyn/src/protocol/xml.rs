//! Shape-driven XML parsing, shared by `query`, `ec2` and `rest-xml`.

use serde_json::{Map, Value};

use crate::model::{Operation, ServiceModel, ShapeId};
use crate::protocol::Response;
use crate::ServiceError;

/// Parses an XML document and returns the members of structure `shape` read from the
/// children of the root element or, with `wrapper`, of the root's child element of that
/// name (query's `<OpResult>`).
pub fn parse_members(_model: &ServiceModel, _shape: ShapeId, _body: &[u8], _wrapper: Option<&str>) -> Result<Map<String, Value>, String> {
    Err("not implemented yet".into())
}

/// Parses an XML error response in any of its layouts (`<ErrorResponse><Error>` for
/// query, `<Response><Errors><Error>` for ec2, `<Error>` for rest-xml/s3), with the
/// modeled fields of the error shape.
pub fn parse_error(_model: &ServiceModel, _op: &Operation, resp: &Response) -> ServiceError {
    ServiceError { code: "Unknown".into(), message: String::new(), request_id: None, status: resp.status, fields: Default::default() }
}
