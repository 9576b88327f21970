//! Classification: which errors are throttling, transient or final.

use super::*;

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
pub(super) fn bare_error_code(code: &str) -> &str {
    let code = code.rsplit('#').next().unwrap_or(code);
    code.split(':').next().unwrap_or(code).trim()
}
