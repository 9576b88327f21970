//! Errors: what went wrong in a call, as a value.

use serde_json::{Map, Value};

/// An error returned by an AWS service, parsed from the response for any protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceError {
    /// The error code, e.g. `AccessDenied`, `ThrottlingException` (namespace and
    /// `:`-suffix stripped, as botocore does).
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    /// HTTP status of the response.
    pub status: u16,
    /// The modeled error members, when the code names an error shape of the operation
    /// (boto3-shaped, e.g. `{"Message": "..."}`), otherwise empty.
    pub fields: Map<String, Value>,
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (HTTP {})", self.code, self.status)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bundled or given model is unusable.
    #[error("{0}")]
    Model(String),
    #[error("unknown service {name:?}{}", did_you_mean(.suggestions))]
    UnknownService {
        name: String,
        suggestions: Vec<String>,
    },
    #[error("unknown operation {operation:?} for service {service}{}", did_you_mean(.suggestions))]
    UnknownOperation {
        service: String,
        operation: String,
        suggestions: Vec<String>,
    },
    /// The input does not fit the operation's input shape.
    #[error("invalid input for {operation}: {message}")]
    Validation { operation: String, message: String },
    /// The service answered with an error.
    #[error("{0}")]
    Service(ServiceError),
    /// The response could not be parsed.
    #[error("could not parse the {operation} response (HTTP {status}): {message}")]
    Parse {
        operation: String,
        status: u16,
        message: String,
    },
    /// No complete response came back (connection refused or reset, timeout...).
    #[error("{operation}: {message}")]
    Transport {
        operation: String,
        message: String,
        /// Whether a later try may get through (a reset or a timeout may; a request
        /// that could not be built or signed will not).
        retryable: bool,
    },
    /// The credentials could not be obtained.
    #[error("no credentials: {0}")]
    Credentials(String),
    /// The endpoint rule set gave an error, or the endpoint is unusable.
    #[error("no endpoint for {service} in region {region:?}: {message}")]
    Endpoint {
        service: String,
        region: String,
        message: String,
    },
    /// A paginated call went wrong between pages (e.g. the same token twice).
    #[error("{operation}: {message}")]
    Pagination { operation: String, message: String },
    /// The call was retried until its retry budget was spent; `last` is the last failure.
    #[error("{last} ({reason})")]
    GaveUp { reason: String, last: Box<Error> },
}

impl Error {
    /// The service error behind this error, if the service answered with one.
    pub fn service_error(&self) -> Option<&ServiceError> {
        match self {
            Error::Service(e) => Some(e),
            Error::GaveUp { last, .. } => last.service_error(),
            _ => None,
        }
    }

    /// Whether a later try of the call may succeed: throttling, 5xx, transient error
    /// codes, resets and timeouts (also when the retries of one call ran out on them).
    /// Errors that retrying cannot fix (access denied, validation, not found...) are not.
    pub fn is_retryable(&self) -> bool {
        use crate::retry::{classify, TOO_MANY_REQUESTS, TRANSIENT_STATUS_CODES};
        match self {
            Error::Service(e) => classify(Some(e.status), Some(&e.code), None).is_retryable(),
            Error::Transport { retryable, .. } => *retryable,
            Error::Parse { status, .. } => {
                *status == TOO_MANY_REQUESTS || TRANSIENT_STATUS_CODES.contains(status)
            }
            Error::GaveUp { last, .. } => last.is_retryable(),
            _ => false,
        }
    }

    /// A short code for the error: the AWS error code for service errors, otherwise
    /// the kind of failure (`Transport`, `Validation`, ...). Census records it per call.
    pub fn code(&self) -> &str {
        match self {
            Error::Service(e) => &e.code,
            Error::GaveUp { last, .. } => last.code(),
            Error::Model(_) => "Model",
            Error::UnknownService { .. } => "UnknownService",
            Error::UnknownOperation { .. } => "UnknownOperation",
            Error::Validation { .. } => "Validation",
            Error::Parse { .. } => "Parse",
            Error::Transport { .. } => "Transport",
            Error::Credentials(_) => "Credentials",
            Error::Endpoint { .. } => "Endpoint",
            Error::Pagination { .. } => "Pagination",
        }
    }
}

fn did_you_mean(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", s.join(", "))
    }
}
/// An error and its sources, joined with ": " (credential errors hide the cause in
/// their source chain).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
