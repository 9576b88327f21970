//! Shards that know each other (issue 16): every shard of a scan records itself in
//! the store's `scan_shards`, and the scan counts as finished only when all N shards
//! are. Against moto (the shared demo organization) and a real PostgreSQL server
//! (testkit's [`Postgres`]), with the census binary run as separate processes, as
//! Kubernetes pods or Batch jobs would run it:
//! - three shards at once: the scan is unfinished while the third is held (its
//!   requests held by a fault proxy), `census scans` names it and `census diff`
//!   refuses the scan; once it finishes the scan is finished, and its tables equal an
//!   unsharded scan's of the same organization (`census diff` finds no difference);
//! - one shard killed (SIGKILL) while its requests are held: `census scans` names it,
//!   diff and report refuse the scan naming it, `--partial` reads it anyway, and
//!   `--resume` of that shard finishes the scan.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use testkit::{cli_command, shared_demo_org, Action, FaultProxy, Match, Postgres, Rule, TempDir};

/// The password every test URL carries; it must never be printed nor recorded.
const PASSWORD: &str = "pg-shards-pass-never-printed";

fn spec() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scans/inventory.json")
}

/// A fresh database on the shared server, as a URL with a password in it.
fn database(prefix: &str) -> String {
    let url = Postgres::shared().create_database(prefix);
    url.replacen("postgres@", &format!("postgres:{PASSWORD}@"), 1)
}

fn census(endpoint: &str, args: &[&str]) -> Command {
    let mut c = cli_command(env!("CARGO_BIN_EXE_census"), endpoint);
    c.args(args);
    c
}

fn no_password(out: &Output) {
    for text in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(text);
        assert!(!text.contains(PASSWORD), "the password was printed: {text}");
    }
}

fn ok(out: &Output, what: &str) -> String {
    no_password(out);
    testkit::succeeded(out, what)
}

/// The one line of a failed command's stderr (exit status 1).
fn one_line_error(out: &Output, what: &str) -> String {
    no_password(out);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{what}: {err}");
    assert_eq!(err.lines().count(), 1, "{what}: {err}");
    err
}

/// A store command (`scans`, `diff`, `query`...) against the database.
fn store_cmd(url: &str, args: &[&str]) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--postgres", url]);
    census("http://127.0.0.1:9", &all).output().unwrap()
}

/// `census scans --output json`: the scan `id`.
fn scan_state(url: &str, id: &str) -> Value {
    let text = ok(
        &store_cmd(url, &["scans", "--output", "json"]),
        "census scans",
    );
    let all: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    all.as_array()
        .unwrap()
        .iter()
        .find(|s| s["scan_id"] == id)
        .unwrap_or_else(|| panic!("no scan {id} in {text}"))
        .clone()
}

/// The shards' statuses, `1/3=finished`.
fn shard_statuses(scan: &Value) -> Vec<String> {
    scan["shards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{}={}",
                s["shard"].as_str().unwrap(),
                s["status"].as_str().unwrap()
            )
        })
        .collect()
}

/// `census query SQL --output json`, rows as sorted JSON texts (JSON members parsed).
fn rows(url: &str, sql: &str) -> Vec<String> {
    let text = ok(&store_cmd(url, &["query", sql, "--output", "json"]), sql);
    let rows: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let mut out: Vec<String> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let r: serde_json::Map<String, Value> = r
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) if s.starts_with('{') || s.starts_with('[') => {
                            serde_json::from_str(s).unwrap_or_else(|_| v.clone())
                        }
                        other => other.clone(),
                    };
                    (k.clone(), v)
                })
                .collect();
            Value::Object(r).to_string()
        })
        .collect();
    out.sort();
    out
}

/// What a scan's tables hold, scan ids and timings left out.
const TABLES: [&str; 5] = [
    "select account_id, name, email, status, partition, org_id, management_account_id, ou_id, \
     ou_path, tags, source, scan_status, regions, error_code, remediation from accounts",
    "select account_id, region, stem, service, function, operation, status, error_code, pages, \
     items, parent, absent from calls",
    "select stem, account_id, region, resource_id, service, operation, member, id_source, item \
     from resources",
    "select account_id, region, service, resource_type, cfn_type, resource_id, arn, name, \
     created, tags, source, arn_source, native_id from inventory",
    "select account_id, region, source, from_source, from_id, from_arn, kind, raw, to_type, \
     to_arn from links",
];

