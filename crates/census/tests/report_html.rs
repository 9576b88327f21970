//! `census report html` end to end: the seeded demo organization scanned from moto
//! (with a call that fails in every region), the report written from census.db, then
//! opened from a file:// URL in a real headless Chromium (Debian's `chromium`, set up
//! by scripts/setup-chromium.sh, or $CHROMIUM) and its rendered DOM checked against
//! the store: account names, per-account resource counts, the failed calls, the
//! resource table's rows after the page's script ran, the filters; and that nothing
//! leaves the page (a strict CSP, no remote URL, no violation, no script error).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use regex::Regex;
use serde_json::json;
use serde_json::Value;
use testkit::{
    boto3_call, cli_command, seed_demo_org, shared_demo_org, Action, Caller, DemoOrg, FaultProxy,
    Match, Moto, Postgres, Protocol, Reply, Rule, TempDir,
};

fn scans_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scans")
}

fn command(endpoint: &str, args: &[&str]) -> Command {
    let mut c = cli_command(env!("CARGO_BIN_EXE_census"), endpoint);
    c.args(args);
    c
}

fn ok(out: &Output, what: &str) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// `census query SQL --output json` as rows.
fn query(db: &Path, sql: &str) -> Vec<serde_json::Map<String, Value>> {
    let out = command(
        "http://127.0.0.1:9",
        &[
            "query",
            sql,
            "--db",
            db.to_str().unwrap(),
            "--output",
            "json",
        ],
    )
    .output()
    .unwrap();
    let text = ok(&out, sql);
    let rows: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_object().unwrap().clone())
        .collect()
}

/// `census report html --db DB -o HTML`, which must succeed; its output.
fn write_report(db: &Path, html: &Path) -> Output {
    let r = command(
        "http://127.0.0.1:9",
        &[
            "report",
            "html",
            "--db",
            db.to_str().unwrap(),
            "-o",
            html.to_str().unwrap(),
        ],
    )
    .output()
    .unwrap();
    ok(&r, "census report html");
    r
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The demo organization scanned once (inventory.json, plus a DescribeInstances of
/// an instance that does not exist, which fails with InvalidInstanceID.NotFound in
/// every region) and its report written: (scan folder, census.db, report.html).
fn scanned() -> &'static (PathBuf, PathBuf, PathBuf) {
    static DONE: std::sync::OnceLock<(PathBuf, PathBuf, PathBuf)> = std::sync::OnceLock::new();
    DONE.get_or_init(|| {
        let (moto, manifest) = shared_demo_org();
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-html");
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).unwrap();
        let failing = out.join("failing.json");
        std::fs::write(
            &failing,
            r#"[{"service": "ec2", "function": "describe_instances", "parameters": {"InstanceIds": ["i-0000000000000dead"]}}]"#,
        )
        .unwrap();
        let regions = manifest.regions.join(",");
        let scan_out = out.join("scan");
        let result = command(
            &moto.endpoint(),
            &[
                "scan",
                "-s",
                scans_dir().join("inventory.json").to_str().unwrap(),
                "-s",
                failing.to_str().unwrap(),
                "-o",
                scan_out.to_str().unwrap(),
                "--org",
                "--regions",
                &regions,
                "--html",
            ],
        )
        .output()
        .unwrap();
        // Failed calls make the scan's exit status 2.
        assert_eq!(
            result.status.code(),
            Some(2),
            "census scan: {}",
            String::from_utf8_lossy(&result.stderr)
        );
        let db = scan_out.join("census.db");
        let html = out.join("report.html");
        let r = write_report(&db, &html);
        let said = String::from_utf8_lossy(&r.stderr);
        assert!(said.starts_with("census: wrote "), "{said}");
        (scan_out, db, html)
    })
}

fn chromium() -> String {
    let bin = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let found = Command::new(&bin).arg("--version").output();
    assert!(
        found.as_ref().is_ok_and(|o| o.status.success()),
        "{bin}: not found: run scripts/setup-chromium.sh (apt-get install chromium), or set CHROMIUM to a Chromium binary ({found:?})"
    );
    bin
}

/// Chromium's flags for a run that talks to nothing and keeps no state.
fn headless(profile: &Path) -> Vec<String> {
    [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--no-first-run",
        "--hide-scrollbars",
        "--virtual-time-budget=5000",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("--user-data-dir={}", profile.display())])
    .collect()
}

