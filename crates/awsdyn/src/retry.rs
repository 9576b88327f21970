//! Retries and client-side rate limiting for AWS calls.
//!
//! This module decides, after each attempt of a call, whether to try again and how long to
//! wait first. It follows the two retry modes the AWS SDKs share (botocore's
//! `retries/standard.py` and `retries/adaptive.py`), changed where an inventory needs
//! something else than an application:
//!
//! - **standard**: retryable errors are throttling errors, transient errors,
//!   500/502/503/504 responses and transient network failures; the delay before retry `n`
//!   (0-based) is random in `[0, min(max_backoff, base_delay * 2^n))` ("full jitter"),
//!   and at least what the service asked for in `x-amz-retry-after` / `Retry-After`
//!   (capped at `max_backoff`).
//!   - *Throttling* is retried for as long as the call's time budget
//!     ([`RetryConfig::time_budget`], or less when the caller gives a deadline with
//!     [`Attempt::limit_budget`]) allows: a retry is made unless its delay would end
//!     past the budget. Throttled attempts do not count towards
//!     [`RetryConfig::max_attempts`] and take nothing from the retry quota.
//!   - *Everything else retryable* (5xx, transient codes, resets, timeouts) stops after
//!     [`RetryConfig::max_attempts`] failed attempts of that kind (5 by default) and
//!     spends the *retry quota* (5 tokens per retry, 10 after a timeout, 500 to start
//!     with, paid back by successes), as in the SDKs.
//!
//!   Why throttling differs from the SDKs: botocore's standard mode gives up after 3
//!   attempts, and its quota stops every retry (throttled ones too) once 100 retries
//!   went unanswered on a client. Both fit an application, which would rather fail fast
//!   and shed load than queue behind a throttled API. An inventory is the opposite: a
//!   call that gives up is a hole in the result, a throttled service is alive and only
//!   asks for time, and a scan of hundreds of accounts is throttled *by design* (STS,
//!   EC2 and Organizations limit the caller's rate). So throttling is paced by the
//!   backoff and bounded by time, not by a count or a quota. The quota keeps its job as
//!   a circuit breaker for a service that is really failing (5xx, resets, timeouts),
//!   where more retries would not help.
//! - **adaptive**: standard, plus a client-side rate limiter. It stays out of the way until
//!   the first throttling error; from then on every attempt takes a token from a bucket
//!   whose fill rate is cut by 30% on each throttling error and grows back along a CUBIC
//!   curve on successes, capped at twice the measured send rate.
//!
//! Both the quota and the limiter are kept per [`RetryKey`] (caller label, service,
//! region), so one throttled account, region or service never slows down the others. The
//! per-key state is created on first use in a sharded map and forgotten after
//! [`RetryConfig::idle_eviction`] without calls, which keeps memory flat across a scan of
//! thousands of accounts.
//!
//! The module knows nothing about HTTP: the client turns what happened into an
//! [`ErrorClass`] with [`classify`] and drives one [`Attempt`] per call:
//!
//! ```no_run
//! # use awsdyn::retry::*;
//! # async fn send() -> Outcome { Outcome::Success }
//! # async fn call(retrier: &Retrier) {
//! let key = RetryKey::new("123456789012", "ec2", "eu-west-1");
//! let mut attempt = retrier.start(&key);
//! loop {
//!     attempt.before_send().await;
//!     let outcome = send().await;
//!     match attempt.after(outcome) {
//!         Decision::Retry(delay) => tokio::time::sleep(delay).await,
//!         Decision::Stop(reason) => break,
//!     }
//! }
//! # }
//! ```
//!
//! Time comes from a [`Clock`], so tests drive the rate-limiter arithmetic with a
//! [`ManualClock`] instead of sleeping.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::BuildHasher;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;
use std::time::Duration;

use tokio::sync::Notify;

// ---------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------

/// How calls are retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RetryMode {
    /// Retries with backoff and a retry quota; no client-side rate limiting.
    #[default]
    Standard,
    /// Standard retries plus a client-side rate limiter that slows down on throttling.
    Adaptive,
}

impl RetryMode {
    /// The name used by `AWS_RETRY_MODE` and the AWS config file.
    pub fn as_str(self) -> &'static str {
        match self {
            RetryMode::Standard => "standard",
            RetryMode::Adaptive => "adaptive",
        }
    }
}

impl fmt::Display for RetryMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RetryMode {
    type Err = RetryConfigError;

    /// Parses `standard`, `adaptive` or `legacy` (any case). `legacy` is botocore's old
    /// default mode, which Census does not implement: it means `standard` here, so that an
    /// environment set up for boto3 keeps working.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "standard" | "legacy" => Ok(RetryMode::Standard),
            "adaptive" => Ok(RetryMode::Adaptive),
            _ => Err(RetryConfigError {
                setting: "retry mode",
                value: value.to_owned(),
                expected: "one of standard, adaptive or legacy",
            }),
        }
    }
}

