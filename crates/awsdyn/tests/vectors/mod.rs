//! The botocore protocol test vectors (tests/data/protocols): loading the cases, the
//! skip list, each case's model and response, and comparing results in botocore's
//! normalized form. Shared by awsdyn's protocol_vectors harness and census's decode
//! tests (`#[path]`-included there), so both read the vectors the same way.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use awsdyn::model::{Operation, ServiceModel, ShapeId, ShapeType};
use base64::Engine;
use serde_json::{json, Map, Value};

pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data")
}

#[derive(Default, Clone, Copy)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

pub struct Case {
    pub protocol: String,
    pub direction: &'static str,
    pub key: String,
    pub suite: Value,
    pub case: Value,
}

pub fn load_cases() -> Vec<Case> {
    let root = data_dir().join("protocols");
    let mut files = Vec::new();
    for sub in ["input", "output", "legacy/input", "legacy/output"] {
        let dir = root.join(sub);
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        for p in names {
            files.push((sub.starts_with("legacy"), sub.ends_with("input"), p));
        }
    }
    let mut out = Vec::new();
    for (legacy, input, path) in files {
        let protocol = path.file_stem().unwrap().to_string_lossy().to_string();
        let suites: Vec<Value> = serde_json::from_slice(&std::fs::read(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let direction = if input { "input" } else { "output" };
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (si, suite) in suites.into_iter().enumerate() {
            let cases = suite["cases"].as_array().cloned().unwrap_or_default();
            for (ci, case) in cases.into_iter().enumerate() {
                let base = match case.get("id").and_then(Value::as_str) {
                    Some(id) => id.to_string(),
                    None => format!("s{si}c{ci}"),
                };
                let base = if legacy {
                    format!("legacy/{base}")
                } else {
                    base
                };
                let n = seen.entry(base.clone()).or_insert(0);
                *n += 1;
                let key = if *n > 1 { format!("{base}#{n}") } else { base };
                out.push(Case {
                    protocol: protocol.clone(),
                    direction,
                    key,
                    suite: suite.clone(),
                    case,
                });
            }
        }
    }
    out
}

pub fn load_skips() -> HashMap<(String, String, String), String> {
    let path = data_dir().join("protocols-skip.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut out = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.splitn(4, ' ');
        let (Some(p), Some(d), Some(k), Some(reason)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            panic!(
                "{}:{}: expected `<protocol> <input|output> <case-key> <reason>`",
                path.display(),
                n + 1
            );
        };
        out.insert(
            (p.to_string(), d.to_string(), k.to_string()),
            reason.trim().to_string(),
        );
    }
    out
}

/// The case's model as botocore JSON (`{metadata, shapes, operations}`, the one
/// operation) and the operation's name.
pub fn model_json(case: &Case) -> Result<(Value, String), String> {
    let given = &case.case["given"];
    let name = given["name"]
        .as_str()
        .ok_or("case has no given.name")?
        .to_string();
    let mut ops = Map::new();
    ops.insert(name.clone(), given.clone());
    let model_json = json!({
        "metadata": case.suite["metadata"],
        "shapes": case.suite["shapes"],
        "operations": ops,
    });
    Ok((model_json, name))
}

pub fn model_for(case: &Case) -> Result<(ServiceModel, String), String> {
    let (model_json, name) = model_json(case)?;
    let model = ServiceModel::from_value("vector", model_json).map_err(|e| e.to_string())?;
    Ok((model, name))
}

/// An output case's response: status, headers (values as strings) and body.
pub fn response_of(case: &Case) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let resp = &case.case["response"];
    let headers: Vec<(String, String)> = resp["headers"]
        .as_object()
        .map(|h| {
            h.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let body = resp["body"].as_str().unwrap_or("").as_bytes().to_vec();
    let status = resp["status_code"].as_u64().unwrap_or(200) as u16;
    (status, headers, body)
}

/// Whether an output case expects an error.
pub fn expects_error(case: &Case) -> bool {
    case.case.get("error").is_some() || case.case.get("errorCode").is_some()
}

/// Brings a value of shape `id` to a comparable form: timestamps to epoch seconds,
/// blobs to their text (ours are base64, the vectors' are raw), numbers to f64.
pub fn norm(model: &ServiceModel, id: ShapeId, v: &Value, expected: bool) -> Value {
    let shape = model.shape(id);
    match (shape.kind, v) {
        (ShapeType::Structure, Value::Object(o)) if !shape.document => {
            let mut out = Map::new();
            for (k, val) in o {
                match shape.members.get(k) {
                    Some(m) if !m.jsonvalue => {
                        out.insert(k.clone(), norm(model, m.target, val, expected));
                    }
                    _ => {
                        out.insert(k.clone(), val.clone());
                    }
                }
            }
            Value::Object(out)
        }
        (ShapeType::List, Value::Array(a)) => {
            let m = shape.member.as_ref().unwrap().target;
            Value::Array(a.iter().map(|x| norm(model, m, x, expected)).collect())
        }
        (ShapeType::Map, Value::Object(o)) => {
            let m = shape.value.as_ref().unwrap().target;
            Value::Object(
                o.iter()
                    .map(|(k, x)| (k.clone(), norm(model, m, x, expected)))
                    .collect(),
            )
        }
        (ShapeType::Timestamp, Value::String(s)) => match awsdyn::timestamp::parse(s) {
            Some(t) => json!(t.timestamp() as f64 + f64::from(t.timestamp_subsec_micros()) / 1e6),
            None => v.clone(),
        },
        (ShapeType::Timestamp, Value::Number(n)) => json!(n.as_f64().unwrap()),
        (ShapeType::Blob, Value::String(s)) if !expected => {
            match base64::engine::general_purpose::STANDARD.decode(s) {
                Ok(b) => Value::String(String::from_utf8_lossy(&b).into_owned()),
                Err(_) => json!(format!("<not base64: {s}>")),
            }
        }
        (
            ShapeType::Float | ShapeType::Double | ShapeType::Integer | ShapeType::Long,
            Value::Number(n),
        ) => {
            json!(n.as_f64().unwrap())
        }
        _ => v.clone(),
    }
}

pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            x == y || (x - y).abs() <= 1e-6 * x.abs().max(y.abs())
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same(v, w))
        }
        _ => a == b,
    }
}

