//! Checking scan file entries against the bundled models, before any call. Not the
//! reading of files and URLs (`source`), nor the placing of calls in regions (the
//! scan's planner).

use awsdyn::model::{self, Operation, ServiceModel};
use awsdyn::names;
use serde_json::{Map, Value};

pub(super) use super::source::kind;
use super::source::Entry;
use super::{is_read, Call, Problem, ResultKey};
use awsdyn::names::snake_case as method_name;

/// The members of an entry.
const FIELDS: [&str; 5] = ["service", "function", "parameters", "result_key", "details"];

/// boto3 client methods that are not AWS operations; aws-auto-inventory's generated
/// scan files list some of them because their names start with `get`.
pub(super) const BOTO3_HELPERS: &[&str] = &[
    "can_paginate",
    "close",
    "generate_db_auth_token",
    "generate_presigned_post",
    "generate_presigned_url",
    "get_paginator",
    "get_waiter",
];

/// A `--skip` value, `service` or `service:operation` (any spelling of either), as
/// `(botocore service name, model operation name or None for the whole service)`.
pub(super) fn skip(value: &str) -> Result<(String, Option<String>), String> {
    let (service, function) = match value.split_once(':') {
        Some((s, f)) => (s.trim(), Some(f.trim())),
        None => (value.trim(), None),
    };
    let model = service_model(service)?;
    match function {
        None => Ok((model.name.clone(), None)),
        Some(f) => {
            let (operation, _) = operation(&model, f)?;
            Ok((model.name.clone(), Some(operation.to_string())))
        }
    }
}

/// The call an entry describes (with an empty origin), or what is wrong with it.
pub(super) fn entry(value: &Value) -> Result<Call, String> {
    let Some(entry) = value.as_object() else {
        return Err(format!(
            "an entry is an object such as {{\"service\": \"ec2\", \"function\": \"describe_instances\"}}, got {}",
            kind(value)
        ));
    };
    for key in entry.keys() {
        if let Some(field) = misspelt(key) {
            return Err(format!(
                "unknown member {key:?}; did you mean {field:?}? (the members are service, function, parameters, result_key and details)"
            ));
        }
    }
    let service = text(entry, "service", "the boto3 service name, such as \"ec2\"")?;
    let model = service_model(service)?;
    let function = text(
        entry,
        "function",
        "the boto3 method name, such as \"describe_instances\"",
    )?;
    let (operation, op) = operation(&model, function)?;
    read_only(&model.name, operation)?;
    let parameters = match entry.get("parameters") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(p @ Value::Object(_)) => p.clone(),
        Some(other) => {
            return Err(format!(
                "\"parameters\" must be an object of the operation's parameters, such as {{\"MaxResults\": 50}}, got {}",
                kind(other)
            ))
        }
    };
    self::parameters(&model, operation, op, &parameters)?;
    if let Some(secret) = super::preset::secret(&model.name, operation, &parameters) {
        return Err(secret.refusal());
    }
    let mut call = Call {
        service: model.name.clone(),
        operation: operation.to_string(),
        function: method_name(operation),
        parameters,
        result_key: result_key(entry.get("result_key"))?,
        details: Vec::new(),
        origin: String::new(),
    };
    if let Some(details) = entry.get("details") {
        call.details = super::detail::entries(details, &call)?;
    }
    Ok(call)
}

/// Checks each entry, adding its call or its problem (the presets: their every entry
/// must run as written).
pub(super) fn entries(entries: Vec<Entry>, calls: &mut Vec<Call>, problems: &mut Vec<Problem>) {
    for Entry { origin, value } in entries {
        match entry(&value) {
            Ok(call) => calls.push(Call { origin, ..call }),
            Err(message) => problems.push(Problem { origin, message }),
        }
    }
}

/// Refuses an operation that is not a read (see [`is_read`]).
pub(super) fn read_only(service: &str, operation: &str) -> Result<(), String> {
    if is_read(operation) {
        return Ok(());
    }
    Err(format!(
        "{service} {operation} is not a read operation: Census makes only read calls \
         (Describe*, Get*, List*, ...), because a scan runs every call in every \
         account and region it reaches"
    ))
}

