//! `--resume`: the plan a scan folder keeps (`.census/plan.json`), read back and
//! checked, and which of an earlier run's calls are settled and which run again. Not
//! the command line (`commands::scan`), nor the running of calls (the executor).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::account::Account;
use crate::regions::check_region;
use crate::shard::{check_scan_id, Shard};
use crate::sink::tree::{shard_name, Entry, TreeSink};
use crate::sink::{AccountReport, CallRecord, ScanInfo};
use crate::spec::{check_planned, Call};

/// What a scan folder keeps so that `--resume` re-runs the same scan: the accounts and
/// calls as planned, and the settings that shape the plan.
#[derive(Debug, Serialize, Deserialize)]
pub struct Plan {
    pub info: ScanInfo,
    pub accounts: Vec<Account>,
    pub calls: Vec<Call<String>>,
    pub regions: Option<Vec<String>>,
    pub paginate: bool,
    /// Organizations entered through a role (`--org-role-arn`): `(org id, role ARN)`,
    /// so that a resumed scan reaches their members the same way.
    #[serde(default)]
    pub organizations: Vec<(String, String)>,
    #[serde(default = "yes")]
    pub chain_through_management: bool,
    /// The shard this run scans, when the scan is sharded.
    #[serde(default)]
    pub shard: Option<Shard>,
    /// `--db` as given (made absolute), so that `--resume` writes to the same
    /// database; `None`: the default, `<output-dir>/census.db`.
    #[serde(default)]
    pub db: Option<PathBuf>,
    /// `--no-db`: the scan writes no database, nor does its resumption.
    #[serde(default)]
    pub no_db: bool,
    /// `--max-details-per-call`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_details_per_call: Option<usize>,
    /// Set while discovery runs (it hands accounts to the scan as it lists them): the
    /// discovery options, so that `--resume` of a scan stopped before its discovery
    /// ended discovers again. `None` once `accounts` holds every account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovery: Option<crate::discover::Options>,
}

fn yes() -> bool {
    true
}

impl Plan {
    /// What in a plan read back from disk would take a path or a call somewhere it
    /// must not go (a tampered or damaged plan.json): ids that are not 12 digits, a scan
    /// id or region that is not a plain name, a call that is not a plain read or
    /// returns secrets.
    pub fn check(&self) -> Result<(), String> {
        check_scan_id(&self.info.id).map_err(|e| format!("scan id: {e}"))?;
        for a in &self.accounts {
            crate::account::check_id(&a.id)?;
        }
        for r in self.regions.iter().flatten() {
            check_region(r).map_err(|e| format!("region: {e}"))?;
        }
        for c in &self.calls {
            check_planned(&c.service, &c.operation, &c.parameters)?;
            for d in &c.details {
                check_planned(
                    &d.service,
                    &d.operation,
                    &serde_json::Value::Object(d.parameters.written().clone()),
                )?;
            }
        }
        Ok(())
    }

    /// Reads and checks the plan of the scan folder `dir`, for `--resume` (with
    /// `--shard`, the shard's plan). The errors name the folder and what to do.
    pub fn read(dir: &Path, shard: Option<&Shard>) -> Result<Plan> {
        let path = plan_path(dir, shard);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!("--resume {}: not a census scan folder (no .census/{}); give the folder of the interrupted scan, e.g. census-out/20261124T063000Z, and for a shard of a sharded scan its --shard", dir.display(), path.file_name().unwrap_or_default().to_string_lossy())
        })?;
        let plan = serde_json::from_str::<Plan>(&text)
            .with_context(|| format!("--resume {}: damaged {}", dir.display(), path.display()))?;
        plan.check().map_err(|e| {
            anyhow!(
                "--resume {}: {} was changed or damaged ({e}); resume only a folder census wrote, or start a new scan",
                dir.display(),
                path.display()
            )
        })?;
        if plan.shard.as_ref() != shard {
            bail!(
                "--resume {}: that scan was planned for shard {}, not {}",
                dir.display(),
                plan.shard.map_or("none".to_string(), |s| s.to_string()),
                shard.map_or("none".to_string(), |s| s.to_string())
            );
        }
        Ok(plan)
    }

    /// Checks `--db` (made absolute) and `--no-db` against the database the scan in
    /// `dir` writes to: a different one would hold half a scan.
    pub fn check_db(&self, dir: &Path, db: Option<&Path>, no_db: bool) -> Result<()> {
        if no_db && !self.no_db {
            bail!(
                "--no-db and --resume {}: that scan writes to a database; leave out --no-db (the resumed scan writes to the same one)",
                dir.display()
            );
        }
        if let Some(db) = db {
            // The scan's database: its --db, else the default one beside its folder.
            let original = self.db.clone().unwrap_or_else(|| {
                let default = dir
                    .parent()
                    .unwrap_or(Path::new(""))
                    .join(shard_name(self.shard.as_ref(), crate::store::DB_FILE));
                std::path::absolute(&default).unwrap_or(default)
            });
            if self.no_db || original != db {
                let written = if self.no_db {
                    "no database (--no-db)".to_string()
                } else {
                    original.display().to_string()
                };
                bail!(
                    "--db and --resume {}: that scan writes to {written}; leave out --db (the resumed scan writes to the same one)",
                    dir.display(),
                );
            }
        }
        Ok(())
    }

    /// The plan's calls, ready to run (their result keys compiled).
    pub fn compiled_calls(&self) -> Result<Vec<Call>> {
        self.calls
            .iter()
            .map(|c| {
                Call {
                    origin: "resumed plan".into(),
                    ..c.clone()
                }
                .compile()
                .map_err(|e| anyhow!("plan.json: {e}"))
            })
            .collect()
    }

    /// Writes the plan into the scan folder `root`, atomically.
    pub fn write(&self, root: &Path) -> std::io::Result<()> {
        crate::util::fs::write_atomic(
            &plan_path(root, self.shard.as_ref()),
            &serde_json::to_vec_pretty(self)?,
        )
    }
}

