//! Running a scan: accounts set up and scanned a bounded number at a time, each
//! account's tasks (from `scan::plan`) run with bounded, fair concurrency, and every
//! outcome handed to the sinks as it happens. Not where calls are chosen (the spec) or
//! placed in regions (the planner), nor how sinks write (`scan::writers`, the sinks).

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use awsdyn::client::Target;
use awsdyn::paginate::FullResult;
use futures::StreamExt;
use serde_json::Value;
use tokio::sync::Semaphore;

use super::details::{self, Place};
use super::plan::{self, Stems, Task};
use super::writers::{Slot, Writers};
use super::{progress, resume, Accounts, Outcome, Scan, SinkError};
use crate::account::Account;
use crate::regions::enabled_regions;
use crate::sink::{AccountReport, CallRecord, DetailItem, Sink, Status, Totals};
use crate::store::items::ShapeCache;

/// What the accounts and calls of a running scan share.
pub(super) struct Shared {
    pub(super) scan: Scan,
    pub(super) stems: Stems,
    pub(super) semaphore: Semaphore,
    /// What an earlier run settled, by [`CallRecord::key`], and how it ended.
    done: HashMap<(String, String, String), Status>,
    /// The shapes of list calls, to identify the items their details run on.
    pub(super) shapes: ShapeCache,
    totals: Counters,
    writers: Writers,
    reports: Mutex<Vec<AccountReport>>,
    failed: Mutex<Option<SinkError>>,
    stop: AtomicBool,
    /// Set when the scan is interrupted: calls under way stop waiting for AWS (they are
    /// not recorded, so `--resume` runs them), writes under way finish.
    interrupt: tokio::sync::watch::Sender<bool>,
    progress: progress::Progress,
    calls_done: AtomicU64,
}

/// Running totals of the calls.
#[derive(Default)]
struct Counters {
    calls: AtomicU64,
    calls_failed: AtomicU64,
    items: AtomicU64,
    pages: AtomicU64,
    absent: AtomicU64,
}

impl Counters {
    fn add(&self, record: &CallRecord) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.calls_failed
            .fetch_add(u64::from(!record.is_ok()), Ordering::Relaxed);
        self.items.fetch_add(record.items, Ordering::Relaxed);
        self.pages
            .fetch_add(u64::from(record.pages), Ordering::Relaxed);
        self.absent.fetch_add(record.absent, Ordering::Relaxed);
    }
}

/// An account's planned calls, and those finished: what its deadline fails.
#[derive(Default)]
struct AccountCalls {
    /// `(call, label)` of each task.
    planned: Vec<(usize, String)>,
    /// `(stem, label)` of each call and detail whose write has started.
    finished: HashSet<(String, String)>,
}

impl Shared {
    /// Whether the scan was interrupted: nothing more is recorded.
    pub(super) fn interrupted(&self) -> bool {
        *self.interrupt.borrow()
    }

    /// How an earlier run settled `stem` in `label` of the account, if it did.
    fn settled(&self, account_id: &str, label: &str, stem: &str) -> Option<Status> {
        self.done
            .get(&(account_id.to_string(), label.to_string(), stem.to_string()))
            .copied()
    }

    /// The details of `call` that an earlier run did not settle in `label`.
    fn pending_details(&self, account_id: &str, label: &str, call: usize) -> Vec<usize> {
        self.stems.details[call]
            .iter()
            .enumerate()
            .filter(|(_, stem)| self.settled(account_id, label, stem).is_none())
            .map(|(i, _)| i)
            .collect()
    }

    /// Whether an earlier run settled a task: its list call, and its details unless the
    /// list call failed (then they had nothing to run on).
    fn task_settled(&self, account_id: &str, task: &Task) -> bool {
        match self.settled(account_id, &task.label, &self.stems.calls[task.call]) {
            None => false,
            Some(Status::Error) => true,
            Some(Status::Ok) => self
                .pending_details(account_id, &task.label, task.call)
                .is_empty(),
        }
    }

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

