//! `census scan` end to end against moto: a seeded organization (8 members in nested
//! OUs, resources in 3 regions), the binary run as a user runs it, the output tree
//! checked against the seed's manifest.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use testkit::{
    cli_command, read_json, scan_root, seed_demo_org, DemoOrg, Manifest, Moto, TempDir,
    FAKE_SECRET_ACCESS_KEY,
};

fn scans_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scans")
}

fn temp_dir(name: &str) -> TempDir {
    TempDir::new(&format!("census-test-{name}"))
}

fn census(endpoint: &str, args: &[&str]) -> Output {
    cli_command(env!("CARGO_BIN_EXE_census"), endpoint)
        .args(args)
        .output()
        .unwrap()
}

/// How to read a resource's id from one item of an output file.
type IdOf = fn(&Value) -> Option<String>;

/// Every resource id of each kind found in the tree, with where it was found:
/// kind -> id -> [(account id, region)].
fn found_resources(root: &Path) -> BTreeMap<String, BTreeMap<String, Vec<(String, String)>>> {
    let mut out: BTreeMap<String, BTreeMap<String, Vec<(String, String)>>> = BTreeMap::new();
    let kinds: &[(&str, &str, IdOf)] = &[
        ("ec2-describe_vpcs", "ec2:vpc", |v| {
            v["VpcId"].as_str().map(str::to_string)
        }),
        ("ec2-describe_subnets", "ec2:subnet", |v| {
            v["SubnetId"].as_str().map(str::to_string)
        }),
        ("ec2-describe_security_groups", "ec2:security-group", |v| {
            v["GroupId"].as_str().map(str::to_string)
        }),
        ("ec2-describe_instances", "ec2:instance", |v| {
            v["InstanceId"].as_str().map(str::to_string)
        }),
        ("s3-list_buckets", "s3:bucket", |v| {
            v["Name"].as_str().map(str::to_string)
        }),
        ("dynamodb-list_tables", "dynamodb:table", |v| {
            v.as_str().map(str::to_string)
        }),
        ("sqs-list_queues", "sqs:queue", |v| {
            v.as_str()
                .and_then(|u| u.rsplit('/').next())
                .map(str::to_string)
        }),
        ("sns-list_topics", "sns:topic", |v| {
            v["TopicArn"].as_str().map(str::to_string)
        }),
        ("lambda-list_functions", "lambda:function", |v| {
            v["FunctionName"].as_str().map(str::to_string)
        }),
        ("kms-list_keys", "kms:key", |v| {
            v["KeyId"].as_str().map(str::to_string)
        }),
        ("logs-describe_log_groups", "logs:log-group", |v| {
            v["logGroupName"].as_str().map(str::to_string)
        }),
        (
            "cloudformation-describe_stacks",
            "cloudformation:stack-id",
            |v| v["StackId"].as_str().map(str::to_string),
        ),
        ("iam-list_roles", "iam:role", |v| {
            v["RoleName"].as_str().map(str::to_string)
        }),
        ("iam-list_users", "iam:user", |v| {
            v["UserName"].as_str().map(str::to_string)
        }),
        ("iam-list_policies", "iam:policy", |v| {
            v["Arn"].as_str().map(str::to_string)
        }),
        ("route53-list_hosted_zones", "route53:hosted-zone", |v| {
            v["Id"]
                .as_str()
                .map(|id| id.trim_start_matches("/hostedzone/").to_string())
        }),
    ];
    for account_dir in std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
    {
        let name = account_dir
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        if name.starts_with('.') {
            continue;
        }
        let account_id = name.split('-').next().unwrap().to_string();
        for region_dir in std::fs::read_dir(&account_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
        {
            let region = region_dir
                .file_name()
                .unwrap()
                .to_string_lossy()
                .to_string();
            for (stem, kind, id_of) in kinds {
                let file = region_dir.join(format!("{stem}.json"));
                if !file.exists() {
                    continue;
                }
                let items = read_json(&file);
                let items = items
                    .as_array()
                    .unwrap_or_else(|| panic!("{}: a list expected", file.display()));
                for item in items {
                    let id = id_of(item)
                        .unwrap_or_else(|| panic!("{}: no id in {item}", file.display()));
                    out.entry(kind.to_string())
                        .or_default()
                        .entry(id)
                        .or_default()
                        .push((account_id.clone(), region.clone()));
                }
            }
        }
    }
    out
}

fn assert_manifest_found(manifest: &Manifest, root: &Path) {
    assert_manifest_found_except(manifest, root, &BTreeSet::new());
}

/// [`assert_manifest_found`] for every account but `unreachable` ones.
fn assert_manifest_found_except(manifest: &Manifest, root: &Path, unreachable: &BTreeSet<String>) {
    let found = found_resources(root);
    // (kind, account, region or global, id) for everything the seed made.
    let mut expected: BTreeSet<(String, String, String, String)> = BTreeSet::new();
    for (account, regions) in manifest
        .resources
        .iter()
        .filter(|(a, _)| !unreachable.contains(*a))
    {
        for (region, kinds) in regions {
            for (kind, ids) in kinds {
                // Stack names repeat; their ids (ARNs) are checked instead.
                if kind == "cloudformation:stack" {
                    continue;
                }
                // Buckets are listed once per account (ListBuckets is global).
                let label = if kind == "s3:bucket"
                    || kind.starts_with("iam:")
                    || kind.starts_with("route53:")
                {
                    "global".to_string()
                } else {
                    region.clone()
                };
                for id in ids {
                    expected.insert((
                        kind.clone(),
                        account.clone(),
                        label.clone(),
                        id.trim_start_matches("/hostedzone/").to_string(),
                    ));
                }
            }
        }
    }
    let mut seen: BTreeMap<(String, String, String, String), usize> = BTreeMap::new();
    for (kind, ids) in &found {
        for (id, places) in ids {
            for (account, region) in places {
                *seen
                    .entry((kind.clone(), account.clone(), region.clone(), id.clone()))
                    .or_default() += 1;
            }
        }
    }
    // Every seeded resource is in the tree exactly once, in its account and region...
    for e in &expected {
        assert_eq!(
            seen.get(e).copied().unwrap_or(0),
            1,
            "{e:?} found {} times",
            seen.get(e).copied().unwrap_or(0)
        );
    }
    // ...and nothing seeded turns up anywhere else (moto's own defaults, such as the
    // default VPC, are not in the manifest and may be anywhere).
    let seeded_ids: BTreeSet<(String, String)> = expected
        .iter()
        .map(|(k, _, _, id)| (k.clone(), id.clone()))
        .collect();
    for key in seen.keys() {
        if seeded_ids.contains(&(key.0.clone(), key.3.clone())) {
            assert!(
                expected.contains(key),
                "{key:?} is in the tree but the seed did not make it there"
            );
        }
    }
    assert!(
        expected.len() > 100,
        "only {} resources checked: is the seed empty?",
        expected.len()
    );
}

fn account_ids(root: &Path) -> BTreeSet<String> {
    read_json(&root.join("accounts.json"))
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn an_organization_scan_finds_every_seeded_resource_once() {
    let moto = Moto::start();
    let manifest = seed_demo_org(&moto, &DemoOrg::default());
    let out = temp_dir("org");
    let scan_file = scans_dir().join("inventory.json");
    let regions = manifest.regions.join(",");
    let result = census(
        &moto.endpoint(),
        &[
            "scan",
            "--org",
            "-s",
            scan_file.to_str().unwrap(),
            "--regions",
            &regions,
            "-o",
            out.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(
        result.status.code(),
        Some(0),
        "census scan failed:\n{stderr}"
    );
    let root = scan_root(&out);
    assert_manifest_found(&manifest, &root);
    // Every ACTIVE account, management included, with its OU path and tags.
    let ids = account_ids(&root);
    let mut want: BTreeSet<String> = manifest
        .members()
        .filter(|a| a.status == "ACTIVE")
        .map(|a| a.id.clone())
        .collect();
    want.insert(manifest.management_account_id.clone());
    assert_eq!(ids, want);
    let accounts = read_json(&root.join("accounts.json"));
    for a in manifest.members() {
        let got = accounts
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == a.id.as_str())
            .unwrap();
        assert_eq!(got["ou_path"], a.ou_path.as_str(), "{}", a.name);
        assert_eq!(got["name"], a.name.as_str());
        assert_eq!(got["scan_status"], "ok");
        assert_eq!(got["status"], "ACTIVE");
    }
    // The summary accounts for every call, with pages beyond the first for the
    // small page sizes of the scan file.
    let summary = read_json(&root.join("summary.json"));
    assert_eq!(summary["totals"]["calls_failed"], 0, "{summary}");
    let multi_page = summary["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["calls"].as_array().unwrap())
        .filter(|c| c["pages"].as_u64().unwrap() > 1)
        .count();
    assert!(
        multi_page >= 10,
        "only {multi_page} calls spanned several pages"
    );
    // No secret reaches the output: neither the base secret key nor any credentials
    // the assumed roles got.
    let mut files = vec![root.clone()];
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else {
            let text = std::fs::read_to_string(&p).unwrap();
            for secret in [FAKE_SECRET_ACCESS_KEY, "SecretAccessKey", "SessionToken"] {
                assert!(!text.contains(secret), "{} holds {secret}", p.display());
            }
        }
    }
    assert!(!stderr.contains(FAKE_SECRET_ACCESS_KEY));
    // Empty results are files holding [], never missing.
    let empty = root
        .join(format!(
            "{}-{}",
            manifest.members().last().unwrap().id,
            manifest.members().last().unwrap().name
        ))
        .join("eu-west-1")
        .join("lambda-list_functions.json");
    assert_eq!(
        read_json(&empty),
        serde_json::json!([]),
        "{}",
        empty.display()
    );
}

#[test]
fn filters_select_exactly_the_expected_accounts() {
    let moto = Moto::start();
    let manifest = seed_demo_org(
        &moto,
        &DemoOrg {
            resource_accounts: 0,
            ..DemoOrg::default()
        },
    );
    let scan_file = scans_dir().join("one-call.json");
    let workloads = manifest
        .ous
        .iter()
        .find(|o| o.path == "Root/Workloads")
        .unwrap();
    let prod = manifest
        .ous
        .iter()
        .find(|o| o.path == "Root/Workloads/Prod")
        .unwrap();
    let members: Vec<_> = manifest
        .members()
        .filter(|a| a.status == "ACTIVE")
        .collect();
    let under = |path: &str| -> BTreeSet<String> {
        members
            .iter()
            .filter(|a| a.ou_path == path || a.ou_path.starts_with(&format!("{path}/")))
            .map(|a| a.id.clone())
            .collect()
    };
    let excluded = members[0].id.clone();
    let cases: Vec<(Vec<String>, BTreeSet<String>)> = vec![
        (
            vec![
                "--ou".into(),
                workloads.id.clone(),
                "--include-management".into(),
                "false".into(),
            ],
            under("Root/Workloads"),
        ),
        (
            vec![
                "--ou".into(),
                workloads.id.clone(),
                "--exclude-ou".into(),
                prod.id.clone(),
                "--include-management".into(),
                "false".into(),
            ],
            under("Root/Workloads")
                .difference(&under("Root/Workloads/Prod"))
                .cloned()
                .collect(),
        ),
        (
            vec!["--exclude-accounts".into(), excluded.clone()],
            members
                .iter()
                .map(|a| a.id.clone())
                .filter(|id| *id != excluded)
                .chain([manifest.management_account_id.clone()])
                .collect(),
        ),
        (
            vec![
                "--accounts".into(),
                format!("{},{}", members[1].id, members[2].id),
            ],
            [members[1].id.clone(), members[2].id.clone()]
                .into_iter()
                .collect(),
        ),
    ];
    for (i, (flags, want)) in cases.iter().enumerate() {
        let out = temp_dir(&format!("filters-{i}"));
        let mut args = vec![
            "scan",
            "--org",
            "-s",
            scan_file.to_str().unwrap(),
            "--regions",
            "us-east-1",
            "-o",
            out.to_str().unwrap(),
        ];
        args.extend(flags.iter().map(String::as_str));
        let result = census(&moto.endpoint(), &args);
        assert_eq!(
            result.status.code(),
            Some(0),
            "{flags:?}: {}",
            String::from_utf8_lossy(&result.stderr)
        );
        let root = scan_root(&out);
        assert_eq!(&account_ids(&root), want, "{flags:?}");
        // Each account's GetCallerIdentity ran as that account.
        for id in want {
            let dir = std::fs::read_dir(&root)
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| {
                    p.file_name()
                        .unwrap()
                        .to_string_lossy()
                        .starts_with(id.as_str())
                })
                .unwrap();
            let who = read_json(&dir.join("us-east-1").join("sts-get_caller_identity.json"));
            assert_eq!(who["Account"], id.as_str(), "{flags:?}");
        }
    }
}

/// Runs census with the binary's environment pointed at `endpoint`, without waiting.
fn spawn_census(endpoint: &str, args: &[&str]) -> std::process::Child {
    cli_command(env!("CARGO_BIN_EXE_census"), endpoint)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// The protocol a request speaks, to answer it with an error in that protocol's format.
fn protocol_of(r: &testkit::SeenRequest) -> testkit::Protocol {
    use testkit::Protocol;
    let body = r.body_str();
    if r.header("x-amz-target").is_some() {
        Protocol::Json
    } else if body.contains("Action=") {
        if body.contains("Version=2016-11-15") {
            Protocol::Ec2
        } else {
            Protocol::Query
        }
    } else if r.path.starts_with("/2015-03-31/") {
        Protocol::RestJson
    } else {
        Protocol::RestXml
    }
}

#[test]
fn a_faulty_network_loses_nothing_reachable() {
    use testkit::{Action, FaultProxy, Match, Protocol, Reply, Rule};
    let moto = Moto::start();
    let manifest = seed_demo_org(&moto, &DemoOrg::default());
    let proxy = FaultProxy::start(&moto);
    // AssumeRole denied for two accounts: one with resources, one without.
    let denied: BTreeSet<String> = [
        manifest.resource_accounts()[1].id.clone(),
        manifest.members().last().unwrap().id.clone(),
    ]
    .into_iter()
    .collect();
    for id in &denied {
        proxy.add(Rule::new(
            Match::any().form_action("AssumeRole").body_contains(id),
            Action::Reply(Reply::access_denied(Protocol::Query)),
        ));
    }
    // Every 5th request throttled (20%), every 33rd a 500 (3%), every 50th reset, each
    // in the protocol of the request it answers.
    for protocol in [
        Protocol::Query,
        Protocol::Ec2,
        Protocol::Json,
        Protocol::RestJson,
        Protocol::RestXml,
    ] {
        proxy.add(Rule::new(
            Match::any().custom(move |r| r.seq % 5 == 0 && protocol_of(r) == protocol),
            Action::Reply(Reply::throttling(protocol)),
        ));
        proxy.add(Rule::new(
            Match::any().custom(move |r| r.seq % 33 == 7 && protocol_of(r) == protocol),
            Action::Reply(Reply::internal_error(protocol)),
        ));
    }
    proxy.add(Rule::new(
        Match::any().custom(|r| r.seq % 50 == 13),
        Action::Reset,
    ));
    let out = temp_dir("faults");
    let scan_file = scans_dir().join("inventory.json");
    let regions = manifest.regions.join(",");
    let result = census(
        &proxy.endpoint(),
        &[
            "scan",
            "--org",
            "-s",
            scan_file.to_str().unwrap(),
            "--regions",
            &regions,
            "--max-retries",
            "8",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(
        result.status.code(),
        Some(2),
        "exit 2 expected (two accounts denied):\n{stderr}"
    );
    let injected = proxy.requests().iter().filter(|r| r.rule.is_some()).count();
    assert!(injected > 100, "only {injected} faults injected");
    let root = scan_root(&out);
    assert_manifest_found_except(&manifest, &root, &denied);
    let accounts = read_json(&root.join("accounts.json"));
    for a in accounts.as_array().unwrap() {
        let id = a["id"].as_str().unwrap();
        if denied.contains(id) {
            assert_eq!(a["scan_status"], "error", "{a}");
            assert_eq!(a["error_code"], "AccessDenied", "{a}");
            let remediation = a["remediation"].as_str().unwrap_or("");
            assert!(
                remediation.contains("trust"),
                "remediation names the trust policy: {remediation}"
            );
            assert!(
                stderr.contains(id),
                "the denied account is reported on stderr: {stderr}"
            );
        } else {
            assert_eq!(a["scan_status"], "ok", "{a}");
        }
    }
    // Every call of a reachable account succeeded despite the faults.
    let summary = read_json(&root.join("summary.json"));
    assert_eq!(
        summary["totals"]["calls_failed"], 0,
        "{}",
        summary["totals"]
    );
    assert!(!stderr.contains(FAKE_SECRET_ACCESS_KEY));
}

/// Every file of a scan folder but the run's own bookkeeping, with timings removed.
fn comparable_tree(root: &Path) -> BTreeMap<String, Value> {
    fn walk(dir: &Path, base: &Path, out: &mut BTreeMap<String, Value>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(base).unwrap().to_string_lossy().to_string();
            if rel.starts_with(".census") {
                continue;
            }
            if p.is_dir() {
                walk(&p, base, out);
            } else {
                let mut v = read_json(&p);
                scrub(&mut v);
                out.insert(rel, v);
            }
        }
    }
    fn scrub(v: &mut Value) {
        match v {
            Value::Object(o) => {
                o.remove("duration_ms");
                // The scan's own identity: its id, start time, and whether it resumed.
                if o.contains_key("started") && o.contains_key("version") {
                    for k in ["id", "started", "resumed"] {
                        o.remove(k);
                    }
                }
                o.values_mut().for_each(scrub);
            }
            Value::Array(a) => a.iter_mut().for_each(scrub),
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

#[test]
fn a_killed_scan_resumes_to_the_same_result() {
    use testkit::{Action, FaultProxy, Match, Rule};
    let moto = Moto::start();
    let manifest = seed_demo_org(&moto, &DemoOrg::default());
    let scan_file = scans_dir().join("inventory.json");
    let regions = manifest.regions.join(",");
    // The reference: an uninterrupted scan.
    let reference_out = temp_dir("resume-reference");
    let result = census(
        &moto.endpoint(),
        &[
            "scan",
            "--org",
            "-s",
            scan_file.to_str().unwrap(),
            "--regions",
            &regions,
            "-o",
            reference_out.to_str().unwrap(),
        ],
    );
    assert_eq!(
        result.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let reference = comparable_tree(&scan_root(&reference_out));

    // The same scan, slowed down through the proxy so that it is killed half way.
    let proxy = FaultProxy::start(&moto);
    proxy.add(Rule::new(
        Match::any(),
        Action::delay(std::time::Duration::from_millis(150), Action::Forward),
    ));
    let out = temp_dir("resume");
    let mut child = spawn_census(
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
    );
    // Wait until some, not all, calls are journaled, then kill -9.
    let root = testkit::kill_scan_when_journaled(&mut child, &out, 40);
    let journal = root.join(".census/journal.jsonl");
    assert!(
        !root.join("summary.json").exists(),
        "the killed scan must not have finished"
    );
    let before = std::fs::read_to_string(&journal)
        .unwrap()
        .matches("\"call\"")
        .count();

    // Resume without the slow proxy.
    let result = census(
        &moto.endpoint(),
        &["scan", "--resume", root.to_str().unwrap()],
    );
    assert_eq!(
        result.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let after = std::fs::read_to_string(&journal)
        .unwrap()
        .matches("\"call\"")
        .count();
    let total = read_json(&root.join("summary.json"))["totals"]["calls"]
        .as_u64()
        .unwrap() as usize;
    // Only what had not completed ran again.
    assert!(
        after - before <= total - before + 2 && after >= total,
        "before {before}, after {after}, total {total}"
    );
    let resumed = comparable_tree(&root);
    assert_eq!(
        resumed.keys().collect::<Vec<_>>(),
        reference.keys().collect::<Vec<_>>()
    );
    for (k, v) in &reference {
        if &resumed[k] != v {
            let (a, b) = (resumed[k].to_string(), v.to_string());
            let at = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
            panic!(
                "{k} differs between the resumed and the uninterrupted scan, from character {at}:\n  resumed: {}\n  reference: {}",
                &a[at.saturating_sub(80)..(at + 120).min(a.len())],
                &b[at.saturating_sub(80)..(at + 120).min(b.len())]
            );
        }
    }
}

/// `--shard K/N` with one `--scan-id`: the shards scan disjoint sets of accounts that
/// together are the whole organization, into one folder, each with its own run-wide
/// files, and their union is the unsharded scan.
#[test]
fn shards_split_the_accounts_and_merge_into_one_scan() {
    let (moto, manifest) = testkit::shared_demo_org();
    let scan_file = scans_dir().join("one-call.json");
    let out = temp_dir("shards");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            "--org",
            "-s",
            scan_file.to_str().unwrap(),
            "--regions",
            "us-east-1",
            "-o",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        census(&moto.endpoint(), &args)
    };
    let whole = run(&["--scan-id", "whole"]);
    assert_eq!(whole.status.code(), Some(0), "{}", stderr_of(&whole));
    let all = account_ids(&out.join("whole"));
    let active = manifest
        .accounts
        .iter()
        .filter(|a| a.status == "ACTIVE")
        .count();
    assert_eq!(all.len(), active);

    let mut seen = BTreeSet::new();
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let r = run(&["--scan-id", "nightly", "--shard", &shard]);
        assert_eq!(r.status.code(), Some(0), "{shard}: {}", stderr_of(&r));
        let root = out.join("nightly");
        let tag = format!("shard-{k}-of-3");
        let ids: BTreeSet<String> = read_json(&root.join(format!("accounts.{tag}.json")))
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_string())
            .collect();
        assert!(ids.is_disjoint(&seen), "{shard}: {ids:?} already scanned");
        seen.extend(ids.iter().cloned());
        let summary = read_json(&root.join(format!("summary.{tag}.json")));
        assert_eq!(summary["accounts"].as_array().unwrap().len(), ids.len());
        assert!(out.join(format!("census.{tag}.db")).exists(), "{shard}");
        assert!(root
            .join(".census")
            .join(format!("plan.{tag}.json"))
            .exists());
        // The same shard of the same scan again is refused: it would mix two runs.
        if k == 1 {
            let again = run(&["--scan-id", "nightly", "--shard", &shard]);
            assert_eq!(again.status.code(), Some(1));
            assert!(
                stderr_of(&again).contains("--resume"),
                "{}",
                stderr_of(&again)
            );
        }
    }
    assert_eq!(seen, all, "the shards together scan every account once");
    // Same files, account by account, as the unsharded scan.
    let files = |root: &Path| -> BTreeSet<String> {
        let mut v = BTreeSet::new();
        for a in std::fs::read_dir(root).unwrap().map(|e| e.unwrap().path()) {
            if a.is_dir() && !a.file_name().unwrap().to_string_lossy().starts_with('.') {
                for f in walk(&a) {
                    v.insert(f.strip_prefix(root).unwrap().display().to_string());
                }
            }
        }
        v
    };
    assert_eq!(files(&out.join("nightly")), files(&out.join("whole")));
    assert!(!out.join("nightly").join("summary.json").exists());

    for (flags, want) in [
        (
            vec!["--shard", "4/3"],
            "--shard \"4/3\": shard 4 is not between 1 and 3",
        ),
        (vec!["--shard", "auto/3"], "JOB_COMPLETION_INDEX"),
        (
            vec!["--scan-id", "a/b"],
            "--scan-id: \"a/b\" is not a scan id",
        ),
    ] {
        let r = run(&flags);
        let err = stderr_of(&r);
        assert_eq!(r.status.code(), Some(1), "{flags:?}: {err}");
        assert!(err.contains(want), "{flags:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{flags:?}: {err}");
    }
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()) {
        if e.is_dir() {
            out.extend(walk(&e));
        } else {
            out.push(e);
        }
    }
    out
}
