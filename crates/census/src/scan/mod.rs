//! The scan: accounts x regions x calls, planned per account and executed through
//! awsdyn with bounded, fair concurrency; every outcome is pushed to the sinks as it
//! happens.
//!
//! - Accounts are taken in order, a bounded number at a time ([`Options::accounts_in_flight`]).
//!   For each: credentials ([`CredentialSource`]), then its enabled regions (or the
//!   given ones), then its tasks: one per global call, one per regional call and region
//!   where the service exists.
//! - Each account runs at most [`Options::per_account`] calls at once, and every call
//!   takes a permit of the global semaphore ([`Options::concurrency`]); the semaphore
//!   is FIFO, so in-flight accounts share it evenly.
//! - A call has a timeout; an account has a deadline, after which its remaining calls
//!   are recorded as failed. awsdyn retries and rate-limits per account/service/region.
//! - Memory stays flat in the number of accounts: an account's credentials, tasks and
//!   results live only while it is in flight; results go to the sinks immediately.

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_credential_types::provider::SharedCredentialsProvider;
use awsdyn::client::{Client, EndpointSettings, Target};
use awsdyn::paginate::FullResult;
use futures::StreamExt;
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::account::Account;
use crate::regions::{enabled_regions, Catalog};
use crate::sink::{AccountReport, CallRecord, ScanInfo, Sink, Totals};

pub mod progress;

/// Why an account could not be accessed.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessFailure {
    pub code: String,
    pub message: String,
    pub remediation: Option<String>,
}

/// A boxed future, for [`CredentialSource`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How the scan gets credentials for an account (`auth::Access` implements it).
pub trait CredentialSource: Send + Sync {
    fn credentials<'a>(
        &'a self,
        account: &'a Account,
    ) -> BoxFuture<'a, Result<SharedCredentialsProvider, AccessFailure>>;
}

/// A result-key transformation (the spec's `result_key`, a plain key or a jq filter).
pub type ResultKeyFn = Arc<dyn Fn(&Value) -> Result<Value, String> + Send + Sync>;

/// One call of the spec, ready to plan.
#[derive(Clone)]
pub struct CallSpec {
    /// botocore service name.
    pub service: String,
    /// Model operation name (PascalCase).
    pub operation: String,
    /// The function as the spec names it (snake_case).
    pub function: String,
    pub parameters: Value,
    pub result_key: Option<ResultKeyFn>,
}

/// Scan settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Calls in flight across the whole scan.
    pub concurrency: usize,
    /// Calls in flight per account.
    pub per_account: usize,
    /// Accounts being worked on at once.
    pub accounts_in_flight: usize,
    /// Time allowed for one call, all its pages and retries included.
    pub call_timeout: Duration,
    /// Time allowed for one account, set-up included.
    pub account_deadline: Duration,
    /// Regions to scan instead of each account's enabled regions.
    pub regions: Option<Vec<String>>,
    /// Fetch every page (default) or only the first.
    pub paginate: bool,
}

impl Default for Options {
    fn default() -> Self {
        let concurrency = 64;
        Options {
            concurrency,
            per_account: 16,
            accounts_in_flight: 16,
            call_timeout: Duration::from_secs(300),
            account_deadline: Duration::from_secs(3600),
            regions: None,
            paginate: true,
        }
    }
}

/// Everything one scan run needs.
pub struct Scan {
    pub info: ScanInfo,
    pub client: Client,
    pub endpoints: Arc<EndpointSettings>,
    pub credentials: Arc<dyn CredentialSource>,
    pub calls: Vec<CallSpec>,
    pub catalog: Arc<Catalog>,
    pub sinks: Vec<Arc<dyn Sink>>,
    pub options: Options,
    /// Calls already recorded by an interrupted run (`--resume`), and its account reports.
    pub previous_calls: Vec<CallRecord>,
    pub previous_accounts: Vec<AccountReport>,
}

/// How a scan ended.
#[derive(Debug)]
pub struct Outcome {
    pub totals: Totals,
    pub accounts: Vec<AccountReport>,
}

impl Outcome {
    /// 0 complete, 2 complete with failed calls or accounts.
    pub fn exit_status(&self) -> u8 {
        if self.totals.calls_failed > 0 || self.totals.accounts_failed > 0 {
            2
        } else {
            0
        }
    }
}

/// A sink failed: the scan stops, since its output would be incomplete.
#[derive(Debug, thiserror::Error)]
#[error("writing to the {sink} failed: {error}")]
pub struct SinkError {
    pub sink: String,
    pub error: std::io::Error,
}

