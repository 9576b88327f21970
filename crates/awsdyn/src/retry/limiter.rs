//! The retry quota and the adaptive rate limiter (CUBIC fill rate, token bucket).

use super::*;

// ---------------------------------------------------------------------------------------
// Retry quota
// ---------------------------------------------------------------------------------------

/// The retry quota of one key: retries take tokens, successes give them back; no
/// tokens, no retry.
#[derive(Debug)]
pub(super) struct RetryQuota {
    max: u32,
    pub(super) available: u32,
}

impl RetryQuota {
    pub(super) fn new(capacity: u32) -> Self {
        RetryQuota {
            max: capacity,
            available: capacity,
        }
    }

    /// Takes `amount` tokens if there are that many.
    pub(super) fn acquire(&mut self, amount: u32) -> bool {
        if amount > self.available {
            return false;
        }
        self.available -= amount;
        true
    }

    /// Gives back `amount` tokens, never above the initial capacity.
    pub(super) fn release(&mut self, amount: u32) {
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
pub(super) const CUBIC_BETA: f64 = 0.7;
/// How fast the rate grows back after a throttling error.
pub(super) const CUBIC_SCALE: f64 = 0.4;
/// Weight of the newest measurement in the smoothed send rate.
pub(super) const SEND_RATE_SMOOTHING: f64 = 0.8;
/// Width, in seconds, of the time buckets the send rate is measured over.
pub(super) const SEND_RATE_BUCKET: f64 = 0.5;
/// The fill rate never drops below this many tokens per second.
pub(super) const MIN_FILL_RATE: f64 = 0.5;
/// The bucket always holds at least this many tokens when full.
pub(super) const MIN_CAPACITY: f64 = 1.0;
/// A success may raise the rate to at most this multiple of the measured send rate.
pub(super) const MAX_RATE_ADJUST_SCALE: f64 = 2.0;

/// The CUBIC rate curve (as in TCP CUBIC, with the rate in place of the window):
/// after a throttling error at `last_fail` with rate `w_max`, the rate is
/// `CUBIC_SCALE * (t - last_fail - k)^3 + w_max`, where `k` is when the curve climbs back
/// to `w_max`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Cubic {
    w_max: f64,
    pub(super) k: f64,
    last_fail: f64,
}

impl Cubic {
    pub(super) fn new(w_max: f64, last_fail: f64) -> Self {
        Cubic {
            w_max,
            k: Self::zero_point(w_max),
            last_fail,
        }
    }

    /// Seconds after a throttling error at which the curve is back at `w_max`.
    pub(super) fn zero_point(w_max: f64) -> f64 {
        (w_max * (1.0 - CUBIC_BETA) / CUBIC_SCALE).cbrt()
    }

    /// The rate the curve allows at `t`.
    pub(super) fn success(&self, t: f64) -> f64 {
        CUBIC_SCALE * (t - self.last_fail - self.k).powi(3) + self.w_max
    }

    /// Restarts the curve from a throttling error at `t` while sending at `rate`; returns
    /// the reduced rate.
    pub(super) fn throttle(&mut self, rate: f64, t: f64) -> f64 {
        *self = Cubic::new(rate, t);
        rate * CUBIC_BETA
    }
}

/// The measured send rate, smoothed, updated once per time bucket.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct SendRate {
    pub(super) measured: f64,
    count: f64,
    last_bucket: f64,
}

impl SendRate {
    pub(super) fn new(t: f64) -> Self {
        SendRate {
            measured: 0.0,
            count: 0.0,
            // As in the SDKs: the first bucket boundary is a whole second.
            last_bucket: t.floor(),
        }
    }

    /// Counts one response at `t`; returns the measured rate.
    pub(super) fn record(&mut self, t: f64) -> f64 {
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
pub(super) struct TokenBucket {
    pub(super) fill_rate: f64,
    pub(super) max_capacity: f64,
    pub(super) capacity: f64,
    last_refill: f64,
}

impl TokenBucket {
    /// An empty bucket at `t` filling at one token per second.
    pub(super) fn new(t: f64) -> Self {
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
    pub(super) fn refill(&mut self, t: f64) {
        let elapsed = (t - self.last_refill).max(0.0);
        self.capacity = (self.capacity + elapsed * self.fill_rate).min(self.max_capacity);
        self.last_refill = self.last_refill.max(t);
    }

    /// Changes the fill rate at `t` (tokens accrued so far count at the old rate).
    pub(super) fn set_rate(&mut self, rate: f64, t: f64) {
        self.refill(t);
        self.fill_rate = rate.max(MIN_FILL_RATE);
        self.max_capacity = rate.max(MIN_CAPACITY);
        self.capacity = self.capacity.min(self.max_capacity);
    }

    /// Takes a token at `t`, or says how long until one is there (rounded up to a whole
    /// nanosecond, so that waiting that long always makes progress).
    pub(super) fn try_acquire(&mut self, t: f64) -> Result<(), Duration> {
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
pub(super) struct RateLimiter {
    cubic: Cubic,
    pub(super) send_rate: SendRate,
    pub(super) bucket: TokenBucket,
    /// Off until the first throttling error: until then sends never wait.
    pub(super) enabled: bool,
}

impl RateLimiter {
    pub(super) fn new(t: f64) -> Self {
        RateLimiter {
            cubic: Cubic::new(0.0, t),
            send_rate: SendRate::new(t),
            bucket: TokenBucket::new(t),
            enabled: false,
        }
    }

    /// Updates the rate after a response at `t`.
    pub(super) fn on_response(&mut self, t: f64, throttled: bool) {
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
pub(super) struct AdaptiveLimiter {
    pub(super) rate: Mutex<RateLimiter>,
    /// Mirrors `rate.enabled` so unthrottled sends skip every lock.
    enabled: AtomicBool,
    /// Waiting sends take turns (first come, first served); only the head of the queue
    /// watches the bucket.
    queue: tokio::sync::Mutex<()>,
    /// Wakes the head of the queue when the fill rate changes.
    rate_changed: Notify,
}

impl AdaptiveLimiter {
    pub(super) fn new(t: f64) -> Self {
        AdaptiveLimiter {
            rate: Mutex::new(RateLimiter::new(t)),
            enabled: AtomicBool::new(false),
            queue: tokio::sync::Mutex::new(()),
            rate_changed: Notify::new(),
        }
    }

    pub(super) async fn acquire(&self, clock: &dyn Clock) {
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

    pub(super) fn on_response(&self, t: f64, throttled: bool) {
        let mut rate = lock(&self.rate);
        rate.on_response(t, throttled);
        if rate.enabled {
            self.enabled.store(true, Ordering::Release);
            self.rate_changed.notify_waiters();
        }
    }
}