/// Retry settings shared by every call of one [`Retrier`].
///
/// `RetryConfig::default()`: standard mode, throttling retried for up to 300 s, 5
/// attempts for other retryable failures, 1 s base delay, 20 s maximum backoff, a
/// 500-token retry quota (see the module documentation for why these differ from the
/// SDKs' 3 attempts).
#[derive(Clone, Debug, PartialEq)]
pub struct RetryConfig {
    /// Standard or adaptive.
    pub mode: RetryMode,
    /// Failed attempts per call, the first one included (the meaning of
    /// `AWS_MAX_ATTEMPTS`), counting the failures that are *not* throttling: 5xx,
    /// transient error codes, resets and timeouts. Throttled attempts are not counted:
    /// they are retried within [`RetryConfig::time_budget`]. 1 disables every retry,
    /// throttling included; 0 is treated as 1.
    pub max_attempts: u32,
    /// How long a call may keep retrying, from its first attempt: no retry is made whose
    /// delay would end past it. This is what bounds throttling retries. A caller with a
    /// deadline of its own (Census's `--call-timeout`) gives it with
    /// [`Attempt::limit_budget`].
    pub time_budget: Duration,
    /// Scale of the exponential backoff: the delay before retry `n` (0-based) is random in
    /// `[0, min(max_backoff, base_delay * 2^n))`.
    pub base_delay: Duration,
    /// Upper bound of any backoff delay.
    pub max_backoff: Duration,
    /// Size of each key's retry quota, in tokens; it starts full.
    pub retry_quota: u32,
    /// Tokens a retry takes from the quota.
    pub retry_cost: u32,
    /// Tokens a retry after a timeout takes from the quota.
    pub timeout_retry_cost: u32,
    /// Tokens a success returns to the quota when the call needed no retry. (A call that
    /// succeeds after retries returns what its last retry took.)
    pub no_retry_increment: u32,
    /// A key with no call in progress and none started for this long is forgotten (within
    /// half as long again), with its quota and rate limiter: the next call on it starts
    /// fresh. Keeps memory bounded when a scan walks thousands of accounts.
    pub idle_eviction: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            mode: RetryMode::Standard,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            time_budget: DEFAULT_TIME_BUDGET,
            base_delay: Duration::from_secs(1),
            max_backoff: Duration::from_secs(20),
            retry_quota: 500,
            retry_cost: 5,
            timeout_retry_cost: 10,
            no_retry_increment: 1,
            idle_eviction: Duration::from_secs(600),
        }
    }
}

/// Attempts per call for failures other than throttling when nothing else is configured:
/// 5, as botocore's legacy mode (its standard mode has 3). With the 1 s base delay the
/// retries wait up to 1 + 2 + 4 + 8 s: long enough to ride out a brief outage or a
/// restarting endpoint, short enough that a service that is really down costs a scan
/// seconds, not minutes. Calls that still fail get another round from the caller (Census
/// retries them once more at the end of the account, and `--resume` re-runs them).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// How long a call may keep retrying when the caller sets nothing else: 300 s, Census's
/// default `--call-timeout`.
pub const DEFAULT_TIME_BUDGET: Duration = Duration::from_secs(300);

impl RetryConfig {
    /// The default configuration with the mode and attempt count taken from the
    /// `AWS_RETRY_MODE` and `AWS_MAX_ATTEMPTS` environment variables, where set and not
    /// empty.
    pub fn from_env() -> Result<Self, RetryConfigError> {
        let var = |name: &'static str| match std::env::var(name) {
            Ok(value) => Ok(Some(value)),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(raw)) => Err(RetryConfigError {
                setting: name,
                value: raw.to_string_lossy().into_owned(),
                expected: "valid UTF-8 text",
            }),
        };
        let mode = var("AWS_RETRY_MODE")?;
        let max_attempts = var("AWS_MAX_ATTEMPTS")?;
        Self::from_env_values(mode.as_deref(), max_attempts.as_deref())
    }

    /// [`RetryConfig::from_env`] on given values of `AWS_RETRY_MODE` and
    /// `AWS_MAX_ATTEMPTS` (`None` or blank: not set).
    pub fn from_env_values(
        mode: Option<&str>,
        max_attempts: Option<&str>,
    ) -> Result<Self, RetryConfigError> {
        let mut config = RetryConfig::default();
        if let Some(mode) = mode.filter(|v| !v.trim().is_empty()) {
            config.mode = mode
                .parse()
                .map_err(|e: RetryConfigError| RetryConfigError {
                    setting: "AWS_RETRY_MODE",
                    ..e
                })?;
        }
        if let Some(value) = max_attempts.filter(|v| !v.trim().is_empty()) {
            config.max_attempts = parse_max_attempts(value).map_err(|e| RetryConfigError {
                setting: "AWS_MAX_ATTEMPTS",
                ..e
            })?;
        }
        Ok(config)
    }
}

/// Parses a number of attempts per call (first attempt included): a whole number, at
/// least 1.
pub fn parse_max_attempts(value: &str) -> Result<u32, RetryConfigError> {
    match value.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(RetryConfigError {
            setting: "max attempts",
            value: value.to_owned(),
            expected: "a whole number of attempts of at least 1, such as 3",
        }),
    }
}