/// The output file stems of the calls: `<service>-<function>`, with `-2`, `-3`... for a
/// function listed again with other parameters.
pub fn stems(calls: &[CallSpec]) -> Vec<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    calls
        .iter()
        .map(|c| {
            let base = format!("{}-{}", c.service, c.function);
            let n = seen.entry(base.clone()).or_insert(0);
            *n += 1;
            if *n == 1 {
                base
            } else {
                format!("{base}-{n}")
            }
        })
        .collect()
}

/// Items in a result: a list's length; for an object, the sum of its top-level lists'
/// lengths (or 1 when it has no list and is not empty); 0 for null.
pub fn count_items(v: &Value) -> u64 {
    match v {
        Value::Null => 0,
        Value::Array(a) => a.len() as u64,
        Value::Object(o) => {
            let lists: Vec<u64> = o
                .values()
                .filter_map(|x| x.as_array().map(|a| a.len() as u64))
                .collect();
            if lists.is_empty() {
                u64::from(!o.is_empty())
            } else {
                lists.iter().sum()
            }
        }
        _ => 1,
    }
}

struct Task {
    call: usize,
    /// `global` or the region.
    label: String,
    /// The region the request is sent to.
    region: String,
}

struct Shared {
    scan: Scan,
    stems: Vec<String>,
    semaphore: Semaphore,
    done: HashSet<(String, String, String)>,
    records: Mutex<Vec<CallRecord>>,
    reports: Mutex<Vec<AccountReport>>,
    failed: Mutex<Option<SinkError>>,
    stop: AtomicBool,
    progress: progress::Progress,
    calls_done: AtomicU64,
}

impl Shared {
    fn emit(&self, f: impl Fn(&dyn Sink) -> std::io::Result<()>) {
        for sink in &self.scan.sinks {
            if let Err(error) = f(sink.as_ref()) {
                let mut failed = self.failed.lock().unwrap_or_else(|e| e.into_inner());
                if failed.is_none() {
                    *failed = Some(SinkError {
                        sink: sink.name(),
                        error,
                    });
                }
                self.stop.store(true, Ordering::SeqCst);
            }
        }
    }

    fn record_account(&self, report: AccountReport) {
        self.emit(|s| s.account(&report));
        self.progress.account_done(report.status != "ok");
        self.reports
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(report);
    }

    fn record_call(&self, record: CallRecord, result: Option<&Value>) {
        self.emit(|s| s.call(&record, result));
        self.progress.call_done(!record.is_ok());
        self.calls_done.fetch_add(1, Ordering::Relaxed);
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(record);
    }
}

