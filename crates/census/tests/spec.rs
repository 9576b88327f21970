//! Scan specs: aws-auto-inventory scan files, jq result keys, presets, and the
//! errors a bad spec gets before any call is made. Offline: URLs are served by a
//! loopback responder in this file.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use census::spec::{self, deny_list, Preset, ResultKey, Spec, SpecError};
use serde_json::{json, Value};

/// A fresh folder for this test's files.
fn dir(test: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("spec-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes `files` (name, text) into a fresh folder; their paths, in order.
fn write(test: &str, files: &[(&str, &str)]) -> Vec<String> {
    let d = dir(test);
    files
        .iter()
        .map(|(name, text)| {
            let path = d.join(name);
            std::fs::write(&path, text).unwrap();
            path.to_str().unwrap().to_string()
        })
        .collect()
}

async fn load(sources: &[String], presets: &[Preset]) -> Result<Spec, SpecError> {
    spec::load(sources, presets, spec::DetailsMode::Core, true).await
}

/// A scan file as aws-auto-inventory's README and samples write them: boto3 names,
/// a filter parameter, plain and jq result keys, uneven indentation, the same
/// operation twice with different keys, a call with no result key.
const AAI_SCAN: &str = r#"[
  {
    "function": "describe_instances",
    "parameters": {
      "Filters": [
        {
          "Name": "instance-state-name",
          "Values": [
            "running"
          ]
        }
      ]
    },
    "result_key": "Reservations",
    "service": "ec2"
  },
  {
    "function": "describe_instances",
    "parameters": {"Filters": [{"Name": "instance-state-name", "Values": ["running"]}]},
  "result_key": ".Reservations | .[] | .Instances | .[] | .Tags[]|select(.Key==\"Name\")|.Value",
        "service": "ec2"
  },
  {
    "function": "list_buckets",
    "result_key": ".Buckets[]|.Name",
    "service": "s3"
  },
  {
    "function": "list_clusters",
    "service": "emr",
    "parameters": {
      "ClusterStates": [
            "WAITING"
          ]
        },
    "result_key": ".Clusters[]|.Id, .Name"
},
  {"service": "lambda", "function": "list_functions"}
]
"#;

#[tokio::test]
async fn aws_auto_inventory_scan_file_works_unchanged() {
    let files = write("aai", &[("scan.json", AAI_SCAN)]);
    let spec = load(&files, &[]).await.unwrap();
    let calls: Vec<(&str, &str, &str)> = spec
        .calls
        .iter()
        .map(|c| {
            (
                c.service.as_str(),
                c.operation.as_str(),
                c.function.as_str(),
            )
        })
        .collect();
    assert_eq!(
        calls,
        [
            ("ec2", "DescribeInstances", "describe_instances"),
            ("ec2", "DescribeInstances", "describe_instances"),
            ("s3", "ListBuckets", "list_buckets"),
            ("emr", "ListClusters", "list_clusters"),
            ("lambda", "ListFunctions", "list_functions"),
        ],
        "sources given, so no preset is added"
    );
    let [running, names, buckets, emr, lambda] = &spec.calls[..] else {
        unreachable!()
    };
    assert_eq!(running.origin, format!("{} entry 1", files[0]));
    assert_eq!(lambda.origin, format!("{} entry 5", files[0]));
    assert_eq!(
        running.parameters,
        json!({"Filters": [{"Name": "instance-state-name", "Values": ["running"]}]})
    );
    assert_eq!(
        running.result_key,
        Some(ResultKey::Key("Reservations".into()))
    );
    assert!(matches!(names.result_key, Some(ResultKey::Jq(_))));
    assert_eq!(buckets.parameters, json!({}));
    assert_eq!(
        emr.result_key.as_ref().unwrap().as_str(),
        ".Clusters[]|.Id, .Name"
    );
    assert_eq!(lambda.result_key, None);

    // The keys do to boto3-shaped results what aws-auto-inventory's do.
    let reservations = json!({"Reservations": [
        {"Instances": [
            {"InstanceId": "i-1", "Tags": [{"Key": "Name", "Value": "web-1"}, {"Key": "team", "Value": "a"}]},
            {"InstanceId": "i-2", "Tags": [{"Key": "Name", "Value": "web-2"}]}
        ]},
        {"Instances": [{"InstanceId": "i-3", "Tags": [{"Key": "Name", "Value": "db"}]}]}
    ]});
    let apply = |call: &spec::Call, v: &Value| call.result_key.as_ref().unwrap().apply(v).unwrap();
    assert_eq!(apply(running, &reservations), reservations["Reservations"]);
    assert_eq!(apply(names, &reservations), json!(["web-1", "web-2", "db"]));
    assert_eq!(
        apply(
            buckets,
            &json!({"Buckets": [{"Name": "logs"}, {"Name": "data"}], "Owner": {"ID": "x"}})
        ),
        json!(["logs", "data"])
    );
    assert_eq!(
        apply(
            emr,
            &json!({"Clusters": [{"Id": "j-1", "Name": "etl"}, {"Id": "j-2", "Name": "ml"}]})
        ),
        json!(["j-1", "etl", "j-2", "ml"])
    );
    // A plain key the result does not have: None in aws-auto-inventory, so no file.
    assert_eq!(apply(running, &json!({"NextToken": "x"})), Value::Null);
}

#[tokio::test]
async fn jq_result_keys() {
    let key = |k: &str| ResultKey::parse(k).unwrap().unwrap();
    let result = json!({"Vpcs": [
        {"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16", "IsDefault": true},
        {"VpcId": "vpc-2", "CidrBlock": "10.1.0.0/16", "IsDefault": false}
    ]});
    // One output is still a list, as jq's .all() gives; none is an empty list.
    assert_eq!(key(".Vpcs | length").apply(&result).unwrap(), json!([2]));
    assert_eq!(
        key(".Vpcs[] | select(.IsDefault) | .VpcId")
            .apply(&result)
            .unwrap(),
        json!(["vpc-1"])
    );
    assert_eq!(
        key(".Vpcs[] | select(.VpcId == \"none\")")
            .apply(&result)
            .unwrap(),
        json!([])
    );
    assert_eq!(
        key(".Vpcs | map({id: .VpcId, cidr: .CidrBlock})")
            .apply(&result)
            .unwrap(),
        json!([[{"id": "vpc-1", "cidr": "10.0.0.0/16"}, {"id": "vpc-2", "cidr": "10.1.0.0/16"}]])
    );
    assert_eq!(
        key(".Vpcs[] | \"\\(.VpcId)=\\(.CidrBlock)\"")
            .apply(&result)
            .unwrap(),
        json!(["vpc-1=10.0.0.0/16", "vpc-2=10.1.0.0/16"])
    );
    // A plain key picks the member as it is.
    assert_eq!(key("Vpcs").apply(&result).unwrap(), result["Vpcs"]);
    // Errors at run time are values, for the executor to record.
    let e = key(".Vpcs | keys[] | ascii_downcase")
        .apply(&result)
        .unwrap_err();
    assert!(e.starts_with("jq error"), "{e}");
    // Compiled once, shared by every task.
    let shared = std::sync::Arc::new(key(".Vpcs[].VpcId"));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let k = shared.clone();
            let r = result.clone();
            tokio::spawn(async move { k.apply(&r).unwrap() })
        })
        .collect();
    for h in handles {
        assert_eq!(h.await.unwrap(), json!(["vpc-1", "vpc-2"]));
    }
}

