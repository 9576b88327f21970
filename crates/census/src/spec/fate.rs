//! What becomes of each scan file entry (issue 12): aws-auto-inventory's generated
//! "every function" files (`scan/sample/all_services.json`, `services/*.json`) list
//! every get/list/describe method of a service without parameters, boto3 helpers and
//! services AWS has since retired. aws-auto-inventory calls each entry and logs the
//! failures; Census decides before any call, from the entry and the models alone:
//!
//! - [`Fate::Runs`]: the entry checks as written.
//! - [`Fate::Detail`]: it needs parameters it does not give, and a list call of the
//!   same service fills them from each item ([`super::derive`]): it runs as a detail of
//!   that call, once per item, written as `<service>-<function>.json` as usual. The
//!   list call is the file's own entry for it (no parameters, no result key) when
//!   there is one, else it is added (and written too). Among several list calls, one
//!   whose items the detail is about ([`super::derive::Detail::own`]) comes first, then one the
//!   files have, then the first by name.
//! - [`Fate::Helper`]: a boto3 helper (`get_paginator`): left out silently.
//! - Left out with a reason: a retired service or operation (`presets/retired.json`,
//!   from botocore's history), a write operation, one that returns secrets, one whose
//!   required parameters nothing fills, or a service Census cannot call.
//!
//! Anything else wrong with an entry stays an error: a name neither in the models nor
//! retired (a typo gets "did you mean"), parameters the entry gives, a bad result key.
//! `--strict` turns the whole module off: every entry must run as written.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::check::{self, BOTO3_HELPERS};
use super::source::Entry;
use super::{is_read, Call, Detail, Params, Problem, ResultKey};

const RETIRED: &str = include_str!("../../presets/retired.json");

/// What becomes of one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    /// Runs as written.
    Runs,
    /// Runs as a detail of a list call that fills its required parameters.
    Detail,
    /// A boto3 client helper (`get_paginator`, `get_waiter`, `can_paginate`).
    Helper,
    /// A service or operation AWS has retired: the bundled models no longer have it.
    Retired,
    /// An operation that changes things.
    Write,
    /// An operation whose answer holds secrets.
    Secret,
    /// A required parameter that neither the entry nor any list call gives.
    Unfillable,
    /// A service whose protocol or signing Census does not speak.
    Uncallable,
}

impl Fate {
    /// Every fate, in the order plans count them.
    pub const ALL: [Fate; 8] = [
        Fate::Runs,
        Fate::Detail,
        Fate::Helper,
        Fate::Retired,
        Fate::Write,
        Fate::Secret,
        Fate::Unfillable,
        Fate::Uncallable,
    ];

    /// How plans and warnings name it.
    pub fn label(self) -> &'static str {
        match self {
            Fate::Runs => "runs",
            Fate::Detail => "detail",
            Fate::Helper => "boto3 helper",
            Fate::Retired => "retired",
            Fate::Write => "write",
            Fate::Secret => "secret",
            Fate::Unfillable => "unfillable",
            Fate::Uncallable => "uncallable",
        }
    }

    /// Whether the entry is left out with a reason (warned about, in summary.json).
    pub fn skipped_with_reason(self) -> bool {
        !matches!(self, Fate::Runs | Fate::Detail | Fate::Helper)
    }
}

/// One entry of a spec and its fate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Planned {
    /// `scan/sample/services/s3.json entry 2`, `preset core entry 3`.
    pub origin: String,
    /// As written (a retired service's name), else botocore's name.
    pub service: String,
    /// As written for an entry left out, else boto3's method name.
    pub function: String,
    pub fate: Fate,
    /// For a detail, its list call (`ListBuckets`, `ListBuckets (added)`); for an entry
    /// left out, why.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// A list call that can fill a detail's parameters: `(own, list operation, its
/// derivation's result key, parameters)`.
type Candidate = (bool, String, String, Vec<(String, String)>);

/// An entry that runs as a detail, its list call not chosen yet.
#[derive(Debug)]
pub(super) struct Pending {
    origin: String,
    service: String,
    operation: String,
    function: String,
    result_key: Option<ResultKey>,
    candidates: Vec<Candidate>,
}

/// Entries checked and given their fates: calls, entries that wait for their list
/// call, and every entry's plan line (a detail's filled in by [`attach`]).
#[derive(Debug, Default)]
pub(super) struct Fates {
    pub planned: Vec<Planned>,
    pending: Vec<(usize, Pending)>,
}

