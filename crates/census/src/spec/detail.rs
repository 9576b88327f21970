//! Detail calls: read calls made once per item a list call returned, in the same
//! account and region, with parameters computed from the item by jq. Written in a
//! scan file entry's `details`, derived from the models (`"details": "auto"`,
//! `--details auto`, see [`super::derive`]), or curated in the core preset. Not the
//! running of them (the scan's executor) nor what "absent" means ([`super::absent`]).
//!
//! ```json
//! {"service": "dynamodb", "function": "list_tables",
//!  "details": [
//!    {"function": "describe_table", "parameters": {"TableName": "."}},
//!    {"function": "list_tags_of_resource",
//!     "parameters": {"ResourceArn": "$details.describe_table.Table.TableArn"}}
//!  ]}
//! ```
//!
//! - `function` (any spelling [`super::check`] takes), `service` (default: the list
//!   call's), `parameters`, `result_key` (as for an entry).
//! - A parameter whose value is a JSON string is a jq expression run on the item (a
//!   constant string is a jq string literal, `"\"All\""`); any other JSON value is a
//!   constant. `$details` holds the same item's earlier detail results, by function.
//!   An expression that gives `null` or nothing leaves the parameter out; one that
//!   gives several values is an error for that item (wrap it in `[...]` for a list).
//! - Checked before any call like an entry: a read operation that returns no secrets,
//!   known parameters, required parameters given, constants of the right type, jq that
//!   compiles, `$details.<function>` naming an earlier detail of the entry.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::check::{self, kind};
use super::{derive, Call, JqFilter, ResultKey};

/// The jq variable holding the item's earlier detail results.
pub const DETAILS_VAR: &str = "$details";

/// One detail call of a list call. `R` is the result key, as for [`Call`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Detail<R = ResultKey> {
    /// botocore service name.
    pub service: String,
    /// Model operation name, e.g. `GetBucketPolicy`.
    pub operation: String,
    /// boto3's method name: the output file is `<service>-<function>.json`, and
    /// `$details.<function>` its result for later details.
    pub function: String,
    pub parameters: Params,
    pub result_key: Option<R>,
    /// Only items of this top-level list of the list call's result (a derived detail of
    /// an entry without a result key); `None`: every item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
}

impl Detail {
    pub fn planned(&self) -> Detail<String> {
        Detail {
            service: self.service.clone(),
            operation: self.operation.clone(),
            function: self.function.clone(),
            parameters: self.parameters.clone(),
            result_key: self.result_key.as_ref().map(|k| k.as_str().to_string()),
            member: self.member.clone(),
        }
    }

    /// The functions whose results (`$details.<function>`) its parameters use.
    pub fn uses(&self) -> Vec<&str> {
        self.parameters
            .expressions()
            .flat_map(|(_, source)| referenced_details(source))
            .collect()
    }

    /// Whether this detail runs on an item of the top-level list `member` (`""`: the
    /// result is a list, or the item is the result itself).
    pub fn takes(&self, member: &str) -> bool {
        self.member
            .as_deref()
            .is_none_or(|m| member.is_empty() || m == member)
    }
}

impl Detail<String> {
    pub fn compile(self) -> Result<Detail, String> {
        let result_key = ResultKey::compile_planned(self.result_key.as_deref())?;
        Ok(Detail {
            service: self.service,
            operation: self.operation,
            function: self.function,
            parameters: self.parameters,
            result_key,
            member: self.member,
        })
    }
}

/// A detail's parameters: written as a JSON object (what plans keep), compiled to
/// constants and jq filters.
#[derive(Clone)]
pub struct Params {
    written: Map<String, Value>,
    compiled: Arc<Vec<(String, Param)>>,
}

#[derive(Clone)]
enum Param {
    Constant(Value),
    Jq(JqFilter),
}

impl Params {
    /// Compiles written parameters; the error names the parameter and the jq problem.
    pub fn parse(written: Map<String, Value>) -> Result<Params, String> {
        let mut compiled = Vec::with_capacity(written.len());
        for (name, value) in &written {
            let param = match value {
                Value::String(source) => Param::Jq(
                    JqFilter::compile_with_vars(source, &[DETAILS_VAR])
                        .map_err(|e| format!("parameter {name}: jq {source:?}: {e}"))?,
                ),
                other => Param::Constant(other.clone()),
            };
            compiled.push((name.clone(), param));
        }
        Ok(Params {
            written,
            compiled: Arc::new(compiled),
        })
    }

    /// The parameters as written.
    pub fn written(&self) -> &Map<String, Value> {
        &self.written
    }

