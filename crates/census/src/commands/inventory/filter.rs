//! The filter `census inventory` and `census report tags` share: `--account`,
//! `--region`, `--type`, `--tag`, `--missing-tag` and `--scan` checked once
//! ([`Filter::from_flags`]) into values the statement binds ([`TypeSpec`]) and tag
//! conditions checked over the streamed rows ([`TagFilter`], [`Requirement`]). Not for
//! reading the store ([`super::read`]).

use std::collections::BTreeMap;

use anyhow::{bail, Result};

use super::read::Query;
use crate::cli::inventory::FilterFlags;

/// A `--type`: one type, or every type of a service, in the model's or in
/// CloudFormation's spelling; compared in lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeSpec {
    /// `ec2:Instance`.
    Type(String),
    /// `ec2`, `ec2:*`: every type whose `resource_type` starts with `ec2:`.
    Service(String),
    /// `AWS::EC2::Instance`.
    Cfn(String),
    /// `AWS::EC2::*`: every CloudFormation type starting with `aws::ec2::`.
    CfnService(String),
}

impl TypeSpec {
    /// Reads one `--type` value.
    pub fn parse(given: &str) -> Result<TypeSpec> {
        let s = given.trim().to_ascii_lowercase();
        let fix = "write a type such as ec2:Instance or AWS::EC2::Instance, or a service such as ec2 or ec2:*";
        let word = |w: &str| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if s.contains("::") {
            let parts: Vec<&str> = s.split("::").collect();
            match parts.as_slice() {
                [a, b] | [a, b, "*"] if word(a) && word(b) => {
                    return Ok(TypeSpec::CfnService(format!("{a}::{b}::")))
                }
                [a, b, c] if word(a) && word(b) && word(c) => return Ok(TypeSpec::Cfn(s)),
                _ => bail!(
                    "--type {given:?} is not a CloudFormation type (AWS::SERVICE::TYPE): {fix}"
                ),
            }
        }
        match s.split_once(':') {
            Some(("", _)) => {
                bail!("--type {given:?} names no service before ':': {fix}")
            }
            Some((service, "*")) if word(service) => Ok(TypeSpec::Service(service.to_string())),
            Some((service, kind)) if word(service) && word(kind) => Ok(TypeSpec::Type(s)),
            None if word(&s) => Ok(TypeSpec::Service(s)),
            _ => bail!("--type {given:?} is not a type: {fix}"),
        }
    }

    /// Whether a row's types match.
    pub fn matches(&self, resource_type: &str, cfn_type: Option<&str>) -> bool {
        let (rt, cfn) = (
            resource_type.to_ascii_lowercase(),
            cfn_type.map(str::to_ascii_lowercase),
        );
        match self {
            TypeSpec::Type(t) => rt == *t,
            TypeSpec::Service(s) => rt.split_once(':').is_some_and(|(svc, _)| svc == s),
            TypeSpec::Cfn(t) => cfn.as_deref() == Some(t.as_str()),
            TypeSpec::CfnService(p) => cfn.is_some_and(|c| c.starts_with(p.as_str())),
        }
    }

    /// The SQL condition on `i.resource_type` / `i.cfn_type`.
    pub(super) fn sql(&self, q: &mut Query) -> String {
        match self {
            TypeSpec::Type(t) => format!("lower(i.resource_type) = {}", q.bind(t)),
            TypeSpec::Service(s) => {
                let prefix = format!("{s}:");
                let n = prefix.chars().count();
                format!(
                    "substr(lower(i.resource_type), 1, {n}) = {}",
                    q.bind(&prefix)
                )
            }
            TypeSpec::Cfn(t) => format!("lower(i.cfn_type) = {}", q.bind(t)),
            TypeSpec::CfnService(p) => {
                let n = p.chars().count();
                format!("substr(lower(i.cfn_type), 1, {n}) = {}", q.bind(p))
            }
        }
    }
}

/// A `--tag`: a key, and the value it must have (any value when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagFilter {
    pub key: String,
    pub value: Option<String>,
}

