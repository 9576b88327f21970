//! How detail calls run, against moto: throttling and 5xx on the detail calls lose
//! nothing, a scan killed among its detail calls resumes to the uninterrupted result,
//! `--max-details-per-call` cuts and says so, and the SQL views of details join their
//! list's view. (What the core preset's details return, compared with boto3, and the
//! scan-file syntax are in `details.rs`.)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{json, Value};
use testkit::{
    boto3_call, cli_command, read_json, scan_root, Action, Caller, FaultProxy, Match, Moto,
    Protocol, Reply, Rule, TempDir,
};

const BUCKETS: usize = 12;

/// A scan file: buckets with three details (one of them absent for half the buckets),
/// tables with a detail using `$details`.
const SCAN: &str = r#"[
  {"service": "s3", "function": "list_buckets", "result_key": "Buckets",
   "details": [
     {"function": "get_bucket_policy", "parameters": {"Bucket": ".Name"}},
     {"function": "get_bucket_tagging", "parameters": {"Bucket": ".Name"}, "result_key": "TagSet"},
     {"function": "get_bucket_versioning", "parameters": {"Bucket": ".Name"}}
   ]},
  {"service": "dynamodb", "function": "list_tables",
   "details": [
     {"function": "describe_table", "parameters": {"TableName": "."}, "result_key": "Table"},
     {"function": "list_tags_of_resource", "parameters": {"ResourceArn": "$details.describe_table.TableArn"}}
   ]}
]"#;

fn census(endpoint: &str, args: &[&str]) -> Output {
    cli_command(env!("CARGO_BIN_EXE_census"), endpoint)
        .args(args)
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Buckets `b00`..: the even ones with a policy and tags, the odd ones bare; three
/// tagged tables.
fn seed(moto: &Moto) {
    let me = Caller::management();
    for i in 0..BUCKETS {
        let bucket = format!("b{i:02}");
        boto3_call(
            moto,
            &me,
            "s3",
            "CreateBucket",
            &json!({"Bucket": bucket}),
            false,
        );
        if i % 2 == 0 {
            let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": format!("arn:aws:s3:::{bucket}")}]});
            boto3_call(
                moto,
                &me,
                "s3",
                "PutBucketPolicy",
                &json!({"Bucket": bucket, "Policy": policy.to_string()}),
                false,
            );
            boto3_call(
                moto,
                &me,
                "s3",
                "PutBucketTagging",
                &json!({"Bucket": bucket, "Tagging": {"TagSet": [{"Key": "n", "Value": i.to_string()}]}}),
                false,
            );
        }
    }
    for i in 0..3 {
        boto3_call(
            moto,
            &me,
            "dynamodb",
            "CreateTable",
            &json!({"TableName": format!("t{i}"), "BillingMode": "PAY_PER_REQUEST",
                    "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
                    "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}],
                    "Tags": [{"Key": "n", "Value": i.to_string()}]}),
            false,
        );
    }
}

fn scan_file(dir: &Path) -> PathBuf {
    let path = dir.join("details.json");
    std::fs::write(&path, SCAN).unwrap();
    path
}

/// The detail files and summary records of the (only) account, without timings.
fn outputs(root: &Path) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let account = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir() && !p.ends_with(".census"))
        .unwrap();
    for region in std::fs::read_dir(&account).unwrap() {
        let region = region.unwrap().path();
        for f in std::fs::read_dir(&region).unwrap() {
            let f = f.unwrap().path();
            let name = format!(
                "{}/{}",
                region.file_name().unwrap().to_string_lossy(),
                f.file_name().unwrap().to_string_lossy()
            );
            out.insert(name, scrub(read_json(&f)));
        }
    }
    let summary = read_json(&root.join("summary.json"));
    for mut call in summary["accounts"][0]["calls"].as_array().unwrap().clone() {
        let o = call.as_object_mut().unwrap();
        o.remove("duration_ms");
        out.insert(format!("record {}", o["stem"]), call);
    }
    out
}

