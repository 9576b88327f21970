//! What the HTML report shows, read from the store: the scan's totals, its accounts
//! as an organization tree, resource counts by account, service, region and type, the
//! problems (accounts that could not be scanned, failed calls) and every resource for
//! the page's table. Plain data, serialized for the template ([`super::render`]).
//!
//! Not for drawing (see [`super::charts`]) nor for the page's encoding of the
//! resource table (see [`super::table`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::{bail, Result};
use serde::Serialize;

use super::source::{int, text, Source};
use crate::store::sqlite::ScanRow;
use crate::store::views::view_name;

/// The scan a report shows, from `scans`.
#[derive(Debug, Default, Serialize)]
pub struct Scan {
    pub scan_id: String,
    pub started: String,
    pub finished: String,
    /// `1 min 12 s`, or empty when the scan has not finished.
    pub duration: String,
    pub version: String,
    pub resumed: bool,
    /// How the scan was run, from `scan_shards` (schema 5; empty before): one entry
    /// per shard, the first [`SHOWN_SHARDS`].
    pub runs: Vec<Run>,
    /// The shards beyond [`SHOWN_SHARDS`], not listed.
    pub more_runs: usize,
}

/// The shards listed in the overview; a scan of more says how many more.
pub const SHOWN_SHARDS: usize = 8;

/// One shard of the scan (the whole scan when unsharded) and its flags.
#[derive(Debug, Default, Serialize)]
pub struct Run {
    /// `2/3`; empty for an unsharded scan.
    pub shard: String,
    pub status: String,
    /// The arguments after `census scan`, as recorded (secrets redacted), quoted
    /// where a shell would need it.
    pub flags: String,
}

/// The recorded flags (a JSON array of arguments) as one command line.
fn command_line(flags: &str) -> String {
    let args: Vec<String> = serde_json::from_str(flags).unwrap_or_default();
    args.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+*".contains(c));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// One account of the scan.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub email: String,
    pub status: String,
    pub org_id: String,
    pub ou_id: String,
    pub ou_path: String,
    /// `key=value` pairs, sorted by key.
    pub tags: Vec<String>,
    /// `ok` or `error`.
    pub scan_status: String,
    pub error_code: String,
    pub error_message: String,
    pub remediation: String,
    pub resources: u64,
    /// Failed calls in this account.
    pub failures: u64,
}

/// An OU (or an organization's root) with its accounts and child OUs.
#[derive(Debug, Default, Serialize)]
pub struct OuNode {
    pub name: String,
    pub id: String,
    pub accounts: Vec<Account>,
    pub children: Vec<OuNode>,
    /// Resources in this OU and below.
    pub resources: u64,
}

/// One organization's tree.
#[derive(Debug, Serialize)]
pub struct Org {
    /// The organization id, or empty for accounts outside any organization.
    pub id: String,
    pub root: OuNode,
}

/// A failed call: where and why.
#[derive(Debug, Serialize)]
pub struct FailedCall {
    pub account_id: String,
    pub account_name: String,
    pub region: String,
    pub operation: String,
    pub message: String,
}

/// Failures that share an error code, with what to do about them.
#[derive(Debug, Serialize)]
pub struct ProblemGroup<T> {
    pub code: String,
    pub remediation: String,
    pub items: Vec<T>,
    /// The accounts and regions the group touches, sorted.
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
}

/// One resource of the table.
#[derive(Debug, Clone)]
pub struct Resource {
    pub account: String,
    pub region: String,
    pub service: String,
    pub resource_type: String,
    pub resource_id: String,
    pub arn: String,
    pub name: String,
    /// `key=value` pairs, joined with `; `.
    pub tags: String,
}

/// Everything the report shows.
#[derive(Debug, Default)]
pub struct Model {
    pub scan: Scan,
    /// Where it was read from (a file name or a PostgreSQL URL without password).
    pub store: String,
    pub accounts: Vec<Account>,
    pub orgs: Vec<Org>,
    pub regions: Vec<String>,
    pub calls_ok: u64,
    pub calls_failed: u64,
    /// Detail reads that found nothing to read (`calls.absent`).
    pub absent: u64,
    pub resources: Vec<Resource>,
    pub account_problems: Vec<ProblemGroup<Account>>,
    pub call_problems: Vec<ProblemGroup<FailedCall>>,
    /// The resources come from the `resources` table: the scan has no inventory.
    pub without_inventory: bool,
}

