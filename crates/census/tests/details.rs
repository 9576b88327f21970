//! Detail calls end to end against moto: `census scan --preset core` over resources
//! configured every way the curated details read (`python/seed_details.py`), every
//! detail result replayed with boto3 (`python/replay_details.py`) and compared, the
//! seeded values found where they belong; the scan-file syntax (`"details": "auto"`,
//! a detail of another service, `$details`, constant strings, result keys); and bad
//! detail entries refused before any call.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{json, Value};
use testkit::{cli_command, read_json, scan_root, Moto, TempDir, FAKE_SECRET_ACCESS_KEY};

/// What moto 5.2.5 cannot serve in the core preset: it answers ssm
/// DescribeInstanceInformation with HTTP 500, and DescribeOrganization fails for an
/// account that is in no organization (the seed makes none).
const SKIPS: &str = "ssm:DescribeInstanceInformation,organizations:DescribeOrganization";

fn scans_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scans")
}

fn census(endpoint: &str, args: &[&str]) -> Output {
    cli_command(env!("CARGO_BIN_EXE_census"), endpoint)
        .args(args)
        .output()
        .unwrap()
}

/// moto without its thousands of default AMIs, seeded by `seed_details.py`.
fn seeded_moto() -> (Moto, Value) {
    let moto = Moto::start_with(&[("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")]);
    let manifest = moto.python("seed_details.py", &[], &[]);
    (moto, manifest)
}

/// Runs `census scan <args> --regions us-east-1 -o <out>`, asserts exit status 0 and
/// returns the scan folder.
fn scan_ok(moto: &Moto, out: &Path, args: &[&str]) -> PathBuf {
    let mut argv = vec!["scan"];
    argv.extend_from_slice(args);
    argv.extend_from_slice(&["--regions", "us-east-1", "-o", out.to_str().unwrap()]);
    let result = census(&moto.endpoint(), &argv);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(
        result.status.code(),
        Some(0),
        "census {argv:?} exited {:?}:\n{stderr}",
        result.status
    );
    assert!(!stderr.contains(FAKE_SECRET_ACCESS_KEY));
    scan_root(out)
}

/// The folder of the one account (moto's 123456789012) in the scan.
fn account_dir(root: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("123456789012")
        })
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

/// The elements of a detail file, `<account>/<label>/<stem>.json`.
fn elements(root: &Path, label: &str, stem: &str) -> Vec<Value> {
    let path = account_dir(root).join(label).join(format!("{stem}.json"));
    match read_json(&path) {
        Value::Array(a) => a,
        other => panic!("{}: an array expected, got {other}", path.display()),
    }
}

/// The element of a detail file whose computed parameter `name` is `value`.
fn element(root: &Path, label: &str, stem: &str, name: &str, value: &Value) -> Value {
    let all = elements(root, label, stem);
    let found: Vec<&Value> = all
        .iter()
        .filter(|e| &e["parameters"][name] == value)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{label}/{stem}: one element with {name} = {value} expected in {all:#?}"
    );
    found[0].clone()
}

/// The `result` of an element; panics, showing it, when it is absent or an error.
fn result(e: &Value) -> &Value {
    e.get("result")
        .unwrap_or_else(|| panic!("a result expected: {e:#}"))
}

fn assert_absent(e: &Value, code: &str) {
    assert_eq!(e["absent"]["code"], code, "absent {code} expected: {e:#}");
    assert!(
        e.get("result").is_none() && e.get("error").is_none(),
        "{e:#}"
    );
}

