//! `census report accounts` and `census scan --s3-upload` end to end against moto: the
//! binary run as a user runs it, the CSVs checked against what was seeded, the objects
//! read back from moto's S3.
//!
//! What moto can and cannot show: the tagging API lists only tagged resources, leaves
//! IAM out and returns every S3 bucket of an account in every region (the report asks
//! S3 for such buckets' regions); AssumeRole never fails, so a role that cannot be
//! assumed comes from the fault proxy; a second organization needs a second
//! management account, which moto gives to any account id that is in no organization
//! yet (here 210987654321, entered through AssumeRole).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use serde_json::{json, Value};
use testkit::{
    boto3_call, cli_command, seed_demo_org, shared_demo_org, Action, Caller, DemoOrg, FaultProxy,
    Manifest, Match, Moto, Protocol, Reply, Rule, TempDir,
};

const COLUMNS: [&str; 12] = [
    "Account_Id",
    "Account_Name",
    "Org_ID",
    "Tenant_Name",
    "CSP",
    "Billing_Account_State",
    "Region_Group",
    "Regions",
    "Tenant_ID",
    "Environment",
    "Aide_ID",
    "Notes",
];

/// The account id moto lets become the management account of a second organization.
const SECOND_MANAGEMENT: &str = "210987654321";

fn temp_dir(name: &str) -> TempDir {
    TempDir::new(&format!("census-report-{name}"))
}

/// Runs census in `cwd` with fake credentials and every call sent to `endpoint`.
fn census(endpoint: &str, cwd: &Path, args: &[&str]) -> Output {
    cli_command(env!("CARGO_BIN_EXE_census"), endpoint)
        .args(args)
        .current_dir(cwd)
        .env("AWS_MAX_ATTEMPTS", "2")
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// The CSV files in `dir`, by name.
fn csv_files(dir: &Path) -> BTreeMap<String, PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "csv"))
                .map(|p| (p.file_name().unwrap().to_string_lossy().to_string(), p))
                .collect()
        })
        .unwrap_or_default()
}

/// A report's rows by account id, each a map column -> cell; checks the header.
fn read_report(path: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, COLUMNS, "{}", path.display());
    let mut rows = BTreeMap::new();
    let mut order = Vec::new();
    for record in reader.records() {
        let record = record.unwrap();
        let row: BTreeMap<String, String> = header
            .iter()
            .cloned()
            .zip(record.iter().map(String::from))
            .collect();
        order.push(row["Account_Id"].clone());
        assert!(
            rows.insert(row["Account_Id"].clone(), row).is_none(),
            "an account twice"
        );
    }
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "rows sorted by account id");
    rows
}

/// The report file name's shape; returns the timestamp.
fn report_timestamp(name: &str, management: &str) -> String {
    let prefix = format!("aws-{management}-account-metadata-report-");
    let ts = name
        .strip_prefix(&prefix)
        .and_then(|r| r.strip_suffix(".csv"))
        .unwrap_or_else(|| {
            panic!("{name} is not aws-{management}-account-metadata-report-<ts>.csv")
        });
    assert_eq!(ts.len(), 16, "{ts}");
    assert!(
        chrono::NaiveDateTime::parse_from_str(ts, "%Y%m%dT%H%M%SZ").is_ok(),
        "{ts}"
    );
    ts.to_string()
}

fn mgmt() -> Caller {
    Caller::management()
}

fn member(id: &str, region: &str) -> Caller {
    Caller::member(id).in_region(region)
}

fn tag(key: &str, value: &str) -> Value {
    json!([{ "Key": key, "Value": value }])
}

/// Every object key in a bucket, with its content (base64, as boto3 output is here).
fn bucket_objects(endpoint: &str, bucket: &str) -> BTreeMap<String, String> {
    let listed = boto3_call(
        endpoint,
        &mgmt(),
        "s3",
        "ListObjectsV2",
        &json!({ "Bucket": bucket }),
        true,
    );
    let mut out = BTreeMap::new();
    for o in listed["Contents"].as_array().into_iter().flatten() {
        let key = o["Key"].as_str().unwrap().to_string();
        let got = boto3_call(
            endpoint,
            &mgmt(),
            "s3",
            "GetObject",
            &json!({ "Bucket": bucket, "Key": key }),
            false,
        );
        out.insert(key, got["Body"].as_str().unwrap().to_string());
    }
    out
}

