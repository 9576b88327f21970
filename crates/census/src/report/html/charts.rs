//! The report's charts, drawn in Rust: resources by region as an SVG bar chart (each
//! bar labelled with its region and count, so colour is never the only signal), and
//! the account x service heatmap as a table whose cells hold their numbers and a shade
//! class. Not for the page's layout (the template) nor for reading the store.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use serde::Serialize;

use super::model::{Account, Resource};

/// The most accounts (rows) and services (columns) the heatmap shows; the rest are
/// summed into "other" columns/rows so that the page stays small for 2,000 accounts.
pub const HEATMAP_ACCOUNTS: usize = 40;
pub const HEATMAP_SERVICES: usize = 16;

/// Escapes text for SVG/HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Counts per key, largest first (ties by key).
pub fn ranked<'a>(keys: impl Iterator<Item = &'a str>) -> Vec<(String, u64)> {
    let mut counts: HashMap<&str, u64> = HashMap::new();
    for k in keys {
        *counts.entry(k).or_default() += 1;
    }
    let mut v: Vec<(String, u64)> = counts
        .into_iter()
        .map(|(k, n)| (k.to_string(), n))
        .collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

/// Horizontal bars, one per `(label, count)`, as an accessible SVG.
pub fn bars(title: &str, items: &[(String, u64)]) -> String {
    let max = items.iter().map(|i| i.1).max().unwrap_or(0).max(1);
    let (label_w, bar_w, row_h) = (150.0, 420.0, 22.0);
    let height = row_h * items.len() as f64 + 4.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="bars" role="img" aria-labelledby="bars-title" width="{w}" height="{height}" viewBox="0 0 {w} {height}"><title id="bars-title">{t}</title>"#,
        w = label_w + bar_w + 80.0,
        t = esc(title)
    );
    for (i, (label, n)) in items.iter().enumerate() {
        let y = i as f64 * row_h + 2.0;
        let w = (*n as f64 / max as f64 * bar_w).max(1.0);
        let _ = write!(
            s,
            r#"<g><title>{l}: {n}</title><text x="{tx}" y="{ty}" text-anchor="end">{l}</text><rect x="{label_w}" y="{y}" width="{w:.1}" height="{bh}" class="bar"/><text x="{nx:.1}" y="{ty}">{n}</text></g>"#,
            l = esc(label),
            tx = label_w - 6.0,
            ty = y + 14.0,
            bh = row_h - 6.0,
            nx = label_w + w + 6.0,
        );
    }
    s.push_str("</svg>");
    s
}

/// One heatmap row: an account's counts per service column.
#[derive(Debug, Serialize)]
pub struct HeatRow {
    pub account_id: String,
    pub name: String,
    pub cells: Vec<HeatCell>,
    pub total: u64,
}

#[derive(Debug, Serialize)]
pub struct HeatCell {
    pub n: u64,
    /// 0 (none) to 5 (the most of any cell): the shade.
    pub level: u8,
}

/// The heatmap: services as columns (the most common first, the rest as `other`),
/// accounts as rows (the most resources first, the rest summed in one row).
#[derive(Debug, Serialize)]
pub struct Heatmap {
    pub services: Vec<String>,
    pub rows: Vec<HeatRow>,
    /// Accounts summed into the last row (0 when every account has its row).
    pub folded_accounts: usize,
}

