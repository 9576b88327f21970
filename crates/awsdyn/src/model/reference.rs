//! [`ShapeRef`]: a reference to a shape and the traits at its point of use.

use serde::Deserialize;
use serde_json::Value;

use super::{Location, ShapeId, XmlNamespace};

/// A reference to a shape with the traits that apply at the point of use:
/// structure members, list members, map keys and values, operation inputs and outputs.
///
/// Every member of a decoded structure is one, so the traits few references carry are
/// kept behind one box ([`RareTraits`], read through the methods of the same names):
/// 72 bytes a reference instead of 280.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(from = "ShapeRefJson")]
pub struct ShapeRef {
    /// The shape's name as written in the model.
    pub shape: String,
    /// Resolved index of `shape`; filled in when the shape or operation holding it is decoded.
    pub target: ShapeId,
    pub location: Option<Location>,
    pub location_name: Option<String>,
    pub xml_attribute: bool,
    pub flattened: bool,
    pub jsonvalue: bool,
    pub idempotency_token: bool,
    pub host_label: bool,
    pub streaming: bool,
    pub eventpayload: bool,
    pub deprecated: bool,
    rare: Option<Box<RareTraits>>,
}

/// The traits of a [`ShapeRef`] that few references carry.
#[derive(Debug, Clone, Default, PartialEq)]
struct RareTraits {
    query_name: Option<String>,
    xml_namespace: Option<XmlNamespace>,
    timestamp_format: Option<String>,
    result_wrapper: Option<String>,
    payload: Option<String>,
    context_param: Option<Value>,
}

impl ShapeRef {
    fn rare(&self) -> Option<&RareTraits> {
        self.rare.as_deref()
    }

    pub fn query_name(&self) -> Option<&str> {
        self.rare()?.query_name.as_deref()
    }

    pub fn xml_namespace(&self) -> Option<&XmlNamespace> {
        self.rare()?.xml_namespace.as_ref()
    }

    pub fn timestamp_format(&self) -> Option<&str> {
        self.rare()?.timestamp_format.as_deref()
    }

    /// On an operation's output: the element that wraps the result (query protocol).
    pub fn result_wrapper(&self) -> Option<&str> {
        self.rare()?.result_wrapper.as_deref()
    }

    /// On an operation's input/output reference: the payload member (older models
    /// write it here rather than on the structure).
    pub fn payload(&self) -> Option<&str> {
        self.rare()?.payload.as_deref()
    }

    pub fn context_param(&self) -> Option<&Value> {
        self.rare()?.context_param.as_ref()
    }
}

/// A [`ShapeRef`] as the model writes it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShapeRefJson {
    shape: String,
    location: Option<Location>,
    location_name: Option<String>,
    query_name: Option<String>,
    xml_namespace: Option<XmlNamespace>,
    #[serde(default)]
    xml_attribute: bool,
    #[serde(default)]
    flattened: bool,
    timestamp_format: Option<String>,
    #[serde(default)]
    jsonvalue: bool,
    #[serde(default)]
    idempotency_token: bool,
    #[serde(default)]
    host_label: bool,
    #[serde(default)]
    streaming: bool,
    #[serde(default)]
    eventpayload: bool,
    result_wrapper: Option<String>,
    payload: Option<String>,
    context_param: Option<Value>,
    #[serde(default)]
    deprecated: bool,
}

impl From<ShapeRefJson> for ShapeRef {
    fn from(j: ShapeRefJson) -> ShapeRef {
        let rare = RareTraits {
            query_name: j.query_name,
            xml_namespace: j.xml_namespace,
            timestamp_format: j.timestamp_format,
            result_wrapper: j.result_wrapper,
            payload: j.payload,
            context_param: j.context_param,
        };
        let any = rare != RareTraits::default();
        ShapeRef {
            shape: j.shape,
            target: ShapeId::default(),
            location: j.location,
            location_name: j.location_name,
            xml_attribute: j.xml_attribute,
            flattened: j.flattened,
            jsonvalue: j.jsonvalue,
            idempotency_token: j.idempotency_token,
            host_label: j.host_label,
            streaming: j.streaming,
            eventpayload: j.eventpayload,
            deprecated: j.deprecated,
            rare: any.then(|| Box::new(rare)),
        }
    }
}
