//! Nothing lost to faults, with default flags: `census scan` of the seeded moto
//! organization behind the fault-injecting proxy (random throttling in each protocol's
//! own error format, 5xx, connection resets, AssumeRole denied for two accounts) finds
//! every resource a fault-free scan finds, item for item; a call that still fails with a
//! retryable error gets a second round and is recorded once; `--resume` runs again what
//! ended in a retryable error and the store ends with the new outcome; and an
//! organization whose STS throttles AssumeRole per caller (fakeaws) is scanned whole.
//! Discovery under Organizations' limits (fakeaws): the scan starts on the first page
//! of accounts, a shard reads only its own accounts' tags and every output gets them,
//! and a scan killed before discovery ended is resumed whole.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;
use testkit::{
    cli_command, read_json, scan_root, shared_demo_org, Action, FaultProxy, Manifest, Match,
    Protocol, Reply, Rule, TempDir, FAULT_REQUEST_ID,
};

fn scan_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scans/inventory.json")
}

fn census<S: AsRef<std::ffi::OsStr>>(endpoint: &str, args: &[S]) -> Output {
    cli_command(env!("CARGO_BIN_EXE_census"), endpoint)
        .args(args)
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every result file of the accounts' folders (`<account>/<region>/<stem>.json`), by
/// path, with what differs between two scans of the same data replaced: the proxy's
/// address (SQS queue URLs take the Host header) and the scan id (in role session
/// names).
fn results(root: &Path, endpoint: &str) -> BTreeMap<String, Value> {
    let scan_id = root.file_name().unwrap().to_string_lossy().to_string();
    let host = endpoint.trim_start_matches("http://");
    let mut out = BTreeMap::new();
    for account in std::fs::read_dir(root).unwrap().map(|e| e.unwrap().path()) {
        let name = account.file_name().unwrap().to_string_lossy().to_string();
        if !account.is_dir() || name.starts_with('.') {
            continue;
        }
        for region in std::fs::read_dir(&account)
            .unwrap()
            .map(|e| e.unwrap().path())
        {
            for file in std::fs::read_dir(&region)
                .unwrap()
                .map(|e| e.unwrap().path())
            {
                let text = std::fs::read_to_string(&file).unwrap();
                let text = text.replace(host, "ENDPOINT").replace(&scan_id, "SCAN");
                let rel = file
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .to_string();
                out.insert(rel, serde_json::from_str(&text).unwrap());
            }
        }
    }
    out
}

/// The call lines of a scan's journal, in order.
fn journal_calls(root: &Path) -> Vec<Value> {
    std::fs::read_to_string(root.join(".census/journal.jsonl"))
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v.get("call").cloned())
        .collect()
}

fn key(call: &Value) -> (String, String, String) {
    let s = |k: &str| call[k].as_str().unwrap().to_string();
    (s("account_id"), s("region"), s("stem"))
}

