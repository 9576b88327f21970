//! The JSON tree: the layout of aws-auto-inventory's organization scan,
//! `<out>/<scan-id>/<account-id>-<account-name>/<region|global>/<service>-<function>.json`,
//! plus `accounts.json` and `summary.json` at the top of the scan folder.
//!
//! Every file is written atomically. A journal (`.census/journal.jsonl`, one JSON
//! line per account set up and per call finished, appended after the call's file is in
//! place) lets `--resume` re-run only what did not complete.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{write_atomic, AccountReport, CallRecord, ScanInfo, Sink, Totals};

/// One line of the journal.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Entry {
    Account(AccountReport),
    Call(CallRecord),
}

pub struct TreeSink {
    root: PathBuf,
    journal: Mutex<Option<File>>,
    account_dirs: Mutex<std::collections::HashMap<String, String>>,
}

impl TreeSink {
    /// A tree for scan `scan_id` under `out_dir`.
    pub fn new(out_dir: &Path, scan_id: &str) -> TreeSink {
        TreeSink {
            root: out_dir.join(scan_id),
            journal: Mutex::new(None),
            account_dirs: Mutex::new(Default::default()),
        }
    }

    /// The scan's folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file a call's result goes to, relative to the scan folder.
    pub fn relative_path(account_dir: &str, region: &str, stem: &str) -> PathBuf {
        Path::new(account_dir)
            .join(region)
            .join(format!("{stem}.json"))
    }

    fn journal_path(root: &Path) -> PathBuf {
        root.join(".census").join("journal.jsonl")
    }

    fn append(&self, entry: &Entry) -> io::Result<()> {
        let mut line = serde_json::to_vec(entry)?;
        line.push(b'\n');
        let mut guard = self.journal.lock().unwrap_or_else(|e| e.into_inner());
        let file = guard
            .as_mut()
            .ok_or_else(|| io::Error::other("the scan was not begun"))?;
        // One write per line: a kill loses at most the line being written, which
        // read_journal skips.
        file.write_all(&line)
    }

    /// Everything a previous run of the scan in `root` recorded. A torn last line (the
    /// process was killed while writing it) is ignored.
    pub fn read_journal(root: &Path) -> io::Result<Vec<Entry>> {
        let path = Self::journal_path(root);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        for line in io::BufReader::new(file).lines() {
            let line = line?;
            if let Ok(entry) = serde_json::from_str::<Entry>(&line) {
                out.push(entry);
            }
        }
        Ok(out)
    }

    /// Account folder names by account id, from the account reports.
    fn account_dir(&self, record: &CallRecord) -> String {
        self.account_dirs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&record.account_id)
            .cloned()
            .unwrap_or_else(|| record.account_id.clone())
    }
}

impl Sink for TreeSink {
    fn name(&self) -> String {
        format!("JSON tree at {}", self.root.display())
    }

    fn begin(&self, _scan: &ScanInfo) -> io::Result<()> {
        let path = Self::journal_path(&self.root);
        std::fs::create_dir_all(path.parent().unwrap())?;
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        *self.journal.lock().unwrap_or_else(|e| e.into_inner()) = Some(file);
        Ok(())
    }

    fn account(&self, report: &AccountReport) -> io::Result<()> {
        self.account_dirs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(report.account.id.clone(), report.account.dir_name());
        self.append(&Entry::Account(report.clone()))
    }

    fn call(&self, record: &CallRecord, result: Option<&Value>) -> io::Result<()> {
        if let Some(result) = result {
            let rel = Self::relative_path(&self.account_dir(record), &record.region, &record.stem);
            let mut data = serde_json::to_vec_pretty(result)?;
            data.push(b'\n');
            write_atomic(&self.root.join(rel), &data)?;
        }
        self.append(&Entry::Call(record.clone()))
    }

    fn finish(
        &self,
        scan: &ScanInfo,
        totals: &Totals,
        accounts: &[AccountReport],
        records: &[CallRecord],
    ) -> io::Result<()> {
        let mut data = serde_json::to_vec_pretty(accounts)?;
        data.push(b'\n');
        write_atomic(&self.root.join("accounts.json"), &data)?;
        let mut per_account: Vec<Value> = Vec::with_capacity(accounts.len());
        for a in accounts {
            let calls: Vec<&CallRecord> = records
                .iter()
                .filter(|r| r.account_id == a.account.id)
                .collect();
            per_account.push(serde_json::json!({
                "account_id": a.account.id,
                "account_name": a.account.name,
                "status": a.status,
                "error_code": a.error_code,
                "error_message": a.error_message,
                "remediation": a.remediation,
                "calls": calls,
            }));
        }
        let summary = serde_json::json!({
            "scan": scan,
            "totals": totals,
            "accounts": per_account,
        });
        let mut data = serde_json::to_vec_pretty(&summary)?;
        data.push(b'\n');
        write_atomic(&self.root.join("summary.json"), &data)?;
        if let Some(f) = self
            .journal
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            f.sync_all()?;
        }
        Ok(())
    }
}
