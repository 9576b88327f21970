//! The built-in specs: `core`, a checked-in scan file, and `all`, generated from the
//! bundled models. Not the checking of scan file entries (`check`), which `core`'s go
//! through like any other.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use awsdyn::model::{self, Operation, ServiceModel};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{check, source, Call, Problem};
use awsdyn::names::snake_case as method_name;

/// The core preset, in aws-auto-inventory's scan file format.
const CORE: &str = include_str!("../../presets/core.json");

/// What the all preset leaves out, and why.
const DENY: &str = include_str!("../../presets/deny.json");

/// Operations that return secrets: refused in every spec (see [`secret`]).
const SECRETS: &str = include_str!("../../presets/secrets.json");

/// Verbs of the operations the all preset makes (the next character must be upper
/// case or a digit): the plain reads, not searches, queries or simulations.
const ALL_VERBS: [&str; 3] = ["List", "Describe", "Get"];

/// A built-in spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// The most-used inventory calls (`presets/core.json`): compute, networking,
    /// storage, databases, identity, serverless, containers, security and
    /// management services. The default.
    Core,
    /// Every `List*`, `Describe*` and `Get*` operation of every service Census can
    /// call that needs no input, less `presets/deny.json`.
    All,
}

impl Preset {
    /// Every preset.
    pub const ALL: [Preset; 2] = [Preset::Core, Preset::All];

    /// The name `--preset` takes.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Core => "core",
            Preset::All => "all",
        }
    }

    /// The preset's calls, checked. The all preset is built once per process (it
    /// reads every service model) and cloned after that.
    pub fn calls(self) -> Result<Vec<Call>, Vec<Problem>> {
        match self {
            Preset::Core => core(),
            Preset::All => {
                static ALL: OnceLock<Result<Vec<Call>, Vec<Problem>>> = OnceLock::new();
                ALL.get_or_init(all).clone()
            }
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Preset {
    type Err = String;

    fn from_str(s: &str) -> Result<Preset, String> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown preset {s:?}; the presets are core and all"))
    }
}

fn core() -> Result<Vec<Call>, Vec<Problem>> {
    let entries = source::entries("preset core", CORE.as_bytes()).map_err(|message| {
        vec![Problem {
            origin: "preset core".into(),
            message,
        }]
    })?;
    let (mut calls, mut problems) = (Vec::new(), Vec::new());
    check::entries(entries, &mut calls, &mut problems);
    if problems.is_empty() {
        Ok(calls)
    } else {
        Err(problems)
    }
}

/// One entry of `presets/deny.json`: an operation the all preset leaves out, or
/// (`"operation": "*"`) every operation of a service, and why.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Denied {
    /// botocore service name.
    pub service: String,
    /// Model operation name, or `*`.
    pub operation: String,
    pub reason: String,
}

impl Denied {
    /// Whether this entry leaves out `operation` of `service`.
    pub fn covers(&self, service: &str, operation: &str) -> bool {
        self.service == service && (self.operation == "*" || self.operation == operation)
    }
}

/// What the all preset leaves out, and why (`presets/deny.json`, built in).
pub fn deny_list() -> &'static [Denied] {
    static DENIED: OnceLock<Vec<Denied>> = OnceLock::new();
    DENIED.get_or_init(|| {
        // Built in and checked by the tests below: it cannot fail at run time.
        serde_json::from_str(DENY)
            .expect("presets/deny.json is a list of {service, operation, reason}")
    })
}

/// One entry of `presets/secrets.json`: an operation that returns secrets (credentials,
/// tokens, passwords, secret values), refused in every spec and by `census call`
/// without `--allow-write`; with `when`, only when the call's parameters hold those
/// values (`"WithDecryption": true`); with `unless`, except when they do
/// (`"HidePassword": true`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Secret {
    /// botocore service name.
    pub service: String,
    /// Model operation name.
    pub operation: String,
    #[serde(default)]
    pub when: Option<Map<String, Value>>,
    #[serde(default)]
    pub unless: Option<Map<String, Value>>,
    pub reason: String,
}