    /// The jq expressions, by parameter.
    pub fn expressions(&self) -> impl Iterator<Item = (&str, &str)> {
        self.written
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k.as_str(), s)))
    }

    /// The input for one item: constants as they are, each expression's one value
    /// (`null` or no value leaves the parameter out). `details` is `$details`.
    pub fn eval(&self, item: &Value, details: &Value) -> Result<Map<String, Value>, String> {
        let mut out = Map::with_capacity(self.compiled.len());
        for (name, param) in self.compiled.iter() {
            let value = match param {
                Param::Constant(v) => v.clone(),
                Param::Jq(filter) => {
                    let mut values = filter
                        .outputs(item, &[details], 2)
                        .map_err(|e| format!("parameter {name} ({}): {e}", filter.source()))?;
                    if values.len() > 1 {
                        return Err(format!(
                            "parameter {name} ({}) gave several values for this item; wrap it in [...] to pass a list",
                            filter.source()
                        ));
                    }
                    values.pop().unwrap_or(Value::Null)
                }
            };
            if !value.is_null() {
                out.insert(name.clone(), value);
            }
        }
        Ok(out)
    }
}

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.written.fmt(f)
    }
}

impl Serialize for Params {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.written.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Params {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Params, D::Error> {
        let written = Map::deserialize(d)?;
        Params::parse(written).map_err(serde::de::Error::custom)
    }
}

/// Which detail calls a scan makes (`--details`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// None at all.
    None,
    /// Those written in the scan files and the presets (the core preset's curated
    /// ones). The default.
    #[default]
    Core,
    /// Those, and every detail the models give for every call (see [`derived`]).
    Auto,
}

impl FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> Result<Mode, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(Mode::None),
            "core" => Ok(Mode::Core),
            "auto" => Ok(Mode::Auto),
            _ => Err(format!(
                "unknown --details {s:?}; use none, core (the preset's curated details, the default) or auto (every detail the models give)"
            )),
        }
    }
}

/// Applies `mode` to checked calls: drops every detail (`None`), or adds the derived
/// ones each call does not have yet (`Auto`).
pub fn apply(mode: Mode, calls: &mut [Call]) {
    for call in calls {
        match mode {
            Mode::None => call.details.clear(),
            Mode::Core => {}
            Mode::Auto => add_derived(call),
        }
    }
}

/// Adds to `call` the derived details it does not have (same service and operation).
pub(super) fn add_derived(call: &mut Call) {
    for d in derived(call) {
        let present = call
            .details
            .iter()
            .any(|x| x.service == d.service && x.operation == d.operation);
        if !present {
            call.details.push(d);
        }
    }
}

/// The details the models give for `call`: the derived details of its own items
/// ([`derive::Detail::own`]; a reference to another resource is not followed), when
/// its items are the derivation's: the call keeps the whole result (the derived
/// details then run on the derivation's list only) or its result key is that list.
pub fn derived(call: &Call) -> Vec<Detail> {
    let Some(derivation) = derivation(&call.service, &call.operation) else {
        return Vec::new();
    };
    let member = match &call.result_key {
        None if !derivation.result_key.contains('.') => Some(derivation.result_key.clone()),
        Some(ResultKey::Key(k)) if *k == derivation.result_key => None,
        _ => return Vec::new(),
    };
    derivation
        .details
        .iter()
        .filter(|d| d.own)
        .filter_map(|d| {
            let written: Map<String, Value> = d
                .parameters
                .iter()
                .map(|(k, jq)| (k.clone(), Value::String(jq.clone())))
                .collect();
            Some(Detail {
                service: call.service.clone(),
                operation: d.operation.clone(),
                function: awsdyn::names::snake_case(&d.operation),
                parameters: Params::parse(written).ok()?,
                result_key: None,
                member: member.clone(),
            })
        })
        .collect()
}

/// The derivation of `service`'s list operation `operation`; each service's
/// derivations are made once per process.
fn derivation(service: &str, operation: &str) -> Option<Arc<derive::Derivation>> {
    derivations(service)?.get(operation).cloned()
}

/// The derivations of `service`, by list operation, made once per process.
pub(super) fn derivations(service: &str) -> Option<Arc<HashMap<String, Arc<derive::Derivation>>>> {
    type Cache = Mutex<HashMap<String, Arc<HashMap<String, Arc<derive::Derivation>>>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let found = cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(service)
        .cloned();
    let by_list = match found {
        Some(d) => d,
        None => {
            let model = awsdyn::model::load(service).ok()?;
            let made: HashMap<String, Arc<derive::Derivation>> = derive::derive(&model)
                .into_iter()
                .map(|d| (d.list.clone(), Arc::new(d)))
                .collect();
            let made = Arc::new(made);
            cache
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(service.to_string(), made.clone());
            made
        }
    };
    Some(by_list)
}

