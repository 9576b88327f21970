//! Which errors of a detail call mean "the item has none of that" (`absent`) rather
//! than a failure: `NoSuchBucketPolicy` from s3 `GetBucketPolicy` on a bucket without a
//! policy, `ResourceNotFoundException` from lambda `GetPolicy` on a function without
//! one, `NoSuchEntity` from iam `GetLoginProfile` on a user without a password.
//!
//! Derived from the models, with the exceptions as data (`presets/absent.json`), never
//! per-service code. [`is_absent`] decides, in this order:
//!
//! 1. **Never absent**, whatever the name or the data: access denied
//!    (`AccessDenied*`, `UnauthorizedOperation`, `Unauthorized*`), throttling
//!    ([`awsdyn::retry::THROTTLING_ERROR_CODES`] and `Throttl*`), server-side and
//!    transient failures (`InternalError`, `InternalFailure`, `Internal*Error`,
//!    `Internal*Exception`, `ServiceUnavailable*`, the transient codes awsdyn retries),
//!    bad requests (`ValidationException`, `ValidationError`, `InvalidParameter*`),
//!    credential failures (`ExpiredToken`, `InvalidClientTokenId`, `AuthFailure`,
//!    `SignatureDoesNotMatch`, `UnrecognizedClientException`, `OptInRequired`), and
//!    the codes Census gives its own give-ups (`CallTimeout`,
//!    `AccountDeadlineExceeded`).
//! 2. **Data**: an entry of `presets/absent.json` for this code, the most specific
//!    first (service and operation, then service and any operation, then any service
//!    and operation), says yes or no, with its reason. It adds codes the name rule
//!    misses (SQS `AWS.SimpleQueueService.NonExistentQueue`, WAF
//!    `WAFNonexistentItemException`, CloudTrail `InsightNotEnabledException`) and
//!    removes codes it catches that do not mean the item has none: a missing KMS key,
//!    service-linked role, licence or organization is a fault of the account's set-up,
//!    not an empty detail of the item.
//! 3. **Modeled**: an error the operation's model lists whose shape name or code
//!    (the shape's `error.code`, e.g. iam's `NoSuchEntityException` is sent as
//!    `NoSuchEntity`, redshift's `ReservedNodeExchangeNotFoundFault` as
//!    `ReservedNodeExchangeNotFond`) is "not found" by the name rule below. Both the
//!    shape name and the code are accepted: which one reaches us depends on the
//!    protocol (query protocols send the code, JSON protocols the shape name, and
//!    awsQuery-compatible JSON services the code again).
//! 4. **Named**: a code that is "not found" by the name rule, even though the model
//!    does not list it for this operation, when the operation is a detail-style read
//!    (`Get*`, `Describe*`, `List*`, `Head*`). Many models list no errors at all: s3
//!    `GetBucketPolicy` lists none, and `NoSuchBucketPolicy` is only in botocore's
//!    documentation; the ec2 model lists none and answers `InvalidVpcID.NotFound`.
//! 5. **HEAD**: a `Head*` read's errors have no body, so the code is the HTTP status:
//!    `404` from s3 `HeadBucket` is absent.
//!
//! The name rule: the code's last dot-separated part (ec2 writes
//! `InvalidLaunchTemplateId.NotFound`), less one `Exception`, `Fault` or `Error`
//! suffix, starts with `NoSuch` followed by an upper-case letter, or ends in
//! `NotFound`, `DoesNotExist` or `NotExists` (the forms the models use: `NoSuchEntity`,
//! `ResourceNotFoundException`, `ClusterNotFoundFault`,
//! `ServerSideEncryptionConfigurationNotFoundError`, `StateMachineDoesNotExist`,
//! `RedshiftIdcApplicationNotExistsFault`).
//!
//! A detail call whose item vanished between the list call and the detail call gets
//! the same code (lambda answers `ResourceNotFoundException` both for a function
//! without a policy and for a deleted function): that too is recorded as absent,
//! which is right, since the item has none of that now.
//!
//! Only ever ask this about a detail call: an operation called with one listed item's
//! identifier. A list call with no required input has nothing to look up and does not
//! answer "not found" for an empty result; if it does, something else is missing (a
//! configuration recorder, an organization) and that is an error. This function does
//! not check that, since the caller knows which calls are details.
//!
//! What rules 3 to 5 need is derived once per (service, operation) and cached; the
//! models themselves are cached by [`awsdyn::model::load`].

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use serde::Deserialize;