/// What census.db holds for the scan: the scans row's totals (calls, calls failed,
/// items), the rows of the calls table (all, failed) and the resource rows.
fn database(db: &Path, scan_id: &str) -> ((i64, i64, i64), (i64, i64), i64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let totals = conn
        .query_row(
            "SELECT calls, calls_failed, items FROM scans WHERE scan_id = ?1",
            [scan_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let calls = conn
        .query_row(
            "SELECT count(*), count(*) FILTER (WHERE status != 'ok') FROM calls WHERE scan_id = ?1",
            [scan_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let resources = conn
        .query_row(
            "SELECT count(*) FROM resources WHERE scan_id = ?1",
            [scan_id],
            |r| r.get(0),
        )
        .unwrap();
    (totals, calls, resources)
}

/// `census query SQL --postgres URL --output json`: the rows.
fn pg_query(url: &str, sql: &str) -> Vec<Value> {
    let out = census(
        "http://127.0.0.1:9",
        &["query", sql, "--postgres", url, "--output", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{sql}: {}", stderr(&out));
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    rows.as_array().unwrap().clone()
}

/// The two accounts whose AssumeRole is denied: one with resources, one without.
fn denied_accounts(manifest: &Manifest) -> BTreeSet<String> {
    [
        manifest.resource_accounts()[1].id.clone(),
        manifest.members().last().unwrap().id.clone(),
    ]
    .into_iter()
    .collect()
}

fn deny_assume_role(proxy: &FaultProxy, accounts: &BTreeSet<String>) {
    for id in accounts {
        proxy.add(Rule::new(
            Match::any().form_action("AssumeRole").body_contains(id),
            Action::Reply(Reply::access_denied(Protocol::Query)),
        ));
    }
}

/// Scans with default retry flags: the organization, the test scan file, the seeded
/// regions.
fn scan(endpoint: &str, manifest: &Manifest, out: &Path) -> Output {
    let regions = manifest.regions.join(",");
    census(
        endpoint,
        &[
            "scan",
            "--org",
            "-s",
            scan_file().to_str().unwrap(),
            "--regions",
            &regions,
            "-o",
            out.to_str().unwrap(),
        ],
    )
}

#[test]
fn random_faults_lose_nothing_reachable_over_five_seeds() {
    let (moto, manifest) = shared_demo_org();
    let denied = denied_accounts(manifest);

    // The fault-free scan, through a proxy without rules (same Host header handling).
    let clean = FaultProxy::start(moto);
    let out = TempDir::new("census-faults-clean");
    let result = scan(&clean.endpoint(), manifest, &out);
    assert_eq!(result.status.code(), Some(0), "{}", stderr(&result));
    let clean_root = scan_root(&out);
    let mut expected = results(&clean_root, &clean.endpoint());
    expected.retain(|path, _| !denied.iter().any(|id| path.starts_with(id.as_str())));
    let expected_items: usize = expected
        .values()
        .map(|v| v.as_array().map_or(1, Vec::len))
        .sum();
    assert!(
        expected_items > 100,
        "only {expected_items} items reachable"
    );

    // The five seeds run at once (each scan mostly waits out its backoff), each through
    // a proxy of its own, so that its draws follow its own requests.
    let run = |seed: u64| -> (BTreeMap<String, u64>, u64, u64) {
        let mut throttled = BTreeMap::<String, u64>::new();
        let proxy = FaultProxy::start(moto);
        deny_assume_role(&proxy, &denied);
        // 20% throttling and 3% 500s, each in the protocol of the request it answers,
        // and 1% connection resets: disjoint ranges of one reproducible draw.
        let mut throttle_rules = Vec::new();
        let mut error_rules = Vec::new();
        for p in Protocol::ALL {
            let rule = proxy.add(Rule::new(
                Match::any().draw(seed, 0.0, 0.20).protocol(p),
                Action::Reply(Reply::throttling(p)),
            ));
            throttle_rules.push((p, rule));
            error_rules.push(proxy.add(Rule::new(
                Match::any().draw(seed, 0.20, 0.23).protocol(p),
                Action::Reply(Reply::internal_error(p)),
            )));
        }
        let reset_rule = proxy.add(Rule::new(
            Match::any().draw(seed, 0.23, 0.24),
            Action::Reset,
        ));

        let out = TempDir::new(&format!("census-faults-seed-{seed}"));
        let result = scan(&proxy.endpoint(), manifest, &out);
        let err = stderr(&result);
        assert_eq!(
            result.status.code(),
            Some(2),
            "seed {seed}: exit 2 expected (two accounts denied):\n{err}"
        );
        let root = scan_root(&out);

        // Every reachable result, item for item.
        let found = results(&root, &proxy.endpoint());
        assert_eq!(
            found.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "seed {seed}: the result files differ from the fault-free scan's"
        );
        for (path, value) in &expected {
            assert_eq!(&found[path], value, "seed {seed}: {path}");
        }

        // The two denied accounts, with the remediation, and only them.
        for a in read_json(&root.join("accounts.json")).as_array().unwrap() {
            let id = a["id"].as_str().unwrap();
            if denied.contains(id) {
                assert_eq!(a["scan_status"], "error", "seed {seed}: {a}");
                assert_eq!(a["error_code"], "AccessDenied", "seed {seed}: {a}");
                assert!(a.get("retryable").is_none(), "denied is not retryable: {a}");
                let remediation = a["remediation"].as_str().unwrap_or("");
                assert!(
                    remediation.contains("trust policy"),
                    "seed {seed}: {remediation}"
                );
                assert!(err.contains(id), "seed {seed}: {id} not on stderr:\n{err}");
            } else {
                assert_eq!(a["scan_status"], "ok", "seed {seed}: {a}");
            }
        }

        // Recorded once: one journal line per call, and the summary, the database and
        // the tree agree.
        let summary = read_json(&root.join("summary.json"));
        let totals = &summary["totals"];
        assert_eq!(totals["calls_failed"], 0, "seed {seed}: {totals}");
        assert_eq!(totals["accounts_failed"], 2, "seed {seed}: {totals}");
        let lines = journal_calls(&root);
        let keys: BTreeSet<_> = lines.iter().map(key).collect();
        assert_eq!(
            lines.len(),
            keys.len(),
            "seed {seed}: a call was recorded twice"
        );
        assert_eq!(totals["calls"], lines.len(), "seed {seed}");
        assert_eq!(lines.len(), expected.len(), "seed {seed}");
        let scan_id = root.file_name().unwrap().to_string_lossy().to_string();
        let ((calls, failed, items), (rows, failed_rows), resources) =
            database(&out.join("census.db"), &scan_id);
        assert_eq!((calls, failed), (lines.len() as i64, 0), "seed {seed}");
        assert_eq!((rows, failed_rows), (lines.len() as i64, 0), "seed {seed}");
        assert_eq!(items, totals["items"].as_i64().unwrap(), "seed {seed}");
        assert!(resources > 0, "seed {seed}");

        // The faults really happened.
        for (p, rule) in &throttle_rules {
            *throttled.entry(format!("{p:?}")).or_default() += proxy.hits(*rule);
        }
        let server_errors = error_rules.iter().map(|r| proxy.hits(*r)).sum::<u64>();
        let resets = proxy.hits(reset_rule);
        let injected = proxy.requests().iter().filter(|r| r.rule.is_some()).count();
        assert!(injected > 30, "seed {seed}: only {injected} faults");
        assert!(!err.contains(testkit::FAKE_SECRET_ACCESS_KEY));
        (throttled, server_errors, resets)
    };
    let runs: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (1..=5u64).map(|seed| s.spawn(move || run(seed))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut throttled = BTreeMap::<String, u64>::new();
    let (mut server_errors, mut resets) = (0, 0);
    for (t, e, r) in runs {
        for (p, n) in t {
            *throttled.entry(p).or_default() += n;
        }
        server_errors += e;
        resets += r;
    }
    // Over the five seeds, every protocol was throttled, and 5xx and resets came too.
    assert_eq!(throttled.len(), 5, "{throttled:?}");
    assert!(throttled.values().all(|n| *n > 0), "{throttled:?}");
    assert!(
        server_errors > 10 && resets > 3,
        "{server_errors} 5xx, {resets} resets"
    );
}

#[test]
fn a_call_failing_once_more_gets_a_second_round_and_is_recorded_once() {
    let (moto, manifest) = shared_demo_org();
    let proxy = FaultProxy::start(moto);
    // The first 3 SQS ListQueues requests, whichever accounts they come from, fail with
    // a 500; retries are off, so each of those calls ends in a retryable error at once.
    let list_queues = Match::any().target("AmazonSQS.ListQueues");
    let rule = proxy.add(
        Rule::new(
            list_queues.clone(),
            Action::Reply(Reply::internal_error(Protocol::Json)),
        )
        .times(3),
    );
    let out = TempDir::new("census-faults-round");
    let regions = manifest.regions.join(",");
    let result = census(
        &proxy.endpoint(),
        &[
            "scan",
            "--org",
            "-s",
            scan_file().to_str().unwrap(),
            "--regions",
            &regions,
            "--max-retries",
            "0",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(result.status.code(), Some(0), "{}", stderr(&result));
    assert_eq!(proxy.hits(rule), 3);
    let root = scan_root(&out);
    let lines = journal_calls(&root);
    let sqs: Vec<&Value> = lines
        .iter()
        .filter(|c| c["stem"] == "sqs-list_queues")
        .collect();
    assert_eq!(sqs.len(), manifest.accounts.len() * manifest.regions.len());
    assert!(sqs.iter().all(|c| c["status"] == "ok"), "{sqs:?}");
    // Three more requests than calls (the pages of MaxResults 1 aside): the failed ones.
    let keys: BTreeSet<_> = lines.iter().map(key).collect();
    assert_eq!(keys.len(), lines.len(), "a call was recorded twice");
    let summary = read_json(&root.join("summary.json"));
    assert_eq!(summary["totals"]["calls"], lines.len());
    assert_eq!(summary["totals"]["calls_failed"], 0);
    let injected = proxy
        .requests_matching(&list_queues)
        .iter()
        .filter(|r| r.rule.is_some())
        .count();
    assert_eq!(injected, 3);
}

#[test]
fn resume_runs_again_what_ended_in_a_retryable_error() {
    let (moto, manifest) = shared_demo_org();
    let proxy = FaultProxy::start(moto);
    // Every SNS ListTopics answers 503 and one account's AssumeRole is throttled, for
    // good: with retries off, both rounds fail.
    let throttled_account = manifest.resource_accounts()[0].id.clone();
    let topics = proxy.add(Rule::new(
        Match::any().form_action("ListTopics"),
        Action::Reply(Reply::service_unavailable(Protocol::Query)),
    ));
    let assume = proxy.add(Rule::new(
        Match::any()
            .form_action("AssumeRole")
            .body_contains(&throttled_account),
        Action::Reply(Reply::throttling(Protocol::Query)),
    ));
    let out = TempDir::new("census-faults-resume");
    let regions = manifest.regions.join(",");
    let pg = testkit::Postgres::shared().create_database("census_faults_resume");
    let result = census(
        &proxy.endpoint(),
        &[
            "scan",
            "--org",
            "-s",
            scan_file().to_str().unwrap(),
            "--regions",
            &regions,
            "--max-retries",
            "0",
            "--postgres",
            &pg,
            "-o",
            out.to_str().unwrap(),
        ],
    );
    let err = stderr(&result);
    assert_eq!(result.status.code(), Some(2), "{err}");
    let root = scan_root(&out);
    let summary = read_json(&root.join("summary.json"));
    let failed: Vec<Value> = summary["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["calls"].as_array().cloned().unwrap_or_default())
        .filter(|c| c["status"] != "ok")
        .collect();
    // Every reachable account's ListTopics in every region, marked retryable.
    let reachable = manifest.accounts.len() - 1;
    assert_eq!(
        failed.len(),
        reachable * manifest.regions.len(),
        "{failed:?}"
    );
    for c in &failed {
        assert_eq!(c["stem"], "sns-list_topics", "{c}");
        assert_eq!(c["retryable"], true, "{c}");
        assert_eq!(c["request_id"], FAULT_REQUEST_ID, "{c}");
    }
    let accounts = read_json(&root.join("accounts.json"));
    let account = accounts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == throttled_account.as_str())
        .unwrap();
    assert_eq!(account["scan_status"], "error");
    assert_eq!(account["error_code"], "Throttling");
    assert_eq!(account["retryable"], true);
    assert!(
        account["remediation"]
            .as_str()
            .unwrap()
            .contains("--resume"),
        "{account}"
    );
    // One try and the second round, for each failed call; one per round for AssumeRole.
    let assume_tries = proxy.hits(assume);
    assert_eq!(assume_tries, 2);
    assert_eq!(proxy.hits(topics), 2 * failed.len() as u64);

    // The faults are gone: --resume runs those again, and only those.
    proxy.clear_rules();
    proxy.clear_requests();
    let result = census(
        &proxy.endpoint(),
        &[
            "scan",
            "--resume",
            root.to_str().unwrap(),
            "--postgres",
            &pg,
        ],
    );
    let err = stderr(&result);
    assert_eq!(result.status.code(), Some(0), "{err}");
    let said = format!(
        "running again {} calls and 1 account that ended in a retryable error",
        failed.len()
    );
    assert_eq!(err.matches(&said).count(), 1, "{err}");
    // The account's calls all ran; of the others only ListTopics did.
    let list_topics = proxy.requests_matching(&Match::any().form_action("ListTopics"));
    assert_eq!(list_topics.len(), failed.len() + manifest.regions.len());
    let vpcs = proxy.requests_matching(&Match::any().form_action("DescribeVpcs"));
    assert_eq!(vpcs.len(), manifest.regions.len(), "only the new account's");

    // The store ends with the new outcome, counted once.
    let summary = read_json(&root.join("summary.json"));
    let totals = &summary["totals"];
    assert_eq!(totals["calls_failed"], 0, "{totals}");
    assert_eq!(totals["accounts_failed"], 0, "{totals}");
    let lines = journal_calls(&root);
    let mut last = BTreeMap::new();
    for l in &lines {
        last.insert(key(l), l.clone());
    }
    assert!(last.values().all(|c| c["status"] == "ok"));
    assert_eq!(totals["calls"], last.len(), "{totals}");
    let items: u64 = last.values().map(|c| c["items"].as_u64().unwrap()).sum();
    assert_eq!(totals["items"], items, "{totals}");
    let scan_id = root.file_name().unwrap().to_string_lossy().to_string();
    let ((calls, calls_failed, db_items), (rows, failed_rows), _) =
        database(&out.join("census.db"), &scan_id);
    assert_eq!((calls, calls_failed), (last.len() as i64, 0));
    assert_eq!((rows, failed_rows), (last.len() as i64, 0));
    assert_eq!(db_items, items as i64);
    let pg_calls = pg_query(
        &pg,
        "select count(*) as n, count(*) filter (where status <> 'ok') as failed from calls",
    );
    assert_eq!(pg_calls[0]["n"], last.len(), "{pg_calls:?}");
    assert_eq!(pg_calls[0]["failed"], 0, "{pg_calls:?}");
    let pg_scan = pg_query(&pg, "select calls, calls_failed, items from scans");
    assert_eq!(pg_scan.len(), 1, "{pg_scan:?}");
    assert_eq!(pg_scan[0]["calls"], last.len(), "{pg_scan:?}");
    assert_eq!(pg_scan[0]["calls_failed"], 0, "{pg_scan:?}");
    assert_eq!(pg_scan[0]["items"], items, "{pg_scan:?}");
    let accounts = read_json(&root.join("accounts.json"));
    assert!(accounts
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["scan_status"] == "ok" && a.get("retryable").is_none()));
}

/// Accounts in the STS-throttling test: the issue saw 23 of 200 accounts fail at 20
/// AssumeRole/s; `bench/sts_throttle.py` runs the same at 1,000 (BENCHMARKS.md).
const THROTTLED_ORG_ACCOUNTS: usize = 300;

#[test]
fn an_organization_whose_sts_throttles_assume_role_is_scanned_whole() {
    let fake = fakeaws::Server::start(fakeaws::Options {
        accounts: THROTTLED_ORG_ACCOUNTS,
        latency: std::time::Duration::from_millis(5),
        sts_assume_role_rate: Some(20.0),
        ..fakeaws::Options::default()
    })
    .unwrap();
    let out = TempDir::new("census-faults-sts");
    let scan_file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/scans/scale4.json");
    let result = census(
        &fake.endpoint(),
        &[
            "scan",
            "--org",
            "-s",
            scan_file.to_str().unwrap(),
            "--regions",
            "us-east-1",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert_whole(&result, &out, THROTTLED_ORG_ACCOUNTS, 4);
    // STS did throttle, and every account was assumed in the end.
    let stats = fake.stats();
    let throttled = stats["throttled"].as_u64().unwrap();
    assert!(throttled > 0, "{stats}");
    let assumed = stats["by_operation"]["sts AssumeRole"]["count"]
        .as_u64()
        .unwrap();
    assert!(assumed >= (THROTTLED_ORG_ACCOUNTS - 1) as u64, "{stats}");
}

/// The scan in `out` exited 0 with every one of `accounts` accounts scanned and
/// `calls_each` calls of each, none failed.
fn assert_whole(result: &Output, out: &Path, accounts: usize, calls_each: usize) {
    assert_eq!(result.status.code(), Some(0), "{}", stderr(result));
    let root = scan_root(out);
    let listed = read_json(&root.join("accounts.json"));
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), accounts);
    assert!(listed.iter().all(|a| a["scan_status"] == "ok"));
    let totals = &read_json(&root.join("summary.json"))["totals"];
    assert_eq!(totals["accounts_failed"], 0, "{totals}");
    assert_eq!(totals["calls_failed"], 0, "{totals}");
    assert_eq!(totals["calls"], accounts * calls_each, "{totals}");
}

/// Accounts of the organization scanned under every limit at once.
const LIMITED_ORG_ACCOUNTS: usize = 40;

/// Organizations answering 5 requests/s, STS AssumeRole 20/s and each account's EC2
/// one request/s per region (two calls at once: the second is throttled with EC2's 503
/// `RequestLimitExceeded`): every account and every call comes back whole.
#[test]
fn an_organization_under_aws_like_limits_is_scanned_whole() {
    let fake = fakeaws::Server::start(fakeaws::Options {
        latency: std::time::Duration::from_millis(5),
        call_rate: Some(1.0),
        ..fakeaws::Options::aws_like(LIMITED_ORG_ACCOUNTS)
    })
    .unwrap();
    let out = TempDir::new("census-faults-limits");
    let scan_file = out.join("scan.json");
    std::fs::write(
        &scan_file,
        r#"[{"service": "ec2", "function": "describe_vpcs"},
            {"service": "ec2", "function": "describe_regions"},
            {"service": "sqs", "function": "list_queues"},
            {"service": "sns", "function": "list_topics"}]"#,
    )
    .unwrap();
    let result = census(
        &fake.endpoint(),
        &[
            "scan",
            "--org",
            "-s",
            scan_file.to_str().unwrap(),
            "--regions",
            "us-east-1",
            "-o",
            out.join("out").to_str().unwrap(),
        ],
    );
    assert_whole(&result, &out.join("out"), LIMITED_ORG_ACCOUNTS, 4);
    // Each limit did throttle: Organizations (its pages and tags), and EC2.
    let stats = fake.stats();
    let ops = stats["by_operation"].as_object().unwrap();
    let throttled = |prefix: &str| {
        ops.iter()
            .filter(|(k, _)| k.starts_with(prefix) && k.ends_with("(throttled)"))
            .map(|(_, v)| v["count"].as_u64().unwrap())
            .sum::<u64>()
    };
    assert!(throttled("organizations ") > 0, "{stats}");
    assert!(throttled("ec2 ") > 0, "{stats}");
    // Every account's VPCs were listed in the end.
    let vpcs = ops["ec2 DescribeVpcs"]["count"].as_u64().unwrap();
    assert_eq!(vpcs, LIMITED_ORG_ACCOUNTS as u64, "{stats}");
}

/// The operations fakeaws answered, by `"service Operation"` (a throttled answer's key
/// ends with ` (throttled)`): how many, and when the first and the last were answered.
fn answered(fake: &fakeaws::Server) -> serde_json::Map<String, Value> {
    fake.stats()["by_operation"].as_object().unwrap().clone()
}

/// `census scan --org FLAGS... -s <one call, ec2 DescribeVpcs> --regions us-east-1 -o
/// <dir>/out`: the arguments, the scan file written in `dir`.
fn org_vpcs_scan(dir: &Path, flags: &[&str]) -> Vec<String> {
    let path = dir.join("vpcs.json");
    std::fs::write(
        &path,
        r#"[{"service": "ec2", "function": "describe_vpcs"}]"#,
    )
    .unwrap();
    let mut args = vec!["scan".to_string(), "--org".to_string()];
    args.extend(flags.iter().map(|f| f.to_string()));
    args.extend([
        "-s".to_string(),
        path.to_string_lossy().into_owned(),
        "--regions".to_string(),
        "us-east-1".to_string(),
        "-o".to_string(),
        dir.join("out").to_string_lossy().into_owned(),
    ]);
    args
}

/// Discovery streams: the first AssumeRole goes out while Organizations (1 request a
/// second) is still handing out ListAccounts pages, and no tag is read when told not to.
#[test]
fn the_scan_starts_on_the_first_page_of_accounts() {
    let fake = fakeaws::Server::start(fakeaws::Options {
        accounts: 100,
        latency: std::time::Duration::from_millis(5),
        organizations_rate: Some(1.0),
        ..fakeaws::Options::default()
    })
    .unwrap();
    let out = TempDir::new("census-faults-stream");
    let result = census(
        &fake.endpoint(),
        &org_vpcs_scan(&out, &["--account-tags", "false"]),
    );
    // 100 accounts: 5 pages of 20.
    assert_whole(&result, &out.join("out"), 100, 1);
    let ops = answered(&fake);
    let pages = &ops["organizations ListAccounts"];
    assert_eq!(pages["count"], 5, "{ops:?}");
    let first_assume = ops["sts AssumeRole"]["first_s"].as_f64().unwrap();
    let last_page = pages["last_s"].as_f64().unwrap();
    assert!(
        first_assume < last_page,
        "the first account was entered at {first_assume:.2}s, after the last page of accounts at {last_page:.2}s"
    );
    assert!(
        !ops.contains_key("organizations ListTagsForResource"),
        "{ops:?}"
    );
    // The OU paths, read after the accounts were handed on, reach accounts.json.
    let listed = read_json(&scan_root(&out.join("out")).join("accounts.json"));
    let prod = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "prod-0001")
        .unwrap();
    assert_eq!(prod["ou_path"], "Root/Workloads/Prod", "{prod}");
}

/// With `--shard`, discovery reads the tags of the shard's own accounts only, and the
/// tags read after the accounts were handed on reach accounts.json, the journal's last
/// entry and the database.
#[test]
fn a_shard_reads_its_own_accounts_tags_and_every_output_has_them() {
    const ACCOUNTS: usize = 40;
    let fake = fakeaws::Server::start(fakeaws::Options {
        accounts: ACCOUNTS,
        latency: std::time::Duration::from_millis(5),
        ..fakeaws::Options::default()
    })
    .unwrap();
    let out = TempDir::new("census-faults-shard-tags");
    let result = census(&fake.endpoint(), &org_vpcs_scan(&out, &["--shard", "1/2"]));
    assert_eq!(result.status.code(), Some(0), "{}", stderr(&result));
    let root = scan_root(&out.join("out"));
    let listed = read_json(&root.join("accounts.shard-1-of-2.json"));
    let listed = listed.as_array().unwrap();
    assert!(
        listed.len() > 5 && listed.len() < ACCOUNTS - 5,
        "{}",
        listed.len()
    );
    let ops = answered(&fake);
    assert_eq!(
        ops["organizations ListTagsForResource"]["count"],
        listed.len(),
        "{ops:?}"
    );
    let org = fakeaws::org::Org::new(ACCOUNTS);
    let expected = |id: &str| {
        let a = org.account(id).unwrap();
        serde_json::json!({"Environment": a.environment, "Owner": a.owner})
    };
    for a in listed {
        let id = a["id"].as_str().unwrap();
        assert_eq!(a["tags"], expected(id), "{a}");
    }
    // The journal's last entry of each account, which --resume and merge read.
    let journal = std::fs::read_to_string(root.join(".census/journal.shard-1-of-2.jsonl")).unwrap();
    let mut last = BTreeMap::new();
    for line in journal.lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        if let Some(id) = e["account"]["id"].as_str() {
            last.insert(id.to_string(), e["account"]["tags"].clone());
        }
    }
    assert_eq!(last.len(), listed.len());
    for (id, tags) in last {
        assert_eq!(tags, expected(&id), "{id}");
    }
    let db = rusqlite::Connection::open(out.join("out").join("census.shard-1-of-2.db")).unwrap();
    let rows: Vec<(String, String)> = db
        .prepare("SELECT account_id, tags FROM accounts")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), listed.len());
    for (id, tags) in rows {
        let tags: Value = serde_json::from_str(&tags).unwrap();
        assert_eq!(tags, expected(&id), "{id}");
    }
}

/// A scan killed while discovery is still listing accounts keeps the discovery options
/// in its plan, and `--resume` discovers again and scans every account.
#[test]
fn a_scan_killed_before_discovery_ended_is_resumed_whole() {
    const ACCOUNTS: usize = 100;
    let fake = fakeaws::Server::start(fakeaws::Options {
        accounts: ACCOUNTS,
        latency: std::time::Duration::from_millis(5),
        organizations_rate: Some(1.0),
        ..fakeaws::Options::default()
    })
    .unwrap();
    let out = TempDir::new("census-faults-kill-discovery");
    let mut child = cli_command(env!("CARGO_BIN_EXE_census"), &fake.endpoint())
        .args(org_vpcs_scan(&out, &["--account-tags", "false"]))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed once the scan has entered an account and before the last of the 5 pages
    // (Organizations answers one request a second).
    loop {
        let ops = answered(&fake);
        if ops.contains_key("ec2 DescribeVpcs") {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "census ended before it was killed: {ops:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let ops = answered(&fake);
    assert!(
        ops["organizations ListAccounts"]["count"].as_u64().unwrap() < 5,
        "{ops:?}"
    );
    let root = scan_root(&out.join("out"));
    let plan = read_json(&root.join(".census/plan.json"));
    assert_eq!(plan["discovery"]["org"], true, "{plan}");

    let result = census(
        &fake.endpoint(),
        &["scan", "--resume", root.to_str().unwrap()],
    );
    assert_whole(&result, &out.join("out"), ACCOUNTS, 1);
    let plan = read_json(&root.join(".census/plan.json"));
    assert!(plan.get("discovery").is_none(), "{plan}");
    assert_eq!(plan["accounts"].as_array().unwrap().len(), ACCOUNTS);
}
