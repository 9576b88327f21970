//! A credentials cache that refreshes before expiry, one refresh at a time.
//!
//! AWS credential providers (aws-config's default chain, STS AssumeRole) fetch fresh
//! credentials on every call; the AWS SDKs cache them in their request pipeline, which
//! awsdyn does not use. [`Cached`] is that cache for Census: it keeps the last
//! credentials, hands them out until a margin before their expiry, then fetches new
//! ones. Concurrent callers share one refresh (single-flight): the first takes the
//! refresh lock and fetches, the others wait on the lock and then find the fresh
//! credentials.
//!
//! If a refresh fails while the cached credentials are still good for a while, those
//! are handed out and the refresh is tried again a little later, so that one failed STS
//! call in the last minutes of a session does not fail a scan.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{self, error::CredentialsError, ProvideCredentials};
use aws_credential_types::Credentials;

use super::AccessError;

/// Where time comes from, so that tests can move it instead of sleeping.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> SystemTime;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// How long before expiry credentials are refreshed, by default.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// Cached credentials good for less than this are not handed out after a failed refresh.
const MIN_REMAINING: Duration = Duration::from_secs(60);

/// Fresh credentials are kept at least this long.
const MIN_CACHE: Duration = Duration::from_secs(30);

/// After a failed refresh (with usable credentials still cached), the next attempt waits
/// this long, so that a failing STS is not asked again on every request.
const RETRY_FAILED_REFRESH: Duration = Duration::from_secs(30);

/// The future a [`Fetch`] returns.
pub(crate) type FetchFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Credentials, AccessError>> + Send + 'a>>;

/// Something that gets new credentials: the default chain, or a role to assume.
pub(crate) trait Fetch: Send + Sync + fmt::Debug {
    fn fetch(&self) -> FetchFuture<'_>;
}

/// The cached credentials and when to fetch new ones.
#[derive(Clone)]
struct Entry {
    credentials: Credentials,
    /// `None`: never (credentials without expiry).
    refresh_at: Option<SystemTime>,
}

/// A caching, refreshing credentials provider around a [`Fetch`]. See the module
/// documentation.
pub(crate) struct Cached<F> {
    source: F,
    clock: Arc<dyn Clock>,
    margin: Duration,
    entry: RwLock<Option<Entry>>,
    refresh: tokio::sync::Mutex<()>,
}

impl<F: Fetch> Cached<F> {
    pub(crate) fn new(source: F, clock: Arc<dyn Clock>, margin: Duration) -> Cached<F> {
        Cached {
            source,
            clock,
            margin,
            entry: RwLock::new(None),
            refresh: tokio::sync::Mutex::new(()),
        }
    }

    /// The cached credentials if they need no refresh yet.
    fn fresh(&self, now: SystemTime) -> Option<Credentials> {
        let entry = self.entry.read().unwrap_or_else(|e| e.into_inner());
        entry
            .as_ref()
            .filter(|e| e.refresh_at.is_none_or(|at| now < at))
            .map(|e| e.credentials.clone())
    }

    /// Credentials, fetched only when the cached ones are missing or due for refresh.
    pub(crate) async fn get(&self) -> Result<Credentials, AccessError> {
        if let Some(c) = self.fresh(self.clock.now()) {
            return Ok(c);
        }
        let _one_refresh = self.refresh.lock().await;
        // Whoever held the lock before us may have refreshed already.
        let now = self.clock.now();
        if let Some(c) = self.fresh(now) {
            return Ok(c);
        }
        match self.source.fetch().await {
            Ok(credentials) => {
                let refresh_at = credentials
                    .expiry()
                    .map(|expiry| refresh_time(now, expiry, self.margin));
                if credentials.expiry().is_some_and(|expiry| expiry <= now) {
                    tracing::warn!(
                        source = ?self.source,
                        "new credentials expire at {}, before the local clock's now ({}): is the clock right?",
                        credentials.expiry().map(humantime_utc).unwrap_or_default(),
                        humantime_utc(now)
                    );
                }
                tracing::debug!(
                    source = ?self.source,
                    expires = ?credentials.expiry().map(humantime_utc),
                    "fetched credentials"
                );
                *self.entry.write().unwrap_or_else(|e| e.into_inner()) = Some(Entry {
                    credentials: credentials.clone(),
                    refresh_at,
                });
                Ok(credentials)
            }
            Err(error) => {
                let mut entry = self.entry.write().unwrap_or_else(|e| e.into_inner());
                let usable = entry.as_mut().filter(|e| {
                    e.credentials
                        .expiry()
                        .is_some_and(|expiry| now + MIN_REMAINING < expiry)
                });
                match usable {
                    Some(e) => {
                        tracing::warn!(
                            "refreshing credentials failed, using the current ones until {}: {error}",
                            e.credentials.expiry().map(humantime_utc).unwrap_or_default()
                        );
                        e.refresh_at = Some(now + RETRY_FAILED_REFRESH);
                        Ok(e.credentials.clone())
                    }
                    None => Err(error),
                }
            }
        }
    }
}

/// When to refresh credentials fetched at `now` that expire at `expiry`: `margin` before
/// expiry, but never in the first half of their lifetime (a short session would
/// otherwise be refreshed on every request), and never sooner than [`MIN_CACHE`] from
/// now (credentials that look expired on arrival mean a wrong local clock; fetching
/// again on every request would not help).
fn refresh_time(now: SystemTime, expiry: SystemTime, margin: Duration) -> SystemTime {
    let lifetime = expiry.duration_since(now).unwrap_or_default();
    (expiry - margin.min(lifetime / 2)).max(now + MIN_CACHE)
}