/// Runs the scan over `accounts` (deterministic order: as given).
pub async fn run(scan: Scan, accounts: Vec<Account>) -> Result<Outcome, SinkError> {
    let stems = stems(&scan.calls);
    let done: HashSet<_> = scan.previous_calls.iter().map(CallRecord::key).collect();
    let progress = progress::Progress::new(accounts.len() as u64);
    let shared = Arc::new(Shared {
        semaphore: Semaphore::new(scan.options.concurrency.max(1)),
        stems,
        done,
        records: Mutex::new(scan.previous_calls.clone()),
        reports: Mutex::new(Vec::new()),
        failed: Mutex::new(None),
        stop: AtomicBool::new(false),
        progress,
        calls_done: AtomicU64::new(0),
        scan,
    });
    shared.emit(|s| s.begin(&shared.scan.info));
    let in_flight = shared.scan.options.accounts_in_flight.max(1);
    let accounts_stream = futures::stream::iter(accounts.into_iter().map(|account| {
        let shared = shared.clone();
        async move {
            if shared.stop.load(Ordering::SeqCst) {
                return;
            }
            let deadline = shared.scan.options.account_deadline;
            let id = account.id.clone();
            let tasks_seen = Arc::new(Mutex::new(Vec::<(usize, String)>::new()));
            let work = scan_account(shared.clone(), account, tasks_seen.clone());
            if tokio::time::timeout(deadline, work).await.is_err() {
                // The deadline passed: every planned call that did not finish is failed.
                let finished: HashSet<(String, String)> = shared
                    .records
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .iter()
                    .filter(|r| r.account_id == id)
                    .map(|r| (r.region.clone(), r.stem.clone()))
                    .collect();
                let planned = tasks_seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
                for (call, label) in planned {
                    let stem = &shared.stems[call];
                    if finished.contains(&(label.clone(), stem.clone())) {
                        continue;
                    }
                    let c = &shared.scan.calls[call];
                    shared.record_call(
                        CallRecord {
                            account_id: id.clone(),
                            region: label,
                            service: c.service.clone(),
                            function: c.function.clone(),
                            operation: c.operation.clone(),
                            stem: stem.clone(),
                            status: "error".into(),
                            items: 0,
                            pages: 0,
                            duration_ms: 0,
                            error_code: Some("AccountDeadlineExceeded".into()),
                            error_message: Some(format!(
                                "the account's deadline of {}s passed before this call finished; raise --account-deadline",
                                deadline.as_secs()
                            )),
                            request_id: None,
                        },
                        None,
                    );
                }
            }
        }
    }));
    accounts_stream.for_each_concurrent(in_flight, |f| f).await;
    shared.progress.finish();

    let shared = Arc::try_unwrap(shared).unwrap_or_else(|_| panic!("scan tasks outlived the scan"));
    if let Some(e) = shared
        .failed
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
    {
        return Err(e);
    }
    let mut records = shared
        .records
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    records.sort_by(|a, b| {
        (&a.account_id, &a.region, &a.stem).cmp(&(&b.account_id, &b.region, &b.stem))
    });
    let mut reports = shared
        .reports
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    // Accounts a resumed run did not need to set up again keep their first report.
    let seen: HashSet<String> = reports.iter().map(|r| r.account.id.clone()).collect();
    reports.extend(
        shared
            .scan
            .previous_accounts
            .iter()
            .filter(|a| !seen.contains(&a.account.id))
            .cloned(),
    );
    reports.sort_by(|a, b| a.account.id.cmp(&b.account.id));
    let totals = Totals {
        accounts: reports.len() as u64,
        accounts_failed: reports.iter().filter(|r| r.status != "ok").count() as u64,
        calls: records.len() as u64,
        calls_failed: records.iter().filter(|r| !r.is_ok()).count() as u64,
        items: records.iter().map(|r| r.items).sum(),
        pages: records.iter().map(|r| u64::from(r.pages)).sum(),
    };
    for sink in &shared.scan.sinks {
        sink.finish(&shared.scan.info, &totals, &reports, &records)
            .map_err(|error| SinkError {
                sink: sink.name(),
                error,
            })?;
    }
    Ok(Outcome {
        totals,
        accounts: reports,
    })
}

/// Sets up one account (credentials, regions), plans its tasks into `planned`, and runs
/// them. An account that failed in an interrupted run is set up again on resume.
async fn scan_account(
    shared: Arc<Shared>,
    account: Account,
    planned: Arc<Mutex<Vec<(usize, String)>>>,
) {
    let scan = &shared.scan;
    let mut report = AccountReport {
        account: account.clone(),
        status: "ok".into(),
        regions: Vec::new(),
        error_code: None,
        error_message: None,
        remediation: None,
    };
    let creds = match scan.credentials.credentials(&account).await {
        Ok(c) => c,
        Err(f) => {
            report.status = "error".into();
            report.error_code = Some(f.code);
            report.error_message = Some(f.message);
            report.remediation = f.remediation;
            shared.record_account(report);
            return;
        }
    };
    let default_region = scan.catalog.default_region(&account.partition);
    let target_in = |region: &str| Target {
        region: region.to_string(),
        credentials: creds.clone(),
        endpoints: scan.endpoints.clone(),
        label: account.id.clone(),
    };
    let regions = match &scan.options.regions {
        Some(list) => list.clone(),
        None => match enabled_regions(
            &scan.client,
            &target_in(&default_region),
            &account.partition,
        )
        .await
        {
            Ok(r) => r,
            Err(e) => {
                report.status = "error".into();
                report.error_code = Some(e.code().to_string());
                report.error_message = Some(format!(
                    "listing the account's enabled regions (ec2 DescribeRegions) failed: {e}"
                ));
                report.remediation = Some(
                    "allow ec2:DescribeRegions to the scanning role, or pass --regions".into(),
                );
                shared.record_account(report);
                return;
            }
        },
    };
    report.regions = regions.clone();
    // Plan.
    let mut tasks = Vec::new();
    for (i, call) in scan.calls.iter().enumerate() {
        let Ok(model) = awsdyn::model::load(&call.service) else {
            continue;
        };
        match scan
            .catalog
            .global_region(&account.partition, &model, &call.operation)
        {
            Some(region) => tasks.push(Task {
                call: i,
                label: "global".into(),
                region,
            }),
            None => {
                let offered = scan.catalog.service_regions(&account.partition, &model);
                for r in &regions {
                    if offered.as_ref().is_none_or(|o| o.contains(r)) {
                        tasks.push(Task {
                            call: i,
                            label: r.clone(),
                            region: r.clone(),
                        });
                    }
                }
            }
        }
    }
    tasks.retain(|t| {
        !shared.done.contains(&(
            account.id.clone(),
            t.label.clone(),
            shared.stems[t.call].clone(),
        ))
    });
    planned
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .extend(tasks.iter().map(|t| (t.call, t.label.clone())));
    shared.progress.add_calls(tasks.len() as u64);
    shared.record_account(report);

    let per_account = scan.options.per_account.max(1);
    futures::stream::iter(tasks)
        .for_each_concurrent(per_account, |task| {
            let shared = shared.clone();
            let target = target_in(&task.region);
            let account_id = account.id.clone();
            async move {
                if shared.stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(_permit) = shared.semaphore.acquire().await else {
                    return;
                };
                run_call(&shared, &account_id, task, target).await;
            }
        })
        .await;
}

