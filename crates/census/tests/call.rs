//! `census call` against moto, as a user runs it: the binary, AWS_ENDPOINT_URL, fake
//! credentials in the environment.

use std::process::Output;

use serde_json::Value;
use testkit::{cli_command, Moto, FAKE_SECRET_ACCESS_KEY};

fn census(moto: &Moto, args: &[&str]) -> Output {
    cli_command(env!("CARGO_BIN_EXE_census"), &moto.endpoint())
        .args(args)
        .output()
        .unwrap()
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "census failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn calls_work_against_moto() {
    let moto = Moto::start();
    let id = json(&census(&moto, &["call", "sts", "get-caller-identity"]));
    assert_eq!(id["Account"], "123456789012");
    // Seed with boto3 as a real client would, then read it back with census.
    testkit::boto3_call(
        &moto,
        &testkit::Caller::management().in_region("eu-west-1"),
        "ec2",
        "run_instances",
        &serde_json::json!({"ImageId": "ami-12c6146b", "MinCount": 2, "MaxCount": 2, "InstanceType": "t3.micro"}),
        false,
    );
    let out = json(&census(
        &moto,
        &["call", "ec2", "describe_instances", "--region", "eu-west-1"],
    ));
    let instances: Vec<&Value> = out["Reservations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["Instances"].as_array().unwrap())
        .collect();
    assert_eq!(instances.len(), 2, "{out}");
    assert_eq!(instances[0]["InstanceType"], "t3.micro");
    let launch = instances[0]["LaunchTime"].as_str().unwrap();
    assert!(launch.ends_with("+00:00"), "isoformat: {launch}");
    // Other name forms, parameters and --no-paginate.
    let out = json(&census(
        &moto,
        &[
            "call",
            "EC2",
            "DescribeInstances",
            "--region",
            "eu-west-1",
            "--no-paginate",
            "--param",
            r#"{"Filters": [{"Name": "instance-type", "Values": ["t3.micro"]}]}"#,
        ],
    ));
    assert_eq!(out["Reservations"].as_array().unwrap().len(), 1);
    let none = json(&census(
        &moto,
        &["call", "ec2", "describe-instances", "--region", "us-east-1"],
    ));
    assert_eq!(none["Reservations"], serde_json::json!([]));
}

#[test]
fn bad_input_gets_one_clear_line() {
    let moto = Moto::start();
    let cases: &[(&[&str], &str)] = &[
        (
            &["call", "ec3", "describe-instances"],
            "unknown service \"ec3\"; did you mean ec2",
        ),
        (
            &["call", "ec2", "describe-instance"],
            "did you mean describe-instances",
        ),
        (
            &["call", "ec2", "describe_instance"],
            "did you mean describe_instances",
        ),
        (
            &["call", "ec2", "describe-instances", "--region", "eu-wset-1"],
            "did you mean eu-west-1",
        ),
        (
            &["call", "iam", "get-role"],
            "missing required parameter RoleName",
        ),
        (
            &["call", "ec2", "describe-instances", "--param", "{nope"],
            "--param: not valid JSON",
        ),
        (
            &[
                "call",
                "ec2",
                "describe-instances",
                "--param",
                r#"{"MaxResult": 5}"#,
            ],
            "did you mean MaxResults",
        ),
        (
            &[
                "call",
                "iam",
                "get-role",
                "--param",
                r#"{"RoleName": "missing"}"#,
            ],
            "NoSuchEntity",
        ),
        (
            &[
                "call",
                "ec2",
                "terminate-instances",
                "--param",
                r#"{"InstanceIds": ["i-1"]}"#,
            ],
            "ec2 TerminateInstances is not a read operation (Describe*, Get*, List*...): it may change your account; add --allow-write",
        ),
        (
            &["call", "sts", "get-session-token"],
            "sts GetSessionToken returns secrets (issues temporary credentials); add --allow-write",
        ),
        (
            &[
                "call",
                "ssm",
                "get-parameter",
                "--param",
                r#"{"Name": "x", "WithDecryption": true}"#,
            ],
            "ssm GetParameter returns secrets",
        ),
    ];
    for (args, want) in cases {
        let out = census(&moto, args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: expected {want:?} in {err:?}");
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{args:?}: one line: {err:?}"
        );
        assert!(
            !err.contains(FAKE_SECRET_ACCESS_KEY),
            "the secret key leaked: {err}"
        );
    }
}

/// A profile's `services` section sends one service to its own endpoint while the
/// profile's `endpoint_url` serves the rest, as the AWS SDKs define it.
#[test]
fn profile_services_section_sets_a_service_endpoint() {
    let moto = Moto::shared();
    let dir = testkit::TempDir::new("census-call-profile");
    let config = dir.join("config");
    std::fs::write(
        &config,
        format!(
            "[profile census-endpoints]\n\
             aws_access_key_id = AKIDPROFILEENDPOINTS\n\
             aws_secret_access_key = profile-endpoints-secret\n\
             region = us-east-1\n\
             endpoint_url = http://127.0.0.1:9\n\
             services = local-sts\n\
             \n\
             [services local-sts]\n\
             sts =\n  endpoint_url = {}\n",
            moto.endpoint()
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        cli_command(env!("CARGO_BIN_EXE_census"), "unused")
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("none"))
            .env("AWS_MAX_ATTEMPTS", "1")
            .args(args)
            .args(["--profile", "census-endpoints"])
            .output()
            .unwrap()
    };
    // sts: the services section's endpoint, moto.
    let who = json(&run(&["call", "sts", "get-caller-identity"]));
    assert_eq!(who["Account"], "123456789012");
    // s3: the profile's own endpoint_url, a closed port.
    let out = run(&["call", "s3", "list-buckets"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("127.0.0.1:9"), "{err}");
    assert!(!err.contains("profile-endpoints-secret"), "{err}");
}