fn encryption(endpoint: &str, bucket: &str, key: &str) -> String {
    boto3_call(
        endpoint,
        &mgmt(),
        "s3",
        "HeadObject",
        &json!({ "Bucket": bucket, "Key": key }),
        false,
    )["ServerSideEncryption"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn account<'a>(m: &'a Manifest, name: &str) -> &'a testkit::Account {
    m.account_named(name)
        .unwrap_or_else(|| panic!("no account {name}"))
}

#[test]
fn report_rows_tags_regions_and_groups_match_the_seed() {
    let moto = Moto::start();
    let ep = moto.endpoint();
    // prod-01 gets the seed's resources (us-east-1, eu-west-1, ap-southeast-2);
    // shared-05 is closed.
    let m = seed_demo_org(
        &moto,
        &DemoOrg {
            members: 5,
            resource_accounts: 1,
            suspended: 1,
            iam_roles: 1,
            ..DemoOrg::default()
        },
    );
    let prod = account(&m, "prod-01").id.clone();
    let dev = account(&m, "dev-02").id.clone();
    let sandbox = account(&m, "sandbox-03").id.clone();
    let workloads = account(&m, "workloads-04").id.clone();
    let closed = account(&m, "shared-05").id.clone();

    // dev-02: us-west-2, us-east-2 (group US) and ap-southeast-2 (no group): US.
    boto3_call(
        &ep,
        &member(&dev, "us-west-2"),
        "ec2",
        "CreateVpc",
        &json!({"CidrBlock": "10.9.0.0/16",
                "TagSpecifications": [{"ResourceType": "vpc", "Tags": tag("Name", "dev")}]}),
        false,
    );
    boto3_call(
        &ep,
        &member(&dev, "us-east-2"),
        "sqs",
        "CreateQueue",
        &json!({"QueueName": "jobs", "tags": {"team": "dev"}}),
        false,
    );
    boto3_call(
        &ep,
        &member(&dev, "ap-southeast-2"),
        "sns",
        "CreateTopic",
        &json!({"Name": "alerts", "Tags": tag("team", "dev")}),
        false,
    );
    // sandbox-03: ap-south-1 only, which no group has: no group.
    boto3_call(
        &ep,
        &member(&sandbox, "ap-south-1"),
        "logs",
        "CreateLogGroup",
        &json!({"logGroupName": "sandbox", "tags": {"team": "sandbox"}}),
        false,
    );
    // workloads-04: one tagged bucket in eu-west-2 (a region-less ARN that moto returns
    // in every region): UK.
    let uk_bucket = format!("uk-data-{workloads}");
    boto3_call(
        &ep,
        &member(&workloads, "eu-west-2"),
        "s3",
        "CreateBucket",
        &json!({"Bucket": uk_bucket,
                "CreateBucketConfiguration": {"LocationConstraint": "eu-west-2"}}),
        false,
    );
    boto3_call(
        &ep,
        &member(&workloads, "eu-west-2"),
        "s3",
        "PutBucketTagging",
        &json!({"Bucket": uk_bucket, "Tagging": {"TagSet": tag("team", "workloads")}}),
        false,
    );
    // Aide_ID under the default key, and under an alternative one.
    boto3_call(
        &ep,
        &mgmt(),
        "organizations",
        "TagResource",
        &json!({"ResourceId": prod, "Tags": tag("Aide_ID", "AIDE-100")}),
        false,
    );
    boto3_call(
        &ep,
        &mgmt(),
        "organizations",
        "TagResource",
        &json!({"ResourceId": dev, "Tags": tag("AideId", "AIDE-200")}),
        false,
    );
    boto3_call(
        &ep,
        &mgmt(),
        "s3",
        "CreateBucket",
        &json!({"Bucket": "census-reports"}),
        false,
    );

    let dir = temp_dir("seed");
    let out = census(
        &ep,
        &dir,
        &[
            "report",
            "accounts",
            "--tenant-name",
            "Acme",
            "--tenant-id",
            "T-1",
            "--s3-bucket",
            "census-reports",
            "--s3-prefix",
            "metadata/daily/",
            "--local-dir",
            "out",
        ],
    );
    let err = stderr(&out);
    assert_eq!(code(&out), 0, "{err}");
    let files = csv_files(&dir.join("out"));
    assert_eq!(files.len(), 1, "{files:?}");
    let (name, path) = files.iter().next().unwrap();
    report_timestamp(name, &m.management_account_id);
    let rows = read_report(path);

    // One row per account of the organization, the closed one included.
    let ids: BTreeSet<&String> = m.accounts.iter().map(|a| &a.id).collect();
    assert_eq!(rows.keys().collect::<BTreeSet<_>>(), ids);
    let expected_regions = |id: &str| -> (String, String) {
        match id {
            x if x == prod => ("ap-southeast-2,eu-west-1,us-east-1".into(), "multi".into()),
            x if x == dev => ("ap-southeast-2,us-east-2,us-west-2".into(), "US".into()),
            x if x == sandbox => ("ap-south-1".into(), String::new()),
            x if x == workloads => ("eu-west-2".into(), "UK".into()),
            _ => (String::new(), String::new()),
        }
    };
    // prod-01's regions are exactly the seed's.
    let seeded: BTreeSet<&String> = m.resources[&prod]
        .keys()
        .filter(|r| *r != "global")
        .collect();
    assert_eq!(
        seeded
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(","),
        expected_regions(&prod).0
    );
    for a in &m.accounts {
        let row = &rows[&a.id];
        let (regions, group) = expected_regions(&a.id);
        assert_eq!(row["Account_Name"], a.name, "{row:?}");
        assert_eq!(row["Org_ID"], m.organization_id, "{row:?}");
        assert_eq!(row["Tenant_Name"], "Acme");
        assert_eq!(row["Tenant_ID"], "T-1");
        assert_eq!(row["CSP"], "AWS");
        assert_eq!(row["Billing_Account_State"], a.status, "{row:?}");
        assert_eq!(row["Regions"], regions, "{} {row:?}", a.name);
        assert_eq!(row["Region_Group"], group, "{} {row:?}", a.name);
        if a.id != closed {
            assert_eq!(
                row["Environment"],
                a.tags.get("Environment").cloned().unwrap_or_default(),
                "{row:?}"
            );
            assert_eq!(row["Notes"], "", "{row:?}");
        }
    }
    assert_eq!(rows[&prod]["Aide_ID"], "AIDE-100");
    assert_eq!(rows[&dev]["Aide_ID"], "AIDE-200");
    assert_eq!(rows[&sandbox]["Aide_ID"], "");
    assert_eq!(rows[&closed]["Billing_Account_State"], "SUSPENDED");
    assert!(
        rows[&closed]["Notes"].contains("SUSPENDED"),
        "{:?}",
        rows[&closed]
    );

    // The same bytes in moto's S3, under the prefix, encrypted.
    let objects = bucket_objects(&ep, "census-reports");
    let key = format!("metadata/daily/{name}");
    assert_eq!(objects.keys().collect::<Vec<_>>(), [&key]);
    assert_eq!(objects[&key], b64(&std::fs::read(path).unwrap()));
    assert_eq!(encryption(&ep, "census-reports", &key), "AES256");
    assert!(err.contains(&format!("s3://census-reports/{key}")), "{err}");
}