/// Checks parameters against the operation's input shape.
pub(super) fn parameters(
    model: &ServiceModel,
    operation: &str,
    op: &Operation,
    parameters: &Value,
) -> Result<(), String> {
    awsdyn::validate::check(model, op, parameters).map_err(|e| match e {
        awsdyn::Error::Validation { message, .. } => {
            format!(
                "invalid parameters for {} {operation}: {message}",
                model.name
            )
        }
        other => other.to_string(),
    })
}

/// An entry's `result_key`, compiled.
pub(super) fn result_key(value: Option<&Value>) -> Result<Option<ResultKey>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(key)) => {
            ResultKey::parse(key).map_err(|e| format!("result_key {key:?}: {e}"))
        }
        Some(other) => Err(format!(
            "\"result_key\" must be a string (a member such as \"Reservations\", or a jq filter starting with \".\"), got {}",
            kind(other)
        )),
    }
}

/// Checks a call read back from a scan's plan (`--resume`): a read operation that
/// returns no secrets, of a service Census knows.
pub fn check_planned(service: &str, operation: &str, parameters: &Value) -> Result<(), String> {
    let model = service_model(service)?;
    if !model.operations.contains_key(operation) || !is_read(operation) {
        return Err(format!(
            "call {service} {operation:?} is not a read operation of {service}"
        ));
    }
    if let Some(secret) = super::preset::secret(&model.name, operation, parameters) {
        return Err(secret.refusal());
    }
    Ok(())
}

/// The field `key` looks like a misspelling of, if any: the same name in another
/// case or style (`resultKey`), within two edits (`paramters`), or sharing its first
/// four letters (`params`, `service_name`).
pub(super) fn misspelt(key: &str) -> Option<&'static str> {
    misspelt_of(key, &FIELDS)
}

/// [`misspelt`] among `fields`.
pub(super) fn misspelt_of(key: &str, fields: &[&'static str]) -> Option<&'static str> {
    if fields.contains(&key) {
        return None;
    }
    let k = names::normalize(key);
    fields.iter().copied().find(|field| {
        let f = names::normalize(field);
        let shared = k.chars().zip(f.chars()).take_while(|(a, b)| a == b).count();
        k == f || names::distance(&k, &f) <= 2 || shared >= 4
    })
}

/// A required string member.
pub(super) fn text<'a>(
    entry: &'a Map<String, Value>,
    field: &str,
    what: &str,
) -> Result<&'a str, String> {
    match entry.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        None | Some(Value::Null) => Err(format!("missing {field:?} ({what})")),
        Some(Value::String(_)) => Err(format!("{field:?} is empty; give {what}")),
        Some(other) => Err(format!(
            "{field:?} must be a string ({what}), got {}",
            kind(other)
        )),
    }
}

/// The model of a service named in a spec.
pub(super) fn service_model(name: &str) -> Result<std::sync::Arc<ServiceModel>, String> {
    let Some(entry) = model::find_service(name) else {
        let all = model::services().iter().map(|e| e.name.as_str());
        return Err(format!(
            "unknown service {name:?}{}",
            did_you_mean(&suggest(name, all))
        ));
    };
    let model = model::load(&entry.name).map_err(|e| e.to_string())?;
    callable(&model)?;
    Ok(model)
}

/// Whether Census can call this service at all: awsdyn speaks its protocol and signs
/// its requests with SigV4.
pub(super) fn callable(model: &ServiceModel) -> Result<(), String> {
    model
        .protocol()
        .map_err(|e| format!("{e}, so Census cannot call it"))?;
    match model.metadata.signature_version.as_deref() {
        None | Some("v4" | "s3" | "s3v4") => Ok(()),
        Some(other) => Err(format!(
            "service {} signs requests with {other}, and Census signs with SigV4 only",
            model.name
        )),
    }
}

