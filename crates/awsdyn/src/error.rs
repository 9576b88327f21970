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
    UnknownService { name: String, suggestions: Vec<String> },
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
}

fn did_you_mean(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", s.join(", "))
    }
}