#[test]
fn a_failing_account_keeps_its_row_with_its_error() {
    let moto = Moto::start();
    let m = seed_demo_org(
        &moto,
        &DemoOrg {
            members: 4,
            resource_accounts: 1,
            iam_roles: 1,
            ..DemoOrg::default()
        },
    );
    let proxy = FaultProxy::start(&moto);
    let denied = account(&m, "dev-02").id.clone();
    let slow = account(&m, "sandbox-03").id.clone();
    proxy.add(Rule::new(
        Match::any()
            .form_action("AssumeRole")
            .body_contains(&denied),
        Action::Reply(Reply::access_denied(Protocol::Query)),
    ));
    proxy.add(Rule::new(
        Match::any().form_action("AssumeRole").body_contains(&slow),
        Action::delay(Duration::from_secs(8), Action::Forward),
    ));
    let dir = temp_dir("failing");
    let out = census(
        &proxy.endpoint(),
        &dir,
        &[
            "report",
            "accounts",
            "--regions",
            "us-east-1,eu-west-1",
            "--account-timeout",
            "3",
            "--local-dir",
            ".",
        ],
    );
    let err = stderr(&out);
    assert_eq!(code(&out), 2, "{err}");
    let files = csv_files(&dir);
    let rows = read_report(files.values().next().unwrap());
    assert_eq!(rows.len(), m.accounts.len());
    for a in &m.accounts {
        let row = &rows[&a.id];
        // What Organizations says is there whatever happened in the account.
        assert_eq!(row["Account_Name"], a.name);
        assert_eq!(row["Billing_Account_State"], "ACTIVE");
        assert_eq!(
            row["Environment"],
            a.tags.get("Environment").cloned().unwrap_or_default()
        );
        let notes = &row["Notes"];
        if a.id == denied {
            assert!(notes.contains("AccessDenied"), "{notes}");
            assert!(err.contains(&format!("account {denied} (dev-02)")), "{err}");
        } else if a.id == slow {
            assert!(notes.contains("timed out after 3s"), "{notes}");
        } else {
            assert_eq!(notes, "", "{row:?}");
        }
    }
    // Only two regions were searched, but moto's tagging API returns the account's
    // ap-southeast-2 bucket in both, and S3 tells where it is.
    let prod = account(&m, "prod-01");
    assert_eq!(
        rows[&prod.id]["Regions"],
        "ap-southeast-2,eu-west-1,us-east-1"
    );
    assert_eq!(rows[&prod.id]["Region_Group"], "multi");
    assert!(err.contains("2 with errors"), "{err}");

    // An upload that fails keeps the local report, and is one error, status 1.
    boto3_call(
        &moto.endpoint(),
        &mgmt(),
        "s3",
        "CreateBucket",
        &json!({"Bucket": "locked-reports"}),
        false,
    );
    proxy.add(Rule::new(
        Match::any().method("PUT"),
        Action::Reply(Reply::access_denied(Protocol::RestXml)),
    ));
    let dir = temp_dir("failing-upload");
    let out = census(
        &proxy.endpoint(),
        &dir,
        &[
            "report",
            "accounts",
            "--regions",
            "us-east-1",
            "--s3-bucket",
            "locked-reports",
            "--local-dir",
            "kept",
        ],
    );
    let err = stderr(&out);
    assert_eq!(code(&out), 1, "{err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.contains("error:")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(errors[0].contains("AccessDenied"), "{err}");
    assert!(errors[0].contains("the local file is kept"), "{err}");
    let files = csv_files(&dir.join("kept"));
    assert_eq!(files.len(), 1, "{err}");
    assert_eq!(
        read_report(files.values().next().unwrap()).len(),
        m.accounts.len()
    );
}

#[test]
fn a_tenants_table_with_two_organizations_gives_two_reports() {
    let moto = Moto::start();
    let ep = moto.endpoint();
    let m = seed_demo_org(
        &moto,
        &DemoOrg {
            members: 2,
            resource_accounts: 0,
            iam_roles: 0,
            ..DemoOrg::default()
        },
    );
    // The second organization: its own management account, two members.
    let second = Caller::member(SECOND_MANAGEMENT);
    let org2 = boto3_call(
        &ep,
        &second,
        "organizations",
        "CreateOrganization",
        &json!({"FeatureSet": "ALL"}),
        false,
    )["Organization"]["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut org2_accounts = BTreeMap::from([(SECOND_MANAGEMENT.to_string(), "master".to_string())]);
    for (name, env) in [("globex-prod", "prod"), ("globex-dev", "dev")] {
        let made = boto3_call(
            &ep,
            &second,
            "organizations",
            "CreateAccount",
            &json!({"AccountName": name, "Email": format!("{name}@globex.example"),
                    "Tags": [{"Key": "Environment", "Value": env},
                             {"Key": "Aide_ID", "Value": format!("AIDE-{name}")}]}),
            false,
        );
        org2_accounts.insert(
            made["CreateAccountStatus"]["AccountId"]
                .as_str()
                .unwrap()
                .to_string(),
            name.to_string(),
        );
    }
    let globex_prod = org2_accounts
        .iter()
        .find(|(_, n)| *n == "globex-prod")
        .unwrap()
        .0
        .clone();
    boto3_call(
        &ep,
        &member(&globex_prod, "sa-east-1"),
        "sns",
        "CreateTopic",
        &json!({"Name": "orders", "Tags": tag("team", "globex")}),
        false,
    );
    // The tenants table: the first organization by its management account id, the
    // second by its role ARN.
    boto3_call(
        &ep,
        &mgmt(),
        "dynamodb",
        "CreateTable",
        &json!({"TableName": "tenants",
                "AttributeDefinitions": [{"AttributeName": "tenant_id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "tenant_id", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST"}),
        false,
    );
    for item in [
        json!({"tenant_id": {"S": "T-1"}, "tenant_name": {"S": "Acme"},
               "management_account_id": {"S": m.management_account_id}}),
        json!({"tenant_id": {"S": "T-2"}, "tenant_name": {"S": "Globex"},
               "org_role_arn": {"S": format!("arn:aws:iam::{SECOND_MANAGEMENT}:role/OrganizationAccountAccessRole")}}),
    ] {
        boto3_call(
            &ep,
            &mgmt(),
            "dynamodb",
            "PutItem",
            &json!({"TableName": "tenants", "Item": item}),
            false,
        );
    }
    boto3_call(
        &ep,
        &mgmt(),
        "s3",
        "CreateBucket",
        &json!({"Bucket": "tenant-reports"}),
        false,
    );

    // The table, bucket and role name come from .env; the proxy shows which roles
    // were assumed.
    let proxy = FaultProxy::start(&moto);
    let dir = temp_dir("tenants");
    std::fs::write(
        dir.join(".env"),
        "DYNAMO_TABLE_NAME=tenants\nOUTPUT_BUCKET=tenant-reports\nCROSS_ACCOUNT_ROLE_NAME=CensusReader\n",
    )
    .unwrap();
    let out = census(
        &proxy.endpoint(),
        &dir,
        &[
            "report",
            "accounts",
            "--regions",
            "us-east-1,sa-east-1",
            "--local-dir",
            "reports",
        ],
    );
    let err = stderr(&out);
    assert_eq!(code(&out), 0, "{err}");
    let files = csv_files(&dir.join("reports"));
    assert_eq!(files.len(), 2, "{files:?}");
    let mut timestamps = BTreeSet::new();
    let mut by_management = BTreeMap::new();
    for (name, path) in &files {
        let management = name
            .trim_start_matches("aws-")
            .split('-')
            .next()
            .unwrap()
            .to_string();
        timestamps.insert(report_timestamp(name, &management));
        by_management.insert(management, read_report(path));
    }
    assert_eq!(timestamps.len(), 1, "one timestamp per run");

    let acme = &by_management[&m.management_account_id];
    assert_eq!(
        acme.keys().collect::<BTreeSet<_>>(),
        m.accounts.iter().map(|a| &a.id).collect()
    );
    for row in acme.values() {
        assert_eq!(row["Org_ID"], m.organization_id);
        assert_eq!(
            (row["Tenant_Name"].as_str(), row["Tenant_ID"].as_str()),
            ("Acme", "T-1")
        );
        assert_eq!(row["Notes"], "", "{row:?}");
    }
    let globex = &by_management[SECOND_MANAGEMENT];
    assert_eq!(
        globex
            .iter()
            .map(|(id, r)| (id.clone(), r["Account_Name"].clone()))
            .collect::<BTreeMap<_, _>>(),
        org2_accounts
    );
    for row in globex.values() {
        assert_eq!(row["Org_ID"], org2);
        assert_eq!(
            (row["Tenant_Name"].as_str(), row["Tenant_ID"].as_str()),
            ("Globex", "T-2")
        );
        assert_eq!(row["Notes"], "", "{row:?}");
    }
    let gp = &globex[&globex_prod];
    assert_eq!(
        (gp["Environment"].as_str(), gp["Aide_ID"].as_str()),
        ("prod", "AIDE-globex-prod")
    );
    assert_eq!(
        (gp["Regions"].as_str(), gp["Region_Group"].as_str()),
        ("sa-east-1", "BR")
    );

    // CROSS_ACCOUNT_ROLE_NAME named the roles in the first organization's accounts.
    let assumed: Vec<String> = proxy
        .requests_matching(&Match::any().form_action("AssumeRole"))
        .iter()
        .map(|r| r.body_str())
        .collect();
    let member = m.members().next().unwrap();
    assert!(
        assumed
            .iter()
            .any(|b| b.contains(&member.id) && b.contains("CensusReader")),
        "{assumed:?}"
    );
    // Both reports in the bucket, at its top.
    let objects = bucket_objects(&ep, "tenant-reports");
    assert_eq!(
        objects.keys().collect::<BTreeSet<_>>(),
        files.keys().collect::<BTreeSet<_>>()
    );
}

#[test]
fn an_unreachable_bucket_is_one_clear_error_before_any_work() {
    let (moto, _) = shared_demo_org();
    let ep = moto.endpoint();
    let dir = temp_dir("no-bucket");
    let out = census(
        &ep,
        &dir,
        &[
            "report",
            "accounts",
            "--s3-bucket",
            "census-no-such-bucket",
            "--local-dir",
            "out",
        ],
    );
    let err = stderr(&out);
    assert_eq!(code(&out), 1, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("census: error: cannot upload to s3://census-no-such-bucket: NoSuchBucket"),
        "{err}"
    );
    assert!(err.contains("the bucket does not exist"), "{err}");
    assert!(csv_files(&dir.join("out")).is_empty());

    let out = census(
        &ep,
        &dir,
        &[
            "scan",
            "--org",
            "--regions",
            "us-east-1",
            "-o",
            "scans",
            "--s3-upload",
            "s3://census-no-such-bucket/nightly",
        ],
    );
    let err = stderr(&out);
    assert_eq!(code(&out), 1, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("s3://census-no-such-bucket/nightly: NoSuchBucket"),
        "{err}"
    );
    assert!(!dir.join("scans").exists(), "no scan was made");

    // Malformed locations are caught offline.
    let out = census(&ep, &dir, &["scan", "--s3-upload", "census-bucket/x"]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("--s3-upload: \"census-bucket/x\" is not an S3 URL"),
        "{}",
        stderr(&out)
    );
}

/// Bytes as base64, the way boto3 blobs are printed here.
fn b64(bytes: &[u8]) -> String {
    awsdyn::protocol::blob_output(bytes)
        .as_str()
        .unwrap()
        .to_string()
}

/// Every file under `root`, relative, with `/`, and its content in base64.
fn tree_files(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                let rel = p
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, b64(&std::fs::read(&p).unwrap()));
            }
        }
    }
    out
}