#[tokio::test]
async fn errors_name_the_file_the_entry_and_the_fix() {
    let files = write(
        "errors",
        &[
            (
                "ec2.json",
                r#"[
  {"service": "ec2", "function": "describe_vpcs"},
  {"service": "ec3", "function": "describe_instances"},
  {"service": "ec2", "function": "describe_instance"},
  {"service": "ec2", "function": "describe_instances", "parameters": {"MaxResult": 5}},
  {"service": "ec2", "function": "describe_instances", "result_key": ".Reservations[] | nosuch"},
  {"service": "ec2", "function": "terminate_instances", "parameters": {"InstanceIds": ["i-1"]}},
  {"service": "iam", "function": "get_role"},
  {"service": "s3", "function": "list_buckets", "paramters": {}}
]"#,
            ),
            (
                "broken.json",
                "[\n  {\"service\": \"s3\",\n   \"function\": \"list_buckets\"\n  \n",
            ),
            ("missing.json", "unused"),
        ],
    );
    std::fs::remove_file(&files[2]).unwrap();
    let err = load(&files, &[Preset::Core]).await.unwrap_err();
    let f = &files[0];
    let got: Vec<String> = err.problems().iter().map(|p| p.to_string()).collect();
    let want = [
        format!("{f} entry 2: unknown service \"ec3\"; did you mean ec2, ecr, ecs?"),
        format!("{f} entry 3: unknown operation \"describe_instance\" for ec2; did you mean describe_instances?"),
        format!(
            "{f} entry 4: invalid parameters for ec2 DescribeInstances: unknown parameter MaxResult; did you mean MaxResults?"
        ),
        format!("{f} entry 5: result_key \".Reservations[] | nosuch\": invalid jq filter: undefined filter nosuch at column 19"),
        format!(
            "{f} entry 6: ec2 TerminateInstances is not a read operation: Census makes only read calls (Describe*, Get*, List*, ...), because a scan runs every call in every account and region it reaches"
        ),
        format!("{f} entry 7: invalid parameters for iam GetRole: missing required parameter RoleName"),
        format!(
            "{f} entry 8: unknown member \"paramters\"; did you mean \"parameters\"? (the members are service, function, parameters, result_key and details)"
        ),
        format!("{}: not valid JSON at line 5, column 0: EOF while parsing an object", files[1]),
        format!("{}: cannot read the scan file: no such file; give -s/--scan a readable JSON file (a list of calls) or an http(s) URL", files[2]),
    ];
    assert_eq!(got, want);
    // One line: the first problem and how many more.
    assert_eq!(
        err.to_string(),
        format!("{} (and 8 more problems)", want[0])
    );
    assert!(!err.to_string().contains('\n'));
}

