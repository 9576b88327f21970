//! Scalars written as text (URI, query string, headers), the way Python's `str()` writes them.

use super::*;

// ---------------------------------------------------------------------------
// Scalars written as text, the way Python's `str()` writes them.

/// Python's `repr(float)`: shortest round-trip digits, exponent form outside
/// `1e-4 <= |x| < 1e16`, always a `.0` on integral values in fixed form.
pub fn py_float(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let a = x.abs();
    if (1e-4..1e16).contains(&a) {
        let s = format!("{x}");
        if s.contains('.') {
            s
        } else {
            s + ".0"
        }
    } else {
        // `{:e}` gives the shortest digits: `1.5e-5`, `1e16`.
        let s = format!("{x:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
}

/// A number as Python prints it: integers as integers, floats as [`py_float`].
pub(super) fn py_number(n: &serde_json::Number) -> String {
    if n.is_f64() {
        py_float(n.as_f64().unwrap_or(0.0))
    } else {
        n.to_string()
    }
}

/// `str(value)` of a scalar input value.
pub(super) fn py_str(v: &Value) -> Option<String> {
    Some(match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => py_number(n),
        Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        _ => return None,
    })
}

/// A float/double given in input: numbers as Python prints them, the special values
/// `NaN`, `Infinity` and `-Infinity` given as strings.
pub(super) fn float_text(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(py_number(n)),
        Value::String(s) => Some(match s.as_str() {
            "NaN" | "nan" => "NaN".into(),
            "Infinity" | "inf" => "Infinity".into(),
            "-Infinity" | "-inf" => "-Infinity".into(),
            other => other.to_string(),
        }),
        _ => None,
    }
}

/// A boolean given in input, as `true`/`false`.
pub(super) fn bool_text(v: &Value) -> Option<String> {
    match v {
        Value::Bool(b) => Some(b.to_string()),
        Value::String(s) => Some(s.to_ascii_lowercase()),
        Value::Number(n) => Some((n.as_f64() != Some(0.0)).to_string()),
        _ => None,
    }
}

/// Writes a timestamp in the named wire format (`iso8601`, `rfc822`,
/// `unixTimestamp`), as botocore does with its default precision.
pub fn format_timestamp(t: &Timestamp, format: &str) -> String {
    if format.eq_ignore_ascii_case("rfc822") {
        timestamp::to_rfc822(t)
    } else if format.eq_ignore_ascii_case("unixtimestamp") {
        t.timestamp().to_string()
    } else {
        timestamp::to_iso8601(t)
    }
}

pub(super) fn input_timestamp(v: &Value, op: &Operation, member: &str) -> Result<Timestamp, Error> {
    timestamp::from_input(v).ok_or_else(|| invalid(op, format!("{member}: invalid timestamp {v}")))
}

pub(super) fn invalid(op: &Operation, message: String) -> Error {
    Error::Validation {
        operation: op.name.clone(),
        message,
    }
}

/// A scalar bound to the URI or the query string (botocore's
/// `_get_uri_and_query_string_value`).
pub(super) fn uri_value(
    model: &ServiceModel,
    op: &Operation,
    name: &str,
    r: &ShapeRef,
    v: &Value,
) -> Result<String, Error> {
    let shape = model.shape(r.target);
    let text = match shape.kind {
        ShapeType::Boolean => bool_text(v),
        ShapeType::Timestamp => {
            let t = input_timestamp(v, op, name)?;
            Some(format_timestamp(
                &t,
                timestamp_format(Some(r), shape).unwrap_or("iso8601"),
            ))
        }
        ShapeType::Float | ShapeType::Double => float_text(v),
        _ => py_str(v),
    };
    text.ok_or_else(|| invalid(op, format!("{name}: expected a scalar value, got {v}")))
}

/// A scalar or list bound to a header (botocore's `_convert_header_value`).
pub(super) fn header_value(
    model: &ServiceModel,
    op: &Operation,
    name: &str,
    r: &ShapeRef,
    v: &Value,
) -> Result<String, Error> {
    let shape = model.shape(r.target);
    let bad = || invalid(op, format!("{name}: unexpected value {v} for a header"));
    Ok(match shape.kind {
        ShapeType::Timestamp => {
            // Headers carry whole seconds.
            let t = input_timestamp(v, op, name)?;
            let t = timestamp::from_epoch(t.timestamp() as f64).unwrap_or(t);
            format_timestamp(&t, timestamp_format(Some(r), shape).unwrap_or("rfc822"))
        }
        ShapeType::List => {
            let items = v.as_array().ok_or_else(bad)?;
            let m = shape.member.as_ref().ok_or_else(bad)?;
            let member_shape = model.shape(m.target);
            let mut parts = Vec::with_capacity(items.len());
            for item in items.iter().filter(|i| !i.is_null()) {
                if member_shape.kind == ShapeType::String {
                    parts.push(quote_header_list_item(&py_str(item).ok_or_else(bad)?));
                } else {
                    parts.push(header_value(model, op, name, m, item)?);
                }
            }
            parts.join(",")
        }
        ShapeType::String if jsonvalue(r, shape) => {
            base64::engine::general_purpose::STANDARD.encode(compact_ascii_json(v))
        }
        ShapeType::Boolean => bool_text(v).ok_or_else(bad)?,
        ShapeType::Float | ShapeType::Double => float_text(v).ok_or_else(bad)?,
        // Smithy sends blob headers as base64 (botocore would write Python's repr).
        ShapeType::Blob => match v {
            Value::String(s) => base64::engine::general_purpose::STANDARD.encode(s.as_bytes()),
            _ => return Err(bad()),
        },
        _ => py_str(v).ok_or_else(bad)?,
    })
}

/// Quotes one string of a list header as botocore does: values holding a comma or a
/// double quote are wrapped in double quotes, inner quotes escaped with `\`.
pub fn quote_header_list_item(s: &str) -> String {
    if s.contains('"') || s.contains(',') {
        format!("\"{}\"", s.replace('"', "\\\""))
    } else {
        s.to_string()
    }
}

/// `json.dumps(value, separators=(',', ':'))`: compact, non-ASCII escaped as `\uXXXX`.
pub fn compact_ascii_json(v: &Value) -> String {
    let s = serde_json::to_string(v).unwrap_or_default();
    if s.is_ascii() {
        return s;
    }
    let mut out = String::with_capacity(s.len() + 16);
    let mut buf = [0u16; 2];
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            for unit in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}
