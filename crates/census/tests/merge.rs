//! `census merge` end to end against moto: the demo organization scanned unsharded and
//! as 3 shards of one scan id (each shard into its own folder, and uploaded with
//! `--s3-upload` into moto's S3); the merge of the shards, from the folders and from the
//! S3 prefix, equals the unsharded scan file for file (timings aside), and each
//! refusal is one line and exit status 1 with nothing written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use rusqlite::types::Value as SqlValue;
use serde_json::{json, Value};
use testkit::{boto3_call, cli_command, shared_demo_org, Caller, Moto, TempDir};

const SCAN_ID: &str = "nightly";
const BUCKET: &str = "census-merge-archive";
const PREFIX: &str = "scans/nightly-run";

/// The scans every test compares: made once per process.
struct Fixture {
    moto: &'static Moto,
    dir: TempDir,
    spec: PathBuf,
}

impl Fixture {
    /// The unsharded scan's output folder.
    fn whole(&self) -> PathBuf {
        self.dir.join("whole")
    }
    /// Shard `k`'s output folder.
    fn shard(&self, k: u32) -> PathBuf {
        self.dir.join(format!("shard{k}"))
    }
    fn endpoint(&self) -> String {
        self.moto.endpoint()
    }
}

fn census(endpoint: &str, args: &[&str]) -> Output {
    cli_command(env!("CARGO_BIN_EXE_census"), endpoint)
        .args(args)
        .env("AWS_MAX_ATTEMPTS", "2")
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Scans the demo organization with `extra` flags into `out`; must exit 0.
fn scan(f: &Fixture, out: &Path, extra: &[&str]) {
    let mut args = vec![
        "scan",
        "--org",
        "-s",
        f.spec.to_str().unwrap(),
        "--regions",
        "us-east-1,eu-west-1",
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    let r = census(&f.endpoint(), &args);
    assert_eq!(r.status.code(), Some(0), "scan {extra:?}: {}", stderr(&r));
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let (moto, _) = shared_demo_org();
        let dir = TempDir::new("census-merge");
        // Calls across services, regional and global, with inventory rows and links
        // (subnets and instances name their VPC), and none reading S3, whose bucket
        // holds the uploads.
        let spec = dir.join("spec.json");
        std::fs::write(
            &spec,
            json!([
                {"service": "ec2", "function": "describe_vpcs", "result_key": "Vpcs"},
                {"service": "ec2", "function": "describe_subnets", "result_key": "Subnets"},
                {"service": "ec2", "function": "describe_security_groups", "result_key": "SecurityGroups"},
                {"service": "ec2", "function": "describe_instances", "result_key": ".Reservations[].Instances[]"},
                {"service": "sqs", "function": "list_queues", "result_key": "QueueUrls"},
                {"service": "sns", "function": "list_topics", "result_key": "Topics"},
                {"service": "dynamodb", "function": "list_tables", "result_key": "TableNames"},
                {"service": "iam", "function": "list_roles", "result_key": "Roles"}
            ])
            .to_string(),
        )
        .unwrap();
        boto3_call(
            moto,
            &Caller::management(),
            "s3",
            "CreateBucket",
            &json!({"Bucket": BUCKET}),
            false,
        );
        let f = Fixture { moto, dir, spec };
        scan(&f, &f.whole(), &["--scan-id", SCAN_ID]);
        let upload = format!("s3://{BUCKET}/{PREFIX}");
        for k in 1..=3 {
            let shard = format!("{k}/3");
            scan(
                &f,
                &f.shard(k),
                &[
                    "--scan-id",
                    SCAN_ID,
                    "--shard",
                    &shard,
                    "--s3-upload",
                    &upload,
                ],
            );
        }
        f
    })
}