impl Secret {
    /// Whether a call of `operation` of `service` with `parameters` returns secrets.
    pub fn covers(&self, service: &str, operation: &str, parameters: &Value) -> bool {
        let holds = |m: &Map<String, Value>| m.iter().all(|(k, v)| parameters.get(k) == Some(v));
        self.service == service
            && self.operation == operation
            && self.when.as_ref().is_none_or(holds)
            && !self.unless.as_ref().is_some_and(holds)
    }

    /// The one-line refusal: `sts GetSessionToken returns secrets (issues temporary
    /// credentials): Census does not call it`.
    pub fn refusal(&self) -> String {
        let condition = match (&self.when, &self.unless) {
            (Some(w), _) => format!(" with {}", Value::Object(w.clone())),
            (_, Some(u)) => format!(" without {}", Value::Object(u.clone())),
            _ => String::new(),
        };
        format!(
            "{} {}{condition} returns secrets ({}): Census does not make calls whose answers hold credentials, tokens or passwords, which would end up in its files and databases; leave it out",
            self.service, self.operation, self.reason
        )
    }
}

/// The operations that return secrets (`presets/secrets.json`, built in).
pub fn secret_list() -> &'static [Secret] {
    static SECRETS_LIST: OnceLock<Vec<Secret>> = OnceLock::new();
    SECRETS_LIST.get_or_init(|| {
        // Built in and checked by the tests below: it cannot fail at run time.
        serde_json::from_str(SECRETS).expect(
            "presets/secrets.json is a list of {service, operation, reason, when?, unless?}",
        )
    })
}

/// The secrets-list entry a call of `operation` of `service` with `parameters` falls
/// under, if any.
pub fn secret(service: &str, operation: &str, parameters: &Value) -> Option<&'static Secret> {
    secret_list()
        .iter()
        .find(|s| s.covers(service, operation, parameters))
}

/// Whether an operation's name is one of the plain reads the all preset makes.
fn all_verb(name: &str) -> bool {
    ALL_VERBS.iter().any(|verb| {
        name.strip_prefix(verb).is_some_and(|rest| {
            rest.chars()
                .next()
                .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        })
    })
}

/// Whether the all preset considers this operation: a plain read that needs no
/// input and answers with a result rather than a stream. (The deny list is applied
/// on top.) Looks at shapes without keeping them decoded: the preset considers
/// thousands of operations it will not call.
pub(super) fn all_candidate(model: &ServiceModel, name: &str, op: &Operation) -> bool {
    let read = all_verb(name);
    let needs_input = op
        .input
        .as_ref()
        .is_some_and(|r| !model.peek_shape(r.target).required.is_empty());
    read && !needs_input && !streams(model, op)
}

/// Whether the operation answers with a byte or event stream (shapes looked at
/// without keeping them decoded).
pub(super) fn streams(model: &ServiceModel, op: &Operation) -> bool {
    let Some(output) = &op.output else {
        return false;
    };
    model.peek_shape(output.target).members.values().any(|m| {
        let target = model.peek_shape(m.target);
        m.streaming || target.streaming || target.eventstream
    })
}

