//! Clocks: the tokio clock, and a manual one for tests.

use super::*;

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