/// Compares an error (code, message, modeled fields) with what the output case expects.
pub fn check_error(
    model: &ServiceModel,
    op: &Operation,
    case: &Case,
    code: &str,
    message: &str,
    fields: &Map<String, Value>,
) -> Result<(), String> {
    if let Some(want) = case.case.get("errorCode").and_then(Value::as_str) {
        if code != want {
            return Err(format!("error code: expected {want:?}, got {code:?}"));
        }
    }
    if let Some(msg) = case.case.get("errorMessage").and_then(Value::as_str) {
        if message != msg {
            return Err(format!("error message: expected {msg:?}, got {message:?}"));
        }
    }
    if let Some(expected) = case.case.get("error") {
        let shape = awsdyn::protocol::error_shape(model, op, code);
        let ours = Value::Object(fields.clone());
        let (ours_n, exp_n) = match shape {
            Some(id) => (
                norm(model, id, &ours, false),
                norm(model, id, expected, true),
            ),
            None => (ours.clone(), expected.clone()),
        };
        if !same(&ours_n, &exp_n) {
            return Err(format!(
                "error fields:\n  expected {exp_n}\n  got      {ours_n}"
            ));
        }
    }
    Ok(())
}

/// Compares a parsed result with what the output case expects.
pub fn check_result(
    model: &ServiceModel,
    op: &Operation,
    case: &Case,
    value: &Value,
) -> Result<(), String> {
    let expected = case
        .case
        .get("result")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let (ours_n, exp_n) = match &op.output {
        Some(o) => (
            norm(model, o.target, value, false),
            norm(model, o.target, &expected, true),
        ),
        None => (value.clone(), expected.clone()),
    };
    let ours_n = if ours_n.is_null() { json!({}) } else { ours_n };
    if !same(&ours_n, &exp_n) {
        return Err(format!("result:\n  expected {exp_n}\n  got      {ours_n}"));
    }
    Ok(())
}
