//! The report's Changes section: what `census diff` finds between the reported scan
//! and an earlier one (`--against`, else the finished scan before it), summed by
//! account and type, and the first [`MAX_LISTED`] changes with their changed JSON
//! paths and tag changes. The rules are [`crate::store::diff`]'s; this module only
//! shapes its result for the page. Not for computing differences.

use std::collections::{BTreeMap, HashMap};

use anyhow::{bail, Result};
use serde::Serialize;

use super::source::Source;
use crate::store::diff::{Change, Diff, Kind};
use crate::store::views::view_name;

/// The most changes listed one by one (all are counted).
pub const MAX_LISTED: usize = 1000;

/// Changes of one account and type.
#[derive(Debug, Default, Serialize)]
pub struct Count {
    pub account_id: String,
    pub account_name: String,
    pub resource_type: String,
    pub added: u64,
    pub removed: u64,
    pub changed: u64,
}

/// One change as the page lists it.
#[derive(Debug, Serialize)]
pub struct Listed {
    pub kind: &'static str,
    pub resource_type: String,
    /// The ARN where the inventory has one, else the resource id.
    pub resource: String,
    pub name: String,
    pub account_id: String,
    pub account_name: String,
    pub region: String,
    pub paths: Vec<String>,
    pub tags: Vec<String>,
}

/// The section's content.
#[derive(Debug, Serialize)]
pub struct Changes {
    /// The earlier scan.
    pub against: String,
    pub added: u64,
    pub removed: u64,
    pub changed: u64,
    /// Changed resources whose only change is their tags.
    pub tags_only: u64,
    pub counts: Vec<Count>,
    pub listed: Vec<Listed>,
    /// Changes not listed (beyond [`MAX_LISTED`]).
    pub more: usize,
    pub not_compared_calls: u64,
    pub not_compared_accounts: Vec<String>,
}

/// The scan to compare `scan` with: `wanted`, else the latest finished scan that
/// started before it; `None` when there is none.
pub fn pick_against(
    source: &mut Source,
    scan: &str,
    wanted: Option<&str>,
) -> Result<Option<String>> {
    let all = source.scans()?;
    if let Some(id) = wanted {
        if id == scan {
            bail!("--against {id}: that is the scan reported on; name an earlier scan");
        }
        return match all.iter().find(|s| s.scan_id == id) {
            Some(s) => Ok(Some(s.scan_id.clone())),
            None => bail!(
                "--against {id}: {} has no such scan; its scans are: {}",
                source.name(),
                all.iter()
                    .map(|s| s.scan_id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
    }
    let Some(seq) = all.iter().find(|s| s.scan_id == scan).map(|s| s.seq) else {
        return Ok(None);
    };
    Ok(all
        .iter()
        .rev()
        .find(|s| s.seq < seq && s.finished.is_some())
        .map(|s| s.scan_id.clone()))
}

fn resource_type(c: &Change) -> String {
    match &c.inventory {
        Some(i) => i.resource_type.clone(),
        None => view_name(&c.resource.stem),
    }
}

/// Shapes `diff` (from `against` to the reported scan) for the page; `names` gives
/// account names.
pub fn shape(against: String, diff: Diff, names: &HashMap<String, String>) -> Changes {
    let mut counts: BTreeMap<(String, String), Count> = BTreeMap::new();
    let mut out = Changes {
        against,
        added: 0,
        removed: 0,
        changed: 0,
        tags_only: 0,
        counts: Vec::new(),
        listed: Vec::new(),
        more: 0,
        not_compared_calls: diff.not_compared_calls,
        not_compared_accounts: diff.not_compared_accounts,
    };
    let name = |id: &str| names.get(id).cloned().unwrap_or_default();
    let mut changes = diff.changes;
    changes.sort_by(|a, b| {
        (
            &a.resource.account_id,
            &a.resource.region,
            a.kind,
            &a.resource.resource_id,
        )
            .cmp(&(
                &b.resource.account_id,
                &b.resource.region,
                b.kind,
                &b.resource.resource_id,
            ))
    });
    for c in changes {
        let t = resource_type(&c);
        let n = counts
            .entry((c.resource.account_id.clone(), t.clone()))
            .or_insert_with(|| Count {
                account_id: c.resource.account_id.clone(),
                account_name: name(&c.resource.account_id),
                resource_type: t.clone(),
                ..Count::default()
            });
        match c.kind {
            Kind::Added => {
                n.added += 1;
                out.added += 1;
            }
            Kind::Removed => {
                n.removed += 1;
                out.removed += 1;
            }
            Kind::Changed => {
                n.changed += 1;
                out.changed += 1;
                if c.tags_only() {
                    out.tags_only += 1;
                }
            }
        }
        if out.listed.len() >= MAX_LISTED {
            out.more += 1;
            continue;
        }
        let inv = c.inventory.as_ref();
        out.listed.push(Listed {
            kind: c.kind.as_str(),
            resource_type: t,
            resource: inv
                .and_then(|i| i.arn.clone())
                .unwrap_or_else(|| c.resource.resource_id.clone()),
            name: inv.and_then(|i| i.name.clone()).unwrap_or_default(),
            account_name: name(&c.resource.account_id),
            account_id: c.resource.account_id.clone(),
            region: c.resource.region.clone(),
            paths: c.paths.clone(),
            tags: c.tags.lines(),
        });
    }
    out.counts = counts.into_values().collect();
    out
}
