//! Hostile data and leaks, end to end: account names and tag values from AWS that
//! hold paths, quotes, commas, newlines, terminal escapes and 1,000 characters; ids
//! from data (an Organizations answer, a tampered plan) that would be paths; answers
//! that are oversized, truncated or garbage; `census query` attacks on a real SQLite
//! file and a real PostgreSQL server with a privileged role; and a trace-level scan
//! whose every output is searched for the secrets it handled.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{json, Value};
use testkit::{
    boto3_call, cli_command, scan_root, Action, Caller, FaultProxy, Match, Moto, Postgres, Reply,
    Rule, TempDir, FAKE_SECRET_ACCESS_KEY, MANAGEMENT_ACCOUNT_ID, MEMBER_ROLE_NAME,
};

fn census(endpoint: &str, args: &[&str]) -> Output {
    census_env(endpoint, args, &[])
}

fn census_env(endpoint: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = cli_command(env!("CARGO_BIN_EXE_census"), endpoint);
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Exit 1 and one line on stderr, starting `census: error:`; returns it.
fn one_line_error(out: &Output, what: &str) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{what}: {err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "{what}: one line: {err:?}"
    );
    assert!(err.starts_with("census: error: "), "{what}: {err}");
    assert!(!err.contains("panicked"), "{what}: {err}");
    err
}

/// Every file and folder under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

/// A scan file of these `(service, function)` calls, in `dir`.
fn scan_file(dir: &Path, calls: &[(&str, &str)]) -> PathBuf {
    let path = dir.join("scan.json");
    let entries: Vec<Value> = calls
        .iter()
        .map(|(s, f)| json!({"service": s, "function": f}))
        .collect();
    std::fs::write(&path, serde_json::to_vec(&entries).unwrap()).unwrap();
    path
}

fn member_caller(account_id: &str) -> Caller {
    Caller {
        role_arn: Some(format!("arn:aws:iam::{account_id}:role/{MEMBER_ROLE_NAME}")),
        ..Caller::default()
    }
}

/// The account names and tag values a hostile organization has.
fn hostile_names() -> Vec<String> {
    vec![
        "../../../../tmp/census-escape".to_string(),
        "..".to_string(),
        "evil\u{1b}]0;pwned\u{7}\u{1b}[2J\r\nname, \"quoted\" 'too'".to_string(),
        "n".repeat(300),
        format!("long-{}", "x/".repeat(497)),
        "=HYPERLINK(\"http://example.invalid\",\"x\")".to_string(),
    ]
}

/// Seeds moto, as a real client would, with an organization whose member accounts
/// have the hostile names and tags; one member has a VPC tagged with them too.
/// Returns the member ids, in the order of [`hostile_names`].
fn seed_hostile_org(moto: &Moto) -> Vec<String> {
    let me = Caller::default();
    boto3_call(
        moto,
        &me,
        "organizations",
        "create_organization",
        &json!({"FeatureSet": "ALL"}),
        false,
    );
    let mut ids = Vec::new();
    for (i, name) in hostile_names().iter().enumerate() {
        let created = boto3_call(
            moto,
            &me,
            "organizations",
            "create_account",
            &json!({"AccountName": name, "Email": format!("m{i}@example.com")}),
            false,
        );
        let id = created["CreateAccountStatus"]["AccountId"]
            .as_str()
            .unwrap()
            .to_string();
        boto3_call(
            moto,
            &me,
            "organizations",
            "tag_resource",
            &json!({"ResourceId": id, "Tags": [
                {"Key": "Environment", "Value": format!("-1+1, \"{}\"\n\u{1b}[31mred", i)},
                {"Key": "Owner", "Value": "@evil\ttab"},
            ]}),
            false,
        );
        ids.push(id);
    }
    let member = member_caller(&ids[0]);
    let vpc = boto3_call(
        moto,
        &member,
        "ec2",
        "create_vpc",
        &json!({"CidrBlock": "10.9.0.0/16"}),
        false,
    );
    let vpc_id = vpc["Vpc"]["VpcId"].as_str().unwrap().to_string();
    boto3_call(
        moto,
        &member,
        "ec2",
        "create_tags",
        &json!({"Resources": [vpc_id], "Tags": [
            {"Key": "Name", "Value": "a,b \"c\" 'd'\nline2\r\u{1b}]8;;http://x\u{7}link\u{1b}]8;;\u{7}"},
            {"Key": "Long", "Value": "L".repeat(255)},
            {"Key": "a\\b", "Value": "backslash key"},
        ]}),
        false,
    );
    ids
}

