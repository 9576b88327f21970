//! Scan specs: which AWS calls a scan makes.
//!
//! A spec is a list of calls (service, operation, parameters, result key), read from
//! scan files in aws-auto-inventory's format, from URLs, and from the built-in
//! presets, then checked against the bundled botocore models before any call is
//! made. This module knows nothing about accounts, regions or how calls are run: the
//! planner decides where each call goes (global or regional) and the executor makes
//! it.
//!
//! # The scan file format
//!
//! A scan file is what aws-auto-inventory's `scan.py --scan FILE|URL` reads: a JSON
//! list of entries
//!
//! ```json
//! [
//!   {"service": "ec2", "function": "describe_instances", "result_key": "Reservations",
//!    "parameters": {"Filters": [{"Name": "instance-state-name", "Values": ["running"]}]}},
//!   {"service": "s3", "function": "list_buckets", "result_key": ".Buckets[]|.Name"}
//! ]
//! ```
//!
//! What aws-auto-inventory does with an entry (scan.py, `_get_service_data`), and what
//! Census does:
//!
//! - `service` is a boto3 client name (`session.client(service)`). Census looks it up
//!   in the bundled models the same way, and also accepts the service id
//!   (`Resource Groups Tagging API`); the call records the botocore name.
//! - `function` is a boto3 client method, called as `getattr(client, function)(**parameters)`.
//!   Census accepts the boto3 name, the model name (`DescribeInstances`) and the CLI
//!   name (`describe-instances`), and records boto3's spelling, which aws-auto-inventory
//!   uses for its output files (`<service>-<function>.json`).
//! - `parameters`, optional, are the method's keyword arguments; absent, `null` or `{}`
//!   all mean none (`if parameters:`). boto3 validates them client-side; Census
//!   validates them against the model before the scan starts.
//! - `result_key`, optional: absent or empty keeps the whole result (less
//!   `ResponseMetadata`); one starting with `.` is a jq filter over the whole result
//!   whose outputs are always collected into a list (`jq ... .all()`); anything else
//!   picks that top-level member (`result.get(key)`), and a missing member gives
//!   `None`, for which aws-auto-inventory writes no file. See [`ResultKey`].
//! - aws-auto-inventory writes no file for an empty result (`None`, `[]`, `{}`),
//!   and names each file `<service>-<function>.json`, so of two entries calling the
//!   same function in a region the last one wins; how Census writes results is the
//!   sinks' business.
//! - `details`, Census's own: calls made once per item of the entry's result, with
//!   parameters computed from the item by jq, or `"auto"` for those the models derive
//!   (see [`detail`]). aws-auto-inventory has no such member; a file without it runs
//!   exactly as there.
//! - Any other member of an entry is ignored, as aws-auto-inventory ignores it (its
//!   successor's config calls one `name`). Census refuses only members that look
//!   like a misspelt field (`paramters`, `resultKey`), since aws-auto-inventory would
//!   silently drop the filter they meant to give.
//! - aws-auto-inventory makes one request per call and never follows pagination, so
//!   it silently keeps only the first page. Census fetches every page and merges them
//!   as boto3's paginators do (`build_full_result`); a result key applies to the
//!   merged result.
//! - aws-auto-inventory's jq sees the result through `json.dumps(default=str)`, so
//!   timestamps look like `2024-01-02 03:04:05+00:00` and `ResponseMetadata` is
//!   still there; Census's results carry ISO 8601 timestamps
//!   (`2024-01-02T03:04:05+00:00`) and no `ResponseMetadata`, the same as its other
//!   output.
//! - aws-auto-inventory fails an entry only when the call is made, in every region,
//!   and logs it; Census rejects a spec with a bad entry before any call, naming the
//!   file and entry (1-based) and the closest valid names.
//!
//! The top level must be a list, as `scan.py` iterates it. The JSON forms that
//! aws-auto-inventory's in-progress successor (the `aws_auto_inventory` package)
//! reads are accepted too: `{"sheets": [...]}` and `{"inventories": [{"sheets":
//! [...]}, ...]}`, whose sheets are entries as above; their other settings
//! (`aws.region`, `excel`, ...) are Census flags or do not apply, and are ignored.
//!
//! Census refuses operations that change things: a scan runs each call in every
//! account and region it reaches with credentials that can usually do much more than
//! read, and one `terminate_instances` in a scan file (perhaps fetched from a URL)
//! must not get that far. There is no switch to allow them: Census is an inventory
//! tool, and `census call` is there for one-off calls. Reads are the operations whose
//! name starts with one of [`READ_VERBS`].
//!
//! Entries from the generated "every function" files of aws-auto-inventory
//! (`scan/sample/all_services.json`, `scan/sample/services/*.json`) that name boto3
//! helpers (`get_paginator`, `get_waiter`), retired services, or calls that need
//! parameters the entry does not give, are not errors: each gets a [`Fate`] (runs as a
//! detail of a list call that fills its parameters, or left out with its reason; see
//! [`fate`]). With `strict` (`--strict`) they are errors, as is every other problem
//! with an entry: a typo always fails with "did you mean".
//!
//! # Presets
//!
//! [`Preset::Core`] (the default when nothing else is asked for) is
//! `presets/core.json`, a scan file of the most-used inventory calls.
//! [`Preset::All`] is generated from the bundled models: every `List*`, `Describe*`
//! and `Get*` operation that needs no input, minus `presets/deny.json` (public
//! catalogues, credentials, data-plane calls and calls that fail without input the
//! model does not mark as required, each with a reason).