#[tokio::test]
async fn errors_in_entry_shapes() {
    let files = write(
        "shapes",
        &[
            (
                "object.json",
                r#"{"service": "s3", "function": "list_buckets"}"#,
            ),
            (
                "entries.json",
                r#"["s3", {"function": "list_buckets"}, {"service": "s3", "function": "get_paginator"}, {"service": "s3", "function": "list_buckets", "parameters": ["x"]}, {"service": "s3", "function": "list_buckets", "result_key": ["Buckets"]}]"#,
            ),
            ("empty.json", "[]"),
        ],
    );
    let err = load(&files, &[]).await.unwrap_err();
    let got: Vec<&str> = err.problems().iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        got,
        [
            "a scan file is a JSON list of calls such as [{\"service\": \"ec2\", \"function\": \"describe_instances\"}], got an object without \"sheets\" or \"inventories\"",
            "an entry is an object such as {\"service\": \"ec2\", \"function\": \"describe_instances\"}, got a string",
            "missing \"service\" (the boto3 service name, such as \"ec2\")",
            "\"get_paginator\" is a boto3 client helper, not an AWS operation; remove this entry",
            "\"parameters\" must be an object of the operation's parameters, such as {\"MaxResults\": 50}, got a list",
            "\"result_key\" must be a string (a member such as \"Reservations\", or a jq filter starting with \".\"), got a list",
            "the scan file lists no calls",
        ]
    );
}

#[tokio::test]
async fn successor_config_forms() {
    let files = write(
        "sheets",
        &[
            (
                "config.json",
                r#"{"inventories": [{"name": "x", "aws": {"region": ["us-east-1"]},
                    "sheets": [{"name": "EC2", "service": "ec2", "function": "describe_instances", "result_key": "Reservations"},
                               {"name": "S3", "service": "s3", "function": "list_buckets"}]}]}"#,
            ),
            (
                "legacy.json",
                r#"{"sheets": [{"name": "Roles", "service": "iam", "function": "list_roles", "result_key": "Roles"}]}"#,
            ),
        ],
    );
    let spec = load(&files, &[]).await.unwrap();
    let origins: Vec<String> = spec.calls.iter().map(|c| c.origin.clone()).collect();
    assert_eq!(
        origins,
        [
            format!("{} inventory 1 sheet 1", files[0]),
            format!("{} inventory 1 sheet 2", files[0]),
            format!("{} sheet 1", files[1]),
        ]
    );
}