fn scan_list(all: &[ScanRow]) -> String {
    if all.is_empty() {
        return "none".into();
    }
    all.iter()
        .map(|s| s.scan_id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The scan to report on: `wanted`, or the latest finished scan (the latest scan when
/// none has finished).
pub fn pick_scan(source: &mut Source, wanted: Option<&str>) -> Result<String> {
    let all = source.scans()?;
    match wanted {
        Some(id) => match all.iter().find(|s| s.scan_id == id) {
            Some(s) => Ok(s.scan_id.clone()),
            None => bail!(
                "{} has no scan {id:?}; its scans are: {}",
                source.name(),
                scan_list(&all)
            ),
        },
        None => match all
            .iter()
            .rev()
            .find(|s| s.finished.is_some())
            .or(all.last())
        {
            Some(s) => Ok(s.scan_id.clone()),
            None => bail!("{} holds no scan yet: run census scan first", source.name()),
        },
    }
}

/// `72` seconds as `1 min 12 s`.
fn duration(started: &str, finished: &str) -> String {
    let parse = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
    let (Some(a), Some(b)) = (parse(started), parse(finished)) else {
        return String::new();
    };
    let s = (b - a).num_seconds().max(0);
    match (s / 3600, s % 3600 / 60, s % 60) {
        (0, 0, s) => format!("{s} s"),
        (0, m, s) => format!("{m} min {s} s"),
        (h, m, _) => format!("{h} h {m} min"),
    }
}

/// `{"k": "v"}` as sorted `k=v` pairs.
fn tag_pairs(json: &str) -> Vec<String> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(json) else {
        return Vec::new();
    };
    let mut pairs: Vec<String> = map
        .iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        })
        .collect();
    pairs.sort();
    pairs
}

/// What to do about a call that failed with `code`: the `census doctor` texts for
/// permissions, disabled regions and throttling, and the scan's own advice for
/// operations a service does not offer.
pub fn call_remediation(code: &str) -> &'static str {
    match code {
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "UnauthorizedAccess"
        | "AuthorizationError" | "Forbidden" | "AuthorizationErrorException" => {
            "the scanning role lacks read permissions for this call: attach the ReadOnlyAccess or SecurityAudit managed policy to it, or exempt it from the service control policy that denies it (census doctor checks an account's access)"
        }
        "OptInRequired" | "AuthFailure" | "InvalidClientTokenId" | "UnrecognizedClientException" => {
            "the region is not enabled in the account: enable it (Account > AWS Regions, or aws account enable-region) or leave it out of --regions"
        }
        "Throttling" | "ThrottlingException" | "TooManyRequestsException" | "RequestLimitExceeded"
        | "SlowDown" | "RequestThrottled" => {
            "AWS kept throttling after every retry: finish the scan later with census scan --resume <scan folder>, or lower --concurrency"
        }
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => {
            "the credentials expired during the scan: refresh them (aws sso login) and finish it with census scan --resume <scan folder>"
        }
        "InvalidAction" | "UnknownOperationException" | "NotImplemented" | "UnsupportedOperation"
        | "InvalidParameterValue" | "ValidationException" | "NotFound" => {
            "the service does not serve this call here (this region, partition or endpoint): leave it out of the scan file or with --skip SERVICE:OPERATION"
        }
        c if c.ends_with(".NotFound") || c.ends_with("NotFoundException") => {
            "the call names a resource that does not exist (in the scan file's parameters, or one deleted during the scan): fix the scan file's parameters; a resource deleted during the scan needs nothing"
        }
        "Transport" | "Timeout" | "DeadlineExceeded" => {
            "the call did not get an answer in time: check the network to the endpoint, raise --call-timeout, or finish the scan with census scan --resume <scan folder>"
        }
        _ => "the AWS error message says what failed; census doctor checks the account's access and regions",
    }
}