/// Request ids differ between runs.
fn scrub(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(o) => {
                if let Some(Value::String(m)) = o.get_mut("message") {
                    if let Some(at) = m.find(" [request id") {
                        m.truncate(at);
                    }
                }
                o.values_mut().for_each(walk);
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

fn scan(endpoint: &str, dir: &TempDir, name: &str, extra: &[&str]) -> (Output, PathBuf) {
    let out = dir.join(name);
    let file = scan_file(dir);
    let mut args = vec![
        "scan",
        "-s",
        file.to_str().unwrap(),
        "--regions",
        "us-east-1",
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let result = census(endpoint, &args);
    (result, out)
}

#[test]
fn details_under_throttling_and_5xx_lose_nothing() {
    let moto = Moto::start();
    seed(&moto);
    let dir = TempDir::new("census-details-faults");
    let (clean, clean_out) = scan(&moto.endpoint(), &dir, "clean", &[]);
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));
    let reference = outputs(&scan_root(&clean_out));
    // What the clean scan found: a policy for the even buckets, absent for the odd.
    let policies = &reference["global/s3-get_bucket_policy.json"];
    assert_eq!(policies.as_array().unwrap().len(), BUCKETS);
    for (i, p) in policies.as_array().unwrap().iter().enumerate() {
        assert_eq!(p["parameters"], json!({"Bucket": format!("b{i:02}")}));
        if i % 2 == 0 {
            assert!(
                p["result"]["Policy"]
                    .as_str()
                    .unwrap()
                    .contains("DeleteBucket"),
                "{p}"
            );
        } else {
            assert_eq!(p["absent"]["code"], "NoSuchBucketPolicy", "{p}");
        }
    }
    let record = &reference["record \"s3-get_bucket_policy\""];
    assert_eq!(record["parent"], "s3-list_buckets");
    assert_eq!(record["absent"], (BUCKETS / 2) as u64);
    assert_eq!(record["status"], "ok");
    let tags = &reference["us-east-1/dynamodb-list_tags_of_resource.json"];
    assert_eq!(
        tags[1]["result"]["Tags"],
        json!([{"Key": "n", "Value": "1"}])
    );

    // Every 3rd detail request throttled, every 7th a 500: the same result.
    let proxy = FaultProxy::start(&moto);
    let detail = |r: &testkit::SeenRequest| {
        r.path.contains("policy")
            || r.path.contains("tagging")
            || r.path.contains("versioning")
            || r.header("x-amz-target")
                .is_some_and(|t| t.ends_with("DescribeTable") || t.ends_with("ListTagsOfResource"))
    };
    for protocol in [Protocol::RestXml, Protocol::Json] {
        proxy.add(Rule::new(
            Match::any()
                .custom(move |r| r.seq % 3 == 0 && detail(r) && Protocol::of(r) == protocol),
            Action::Reply(Reply::throttling(protocol)),
        ));
        proxy.add(Rule::new(
            Match::any()
                .custom(move |r| r.seq % 7 == 1 && detail(r) && Protocol::of(r) == protocol),
            Action::Reply(Reply::internal_error(protocol)),
        ));
    }
    let (faulty, faulty_out) = scan(&proxy.endpoint(), &dir, "faulty", &["--max-retries", "8"]);
    assert_eq!(faulty.status.code(), Some(0), "{}", stderr(&faulty));
    let injected = proxy.requests().iter().filter(|r| r.rule.is_some()).count();
    assert!(injected >= 15, "only {injected} faults injected");
    let got = outputs(&scan_root(&faulty_out));
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        reference.keys().collect::<Vec<_>>()
    );
    for (k, v) in &reference {
        let mut got = got[k].clone();
        let mut want = v.clone();
        // Retried calls count their pages once; nothing else may differ.
        for x in [&mut got, &mut want] {
            if let Some(o) = x.as_object_mut() {
                o.remove("pages");
            }
        }
        assert_eq!(got, want, "{k}");
    }
}