fn table_rows(url: &str, table_sql: &str, scan: &str) -> Vec<String> {
    rows(url, &format!("{table_sql} where scan_id = '{scan}'"))
}

/// Requests a proxy holds: every scan call (not STS, not Organizations) after the
/// first `let_through`. [`Gate::blocking`] holds them until the gate opens: the
/// proxy's matcher runs on its one thread, so a held request holds every request
/// after it, and the calls in flight. [`Gate::stalling`] delays each for an hour
/// instead (the calls before it complete), for a shard that is killed.
struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Default)]
struct GateState {
    passed: usize,
    arrived: bool,
    open: bool,
}

impl Gate {
    /// Holds `proxy`'s scan calls after the first `let_through` until [`Gate::open`].
    fn blocking(proxy: &FaultProxy, let_through: usize) -> Arc<Gate> {
        Gate::install(proxy, let_through, true)
    }

    /// Delays `proxy`'s scan calls after the first `let_through` by an hour.
    fn stalling(proxy: &FaultProxy, let_through: usize) -> Arc<Gate> {
        Gate::install(proxy, let_through, false)
    }

    fn install(proxy: &FaultProxy, let_through: usize, block: bool) -> Arc<Gate> {
        let gate = Arc::new(Gate {
            state: Mutex::new(GateState::default()),
            changed: Condvar::new(),
        });
        let g = gate.clone();
        proxy.add(Rule::new(
            Match::any().custom(move |req| {
                let service = req.signing_service().unwrap_or_default();
                if service == "sts" || service == "organizations" {
                    return false;
                }
                let mut s = g.state.lock().unwrap();
                if s.passed < let_through {
                    s.passed += 1;
                    return false;
                }
                s.arrived = true;
                g.changed.notify_all();
                while block && !s.open {
                    s = g.changed.wait(s).unwrap();
                }
                !block
            }),
            Action::delay(Duration::from_secs(3600), Action::Forward),
        ));
        gate
    }

    /// Waits until a request is held (two minutes at most).
    fn wait_held(&self) {
        let s = self.state.lock().unwrap();
        let (s, timeout) = self
            .changed
            .wait_timeout_while(s, Duration::from_secs(120), |s| !s.arrived)
            .unwrap();
        assert!(!timeout.timed_out() && s.arrived, "no request was held");
    }

    fn open(&self) {
        self.state.lock().unwrap().open = true;
        self.changed.notify_all();
    }
}

/// Opens the gate when dropped (before its proxy, declared earlier, is dropped: the
/// proxy's thread must not stay held).
struct OpenOnDrop(Arc<Gate>);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.open();
    }
}

/// The unsharded scan `whole` that the sharded ones are compared with.
fn scan_whole(endpoint: &str, out: &Path, url: &str, regions: &str) {
    let whole = scan_cmd(endpoint, out, url, regions, &["--scan-id", "whole"])
        .output()
        .unwrap();
    ok(&whole, "the unsharded scan");
}

