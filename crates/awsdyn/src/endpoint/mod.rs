//! Endpoint resolution: a generic evaluator of botocore's `endpoint-rule-set-1.json`
//! over `partitions.json`.
//!
//! Every service model carries a rule set: typed parameters (`Region`, `UseFIPS`,
//! `Endpoint`, `Bucket`, ...) and a tree of rules whose conditions call a small
//! standard library (`isSet`, `stringEquals`, `aws.partition`, `parseURL`, ...). The
//! first matching rule gives either an endpoint (URL, headers, properties such as the
//! signing name and region) or an error message. awsdyn evaluates any rule set the
//! same way, with no per-service code:
//!
//! - [`RuleSet`] is a rule set compiled once into Rust values ([`rule_set`] caches
//!   one per bundled service); [`RuleSet::resolve`] evaluates it for some [`Params`]
//!   and allocates little beyond the resulting [`Endpoint`].
//! - [`params_for`] builds the parameters of one call from the model, as botocore
//!   does: the operation's `staticContextParams`, input members marked `contextParam`,
//!   the operation's `operationContextParams` (a JMESPath subset), client context
//!   parameters and finally the built-ins (`AWS::Region`, `AWS::UseFIPS`, ...) from an
//!   [`EndpointConfig`].
//! - [`Partitions`] is `partitions.json`, parsed once; [`partition::global_region`] and
//!   [`partition::partition_of_region`] answer from it.
//!
//! What this module does not do: pick a signer, add the operation's host prefix, or
//! join the endpoint's path with the request URI. Those belong to the client.

mod functions;
mod jmespath;
mod params;
pub mod partition;
mod rules;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::model::{Operation, ServiceModel};

pub use functions::{
    is_valid_host_label, is_virtual_hostable_s3_bucket, parse_arn, parse_url, substring,
    uri_encode, Arn, Url,
};
pub use params::{params_for, EndpointConfig};
pub use partition::{Partition, Partitions};
pub use rules::{ParamKind, Parameter, RuleSet};

/// Why no endpoint could be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// An error rule matched; this is its message, exactly as the rule set words it
    /// (e.g. `Invalid Configuration: Missing Region`).
    #[error("{0}")]
    Rule(String),
    /// No rule matched the parameters (a rule set without a final catch-all rule).
    #[error("no endpoint found for parameters: {0}")]
    NoMatch(String),
    /// A required parameter has neither a value nor a default.
    #[error("Cannot find value for required parameter {0}")]
    MissingParameter(String),
    /// A parameter's value has the wrong type.
    #[error("endpoint parameter {name} must be a {expected}")]
    InvalidParameter {
        name: String,
        expected: &'static str,
    },
    /// The rule set (or partitions.json) is malformed or uses something this
    /// evaluator does not know, or a rule applied a function to the wrong type.
    #[error("endpoint rule set: {0}")]
    RuleSet(String),
}

/// The value of one endpoint parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    Bool(bool),
    String(String),
    StringList(Vec<String>),
}

impl ParamValue {
    /// The parameter value of a JSON boolean, string or list of strings.
    pub fn from_json(value: &Value) -> Option<ParamValue> {
        match value {
            Value::Bool(b) => Some(ParamValue::Bool(*b)),
            Value::String(s) => Some(ParamValue::String(s.clone())),
            Value::Array(items) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .map(ParamValue::StringList),
            _ => None,
        }
    }

    /// The value as JSON.
    pub fn to_json(&self) -> Value {
        match self {
            ParamValue::Bool(b) => Value::Bool(*b),
            ParamValue::String(s) => Value::String(s.clone()),
            ParamValue::StringList(l) => {
                Value::Array(l.iter().map(|s| Value::String(s.clone())).collect())
            }
        }
    }
}

impl From<bool> for ParamValue {
    fn from(b: bool) -> Self {
        ParamValue::Bool(b)
    }
}

impl From<&str> for ParamValue {
    fn from(s: &str) -> Self {
        ParamValue::String(s.to_string())
    }
}

impl From<String> for ParamValue {
    fn from(s: String) -> Self {
        ParamValue::String(s)
    }
}

impl From<Vec<String>> for ParamValue {
    fn from(l: Vec<String>) -> Self {
        ParamValue::StringList(l)
    }
}

/// Endpoint parameters by name (`Region`, `UseFIPS`, `Bucket`, ...). Names the rule
/// set does not declare are ignored; declared ones that are missing take the rule
/// set's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    values: BTreeMap<String, ParamValue>,
}

impl Params {
    pub fn new() -> Params {
        Params::default()
    }