    /// Runs `f` in a writer `slot` (see [`Slot::run`]).
    async fn write<T: Send + 'static>(
        self: &Arc<Self>,
        slot: Slot,
        f: impl FnOnce(&Shared) -> T + Send + 'static,
    ) -> T {
        let shared = self.clone();
        slot.run(move || f(&shared)).await
    }

    async fn record_account(self: &Arc<Self>, report: AccountReport) {
        let slot = self.writers.slot().await;
        self.write(slot, move |shared| {
            shared.emit(|s| s.account(&report));
            shared.progress.account_done(!report.is_ok());
            shared
                .reports
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(report);
        })
        .await
    }

    /// The accounts as discovery described them once it ended: each report of an
    /// account that gained something (tags, OU path) takes it and goes to the sinks
    /// again (the databases replace the account's row, the journal's last entry wins).
    async fn describe_accounts(self: &Arc<Self>, described: Vec<Account>) {
        let slot = self.writers.slot().await;
        self.write(slot, move |shared| {
            let described: HashMap<String, Account> =
                described.into_iter().map(|a| (a.id.clone(), a)).collect();
            let mut reports = shared.reports.lock().unwrap_or_else(|e| e.into_inner());
            for report in reports.iter_mut() {
                match described.get(&report.account.id) {
                    Some(a) if *a != report.account => {
                        report.account = a.clone();
                        shared.emit(|s| s.account(report));
                    }
                    _ => {}
                }
            }
        })
        .await
    }

    /// Hands a finished call to the sinks; returns once they have it. The call counts
    /// as finished for the account's deadline once its write has started.
    async fn record_call(
        self: &Arc<Self>,
        record: CallRecord,
        result: Option<Value>,
        account: &Mutex<AccountCalls>,
    ) {
        self.record(record, account, move |s, r| s.call(r, result.as_ref()))
            .await
    }

    /// Hands a finished detail call (all its items) to the sinks, as [`Shared::record_call`].
    async fn record_details(
        self: &Arc<Self>,
        record: CallRecord,
        items: Vec<DetailItem>,
        account: &Mutex<AccountCalls>,
    ) {
        self.record(record, account, move |s, r| s.details(r, &items))
            .await
    }

    async fn record(
        self: &Arc<Self>,
        record: CallRecord,
        account: &Mutex<AccountCalls>,
        write: impl Fn(&dyn Sink, &CallRecord) -> std::io::Result<()> + Send + 'static,
    ) {
        let slot = self.writers.slot().await;
        account
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .finished
            .insert((record.stem.clone(), record.region.clone()));
        self.write(slot, move |shared| {
            shared.emit(|s| write(s, &record));
            drop(write);
            shared.progress.call_done(!record.is_ok());
            shared.calls_done.fetch_add(1, Ordering::Relaxed);
            shared.totals.add(&record);
        })
        .await
    }
}

/// Runs the scan over `accounts` (taken in the order they come).
pub async fn run(scan: Scan, accounts: impl Into<Accounts>) -> Result<Outcome, SinkError> {
    run_until(scan, accounts, std::future::pending()).await
}