/// A scan of an organization whose account names and tag values are hostile: it
/// succeeds; every folder stays inside the output folder, named `<12 digits>` or
/// `<12 digits>-<safe name>` of at most 113 characters, one per account; the
/// databases hold the data exactly; tables and messages show control characters
/// escaped; CSV and JSON keep the values exact; a resumed scan works the same; a
/// tampered plan is refused.
#[test]
fn hostile_account_names_and_tags_stay_inside_and_exact() {
    let moto = Moto::start();
    let ids = seed_hostile_org(&moto);
    let tmp = TempDir::new("census-hostile");
    let out = tmp.join("out");
    let spec = scan_file(&tmp, &[("ec2", "describe_vpcs")]);
    let run = census(
        &moto.endpoint(),
        &[
            "scan",
            "--org",
            "-s",
            spec.to_str().unwrap(),
            "--regions",
            "us-east-1",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(0), "{err}");
    assert!(
        !err.contains('\u{1b}') && !err.contains('\u{7}'),
        "raw escapes on stderr: {err:?}"
    );
    assert!(!tmp.join("tmp").exists() && !Path::new("/tmp/census-escape").exists());

    // Every path is inside the output folder, and the account folders are plain,
    // short and one per account.
    let root = scan_root(&out);
    let canonical_out = out.canonicalize().unwrap();
    let mut account_dirs = BTreeSet::new();
    for p in walk(&out) {
        assert!(
            p.canonicalize().unwrap().starts_with(&canonical_out),
            "{}",
            p.display()
        );
        if p.parent() == Some(root.as_path()) && p.is_dir() && !p.ends_with(".census") {
            let name = p.file_name().unwrap().to_str().unwrap().to_string();
            let (id, rest) = name.split_at(12);
            assert!(id.bytes().all(|b| b.is_ascii_digit()), "{name}");
            assert!(
                rest.is_empty()
                    || (rest.starts_with('-')
                        && rest[1..]
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))),
                "{name}"
            );
            assert!(name.len() <= 113, "{name}");
            account_dirs.insert(id.to_string());
        }
    }
    let mut want: BTreeSet<String> = ids.iter().cloned().collect();
    want.insert(MANAGEMENT_ACCOUNT_ID.to_string());
    assert_eq!(account_dirs, want);

    // The databases keep the names exactly; JSON and CSV give them back exactly.
    let db = out.join("census.db");
    let db = db.to_str().unwrap();
    let names_sql = "select account_id, name from accounts order by account_id";
    let json_out = census(
        &moto.endpoint(),
        &["query", names_sql, "--db", db, "--output", "json"],
    );
    assert_eq!(json_out.status.code(), Some(0), "{}", stderr(&json_out));
    let rows: Vec<Value> = serde_json::from_slice(&json_out.stdout).unwrap();
    let got: BTreeSet<String> = rows
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    for name in hostile_names() {
        assert!(got.contains(&name), "{name:?} not in {got:?}");
    }
    let csv_out = census(
        &moto.endpoint(),
        &["query", names_sql, "--db", db, "--output", "csv"],
    );
    let mut reader = csv::Reader::from_reader(csv_out.stdout.as_slice());
    let csv_names: BTreeSet<String> = reader
        .records()
        .map(|r| r.unwrap()[1].to_string())
        .collect();
    assert_eq!(csv_names, got);
    // A table shows them escaped: no raw control character but the line ends.
    let table = census(&moto.endpoint(), &["query", names_sql, "--db", db]);
    let text = stdout(&table);
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "{text:?}"
    );
    assert!(text.contains("evil\\x1b]0;pwned\\x07"), "{text}");
    assert_eq!(
        text.lines().count(),
        2 + rows.len(),
        "one line per row: {text}"
    );

    // The view's columns hold the tag values exactly, the backslash-named one too.
    let vpc_sql =
        r#"select "Tags" as tags, "VpcId" as vpc from ec2_describe_vpcs where "Tags" <> '[]'"#;
    let vpc = census(
        &moto.endpoint(),
        &["query", vpc_sql, "--db", db, "--output", "json"],
    );
    assert_eq!(vpc.status.code(), Some(0), "{}", stderr(&vpc));
    let vpcs: Vec<Value> = serde_json::from_slice(&vpc.stdout).unwrap();
    assert_eq!(vpcs.len(), 1, "{vpcs:?}");
    let tags: Value = serde_json::from_str(vpcs[0]["tags"].as_str().unwrap()).unwrap();
    let tag = |k: &str| {
        tags.as_array()
            .unwrap()
            .iter()
            .find(|t| t["Key"] == k)
            .map(|t| t["Value"].clone())
    };
    assert_eq!(
        tag("Name"),
        Some(json!(
            "a,b \"c\" 'd'\nline2\r\u{1b}]8;;http://x\u{7}link\u{1b}]8;;\u{7}"
        ))
    );
    assert_eq!(tag("Long"), Some(json!("L".repeat(255))));

    // The account report: CSV quoting right, formulas defused, names otherwise exact,
    // stderr escaped.
    let reports = tmp.join("reports");
    let report = census(
        &moto.endpoint(),
        &[
            "report",
            "accounts",
            "--regions",
            "us-east-1",
            "--local-dir",
            reports.to_str().unwrap(),
        ],
    );
    let report_err = stderr(&report);
    assert!(matches!(report.status.code(), Some(0 | 2)), "{report_err}");
    assert!(!report_err.contains('\u{1b}'), "{report_err:?}");
    let file = std::fs::read_dir(&reports)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut reader = csv::Reader::from_path(&file).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let names: BTreeSet<String> = rows
        .iter()
        .map(|r| r[col("Account_Name")].to_string())
        .collect();
    assert!(
        names.contains("'=HYPERLINK(\"http://example.invalid\",\"x\")"),
        "{names:?}"
    );
    assert!(names.contains(&hostile_names()[2]), "{names:?}");
    assert!(names.contains(&"n".repeat(300)), "{names:?}");
    let envs: BTreeSet<String> = rows
        .iter()
        .map(|r| r[col("Environment")].to_string())
        .collect();
    assert!(envs.contains("'-1+1, \"0\"\n\u{1b}[31mred"), "{envs:?}");

    // census doctor's table: names escaped, one line per row; its JSON exact.
    let doctor = census(
        &moto.endpoint(),
        &["doctor", "--org", "--regions", "us-east-1"],
    );
    let table = stdout(&doctor);
    assert!(doctor.status.code().is_some(), "{}", stderr(&doctor));
    assert!(
        !table.chars().any(|c| c.is_control() && c != '\n'),
        "{table:?}"
    );
    assert!(!stderr(&doctor).contains('\u{1b}'), "{:?}", stderr(&doctor));
    assert!(table.contains("evil\\x1b]0;pwned\\x07"), "{table}");
    let doctor_json = census(
        &moto.endpoint(),
        &[
            "doctor",
            "--org",
            "--regions",
            "us-east-1",
            "--output",
            "json",
        ],
    );
    assert!(
        stdout(&doctor_json).contains("evil\\u001b]0;pwned\\u0007"),
        "{}",
        stdout(&doctor_json)
    );

    // Resuming the finished scan works with the long names too.
    let resumed = census(
        &moto.endpoint(),
        &["scan", "--resume", root.to_str().unwrap()],
    );
    assert!(resumed.status.code() == Some(0), "{}", stderr(&resumed));

    // A tampered plan: an id that is a path, a call that returns secrets.
    let plan_path = root.join(".census/plan.json");
    let plan: Value = serde_json::from_slice(&std::fs::read(&plan_path).unwrap()).unwrap();
    let mut bad_id = plan.clone();
    bad_id["accounts"][0]["id"] = json!("../../../tmp/census-x");
    let mut bad_call = plan.clone();
    bad_call["calls"][0]["service"] = json!("secretsmanager");
    bad_call["calls"][0]["operation"] = json!("GetSecretValue");
    let mut bad_scan_id = plan.clone();
    bad_scan_id["info"]["id"] = json!("../../elsewhere");
    for (tampered, want) in [
        (bad_id, "account id ../../../tmp/census-x is not 12 digits"),
        (bad_call, "returns secrets"),
        (bad_scan_id, "scan id"),
    ] {
        std::fs::write(&plan_path, serde_json::to_vec(&tampered).unwrap()).unwrap();
        let out = census(
            &moto.endpoint(),
            &["scan", "--resume", root.to_str().unwrap()],
        );
        let err = one_line_error(&out, want);
        assert!(err.contains(want), "{err}");
        assert!(
            err.contains("plan.json") && err.contains("was changed or damaged"),
            "{err}"
        );
    }
    assert!(!Path::new("/tmp/census-x").exists());
}