/// `census scan` of the demo organization, `--no-db`, into PostgreSQL. SQS is left
/// out: moto names queues by the URL they were asked at (`http://127.0.0.1:PORT/...`),
/// and a shard that goes through a proxy asks at another port.
fn scan_cmd(endpoint: &str, out: &Path, url: &str, regions: &str, extra: &[&str]) -> Command {
    let spec = spec();
    let mut args = vec![
        "scan",
        "--org",
        "-s",
        spec.to_str().unwrap(),
        "--regions",
        regions,
        "-o",
        out.to_str().unwrap(),
        "--no-db",
        "--skip",
        "sqs",
        "--postgres",
        url,
    ];
    args.extend(extra);
    let mut c = census(endpoint, &args);
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

fn spawn(mut c: Command) -> Child {
    c.spawn().unwrap()
}

fn finish(child: Child, what: &str) {
    ok(&child.wait_with_output().unwrap(), what);
}

/// The scan's tables equal the unsharded scan's, and `census diff` finds nothing.
fn same_as_whole(url: &str, whole: &str, sharded: &str) {
    for sql in TABLES {
        let a = table_rows(url, sql, whole);
        let b = table_rows(url, sql, sharded);
        if !sql.contains("from links") {
            assert!(!a.is_empty(), "the unsharded scan has no rows: {sql}");
        }
        assert!(a == b, "{sql}: the sharded scan differs from the unsharded one:\n whole only: {:?}\n sharded only: {:?}",
            a.iter().filter(|r| !b.contains(r)).take(3).collect::<Vec<_>>(),
            b.iter().filter(|r| !a.contains(r)).take(3).collect::<Vec<_>>());
    }
    let diff = store_cmd(url, &["diff", whole, sharded, "--output", "json"]);
    let text = ok(&diff, "census diff whole sharded");
    let changes: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(changes, serde_json::json!([]), "{text}");
    let err = String::from_utf8_lossy(&diff.stderr);
    assert!(err.contains("0 added, 0 removed, 0 changed"), "{err}");
}

#[test]
fn three_concurrent_shards_finish_the_scan_only_with_the_third() {
    let (moto, manifest) = shared_demo_org();
    let regions = manifest.regions.join(",");
    let url = database("shards3");
    let out = TempDir::new("census-shards3");
    scan_whole(&moto.endpoint(), &out, &url, &regions);

    // Shard 3 goes through a proxy that holds its scan calls once it has begun.
    let proxy = FaultProxy::start(moto);
    let gate = Gate::blocking(&proxy, 0);
    let _open = OpenOnDrop(gate.clone());
    let shard = |k: u32, endpoint: &str| {
        let s = format!("{k}/3");
        spawn(scan_cmd(
            endpoint,
            &out,
            &url,
            &regions,
            &["--scan-id", "nightly", "--shard", &s],
        ))
    };
    let third = shard(3, &proxy.endpoint());
    let first = shard(1, &moto.endpoint());
    let second = shard(2, &moto.endpoint());
    gate.wait_held();
    finish(first, "shard 1/3");
    finish(second, "shard 2/3");

    // Two of three finished, the third running: the scan is not finished.
    let state = scan_state(&url, "nightly");
    assert_eq!(state["status"], "running", "{state:#}");
    assert!(state["finished"].is_null(), "{state:#}");
    assert_eq!(
        shard_statuses(&state),
        ["1/3=finished", "2/3=finished", "3/3=running"],
        "{state:#}"
    );
    let finished = rows(&url, "select finished from scans where scan_id = 'nightly'");
    assert_eq!(finished, [r#"{"finished":null}"#]);
    let refused = store_cmd(&url, &["diff", "whole", "nightly"]);
    let err = one_line_error(&refused, "diff of an unfinished sharded scan");
    assert!(
        err.contains("shard 3/3") && err.contains("--partial"),
        "{err}"
    );
    assert!(
        !err.contains("shard 1/3") && !err.contains("shard 2/3"),
        "{err}"
    );
    // The table names the shard too.
    let table = ok(&store_cmd(&url, &["scans"]), "census scans");
    let line = table
        .lines()
        .find(|l| l.contains("nightly") && l.contains("3/3"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(line.contains("running"), "{table}");

    gate.open();
    finish(third, "shard 3/3");
    let state = scan_state(&url, "nightly");
    assert_eq!(state["status"], "finished", "{state:#}");
    assert!(state["finished"].is_string(), "{state:#}");
    assert_eq!(
        shard_statuses(&state),
        ["1/3=finished", "2/3=finished", "3/3=finished"]
    );
    // The scan's totals are its shards' sums, and those of the unsharded scan.
    let whole_state = scan_state(&url, "whole");
    for count in [
        "accounts",
        "accounts_failed",
        "calls",
        "calls_failed",
        "items",
    ] {
        let sum: i64 = state["shards"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s[count].as_i64().unwrap())
            .sum();
        assert_eq!(state[count], sum, "{count}: {state:#}");
        assert_eq!(state[count], whole_state[count], "{count}");
    }
    assert_eq!(shard_statuses(&whole_state), ["1/1=finished"]);
    // Each shard's flags as given, the password left out.
    let flags = &state["shards"][1]["flags"];
    let given: Vec<&str> = flags
        .as_array()
        .unwrap_or_else(|| panic!("{state:#}"))
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(
        given.windows(2).any(|w| w == ["--shard", "2/3"]),
        "{given:?}"
    );
    assert!(given.contains(&"--org"), "{given:?}");
    assert!(!flags.to_string().contains(PASSWORD), "{flags}");
    assert!(flags.to_string().contains("(redacted)"), "{flags}");

    same_as_whole(&url, "whole", "nightly");
}

/// Waits until the shard's journal (`.census/journal.shard-K-of-N.jsonl`) has at least
/// one call while the process still runs. Polls: another process's file gives no
/// event to wait on.
fn wait_for_shard_journal(child: &mut Child, root: &Path, tag: &str) {
    let journal = root.join(".census").join(format!("journal.{tag}.jsonl"));
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let calls = std::fs::read_to_string(&journal)
            .map(|t| t.matches("\"call\"").count())
            .unwrap_or(0);
        if calls > 0 {
            return;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the shard ended before journaling a call"
        );
        assert!(Instant::now() < deadline, "the shard journaled no call");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_killed_shard_is_named_until_resume_finishes_it() {
    let (moto, manifest) = shared_demo_org();
    let regions = manifest.regions.join(",");
    let url = database("shardkill");
    let out = TempDir::new("census-shardkill");
    scan_whole(&moto.endpoint(), &out, &url, &regions);
    for k in [1, 3] {
        let s = format!("{k}/3");
        let r = scan_cmd(
            &moto.endpoint(),
            &out,
            &url,
            &regions,
            &["--scan-id", "nightly", "--shard", &s],
        )
        .output()
        .unwrap();
        ok(&r, &s);
    }

    // Shard 2: its calls after the first three held, then killed once it journaled one.
    let proxy = FaultProxy::start(moto);
    let gate = Gate::stalling(&proxy, 3);
    let mut child = spawn(scan_cmd(
        &proxy.endpoint(),
        &out,
        &url,
        &regions,
        &[
            "--scan-id",
            "nightly",
            "--shard",
            "2/3",
            "--concurrency",
            "4",
        ],
    ));
    gate.wait_held();
    let root = out.join("nightly");
    wait_for_shard_journal(&mut child, &root, "shard-2-of-3");
    child.kill().unwrap(); // SIGKILL: no chance to record anything.
    child.wait().unwrap();
    drop(proxy);

    let state = scan_state(&url, "nightly");
    assert_eq!(
        shard_statuses(&state),
        ["1/3=finished", "2/3=running", "3/3=finished"],
        "{state:#}"
    );
    assert!(state["finished"].is_null(), "{state:#}");
    let problems = state["problems"].to_string();
    assert!(problems.contains("shard 2/3 running"), "{problems}");

    // What reads the scan refuses it, naming the shard and the fixes.
    let html = out.join("report.html");
    for (args, what) in [
        (vec!["diff", "whole", "nightly"], "diff"),
        (vec!["diff", "nightly"], "diff against the latest finished"),
        (
            vec!["report", "html", "nightly", "-o", html.to_str().unwrap()],
            "report html",
        ),
        (vec!["report", "tags", "--scan", "nightly"], "report tags"),
        (vec!["inventory", "--scan", "nightly"], "inventory"),
        (
            vec!["export", "graph", "--scan", "nightly", "--format", "json"],
            "export graph",
        ),
    ] {
        let err = one_line_error(&store_cmd(&url, &args), what);
        assert!(
            err.contains("scan nightly is not finished"),
            "{what}: {err}"
        );
        assert!(err.contains("shard 2/3"), "{what}: {err}");
        assert!(
            err.contains("--resume") && err.contains("--partial"),
            "{what}: {err}"
        );
        assert!(
            !err.contains("shard 1/3") && !err.contains("shard 3/3"),
            "{what}: {err}"
        );
    }
    assert!(!html.exists());
    // --partial reads it as it is.
    ok(
        &store_cmd(
            &url,
            &["diff", "whole", "nightly", "--partial", "--summary"],
        ),
        "diff --partial",
    );
    ok(
        &store_cmd(&url, &["inventory", "--scan", "nightly", "--partial"]),
        "inventory --partial",
    );
    // A diff without ids compares the latest two finished scans: the unfinished one is
    // not among them, so there is nothing to compare yet.
    let err = one_line_error(&store_cmd(&url, &["diff"]), "diff of the finished scans");
    assert!(err.contains("1 finished scan"), "{err}");

    // --resume of the killed shard finishes the scan.
    let resumed = census(
        &moto.endpoint(),
        &[
            "scan",
            "--resume",
            root.to_str().unwrap(),
            "--shard",
            "2/3",
            "--postgres",
            &url,
        ],
    )
    .output()
    .unwrap();
    ok(&resumed, "census scan --resume --shard 2/3");
    let state = scan_state(&url, "nightly");
    assert_eq!(state["status"], "finished", "{state:#}");
    assert_eq!(
        shard_statuses(&state),
        ["1/3=finished", "2/3=finished", "3/3=finished"]
    );
    same_as_whole(&url, "whole", "nightly");
    ok(
        &store_cmd(
            &url,
            &["report", "html", "nightly", "-o", html.to_str().unwrap()],
        ),
        "report html of the finished scan",
    );
    assert!(html.exists());
}

/// A shard's own SQLite file holds its shard alone, finished when it is; a shard
/// stopped by SIGTERM is `interrupted` in its file, refused until `--resume`.
#[test]
fn a_shards_own_sqlite_file_and_an_interrupted_shard() {
    let (moto, _) = shared_demo_org();
    let out = TempDir::new("census-shard-sqlite");
    // One ec2 call per account (a scan call the gate can hold; STS it lets through).
    let spec = out.join("vpcs.json");
    std::fs::write(
        &spec,
        r#"[{"service": "ec2", "function": "describe_vpcs", "result_key": "Vpcs"}]"#,
    )
    .unwrap();
    let scan = |endpoint: &str, shard: &str| {
        let mut c = census(
            endpoint,
            &[
                "scan",
                "--org",
                "-s",
                spec.to_str().unwrap(),
                "--regions",
                "us-east-1",
                "-o",
                out.to_str().unwrap(),
                "--scan-id",
                "pair",
                "--shard",
                shard,
            ],
        );
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        c
    };
    let sqlite = |k: u32| out.join(format!("census.shard-{k}-of-2.db"));
    let local = |k: u32, args: &[&str]| {
        let db = sqlite(k);
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--db", db.to_str().unwrap()]);
        census("http://127.0.0.1:9", &all).output().unwrap()
    };
    let state = |k: u32| -> Value {
        let text = ok(
            &local(k, &["scans", "--output", "json"]),
            "census scans --db",
        );
        let all: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(all.as_array().unwrap().len(), 1, "{text}");
        all[0].clone()
    };

    ok(
        &scan(&moto.endpoint(), "1/2").output().unwrap(),
        "shard 1/2",
    );
    let first = state(1);
    assert_eq!(first["status"], "finished", "{first:#}");
    assert_eq!(shard_statuses(&first), ["1/2=finished"]);
    ok(
        &local(1, &["inventory", "--scan", "pair"]),
        "inventory of shard 1's file",
    );
    let table = ok(&local(1, &["scans"]), "census scans");
    assert!(
        table.contains("the other shards are in their own databases"),
        "{table}"
    );

    let proxy = FaultProxy::start(moto);
    let gate = Gate::stalling(&proxy, 0);
    let child = scan(&proxy.endpoint(), "2/2").spawn().unwrap();
    gate.wait_held();
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let stopped = child.wait_with_output().unwrap();
    assert_eq!(
        stopped.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&stopped.stderr)
    );
    drop(proxy);
    let second = state(2);
    assert_eq!(second["status"], "incomplete", "{second:#}");
    assert_eq!(shard_statuses(&second), ["2/2=interrupted"]);
    let err = one_line_error(&local(2, &["inventory", "--scan", "pair"]), "inventory");
    assert!(err.contains("shard 2/2 interrupted"), "{err}");
    assert!(
        err.contains("--resume <output-dir>/pair --shard 2/2"),
        "{err}"
    );

    let resumed = census(
        &moto.endpoint(),
        &[
            "scan",
            "--resume",
            out.join("pair").to_str().unwrap(),
            "--shard",
            "2/2",
        ],
    )
    .output()
    .unwrap();
    ok(&resumed, "census scan --resume --shard 2/2");
    let second = state(2);
    assert_eq!(second["status"], "finished", "{second:#}");
    assert_eq!(shard_statuses(&second), ["2/2=finished"]);
    ok(
        &local(2, &["inventory", "--scan", "pair"]),
        "inventory of shard 2's file",
    );
}
