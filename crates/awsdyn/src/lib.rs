//! awsdyn: a model-driven AWS client.
//!
//! awsdyn ships the botocore service models as one compact bundle and drives every AWS
//! call from them: it serializes the input for the service's wire protocol and parses
//! the response into JSON shaped exactly as boto3 returns it. It knows nothing about
//! accounts, organizations or scans: that is the `census` crate's business.
//!
//! - [`model`]: the bundle, service models, shapes and operations.
//! - [`protocol`]: request serialization and response parsing for `query`, `ec2`,
//!   `json`, `rest-json` and `rest-xml`.
//! - [`timestamp`]: every timestamp format the protocols use.

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
pub use model::{Operation, Protocol, ServiceModel, Shape, ShapeId, ShapeRef, ShapeType};
pub use protocol::{Request, Response};
