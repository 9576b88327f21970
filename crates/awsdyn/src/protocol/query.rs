//! The `query` protocol, and the form serializer it shares with `ec2`.
//!
//! Requests are `POST /` with a `application/x-www-form-urlencoded` body:
//! `Action=<Op>&Version=<apiVersion>` followed by the input flattened to dotted keys,
//! as botocore's `QuerySerializer` writes them (in the order of the input's keys):
//! - structure members `A.B` (the member's `locationName`, else its name);
//! - lists `A.member.N` (or the list member's `locationName` instead of `member`),
//!   flattened lists `A.N`, an empty list as `A=`;
//! - maps `A.entry.N.key` / `A.entry.N.value` (custom key/value names; flattened maps
//!   `A.N.key`), an empty map writes nothing;
//! - booleans `true`/`false`, timestamps ISO 8601 unless `timestampFormat` says
//!   otherwise, blobs base64, floats as Python prints them, `NaN`/`Infinity`.
//!
//! The `ec2` variant ([`Variant::Ec2`]) names members by `queryName`, else the
//! capitalized `locationName`, else the capitalized member name, and writes every list
//! as `A.N` (an empty list writes nothing).
//!
//! Responses are XML: the result is read from `<OpResponse><OpResult>` (the output's
//! `resultWrapper`), errors from `<ErrorResponse><Error>` by [`xml::parse_error`].

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;

use crate::model::{Operation, ServiceModel, ShapeId, ShapeRef, ShapeType};
use crate::protocol::{xml, Request, Response};
use crate::{timestamp, Error};

/// Characters left as they are in the form body: RFC 3986 unreserved.
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Which flavour of the query serializer to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Query,
    Ec2,
}

pub fn serialize(model: &ServiceModel, op: &Operation, input: &Value) -> Result<Request, Error> {
    serialize_form(model, op, input, Variant::Query)
}

pub fn parse(model: &ServiceModel, op: &Operation, resp: &Response) -> Result<Value, Error> {
    if resp.status >= 301 {
        return Err(Error::Service(xml::parse_error(model, op, resp)));
    }
    let Some(output) = &op.output else {
        return Ok(crate::protocol::empty());
    };
    let wrapper = match output.result_wrapper() {
        Some(w) => w.to_string(),
        None => format!("{}Result", op.name),
    };
    xml::parse_members(model, output.target, resp.body, Some(&wrapper))
        .map(Value::Object)
        .map_err(|message| Error::Parse {
            operation: op.name.clone(),
            status: resp.status,
            message,
        })
}

/// Serializes `input` as a query (or ec2) form request for `op`.
pub fn serialize_form(
    model: &ServiceModel,
    op: &Operation,
    input: &Value,
    variant: Variant,
) -> Result<Request, Error> {
    let mut w = Form {
        model,
        op,
        variant,
        body: String::with_capacity(128),
    };
    w.pair("Action", &op.name);
    w.pair("Version", &model.metadata.api_version);
    if let Some(input_ref) = &op.input {
        match input {
            Value::Null => {}
            Value::Object(_) => w.structure(input_ref.target, input, "")?,
            _ => return Err(w.invalid("", "the input must be an object")),
        }
    }
    let method = super::http_method(op);
    Ok(Request {
        method,
        uri: "/".into(),
        headers: vec![(
            "Content-Type".into(),
            "application/x-www-form-urlencoded; charset=utf-8".into(),
        )],
        body: w.body.into_bytes(),
        host_prefix: None,
    })
}

struct Form<'m> {
    model: &'m ServiceModel,
    op: &'m Operation,
    variant: Variant,
    body: String,
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

