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
//!   are recorded as failed. awsdyn retries and rate-limits per account/service/region
//!   (throttling for as long as the call's timeout allows, other retryable failures a
//!   few times).
//! - Nothing is lost to a passing fault: a call that still ends in a retryable error
//!   (throttling, 5xx, a reset or a timeout outlasting awsdyn's retries) is not
//!   recorded yet; it gets one more round once the account's other calls are done, and
//!   only that round's outcome is recorded (once). The same holds for the account's
//!   set-up (AssumeRole, DescribeRegions). What still fails is recorded `retryable`,
//!   and `census scan --resume` runs it again.
//! - Memory stays flat in the number of accounts: an account's credentials, tasks and
//!   results live only while it is in flight; results go to the sinks immediately, and
//!   of the calls only running totals are kept (the sinks keep the records).
//! - Sinks write files and databases: they are called on tokio's blocking threads, never
//!   on the runtime's, while the call keeps its concurrency permit (so at most
//!   [`Options::concurrency`] results are in memory or being written at once).

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
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::account::Account;
use crate::regions::{enabled_regions, Catalog};
use crate::sink::{AccountReport, CallRecord, ScanInfo, Sink, Totals};
use crate::spec::Call;

pub mod progress;
pub mod resume;

/// Why an account could not be accessed.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessFailure {
    pub code: String,
    pub message: String,
    pub remediation: Option<String>,
    /// Another try may work (throttling, 5xx, a reset outlasted the retries and a second
    /// round): the account is recorded so, and `--resume` sets it up again.
    pub retryable: bool,
}

/// A boxed future, for [`CredentialSource`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How the scan gets credentials for an account (`auth::Access` implements it).
pub trait CredentialSource: Send + Sync {
    fn credentials<'a>(
        &'a self,
        account: &'a Account,
    ) -> BoxFuture<'a, Result<SharedCredentialsProvider, AccessFailure>>;

    /// The account's scan ended: whatever was kept for it (cached credentials) can go.
    fn release(&self, _account: &Account) {}
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
    pub calls: Vec<Call>,
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
    /// Stopped by [`run_until`]'s interrupt: the calls written so far are in the sinks,
    /// the scan is not finished (no summary), and `--resume` completes it.
    pub interrupted: bool,
}