/// The detail calls of summary.json (those with a `parent`).
fn detail_calls(root: &Path) -> Vec<Value> {
    read_json(&root.join("summary.json"))["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["calls"].as_array().unwrap().clone())
        .filter(|c| c.get("parent").is_some_and(|p| !p.is_null()))
        .collect()
}

/// Replays every detail call with boto3 and asserts that every element matches and
/// every detail file has one element per parent item; returns the replay's report.
fn replay(moto: &Moto, root: &Path) -> Value {
    let report = moto.python("replay_details.py", &[root.to_str().unwrap()], &[]);
    assert_eq!(
        report["mismatches"],
        json!([]),
        "detail results differ from boto3's: {report:#}"
    );
    assert_eq!(
        report["count_mismatches"],
        json!([]),
        "detail files without one element per parent item: {report:#}"
    );
    assert_eq!(
        report["calls"].as_u64().unwrap(),
        detail_calls(root).len() as u64,
        "{report:#}"
    );
    report
}

/// The core preset's curated details: every one ran, on every seeded resource, and
/// equals what boto3 gets for the same call; what a bucket lacks is absent, not failed.
#[test]
fn core_details_equal_boto3_and_what_is_missing_is_absent() {
    let (moto, m) = seeded_moto();
    let out = TempDir::new("census-test-details-core");
    let root = scan_ok(&moto, &out, &["--preset", "core", "--skip", SKIPS]);

    // Every curated detail of the preset ran once (one account, one region), with its
    // parent named; each replays to the same result or error code.
    let report = replay(&moto, &root);
    let expected: &[(&str, &str, &[&str])] = &[
        (
            "global",
            "s3-list_buckets",
            &[
                "s3-get_bucket_location",
                "s3-get_bucket_encryption",
                "s3-get_bucket_versioning",
                "s3-get_bucket_policy",
                "s3-get_bucket_policy_status",
                "s3-get_public_access_block",
                "s3-get_bucket_ownership_controls",
                "s3-get_bucket_logging",
                "s3-get_bucket_tagging",
            ],
        ),
        (
            "global",
            "iam-list_roles",
            &[
                "iam-get_role",
                "iam-list_attached_role_policies",
                "iam-list_role_policies",
            ],
        ),
        (
            "global",
            "iam-list_users",
            &[
                "iam-list_attached_user_policies",
                "iam-list_access_keys",
                "iam-list_mfa_devices",
            ],
        ),
        (
            "us-east-1",
            "dynamodb-list_tables",
            &["dynamodb-describe_table", "dynamodb-list_tags_of_resource"],
        ),
        (
            "us-east-1",
            "sqs-list_queues",
            &["sqs-get_queue_attributes", "sqs-list_queue_tags"],
        ),
        (
            "us-east-1",
            "sns-list_topics",
            &["sns-get_topic_attributes", "sns-list_tags_for_resource"],
        ),
        (
            "us-east-1",
            "lambda-list_functions",
            &["lambda-list_tags", "lambda-get_policy"],
        ),
        (
            "us-east-1",
            "kms-list_keys",
            &["kms-describe_key", "kms-get_key_rotation_status"],
        ),
        ("us-east-1", "ecs-list_clusters", &["ecs-describe_clusters"]),
        ("us-east-1", "eks-list_clusters", &["eks-describe_cluster"]),
        (
            "us-east-1",
            "secretsmanager-list_secrets",
            &["secretsmanager-describe_secret"],
        ),
        (
            "us-east-1",
            "cloudtrail-describe_trails",
            &["cloudtrail-get_trail_status"],
        ),
        (
            "us-east-1",
            "elbv2-describe_load_balancers",
            &[
                "elbv2-describe_load_balancer_attributes",
                "elbv2-describe_tags",
            ],
        ),
    ];
    let calls = detail_calls(&root);
    let mut want = 0;
    for (label, parent, stems) in expected {
        for stem in *stems {
            want += 1;
            let key = format!("123456789012/{label}/{stem}");
            let replayed = &report["by_call"][&key];
            assert_eq!(replayed["parent"], *parent, "{key}: {report:#}");
            assert!(
                replayed["elements"].as_u64().unwrap() >= 1,
                "{key} ran on no item: {report:#}"
            );
            let summary: Vec<&Value> = calls
                .iter()
                .filter(|c| c["stem"] == *stem && c["region"] == *label)
                .collect();
            assert_eq!(summary.len(), 1, "{key} in summary.json: {calls:#?}");
            assert_eq!(summary[0]["parent"], *parent, "{:#}", summary[0]);
            assert_eq!(summary[0]["status"], "ok", "{:#}", summary[0]);
            // `absent` is left out when 0.
            assert!(
                summary[0].get("absent").is_none_or(Value::is_u64),
                "{:#}",
                summary[0]
            );
        }
    }
    assert_eq!(calls.len(), want, "{calls:#?}");
    assert_eq!(report["errors"], 0, "{report:#}");

    // Bucket A has everything, bucket B nothing: B's policy, policy status, encryption
    // (moto, unlike S3 today, has no default encryption), public access block,
    // ownership controls and tags are absent, not failed.
    let a = &m["buckets"]["a"]["name"];
    let b = &m["buckets"]["b"]["name"];
    let s3 = |stem: &str, bucket: &Value| element(&root, "global", stem, "Bucket", bucket);
    assert_eq!(
        result(&s3("s3-get_bucket_policy", a))["Policy"],
        m["buckets"]["a"]["policy"]
    );
    assert_absent(&s3("s3-get_bucket_policy", b), "NoSuchBucketPolicy");
    assert_absent(&s3("s3-get_bucket_policy_status", b), "NoSuchBucketPolicy");
    assert_eq!(
        result(&s3("s3-get_bucket_encryption", a))["ServerSideEncryptionConfiguration"]["Rules"][0]
            ["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"],
        "AES256"
    );
    assert_absent(
        &s3("s3-get_bucket_encryption", b),
        "ServerSideEncryptionConfigurationNotFoundError",
    );
    assert_eq!(
        result(&s3("s3-get_bucket_versioning", a))["Status"],
        "Enabled"
    );
    assert_eq!(result(&s3("s3-get_bucket_versioning", b)), &json!({}));
    assert_eq!(
        result(&s3("s3-get_public_access_block", a))["PublicAccessBlockConfiguration"]
            ["BlockPublicPolicy"],
        true
    );
    assert_absent(
        &s3("s3-get_public_access_block", b),
        "NoSuchPublicAccessBlockConfiguration",
    );
    assert_eq!(
        result(&s3("s3-get_bucket_ownership_controls", a))["OwnershipControls"]["Rules"][0]
            ["ObjectOwnership"],
        "BucketOwnerEnforced"
    );
    assert_absent(
        &s3("s3-get_bucket_ownership_controls", b),
        "OwnershipControlsNotFoundError",
    );
    // get_bucket_tagging has result_key TagSet: the result is the tag list itself.
    assert_eq!(
        result(&s3("s3-get_bucket_tagging", a)),
        &m["buckets"]["a"]["tags"]
    );
    assert_absent(&s3("s3-get_bucket_tagging", b), "NoSuchTagSet");

    // The table's tags, through $details.describe_table.Table.TableArn.
    let table = element(
        &root,
        "us-east-1",
        "dynamodb-describe_table",
        "TableName",
        &m["table"]["name"],
    );
    assert_eq!(result(&table)["Table"]["TableArn"], m["table"]["arn"]);
    let tags = element(
        &root,
        "us-east-1",
        "dynamodb-list_tags_of_resource",
        "ResourceArn",
        &m["table"]["arn"],
    );
    assert_eq!(result(&tags)["Tags"], m["table"]["tags"]);

    // The queue's attributes (all of them, as asked) and tags.
    let attributes = element(
        &root,
        "us-east-1",
        "sqs-get_queue_attributes",
        "QueueUrl",
        &m["queue"]["url"],
    );
    assert_eq!(attributes["parameters"]["AttributeNames"], json!(["All"]));
    for (name, value) in m["queue"]["attributes"].as_object().unwrap() {
        assert_eq!(
            &result(&attributes)["Attributes"][name],
            value,
            "{attributes:#}"
        );
    }
    assert!(result(&attributes)["Attributes"]["QueueArn"].is_string());
    let queue_tags = element(
        &root,
        "us-east-1",
        "sqs-list_queue_tags",
        "QueueUrl",
        &m["queue"]["url"],
    );
    assert_eq!(result(&queue_tags)["Tags"], m["queue"]["tags"]);

    // The topic's tags and attributes.
    let topic = &m["topic"]["arn"];
    assert_eq!(
        result(&element(
            &root,
            "us-east-1",
            "sns-list_tags_for_resource",
            "ResourceArn",
            topic
        ))["Tags"],
        m["topic"]["tags"]
    );
    assert_eq!(
        result(&element(
            &root,
            "us-east-1",
            "sns-get_topic_attributes",
            "TopicArn",
            topic
        ))["Attributes"]["TopicArn"],
        *topic
    );

    // The role's attached and inline policies, and its tags.
    let role = &m["role"]["name"];
    assert_eq!(
        result(&element(
            &root,
            "global",
            "iam-list_attached_role_policies",
            "RoleName",
            role
        ))["AttachedPolicies"],
        m["role"]["attached_policies"]
    );
    assert_eq!(
        result(&element(
            &root,
            "global",
            "iam-list_role_policies",
            "RoleName",
            role
        ))["PolicyNames"],
        m["role"]["inline_policies"]
    );
    let got_role = element(&root, "global", "iam-get_role", "RoleName", role);
    assert_eq!(result(&got_role)["Role"]["Arn"], m["role"]["arn"]);
    assert_eq!(result(&got_role)["Role"]["Tags"], m["role"]["tags"]);

    // The user's access key, by id only.
    let keys = element(
        &root,
        "global",
        "iam-list_access_keys",
        "UserName",
        &m["user"]["name"],
    );
    assert_eq!(
        result(&keys)["AccessKeyMetadata"][0]["AccessKeyId"],
        m["user"]["access_key_id"]
    );
    let text = std::fs::read_to_string(
        account_dir(&root)
            .join("global")
            .join("iam-list_access_keys.json"),
    )
    .unwrap();
    assert!(!text.contains("SecretAccessKey"), "{text}");

    // The KMS key's rotation.
    assert_eq!(
        result(&element(
            &root,
            "us-east-1",
            "kms-get_key_rotation_status",
            "KeyId",
            &m["key"]["id"]
        ))["KeyRotationEnabled"],
        true
    );

    // Lambda: the function with a resource policy has one; the other has none.
    for f in m["functions"].as_array().unwrap() {
        let policy = element(
            &root,
            "us-east-1",
            "lambda-get_policy",
            "FunctionName",
            &f["name"],
        );
        if f["policy"] == true {
            assert!(result(&policy)["Policy"].is_string(), "{policy:#}");
        } else {
            assert_absent(&policy, "ResourceNotFoundException");
        }
        let tags = element(
            &root,
            "us-east-1",
            "lambda-list_tags",
            "Resource",
            &f["arn"],
        );
        assert_eq!(result(&tags)["Tags"], json!({"Team": "functions"}));
    }

    // ecs DescribeClusters takes a list: one cluster per parent item.
    let ecs = element(
        &root,
        "us-east-1",
        "ecs-describe_clusters",
        "clusters",
        &json!([m["ecs_cluster"]["arn"]]),
    );
    assert_eq!(
        result(&ecs)["clusters"][0]["clusterArn"],
        m["ecs_cluster"]["arn"]
    );

    // The summary: nothing failed, the absent items are counted apart, and the
    // detail calls' absent counts add up to the report's.
    let summary = read_json(&root.join("summary.json"));
    assert_eq!(summary["totals"]["calls_failed"], 0, "{summary:#}");
    let absent: u64 = calls.iter().filter_map(|c| c["absent"].as_u64()).sum();
    assert_eq!(absent, report["absent"].as_u64().unwrap(), "{report:#}");
    // B's six, fn's policy, at least.
    assert!(absent >= 7, "{report:#}");
    assert_eq!(summary["totals"]["absent"], absent, "{summary:#}");

    // The plan records each detail as written.
    let plan = read_json(&root.join(".census/plan.json"));
    let list_buckets = plan["calls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["service"] == "s3" && c["function"] == "list_buckets")
        .unwrap();
    let details = list_buckets["details"].as_array().unwrap();
    assert_eq!(details.len(), 9, "{list_buckets:#}");
    let tagging = details
        .iter()
        .find(|d| d["function"] == "get_bucket_tagging")
        .unwrap();
    assert_eq!(tagging["service"], "s3");
    assert_eq!(tagging["operation"], "GetBucketTagging");
    assert_eq!(tagging["parameters"], json!({"Bucket": ".Name"}));
    assert_eq!(tagging["result_key"], "TagSet");

    // --details none: the same scan without a single detail call.
    let none_out = TempDir::new("census-test-details-none");
    let none = scan_ok(
        &moto,
        &none_out,
        &["--preset", "core", "--skip", SKIPS, "--details", "none"],
    );
    assert_eq!(detail_calls(&none), Vec::<Value>::new());
    assert!(!account_dir(&none)
        .join("global/s3-get_bucket_policy.json")
        .exists());
    assert!(account_dir(&none)
        .join("global/s3-list_buckets.json")
        .exists());
}

/// A scan file's own details: another service's operation, `$details`, a constant
/// string, result keys on parent and detail, and `"details": "auto"`.
#[test]
fn scan_file_details_run_as_written() {
    let (moto, m) = seeded_moto();
    let out = TempDir::new("census-test-details-file");
    let file = scans_dir().join("details.json");
    let root = scan_ok(&moto, &out, &["-s", file.to_str().unwrap()]);
    let report = replay(&moto, &root);
    assert_eq!(report["absent"], 0, "{report:#}");
    assert_eq!(report["errors"], 0, "{report:#}");

    // lambda ListFunctions -> iam GetRole, beside the lambda file (us-east-1), with the
    // role's name cut out of the function's role ARN by jq.
    let roles = elements(&root, "us-east-1", "iam-get_role");
    assert_eq!(roles.len(), m["functions"].as_array().unwrap().len());
    for e in &roles {
        assert_eq!(e["parameters"], json!({"RoleName": m["role"]["name"]}));
        assert_eq!(result(e)["Role"]["Arn"], m["role"]["arn"]);
    }
    // ...then $details.get_role.Role.RoleName feeds ListAttachedRolePolicies.
    let attached = elements(&root, "us-east-1", "iam-list_attached_role_policies");
    assert_eq!(attached.len(), roles.len());
    for e in &attached {
        assert_eq!(e["parameters"], json!({"RoleName": m["role"]["name"]}));
        assert_eq!(
            result(e)["AttachedPolicies"],
            m["role"]["attached_policies"]
        );
    }
    // A constant string is a jq string literal.
    let policy = element(
        &root,
        "us-east-1",
        "kms-get_key_policy",
        "KeyId",
        &m["key"]["id"],
    );
    assert_eq!(policy["parameters"]["PolicyName"], "default");
    assert!(result(&policy)["Policy"].is_string(), "{policy:#}");
    // The parent's result_key gives the items; the detail's result_key cuts its result.
    let table = element(
        &root,
        "us-east-1",
        "dynamodb-describe_table",
        "TableName",
        &m["table"]["name"],
    );
    assert_eq!(result(&table)["TableArn"], m["table"]["arn"]);
    // "details": "auto": the derived sqs details, QueueUrl from the scalar item.
    for stem in ["sqs-get_queue_attributes", "sqs-list_queue_tags"] {
        let e = element(&root, "us-east-1", stem, "QueueUrl", &m["queue"]["url"]);
        result(&e);
    }
    let plan = read_json(&root.join(".census/plan.json"));
    let list_queues = plan["calls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["service"] == "sqs" && c["function"] == "list_queues")
        .unwrap();
    for function in ["get_queue_attributes", "list_queue_tags"] {
        let derived = list_queues["details"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["function"] == function)
            .unwrap_or_else(|| panic!("{function} not derived: {list_queues:#}"));
        assert_eq!(
            derived["parameters"],
            json!({"QueueUrl": "."}),
            "{derived:#}"
        );
    }
    let tags = element(
        &root,
        "us-east-1",
        "sqs-list_queue_tags",
        "QueueUrl",
        &m["queue"]["url"],
    );
    assert_eq!(result(&tags)["Tags"], m["queue"]["tags"]);

    // The summary names each detail call's parent, other services included.
    let calls = detail_calls(&root);
    let get_role = calls
        .iter()
        .find(|c| c["stem"] == "iam-get_role")
        .unwrap_or_else(|| panic!("{calls:#?}"));
    assert_eq!(get_role["parent"], "lambda-list_functions");
    assert_eq!(get_role["service"], "iam");
    assert_eq!(get_role["region"], "us-east-1");
    let summary = read_json(&root.join("summary.json"));
    assert_eq!(summary["totals"]["calls_failed"], 0, "{summary:#}");
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Bad detail entries are refused before any call (the endpoint is a closed port):
/// exit status 1 and one line naming the file and the entry.
#[test]
fn bad_detail_entries_are_refused_before_any_call() {
    let files = TempDir::new("census-test-details-bad");
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let entry = |details: Value| {
        json!([
            {"service": "sts", "function": "get_caller_identity"},
            {"service": "s3", "function": "list_buckets", "details": details}
        ])
    };
    let detail = |d: Value| entry(json!([d]));
    let cases: Vec<(&str, Value, &[&str])> = vec![
        (
            "unknown-operation",
            detail(json!({"function": "get_bucket_colour", "parameters": {"Bucket": ".Name"}})),
            &["detail 1", "unknown operation", "get_bucket_colour"],
        ),
        (
            "write-operation",
            detail(json!({"function": "delete_bucket", "parameters": {"Bucket": ".Name"}})),
            &["detail 1", "DeleteBucket", "not a read"],
        ),
        (
            "missing-parameter",
            detail(json!({"function": "get_bucket_policy", "parameters": {}})),
            &["detail 1", "GetBucketPolicy", "missing", "Bucket"],
        ),
        (
            "jq-syntax",
            detail(json!({"function": "get_bucket_policy", "parameters": {"Bucket": ".Name |"}})),
            &["detail 1", "Bucket", "jq", ".Name |"],
        ),
        (
            "unknown-parameter",
            detail(json!({"function": "get_bucket_policy",
                          "parameters": {"Bucket": ".Name", "Bukket": ".Name"}})),
            &["detail 1", "unknown parameter", "Bukket"],
        ),
        (
            "unknown-service",
            detail(json!({"service": "s4", "function": "get_bucket_policy",
                          "parameters": {"Bucket": ".Name"}})),
            &["detail 1", "s4"],
        ),
        (
            "details-of-no-earlier-detail",
            detail(json!({"function": "get_bucket_policy",
                          "parameters": {"Bucket": "$details.get_bucket_tagging.TagSet"}})),
            &["detail 1", "$details.get_bucket_tagging"],
        ),
        (
            "result-key-jq-syntax",
            detail(
                json!({"function": "get_bucket_policy", "parameters": {"Bucket": ".Name"},
                          "result_key": ".Policy |"}),
            ),
            &["detail 1", "result_key", ".Policy |"],
        ),
        (
            "misspelt-member",
            detail(json!({"function": "get_bucket_policy", "paramters": {"Bucket": ".Name"}})),
            &["detail 1", "paramters"],
        ),
        (
            "details-neither-list-nor-auto",
            entry(json!("sometimes")),
            &["details", "auto"],
        ),
    ];
    let mut failures = Vec::new();
    for (name, text, needles) in &cases {
        let path = files.join(format!("{name}.json"));
        std::fs::write(&path, serde_json::to_string_pretty(text).unwrap()).unwrap();
        let out = files.join(format!("{name}-out"));
        let result = census(
            &endpoint,
            &[
                "scan",
                "-s",
                path.to_str().unwrap(),
                "--regions",
                "us-east-1",
                "-o",
                out.to_str().unwrap(),
            ],
        );
        let stderr = String::from_utf8_lossy(&result.stderr).to_string();
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        let mut problems = Vec::new();
        if result.status.code() != Some(1) {
            problems.push(format!("exit status {:?}", result.status));
        }
        if lines.len() != 1 || !lines[0].starts_with("census: error: ") {
            problems.push("not one `census: error:` line".to_string());
        }
        // Operation names may be written either way: DeleteBucket or delete_bucket.
        let loose = |s: &str| s.to_lowercase().replace('_', "");
        let file_name = format!("{name}.json");
        for needle in [file_name.as_str(), "entry 2"].iter().chain(needles.iter()) {
            if !loose(&stderr).contains(&loose(needle)) {
                problems.push(format!("{needle:?} not named"));
            }
        }
        if stderr.contains("panicked") {
            problems.push("a panic".to_string());
        }
        if out.exists() {
            problems.push("the output folder was created".to_string());
        }
        if !problems.is_empty() {
            failures.push(format!("{name}: {}:\n{stderr}", problems.join(", ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} bad entries not refused as they should be:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
