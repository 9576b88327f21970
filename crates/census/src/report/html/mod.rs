//! `census report html`: one self-contained HTML page of a scan, read from the store
//! (SQLite `census.db` or PostgreSQL), for people who want to look before they query.
//!
//! The page holds everything it needs: CSS, JavaScript and data inline, system fonts,
//! charts as inline SVG drawn in Rust ([`charts`]); a Content-Security-Policy meta tag
//! (`default-src 'none'`, the one style element and the one script allowed by their
//! SHA-256 hashes) keeps it from making any request. Sections: Overview (the scan's
//! totals), Organization (OUs and accounts from `accounts.ou_path`, with resource
//! counts and failures; an account's link, `#account=ID`, narrows every section below
//! the tree to that account, in the page, from the embedded data), Resources (an
//! account x service heatmap with numbers in its cells, bars by region, types with
//! counts), Problems (accounts not scanned and failed calls, grouped by error code,
//! with what to do and the accounts and regions affected), Changes (what `census
//! diff` finds against `--against` or the finished scan before; see [`changes`]) and
//! the resource table,
//! whose rows are embedded as compressed columns ([`table`]) and drawn a screenful at
//! a time, so that 500,000 resources stay responsive.
//!
//! The page is written with minijinja from `templates/` (compiled in), which escapes
//! every value. Not for reading live AWS data (a report of the store only), nor for
//! comparing scans beyond what `census diff` computes.

pub mod changes;
pub mod charts;
pub mod model;
pub mod source;
pub mod table;

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::{anyhow, Context, Result};
use base64::Engine;
use minijinja::{context, Environment, Value};
use sha2::{Digest, Sha256};

use crate::cli::report_html::ReportHtmlFlags;
use model::Model;
use source::Source;

const TEMPLATE: &str = include_str!("templates/report.html");
const CSS: &str = include_str!("templates/report.css");
const JS: &str = include_str!("templates/report.js");

/// What writing a report did, for the command's message and for benchmarks.
#[derive(Debug, Clone)]
pub struct Written {
    pub scan_id: String,
    pub resources: usize,
    pub bytes: usize,
    pub millis: u128,
}

/// `'sha256-...'` of an inline element's text, for the CSP.
fn csp_hash(text: &str) -> String {
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
    )
}

/// The Content-Security-Policy of the page: nothing may be loaded or sent, only the
/// page's own style element and script run.
pub fn csp() -> String {
    format!(
        "default-src 'none'; style-src {}; script-src {}; img-src 'none'; connect-src 'none'; base-uri 'none'; form-action 'none'",
        csp_hash(CSS),
        csp_hash(JS)
    )
}

/// The page for `m`.
pub fn render(m: &Model, changes: Option<&changes::Changes>) -> Result<String> {
    let mut env = Environment::new();
    env.add_template("report.html", TEMPLATE)?;
    let regions = charts::ranked(m.resources.iter().map(|r| r.region.as_str()));
    let region_bars = if regions.is_empty() {
        String::new()
    } else {
        charts::bars("Resources by region", &regions)
    };
    let mut types: Vec<serde_json::Value> = Vec::new();
    {
        let mut per: std::collections::BTreeMap<&str, (u64, std::collections::BTreeSet<&str>)> =
            Default::default();
        for r in &m.resources {
            let e = per.entry(r.resource_type.as_str()).or_default();
            e.0 += 1;
            e.1.insert(r.account.as_str());
        }
        let mut v: Vec<(&str, u64, usize)> =
            per.into_iter().map(|(t, (n, a))| (t, n, a.len())).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        for (t, n, a) in v {
            types.push(serde_json::json!({"type": t, "count": n, "accounts": a}));
        }
    }
    let t0 = Instant::now();
    let json = table::json(&m.resources, &m.accounts, &m.call_problems)?;
    let data = table::pack(&json)?;
    tracing::debug!(
        "report html: table data {} KB as JSON, {} KB packed, in {} ms",
        json.len() / 1024,
        data.len() / 1024,
        t0.elapsed().as_millis()
    );
    let accounts_failed = m.accounts.iter().filter(|a| a.scan_status != "ok").count();
    let problem_count: usize = m
        .account_problems
        .iter()
        .map(|g| g.items.len())
        .sum::<usize>()
        + m.call_problems.iter().map(|g| g.items.len()).sum::<usize>();
    let page = env.get_template("report.html")?.render(context! {
        csp => Value::from_safe_string(csp()),
        css => Value::from_safe_string(CSS.to_string()),
        js => Value::from_safe_string(JS.to_string()),
        generator => env!("CARGO_PKG_VERSION"),
        scan => &m.scan,
        store => &m.store,
        org_count => m.orgs.iter().filter(|o| !o.id.is_empty()).count(),
        accounts_ok => m.accounts.len() - accounts_failed,
        accounts_failed,
        regions => &m.regions,
        calls_ok => m.calls_ok,
        calls_failed => m.calls_failed,
        absent => m.absent,
        resource_count => m.resources.len(),
        orgs => &m.orgs,
        heatmap => charts::heatmap(&m.resources, &m.accounts),
        region_bars => Value::from_safe_string(region_bars),
        types,
        account_problems => &m.account_problems,
        call_problems => &m.call_problems,
        problem_count,
        changes,
        without_inventory => m.without_inventory,
        data => Value::from_safe_string(data),
    })?;
    Ok(page)
}