/// The members of a detail entry.
const FIELDS: [&str; 4] = ["service", "function", "parameters", "result_key"];

/// Reads an entry's `details` for the list call `parent`: a list of detail entries, or
/// `"auto"`. The error names the detail (1-based) and what is wrong.
pub(super) fn entries(value: &Value, parent: &Call) -> Result<Vec<Detail>, String> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::String(s) if s.eq_ignore_ascii_case("auto") => {
            let found = derived(parent);
            if found.is_empty() {
                return Err(format!(
                    "\"details\": \"auto\": the models give no detail call for {} {}{}; list them in \"details\" instead",
                    parent.service,
                    parent.operation,
                    if parent.result_key.is_some() { " with this result_key (derived details take the list's own items: leave result_key out)" } else { "" }
                ));
            }
            Ok(found)
        }
        Value::Array(items) => {
            let mut out: Vec<Detail> = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let d = entry(item, parent, &out).map_err(|e| {
                    let name = item
                        .get("function")
                        .and_then(Value::as_str)
                        .map(|f| format!(" ({f})"))
                        .unwrap_or_default();
                    format!("detail {}{name}: {e}", i + 1)
                })?;
                out.push(d);
            }
            Ok(out)
        }
        other => Err(format!(
            "\"details\" must be a list of detail calls such as [{{\"function\": \"get_bucket_policy\", \"parameters\": {{\"Bucket\": \".Name\"}}}}], or \"auto\"; got {}",
            kind(other)
        )),
    }
}

/// One detail entry, checked; `earlier` are the entry's details before it.
fn entry(value: &Value, parent: &Call, earlier: &[Detail]) -> Result<Detail, String> {
    let Some(obj) = value.as_object() else {
        return Err(format!(
            "a detail is an object such as {{\"function\": \"get_bucket_policy\", \"parameters\": {{\"Bucket\": \".Name\"}}}}, got {}",
            kind(value)
        ));
    };
    for key in obj.keys() {
        if let Some(field) = check::misspelt_of(key, &FIELDS) {
            return Err(format!(
                "unknown member {key:?}; did you mean {field:?}? (a detail's members are service, function, parameters and result_key)"
            ));
        }
    }
    let service = match obj.get("service") {
        None | Some(Value::Null) => parent.service.as_str(),
        Some(Value::String(s)) if !s.is_empty() => s.as_str(),
        Some(other) => {
            return Err(format!(
                "\"service\" must be a boto3 service name such as \"iam\" (default: the entry's), got {}",
                kind(other)
            ))
        }
    };
    let model = check::service_model(service)?;
    let function = check::text(
        obj,
        "function",
        "the boto3 method name, such as \"get_bucket_policy\"",
    )?;
    let (operation, op) = check::operation(&model, function)?;
    check::read_only(&model.name, operation)?;
    let written = match obj.get("parameters") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(p)) => p.clone(),
        Some(other) => {
            return Err(format!(
                "\"parameters\" must be an object such as {{\"Bucket\": \".Name\"}} (a string is a jq expression on the item), got {}",
                kind(other)
            ))
        }
    };
    // Constants are checked as they are; expressions (null here) for their names and
    // for being given.
    let shaped: Map<String, Value> = written
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                if v.is_string() {
                    Value::Null
                } else {
                    v.clone()
                },
            )
        })
        .collect();
    let shaped = Value::Object(shaped);
    check::parameters(&model, operation, op, &shaped)?;
    if let Some(secret) = super::preset::secret(&model.name, operation, &shaped) {
        return Err(secret.refusal());
    }
    let parameters = Params::parse(written)?;
    for (name, source) in parameters.expressions() {
        for used in referenced_details(source) {
            if !earlier.iter().any(|d| d.function == used) {
                let before: Vec<&str> = earlier.iter().map(|d| d.function.as_str()).collect();
                return Err(format!(
                    "parameter {name} uses $details.{used}, but no earlier detail of this entry is {used}{}",
                    if before.is_empty() {
                        String::new()
                    } else {
                        format!(" (earlier: {})", before.join(", "))
                    }
                ));
            }
        }
    }
    let result_key = check::result_key(obj.get("result_key"))?;
    Ok(Detail {
        service: model.name.clone(),
        operation: operation.to_string(),
        function: awsdyn::names::snake_case(operation),
        parameters,
        result_key,
        member: None,
    })
}

/// The functions a jq expression reads as `$details.<function>`.
fn referenced_details(source: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find("$details.") {
        rest = &rest[at + DETAILS_VAR.len() + 1..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end > 0 {
            out.push(&rest[..end]);
        }
    }
    out
}

#[cfg(test)]
#[path = "detail_tests.rs"]
mod tests;
