//! boto3 parity beyond the wire protocols: the documented changes botocore makes to a
//! few inputs and results (its `handlers.py`), so that awsdyn's output is what boto3
//! users see. Which services and operations get which change is data, in
//! [`crate::facts`] (`services.json`); this module is the code that applies a call's
//! changes. The changes made to a model when it is loaded are in [`crate::model`].
//!
//! - s3 ListObjects/ListObjectsV2/ListObjectVersions: `EncodingType=url` is sent when
//!   the caller did not choose one, and the keys in the answer are URL-decoded.
//! - s3: a 200 answer whose body is an `<Error>` document is an error (status 500),
//!   except for operations whose payload is a blob or string.
//! - s3 GetBucketLocation: `LocationConstraint` read from the root element's text.
//! - iam: members of shape `policyDocumentType` URL-decoded and parsed as JSON.
//! - cloudformation GetTemplate: a JSON `TemplateBody` parsed.
//! - ec2 GetConsoleOutput: `Output` base64-decoded.

use serde_json::Value;

pub use crate::facts::{is_global_operation, service_facts, ServiceFacts};
use crate::model::{Operation, ServiceModel, ShapeId, ShapeType};

/// What [`before_call`] decided, needed again by [`after_call`].
#[derive(Debug, Clone, Copy, Default)]
pub struct CallNotes {
    /// awsdyn (not the caller) asked for `EncodingType=url`.
    pub encoding_type_auto_set: bool,
}

/// Input changes before serialization.
pub fn before_call(model: &ServiceModel, op: &Operation, input: &mut Value) -> CallNotes {
    let mut notes = CallNotes::default();
    if service_facts(&model.name)
        .url_encoded_listings
        .contains_key(&op.name)
    {
        if let Value::Object(o) = input {
            if !o.contains_key("EncodingType") {
                o.insert("EncodingType".into(), Value::String("url".into()));
                notes.encoding_type_auto_set = true;
            }
        }
    }
    notes
}

/// The status to parse a response with: s3's "200 with an error body" becomes 500.
pub fn effective_status(model: &ServiceModel, op: &Operation, status: u16, body: &[u8]) -> u16 {
    if !service_facts(&model.name).error_in_200 || status != 200 || body.is_empty() {
        return status;
    }
    let Some(out) = &op.output else { return status };
    let shape = model.shape(out.target);
    if let Some(payload) = &shape.payload {
        if let Some(m) = shape.members.get(payload) {
            if matches!(
                model.shape(m.target).kind,
                ShapeType::Blob | ShapeType::String
            ) {
                return status;
            }
        }
    }
    if root_element(body).is_some_and(|(name, _)| name == "Error") {
        500
    } else {
        status
    }
}

/// The name and text of the root element of an XML document.
fn root_element(body: &[u8]) -> Option<(String, Option<String>)> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut buf = Vec::new();
    let mut name = None;
    loop {
        match reader.read_event_into(&mut buf).ok()? {
            Event::Start(e) if name.is_none() => {
                name = Some(String::from_utf8_lossy(e.local_name().as_ref()).into_owned())
            }
            Event::Empty(e) if name.is_none() => {
                return Some((
                    String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                    None,
                ))
            }
            Event::Text(t) if name.is_some() => {
                let text = t.unescape().ok()?.into_owned();
                return Some((name?, Some(text)));
            }
            Event::Start(_) | Event::End(_) if name.is_some() => return Some((name?, None)),
            Event::Eof => return name.map(|n| (n, None)),
            _ => {}
        }
        buf.clear();
    }
}

/// Result changes after a successful parse.
pub fn after_call(
    model: &ServiceModel,
    op: &Operation,
    notes: CallNotes,
    body: &[u8],
    out: &mut Value,
) {
    let facts = service_facts(&model.name);
    if let (Some(shape), Some(o)) = (&facts.url_encoded_json_shape, &op.output) {
        decode_policies(model, shape, o.target, out);
    }
    if let Some(member) = facts.json_results.get(&op.name) {
        if let Some(Value::String(body)) = out.get(member) {
            if let Ok(v) = serde_json::from_str::<Value>(body) {
                out[member] = v;
            }
        }
    }
    if let Some(member) = facts.base64_results.get(&op.name) {
        use base64::Engine;
        if let Some(Value::String(s)) = out.get(member) {
            if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(s) {
                out[member] = Value::String(String::from_utf8_lossy(&bytes).into_owned());
            }
        }
    }
    if let Some(member) = facts.root_text_results.get(&op.name) {
        if let Some((_, text)) = root_element(body) {
            let v = text
                .filter(|t| !t.is_empty())
                .map(Value::String)
                .unwrap_or(Value::Null);
            if let Value::Object(o) = out {
                o.insert(member.clone(), v);
            }
        }
    }
    if let Some(listing) = facts.url_encoded_listings.get(&op.name) {
        if !notes.encoding_type_auto_set
            || out.get("EncodingType").and_then(Value::as_str) != Some("url")
        {
            return;
        }
        for k in &listing.members {
            url_decode_in_place(out.get_mut(k));
        }
        for (list, key) in &listing.nested {
            if let Some(Value::Array(items)) = out.get_mut(list) {
                for item in items {
                    url_decode_in_place(item.get_mut(key));
                }
            }
        }
    }
}