/// Writes the report of scan `scan_id` (the latest finished when `None`) of `source`
/// to `path`, atomically (a temporary file renamed into place), with its changes since
/// `against` (the finished scan before it when `None`; no Changes section when there
/// is none).
pub fn write(
    source: &mut Source,
    scan_id: Option<&str>,
    against: Option<&str>,
    path: &Path,
) -> Result<Written> {
    let t0 = Instant::now();
    let scan_id = model::pick_scan(source, scan_id)?;
    let against = changes::pick_against(source, &scan_id, against)?;
    let m = model::read(source, &scan_id)?;
    tracing::debug!(
        "report html: read scan {scan_id} ({} resources) in {} ms",
        m.resources.len(),
        t0.elapsed().as_millis()
    );
    let changes = match against {
        Some(a) => {
            let diff = source.diff(&a, &scan_id)?;
            let names = m
                .accounts
                .iter()
                .map(|x| (x.id.clone(), x.name.clone()))
                .collect();
            Some(changes::shape(a, diff, &names))
        }
        None => None,
    };
    tracing::debug!("report html: compared in {} ms", t0.elapsed().as_millis());
    let page = render(&m, changes.as_ref())?;
    tracing::debug!("report html: rendered in {} ms", t0.elapsed().as_millis());
    let tmp = path.with_extension("html.tmp");
    std::fs::write(&tmp, page.as_bytes())
        .with_context(|| format!("{}: cannot write the report", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("{}: cannot write the report", path.display()))?;
    Ok(Written {
        scan_id,
        resources: m.resources.len(),
        bytes: page.len(),
        millis: t0.elapsed().as_millis(),
    })
}

/// `census report html`: writes the page and says on `err` what it wrote.
pub fn run(args: &ReportHtmlFlags, mut err: impl Write) -> Result<()> {
    let (db, postgres) = args.databases();
    if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            return Err(anyhow!(
                "-o {}: the folder {} does not exist; create it or write the report elsewhere",
                args.output.display(),
                dir.display()
            ));
        }
    }
    let mut source = Source::open(&db, postgres.as_ref())?;
    // A sharded scan is reported on once all its shards finished (or when told so).
    let scan_id = model::pick_scan(&mut source, args.scan_id.as_deref())?;
    {
        use crate::store::shards::{check_finished, Db};
        match &mut source {
            Source::Sqlite(c, _) => check_finished(Db::Sqlite(c), &scan_id, args.partial)?,
            Source::Postgres(c, url) => {
                check_finished(Db::Postgres(c, url), &scan_id, args.partial)?
            }
        }
    }
    let w = write(
        &mut source,
        args.scan_id.as_deref(),
        args.against.as_deref(),
        &args.output,
    )?;
    writeln!(
        err,
        "census: wrote {} (scan {}, {} resources, {} KB) in {} ms",
        args.output.display(),
        w.scan_id,
        w.resources,
        w.bytes.div_ceil(1024),
        w.millis
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{Account, Resource};

    #[test]
    fn hostile_names_stay_text_and_the_csp_admits_only_the_page_own_code() {
        let evil = "</script><script>alert(1)</script><img src=x onerror=alert(2)>";
        let account = Account {
            id: "111111111111".into(),
            name: evil.into(),
            org_id: "o-1".into(),
            ou_path: format!("Root/{evil}"),
            tags: vec![format!("k={evil}")],
            scan_status: "ok".into(),
            ..Account::default()
        };
        let resource = Resource {
            account: account.id.clone(),
            region: evil.into(),
            service: evil.into(),
            resource_type: evil.into(),
            resource_id: evil.into(),
            arn: evil.into(),
            name: evil.into(),
            tags: evil.into(),
        };
        let mut m = Model {
            accounts: vec![account],
            resources: vec![resource],
            ..Model::default()
        };
        m.orgs = vec![model::Org {
            id: "o-1".into(),
            root: model::OuNode {
                name: evil.into(),
                accounts: m.accounts.clone(),
                ..model::OuNode::default()
            },
        }];
        let page = render(&m, None).unwrap();
        assert!(!page.contains("<script>alert"), "markup from data");
        assert!(!page.contains("<img"), "markup from data");
        assert_eq!(page.matches("<script").count(), 2, "the data and the code");
        let policy = csp();
        assert!(policy.contains(&csp_hash(JS)) && policy.contains(&csp_hash(CSS)));
        assert!(page.contains(&format!("<script>{JS}</script>")));
        assert!(page.contains(&format!("<style>{CSS}</style>")));
    }
}