async fn run_call(shared: &Shared, account_id: &str, task: Task, target: Target) {
    let scan = &shared.scan;
    let call = &scan.calls[task.call];
    let started = Instant::now();
    let fetch = async {
        let mut pages =
            scan.client
                .pages(&target, &call.service, &call.operation, &call.parameters)?;
        let paginator = if scan.options.paginate {
            pages.paginator().cloned()
        } else {
            None
        };
        match paginator {
            Some(p) => {
                let mut full = FullResult::new(&p);
                while let Some(page) = pages.next().await {
                    full.add_page(page?);
                }
                Ok::<_, awsdyn::Error>((full.finish(), pages.count() as u32))
            }
            None => {
                let v = pages
                    .next()
                    .await
                    .unwrap_or_else(|| Ok(Value::Object(Default::default())))?;
                Ok((v, 1))
            }
        }
    };
    let mut record = CallRecord {
        account_id: account_id.to_string(),
        region: task.label.clone(),
        service: call.service.clone(),
        function: call.function.clone(),
        operation: call.operation.clone(),
        stem: shared.stems[task.call].clone(),
        status: "ok".into(),
        items: 0,
        pages: 0,
        duration_ms: 0,
        error_code: None,
        error_message: None,
        request_id: None,
    };
    let outcome = tokio::time::timeout(scan.options.call_timeout, fetch).await;
    record.duration_ms = started.elapsed().as_millis() as u64;
    let fail =
        |record: &mut CallRecord, code: &str, message: String, request_id: Option<String>| {
            record.status = "error".into();
            record.error_code = Some(code.to_string());
            record.error_message = Some(message);
            record.request_id = request_id;
        };
    match outcome {
        Err(_) => {
            fail(
                &mut record,
                "CallTimeout",
                format!(
                    "no answer within {}s (all pages and retries); raise --call-timeout",
                    scan.options.call_timeout.as_secs()
                ),
                None,
            );
            shared.record_call(record, None);
        }
        Ok(Err(e)) => {
            let request_id = e.service_error().and_then(|s| s.request_id.clone());
            fail(&mut record, e.code(), e.to_string(), request_id);
            shared.record_call(record, None);
        }
        Ok(Ok((value, pages))) => {
            record.pages = pages;
            let value = match &call.result_key {
                Some(f) => match f(&value) {
                    Ok(v) => v,
                    Err(msg) => {
                        fail(&mut record, "ResultKey", msg, None);
                        shared.record_call(record, None);
                        return;
                    }
                },
                None => value,
            };
            // Empty results are written as [], never skipped.
            let value = if value.is_null() {
                Value::Array(Vec::new())
            } else {
                value
            };
            record.items = count_items(&value);
            shared.record_call(record, Some(&value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn item_counts() {
        assert_eq!(count_items(&json!([1, 2, 3])), 3);
        assert_eq!(
            count_items(&json!({"Reservations": [1, 2], "Other": [3]})),
            3
        );
        assert_eq!(count_items(&json!({"Account": "1"})), 1);
        assert_eq!(count_items(&json!({})), 0);
        assert_eq!(count_items(&Value::Null), 0);
    }

    #[test]
    fn stems_are_unique() {
        let call = |s: &str, f: &str| CallSpec {
            service: s.into(),
            operation: String::new(),
            function: f.into(),
            parameters: json!({}),
            result_key: None,
        };
        let s = stems(&[
            call("ec2", "describe_images"),
            call("ec2", "describe_vpcs"),
            call("ec2", "describe_images"),
        ]);
        assert_eq!(
            s,
            [
                "ec2-describe_images",
                "ec2-describe_vpcs",
                "ec2-describe_images-2"
            ]
        );
    }
}
