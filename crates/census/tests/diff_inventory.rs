//! `census diff` against moto, with the inventory: two scans of instances and queues
//! between which boto3 re-tagged an instance (a value changed, a key added, a key
//! removed), re-created a tag of another (its tag list reordered, the same tags),
//! terminated one, launched one and re-tagged a queue (seen by a `ListQueueTags`
//! detail call). The diff names each resource by the ARN AWS documents
//! (`arn:aws:ec2:<region>:<account>:instance/<id>`, the queue's `QueueArn` as boto3
//! reports it), reports exactly those tag changes as tag changes, and the reordered
//! list as no change; on SQLite and on PostgreSQL (the same output), and on databases
//! without the inventory table (schema 2: no ARNs, the same tag changes).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};
use testkit::{boto3_call, cli_command, Caller, Moto, Postgres, TempDir, MANAGEMENT_ACCOUNT_ID};

const REGION: &str = "us-east-1";

fn scan_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scans/diff-tags.json")
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

/// What the changes between the scans were, as boto3 reported the resources.
struct Seeded {
    /// Re-tagged: Owner payments -> billing, +Environment=prod, -Team.
    retagged: String,
    /// The same tags, in another order.
    reordered: String,
    terminated: String,
    launched: String,
    /// The queue's ARN as `GetQueueAttributes` gives it; its Owner tag changed.
    queue_arn: String,
}

fn instance_arn(id: &str) -> String {
    format!("arn:aws:ec2:{REGION}:{MANAGEMENT_ACCOUNT_ID}:instance/{id}")
}