fn group<T>(items: Vec<(String, String, String, String, T)>) -> Vec<ProblemGroup<T>> {
    // (code, remediation, account, region, item)
    let mut groups: BTreeMap<String, ProblemGroup<T>> = BTreeMap::new();
    let mut sets: HashMap<String, (BTreeSet<String>, BTreeSet<String>)> = HashMap::new();
    for (code, remediation, account, region, item) in items {
        let g = groups.entry(code.clone()).or_insert_with(|| ProblemGroup {
            code: code.clone(),
            remediation: remediation.clone(),
            items: Vec::new(),
            accounts: Vec::new(),
            regions: Vec::new(),
        });
        if g.remediation.is_empty() {
            g.remediation = remediation;
        }
        g.items.push(item);
        let (a, r) = sets.entry(code).or_default();
        if !account.is_empty() {
            a.insert(account);
        }
        if !region.is_empty() {
            r.insert(region);
        }
    }
    let mut out: Vec<ProblemGroup<T>> = groups.into_values().collect();
    for g in &mut out {
        if let Some((a, r)) = sets.remove(&g.code) {
            g.accounts = a.into_iter().collect();
            g.regions = r.into_iter().collect();
        }
    }
    out.sort_by(|a, b| b.items.len().cmp(&a.items.len()).then(a.code.cmp(&b.code)));
    out
}