/// [`run`], stopped early when `interrupt` completes (Ctrl-C): no call or account starts
/// after it, calls waiting for AWS are dropped unrecorded, writes under way finish, and
/// the sinks are closed without finishing the scan, so that `--resume` completes it.
pub async fn run_until(
    scan: Scan,
    accounts: impl Into<Accounts>,
    interrupt: impl Future<Output = ()>,
) -> Result<Outcome, SinkError> {
    let accounts: Accounts = accounts.into();
    let stems = plan::all_stems(&scan.calls);
    let mut scan = scan;
    // Of an earlier run's calls, only their keys (not to run them again) and their
    // totals are kept; those that ended in a retryable error run again (and count
    // with their new outcome).
    let previous_calls = resume::settled(std::mem::take(&mut scan.previous_calls));
    let done: HashMap<_, _> = previous_calls.iter().map(|r| (r.key(), r.status)).collect();
    let totals = Counters::default();
    previous_calls.iter().for_each(|r| totals.add(r));
    drop(previous_calls);
    let progress = progress::Progress::new(0);
    let shared = Arc::new(Shared {
        semaphore: Semaphore::new(scan.options.concurrency.max(1)),
        stems,
        done,
        shapes: ShapeCache::default(),
        totals,
        writers: Writers::new(),
        reports: Mutex::new(Vec::new()),
        failed: Mutex::new(None),
        stop: AtomicBool::new(false),
        interrupt: tokio::sync::watch::Sender::new(false),
        progress,
        calls_done: AtomicU64::new(0),
        scan,
    });
    let slot = shared.writers.slot().await;
    shared
        .write(slot, |shared| shared.emit(|s| s.begin(&shared.scan.info)))
        .await;
    let in_flight = shared.scan.options.accounts_in_flight.max(1);
    let shared_for_stream = shared.clone();
    let accounts_stream = accounts.stream.map(move |account| {
        let shared = shared_for_stream.clone();
        shared.progress.add_account();
        async move {
            if shared.stop.load(Ordering::SeqCst) {
                return;
            }
            let deadline = shared.scan.options.account_deadline;
            let id = account.id.clone();
            let calls = Arc::new(Mutex::new(AccountCalls::default()));
            let work = scan_account(shared.clone(), account.clone(), calls.clone());
            let mut interrupted = shared.interrupt.subscribe();
            let timed_out = tokio::select! {
                r = tokio::time::timeout(deadline, work) => r.is_err(),
                _ = interrupted.wait_for(|i| *i) => false,
            };
            // Nothing more runs as this account: its credentials and its retry quotas and
            // rate limiters (keyed by the account id) go.
            shared.scan.credentials.release(&account);
            shared.scan.client.retrier().forget_label(&account.id);
            if timed_out {
                // The deadline passed: every planned call that did not finish is failed.
                let unfinished: Vec<(usize, String)> = calls
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .planned
                    .clone();
                for record in unfinished_records(&shared, &id, unfinished, &calls) {
                    let mut record = record;
                    record.fail(
                        "AccountDeadlineExceeded",
                        format!(
                            "the account's deadline of {}s passed before this call finished; raise --account-deadline",
                            deadline.as_secs()
                        ),
                        None,
                    );
                    record.retryable = true;
                    shared.record_call(record, None, &calls).await;
                }
            }
        }
    });
    let work = accounts_stream.for_each_concurrent(in_flight, |f| f);
    tokio::pin!(interrupt);
    let mut interrupted = {
        tokio::pin!(work);
        tokio::select! {
            _ = &mut work => false,
            _ = &mut interrupt => {
                shared.stop.store(true, Ordering::SeqCst);
                shared.interrupt.send_replace(true);
                work.await;
                true
            }
        }
    };
    // What discovery read about the accounts after handing them on (tags, OU paths):
    // their reports take it, in the sinks too, before the scan finishes.
    if !interrupted {
        tokio::select! {
            described = accounts.complete => {
                if let Some(described) = described {
                    shared.describe_accounts(described).await;
                }
            }
            _ = &mut interrupt => interrupted = true,
        }
    }
    // Writes cut loose by an account's deadline end before the sinks finish.
    shared.writers.wait_idle().await;
    shared.progress.finish();

    let shared = Arc::try_unwrap(shared).unwrap_or_else(|_| panic!("scan tasks outlived the scan"));
    if let Some(e) = shared
        .failed
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
    {
        return Err(e);
    }
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
    let counted = |n: &AtomicU64| n.load(Ordering::Relaxed);
    let totals = Totals {
        accounts: reports.len() as u64,
        accounts_failed: reports.iter().filter(|r| !r.is_ok()).count() as u64,
        absent: counted(&shared.totals.absent),
        calls: counted(&shared.totals.calls),
        calls_failed: counted(&shared.totals.calls_failed),
        items: counted(&shared.totals.items),
        pages: counted(&shared.totals.pages),
    };
    shared.writers.stop();
    if interrupted {
        // Every write has ended; the sinks close when dropped (the databases have
        // committed each call they acknowledged), and the scan stays unfinished.
        return Ok(Outcome {
            totals,
            accounts: reports,
            interrupted: true,
        });
    }
    let info = shared.scan.info;
    let sinks = shared.scan.sinks;
    let (totals, reports) = match tokio::task::spawn_blocking(move || {
        for sink in &sinks {
            sink.finish(&info, &totals, &reports)
                .map_err(|error| SinkError {
                    sink: sink.name(),
                    error,
                })?;
        }
        Ok((totals, reports))
    })
    .await
    {
        Ok(r) => r?,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    };
    Ok(Outcome {
        totals,
        accounts: reports,
        interrupted: false,
    })
}