impl TagFilter {
    /// Reads `KEY=VALUE` or `KEY`.
    pub fn parse(given: &str) -> Result<TagFilter> {
        let (key, value) = match given.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.to_string())),
            None => (given.trim(), None),
        };
        if key.is_empty() {
            bail!("--tag {given:?} has no key: write KEY=VALUE, or KEY for any value");
        }
        Ok(TagFilter {
            key: key.to_string(),
            value,
        })
    }

    /// Whether `tags` has the key (with the value, if one is given).
    pub fn holds(&self, tags: &Tags) -> bool {
        match (tag_value(tags, &self.key), &self.value) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(v), Some(want)) => v == want,
        }
    }
}

/// A required tag: keys that are alternates of each other (`Aide_ID|AideId|AIDE_ID`);
/// satisfied when one of them has a value that is not blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub keys: Vec<String>,
}

impl Requirement {
    /// Reads `KEY` or `KEY|KEY...`; `flag` names the flag in the error.
    pub fn parse(given: &str, flag: &str) -> Result<Requirement> {
        let keys: Vec<String> = given.split('|').map(|k| k.trim().to_string()).collect();
        if keys.iter().any(String::is_empty) {
            bail!("{flag} {given:?} has an empty tag key: write KEY, or alternates as KEY|KEY");
        }
        Ok(Requirement { keys })
    }

    /// `Environment`, `Aide_ID|AideId|AIDE_ID`.
    pub fn label(&self) -> String {
        self.keys.join("|")
    }

    /// Whether one of the keys has a value that is not blank.
    pub fn satisfied(&self, tags: &Tags) -> bool {
        self.keys
            .iter()
            .any(|k| tag_value(tags, k).is_some_and(|v| !v.trim().is_empty()))
    }
}

/// A resource's tags, keys in order.
pub type Tags = BTreeMap<String, String>;

/// The value of tag `key`: the exact key's, else the first key equal ignoring case.
pub fn tag_value<'a>(tags: &'a Tags, key: &str) -> Option<&'a str> {
    tags.get(key)
        .or_else(|| {
            tags.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
        .map(String::as_str)
}

/// The checked filter: what to select in SQL, and the tag conditions checked here.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Account ids and names, lower case.
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub types: Vec<TypeSpec>,
    pub tags: Vec<TagFilter>,
    /// `--missing-tag`: each must be unsatisfied.
    pub missing: Vec<Requirement>,
    pub scan: Option<String>,
    /// `--partial`: an unfinished sharded `scan` is read as it is.
    pub partial: bool,
}

impl Filter {
    /// Checks the flags; `missing` are `--missing-tag`'s values.
    pub fn from_flags(f: &FilterFlags, missing: &[String]) -> Result<Filter> {
        let list = |values: &[String]| -> Vec<String> {
            crate::cli::dedup(values.to_vec())
                .into_iter()
                .filter(|v| !v.is_empty())
                .map(|v| v.to_lowercase())
                .collect()
        };
        let types = crate::cli::dedup(f.types.clone());
        if let Some(empty) = [&f.accounts, &f.regions, &f.types]
            .iter()
            .zip(["--account", "--region", "--type"])
            .find(|(v, _)| v.iter().any(|x| x.trim().is_empty()))
        {
            bail!(
                "{} has an empty value: give a value, or leave the flag out",
                empty.1
            );
        }
        Ok(Filter {
            accounts: list(&f.accounts),
            regions: list(&f.regions),
            types: types
                .iter()
                .map(|t| TypeSpec::parse(t))
                .collect::<Result<_>>()?,
            tags: f
                .tags
                .iter()
                .map(|t| TagFilter::parse(t))
                .collect::<Result<_>>()?,
            missing: missing
                .iter()
                .map(|m| Requirement::parse(m, "--missing-tag"))
                .collect::<Result<_>>()?,
            scan: f.scan.clone().map(|s| s.trim().to_string()),
            partial: f.partial,
        })
    }

    /// Whether a row's tags pass `--tag` and `--missing-tag`.
    pub(super) fn tags_pass(&self, tags: &Tags) -> bool {
        self.tags.iter().all(|t| t.holds(tags)) && self.missing.iter().all(|m| !m.satisfied(tags))
    }
}
