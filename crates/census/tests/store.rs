//! The SQLite store end to end against moto: `census scan` writes census.db, `census
//! query` reads it through the views, `census diff` compares two scans after the
//! resources changed in moto between them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};
use testkit::{
    boto3_call, cli_command, shared_demo_org, Caller, Moto, TempDir, FAKE_SECRET_ACCESS_KEY,
};

fn scans_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scans")
}

fn temp_dir(name: &str) -> TempDir {
    TempDir::new(&format!("census-store-{name}"))
}

fn command(endpoint: &str, args: &[&str]) -> Command {
    let mut c = cli_command(env!("CARGO_BIN_EXE_census"), endpoint);
    c.args(args);
    c
}

fn census(args: &[&str]) -> Output {
    command("http://127.0.0.1:9", args).output().unwrap()
}

fn ok(out: &Output, what: &str) -> String {
    testkit::succeeded(out, what)
}

fn scan(endpoint: &str, out: &Path, scan_file: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "scan",
        "-s",
        scan_file.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    command(endpoint, &args).output().unwrap()
}

/// `census query SQL --output json` as a list of rows.
fn query(db: &Path, sql: &str) -> Vec<serde_json::Map<String, Value>> {
    let out = census(&[
        "query",
        sql,
        "--db",
        db.to_str().unwrap(),
        "--output",
        "json",
    ]);
    let text = ok(&out, sql);
    let rows: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_object().unwrap().clone())
        .collect()
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The organization of the shared moto scanned once into a database.
fn org_db() -> &'static (PathBuf, &'static testkit::Manifest) {
    static DB: std::sync::OnceLock<(PathBuf, &'static testkit::Manifest)> =
        std::sync::OnceLock::new();
    DB.get_or_init(|| {
        let (moto, manifest) = shared_demo_org();
        // Lives as long as the test process, so not a TempDir (statics are never
        // dropped): a fixed folder under cargo's per-target temp dir, emptied first.
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("store-org-db");
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).unwrap();
        let regions = manifest.regions.join(",");
        let result = scan(
            &moto.endpoint(),
            &out,
            &scans_dir().join("inventory.json"),
            &["--org", "--regions", &regions],
        );
        ok(&result, "census scan");
        (out.join("census.db"), manifest)
    })
}

