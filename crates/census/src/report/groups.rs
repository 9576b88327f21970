//! Region groups: a table that names sets of regions (`US`, `EU`...), and what an
//! account's regions amount to under it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

/// The group written when an account's regions fall in more than one group.
pub const MULTI: &str = "multi";

/// The table used when none is given: `US`, `UK`, `EU` and `BR`.
pub const DEFAULT_GROUPS: &str =
    "US=us-east-1,us-east-2,us-west-1,us-west-2;UK=eu-west-2;EU=eu-north-1,eu-west-1;BR=sa-east-1";

/// Which group each region belongs to. A region belongs to at most one group; regions
/// in none are ignored when an account's group is worked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionGroups {
    /// Group name by region.
    by_region: BTreeMap<String, String>,
    /// Group names in the order given.
    names: Vec<String>,
}

impl Default for RegionGroups {
    fn default() -> Self {
        RegionGroups::parse(DEFAULT_GROUPS).expect("the default region groups parse")
    }
}

impl fmt::Display for RegionGroups {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for name in &self.names {
            let regions: Vec<&str> = self
                .by_region
                .iter()
                .filter(|(_, g)| *g == name)
                .map(|(r, _)| r.as_str())
                .collect();
            if !first {
                f.write_str(";")?;
            }
            first = false;
            write!(f, "{name}={}", regions.join(","))?;
        }
        Ok(())
    }
}

impl RegionGroups {
    /// Parses a table written as `NAME=region,region;NAME=region` (newlines may stand
    /// for `;`, `#` starts a comment), or as a JSON object of lists,
    /// `{"US": ["us-east-1", "us-east-2"], "UK": ["eu-west-2"]}`. The error says what is
    /// wrong and where (a group, a region), and how the table is written.
    pub fn parse(text: &str) -> Result<RegionGroups, String> {
        let trimmed = text.trim();
        let pairs: Vec<(String, Vec<String>)> = if trimmed.starts_with('{') {
            let v: serde_json::Value = serde_json::from_str(trimmed).map_err(|e| {
                format!(
                    "not valid JSON at line {}, column {}: {e}; write an object such as {{\"US\": [\"us-east-1\"]}}",
                    e.line(),
                    e.column()
                )
            })?;
            let obj = v
                .as_object()
                .ok_or("a JSON table must be an object of lists")?;
            let mut pairs = Vec::new();
            for (name, regions) in obj {
                let list = regions.as_array().ok_or_else(|| {
                    format!("group {name:?}: a list of regions expected, such as [\"us-east-1\"]")
                })?;
                let mut rs = Vec::new();
                for r in list {
                    rs.push(
                        r.as_str()
                            .ok_or_else(|| format!("group {name:?}: {r} is not a region name"))?
                            .to_string(),
                    );
                }
                pairs.push((name.clone(), rs));
            }
            pairs
        } else {
            let mut pairs = Vec::new();
            for entry in text
                .lines()
                .map(|l| l.split('#').next().unwrap_or_default())
                .flat_map(|l| l.split(';'))
                .map(str::trim)
                .filter(|e| !e.is_empty())
            {
                let (name, regions) = entry.split_once('=').ok_or_else(|| {
                    format!("{entry:?} has no '='; write groups as NAME=region,region;NAME=region (e.g. {DEFAULT_GROUPS})")
                })?;
                let regions = regions
                    .split(',')
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(str::to_string)
                    .collect();
                pairs.push((name.trim().to_string(), regions));
            }
            pairs
        };
        let mut groups = RegionGroups {
            by_region: BTreeMap::new(),
            names: Vec::new(),
        };
        for (name, regions) in pairs {
            let ok_name = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_. ".contains(c));
            if !ok_name {
                return Err(format!(
                    "group name {name:?} must be letters, digits, '-', '_', '.' or spaces"
                ));
            }
            if name.eq_ignore_ascii_case(MULTI) {
                return Err(format!(
                    "group name {name:?} is reserved: it is what accounts in several groups get"
                ));
            }
            if groups.names.contains(&name) {
                return Err(format!("group {name:?} is given twice"));
            }
            if regions.is_empty() {
                return Err(format!("group {name:?} has no regions"));
            }
            for region in regions {
                crate::regions::check_region(&region)
                    .map_err(|e| format!("group {name:?}: {e}"))?;
                if let Some(other) = groups.by_region.get(&region) {
                    return Err(format!(
                        "region {region} is in both group {other:?} and group {name:?}; a region belongs to one group"
                    ));
                }
                groups.by_region.insert(region, name.clone());
            }
            groups.names.push(name);
        }
        if groups.names.is_empty() {
            return Err(format!(
                "the table names no group; write groups as NAME=region,region;NAME=region (e.g. {DEFAULT_GROUPS})"
            ));
        }
        Ok(groups)
    }