#[test]
fn a_scan_killed_among_its_details_resumes_to_the_same_result() {
    let moto = Moto::start();
    seed(&moto);
    let dir = TempDir::new("census-details-resume");
    let (clean, clean_out) = scan(&moto.endpoint(), &dir, "clean", &[]);
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));
    let reference = outputs(&scan_root(&clean_out));

    // Tag calls slowed down: the list calls and the other details finish, the scan is
    // killed while the bucket tags are under way.
    let proxy = FaultProxy::start(&moto);
    proxy.add(Rule::new(
        Match::any().custom(|r| r.path.contains("tagging")),
        Action::delay(std::time::Duration::from_millis(400), Action::Forward),
    ));
    let out = dir.join("killed");
    let file = scan_file(&dir);
    let mut child = cli_command(env!("CARGO_BIN_EXE_census"), &proxy.endpoint())
        .args([
            "scan",
            "-s",
            file.to_str().unwrap(),
            "--regions",
            "us-east-1",
            "--concurrency",
            "4",
            "-o",
            out.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The dynamodb list call and its two details.
    let root = testkit::kill_scan_when_journaled(&mut child, &out, 3);
    let journal = std::fs::read_to_string(root.join(".census/journal.jsonl")).unwrap();
    assert!(
        !journal.contains("s3-get_bucket_tagging"),
        "the tag calls were to be under way when the scan was killed"
    );
    let resumed = census(
        &moto.endpoint(),
        &["scan", "--resume", root.to_str().unwrap()],
    );
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    let journal = std::fs::read_to_string(root.join(".census/journal.jsonl")).unwrap();
    // What the killed run recorded is not recorded again.
    assert_eq!(journal.matches("\"dynamodb-describe_table\"").count(), 1);
    assert_eq!(journal.matches("\"s3-get_bucket_tagging\"").count(), 1);
    let got = outputs(&root);
    assert_eq!(got, reference);
}

#[test]
fn max_details_per_call_cuts_and_says_so_and_views_join_their_list() {
    let moto = Moto::start();
    seed(&moto);
    let dir = TempDir::new("census-details-cap");
    let (result, out) = scan(
        &moto.endpoint(),
        &dir,
        "capped",
        &["--max-details-per-call", "5"],
    );
    assert_eq!(result.status.code(), Some(0), "{}", stderr(&result));
    let root = scan_root(&out);
    let got = outputs(&root);
    let policies = got["global/s3-get_bucket_policy.json"].as_array().unwrap();
    assert_eq!(policies.len(), 5);
    let record = &got["record \"s3-get_bucket_policy\""];
    assert_eq!(record["items"], 5);
    assert_eq!(record["items_not_detailed"], (BUCKETS - 5) as u64);
    // Three tables: under the cap, nothing cut.
    assert!(got["record \"dynamodb-describe_table\""]
        .get("items_not_detailed")
        .is_none());

    // The detail view joins the list's view on the list item's resource_id.
    let db = out.join("census.db");
    let query = census(
        &moto.endpoint(),
        &[
            "query",
            "--db",
            db.to_str().unwrap(),
            "--output",
            "json",
            "SELECT l.Name AS name, p.Policy IS NOT NULL AS has_policy, json_extract(p.absent, '$.code') AS absent \
             FROM s3_list_buckets l JOIN s3_get_bucket_policy p \
             ON p.account_id = l.account_id AND p.region = l.region AND p.resource_id = l.resource_id \
             ORDER BY name",
        ],
    );
    assert_eq!(query.status.code(), Some(0), "{}", stderr(&query));
    let rows: Value = serde_json::from_slice(&query.stdout).unwrap();
    let rows: Vec<(String, i64, Option<String>)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["has_policy"].as_i64().unwrap(),
                r["absent"].as_str().map(str::to_string),
            )
        })
        .collect();
    let want: Vec<(String, i64, Option<String>)> = (0..5)
        .map(|i| {
            let absent = (i % 2 == 1).then(|| "NoSuchBucketPolicy".to_string());
            (format!("b{i:02}"), i64::from(i % 2 == 0), absent)
        })
        .collect();
    assert_eq!(rows, want);
    let calls = census(
        &moto.endpoint(),
        &[
            "query",
            "--db",
            db.to_str().unwrap(),
            "--output",
            "json",
            "SELECT stem, parent, absent, items FROM calls WHERE parent IS NOT NULL ORDER BY stem",
        ],
    );
    let calls: Value = serde_json::from_slice(&calls.stdout).unwrap();
    assert_eq!(calls.as_array().unwrap().len(), 5, "{calls}");
    assert_eq!(
        calls[2],
        json!({"stem": "s3-get_bucket_policy", "parent": "s3-list_buckets", "absent": 2, "items": 5})
    );
    let totals = &read_json(&root.join("summary.json"))["totals"];
    assert!(totals["absent"].as_u64().unwrap() >= 4, "{totals}");
}
