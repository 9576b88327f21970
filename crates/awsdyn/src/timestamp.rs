//! Timestamps: parsing every format the AWS protocols use, writing them on the wire,
//! and writing them in output the way Python's `isoformat()` writes boto3's datetimes.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use serde_json::Value;

pub type Timestamp = DateTime<Utc>;

/// Output form: `2026-11-22T22:05:52+00:00`, or `2026-11-22T22:05:52.123000+00:00` when
/// there is a fractional second (microsecond precision, like Python's datetime).
pub fn to_boto3(t: &Timestamp) -> String {
    let micros = t.nanosecond() / 1000;
    let mut s = String::with_capacity(32);
    use std::fmt::Write;
    let _ = write!(s, "{}", t.format("%Y-%m-%dT%H:%M:%S"));
    if micros != 0 {
        let _ = write!(s, ".{micros:06}");
    }
    s.push_str("+00:00");
    s
}

/// Wire form `iso8601` as botocore writes it: `2014-04-29T18:30:38Z`, with `.%f`
/// (six digits) only when there is a fractional second.
pub fn to_iso8601(t: &Timestamp) -> String {
    let micros = t.nanosecond() / 1000;
    if micros != 0 {
        format!("{}.{micros:06}Z", t.format("%Y-%m-%dT%H:%M:%S"))
    } else {
        format!("{}", t.format("%Y-%m-%dT%H:%M:%SZ"))
    }
}

/// Wire form `rfc822`: `Tue, 29 Apr 2014 18:30:38 GMT`.
pub fn to_rfc822(t: &Timestamp) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Wire form `unixTimestamp`: whole seconds as an integer, else seconds with the
/// fraction (millisecond precision, as botocore rounds it).
pub fn to_epoch_value(t: &Timestamp) -> Value {
    let micros = t.nanosecond() / 1000;
    if micros == 0 {
        Value::from(t.timestamp())
    } else {
        let secs = t.timestamp() as f64 + f64::from(micros) / 1e6;
        let rounded = (secs * 1000.0).round() / 1000.0;
        serde_json::Number::from_f64(rounded)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

/// Epoch seconds (possibly fractional) to a timestamp, rounded to the microsecond
/// exactly as Python's `datetime.fromtimestamp` does (split off the whole seconds,
/// then round the fraction's microseconds half to even), so that awsdyn and boto3
/// agree to the microsecond.
pub fn from_epoch(secs: f64) -> Option<Timestamp> {
    if !secs.is_finite() {
        return None;
    }
    let whole = secs.trunc();
    let frac = secs - whole;
    let mut micros = (frac * 1e6).round_ties_even() as i64;
    let mut whole = whole as i64;
    if micros >= 1_000_000 {
        whole += 1;
        micros -= 1_000_000;
    } else if micros < 0 {
        whole -= 1;
        micros += 1_000_000;
    }
    Utc.timestamp_opt(whole, (micros * 1000) as u32).single()
}

/// Parses any timestamp text AWS sends: epoch seconds, ISO 8601 (with or without zone,
/// fraction, or separators) and RFC 822 / RFC 7231 dates.
pub fn parse(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(f) = s.parse::<f64>() {
        return from_epoch(f);
    }
    parse_iso8601(s).or_else(|| parse_http_date(s))
}

fn truncate_micros(t: Timestamp) -> Timestamp {
    let n = t.nanosecond();
    t.with_nanosecond(n - n % 1000).unwrap_or(t)
}

/// ISO 8601 / RFC 3339 in the forms AWS uses.
pub fn parse_iso8601(s: &str) -> Option<Timestamp> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(truncate_micros(t.with_timezone(&Utc)));
    }
    // Lower-case 't'/'z', missing zone, basic format (20140429T183038Z), or date only.
    let upper = s.to_ascii_uppercase();
    let (body, zone_ok) = match upper.strip_suffix('Z') {
        Some(b) => (b.to_string(), true),
        None => (upper.clone(), !upper.contains('+')),
    };
    if !zone_ok {
        return DateTime::parse_from_str(&upper, "%Y-%m-%dT%H:%M:%S%.f%z")
            .ok()
            .map(|t| truncate_micros(t.with_timezone(&Utc)));
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y%m%dT%H%M%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(&body, f) {
            return Some(truncate_micros(Utc.from_utc_datetime(&n)));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(&body, "%Y-%m-%d") {
        return Some(Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0)?));
    }
    None
}

