//! The wire: what a request says (service, region, caller, operation, input) and how
//! answers and errors are written in each protocol (query XML, ec2 XML, JSON 1.0/1.1).

use std::fmt::Write;

use bytes::Bytes;
use hyper::header::HeaderMap;
use hyper::StatusCode;
use serde_json::Value;

/// A protocol, as botocore's `metadata.protocol` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// Form body, XML answer wrapped in `<OpResponse><OpResult>`.
    Query { namespace: &'static str },
    /// Form body, XML answer with the members at the top (EC2).
    Ec2,
    /// JSON body, operation in X-Amz-Target.
    Json { version: &'static str },
}

/// The SigV4 credential scope of a request: `Credential=<AKID>/<date>/<region>/<service>/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub access_key: String,
    pub region: String,
    pub service: String,
}

pub fn scope(headers: &HeaderMap) -> Option<Scope> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let rest = auth.split("Credential=").nth(1)?;
    let credential = rest.split([',', ' ']).next()?;
    let mut parts = credential.split('/');
    let access_key = parts.next()?.to_string();
    let _date = parts.next()?;
    let region = parts.next()?.to_string();
    let service = parts.next()?.to_string();
    Some(Scope {
        access_key,
        region,
        service,
    })
}

/// The fields of a form-encoded (query or ec2 protocol) body.
pub fn form(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// An answer: status, content type, body.
pub struct Answer {
    pub status: StatusCode,
    pub content_type: &'static str,
    pub body: Bytes,
}

/// XML text escaping.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// `<name>text</name>`, escaped.
pub fn el(out: &mut String, name: &str, text: &str) {
    let _ = write!(out, "<{name}>{}</{name}>", esc(text));
}

/// A successful answer whose result members are already written as XML (`inner`).
pub fn ok_xml(protocol: Protocol, operation: &str, inner: &str, request_id: &str) -> Answer {
    let body = match protocol {
        Protocol::Query { namespace } => format!(
            "<{operation}Response xmlns=\"{namespace}\"><{operation}Result>{inner}</{operation}Result><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{operation}Response>"
        ),
        Protocol::Ec2 => format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{operation}Response xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>{request_id}</requestId>{inner}</{operation}Response>"
        ),
        Protocol::Json { .. } => unreachable!("JSON answers go through ok_json"),
    };
    Answer {
        status: StatusCode::OK,
        content_type: "text/xml",
        body: Bytes::from(body),
    }
}

pub fn ok_json(protocol: Protocol, value: &Value) -> Answer {
    let Protocol::Json { version } = protocol else {
        unreachable!("XML answers go through ok_xml")
    };
    Answer {
        status: StatusCode::OK,
        content_type: json_content_type(version),
        body: Bytes::from(serde_json::to_vec(value).unwrap_or_default()),
    }
}

fn json_content_type(version: &str) -> &'static str {
    if version == "1.0" {
        "application/x-amz-json-1.0"
    } else {
        "application/x-amz-json-1.1"
    }
}

/// An error in the protocol's own format.
pub fn error(
    protocol: Protocol,
    status: StatusCode,
    code: &str,
    message: &str,
    request_id: &str,
) -> Answer {
    let (content_type, body) = match protocol {
        Protocol::Query { namespace } => (
            "text/xml",
            format!(
                "<ErrorResponse xmlns=\"{namespace}\"><Error><Type>{}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                if status.is_server_error() { "Receiver" } else { "Sender" },
                esc(code),
                esc(message)
            ),
        ),
        Protocol::Ec2 => (
            "text/xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code><Message>{}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>",
                esc(code),
                esc(message)
            ),
        ),
        Protocol::Json { version } => (
            json_content_type(version),
            serde_json::json!({ "__type": code, "message": message }).to_string(),
        ),
    };
    Answer {
        status,
        content_type,
        body: Bytes::from(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_scope() {
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=ASIAFAKE200000000001/20261124/eu-west-1/sqs/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            scope(&h),
            Some(Scope {
                access_key: "ASIAFAKE200000000001".into(),
                region: "eu-west-1".into(),
                service: "sqs".into()
            })
        );
        assert_eq!(scope(&HeaderMap::new()), None);
    }

    #[test]
    fn forms_and_escaping() {
        let f =
            form(b"Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx&Version=2011-06-15");
        assert_eq!(field(&f, "RoleArn"), Some("arn:aws:iam::1:role/x"));
        assert_eq!(esc("a<b&\"c\""), "a&lt;b&amp;&quot;c&quot;");
    }
}
