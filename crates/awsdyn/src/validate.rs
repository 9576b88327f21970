//! Input validation against the operation's input shape, before anything is sent:
//! required members, unknown members, JSON types, and minimum lengths/values, with
//! one message naming the path of the offending parameter (`Filters[0].Name`), like
//! botocore's ParamValidator.

use serde_json::Value;

use crate::model::{Operation, ServiceModel, ShapeId, ShapeType};
use crate::Error;

/// Checks `input` against `op`'s input shape; all problems in one error.
pub fn check(model: &ServiceModel, op: &Operation, input: &Value) -> Result<(), Error> {
    let mut problems = Vec::new();
    match &op.input {
        Some(r) => walk(model, r.target, input, "", &mut problems),
        None => {
            if input.as_object().is_some_and(|o| !o.is_empty()) {
                problems.push("this operation takes no parameters".to_string());
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::Validation {
        operation: op.name.clone(),
        message: problems.join("; "),
    })
}

fn at(path: &str) -> String {
    if path.is_empty() {
        "the input".to_string()
    } else {
        format!("parameter {path}")
    }
}

fn walk(model: &ServiceModel, id: ShapeId, v: &Value, path: &str, out: &mut Vec<String>) {
    let shape = model.shape(id);
    if shape.document {
        return;
    }
    let want = |kind: &str, out: &mut Vec<String>| {
        out.push(format!("{} must be {kind}, got {}", at(path), type_name(v)));
    };
    match shape.kind {
        ShapeType::Structure => {
            let Some(obj) = v.as_object() else {
                return want("an object", out);
            };
            for req in &shape.required {
                if !obj.contains_key(req) {
                    out.push(format!("missing required parameter {}", join(path, req)));
                }
            }
            for (k, val) in obj {
                match shape.members.get(k) {
                    Some(m) => {
                        if !val.is_null() {
                            walk(model, m.target, val, &join(path, k), out);
                        }
                    }
                    None => {
                        let names: Vec<&str> = shape.members.keys().map(String::as_str).collect();
                        let close = crate::names::closest(k, names.iter().copied(), 3);
                        let hint = if close.is_empty() {
                            format!("valid parameters are {}", names.join(", "))
                        } else {
                            format!("did you mean {}?", close.join(", "))
                        };
                        out.push(format!("unknown parameter {}; {hint}", join(path, k)));
                    }
                }
            }
            if shape.union && obj.values().filter(|v| !v.is_null()).count() > 1 {
                out.push(format!("{} must set exactly one member", at(path)));
            }
        }
        ShapeType::List => {
            let Some(items) = v.as_array() else {
                return want("a list", out);
            };
            check_min(shape.min, items.len() as f64, "length", path, out);
            if let Some(m) = &shape.member {
                for (i, item) in items.iter().enumerate() {
                    walk(model, m.target, item, &format!("{path}[{i}]"), out);
                }
            }
        }
        ShapeType::Map => {
            let Some(obj) = v.as_object() else {
                return want("an object (map)", out);
            };
            check_min(shape.min, obj.len() as f64, "length", path, out);
            if let Some(m) = &shape.value {
                for (k, item) in obj {
                    walk(model, m.target, item, &format!("{path}.{k}"), out);
                }
            }
        }
        ShapeType::String | ShapeType::Character => match v.as_str() {
            Some(s) => check_min(shape.min, s.chars().count() as f64, "length", path, out),
            None => want("a string", out),
        },
        ShapeType::Blob => {
            if !v.is_string() {
                want("a string", out)
            }
        }
        ShapeType::Integer
        | ShapeType::Long
        | ShapeType::Short
        | ShapeType::Byte
        | ShapeType::Biginteger => {
            match v
                .as_i64()
                .map(|n| n as f64)
                .or_else(|| v.as_u64().map(|n| n as f64))
            {
                Some(n) => check_min(shape.min, n, "value", path, out),
                None => want("an integer", out),
            }
        }
        ShapeType::Float | ShapeType::Double | ShapeType::Bigdecimal => match v {
            Value::Number(n) => check_min(shape.min, n.as_f64().unwrap_or(0.0), "value", path, out),
            Value::String(s) if matches!(s.as_str(), "NaN" | "Infinity" | "-Infinity") => {}
            _ => want("a number", out),
        },
        ShapeType::Boolean => {
            if !v.is_boolean() {
                want("true or false", out)
            }
        }
        ShapeType::Timestamp => {
            if crate::timestamp::from_input(v).is_none() {
                want("a timestamp (ISO 8601 string or epoch seconds)", out)
            }
        }
    }
}

fn check_min(min: Option<f64>, got: f64, what: &str, path: &str, out: &mut Vec<String>) {
    if let Some(min) = min {
        if got < min {
            out.push(format!(
                "{} has {what} {got}, below the minimum {min}",
                at(path)
            ));
        }
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// What kind of JSON value this is, for messages: `null`, `a boolean`, `a number`,
/// `a string`, `a list` or `an object`.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_the_missing_member() {
        let ec2 = crate::model::load("ec2").unwrap();
        let op = ec2.operation("DescribeInstances").unwrap();
        check(&ec2, op, &json!({})).unwrap();
        check(
            &ec2,
            op,
            &json!({"MaxResults": 5, "Filters": [{"Name": "x", "Values": ["a"]}]}),
        )
        .unwrap();
        let e = check(&ec2, op, &json!({"MaxResult": 5}))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown parameter MaxResult") && e.contains("MaxResults"),
            "{e}"
        );
        let e = check(&ec2, op, &json!({"Filters": [{"Name": 3}]}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("Filters[0].Name must be a string"), "{e}");
        let iam = crate::model::load("iam").unwrap();
        let op = iam.operation("get_role").unwrap();
        let e = check(&iam, op, &json!({})).unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid input for GetRole: missing required parameter RoleName"
        );
        let e = check(&iam, op, &json!({"RoleName": ""}))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("RoleName has length 0, below the minimum 1"),
            "{e}"
        );
    }
}