/// The exceptions to the name rule, as data.
const DATA: &str = include_str!("../../presets/absent.json");

/// Verbs of detail-style read operations (the next character upper case).
const READ_VERBS: [&str; 4] = ["Get", "Describe", "List", "Head"];

/// Codes that are never absent (rule 1), compared exactly.
const NEVER: [&str; 15] = [
    "ValidationException",
    "ValidationError",
    "InternalFailure",
    "ServiceFailure",
    "CallTimeout",
    "AccountDeadlineExceeded",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "AuthFailure",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "OptInRequired",
    "MissingAuthenticationToken",
    "RequestExpired",
];

/// Prefixes of codes that are never absent (rule 1); so is `Internal*Error` and
/// `Internal*Exception`.
const NEVER_PREFIXES: [&str; 5] = [
    "AccessDenied",
    "Unauthorized",
    "Throttl",
    "InvalidParameter",
    "ServiceUnavailable",
];

/// `presets/absent.json`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Data {
    #[allow(dead_code)]
    reason: String,
    codes: Vec<Entry>,
}

/// One exception: `code` of `operation` of `service` (`*` for any) is absent or not.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    service: String,
    operation: String,
    code: String,
    absent: bool,
    #[allow(dead_code)]
    reason: String,
}

impl Entry {
    /// How specifically this entry applies to a call: 2 names the operation, 1 the
    /// service only, 0 neither; `None` when it does not apply.
    fn rank(&self, service: &str, operation: &str, code: &str) -> Option<u8> {
        if self.code != code {
            return None;
        }
        match (self.service.as_str(), self.operation.as_str()) {
            (s, o) if s == service && o == operation => Some(2),
            (s, "*") if s == service => Some(1),
            ("*", "*") => Some(0),
            _ => None,
        }
    }
}

fn data() -> &'static Data {
    static DATA_PARSED: OnceLock<Data> = OnceLock::new();
    DATA_PARSED.get_or_init(|| {
        // Built in and parsed by the tests: it cannot fail at run time.
        serde_json::from_str(DATA).expect("presets/absent.json is well formed")
    })
}

/// What is derived once per (service, operation).
#[derive(Debug, Default)]
struct Derived {
    /// The botocore name of the service and the model name of the operation, as the
    /// data writes them (the names given when the model does not know them).
    service: String,
    operation: String,
    /// Whether the operation is a `Head*` read, whose errors have no body: the HTTP
    /// status is the code, and `404` is absent.
    head: bool,
    /// Whether the operation is a detail-style read (rule 4 applies).
    read: bool,
    /// The modeled absent codes and shape names (rule 3).
    modeled: HashSet<String>,
    /// Codes and shape names of modeled errors the data excludes: not absent by rule 4
    /// either, whichever of the two names the data spoke of.
    excluded: HashSet<String>,
}

/// Whether error `code` of `service`'s `operation`, made as a detail call on an item a
/// list call just returned, means "the item has none of that" (absent) rather than a
/// failure.
///
/// `service` is the botocore service name (`s3`, `iam`), `operation` the model name
/// (`GetBucketPolicy`; boto3's `get_bucket_policy` is accepted too), `code` the AWS
/// error code as parsed (`NoSuchBucketPolicy`, `InvalidVpcID.NotFound`). See the
/// module documentation for the rules.
pub fn is_absent(service: &str, operation: &str, code: &str) -> bool {
    if never(code) {
        return false;
    }
    let d = derived(service, operation);
    if let Some(absent) = listed(&d.service, &d.operation, code) {
        return absent;
    }
    d.modeled.contains(code)
        || (d.read && !d.excluded.contains(code) && not_found_name(code))
        || (d.head && code == "404")
}

/// Rule 1: codes that are never absent.
fn never(code: &str) -> bool {
    NEVER.contains(&code)
        || NEVER_PREFIXES.iter().any(|p| code.starts_with(p))
        || awsdyn::retry::THROTTLING_ERROR_CODES.contains(&code)
        || awsdyn::retry::TRANSIENT_ERROR_CODES.contains(&code)
        || (code.starts_with("Internal")
            && (code.ends_with("Error") || code.ends_with("Exception")))
}

