//! The PostgreSQL store end to end, against a real PostgreSQL server (testkit's
//! [`Postgres`], Debian's packages) and moto: one scan written to SQLite and PostgreSQL
//! at once answers a set of queries the same from both; `census query --postgres` and
//! `census diff --postgres` work; errors are one clear line without the password; two
//! scanners writing to one database at once both land completely.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};
use testkit::{
    boto3_call, cli_command, shared_demo_org, Action, Caller, FaultProxy, Match, Moto, Postgres,
    Protocol, Reply, Rule, TempDir,
};

/// The password every test URL carries; it must never be printed.
const PASSWORD: &str = "pg-pass-never-printed";

fn scans_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scans")
}

/// A fresh database on the shared server, as a URL with a password in it (the server
/// trusts loopback, so any password works).
fn database(prefix: &str) -> String {
    let url = Postgres::shared().create_database(prefix);
    url.replacen("postgres@", &format!("postgres:{PASSWORD}@"), 1)
}

fn without_password(url: &str) -> String {
    url.replacen(&format!(":{PASSWORD}@"), "@", 1)
}

fn census(endpoint: &str, args: &[&str]) -> Command {
    let mut c = cli_command(env!("CARGO_BIN_EXE_census"), endpoint);
    c.args(args);
    c
}

fn run(args: &[&str]) -> Output {
    census("http://127.0.0.1:9", args).output().unwrap()
}

fn no_password(out: &Output) {
    for text in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(text);
        assert!(!text.contains(PASSWORD), "the password was printed: {text}");
    }
}

fn ok(out: &Output, what: &str) -> String {
    no_password(out);
    testkit::succeeded(out, what)
}

/// The one line of a failed command's stderr.
fn one_line_error(out: &Output) -> String {
    no_password(out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

/// Where a query runs.
#[derive(Clone, Copy)]
enum Store<'a> {
    Sqlite(&'a Path),
    Postgres(&'a str),
}

fn store_args(store: Store<'_>) -> Vec<String> {
    match store {
        Store::Sqlite(db) => vec!["--db".into(), db.display().to_string()],
        Store::Postgres(url) => vec!["--postgres".into(), url.to_string()],
    }
}

type Rows = Vec<serde_json::Map<String, Value>>;

/// `census query SQL --output json`.
fn query(store: Store<'_>, sql: &str) -> Rows {
    let mut args = vec!["query".to_string(), sql.to_string()];
    args.extend(store_args(store));
    args.extend(["--output".into(), "json".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let text = ok(&run(&args), sql);
    let rows: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_object().unwrap().clone())
        .collect()
}

/// A row with JSON text parsed (jsonb and SQLite print equal JSON differently), as
/// a sortable string.
fn normalized(rows: &Rows) -> Vec<String> {
    let mut out: Vec<String> = rows
        .iter()
        .map(|r| {
            let r: serde_json::Map<String, Value> = r
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) if s.starts_with('{') || s.starts_with('[') => {
                            serde_json::from_str::<Value>(s).unwrap_or_else(|_| v.clone())
                        }
                        other => other.clone(),
                    };
                    (k.clone(), canonical(&v))
                })
                .collect();
            Value::Object(r).to_string()
        })
        .collect();
    out.sort();
    out
}

/// JSON with object keys sorted, so that equal values print the same.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(o) => {
            let sorted: BTreeMap<&String, Value> =
                o.iter().map(|(k, v)| (k, canonical(v))).collect();
            Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The demo organization scanned once into both stores, through a proxy that denies
/// iam ListUsers (so that `calls` holds errors).
struct Both {
    _dir: TempDir,
    sqlite: PathBuf,
    url: String,
    manifest: &'static testkit::Manifest,
}

/// (Not a shared static: statics are never dropped, and the scan folder must go.)
fn scan_both() -> Both {
    let (moto, manifest) = shared_demo_org();
    let proxy = FaultProxy::start(moto);
    proxy.add(Rule::new(
        Match::any().form_action("ListUsers"),
        Action::Reply(Reply::access_denied(Protocol::Query)),
    ));
    let dir = TempDir::new("census-pg-both");
    let url = database("both");
    let spec = scans_dir().join("inventory.json");
    let regions = manifest.regions.join(",");
    let out = census(
        &proxy.endpoint(),
        &[
            "scan",
            "--org",
            "-s",
            spec.to_str().unwrap(),
            "--regions",
            &regions,
            "-o",
            dir.to_str().unwrap(),
            "--postgres",
            &url,
            "-l",
            "debug",
        ],
    )
    .output()
    .unwrap();
    no_password(&out);
    // 2: complete, with failed calls (the denied ListUsers).
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Nor is it written anywhere in the scan folder or census.db.
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else {
            let bytes = std::fs::read(&p).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(PASSWORD),
                "{} holds the password",
                p.display()
            );
        }
    }
    Both {
        sqlite: dir.join("census.db"),
        _dir: dir,
        url,
        manifest,
    }
}

/// The same question to both stores gives the same rows (in any order: the databases'
/// collations differ).
fn same(both: &Both, sqlite_sql: &str, postgres_sql: &str) -> Rows {
    same_in(&both.sqlite, &both.url, sqlite_sql, postgres_sql)
}

fn same_in(sqlite: &Path, url: &str, sqlite_sql: &str, postgres_sql: &str) -> Rows {
    let a = query(Store::Sqlite(sqlite), sqlite_sql);
    let b = query(Store::Postgres(url), postgres_sql);
    assert_eq!(
        normalized(&a),
        normalized(&b),
        "different answers:\n SQLite: {sqlite_sql}\n PostgreSQL: {postgres_sql}"
    );
    a
}