/// Checks each entry: a call, a fate other than running (unless `strict`), or a
/// problem.
pub(super) fn entries(
    entries: Vec<Entry>,
    strict: bool,
    calls: &mut Vec<Call>,
    fates: &mut Fates,
    problems: &mut Vec<Problem>,
) {
    for Entry { origin, value } in entries {
        match check::entry(&value) {
            Ok(call) => {
                fates.planned.push(Planned {
                    origin: origin.clone(),
                    service: call.service.clone(),
                    function: call.function.clone(),
                    fate: Fate::Runs,
                    note: String::new(),
                });
                calls.push(Call { origin, ..call });
            }
            Err(message) if strict => {
                // A retired name is not a typo: say so rather than "did you mean".
                let message = match decide(&value) {
                    Some(Decided::Left(service, function, Fate::Retired, note)) => format!(
                        "{service} {function}: {note}; the bundled models no longer have it: remove this entry"
                    ),
                    _ => message,
                };
                problems.push(Problem { origin, message })
            }
            Err(message) => match decide(&value) {
                Some(Decided::Left(service, function, fate, note)) => fates.planned.push(Planned {
                    origin,
                    service,
                    function,
                    fate,
                    note,
                }),
                Some(Decided::Detail(mut pending)) => {
                    pending.origin = origin;
                    fates.pending.push((fates.planned.len(), pending));
                    fates.planned.push(Planned {
                        origin: String::new(),
                        service: String::new(),
                        function: String::new(),
                        fate: Fate::Detail,
                        note: String::new(),
                    });
                }
                None => problems.push(Problem { origin, message }),
            },
        }
    }
}

enum Decided {
    /// Left out: `(service, function, fate, reason)`.
    Left(String, String, Fate, String),
    Detail(Pending),
}

/// The fate of an entry that does not check as written, or `None` when its error
/// stands.
fn decide(value: &Value) -> Option<Decided> {
    let entry = value.as_object()?;
    if entry.keys().any(|k| check::misspelt(k).is_some()) || entry.contains_key("details") {
        return None;
    }
    let service = entry.get("service")?.as_str()?;
    let function = entry.get("function")?.as_str()?;
    let left = |fate: Fate, note: String| {
        Some(Decided::Left(
            service.to_string(),
            function.to_string(),
            fate,
            note,
        ))
    };
    if BOTO3_HELPERS.contains(&function) {
        return left(Fate::Helper, String::new());
    }
    let Some(found) = awsdyn::model::find_service(service) else {
        let r = retired_service(service)?;
        return left(
            Fate::Retired,
            format!("service retired ({}, botocore {})", r.note, r.removed_in),
        );
    };
    let model = match check::service_model(&found.name) {
        Ok(m) => m,
        Err(e) => return left(Fate::Uncallable, e),
    };
    let (operation, op) = match check::operation(&model, function) {
        Ok(found) => found,
        Err(_) => {
            let r = retired_operation(&model.name, function)?;
            return left(
                Fate::Retired,
                format!("operation retired ({}, botocore {})", r.note, r.removed_in),
            );
        }
    };
    let service = model.name.clone();
    let function = awsdyn::names::snake_case(operation);
    let left = |fate: Fate, note: String| {
        Some(Decided::Left(service.clone(), function.clone(), fate, note))
    };
    if !is_read(operation) {
        return left(Fate::Write, format!("{operation} is not a read operation"));
    }
    let parameters = match entry.get("parameters") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(p)) => p.clone(),
        Some(_) => return None,
    };
    if let Some(secret) = super::secret(&service, operation, &Value::Object(parameters.clone())) {
        return left(Fate::Secret, format!("returns secrets ({})", secret.reason));
    }
    // Parameters the entry gives are the writer's: their problems stand.
    if !parameters.is_empty() {
        return None;
    }
    let result_key = check::result_key(entry.get("result_key")).ok()?;
    let required: Vec<String> = op
        .input
        .as_ref()
        .map(|r| model.shape(r.target).required.clone())
        .unwrap_or_default();
    if required.is_empty() {
        return None;
    }
    let derivations = super::detail::derivations(&service).unwrap_or_default();
    let candidates: Vec<_> = derivations
        .values()
        .filter(|d| !denied(&service, &d.list))
        .flat_map(|d| {
            d.details
                .iter()
                .filter(|x| x.operation == operation || x.operation == op.name)
                .map(|x| {
                    (
                        x.own,
                        d.list.clone(),
                        d.result_key.clone(),
                        x.parameters.clone(),
                    )
                })
        })
        .collect();
    if candidates.is_empty() {
        let why = if super::derive::never_detail(&service, operation) {
            "Census does not run it once per listed item: it returns data, not configuration (presets/not_details.json)".to_string()
        } else {
            format!("no list call of {service} gives it for each item")
        };
        return left(
            Fate::Unfillable,
            format!("needs {}; {why}", required.join(", ")),
        );
    }
    Some(Decided::Detail(Pending {
        origin: String::new(),
        service: service.clone(),
        operation: operation.to_string(),
        function,
        result_key,
        candidates,
    }))
}

/// Whether the all preset leaves `list` out (public catalogues, calls that fail
/// without input): not a list call to add as a parent.
fn denied(service: &str, list: &str) -> bool {
    super::deny_list().iter().any(|d| d.covers(service, list))
}