/// A retry setting that could not be understood.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{setting} is {value:?}, expected {expected}")]
pub struct RetryConfigError {
    /// Where the value came from, such as `AWS_MAX_ATTEMPTS`.
    pub setting: &'static str,
    /// The value as given.
    pub value: String,
    /// What would have been accepted.
    pub expected: &'static str,
}

// ---------------------------------------------------------------------------------------
// Classification
// ---------------------------------------------------------------------------------------

/// Error codes that mean "slow down", the union the AWS SDKs use.
pub const THROTTLING_ERROR_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// Error codes of failures that a retry may cure. `PriorRequestNotComplete` is in the
/// SDKs' transient list too, but [`THROTTLING_ERROR_CODES`] claims it first.
/// `IDPCommunicationError` is STS's (botocore retries it for STS only; no other service
/// uses the code).
pub const TRANSIENT_ERROR_CODES: &[&str] = &[
    "RequestTimeout",
    "RequestTimeoutException",
    "PriorRequestNotComplete",
    "InternalError",
    "IDPCommunicationError",
];

/// HTTP statuses that are retried whatever the error code.
pub const TRANSIENT_STATUS_CODES: &[u16] = &[500, 502, 503, 504];

/// HTTP status that means throttling whatever the error code.
pub const TOO_MANY_REQUESTS: u16 = 429;

/// How a request failed before a complete response came back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransportErrorKind {
    /// The connection could not be made: refused, DNS failure, TLS handshake failure.
    Connect,
    /// Connecting took too long.
    ConnectTimeout,
    /// The response (or the next part of it) took too long.
    ReadTimeout,
    /// The connection was reset or closed while the request was in flight.
    Reset,
    /// The response body ended early.
    IncompleteBody,
    /// Anything a retry will not fix (the request could not be built, a body too large…).
    Other,
}

/// What kind of failure an attempt ended in, as far as retrying is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The service asked us to slow down (throttling code or HTTP 429). Retried; feeds the
    /// adaptive rate limiter.
    Throttling,
    /// A transient error code or a network failure. Retried.
    Transient,
    /// HTTP 500, 502, 503 or 504. Retried.
    ServerError,
    /// Connecting or reading timed out. Retried, at a higher retry-quota cost.
    Timeout,
    /// Anything else: retrying would give the same answer.
    NonRetryable,
}

impl ErrorClass {
    /// The class of an error the service model marks retryable (the `retryable` trait of
    /// an error shape, with its `throttling` flag). The client should prefer it to
    /// [`classify`] when the model says so.
    pub fn modeled(throttling: bool) -> ErrorClass {
        if throttling {
            ErrorClass::Throttling
        } else {
            ErrorClass::Transient
        }
    }

    /// Whether an attempt that failed this way may be retried.
    pub fn is_retryable(self) -> bool {
        self != ErrorClass::NonRetryable
    }

    /// Whether this is a throttling error.
    pub fn is_throttling(self) -> bool {
        self == ErrorClass::Throttling
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorClass::Throttling => "throttled",
            ErrorClass::Transient => "transient error",
            ErrorClass::ServerError => "server error",
            ErrorClass::Timeout => "timed out",
            ErrorClass::NonRetryable => "not retryable",
        })
    }
}

/// Classifies a failed attempt from what is known of it: the HTTP status, the AWS error
/// code, and the transport failure if no complete response came back.
///
/// In order: a throttling code, then a transient code, then a retryable transport
/// failure, then HTTP 429 (throttling) and 500/502/503/504 (server error). Everything
/// else is [`ErrorClass::NonRetryable`]. Codes may carry the namespaces some protocols add
/// (`aws.foo#ThrottlingException`, `Throttling:http://…`).
pub fn classify(
    status: Option<u16>,
    code: Option<&str>,
    transport: Option<TransportErrorKind>,
) -> ErrorClass {
    if let Some(code) = code.map(bare_error_code) {
        if THROTTLING_ERROR_CODES.contains(&code) {
            return ErrorClass::Throttling;
        }
        if TRANSIENT_ERROR_CODES.contains(&code) {
            return ErrorClass::Transient;
        }
    }
    match transport {
        Some(TransportErrorKind::ConnectTimeout | TransportErrorKind::ReadTimeout) => {
            return ErrorClass::Timeout
        }
        Some(
            TransportErrorKind::Connect
            | TransportErrorKind::Reset
            | TransportErrorKind::IncompleteBody,
        ) => return ErrorClass::Transient,
        Some(TransportErrorKind::Other) | None => {}
    }
    match status {
        Some(TOO_MANY_REQUESTS) => ErrorClass::Throttling,
        Some(s) if TRANSIENT_STATUS_CODES.contains(&s) => ErrorClass::ServerError,
        _ => ErrorClass::NonRetryable,
    }
}

/// `aws.foo#Code:http://…` -> `Code`.
fn bare_error_code(code: &str) -> &str {
    let code = code.rsplit('#').next().unwrap_or(code);
    code.split(':').next().unwrap_or(code).trim()
}