/// `2026-11-24T06:50:00Z`, for log lines.
fn humantime_utc(t: SystemTime) -> String {
    let t: chrono::DateTime<chrono::Utc> = t.into();
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl<F: Fetch> fmt::Debug for Cached<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the credentials themselves.
        let expiry = self
            .entry
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .and_then(|e| e.credentials.expiry())
            .map(humantime_utc);
        f.debug_struct("Cached")
            .field("source", &self.source)
            .field("expiry", &expiry)
            .finish()
    }
}

impl<F: Fetch + 'static> ProvideCredentials for Cached<F> {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        provider::future::ProvideCredentials::new(async move {
            self.get().await.map_err(CredentialsError::provider_error)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    #[derive(Debug)]
    struct ManualClock(Mutex<SystemTime>);

    impl Clock for ManualClock {
        fn now(&self) -> SystemTime {
            *self.0.lock().unwrap()
        }
    }

    impl ManualClock {
        fn advance(&self, d: Duration) {
            *self.0.lock().unwrap() += d;
        }
    }

    /// Hands out numbered credentials valid for `lifetime` (none: no expiry), or fails
    /// once `fail` is set.
    #[derive(Debug)]
    struct Counter {
        clock: Arc<ManualClock>,
        lifetime: Option<Duration>,
        calls: AtomicUsize,
        fail: std::sync::atomic::AtomicBool,
        /// Expiry counted from the epoch instead of the clock's now: a skewed clock.
        skewed: std::sync::atomic::AtomicBool,
    }

    impl Fetch for Counter {
        fn fetch(&self) -> FetchFuture<'_> {
            Box::pin(async move {
                // Yield so that concurrent callers really overlap.
                tokio::task::yield_now().await;
                let n = self.calls.fetch_add(1, Ordering::SeqCst);
                if self.fail.load(Ordering::SeqCst) {
                    return Err(AccessError::test_error());
                }
                Ok(Credentials::new(
                    format!("AKID{n}"),
                    "secret",
                    None,
                    self.lifetime.map(|l| {
                        if self.skewed.load(Ordering::SeqCst) {
                            SystemTime::UNIX_EPOCH + l
                        } else {
                            self.clock.now() + l
                        }
                    }),
                    "test",
                ))
            })
        }
    }

    fn setup(lifetime: Option<Duration>) -> (Arc<ManualClock>, Arc<Cached<Counter>>) {
        let clock = Arc::new(ManualClock(Mutex::new(SystemTime::UNIX_EPOCH)));
        let counter = Counter {
            clock: clock.clone(),
            lifetime,
            calls: AtomicUsize::new(0),
            fail: false.into(),
            skewed: false.into(),
        };
        let cached = Arc::new(Cached::new(counter, clock.clone(), DEFAULT_REFRESH_MARGIN));
        (clock, cached)
    }

    #[tokio::test]
    async fn credentials_without_expiry_are_fetched_once() {
        let (clock, cached) = setup(None);
        for _ in 0..10 {
            assert_eq!(cached.get().await.unwrap().access_key_id(), "AKID0");
            clock.advance(Duration::from_secs(86_400));
        }
        assert_eq!(cached.source.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn refreshed_a_margin_before_expiry_by_one_caller() {
        let (clock, cached) = setup(Some(Duration::from_secs(3600)));
        assert_eq!(cached.get().await.unwrap().access_key_id(), "AKID0");
        clock.advance(Duration::from_secs(3600 - 301));
        assert_eq!(cached.get().await.unwrap().access_key_id(), "AKID0");
        clock.advance(Duration::from_secs(2));
        let all = futures::future::join_all((0..16).map(|_| cached.get())).await;
        for c in all {
            assert_eq!(c.unwrap().access_key_id(), "AKID1");
        }
        assert_eq!(cached.source.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn short_sessions_are_kept_for_half_their_life() {
        let (clock, cached) = setup(Some(Duration::from_secs(120)));
        cached.get().await.unwrap();
        clock.advance(Duration::from_secs(59));
        assert_eq!(cached.get().await.unwrap().access_key_id(), "AKID0");
        clock.advance(Duration::from_secs(2));
        assert_eq!(cached.get().await.unwrap().access_key_id(), "AKID1");
    }

    #[tokio::test]
    async fn credentials_expired_on_arrival_are_kept_briefly() {
        let (clock, cached) = setup(Some(Duration::from_secs(900)));
        cached.get().await.unwrap();
        cached.source.skewed.store(true, Ordering::SeqCst);
        clock.advance(Duration::from_secs(3600));
        // Fetched "after" their expiry by the local clock: kept 30 s, not refetched per call.
        for _ in 0..5 {
            cached.get().await.unwrap();
        }
        assert_eq!(cached.source.calls.load(Ordering::SeqCst), 2);
        clock.advance(Duration::from_secs(31));
        cached.get().await.unwrap();
        assert_eq!(cached.source.calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_usable_credentials_then_fails() {
        let (clock, cached) = setup(Some(Duration::from_secs(900)));
        cached.get().await.unwrap();
        cached.source.fail.store(true, Ordering::SeqCst);
        clock.advance(Duration::from_secs(601));
        // Refresh fails; the cached credentials have 299 s left: still handed out.
        assert_eq!(cached.get().await.unwrap().access_key_id(), "AKID0");
        assert_eq!(cached.source.calls.load(Ordering::SeqCst), 2);
        // No new attempt for a while.
        clock.advance(Duration::from_secs(10));
        cached.get().await.unwrap();
        assert_eq!(cached.source.calls.load(Ordering::SeqCst), 2);
        // Too close to expiry: the error comes through.
        clock.advance(Duration::from_secs(260));
        assert!(cached.get().await.is_err());
        cached.source.fail.store(false, Ordering::SeqCst);
        assert_eq!(cached.get().await.unwrap().access_key_id(), "AKID3");
    }
}