fn url_decode_in_place(v: Option<&mut Value>) {
    if let Some(Value::String(s)) = v {
        // unquote_str: '+' is a space in S3's url encoding.
        let decoded = percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned();
        *s = decoded;
    }
}

/// IAM returns policy documents (strings of shape `doc_shape`) URL-encoded; boto3
/// hands them out as JSON.
fn decode_policies(model: &ServiceModel, doc_shape: &str, id: ShapeId, v: &mut Value) {
    let shape = model.shape(id);
    match (shape.kind, v) {
        (ShapeType::Structure, Value::Object(o)) => {
            for (name, m) in &shape.members {
                let Some(val) = o.get_mut(name) else { continue };
                let target = model.shape(m.target);
                if target.kind == ShapeType::String && target.name == doc_shape {
                    if let Value::String(s) = val {
                        let text = percent_encoding::percent_decode_str(s).decode_utf8_lossy();
                        if let Ok(doc) = serde_json::from_str::<Value>(&text) {
                            *val = doc;
                        }
                    }
                } else {
                    decode_policies(model, doc_shape, m.target, val);
                }
            }
        }
        (ShapeType::List, Value::Array(items)) => {
            if let Some(m) = &shape.member {
                for item in items {
                    decode_policies(model, doc_shape, m.target, item);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn s3_bucket_path_dropped() {
        let s3 = crate::model::load("s3").unwrap();
        assert_eq!(
            s3.operation("ListObjectsV2").unwrap().http.request_uri,
            "/?list-type=2"
        );
        assert_eq!(
            s3.operation("GetObject").unwrap().http.request_uri,
            "/{Key+}"
        );
        assert_eq!(s3.operation("ListBuckets").unwrap().http.request_uri, "/");
    }

    #[test]
    fn iam_policies_decoded() {
        let iam = crate::model::load("iam").unwrap();
        let op = iam.operation("GetRolePolicy").unwrap();
        let mut out = json!({"RoleName": "r", "PolicyName": "p", "PolicyDocument": "%7B%22Version%22%3A%222012-10-17%22%7D"});
        after_call(&iam, op, CallNotes::default(), b"", &mut out);
        assert_eq!(out["PolicyDocument"], json!({"Version": "2012-10-17"}));
    }

    #[test]
    fn s3_error_in_200() {
        let s3 = crate::model::load("s3").unwrap();
        let op = s3.operation("CopyObject").unwrap();
        let body = b"<?xml version=\"1.0\"?>\n<Error><Code>InternalError</Code></Error>";
        assert_eq!(effective_status(&s3, op, 200, body), 500);
        assert_eq!(effective_status(&s3, op, 200, b"<CopyObjectResult/>"), 200);
        let get = s3.operation("GetObject").unwrap();
        assert_eq!(effective_status(&s3, get, 200, body), 200);
    }

    #[test]
    fn bucket_location() {
        let s3 = crate::model::load("s3").unwrap();
        let op = s3.operation("GetBucketLocation").unwrap();
        let mut out = json!({});
        let body = br#"<?xml version="1.0" encoding="UTF-8"?><LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">eu-west-1</LocationConstraint>"#;
        after_call(&s3, op, CallNotes::default(), body, &mut out);
        assert_eq!(out, json!({"LocationConstraint": "eu-west-1"}));
        let mut out = json!({});
        after_call(
            &s3,
            op,
            CallNotes::default(),
            br#"<LocationConstraint xmlns="x"/>"#,
            &mut out,
        );
        assert_eq!(out, json!({"LocationConstraint": null}));
    }
}