/// Scans one account: sets it up (credentials, then regions), plans its tasks
/// (recording them in `calls`, for its deadline) and runs them. An account that failed
/// in an interrupted run is set up again on resume.
async fn scan_account(shared: Arc<Shared>, account: Account, calls: Arc<Mutex<AccountCalls>>) {
    let scan = &shared.scan;
    let mut report = AccountReport::new(account.clone());
    // (`auth` gives AssumeRole its second round.)
    let credentials = match scan.credentials.credentials(&account).await {
        Ok(c) => c,
        Err(f) => {
            report.fail(f.code, f.message, f.remediation, f.retryable);
            shared.record_account(report).await;
            return;
        }
    };
    let target = Target {
        region: scan.catalog.default_region(&account.partition),
        credentials,
        endpoints: scan.endpoints.clone(),
        label: account.id.clone(),
        deadline: None,
    };
    let regions = match &scan.options.regions {
        Some(list) => list.clone(),
        None => match account_regions(scan, &target, &account.partition).await {
            Ok(r) => r,
            Err(e) => {
                let retryable = e.is_retryable();
                let remediation = if retryable {
                    "EC2 kept failing with an error that may pass: finish the scan later with census scan --resume <scan folder>, or pass --regions"
                } else {
                    "allow ec2:DescribeRegions to the scanning role, or pass --regions"
                };
                report.fail(
                    e.code().to_string(),
                    format!(
                        "listing the account's enabled regions (ec2 DescribeRegions) failed: {e}"
                    ),
                    Some(remediation.into()),
                    retryable,
                );
                shared.record_account(report).await;
                return;
            }
        },
    };
    report.regions = regions.clone();
    let tasks = plan::plan_account(
        &scan.calls,
        &scan.catalog,
        &account.partition,
        &regions,
        |t| shared.task_settled(&account.id, t),
    );
    calls
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .planned
        .extend(tasks.iter().map(|t| (t.call, t.label.clone())));
    let planned_calls: usize = tasks
        .iter()
        .map(|t| 1 + shared.pending_details(&account.id, &t.label, t.call).len())
        .sum();
    shared.progress.add_calls(planned_calls as u64);
    shared.record_account(report).await;
    run_tasks(&shared, &account.id, &target, tasks, &calls).await;
}

/// The account's enabled regions, asked in `target`'s region (the partition's
/// default), and asked again when the answer is an error that may pass.
async fn account_regions(
    scan: &Scan,
    target: &Target,
    partition: &str,
) -> Result<Vec<String>, awsdyn::Error> {
    let list_regions = || async {
        let target = target
            .clone()
            .with_deadline(tokio::time::Instant::now() + scan.options.call_timeout);
        enabled_regions(&scan.client, &target, partition).await
    };
    match list_regions().await {
        Err(e) if e.is_retryable() => list_regions().await,
        other => other,
    }
}

/// The records an account's deadline fails: of each planned task, its list call when
/// it did not finish, else its pending details that did not.
fn unfinished_records(
    shared: &Shared,
    account_id: &str,
    planned: Vec<(usize, String)>,
    calls: &Mutex<AccountCalls>,
) -> Vec<CallRecord> {
    let calls = calls.lock().unwrap_or_else(|e| e.into_inner());
    let finished = |stem: &str, label: &str| {
        calls
            .finished
            .contains(&(stem.to_string(), label.to_string()))
    };
    let mut out = Vec::new();
    for (call, label) in planned {
        let stem = &shared.stems.calls[call];
        if !finished(stem, &label) && shared.settled(account_id, &label, stem).is_none() {
            out.push(CallRecord::new(
                account_id,
                &label,
                stem,
                &shared.scan.calls[call],
            ));
            continue;
        }
        for d in shared.pending_details(account_id, &label, call) {
            let detail_stem = &shared.stems.details[call][d];
            if !finished(detail_stem, &label) {
                out.push(CallRecord::detail(
                    account_id,
                    &label,
                    detail_stem,
                    &shared.scan.calls[call].details[d],
                    stem,
                ));
            }
        }
    }
    out
}

/// Runs an account's tasks, [`super::Options::per_account`] at once, each sent as `target`
/// (the account's credentials) to the task's region. Two rounds: the second runs, once
/// the first is over, the calls that ended in a retryable error (not recorded then),
/// and records whatever they end in.
async fn run_tasks(
    shared: &Arc<Shared>,
    account_id: &str,
    target: &Target,
    mut tasks: Vec<Task>,
    calls: &Mutex<AccountCalls>,
) {
    let per_account = shared.scan.options.per_account.max(1);
    for last_round in [false, true] {
        let again = Mutex::new(Vec::new());
        futures::stream::iter(tasks)
            .for_each_concurrent(per_account, |task| {
                let task_target = Target {
                    region: task.region.clone(),
                    ..target.clone()
                };
                let again = &again;
                async move {
                    if shared.stop.load(Ordering::SeqCst) {
                        return;
                    }
                    if let Some(task) =
                        run_call(shared, account_id, task, task_target, calls, last_round).await
                    {
                        again.lock().unwrap_or_else(|e| e.into_inner()).push(task);
                    }
                }
            })
            .await;
        tasks = again.into_inner().unwrap_or_else(|e| e.into_inner());
        if tasks.is_empty() {
            break;
        }
        tracing::info!(
            account = %account_id,
            calls = tasks.len(),
            "calls that ended in a retryable error: one more round"
        );
    }
}

/// How fetching a call's result ended.
pub(super) enum Fetched {
    /// The result, every page merged, and the number of pages.
    Done(Value, u32),
    Failed(awsdyn::Error),
    /// No answer within the call's timeout: the message says so.
    TimedOut(String),
    /// The scan was interrupted: nothing is recorded, and `--resume` runs it again.
    Interrupted,
}

