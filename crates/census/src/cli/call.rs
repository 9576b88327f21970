//! `census call` flags: one operation, its parameters and where to call it.
//!
//! Not for calling it: see [`crate::commands::call`].

/// `census call` flags.
#[derive(Debug, clap::Args)]
pub struct CallFlags {
    /// Service name, e.g. ec2, s3, sts, resourcegroupstaggingapi.
    pub service: String,
    /// Operation name, e.g. describe-instances, DescribeInstances, describe_instances.
    pub operation: String,
    /// Parameters as a JSON object, e.g. '{"MaxResults": 5}'.
    #[arg(long, value_name = "JSON")]
    pub param: Option<String>,
    /// Read the parameters (a JSON object) from a file.
    #[arg(long, value_name = "FILE", conflicts_with = "param")]
    pub param_file: Option<String>,
    /// Region to call (default: AWS_REGION or the profile's region).
    #[arg(long)]
    pub region: Option<String>,
    /// Shared-config profile to take credentials from.
    #[arg(long, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// Make one request only instead of fetching and merging every page.
    #[arg(long)]
    pub no_paginate: bool,
    /// Allow an operation that is not a plain read (Create*, Delete*, Terminate*...)
    /// or whose answer holds secrets (sts get_session_token, secretsmanager
    /// get_secret_value...): refused without it.
    #[arg(long)]
    pub allow_write: bool,
}
