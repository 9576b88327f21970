//! `census decode` flags: the operation, and the answer's status, headers and body.
//!
//! Not for decoding it: see [`crate::commands::decode`].

/// `census decode` flags.
#[derive(Debug, clap::Args)]
pub struct DecodeFlags {
    /// Service name, e.g. ec2, s3, dynamodb (as `census call` takes it).
    pub service: String,
    /// Operation name, e.g. describe-instances, DescribeInstances, describe_instances.
    pub operation: String,
    /// The file holding the response body exactly as AWS sent it; `-` reads standard
    /// input.
    #[arg(value_name = "FILE|-")]
    pub file: String,
    /// The HTTP status of the answer.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u16).range(100..=599))]
    pub status: u16,
    /// A header of the answer, as `Name: value`; repeat for each (the rest protocols
    /// read members, the content type and error codes from headers).
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,
    /// Print the page as parsed, as `census call --no-paginate` would, instead of the
    /// result keys `census call` keeps when it merges pages.
    #[arg(long)]
    pub no_paginate: bool,
    /// Decode with this botocore service model (a service-2.json, with its paginators
    /// merged in or not) instead of the bundled one; SERVICE still names the service
    /// for botocore's customizations.
    #[arg(long, value_name = "FILE")]
    pub model: Option<String>,
}

/// `Name: value` (the value trimmed; it may be empty).
fn parse_header(s: &str) -> Result<(String, String), String> {
    match s.split_once(':') {
        Some((name, value)) if !name.trim().is_empty() && !name.trim().contains(' ') => {
            Ok((name.trim().to_string(), value.trim().to_string()))
        }
        _ => Err(format!(
            "{s:?} is not a header: write it as 'Name: value', e.g. 'Content-Type: application/json'"
        )),
    }
}
