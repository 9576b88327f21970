//! awsdyn: a model-driven AWS client.
//!
//! awsdyn ships the botocore service models as one compact bundle and drives every AWS
//! call from them: it serializes the input for the service's wire protocol and parses
//! the response into JSON shaped exactly as boto3 returns it. It knows nothing about
//! accounts, organizations or scans: that is the `census` crate's business.
//!
//! Modules, in the order a call goes through them (each line: what it is for; what it
//! is not for):
//!
//! - [`client`]: signed calls over HTTP with retries and pagination, boto3-shaped JSON
//!   back; not for wire formats or endpoint rules, which it delegates.
//! - [`model`]: the bundled botocore models (service models, endpoints.json,
//!   partitions.json) and their shapes and operations, with the load-time model
//!   changes; not for calling anything.
//! - [`facts`]: per-service facts as data (`services.json`): which botocore
//!   customizations a service gets, which operations are global; no code that applies
//!   them.
//! - [`customize`]: the call-time botocore customizations (input before, status and
//!   result after); not for wire formats or model loading.
//! - [`validate`]: checks an input against the operation's input shape before sending,
//!   botocore's ParamValidator; not for parsing answers.
//! - [`protocol`]: request serialization and response parsing for `query`, `ec2`,
//!   `json`, `rest-json` and `rest-xml`; not for HTTP, signing or endpoints.
//! - [`endpoint`]: the endpoint rule sets and partitions (which URL, which signing
//!   region); not for joining the request URI or signing.
//! - [`sign`]: SigV4 signing of one request; not for choosing the signing scope.
//! - [`retry`]: whether and when to retry an attempt, retry quotas and the adaptive
//!   rate limiter; knows nothing about HTTP.
//! - [`paginate`]: paginators (tokens, stop conditions, merging pages as boto3 does);
//!   not for sending the pages.
//! - [`error`]: the error values of a call and their text; not for deciding retries.
//! - [`timestamp`]: every timestamp format the protocols use, and boto3's output form;
//!   not for durations or clocks.
//! - [`names`]: name matching (PascalCase, snake_case, kebab-case) and "did you mean"
//!   suggestions; not for model lookups.
//! - [`xform`]: botocore's `xform_name` (operation name to boto3 method name), used
//!   through [`names::snake_case`]; nothing else.
//! - `fuzzing`: the bodies of the fuzz targets, hidden from the docs; not API.

// `Error` carries a whole `ServiceError` by value: a call returns it once, so boxing
// would only add an allocation to every failed call.
#![allow(clippy::result_large_err)]

pub mod client;
pub mod customize;
pub mod endpoint;
pub mod error;
pub mod facts;
#[doc(hidden)]
pub mod fuzzing;
pub mod model;
pub mod names;
pub mod paginate;
pub mod protocol;
pub mod retry;
pub mod sign;
pub mod timestamp;
pub mod validate;
pub mod xform;

pub use error::{Error, ServiceError};
pub use model::{ErrorRef, Operation, Protocol, ServiceModel, Shape, ShapeId, ShapeRef, ShapeType};
pub use protocol::{Request, Response};