#[test]
fn views_hold_exactly_the_seeded_resources() {
    let (db, manifest) = org_db();
    // (view, column, manifest kind, filter leaving out moto's own defaults)
    let kinds: &[(&str, &str, &str, &str)] = &[
        ("ec2_describe_vpcs", "VpcId", "ec2:vpc", "NOT IsDefault"),
        (
            "ec2_describe_subnets",
            "SubnetId",
            "ec2:subnet",
            "NOT DefaultForAz",
        ),
        (
            "ec2_describe_security_groups",
            "GroupId",
            "ec2:security-group",
            "GroupName <> 'default'",
        ),
        ("ec2_describe_instances", "InstanceId", "ec2:instance", "1"),
        ("s3_list_buckets", "Name", "s3:bucket", "1"),
        ("dynamodb_list_tables", "value", "dynamodb:table", "1"),
        ("sqs_list_queues", "value", "sqs:queue", "1"),
        ("sns_list_topics", "TopicArn", "sns:topic", "1"),
        (
            "lambda_list_functions",
            "FunctionName",
            "lambda:function",
            "1",
        ),
        ("kms_list_keys", "KeyId", "kms:key", "1"),
        (
            "logs_describe_log_groups",
            "logGroupName",
            "logs:log-group",
            "1",
        ),
        (
            "cloudformation_describe_stacks",
            "StackId",
            "cloudformation:stack-id",
            "1",
        ),
        (
            "iam_list_roles",
            "RoleName",
            "iam:role",
            "RoleName <> 'OrganizationAccountAccessRole'",
        ),
        ("iam_list_users", "UserName", "iam:user", "1"),
        ("iam_list_policies", "Arn", "iam:policy", "1"),
        (
            "route53_list_hosted_zones",
            "Id",
            "route53:hosted-zone",
            "1",
        ),
    ];
    for (view, column, kind, filter) in kinds {
        let mut want: BTreeSet<(String, String, String)> = BTreeSet::new();
        for (account, regions) in &manifest.resources {
            for (region, kinds) in regions {
                let label = if kind.starts_with("s3:") {
                    "global"
                } else {
                    region
                };
                for id in kinds.get(*kind).into_iter().flatten() {
                    want.insert((account.clone(), label.to_string(), id.clone()));
                }
            }
        }
        let rows = query(
            db,
            &format!("SELECT account_id, region, \"{column}\" AS id FROM {view} WHERE {filter}"),
        );
        let got: Vec<(String, String, String)> = rows
            .iter()
            .map(|r| {
                let mut id = s(&r["id"]);
                if *kind == "sqs:queue" {
                    id = id.rsplit('/').next().unwrap().to_string();
                }
                if *kind == "route53:hosted-zone" {
                    id = id.trim_start_matches("/hostedzone/").to_string();
                }
                (s(&r["account_id"]), s(&r["region"]), id)
            })
            .collect();
        let want: BTreeSet<(String, String, String)> = want
            .into_iter()
            .map(|(a, r, id)| (a, r, id.trim_start_matches("/hostedzone/").to_string()))
            .collect();
        assert_eq!(got.len(), want.len(), "{view}: duplicates or gaps: {got:?}");
        assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), want, "{view}");
    }
    // moto's default VPC: exactly one per account and region scanned.
    let accounts = query(
        db,
        "SELECT account_id FROM accounts WHERE scan_status = 'ok'",
    );
    let defaults = query(
        db,
        "SELECT account_id, region, COUNT(*) AS n FROM ec2_describe_vpcs WHERE IsDefault GROUP BY 1, 2",
    );
    assert_eq!(defaults.len(), accounts.len() * manifest.regions.len());
    assert!(defaults.iter().all(|r| r["n"] == 1), "{defaults:?}");
    // The example, and nested members as JSON.
    let rows = query(
        db,
        "SELECT InstanceId, State, State ->> 'Name' AS state, account_name FROM ec2_describe_instances WHERE region = 'eu-west-1'",
    );
    let want: usize = manifest
        .resources
        .keys()
        .map(|a| manifest.ids(a, "eu-west-1", "ec2:instance").len())
        .sum();
    assert_eq!(rows.len(), want);
    for r in &rows {
        assert_eq!(r["state"], "running", "{r:?}");
        let state: Value = serde_json::from_str(r["State"].as_str().unwrap()).unwrap();
        assert_eq!(state["Name"], "running");
        assert!(r["account_name"].as_str().is_some_and(|n| !n.is_empty()));
    }
}

#[test]
fn tables_hold_scans_accounts_calls_and_resources() {
    let (db, manifest) = org_db();
    let scans = query(db, "SELECT * FROM scans");
    assert_eq!(scans.len(), 1);
    let scan = &scans[0];
    assert!(scan["finished"].is_string(), "{scan:?}");
    assert_eq!(scan["calls_failed"], 0);
    // Every item of every call is a resource row, and the totals agree.
    let calls = query(db, "SELECT SUM(items) AS items, COUNT(*) AS n FROM calls");
    let resources = query(db, "SELECT COUNT(*) AS n FROM resources");
    assert_eq!(calls[0]["items"], resources[0]["n"]);
    assert_eq!(calls[0]["items"], scan["items"]);
    assert_eq!(calls[0]["n"], scan["calls"]);
    // Accounts with their organization data.
    let accounts = query(db, "SELECT * FROM accounts");
    for a in manifest.members().filter(|a| a.status == "ACTIVE") {
        let row = accounts
            .iter()
            .find(|r| r["account_id"] == a.id.as_str())
            .unwrap_or_else(|| panic!("{} missing", a.id));
        assert_eq!(row["name"], a.name.as_str());
        assert_eq!(row["email"], a.email.as_str());
        assert_eq!(row["ou_path"], a.ou_path.as_str());
        assert_eq!(row["org_id"], manifest.organization_id.as_str());
        assert_eq!(row["partition"], "aws");
        let tags: BTreeMap<String, String> =
            serde_json::from_str(row["tags"].as_str().unwrap()).unwrap();
        assert_eq!(tags, a.tags);
    }
    // Identifiers come from the model's identifying members.
    let sources = query(
        db,
        "SELECT stem, group_concat(DISTINCT id_source) AS sources FROM resources GROUP BY stem",
    );
    let sources: BTreeMap<String, String> = sources
        .iter()
        .map(|r| (s(&r["stem"]), s(&r["sources"])))
        .collect();
    assert_eq!(sources["ec2-describe_vpcs"], "VpcId");
    assert_eq!(sources["ec2-describe_instances"], "InstanceId");
    assert_eq!(sources["iam-list_roles"], "Arn");
    assert_eq!(sources["lambda-list_functions"], "FunctionArn");
    assert_eq!(sources["dynamodb-list_tables"], "(item)");
    assert!(
        !sources.values().any(|v| v.contains("(hash)")),
        "{sources:?}"
    );
    // No secret in the database.
    let bytes = std::fs::read(db).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    for secret in [FAKE_SECRET_ACCESS_KEY, "SecretAccessKey", "SessionToken"] {
        assert!(!text.contains(secret), "census.db holds {secret}");
    }
}