/// RFC 822 / RFC 1123 / RFC 7231 HTTP dates.
pub fn parse_http_date(s: &str) -> Option<Timestamp> {
    if let Ok(t) = DateTime::parse_from_rfc2822(s) {
        return Some(truncate_micros(t.with_timezone(&Utc)));
    }
    let cleaned = s.trim_end_matches(" GMT").trim_end_matches(" UTC");
    for f in [
        "%a, %d %b %Y %H:%M:%S%.f",
        "%d %b %Y %H:%M:%S%.f",
        "%A, %d-%b-%y %H:%M:%S",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(cleaned, f) {
            return Some(truncate_micros(Utc.from_utc_datetime(&n)));
        }
    }
    None
}

/// A timestamp given in input: epoch seconds (number or numeric string) or a date string.
pub fn from_input(v: &Value) -> Option<Timestamp> {
    match v {
        Value::Number(n) => from_epoch(n.as_f64()?),
        Value::String(s) => parse(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boto3_form() {
        let t = parse("2014-04-29T18:30:38Z").unwrap();
        assert_eq!(to_boto3(&t), "2014-04-29T18:30:38+00:00");
        let t = parse("2014-04-29T18:30:38.123Z").unwrap();
        assert_eq!(to_boto3(&t), "2014-04-29T18:30:38.123000+00:00");
        let t = parse("Tue, 29 Apr 2014 18:30:38 GMT").unwrap();
        assert_eq!(to_boto3(&t), "2014-04-29T18:30:38+00:00");
        let t = parse("1398796238").unwrap();
        assert_eq!(to_iso8601(&t), "2014-04-29T18:30:38Z");
        assert_eq!(to_rfc822(&t), "Tue, 29 Apr 2014 18:30:38 GMT");
        // Python: datetime.fromtimestamp(1795501591.8783782) -> .878378
        assert_eq!(
            to_boto3(&from_epoch(1795501591.8783782).unwrap()),
            "2026-11-24T06:26:31.878378+00:00"
        );
        assert_eq!(
            to_boto3(&from_epoch(1795501569.3940063).unwrap()),
            "2026-11-24T06:26:09.394006+00:00"
        );
        let t = from_epoch(1398796238.5).unwrap();
        assert_eq!(to_epoch_value(&t), serde_json::json!(1398796238.5));
    }
}

#[cfg(test)]
mod json_float_tests {
    /// Epoch seconds in JSON answers are parsed correctly rounded (serde_json's
    /// `float_roundtrip`), as Python's json module does: the default fast path may be
    /// one unit in the last place off, which moves a timestamp by a microsecond when its
    /// fraction sits near a rounding boundary (seen as a flaky differential test against
    /// boto3 on efs DescribeFileSystems CreationTime).
    #[test]
    fn epoch_numbers_parse_correctly_rounded() {
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut off = Vec::new();
        for _ in 0..200_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let text = format!(
                "{}.{:07}",
                1_600_000_000 + seed % 200_000_000,
                (seed >> 32) % 10_000_000
            );
            let json: f64 = serde_json::from_str(&text).unwrap();
            let exact: f64 = text.parse().unwrap();
            if json.to_bits() != exact.to_bits() {
                off.push(text);
            }
        }
        assert!(
            off.is_empty(),
            "{} numbers misparsed, e.g. {:?}",
            off.len(),
            &off[..off.len().min(3)]
        );
    }
}
