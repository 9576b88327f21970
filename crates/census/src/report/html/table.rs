//! The resource table's data as the page embeds it: columns rather than rows,
//! repeated values (types, accounts, regions) as indexes into lists, the JSON
//! gzip-compressed and base64-encoded, which the page decodes with the browser's own
//! `DecompressionStream` (no library, no request). 500,000 resources make a few MB.
//!
//! Format (version 1), once decompressed:
//! `{"v": 1, "types": [...], "accounts": [[id, name], ...], "regions": [...],
//!   "tagsets": [...], "t": [type index...], "a": [account index...], "r": [region
//!   index...], "g": [tag set index...], "id": [...], "arn": [...], "name": [...]}`:
//! row `i` is the `i`th element of each column; `id` is `""` where the resource id is
//! its ARN; a tag set is `k=v; k2=v2` (organizations repeat a few sets many times).
//!
//! Not for the page's other sections, which are rendered as HTML.

use std::collections::HashMap;
use std::io::Write;

use anyhow::Result;
use base64::Engine;
use serde::Serialize;

use super::model::{Account, Resource};

#[derive(Serialize)]
struct Columns<'a> {
    v: u32,
    types: Vec<&'a str>,
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

/// The resources as the page's JSON (uncompressed).
pub fn json(resources: &[Resource], accounts: &[Account]) -> Result<Vec<u8>> {
    let names: HashMap<&str, &str> = accounts
        .iter()
        .map(|a| (a.id.as_str(), a.name.as_str()))
        .collect();
    let n = resources.len();
    let (mut types, mut accts, mut regions, mut tagsets) =
        (Dict::new(), Dict::new(), Dict::new(), Dict::new());
    let mut c = Columns {
        v: 1,
        types: Vec::new(),
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
    };
    for r in resources {
        c.t.push(types.get(&r.resource_type));
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
    c.types = types.list;
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
            service: "ec2".into(),
            resource_type: t.into(),
            resource_id: id.into(),
            arn: arn.into(),
            name: "n".into(),
            tags: "a=b".into(),
        };
        let accounts = vec![Account {
            id: "111".into(),
            name: "dev".into(),
            ..Account::default()
        }];
        let data = json(
            &[
                r("111", "ec2:Vpc", "vpc-1", "arn:vpc-1"),
                r("222", "sqs:Queue", "arn:q", "arn:q"),
                r("111", "ec2:Vpc", "vpc-2", "arn:vpc-2"),
            ],
            &accounts,
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
        assert_eq!(
            v["accounts"],
            serde_json::json!([["111", "dev"], ["222", ""]])
        );
        assert_eq!(v["id"], serde_json::json!(["vpc-1", "", "vpc-2"]));
        assert_eq!(v["tagsets"], serde_json::json!(["a=b"]));
        assert_eq!(v["g"], serde_json::json!([0, 0, 0]));
    }
}
