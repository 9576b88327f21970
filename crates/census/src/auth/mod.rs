//! Credentials: the base ones from the AWS default chain, and per-account ones from
//! roles assumed in each account.
//!
//! - [`load_base`]: the default chain of aws-config (environment, `.env` through
//!   [`load_dotenv`], shared profiles incl. SSO and `credential_source`, web identity,
//!   ECS, IMDS), with `--profile` and `--region` applied, wrapped in a cache that
//!   refreshes before expiry (aws-config's providers fetch on every call).
//! - [`caller_identity`]: who those credentials belong to (sts GetCallerIdentity), and
//!   so the partition and the caller's own account.
//! - [`Access`]: credentials per [`Account`](crate::account::Account), from
//!   [`RoleOptions`]; failures are [`AccessError`]s that say what to do.
//!
//! Every AWS call here goes through awsdyn, so it is retried and rate-limited like any
//! other. Secrets never reach errors, `Debug` output or logs.

// `AccessError` carries its context by value (account, role, code, message,
// remediation): it is made once per failing account, so boxing would only add an
// allocation and hide the fields.
#![allow(clippy::result_large_err)]

mod access;
mod arn;
mod assume;
mod cache;
mod error;

use std::sync::Arc;

use anyhow::{bail, Result};
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::SharedCredentialsProvider;
use awsdyn::client::{Client, EndpointSettings, Target};
use serde::Serialize;

pub use access::{
    is_external_id, is_session_name, Access, OrgRoute, RoleOptions, DEFAULT_DURATION,
    DEFAULT_ROLE_NAME,
};
pub use arn::{check_role_name, is_account_id, RoleArn, PARTITIONS};
pub use cache::{Clock, SystemClock, DEFAULT_REFRESH_MARGIN};
pub(crate) use error::{is_expired_code, one_line, ReadFailure};
pub use error::{AccessError, AccessErrorKind};

/// What the default chain gave: credentials, region, and where calls go.
#[derive(Clone, Debug)]
pub struct Base {
    /// The base credentials, cached and refreshed before expiry.
    pub credentials: SharedCredentialsProvider,
    pub region: Option<String>,
    /// `AWS_ENDPOINT_URL` or the profile's `endpoint_url`.
    pub endpoint_url: Option<String>,
    /// Every endpoint setting for awsdyn targets: [`EndpointSettings::from_env`], with
    /// the profile's `endpoint_url` when the environment sets none.
    pub endpoints: Arc<EndpointSettings>,
    /// The shared-config profile used, if one was named (for remediation texts).
    pub profile: Option<String>,
}

impl Base {
    /// Base credentials given directly (tests, or credentials from elsewhere): used as
    /// they are, without a cache.
    pub fn new(
        credentials: SharedCredentialsProvider,
        region: Option<String>,
        endpoints: EndpointSettings,
    ) -> Base {
        Base {
            credentials,
            region,
            endpoint_url: endpoints.url.clone(),
            endpoints: Arc::new(endpoints),
            profile: None,
        }
    }
}

/// Loads the default chain, with `--profile` and `--region` applied.
pub async fn load_base(profile: Option<&str>, region: Option<&str>) -> Result<Base> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(p) = profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = region {
        loader = loader.region(Region::new(r.to_string()));
    }
    let conf = loader.load().await;
    let Some(chain) = conf.credentials_provider() else {
        bail!("no AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, use --profile, or run on a machine with an instance or task role");
    };
    let profile = profile.map(str::to_string);
    let credentials = SharedCredentialsProvider::new(cache::Cached::new(
        assume::Chain {
            inner: chain,
            profile: profile.clone(),
        },
        Arc::new(SystemClock),
        DEFAULT_REFRESH_MARGIN,
    ));
    let endpoint_url = conf.endpoint_url().map(str::to_string);
    let endpoints = configured_endpoints(&conf, endpoint_url.clone());
    Ok(Base {
        credentials,
        region: conf.region().map(|r| r.to_string()),
        endpoint_url,
        endpoints: Arc::new(endpoints),
        profile,
    })
}