#[test]
fn query_prints_tables_json_and_csv() {
    let (db, _) = org_db();
    let db = db.to_str().unwrap();
    let sql = "SELECT VpcId, CidrBlock, IsDefault FROM ec2_describe_vpcs ORDER BY VpcId LIMIT 3";
    let json: Vec<Value> = serde_json::from_str(&ok(
        &census(&["query", sql, "--db", db, "--output", "json"]),
        sql,
    ))
    .unwrap();
    assert_eq!(json.len(), 3);
    let table = ok(&census(&["query", sql, "--db", db]), sql);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 5, "{table}");
    assert!(lines[0].starts_with("VpcId"), "{table}");
    assert!(lines[1].chars().all(|c| c == '-' || c == ' '), "{table}");
    // Columns line up: CidrBlock starts at the same place on every line.
    let at = lines[0].find("CidrBlock").unwrap();
    for (line, row) in lines[2..].iter().zip(&json) {
        assert_eq!(&line[..row["VpcId"].as_str().unwrap().len()], row["VpcId"]);
        assert_eq!(
            &line[at..at + row["CidrBlock"].as_str().unwrap().len()],
            row["CidrBlock"]
        );
    }
    let csv_text = ok(&census(&["query", sql, "--db", db, "--output", "csv"]), sql);
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["VpcId", "CidrBlock", "IsDefault"]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 3);
    for (r, j) in records.iter().zip(&json) {
        assert_eq!(r[0], j["VpcId"]);
        assert_eq!(r[2], j["IsDefault"].to_string());
    }
    // --tables: the base tables, one view per call of the spec, `inventory_latest` and
    // `links_latest`, with row counts.
    let tables: Vec<Value> = serde_json::from_str(&ok(
        &census(&["query", "--tables", "--db", db, "--output", "json"]),
        "--tables",
    ))
    .unwrap();
    let names: BTreeMap<String, (String, i64)> = tables
        .iter()
        .map(|t| (s(&t["name"]), (s(&t["type"]), t["rows"].as_i64().unwrap())))
        .collect();
    for t in [
        "scans",
        "accounts",
        "calls",
        "resources",
        "inventory",
        "links",
    ] {
        assert_eq!(names[t].0, "table", "{t}");
    }
    assert_eq!(names["ec2_describe_vpcs"].0, "view");
    assert!(names["ec2_describe_vpcs"].1 > 0);
    let spec: Value =
        serde_json::from_slice(&std::fs::read(scans_dir().join("inventory.json")).unwrap())
            .unwrap();
    let views = names.values().filter(|(t, _)| t == "view").count();
    assert_eq!(views, spec.as_array().unwrap().len() + 2);
    assert_eq!(names["inventory_latest"].0, "view");
    assert!(names["inventory_latest"].1 > 0);
    assert_eq!(names["links_latest"].0, "view");
    assert!(
        names["links_latest"].1 > 0,
        "instances, subnets and groups link to VPCs"
    );
}

#[test]
fn query_errors_are_one_line() {
    let (db, _) = org_db();
    let db = db.to_str().unwrap();
    let one_line = |out: &Output| -> String {
        assert_eq!(out.status.code(), Some(1));
        assert!(out.stdout.is_empty());
        let err = String::from_utf8(out.stderr.clone()).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        err
    };
    let err = one_line(&census(&["query", "selec * from scans", "--db", db]));
    assert!(
        err.starts_with("census: error: SQL error near \"selec\": syntax error"),
        "{err}"
    );
    let err = one_line(&census(&["query", "select * from nowhere", "--db", db]));
    assert!(
        err.starts_with("census: error: SQL error: no such table: nowhere"),
        "{err}"
    );
    let err = one_line(&census(&["query", "delete from scans", "--db", db]));
    assert!(
        err.contains("not authorized") && err.contains("only reads"),
        "{err}"
    );
    let missing = temp_dir("missing").join("census.db");
    let err = one_line(&census(&[
        "query",
        "select 1",
        "--db",
        missing.to_str().unwrap(),
    ]));
    assert!(err.contains(missing.to_str().unwrap()), "{err}");
    assert!(err.contains("run `census scan` first"), "{err}");
    assert!(!missing.exists(), "a query must not create the database");
}