#[test]
fn postgres_and_sqlite_give_the_same_answers() {
    let both = scan_both();
    same_answers(&both);
    query_output_formats_and_errors_on_postgres(&both);
}

fn same_answers(both: &Both) {
    // Written the same for both.
    let portable = [
        "select count(*) as n from scans",
        "select scan_id, started, finished is not null as done, version, resumed, accounts, accounts_failed, calls, calls_failed, items, pages from scans",
        "select * from accounts",
        "select account_id, tags ->> 'Environment' as env from accounts",
        "select account_id, region, stem, service, function, operation, status, error_code, error_message, pages, items from calls",
        "select account_id, region, stem, error_code from calls where status <> 'ok'",
        "select stem, count(*) as n, sum(items) as items from calls group by stem",
        "select scan_id, stem, account_id, region, resource_id, service, operation, member, id_source, item from resources",
        "select stem, id_source, count(*) as n from resources group by stem, id_source",
        "select \"VpcId\", region from ec2_describe_vpcs order by 1",
        "select \"VpcId\", \"CidrBlock\", account_name, region from ec2_describe_vpcs",
        "select \"InstanceId\", item -> 'State' ->> 'Name' as state, account_name from ec2_describe_instances where region = 'eu-west-1'",
        "select value, resource_id from dynamodb_list_tables",
        "select \"Name\", account_id from s3_list_buckets",
        "select \"FunctionName\", \"FunctionArn\", region from lambda_list_functions",
        "select a.name, a.ou_path, count(*) as n from resources r join accounts a on a.scan_id = r.scan_id and a.account_id = r.account_id group by a.name, a.ou_path",
        "select v.\"GroupId\", v.\"GroupName\", a.email from ec2_describe_security_groups v join accounts a on a.account_id = v.account_id and a.scan_id = v.scan_id",
        "select c.account_id, c.region, count(r.resource_id) as n from calls c left join resources r on r.scan_id = c.scan_id and r.account_id = c.account_id and r.region = c.region and r.stem = c.stem where c.stem = 'ec2-describe_subnets' group by c.account_id, c.region",
    ];
    for sql in portable {
        same(both, sql, sql);
    }
    // Dialects differ for booleans and numbers: view columns are text in PostgreSQL.
    let pairs = [
        (
            "select account_id, region, count(*) as n from ec2_describe_vpcs where IsDefault group by 1, 2",
            "select account_id, region, count(*) as n from ec2_describe_vpcs where \"IsDefault\"::boolean group by 1, 2",
        ),
        (
            "select logGroupName, storedBytes from logs_describe_log_groups where storedBytes >= 0",
            "select \"logGroupName\", \"storedBytes\"::bigint as \"storedBytes\" from logs_describe_log_groups where \"storedBytes\"::bigint >= 0",
        ),
    ];
    for (a, b) in pairs {
        same(both, a, b);
    }
    // Errors are there to be compared: ListUsers was denied in every account.
    let errors = same(
        both,
        "select distinct stem, error_code from calls where status <> 'ok'",
        "select distinct stem, error_code from calls where status <> 'ok'",
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["stem"], "iam-list_users");
    // The inventory of the latest scan: the same rows.
    let sql = "select account_id, region, resource_type, cfn_type, resource_id, arn, name, \
               created, tags, source from inventory_latest";
    assert!(!same(both, sql, sql).is_empty());
    // Its links, resolved alike.
    let sql = "select account_id, region, source, from_source, from_id, from_arn, kind, raw, \
               to_type, to_arn from links_latest";
    assert!(!same(both, sql, sql).is_empty());
    // Every stem's view: the same rows, and the same columns.
    let tables = same(both, "--tables", "--tables");
    let views: Vec<String> = tables
        .iter()
        .filter(|t| {
            t["type"] == "view" && t["name"] != "inventory_latest" && t["name"] != "links_latest"
        })
        .map(|t| s(&t["name"]))
        .collect();
    let spec: Value =
        serde_json::from_slice(&std::fs::read(scans_dir().join("inventory.json")).unwrap())
            .unwrap();
    assert_eq!(views.len(), spec.as_array().unwrap().len(), "{views:?}");
    for view in &views {
        same(
            both,
            &format!(
                "select scan_id, account_id, account_name, region, resource_id, item from {view}"
            ),
            &format!(
                "select scan_id, account_id, account_name, region, resource_id, item from {view}"
            ),
        );
        let sql = format!("select * from {view} limit 1");
        let a = query(Store::Sqlite(&both.sqlite), &sql);
        let b = query(Store::Postgres(&both.url), &sql);
        let columns = |rows: &Rows| -> Vec<String> {
            rows.first()
                .map(|r| r.keys().cloned().collect())
                .unwrap_or_default()
        };
        assert_eq!(columns(&a), columns(&b), "{view}");
    }
    // And the answers are the seeded resources.
    let vpcs = query(
        Store::Postgres(&both.url),
        "select account_id, \"VpcId\" from ec2_describe_vpcs where not \"IsDefault\"::boolean",
    );
    let want: BTreeSet<(String, String)> = both
        .manifest
        .resources
        .iter()
        .flat_map(|(account, regions)| {
            regions.values().flat_map(move |kinds| {
                kinds
                    .get("ec2:vpc")
                    .into_iter()
                    .flatten()
                    .map(move |id| (account.clone(), id.clone()))
            })
        })
        .collect();
    let got: BTreeSet<(String, String)> = vpcs
        .iter()
        .map(|r| (s(&r["account_id"]), s(&r["VpcId"])))
        .collect();
    assert_eq!(got, want);
    assert_eq!(vpcs.len(), want.len());
}

