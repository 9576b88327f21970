//! Retry configuration: the modes, the settings and their defaults.

use super::*;

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
    /// Services whose keys get the adaptive rate limiter whatever the mode: those that
    /// limit a caller to a few requests a second for all its calls (Organizations about
    /// 5/s, STS AssumeRole about 20/s), where a scan's many calls in flight would
    /// otherwise be throttled more often than answered.
    pub paced_services: Vec<String>,
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
            paced_services: PACED_SERVICES.iter().map(|s| s.to_string()).collect(),
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

/// [`RetryConfig::paced_services`] by default.
pub const PACED_SERVICES: &[&str] = &["organizations", "sts"];

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