/// A scan file for the diff test.
fn diff_spec(dir: &Path) -> PathBuf {
    let path = dir.join("spec.json");
    let spec = json!([
        {"service": "ec2", "function": "describe_vpcs", "result_key": "Vpcs"},
        {"service": "ec2", "function": "describe_instances", "result_key": ".Reservations[].Instances[]"},
        {"service": "s3", "function": "list_buckets", "result_key": "Buckets"},
        {"service": "sqs", "function": "list_queues", "result_key": "QueueUrls"},
        {"service": "dynamodb", "function": "list_tables"}
    ]);
    std::fs::write(&path, spec.to_string()).unwrap();
    path
}

#[test]
fn diff_reports_exactly_what_changed() {
    let moto = Moto::start();
    let me = Caller::management();
    let call = |service: &str, op: &str, params: Value| -> Value {
        boto3_call(&moto, &me, service, op, &params, false)
    };
    let vpc = call(
        "ec2",
        "CreateVpc",
        json!({"CidrBlock": "10.9.0.0/16", "TagSpecifications": [{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "main"}, {"Key": "Owner", "Value": "team-a"}]}]}),
    )["Vpc"]["VpcId"]
        .as_str()
        .unwrap()
        .to_string();
    let instance = call(
        "ec2",
        "RunInstances",
        json!({"ImageId": "ami-12c6146b", "InstanceType": "t3.micro", "MinCount": 1, "MaxCount": 1}),
    )["Instances"][0]["InstanceId"]
        .as_str()
        .unwrap()
        .to_string();
    call("s3", "CreateBucket", json!({"Bucket": "kept-bucket"}));
    let gone = call("sqs", "CreateQueue", json!({"QueueName": "gone"}))["QueueUrl"]
        .as_str()
        .unwrap()
        .to_string();
    call("sqs", "CreateQueue", json!({"QueueName": "kept"}));
    call(
        "dynamodb",
        "CreateTable",
        json!({"TableName": "orders", "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}], "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}], "BillingMode": "PAY_PER_REQUEST"}),
    );

    let out = temp_dir("diff");
    let spec = diff_spec(&out);
    let db = out.join("census.db");
    let dbs = db.to_str().unwrap();
    ok(
        &scan(&moto.endpoint(), &out, &spec, &["--regions", "us-east-1"]),
        "scan 1",
    );
    // One scan: nothing to compare yet.
    let only = census(&["diff", "--db", dbs]);
    assert_eq!(only.status.code(), Some(1));
    let err = String::from_utf8_lossy(&only.stderr);
    assert!(err.contains("1 finished scan(s)"), "{err}");

    // Changes: a bucket added, a queue deleted, the VPC re-tagged, the instance stopped.
    call("s3", "CreateBucket", json!({"Bucket": "new-bucket"}));
    call("sqs", "DeleteQueue", json!({"QueueUrl": gone}));
    call(
        "ec2",
        "CreateTags",
        json!({"Resources": [vpc], "Tags": [{"Key": "Owner", "Value": "team-b"}]}),
    );
    call("ec2", "StopInstances", json!({"InstanceIds": [instance]}));
    ok(
        &scan(&moto.endpoint(), &out, &spec, &["--regions", "us-east-1"]),
        "scan 2",
    );

    let scans = query(&db, "SELECT scan_id FROM scans ORDER BY seq");
    assert_eq!(scans.len(), 2);
    let (a, b) = (s(&scans[0]["scan_id"]), s(&scans[1]["scan_id"]));

    let result = census(&["diff", "--db", dbs, "--output", "json"]);
    let text = ok(&result, "census diff");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains(&format!("{a} -> {b}: 1 added, 1 removed, 2 changed")),
        "{stderr}"
    );
    let changes: Vec<Value> = serde_json::from_str(&text).unwrap();
    let got: BTreeSet<(String, String, String)> = changes
        .iter()
        .map(|c| (s(&c["change"]), s(&c["type"]), s(&c["resource_id"])))
        .collect();
    let want: BTreeSet<(String, String, String)> = [
        ("added", "s3_list_buckets", "new-bucket".to_string()),
        ("removed", "sqs_list_queues", gone.clone()),
        ("changed", "ec2_describe_vpcs", vpc.clone()),
        ("changed", "ec2_describe_instances", instance.clone()),
    ]
    .into_iter()
    .map(|(c, t, id)| (c.to_string(), t.to_string(), id))
    .collect();
    assert_eq!(got, want, "{text}");
    for c in &changes {
        assert_eq!(c["account_id"], testkit::MANAGEMENT_ACCOUNT_ID);
        let region = if c["type"] == "s3_list_buckets" {
            "global"
        } else {
            "us-east-1"
        };
        assert_eq!(c["region"], region);
        let paths: Vec<&str> = c["paths"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        match c["type"].as_str().unwrap() {
            // Tags compare as maps (crates/census/tests/diff_inventory.rs tests more).
            "ec2_describe_vpcs" => {
                assert!(paths.is_empty(), "{c}");
                assert_eq!(
                    c["tags"],
                    json!({"added": {}, "removed": {}, "changed": {"Owner": ["team-a", "team-b"]}}),
                    "{c}"
                );
            }
            "ec2_describe_instances" => {
                assert!(paths.contains(&"State.Name"), "{c}");
                assert!(paths.contains(&"State.Code"), "{c}");
            }
            _ => assert!(paths.is_empty(), "{c}"),
        }
    }
    // The same by explicit ids, as a table and as CSV; --summary counts.
    let table = ok(&census(&["diff", &a, &b, "--db", dbs]), "diff A B");
    assert!(
        table.lines().next().unwrap().starts_with("change"),
        "{table}"
    );
    assert_eq!(table.lines().count(), 2 + 4, "{table}");
    assert!(table.contains("tag Owner: team-a -> team-b"), "{table}");
    let csv_text = ok(
        &census(&["diff", &a, "--db", dbs, "--output", "csv"]),
        "diff A csv",
    );
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    assert_eq!(reader.records().count(), 4);
    let summary: Vec<Value> = serde_json::from_str(&ok(
        &census(&["diff", "--db", dbs, "--summary", "--output", "json"]),
        "diff --summary",
    ))
    .unwrap();
    let totals = summary.iter().fold([0, 0, 0], |t, r| {
        [
            t[0] + r["added"].as_i64().unwrap(),
            t[1] + r["removed"].as_i64().unwrap(),
            t[2] + r["changed"].as_i64().unwrap(),
        ]
    });
    assert_eq!(totals, [1, 1, 2]);
    // The reverse diff swaps added and removed.
    let reverse: Vec<Value> = serde_json::from_str(&ok(
        &census(&["diff", &b, &a, "--db", dbs, "--output", "json"]),
        "diff B A",
    ))
    .unwrap();
    assert!(reverse
        .iter()
        .any(|c| c["change"] == "removed" && c["resource_id"] == "new-bucket"));
    // Unknown scan ids are named, with the known ones.
    let bad = census(&["diff", "nope", &b, "--db", dbs]);
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("\"nope\"") && err.contains(&a) && err.contains(&b),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    // The views show the latest scan only; the tables keep both.
    let buckets = query(&db, "SELECT Name FROM s3_list_buckets ORDER BY Name");
    let names: Vec<String> = buckets.iter().map(|r| s(&r["Name"])).collect();
    assert_eq!(names, ["kept-bucket", "new-bucket"]);
    let all = query(
        &db,
        "SELECT COUNT(*) AS n FROM resources WHERE stem = 's3-list_buckets'",
    );
    assert_eq!(all[0]["n"], 3);
    // ListTables without a result key: the TableNames list's elements are the items.
    let tables = query(&db, "SELECT value, resource_id FROM dynamodb_list_tables");
    assert_eq!(tables.len(), 1);
    assert_eq!(tables[0]["value"], "orders");
    assert_eq!(tables[0]["resource_id"], "orders");
}