impl Fetched {
    /// Whether another try may end otherwise. Expired credentials count too: not for
    /// another attempt now (it fails as fast), but for `--resume` once they are renewed.
    pub(super) fn retryable(&self) -> bool {
        match self {
            Fetched::TimedOut(_) => true,
            Fetched::Failed(e) => e.is_retryable() || crate::auth::is_expired_code(e.code()),
            Fetched::Done(..) | Fetched::Interrupted => false,
        }
    }
}

/// Makes `operation` of `service` with `parameters` as `target`, every page (unless
/// the scan takes only the first) within the call's timeout.
pub(super) async fn fetch(
    shared: &Shared,
    target: &Target,
    service: &str,
    operation: &str,
    parameters: &Value,
) -> Fetched {
    let scan = &shared.scan;
    // awsdyn plans no retry past the call's timeout (which covers every page).
    let target = target
        .clone()
        .with_deadline(tokio::time::Instant::now() + scan.options.call_timeout);
    let fetch = async {
        let mut pages = scan.client.pages(&target, service, operation, parameters)?;
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
    let mut interrupted = shared.interrupt.subscribe();
    tokio::select! {
        o = tokio::time::timeout(scan.options.call_timeout, fetch) => match o {
            Err(_) => Fetched::TimedOut(format!(
                "no answer within {}s (all pages and retries); raise --call-timeout",
                scan.options.call_timeout.as_secs()
            )),
            Ok(Err(e)) => Fetched::Failed(e),
            Ok(Ok((v, pages))) => Fetched::Done(v, pages),
        },
        _ = interrupted.wait_for(|i| *i) => Fetched::Interrupted,
    }
}

/// Runs one call (and its details) and records it, except when it ends in a retryable
/// error before the `last_round`: then nothing is recorded and the task comes back, for
/// another round. A list call an earlier run settled runs again only for its pending
/// details, and is not recorded again.
async fn run_call(
    shared: &Arc<Shared>,
    account_id: &str,
    task: Task,
    target: Target,
    calls: &Mutex<AccountCalls>,
    last_round: bool,
) -> Option<Task> {
    let scan = &shared.scan;
    let call = &scan.calls[task.call];
    let stem = &shared.stems.calls[task.call];
    let settled = shared.settled(account_id, &task.label, stem).is_some();
    let pending = shared.pending_details(account_id, &task.label, task.call);
    let started = Instant::now();
    let permit = shared.semaphore.acquire().await.ok()?;
    let fetched = fetch(
        shared,
        &target,
        &call.service,
        &call.operation,
        &call.parameters,
    )
    .await;
    if matches!(fetched, Fetched::Interrupted) {
        return None;
    }
    let retryable = fetched.retryable();
    if retryable && !last_round {
        return Some(task);
    }
    let mut record = CallRecord::new(account_id, &task.label, stem, call);
    record.retryable = retryable;
    record.duration_ms = started.elapsed().as_millis() as u64;
    let value = match fetched {
        Fetched::Interrupted => return None,
        Fetched::TimedOut(message) => {
            record.fail("CallTimeout", message, None);
            None
        }
        Fetched::Failed(e) => {
            let request_id = e.service_error().and_then(|s| s.request_id.clone());
            record.fail(e.code(), e.to_string(), request_id);
            None
        }
        Fetched::Done(value, pages) => {
            record.pages = pages;
            match &call.result_key {
                Some(key) => match key.apply(&value) {
                    Ok(v) => Some(v),
                    Err(msg) => {
                        record.fail("ResultKey", msg, None);
                        None
                    }
                },
                None => Some(value),
            }
        }
    };
    // Empty results are written as [], never skipped.
    let value = value.map(|v| {
        if v.is_null() {
            Value::Array(Vec::new())
        } else {
            v
        }
    });
    if let Some(v) = &value {
        record.items = count_items(v);
    }
    let detailed = match (&value, pending.is_empty()) {
        (Some(v), false) => {
            // The details take permits of their own: this one goes, so that list
            // calls waiting on their details never hold every permit.
            drop(permit);
            let place = Place {
                account_id,
                label: &task.label,
                target: &target,
                call: task.call,
            };
            let recorded = details::run(shared, place, call, v, &pending).await;
            if shared.interrupted() {
                return None;
            }
            recorded
        }
        _ => Vec::new(),
    };
    if !settled {
        shared.record_call(record, value, calls).await;
    }
    for (record, items) in detailed {
        shared.record_details(record, items, calls).await;
    }
    None
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
}
