//! Base credentials and region from the AWS default chain (environment, `.env`,
//! shared profiles incl. SSO and `credential_source`, web identity, ECS, IMDS).

use anyhow::{bail, Result};
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::SharedCredentialsProvider;

/// What the default chain gave.
pub struct Base {
    pub credentials: SharedCredentialsProvider,
    pub region: Option<String>,
    /// `AWS_ENDPOINT_URL` or the profile's `endpoint_url`.
    pub endpoint_url: Option<String>,
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
    let Some(credentials) = conf.credentials_provider() else {
        bail!("no AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, use --profile, or run on a machine with an instance or task role");
    };
    Ok(Base {
        credentials,
        region: conf.region().map(|r| r.to_string()),
        endpoint_url: conf.endpoint_url().map(str::to_string),
    })
}

/// Reads `.env` from the working directory, if there is one (values already in the
/// environment win).
pub fn load_dotenv() {
    let _ = dotenvy::dotenv();
}