    /// Sets a parameter, replacing any earlier value.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<ParamValue>) -> &mut Params {
        self.values.insert(name.into(), value.into());
        self
    }

    /// Builder form of [`Params::set`].
    pub fn with(mut self, name: impl Into<String>, value: impl Into<ParamValue>) -> Params {
        self.set(name, value);
        self
    }

    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.values.get(name)
    }

    pub fn remove(&mut self, name: &str) -> Option<ParamValue> {
        self.values.remove(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &ParamValue)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Parameters from a JSON object of booleans, strings and lists of strings
    /// (`null` members are left unset), as the endpoint test files write them.
    pub fn from_json(json: &Value) -> Result<Params, EndpointError> {
        let obj = json.as_object().ok_or_else(|| {
            EndpointError::RuleSet("endpoint parameters must be a JSON object".into())
        })?;
        let mut params = Params::new();
        for (name, v) in obj {
            if v.is_null() {
                continue;
            }
            let value =
                ParamValue::from_json(v).ok_or_else(|| EndpointError::InvalidParameter {
                    name: name.clone(),
                    expected: "boolean, string or list of strings",
                })?;
            params.set(name.clone(), value);
        }
        Ok(params)
    }
}

/// A resolved endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// The endpoint URL: scheme, host and, for a custom endpoint, maybe a path
    /// (`https://ec2.us-east-1.amazonaws.com`, `https://bucket.s3.amazonaws.com`).
    pub url: String,
    /// Headers to add to the request, each with its values.
    pub headers: IndexMap<String, Vec<String>>,
    /// Endpoint properties: `authSchemes`, and service-specific ones such as `backend`.
    pub properties: Map<String, Value>,
}

/// One entry of an endpoint's `authSchemes` property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthScheme<'a> {
    /// `sigv4`, `sigv4a`, `sigv4-s3express`, ...
    pub name: &'a str,
    /// The service name to sign with, when it is not the model's.
    pub signing_name: Option<&'a str>,
    /// The region to sign for (SigV4).
    pub signing_region: Option<&'a str>,
    /// The regions to sign for (SigV4a), e.g. `["*"]`.
    pub signing_region_set: Vec<&'a str>,
    /// Whether the signer must not encode the path a second time (S3).
    pub disable_double_encoding: bool,
}

impl Endpoint {
    /// The `authSchemes` property, in the rule set's order of preference.
    pub fn auth_schemes(&self) -> Vec<AuthScheme<'_>> {
        let Some(list) = self.properties.get("authSchemes").and_then(Value::as_array) else {
            return Vec::new();
        };
        list.iter()
            .filter_map(|s| {
                Some(AuthScheme {
                    name: s.get("name")?.as_str()?,
                    signing_name: s.get("signingName").and_then(Value::as_str),
                    signing_region: s.get("signingRegion").and_then(Value::as_str),
                    signing_region_set: s
                        .get("signingRegionSet")
                        .and_then(Value::as_array)
                        .map(|l| l.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default(),
                    disable_double_encoding: s
                        .get("disableDoubleEncoding")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                })
            })
            .collect()
    }

    /// The preferred auth scheme: the first of `authSchemes`, if any.
    pub fn auth_scheme(&self) -> Option<AuthScheme<'_>> {
        self.auth_schemes().into_iter().next()
    }

    /// The signing name of the preferred auth scheme, when it names one.
    pub fn signing_name(&self) -> Option<&str> {
        self.auth_scheme()?.signing_name
    }

    /// The signing region of the preferred auth scheme: its `signingRegion`, or the
    /// first entry of its `signingRegionSet`.
    pub fn signing_region(&self) -> Option<&str> {
        let scheme = self.auth_scheme()?;
        scheme
            .signing_region
            .or_else(|| scheme.signing_region_set.first().copied())
    }
}

/// The compiled rule set of a service, compiled on first use. The rule sets of
/// bundled models ([`crate::model::load`]) are cached for the life of the process;
/// those of other models are compiled on each call.
pub fn rule_set(model: &ServiceModel) -> Result<Arc<RuleSet>, EndpointError> {
    // Bundled models are never freed, so their address identifies them for good;
    // only they enter the cache.
    static CACHE: OnceLock<Mutex<HashMap<usize, Arc<RuleSet>>>> = OnceLock::new();
    let key = model as *const ServiceModel as usize;
    let cache = CACHE.get_or_init(Default::default);
    if let Some(rs) = cache.lock().unwrap().get(&key) {
        return Ok(rs.clone());
    }
    let rs = Arc::new(RuleSet::from_json(&model.endpoint_rule_set())?);
    let bundled = crate::model::find_service(&model.name).is_some()
        && crate::model::load(&model.name).is_ok_and(|m| std::ptr::eq(Arc::as_ptr(&m), model));
    if bundled {
        return Ok(cache.lock().unwrap().entry(key).or_insert(rs).clone());
    }
    Ok(rs)
}

/// Resolves the endpoint of one call: [`params_for`] then [`RuleSet::resolve`].
pub fn resolve(
    model: &ServiceModel,
    operation: &Operation,
    input: &Value,
    config: &EndpointConfig,
) -> Result<Endpoint, EndpointError> {
    let rules = rule_set(model)?;
    rules.resolve(&rules.params_for(model, operation, input, config))
}