/// An Organizations answer with an account id that is a path: that account is left
/// out with a warning naming it, the others are scanned, nothing is written outside.
#[test]
fn an_account_id_from_organizations_never_becomes_a_path() {
    let moto = Moto::start();
    let me = Caller::default();
    boto3_call(
        &moto,
        &me,
        "organizations",
        "create_organization",
        &json!({"FeatureSet": "ALL"}),
        false,
    );
    let proxy = FaultProxy::start(&moto);
    let evil = "../../../../tmp/census-org-escape";
    let body = json!({"Accounts": [
        {"Id": MANAGEMENT_ACCOUNT_ID, "Arn": format!("arn:aws:organizations::{MANAGEMENT_ACCOUNT_ID}:account/o-x/{MANAGEMENT_ACCOUNT_ID}"),
         "Name": "management", "Email": "m@example.com", "Status": "ACTIVE", "JoinedMethod": "INVITED"},
        {"Id": evil, "Arn": "arn:aws:organizations::123456789012:account/o-x/1", "Name": "evil",
         "Email": "e@example.com", "Status": "ACTIVE", "JoinedMethod": "CREATED"},
    ]});
    proxy.add(Rule::new(
        Match::any().target("AWSOrganizationsV20161128.ListAccounts"),
        Action::Reply(
            Reply::new(200)
                .header("content-type", "application/x-amz-json-1.1")
                .body(body.to_string()),
        ),
    ));
    let tmp = TempDir::new("census-hostile-id");
    let out = tmp.join("out");
    let spec = scan_file(&tmp, &[("sqs", "list_queues")]);
    let run = census(
        &proxy.endpoint(),
        &[
            "scan",
            "--org",
            "-s",
            spec.to_str().unwrap(),
            "--regions",
            "us-east-1",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(0), "{err}");
    assert!(
        err.contains("is not 12 digits; that account is left out"),
        "{err}"
    );
    assert!(err.contains(evil), "{err}");
    assert!(!Path::new("/tmp/census-org-escape").exists());
    let canonical_out = out.canonicalize().unwrap();
    for p in walk(&out) {
        assert!(
            p.canonicalize().unwrap().starts_with(&canonical_out),
            "{}",
            p.display()
        );
    }
    let accounts: Value =
        serde_json::from_slice(&std::fs::read(scan_root(&out).join("accounts.json")).unwrap())
            .unwrap();
    let ids: Vec<&str> = accounts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["account"]["id"].as_str().or(a["id"].as_str()).unwrap())
        .collect();
    assert_eq!(ids, [MANAGEMENT_ACCOUNT_ID]);
}