    /// Reads `--region-groups`: a file (`.json`, or the `NAME=...` form one group per
    /// line) when `arg` names one, else the table itself.
    pub fn from_arg(arg: &str) -> Result<RegionGroups, String> {
        let path = Path::new(arg);
        if !arg.contains('=') && !arg.trim_start().starts_with('{') {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("--region-groups {arg}: cannot read it: {e}"))?;
            return RegionGroups::parse(&text).map_err(|e| format!("--region-groups {arg}: {e}"));
        }
        RegionGroups::parse(arg).map_err(|e| format!("--region-groups: {e}"))
    }

    /// The group a region is in, if any.
    pub fn group_of(&self, region: &str) -> Option<&str> {
        self.by_region.get(region).map(String::as_str)
    }

    /// The Region_Group cell for a set of regions: the group's name when the grouped
    /// regions fall in one group, [`MULTI`] when in several, empty when in none.
    pub fn classify<'a>(&self, regions: impl IntoIterator<Item = &'a String>) -> String {
        let groups: BTreeSet<&str> = regions
            .into_iter()
            .filter_map(|r| self.group_of(r))
            .collect();
        match groups.len() {
            0 => String::new(),
            1 => groups.into_iter().next().unwrap_or_default().to_string(),
            _ => MULTI.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(rs: &[&str]) -> Vec<String> {
        rs.iter().map(|r| r.to_string()).collect()
    }

    #[test]
    fn default_table() {
        let g = RegionGroups::default();
        assert_eq!(g.to_string(), DEFAULT_GROUPS);
        assert_eq!(g.classify(&set(&["us-east-1", "us-west-2"])), "US");
        assert_eq!(g.classify(&set(&["eu-west-2"])), "UK");
        assert_eq!(g.classify(&set(&["eu-north-1", "ap-southeast-2"])), "EU");
        assert_eq!(g.classify(&set(&["sa-east-1", "us-east-1"])), "multi");
        assert_eq!(g.classify(&set(&["ap-south-1"])), "");
        assert_eq!(g.classify(&set(&[])), "");
    }

    #[test]
    fn tables_and_mistakes() {
        let g =
            RegionGroups::parse("# ours\nAPAC=ap-southeast-2, ap-south-1\nUS=us-east-1\n").unwrap();
        assert_eq!(g.classify(&set(&["ap-south-1"])), "APAC");
        let j = RegionGroups::parse(
            r#"{"APAC": ["ap-southeast-2", "ap-south-1"], "US": ["us-east-1"]}"#,
        )
        .unwrap();
        assert_eq!(g, j);
        let e = RegionGroups::parse("US=us-east-1;EU=us-east-1").unwrap_err();
        assert!(e.contains("both group \"US\" and group \"EU\""), "{e}");
        let e = RegionGroups::parse("US=us-esat-1").unwrap_err();
        assert!(e.contains("did you mean us-east-1"), "{e}");
        let e = RegionGroups::parse("US us-east-1").unwrap_err();
        assert!(e.contains("no '='"), "{e}");
        let e = RegionGroups::parse("multi=us-east-1").unwrap_err();
        assert!(e.contains("reserved"), "{e}");
        let e = RegionGroups::parse("US=").unwrap_err();
        assert!(e.contains("no regions"), "{e}");
        let e = RegionGroups::from_arg("/nonexistent/groups.txt").unwrap_err();
        assert!(
            e.starts_with("--region-groups /nonexistent/groups.txt: cannot read it"),
            "{e}"
        );
    }
}