/// Rule 2: what `presets/absent.json` says of this code here, if anything.
fn listed(service: &str, operation: &str, code: &str) -> Option<bool> {
    data()
        .codes
        .iter()
        .filter_map(|e| e.rank(service, operation, code).map(|r| (r, e.absent)))
        .max_by_key(|&(r, _)| r)
        .map(|(_, absent)| absent)
}

/// The name rule: whether a code or shape name says "not found".
fn not_found_name(code: &str) -> bool {
    let last = code.rsplit('.').next().unwrap_or(code);
    let stem = ["Exception", "Fault", "Error"]
        .iter()
        .find_map(|s| last.strip_suffix(s))
        .unwrap_or(last);
    let no_such = stem
        .strip_prefix("NoSuch")
        .and_then(|rest| rest.chars().next())
        .is_some_and(char::is_uppercase);
    no_such
        || stem.ends_with("NotFound")
        || stem.ends_with("DoesNotExist")
        || stem.ends_with("NotExists")
}

/// Whether an operation name is a detail-style read: a verb of [`READ_VERBS`]
/// followed by an upper-case letter.
fn read_operation(operation: &str) -> bool {
    READ_VERBS.iter().any(|v| verb_is(operation, v))
}

/// Whether an operation name is a `Head*` read.
fn head_operation(operation: &str) -> bool {
    verb_is(operation, "Head")
}

/// Whether `operation` starts with `verb` followed by an upper-case letter.
fn verb_is(operation: &str, verb: &str) -> bool {
    operation
        .strip_prefix(verb)
        .and_then(|rest| rest.chars().next())
        .is_some_and(char::is_uppercase)
}

/// What is derived for (service, operation), computed once and cached.
fn derived(service: &str, operation: &str) -> Arc<Derived> {
    type Cache = Mutex<HashMap<(String, String), Arc<Derived>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (service.to_string(), operation.to_string());
    if let Some(d) = cache.lock().unwrap().get(&key) {
        return d.clone();
    }
    let d = Arc::new(derive(service, operation));
    cache.lock().unwrap().entry(key).or_insert(d).clone()
}

/// Derives rules 3 and 4's facts from the model (`model::load` caches models). An
/// unknown service or operation gets rule 4 by its name alone.
fn derive(service: &str, operation: &str) -> Derived {
    let by_name = |service: &str, operation: &str| Derived {
        service: service.to_string(),
        operation: operation.to_string(),
        head: head_operation(operation),
        read: read_operation(operation),
        ..Derived::default()
    };
    let Ok(model) = awsdyn::model::load(service) else {
        return by_name(service, operation);
    };
    let Some(key) = model.operation_key(operation) else {
        return by_name(&model.name, operation);
    };
    let (modeled, excluded) = modeled(&model, key, &model.operations[key]);
    Derived {
        modeled,
        excluded,
        ..by_name(&model.name, key)
    }
}

/// Splits the errors `op` lists into absent ones (rule 3) and excluded ones, each by
/// both its shape name and its code. An error is absent when the name rule holds for
/// either name, or the data says so; excluded when the data says no for either name
/// (so that an exclusion written for the shape name holds for the code too).
fn modeled(
    model: &awsdyn::ServiceModel,
    operation: &str,
    op: &awsdyn::Operation,
) -> (HashSet<String>, HashSet<String>) {
    let (mut absent, mut excluded) = (HashSet::new(), HashSet::new());
    for e in &op.errors {
        let code = model
            .shape_by_name(&e.shape)
            .and_then(|s| s.error.as_ref())
            .and_then(|t| t.code.as_deref())
            .unwrap_or(&e.shape);
        let names = [e.shape.as_str(), code];
        let said: Vec<bool> = names
            .iter()
            .filter_map(|n| listed(&model.name, operation, n))
            .collect();
        let verdict = if said.is_empty() {
            names.iter().any(|n| !never(n) && not_found_name(n))
        } else {
            said.iter().all(|&a| a)
        };
        let side = match (verdict, said.is_empty()) {
            (true, _) => &mut absent,
            (false, false) => &mut excluded,
            (false, true) => continue,
        };
        side.extend(names.iter().map(|n| n.to_string()));
    }
    (absent, excluded)
}

#[cfg(test)]
mod tests;