/// Where the scan folder `root` keeps its plan (each shard its own).
pub fn plan_path(root: &Path, shard: Option<&Shard>) -> PathBuf {
    root.join(".census").join(shard_name(shard, "plan.json"))
}

/// What the earlier runs of a scan recorded in its journal (the folder `root`, with
/// `--shard` the shard's journal): the calls in order, and the last report of each
/// account.
pub fn previous(
    root: &Path,
    shard: Option<&Shard>,
) -> std::io::Result<(Vec<CallRecord>, Vec<AccountReport>)> {
    let mut calls = Vec::new();
    let mut reports: Vec<AccountReport> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    for e in TreeSink::read_shard_journal(root, shard)? {
        match e {
            Entry::Call(c) => calls.push(c),
            // An account's later entry (described once discovery ended, or set up again
            // by a resumed run) replaces the earlier one.
            Entry::Account(a) => match at.get(&a.account.id) {
                Some(&i) => reports[i] = a,
                None => {
                    at.insert(a.account.id.clone(), reports.len());
                    reports.push(a);
                }
            },
        }
    }
    Ok((calls, reports))
}

/// The calls of an earlier run that `--resume` keeps: the last record of each call (a
/// journal may hold several), unless it ended in a retryable error.
pub fn settled(records: Vec<CallRecord>) -> Vec<CallRecord> {
    let mut last: HashMap<(String, String, String), CallRecord> =
        HashMap::with_capacity(records.len());
    for r in records {
        last.insert(r.key(), r);
    }
    last.into_values().filter(|r| !r.retryable).collect()
}