/// The operation `function` names, with its name as the model's operations list
/// it, which boto3 names its methods after. (For a few operations the model's wire
/// name differs: CloudFront's `ListDistributions` is `ListDistributions2020_05_31`.)
pub(super) fn operation<'m>(
    model: &'m ServiceModel,
    function: &str,
) -> Result<(&'m str, &'m Operation), String> {
    let wanted = names::normalize(function);
    let found = model
        .operations
        .get_key_value(function)
        .or_else(|| {
            // By the names first: they need no operation decoded.
            let key = model
                .operations
                .keys()
                .find(|key| names::normalize(key) == wanted)?;
            model.operations.get_key_value(key)
        })
        .or_else(|| {
            model
                .operations
                .iter()
                .find(|(_, op)| names::normalize(&op.name) == wanted)
        });
    if let Some((key, op)) = found {
        return Ok((key.as_str(), op));
    }
    if BOTO3_HELPERS.contains(&function) {
        return Err(format!(
            "{function:?} is a boto3 client helper, not an AWS operation; remove this entry"
        ));
    }
    let close: Vec<String> = suggest(function, model.operations.keys().map(String::as_str))
        .iter()
        .map(|op| in_style_of(op, function))
        .collect();
    Err(format!(
        "unknown operation {function:?} for {}{}",
        model.name,
        did_you_mean(&close)
    ))
}

/// An operation name written the way `example` is: kebab-case, boto3's snake_case,
/// or the model's PascalCase.
fn in_style_of(operation: &str, example: &str) -> String {
    if example.contains('-') {
        method_name(operation).replace('_', "-")
    } else if example.contains('_') || !example.chars().any(char::is_uppercase) {
        method_name(operation)
    } else {
        operation.to_string()
    }
}

/// The names closest to `wanted` (at most three): those as close as the closest one
/// or one edit further, so that a near miss gets one answer rather than a list.
fn suggest<'a>(wanted: &str, candidates: impl Iterator<Item = &'a str>) -> Vec<String> {
    let close = names::closest(wanted, candidates, 3);
    let w = names::normalize(wanted);
    let distance = |c: &String| names::distance(&w, &names::normalize(c));
    let Some(best) = close.iter().map(distance).min() else {
        return close;
    };
    close
        .into_iter()
        .filter(|c| distance(c) <= best + 1)
        .collect()
}