/// Oversized, truncated and garbage answers: a clear call error, never a panic; in a
/// scan the call is recorded failed and the rest is kept.
#[test]
fn bad_answers_give_clear_call_errors() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto);
    // 2 MiB answer with a 1 MiB cap (announced, then streamed without a length).
    let big = format!("{{\"QueueUrls\": [\"{}\"]}}", "q".repeat(2 << 20));
    let rule = proxy.add(Rule::new(
        Match::any().target("AmazonSQS.ListQueues"),
        Action::Reply(
            Reply::new(200)
                .header("content-type", "application/x-amz-json-1.0")
                .body(big),
        ),
    ));
    let env = [("CENSUS_MAX_RESPONSE_MIB", "1")];
    let out = census_env(&proxy.endpoint(), &["call", "sqs", "list-queues"], &env);
    let err = one_line_error(&out, "oversized");
    assert!(
        err.contains("larger than 1 MiB") && err.contains("CENSUS_MAX_RESPONSE_MIB"),
        "{err}"
    );
    proxy.remove(rule);
    let bad_cap = census_env(
        &proxy.endpoint(),
        &["call", "sqs", "list-queues"],
        &[("CENSUS_MAX_RESPONSE_MIB", "lots")],
    );
    let err = one_line_error(&bad_cap, "bad cap");
    assert!(err.contains("CENSUS_MAX_RESPONSE_MIB=\"lots\""), "{err}");

    // Garbage and truncated documents in each protocol family.
    let cases: &[(&str, &str, &str, &str, &[&str])] = &[
        (
            "AmazonSQS.ListQueues",
            "application/x-amz-json-1.0",
            "{\"QueueUrls\": [\"a\", ",
            "sqs",
            &["list-queues"],
        ),
        (
            "AmazonSQS.ListQueues",
            "application/x-amz-json-1.0",
            "\u{0}\u{ff}garbage\u{1b}[2J",
            "sqs",
            &["list-queues"],
        ),
    ];
    for (target, ctype, body, service, op) in cases {
        let rule = proxy.add(Rule::new(
            Match::any().target(target),
            Action::Reply(
                Reply::new(200)
                    .header("content-type", ctype)
                    .body(body.to_string()),
            ),
        ));
        let mut args = vec!["call", *service];
        args.extend_from_slice(op);
        let out = census(&proxy.endpoint(), &args);
        let err = one_line_error(&out, body);
        assert!(err.contains("ListQueues"), "{err}");
        assert!(!err.contains('\u{1b}'), "{err:?}");
        proxy.remove(rule);
    }
    for body in [
        "<DescribeVpcsResponse><vpcSet><item><vpcId>vpc-1",
        "not xml at all \u{1b}]0;x\u{7}",
    ] {
        let rule = proxy.add(Rule::new(
            Match::any().form_action("DescribeVpcs"),
            Action::Reply(
                Reply::new(200)
                    .header("content-type", "text/xml")
                    .body(body.to_string()),
            ),
        ));
        let out = census(
            &proxy.endpoint(),
            &["call", "ec2", "describe-vpcs", "--region", "us-east-1"],
        );
        let err = one_line_error(&out, body);
        assert!(err.contains("DescribeVpcs"), "{err}");
        assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
        proxy.remove(rule);
    }
    // rest-xml and rest-json answers that are garbage or cut short.
    let rest: &[(Match, &str, &str, &[&str], &str)] = &[
        (
            Match::any().method("GET").path_prefix("/"),
            "application/xml",
            "<ListAllMyBucketsResult><Buckets><Bucket><Name>a",
            &["s3", "list-buckets"],
            "ListBuckets",
        ),
        (
            Match::any().method("GET").path_prefix("/"),
            "application/xml",
            "\u{1b}[2Jgarbage",
            &["s3", "list-buckets"],
            "ListBuckets",
        ),
        (
            Match::any().path_prefix("/2015-03-31/functions"),
            "application/json",
            "{\"Functions\": [{",
            &["lambda", "list-functions"],
            "ListFunctions",
        ),
        (
            Match::any().path_prefix("/2015-03-31/functions"),
            "application/json",
            "[1, 2",
            &["lambda", "list-functions"],
            "ListFunctions",
        ),
    ];
    for (matcher, ctype, body, args, op) in rest {
        let rule = proxy.add(Rule::new(
            matcher.clone(),
            Action::Reply(
                Reply::new(200)
                    .header("content-type", ctype)
                    .body(body.to_string()),
            ),
        ));
        let mut all = vec!["call"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--region", "us-east-1"]);
        let out = census(&proxy.endpoint(), &all);
        let err = one_line_error(&out, body);
        assert!(err.contains(op), "{body}: {err}");
        assert!(!err.contains('\u{1b}'), "{err:?}");
        proxy.remove(rule);
    }

    // A truncated body (the connection closes before the announced length).
    let rule = proxy.add(Rule::new(
        Match::any().target("AmazonSQS.ListQueues"),
        Action::Reply(
            Reply::new(200)
                .header("content-type", "application/x-amz-json-1.0")
                .header("content-length", "5000")
                .body("{\"QueueUrls\": [".to_string()),
        ),
    ));
    let out = census(
        &proxy.endpoint(),
        &["call", "sqs", "list-queues", "--region", "us-east-1"],
    );
    let err = one_line_error(&out, "truncated");
    assert!(
        err.contains("ListQueues") || err.contains("incomplete") || err.contains("reset"),
        "{err}"
    );
    proxy.remove(rule);

    // In a scan: the garbage call fails and is recorded, the others are kept.
    proxy.add(Rule::new(
        Match::any().target("AmazonSQS.ListQueues"),
        Action::Reply(
            Reply::new(200)
                .header("content-type", "application/x-amz-json-1.0")
                .body("{{{"),
        ),
    ));
    let tmp = TempDir::new("census-hostile-bodies");
    let out_dir = tmp.join("out");
    let spec = scan_file(&tmp, &[("sqs", "list_queues"), ("sns", "list_topics")]);
    let run = census(
        &proxy.endpoint(),
        &[
            "scan",
            "-s",
            spec.to_str().unwrap(),
            "--regions",
            "us-east-1",
            "-o",
            out_dir.to_str().unwrap(),
        ],
    );
    let err = stderr(&run);
    assert_eq!(run.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let summary: Value =
        serde_json::from_slice(&std::fs::read(scan_root(&out_dir).join("summary.json")).unwrap())
            .unwrap();
    let calls = summary["accounts"][0]["calls"].as_array().unwrap();
    let status = |stem: &str| {
        calls
            .iter()
            .find(|c| c["stem"] == stem)
            .map(|c| c["status"].clone())
    };
    assert_eq!(status("sns-list_topics"), Some(json!("ok")), "{calls:?}");
    assert_ne!(status("sqs-list_queues"), Some(json!("ok")), "{calls:?}");
}

/// `census query` on a real PostgreSQL server as a superuser: every way out to the
/// server's files and programs, every write and a statement that would not end are
/// refused with one clear line; reads work.
#[test]
fn query_is_read_only_on_postgres_whatever_the_role() {
    let moto = Moto::start();
    let pg = Postgres::shared();
    let url = pg.create_database("hostile_query");
    let tmp = TempDir::new("census-hostile-pg");
    let spec = scan_file(&tmp, &[("sqs", "list_queues")]);
    let out = tmp.join("out");
    let scan = census(
        &moto.endpoint(),
        &[
            "scan",
            "-s",
            spec.to_str().unwrap(),
            "--regions",
            "us-east-1",
            "-o",
            out.to_str().unwrap(),
            "--postgres",
            &url,
        ],
    );
    assert_eq!(scan.status.code(), Some(0), "{}", stderr(&scan));
    let marker = tmp.join("written-by-postgres");
    let m = marker.to_str().unwrap();
    let attacks = [
        format!("copy (select 1) to program 'touch {m}'"),
        format!("copy scans to '{m}'"),
        "select pg_read_file('/etc/hostname')".to_string(),
        "select pg_read_binary_file('/etc/hostname')".to_string(),
        "select * from pg_ls_dir('.')".to_string(),
        "select pg_stat_file('/etc/hostname')".to_string(),
        "select lo_import('/etc/hostname')".to_string(),
        format!("select lo_export(1, '{m}')"),
        format!("select query_to_xml('copy (select 1) to program ''touch {m}''', true, true, '')"),
        "select set_config('role', 'postgres', false)".to_string(),
        "select dblink_exec('x', 'y')".to_string(),
        "delete from scans".to_string(),
        "with gone as (delete from scans returning 1) select * from gone".to_string(),
        "select U&\"pg_read_fil\\0065\"('/etc/hostname')".to_string(),
    ];
    for sql in &attacks {
        let out = census(&moto.endpoint(), &["query", sql, "--postgres", &url]);
        let err = one_line_error(&out, sql);
        assert!(
            err.contains("refuses")
                || err.contains("only reads")
                || err.contains("read-only")
                // dblink is not installed: PostgreSQL says so before census has to.
                || (sql.contains("dblink") && err.contains("does not exist")),
            "{sql}: {err}"
        );
    }
    assert!(!marker.exists(), "a statement wrote {m}");
    // What runs, runs as pg_read_all_data: no superuser's reach.
    let who = census(
        &moto.endpoint(),
        &[
            "query",
            "select current_user as u, (select count(*) from scans) as n",
            "--postgres",
            &url,
            "--output",
            "json",
        ],
    );
    assert_eq!(who.status.code(), Some(0), "{}", stderr(&who));
    let rows: Vec<Value> = serde_json::from_slice(&who.stdout).unwrap();
    assert_eq!(rows[0]["u"], "pg_read_all_data");
    assert_eq!(rows[0]["n"], 1, "the deletes must not have happened");
    // A statement that would not end is stopped.
    let slow = census(
        &moto.endpoint(),
        &[
            "query",
            "select pg_sleep(30)::text",
            "--postgres",
            &url,
            "--timeout",
            "1",
        ],
    );
    let err = one_line_error(&slow, "pg_sleep");
    assert!(err.contains("ran longer than 1s"), "{err}");
    let cte =
        "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c";
    let slow = census(
        &moto.endpoint(),
        &["query", cte, "--postgres", &url, "--timeout", "1"],
    );
    assert!(one_line_error(&slow, cte).contains("ran longer than 1s"));

    // A one-letter password garbles nothing and shows nowhere.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let down = format!("postgresql://postgres:s@127.0.0.1:{closed}/census?sslmode=disable");
    let out = census(
        &moto.endpoint(),
        &["query", "select 1", "--postgres", &down],
    );
    let err = one_line_error(&out, "down");
    assert!(
        err.contains(&format!("PostgreSQL at postgresql://postgres@127.0.0.1:{closed}/census?sslmode=disable: cannot connect")),
        "{err}"
    );
    assert!(!err.contains("***") && !err.contains(":s@"), "{err}");
}

/// `(secret access key, session token)` of every role moto let someone assume (its
/// `/moto-api/data.json` record).
fn moto_assumed_roles(moto: &Moto) -> Vec<(String, String)> {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(moto.addr()).unwrap();
    write!(
        conn,
        "GET /moto-api/data.json HTTP/1.0\r\nHost: {}\r\n\r\n",
        moto.addr()
    )
    .unwrap();
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw);
    let body = &text[text.find("\r\n\r\n").expect("an HTTP answer") + 4..];
    let data: Value = serde_json::from_str(body).unwrap();
    data["sts"]["AssumedRole"]
        .as_array()
        .map(|roles| {
            roles
                .iter()
                .map(|r| {
                    (
                        r["secret_access_key"].as_str().unwrap().to_string(),
                        r["session_token"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A trace-level organization scan through roles with an external id, writing to
/// SQLite and PostgreSQL (with a password): no secret it handled shows in any file of
/// the output folder, either database, stdout or stderr; the scan folder, its files
/// and census.db are readable by their owner only.
#[test]
fn no_secret_shows_anywhere_and_outputs_are_private() {
    let moto = Moto::start();
    let me = Caller::default();
    boto3_call(
        &moto,
        &me,
        "organizations",
        "create_organization",
        &json!({"FeatureSet": "ALL"}),
        false,
    );
    for i in 0..2 {
        boto3_call(
            &moto,
            &me,
            "organizations",
            "create_account",
            &json!({"AccountName": format!("member-{i}"), "Email": format!("s{i}@example.com")}),
            false,
        );
    }
    let proxy = FaultProxy::start(&moto);
    let pg = Postgres::shared();
    let password = "Pw-census-hostile-7f3a9";
    let url = pg.create_database("hostile_secrets").replacen(
        "postgres@",
        &format!("postgres:{password}@"),
        1,
    );
    let external_id = "ExtId-census-hostile-5b1c";
    let tmp = TempDir::new("census-hostile-secrets");
    let out = tmp.join("out");
    let spec = scan_file(
        &tmp,
        &[("sqs", "list_queues"), ("sts", "get_caller_identity")],
    );
    let run = census(
        &proxy.endpoint(),
        &[
            "-l",
            "trace",
            "scan",
            "--org",
            "-s",
            spec.to_str().unwrap(),
            "--regions",
            "us-east-1",
            "-o",
            out.to_str().unwrap(),
            "--external-id",
            external_id,
            "--postgres",
            &url,
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert!(
        stderr(&run).contains("TRACE") || stderr(&run).contains("DEBUG"),
        "a trace-level log was expected"
    );

    // The secrets: the base secret key, the session tokens and signatures the member
    // calls carried (AssumeRole's answers), the external id, the password.
    let mut secrets: BTreeSet<String> = [FAKE_SECRET_ACCESS_KEY, external_id, password]
        .into_iter()
        .map(str::to_string)
        .collect();
    for r in proxy.requests() {
        if let Some(t) = r.header("x-amz-security-token") {
            secrets.insert(t.to_string());
        }
    }
    assert!(secrets.len() > 3, "the member calls carried session tokens");
    // And the secret keys and session tokens moto gave every AssumeRole, from its own
    // record of them.
    let assumed = moto_assumed_roles(&moto);
    assert!(
        assumed.len() >= 2,
        "the scan assumed the member roles: {assumed:?}"
    );
    for (secret_key, token) in assumed {
        secrets.insert(secret_key);
        secrets.insert(token);
    }
    assert!(
        proxy
            .requests()
            .iter()
            .any(|r| r.body_str().contains(external_id)),
        "AssumeRole was sent the external id"
    );

    let mut haystacks: Vec<(String, Vec<u8>)> = vec![
        ("stdout".into(), run.stdout.clone()),
        ("stderr".into(), run.stderr.clone()),
    ];
    for p in walk(&out) {
        if p.is_file() {
            haystacks.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
    // PostgreSQL's tables, dumped as text.
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let mut dump = String::new();
    for table in ["scans", "accounts", "calls", "resources", "item_columns"] {
        for row in client
            .query(&format!("SELECT t::text FROM {table} t"), &[])
            .unwrap()
        {
            dump.push_str(&row.get::<_, String>(0));
            dump.push('\n');
        }
    }
    assert!(dump.contains("list_queues") || dump.contains("ListQueues"));
    haystacks.push(("PostgreSQL tables".into(), dump.into_bytes()));
    for (name, bytes) in &haystacks {
        for secret in &secrets {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{name} holds the secret {secret:?}"
            );
        }
    }

    // Owner-only: the scan folder and everything in it, and census.db.
    let root = scan_root(&out);
    for p in std::iter::once(root.clone())
        .chain(walk(&root))
        .chain([out.join("census.db")])
    {
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        let want = if p.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode, want, "{} is {mode:o}", p.display());
    }
}

fn record(stem: &str, account_id: &str, items: u64) -> census::sink::CallRecord {
    census::sink::CallRecord {
        account_id: account_id.into(),
        region: "us-east-1".into(),
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

/// The columns of a query's JSON output, in order, and its rows.
fn query_json(args: &[&str]) -> (Vec<String>, Vec<Value>) {
    let out = census("http://127.0.0.1:9", args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    // JSON objects keep no order here: read the column order from the CSV header.
    let mut csv_args = args.to_vec();
    let last = csv_args.len() - 1;
    csv_args[last] = "csv";
    let csv = census("http://127.0.0.1:9", &csv_args);
    let header = stdout(&csv).lines().next().unwrap_or("").to_string();
    (
        header.split(',').map(str::to_string).collect(),
        serde_json::from_str(&text).unwrap(),
    )
}

/// Two scans of the same resources, whose accounts answered in a different order,
/// number the view columns the same, in SQLite and PostgreSQL; a member whose name
/// holds a backslash, a quote or a dot has its value in both.
#[test]
fn view_columns_are_stable_and_odd_names_reach_their_values() {
    use census::sink::postgres::PostgresSink;
    use census::sink::sqlite::SqliteSink;
    use census::sink::{ScanInfo, Sink, Totals};
    use census::store::postgres::PgUrl;
    let pg = Postgres::shared();
    let tmp = TempDir::new("census-hostile-views");
    let stem = "censustest-list_things";
    let first = json!({"Things": [{"ThingId": "a", "Zeta": 1, "a\\b": "back", "q'uote": "q"}]});
    let second = json!({"Things": [{"ThingId": "b", "Alpha": 2, "c.d": "dot"}]});
    let mut columns = Vec::new();
    for (n, order) in [[&first, &second], [&second, &first]].iter().enumerate() {
        let url = pg.create_database("hostile_views");
        let db = tmp.join(format!("census-{n}.db"));
        let sinks: Vec<Box<dyn Sink>> = vec![
            Box::new(SqliteSink::open(&db).unwrap()),
            Box::new(PostgresSink::open(&PgUrl::new(&url)).unwrap()),
        ];
        let info = ScanInfo {
            id: format!("s{n}"),
            started: "2026-11-24T06:30:00Z".into(),
            version: "test".into(),
            resumed: false,
            skipped_entries: Vec::new(),
        };
        for sink in &sinks {
            sink.begin(&info).unwrap();
            for (i, result) in order.iter().enumerate() {
                let account = format!("11111111111{i}");
                sink.call(&record(stem, &account, 1), Some(result)).unwrap();
            }
            sink.finish(&info, &Totals::default(), &[]).unwrap();
        }
        drop(sinks);
        let sql = "select * from censustest_list_things order by resource_id";
        let (sqlite_cols, sqlite_rows) = query_json(&[
            "query",
            sql,
            "--db",
            db.to_str().unwrap(),
            "--output",
            "json",
        ]);
        let (pg_cols, pg_rows) =
            query_json(&["query", sql, "--postgres", &url, "--output", "json"]);
        assert_eq!(sqlite_cols, pg_cols);
        for rows in [&sqlite_rows, &pg_rows] {
            let a = &rows[0];
            assert_eq!(a["a\\b"].as_str(), Some("back"), "{a}");
            assert_eq!(a["q'uote"].as_str(), Some("q"), "{a}");
            assert_eq!(rows[1]["c.d"].as_str(), Some("dot"), "{}", rows[1]);
        }
        columns.push(sqlite_cols);
    }
    assert_eq!(columns[0], columns[1], "the same columns in the same order");
    let members: Vec<&str> = columns[0][5..columns[0].len() - 1]
        .iter()
        .map(String::as_str)
        .collect();
    let mut sorted = members.clone();
    sorted.sort();
    assert_eq!(members, sorted, "member columns in name order");
}