fn query_output_formats_and_errors_on_postgres(both: &Both) {
    let url = both.url.as_str();
    let sql = "select \"VpcId\", \"CidrBlock\" from ec2_describe_vpcs order by 1 limit 3";
    let table = ok(&run(&["query", sql, "--postgres", url]), sql);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 5, "{table}");
    assert!(lines[0].starts_with("VpcId"), "{table}");
    let csv_text = ok(
        &run(&["query", sql, "--postgres", url, "--output", "csv"]),
        sql,
    );
    assert_eq!(csv_text.lines().next(), Some("VpcId,CidrBlock"));
    assert_eq!(csv_text.lines().count(), 4);
    // The URL from the environment.
    let env = census(
        "http://127.0.0.1:9",
        &["query", "select count(*) as n from scans"],
    )
    .env("CENSUS_POSTGRES_URL", url)
    .output()
    .unwrap();
    assert_eq!(ok(&env, "env").lines().nth(2).map(str::trim), Some("1"));

    // Bad SQL: one line.
    let err = one_line_error(&run(&["query", "selec * from scans", "--postgres", url]));
    assert!(
        err.starts_with("census: error: SQL error: syntax error at or near \"selec\""),
        "{err}"
    );
    let err = one_line_error(&run(&["query", "select * from nowhere", "--postgres", url]));
    assert!(err.contains("\"nowhere\" does not exist"), "{err}");
    assert!(err.contains("--tables"), "{err}");
    let err = one_line_error(&run(&[
        "query",
        "select VpcId from ec2_describe_vpcs",
        "--postgres",
        url,
    ]));
    assert!(err.contains("quote mixed-case columns"), "{err}");
    let err = one_line_error(&run(&["query", "delete from scans", "--postgres", url]));
    assert!(
        err.contains("read-only") && err.contains("only reads"),
        "{err}"
    );
    let err = one_line_error(&run(&["query", "select 1; select 2", "--postgres", url]));
    assert!(err.contains("SQL error"), "{err}");
    let n = query(Store::Postgres(url), "select count(*) as n from scans");
    assert_eq!(n[0]["n"], 1, "the delete must not have happened");

    // Unreachable: a closed loopback port.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let down = format!("postgresql://census:{PASSWORD}@127.0.0.1:{closed}/census");
    for args in [
        vec!["query", "select 1", "--postgres", &down],
        vec!["diff", "--postgres", &down],
    ] {
        let err = one_line_error(&run(&args));
        assert!(
            err.contains(&format!("postgresql://census@127.0.0.1:{closed}/census")),
            "{err}"
        );
        assert!(err.contains("cannot connect"), "{err}");
        assert!(err.contains("check that PostgreSQL runs"), "{err}");
    }
    // A scan fails the same way before it scans anything.
    let dir = TempDir::new("census-pg-down");
    let proxy = FaultProxy::start(Moto::shared());
    let scan = census(
        &proxy.endpoint(),
        &["scan", "-o", dir.to_str().unwrap(), "--postgres", &down],
    )
    .output()
    .unwrap();
    let err = one_line_error(&scan);
    assert!(err.contains("cannot connect"), "{err}");
    assert!(proxy.requests().is_empty(), "AWS was called");

    // A missing database, and a database census never wrote to.
    let missing = format!(
        "postgresql://postgres:{PASSWORD}@{}/no_such_db",
        Postgres::shared().addr()
    );
    let err = one_line_error(&run(&["query", "select 1", "--postgres", &missing]));
    assert!(
        err.contains("database \"no_such_db\" does not exist; create it"),
        "{err}"
    );
    let empty = database("empty");
    let err = one_line_error(&run(&["query", "select 1", "--postgres", &empty]));
    assert!(err.contains(&without_password(&empty)), "{err}");
    assert!(err.contains("no census tables there"), "{err}");
    // Not a URL.
    let err = one_line_error(&run(&[
        "query",
        "select 1",
        "--postgres",
        &format!("postgresql://u:{PASSWORD}@h:notaport/db"),
    ]));
    assert!(err.contains("not a PostgreSQL URL"), "{err}");
    // TLS required by the URL, and a server without it.
    let tls = format!("{}?sslmode=require", both.url);
    let err = one_line_error(&run(&["query", "select 1", "--postgres", &tls]));
    assert!(err.contains("sslmode=disable"), "{err}");
}

/// A scan file for the diff test.
fn diff_spec(dir: &Path) -> PathBuf {
    let path = dir.join("spec.json");
    let spec = json!([
        {"service": "ec2", "function": "describe_vpcs", "result_key": "Vpcs"},
        {"service": "s3", "function": "list_buckets", "result_key": "Buckets"},
        {"service": "sqs", "function": "list_queues", "result_key": "QueueUrls"}
    ]);
    std::fs::write(&path, spec.to_string()).unwrap();
    path
}