fn did_you_mean(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", suggestions.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(v: Value) -> String {
        entry(&v).unwrap_err()
    }

    #[test]
    fn good_entries() {
        let call = entry(&json!({"service": "ec2", "function": "describe_instances"})).unwrap();
        assert_eq!(
            (
                call.service.as_str(),
                call.operation.as_str(),
                call.function.as_str()
            ),
            ("ec2", "DescribeInstances", "describe_instances")
        );
        assert_eq!(call.parameters, json!({}));
        assert!(call.result_key.is_none());
        for function in ["DescribeInstances", "describe-instances"] {
            let call = entry(&json!({"service": "EC2", "function": function, "parameters": null, "result_key": ""})).unwrap();
            assert_eq!(
                (call.service.as_str(), call.function.as_str()),
                ("ec2", "describe_instances")
            );
        }
        let call =
            entry(&json!({"service": "memorydb", "function": "DescribeACLs", "name": "acls"}))
                .unwrap();
        assert_eq!(call.function, "describe_acls");
        // The model lists it as ListDistributions; its wire name is ListDistributions2020_05_31.
        for function in [
            "list_distributions",
            "ListDistributions",
            "ListDistributions2020_05_31",
        ] {
            let call = entry(&json!({"service": "cloudfront", "function": function})).unwrap();
            assert_eq!(
                (call.operation.as_str(), call.function.as_str()),
                ("ListDistributions", "list_distributions")
            );
        }
    }

    #[test]
    fn bad_entries() {
        assert_eq!(
            err(json!({"service": "ec2", "function": "describe_instance"})),
            "unknown operation \"describe_instance\" for ec2; did you mean describe_instances?"
        );
        assert!(
            err(json!({"service": "ec2", "function": "DescribeInstance"}))
                .ends_with("did you mean DescribeInstances?")
        );
        assert!(err(json!({"service": "ec3", "function": "x"}))
            .starts_with("unknown service \"ec3\"; did you mean ec2"));
        assert_eq!(
            err(json!({"service": "ec2", "function": "get_paginator"})),
            "\"get_paginator\" is a boto3 client helper, not an AWS operation; remove this entry"
        );
        assert_eq!(
            err(json!({"function": "x"})),
            "missing \"service\" (the boto3 service name, such as \"ec2\")"
        );
        assert_eq!(
            err(json!({"service": 2})),
            "\"service\" must be a string (the boto3 service name, such as \"ec2\"), got a number"
        );
        assert!(err(json!(["ec2"])).ends_with("got a list"));
        assert!(
            err(json!({"service": "ec2", "function": "describe_instances", "paramters": {}}))
                .starts_with("unknown member \"paramters\"; did you mean \"parameters\"?")
        );
        assert!(
            err(json!({"service": "s3", "function": "list_buckets", "resultKey": "Buckets"}))
                .contains("did you mean \"result_key\"")
        );
        assert!(
            err(json!({"service": "s3", "function": "list_buckets", "result_key": 3}))
                .starts_with("\"result_key\" must be a string")
        );
        assert!(
            err(json!({"service": "s3", "function": "list_buckets", "parameters": []}))
                .starts_with("\"parameters\" must be an object")
        );
    }

    /// Every spec refuses operations whose answers hold secrets, with the reason.
    #[test]
    fn refuses_secrets() {
        for (v, want) in [
            (
                json!({"service": "sts", "function": "get_session_token"}),
                "sts GetSessionToken returns secrets (issues temporary credentials)",
            ),
            (
                json!({"service": "sts", "function": "get_federation_token", "parameters": {"Name": "xy"}}),
                "sts GetFederationToken returns secrets",
            ),
            (
                json!({"service": "ecr", "function": "get_authorization_token"}),
                "ecr GetAuthorizationToken returns secrets",
            ),
            (
                json!({"service": "secretsmanager", "function": "get_secret_value", "parameters": {"SecretId": "x"}}),
                "secretsmanager GetSecretValue returns secrets",
            ),
            (
                json!({"service": "ssm", "function": "get_parameters_by_path", "parameters": {"Path": "/", "WithDecryption": true}}),
                "with {\"WithDecryption\":true} returns secrets",
            ),
            (
                json!({"service": "glue", "function": "get_connections"}),
                "without {\"HidePassword\":true} returns secrets",
            ),
        ] {
            let e = err(v.clone());
            assert!(e.contains(want), "{v}: {e}");
            assert!(!e.contains('\n'));
        }
        assert!(entry(&json!({"service": "ssm", "function": "get_parameters_by_path", "parameters": {"Path": "/"}})).is_ok());
        assert!(entry(&json!({"service": "glue", "function": "get_connections", "parameters": {"HidePassword": true}})).is_ok());
        assert!(check_planned("secretsmanager", "GetSecretValue", &json!({})).is_err());
        assert!(check_planned("ec2", "TerminateInstances", &json!({})).is_err());
        assert!(check_planned("ec2", "DescribeVpcs", &json!({})).is_ok());
    }

    #[test]
    fn refuses_writes() {
        let e = err(
            json!({"service": "ec2", "function": "terminate_instances", "parameters": {"InstanceIds": ["i-1"]}}),
        );
        assert!(
            e.starts_with("ec2 TerminateInstances is not a read operation"),
            "{e}"
        );
    }

    #[test]
    fn parameters_checked() {
        let e = err(
            json!({"service": "ec2", "function": "describe_instances", "parameters": {"MaxResult": 5}}),
        );
        assert!(
            e.starts_with("invalid parameters for ec2 DescribeInstances: unknown parameter MaxResult; did you mean MaxResults"),
            "{e}"
        );
        assert_eq!(
            err(json!({"service": "iam", "function": "get_role"})),
            "invalid parameters for iam GetRole: missing required parameter RoleName"
        );
    }

    #[test]
    fn field_typos() {
        for (key, field) in [
            ("paramters", "parameters"),
            ("params", "parameters"),
            ("resultKey", "result_key"),
            ("Service", "service"),
            ("function_name", "function"),
        ] {
            assert_eq!(misspelt(key), Some(field), "{key}");
        }
        for key in ["name", "region", "comment", "description", "service"] {
            assert_eq!(misspelt(key), None, "{key}");
        }
    }
}