/// Reads scan `scan_id` from `source`.
pub fn read(source: &mut Source, scan_id: &str) -> Result<Model> {
    let mut m = Model {
        store: source.name(),
        ..Model::default()
    };
    source.each(
        "SELECT scan_id, started, finished, version, resumed FROM scans WHERE scan_id = $1",
        &[scan_id],
        |r| {
            let (started, finished) = (text(&r[1]), text(&r[2]));
            m.scan = Scan {
                scan_id: text(&r[0]),
                duration: duration(&started, &finished),
                started,
                finished,
                version: text(&r[3]),
                resumed: int(&r[4]) != 0,
                ..Scan::default()
            };
            Ok(())
        },
    )?;
    if source.has_table("scan_shards")? {
        let (mut runs, mut more) = (Vec::new(), 0);
        source.each(
            "SELECT shard_index, shard_count, status, CAST(flags AS TEXT) FROM scan_shards \
             WHERE scan_id = $1 ORDER BY shard_index",
            &[scan_id],
            |r| {
                if runs.len() == SHOWN_SHARDS {
                    more += 1;
                    return Ok(());
                }
                let count = int(&r[1]);
                runs.push(Run {
                    shard: if count > 1 {
                        format!("{}/{count}", int(&r[0]))
                    } else {
                        String::new()
                    },
                    status: text(&r[2]),
                    flags: command_line(&text(&r[3])),
                });
                Ok(())
            },
        )?;
        m.scan.runs = runs;
        m.scan.more_runs = more;
    }
    source.each(
        "SELECT account_id, name, email, status, org_id, ou_id, ou_path, CAST(tags AS TEXT), \
         scan_status, error_code, error_message, remediation FROM accounts WHERE scan_id = $1 \
         ORDER BY ou_path, name, account_id",
        &[scan_id],
        |r| {
            m.accounts.push(Account {
                id: text(&r[0]),
                name: text(&r[1]),
                email: text(&r[2]),
                status: text(&r[3]),
                org_id: text(&r[4]),
                ou_id: text(&r[5]),
                ou_path: text(&r[6]),
                tags: tag_pairs(&text(&r[7])),
                scan_status: text(&r[8]),
                error_code: text(&r[9]),
                error_message: text(&r[10]),
                remediation: text(&r[11]),
                resources: 0,
                failures: 0,
            });
            Ok(())
        },
    )?;
    m.accounts
        .sort_by(|a, b| (&a.ou_path, &a.name, &a.id).cmp(&(&b.ou_path, &b.name, &b.id)));
    let names: HashMap<String, String> = m
        .accounts
        .iter()
        .map(|a| (a.id.clone(), a.name.clone()))
        .collect();
    let mut regions: BTreeSet<String> = BTreeSet::new();
    let mut failures: HashMap<String, u64> = HashMap::new();
    let mut failed = Vec::new();
    source.each(
        "SELECT account_id, region, service, operation, status, error_code, error_message, absent \
         FROM calls WHERE scan_id = $1 ORDER BY account_id, region, service, operation",
        &[scan_id],
        |r| {
            let region = text(&r[1]);
            if region != "global" {
                regions.insert(region.clone());
            }
            m.absent += int(&r[7]).max(0) as u64;
            if text(&r[4]) == "ok" {
                m.calls_ok += 1;
                return Ok(());
            }
            m.calls_failed += 1;
            let account = text(&r[0]);
            *failures.entry(account.clone()).or_default() += 1;
            let code = match text(&r[5]) {
                c if c.is_empty() => "(no code)".to_string(),
                c => c,
            };
            failed.push((
                code.clone(),
                call_remediation(&code).to_string(),
                account.clone(),
                region.clone(),
                FailedCall {
                    account_name: names.get(&account).cloned().unwrap_or_default(),
                    account_id: account,
                    region,
                    operation: format!("{}:{}", text(&r[2]), text(&r[3])),
                    message: text(&r[6]),
                },
            ));
            Ok(())
        },
    )?;
    failed.sort_by(|a, b| {
        (
            &a.4.account_name,
            &a.4.account_id,
            &a.4.region,
            &a.4.operation,
        )
            .cmp(&(
                &b.4.account_name,
                &b.4.account_id,
                &b.4.region,
                &b.4.operation,
            ))
    });
    m.call_problems = group(failed);
    m.regions = regions.into_iter().collect();
    let inventory = source.has_table("inventory")?;
    if inventory {
        source.each(
            "SELECT account_id, region, service, resource_type, resource_id, arn, name, \
         CAST(tags AS TEXT) FROM inventory WHERE scan_id = $1",
            &[scan_id],
            |r| {
                m.resources.push(Resource {
                    account: text(&r[0]),
                    region: text(&r[1]),
                    service: text(&r[2]),
                    resource_type: text(&r[3]),
                    resource_id: text(&r[4]),
                    arn: text(&r[5]),
                    name: text(&r[6]),
                    tags: tag_pairs(&text(&r[7])).join("; "),
                });
                Ok(())
            },
        )?;
    }
    if m.resources.is_empty() {
        // No inventory (a scan with --no-inventory, or from before census had one):
        // the list calls' items, typed by their call, without ARNs, names or tags.
        source.each(
            "SELECT r.account_id, r.region, r.service, r.stem, r.resource_id FROM resources r \
             WHERE r.scan_id = $1 AND NOT EXISTS (SELECT 1 FROM calls c WHERE \
             c.scan_id = r.scan_id AND c.account_id = r.account_id AND c.region = r.region \
             AND c.stem = r.stem AND c.parent IS NOT NULL)",
            &[scan_id],
            |r| {
                m.resources.push(Resource {
                    account: text(&r[0]),
                    region: text(&r[1]),
                    service: text(&r[2]),
                    resource_type: view_name(&text(&r[3])),
                    resource_id: text(&r[4]),
                    arn: String::new(),
                    name: String::new(),
                    tags: String::new(),
                });
                Ok(())
            },
        )?;
        m.without_inventory = !m.resources.is_empty();
    }
    // In bytes' order, the same from either database whatever its collation.
    m.resources.sort_unstable_by(|a, b| {
        (
            &a.account,
            &a.region,
            &a.resource_type,
            &a.resource_id,
            &a.arn,
        )
            .cmp(&(
                &b.account,
                &b.region,
                &b.resource_type,
                &b.resource_id,
                &b.arn,
            ))
    });
    let mut counts: HashMap<&str, u64> = HashMap::new();
    for r in &m.resources {
        *counts.entry(r.account.as_str()).or_default() += 1;
    }
    for a in &mut m.accounts {
        a.resources = counts.get(a.id.as_str()).copied().unwrap_or(0);
        a.failures = failures.get(&a.id).copied().unwrap_or(0);
    }
    m.account_problems = group(
        m.accounts
            .iter()
            .filter(|a| a.scan_status != "ok")
            .map(|a| {
                let code = if a.error_code.is_empty() {
                    "(no code)".to_string()
                } else {
                    a.error_code.clone()
                };
                (
                    code,
                    a.remediation.clone(),
                    a.id.clone(),
                    String::new(),
                    a.clone(),
                )
            })
            .collect(),
    );
    m.orgs = tree(&m.accounts);
    Ok(m)
}

