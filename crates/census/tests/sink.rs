//! The JSON tree sink on its own: summary.json comes from the journal (call records are
//! not kept in memory), including the calls of an interrupted run and after a torn
//! journal line.

use std::collections::BTreeMap;
use std::io::Write;

use census::account::Account;
use census::sink::tree::TreeSink;
use census::sink::{AccountReport, CallRecord, ScanInfo, Sink, Status, Totals};
use serde_json::{json, Value};
use testkit::TempDir;

fn account(id: &str, name: &str) -> AccountReport {
    AccountReport {
        account: Account {
            id: id.into(),
            name: name.into(),
            email: None,
            status: "ACTIVE".into(),
            partition: "aws".into(),
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
        regions: vec!["eu-west-1".into(), "us-east-1".into()],
        error_code: None,
        error_message: None,
        remediation: None,
        retryable: false,
    }
}

fn call(account: &str, region: &str, stem: &str, items: u64) -> CallRecord {
    let (service, function) = stem.split_once('-').unwrap();
    CallRecord {
        account_id: account.into(),
        region: region.into(),
        service: service.into(),
        function: function.into(),
        operation: "Op".into(),
        stem: stem.into(),
        status: Status::Ok,
        items,
        pages: 1,
        duration_ms: 5,
        error_code: None,
        error_message: None,
        request_id: None,
        retryable: false,
        parent: None,
        absent: 0,
        items_not_detailed: 0,
    }
}

fn info(resumed: bool) -> ScanInfo {
    ScanInfo {
        id: "20261124T000000Z".into(),
        started: "2026-11-24T00:00:00Z".into(),
        version: "0".into(),
        resumed,
        skipped_entries: Vec::new(),
    }
}

fn read(path: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// (account, region, stem, items) of every call in summary.json, in its order.
fn summary_calls(summary: &Value) -> Vec<(String, String, String, u64)> {
    let mut out = Vec::new();
    for a in summary["accounts"].as_array().unwrap() {
        for c in a["calls"].as_array().unwrap() {
            assert_eq!(c["account_id"], a["account_id"], "{c}");
            out.push((
                c["account_id"].as_str().unwrap().to_string(),
                c["region"].as_str().unwrap().to_string(),
                c["stem"].as_str().unwrap().to_string(),
                c["items"].as_u64().unwrap(),
            ));
        }
    }
    out
}

#[test]
fn summary_is_read_back_from_the_journal_across_a_torn_line_and_a_resume() {
    let out = TempDir::new("census-sink");
    let a = account("111111111111", "alpha");
    let b = account("222222222222", "beta");

    // A first run: one account, two calls, then killed while writing a line.
    let first = TreeSink::new(out.path(), "20261124T000000Z");
    first.begin(&info(false)).unwrap();
    first.account(&a).unwrap();
    first
        .call(
            &call("111111111111", "us-east-1", "sqs-list_queues", 2),
            Some(&json!({"QueueUrls": ["q1", "q2"]})),
        )
        .unwrap();
    first
        .call(
            &call("111111111111", "eu-west-1", "sqs-list_queues", 0),
            None,
        )
        .unwrap();
    drop(first);
    let journal = out.path().join("20261124T000000Z/.census/journal.jsonl");
    std::fs::OpenOptions::new()
        .append(true)
        .open(&journal)
        .unwrap()
        .write_all(br#"{"call":{"account_id":"1111"#)
        .unwrap();

    // The resumed run (which sets every account up again): the second account's calls,
    // and a call of the first account again (its later record wins).
    let second = TreeSink::new(out.path(), "20261124T000000Z");
    second.begin(&info(true)).unwrap();
    second.account(&a).unwrap();
    second.account(&b).unwrap();
    second
        .call(
            &call("222222222222", "us-east-1", "ec2-describe_vpcs", 1),
            Some(&json!({"Vpcs": [{"VpcId": "vpc-1"}]})),
        )
        .unwrap();
    second
        .call(
            &call("111111111111", "eu-west-1", "sqs-list_queues", 3),
            Some(&json!({"QueueUrls": ["a", "b", "c"]})),
        )
        .unwrap();
    second
        .call(
            &call("222222222222", "eu-west-1", "ec2-describe_vpcs", 0),
            Some(&json!({"Vpcs": []})),
        )
        .unwrap();
    let totals = Totals {
        accounts: 2,
        accounts_failed: 0,
        calls: 4,
        calls_failed: 0,
        items: 6,
        pages: 4,
        absent: 0,
    };
    second
        .finish(&info(true), &totals, &[a.clone(), b.clone()])
        .unwrap();

    let root = out.path().join("20261124T000000Z");
    let summary = read(&root.join("summary.json"));
    assert_eq!(summary["totals"], serde_json::to_value(&totals).unwrap());
    assert_eq!(summary["scan"]["resumed"], true);
    let ids: Vec<&str> = summary["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["account_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["111111111111", "222222222222"]);
    assert_eq!(summary["accounts"][1]["account_name"], "beta");
    let calls = summary_calls(&summary);
    let expect =
        |a: &str, r: &str, s: &str, n: u64| (a.to_string(), r.to_string(), s.to_string(), n);
    assert_eq!(
        calls,
        [
            expect("111111111111", "eu-west-1", "sqs-list_queues", 3),
            expect("111111111111", "us-east-1", "sqs-list_queues", 2),
            expect("222222222222", "eu-west-1", "ec2-describe_vpcs", 0),
            expect("222222222222", "us-east-1", "ec2-describe_vpcs", 1),
        ]
    );
    // The line after the torn one was read: the journal has every call.
    let calls_read = TreeSink::read_journal(&root)
        .unwrap()
        .into_iter()
        .filter(|e| matches!(e, census::sink::tree::Entry::Call(_)))
        .count();
    assert_eq!(calls_read, 5);
    // And the account lines read back too (the report's `scan_status` beside the
    // account's Organizations `status`), so --resume sees the accounts set up before.
    let accounts_read = TreeSink::read_journal(&root)
        .unwrap()
        .into_iter()
        .filter(|e| matches!(e, census::sink::tree::Entry::Account(_)))
        .count();
    assert!(
        accounts_read >= 2,
        "{accounts_read} account lines read back"
    );
    // The result files and accounts.json.
    assert_eq!(
        read(&root.join("111111111111-alpha/eu-west-1/sqs-list_queues.json")),
        json!({"QueueUrls": ["a", "b", "c"]})
    );
    let accounts = read(&root.join("accounts.json"));
    assert_eq!(accounts.as_array().unwrap().len(), 2);
    assert_eq!(accounts[0]["id"], "111111111111");
}

/// ec2 DescribeInstances written through the SQLite sink: one `inventory` row per
/// instance (no reservations), with ARNs in each account's partition; detail calls add
/// none, and a call written again replaces its rows. A database of schema 2 gains the
/// table.
#[test]
fn the_sqlite_sink_writes_the_inventory() {
    use census::sink::sql::schema::{ddl, Db};
    use census::sink::sqlite::SqliteSink;

    let out = TempDir::new("census-sink-inventory");
    let db = out.path().join("census.db");
    // A database of schema 2: everything but the inventory table.
    {
        let v3 = ddl(Db::Sqlite);
        let v2 = &v3[..v3.find("CREATE TABLE IF NOT EXISTS inventory").unwrap()];
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(v2).unwrap();
        conn.pragma_update(None, "user_version", 2).unwrap();
    }
    let instances: Value = serde_json::from_str(include_str!(
        "../src/inventory/fixtures/ec2_DescribeInstances.json"
    ))
    .unwrap();
    let record = |account: &str, region: &str| CallRecord {
        function: "describe_instances".into(),
        operation: "DescribeInstances".into(),
        ..call(account, region, "ec2-describe_instances", 2)
    };
    let aws = account("111111111111", "alpha");
    let mut cn = account("222222222222", "china");
    cn.account.partition = "aws-cn".into();

    let sink = SqliteSink::open(&db).unwrap();
    sink.begin(&info(false)).unwrap();
    sink.account(&aws).unwrap();
    sink.account(&cn).unwrap();
    sink.call(&record("111111111111", "us-east-1"), Some(&instances))
        .unwrap();
    sink.call(&record("222222222222", "cn-north-1"), Some(&instances))
        .unwrap();
    // Written again: the earlier rows go.
    sink.call(&record("111111111111", "eu-west-1"), Some(&instances))
        .unwrap();
    sink.call(
        &record("111111111111", "eu-west-1"),
        Some(&json!({"Reservations": []})),
    )
    .unwrap();
    let mut detail = call(
        "111111111111",
        "us-east-1",
        "ec2-describe_instance_attribute",
        1,
    );
    detail.operation = "DescribeInstances".into();
    detail.parent = Some("ec2-describe_instances".into());
    sink.call(&detail, Some(&instances)).unwrap();
    sink.finish(&info(false), &Totals::default(), &[aws, cn])
        .unwrap();
    drop(sink);

    let conn = rusqlite::Connection::open(&db).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, census::store::SCHEMA_VERSION);
    let rows: Vec<(String, String, String, String, String)> = conn
        .prepare(
            "select resource_type, arn, name, tags, source from inventory
             order by account_id, arn",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let ids: Vec<String> = instances["Reservations"][0]["Instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["InstanceId"].as_str().unwrap().to_string())
        .collect();
    let mut want = Vec::new();
    for prefix in [
        "arn:aws:ec2:us-east-1:111111111111",
        "arn:aws-cn:ec2:cn-north-1:222222222222",
    ] {
        let mut arns: Vec<String> = ids
            .iter()
            .map(|id| format!("{prefix}:instance/{id}"))
            .collect();
        arns.sort();
        for arn in arns {
            want.push((
                "ec2:Instance".to_string(),
                arn,
                "web-1".to_string(),
                r#"{"Name":"web-1","Owner":"payments"}"#.to_string(),
                "ec2-describe_instances".to_string(),
            ));
        }
    }
    assert_eq!(rows, want);
    let (cfn, service): (String, String) = conn
        .query_row("select cfn_type, service from inventory limit 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(
        (cfn.as_str(), service.as_str()),
        ("AWS::EC2::Instance", "ec2")
    );
    let latest: Vec<(String, i64)> = conn
        .prepare(
            "select account_name, count(*) from inventory_latest
             group by account_name order by 1",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(latest, [("alpha".to_string(), 2), ("china".to_string(), 2)]);
}