impl Outcome {
    /// 0 complete, 2 complete with failed calls or accounts, 130 interrupted.
    pub fn exit_status(&self) -> u8 {
        if self.interrupted {
            130
        } else if self.totals.calls_failed > 0 || self.totals.accounts_failed > 0 {
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
pub fn stems<R>(calls: &[Call<R>]) -> Vec<String> {
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

/// More sink writes than can ever be under way at once.
const WRITES: u32 = 1 << 24;

/// Sink writes under way at once, each on its own thread: enough to keep fsyncs
/// overlapping and the database writer fed; few, since every thread that allocates
/// keeps allocator pages of its own.
const WRITERS: usize = 8;

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
    totals: Counters,
    /// Sink writes started and not yet ended.
    writes: Arc<Semaphore>,
    /// Slots for sink writes: [`WRITERS`].
    writers: Arc<Semaphore>,
    pool: Arc<Pool>,
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
}

impl Counters {
    fn add(&self, record: &CallRecord) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.calls_failed
            .fetch_add(u64::from(!record.is_ok()), Ordering::Relaxed);
        self.items.fetch_add(record.items, Ordering::Relaxed);
        self.pages
            .fetch_add(u64::from(record.pages), Ordering::Relaxed);
    }
}

/// An account's planned calls, and those finished: what its deadline fails.
#[derive(Default)]
struct AccountCalls {
    planned: Vec<(usize, String)>,
    finished: HashSet<(usize, String)>,
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

    /// Waits for one of the [`WRITERS`] slots for sink writes.
    async fn writer(self: &Arc<Self>) -> Writer {
        let writer = self
            .writers
            .clone()
            .acquire_owned()
            .await
            .expect("the writers semaphore is never closed");
        let write = self
            .writes
            .clone()
            .try_acquire_owned()
            .expect("the writes semaphore is never closed, nor exhausted");
        Writer {
            shared: self.clone(),
            _permits: (writer, write),
        }
    }

    async fn record_account(self: &Arc<Self>, report: AccountReport) {
        self.writer()
            .await
            .run(move |shared| {
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

    /// Hands a finished call to the sinks; returns once they have it. The call counts
    /// as finished for the account's deadline once its write has started.
    async fn record_call(
        self: &Arc<Self>,
        record: CallRecord,
        result: Option<Value>,
        account: &Mutex<AccountCalls>,
        call: usize,
    ) {
        let writer = self.writer().await;
        account
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .finished
            .insert((call, record.region.clone()));
        writer
            .run(move |shared| {
                shared.emit(|s| s.call(&record, result.as_ref()));
                drop(result);
                shared.progress.call_done(!record.is_ok());
                shared.calls_done.fetch_add(1, Ordering::Relaxed);
                shared.totals.add(&record);
            })
            .await
    }
}

/// A slot for one sink write.
struct Writer {
    shared: Arc<Shared>,
    _permits: (OwnedSemaphorePermit, OwnedSemaphorePermit),
}

impl Writer {
    /// Runs `f` on one of the writer threads (sinks write files and wait for
    /// databases). Once started, `f` runs to its end even if the caller is dropped (an
    /// account's deadline): [`Shared::writes`] counts it until then.
    async fn run<T: Send + 'static>(self, f: impl FnOnce(&Shared) -> T + Send + 'static) -> T {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let pool = self.shared.pool.clone();
        pool.run(Box::new(move || {
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&self.shared)));
            drop(self);
            let _ = tx.send(out);
        }));
        match rx.await {
            Ok(Ok(v)) => v,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => panic!("a sink writer thread ended"),
        }
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// [`WRITERS`] threads for sink writes, for the whole scan: a few long-lived threads
/// rather than tokio's blocking pool, which starts a thread for every write that finds
/// none idle.
struct Pool {
    jobs: Mutex<Option<std::sync::mpsc::Sender<Job>>>,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

impl Pool {
    fn new(n: usize) -> Pool {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let threads = (0..n)
            .map(|i| {
                let rx = rx.clone();
                std::thread::Builder::new()
                    .name(format!("census-writer-{i}"))
                    .spawn(move || loop {
                        let job = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    })
                    .expect("cannot start a writer thread")
            })
            .collect();
        Pool {
            jobs: Mutex::new(Some(tx)),
            threads: Mutex::new(threads),
        }
    }

    fn run(&self, job: Job) {
        let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        jobs.as_ref()
            .expect("the writer threads were stopped")
            .send(job)
            .expect("the writer threads ended");
    }

    /// Stops the threads once the jobs sent are done.
    fn stop(&self) {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner()).take();
        for t in self
            .threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            let _ = t.join();
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs the scan over `accounts` (deterministic order: as given).
pub async fn run(scan: Scan, accounts: Vec<Account>) -> Result<Outcome, SinkError> {
    run_until(scan, accounts, std::future::pending()).await
}

/// [`run`], stopped early when `interrupt` completes (Ctrl-C): no call or account starts
/// after it, calls waiting for AWS are dropped unrecorded, writes under way finish, and
/// the sinks are closed without finishing the scan, so that `--resume` completes it.
pub async fn run_until(
    scan: Scan,
    accounts: Vec<Account>,
    interrupt: impl Future<Output = ()>,
) -> Result<Outcome, SinkError> {
    let stems = stems(&scan.calls);
    let mut scan = scan;
    // Of an earlier run's calls, only their keys (not to run them again) and their
    // totals are kept; those that ended in a retryable error run again (and count
    // with their new outcome).
    let previous_calls = resume::settled(std::mem::take(&mut scan.previous_calls));
    let done: HashSet<_> = previous_calls.iter().map(CallRecord::key).collect();
    let totals = Counters::default();
    previous_calls.iter().for_each(|r| totals.add(r));
    drop(previous_calls);
    let progress = progress::Progress::new(accounts.len() as u64);
    let shared = Arc::new(Shared {
        semaphore: Semaphore::new(scan.options.concurrency.max(1)),
        stems,
        done,
        totals,
        writes: Arc::new(Semaphore::new(WRITES as usize)),
        writers: Arc::new(Semaphore::new(WRITERS)),
        pool: Arc::new(Pool::new(WRITERS)),
        reports: Mutex::new(Vec::new()),
        failed: Mutex::new(None),
        stop: AtomicBool::new(false),
        interrupt: tokio::sync::watch::Sender::new(false),
        progress,
        calls_done: AtomicU64::new(0),
        scan,
    });
    shared
        .writer()
        .await
        .run(|shared| shared.emit(|s| s.begin(&shared.scan.info)))
        .await;
    let in_flight = shared.scan.options.accounts_in_flight.max(1);
    let accounts_stream = futures::stream::iter(accounts.into_iter().map(|account| {
        let shared = shared.clone();
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
                let unfinished: Vec<(usize, String)> = {
                    let calls = calls.lock().unwrap_or_else(|e| e.into_inner());
                    calls
                        .planned
                        .iter()
                        .filter(|t| !calls.finished.contains(t))
                        .cloned()
                        .collect()
                };
                for (call, label) in unfinished {
                    let mut record = CallRecord::new(
                        &id,
                        &label,
                        &shared.stems[call],
                        &shared.scan.calls[call],
                    );
                    record.fail(
                        "AccountDeadlineExceeded",
                        format!(
                            "the account's deadline of {}s passed before this call finished; raise --account-deadline",
                            deadline.as_secs()
                        ),
                        None,
                    );
                    record.retryable = true;
                    shared.record_call(record, None, &calls, call).await;
                }
            }
        }
    }));
    let work = accounts_stream.for_each_concurrent(in_flight, |f| f);
    tokio::pin!(work);
    tokio::pin!(interrupt);
    let interrupted = tokio::select! {
        _ = &mut work => false,
        _ = &mut interrupt => {
            shared.stop.store(true, Ordering::SeqCst);
            shared.interrupt.send_replace(true);
            work.await;
            true
        }
    };
    // Writes cut loose by an account's deadline end before the sinks finish.
    drop(shared.writes.acquire_many(WRITES).await);
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
        calls: counted(&shared.totals.calls),
        calls_failed: counted(&shared.totals.calls_failed),
        items: counted(&shared.totals.items),
        pages: counted(&shared.totals.pages),
    };
    shared.pool.stop();
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
            sink.finish(&info, &totals, &reports, &[])
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

/// Sets up one account (credentials, regions), plans its tasks into `planned`, and runs
/// them. An account that failed in an interrupted run is set up again on resume.
async fn scan_account(shared: Arc<Shared>, account: Account, calls: Arc<Mutex<AccountCalls>>) {
    let scan = &shared.scan;
    let mut report = AccountReport::new(account.clone());
    // (`auth` gives AssumeRole its second round.)
    let creds = match scan.credentials.credentials(&account).await {
        Ok(c) => c,
        Err(f) => {
            report.fail(f.code, f.message, f.remediation, f.retryable);
            shared.record_account(report).await;
            return;
        }
    };
    let default_region = scan.catalog.default_region(&account.partition);
    let target_in = |region: &str| Target {
        region: region.to_string(),
        credentials: creds.clone(),
        endpoints: scan.endpoints.clone(),
        label: account.id.clone(),
        deadline: None,
    };
    let list_regions = || async {
        let target = target_in(&default_region)
            .with_deadline(tokio::time::Instant::now() + scan.options.call_timeout);
        enabled_regions(&scan.client, &target, &account.partition).await
    };
    let regions = match &scan.options.regions {
        Some(list) => list.clone(),
        None => match match list_regions().await {
            Err(e) if e.is_retryable() => list_regions().await,
            other => other,
        } {
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
    calls
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .planned
        .extend(tasks.iter().map(|t| (t.call, t.label.clone())));
    shared.progress.add_calls(tasks.len() as u64);
    shared.record_account(report).await;

    // Two rounds: the second runs, once the first is over, the calls that ended in a
    // retryable error (not recorded then), and records whatever they end in.
    let per_account = scan.options.per_account.max(1);
    for last_round in [false, true] {
        let again = Mutex::new(Vec::new());
        futures::stream::iter(tasks)
            .for_each_concurrent(per_account, |task| {
                let shared = shared.clone();
                let target = target_in(&task.region);
                let account_id = account.id.clone();
                let calls = calls.clone();
                let again = &again;
                async move {
                    if shared.stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(_permit) = shared.semaphore.acquire().await else {
                        return;
                    };
                    if let Some(task) =
                        run_call(&shared, &account_id, task, target, &calls, last_round).await
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
            account = %account.id,
            calls = tasks.len(),
            "calls that ended in a retryable error: one more round"
        );
    }
}

/// Runs one call and records it, except when it ends in a retryable error before the
/// `last_round`: then nothing is recorded and the task comes back, for another round.
async fn run_call(
    shared: &Arc<Shared>,
    account_id: &str,
    task: Task,
    target: Target,
    calls: &Mutex<AccountCalls>,
    last_round: bool,
) -> Option<Task> {
    let call_index = task.call;
    let scan = &shared.scan;
    let call = &scan.calls[task.call];
    let started = Instant::now();
    // awsdyn plans no retry past the call's timeout (which covers every page).
    let target = target.with_deadline(tokio::time::Instant::now() + scan.options.call_timeout);
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
    let mut record = CallRecord::new(account_id, &task.label, &shared.stems[task.call], call);
    let mut interrupted = shared.interrupt.subscribe();
    let outcome = tokio::select! {
        o = tokio::time::timeout(scan.options.call_timeout, fetch) => o,
        // Not recorded: `--resume` runs it again.
        _ = interrupted.wait_for(|i| *i) => return None,
    };
    // Expired credentials count as retryable too: not for another attempt now (the
    // second round fails as fast), but for `--resume` once they are renewed.
    let retryable = match &outcome {
        Err(_) => true,
        Ok(Err(e)) => e.is_retryable() || crate::auth::is_expired_code(e.code()),
        Ok(Ok(_)) => false,
    };
    if retryable && !last_round {
        return Some(task);
    }
    record.retryable = retryable;
    record.duration_ms = started.elapsed().as_millis() as u64;
    match outcome {
        Err(_) => {
            record.fail(
                "CallTimeout",
                format!(
                    "no answer within {}s (all pages and retries); raise --call-timeout",
                    scan.options.call_timeout.as_secs()
                ),
                None,
            );
            shared.record_call(record, None, calls, call_index).await;
        }
        Ok(Err(e)) => {
            let request_id = e.service_error().and_then(|s| s.request_id.clone());
            record.fail(e.code(), e.to_string(), request_id);
            shared.record_call(record, None, calls, call_index).await;
        }
        Ok(Ok((value, pages))) => {
            record.pages = pages;
            let value = match &call.result_key {
                Some(key) => match key.apply(&value) {
                    Ok(v) => v,
                    Err(msg) => {
                        record.fail("ResultKey", msg, None);
                        shared.record_call(record, None, calls, call_index).await;
                        return None;
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
            shared
                .record_call(record, Some(value), calls, call_index)
                .await;
        }
    }
    None
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
        let call = |s: &str, f: &str| -> Call {
            Call {
                service: s.into(),
                operation: String::new(),
                function: f.into(),
                parameters: json!({}),
                result_key: None,
                origin: String::new(),
            }
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