pub mod absent;
mod check;
pub mod derive;
pub mod detail;
pub mod fate;
#[doc(hidden)]
pub mod fuzzing;
mod preset;
mod result_key;
mod source;

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use check::check_planned;
pub use detail::{Detail, Mode as DetailsMode, Params};
pub use fate::{counts as fate_counts, Fate, Planned};
pub use preset::{deny_list, secret, secret_list, Denied, Preset, Secret};
pub use result_key::{JqFilter, ResultKey};

/// Verbs of the operations that only read (`DescribeInstances`, `BatchGetItem`,
/// `Scan`, ...). A verb is the whole name or is followed by an upper-case letter or a
/// digit, so that `CheckoutLicense` is not a `Check`. Verbs that read in some
/// services but not all (`Preview`, `Validate`, `Test`) are left out.
pub const READ_VERBS: &[&str] = &[
    "Describe",
    "Get",
    "List",
    "BatchDescribe",
    "BatchGet",
    "Search",
    "Lookup",
    "Query",
    "Scan",
    "Select",
    "Filter",
    "Head",
];

/// Whether a model operation name reads (see [`READ_VERBS`]).
pub fn is_read(operation: &str) -> bool {
    READ_VERBS.iter().any(|verb| {
        operation.strip_prefix(verb).is_some_and(|rest| {
            rest.chars()
                .next()
                .is_none_or(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        })
    })
}

/// The calls of a scan, checked against the models, without duplicates.
#[derive(Debug, Clone, Default)]
pub struct Spec {
    pub calls: Vec<Call>,
    /// Every entry of the scan files and every preset call, with its fate (see
    /// [`Fate`]), in order.
    pub planned: Vec<Planned>,
}

impl Spec {
    /// The entries left out with a reason (retired, write, ...), for the warning and
    /// summary.json; boto3 helpers are left out silently.
    pub fn skipped(&self) -> Vec<Planned> {
        self.planned
            .iter()
            .filter(|p| p.fate.skipped_with_reason())
            .cloned()
            .collect()
    }
}

/// One call of a spec: an operation with its parameters, made in every account and
/// region the planner picks for it. The same type from the spec to the sinks: `R` is
/// the result key, compiled ([`ResultKey`], the default) to run the call, or as
/// written (`String`) in a scan's plan (plan.json), which [`Call::planned`] and
/// [`Call::compile`] convert between.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Call<R = ResultKey> {
    /// botocore service name, e.g. `ec2`, `resourcegroupstaggingapi`.
    pub service: String,
    /// Model operation name, e.g. `DescribeInstances`.
    pub operation: String,
    /// boto3's method name, e.g. `describe_instances`; aws-auto-inventory names its
    /// output files `<service>-<function>.json`. Not unique: two entries may call the
    /// same operation with different parameters or result keys.
    pub function: String,
    /// The operation's input: always a JSON object, checked against the model.
    pub parameters: Value,
    /// What to keep of the result; `None` keeps all of it.
    pub result_key: Option<R>,
    /// Calls made once per item of the result (after the result key), in the same
    /// account and region (see [`detail`]).
    #[serde(default = "Vec::new", skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<Detail<R>>,
    /// Where the call comes from, for errors and reports: `scans/ec2.json entry 3`,
    /// `preset core entry 12`, `preset all`. Not written in plans.
    #[serde(skip)]
    pub origin: String,
}

impl Call {
    /// The call as a scan's plan records it: its result key as written.
    pub fn planned(&self) -> Call<String> {
        Call {
            service: self.service.clone(),
            operation: self.operation.clone(),
            function: self.function.clone(),
            parameters: self.parameters.clone(),
            result_key: self.result_key.as_ref().map(|k| k.as_str().to_string()),
            details: self.details.iter().map(Detail::planned).collect(),
            origin: self.origin.clone(),
        }
    }