pub fn heatmap(resources: &[Resource], accounts: &[Account]) -> Heatmap {
    let services = ranked(resources.iter().map(|r| r.service.as_str()));
    let mut columns: Vec<String> = services
        .iter()
        .take(HEATMAP_SERVICES)
        .map(|s| s.0.clone())
        .collect();
    let other_services = services.len() > HEATMAP_SERVICES;
    if other_services {
        columns.push("other".into());
    }
    let col_of: HashMap<&str, usize> = columns
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let mut per: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for a in accounts {
        per.insert(&a.id, vec![0; columns.len()]);
    }
    for r in resources {
        let col = col_of
            .get(r.service.as_str())
            .copied()
            .unwrap_or(columns.len() - 1);
        per.entry(&r.account)
            .or_insert_with(|| vec![0; columns.len()])[col] += 1;
    }
    let names: HashMap<&str, &str> = accounts
        .iter()
        .map(|a| (a.id.as_str(), a.name.as_str()))
        .collect();
    let mut rows: Vec<(String, String, Vec<u64>)> = per
        .into_iter()
        .map(|(id, c)| {
            (
                id.to_string(),
                names.get(id).copied().unwrap_or("").to_string(),
                c,
            )
        })
        .collect();
    rows.sort_by(|a, b| {
        let (ta, tb): (u64, u64) = (a.2.iter().sum(), b.2.iter().sum());
        tb.cmp(&ta).then(a.1.cmp(&b.1)).then(a.0.cmp(&b.0))
    });
    let mut folded_accounts = 0;
    if rows.len() > HEATMAP_ACCOUNTS {
        let rest = rows.split_off(HEATMAP_ACCOUNTS - 1);
        folded_accounts = rest.len();
        let mut sum = vec![0; columns.len()];
        for (_, _, c) in &rest {
            for (i, n) in c.iter().enumerate() {
                sum[i] += n;
            }
        }
        rows.push((String::new(), format!("{} other accounts", rest.len()), sum));
    }
    let max = rows
        .iter()
        .flat_map(|r| r.2.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let rows = rows
        .into_iter()
        .map(|(account_id, name, c)| HeatRow {
            account_id,
            name,
            total: c.iter().sum(),
            cells: c
                .into_iter()
                .map(|n| HeatCell {
                    n,
                    level: if n == 0 {
                        0
                    } else {
                        1 + ((n as f64 / max as f64) * 4.0).round() as u8
                    },
                })
                .collect(),
        })
        .collect();
    Heatmap {
        services: columns,
        rows,
        folded_accounts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_label_every_value() {
        let svg = bars(
            "By region",
            &[("us-east-1".into(), 10), ("eu-west-1".into(), 5)],
        );
        assert!(svg.contains(">us-east-1</text>") && svg.contains(">10</text>"));
        assert!(svg.contains(r#"width="420.0""#) && svg.contains(r#"width="210.0""#));
        assert!(svg.contains("<title id=\"bars-title\">By region</title>"));
    }

    #[test]
    fn heatmap_counts_and_shades() {
        let r = |a: &str, s: &str| Resource {
            account: a.into(),
            region: "us-east-1".into(),
            service: s.into(),
            resource_type: String::new(),
            resource_id: String::new(),
            arn: String::new(),
            name: String::new(),
            tags: String::new(),
        };
        let accounts = vec![Account {
            id: "1".into(),
            name: "dev".into(),
            ..Account::default()
        }];
        let h = heatmap(&[r("1", "ec2"), r("1", "ec2"), r("2", "s3")], &accounts);
        assert_eq!(h.services, vec!["ec2", "s3"]);
        assert_eq!(h.rows[0].name, "dev");
        assert_eq!(h.rows[0].cells[0].n, 2);
        assert_eq!(h.rows[0].cells[0].level, 5);
        assert_eq!(h.rows[1].cells[0].level, 0);
        assert_eq!(h.rows[1].total, 1);
    }

    #[test]
    fn heatmap_folds_the_smallest_accounts_into_one_row() {
        let mut resources = Vec::new();
        let mut accounts = Vec::new();
        for a in 0..HEATMAP_ACCOUNTS + 5 {
            accounts.push(Account {
                id: format!("{a:012}"),
                ..Account::default()
            });
            for _ in 0..=a {
                resources.push(Resource {
                    account: format!("{a:012}"),
                    region: String::new(),
                    service: "ec2".into(),
                    resource_type: String::new(),
                    resource_id: String::new(),
                    arn: String::new(),
                    name: String::new(),
                    tags: String::new(),
                });
            }
        }
        let h = heatmap(&resources, &accounts);
        assert_eq!(h.rows.len(), HEATMAP_ACCOUNTS);
        assert_eq!(h.folded_accounts, 6);
        let last = h.rows.last().unwrap();
        assert_eq!(
            (last.account_id.as_str(), last.name.as_str()),
            ("", "6 other accounts")
        );
        // The six smallest: 1 + 2 + ... + 6 resources.
        assert_eq!(last.total, 21);
        assert_eq!(h.rows[0].total, (HEATMAP_ACCOUNTS + 5) as u64);
    }
}