/// Every file under `root` (relative path with `/`) and its bytes.
fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// The account folders' files (everything below a folder not starting with `.`).
fn account_files(scan: &Path) -> BTreeMap<String, Vec<u8>> {
    files(scan)
        .into_iter()
        .filter(|(rel, _)| rel.contains('/') && !rel.starts_with('.'))
        .collect()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(
        &std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap()
}

/// summary.json without what differs between two runs of the same calls: when the
/// scan started, each call's duration and request id.
fn summary_without_timings(path: &Path) -> Value {
    let mut v = read_json(path);
    v["scan"].as_object_mut().unwrap().remove("started");
    for a in v["accounts"].as_array_mut().unwrap() {
        for c in a["calls"].as_array_mut().unwrap() {
            let c = c.as_object_mut().unwrap();
            c.remove("duration_ms");
            c.remove("request_id");
        }
    }
    v
}

/// Columns that differ between two runs of the same calls: times, request ids, and the
/// first-seen order of a stem's members (`item_columns.position`: which call's items
/// arrived first, which two unsharded runs do not agree on either; the views list the
/// columns by name).
const TIMINGS: [(&str, &str); 5] = [
    ("scans", "started"),
    ("scans", "finished"),
    ("calls", "duration_ms"),
    ("calls", "request_id"),
    ("item_columns", "position"),
];

/// Every table of a census.db (by name), each as its sorted rows, timings nulled; and
/// the views (name -> SQL).
type Tables = BTreeMap<String, Vec<Vec<String>>>;

fn tables(db: &Path) -> (Tables, BTreeMap<String, String>) {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap_or_else(|e| panic!("{}: {e}", db.display()));
    let mut names: Vec<(String, String, Option<String>)> = conn
        .prepare("SELECT type, name, sql FROM sqlite_master WHERE type IN ('table', 'view')")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    names.sort();
    let mut out = BTreeMap::new();
    let mut views = BTreeMap::new();
    for (kind, name, sql) in names {
        // How the scan was run (schema 5's `scan_shards`: one row per shard, the flags
        // each was started with), not what it found: 3 shards are not 1 run.
        if name == "scan_shards" {
            continue;
        }
        // ANALYZE's statistics of a table: scan_shards's differ as its rows do.
        let only = if name == "sqlite_stat1" {
            " WHERE tbl <> 'scan_shards'"
        } else {
            ""
        };
        if kind == "view" {
            views.insert(name, sql.unwrap_or_default());
            continue;
        }
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM \"{name}\"{only}"))
            .unwrap();
        let cols: Vec<String> = stmt.column_names().map(str::to_string).collect();
        let mut rows: Vec<Vec<String>> = stmt
            .query_map([], |r| {
                (0..cols.len())
                    .map(|i| {
                        let v: SqlValue = r.get(i)?;
                        Ok(if TIMINGS.contains(&(name.as_str(), cols[i].as_str())) {
                            "(timing)".to_string()
                        } else {
                            format!("{}={v:?}", cols[i])
                        })
                    })
                    .collect()
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows.sort();
        out.insert(name, rows);
    }
    (out, views)
}

/// The merged output folder `merged` holds what the unsharded scan wrote into `whole`:
/// the same accounts.json (bytes), summary.json (timings aside), account files (bytes)
/// and census.db (every table, row for row, timings aside; the same views).
fn assert_same_scan(merged: &Path, whole: &Path) {
    let (m, w) = (merged.join(SCAN_ID), whole.join(SCAN_ID));
    assert_eq!(
        String::from_utf8_lossy(&std::fs::read(m.join("accounts.json")).unwrap()),
        String::from_utf8_lossy(&std::fs::read(w.join("accounts.json")).unwrap()),
        "accounts.json"
    );
    assert_eq!(
        summary_without_timings(&m.join("summary.json")),
        summary_without_timings(&w.join("summary.json")),
        "summary.json"
    );
    let (mf, wf) = (account_files(&m), account_files(&w));
    assert!(wf.len() > 20, "{:?}", wf.keys());
    assert_eq!(mf.keys().collect::<Vec<_>>(), wf.keys().collect::<Vec<_>>());
    for (rel, bytes) in &wf {
        assert!(&mf[rel] == bytes, "{rel} differs");
    }
    let (mt, mv) = tables(&merged.join("census.db"));
    let (wt, wv) = tables(&whole.join("census.db"));
    assert_eq!(mt.keys().collect::<Vec<_>>(), wt.keys().collect::<Vec<_>>());
    for (name, rows) in &wt {
        assert_eq!(mt[name].len(), rows.len(), "table {name}: row count");
        for (a, b) in mt[name].iter().zip(rows) {
            assert_eq!(a, b, "table {name}");
        }
    }
    assert!(wt["resources"].len() > 20 && !wt["inventory"].is_empty() && !wt["links"].is_empty());
    assert_eq!(mv, wv, "views");
    // The merged store says how the scan ran: its N shards (1 when unsharded), each
    // finished.
    let conn = rusqlite::Connection::open(merged.join("census.db")).unwrap();
    let shards: Vec<(i64, i64, String)> = conn
        .prepare("SELECT shard_index, shard_count, status FROM scan_shards ORDER BY shard_index")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let n = shards.len() as i64;
    let all: Vec<_> = (1..=n).map(|k| (k, n, "finished".to_string())).collect();
    assert_eq!(shards, all, "every shard, each finished");
}

#[test]
fn merged_shard_folders_equal_the_unsharded_scan() {
    let f = fixture();
    let out = f.dir.join("merged");
    // Every way to name a shard: its output folder, its scan folder.
    let s2 = f.shard(2).join(SCAN_ID);
    let r = census(
        &f.endpoint(),
        &[
            "merge",
            f.shard(1).to_str().unwrap(),
            s2.to_str().unwrap(),
            f.shard(3).to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
    );
    let err = stderr(&r);
    assert_eq!(r.status.code(), Some(0), "{err}");
    assert!(err.contains("merged 3 shards of scan nightly"), "{err}");
    eprintln!("{err}");
    assert_same_scan(&out, &f.whole());
    // No shard-tagged file, nor the download folder, is left in the merge.
    let names: Vec<String> = files(&out).into_keys().collect();
    assert!(
        names
            .iter()
            .all(|n| !n.contains("shard-") && !n.contains(".census-merge")),
        "{names:?}"
    );
    // Shards that wrote into one shared folder (one output folder for all): one source.
    let shared = f.dir.join("shared");
    for k in 1..=3 {
        copy_tree(&f.shard(k), &shared);
    }
    let one = f.dir.join("merged-shared");
    let r = census(
        &f.endpoint(),
        &[
            "merge",
            shared.to_str().unwrap(),
            "-o",
            one.to_str().unwrap(),
        ],
    );
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    assert_same_scan(&one, &f.whole());
    // The merged folder is a scan folder: merged again (alone), it is copied.
    let again = f.dir.join("merged-again");
    let r = census(
        &f.endpoint(),
        &[
            "merge",
            out.to_str().unwrap(),
            "-o",
            again.to_str().unwrap(),
        ],
    );
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    assert_eq!(files(&again.join(SCAN_ID)), files(&out.join(SCAN_ID)));
    // The database is a census database for the other commands.
    let q = census(
        &f.endpoint(),
        &[
            "query",
            "--db",
            out.join("census.db").to_str().unwrap(),
            "select count(*) as n from ec2_describe_vpcs",
        ],
    );
    assert_eq!(q.status.code(), Some(0), "{}", stderr(&q));
}

#[test]
fn merged_from_the_s3_prefix_equals_the_unsharded_scan() {
    let f = fixture();
    let out = f.dir.join("merged-s3");
    let url = format!("s3://{BUCKET}/{PREFIX}/");
    let r = census(&f.endpoint(), &["merge", &url, "-o", out.to_str().unwrap()]);
    let err = stderr(&r);
    assert_eq!(r.status.code(), Some(0), "{err}");
    assert_same_scan(&out, &f.whole());
    assert!(!files(&out).keys().any(|n| n.contains(".census-merge")));

    // A prefix without a scan, and a bucket that does not exist.
    for (url, want) in [
        (
            format!("s3://{BUCKET}/nothing-here"),
            "no census scan there".to_string(),
        ),
        (
            "s3://census-no-such-bucket/x".to_string(),
            "NoSuchBucket".to_string(),
        ),
    ] {
        let out = f.dir.join("merged-s3-bad");
        let r = census(&f.endpoint(), &["merge", &url, "-o", out.to_str().unwrap()]);
        let err = stderr(&r);
        assert_eq!(r.status.code(), Some(1), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(&want) && err.contains(&url), "{err}");
        assert!(!out.exists(), "nothing written");
    }
}

#[test]
fn an_unsharded_scan_alone_is_copied() {
    let f = fixture();
    let out = f.dir.join("copied");
    let r = census(
        &f.endpoint(),
        &[
            "merge",
            f.whole().to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    assert_eq!(files(&out.join(SCAN_ID)), files(&f.whole().join(SCAN_ID)));
    assert_same_scan(&out, &f.whole());
}

/// Copies a folder tree (files copied, not linked: the copy is changed).
fn copy_tree(from: &Path, to: &Path) {
    for (rel, bytes) in files(from) {
        let p = to.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
}

/// Runs `census merge` with `sources` into a fresh folder: must fail with status 1 and
/// one line holding every one of `want`, and write nothing.
fn refused(f: &Fixture, sources: &[&Path], extra: &[&str], want: &[&str]) {
    let out = f.dir.join("refused");
    let mut args = vec!["merge".to_string()];
    args.extend(sources.iter().map(|s| s.to_string_lossy().to_string()));
    args.extend(["-o".to_string(), out.to_string_lossy().to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let r = census(
        &f.endpoint(),
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let err = stderr(&r);
    assert_eq!(r.status.code(), Some(1), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    assert!(err.starts_with("census: error: "), "{err}");
    for w in want {
        assert!(err.contains(w), "{args:?}: wanted {w:?} in: {err}");
    }
    assert!(!out.exists(), "{args:?}: wrote {}", out.display());
}

#[test]
fn refusals_name_the_folder_and_what_is_wrong() {
    let f = fixture();
    let (s1, s2, s3) = (f.shard(1), f.shard(2), f.shard(3));
    let (s1s, s3s) = (s1.to_string_lossy(), s3.to_string_lossy());

    // A missing shard, named, with where it was looked for.
    refused(
        f,
        &[&s1, &s3],
        &[],
        &[&format!(
            "shard 2 of 3 is missing: no summary.shard-2-of-3.json in {s1s}, {s3s}"
        )],
    );

    // A shard of another scan id.
    let other = f.dir.join("other-scan");
    scan(f, &other, &["--scan-id", "other", "--shard", "2/3"]);
    refused(
        f,
        &[&s1, &other, &s3],
        &[],
        &[
            &other.to_string_lossy(),
            "scan other, but",
            "is scan nightly",
            "merge the shards of one scan",
        ],
    );

    // A shard of another shard count.
    let four = f.dir.join("four");
    scan(f, &four, &["--scan-id", SCAN_ID, "--shard", "2/4"]);
    refused(
        f,
        &[&s1, &four, &s3],
        &[],
        &[
            &four.to_string_lossy(),
            "holds shard 2 of 4, but",
            "holds shard 1 of 3",
        ],
    );

    // A shard that did not finish: no summary (the run stopped before its end).
    let unfinished = f.dir.join("unfinished");
    copy_tree(&s2, &unfinished);
    std::fs::remove_file(unfinished.join(SCAN_ID).join("summary.shard-2-of-3.json")).unwrap();
    refused(
        f,
        &[&s1, &unfinished, &s3],
        &[],
        &[
            "shard 2 of 3 did not finish: no summary.shard-2-of-3.json",
            &unfinished.to_string_lossy(),
            "census scan --resume",
            "--shard 2/3",
        ],
    );
    // ... or its database says it is unfinished (a resumed run that was stopped).
    let resumed = f.dir.join("resumed");
    copy_tree(&s2, &resumed);
    let conn = rusqlite::Connection::open(resumed.join("census.shard-2-of-3.db")).unwrap();
    conn.execute("UPDATE scans SET finished = NULL", [])
        .unwrap();
    drop(conn);
    refused(
        f,
        &[&s1, &resumed, &s3],
        &[],
        &[
            "shard 2 of 3 did not finish",
            "says scan nightly is unfinished",
        ],
    );
    // ... and a database that is not there: named, with the fix.
    let no_db = f.dir.join("no-db");
    copy_tree(&s2, &no_db);
    std::fs::remove_file(no_db.join("census.shard-2-of-3.db")).unwrap();
    refused(
        f,
        &[&s1, &no_db, &s3],
        &[],
        &["census.shard-2-of-3.db is missing", "--no-db"],
    );

    // ... unless told to merge the folders only.
    let folders_only = f.dir.join("folders-only");
    let r = census(
        &f.endpoint(),
        &[
            "merge",
            &s1s,
            no_db.to_str().unwrap(),
            &s3s,
            "--no-db",
            "-o",
            folders_only.to_str().unwrap(),
        ],
    );
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    assert!(!folders_only.join("census.db").exists());
    assert_eq!(
        account_files(&folders_only.join(SCAN_ID)),
        account_files(&f.whole().join(SCAN_ID))
    );
    assert_eq!(
        read_json(&folders_only.join(SCAN_ID).join("accounts.json")),
        read_json(&f.whole().join(SCAN_ID).join("accounts.json"))
    );

    // One shard given twice (two copies of it).
    refused(
        f,
        &[&s1, &s2, &resumed, &s3],
        &[],
        &["shard 2 of 3 is given twice", "give each shard once"],
    );

    // A folder that is not a scan folder.
    let empty = f.dir.join("not-a-scan");
    std::fs::create_dir_all(empty.join("x")).unwrap();
    std::fs::write(empty.join("notes.txt"), "x").unwrap();
    refused(
        f,
        &[&s1, &empty],
        &[],
        &[&empty.to_string_lossy(), "not a census scan folder"],
    );
    refused(
        f,
        &[&f.dir.join("no-such-folder")],
        &[],
        &["no such folder"],
    );

    // An output folder that is not empty: refused, its file kept; --force merges.
    let full = f.dir.join("full");
    std::fs::create_dir_all(&full).unwrap();
    std::fs::write(full.join("keep.txt"), "mine").unwrap();
    let args = |force: bool| {
        let mut v = vec![
            "merge".to_string(),
            s1.to_string_lossy().to_string(),
            s2.to_string_lossy().to_string(),
            s3.to_string_lossy().to_string(),
            "-o".into(),
            full.to_string_lossy().to_string(),
        ];
        if force {
            v.push("--force".into());
        }
        v
    };
    let run = |force: bool| {
        let a = args(force);
        census(
            &f.endpoint(),
            &a.iter().map(String::as_str).collect::<Vec<_>>(),
        )
    };
    let r = run(false);
    let err = stderr(&r);
    assert_eq!(r.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("-o {}: exists and is not empty", full.display()))
            && err.contains("--force"),
        "{err}"
    );
    assert_eq!(files(&full).len(), 1);
    let r = run(true);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    assert_eq!(std::fs::read(full.join("keep.txt")).unwrap(), b"mine");
    // Twice with --force: the scan is replaced, not added twice.
    let r = run(true);
    assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
    std::fs::remove_file(full.join("keep.txt")).unwrap();
    assert_same_scan(&full, &f.whole());

    // The output may not be a shard's own folder, even with --force.
    let before = files(&s1);
    let r = census(
        &f.endpoint(),
        &[
            "merge",
            &s1s,
            s2.to_str().unwrap(),
            &s3s,
            "-o",
            &s1s,
            "--force",
        ],
    );
    let err = stderr(&r);
    assert_eq!(r.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("-o {s1s}: would write over")),
        "{err}"
    );
    assert!(files(&s1) == before, "the shard's folder changed");
}