// ---------------------------------------------------------------------------------------
// Clock
// ---------------------------------------------------------------------------------------

/// A future returned by [`Clock::sleep`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Where the retry machinery gets its time from.
pub trait Clock: Send + Sync {
    /// Time elapsed since a fixed origin of this clock's choosing; never decreases.
    fn now(&self) -> Duration;
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// The real clock: tokio's monotonic time (so tokio's paused test time applies too).
#[derive(Debug)]
pub struct TokioClock {
    origin: tokio::time::Instant,
}

impl TokioClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        TokioClock {
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A clock for tests: time stands still until [`ManualClock::advance`] or
/// [`ManualClock::set`] moves it, and [`Clock::sleep`] moves it forward by the duration
/// slept and completes at once.
#[derive(Debug, Default)]
pub struct ManualClock {
    now: Mutex<Duration>,
}

impl ManualClock {
    /// A clock at time zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves time forward.
    pub fn advance(&self, by: Duration) {
        *lock(&self.now) += by;
    }

    /// Sets the time; it never goes backwards (an earlier time is ignored).
    pub fn set(&self, to: Duration) {
        let mut now = lock(&self.now);
        *now = (*now).max(to);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        *lock(&self.now)
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        self.advance(duration);
        Box::pin(std::future::ready(()))
    }
}

// ---------------------------------------------------------------------------------------
// Keys, outcomes and decisions
// ---------------------------------------------------------------------------------------

/// What retry state is shared by: calls with the same key share one retry quota and one
/// rate limiter; calls with different keys share nothing.
///
/// The label is the caller's (Census uses the account, or the credentials' identity);
/// awsdyn never interprets it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RetryKey {
    label: Arc<str>,
    service: Arc<str>,
    region: Arc<str>,
}

impl RetryKey {
    /// A key for calls to `service` in `region` on behalf of `label`.
    pub fn new(
        label: impl Into<Arc<str>>,
        service: impl Into<Arc<str>>,
        region: impl Into<Arc<str>>,
    ) -> Self {
        RetryKey {
            label: label.into(),
            service: service.into(),
            region: region.into(),
        }
    }

    /// The caller's label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The service.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The region.
    pub fn region(&self) -> &str {
        &self.region
    }
}

impl fmt::Display for RetryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.label, self.service, self.region)
    }
}

/// How one attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A successful (2xx) response.
    Success,
    /// A failure, classified with [`classify`].
    Error(ErrorClass),
}

impl From<ErrorClass> for Outcome {
    fn from(class: ErrorClass) -> Self {
        Outcome::Error(class)
    }
}

/// What to do after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Wait this long, then send the next attempt.
    Retry(Duration),
    /// Do not send another attempt.
    Stop(StopReason),
}

/// Why a call stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The last attempt succeeded.
    Succeeded,
    /// The last attempt failed in a way retrying will not fix.
    NotRetryable,
    /// Every allowed attempt was made and the last one failed with a retryable error
    /// (not throttling, which is bounded by time: [`StopReason::BudgetExhausted`]).
    AttemptsExhausted {
        /// Attempts made, the first one included.
        attempts: u32,
    },
    /// The key's retry quota is spent: too many recent failures on this key.
    QuotaExhausted {
        /// Attempts made, the first one included.
        attempts: u32,
    },
    /// The next retry would have ended past the call's time budget.
    BudgetExhausted {
        /// Attempts made, the first one included.
        attempts: u32,
        /// The budget, from the first attempt.
        budget: Duration,
    },
}

impl StopReason {
    /// Whether the call ended in a failure that a later try may cure: attempts, quota or
    /// time ran out on a retryable error.
    pub fn is_retryable_failure(self) -> bool {
        matches!(
            self,
            StopReason::AttemptsExhausted { .. }
                | StopReason::QuotaExhausted { .. }
                | StopReason::BudgetExhausted { .. }
        )
    }
}

impl fmt::Display for StopReason {
    /// "succeeded", "not retryable", "gave up after 3 attempts", "gave up after 2
    /// attempts (retry quota exhausted)", "gave up after 40 attempts (time budget of
    /// 300s spent)".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: u32| if n == 1 { "" } else { "s" };
        match *self {
            StopReason::Succeeded => f.write_str("succeeded"),
            StopReason::NotRetryable => f.write_str("not retryable"),
            StopReason::AttemptsExhausted { attempts } => {
                write!(f, "gave up after {attempts} attempt{}", plural(attempts))
            }
            StopReason::QuotaExhausted { attempts } => write!(
                f,
                "gave up after {attempts} attempt{} (retry quota exhausted)",
                plural(attempts)
            ),
            StopReason::BudgetExhausted { attempts, budget } => write!(
                f,
                "gave up after {attempts} attempt{} (time budget of {} spent)",
                plural(attempts),
                seconds(budget)
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Retrier
// ---------------------------------------------------------------------------------------

/// Number of independently locked parts of the key map.
const SHARDS: usize = 64;

type Shard = Mutex<HashMap<RetryKey, Arc<KeyState>>>;

/// The retry policy and the per-key retry state of a client. Share one (in an `Arc`)
/// between all the calls of a client; start one [`Attempt`] per call.
pub struct Retrier {
    config: RetryConfig,
    clock: Arc<dyn Clock>,
    hasher: RandomState,
    shards: Box<[Shard]>,
    /// When to look for idle keys next, in milliseconds of the clock.
    next_sweep_ms: AtomicU64,
}

impl fmt::Debug for Retrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retrier")
            .field("config", &self.config)
            .field("keys", &self.key_count())
            .finish_non_exhaustive()
    }
}

impl Retrier {
    /// A retrier on the real clock.
    pub fn new(config: RetryConfig) -> Self {
        Self::with_clock(config, Arc::new(TokioClock::new()))
    }

