//! aws-auto-inventory's own sample scan files (issue 12), kept under
//! `tests/data/aws-auto-inventory/` (Apache-2.0, with its LICENSE and NOTICE; commit
//! 3bf3c216b451013136039c7d3b4c69750a9dee3f of aws-samples/aws-auto-inventory): every
//! one loads, each entry with its fate, and `census scan --plan` shows them; `--strict`
//! rejects them as before; a typo in a hand-written file still fails with "did you
//! mean".

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output};

use census::spec::{self, Fate};
use serde_json::Value;

fn sample_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/aws-auto-inventory/scan/sample")
}

fn sample(name: &str) -> String {
    sample_dir().join(name).to_str().unwrap().to_string()
}

/// The 360 files: `all_services.json`, six hand-written samples and `services/*.json`.
fn samples() -> Vec<String> {
    let root = sample_dir();
    let mut out = Vec::new();
    for dir in [root.clone(), root.join("services")] {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "json") {
                out.push(p.to_str().unwrap().to_string());
            }
        }
    }
    out.sort();
    out
}

/// `census` with no AWS configuration at all: `--plan` must not need any.
fn census(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_census"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", env!("CARGO_TARGET_TMPDIR"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap()
}

/// The figures the README gives.
#[tokio::test]
async fn every_sample_loads_each_entry_with_its_fate() {
    let files = samples();
    assert_eq!(files.len(), 360);
    let mut counts: BTreeMap<Fate, usize> = BTreeMap::new();
    let mut problems = Vec::new();
    for f in &files {
        match spec::load(std::slice::from_ref(f), &[], spec::DetailsMode::Core, false).await {
            Ok(s) => {
                for p in &s.planned {
                    *counts.entry(p.fate).or_default() += 1;
                }
            }
            Err(e) => problems.extend(e.problems().iter().map(|p| p.to_string())),
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    let want: BTreeMap<Fate, usize> = [
        (Fate::Runs, 3597),
        (Fate::Detail, 3504),
        (Fate::Helper, 1412),
        (Fate::Retired, 726),
        (Fate::Secret, 54),
        (Fate::Unfillable, 3270),
        (Fate::Uncallable, 40),
    ]
    .into();
    assert_eq!(counts, want);
    assert_eq!(counts.values().sum::<usize>(), 12603);
}

#[test]
fn plan_of_s3_json_runs_the_bucket_reads_as_details_of_list_buckets() {
    let out = census(&[
        "scan",
        "-s",
        &sample("services/s3.json"),
        "--plan",
        "--output",
        "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let entries = plan["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 43);
    let fate_of = |function: &str| {
        let e = entries.iter().find(|e| e["function"] == function).unwrap();
        (
            e["fate"].as_str().unwrap().to_string(),
            e["note"].as_str().unwrap_or("").to_string(),
        )
    };
    assert_eq!(fate_of("list_buckets").0, "runs");
    for f in [
        "get_bucket_acl",
        "get_bucket_policy",
        "get_bucket_versioning",
        "get_bucket_tagging",
        "get_bucket_cors",
        "get_bucket_lifecycle_configuration",
        "get_bucket_lifecycle",
    ] {
        assert_eq!(
            fate_of(f),
            ("detail".into(), "of ListBuckets: Bucket=.Name".into()),
            "{f}"
        );
    }
    assert_eq!(fate_of("get_paginator").0, "helper");
    assert_eq!(fate_of("get_object").0, "unfillable");
    assert_eq!(plan["counts"]["detail"], 25);
    assert_eq!(plan["calls"], 1);
    assert_eq!(plan["details"], 25);
    // The table ends with the counts.
    let out = census(&["scan", "-s", &sample("services/s3.json"), "--plan"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.trim_end().ends_with("43 entries: 1 run as written, 25 as details of a list call, 2 boto3 helpers left out, 15 left out with a reason (15 unfillable); 1 calls (list calls added included)"),
        "{text}"
    );
}

#[test]
fn strict_rejects_the_samples_as_before() {
    for (file, first) in [
        ("services/s3.json", "entry 1: invalid parameters for s3 GetBucketAccelerateConfiguration: missing required parameter Bucket (and 41 more problems)"),
        ("services/ec2.json", "invalid parameters for ec2 DescribeByoipCidrs: missing required parameter MaxResults"),
    ] {
        for plan in [true, false] {
            let path = sample(file);
            let mut args = vec!["scan", "-s", path.as_str(), "--strict"];
            if plan {
                args.push("--plan");
            }
            let out = census(&args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{err}");
            assert!(err.contains(first), "{err}");
        }
    }
}

#[test]
fn a_typo_still_fails_with_did_you_mean() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("samples-typo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text, want) in [
        (
            "op.json",
            r#"[{"service": "s3", "function": "list_bucket"}]"#,
            "did you mean list_buckets?",
        ),
        (
            "service.json",
            r#"[{"service": "ec3", "function": "describe_instances"}]"#,
            "did you mean ec2",
        ),
        (
            "retired-op.json",
            r#"[{"service": "chime", "function": "list_meeting"}]"#,
            "unknown operation \"list_meeting\" for chime",
        ),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        for plan in [true, false] {
            let mut args = vec!["scan", "-s", path.to_str().unwrap()];
            if plan {
                args.push("--plan");
            }
            let out = census(&args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{name}: {err}");
            assert!(err.contains(want), "{name}: {err}");
        }
    }
}

#[test]
fn a_file_of_retired_entries_plans_but_does_not_scan() {
    let path = sample("services/alexaforbusiness.json");
    let out = census(&["scan", "-s", &path, "--plan"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("service retired (the client was removed following the service's deprecation, botocore 1.34.121)"), "{text}");
    let out = census(&[
        "scan",
        "-s",
        &path,
        "--role-arns",
        "arn:aws:iam::111111111111:role/x",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("leaving out 23 scan file entries that cannot run (23 retired)"),
        "{err}"
    );
    assert!(err.contains("no entry of the scan files can run"), "{err}");
}
