//! Regions: validation against the bundled partitions.json.

use anyhow::{bail, Result};

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