    /// A retrier on the given clock.
    pub fn with_clock(config: RetryConfig, clock: Arc<dyn Clock>) -> Self {
        let next_sweep_ms = millis(clock.now() + config.idle_eviction / 2);
        Retrier {
            config,
            clock,
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            next_sweep_ms: AtomicU64::new(next_sweep_ms),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &RetryConfig {
        &self.config
    }

    /// Starts a call on `key`.
    pub fn start(&self, key: &RetryKey) -> Attempt<'_> {
        let now = self.clock.now();
        self.sweep_if_due(now);
        let state = {
            let mut shard = lock(self.shard(key));
            match shard.get(key) {
                Some(state) => state.clone(),
                None => {
                    let state = Arc::new(KeyState::new(&self.config, now));
                    shard.insert(key.clone(), state.clone());
                    state
                }
            }
        };
        state.touch(now);
        Attempt {
            retrier: self,
            state,
            attempts: 0,
            failures: 0,
            started: now,
            budget: self.config.time_budget,
            last_retry_cost: None,
        }
    }

    /// Number of keys whose state is currently kept.
    pub fn key_count(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }

    /// The current state of a key, if it is kept: for diagnostics and tests.
    pub fn stats(&self, key: &RetryKey) -> Option<KeyStats> {
        let state = lock(self.shard(key)).get(key)?.clone();
        let retry_tokens = lock(&state.quota).available;
        let limiter = state.limiter.as_ref().map(|l| {
            let rate = lock(&l.rate);
            LimiterStats {
                enabled: rate.enabled,
                fill_rate: rate.bucket.fill_rate,
                capacity: rate.bucket.capacity,
                measured_rate: rate.send_rate.measured,
            }
        });
        Some(KeyStats {
            retry_tokens,
            limiter,
        })
    }

    fn shard(&self, key: &RetryKey) -> &Shard {
        let index = self.hasher.hash_one(key) as usize % self.shards.len();
        &self.shards[index]
    }

    /// Forgets keys that are idle (no call in progress, none started for
    /// `idle_eviction`), at most every `idle_eviction / 2`.
    /// Forgets the keys of `label` that no call is using (say, an account whose scan
    /// ended), without waiting for them to be idle for [`RetryConfig::idle_eviction`]:
    /// a later call with that label starts with a full quota and no rate limit.
    pub fn forget_label(&self, label: &str) {
        for shard in self.shards.iter() {
            lock(shard).retain(|key, state| &*key.label != label || Arc::strong_count(state) > 1);
        }
    }

    fn sweep_if_due(&self, now: Duration) {
        let now_ms = millis(now);
        let due = self.next_sweep_ms.load(Ordering::Relaxed);
        if now_ms < due {
            return;
        }
        let next = millis(now + self.config.idle_eviction / 2);
        if self
            .next_sweep_ms
            .compare_exchange(due, next, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return; // another thread is sweeping
        }
        let idle_ms = millis(self.config.idle_eviction);
        for shard in self.shards.iter() {
            lock(shard).retain(|_, state| {
                let in_use = Arc::strong_count(state) > 1;
                let last_used = state.last_used_ms.load(Ordering::Relaxed);
                in_use || now_ms.saturating_sub(last_used) < idle_ms
            });
        }
    }
}

/// A snapshot of one key's retry state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KeyStats {
    /// Tokens left in the retry quota.
    pub retry_tokens: u32,
    /// The rate limiter (adaptive mode only).
    pub limiter: Option<LimiterStats>,
}

/// A snapshot of one key's client-side rate limiter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LimiterStats {
    /// Whether sends wait for tokens (true from the first throttling error on).
    pub enabled: bool,
    /// Tokens (sends) per second.
    pub fill_rate: f64,
    /// Tokens in the bucket at the last update.
    pub capacity: f64,
    /// Smoothed measured responses per second.
    pub measured_rate: f64,
}

/// One key's shared retry state.
struct KeyState {
    quota: Mutex<RetryQuota>,
    /// Present in adaptive mode.
    limiter: Option<AdaptiveLimiter>,
    last_used_ms: AtomicU64,
}