/// The accounts as organization trees: one per organization, OUs from the accounts'
/// `ou_path` (`Root/Workloads/Dev`), each account in the OU its path names.
fn tree(accounts: &[Account]) -> Vec<Org> {
    let mut orgs: BTreeMap<String, OuNode> = BTreeMap::new();
    for a in accounts {
        let root = orgs.entry(a.org_id.clone()).or_insert_with(|| OuNode {
            name: "Root".into(),
            ..OuNode::default()
        });
        let mut node = root;
        node.resources += a.resources;
        let path: Vec<&str> = a.ou_path.split('/').filter(|p| !p.is_empty()).collect();
        // The first segment is the root itself.
        for (i, part) in path.iter().enumerate().skip(1) {
            let pos = match node.children.iter().position(|c| c.name == *part) {
                Some(p) => p,
                None => {
                    node.children.push(OuNode {
                        name: part.to_string(),
                        ..OuNode::default()
                    });
                    node.children.len() - 1
                }
            };
            node = &mut node.children[pos];
            node.resources += a.resources;
            if i == path.len() - 1 {
                node.id = a.ou_id.clone();
            }
        }
        if path.len() <= 1 && node.id.is_empty() {
            node.id = a.ou_id.clone();
        }
        node.accounts.push(a.clone());
    }
    orgs.into_iter()
        .map(|(id, root)| Org { id, root })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_flags_read_as_a_command_line() {
        assert_eq!(
            command_line(
                r#"["--org","--regions","us-east-1,eu-west-1","--postgres","postgres://u:***@h/db"]"#
            ),
            "--org --regions us-east-1,eu-west-1 --postgres postgres://u:***@h/db"
        );
        assert_eq!(
            command_line(r#"["--tag","Owner=a b","--name","it's"]"#),
            "--tag 'Owner=a b' --name 'it'\\''s'"
        );
        assert_eq!(command_line(""), "");
    }

    #[test]
    fn durations_and_tags() {
        assert_eq!(
            duration("2026-12-03T14:46:40Z", "2026-12-03T14:47:52Z"),
            "1 min 12 s"
        );
        assert_eq!(
            duration("2026-12-03T14:46:40Z", "2026-12-03T14:46:43Z"),
            "3 s"
        );
        assert_eq!(duration("2026-12-03T14:46:40Z", ""), "");
        assert_eq!(tag_pairs(r#"{"b":"2","a":"x"}"#), vec!["a=x", "b=2"]);
        assert!(tag_pairs("not json").is_empty());
    }

    #[test]
    fn ou_paths_make_a_tree() {
        let acct = |id: &str, path: &str, ou: &str, n: u64| Account {
            id: id.into(),
            org_id: "o-1".into(),
            ou_path: path.into(),
            ou_id: ou.into(),
            resources: n,
            ..Account::default()
        };
        let orgs = tree(&[
            acct("1", "Root", "r-1", 1),
            acct("2", "Root/Workloads/Dev", "ou-dev", 2),
            acct("3", "Root/Workloads", "ou-w", 4),
        ]);
        assert_eq!(orgs.len(), 1);
        let root = &orgs[0].root;
        assert_eq!(
            (root.id.as_str(), root.resources, root.accounts.len()),
            ("r-1", 7, 1)
        );
        let w = &root.children[0];
        assert_eq!(
            (w.name.as_str(), w.id.as_str(), w.resources),
            ("Workloads", "ou-w", 6)
        );
        assert_eq!(w.children[0].id, "ou-dev");
        assert_eq!(w.children[0].accounts[0].id, "2");
    }

    #[test]
    fn problems_grouped_by_code() {
        let g = group(vec![
            ("A".into(), "fix a".into(), "1".into(), "r1".into(), 1),
            ("B".into(), "fix b".into(), "2".into(), "r2".into(), 2),
            ("B".into(), "fix b".into(), "3".into(), "r1".into(), 3),
        ]);
        assert_eq!(g[0].code, "B");
        assert_eq!(g[0].accounts, vec!["2", "3"]);
        assert_eq!(g[0].regions, vec!["r1", "r2"]);
        assert_eq!(g[1].items, vec![1]);
    }
}