#[test]
fn diff_on_postgres_matches_diff_on_sqlite() {
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
    // Names whose order differs between byte order and the database's collation.
    for b in ["b-kept", "B_upper", "a.z", "a-z"] {
        call(
            "s3",
            "CreateBucket",
            json!({"Bucket": b.to_lowercase().replace('_', "-")}),
        );
    }
    let gone = call("sqs", "CreateQueue", json!({"QueueName": "gone"}))["QueueUrl"]
        .as_str()
        .unwrap()
        .to_string();
    let dir = TempDir::new("census-pg-diff");
    let spec = diff_spec(&dir);
    let url = database("diff");
    let scan = || {
        let out = census(
            &moto.endpoint(),
            &[
                "scan",
                "-s",
                spec.to_str().unwrap(),
                "--regions",
                "us-east-1",
                "-o",
                dir.to_str().unwrap(),
                "--postgres",
                &url,
            ],
        )
        .output()
        .unwrap();
        ok(&out, "scan");
    };
    scan();
    let err = one_line_error(&run(&["diff", "--postgres", &url]));
    assert!(err.contains("1 finished scan(s)"), "{err}");
    assert!(err.contains(&without_password(&url)), "{err}");
    call("s3", "CreateBucket", json!({"Bucket": "new-bucket"}));
    call("sqs", "DeleteQueue", json!({"QueueUrl": gone}));
    call(
        "ec2",
        "CreateTags",
        json!({"Resources": [vpc], "Tags": [{"Key": "Owner", "Value": "team-b"}]}),
    );
    scan();
    let db = dir.join("census.db");
    let dbs = db.to_str().unwrap();
    for extra in [&[][..], &["--summary"][..]] {
        let mut a = vec!["diff", "--db", dbs, "--output", "json"];
        a.extend(extra);
        let mut b = vec!["diff", "--postgres", &url, "--output", "json"];
        b.extend(extra);
        let (a, b) = (run(&a), run(&b));
        let (ta, tb) = (ok(&a, "diff sqlite"), ok(&b, "diff postgres"));
        assert_eq!(ta, tb, "diff {extra:?}");
        assert_eq!(a.stderr, b.stderr);
        let rows: Vec<Value> = serde_json::from_str(&ta).unwrap();
        if extra.is_empty() {
            let changes: BTreeSet<(String, String)> = rows
                .iter()
                .map(|r| (s(&r["change"]), s(&r["resource_id"])))
                .collect();
            assert!(
                changes.contains(&("added".into(), "new-bucket".into())),
                "{rows:?}"
            );
            assert!(
                changes.contains(&("changed".into(), vpc.clone())),
                "{rows:?}"
            );
            assert!(
                changes
                    .iter()
                    .any(|(c, id)| c == "removed" && id.ends_with("/gone")),
                "{rows:?}"
            );
            assert_eq!(rows.len(), 3, "{rows:?}");
        }
    }
    // Unknown scan ids are named with the known ones.
    let err = one_line_error(&run(&["diff", "nope", "--postgres", &url]));
    assert!(err.contains("\"nope\""), "{err}");
}