impl KeyState {
    fn new(config: &RetryConfig, now: Duration) -> Self {
        KeyState {
            quota: Mutex::new(RetryQuota::new(config.retry_quota)),
            limiter: (config.mode == RetryMode::Adaptive)
                .then(|| AdaptiveLimiter::new(now.as_secs_f64())),
            last_used_ms: AtomicU64::new(millis(now)),
        }
    }

    fn touch(&self, now: Duration) {
        self.last_used_ms.store(millis(now), Ordering::Relaxed);
    }
}

// ---------------------------------------------------------------------------------------
// Attempt
// ---------------------------------------------------------------------------------------

/// The retry state of one call. Call [`Attempt::before_send`] before each attempt and
/// [`Attempt::after`] with how it ended.
pub struct Attempt<'r> {
    retrier: &'r Retrier,
    state: Arc<KeyState>,
    /// Attempts that have ended.
    attempts: u32,
    /// Attempts that failed with a retryable error other than throttling: what
    /// [`RetryConfig::max_attempts`] counts.
    failures: u32,
    /// When the call started, on the retrier's clock.
    started: Duration,
    /// How long the call may keep retrying from `started`.
    budget: Duration,
    /// Quota tokens the latest retry took: what a success gives back.
    last_retry_cost: Option<u32>,
}

impl fmt::Debug for Attempt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attempt")
            .field("attempts", &self.attempts)
            .field("failures", &self.failures)
            .field("budget", &self.budget)
            .field("last_retry_cost", &self.last_retry_cost)
            .finish_non_exhaustive()
    }
}

impl Attempt<'_> {
    /// Attempts that have ended so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Waits until this key's rate limiter lets the next attempt go. Returns at once in
    /// standard mode and on a key that has not been throttled.
    pub async fn before_send(&mut self) {
        if let Some(limiter) = &self.state.limiter {
            limiter.acquire(self.retrier.clock.as_ref()).await;
        }
    }

    /// Shortens this call's time budget to `remaining` from now, if that is less than
    /// what is left of it: for a caller whose own deadline (a call timeout covering every
    /// page) comes first. No retry is then planned to end past it.
    pub fn limit_budget(&mut self, remaining: Duration) {
        let now = self.retrier.clock.now();
        let elapsed = now.saturating_sub(self.started);
        self.budget = self.budget.min(elapsed + remaining);
    }

    /// Records how the latest attempt ended and decides what comes next.
    pub fn after(&mut self, outcome: impl Into<Outcome>) -> Decision {
        self.after_with_hint(outcome, None)
    }

    /// [`Attempt::after`], with the delay the service asked for (an `x-amz-retry-after`
    /// or `Retry-After` header): the retry waits at least that long (and at least the
    /// random backoff), at most [`RetryConfig::max_backoff`].
    pub fn after_with_hint(
        &mut self,
        outcome: impl Into<Outcome>,
        retry_after: Option<Duration>,
    ) -> Decision {
        let outcome = outcome.into();
        let config = &self.retrier.config;
        let now = self.retrier.clock.now();
        self.attempts += 1;
        self.state.touch(now);
        if let Some(limiter) = &self.state.limiter {
            let throttled = matches!(outcome, Outcome::Error(ErrorClass::Throttling));
            limiter.on_response(now.as_secs_f64(), throttled);
        }
        let class = match outcome {
            Outcome::Success => {
                let refund = self.last_retry_cost.unwrap_or(config.no_retry_increment);
                lock(&self.state.quota).release(refund);
                return Decision::Stop(StopReason::Succeeded);
            }
            Outcome::Error(class) => class,
        };
        if !class.is_retryable() {
            return Decision::Stop(StopReason::NotRetryable);
        }
        let max_attempts = config.max_attempts.max(1);
        if max_attempts == 1 {
            // Retries are off altogether.
            return Decision::Stop(StopReason::AttemptsExhausted {
                attempts: self.attempts,
            });
        }
        if !class.is_throttling() {
            // Throttling is bounded by time alone (see the module documentation); every
            // other retryable failure by a count and by the key's quota.
            self.failures += 1;
            if self.failures >= max_attempts {
                return Decision::Stop(StopReason::AttemptsExhausted {
                    attempts: self.attempts,
                });
            }
        }
        // The service's hint is a floor: a `Retry-After: 0` on every answer must not
        // turn the backoff into a busy loop.
        let backoff = backoff_delay(config, self.attempts - 1, rand::random::<f64>());
        let delay = retry_after.map_or(backoff, |hint| hint.max(backoff).min(config.max_backoff));
        let elapsed = now.saturating_sub(self.started);
        if elapsed + delay > self.budget {
            return Decision::Stop(StopReason::BudgetExhausted {
                attempts: self.attempts,
                budget: self.budget,
            });
        }
        if !class.is_throttling() {
            let cost = if class == ErrorClass::Timeout {
                config.timeout_retry_cost
            } else {
                config.retry_cost
            };
            if !lock(&self.state.quota).acquire(cost) {
                return Decision::Stop(StopReason::QuotaExhausted {
                    attempts: self.attempts,
                });
            }
            self.last_retry_cost = Some(cost);
        }
        Decision::Retry(delay)
    }
}

