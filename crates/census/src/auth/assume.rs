//! Fetching a role's credentials from STS through awsdyn, so that the calls are retried
//! and rate-limited like every other (keyed by the principal that signs them: STS limits
//! a caller's AssumeRole rate, whichever account the role is in).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use awsdyn::client::{Client, EndpointSettings, Target};
use serde_json::{json, Value};

use super::cache::{Fetch, FetchFuture};
use super::error::{AccessError, AssumeFailure};

/// How a role is entered.
#[derive(Clone)]
pub(crate) enum Method {
    /// sts AssumeRole, signed with these credentials (the base ones, or a management
    /// role's when chaining).
    AssumeRole {
        source: SharedCredentialsProvider,
        /// The ARN the role's trust policy must trust: the caller's, or the management
        /// role's.
        principal: String,
        external_id: Option<String>,
    },
    /// sts AssumeRoleWithWebIdentity with the token in this file, read again on every
    /// fetch (IRSA and similar rotate it).
    WebIdentity { token_file: PathBuf },
}

/// One role in one account, and how to get its credentials.
#[derive(Clone)]
pub(crate) struct Role {
    pub client: Client,
    pub account_id: String,
    pub role_arn: String,
    pub session_name: String,
    pub duration_seconds: u32,
    pub method: Method,
    /// The STS region.
    pub region: String,
    pub endpoints: Arc<EndpointSettings>,
    /// The base credentials: they sign nothing in web identity mode (that call is
    /// unsigned), but a target needs a provider.
    pub base: SharedCredentialsProvider,
    /// The profile the base credentials came from, for remediation texts.
    pub profile: Option<String>,
}

impl fmt::Debug for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let method = match &self.method {
            Method::AssumeRole { principal, .. } => format!("AssumeRole as {principal}"),
            Method::WebIdentity { token_file } => {
                format!("AssumeRoleWithWebIdentity with {}", token_file.display())
            }
        };
        f.debug_struct("Role")
            .field("account_id", &self.account_id)
            .field("role_arn", &self.role_arn)
            .field("method", &method)
            .finish()
    }
}

impl Role {
    async fn assume(&self) -> Result<Credentials, AccessError> {
        let mut input = json!({
            "RoleArn": self.role_arn,
            "RoleSessionName": self.session_name,
            "DurationSeconds": self.duration_seconds,
        });
        let (operation, signer, principal, external_id, token_file) = match &self.method {
            Method::AssumeRole {
                source,
                principal,
                external_id,
            } => {
                if let Some(id) = external_id {
                    input["ExternalId"] = Value::from(id.as_str());
                }
                (
                    "AssumeRole",
                    source.clone(),
                    principal.as_str(),
                    external_id.is_some(),
                    None,
                )
            }
            Method::WebIdentity { token_file } => {
                let token = std::fs::read_to_string(token_file).map_err(|e| {
                    AccessError::token_file(&self.account_id, &self.role_arn, token_file, &e)
                })?;
                let token = token.trim();
                if token.len() < 4 {
                    let e = std::io::Error::other("it holds no token");
                    return Err(AccessError::token_file(
                        &self.account_id,
                        &self.role_arn,
                        token_file,
                        &e,
                    ));
                }
                input["WebIdentityToken"] = Value::from(token);
                (
                    "AssumeRoleWithWebIdentity",
                    self.base.clone(),
                    "the web identity",
                    false,
                    Some(token_file.as_path()),
                )
            }
        };
        // STS limits the caller, not the target account: every AssumeRole signed by one
        // principal shares one retry key, so its rate limiter paces them all to the rate
        // STS answers (see awsdyn's paced services).
        let label = match &self.method {
            Method::AssumeRole { principal, .. } => format!("sts:{principal}"),
            Method::WebIdentity { .. } => "sts:web-identity".to_string(),
        };
        let target = Target::new(self.region.clone(), signer)
            .with_endpoints(self.endpoints.clone())
            .with_label(label);
        // awsdyn retries each request (throttling for its whole time budget); an
        // AssumeRole still failing with a retryable error gets one more round, as a
        // scan's calls do: the whole account depends on it.
        let out = match self.client.call(&target, "sts", operation, &input).await {
            Err(e) if e.is_retryable() => {
                tracing::info!(account = %self.account_id, error = %e, "{operation}: retryable error, one more round");
                self.client.call(&target, "sts", operation, &input).await
            }
            other => other,
        };
        let out = out.map_err(|e| {
            AccessError::assume(
                &AssumeFailure {
                    account_id: &self.account_id,
                    role_arn: &self.role_arn,
                    principal,
                    external_id,
                    token_file,
                    region: &self.region,
                    duration_seconds: self.duration_seconds,
                    profile: self.profile.as_deref(),
                },
                &e,
            )
        })?;
        self.credentials_from(&out["Credentials"])
    }

    fn credentials_from(&self, c: &Value) -> Result<Credentials, AccessError> {
        let text = |key: &str| {
            c[key]
                .as_str()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| AccessError::bad_response(&self.account_id, &self.role_arn, key))
        };
        let expiry: SystemTime = c["Expiration"]
            .as_str()
            .and_then(awsdyn::timestamp::parse)
            .ok_or_else(|| {
                AccessError::bad_response(&self.account_id, &self.role_arn, "an Expiration")
            })?
            .into();
        Ok(Credentials::builder()
            .access_key_id(text("AccessKeyId")?)
            .secret_access_key(text("SecretAccessKey")?)
            .session_token(text("SessionToken")?)
            .expiry(expiry)
            .account_id(self.account_id.as_str())
            .provider_name("census-assume-role")
            .build())
    }
}

impl Fetch for Role {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(async move {
            let credentials = self.assume().await?;
            tracing::debug!(
                account = %self.account_id,
                role = %self.role_arn,
                "assumed role"
            );
            Ok(credentials)
        })
    }
}

/// The base credentials from any provider (aws-config's default chain), as a [`Fetch`]
/// for the cache.
pub(crate) struct Chain {
    pub inner: SharedCredentialsProvider,
    pub profile: Option<String>,
}

impl fmt::Debug for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chain")
            .field("profile", &self.profile)
            .finish()
    }
}

impl Fetch for Chain {
    fn fetch(&self) -> FetchFuture<'_> {
        Box::pin(async move {
            self.inner.provide_credentials().await.map_err(|e| {
                AccessError::no_base_credentials(
                    awsdyn::error::error_chain(&e),
                    self.profile.as_deref(),
                )
            })
        })
    }
}