/// Of an earlier run's records, how many calls and accounts ended in a retryable error
/// (their last record): what `--resume` runs again.
pub fn retryable_counts(calls: &[CallRecord], accounts: &[AccountReport]) -> (usize, usize) {
    let mut last_call = HashMap::new();
    for r in calls {
        last_call.insert(r.key(), r.retryable);
    }
    let mut last_account = HashMap::new();
    for a in accounts {
        last_account.insert(a.account.id.as_str(), a.retryable);
    }
    (
        last_call.values().filter(|r| **r).count(),
        last_account.values().filter(|r| **r).count(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::Status;
    use crate::spec::ResultKey;

    /// A plan.json as Census writes it (pinned: `--resume` reads folders written by
    /// earlier versions, so the format must not drift).
    const PLAN: &str = r#"{
  "info": {
    "id": "20261124T063000Z",
    "started": "2026-11-24T06:30:00Z",
    "version": "0.1.0",
    "resumed": false
  },
  "accounts": [
    {
      "id": "123456789012",
      "name": "prod",
      "email": "prod@example.com",
      "status": "ACTIVE",
      "partition": "aws",
      "org_id": "o-abcdefghij",
      "management_account_id": "210987654321",
      "ou_id": "ou-ab12-cdef3456",
      "ou_path": "Root/Workloads",
      "tags": {
        "team": "core"
      },
      "is_caller": false,
      "source": "organizations"
    },
    {
      "id": "210987654321",
      "name": "210987654321",
      "status": "UNKNOWN",
      "partition": "aws",
      "is_caller": true,
      "source": "caller"
    }
  ],
  "calls": [
    {
      "service": "ec2",
      "operation": "DescribeInstances",
      "function": "describe_instances",
      "parameters": {
        "Filters": [
          {
            "Values": [
              "running"
            ],
            "Name": "instance-state-name"
          }
        ]
      },
      "result_key": "Reservations"
    },
    {
      "service": "s3",
      "operation": "ListBuckets",
      "function": "list_buckets",
      "parameters": {},
      "result_key": ".Buckets[]|.Name"
    },
    {
      "service": "sqs",
      "operation": "ListQueues",
      "function": "list_queues",
      "parameters": {},
      "result_key": null
    }
  ],
  "regions": [
    "us-east-1",
    "eu-west-1"
  ],
  "paginate": true,
  "organizations": [
    [
      "o-abcdefghij",
      "arn:aws:iam::210987654321:role/OrgReader"
    ]
  ],
  "chain_through_management": true,
  "shard": {
    "index": 2,
    "count": 4
  },
  "db": "/srv/census/census.db",
  "no_db": false
}"#;

    #[test]
    fn plan_json_reads_and_writes_back_byte_for_byte() {
        let plan: Plan = serde_json::from_str(PLAN).unwrap();
        plan.check().unwrap();
        assert_eq!(serde_json::to_string_pretty(&plan).unwrap(), PLAN);
        assert_eq!(plan.calls.len(), 3);
        assert_eq!(plan.shard, Some(Shard { index: 2, count: 4 }));

        // Written, read back, compiled to run and planned again: the same bytes.
        let dir = testkit::TempDir::new("census-plan");
        let scan = dir.path().join(&plan.info.id);
        plan.write(&scan).unwrap();
        let path = plan_path(&scan, plan.shard.as_ref());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), PLAN);
        let mut again = Plan::read(&scan, plan.shard.as_ref()).unwrap();
        let calls = again.compiled_calls().unwrap();
        assert!(matches!(calls[1].result_key, Some(ResultKey::Jq(_))));
        again.calls = calls.iter().map(Call::planned).collect();
        again.write(&scan).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), PLAN);
    }

    /// Plans written before organizations, shards and databases were recorded.
    #[test]
    fn an_older_plan_json_still_reads() {
        let old = r#"{"info": {"id": "20250101T000000Z", "started": "2025-01-01T00:00:00Z",
            "version": "0.0.1"}, "accounts": [], "calls": [{"service": "ec2",
            "operation": "DescribeVpcs", "function": "describe_vpcs", "parameters": {},
            "result_key": null}], "regions": null, "paginate": false}"#;
        let plan: Plan = serde_json::from_str(old).unwrap();
        plan.check().unwrap();
        assert!(plan.organizations.is_empty() && plan.chain_through_management);
        assert_eq!((plan.shard, plan.db, plan.no_db), (None, None, false));
        assert!(!plan.info.resumed && !plan.paginate && plan.regions.is_none());
    }

    fn record(account: &str, stem: &str, status: Status, retryable: bool) -> CallRecord {
        CallRecord {
            account_id: account.into(),
            region: "us-east-1".into(),
            service: "ec2".into(),
            function: "describe_vpcs".into(),
            operation: "DescribeVpcs".into(),
            stem: stem.into(),
            status,
            items: 0,
            pages: 0,
            duration_ms: 0,
            error_code: None,
            error_message: None,
            request_id: None,
            retryable,
            parent: None,
            absent: 0,
            items_not_detailed: 0,
        }
    }

    #[test]
    fn resume_keeps_the_last_outcome_unless_retryable() {
        let records = vec![
            record("1", "a", Status::Error, true),
            record("1", "a", Status::Ok, false), // a later run completed it
            record("1", "b", Status::Ok, false),
            record("1", "b", Status::Error, true), // a later run made it retryable again
            record("1", "c", Status::Error, false), // denied: kept
            record("2", "a", Status::Error, true),
        ];
        let (retry_calls, retry_accounts) = retryable_counts(&records, &[]);
        assert_eq!((retry_calls, retry_accounts), (2, 0));
        let mut kept: Vec<_> = settled(records)
            .into_iter()
            .map(|r| (r.account_id, r.stem, r.status))
            .collect();
        kept.sort();
        assert_eq!(
            kept,
            [
                ("1".into(), "a".into(), Status::Ok),
                ("1".into(), "c".into(), Status::Error)
            ]
        );
    }
}
