//! The resource table's data as the page embeds it: columns rather than rows,
//! repeated values (types, accounts, regions) as indexes into lists, the JSON
//! gzip-compressed and base64-encoded, which the page decodes with the browser's own
//! `DecompressionStream` (no library, no request). 500,000 resources make a few MB.
//!
//! Format (version 2), once decompressed:
//! `{"v": 2, "types": [...], "services": [...], "ts": [service index of each type...],
//!   "accounts": [[id, name], ...], "regions": [...], "tagsets": [...],
//!   "t": [type index...], "a": [account index...], "r": [region index...],
//!   "g": [tag set index...], "id": [...], "arn": [...], "name": [...],
//!   "calls": [{"code": ..., "by": {account id: [failed calls, [regions...]]}}, ...]}`:
//! row `i` is the `i`th element of each column; `id` is `""` where the resource id is
//! its ARN; a tag set is `k=v; k2=v2` (organizations repeat a few sets many times).
//! `accounts` lists every account of the scan (those without resources too), then any
//! account that only the resources name. A type is listed once per service it is
//! found under (`ts` gives that service), so that the page can count an account's
//! resources by service, region and type from the rows alone; `calls` gives the failed
//! calls of each Problems group per account (the page lists only the first rows).
//!
//! Not for the page's other sections, which are rendered as HTML.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;

use anyhow::Result;
use base64::Engine;
use serde::Serialize;

use super::model::{Account, FailedCall, ProblemGroup, Resource};

#[derive(Serialize)]
struct Columns<'a> {
    v: u32,
    types: Vec<&'a str>,
    services: Vec<&'a str>,
    ts: Vec<u32>,
    accounts: Vec<[&'a str; 2]>,
    regions: Vec<&'a str>,
    tagsets: Vec<&'a str>,
    t: Vec<u32>,
    a: Vec<u32>,
    r: Vec<u32>,
    g: Vec<u32>,
    id: Vec<&'a str>,
    arn: Vec<&'a str>,
    name: Vec<&'a str>,
    calls: Vec<CallGroup<'a>>,
}

/// A Problems group's failed calls by account: how many, in which regions.
#[derive(Serialize)]
struct CallGroup<'a> {
    code: &'a str,
    by: BTreeMap<&'a str, (u64, BTreeSet<&'a str>)>,
}

/// Interns strings as indexes into a list.
struct Dict<'a> {
    list: Vec<&'a str>,
    index: HashMap<&'a str, u32>,
}

impl<'a> Dict<'a> {
    fn new() -> Self {
        Dict {
            list: Vec::new(),
            index: HashMap::new(),
        }
    }
    fn get(&mut self, s: &'a str) -> u32 {
        if let Some(i) = self.index.get(s) {
            return *i;
        }
        let i = self.list.len() as u32;
        self.list.push(s);
        self.index.insert(s, i);
        i
    }
}

/// The resources as the page's JSON (uncompressed), with the failed calls of each
/// group of `calls` counted by account.
pub fn json(
    resources: &[Resource],
    accounts: &[Account],
    calls: &[ProblemGroup<FailedCall>],
) -> Result<Vec<u8>> {
    let names: HashMap<&str, &str> = accounts
        .iter()
        .map(|a| (a.id.as_str(), a.name.as_str()))
        .collect();
    let n = resources.len();
    let (mut accts, mut regions, mut tagsets) = (Dict::new(), Dict::new(), Dict::new());
    let mut services = Dict::new();
    for a in accounts {
        accts.get(&a.id);
    }
    // (type, service) -> its index in `types`/`ts`.
    let mut type_of: HashMap<(&str, &str), u32> = HashMap::new();
    let mut c = Columns {
        v: 2,
        types: Vec::new(),
        services: Vec::new(),
        ts: Vec::new(),
        accounts: Vec::new(),
        regions: Vec::new(),
        tagsets: Vec::new(),
        t: Vec::with_capacity(n),
        a: Vec::with_capacity(n),
        r: Vec::with_capacity(n),
        g: Vec::with_capacity(n),
        id: Vec::with_capacity(n),
        arn: Vec::with_capacity(n),
        name: Vec::with_capacity(n),
        calls: calls
            .iter()
            .map(|g| {
                let mut by: BTreeMap<&str, (u64, BTreeSet<&str>)> = BTreeMap::new();
                for f in &g.items {
                    let e = by.entry(f.account_id.as_str()).or_default();
                    e.0 += 1;
                    e.1.insert(f.region.as_str());
                }
                CallGroup { code: &g.code, by }
            })
            .collect(),
    };
    for r in resources {
        let key = (r.resource_type.as_str(), r.service.as_str());
        let t = match type_of.get(&key) {
            Some(t) => *t,
            None => {
                let t = c.types.len() as u32;
                c.types.push(&r.resource_type);
                c.ts.push(services.get(&r.service));
                type_of.insert(key, t);
                t
            }
        };
        c.t.push(t);
        c.a.push(accts.get(&r.account));
        c.r.push(regions.get(&r.region));
        c.id.push(if r.resource_id == r.arn {
            ""
        } else {
            &r.resource_id
        });
        c.arn.push(&r.arn);
        c.name.push(&r.name);
        c.g.push(tagsets.get(&r.tags));
    }
    c.services = services.list;
    c.regions = regions.list;
    c.tagsets = tagsets.list;
    c.accounts = accts
        .list
        .iter()
        .map(|id| [*id, names.get(id).copied().unwrap_or("")])
        .collect();
    Ok(serde_json::to_vec(&c)?)
}

