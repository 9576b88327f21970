//! Sinks: where a scan's results go. The executor pushes events into every sink as
//! they happen (begin, each account, each call, finish), so that nothing is held in
//! memory longer than one call's result: the JSON tree writes a file per call, the SQL
//! stores insert rows. A sink never calls AWS; [`s3`], the one output that does,
//! copies the finished files to S3 after the scan and is not a sink. Not for reading
//! outputs back (see [`crate::store`]).
//!
//! Sinks are called from many tasks at once and must do their own locking. An error
//! from a sink stops the scan (the output would be incomplete without it), and is
//! reported with the sink's name.

use std::io;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::account::Account;
use crate::spec::Call;

pub mod s3;
pub mod sql;
pub mod tree;

pub use sql::{postgres, sqlite, PostgresSink, SqliteSink};

/// What a scan is, written once at its start.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScanInfo {
    /// The scan's id: its folder name (`20261124T063000Z`).
    pub id: String,
    /// When the scan started (ISO 8601).
    pub started: String,
    /// The census version.
    pub version: String,
    /// True when this run resumes an interrupted scan.
    #[serde(default)]
    pub resumed: bool,
    /// Scan file entries left out with a reason (retired, write, unfillable, ...; see
    /// [`crate::spec::Fate`]); boto3 helpers are not listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped_entries: Vec<crate::spec::Planned>,
}

/// How setting up one account went: credentials and regions.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccountReport {
    #[serde(flatten)]
    pub account: Account,
    /// Written `scan_status`: the account's own `status` is its Organizations status
    /// (`ACTIVE`), and a flattened struct with two `status` keys is JSON no reader can
    /// take back (the journal's account lines never read back).
    #[serde(rename = "scan_status")]
    pub status: Status,
    /// The regions scanned for regional calls.
    pub regions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// What to do about the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
    /// The error may go away on another try (throttling, 5xx, a reset or a timeout
    /// outlasted the retries): `--resume` sets the account up again.
    #[serde(default, skip_serializing_if = "is_false")]
    pub retryable: bool,
}

fn is_false(b: &bool) -> bool {
    !b
}

/// How a call, or the set-up of an account, ended: written `ok` or `error` in every
/// file and table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Error,
}

impl Status {
    /// `ok` or `error`, as files and tables hold it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Error => "error",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AccountReport {
    /// An account set up: its scan can start (the regions come later).
    pub fn new(account: Account) -> AccountReport {
        AccountReport {
            account,
            status: Status::Ok,
            regions: Vec::new(),
            error_code: None,
            error_message: None,
            remediation: None,
            retryable: false,
        }
    }

    /// Marks the account failed: it could not be set up (`message` says why).
    pub fn fail(
        &mut self,
        code: String,
        message: String,
        remediation: Option<String>,
        retryable: bool,
    ) {
        self.status = Status::Error;
        self.error_code = Some(code);
        self.error_message = Some(message);
        self.remediation = remediation;
        self.retryable = retryable;
    }

    pub fn is_ok(&self) -> bool {
        self.status == Status::Ok
    }
}

/// The outcome of one call: one account, one region (or `global`), one spec entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CallRecord {
    pub account_id: String,
    /// The region, or `global` for a global service/operation.
    pub region: String,
    pub service: String,
    /// The function as the spec names it (snake_case).
    pub function: String,
    /// The model operation (PascalCase).
    pub operation: String,
    /// The output file's name stem: `<service>-<function>`, with `-2`... when one spec
    /// lists the same function twice with different parameters.
    pub stem: String,
    pub status: Status,
    /// Items in the result (the result key's list length, else the sum of the
    /// top-level lists' lengths).
    pub items: u64,
    pub pages: u32,
    pub duration_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The error may go away on another try (throttling, 5xx, a reset or a timeout
    /// outlasted the retries and the account's second round): `--resume` runs the call
    /// again. Absent (false) for successes and for errors retrying cannot fix.
    #[serde(default, skip_serializing_if = "is_false")]
    pub retryable: bool,
    /// A detail call: the stem of the list call whose items it ran on. Its record
    /// stands for the detail's calls on every item of that list in this account and
    /// region: `items` is how many items it ran on, `absent` how many had none of
    /// what it reads, and it failed when any item's call failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Items whose detail call found nothing to read (NoSuchBucketPolicy...).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub absent: u64,
    /// Items of the list left without this detail by `--max-details-per-call`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub items_not_detailed: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One item's detail call, as a detail's output file holds it: the parameters
/// computed from the item and what came of the call. Written
/// `{"parameters": {...}, "result": ...}`, `{"parameters": ..., "absent": {"code",
/// "message"}}` or `{"parameters": ..., "error": {...}}`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DetailItem {
    /// The list item's identifier, as the SQL stores identify it (not written in files).
    #[serde(skip)]
    pub resource_id: String,
    pub parameters: Value,
    #[serde(flatten)]
    pub outcome: DetailOutcome,
}

/// What came of one item's detail call.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum DetailOutcome {
    /// The result, boto3-shaped, the detail's result key applied.
    Result(Value),
    /// An error meaning the item has none of what the call reads.
    Absent(ErrorText),
    Error(ErrorText),
}

