//! Bad input, as a user types it: the catalogue of flags, files and values Census must
//! refuse up front (exit 1, one line `census: error: ...` naming the place and the fix,
//! no panic, nothing written), and the command-line behaviours around it: both
//! `--regions` forms, repeated values, `@file` account lists, exit statuses, colour,
//! `--resume` and its database, Ctrl-C, and expired credentials.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use testkit::{
    cli_command, scan_root, shared_demo_org, wait_for_journal, Action, FaultProxy, Match, Protocol,
    Reply, Rule, TempDir,
};

fn census(endpoint: &str, args: &[&str]) -> Output {
    cli_command(env!("CARGO_BIN_EXE_census"), endpoint)
        .args(args)
        .output()
        .unwrap()
}

fn scans_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scans")
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Every file under `dir` (none when it does not exist).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// The one-line refusal: exit 1, exactly one line on stderr, `census: error: ...`,
/// holding every needle, no panic or backtrace, and no file under `out`.
fn assert_refused(name: &str, result: &Output, needles: &[&str], out: Option<&Path>) {
    let stderr = String::from_utf8_lossy(&result.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        result.status.code(),
        Some(1),
        "{name}: exit status {:?}, stderr:\n{stderr}",
        result.status
    );
    assert_eq!(lines.len(), 1, "{name}: one line expected, got:\n{stderr}");
    assert!(
        lines[0].starts_with("census: error: "),
        "{name}: {}",
        lines[0]
    );
    for n in needles {
        assert!(lines[0].contains(n), "{name}: {n:?} not in: {}", lines[0]);
    }
    for bad in ["panicked", "backtrace", "RUST_BACKTRACE"] {
        assert!(!stderr.contains(bad), "{name}: {stderr}");
    }
    if let Some(out) = out {
        let left = files_under(out);
        assert!(left.is_empty(), "{name}: left behind: {left:?}");
    }
}

/// A case: a name, the arguments (scan cases get `-o <folder>` added), and what the
/// error line must name.
struct Case {
    name: &'static str,
    args: Vec<String>,
    needles: Vec<String>,
}