#[tokio::test]
async fn duplicates_are_merged_keeping_the_first_origin() {
    let files = write(
        "dedup",
        &[
            (
                "a.json",
                r#"[{"service": "ec2", "function": "describe_instances", "parameters": {"MaxResults": 5, "DryRun": false}},
                    {"service": "s3", "function": "list_buckets"}]"#,
            ),
            (
                "b.json",
                r#"[{"service": "ec2", "function": "DescribeInstances", "parameters": {"DryRun": false, "MaxResults": 5}},
                    {"service": "ec2", "function": "describe_instances", "parameters": {"MaxResults": 6}},
                    {"service": "s3", "function": "list_buckets", "result_key": "Buckets"},
                    {"service": "S3", "function": "list-buckets", "parameters": null}]"#,
            ),
        ],
    );
    let spec = load(&files, &[Preset::Core]).await.unwrap();
    let find = |service: &str, operation: &str| -> Vec<(String, Value, Option<String>)> {
        spec.calls
            .iter()
            .filter(|c| c.service == service && c.operation == operation)
            .map(|c| {
                (
                    c.origin.clone(),
                    c.parameters.clone(),
                    c.result_key.as_ref().map(|k| k.to_string()),
                )
            })
            .collect()
    };
    let (a, b) = (&files[0], &files[1]);
    assert_eq!(
        find("ec2", "DescribeInstances"),
        [
            (
                format!("{a} entry 1"),
                json!({"MaxResults": 5, "DryRun": false}),
                None
            ),
            (format!("{b} entry 2"), json!({"MaxResults": 6}), None),
            // The core preset's, without parameters.
            ("preset core entry 1".to_string(), json!({}), None),
        ]
    );
    assert_eq!(
        find("s3", "ListBuckets"),
        [
            (format!("{a} entry 2"), json!({}), None),
            (
                format!("{b} entry 3"),
                json!({}),
                Some("Buckets".to_string())
            ),
        ]
    );
    let core = load(&[], &[Preset::Core]).await.unwrap();
    assert_eq!(
        spec.calls.len(),
        2 + 2 + core.calls.len() - 1,
        "a's 2 calls, b's 2 new ones, core's but ListBuckets"
    );
}

#[tokio::test]
async fn presets_validate() {
    // Nothing asked for: the core preset.
    let default = load(&[], &[]).await.unwrap();
    let core = load(&[], &[Preset::Core]).await.unwrap();
    assert_eq!(default.calls.len(), core.calls.len());
    let services: BTreeSet<&str> = core.calls.iter().map(|c| c.service.as_str()).collect();
    println!(
        "preset core: {} calls over {} services",
        core.calls.len(),
        services.len()
    );
    assert!(
        (50..=80).contains(&core.calls.len()),
        "{}",
        core.calls.len()
    );
    assert!(services.len() >= 25, "{}", services.len());
    for must in [
        "ec2",
        "s3",
        "iam",
        "lambda",
        "rds",
        "dynamodb",
        "eks",
        "organizations",
    ] {
        assert!(services.contains(must), "core lacks {must}");
    }
    let snapshots = core
        .calls
        .iter()
        .find(|c| c.operation == "DescribeSnapshots")
        .unwrap();
    assert_eq!(snapshots.parameters, json!({"OwnerIds": ["self"]}));

    let started = Instant::now();
    let all = load(&[], &[Preset::All]).await.unwrap();
    let took = started.elapsed();
    let services: BTreeSet<&str> = all.calls.iter().map(|c| c.service.as_str()).collect();
    println!(
        "preset all: {} calls over {} services ({} denied by presets/deny.json), built in {:.1?}",
        all.calls.len(),
        services.len(),
        deny_list().len(),
        took
    );
    assert!(all.calls.len() > 2000, "{}", all.calls.len());
    assert!(services.len() > 300, "{}", services.len());
    for c in &all.calls {
        assert_eq!(c.origin, "preset all");
        assert_eq!(c.parameters, json!({}));
        assert!(c.result_key.is_none());
        assert!(
            ["List", "Describe", "Get"]
                .iter()
                .any(|v| c.operation.starts_with(v)),
            "{} {}",
            c.service,
            c.operation
        );
        assert!(
            !deny_list()
                .iter()
                .any(|d| d.covers(&c.service, &c.operation)),
            "{} {} is denied",
            c.service,
            c.operation
        );
    }
    let has = |s: &str, o: &str| all.calls.iter().any(|c| c.service == s && c.operation == o);
    assert!(has("ec2", "DescribeInstances") && has("s3", "ListBuckets") && has("iam", "ListRoles"));
    assert!(
        !has("ec2", "DescribeImages")
            && !has("ec2", "DescribeSpotPriceHistory")
            && !has("sts", "GetCallerIdentity")
    );
    assert!(!has("iam", "GetRole"), "needs RoleName");
    assert!(
        !has("pricing", "DescribeServices"),
        "the whole service is denied"
    );
    assert!(
        !services.contains("sdb") && !services.contains("codecatalyst"),
        "not SigV4"
    );
    // Core and all together: core's calls without parameters are all's too.
    let both = load(&[], &[Preset::Core, Preset::All]).await.unwrap();
    let core_only = core
        .calls
        .iter()
        .filter(|c| !(c.parameters == json!({}) && has(&c.service, &c.operation)))
        .count();
    assert_eq!(both.calls.len(), all.calls.len() + core_only);
}