/// `data` gzip-compressed, as base64 (what the page's data element holds).
pub fn pack(data: &[u8]) -> Result<String> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(data)?;
    let bytes = gz.finish()?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn columns_intern_and_round_trip() {
        let r = |acct: &str, t: &str, id: &str, arn: &str| Resource {
            account: acct.into(),
            region: "us-east-1".into(),
            service: t.split(':').next().unwrap().into(),
            resource_type: t.into(),
            resource_id: id.into(),
            arn: arn.into(),
            name: "n".into(),
            tags: "a=b".into(),
        };
        let accounts = vec![
            Account {
                id: "111".into(),
                name: "dev".into(),
                ..Account::default()
            },
            Account {
                id: "333".into(),
                name: "denied".into(),
                ..Account::default()
            },
        ];
        let call = |acct: &str, region: &str| FailedCall {
            account_id: acct.into(),
            account_name: String::new(),
            region: region.into(),
            operation: "ec2:DescribeVpcs".into(),
            message: String::new(),
        };
        let calls = vec![ProblemGroup {
            code: "AccessDenied".into(),
            remediation: String::new(),
            items: vec![
                call("111", "us-east-1"),
                call("111", "eu-west-1"),
                call("111", "us-east-1"),
                call("222", "us-east-1"),
            ],
            accounts: Vec::new(),
            regions: Vec::new(),
        }];
        let data = json(
            &[
                r("111", "ec2:Vpc", "vpc-1", "arn:vpc-1"),
                r("222", "sqs:Queue", "arn:q", "arn:q"),
                r("111", "ec2:Vpc", "vpc-2", "arn:vpc-2"),
            ],
            &accounts,
            &calls,
        )
        .unwrap();
        let packed = pack(&data).unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(packed)
            .unwrap();
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut back)
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&back).unwrap();
        assert_eq!(v["types"], serde_json::json!(["ec2:Vpc", "sqs:Queue"]));
        assert_eq!(v["t"], serde_json::json!([0, 1, 0]));
        assert_eq!(v["services"], serde_json::json!(["ec2", "sqs"]));
        assert_eq!(v["ts"], serde_json::json!([0, 1]));
        // Every account of the scan, those without resources too.
        assert_eq!(
            v["accounts"],
            serde_json::json!([["111", "dev"], ["333", "denied"], ["222", ""]])
        );
        assert_eq!(v["a"], serde_json::json!([0, 2, 0]));
        assert_eq!(
            v["calls"],
            serde_json::json!([{"code": "AccessDenied", "by": {
                "111": [3, ["eu-west-1", "us-east-1"]],
                "222": [1, ["us-east-1"]]
            }}])
        );
        assert_eq!(v["id"], serde_json::json!(["vpc-1", "", "vpc-2"]));
        assert_eq!(v["tagsets"], serde_json::json!(["a=b"]));
        assert_eq!(v["g"], serde_json::json!([0, 0, 0]));
    }
}
