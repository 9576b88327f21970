//! JSON values written as block-style YAML, for the CloudFormation template of
//! `census iam member-role-template --format yaml`.
//!
//! Not a YAML library: it writes (never reads), and only what a JSON value can hold.

use serde_json::{Map, Value};

/// YAML for a JSON value, block style. Every string is written double-quoted with
/// JSON's escapes (a JSON string is a YAML double-quoted scalar), so nothing is read
/// back as another type: no `2010-09-09` date, no `yes`/`no`/`on` booleans, no octal.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(m) if !m.is_empty() => yaml_map(m, 0, &mut out),
        Value::Array(a) if !a.is_empty() => yaml_list(a, 0, &mut out),
        other => {
            out.push_str(&yaml_scalar(other));
            out.push('\n');
        }
    }
    out
}

fn yaml_scalar(v: &Value) -> String {
    match v {
        Value::Object(m) if m.is_empty() => "{}".into(),
        Value::Array(a) if a.is_empty() => "[]".into(),
        other => serde_json::to_string(other).expect("a JSON value serializes"),
    }
}

fn yaml_key(k: &str) -> String {
    let plain = !k.is_empty()
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && k.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    if plain {
        k.to_string()
    } else {
        serde_json::to_string(k).expect("a string serializes")
    }
}

fn is_block(v: &Value) -> bool {
    match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    }
}

fn yaml_map(m: &Map<String, Value>, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    for (k, v) in m {
        out.push_str(&pad);
        out.push_str(&yaml_key(k));
        match v {
            Value::Object(inner) if !inner.is_empty() => {
                out.push_str(":\n");
                yaml_map(inner, indent + 2, out);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push_str(":\n");
                yaml_list(items, indent + 2, out);
            }
            scalar => {
                out.push_str(": ");
                out.push_str(&yaml_scalar(scalar));
                out.push('\n');
            }
        }
    }
}

fn yaml_list(items: &[Value], indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    for v in items {
        out.push_str(&pad);
        out.push_str("- ");
        match v {
            Value::Object(m) if !m.is_empty() => {
                // The first key on the dash's line, the others aligned with it.
                let mut first = String::new();
                yaml_map(m, indent + 2, &mut first);
                out.push_str(first.trim_start_matches(' '));
            }
            Value::Array(inner) if !inner.is_empty() => {
                let mut first = String::new();
                yaml_list(inner, indent + 2, &mut first);
                out.push_str(first.trim_start_matches(' '));
            }
            scalar => {
                debug_assert!(!is_block(scalar));
                out.push_str(&yaml_scalar(scalar));
                out.push('\n');
            }
        }
    }
}