/// Makes each pending entry a detail of its list call, adding the list calls the
/// spec does not have, and completes the plan lines.
pub(super) fn attach(calls: &mut Vec<Call>, fates: &mut Fates) {
    for (line, p) in std::mem::take(&mut fates.pending) {
        // The result key the parent has: none for a top-level list (the detail then
        // takes that member's items), a jq filter for a deeper one.
        let present = |list: &str, path: &str| {
            calls
                .iter()
                .any(|c| fits(c, &p.service, list, path).is_some())
        };
        let Some((_, list, path, params)) = p
            .candidates
            .iter()
            .min_by_key(|(own, list, path, _)| (!own, !present(list, path), list.clone()))
        else {
            continue;
        };
        let found = calls
            .iter()
            .enumerate()
            .find_map(|(i, c)| Some((i, fits(c, &p.service, list, path)?)));
        let (index, member, added) = match found {
            Some((i, member)) => (i, member, false),
            None => {
                // A deeper list is reached with a jq result key; a top-level one is
                // the detail's member of the whole result.
                let (key, member) = if path.contains('.') {
                    (
                        ResultKey::parse(&format!(".{path}[]?")).ok().flatten(),
                        None,
                    )
                } else {
                    (None, Some(path.clone()))
                };
                calls.push(Call {
                    service: p.service.clone(),
                    operation: list.clone(),
                    function: awsdyn::names::snake_case(list),
                    parameters: Value::Object(Map::new()),
                    result_key: key,
                    details: Vec::new(),
                    origin: format!("{} (its list call)", p.origin),
                });
                (calls.len() - 1, member, true)
            }
        };
        let written: Map<String, Value> = params
            .iter()
            .map(|(k, jq)| (k.clone(), Value::String(jq.clone())))
            .collect();
        let call = &mut calls[index];
        let known = call
            .details
            .iter()
            .any(|d| d.service == p.service && d.operation == p.operation);
        if !known {
            if let Ok(parameters) = Params::parse(written) {
                call.details.push(Detail {
                    service: p.service.clone(),
                    operation: p.operation.clone(),
                    function: p.function.clone(),
                    parameters,
                    result_key: p.result_key,
                    member,
                });
            }
        }
        fates.planned[line] = Planned {
            origin: p.origin,
            service: p.service,
            function: p.function,
            fate: Fate::Detail,
            note: format!(
                "of {list}{}: {}",
                if added { " (added)" } else { "" },
                params
                    .iter()
                    .map(|(k, jq)| format!("{k}={jq}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
    }
}

/// Whether `c` can be the parent of a detail of `service` fed by the list operation
/// `list` whose items are at `path`: no parameters, and the whole result (the detail
/// then takes the items of the member `path`: `Some(path)`), or a result key that is
/// that list (`None`).
fn fits(c: &Call, service: &str, list: &str, path: &str) -> Option<Option<String>> {
    if c.service != service
        || c.operation != list
        || !c.parameters.as_object().is_some_and(Map::is_empty)
    {
        return None;
    }
    match c.result_key.as_ref().map(ResultKey::as_str) {
        None if !path.contains('.') => Some(Some(path.to_string())),
        Some(k) if (k == path && !path.contains('.')) || k == format!(".{path}[]?") => Some(None),
        _ => None,
    }
}

/// The entries by fate, every fate present.
pub fn counts(planned: &[Planned]) -> BTreeMap<Fate, usize> {
    let mut out: BTreeMap<Fate, usize> = Fate::ALL.iter().map(|f| (*f, 0)).collect();
    for p in planned {
        *out.entry(p.fate).or_default() += 1;
    }
    out
}

/// `presets/retired.json`: services and operations botocore once had.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Retired {
    #[allow(dead_code)]
    source: String,
    services: Vec<Gone>,
    operations: Vec<Gone>,
}

/// One retired service (`operation` empty) or operation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Gone {
    service: String,
    #[serde(default)]
    operation: String,
    /// The first botocore version without it.
    removed_in: String,
    note: String,
}

fn retired() -> &'static Retired {
    static RETIRED_LIST: OnceLock<Retired> = OnceLock::new();
    RETIRED_LIST.get_or_init(|| {
        // Built in and parsed by the tests: it cannot fail at run time.
        serde_json::from_str(RETIRED).expect("presets/retired.json is well formed")
    })
}

fn retired_service(name: &str) -> Option<&'static Gone> {
    let n = awsdyn::names::normalize(name);
    retired()
        .services
        .iter()
        .find(|g| awsdyn::names::normalize(&g.service) == n)
}

fn retired_operation(service: &str, function: &str) -> Option<&'static Gone> {
    let f = awsdyn::names::normalize(function);
    retired()
        .operations
        .iter()
        .find(|g| g.service == service && awsdyn::names::normalize(&g.operation) == f)
}

#[cfg(test)]
#[path = "fate_tests.rs"]
mod tests;