fn all() -> Result<Vec<Call>, Vec<Problem>> {
    let deny = deny_list();
    let mut calls = Vec::new();
    let mut problems = Vec::new();
    for entry in model::services() {
        let model = match model::load(&entry.name) {
            Ok(m) => m,
            Err(e) => {
                problems.push(Problem {
                    origin: "preset all".into(),
                    message: e.to_string(),
                });
                continue;
            }
        };
        if check::callable(&model).is_err() {
            continue;
        }
        // By the names first, so that only the reads' operations and shapes are
        // decoded, and those only for a look: the scan decodes (and keeps) what its
        // calls use.
        for name in model.operations.keys().filter(|name| all_verb(name)) {
            if deny.iter().any(|d| d.covers(&model.name, name))
                || !model
                    .operations
                    .peek(name)
                    .is_some_and(|op| all_candidate(&model, name, &op))
                || secret(&model.name, name, &Value::Object(Map::new())).is_some()
            {
                continue;
            }
            calls.push(Call {
                service: model.name.clone(),
                operation: name.clone(),
                function: method_name(name),
                parameters: Value::Object(Map::new()),
                result_key: None,
                details: Vec::new(),
                origin: "preset all".into(),
            });
        }
    }
    if problems.is_empty() {
        Ok(calls)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!("core".parse::<Preset>().unwrap(), Preset::Core);
        assert_eq!("ALL".parse::<Preset>().unwrap(), Preset::All);
        assert_eq!(
            "every".parse::<Preset>().unwrap_err(),
            "unknown preset \"every\"; the presets are core and all"
        );
        assert_eq!(Preset::All.to_string(), "all");
    }

    #[test]
    fn core_validates() {
        let calls = Preset::Core.calls().unwrap();
        assert!(calls.len() >= 50, "{}", calls.len());
        assert_eq!(calls[0].origin, "preset core entry 1");
    }

    /// Every deny-list entry names a service Census can call and, unless it is a whole
    /// service, an operation the all preset would otherwise make; no entry twice;
    /// every reason says something.
    #[test]
    fn deny_list_is_honest() {
        let mut seen = std::collections::HashSet::new();
        let mut wrong = Vec::new();
        for d in deny_list() {
            let name = format!("{} {}", d.service, d.operation);
            if !seen.insert((&d.service, &d.operation)) {
                wrong.push(format!("{name}: listed twice"));
            }
            if d.reason.len() < 10 {
                wrong.push(format!("{name}: the reason says too little"));
            }
            let Some(entry) = model::find_service(&d.service).filter(|e| e.name == d.service)
            else {
                wrong.push(format!("{name}: no service by that botocore name"));
                continue;
            };
            let model = model::load(&entry.name).unwrap();
            if let Err(e) = check::callable(&model) {
                wrong.push(format!("{name}: {e}"));
            }
            if d.operation != "*" {
                match model.operations.get(&d.operation) {
                    None => wrong.push(format!("{name}: no such operation")),
                    Some(op) if !all_candidate(&model, &d.operation, op) => {
                        wrong.push(format!("{name}: not in the all preset anyway"))
                    }
                    Some(_) => {}
                }
            }
        }
        assert!(wrong.is_empty(), "presets/deny.json:\n{}", wrong.join("\n"));
    }

    /// Every secrets-list entry names an operation of a service Census can call, once,
    /// with a reason; `when`/`unless` name members of its input.
    #[test]
    fn secret_list_is_honest() {
        let mut seen = std::collections::HashSet::new();
        let mut wrong = Vec::new();
        for s in secret_list() {
            let name = format!("{} {}", s.service, s.operation);
            if !seen.insert((&s.service, &s.operation)) {
                wrong.push(format!("{name}: listed twice"));
            }
            if s.reason.len() < 10 {
                wrong.push(format!("{name}: the reason says too little"));
            }
            let Some(entry) = model::find_service(&s.service).filter(|e| e.name == s.service)
            else {
                wrong.push(format!("{name}: no service by that botocore name"));
                continue;
            };
            let model = model::load(&entry.name).unwrap();
            let Some(op) = model.operations.get(&s.operation) else {
                wrong.push(format!("{name}: no such operation"));
                continue;
            };
            for m in s.when.iter().chain(&s.unless) {
                for key in m.keys() {
                    let input = op
                        .input
                        .as_ref()
                        .map(|i| model.shape(i.target).members.contains_key(key));
                    if input != Some(true) {
                        wrong.push(format!("{name}: {key} is not a member of its input"));
                    }
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "presets/secrets.json:\n{}",
            wrong.join("\n")
        );
        let none = Value::Object(Map::new());
        assert!(secret("sts", "GetSessionToken", &none).is_some());
        assert!(secret("ssm", "GetParameter", &none).is_none());
        assert!(secret(
            "ssm",
            "GetParameter",
            &serde_json::json!({"WithDecryption": true})
        )
        .is_some());
        assert!(secret("glue", "GetConnections", &none).is_some());
        assert!(secret(
            "glue",
            "GetConnections",
            &serde_json::json!({"HidePassword": true})
        )
        .is_none());
    }
}