/// The DOM of `page` (a file, with an optional `#fragment`) once its script ran.
fn dump_dom(page: &Path, fragment: &str) -> String {
    let profile = TempDir::new("census-chromium");
    let url = format!("file://{}{fragment}", page.display());
    let out = Command::new(chromium())
        .args(headless(profile.path()))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium --dump-dom {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = String::from_utf8(out.stdout).unwrap();
    assert!(
        dom.contains(r#"data-ready="true""#),
        "the page's script did not finish: {}",
        &dom[..dom.len().min(2000)]
    );
    dom
}

/// Every match of `pattern`'s capture groups.
fn captures(text: &str, pattern: &str) -> Vec<Vec<String>> {
    Regex::new(pattern)
        .unwrap()
        .captures_iter(text)
        .map(|c| {
            c.iter()
                .skip(1)
                .map(|m| m.map(|m| m.as_str().to_string()).unwrap_or_default())
                .collect()
        })
        .collect()
}

fn attr(dom: &str, id: &str, name: &str) -> String {
    let found = captures(dom, &format!(r#"<[a-z]+ id="{id}"[^>]*\b{name}="([^"]*)""#));
    assert_eq!(found.len(), 1, "#{id} [{name}] in the DOM");
    found[0][0].clone()
}

#[test]
fn report_shows_what_the_store_holds() {
    let (_, db, html) = scanned();
    let (_, manifest) = shared_demo_org();
    let scan_id = s(&query(db, "SELECT scan_id FROM scans")[0]["scan_id"]);
    let dom = dump_dom(html, "");

    // Every account with its name and the store's resource count.
    let want: BTreeMap<String, (String, u64)> = query(
        db,
        &format!(
            "SELECT a.account_id, a.name, (SELECT COUNT(*) FROM inventory i WHERE i.scan_id = a.scan_id \
             AND i.account_id = a.account_id) AS n FROM accounts a WHERE a.scan_id = '{scan_id}'"
        ),
    )
    .iter()
    .map(|r| (s(&r["account_id"]), (s(&r["name"]), r["n"].as_u64().unwrap())))
    .collect();
    assert_eq!(want.len(), manifest.accounts.len());
    let got: BTreeMap<String, (String, u64)> = captures(
        &dom,
        r#"<li class="acct" data-account="(\d{12})" data-resources="(\d+)" data-failures="\d+">\s*<a href="\#account=\d{12}">([^<]*)</a>"#,
    )
    .into_iter()
    .map(|c| (c[0].clone(), (c[2].clone(), c[1].parse().unwrap())))
    .collect();
    assert_eq!(
        got, want,
        "organization tree: account names and resource counts"
    );
    for a in &manifest.accounts {
        assert!(dom.contains(&format!(">{}</a>", a.name)), "{}", a.name);
    }
    let total: u64 = want.values().map(|v| v.1).sum();
    assert!(total > 100, "the demo has resources: {total}");
    assert!(dom.contains(&format!(r#"<dd id="ov-resources">{total}</dd>"#)));
    assert!(dom.contains(&format!(
        r#"<dd id="ov-accounts">{}</dd>"#,
        manifest.accounts.len()
    )));
    // The scan's flags, as it recorded them (scan_shards), as one command line.
    let flags = captures(&dom, r#"(?s)<div id="ov-flags">.*?<code>([^<]*)</code>"#);
    assert_eq!(flags.len(), 1, "one run, its flags shown");
    let line = &flags[0][0];
    assert!(line.starts_with("census scan -s "), "{line}");
    assert!(
        line.ends_with(&format!(
            "--org --regions {} --html",
            manifest.regions.join(",")
        )),
        "{line}"
    );

    // The heatmap's totals are the same counts.
    let heat: BTreeMap<String, u64> = captures(
        &dom,
        r#"<tr data-account="(\d{12})">.*?<td class="num total">(\d+)</td></tr>"#,
    )
    .into_iter()
    .map(|c| (c[0].clone(), c[1].parse().unwrap()))
    .collect();
    let nonzero: BTreeMap<String, u64> = want.iter().map(|(k, v)| (k.clone(), v.1)).collect();
    assert_eq!(heat, nonzero, "heatmap totals");

    // The failed calls, exactly those of the store, grouped under their code.
    let failed: BTreeSet<(String, String, String)> = query(
        db,
        &format!(
            "SELECT account_id, region, service || ':' || operation AS op FROM calls \
             WHERE scan_id = '{scan_id}' AND status = 'error'"
        ),
    )
    .iter()
    .map(|r| (s(&r["account_id"]), s(&r["region"]), s(&r["op"])))
    .collect();
    assert_eq!(
        failed.len(),
        manifest.accounts.len() * manifest.regions.len(),
        "one failed call per account and region"
    );
    let shown: BTreeSet<(String, String, String)> = captures(
        &dom,
        r#"<tr class="failed-call" data-account="(\d{12})" data-region="([a-z0-9-]+)" data-operation="([^"]+)">"#,
    )
    .into_iter()
    .map(|c| (c[0].clone(), c[1].clone(), c[2].clone()))
    .collect();
    assert_eq!(shown, failed, "failed calls");
    assert!(dom.contains(r#"<div class="problem" data-code="InvalidInstanceID.NotFound">"#));
    assert!(
        dom.contains("fix the scan file's parameters"),
        "remediation"
    );
    assert!(dom.contains(&format!(
        r#"<dd id="ov-calls-failed" class="bad">{}</dd>"#,
        failed.len()
    )));

    // The resource table: the script decoded every row and drew the first screenful.
    assert_eq!(attr(&dom, "table-status", "data-shown"), total.to_string());
    let rows = captures(&dom, r#"<tr aria-rowindex="(\d+)"><td[^>]*>([^<]*)</td>"#);
    assert!(
        rows.len() > 10 && (rows.len() as u64) < total,
        "drawn lazily: {}",
        rows.len()
    );
    let types: BTreeSet<String> = query(
        db,
        &format!("SELECT DISTINCT resource_type FROM inventory WHERE scan_id = '{scan_id}'"),
    )
    .iter()
    .map(|r| s(&r["resource_type"]))
    .collect();
    for r in &rows {
        assert!(
            types.contains(&r[1]),
            "row type {:?} not in the store",
            r[1]
        );
    }

    // Nothing blocked, nothing failed.
    assert!(dom.contains(r#"data-errors="0""#), "script errors");
    assert!(dom.contains(r#"data-csp-violations="0""#), "CSP violations");
}

#[test]
fn filters_select_an_account_and_words() {
    let (_, db, html) = scanned();
    let (_, manifest) = shared_demo_org();
    let account = &manifest.accounts[1];
    let n = query(
        db,
        &format!(
            "SELECT COUNT(*) AS n FROM inventory WHERE account_id = '{}'",
            account.id
        ),
    )[0]["n"]
        .as_u64()
        .unwrap();
    let dom = dump_dom(html, &format!("#account={}", account.id));
    assert_eq!(attr(&dom, "table-status", "data-shown"), n.to_string());
    // Every drawn row is that account's.
    let accounts = captures(
        &dom,
        r#"<tr aria-rowindex="\d+">(?:<td[^>]*>[^<]*</td>){3}<td[^>]*>([^<]*)</td>"#,
    );
    assert!(!accounts.is_empty());
    for a in accounts {
        assert_eq!(a[0], format!("{} ({})", account.name, account.id));
    }
    // Words: every one must match (type and region here).
    let region = &manifest.regions[0];
    let m = query(
        db,
        &format!(
            "SELECT COUNT(*) AS n FROM inventory WHERE resource_type = 'ec2:Vpc' AND region = '{region}'"
        ),
    )[0]["n"]
        .as_u64()
        .unwrap();
    assert!(m > 0);
    let dom = dump_dom(html, &format!("#q=ec2:vpc%20{region}"));
    assert_eq!(attr(&dom, "table-status", "data-shown"), m.to_string());
    // Both: the account's VPCs of that region.
    let k = query(
        db,
        &format!(
            "SELECT COUNT(*) AS n FROM inventory WHERE resource_type = 'ec2:Vpc' AND region = '{region}' \
             AND account_id = '{}'",
            account.id
        ),
    )[0]["n"]
        .as_u64()
        .unwrap();
    let dom = dump_dom(
        html,
        &format!("#account={}&q=ec2:vpc%20{region}", account.id),
    );
    assert_eq!(attr(&dom, "table-status", "data-shown"), k.to_string());
    // A link to an account this scan does not have: said, and every account shown.
    let dom = dump_dom(html, "#account=000000000000");
    let said = captures(&dom, r#"<p id="table-status"[^>]*>([^<]*)</p>"#);
    assert!(
        said[0][0].starts_with("No account 000000000000 in this scan"),
        "{said:?}"
    );
    assert_eq!(
        attr(&dom, "table-status", "data-shown"),
        total_rows(db).to_string()
    );
}

fn total_rows(db: &Path) -> u64 {
    query(db, "SELECT COUNT(*) AS n FROM inventory")[0]["n"]
        .as_u64()
        .unwrap()
}

#[test]
fn scan_html_writes_the_same_report_into_the_scan_folder() {
    let (scan_out, db, html) = scanned();
    let scan_id = s(&query(db, "SELECT scan_id FROM scans")[0]["scan_id"]);
    let in_folder = scan_out.join(&scan_id).join("report.html");
    let page = std::fs::read_to_string(&in_folder)
        .unwrap_or_else(|e| panic!("{}: {e}", in_folder.display()));
    assert!(page.contains(&format!(r#"<body data-scan="{scan_id}""#)));
    assert_eq!(page, std::fs::read_to_string(html).unwrap());
}

#[test]
fn html_without_a_database_is_refused_before_scanning() {
    let out = TempDir::new("census-report-html-nodb");
    let r = command(
        "http://127.0.0.1:9",
        &[
            "scan",
            "-s",
            scans_dir().join("one-call.json").to_str().unwrap(),
            "-o",
            out.path().to_str().unwrap(),
            "--no-db",
            "--html",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(r.status.code(), Some(1));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("--html reads the scan back from its database"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(out.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

#[test]
fn report_of_a_missing_scan_says_which_there_are() {
    let (_, db, _) = scanned();
    let r = command(
        "http://127.0.0.1:9",
        &[
            "report",
            "html",
            "nope",
            "--db",
            db.to_str().unwrap(),
            "-o",
            "/tmp/never.html",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(r.status.code(), Some(1));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("has no scan \"nope\"; its scans are: 2"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let r = command(
        "http://127.0.0.1:9",
        &[
            "report",
            "html",
            "--against",
            "nope",
            "--db",
            db.to_str().unwrap(),
            "-o",
            "/tmp/never.html",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(r.status.code(), Some(1));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("--against nope: ") && err.contains("has no such scan"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!Path::new("/tmp/never.html").exists());
}

#[test]
fn changes_are_those_census_diff_finds() {
    let moto = Moto::start();
    let me = Caller::management();
    let call = |service: &str, op: &str, params: Value| -> Value {
        boto3_call(&moto, &me, service, op, &params, false)
    };
    let vpc = call(
        "ec2",
        "CreateVpc",
        json!({"CidrBlock": "10.9.0.0/16", "TagSpecifications": [{"ResourceType": "vpc", "Tags": [{"Key": "Owner", "Value": "team-a"}]}]}),
    )["Vpc"]["VpcId"]
        .as_str()
        .unwrap()
        .to_string();
    call("s3", "CreateBucket", json!({"Bucket": "kept-bucket"}));
    let queue = call("sqs", "CreateQueue", json!({"QueueName": "gone"}))["QueueUrl"]
        .as_str()
        .unwrap()
        .to_string();
    let dir = TempDir::new("census-report-html-changes");
    let spec = dir.path().join("spec.json");
    std::fs::write(
        &spec,
        json!([
            {"service": "ec2", "function": "describe_vpcs", "result_key": "Vpcs"},
            {"service": "s3", "function": "list_buckets", "result_key": "Buckets"},
            {"service": "sqs", "function": "list_queues", "result_key": "QueueUrls"}
        ])
        .to_string(),
    )
    .unwrap();
    let out = dir.path().join("out");
    let scan = || {
        let r = command(
            &moto.endpoint(),
            &[
                "scan",
                "-s",
                spec.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
                "--regions",
                "us-east-1",
            ],
        )
        .output()
        .unwrap();
        ok(&r, "census scan");
    };
    scan();
    call("s3", "CreateBucket", json!({"Bucket": "new-bucket"}));
    call("sqs", "DeleteQueue", json!({"QueueUrl": queue}));
    call(
        "ec2",
        "CreateTags",
        json!({"Resources": [vpc], "Tags": [{"Key": "Owner", "Value": "team-b"}]}),
    );
    scan();
    let db = out.join("census.db");
    let html = dir.path().join("report.html");
    write_report(&db, &html);
    let diff = query_diff(&db);
    let want: BTreeSet<(String, String)> = diff
        .iter()
        .map(|r| {
            let arn = s(&r["arn"]);
            let id = if arn == "null" {
                s(&r["resource_id"])
            } else {
                arn
            };
            (s(&r["change"]), id)
        })
        .collect();
    assert!(
        want.contains(&("added".to_string(), "arn:aws:s3:::new-bucket".to_string())),
        "{want:?}"
    );
    assert!(
        want.iter()
            .any(|(k, id)| k == "removed" && id.ends_with(":gone")),
        "{want:?}"
    );
    assert!(
        want.iter()
            .any(|(k, id)| k == "changed" && id.ends_with(&vpc)),
        "{want:?}"
    );
    let dom = dump_dom(&html, "");
    let got: BTreeSet<(String, String)> = captures(
        &dom,
        r#"<tr class="change [a-z]+" data-kind="([a-z]+)" data-resource="([^"]+)" data-account="\d{12}">"#,
    )
    .into_iter()
    .map(|c| (c[0].clone(), c[1].clone()))
    .collect();
    assert_eq!(
        got, want,
        "the Changes section lists what census diff finds"
    );
    assert!(dom.contains(r#"<span class="tag">tag Owner: team-a -&gt; team-b</span>"#));
    assert!(
        dom.contains(r#"<dd id="ch-added">+1</dd>"#),
        "one bucket added"
    );
    assert!(
        dom.contains(r#"<dd id="ch-removed">−1</dd>"#),
        "one queue removed"
    );
}

/// `census diff --output json` of the database's last two scans.
fn query_diff(db: &Path) -> Vec<serde_json::Map<String, Value>> {
    let out = command(
        "http://127.0.0.1:9",
        &["diff", "--db", db.to_str().unwrap(), "--output", "json"],
    )
    .output()
    .unwrap();
    let text = ok(&out, "census diff");
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_object().unwrap().clone())
        .collect()
}

#[test]
fn postgres_gives_the_same_page_as_sqlite() {
    let (moto, manifest) = shared_demo_org();
    let url = Postgres::shared().create_database("report").replacen(
        "postgres@",
        "postgres:pw-never-printed@",
        1,
    );
    let dir = TempDir::new("census-report-html-pg");
    let out = dir.path().join("scan");
    let regions = manifest.regions.join(",");
    let r = command(
        &moto.endpoint(),
        &[
            "scan",
            "--org",
            "-s",
            scans_dir().join("inventory.json").to_str().unwrap(),
            "--regions",
            &regions,
            "-o",
            out.to_str().unwrap(),
            "--postgres",
            &url,
        ],
    )
    .output()
    .unwrap();
    ok(&r, "census scan --postgres");
    let page = |store: &[&str], name: &str| -> String {
        let html = dir.path().join(name);
        let mut args = vec!["report", "html", "-o", html.to_str().unwrap()];
        args.extend(store);
        let r = command("http://127.0.0.1:9", &args).output().unwrap();
        ok(&r, "census report html");
        assert!(!String::from_utf8_lossy(&r.stderr).contains("pw-never-printed"));
        std::fs::read_to_string(html).unwrap()
    };
    let db = out.join("census.db");
    let sqlite = page(&["--db", db.to_str().unwrap()], "sqlite.html");
    let postgres = page(&["--postgres", &url], "postgres.html");
    assert!(
        !postgres.contains("pw-never-printed"),
        "the password is in the page"
    );
    // Only where it was read from differs.
    // (Each sink writes its own `finished` time: they may differ by a second.)
    let from = Regex::new(
        r#"finished \S+ &middot; read from .*? &middot; written|<dd id="ov-duration">[^<]*"#,
    )
    .unwrap();
    assert!(
        postgres.contains("read from PostgreSQL at postgres"),
        "says where from"
    );
    let (a, b) = (
        from.replace_all(&sqlite, "(masked)"),
        from.replace_all(&postgres, "(masked)"),
    );
    if let Some((n, (x, y))) = a
        .lines()
        .zip(b.lines())
        .enumerate()
        .find(|(_, (x, y))| x != y)
    {
        panic!("line {}: SQLite's\n{x}\nPostgreSQL's\n{y}", n + 1);
    }
    assert_eq!(a.len(), b.len());
}

/// `census scan --org` of the VPCs alone through `endpoint` into `dir/scan`, with
/// `extra` flags: the folder and how the command ended.
fn scan_vpcs(
    endpoint: &str,
    dir: &TempDir,
    regions: &[String],
    extra: &[&str],
) -> (PathBuf, Output) {
    let spec = dir.path().join("spec.json");
    std::fs::write(
        &spec,
        json!([{"service": "ec2", "function": "describe_vpcs", "result_key": "Vpcs"}]).to_string(),
    )
    .unwrap();
    let out = dir.path().join("scan");
    let regions = regions.join(",");
    let mut args = vec![
        "scan",
        "--org",
        "-s",
        spec.to_str().unwrap(),
        "--regions",
        &regions,
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let r = command(endpoint, &args).output().unwrap();
    (out, r)
}

#[test]
fn a_scan_without_inventory_shows_its_items() {
    let (moto, manifest) = shared_demo_org();
    let dir = TempDir::new("census-report-html-noinv");
    let (out, r) = scan_vpcs(
        &moto.endpoint(),
        &dir,
        &manifest.regions,
        &["--no-inventory", "--html"],
    );
    ok(&r, "census scan --no-inventory --html");
    let db = out.join("census.db");
    let scan_id = s(&query(&db, "SELECT scan_id FROM scans")[0]["scan_id"]);
    let vpcs = query(&db, "SELECT COUNT(*) AS n FROM resources")[0]["n"]
        .as_u64()
        .unwrap();
    assert!(vpcs >= (manifest.accounts.len() * manifest.regions.len()) as u64);
    assert_eq!(
        query(&db, "SELECT COUNT(*) AS n FROM inventory")[0]["n"],
        json!(0)
    );
    let dom = dump_dom(
        &out.join(&scan_id).join("report.html"),
        "#q=ec2_describe_vpcs",
    );
    assert!(dom.contains(r#"<p id="no-inventory""#));
    assert_eq!(attr(&dom, "table-status", "data-shown"), vpcs.to_string());
    assert!(dom.contains(&format!(r#"<dd id="ov-resources">{vpcs}</dd>"#)));
}

#[test]
fn an_unreachable_account_is_a_problem_with_what_to_do() {
    let (moto, manifest) = shared_demo_org();
    let denied = &manifest.accounts[2];
    let proxy = FaultProxy::start(moto);
    proxy.add(Rule::new(
        Match::any()
            .form_action("AssumeRole")
            .body_contains(&denied.id),
        Action::Reply(Reply::access_denied(Protocol::Query)),
    ));
    let dir = TempDir::new("census-report-html-denied");
    let (out, r) = scan_vpcs(&proxy.endpoint(), &dir, &manifest.regions, &[]);
    assert_eq!(
        r.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    let db = out.join("census.db");
    let rows = query(
        &db,
        "SELECT account_id, error_code, remediation FROM accounts WHERE scan_status <> 'ok'",
    );
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(s(&rows[0]["account_id"]), denied.id);
    let (code, remediation) = (s(&rows[0]["error_code"]), s(&rows[0]["remediation"]));
    assert!(!remediation.is_empty());
    let html = dir.path().join("report.html");
    write_report(&db, &html);
    let dom = dump_dom(&html, "");
    let group = captures(
        &dom,
        &format!(r#"(?s)<div class="problem" data-code="{code}">(.*?)</div>"#),
    );
    assert_eq!(group.len(), 1, "one group for {code}");
    let group = &group[0][0];
    assert!(group.contains(&format!(r#"<tr data-account="{}">"#, denied.id)));
    assert!(
        group.contains(&remediation),
        "the store's remediation: {group}"
    );
    assert!(dom.contains(r#"<dd id="ov-accounts-failed" class="bad">1</dd>"#));
    assert!(dom.contains(&format!("not scanned: {code}")));
    // The account alone: no resources, its problem; no other account's rows.
    let dom = dump_dom(&html, &format!("#account={}", denied.id));
    assert!(
        dom.contains(
            r#"<div id="heat-one" class="wide"><p>No resources in this account.</p></div>"#
        ),
        "the heatmap of an account without resources"
    );
    assert_eq!(attr(&dom, "table-status", "data-shown"), "0");
    let group = captures(
        &dom,
        &format!(r#"(?s)<div class="problem" data-code="{code}">(.*?)</div>"#),
    );
    assert_eq!(group.len(), 1, "{code} shown");
    assert!(group[0][0].contains(r#"<span class="g-count">this account</span>"#));
    assert!(!dom.contains(&format!(
        r#"<div class="problem" data-code="{code}" hidden"#
    )));
    assert!(
        dom.contains(r#"<div id="scope" class="scope" role="region" aria-label="Account shown" tabindex="-1">"#),
        "the 'showing account' bar is shown"
    );
}

#[test]
fn nothing_leaves_the_page() {
    let (_, _, html) = scanned();
    let page = std::fs::read_to_string(html).unwrap();
    let csp = captures(
        &page,
        r#"<meta http-equiv="Content-Security-Policy" content="([^"]+)">"#,
    );
    assert_eq!(csp.len(), 1, "one CSP meta tag");
    let csp = &csp[0][0];
    assert!(csp.starts_with("default-src 'none'; "), "{csp}");
    assert!(
        csp.contains("connect-src 'none'") && !csp.contains("unsafe"),
        "{csp}"
    );
    // No element loads anything: no src, no stylesheet link, no remote URL anywhere
    // in an attribute (the markup without its two scripts, the code and the data).
    let markup = Regex::new(r"(?s)<script[^>]*>.*?</script>")
        .unwrap()
        .replace_all(&page, "");
    assert_eq!(page.matches("</script>").count(), 2);
    let loads = captures(
        &markup,
        r#"\s(src|srcset|action|poster|data|formaction)\s*="#,
    );
    assert!(loads.is_empty(), "{loads:?}");
    assert!(!markup.contains("<link") && !markup.contains("<iframe") && !markup.contains("<img"));
    assert!(!page.contains("@import") && !page.contains("url("));
    let remote = captures(&markup, r#"(?i)(?:href|xlink:href)\s*=\s*"([a-z]+:[^"]*)""#);
    assert!(remote.is_empty(), "links out of the page: {remote:?}");
    // The page's script is the one the CSP hash admits: it ran (data-ready) in the
    // tests above with script-src allowing nothing else.
    assert_eq!(page.matches("<script>").count(), 1);
}

/// `SELECT key, COUNT(*)` of `table` rows matching `filter`, as a map.
fn counted(db: &Path, key: &str, table: &str, filter: &str) -> BTreeMap<String, u64> {
    query(
        db,
        &format!("SELECT {key} AS k, COUNT(*) AS n FROM {table} WHERE {filter} GROUP BY {key}"),
    )
    .iter()
    .map(|r| (s(&r["k"]), r["n"].as_u64().unwrap()))
    .collect()
}

/// `[[key, count], ...]` from the page as a map.
fn pairs(v: Value) -> BTreeMap<String, u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| (s(&p[0]), p[1].as_u64().unwrap()))
        .collect()
}

/// Presses Enter on the element that has the focus.
fn press_enter(d: &mut Devtools) {
    for t in ["keyDown", "keyUp"] {
        d.call(
            "Input.dispatchKeyEvent",
            json!({"type": t, "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "text": "\r"}),
        );
    }
}

/// What the page shows below the organization tree, read from its DOM (visible
/// elements only: not under a `hidden` one).
const SHOWN: &str = r#"(() => {
  const visible = e => !e.closest('[hidden]');
  const all = sel => [...document.querySelectorAll(sel)].filter(visible);
  return {
    account: document.body.dataset.account,
    hash: location.hash,
    scope: visible(document.getElementById('scope')),
    heatAll: visible(document.getElementById('heat-all')),
    services: all('#heat-one td[data-service]').map(td => [td.dataset.service, +td.textContent]),
    heatTotal: all('#heat-one td.total').map(td => +td.textContent),
    regions: all('#regions-one g[data-region]').map(g => [g.dataset.region, +g.querySelector('text.n').textContent]),
    types: all('#types-one tr[data-type]').map(tr => [tr.dataset.type, +tr.cells[1].textContent]),
    failed: all('tr.failed-call').map(tr => [tr.dataset.account, tr.dataset.region, tr.dataset.operation]),
    groups: all('#call-problems .problem').map(g => [g.dataset.code, g.querySelector('.g-count').textContent]),
    changes: all('tr.change').map(tr => [tr.dataset.kind, tr.dataset.resource, tr.dataset.account]),
    cards: ['ch-added', 'ch-removed', 'ch-changed'].map(id => document.getElementById(id).textContent),
    shown: +document.getElementById('table-status').dataset.shown,
    current: [...document.querySelectorAll('li.acct[aria-current]')].map(li => li.dataset.account),
  };
})()"#;

#[test]
fn choosing_an_account_narrows_every_section_to_it() {
    let moto = Moto::start();
    let manifest = seed_demo_org(
        &moto,
        &DemoOrg {
            members: 4,
            resource_accounts: 3,
            ..DemoOrg::default()
        },
    );
    let resource_accounts = manifest.resource_accounts();
    let (chosen, other) = (resource_accounts[0], resource_accounts[1]);
    let dir = TempDir::new("census-report-html-account");
    let failing = dir.path().join("failing.json");
    std::fs::write(
        &failing,
        r#"[{"service": "ec2", "function": "describe_instances", "parameters": {"InstanceIds": ["i-0000000000000dead"]}}]"#,
    )
    .unwrap();
    let out = dir.path().join("scan");
    let regions = manifest.regions.join(",");
    let scan = || {
        let r = command(
            &moto.endpoint(),
            &[
                "scan",
                "--org",
                "-s",
                scans_dir().join("inventory.json").to_str().unwrap(),
                "-s",
                failing.to_str().unwrap(),
                "--regions",
                &regions,
                "-o",
                out.to_str().unwrap(),
            ],
        )
        .output()
        .unwrap();
        assert_eq!(
            r.status.code(),
            Some(2),
            "census scan (failed calls): {}",
            String::from_utf8_lossy(&r.stderr)
        );
    };
    scan();
    // Changes in two accounts: the chosen one's must show, the other's not.
    let as_chosen = Caller::member(&chosen.id);
    boto3_call(
        &moto,
        &as_chosen,
        "ec2",
        "CreateVpc",
        &json!({"CidrBlock": "10.42.0.0/16"}),
        false,
    );
    boto3_call(
        &moto,
        &as_chosen,
        "sqs",
        "CreateQueue",
        &json!({"QueueName": "chosen-new"}),
        false,
    );
    boto3_call(
        &moto,
        &Caller::member(&other.id),
        "sqs",
        "CreateQueue",
        &json!({"QueueName": "other-new"}),
        false,
    );
    scan();
    let db = out.join("census.db");
    let html = dir.path().join("report.html");
    write_report(&db, &html);
    let scans = query(&db, "SELECT scan_id FROM scans ORDER BY started");
    let scan_id = s(&scans[1]["scan_id"]);
    let mine = format!("scan_id = '{scan_id}' AND account_id = '{}'", chosen.id);
    let services = counted(&db, "service", "inventory", &mine);
    let by_region = counted(&db, "region", "inventory", &mine);
    let by_type = counted(&db, "resource_type", "inventory", &mine);
    let total: u64 = services.values().sum();
    assert!(total > 10 && services.len() > 2, "{services:?}");
    let everything: u64 = query(
        &db,
        &format!("SELECT COUNT(*) AS n FROM inventory WHERE scan_id = '{scan_id}'"),
    )[0]["n"]
        .as_u64()
        .unwrap();
    let failed = |filter: &str| -> BTreeSet<(String, String, String)> {
        query(
            &db,
            &format!(
                "SELECT account_id, region, service || ':' || operation AS op FROM calls \
                 WHERE scan_id = '{scan_id}' AND status = 'error'{filter}"
            ),
        )
        .iter()
        .map(|r| (s(&r["account_id"]), s(&r["region"]), s(&r["op"])))
        .collect()
    };
    let failed_mine = failed(&format!(" AND account_id = '{}'", chosen.id));
    let failed_all = failed("");
    assert_eq!(failed_mine.len(), manifest.regions.len());
    assert!(failed_all.len() > failed_mine.len());
    let diff: BTreeSet<(String, String, String)> = query_diff(&db)
        .iter()
        .map(|r| {
            let arn = s(&r["arn"]);
            let id = if arn == "null" {
                s(&r["resource_id"])
            } else {
                arn
            };
            (s(&r["change"]), id, s(&r["account_id"]))
        })
        .collect();
    let diff_mine: BTreeSet<_> = diff.iter().filter(|c| c.2 == chosen.id).cloned().collect();
    assert!(
        diff_mine.len() >= 2,
        "a VPC and a queue added: {diff_mine:?}"
    );
    assert!(diff.len() > diff_mine.len(), "the other account's queue");
    let count = |kind: &str, set: &BTreeSet<(String, String, String)>| {
        set.iter().filter(|c| c.0 == kind).count()
    };

    let url = format!("file://{}", html.display());
    let mut d = Devtools::launch();
    d.open(&url);
    let before = d.eval(SHOWN);
    assert_eq!(before["scope"], json!(false));
    assert_eq!(before["heatAll"], json!(true));
    // From the keyboard: the chosen account's link in the organization tree, Enter.
    d.eval(&format!(
        "document.querySelector('li.acct[data-account=\"{}\"] > a').focus()",
        chosen.id
    ));
    press_enter(&mut d);
    d.eval(&format!(
        "new Promise(done => {{ const check = () => document.body.dataset.account === '{}' \
         ? done(true) : requestAnimationFrame(check); check(); }})",
        chosen.id
    ));
    let v = d.eval(SHOWN);
    assert_eq!(v["hash"], json!(format!("#account={}", chosen.id)));
    assert_eq!(v["scope"], json!(true), "the 'showing account' bar");
    assert_eq!(v["current"], json!([chosen.id]));
    assert_eq!(v["heatAll"], json!(false), "every account's heatmap hidden");
    assert_eq!(pairs(v["services"].clone()), services, "heatmap by service");
    assert_eq!(v["heatTotal"], json!([total]));
    assert_eq!(pairs(v["regions"].clone()), by_region, "bars by region");
    assert_eq!(pairs(v["types"].clone()), by_type, "resource types");
    let shown_failed: BTreeSet<(String, String, String)> = v["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (s(&f[0]), s(&f[1]), s(&f[2])))
        .collect();
    assert_eq!(shown_failed, failed_mine, "failed calls");
    assert_eq!(
        v["groups"],
        json!([[
            "InvalidInstanceID.NotFound",
            format!("{} calls in this account", failed_mine.len())
        ]])
    );
    let shown_changes: BTreeSet<(String, String, String)> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (s(&c[0]), s(&c[1]), s(&c[2])))
        .collect();
    assert_eq!(shown_changes, diff_mine, "changes");
    assert_eq!(
        v["cards"],
        json!([
            format!("+{}", count("added", &diff_mine)),
            format!("\u{2212}{}", count("removed", &diff_mine)),
            format!("~{}", count("changed", &diff_mine)),
        ])
    );
    assert_eq!(v["shown"], json!(total), "the resource table");

    // The link reproduces the view.
    let mut again = Devtools::launch();
    again.open(&format!("{url}#account={}", chosen.id));
    let w = again.eval(SHOWN);
    for k in [
        "account", "services", "regions", "types", "failed", "changes", "cards", "shown",
    ] {
        assert_eq!(w[k], v[k], "{k} from the link");
    }
    assert_quiet(&mut again, &url);

    // "Show all accounts", from the keyboard: everything back as written.
    d.eval("document.getElementById('scope-clear').focus()");
    press_enter(&mut d);
    let after = d.eval(SHOWN);
    assert_eq!(after, before, "show all restores the page");
    assert_eq!(after["shown"], json!(everything));
    assert_eq!(after["failed"].as_array().unwrap().len(), failed_all.len());
    assert_eq!(
        after["cards"][0],
        json!(format!("+{}", count("added", &diff)))
    );
    assert_eq!(
        d.eval("document.activeElement.id"),
        json!("distribution-h"),
        "the focus goes to the first section shown"
    );
    assert_quiet(&mut d, &url);
}

/// Screenshots at 1366x768 of the overview, of the problems section and of one
/// account's view (its heatmap, regions and types), kept as test artefacts
/// (target/tmp/report-html/*.png) for people to look at.
#[test]
fn screenshots_of_the_overview_and_the_problems() {
    use base64::Engine;
    let (_, _, html) = scanned();
    let (_, manifest) = shared_demo_org();
    let busiest = manifest
        .resource_accounts()
        .into_iter()
        .map(|a| a.id.clone())
        .next()
        .unwrap();
    let mut d = Devtools::launch();
    d.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": false}),
    );
    d.open(&format!("file://{}", html.display()));
    // The overview is the top of the page (under its title).
    for (name, scroll) in [
        ("overview", "window.scrollTo(0, 0)"),
        (
            "problems",
            "document.getElementById('problems').scrollIntoView()",
        ),
        ("account", ""),
    ] {
        if name == "account" {
            // As a click on the tree's link: the hash changes, the page follows.
            d.eval(&format!(
                "new Promise(done => {{ location.hash = 'account={busiest}'; \
                 const check = () => document.body.dataset.account === '{busiest}' \
                 ? done(true) : requestAnimationFrame(check); check(); }})"
            ));
        }
        let top = d.eval(&format!(
            "new Promise(done => {{ {scroll}; \
             requestAnimationFrame(() => requestAnimationFrame(() => done(window.scrollY))); }})"
        ));
        if name != "overview" {
            assert!(top.as_f64().unwrap() > 100.0, "scrolled to {name}: {top}");
        }
        if name == "account" {
            assert_eq!(d.eval("document.body.dataset.account"), json!(busiest));
            assert_eq!(
                d.eval("document.getElementById('scope').hidden"),
                json!(false)
            );
        }
        let shot = d.call("Page.captureScreenshot", json!({"format": "png"}));
        let png = base64::engine::general_purpose::STANDARD
            .decode(s(&shot["data"]))
            .unwrap();
        let path = html.with_file_name(format!("{name}.png"));
        std::fs::write(&path, &png).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        // 1366 x 768, from the IHDR chunk; and not a blank page (which compresses to
        // a few KB).
        let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
        let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
        assert_eq!((w, h), (1366, 768), "{name}");
        assert!(
            png.len() > 30_000,
            "{}: blank? {} bytes",
            path.display(),
            png.len()
        );
    }
}

/// A headless Chromium driven through the DevTools protocol (one page, its network,
/// console and log events recorded), killed when dropped.
struct Devtools {
    ws: tungstenite::WebSocket<std::net::TcpStream>,
    next: u64,
    session: String,
    /// Every event received, in order.
    events: Vec<Value>,
    child: std::process::Child,
    _profile: TempDir,
}

impl Devtools {
    fn launch() -> Devtools {
        use std::io::BufRead;
        let profile = TempDir::new("census-chromium-cdp");
        let mut args = headless(profile.path());
        // Real time: the page's own timings are measured.
        args.retain(|a| !a.starts_with("--virtual-time-budget"));
        let mut child = Command::new(chromium())
            .args(args)
            .args([
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                "--window-size=1366,768",
                "about:blank",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut said = String::new();
        let url = loop {
            let mut line = String::new();
            if stderr.read_line(&mut line).unwrap() == 0 {
                panic!("chromium exited before its DevTools listened:\n{said}");
            }
            if let Some(u) = line.trim().strip_prefix("DevTools listening on ") {
                break u.to_string();
            }
            said.push_str(&line);
        };
        // Keep draining stderr so that Chromium never blocks on it.
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        let addr = url
            .strip_prefix("ws://")
            .and_then(|r| r.split('/').next())
            .unwrap()
            .to_string();
        let stream = std::net::TcpStream::connect(&addr).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(60)))
            .unwrap();
        let (ws, _) = tungstenite::client(url.as_str(), stream).unwrap();
        let mut d = Devtools {
            ws,
            next: 0,
            session: String::new(),
            events: Vec::new(),
            child,
            _profile: profile,
        };
        let target = d.call("Target.createTarget", json!({"url": "about:blank"}));
        let attached = d.call(
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        d.session = s(&attached["sessionId"]);
        for domain in [
            "Network.enable",
            "Runtime.enable",
            "Log.enable",
            "Page.enable",
        ] {
            d.call(domain, json!({}));
        }
        d
    }

    /// Sends a command (to the page's session once attached) and returns its result,
    /// recording the events that arrive meanwhile.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            msg["sessionId"] = json!(self.session);
        }
        self.ws
            .send(tungstenite::Message::text(msg.to_string()))
            .unwrap();
        loop {
            let m = self.ws.read().unwrap();
            let Ok(text) = m.to_text() else { continue };
            let v: Value = serde_json::from_str(text).unwrap();
            if v["id"] == json!(id) {
                assert!(v["error"].is_null(), "{method}: {v}");
                return v["result"].clone();
            }
            self.events.push(v);
        }
    }

    /// Evaluates `expr` in the page (awaiting a promise) and returns its value.
    fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expr, "awaitPromise": true, "returnByValue": true}),
        );
        assert!(r["exceptionDetails"].is_null(), "{expr}: {r}");
        r["result"]["value"].clone()
    }

    /// Opens `url` and waits for the page's script to finish (its `data-ready`); the
    /// wall-clock milliseconds it took.
    fn open(&mut self, url: &str) -> u128 {
        let t0 = std::time::Instant::now();
        self.call("Page.navigate", json!({"url": url}));
        let ready = self.eval(
            "new Promise(done => { const check = () => document.body && document.body.dataset.ready \
             ? done(document.body.dataset.ready) : requestAnimationFrame(check); check(); })",
        );
        assert_eq!(ready, json!("true"));
        t0.elapsed().as_millis()
    }

    fn events(&self, method: &str) -> Vec<&Value> {
        self.events
            .iter()
            .filter(|e| e["method"] == method)
            .collect()
    }
}

impl Drop for Devtools {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn devtools_see_no_request_and_no_error() {
    let (_, db, html) = scanned();
    let url = format!("file://{}", html.display());
    let mut d = Devtools::launch();
    d.open(&url);
    // Type in the filter as a person would: the table follows.
    d.eval("document.getElementById('filter').focus()");
    d.call("Input.insertText", json!({"text": "ec2:vpc"}));
    let shown = d.eval("document.getElementById('table-status').dataset.shown");
    let vpcs = query(
        db,
        "SELECT COUNT(*) AS n FROM inventory WHERE resource_type = 'ec2:Vpc'",
    )[0]["n"]
        .as_u64()
        .unwrap();
    assert_eq!(shown, json!(vpcs.to_string()));
    // Sort by a header's button, from the keyboard.
    d.eval("document.querySelector('th[data-col=\"name\"] button').focus()");
    for t in ["keyDown", "keyUp"] {
        d.call(
            "Input.dispatchKeyEvent",
            json!({"type": t, "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "text": "\r"}),
        );
    }
    assert_eq!(
        d.eval("document.querySelector('th[data-col=\"name\"]').getAttribute('aria-sort')"),
        json!("ascending")
    );
    let names = d.eval(
        "[...document.querySelectorAll('#rows tr[aria-rowindex] td:nth-child(3)')].map(td => td.textContent)",
    );
    let names: Vec<String> = names.as_array().unwrap().iter().map(s).collect();
    let mut sorted = names.clone();
    sorted.sort_by_key(|n| n.to_lowercase());
    assert!(!names.is_empty());
    assert_eq!(names, sorted);
    assert_quiet(&mut d, &url);
}

/// Every event of `d` so far: the page requested only `url`, nothing failed, no
/// exception, no console error or warning.
fn assert_quiet(d: &mut Devtools, url: &str) {
    // A round trip, so that every event of the above has arrived.
    d.eval("1");
    let requests: Vec<String> = d
        .events("Network.requestWillBeSent")
        .iter()
        .map(|e| s(&e["params"]["request"]["url"]))
        .collect();
    assert!(
        !requests.is_empty() && requests.iter().all(|r| r == url),
        "the page requested only itself ({url}): {requests:?}"
    );
    assert!(d.events("Network.loadingFailed").is_empty());
    assert!(
        d.events("Runtime.exceptionThrown").is_empty(),
        "{:?}",
        d.events
    );
    let errors: Vec<&Value> = d
        .events("Runtime.consoleAPICalled")
        .into_iter()
        .filter(|e| e["params"]["type"] == "error" || e["params"]["type"] == "warning")
        .chain(
            d.events("Log.entryAdded")
                .into_iter()
                .filter(|e| e["params"]["entry"]["level"] == "error"),
        )
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
}

/// The page's speed on a report given in $CENSUS_REPORT_BENCH (e.g. one of 500,000
/// resources): time until interactive, then, for each query of $CENSUS_REPORT_QUERIES
/// (`|`-separated; default `team-7 ec2:vol`) typed into an emptied filter one key at a
/// time (Input.dispatchKeyEvent, as a keyboard), the page's own time for each key
/// (filter and drawing of the rows, `data-filter-ms`) and from the key event to the
/// frame after it (`data-frame-ms`). Run with `cargo test -p census --test report_html
/// -- --ignored --nocapture bench` (bench/report_html.py, bench/report_table.py).
#[test]
#[ignore]
fn bench_page() {
    let Ok(page) = std::env::var("CENSUS_REPORT_BENCH") else {
        panic!("set CENSUS_REPORT_BENCH to a report.html");
    };
    let queries =
        std::env::var("CENSUS_REPORT_QUERIES").unwrap_or_else(|_| "team-7 ec2:vol".into());
    let mut d = Devtools::launch();
    let ms = d.open(&format!("file://{page}"));
    let rows = d.eval("document.getElementById('table-status').dataset.shown");
    println!("bench: {page}: interactive in {ms} ms, {rows} rows");
    let t0 = std::time::Instant::now();
    d.eval(
        "new Promise(done => { const check = () => document.body.dataset.indexed \
         ? done(true) : setTimeout(check, 10); check(); })",
    );
    println!(
        "bench: search index built {} ms later (in the background)",
        t0.elapsed().as_millis()
    );
    let mut keys = 0;
    for q in queries.split('|') {
        // An emptied filter: every row again (not a keystroke measured).
        d.eval(
            "(() => { const f = document.getElementById('filter'); f.value = ''; \
             f.dispatchEvent(new Event('input')); f.focus(); })()",
        );
        keys += 1;
        println!("bench: query {q:?}");
        for c in q.chars() {
            let text = c.to_string();
            d.call(
                "Input.dispatchKeyEvent",
                json!({"type": "keyDown", "key": text, "text": text, "unmodifiedText": text}),
            );
            d.call(
                "Input.dispatchKeyEvent",
                json!({"type": "keyUp", "key": text}),
            );
            keys += 1;
            let v = d.eval(&format!(
                "new Promise(done => {{ const s = document.getElementById('table-status'); \
                 const check = () => Number(s.dataset.keys || 0) >= {keys} \
                 ? done([s.dataset.filterMs, s.dataset.frameMs, s.dataset.shown]) : setTimeout(check, 1); \
                 check(); }})"
            ));
            println!(
                "bench: keystroke {c:?}: filtered in {} ms, frame in {} ms, {} rows",
                s(&v[0]),
                s(&v[1]),
                s(&v[2])
            );
        }
        let typed = d.eval("document.getElementById('filter').value");
        assert_eq!(typed, json!(q), "typed as a keyboard would");
    }
    let t0 = std::time::Instant::now();
    d.eval("document.querySelector('th[data-col=\"name\"] button').click()");
    println!("bench: sort by name: {} ms", t0.elapsed().as_millis());
}