    /// What makes two calls the same call: service, operation, parameters (whatever
    /// the order of their members) and result key.
    fn identity(&self) -> (String, String, String, Option<String>) {
        (
            self.service.clone(),
            self.operation.clone(),
            canonical(&self.parameters),
            self.result_key.as_ref().map(|k| k.as_str().to_string()),
        )
    }
}

impl Call<String> {
    /// The call of a plan, ready to run: its result key compiled. The error names the
    /// key and what is wrong with it.
    pub fn compile(self) -> Result<Call, String> {
        let result_key = ResultKey::compile_planned(self.result_key.as_deref())?;
        let details = self
            .details
            .into_iter()
            .map(Detail::compile)
            .collect::<Result<_, _>>()?;
        Ok(Call {
            service: self.service,
            operation: self.operation,
            function: self.function,
            parameters: self.parameters,
            result_key,
            details,
            origin: self.origin,
        })
    }
}

/// JSON text with object members sorted, so that equal values give equal text.
fn canonical(v: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut members: Vec<(&String, &Value)> = m.iter().collect();
                members.sort_by(|a, b| a.0.cmp(b.0));
                Value::Object(
                    members
                        .into_iter()
                        .map(|(k, v)| (k.clone(), sorted(v)))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(v).to_string()
}

/// One thing wrong with a spec: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `scans/ec2.json entry 3`, `scans/ec2.json`, `https://example.com/scan.json`.
    pub origin: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.message)
    }
}

/// Why a spec could not be loaded: every problem found in every source, in order.
/// Displays as one line, the first problem and how many more there are; the
/// [`problems`](SpecError::problems) are all there for a caller that lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    problems: Vec<Problem>,
}

impl SpecError {
    fn new(problems: Vec<Problem>) -> SpecError {
        debug_assert!(!problems.is_empty());
        SpecError { problems }
    }

    /// Every problem, in the order of the sources and their entries.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.split_first() {
            None => f.write_str("invalid scan spec"),
            Some((first, rest)) => {
                write!(f, "{first}")?;
                match rest.len() {
                    0 => Ok(()),
                    1 => write!(f, " (and 1 more problem)"),
                    n => write!(f, " (and {n} more problems)"),
                }
            }
        }
    }
}

impl std::error::Error for SpecError {}

/// Loads a spec from scan files or http(s) URLs and presets, and checks every entry
/// against the bundled models. With neither sources nor presets, the spec is
/// [`Preset::Core`].
///
/// Sources come first, in order, then presets; a call that appears more than once
/// (same service, operation, parameters and result key) is kept once, with the
/// origin where it first appeared. Every problem in every source is reported at
/// once; nothing is called.
///
/// An entry that does not run as written may still run as a detail of a list call,
/// or be left out (see [`Fate`]); with `strict`, it is a problem like any other.
pub async fn load(
    sources: &[String],
    presets: &[Preset],
    details: DetailsMode,
    strict: bool,
) -> Result<Spec, SpecError> {
    let presets = if sources.is_empty() && presets.is_empty() {
        &[Preset::Core][..]
    } else {
        presets
    };
    let mut problems = Vec::new();
    let mut calls = Vec::new();
    let mut fates = fate::Fates::default();
    for name in sources {
        match source::read(name).await {
            Ok(entries) => fate::entries(entries, strict, &mut calls, &mut fates, &mut problems),
            Err(problem) => problems.push(problem),
        }
    }
    for preset in presets {
        match preset.calls() {
            Ok(preset_calls) => {
                fates.planned.extend(preset_calls.iter().map(|c| Planned {
                    origin: c.origin.clone(),
                    service: c.service.clone(),
                    function: c.function.clone(),
                    fate: Fate::Runs,
                    note: String::new(),
                }));
                calls.extend(preset_calls)
            }
            Err(mut preset_problems) => problems.append(&mut preset_problems),
        }
    }
    if !problems.is_empty() {
        return Err(SpecError::new(problems));
    }
    let mut calls = dedup(calls);
    detail::apply(details, &mut calls);
    // After `--details`: an entry that runs as a detail is the file's own call.
    fate::attach(&mut calls, &mut fates);
    Ok(Spec {
        calls,
        planned: fates.planned,
    })
}

/// Calls a scan leaves out (`--skip`): services, or operations of a service.
#[derive(Debug, Clone, Default)]
pub struct Skip {
    /// `(botocore service name, model operation name or None for every operation)`.
    entries: Vec<(String, Option<String>)>,
}

