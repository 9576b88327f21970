//! Sinks: where a scan's results go. The executor pushes events into every sink as
//! they happen (begin, each account, each call, finish), so that nothing is held in
//! memory longer than one call's result: the JSON tree writes a file per call, the SQL
//! stores insert rows. A sink never calls AWS.
//!
//! Sinks are called from many tasks at once and must do their own locking. An error
//! from a sink stops the scan (the output would be incomplete without it), and is
//! reported with the sink's name.

use std::io;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::account::Account;
use crate::spec::Call;

pub mod batch;
pub mod postgres;
pub mod sqlite;
pub mod tree;

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
}

impl CallRecord {
    /// A successful call of `call` in `region` (or `global`) of an account, with
    /// nothing counted yet.
    pub fn new<R>(account_id: &str, region: &str, stem: &str, call: &Call<R>) -> CallRecord {
        CallRecord {
            account_id: account_id.to_string(),
            region: region.to_string(),
            service: call.service.clone(),
            function: call.function.clone(),
            operation: call.operation.clone(),
            stem: stem.to_string(),
            status: Status::Ok,
            items: 0,
            pages: 0,
            duration_ms: 0,
            error_code: None,
            error_message: None,
            request_id: None,
            retryable: false,
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
    /// The scan ended. `totals` count every call of the scan, resumed ones included.
    /// `records` is empty: the executor does not keep call records (memory stays flat
    /// in the number of calls); a sink that needs them keeps what it needs from
    /// [`Sink::call`] (the JSON tree reads its journal back).
    fn finish(
        &self,
        scan: &ScanInfo,
        totals: &Totals,
        accounts: &[AccountReport],
        records: &[CallRecord],
    ) -> io::Result<()>;
}

/// Writes `data` to `path` atomically: a temporary file in the same folder, then a
/// rename, so that a reader (or a crash) never sees half a file. The data is on disk
/// (fsync) before the rename.
pub fn write_atomic(path: &std::path::Path, data: &[u8]) -> io::Result<()> {
    use std::io::Write;
    atomic(path, |f| f.write_all(data))
}

/// Creates `dir` and its missing parents readable by their owner only (0700): an
/// inventory of an organization is sensitive. Folders already there keep their mode.
pub fn create_private_dir_all(dir: &std::path::Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Options that create a file readable and writable by its owner only (0600).
pub fn private_file() -> std::fs::OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = std::fs::OpenOptions::new();
    o.create(true).mode(0o600);
    o
}

/// [`write_atomic`] for data written piece by piece: `write` fills a buffered writer.
pub fn write_atomic_with(
    path: &std::path::Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> io::Result<()>,
) -> io::Result<()> {
    use std::io::Write;
    atomic(path, |f| {
        let mut w = std::io::BufWriter::with_capacity(16 * 1024, f);
        write(&mut w)?;
        w.flush()
    })
}

/// Whether a file name is one of [`write_atomic`]'s temporary files
/// (`.<name>.tmp-<pid>`).
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with('.')
        && name
            .rsplit_once(".tmp-")
            .is_some_and(|(_, pid)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
}

/// Removes the temporary files that a killed run left under `root` (a write is
/// atomic: such a file was never renamed into place, so it holds nothing the scan
/// reported). In a shard, only its own: those in the folders of accounts it owns and
/// its shard-tagged run-wide files, since other shards may be writing beside it.
/// Returns how many were removed.
pub fn remove_temp_files(
    root: &std::path::Path,
    shard: Option<&crate::shard::Shard>,
) -> io::Result<usize> {
    let mut removed = 0;
    let mut dirs = vec![(root.to_path_buf(), 0)];
    while let Some((dir, depth)) = dirs.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let kind = entry.file_type()?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if kind.is_dir() {
                // Account folders are `<account id>-<name>`.
                let account = name.split('-').next().unwrap_or_default();
                let ours =
                    depth > 0 || name.starts_with('.') || shard.is_none_or(|s| s.owns(account));
                if ours {
                    dirs.push((entry.path(), depth + 1));
                }
            } else if kind.is_file()
                && is_temp_name(&name)
                && (depth > 1 || shard.is_none_or(|s| name.contains(&s.tag())))
            {
                std::fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

fn atomic(
    path: &std::path::Path,
    write: impl FnOnce(&mut std::fs::File) -> io::Result<()>,
) -> io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| std::path::Path::new("."));
    create_private_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    let mut f = private_file().write(true).truncate(true).open(&tmp)?;
    write(&mut f)?;
    f.sync_data()?;
    drop(f);
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names() {
        assert!(is_temp_name(".ec2-describe_vpcs.json.tmp-4242"));
        assert!(is_temp_name(".summary.json.tmp-1"));
        for name in [
            "ec2-describe_vpcs.json",
            ".ec2.json.tmp-",
            ".ec2.json.tmp-12a",
            "x.tmp-12",
            ".census",
        ] {
            assert!(!is_temp_name(name), "{name}");
        }
    }

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
        };
        tree.begin(&info).unwrap();
        assert!(region.join("sqs-list_queues.json").exists());
        assert!(!region.join(".sns-list_topics.json.tmp-999").exists());
        assert!(!dir.join("scan").join(".summary.json.tmp-999").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
