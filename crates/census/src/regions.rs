//! Regions: validation against the bundled partitions.json.

use std::collections::{BTreeSet, HashMap};

use anyhow::{bail, Result};
use serde::Deserialize;

/// `eu-west-1` -> (`eu`, `west`, `1`); `us-gov-west-1` -> (`us-gov`, `west`, `1`).
fn words(region: &str) -> Option<(String, String, String)> {
    let parts: Vec<&str> = region.split('-').collect();
    let n = parts.len();
    (n >= 3).then(|| {
        (
            parts[..n - 2].join("-"),
            parts[n - 2].to_string(),
            parts[n - 1].to_string(),
        )
    })
}

/// The region that global services (Organizations, IAM, STS's global endpoint) are
/// called in, per partition (its `implicitGlobalRegion` in the bundled partitions.json);
/// `None` for a partition Census does not know.
pub fn global_region(partition: &str) -> Option<&'static str> {
    awsdyn::endpoint::partition::global_region(partition)
}

/// Checks that `region` is a region of some partition and returns the partition id
/// (`aws`, `aws-cn`, `aws-us-gov`, ...). A region listed in the bundled partitions.json
/// is accepted; so is a newer one shaped like the known ones (a known prefix and
/// direction word, then a number: `ap-southeast-9`). Anything else (`eu-wset-1`) is an
/// error that suggests the closest regions.
pub fn check_region(region: &str) -> Result<String> {
    let parts = awsdyn::model::partitions()?;
    let list = parts["partitions"].as_array().cloned().unwrap_or_default();
    let regions_of = |p: &serde_json::Value| -> Vec<String> {
        p["regions"]
            .as_object()
            .map(|o| {
                o.keys()
                    .filter(|r| !r.starts_with("aws-"))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    };
    for p in &list {
        if p["regions"].get(region).is_some() {
            return Ok(p["id"].as_str().unwrap_or("aws").to_string());
        }
    }
    if let Some((prefix, direction, number)) = words(region) {
        if !number.is_empty() && number.chars().all(|c| c.is_ascii_digit()) {
            for p in &list {
                let known = regions_of(p)
                    .iter()
                    .filter_map(|r| words(r))
                    .any(|(pp, d, _)| pp == prefix && d == direction);
                if known {
                    return Ok(p["id"].as_str().unwrap_or("aws").to_string());
                }
            }
        }
    }
    let names: Vec<String> = list.iter().flat_map(regions_of).collect();
    let close = awsdyn::names::closest(region, names.iter().map(String::as_str), 3);
    if close.is_empty() {
        bail!("{region:?} is not an AWS region (regions look like eu-west-1)")
    }
    bail!(
        "{region:?} is not an AWS region; did you mean {}?",
        close.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        assert_eq!(check_region("eu-west-1").unwrap(), "aws");
        assert_eq!(check_region("cn-north-1").unwrap(), "aws-cn");
        assert_eq!(check_region("us-gov-west-1").unwrap(), "aws-us-gov");
        assert_eq!(check_region("ap-southeast-9").unwrap(), "aws");
        let e = check_region("eu-wset-1").unwrap_err().to_string();
        assert!(e.contains("did you mean eu-west-1"), "{e}");
        assert!(check_region("EU_WEST").is_err());
    }
}

/// Where services are offered, from the bundled botocore endpoints.json and
/// partitions.json: which services are global (one endpoint per partition, scanned once
/// per account), and which regions a regional service exists in.
///
/// Only that is kept, per partition and endpoint prefix (a few hundred kilobytes):
/// endpoints.json is read into typed structures that skip everything else, then
/// dropped.
pub struct Catalog {
    /// Per partition id, per endpoint prefix.
    services: HashMap<String, HashMap<String, Offered>>,
    /// Per partition id, its regions, sorted.
    regions: HashMap<String, Vec<String>>,
}

/// Where one service is offered in one partition.
struct Offered {
    /// For a global service: the region of its partition endpoint's credential scope,
    /// `None` for the partition's default region.
    global: Option<Option<String>>,
    /// The regions with an endpoint (no FIPS or `aws-global` ones, none deprecated).
    regions: BTreeSet<String>,
}

/// The parts of endpoints.json the catalog reads.
#[derive(Deserialize)]
struct EndpointsJson {
    partitions: Vec<EndpointsPartition>,
}

#[derive(Deserialize)]
struct EndpointsPartition {
    partition: String,
    #[serde(default)]
    services: HashMap<String, EndpointsService>,
}

#[derive(Deserialize)]
struct EndpointsService {
    #[serde(rename = "isRegionalized")]
    is_regionalized: Option<bool>,
    #[serde(rename = "partitionEndpoint")]
    partition_endpoint: Option<String>,
    #[serde(default)]
    endpoints: HashMap<String, EndpointsEndpoint>,
}

#[derive(Deserialize)]
struct EndpointsEndpoint {
    #[serde(rename = "credentialScope")]
    credential_scope: Option<CredentialScope>,
    #[serde(default)]
    deprecated: bool,
}

#[derive(Deserialize)]
struct CredentialScope {
    region: Option<String>,
}

impl Catalog {
    pub fn load() -> Result<Catalog> {
        let raw = awsdyn::model::endpoints_json()?;
        let json: EndpointsJson = serde_json::from_slice(&raw)
            .map_err(|e| anyhow::anyhow!("the bundled endpoints.json is damaged: {e}"))?;
        drop(raw);
        let services = json
            .partitions
            .into_iter()
            .map(|p| {
                let services = p
                    .services
                    .into_iter()
                    .map(|(prefix, svc)| {
                        let global = (svc.is_regionalized == Some(false))
                            .then(|| {
                                let pe = svc.partition_endpoint.as_ref()?;
                                Some(
                                    svc.endpoints
                                        .get(pe)
                                        .and_then(|e| e.credential_scope.as_ref())
                                        .and_then(|c| c.region.clone()),
                                )
                            })
                            .flatten();
                        let regions = svc
                            .endpoints
                            .iter()
                            .filter(|(name, ep)| {
                                !name.contains("fips")
                                    && !name.starts_with("aws-")
                                    && !ep.deprecated
                            })
                            .map(|(name, _)| name.clone())
                            .collect();
                        (prefix, Offered { global, regions })
                    })
                    .collect();
                (p.partition, services)
            })
            .collect();
        let parts = awsdyn::model::partitions()?;
        let mut regions: HashMap<String, Vec<String>> = HashMap::new();
        for p in parts["partitions"].as_array().into_iter().flatten() {
            let list = regions
                .entry(p["id"].as_str().unwrap_or_default().to_string())
                .or_default();
            list.extend(
                p["regions"]
                    .as_object()
                    .into_iter()
                    .flat_map(|o| o.keys())
                    .filter(|r| !r.starts_with("aws-") && !r.ends_with("-global"))
                    .cloned(),
            );
            list.sort();
        }
        Ok(Catalog { services, regions })
    }

    fn service(&self, partition: &str, model: &awsdyn::ServiceModel) -> Option<&Offered> {
        self.services
            .get(partition)?
            .get(&model.metadata.endpoint_prefix)
    }

    /// The region API calls default to in a partition (us-east-1 for aws).
    pub fn default_region(&self, partition: &str) -> String {
        global_region(partition).unwrap_or("us-east-1").to_string()
    }

    /// The partition's regions (partitions.json), sorted.
    pub fn partition_regions(&self, partition: &str) -> Vec<String> {
        self.regions.get(partition).cloned().unwrap_or_default()
    }

    /// For a global service or operation, the one region to call it in; `None` for
    /// regional ones.
    pub fn global_region(
        &self,
        partition: &str,
        model: &awsdyn::ServiceModel,
        operation: &str,
    ) -> Option<String> {
        if awsdyn::customize::is_global_operation(&model.name, operation) {
            return Some(self.default_region(partition));
        }
        let scope = self.service(partition, model)?.global.as_ref()?;
        Some(
            scope
                .clone()
                .unwrap_or_else(|| self.default_region(partition)),
        )
    }

    /// The regions a regional service is offered in, or `None` when endpoints.json does
    /// not know the service (then it is tried in every enabled region).
    pub fn service_regions(
        &self,
        partition: &str,
        model: &awsdyn::ServiceModel,
    ) -> Option<BTreeSet<String>> {
        let regions = &self.service(partition, model)?.regions;
        (!regions.is_empty()).then(|| regions.clone())
    }
}

/// An account's enabled regions (opt-in aware): ec2 DescribeRegions without
/// AllRegions lists the regions enabled for the account; only those of the account's
/// partition are kept.
pub async fn enabled_regions(
    client: &awsdyn::client::Client,
    target: &awsdyn::client::Target,
    partition: &str,
) -> Result<Vec<String>, awsdyn::Error> {
    let out = client
        .call(target, "ec2", "DescribeRegions", &serde_json::json!({}))
        .await?;
    let prefix_ok = |r: &str| match partition {
        "aws-cn" => r.starts_with("cn-"),
        "aws-us-gov" => r.starts_with("us-gov-"),
        "aws" => !r.starts_with("cn-") && !r.starts_with("us-gov-") && !r.starts_with("us-iso"),
        _ => true,
    };
    let mut regions: Vec<String> = out["Regions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["OptInStatus"] != "not-opted-in")
        .filter_map(|r| r["RegionName"].as_str())
        .filter(|r| prefix_ok(r))
        .map(str::to_string)
        .collect();
    regions.sort();
    regions.dedup();
    Ok(regions)
}

#[cfg(test)]
mod catalog_tests {
    use super::*;

    #[test]
    fn global_and_regional() {
        let c = Catalog::load().unwrap();
        let iam = awsdyn::model::load("iam").unwrap();
        let ec2 = awsdyn::model::load("ec2").unwrap();
        let s3 = awsdyn::model::load("s3").unwrap();
        assert_eq!(
            c.global_region("aws", &iam, "ListRoles").as_deref(),
            Some("us-east-1")
        );
        assert_eq!(
            c.global_region("aws-cn", &iam, "ListRoles").as_deref(),
            Some("cn-north-1")
        );
        assert_eq!(c.global_region("aws", &ec2, "DescribeInstances"), None);
        assert_eq!(
            c.global_region("aws", &s3, "ListBuckets").as_deref(),
            Some("us-east-1")
        );
        assert_eq!(c.global_region("aws", &s3, "ListObjectsV2"), None);
        let route53 = awsdyn::model::load("route53").unwrap();
        assert!(c
            .global_region("aws", &route53, "ListHostedZones")
            .is_some());
        let regions = c.service_regions("aws", &ec2).unwrap();
        assert!(regions.contains("eu-west-1") && !regions.contains("cn-north-1"));
        assert_eq!(c.default_region("aws"), "us-east-1");
        assert_eq!(c.default_region("aws-cn"), "cn-northwest-1");
        assert_eq!(c.default_region("aws-iso-e"), "eu-isoe-west-1");
        assert_eq!(c.default_region("aws-iso-f"), "us-isof-south-1");
        assert_eq!(c.default_region("aws-eusc"), "eusc-de-east-1");
        assert_eq!(c.default_region("aws-nowhere"), "us-east-1");
        assert!(c
            .partition_regions("aws-us-gov")
            .contains(&"us-gov-west-1".to_string()));
    }
}