/// A loopback HTTP server answering GET `path` with `files[path]` (404 otherwise),
/// until the test ends. Returns its base URL and a count of requests served.
fn serve(files: HashMap<&'static str, &'static str>) -> (String, &'static AtomicUsize) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let served: &'static AtomicUsize = Box::leak(Box::new(AtomicUsize::new(0)));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            // Skip the headers.
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or("/");
            let (status, body) = match files.get(path) {
                Some(body) => ("200 OK", *body),
                None => ("404 Not Found", "no such scan"),
            };
            served.fetch_add(1, Ordering::SeqCst);
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (base, served)
}

#[tokio::test]
async fn scan_files_from_urls() {
    let (base, served) = serve(HashMap::from([
        ("/scans/aai.json", AAI_SCAN),
        (
            "/scans/bad.json",
            "[{\"service\": \"s3\" \"function\": \"list_buckets\"}]",
        ),
        (
            "/scans/typo.json",
            "[{\"service\": \"s3\", \"function\": \"list_bucket\"}]",
        ),
    ]));
    let url = format!("{base}/scans/aai.json");
    let spec = load(std::slice::from_ref(&url), &[]).await.unwrap();
    assert_eq!(spec.calls.len(), 5);
    assert_eq!(spec.calls[2].origin, format!("{url} entry 3"));

    let urls: Vec<String> = ["bad", "typo", "gone"]
        .iter()
        .map(|n| format!("{base}/scans/{n}.json"))
        .collect();
    let err = load(&urls, &[]).await.unwrap_err();
    let got: Vec<String> = err.problems().iter().map(|p| p.to_string()).collect();
    assert_eq!(
        got,
        [
            format!(
                "{}: not valid JSON at line 1, column 19: expected `,` or `}}`",
                urls[0]
            ),
            format!(
                "{} entry 1: unknown operation \"list_bucket\" for s3; did you mean list_buckets?",
                urls[1]
            ),
            format!(
                "{}: cannot fetch the scan file: the server answered HTTP 404 Not Found; check the URL (-s/--scan), or download the file and give its path",
                urls[2]
            ),
        ]
    );
    assert_eq!(served.load(Ordering::SeqCst), 4);

    // Nothing listens here: the error says so, in one line.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/scan.json", l.local_addr().unwrap())
    };
    let err = load(std::slice::from_ref(&closed), &[])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("{closed}: cannot fetch the scan file: ")),
        "{err}"
    );
    assert!(!err.contains('\n'), "{err}");
}

// ---------------------------------------------------------------------------
// Fuzzing: census's fuzz targets (fuzz/, see FUZZING.md) replayed over their committed
// corpora and regressions, through the targets' own bodies (census::spec::fuzzing).

/// Every input of a fuzz target: fuzz/corpus/<target>/*, then fuzz/regressions/<target>/*.
fn fuzz_inputs(target: &str) -> Vec<PathBuf> {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut all = Vec::new();
    for kind in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(repo.join("fuzz").join(kind).join(target)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        all.extend(files);
    }
    all
}

/// Runs every input of `target` through `run`; fails naming each input that panicked.
fn fuzz_replay(target: &str, run: fn(&[u8])) {
    let files = fuzz_inputs(target);
    assert!(
        files.len() >= 10,
        "fuzz/corpus/{target} has {} inputs: the committed corpus is missing",
        files.len()
    );
    let mut failed = Vec::new();
    for path in &files {
        let data = std::fs::read(path).unwrap();
        if std::panic::catch_unwind(|| run(&data)).is_err() {
            failed.push(path.display().to_string());
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} inputs of {target} panicked:\n{}",
        failed.len(),
        files.len(),
        failed.join("\n")
    );
}

#[test]
fn fuzz_corpus_scan_file() {
    fuzz_replay("scan_file", spec::fuzzing::scan_file);
}

#[test]
fn fuzz_corpus_result_key() {
    fuzz_replay("result_key", spec::fuzzing::result_key);
}

/// The filters the result_key target applies to fuzzed results all compile (one that
/// did not would leave that part of the target testing nothing).
#[test]
fn fuzz_filters_compile() {
    let bad: Vec<String> = spec::fuzzing::FILTERS
        .iter()
        .filter_map(|f| ResultKey::parse(f).err().map(|e| format!("{f}: {e}")))
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
}