#[test]
fn a_scan_tree_is_uploaded_encrypted_and_kept_when_the_upload_fails() {
    let moto = Moto::start();
    let ep = moto.endpoint();
    seed_demo_org(
        &moto,
        &DemoOrg {
            members: 2,
            resource_accounts: 1,
            iam_roles: 1,
            ..DemoOrg::default()
        },
    );
    boto3_call(
        &ep,
        &mgmt(),
        "s3",
        "CreateBucket",
        &json!({"Bucket": "scan-archive"}),
        false,
    );
    let spec = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scans/inventory.json");
    let spec = spec.to_str().unwrap();
    let dir = temp_dir("scan-upload");
    let args = |out: &str| {
        vec![
            "scan".to_string(),
            "--org".into(),
            "--scan".into(),
            spec.into(),
            "--regions".into(),
            "us-east-1".into(),
            "-o".into(),
            out.into(),
            "--s3-upload".into(),
            "s3://scan-archive/nightly".into(),
        ]
    };
    let argv = args("ok");
    let out = census(
        &ep,
        &dir,
        &argv.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let err = stderr(&out);
    assert!(code(&out) == 0 || code(&out) == 2, "{err}");
    let scans: Vec<PathBuf> = std::fs::read_dir(dir.join("ok"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(scans.len(), 1);
    let scan_id = scans[0].file_name().unwrap().to_string_lossy().to_string();
    let local = tree_files(&scans[0]);
    assert!(local.contains_key("summary.json"), "{local:?}");
    assert!(local.len() > 5, "{local:?}");
    let mut expected: BTreeMap<String, String> = local
        .into_iter()
        .map(|(rel, body)| (format!("nightly/{scan_id}/{rel}"), body))
        .collect();
    // The SQLite store, when the scan wrote one, goes next to the scan folders.
    let db = dir.join("ok/census.db");
    if db.is_file() {
        expected.insert(
            "nightly/census.db".into(),
            b64(&std::fs::read(&db).unwrap()),
        );
    }
    let objects = bucket_objects(&ep, "scan-archive");
    assert_eq!(
        objects.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    assert!(
        objects == expected,
        "object contents differ from the local files"
    );
    for key in expected.keys().take(3) {
        assert_eq!(encryption(&ep, "scan-archive", key), "AES256", "{key}");
    }
    assert!(
        err.contains(&format!("to s3://scan-archive/nightly/{scan_id}")),
        "{err}"
    );

    // Writes refused: the scan completes, the upload is one error, the files stay.
    let proxy = FaultProxy::start(&moto);
    proxy.add(Rule::new(
        Match::any().method("PUT"),
        Action::Reply(Reply::access_denied(Protocol::RestXml)),
    ));
    let argv = args("denied");
    let out = census(
        &proxy.endpoint(),
        &dir,
        &argv.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let err = stderr(&out);
    assert_eq!(code(&out), 1, "{err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(errors[0].contains("AccessDenied"), "{err}");
    assert!(errors[0].contains("grant s3:PutObject"), "{err}");
    assert!(errors[0].contains("every file is still in"), "{err}");
    let kept: Vec<PathBuf> = std::fs::read_dir(dir.join("denied"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(kept.len(), 1);
    assert!(kept[0].join("summary.json").is_file());
    assert!(
        err.contains("census: scanned"),
        "the scan completed first: {err}"
    );
}

/// Bytes that are not UTF-8 (a SQLite file, say) go up unchanged, encrypted.
#[test]
fn binary_files_are_uploaded_byte_for_byte() {
    use aws_credential_types::provider::SharedCredentialsProvider;
    use aws_credential_types::Credentials;

    let moto = Moto::shared();
    let ep = moto.endpoint();
    boto3_call(
        &ep,
        &mgmt(),
        "s3",
        "CreateBucket",
        &json!({"Bucket": "census-binary-upload"}),
        false,
    );
    let dir = temp_dir("binary");
    let mut bytes: Vec<u8> = b"SQLite format 3\0".to_vec();
    bytes.extend((0..=255u8).cycle().take(70_000));
    let file = dir.join("census.db");
    std::fs::write(&file, &bytes).unwrap();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let endpoints = awsdyn::client::EndpointSettings {
            url: Some(ep.clone()),
            ..Default::default()
        };
        let base = census::auth::Base::new(
            SharedCredentialsProvider::new(Credentials::new(
                "AKIDBINARY",
                "secret",
                None,
                None,
                "test",
            )),
            Some("us-east-1".into()),
            endpoints,
        );
        let client = awsdyn::client::Client::new(Default::default()).unwrap();
        let url = census::sink::s3::S3Url::parse("s3://census-binary-upload/db").unwrap();
        let bucket = census::sink::s3::Bucket::open(&client, &base, url, None)
            .await
            .unwrap();
        assert_eq!(bucket.region(), "us-east-1");
        bucket.put_file(&file, "db/census.db").await.unwrap();
        bucket.put_file(&file, "db/again/census.db").await.unwrap();
    });
    let objects = bucket_objects(&ep, "census-binary-upload");
    assert_eq!(objects.len(), 2);
    assert_eq!(objects["db/census.db"], b64(&bytes));
    assert_eq!(
        encryption(&ep, "census-binary-upload", "db/census.db"),
        "AES256"
    );
}