/// The delay before retry `retry` (0 for the first retry) for a `jitter` in `[0, 1)`:
/// `jitter * min(max_backoff, base_delay * 2^retry)`.
fn backoff_delay(config: &RetryConfig, retry: u32, jitter: f64) -> Duration {
    let ceiling = config.base_delay.as_secs_f64() * 2f64.powi(retry.min(1023) as i32);
    let ceiling = ceiling.min(config.max_backoff.as_secs_f64());
    Duration::from_secs_f64(jitter.clamp(0.0, 1.0) * ceiling)
}

// ---------------------------------------------------------------------------------------
// Retry quota
// ---------------------------------------------------------------------------------------

/// The retry quota of one key: retries take tokens, successes give them back; no
/// tokens, no retry.
#[derive(Debug)]
struct RetryQuota {
    max: u32,
    available: u32,
}

impl RetryQuota {
    fn new(capacity: u32) -> Self {
        RetryQuota {
            max: capacity,
            available: capacity,
        }
    }

    /// Takes `amount` tokens if there are that many.
    fn acquire(&mut self, amount: u32) -> bool {
        if amount > self.available {
            return false;
        }
        self.available -= amount;
        true
    }

    /// Gives back `amount` tokens, never above the initial capacity.
    fn release(&mut self, amount: u32) {
        self.available = self.available.saturating_add(amount).min(self.max);
    }
}

// ---------------------------------------------------------------------------------------
// Adaptive rate limiting
// ---------------------------------------------------------------------------------------
//
// The arithmetic follows the AWS SDKs' client-side rate limiter (botocore
// `retries/adaptive.py`, `bucket.py`, `throttling.py`). Times are seconds (f64) on the
// retrier's clock; rates are sends per second.

/// How much the rate is cut on a throttling error (new rate = beta * rate).
const CUBIC_BETA: f64 = 0.7;
/// How fast the rate grows back after a throttling error.
const CUBIC_SCALE: f64 = 0.4;
/// Weight of the newest measurement in the smoothed send rate.
const SEND_RATE_SMOOTHING: f64 = 0.8;
/// Width, in seconds, of the time buckets the send rate is measured over.
const SEND_RATE_BUCKET: f64 = 0.5;
/// The fill rate never drops below this many tokens per second.
const MIN_FILL_RATE: f64 = 0.5;
/// The bucket always holds at least this many tokens when full.
const MIN_CAPACITY: f64 = 1.0;
/// A success may raise the rate to at most this multiple of the measured send rate.
const MAX_RATE_ADJUST_SCALE: f64 = 2.0;

/// The CUBIC rate curve (as in TCP CUBIC, with the rate in place of the window):
/// after a throttling error at `last_fail` with rate `w_max`, the rate is
/// `CUBIC_SCALE * (t - last_fail - k)^3 + w_max`, where `k` is when the curve climbs back
/// to `w_max`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Cubic {
    w_max: f64,
    k: f64,
    last_fail: f64,
}

impl Cubic {
    fn new(w_max: f64, last_fail: f64) -> Self {
        Cubic {
            w_max,
            k: Self::zero_point(w_max),
            last_fail,
        }
    }

    /// Seconds after a throttling error at which the curve is back at `w_max`.
    fn zero_point(w_max: f64) -> f64 {
        (w_max * (1.0 - CUBIC_BETA) / CUBIC_SCALE).cbrt()
    }

    /// The rate the curve allows at `t`.
    fn success(&self, t: f64) -> f64 {
        CUBIC_SCALE * (t - self.last_fail - self.k).powi(3) + self.w_max
    }

    /// Restarts the curve from a throttling error at `t` while sending at `rate`; returns
    /// the reduced rate.
    fn throttle(&mut self, rate: f64, t: f64) -> f64 {
        *self = Cubic::new(rate, t);
        rate * CUBIC_BETA
    }
}

/// The measured send rate, smoothed, updated once per time bucket.
#[derive(Clone, Copy, Debug, PartialEq)]
struct SendRate {
    measured: f64,
    count: f64,
    last_bucket: f64,
}

impl SendRate {
    fn new(t: f64) -> Self {
        SendRate {
            measured: 0.0,
            count: 0.0,
            // As in the SDKs: the first bucket boundary is a whole second.
            last_bucket: t.floor(),
        }
    }

    /// Counts one response at `t`; returns the measured rate.
    fn record(&mut self, t: f64) -> f64 {
        let scale = 1.0 / SEND_RATE_BUCKET;
        let bucket = (t * scale).floor() / scale;
        self.count += 1.0;
        if bucket > self.last_bucket {
            let current = self.count / (bucket - self.last_bucket);
            self.measured =
                current * SEND_RATE_SMOOTHING + self.measured * (1.0 - SEND_RATE_SMOOTHING);
            self.count = 0.0;
            self.last_bucket = bucket;
        }
        self.measured
    }
}

/// The token bucket sends are drawn from once the limiter is enabled.
#[derive(Clone, Copy, Debug, PartialEq)]
struct TokenBucket {
    fill_rate: f64,
    max_capacity: f64,
    capacity: f64,
    last_refill: f64,
}

