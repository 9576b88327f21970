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
//!   Services whose limits are per caller and low ([`RetryConfig::paced_services`]:
//!   Organizations, STS) get the limiter in standard mode too: a scan of thousands of
//!   accounts sends them far more than they answer, and without it every call in flight
//!   keeps retrying into the limit instead of going at the rate the service allows.
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

mod classify;
mod clock;
mod config;
mod limiter;

pub use classify::*;
pub use clock::*;
pub use config::*;
use limiter::*;

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
                    let state = Arc::new(KeyState::new(&self.config, key, now));
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
    /// Present in adaptive mode, and for [`RetryConfig::paced_services`].
    limiter: Option<AdaptiveLimiter>,
    last_used_ms: AtomicU64,
}

impl KeyState {
    fn new(config: &RetryConfig, key: &RetryKey, now: Duration) -> Self {
        let paced = config.mode == RetryMode::Adaptive
            || config.paced_services.iter().any(|s| **s == *key.service);
        KeyState {
            quota: Mutex::new(RetryQuota::new(config.retry_quota)),
            limiter: paced.then(|| AdaptiveLimiter::new(now.as_secs_f64())),
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