/// The endpoint settings as the AWS SDKs define them: `AWS_ENDPOINT_URL_<SERVICE>`,
/// then `AWS_ENDPOINT_URL`, then the profile's `services` section
/// (`[services NAME]` with `<service> =` / `  endpoint_url = ...`), then the profile's
/// `endpoint_url`; none of them with `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` or the
/// profile's `ignore_configured_endpoint_urls`. aws-config resolves the order; this
/// asks it once per bundled service (no model is decoded: the ids are in the index).
fn configured_endpoints(conf: &aws_config::SdkConfig, global: Option<String>) -> EndpointSettings {
    use aws_types::service_config::ServiceConfigKey;
    let mut endpoints = EndpointSettings::from_env();
    // aws-config already applied the ignore flags to `endpoint_url()`.
    endpoints.url = global;
    endpoints.service_urls.clear();
    let Some(config) = conf.service_config() else {
        return endpoints;
    };
    for entry in awsdyn::model::services() {
        // Spaces as underscores: the env form upper-cases it, the profile form
        // lower-cases it (`resource_groups_tagging_api`), as the SDKs' spec writes them.
        let id = entry.service_id.replace(' ', "_");
        let Ok(key) = ServiceConfigKey::builder()
            .service_id(&id)
            .env("AWS_ENDPOINT_URL")
            .profile("endpoint_url")
            .build()
        else {
            continue;
        };
        if let Some(url) = config.load_config(key).filter(|u| !u.is_empty()) {
            if endpoints.url.as_deref() != Some(url.as_str()) {
                let key = awsdyn::client::env_key(&entry.service_id);
                endpoints.service_urls.insert(key, url);
            }
        }
    }
    endpoints
}

/// Reads `.env` from the working directory, if there is one (values already in the
/// environment win).
pub fn load_dotenv() {
    let _ = dotenvy::dotenv();
}

/// Who a set of credentials belongs to (sts GetCallerIdentity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub account_id: String,
    /// `arn:aws:iam::123456789012:user/me`, `arn:aws:sts::...:assumed-role/Role/session`.
    pub arn: String,
    pub user_id: String,
    /// From the ARN: `aws`, `aws-cn`, `aws-us-gov`...
    pub partition: String,
}

/// Asks STS who the base credentials belong to. Missing, expired or invalid credentials
/// give an [`AccessError`] of kind [`AccessErrorKind::BaseCredentials`] that says how to
/// refresh them.
pub async fn caller_identity(client: &Client, base: &Base) -> Result<Identity, AccessError> {
    use aws_credential_types::provider::ProvideCredentials;
    // Ask the chain first: its own message says best why there are no credentials.
    if let Err(e) = base.credentials.provide_credentials().await {
        let message = awsdyn::error::error_chain(&e);
        return Err(AccessError::no_base_credentials(
            message,
            base.profile.as_deref(),
        ));
    }
    let region = base
        .region
        .clone()
        .unwrap_or_else(|| "us-east-1".to_string());
    let target = Target::new(region.clone(), base.credentials.clone())
        .with_endpoints(base.endpoints.clone())
        .with_label("base");
    let out = client
        .call(&target, "sts", "GetCallerIdentity", &serde_json::json!({}))
        .await
        .map_err(|e| AccessError::base(&e, &region, base.profile.as_deref()))?;
    let text = |k: &str| out[k].as_str().unwrap_or_default().to_string();
    let arn = text("Arn");
    let partition = arn.split(':').nth(1).unwrap_or("aws").to_string();
    Ok(Identity {
        account_id: text("Account"),
        user_id: text("UserId"),
        arn,
        partition,
    })
}

/// The region for STS calls into `partition`: the base region when it is in that
/// partition (regional STS endpoints), else the partition's global region.
pub(crate) fn sts_region(base: &Base, partition: &str) -> String {
    if let Some(region) = &base.region {
        if crate::regions::check_region(region).is_ok_and(|p| p == partition) {
            return region.clone();
        }
    }
    crate::regions::global_region(partition)
        .map(str::to_string)
        .or_else(|| base.region.clone())
        .unwrap_or_else(|| "us-east-1".to_string())
}
