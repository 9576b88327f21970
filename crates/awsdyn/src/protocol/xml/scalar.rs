//! Scalars and attributes from XML text: numbers, timestamps, blobs.

use super::*;

pub(super) fn read_attributes(plan: &StructPlan, start: &BytesStart, out: &mut Map<String, Value>) {
    for attr in start.attributes().with_checks(false).flatten() {
        let key = attr.key.as_ref();
        let m = plan.members.iter().find(|m| {
            m.attribute && {
                let want = m.xml_name.as_bytes();
                key == want || (memchr_colon(want).is_none() && local(key) == want)
            }
        });
        if let Some(m) = m {
            if let Ok(v) = attr.unescape_value() {
                out.insert(m.name.to_string(), scalar(m.kind, &v));
            }
        }
    }
}

/// The output value of a scalar of type `kind` from its text.
pub(super) fn scalar(kind: ShapeType, text: &str) -> Value {
    match kind {
        ShapeType::String | ShapeType::Character => Value::String(text.to_string()),
        ShapeType::Boolean => Value::Bool(text == "true"),
        ShapeType::Integer | ShapeType::Long | ShapeType::Byte | ShapeType::Short => {
            let t = text.trim();
            if let Ok(i) = t.parse::<i64>() {
                Value::from(i)
            } else if let Ok(u) = t.parse::<u64>() {
                Value::from(u)
            } else {
                Value::String(text.to_string())
            }
        }
        ShapeType::Biginteger | ShapeType::Bigdecimal => {
            let t = text.trim();
            if let Ok(i) = t.parse::<i64>() {
                Value::from(i)
            } else if let Some(n) = t.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
                Value::Number(n)
            } else {
                Value::String(text.to_string())
            }
        }
        ShapeType::Float | ShapeType::Double => float(text),
        ShapeType::Blob => blob(text),
        ShapeType::Timestamp => match fast_utc_iso8601(text) {
            Some(s) => Value::String(s),
            None => match crate::timestamp::parse(text) {
                Some(t) => Value::String(crate::timestamp::to_boto3(&t)),
                None => Value::String(text.to_string()),
            },
        },
        // Not scalars; only reached for text where an aggregate was expected.
        ShapeType::Structure | ShapeType::Map => Value::Object(Map::new()),
        ShapeType::List => Value::Array(Vec::new()),
    }
}

/// The boto3 form of the common `YYYY-MM-DDTHH:MM:SS[.fff]Z` timestamps, written
/// without a round trip through chrono (the same result as [`crate::timestamp::parse`]
/// then [`crate::timestamp::to_boto3`]: fraction truncated to microseconds, omitted
/// when zero). `None` for anything else.
pub(super) fn fast_utc_iso8601(text: &str) -> Option<String> {
    let b = text.as_bytes();
    if b.len() < 20 || b[b.len() - 1] != b'Z' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (h, mi, sec) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    chrono::NaiveDate::from_ymd_opt(y as i32, mo, d)?;
    let frac = &b[19..b.len() - 1];
    let mut out = String::with_capacity(32);
    out.push_str(&text[..19]);
    if !frac.is_empty() {
        if frac[0] != b'.' || frac.len() < 2 || !frac[1..].iter().all(u8::is_ascii_digit) {
            return None;
        }
        let f = &text[20..text.len() - 1];
        let f = &f[..f.len().min(6)];
        if f.bytes().any(|c| c != b'0') {
            out.push('.');
            out.push_str(f);
            out.extend(std::iter::repeat_n('0', 6 - f.len()));
        }
    }
    out.push_str("+00:00");
    Some(out)
}

pub(super) fn float(text: &str) -> Value {
    let t = text.trim();
    match t.parse::<f64>() {
        Ok(f) if f.is_nan() => Value::String("NaN".into()),
        Ok(f) if f.is_infinite() => {
            Value::String(if f > 0.0 { "Infinity" } else { "-Infinity" }.into())
        }
        Ok(f) => serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Err(_) => Value::String(text.to_string()),
    }
}

pub(super) fn blob(text: &str) -> Value {
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
    use base64::engine::DecodePaddingMode;
    use base64::Engine;
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    if let Ok(bytes) = STANDARD.decode(text) {
        return crate::protocol::blob_output(&bytes);
    }
    // Like Python's b64decode: characters outside the alphabet (line breaks) are dropped.
    let cleaned: Vec<u8> = text
        .bytes()
        .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        .collect();
    match LENIENT.decode(&cleaned) {
        Ok(bytes) => crate::protocol::blob_output(&bytes),
        Err(_) => Value::String(text.to_string()),
    }
}
