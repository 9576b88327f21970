//! Reading scan files and URLs into entries, each with its origin.

use std::time::Duration;

use serde_json::Value;

use super::Problem;

/// How long fetching a scan file from a URL may take, in all.
const FETCH_TIMEOUT: Duration = Duration::from_secs(60);

/// One entry of a scan file, not yet checked.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    /// `scans/ec2.json entry 3`.
    pub origin: String,
    pub value: Value,
}

/// Reads `name`, a file path or an http(s) URL (as aws-auto-inventory tells them
/// apart: by the `http://` or `https://` prefix), into its entries.
pub(super) async fn read(name: &str) -> Result<Vec<Entry>, Problem> {
    let problem = |message: String| Problem {
        origin: name.to_string(),
        message,
    };
    let text = if is_url(name) {
        fetch(name).await.map_err(|e| {
            problem(format!(
                "{e}; check the URL (-s/--scan), or download the file and give its path"
            ))
        })?
    } else {
        // A scan file is small: reading it in place costs less than a blocking task.
        std::fs::read(name).map_err(|e| {
            problem(format!(
                "cannot read the scan file: {}; give -s/--scan a readable JSON file (a list of calls) or an http(s) URL",
                io_reason(&e)
            ))
        })?
    };
    entries(name, &text).map_err(problem)
}

fn is_url(name: &str) -> bool {
    let lower = name.get(..8).unwrap_or(name).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

async fn fetch(url: &str) -> Result<Vec<u8>, String> {
    let client = reqwest::Client::builder()
        .timeout(FETCH_TIMEOUT)
        .build()
        .map_err(|e| format!("cannot fetch the scan file: {e}"))?;
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("cannot fetch the scan file: {}", reqwest_reason(e)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!(
            "cannot fetch the scan file: the server answered HTTP {status}"
        ));
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("cannot fetch the scan file: {}", reqwest_reason(e)))?;
    Ok(body.to_vec())
}

/// reqwest's message without the URL (the origin already names it), with its causes.
fn reqwest_reason(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut message = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        message.push_str(": ");
        message.push_str(&c.to_string());
        cause = c.source();
    }
    message
}

/// Parses a scan file's text into entries.
pub(super) fn entries(name: &str, text: &[u8]) -> Result<Vec<Entry>, String> {
    let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
    let value: Value = serde_json::from_slice(text).map_err(|e| json_error(&e))?;
    let entries = match value {
        Value::Array(items) => numbered(items, |i| format!("{name} entry {i}")),
        Value::Object(mut top) => {
            if let Some(inventories) = top.remove("inventories") {
                let Value::Array(inventories) = inventories else {
                    return Err("\"inventories\" must be a list".to_string());
                };
                let mut all = Vec::new();
                for (i, inventory) in inventories.into_iter().enumerate() {
                    let sheets = inventory.get("sheets").cloned();
                    let Some(Value::Array(sheets)) = sheets else {
                        return Err(format!("inventory {} has no \"sheets\" list", i + 1));
                    };
                    all.extend(numbered(sheets, |j| {
                        format!("{name} inventory {} sheet {j}", i + 1)
                    }));
                }
                all
            } else if let Some(sheets) = top.remove("sheets") {
                let Value::Array(sheets) = sheets else {
                    return Err("\"sheets\" must be a list".to_string());
                };
                numbered(sheets, |j| format!("{name} sheet {j}"))
            } else {
                return Err(not_a_list(
                    "an object without \"sheets\" or \"inventories\"",
                ));
            }
        }
        other => return Err(not_a_list(kind(&other))),
    };
    if entries.is_empty() {
        return Err("the scan file lists no calls".to_string());
    }
    Ok(entries)
}

fn numbered(items: Vec<Value>, origin: impl Fn(usize) -> String) -> Vec<Entry> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, value)| Entry {
            origin: origin(i + 1),
            value,
        })
        .collect()
}

fn not_a_list(got: &str) -> String {
    format!(
        "a scan file is a JSON list of calls such as [{{\"service\": \"ec2\", \"function\": \"describe_instances\"}}], got {got}"
    )
}

/// What kind of JSON value this is, for messages.
pub(super) use awsdyn::validate::type_name as kind;

/// `not valid JSON at line 3, column 5: expected `,` or `]``.
fn json_error(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let reason = full.strip_suffix(&suffix).unwrap_or(&full);
    if e.line() == 0 {
        format!("not valid JSON: {reason}")
    } else {
        format!(
            "not valid JSON at line {}, column {}: {reason}",
            e.line(),
            e.column()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let e = entries("a.json", br#"[{"service": "s3"}, {}]"#).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].origin, "a.json entry 2");
        let e = entries("b.json", br#"{"sheets": [{"service": "s3"}]}"#).unwrap();
        assert_eq!(e[0].origin, "b.json sheet 1");
        let e = entries(
            "c.json",
            br#"{"inventories": [{"name": "x", "sheets": [{}]}, {"sheets": [{}, {}]}]}"#,
        )
        .unwrap();
        let origins: Vec<&str> = e.iter().map(|e| e.origin.as_str()).collect();
        assert_eq!(
            origins,
            [
                "c.json inventory 1 sheet 1",
                "c.json inventory 2 sheet 1",
                "c.json inventory 2 sheet 2"
            ]
        );
        let e = entries("d.json", b"\xEF\xBB\xBF[{}]").unwrap();
        assert_eq!(e.len(), 1);
    }

    #[test]
    fn bad_shapes() {
        assert!(entries("a", b"[]").unwrap_err().contains("lists no calls"));
        assert!(entries("a", br#""x""#)
            .unwrap_err()
            .ends_with("got a string"));
        assert!(entries("a", br#"{"calls": []}"#)
            .unwrap_err()
            .contains("without \"sheets\""));
        let e = entries("a", b"[\n  {\"service\": \"s3\",}\n]").unwrap_err();
        assert_eq!(e, "not valid JSON at line 2, column 20: trailing comma");
        let e = entries("a", b"").unwrap_err();
        assert!(
            e.starts_with("not valid JSON at line 1, column 0: EOF"),
            "{e}"
        );
    }

    #[test]
    fn urls() {
        assert!(is_url("https://example.com/a.json"));
        assert!(is_url("HTTP://example.com/a.json"));
        assert!(!is_url("scans/http.json"));
        assert!(!is_url("s3://bucket/a.json"));
    }
}