impl Skip {
    /// Parses `--skip` values: `SERVICE` or `SERVICE:OPERATION`, in any spelling
    /// Census accepts (`ssm:DescribeInstanceInformation`,
    /// `ssm:describe-instance-information`). The error names the value and the fix.
    pub fn parse(values: &[String]) -> Result<Skip, String> {
        let mut entries = Vec::new();
        for v in values {
            let entry = check::skip(v).map_err(|e| {
                format!("--skip {v:?}: {e}; write SERVICE or SERVICE:OPERATION, such as ssm:DescribeInstanceInformation")
            })?;
            if !entries.contains(&entry) {
                entries.push(entry);
            }
        }
        Ok(Skip { entries })
    }

    /// Whether the scan leaves `call` out.
    pub fn skips<R>(&self, call: &Call<R>) -> bool {
        self.skips_operation(&call.service, &call.operation)
    }

    /// Whether the scan leaves `operation` of `service` out, as a call or a detail.
    pub fn skips_operation(&self, service: &str, op: &str) -> bool {
        self.entries
            .iter()
            .any(|(s, operation)| s == service && operation.as_ref().is_none_or(|o| o == op))
    }

    /// The entries as `service:Operation` (or `service`), for messages.
    pub fn names(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|(s, o)| match o {
                Some(o) => format!("{s}:{o}"),
                None => s.clone(),
            })
            .collect()
    }
}

/// Drops repeated calls, keeping the first of each with the details of all of them
/// (a detail of the same service and operation once).
fn dedup(calls: Vec<Call>) -> Vec<Call> {
    let mut index = HashMap::with_capacity(calls.len());
    let mut out: Vec<Call> = Vec::with_capacity(calls.len());
    for call in calls {
        match index.get(&call.identity()) {
            Some(&i) => {
                let kept: &mut Call = &mut out[i];
                for d in call.details {
                    if !kept
                        .details
                        .iter()
                        .any(|k| k.service == d.service && k.operation == d.operation)
                    {
                        kept.details.push(d);
                    }
                }
            }
            None => {
                index.insert(call.identity(), out.len());
                out.push(call);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_takes_every_spelling_and_names_the_bad_value() {
        let skip = Skip::parse(&[
            "ssm:describe-instance-information".into(),
            "ssm:DescribeInstanceInformation".into(),
            "sqs".into(),
        ])
        .unwrap();
        assert_eq!(skip.names(), ["ssm:DescribeInstanceInformation", "sqs"]);
        let call = |service: &str, operation: &str| Call::<String> {
            service: service.into(),
            operation: operation.into(),
            function: String::new(),
            parameters: Value::Null,
            result_key: None,
            details: Vec::new(),
            origin: String::new(),
        };
        assert!(skip.skips(&call("ssm", "DescribeInstanceInformation")));
        assert!(skip.skips(&call("sqs", "ListQueues")));
        assert!(!skip.skips(&call("ssm", "DescribeParameters")));
        assert!(!skip.skips(&call("ec2", "DescribeInstanceInformation")));
        let e = Skip::parse(&["ssm:nothing_here".into()]).unwrap_err();
        assert!(e.starts_with("--skip \"ssm:nothing_here\": "), "{e}");
        assert!(Skip::parse(&["ec3".into()]).unwrap_err().contains("ec2"));
    }

    #[test]
    fn reads_by_verb() {
        for op in [
            "DescribeInstances",
            "GetBucketAcl",
            "ListBuckets",
            "BatchGetItem",
            "LookupEvents",
            "Get2Something",
            "Scan",
            "Query",
        ] {
            assert!(is_read(op), "{op}");
        }
        for op in [
            "TerminateInstances",
            "CheckoutLicense",
            "Getaway",
            "PutObject",
            "Scanner",
            "PreviewPortal",
            "ReceiveMessage",
            "GenerateCredentialReport",
        ] {
            assert!(!is_read(op), "{op}");
        }
    }

    #[test]
    fn one_line_error() {
        let p = |o: &str, m: &str| Problem {
            origin: o.into(),
            message: m.into(),
        };
        let e = SpecError::new(vec![p("a.json entry 1", "bad")]);
        assert_eq!(e.to_string(), "a.json entry 1: bad");
        let e = SpecError::new(vec![
            p("a.json entry 1", "bad"),
            p("b.json", "worse"),
            p("c", "x"),
        ]);
        assert_eq!(e.to_string(), "a.json entry 1: bad (and 2 more problems)");
        assert_eq!(e.problems().len(), 3);
    }

    #[test]
    fn canonical_ignores_member_order() {
        let a: Value = serde_json::from_str(r#"{"b": [{"y": 1, "x": 2}], "a": 1}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a": 1, "b": [{"x": 2, "y": 1}]}"#).unwrap();
        assert_eq!(canonical(&a), canonical(&b));
    }
}
