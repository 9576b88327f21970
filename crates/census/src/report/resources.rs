//! Where an account has resources: the Resource Groups Tagging API (GetResources, every
//! page) in each enabled region, and the region in each resource ARN. Not for printing
//! the report (its parent module).
//!
//! - An ARN with a region counts for that region, whichever region's API returned it.
//! - An S3 bucket ARN (`arn:aws:s3:::name`) has none. AWS returns a bucket from the
//!   tagging API of its own region only; when one region returned it, that is its
//!   region. When several did (moto returns every bucket everywhere), S3
//!   GetBucketLocation says.
//! - Other ARNs without a region (IAM, CloudFront, Route 53...) are global and count
//!   for no region.
//!
//! The tagging API lists resources that carry (or once carried) tags; untagged
//! resources are not seen. A region that fails adds a note and the others still count.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use aws_credential_types::provider::SharedCredentialsProvider;
use awsdyn::client::{Client, Target};
use futures::stream::{self, StreamExt};
use serde_json::json;

use crate::account::Account;
use crate::auth::{one_line, Base};

/// What was found so far for one account. Shared with the caller, so that an account
/// that runs out of time still reports what it found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Found {
    pub regions: BTreeSet<String>,
    /// One line per thing that went wrong.
    pub notes: Vec<String>,
    /// Resources seen (distinct ARNs).
    pub resources: usize,
}

/// How to look.
#[derive(Debug, Clone)]
pub struct Settings {
    /// These regions instead of the account's enabled ones (`--regions`).
    pub regions: Option<Vec<String>>,
    /// Regions asked at once per account.
    pub regions_in_flight: usize,
}

/// The parts of an ARN: `(service, region, resource)`.
fn arn_parts(arn: &str) -> Option<(&str, &str, &str)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    (parts.len() == 6 && parts[0] == "arn").then(|| (parts[2], parts[3], parts[5]))
}

/// The region an ARN names, if any.
pub fn arn_region(arn: &str) -> Option<&str> {
    arn_parts(arn)
        .map(|(_, region, _)| region)
        .filter(|r| !r.is_empty())
}

/// The bucket an S3 bucket ARN names (`arn:aws:s3:::name`), if it is one.
fn bucket_of(arn: &str) -> Option<&str> {
    match arn_parts(arn)? {
        ("s3", "", resource) if !resource.is_empty() && !resource.contains('/') => Some(resource),
        _ => None,
    }
}

/// Finds the account's regions into `found`.
pub async fn collect(
    client: &Client,
    base: &Base,
    credentials: SharedCredentialsProvider,
    account: &Account,
    settings: &Settings,
    catalog: &crate::regions::Catalog,
    found: &Mutex<Found>,
) {
    let target = |region: &str| {
        Target::new(region.to_string(), credentials.clone())
            .with_endpoints(base.endpoints.clone())
            .with_label(account.id.clone())
    };
    let note = |text: String| {
        found
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .notes
            .push(one_line(&text));
    };
    let home = catalog.default_region(&account.partition);
    let regions = match &settings.regions {
        Some(r) => r.clone(),
        None => {
            match crate::regions::enabled_regions(client, &target(&home), &account.partition).await
            {
                Ok(r) => r,
                Err(e) => {
                    note(format!(
                        "ec2 DescribeRegions failed, so its enabled regions are unknown and none was searched: {e}"
                    ));
                    return;
                }
            }
        }
    };

    // Region-less bucket ARNs, with the regions whose tagging API returned them.
    let buckets: Arc<Mutex<BTreeMap<String, BTreeSet<String>>>> = Arc::default();
    let arns: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    stream::iter(regions)
        .map(|region| {
            let target = target(&region);
            let buckets = buckets.clone();
            let arns = arns.clone();
            async move {
                let mut pages = match client.pages(
                    &target,
                    "resourcegroupstaggingapi",
                    "GetResources",
                    &json!({ "ResourcesPerPage": 100 }),
                ) {
                    Ok(p) => p,
                    Err(e) => return Err((region, e)),
                };
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| (region.clone(), e))?;
                    let list = page["ResourceTagMappingList"].as_array();
                    for arn in list
                        .into_iter()
                        .flatten()
                        .filter_map(|m| m["ResourceARN"].as_str())
                    {
                        arns.lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(arn.to_string());
                        if let Some(r) = arn_region(arn) {
                            found
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .regions
                                .insert(r.to_string());
                        } else if let Some(b) = bucket_of(arn) {
                            buckets
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .entry(b.to_string())
                                .or_default()
                                .insert(region.clone());
                        }
                    }
                }
                Ok(())
            }
        })
        .buffer_unordered(settings.regions_in_flight.max(1))
        .for_each(|result| {
            if let Err((region, e)) = result {
                note(format!(
                    "tagging GetResources failed in {region}, so resources there are not counted: {e}"
                ));
            }
            futures::future::ready(())
        })
        .await;
    found.lock().unwrap_or_else(|e| e.into_inner()).resources =
        arns.lock().unwrap_or_else(|e| e.into_inner()).len();

    let buckets = std::mem::take(&mut *buckets.lock().unwrap_or_else(|e| e.into_inner()));
    let (known, unknown): (Vec<_>, Vec<_>) = buckets.into_iter().partition(|(_, r)| r.len() == 1);
    for (_, seen_in) in known {
        found
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .regions
            .extend(seen_in);
    }
    let home_target = target(&home);
    stream::iter(unknown)
        .map(|(bucket, _)| {
            let home_target = &home_target;
            async move {
                let out = crate::sink::s3::bucket_region(client, home_target, &bucket).await;
                (bucket, out)
            }
        })
        .buffer_unordered(4)
        .for_each(|(bucket, out)| {
            match out {
                Ok(region) => {
                    found
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .regions
                        .insert(region);
                }
                Err(e) => note(format!(
                    "s3 GetBucketLocation failed for bucket {bucket}, so its region is not counted: {e}"
                )),
            }
            futures::future::ready(())
        })
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns() {
        assert_eq!(
            arn_region("arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-1"),
            Some("eu-west-1")
        );
        assert_eq!(arn_region("arn:aws:s3:::bucket"), None);
        assert_eq!(arn_region("arn:aws:iam::123456789012:role/x"), None);
        assert_eq!(arn_region("not an arn"), None);
        assert_eq!(
            arn_region("arn:aws:logs:sa-east-1:123456789012:log-group:lg:*"),
            Some("sa-east-1")
        );
        assert_eq!(bucket_of("arn:aws:s3:::bucket"), Some("bucket"));
        assert_eq!(bucket_of("arn:aws:s3:::bucket/key"), None);
        assert_eq!(
            bucket_of("arn:aws:s3:eu-west-1:123456789012:accesspoint/ap"),
            None
        );
        assert_eq!(bucket_of("arn:aws:iam::123456789012:role/x"), None);
    }
}