/// Seeds moto, scans into `out` (and `postgres`, when given), changes the resources,
/// scans again.
fn seed_and_scan_twice(out: &Path, postgres: Option<&str>) -> Seeded {
    let moto = Moto::start();
    let me = Caller::management();
    let call = |service: &str, op: &str, params: Value| -> Value {
        boto3_call(&moto, &me, service, op, &params, false)
    };
    let run = |tags: Value| -> String {
        let mut params = json!({"ImageId": "ami-12c6146b", "InstanceType": "t3.micro", "MinCount": 1, "MaxCount": 1});
        if tags != json!([]) {
            params["TagSpecifications"] = json!([{"ResourceType": "instance", "Tags": tags}]);
        }
        call("ec2", "RunInstances", params)["Instances"][0]["InstanceId"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let tag = |k: &str, v: &str| json!({"Key": k, "Value": v});
    let retagged = run(json!([
        tag("Name", "web"),
        tag("Owner", "payments"),
        tag("Team", "core")
    ]));
    let reordered = run(json!([tag("A", "1"), tag("B", "2"), tag("C", "3")]));
    let terminated = run(json!([tag("Name", "old")]));
    let queue = call(
        "sqs",
        "CreateQueue",
        json!({"QueueName": "orders", "tags": {"Owner": "payments", "Team": "core"}}),
    )["QueueUrl"]
        .as_str()
        .unwrap()
        .to_string();
    let queue_arn = call(
        "sqs",
        "GetQueueAttributes",
        json!({"QueueUrl": queue, "AttributeNames": ["QueueArn"]}),
    )["Attributes"]["QueueArn"]
        .as_str()
        .unwrap()
        .to_string();

    let spec = scan_file();
    let scan = || {
        let mut args = vec![
            "scan",
            "-s",
            spec.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--regions",
            REGION,
        ];
        if let Some(url) = postgres {
            args.extend(["--postgres", url]);
        }
        ok(&command(&moto.endpoint(), &args).output().unwrap(), "scan");
    };
    scan();
    call(
        "ec2",
        "CreateTags",
        json!({"Resources": [retagged], "Tags": [tag("Owner", "billing"), tag("Environment", "prod")]}),
    );
    call(
        "ec2",
        "DeleteTags",
        json!({"Resources": [retagged], "Tags": [{"Key": "Team"}]}),
    );
    call(
        "ec2",
        "DeleteTags",
        json!({"Resources": [reordered], "Tags": [{"Key": "A"}]}),
    );
    call(
        "ec2",
        "CreateTags",
        json!({"Resources": [reordered], "Tags": [tag("A", "1")]}),
    );
    call(
        "ec2",
        "TerminateInstances",
        json!({"InstanceIds": [terminated]}),
    );
    let launched = run(json!([]));
    call(
        "sqs",
        "TagQueue",
        json!({"QueueUrl": queue, "Tags": {"Owner": "billing"}}),
    );
    scan();
    Seeded {
        retagged,
        reordered,
        terminated,
        launched,
        queue_arn,
    }
}

/// `census diff` of the store's two scans as JSON rows, and its stderr.
fn diff(store: &[&str], extra: &[&str]) -> (Vec<Value>, String) {
    let mut args = vec!["diff", "--output", "json"];
    args.extend(store);
    args.extend(extra);
    let out = census(&args);
    let text = ok(&out, "census diff");
    let rows = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (rows, String::from_utf8(out.stderr).unwrap())
}

/// Checks the diff's rows: exactly the four changes, each with its ARN (`arns`: the
/// inventory is there) and its tag changes.
fn check(rows: &[Value], seeded: &Seeded, arns: bool) {
    let by_id: BTreeMap<&str, &Value> = rows
        .iter()
        .map(|r| (r["resource_id"].as_str().unwrap(), r))
        .collect();
    let queue_row = rows
        .iter()
        .find(|r| r["type"] == "sqs_list_queue_tags")
        .unwrap_or_else(|| panic!("no queue tag change: {rows:#?}"));
    let ids: Vec<&str> = by_id.keys().copied().collect();
    let mut want = vec![
        seeded.retagged.as_str(),
        seeded.terminated.as_str(),
        seeded.launched.as_str(),
        queue_row["resource_id"].as_str().unwrap(),
    ];
    want.sort();
    assert_eq!(ids, want, "{rows:#?}");
    assert!(!by_id.contains_key(seeded.reordered.as_str()));
    let no_tags = json!({"added": {}, "removed": {}, "changed": {}});
    let expect = |id: &str, change: &str, arn: &str, rtype: &str, name: Value, tags: Value| {
        let r = by_id[id];
        assert_eq!(r["change"], change, "{r}");
        assert_eq!(r["account_id"], MANAGEMENT_ACCOUNT_ID, "{r}");
        assert_eq!(r["region"], REGION, "{r}");
        assert_eq!(r["paths"], json!([]), "{r}");
        assert_eq!(r["tags"], tags, "{r}");
        if arns {
            assert_eq!(r["arn"], arn, "{r}");
            assert_eq!(r["resource_type"], rtype, "{r}");
            assert_eq!(r["name"], name, "{r}");
        } else {
            for column in ["arn", "resource_type", "name"] {
                assert_eq!(r[column], Value::Null, "{r}");
            }
        }
    };
    expect(
        &seeded.retagged,
        "changed",
        &instance_arn(&seeded.retagged),
        "ec2:Instance",
        json!("web"),
        json!({"added": {"Environment": "prod"}, "removed": {"Team": "core"}, "changed": {"Owner": ["payments", "billing"]}}),
    );
    // Removed: scan A's inventory row; added: scan B's.
    expect(
        &seeded.terminated,
        "removed",
        &instance_arn(&seeded.terminated),
        "ec2:Instance",
        json!("old"),
        no_tags.clone(),
    );
    expect(
        &seeded.launched,
        "added",
        &instance_arn(&seeded.launched),
        "ec2:Instance",
        Value::Null,
        no_tags,
    );
    // The detail call's change, against its queue.
    expect(
        queue_row["resource_id"].as_str().unwrap(),
        "changed",
        &seeded.queue_arn,
        "sqs:Queue",
        json!("orders"),
        json!({"added": {}, "removed": {}, "changed": {"Owner": ["payments", "billing"]}}),
    );
}

#[test]
fn diff_names_resources_by_arn_and_reports_tag_changes_on_sqlite() {
    let dir = TempDir::new("census-diff-inventory");
    let seeded = seed_and_scan_twice(&dir, None);
    let db = dir.join("census.db");
    let dbs = db.to_str().unwrap();

    // The reordered case is one: scan B's tag list has another order than scan A's.
    let order = census(&[
        "query",
        &format!(
            "SELECT scan_id, item -> '$.Tags' AS tags FROM resources WHERE resource_id = '{}' ORDER BY scan_id",
            seeded.reordered
        ),
        "--db",
        dbs,
        "--output",
        "json",
    ]);
    let order: Vec<Value> = serde_json::from_str(&ok(&order, "query")).unwrap();
    assert_eq!(order.len(), 2);
    assert_ne!(order[0]["tags"], order[1]["tags"], "{order:?}");

    let (rows, stderr) = diff(&["--db", dbs], &[]);
    check(&rows, &seeded, true);
    assert!(
        stderr.contains("1 added, 1 removed, 2 changed (2 only in their tags)"),
        "{stderr}"
    );

    // The table and CSV show the tag changes as lines, the ARN as a column.
    let table = ok(&census(&["diff", "--db", dbs]), "diff table");
    let line = table
        .lines()
        .find(|l| l.contains(&seeded.retagged))
        .unwrap();
    assert!(line.contains(&instance_arn(&seeded.retagged)), "{table}");
    assert!(
        line.contains("tag +Environment=prod, tag Owner: payments -> billing, tag -Team"),
        "{table}"
    );
    assert!(!table.contains("Tags["), "{table}");
    let csv_text = ok(
        &census(&["diff", "--db", dbs, "--output", "csv"]),
        "diff csv",
    );
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 4);
    let queue = records
        .iter()
        .find(|r| &r[column("type")] == "sqs_list_queue_tags")
        .unwrap();
    assert_eq!(&queue[column("arn")], seeded.queue_arn);
    assert_eq!(&queue[column("tags")], "tag Owner: payments -> billing");
    assert_eq!(&queue[column("paths")], "");

    // --summary: two changes, both only in their tags.
    let (summary, _) = diff(&["--db", dbs], &["--summary"]);
    let totals = summary.iter().fold([0; 4], |t, r| {
        let n = |c: &str| r[c].as_i64().unwrap();
        [
            t[0] + n("added"),
            t[1] + n("removed"),
            t[2] + n("changed"),
            t[3] + n("tags_only"),
        ]
    });
    assert_eq!(totals, [1, 1, 2, 2], "{summary:?}");

    // A database from before the inventory (schema 2): the same changes, no ARNs.
    let old = dir.join("schema2.db");
    std::fs::copy(&db, &old).unwrap();
    {
        let conn = rusqlite::Connection::open(&old).unwrap();
        conn.execute_batch(
            "DROP VIEW IF EXISTS links_latest; DROP VIEW IF EXISTS inventory_latest;
             DROP TABLE IF EXISTS links; DROP TABLE inventory; PRAGMA user_version = 2;",
        )
        .unwrap();
    }
    let (rows, _) = diff(&["--db", old.to_str().unwrap()], &[]);
    check(&rows, &seeded, false);
}

#[test]
fn diff_on_postgres_names_the_same_arns_and_tag_changes() {
    let dir = TempDir::new("census-diff-inventory-pg");
    let url = Postgres::shared().create_database("diffarn");
    let seeded = seed_and_scan_twice(&dir, Some(&url));
    let (rows, stderr) = diff(&["--postgres", &url], &[]);
    check(&rows, &seeded, true);
    let db = dir.join("census.db");
    let (sqlite_rows, sqlite_stderr) = diff(&["--db", db.to_str().unwrap()], &[]);
    assert_eq!(rows, sqlite_rows);
    assert_eq!(stderr, sqlite_stderr);

    // A database from before the inventory: the same changes, no ARNs.
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    client
        .batch_execute(
            "DROP TABLE links, inventory CASCADE; DELETE FROM census_schema;
             INSERT INTO census_schema VALUES (2);",
        )
        .unwrap();
    let (rows, _) = diff(&["--postgres", &url], &[]);
    check(&rows, &seeded, false);
}