impl TokenBucket {
    /// An empty bucket at `t` filling at one token per second.
    fn new(t: f64) -> Self {
        let mut bucket = TokenBucket {
            fill_rate: MIN_FILL_RATE,
            max_capacity: MIN_CAPACITY,
            capacity: 0.0,
            last_refill: t,
        };
        bucket.set_rate(1.0, t);
        bucket
    }

    /// Adds the tokens accrued since the last refill.
    fn refill(&mut self, t: f64) {
        let elapsed = (t - self.last_refill).max(0.0);
        self.capacity = (self.capacity + elapsed * self.fill_rate).min(self.max_capacity);
        self.last_refill = self.last_refill.max(t);
    }

    /// Changes the fill rate at `t` (tokens accrued so far count at the old rate).
    fn set_rate(&mut self, rate: f64, t: f64) {
        self.refill(t);
        self.fill_rate = rate.max(MIN_FILL_RATE);
        self.max_capacity = rate.max(MIN_CAPACITY);
        self.capacity = self.capacity.min(self.max_capacity);
    }

    /// Takes a token at `t`, or says how long until one is there (rounded up to a whole
    /// nanosecond, so that waiting that long always makes progress).
    fn try_acquire(&mut self, t: f64) -> Result<(), Duration> {
        /// Tolerance for floating-point error in the accrued capacity.
        const EPSILON: f64 = 1e-9;
        self.refill(t);
        if self.capacity >= 1.0 - EPSILON {
            self.capacity = (self.capacity - 1.0).max(0.0);
            Ok(())
        } else {
            let seconds = (1.0 - self.capacity) / self.fill_rate;
            Err(Duration::from_nanos((seconds * 1e9).ceil().max(1.0) as u64))
        }
    }
}

/// The rate-limiter arithmetic of one key.
#[derive(Clone, Copy, Debug, PartialEq)]
struct RateLimiter {
    cubic: Cubic,
    send_rate: SendRate,
    bucket: TokenBucket,
    /// Off until the first throttling error: until then sends never wait.
    enabled: bool,
}

impl RateLimiter {
    fn new(t: f64) -> Self {
        RateLimiter {
            cubic: Cubic::new(0.0, t),
            send_rate: SendRate::new(t),
            bucket: TokenBucket::new(t),
            enabled: false,
        }
    }

    /// Updates the rate after a response at `t`.
    fn on_response(&mut self, t: f64, throttled: bool) {
        let measured = self.send_rate.record(t);
        let new_rate = if throttled {
            let rate = if self.enabled {
                measured.min(self.bucket.fill_rate)
            } else {
                measured
            };
            self.enabled = true;
            self.cubic.throttle(rate, t)
        } else {
            self.cubic.success(t)
        };
        self.bucket
            .set_rate(new_rate.min(MAX_RATE_ADJUST_SCALE * measured), t);
    }
}

/// One key's rate limiter and the queue of sends waiting on it.
struct AdaptiveLimiter {
    rate: Mutex<RateLimiter>,
    /// Mirrors `rate.enabled` so unthrottled sends skip every lock.
    enabled: AtomicBool,
    /// Waiting sends take turns (first come, first served); only the head of the queue
    /// watches the bucket.
    queue: tokio::sync::Mutex<()>,
    /// Wakes the head of the queue when the fill rate changes.
    rate_changed: Notify,
}

impl AdaptiveLimiter {
    fn new(t: f64) -> Self {
        AdaptiveLimiter {
            rate: Mutex::new(RateLimiter::new(t)),
            enabled: AtomicBool::new(false),
            queue: tokio::sync::Mutex::new(()),
            rate_changed: Notify::new(),
        }
    }

    async fn acquire(&self, clock: &dyn Clock) {
        if !self.enabled.load(Ordering::Acquire) {
            return;
        }
        let _turn = self.queue.lock().await;
        loop {
            // Listen for rate changes before looking at the bucket, so none is missed.
            let rate_changed = self.rate_changed.notified();
            let mut rate_changed = std::pin::pin!(rate_changed);
            rate_changed.as_mut().enable();
            let wait = lock(&self.rate)
                .bucket
                .try_acquire(clock.now().as_secs_f64());
            let Err(wait) = wait else { return };
            let mut sleep = clock.sleep(wait);
            std::future::poll_fn(|cx| {
                if sleep.as_mut().poll(cx).is_ready() || rate_changed.as_mut().poll(cx).is_ready() {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            })
            .await;
        }
    }

    fn on_response(&self, t: f64, throttled: bool) {
        let mut rate = lock(&self.rate);
        rate.on_response(t, throttled);
        if rate.enabled {
            self.enabled.store(true, Ordering::Release);
            self.rate_changed.notify_waiters();
        }
    }
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Locks a mutex, ignoring poisoning: the guarded values are plain numbers that a panic
/// elsewhere cannot leave half-updated in a harmful way.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `300s`, `1.5s`, `250ms`.
fn seconds(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests;