impl Form<'_> {
    fn pair(&mut self, key: &str, value: &str) {
        if !self.body.is_empty() {
            self.body.push('&');
        }
        self.body.extend(utf8_percent_encode(key, FORM));
        self.body.push('=');
        self.body.extend(utf8_percent_encode(value, FORM));
    }

    fn invalid(&self, key: &str, message: &str) -> Error {
        Error::Validation {
            operation: self.op.name.clone(),
            message: if key.is_empty() {
                message.to_string()
            } else {
                format!("{key}: {message}")
            },
        }
    }

    fn location_name<'r>(&'r self, r: &'r ShapeRef) -> Option<&'r str> {
        r.location_name
            .as_deref()
            .or_else(|| self.model.shape(r.target).location_name.as_deref())
    }

    /// The serialized name of a structure member, map key or map value.
    fn name_of(&self, r: &ShapeRef, default: &str) -> String {
        match self.variant {
            Variant::Query => self.location_name(r).unwrap_or(default).to_string(),
            Variant::Ec2 => {
                if let Some(q) = r.query_name() {
                    q.to_string()
                } else if let Some(l) = self.location_name(r) {
                    capitalize(l)
                } else {
                    default.to_string()
                }
            }
        }
    }

    fn value(&mut self, r: &ShapeRef, v: &Value, key: &str) -> Result<(), Error> {
        if v.is_null() {
            return Ok(());
        }
        let shape = self.model.shape(r.target);
        match shape.kind {
            ShapeType::Structure => self.structure(r.target, v, key),
            ShapeType::List => self.list(r, v, key),
            ShapeType::Map => self.map(r, v, key),
            ShapeType::Boolean => {
                let b = match v {
                    Value::Bool(b) => *b,
                    Value::String(s) => s.eq_ignore_ascii_case("true"),
                    Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
                    _ => return Err(self.invalid(key, "expected a boolean")),
                };
                self.pair(key, if b { "true" } else { "false" });
                Ok(())
            }
            ShapeType::Blob => {
                let s = crate::protocol::blob_input_base64(v)
                    .ok_or_else(|| self.invalid(key, "expected a string (blob)"))?;
                self.pair(key, &s);
                Ok(())
            }
            ShapeType::Timestamp => {
                let t = timestamp::from_input(v)
                    .ok_or_else(|| self.invalid(key, "expected a timestamp"))?;
                let format = r
                    .timestamp_format()
                    .or(shape.timestamp_format.as_deref())
                    .unwrap_or("iso8601");
                let s = match format.to_ascii_lowercase().as_str() {
                    "unixtimestamp" => t.timestamp().to_string(),
                    "rfc822" => timestamp::to_rfc822(&t),
                    _ => timestamp::to_iso8601(&t),
                };
                self.pair(key, &s);
                Ok(())
            }
            ShapeType::Float | ShapeType::Double => {
                let s = match v {
                    Value::Number(n) if n.is_f64() => python_float(n.as_f64().unwrap_or(0.0)),
                    Value::Number(n) => n.to_string(),
                    Value::String(s) => s.clone(),
                    _ => return Err(self.invalid(key, "expected a number")),
                };
                self.pair(key, &s);
                Ok(())
            }
            _ => {
                let s = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => return Err(self.invalid(key, "expected a scalar")),
                };
                self.pair(key, &s);
                Ok(())
            }
        }
    }

    fn structure(&mut self, id: ShapeId, v: &Value, prefix: &str) -> Result<(), Error> {
        let Value::Object(obj) = v else {
            return Err(self.invalid(prefix, "expected an object"));
        };
        let shape = self.model.shape(id);
        for (k, mv) in obj {
            let Some(r) = shape.members.get(k) else {
                return Err(self.invalid(
                    &join(prefix, k),
                    &format!("unknown member of {}", shape.name),
                ));
            };
            if mv.is_null() {
                continue;
            }
            let name = self.member_name(r, k);
            self.value(r, mv, &join(prefix, &name))?;
        }
        Ok(())
    }

    /// The name of structure member `k`: for a flattened list without a name of its own,
    /// the list member's `locationName` (botocore's rule).
    fn member_name(&self, r: &ShapeRef, k: &str) -> String {
        if self.variant == Variant::Query {
            let target = self.model.shape(r.target);
            if target.kind == ShapeType::List
                && (r.flattened || target.flattened)
                && r.location_name.is_none()
            {
                if let Some(n) = target
                    .member
                    .as_ref()
                    .and_then(|m| m.location_name.as_ref())
                {
                    return n.clone();
                }
            }
            return self.name_of(r, k);
        }
        match self.name_of(r, "") {
            n if n.is_empty() => capitalize(k),
            n => n,
        }
    }

    fn list(&mut self, r: &ShapeRef, v: &Value, prefix: &str) -> Result<(), Error> {
        let Value::Array(items) = v else {
            return Err(self.invalid(prefix, "expected a list"));
        };
        let shape = self.model.shape(r.target);
        let Some(member) = &shape.member else {
            return Ok(());
        };
        let list_prefix = match self.variant {
            Variant::Ec2 => prefix.to_string(),
            Variant::Query => {
                if items.is_empty() {
                    self.pair(prefix, "");
                    return Ok(());
                }
                if r.flattened || shape.flattened {
                    prefix.to_string()
                } else {
                    let name = member.location_name.as_deref().unwrap_or("member");
                    format!("{prefix}.{name}")
                }
            }
        };
        for (i, item) in items.iter().enumerate() {
            self.value(member, item, &format!("{list_prefix}.{}", i + 1))?;
        }
        Ok(())
    }

    fn map(&mut self, r: &ShapeRef, v: &Value, prefix: &str) -> Result<(), Error> {
        let Value::Object(obj) = v else {
            return Err(self.invalid(prefix, "expected an object (map)"));
        };
        let shape = self.model.shape(r.target);
        let (Some(key), Some(value)) = (&shape.key, &shape.value) else {
            return Ok(());
        };
        let base = if r.flattened || shape.flattened {
            prefix.to_string()
        } else {
            format!("{prefix}.entry")
        };
        let key_name = self.name_of(key, "key");
        let value_name = self.name_of(value, "value");
        for (i, (k, item)) in obj.iter().enumerate() {
            let n = i + 1;
            self.pair(&format!("{base}.{n}.{key_name}"), k);
            self.value(value, item, &format!("{base}.{n}.{value_name}"))?;
        }
        Ok(())
    }
}

/// Formats a float as Python's `repr` does (`10.8`, `1.0`, `1e+16`, `1.5e-07`), with
/// `NaN`, `Infinity` and `-Infinity` as botocore writes them.
pub(crate) fn python_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    // Shortest round-trip digits and the decimal exponent, from Rust's `{:e}`.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let mut out = String::new();
    if f < 0.0 {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::python_float;

    #[test]
    fn floats_as_python_writes_them() {
        assert_eq!(python_float(10.8), "10.8");
        assert_eq!(python_float(1.0), "1.0");
        assert_eq!(python_float(-2.5), "-2.5");
        assert_eq!(python_float(123456789.0), "123456789.0");
        assert_eq!(python_float(1e16), "1e+16");
        assert_eq!(python_float(1.5e-7), "1.5e-07");
        assert_eq!(python_float(0.0001), "0.0001");
        assert_eq!(python_float(0.00001), "1e-05");
        assert_eq!(python_float(1234.5678), "1234.5678");
        assert_eq!(python_float(1.2345e20), "1.2345e+20");
        assert_eq!(python_float(f64::NAN), "NaN");
        assert_eq!(python_float(f64::NEG_INFINITY), "-Infinity");
    }
}