/// Every call's items in a scan's JSON tree: (account, region, stem) -> item JSON texts,
/// sorted.
fn tree_items(root: &Path) -> BTreeMap<(String, String, String), Vec<String>> {
    let mut out = BTreeMap::new();
    for account_dir in std::fs::read_dir(root).unwrap().map(|e| e.unwrap().path()) {
        let name = account_dir
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        if !account_dir.is_dir() || name.starts_with('.') {
            continue;
        }
        let account = name.split('-').next().unwrap().to_string();
        for region_dir in std::fs::read_dir(&account_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
        {
            let region = region_dir
                .file_name()
                .unwrap()
                .to_string_lossy()
                .to_string();
            for file in std::fs::read_dir(&region_dir)
                .unwrap()
                .map(|e| e.unwrap().path())
            {
                let stem = file.file_stem().unwrap().to_string_lossy().to_string();
                let value: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
                let mut items: Vec<String> = value
                    .as_array()
                    .unwrap_or_else(|| panic!("{}: a list expected", file.display()))
                    .iter()
                    .map(Value::to_string)
                    .collect();
                items.sort();
                out.insert((account.clone(), region.clone(), stem), items);
            }
        }
    }
    out
}

/// The same from the database, for one scan.
fn db_items(db: &Path, scan_id: &str) -> BTreeMap<(String, String, String), Vec<String>> {
    let mut out: BTreeMap<(String, String, String), Vec<String>> = BTreeMap::new();
    let calls = query(
        db,
        &format!("SELECT account_id, region, stem FROM calls WHERE scan_id = '{scan_id}' AND status = 'ok'"),
    );
    for c in calls {
        out.insert(
            (s(&c["account_id"]), s(&c["region"]), s(&c["stem"])),
            Vec::new(),
        );
    }
    let rows = query(
        db,
        &format!(
            "SELECT account_id, region, stem, item FROM resources WHERE scan_id = '{scan_id}'"
        ),
    );
    for r in rows {
        out.entry((s(&r["account_id"]), s(&r["region"]), s(&r["stem"])))
            .or_default()
            .push(s(&r["item"]));
    }
    out.values_mut().for_each(|v| v.sort());
    out
}

#[test]
fn a_killed_and_resumed_scan_leaves_the_database_complete() {
    use testkit::{Action, FaultProxy, Match, Rule};
    let (moto, manifest) = shared_demo_org();
    let proxy = FaultProxy::start(moto);
    proxy.add(Rule::new(
        Match::any(),
        Action::delay(std::time::Duration::from_millis(150), Action::Forward),
    ));
    let out = temp_dir("resume");
    let scan_file = scans_dir().join("inventory.json");
    let regions = manifest.regions.join(",");
    let mut child = command(
        &proxy.endpoint(),
        &[
            "scan",
            "--org",
            "-s",
            scan_file.to_str().unwrap(),
            "--regions",
            &regions,
            "--concurrency",
            "8",
            "-o",
            out.to_str().unwrap(),
        ],
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    // SIGKILL: the writer gets no chance to flush.
    let root = testkit::kill_scan_when_journaled(&mut child, &out, 40);
    let db = out.join("census.db");
    let scan_id = root.file_name().unwrap().to_string_lossy().to_string();
    // Everything the journal recorded before the kill is in the database already.
    let journaled: BTreeSet<(String, String, String)> =
        std::fs::read_to_string(root.join(".census/journal.jsonl"))
            .unwrap()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter_map(|e| e.get("call").cloned())
            .filter(|c| c["status"] == "ok")
            .map(|c| (s(&c["account_id"]), s(&c["region"]), s(&c["stem"])))
            .collect();
    let before = db_items(&db, &scan_id);
    for key in &journaled {
        assert!(
            before.contains_key(key),
            "{key:?} is journaled but not in census.db"
        );
    }
    let resumed = command(
        &moto.endpoint(),
        &["scan", "--resume", root.to_str().unwrap()],
    )
    .output()
    .unwrap();
    ok(&resumed, "census scan --resume");
    // The database holds exactly what the tree holds, call by call.
    let tree = tree_items(&root);
    let after = db_items(&db, &scan_id);
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        tree.keys().collect::<Vec<_>>()
    );
    for (key, items) in &tree {
        assert_eq!(&after[key], items, "{key:?}");
    }
    let scans = query(&db, "SELECT scan_id, finished, resumed FROM scans");
    assert_eq!(scans.len(), 1);
    assert!(scans[0]["finished"].is_string());
    assert_eq!(scans[0]["resumed"], 1);
}