fn case(name: &'static str, args: &[&str], needles: &[&str]) -> Case {
    Case {
        name,
        args: args.iter().map(|s| s.to_string()).collect(),
        needles: needles.iter().map(|s| s.to_string()).collect(),
    }
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// The catalogue: every case is refused before anything is called or written. The
/// endpoint is a closed loopback port, so that a case that got past its check would
/// fail differently (and slowly) rather than pass.
#[test]
fn the_catalogue_of_bad_input_is_refused_with_one_clear_line() {
    let files = TempDir::new("census-bad-input-files");
    let f = files.path();
    let malformed = write(f, "malformed.json", "[{\"service\": \"ec2\",");
    let wrong_shape = write(f, "object.json", "{\"service\": \"ec2\"}");
    let not_object = write(f, "numbers.json", "[1, 2]");
    let unknown_service = write(
        f,
        "service.json",
        r#"[{"service": "ec3", "function": "describe_instances"}]"#,
    );
    let unknown_op = write(
        f,
        "operation.json",
        r#"[{"service": "ec2", "function": "describe_instanzes"}]"#,
    );
    let write_op = write(
        f,
        "write.json",
        r#"[{"service": "ec2", "function": "terminate_instances", "parameters": {"InstanceIds": ["i-1"]}}]"#,
    );
    let missing_param = write(
        f,
        "required.json",
        r#"[{"service": "ec2", "function": "describe_instance_attribute"}]"#,
    );
    let bad_jq = write(
        f,
        "jq.json",
        r#"[{"service": "s3", "function": "list_buckets", "result_key": ".Buckets[] | ]"}]"#,
    );
    let misspelt = write(
        f,
        "misspelt.json",
        r#"[{"service": "s3", "function": "list_buckets", "paramters": {}}]"#,
    );
    let bad_params = write(
        f,
        "params.json",
        r#"[{"service": "ec2", "function": "describe_vpcs", "parameters": [1]}]"#,
    );
    let accounts_bad_line = write(f, "ids.txt", "111111111111\n# a comment\n22222\n");
    let exclude_bad_line = write(f, "exclude.txt", "333333333333, 4444\n");
    let roles_bad = write(
        f,
        "roles.txt",
        "arn:aws:iam::111111111111:role/R\nnot-an-arn\n",
    );
    let a_file = write(f, "a-file", "not a folder");
    let not_a_scan = f.join("not-a-scan");
    std::fs::create_dir_all(&not_a_scan).unwrap();
    let a_dir = not_a_scan.display().to_string();
    let not_a_scan = a_dir.clone();
    let url = format!("http://127.0.0.1:{}/scan.json", closed_port());
    let missing = f.join("missing.json").display().to_string();
    let at_missing = format!("@{}", f.join("missing-ids.txt").display());
    let at_bad = format!("@{accounts_bad_line}");
    let at_exclude_bad = format!("@{exclude_bad_line}");
    let bad_line = format!("{accounts_bad_line}:3");
    let exclude_line = format!("{exclude_bad_line}:1");
    let roles_line = format!("{roles_bad}:2");

    let cases = vec![
        // Usage errors, parsed by clap: exit 1, never 2.
        case(
            "unknown flag",
            &["scan", "--frobnicate"],
            &["--frobnicate", "census scan --help"],
        ),
        case("unknown command", &["scna"], &["scna"]),
        case(
            "concurrency 0",
            &["scan", "--concurrency", "0"],
            &["--concurrency", "from 1"],
        ),
        case(
            "concurrency not a number",
            &["scan", "--concurrency", "many"],
            &["--concurrency", "many"],
        ),
        case(
            "call timeout 0",
            &["scan", "--call-timeout", "0"],
            &["--call-timeout", "from 1"],
        ),
        case(
            "account deadline 0",
            &["scan", "--account-deadline", "0"],
            &["--account-deadline"],
        ),
        case(
            "log level",
            &["-l", "loud", "scan"],
            &["loud", "--log-level", "debug"],
        ),
        case("missing value", &["scan", "--regions"], &["--regions"]),
        case(
            "bool flag",
            &["scan", "--include-management", "maybe"],
            &["--include-management", "true or false"],
        ),
        case(
            "retry delay",
            &["scan", "--retry-delay", "600"],
            &["--retry-delay", "0 to 60"],
        ),
        case(
            "missing argument of call",
            &["call", "ec2"],
            &["OPERATION", "census call --help"],
        ),
        case("missing sql", &["query"], &["SQL"]),
        case("iam flag", &["iam", "--bogus"], &["--bogus"]),
        case(
            "services flag",
            &["services", "--protocol"],
            &["--protocol"],
        ),
        case(
            "operations without a service",
            &["operations"],
            &["SERVICE"],
        ),
        case(
            "operations details with reads",
            &["operations", "s3", "--details", "--reads"],
            &["--details", "--reads"],
        ),
        case(
            "operations details of an unknown service",
            &["operations", "ec3", "--details"],
            &["ec3"],
        ),
        case(
            "doctor flag",
            &["doctor", "--concurrency", "0"],
            &["--concurrency", "census doctor --help"],
        ),
        case(
            "report flag",
            &["report", "accounts", "--account-timeout", "0"],
            &["--account-timeout"],
        ),
        case(
            "config flag",
            &["config", "steampipe", "--bogus"],
            &["--bogus", "census config steampipe --help"],
        ),
        case(
            "diff output",
            &["diff", "--output", "xml"],
            &["--output", "xml"],
        ),
        case(
            "postgres url",
            &["scan", "--postgres", "mysql://u@h/db"],
            &["--postgres", "postgresql://"],
        ),
        case(
            "postgres garbage",
            &["query", "--postgres", "not a url", "select 1"],
            &["--postgres"],
        ),
        // Flag values Census checks.
        case(
            "region",
            &["scan", "--regions", "us-east-1,mars-north-1"],
            &["--regions", "mars-north-1"],
        ),
        case(
            "base region",
            &["scan", "--region", "nowhere"],
            &["--region", "nowhere"],
        ),
        case(
            "account id",
            &["scan", "--accounts", "12345"],
            &["--accounts", "12345", "not 12"],
        ),
        case(
            "exclude account id",
            &["scan", "--exclude-accounts", "abcdefghijkl"],
            &["--exclude-accounts", "abcdefghijkl"],
        ),
        case(
            "account file missing",
            &["scan", "--accounts", &at_missing],
            &["--accounts", "missing-ids.txt"],
        ),
        case(
            "account file bad line",
            &["scan", "--accounts", &at_bad],
            &[&bad_line, "22222"],
        ),
        case(
            "exclude file bad line",
            &["scan", "--exclude-accounts", &at_exclude_bad],
            &[&exclude_line, "4444"],
        ),
        case(
            "account file is a folder",
            &["scan", "--accounts", &format!("@{a_dir}")],
            &["--accounts", &a_dir],
        ),
        case(
            "org role arn",
            &["scan", "--org-role-arn", "arn:aws:iam::12:role/X"],
            &["--org-role-arn", "12-digit"],
        ),
        case(
            "org role arn not an arn",
            &["scan", "--org-role-arn", "OrgReader"],
            &["--org-role-arn", "OrgReader", "arn:aws:iam::"],
        ),
        case(
            "role arns",
            &["scan", "--role-arns", "arn:aws:s3:::bucket"],
            &["--role-arns", "IAM role"],
        ),
        case(
            "role arns file",
            &["scan", "--role-arns-file", &roles_bad],
            &[&roles_line, "not-an-arn"],
        ),
        case(
            "ou",
            &["scan", "--org", "--ou", "Workloads"],
            &["--ou", "Workloads"],
        ),
        case(
            "shard out of range",
            &["scan", "--shard", "5/4"],
            &["--shard", "between 1 and 4"],
        ),
        case(
            "shard zero",
            &["scan", "--shard", "0/0"],
            &["--shard", "0/0"],
        ),
        case(
            "shard path",
            &["scan", "--shard", "../x"],
            &["--shard", "../x", "K/N"],
        ),
        case(
            "scan id path",
            &["scan", "--scan-id", "../x"],
            &["--scan-id", "../x", "letters"],
        ),
        case(
            "scan id slash",
            &["scan", "--scan-id", "/"],
            &["--scan-id", "\"/\""],
        ),
        case(
            "scan id too long",
            &["scan", "--scan-id", &"x".repeat(65)],
            &["--scan-id", "1 to 64"],
        ),
        case(
            "duration short",
            &["scan", "--duration", "899"],
            &["--duration", "900"],
        ),
        case(
            "duration long",
            &["scan", "--duration", "43201"],
            &["--duration", "43200"],
        ),
        case(
            "external id",
            &["scan", "--external-id", "x"],
            &["--external-id"],
        ),
        case(
            "session name",
            &["scan", "--session-name", "a b"],
            &["--session-name", "a b"],
        ),
        case(
            "role arn template",
            &[
                "scan",
                "--role-arn-template",
                "arn:aws:iam::{account}:role/R",
            ],
            &["--role-arn-template", "{account}"],
        ),
        case(
            "retry mode",
            &["scan", "--retry-mode", "fast"],
            &["--retry-mode", "fast"],
        ),
        case(
            "preset",
            &["scan", "--preset", "everything"],
            &["--preset", "everything"],
        ),
        case(
            "skip service",
            &["scan", "--skip", "nosuchservice"],
            &["--skip", "nosuchservice"],
        ),
        case(
            "skip operation",
            &["scan", "--skip", "ssm:DescribeNothing"],
            &["--skip", "ssm:DescribeNothing"],
        ),
        case(
            "s3 upload",
            &["scan", "--s3-upload", "http://bucket/prefix"],
            &["--s3-upload", "s3://"],
        ),
        case(
            "web identity file",
            &["scan", "--web-identity", "/nonexistent/token"],
            &["--web-identity", "/nonexistent/token"],
        ),
        case(
            "profile",
            &["scan", "--profile", "nosuchprofile"],
            &["--profile nosuchprofile", "no such profile"],
        ),
        case(
            "doctor profile",
            &["doctor", "--profile", "nosuchprofile"],
            &["--profile nosuchprofile"],
        ),
        case(
            "config web identity",
            &[
                "config",
                "aws-profiles",
                "--web-identity",
                "/nonexistent/token",
            ],
            &["--web-identity"],
        ),
        case(
            "report profile",
            &["report", "accounts", "--profile", "nosuchprofile"],
            &["--profile nosuchprofile"],
        ),
        case(
            "doctor accounts file",
            &["doctor", "--accounts", &at_bad],
            &[&bad_line],
        ),
        case(
            "config exclude accounts file",
            &["config", "steampipe", "--exclude-accounts", &at_exclude_bad],
            &[&exclude_line],
        ),
        // Scan files.
        case(
            "malformed scan file",
            &["scan", "-s", &malformed],
            &["malformed.json"],
        ),
        case(
            "scan file not a list",
            &["scan", "-s", &wrong_shape],
            &["object.json", "list"],
        ),
        case(
            "entry not an object",
            &["scan", "-s", &not_object],
            &["numbers.json", "entry 1"],
        ),
        case(
            "unknown service",
            &["scan", "-s", &unknown_service],
            &["service.json", "ec3"],
        ),
        case(
            "unknown operation",
            &["scan", "-s", &unknown_op],
            &["operation.json", "describe_instanzes"],
        ),
        case(
            "write operation",
            &["scan", "-s", &write_op],
            &["write.json", "TerminateInstances", "not a read"],
        ),
        case(
            "missing required parameter",
            &["scan", "-s", &missing_param],
            &["required.json", "DescribeInstanceAttribute"],
        ),
        case(
            "bad jq",
            &["scan", "-s", &bad_jq],
            &["jq.json", "result_key"],
        ),
        case(
            "misspelt member",
            &["scan", "-s", &misspelt],
            &["misspelt.json", "paramters", "parameters"],
        ),
        case(
            "parameters not an object",
            &["scan", "-s", &bad_params],
            &["params.json", "parameters"],
        ),
        case(
            "scan file missing",
            &["scan", "-s", &missing],
            &["missing.json"],
        ),
        case("scan file unreadable", &["scan", "-s", &a_dir], &[&a_dir]),
        case("scan URL does not answer", &["scan", "-s", &url], &[&url]),
        // Output and resume.
        case(
            "output folder is a file",
            &["scan", "-o", &a_file],
            &["--output-dir", "a-file", "is a file"],
        ),
        case(
            "output folder read-only",
            &["scan", "-o", "/proc/self"],
            &["--output-dir", "/proc/self", "cannot write"],
        ),
        case(
            "resume not a scan",
            &["scan", "--resume", &not_a_scan],
            &["--resume", "not a census scan folder"],
        ),
        case(
            "resume a file",
            &["scan", "--resume", &a_file],
            &["--resume", "not a census scan folder"],
        ),
        case(
            "skip with resume",
            &["scan", "--skip", "ssm", "--resume", &not_a_scan],
            &["--skip", "--resume", "leave out --skip"],
        ),
        case(
            "scan id with resume",
            &["scan", "--scan-id", "x", "--resume", &not_a_scan],
            &["--scan-id", "--resume"],
        ),
    ];
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let outs = TempDir::new("census-bad-input-out");
    let mut failures = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let out = outs.join(format!("case-{i}"));
        let mut args = c.args.clone();
        let is_scan = args.iter().any(|a| a == "scan");
        if is_scan && !args.iter().any(|a| a == "-o" || a == "--resume") {
            args.extend(["-o".to_string(), out.display().to_string()]);
        }
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let result = census(&endpoint, &argv);
        let needles: Vec<&str> = c.needles.iter().map(String::as_str).collect();
        let checked = std::panic::catch_unwind(|| {
            assert_refused(c.name, &result, &needles, Some(&out));
            assert!(!out.exists(), "{}: the output folder was created", c.name);
        });
        if let Err(e) = checked {
            let message = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failures.push(message);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    // Nothing half-written next to the inputs either (a resumed "scan" is not created).
    assert!(!Path::new(&not_a_scan).join(".census").exists());
}

#[test]
fn help_documents_the_exit_statuses() {
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    for args in [&["--help"][..], &["scan", "--help"]] {
        let out = census(&endpoint, args);
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8_lossy(&out.stdout);
        for needle in [
            "Exit status:",
            "could not run",
            "finished with failures",
            "130",
        ] {
            assert!(text.contains(needle), "{args:?}: {needle} not in\n{text}");
        }
    }
    // Both `--regions` forms are in scan's help.
    let out = census(&endpoint, &["scan", "--help"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("--regions us-east-1 us-west-2"));
}

/// Logs carry colour only on a terminal: through a pipe (the tests' stderr) there is
/// no escape sequence, at any level, with or without NO_COLOR.
#[test]
fn logs_in_a_pipe_have_no_colour() {
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    for no_color in [None, Some("1")] {
        let mut c = cli_command(env!("CARGO_BIN_EXE_census"), &endpoint);
        if let Some(v) = no_color {
            c.env("NO_COLOR", v);
        }
        let out = c
            .args(["-l", "DEBUG", "scan", "--accounts", "12"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains('\x1b'), "{stderr:?}");
        assert_eq!(out.status.code(), Some(1));
    }
}

/// The summary of a finished scan: calls by (account, region, stem).
fn calls_of(root: &Path, summary: &str) -> BTreeMap<(String, String, String), String> {
    let s: Value = serde_json::from_slice(&std::fs::read(root.join(summary)).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for a in s["accounts"].as_array().unwrap() {
        for c in a["calls"].as_array().unwrap() {
            out.insert(
                (
                    c["account_id"].as_str().unwrap_or_default().to_string(),
                    c["region"].as_str().unwrap().to_string(),
                    c["stem"].as_str().unwrap_or_default().to_string(),
                ),
                c["status"].as_str().unwrap().to_string(),
            );
        }
    }
    out
}

fn totals(root: &Path) -> Value {
    let s: Value =
        serde_json::from_slice(&std::fs::read(root.join("summary.json")).unwrap()).unwrap();
    s["totals"].clone()
}

/// aws-auto-inventory's command line works as written: `--regions` space-separated
/// (and `-r`, `--organization-scan`, `--org-role-name`, `--output_dir`, `--log_level
/// INFO`, `--max-retries`, `--retry-delay`, `--concurrent-regions/--concurrent-services`),
/// and a region given twice, in either form, is scanned once: same calls and totals as
/// the plain scan.
#[test]
fn space_separated_and_repeated_regions_scan_each_region_once() {
    let (moto, manifest) = shared_demo_org();
    let scan_file = scans_dir().join("inventory.json");
    let scan_file = scan_file.to_str().unwrap();
    let plain_out = TempDir::new("census-regions-plain");
    let plain = census(
        &moto.endpoint(),
        &[
            "scan",
            "--org",
            "-s",
            scan_file,
            "--regions",
            "us-east-1,eu-west-1",
            "-o",
            plain_out.to_str().unwrap(),
        ],
    );
    assert_eq!(
        plain.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&plain.stderr)
    );
    let seed_out = TempDir::new("census-regions-seed");
    let seed = census(
        &moto.endpoint(),
        &[
            "scan",
            "-s",
            scan_file,
            "--organization-scan",
            "--regions",
            "us-east-1",
            "eu-west-1",
            "us-east-1",
            "-r",
            "eu-west-1,us-east-1",
            "--org-role-name",
            "OrganizationAccountAccessRole",
            "--output_dir",
            seed_out.to_str().unwrap(),
            "--log_level",
            "ERROR",
            "--max-retries",
            "3",
            "--retry-delay",
            "1",
            "--concurrent-regions",
            "2",
            "--concurrent-services",
            "4",
        ],
    );
    let stderr = String::from_utf8_lossy(&seed.stderr);
    assert_eq!(seed.status.code(), Some(0), "{stderr}");
    let (a, b) = (scan_root(&plain_out), scan_root(&seed_out));
    assert_eq!(totals(&a), totals(&b));
    assert_eq!(calls_of(&a, "summary.json"), calls_of(&b, "summary.json"));
    // Each account's regional results exist for exactly the two regions.
    let plan: Value =
        serde_json::from_slice(&std::fs::read(b.join(".census/plan.json")).unwrap()).unwrap();
    assert_eq!(
        plan["regions"],
        serde_json::json!(["us-east-1", "eu-west-1"])
    );
    assert!(manifest.regions.contains(&"eu-west-1".to_string()));
}

/// `--accounts @FILE` and `--exclude-accounts @FILE` (as the help says), and the plain
/// path, select the accounts the files list; ids repeated across files count once.
#[test]
fn account_lists_from_at_files() {
    let (moto, manifest) = shared_demo_org();
    let members: Vec<&str> = manifest.members().map(|a| a.id.as_str()).collect();
    let files = TempDir::new("census-at-files");
    let ids = files.join("ids.txt");
    std::fs::write(
        &ids,
        format!(
            "# selected\n{}\n{}, {}\n{}\n",
            members[0], members[1], members[2], members[0]
        ),
    )
    .unwrap();
    let exclude = files.join("exclude.txt");
    std::fs::write(&exclude, format!("{}\n", members[1])).unwrap();
    let scan_file = scans_dir().join("one-call.json");
    for (accounts, excluded) in [
        (
            format!("@{}", ids.display()),
            format!("@{}", exclude.display()),
        ),
        (ids.display().to_string(), exclude.display().to_string()),
    ] {
        let out = TempDir::new("census-at-files-out");
        let result = census(
            &moto.endpoint(),
            &[
                "scan",
                "--org",
                "-s",
                scan_file.to_str().unwrap(),
                "--regions",
                "us-east-1",
                "--accounts",
                &accounts,
                "--accounts",
                members[2],
                "--exclude-accounts",
                &excluded,
                "-o",
                out.to_str().unwrap(),
            ],
        );
        assert_eq!(
            result.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&result.stderr)
        );
        let root = scan_root(&out);
        let got: Vec<String> = calls_of(&root, "summary.json")
            .keys()
            .map(|(a, _, _)| a.clone())
            .collect();
        let mut want = vec![members[0].to_string(), members[2].to_string()];
        want.sort();
        assert_eq!(got, want, "{accounts}");
    }
    // A discovery warning (an id the organization does not have) prints once, not
    // also as a log line.
    let out = TempDir::new("census-at-files-warning");
    let result = census(
        &moto.endpoint(),
        &[
            "scan",
            "--org",
            "-s",
            scan_file.to_str().unwrap(),
            "--regions",
            "us-east-1",
            "--accounts",
            &format!("{},999999999999", members[0]),
            "-o",
            out.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr.matches("999999999999").count(), 1, "{stderr}");
}

/// An `--org-role-arn` in another partition than the base identity's is refused once
/// the identity is known, before anything is written.
#[test]
fn an_org_role_in_another_partition_is_refused() {
    let (moto, _) = shared_demo_org();
    let out = TempDir::new("census-partition");
    for (arn, partition) in [
        ("arn:aws-cn:iam::123456789012:role/OrgReader", "aws-cn"),
        (
            "arn:aws-us-gov:iam::123456789012:role/OrgReader",
            "aws-us-gov",
        ),
    ] {
        let result = census(
            &moto.endpoint(),
            &["scan", "--org-role-arn", arn, "-o", out.to_str().unwrap()],
        );
        assert_refused(
            partition,
            &result,
            &[
                "--org-role-arn",
                arn,
                partition,
                "partition aws",
                "--profile",
            ],
            Some(&out),
        );
    }
}

/// `--resume` writes to the database the scan was started with (its plan records
/// `--db`), and refuses another one.
#[test]
fn resume_keeps_the_original_database() {
    let (moto, _) = shared_demo_org();
    let out = TempDir::new("census-resume-db");
    let db = out.join("elsewhere.db");
    let scan_file = scans_dir().join("one-call.json");
    let result = census(
        &moto.endpoint(),
        &[
            "scan",
            "--org",
            "-s",
            scan_file.to_str().unwrap(),
            "--regions",
            "us-east-1",
            "--db",
            db.to_str().unwrap(),
            "-o",
            out.join("scans").to_str().unwrap(),
        ],
    );
    assert_eq!(
        result.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let root = scan_root(&out.join("scans"));
    let other = out.join("other.db");
    let refused = census(
        &moto.endpoint(),
        &[
            "scan",
            "--resume",
            root.to_str().unwrap(),
            "--db",
            other.to_str().unwrap(),
        ],
    );
    assert_refused(
        "resume with another --db",
        &refused,
        &["--db", "elsewhere.db", "leave out --db"],
        None,
    );
    assert!(!other.exists());
    let refused = census(
        &moto.endpoint(),
        &["scan", "--resume", root.to_str().unwrap(), "--no-db"],
    );
    assert_refused(
        "resume with --no-db",
        &refused,
        &["--no-db", "leave out --no-db"],
        None,
    );
    // The same database again is fine.
    let same = census(
        &moto.endpoint(),
        &[
            "scan",
            "--resume",
            root.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
        ],
    );
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&same.stderr)
    );
    // Without the flag: the original database, not the output folder's default one.
    let resumed = census(
        &moto.endpoint(),
        &["scan", "--resume", root.to_str().unwrap()],
    );
    assert_eq!(
        resumed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert!(!out.join("scans/census.db").exists());
    assert!(db.exists());
}

/// Expired base credentials (a credential_process whose credentials expired) are
/// refused before anything is written, with when they expired and what to run.
#[test]
fn expired_base_credentials_say_when_and_what_to_run() {
    let (moto, _) = shared_demo_org();
    let dir = TempDir::new("census-expired");
    let config = dir.join("config");
    std::fs::write(
        &config,
        "[profile stale]\nregion = us-east-1\ncredential_process = echo '{\"Version\": 1, \"AccessKeyId\": \"AKIDSTALE\", \"SecretAccessKey\": \"stale-secret\", \"SessionToken\": \"stale-token\", \"Expiration\": \"2020-01-02T03:04:05Z\"}'\n",
    )
    .unwrap();
    let out = dir.join("out");
    let result = cli_command(env!("CARGO_BIN_EXE_census"), &moto.endpoint())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("none"))
        .args(["scan", "--profile", "stale", "-o", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert_refused(
        "expired credential_process",
        &result,
        &[
            "expired at 2020-01-02T03:04:05Z",
            "aws sso login --profile stale",
            "run the scan again",
        ],
        Some(&out),
    );
    assert!(!String::from_utf8_lossy(&result.stderr).contains("stale-secret"));
}

/// STS answering ExpiredToken to the base identity: refused with the fix.
#[test]
fn expired_token_from_sts_is_refused_with_the_fix() {
    let (moto, _) = shared_demo_org();
    let proxy = FaultProxy::start(moto);
    proxy.add(Rule::new(
        Match::any(),
        Action::Reply(Reply::error(
            Protocol::Query,
            400,
            "ExpiredToken",
            "The security token included in the request is expired",
        )),
    ));
    let out = TempDir::new("census-expired-sts");
    let result = census(&proxy.endpoint(), &["scan", "-o", out.to_str().unwrap()]);
    assert_refused(
        "ExpiredToken",
        &result,
        &[
            "expired",
            "ExpiredToken",
            "aws sso login",
            "run the scan again",
        ],
        Some(&out),
    );
}

/// Role credentials that expire during a scan (every AssumeRole answered
/// ExpiredToken): nothing could run, so exit 1 with how to resume, and the scan
/// folder resumes to completion once the credentials work again.
#[test]
fn expired_credentials_mid_scan_leave_a_resumable_scan() {
    let (moto, manifest) = shared_demo_org();
    let members: Vec<&str> = manifest.members().map(|a| a.id.as_str()).take(2).collect();
    let proxy = FaultProxy::start(moto);
    proxy.add(Rule::new(
        Match::any().form_action("AssumeRole"),
        Action::Reply(Reply::error(
            Protocol::Query,
            400,
            "ExpiredToken",
            "The security token included in the request is expired",
        )),
    ));
    let out = TempDir::new("census-expired-mid");
    let scan_file = scans_dir().join("one-call.json");
    let accounts = members.join(",");
    let result = census(
        &proxy.endpoint(),
        &[
            "scan",
            "--org",
            "--accounts",
            &accounts,
            "-s",
            scan_file.to_str().unwrap(),
            "--regions",
            "us-east-1",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    let root = scan_root(&out);
    let resume = format!("census scan --resume {}", root.display());
    assert_refused(
        "expired mid-scan",
        &result,
        &["expired", "aws sso login", &resume],
        None,
    );
    let resumed = census(
        &moto.endpoint(),
        &["scan", "--resume", root.to_str().unwrap()],
    );
    assert_eq!(
        resumed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert_eq!(totals(&root)["accounts_failed"], 0);
    assert_eq!(totals(&root)["calls"], 2);
}

/// A call answered ExpiredToken after the accounts were entered (a session that ran
/// out mid-scan): the scan finishes with exit 2, the calls are marked retryable, and
/// `--resume`, once the credentials work again, runs exactly them and completes the scan.
#[test]
fn calls_failing_with_expired_credentials_are_run_again_by_resume() {
    let (moto, manifest) = shared_demo_org();
    let members: Vec<&str> = manifest.members().map(|a| a.id.as_str()).take(2).collect();
    let proxy = FaultProxy::start(moto);
    // Only the members' calls: the base identity's own GetCallerIdentity goes through.
    let expired = proxy.add(Rule::new(
        Match::any().body_contains("GetCallerIdentity").custom(|r| {
            !r.header("authorization")
                .unwrap_or_default()
                .contains(testkit::FAKE_ACCESS_KEY_ID)
        }),
        Action::Reply(Reply::error(
            Protocol::Query,
            400,
            "ExpiredToken",
            "The security token included in the request is expired",
        )),
    ));
    let out = TempDir::new("census-expired-calls");
    let scan_file = scans_dir().join("one-call.json");
    let accounts = members.join(",");
    let first = census(
        &proxy.endpoint(),
        &[
            "scan",
            "--org",
            "--accounts",
            &accounts,
            "-s",
            scan_file.to_str().unwrap(),
            "--regions",
            "us-east-1",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(proxy.hits(expired) >= 2, "{stderr}");
    assert_eq!(first.status.code(), Some(2), "{stderr}");
    let root = scan_root(&out);
    assert_eq!(totals(&root)["calls_failed"], 2, "{stderr}");
    let summary: Value =
        serde_json::from_slice(&std::fs::read(root.join("summary.json")).unwrap()).unwrap();
    let failed: Vec<&Value> = summary["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["calls"].as_array().unwrap())
        .filter(|c| c["status"] == "error")
        .collect();
    assert_eq!(failed.len(), 2, "{summary:#}");
    for c in &failed {
        assert_eq!(c["error_code"], "ExpiredToken", "{c}");
        assert_eq!(c["retryable"], true, "{c}");
    }
    proxy.remove(expired);
    let resumed = census(
        &proxy.endpoint(),
        &["scan", "--resume", root.to_str().unwrap()],
    );
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert_eq!(resumed.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("running again 2 calls"), "{stderr}");
    assert_eq!(totals(&root)["calls"], 2);
    assert_eq!(totals(&root)["calls_failed"], 0);
}

/// Ctrl-C during a scan: no new calls, what is in flight is written, one line says how
/// to resume, exit 130, no temporary file left; `--resume` then completes it to the
/// same result as an uninterrupted scan.
#[test]
fn ctrl_c_stops_cleanly_and_the_scan_resumes_to_the_same_result() {
    let (moto, _) = shared_demo_org();
    let scan_file = scans_dir().join("inventory.json");
    let scan_file = scan_file.to_str().unwrap();
    let reference_out = TempDir::new("census-sigint-reference");
    let reference = census(
        &moto.endpoint(),
        &[
            "scan",
            "--org",
            "-s",
            scan_file,
            "--regions",
            "us-east-1,eu-west-1",
            "-o",
            reference_out.to_str().unwrap(),
        ],
    );
    assert_eq!(
        reference.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&reference.stderr)
    );
    let reference_root = scan_root(&reference_out);

    let proxy = FaultProxy::start(moto);
    proxy.add(Rule::new(
        Match::any(),
        Action::delay(std::time::Duration::from_millis(100), Action::Forward),
    ));
    for signal in ["-INT", "-TERM"] {
        let out = TempDir::new("census-sigint");
        let mut child = cli_command(env!("CARGO_BIN_EXE_census"), &proxy.endpoint())
            .args([
                "scan",
                "--org",
                "-s",
                scan_file,
                "--regions",
                "us-east-1,eu-west-1",
                "--concurrency",
                "8",
                "-o",
                out.to_str().unwrap(),
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let root = wait_for_journal(&mut child, &out, 20);
        let killed = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let result = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(130), "{signal}: {stderr}");
        let resume = format!("census scan --resume {}", root.display());
        let lines: Vec<&str> = stderr.lines().filter(|l| l.contains(&resume)).collect();
        assert_eq!(lines.len(), 1, "{signal}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(
            !root.join("summary.json").exists(),
            "an interrupted scan is not finished"
        );
        let tmp: Vec<PathBuf> = files_under(&out)
            .into_iter()
            .filter(|p| p.to_string_lossy().contains(".tmp"))
            .collect();
        assert!(tmp.is_empty(), "{tmp:?}");
        // Every call in the journal (what --resume skips) is in the database too.
        let journaled = std::fs::read_to_string(root.join(".census/journal.jsonl"))
            .unwrap()
            .matches("\"call\"")
            .count();
        let in_db = calls_in_db(moto, &out);
        assert!(
            journaled >= 20 && in_db == journaled as u64,
            "{signal}: journal {journaled}, database {in_db}"
        );

        let resumed = census(
            &moto.endpoint(),
            &["scan", "--resume", root.to_str().unwrap()],
        );
        assert_eq!(
            resumed.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&resumed.stderr)
        );
        assert_eq!(totals(&root), totals(&reference_root));
        assert_eq!(
            calls_of(&root, "summary.json"),
            calls_of(&reference_root, "summary.json")
        );
        assert_eq!(
            serde_json::json!(calls_in_db(moto, &out)),
            totals(&reference_root)["calls"]
        );
    }
}

/// Calls recorded in the scan database under `out`.
fn calls_in_db(moto: &testkit::Moto, out: &Path) -> u64 {
    let rows = census(
        &moto.endpoint(),
        &[
            "query",
            "--db",
            out.join("census.db").to_str().unwrap(),
            "--output",
            "json",
            "select count(*) as n from calls",
        ],
    );
    let n: Value = serde_json::from_slice(&rows.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&rows.stderr)));
    n[0]["n"].as_u64().unwrap()
}
