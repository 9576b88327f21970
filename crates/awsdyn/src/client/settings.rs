//! Settings: of a client (timeouts, retries, response cap), of endpoints (environment
//! overrides) and of one call's target (region, credentials, label, deadline).

use super::*;

/// Client settings.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub retry: RetryConfig,
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Time allowed between reads of a response.
    pub read_timeout: Duration,
    /// Idle connections kept per host.
    pub pool_idle_per_host: usize,
    pub user_agent: String,
    /// The most bytes one response body may hold: a bigger one is not read into
    /// memory but fails the call ([`DEFAULT_MAX_RESPONSE_BYTES`], or
    /// `CENSUS_MAX_RESPONSE_MIB` mebibytes).
    pub max_response_bytes: usize,
}

/// What one response body may hold by default: 256 MiB. AWS pages are far smaller
/// (a few MB at most); a body past this is a fault, not an inventory.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 256 << 20;

/// [`DEFAULT_MAX_RESPONSE_BYTES`], or `CENSUS_MAX_RESPONSE_MIB` mebibytes when set;
/// `Err` when that is not a whole number from 1 to 65536 ([`Client::new`] refuses it).
pub fn max_response_bytes_from_env() -> Result<usize, String> {
    match std::env::var("CENSUS_MAX_RESPONSE_MIB") {
        Ok(v) if !v.trim().is_empty() => match v.trim().parse::<usize>() {
            Ok(n) if (1..=65536).contains(&n) => Ok(n << 20),
            _ => Err(format!(
                "CENSUS_MAX_RESPONSE_MIB={v:?}: not a whole number of MiB from 1 to 65536; unset it for the default 256"
            )),
        },
        _ => Ok(DEFAULT_MAX_RESPONSE_BYTES),
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            retry: RetryConfig::default(),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            pool_idle_per_host: 64,
            user_agent: format!(
                "census-awsdyn/{} botocore-models/1.43.67",
                env!("CARGO_PKG_VERSION")
            ),
            max_response_bytes: max_response_bytes_from_env().unwrap_or(DEFAULT_MAX_RESPONSE_BYTES),
        }
    }
}

/// Endpoint settings that apply to every call of a target: the configured endpoint
/// URLs (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE_ID>`, or a profile's
/// `endpoint_url` and `services` section), FIPS and dual-stack.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EndpointSettings {
    /// The endpoint URL for every service (`AWS_ENDPOINT_URL`).
    pub url: Option<String>,
    /// Per-service endpoint URLs, by the service's env-var key (`serviceId` upper-cased,
    /// spaces as underscores: `RESOURCE_GROUPS_TAGGING_API`).
    pub service_urls: HashMap<String, String>,
    pub use_fips: bool,
    pub use_dual_stack: bool,
    /// Paths to S3 buckets rather than bucket host names.
    pub s3_force_path_style: bool,
}

impl EndpointSettings {
    /// Reads `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE_ID>`,
    /// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`, `AWS_USE_FIPS_ENDPOINT` and
    /// `AWS_USE_DUALSTACK_ENDPOINT`, as the AWS SDKs define them.
    pub fn from_env() -> EndpointSettings {
        Self::from_vars(std::env::vars())
    }

    /// [`EndpointSettings::from_env`] over given variables.
    pub fn from_vars(vars: impl Iterator<Item = (String, String)>) -> EndpointSettings {
        let mut s = EndpointSettings::default();
        let mut ignore = false;
        let truthy = |v: &str| v.eq_ignore_ascii_case("true");
        for (k, v) in vars {
            match k.as_str() {
                "AWS_ENDPOINT_URL" if !v.is_empty() => s.url = Some(v),
                "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS" => ignore = truthy(&v),
                "AWS_USE_FIPS_ENDPOINT" => s.use_fips = truthy(&v),
                "AWS_USE_DUALSTACK_ENDPOINT" => s.use_dual_stack = truthy(&v),
                _ => {
                    if let Some(service) = k.strip_prefix("AWS_ENDPOINT_URL_") {
                        if !v.is_empty() {
                            s.service_urls.insert(service.to_string(), v);
                        }
                    }
                }
            }
        }
        if ignore {
            s.url = None;
            s.service_urls.clear();
        }
        s
    }

    /// The configured endpoint URL for a service, if any: the per-service one first.
    pub fn url_for(&self, model: &ServiceModel) -> Option<&str> {
        let key = env_key(&model.metadata.service_id);
        self.service_urls
            .get(&key)
            .or(self.url.as_ref())
            .map(String::as_str)
    }
}

/// `Resource Groups Tagging API` -> `RESOURCE_GROUPS_TAGGING_API`.
pub fn env_key(service_id: &str) -> String {
    service_id
        .chars()
        .map(|c| {
            if c == ' ' || c == '-' {
                '_'
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect()
}

/// Where and as whom calls run.
#[derive(Clone, Debug)]
pub struct Target {
    pub region: String,
    pub credentials: SharedCredentialsProvider,
    pub endpoints: Arc<EndpointSettings>,
    /// Keys the retry quotas and rate limiters together with service and region
    /// (Census: the account id).
    pub label: String,
    /// When the caller stops waiting (Census: the call's `--call-timeout`, which covers
    /// every page): no retry is planned to end past it, so that a call that keeps being
    /// throttled ends with the service's own error, not a timeout.
    pub deadline: Option<tokio::time::Instant>,
}

impl Target {
    pub fn new(region: impl Into<String>, credentials: SharedCredentialsProvider) -> Target {
        Target {
            region: region.into(),
            credentials,
            endpoints: Arc::new(EndpointSettings::default()),
            label: String::new(),
            deadline: None,
        }
    }

    pub fn with_endpoints(mut self, endpoints: Arc<EndpointSettings>) -> Target {
        self.endpoints = endpoints;
        self
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Target {
        self.label = label.into();
        self
    }

    /// Calls made through this target plan no retry past `deadline`.
    pub fn with_deadline(mut self, deadline: tokio::time::Instant) -> Target {
        self.deadline = Some(deadline);
        self
    }
}