#[test]
fn two_scanners_write_to_one_database_at_once() {
    let (moto, manifest) = shared_demo_org();
    let url = database("concurrent");
    let spec = scans_dir().join("inventory.json");
    let regions = manifest.regions.join(",");
    let dirs = [TempDir::new("census-pg-a"), TempDir::new("census-pg-b")];
    let children: Vec<std::process::Child> = dirs
        .iter()
        .map(|d| {
            census(
                &moto.endpoint(),
                &[
                    "scan",
                    "--org",
                    "-s",
                    spec.to_str().unwrap(),
                    "--regions",
                    &regions,
                    "-o",
                    d.to_str().unwrap(),
                    "--no-db",
                    "--postgres",
                    &url,
                ],
            )
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    for c in children {
        ok(&c.wait_with_output().unwrap(), "concurrent scan");
    }
    for d in &dirs {
        assert!(!d.join("census.db").exists(), "--no-db wrote census.db");
    }
    let pg = Store::Postgres(&url);
    let scans = query(
        pg,
        "select scan_id, finished, calls, items from scans order by seq",
    );
    assert_eq!(scans.len(), 2, "{scans:?}");
    assert_ne!(scans[0]["scan_id"], scans[1]["scan_id"]);
    // Each scan's folder is named by its id.
    let folders: BTreeSet<String> = dirs
        .iter()
        .flat_map(|d| {
            std::fs::read_dir(d)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    for scan in &scans {
        assert!(scan["finished"].is_string(), "{scan:?}");
        let id = s(&scan["scan_id"]);
        assert!(folders.contains(&id), "{id} not in {folders:?}");
        // Complete: every call and every item of the scan is there.
        let calls = query(
            pg,
            &format!("select count(*) as n, sum(items) as items from calls where scan_id = '{id}'"),
        );
        let rows = query(
            pg,
            &format!("select count(*) as n from resources where scan_id = '{id}'"),
        );
        assert_eq!(calls[0]["n"], scan["calls"], "{id}");
        assert_eq!(calls[0]["items"], scan["items"], "{id}");
        assert_eq!(rows[0]["n"], scan["items"], "{id}");
    }
    // Both saw the same organization.
    assert_eq!(scans[0]["items"], scans[1]["items"]);
    assert_eq!(scans[0]["calls"], scans[1]["calls"]);
    // One set of view columns, and the views show the later scan.
    let dup = query(
        pg,
        "select stem, position, count(*) as n from item_columns group by 1, 2 having count(*) > 1",
    );
    assert!(dup.is_empty(), "{dup:?}");
    let latest = query(pg, "select distinct scan_id from ec2_describe_vpcs");
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0]["scan_id"], scans[1]["scan_id"]);
}

fn record(stem: &str, region: &str, items: u64) -> census::sink::CallRecord {
    census::sink::CallRecord {
        account_id: "111111111111".into(),
        region: region.into(),
        service: "censustest".into(),
        function: "list_things".into(),
        operation: "ListThings".into(),
        stem: stem.into(),
        status: census::sink::Status::Ok,
        items,
        pages: 1,
        duration_ms: 1,
        error_code: None,
        error_message: None,
        request_id: None,
        retryable: false,
        parent: None,
        absent: 0,
        items_not_detailed: 0,
    }
}

#[test]
fn the_sink_rewrites_calls_replaces_nul_characters_and_releases_unused_ids() {
    use census::sink::postgres::PostgresSink;
    use census::sink::{ScanInfo, Sink, Totals};
    use census::store::postgres::PgUrl;
    let url = database("sink");
    let pg_url = PgUrl::new(&url);
    let sink = PostgresSink::open(&pg_url).unwrap();
    assert!(sink.claim_scan_id("s1").unwrap());
    assert!(!sink.claim_scan_id("s1").unwrap(), "an id is claimed once");
    let info = ScanInfo {
        id: "s1".into(),
        started: "2026-11-24T06:30:00Z".into(),
        version: "test".into(),
        resumed: false,
        skipped_entries: Vec::new(),
    };
    sink.begin(&info).unwrap();
    let stem = "censustest-list_things";
    let nul = json!({"Things": [{"ThingId": "a", "Note": "nul\u{0}here", "k\u{0}": 1}, {"ThingId": "a"}]});
    sink.call(&record(stem, "r1", 2), Some(&nul)).unwrap();
    sink.call(&record(stem, "r2", 2), Some(&nul)).unwrap();
    // r1 again (a retried or resumed call): its earlier rows go.
    let again = json!({"Things": [{"ThingId": "b", "Extra": true}]});
    sink.call(&record(stem, "r1", 1), Some(&again)).unwrap();
    sink.finish(&info, &Totals::default(), &[]).unwrap();
    drop(sink);

    let pg = Store::Postgres(&url);
    let rows = query(
        pg,
        "select region, resource_id, item ->> 'Note' as note from resources order by 1, 2",
    );
    let got: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| (s(&r["region"]), s(&r["resource_id"]), s(&r["note"])))
        .collect();
    assert_eq!(
        got,
        [
            ("r1".into(), "b".into(), "null".into()),
            ("r2".into(), "a".into(), "nul\u{fffd}here".into()),
            ("r2".into(), "a#2".into(), "null".into()),
        ]
    );
    // The view gained the column the later call brought.
    let view = query(
        pg,
        "select region, \"ThingId\", \"Extra\", \"Note\" from censustest_list_things order by 1, 2",
    );
    assert_eq!(view.len(), 3);
    assert_eq!(view[0]["Extra"], "true");
    assert_eq!(view[1]["Note"], "nul\u{fffd}here");

    // An id claimed by a scan that never began is released.
    let sink = PostgresSink::open(&pg_url).unwrap();
    assert!(sink.claim_scan_id("orphan").unwrap());
    drop(sink);
    let scans = query(pg, "select scan_id from scans");
    assert_eq!(scans.len(), 1, "{scans:?}");

    // A database made by a newer census is refused, by writers and readers.
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    client
        .batch_execute("UPDATE census_schema SET version = 99")
        .unwrap();
    let err = PostgresSink::open(&pg_url).err().unwrap().to_string();
    assert!(
        err.contains("newer census") && !err.contains(PASSWORD),
        "{err}"
    );
    let err = one_line_error(&run(&["query", "select 1", "--postgres", &url]));
    assert!(err.contains("upgrade census"), "{err}");
}

/// The calls [`copy_writes_exactly_what_sqlite_holds`] writes: hostile text in ids and
/// JSON, a call of 12,000 rows (many `COPY` buffers, several chunks and transactions)
/// whose identifiers repeat across its chunks, a 2 MB item, a call written twice.
fn copy_calls(sink: &dyn census::sink::Sink, resumed: bool) {
    use census::sink::{ScanInfo, Totals};
    let info = ScanInfo {
        id: "copy".into(),
        started: "2026-12-03T18:00:00Z".into(),
        version: "test".into(),
        resumed,
        skipped_entries: Vec::new(),
    };
    sink.begin(&info).unwrap();
    let stem = "censustest-list_things";
    let hostile = [
        "tab\there",
        "new\nline",
        "cr\rhere",
        "back\\slash",
        "\\N",
        "\\.",
        "quote\"'",
        "ünïcødé 日本 🦀",
        "e\u{301}",
        "ctl\u{1}\u{1f}\u{7f}",
    ];
    let things = |tag: &str| -> Value {
        let items: Vec<Value> = hostile
            .iter()
            .enumerate()
            .map(|(i, h)| {
                json!({"ThingId": format!("{h}{tag}"), "Note": h, "N": i,
                       "Nested": {*h: [h, {"k": h}]}})
            })
            .collect();
        json!({ "Things": items })
    };
    if !resumed {
        sink.call(&record(stem, "r1", 10), Some(&things("")))
            .unwrap();
        let mut big: Vec<Value> = (0..12_000)
            .map(
                |i| json!({"ThingId": format!("t{i}"), "Pad": format!("{}\t{i}", "x".repeat(300))}),
            )
            .collect();
        // `dup`, `dup` (numbered `dup#2`) and, two chunks later, a `dup#2` of its own.
        big[0] = json!({"ThingId": "dup", "V": 1});
        big[1] = json!({"ThingId": "dup", "V": 2});
        big[1100] = json!({"ThingId": "dup#2", "V": 3});
        big[5] = json!({"ThingId": "huge", "Pad": "\\\t\n".repeat(700_000)});
        sink.call(&record(stem, "r2", 12_000), Some(&json!({ "Things": big })))
            .unwrap();
        sink.call(&record(stem, "r3", 10), Some(&things("-first")))
            .unwrap();
        // r3 again in the same run: only its second rows stay.
        sink.call(&record(stem, "r3", 10), Some(&things("-second")))
            .unwrap();
    } else {
        // r1 again after a resume: only its new rows stay.
        sink.call(&record(stem, "r1", 10), Some(&things("-resumed")))
            .unwrap();
        sink.call(&record(stem, "r4", 10), Some(&things("-r4")))
            .unwrap();
    }
    sink.finish(&info, &Totals::default(), &[]).unwrap();
}

#[test]
fn copy_writes_exactly_what_sqlite_holds() {
    use census::sink::postgres::PostgresSink;
    use census::sink::sqlite::SqliteSink;
    use census::store::postgres::PgUrl;
    let url = database("copy");
    let pg_url = PgUrl::new(&url);
    let dir = TempDir::new("census-pg-copy");
    let db = dir.join("census.db");

    // A fresh scan (its id just claimed: rows are copied without deleting first), then
    // the same scan resumed (each call's earlier rows deleted first).
    let sink = PostgresSink::open(&pg_url).unwrap();
    assert!(sink.claim_scan_id("copy").unwrap());
    copy_calls(&sink, false);
    drop(sink);
    copy_calls(&SqliteSink::open(&db).unwrap(), false);
    let pg = Store::Postgres(&url);
    let n = query(
        pg,
        "select count(*) as n from resources where region = 'r2'",
    );
    // 12,000 items, two of them with the same identifier (the later one stays).
    assert_eq!(n[0]["n"], 11_999);
    let dup = query(
        pg,
        "select item ->> 'V' as v from resources where resource_id = 'dup#2'",
    );
    assert_eq!(dup.len(), 1);
    assert_eq!(dup[0]["v"], "3");
    let huge = query(
        pg,
        "select length(item ->> 'Pad') as n from resources where resource_id = 'huge'",
    );
    assert_eq!(huge[0]["n"], 2_100_000);
    let r3 = query(
        pg,
        "select count(*) as n from resources where region = 'r3' and resource_id like '%-second'",
    );
    assert_eq!(r3[0]["n"], 10);

    let sink = PostgresSink::open(&pg_url).unwrap();
    copy_calls(&sink, true);
    drop(sink);
    copy_calls(&SqliteSink::open(&db).unwrap(), true);
    let rows = same_in(
        &db,
        &url,
        "select stem, account_id, region, resource_id, service, operation, member, id_source, item from resources",
        "select stem, account_id, region, resource_id, service, operation, member, id_source, item from resources",
    );
    assert_eq!(rows.len(), 11_999 + 10 + 10 + 10);
    // The ids came back exactly, hostile characters and all.
    let ids: BTreeSet<String> = rows
        .iter()
        .filter(|r| r["region"] == "r1")
        .map(|r| s(&r["resource_id"]))
        .collect();
    assert!(ids.contains("tab\there-resumed"), "{ids:?}");
    assert!(ids.contains("\\N-resumed"), "{ids:?}");
    assert!(ids.contains("ünïcødé 日本 🦀-resumed"), "{ids:?}");
    assert!(ids.iter().all(|id| id.ends_with("-resumed")), "{ids:?}");
    same_in(
        &db,
        &url,
        "select account_id, region, stem, status, items from calls",
        "select account_id, region, stem, status, items from calls",
    );
}

#[test]
fn a_killed_and_resumed_scan_leaves_postgres_complete() {
    let (moto, manifest) = shared_demo_org();
    let proxy = FaultProxy::start(moto);
    proxy.add(Rule::new(
        Match::any(),
        Action::delay(std::time::Duration::from_millis(150), Action::Forward),
    ));
    let out = TempDir::new("census-pg-resume");
    let url = database("resume");
    let spec = scans_dir().join("inventory.json");
    let regions = manifest.regions.join(",");
    let mut child = census(
        &proxy.endpoint(),
        &[
            "scan",
            "--org",
            "-s",
            spec.to_str().unwrap(),
            "--regions",
            &regions,
            "--concurrency",
            "8",
            "-o",
            out.to_str().unwrap(),
            "--postgres",
            &url,
        ],
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    let root = testkit::kill_scan_when_journaled(&mut child, &out, 40);
    let scan_id = root.file_name().unwrap().to_string_lossy().to_string();
    // Every call the journal has is in PostgreSQL already.
    let journaled: BTreeSet<(String, String, String)> =
        std::fs::read_to_string(root.join(".census/journal.jsonl"))
            .unwrap()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter_map(|e| e.get("call").cloned())
            .map(|c| (s(&c["account_id"]), s(&c["region"]), s(&c["stem"])))
            .collect();
    let pg = Store::Postgres(&url);
    let calls_sql =
        format!("select account_id, region, stem from calls where scan_id = '{scan_id}'");
    let before: BTreeSet<(String, String, String)> = query(pg, &calls_sql)
        .iter()
        .map(|r| (s(&r["account_id"]), s(&r["region"]), s(&r["stem"])))
        .collect();
    assert!(!journaled.is_empty());
    for key in &journaled {
        assert!(
            before.contains(key),
            "{key:?} is journaled but not in PostgreSQL"
        );
    }
    let resumed = census(
        &moto.endpoint(),
        &[
            "scan",
            "--resume",
            root.to_str().unwrap(),
            "--postgres",
            &url,
        ],
    )
    .output()
    .unwrap();
    ok(&resumed, "census scan --resume");
    // PostgreSQL and census.db (written by the same two runs) hold the same scan.
    let db = out.join("census.db");
    for sql in [
        "select scan_id, resumed, finished is not null as done, calls, items from scans",
        "select account_id, region, stem, status, items from calls",
        "select account_id, region, stem, resource_id, item from resources",
    ] {
        same_in(&db, &url, sql, sql);
    }
    same_in(
        &db,
        &url,
        "select scan_id, resumed, finished is not null as done, calls, items from scans",
        "select scan_id, resumed, finished is not null as done, calls, items from scans",
    );
    same_in(
        &db,
        &url,
        "select account_id, region, stem, status, items from calls",
        "select account_id, region, stem, status, items from calls",
    );
    same_in(
        &db,
        &url,
        "select account_id, region, stem, resource_id, item from resources",
        "select account_id, region, stem, resource_id, item from resources",
    );
    let scans = query(pg, "select resumed, items from scans");
    assert_eq!(scans.len(), 1);
    assert_eq!(scans[0]["resumed"], 1);
    let n = query(pg, "select count(*) as n from resources");
    assert_eq!(n[0]["n"], scans[0]["items"]);
}

#[test]
fn tls_is_used_and_an_untrusted_certificate_is_one_clear_error() {
    let pg = Postgres::start_tls();
    let url = pg.create_database("tls");
    let with_password = url.replacen("postgres@", &format!("postgres:{PASSWORD}@"), 1);
    // sslmode=prefer (the default) and require negotiate TLS and check the certificate,
    // which no CA store trusts.
    for mode in ["", "?sslmode=require"] {
        let u = format!("{with_password}{mode}");
        let err = one_line_error(&run(&["query", "select 1", "--postgres", &u]));
        assert!(err.contains("certificate"), "{err}");
        assert!(err.contains("sslmode=disable"), "{err}");
    }
    // Plain text when asked: census writes and reads.
    let plain = format!("{with_password}?sslmode=disable");
    let dir = TempDir::new("census-pg-tls");
    let moto = Moto::shared();
    let spec = dir.join("spec.json");
    std::fs::write(
        &spec,
        json!([{"service": "s3", "function": "list_buckets", "result_key": "Buckets"}]).to_string(),
    )
    .unwrap();
    ok(
        &census(
            &moto.endpoint(),
            &[
                "scan",
                "-s",
                spec.to_str().unwrap(),
                "-o",
                dir.to_str().unwrap(),
                "--no-db",
                "--postgres",
                &plain,
            ],
        )
        .output()
        .unwrap(),
        "scan with sslmode=disable",
    );
    let n = query(Store::Postgres(&plain), "select count(*) as n from calls");
    assert_eq!(n[0]["n"], 1);
}

/// A detail call's rows carry their list item's resource id, its view joins the list's
/// view, and its record names its parent; a database of schema 1 gets the new columns.
#[test]
fn detail_rows_join_their_list_and_old_databases_gain_the_detail_columns() {
    use census::sink::postgres::PostgresSink;
    use census::sink::{DetailItem, DetailOutcome, ErrorText, ScanInfo, Sink, Totals};
    use census::store::postgres::PgUrl;
    let url = database("details");
    // A database of schema 1: the calls and scans tables without the detail columns.
    {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let v1 = census::sink::sql::schema::ddl(census::sink::sql::schema::Db::Postgres)
            .replace(",\n    absent BIGINT\n", "\n")
            .replace(
                "    parent TEXT,\n    absent BIGINT NOT NULL DEFAULT 0,\n",
                "",
            );
        client.batch_execute(&v1).unwrap();
        client
            .execute("INSERT INTO census_schema (version) VALUES (1)", &[])
            .unwrap();
    }
    let sink = PostgresSink::open(&PgUrl::new(&url)).unwrap();
    let info = ScanInfo {
        id: "d1".into(),
        started: "2026-12-03T06:30:00Z".into(),
        version: "test".into(),
        resumed: false,
        skipped_entries: Vec::new(),
    };
    sink.begin(&info).unwrap();
    let list = json!({"Things": [{"ThingId": "a"}, {"ThingId": "b"}]});
    sink.call(&record("censustest-list_things", "r1", 2), Some(&list))
        .unwrap();
    let mut detail = record("censustest-get_thing_policy", "r1", 2);
    detail.parent = Some("censustest-list_things".into());
    detail.absent = 1;
    let items = [
        DetailItem {
            resource_id: "a".into(),
            parameters: json!({"ThingId": "a"}),
            outcome: DetailOutcome::Result(json!({"Policy": "{}"})),
        },
        DetailItem {
            resource_id: "b".into(),
            parameters: json!({"ThingId": "b"}),
            outcome: DetailOutcome::Absent(ErrorText {
                code: "NoSuchThingPolicy".into(),
                message: "none".into(),
            }),
        },
    ];
    sink.details(&detail, &items).unwrap();
    let totals = Totals {
        absent: 1,
        ..Totals::default()
    };
    sink.finish(&info, &totals, &[]).unwrap();
    drop(sink);
    let pg = Store::Postgres(&url);
    let joined = query(
        pg,
        "select l.\"ThingId\" as thing, p.\"Policy\" as policy, p.absent::jsonb ->> 'code' as absent \
         from censustest_list_things l join censustest_get_thing_policy p \
         on p.account_id = l.account_id and p.region = l.region and p.resource_id = l.resource_id \
         order by 1",
    );
    let got: Vec<(String, String, String)> = joined
        .iter()
        .map(|r| (s(&r["thing"]), s(&r["policy"]), s(&r["absent"])))
        .collect();
    assert_eq!(
        got,
        [
            ("a".into(), "{}".into(), "null".into()),
            ("b".into(), "null".into(), "NoSuchThingPolicy".into()),
        ]
    );
    let calls = query(
        pg,
        "select parent, absent from calls where stem = 'censustest-get_thing_policy'",
    );
    assert_eq!(s(&calls[0]["parent"]), "censustest-list_things");
    assert_eq!(calls[0]["absent"], json!(1));
    let scans = query(pg, "select absent from scans");
    assert_eq!(scans[0]["absent"], json!(1));
    let version = query(pg, "select max(version) as v from census_schema");
    assert_eq!(version[0]["v"], json!(census::store::SCHEMA_VERSION));
}

/// ec2 DescribeInstances through the PostgreSQL sink into a database of schema 2: the
/// `inventory` table appears, holds one row per instance (no reservations) with ARNs in
/// each account's partition, none for detail calls, and a call written again replaces
/// its rows.
#[test]
fn the_sink_writes_the_inventory_into_a_schema_2_database() {
    use census::sink::postgres::PostgresSink;
    use census::sink::sql::schema::{ddl, Db};
    use census::sink::{AccountReport, ScanInfo, Sink, Status, Totals};
    use census::store::postgres::PgUrl;
    let url = database("inventory");
    {
        let v3 = ddl(Db::Postgres);
        let v2 = &v3[..v3.find("CREATE TABLE IF NOT EXISTS inventory").unwrap()];
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        client.batch_execute(v2).unwrap();
        client
            .execute("INSERT INTO census_schema (version) VALUES (2)", &[])
            .unwrap();
    }
    let report = |id: &str, partition: &str| AccountReport {
        account: census::account::Account {
            id: id.into(),
            name: format!("n{id}"),
            email: None,
            status: "ACTIVE".into(),
            partition: partition.into(),
            org_id: None,
            management_account_id: None,
            ou_id: None,
            ou_path: None,
            tags: BTreeMap::new(),
            role_arn: None,
            is_caller: false,
            source: "organizations".into(),
        },
        status: Status::Ok,
        regions: Vec::new(),
        error_code: None,
        error_message: None,
        remediation: None,
        retryable: false,
    };
    let instances: Value = serde_json::from_str(include_str!(
        "../src/inventory/fixtures/ec2_DescribeInstances.json"
    ))
    .unwrap();
    let call = |account: &str, region: &str| census::sink::CallRecord {
        account_id: account.into(),
        service: "ec2".into(),
        function: "describe_instances".into(),
        operation: "DescribeInstances".into(),
        ..record("ec2-describe_instances", region, 2)
    };
    let sink = PostgresSink::open(&PgUrl::new(&url)).unwrap();
    let info = ScanInfo {
        id: "inv1".into(),
        started: "2026-12-03T14:00:00Z".into(),
        version: "test".into(),
        resumed: false,
        skipped_entries: Vec::new(),
    };
    let accounts = [
        report("111111111111", "aws"),
        report("222222222222", "aws-cn"),
    ];
    sink.begin(&info).unwrap();
    for a in &accounts {
        sink.account(a).unwrap();
    }
    sink.call(&call("111111111111", "us-east-1"), Some(&instances))
        .unwrap();
    sink.call(&call("222222222222", "cn-north-1"), Some(&instances))
        .unwrap();
    sink.call(&call("111111111111", "eu-west-1"), Some(&instances))
        .unwrap();
    sink.call(
        &call("111111111111", "eu-west-1"),
        Some(&json!({"Reservations": []})),
    )
    .unwrap();
    let mut detail = call("111111111111", "us-east-1");
    detail.stem = "ec2-describe_instance_attribute".into();
    detail.parent = Some("ec2-describe_instances".into());
    sink.call(&detail, Some(&instances)).unwrap();
    sink.finish(&info, &Totals::default(), &accounts).unwrap();
    drop(sink);

    let pg = Store::Postgres(&url);
    let rows = query(
        pg,
        "select resource_type, cfn_type, arn, name, tags, source from inventory \
         order by account_id, arn",
    );
    let mut ids: Vec<&str> = instances["Reservations"][0]["Instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["InstanceId"].as_str().unwrap())
        .collect();
    ids.sort();
    let mut want = Vec::new();
    for prefix in [
        "arn:aws:ec2:us-east-1:111111111111",
        "arn:aws-cn:ec2:cn-north-1:222222222222",
    ] {
        for id in &ids {
            want.push(json!({
                "resource_type": "ec2:Instance",
                "cfn_type": "AWS::EC2::Instance",
                "arn": format!("{prefix}:instance/{id}"),
                "name": "web-1",
                "tags": {"Name": "web-1", "Owner": "payments"},
                "source": "ec2-describe_instances",
            }));
        }
    }
    let got: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if let Some(Value::String(t)) = r.get("tags") {
                let t: Value = serde_json::from_str(t).unwrap();
                r.insert("tags".into(), t);
            }
            Value::Object(r)
        })
        .collect();
    assert_eq!(got, want);
    let by_tag = query(
        pg,
        "select count(*) as n from inventory where tags ->> 'Owner' = 'payments'",
    );
    assert_eq!(by_tag[0]["n"], json!(4));
    let latest = query(
        pg,
        "select account_name, count(*) as n from inventory_latest group by 1 order by 1",
    );
    assert_eq!(
        latest,
        query(
            pg,
            "select 'n111111111111' as account_name, 2::bigint as n \
             union all select 'n222222222222', 2::bigint"
        )
    );
    let version = query(pg, "select max(version) as v from census_schema");
    assert_eq!(version[0]["v"], json!(census::store::SCHEMA_VERSION));
}