/// An error's code and message.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ErrorText {
    pub code: String,
    pub message: String,
}

impl DetailOutcome {
    /// The outcome as one JSON value, for a database row: the result, or
    /// `{"absent": {...}}` / `{"error": {...}}`.
    pub fn to_value(&self) -> Value {
        match self {
            DetailOutcome::Result(v) => v.clone(),
            other => serde_json::to_value(other).unwrap_or(Value::Null),
        }
    }
}

impl CallRecord {
    /// A successful call of `call` in `region` (or `global`) of an account, with
    /// nothing counted yet.
    pub fn new<R>(account_id: &str, region: &str, stem: &str, call: &Call<R>) -> CallRecord {
        Self::of(
            account_id,
            region,
            stem,
            &call.service,
            &call.function,
            &call.operation,
        )
    }

    fn of(
        account_id: &str,
        region: &str,
        stem: &str,
        service: &str,
        function: &str,
        operation: &str,
    ) -> CallRecord {
        CallRecord {
            account_id: account_id.to_string(),
            region: region.to_string(),
            service: service.to_string(),
            function: function.to_string(),
            operation: operation.to_string(),
            stem: stem.to_string(),
            status: Status::Ok,
            items: 0,
            pages: 0,
            duration_ms: 0,
            error_code: None,
            error_message: None,
            request_id: None,
            retryable: false,
            parent: None,
            absent: 0,
            items_not_detailed: 0,
        }
    }

    /// A detail call's record: `detail` on the items of the list call `parent` (its
    /// stem), with nothing counted yet.
    pub fn detail<R>(
        account_id: &str,
        region: &str,
        stem: &str,
        detail: &crate::spec::Detail<R>,
        parent: &str,
    ) -> CallRecord {
        CallRecord {
            parent: Some(parent.to_string()),
            ..CallRecord::of(
                account_id,
                region,
                stem,
                &detail.service,
                &detail.function,
                &detail.operation,
            )
        }
    }

    /// Marks the call failed with the AWS (or Census) error `code`.
    pub fn fail(&mut self, code: &str, message: String, request_id: Option<String>) {
        self.status = Status::Error;
        self.error_code = Some(code.to_string());
        self.error_message = Some(message);
        self.request_id = request_id;
    }

    /// Identifies the call within a scan: what `--resume` matches on.
    pub fn key(&self) -> (String, String, String) {
        (
            self.account_id.clone(),
            self.region.clone(),
            self.stem.clone(),
        )
    }

    pub fn is_ok(&self) -> bool {
        self.status == Status::Ok
    }
}

/// Totals at the end of a scan.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Totals {
    pub accounts: u64,
    pub accounts_failed: u64,
    pub calls: u64,
    pub calls_failed: u64,
    pub items: u64,
    pub pages: u64,
    /// Items whose detail calls found nothing to read (see [`CallRecord::absent`]).
    #[serde(default)]
    pub absent: u64,
}

/// A scan's destination.
pub trait Sink: Send + Sync {
    /// A short name for error messages (`json tree at census-out/...`).
    fn name(&self) -> String;
    /// The scan starts (or resumes).
    fn begin(&self, scan: &ScanInfo) -> io::Result<()>;
    /// One account was set up, or failed to be.
    fn account(&self, report: &AccountReport) -> io::Result<()>;
    /// One call finished: its record and, when it succeeded, its result (the spec's
    /// result key already applied).
    fn call(&self, record: &CallRecord, result: Option<&Value>) -> io::Result<()>;
    /// One detail call finished on every item of its list (see [`CallRecord::parent`]):
    /// its record and each item's outcome, in the list's order.
    fn details(&self, record: &CallRecord, items: &[DetailItem]) -> io::Result<()>;
    /// The scan ended. `totals` count every call of the scan, resumed ones included.
    /// No call records are passed: the executor does not keep them (memory stays flat
    /// in the number of calls); a sink that needs them keeps what it needs from
    /// [`Sink::call`] (the JSON tree reads its journal back).
    fn finish(
        &self,
        scan: &ScanInfo,
        totals: &Totals,
        accounts: &[AccountReport],
    ) -> io::Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resumed_tree_loses_the_killed_runs_temp_files_only() {
        let dir = std::env::temp_dir().join(format!("census-sink-temp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let region = dir.join("scan").join("123456789012-prod").join("us-east-1");
        std::fs::create_dir_all(&region).unwrap();
        std::fs::write(region.join("sqs-list_queues.json"), "[]").unwrap();
        std::fs::write(region.join(".sns-list_topics.json.tmp-999"), "[{").unwrap();
        std::fs::write(dir.join("scan").join(".summary.json.tmp-999"), "{").unwrap();

        let tree = tree::TreeSink::new(&dir, "scan");
        let info = ScanInfo {
            id: "scan".into(),
            started: "2026-11-24T00:00:00Z".into(),
            version: "test".into(),
            resumed: true,
            skipped_entries: Vec::new(),
        };
        tree.begin(&info).unwrap();
        assert!(region.join("sqs-list_queues.json").exists());
        assert!(!region.join(".sns-list_topics.json.tmp-999").exists());
        assert!(!dir.join("scan").join(".summary.json.tmp-999").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
