//! deploy/: the container image's root, the Kubernetes base and the AWS Batch template
//! are what they claim. The image root (deploy/image-root.sh, the Containerfile's final
//! stage) runs census in a chroot, read-only but for /out, through a real scan against
//! moto; the Kustomize base renders, validates against the Kubernetes schemas
//! (kubernetes-validate, pinned) and carries the shard count as one value; the Batch
//! template passes cfn-lint and deploys in moto's CloudFormation.
//! The Python side is crates/testkit/python/deploy_check.py.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};
use testkit::{cli_command, python_path, python_script, repo_root, Moto, TempDir};

fn deploy_dir() -> PathBuf {
    repo_root().join("deploy")
}

fn stdout_of(out: &Output, what: &str) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// `deploy_check.py ARGS` with the test kit's Python (no AWS endpoint needed).
fn deploy_check(args: &[&str]) -> Value {
    let out = Command::new(python_path())
        .arg(python_script("deploy_check.py"))
        .args(args)
        .env("NO_PROXY", "*")
        .output()
        .unwrap();
    let text = stdout_of(&out, &format!("deploy_check.py {args:?}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

// ---- Kubernetes ----

fn find<'a>(objects: &'a Value, kind: &str, name: &str) -> &'a Value {
    objects
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind}/{name} in {objects:#}"))
}

/// The Indexed Job spec of a Job or of a CronJob's template.
fn job_spec(o: &Value) -> &Value {
    if o["kind"] == "CronJob" {
        &o["spec"]["jobTemplate"]["spec"]
    } else {
        &o["spec"]
    }
}

fn check_rendered(report: &Value, shards: u64) {
    assert_eq!(
        report["errors"],
        json!([]),
        "kubernetes-validate: {report:#}"
    );
    // Where kubectl (with kustomize) is installed, its rendering is the same as ours.
    match report["kubectl_same"].as_bool() {
        Some(same) => assert!(same, "kubectl kustomize renders the base differently"),
        None => eprintln!(
            "note: no kubectl on PATH; rendered with deploy_check.py's kustomize subset only"
        ),
    }
    let objects = &report["objects"];
    let names: Vec<String> = objects
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap(),
                o["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "ConfigMap/census-scan",
            "CronJob/census-nightly",
            "Job/census-scan",
            "Namespace/census",
            "ServiceAccount/census"
        ],
        "the local-config ShardCount is not applied"
    );
    let sa = find(objects, "ServiceAccount", "census");
    assert!(sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
        .as_str()
        .unwrap()
        .starts_with("arn:aws:iam::"));
    let scan_file = find(objects, "ConfigMap", "census-scan")["data"]["scan.json"]
        .as_str()
        .unwrap();
    let parsed: Value = serde_json::from_str(scan_file).unwrap();
    assert!(!parsed.as_array().unwrap().is_empty());

    for (kind, name) in [("Job", "census-scan"), ("CronJob", "census-nightly")] {
        let o = find(objects, kind, name);
        assert_eq!(o["metadata"]["namespace"], "census");
        let spec = job_spec(o);
        assert_eq!(spec["completionMode"], "Indexed", "{kind}");
        assert_eq!(spec["completions"], json!(shards), "{kind}");
        assert_eq!(spec["parallelism"], json!(shards), "{kind}");
        let pod = &spec["template"]["spec"];
        assert_eq!(pod["serviceAccountName"], "census");
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
        assert_eq!(
            pod["securityContext"]["seccompProfile"]["type"],
            "RuntimeDefault"
        );
        let [c] = pod["containers"].as_array().unwrap().as_slice() else {
            panic!("one container")
        };
        assert_eq!(c["image"], "census:0.1.0");
        let args: Vec<&str> = c["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        let shard_arg = format!("--shard=auto/{shards}");
        assert_eq!(
            args.iter().filter(|a| **a == shard_arg).count(),
            1,
            "{kind}: {args:?}"
        );
        assert!(args.contains(&"--scan-id=$(CENSUS_SCAN_ID)"), "{args:?}");
        assert!(args.contains(&"--output-dir=/out"), "{args:?}");
        assert!(
            !args.iter().any(|a| a.contains("postgres")),
            "the URL is never an argument: {args:?}"
        );
        let env = c["env"].as_array().unwrap();
        let var = |n: &str| {
            env.iter()
                .find(|e| e["name"] == n)
                .unwrap_or_else(|| panic!("no {n}"))
        };
        assert_eq!(
            var("CENSUS_SCAN_ID")["valueFrom"]["fieldRef"]["fieldPath"],
            "metadata.labels['batch.kubernetes.io/job-name']"
        );
        assert_eq!(
            var("CENSUS_POSTGRES_URL")["valueFrom"]["secretKeyRef"],
            json!({"name": "census-postgres", "key": "url"})
        );
        assert_eq!(var("TMPDIR")["value"], "/out");
        let sc = &c["securityContext"];
        assert_eq!(sc["readOnlyRootFilesystem"], true);
        assert_eq!(sc["allowPrivilegeEscalation"], false);
        assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]));
        assert_eq!(c["resources"]["requests"]["memory"], "128Mi");
        let mounts = c["volumeMounts"].as_array().unwrap();
        let out = mounts.iter().find(|m| m["mountPath"] == "/out").unwrap();
        let volume = pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == out["name"])
            .unwrap();
        assert!(volume["emptyDir"].is_object(), "{volume}");
    }
}

#[test]
fn kubernetes_base_validates_and_takes_the_shard_count_from_one_value() {
    let base = deploy_dir().join("kubernetes");
    // The count is written once, in shards.yaml; the Job and CronJob sources hold only
    // placeholders that kustomize's replacements fill.
    let shards_yaml = std::fs::read_to_string(base.join("shards.yaml")).unwrap();
    let count: u64 = shards_yaml
        .lines()
        .find_map(|l| l.trim().strip_prefix("shards:"))
        .expect("shards.yaml: shards: N")
        .trim()
        .parse()
        .unwrap();
    let a_count = regex::Regex::new(r"auto/\d").unwrap();
    for file in ["job.yaml", "cronjob.yaml"] {
        let text = std::fs::read_to_string(base.join(file)).unwrap();
        assert!(text.contains("--shard=auto/SHARDS"), "{file}");
        assert!(!a_count.is_match(&text), "{file} names a count");
    }
    check_rendered(
        &deploy_check(&["kubernetes", base.to_str().unwrap()]),
        count,
    );
    // Another count in shards.yaml (in a copy) moves all four places.
    check_rendered(
        &deploy_check(&["kubernetes", base.to_str().unwrap(), "--shards", "7"]),
        7,
    );
}

#[test]
fn kubernetes_validate_does_reject_a_broken_job() {
    // The control: a Job whose completions is a string and whose container has an
    // unknown field fails validation.
    let dir = TempDir::new("census-deploy-k8s-control");
    let file = dir.join("broken.yaml");
    std::fs::write(
        &file,
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: x\nspec:\n  completionMode: Indexed\n  completions: \"4\"\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: census\n          image: census\n          readOnlyRoot: true\n",
    )
    .unwrap();
    let report = deploy_check(&["kubernetes-reject", file.to_str().unwrap()]);
    let errors = report["errors"].as_array().unwrap();
    assert!(!errors.is_empty(), "{report}");
}

// ---- AWS Batch ----

fn template() -> PathBuf {
    deploy_dir().join("aws-batch/census-batch.yaml")
}

#[test]
fn batch_template_passes_cfn_lint() {
    let bin = python_path().parent().unwrap().join("cfn-lint");
    assert!(
        bin.exists(),
        "cfn-lint is missing at {}: run scripts/setup-python.sh",
        bin.display()
    );
    let out = Command::new(bin)
        .arg(template())
        .env("NO_PROXY", "*")
        .output()
        .unwrap();
    stdout_of(&out, "cfn-lint deploy/aws-batch/census-batch.yaml");
}

#[test]
fn batch_template_deploys_in_moto() {
    let moto = Moto::start();
    let got = moto.python(
        "deploy_check.py",
        &["batch", template().to_str().unwrap()],
        &[],
    );
    assert_eq!(got["stack_status"], "CREATE_COMPLETE", "{got:#}");
    for (logical, kind) in [
        ("ComputeEnvironment", "AWS::Batch::ComputeEnvironment"),
        ("JobQueue", "AWS::Batch::JobQueue"),
        ("JobDefinition", "AWS::Batch::JobDefinition"),
        ("NightlyScan", "AWS::Events::Rule"),
        ("JobRole", "AWS::IAM::Role"),
        ("ExecutionRole", "AWS::IAM::Role"),
        ("LogGroup", "AWS::Logs::LogGroup"),
    ] {
        assert_eq!(got["resources"][logical]["type"], kind);
        assert_eq!(
            got["resources"][logical]["status"], "CREATE_COMPLETE",
            "{logical}"
        );
    }
    let [ce] = got["compute_environments"].as_array().unwrap().as_slice() else {
        panic!("one compute environment: {got:#}")
    };
    assert_eq!(ce["computeResources"]["type"], "FARGATE");
    assert_eq!(ce["computeResources"]["subnets"], got["subnets"]);
    let [queue] = got["job_queues"].as_array().unwrap().as_slice() else {
        panic!("one job queue")
    };
    assert_eq!(queue["state"], "ENABLED");
    assert_eq!(
        queue["computeEnvironmentOrder"][0]["computeEnvironment"],
        ce["computeEnvironmentArn"]
    );
    assert_eq!(got["outputs"]["JobQueueArn"], queue["jobQueueArn"]);

    let [def] = got["job_definitions"].as_array().unwrap().as_slice() else {
        panic!("one job definition")
    };
    let c = &def["containerProperties"];
    assert_eq!(
        c["command"],
        json!([
            "scan",
            "--org",
            "--preset",
            "core",
            "--role-name",
            "census/Reader",
            "--shard",
            "auto/6",
            "--scan-id",
            "Ref::scanid",
            "--output-dir",
            "/out"
        ])
    );
    assert_eq!(c["readonlyRootFilesystem"], true);
    assert_eq!(c["mountPoints"][0]["containerPath"], "/out");
    assert_eq!(
        c["secrets"],
        json!([{"name": "CENSUS_POSTGRES_URL", "valueFrom": got["secret"]}])
    );
    let text = got.to_string();
    assert!(
        !text.contains("never-printed"),
        "the secret's value is only in Secrets Manager"
    );

    // The nightly rule submits one array job of ShardCount children with a new scan id.
    assert_eq!(got["rule"]["ScheduleExpression"], "cron(0 2 * * ? *)");
    let [target] = got["targets"].as_array().unwrap().as_slice() else {
        panic!("one target")
    };
    assert_eq!(target["Arn"], queue["jobQueueArn"]);
    assert_eq!(target["BatchParameters"]["ArrayProperties"]["Size"], 6);
    assert_eq!(
        target["BatchParameters"]["JobDefinition"],
        def["jobDefinitionArn"]
    );
    assert_eq!(
        target["InputTransformer"]["InputTemplate"],
        r#"{"Parameters": {"scanid": "nightly-<id>"}}"#
    );

    // The job role's policy is the one `census iam management-policy` prints.
    let out = cli_command(env!("CARGO_BIN_EXE_census"), "http://127.0.0.1:9")
        .args(["iam", "management-policy", "--role-name", "census/Reader"])
        .output()
        .unwrap();
    let want: Value =
        serde_json::from_str(&stdout_of(&out, "census iam management-policy")).unwrap();
    assert_eq!(got["job_role_policies"]["census-management"], want);
    assert_eq!(got["log_groups"], json!(["/aws/batch/census"]));
}

// ---- The image's root ----

/// Whether this process may make a mount namespace and chroot (root, or a sandbox
/// that allows it).
fn can_chroot() -> bool {
    Command::new("unshare")
        .args(["--mount", "--fork", "--", "chroot", "/", "true"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs census from the image root `root` as the image does: user 65532, the root
/// filesystem read-only, `out` mounted read-write at /out, working directory /out,
/// TMPDIR=/out, HOME=/nonexistent; `env` added (the AWS endpoint, credentials).
fn run_in_image(root: &Path, out: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let script = r#"set -e
root="$1"; out="$2"; shift 2
mount --bind "$root" "$root"
mount -o remount,bind,ro "$root"
mount --bind "$out" "$root/out"
exec chroot --userspec=65532:65532 "$root" /usr/local/bin/census "$@""#;
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--fork", "--", "sh", "-c", script, "sh"])
        .arg(root)
        .arg(out)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("TMPDIR", "/out")
        .env("HOME", "/nonexistent")
        .current_dir("/");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn image_root_runs_a_scan_read_only_but_for_out() {
    if !can_chroot() {
        eprintln!("SKIPPED image_root_runs_a_scan_read_only_but_for_out: this process cannot unshare a mount namespace and chroot (needs root)");
        return;
    }
    let dir = TempDir::new("census-deploy-image");
    let root = dir.join("root");
    let out = Command::new(deploy_dir().join("image-root.sh"))
        .arg(env!("CARGO_BIN_EXE_census"))
        .arg(&root)
        .output()
        .unwrap();
    stdout_of(&out, "deploy/image-root.sh");
    // Only what the image needs: the binary, its libraries and loader, the CA bundle,
    // passwd/group/nsswitch, and an empty /out owned by 65532.
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p.strip_prefix(&root).unwrap().to_str().unwrap().to_string());
            }
        }
    }
    files.sort();
    let (libs, rest): (Vec<_>, Vec<_>) = files.iter().partition(|f| f.starts_with("lib"));
    assert_eq!(
        rest,
        [
            "etc/group",
            "etc/nsswitch.conf",
            "etc/passwd",
            "etc/ssl/certs/ca-certificates.crt",
            "usr/local/bin/census"
        ]
    );
    assert!(libs.iter().all(|l| l.contains(".so")), "{libs:?}");
    {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(root.join("out")).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (65532, 65532));
        assert_eq!(std::fs::read_dir(root.join("out")).unwrap().count(), 0);
    }
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).unwrap();
    assert!(passwd.contains("census:x:65532:65532:"), "{passwd}");

    // The output folder: census's, as an emptyDir or a volume would be.
    let outdir = dir.join("out");
    std::fs::create_dir(&outdir).unwrap();
    std::os::unix::fs::chown(&outdir, Some(65532), Some(65532)).unwrap();

    let version = run_in_image(&root, &outdir, &["--version"], &[]);
    let text = stdout_of(&version, "census --version in the image root");
    assert!(text.starts_with("census "), "{text}");

    // The root really is read-only to census: a scan told to write elsewhere fails,
    // naming the folder.
    let (moto, manifest) = testkit::shared_demo_org();
    let endpoint = moto.endpoint();
    let aws = [
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", testkit::FAKE_ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", testkit::FAKE_SECRET_ACCESS_KEY),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    std::fs::copy(
        repo_root().join("crates/census/tests/scans/one-call.json"),
        outdir.join("scan.json"),
    )
    .unwrap();
    std::os::unix::fs::chown(outdir.join("scan.json"), Some(65532), Some(65532)).unwrap();
    let refused = run_in_image(
        &root,
        &outdir,
        &[
            "scan",
            "--org",
            "-s",
            "/out/scan.json",
            "--regions",
            "us-east-1",
            "-o",
            "/var/census",
        ],
        &aws,
    );
    assert_eq!(
        refused.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("/var/census"), "{stderr}");

    // A real scan of the demo organization, sharded as a pod would run it, writing
    // only under /out (anything else would fail on the read-only root).
    let scan = run_in_image(
        &root,
        &outdir,
        &[
            "scan",
            "--org",
            "-s",
            "/out/scan.json",
            "--regions",
            "us-east-1",
            "--shard",
            "auto/2",
            "--scan-id",
            "image-test",
            "-o",
            "/out/census-out",
        ],
        &[aws.as_slice(), &[("JOB_COMPLETION_INDEX", "1")]].concat(),
    );
    assert_eq!(
        scan.status.code(),
        Some(0),
        "scan in the image root:\n{}",
        String::from_utf8_lossy(&scan.stderr)
    );
    let scan_dir = outdir.join("census-out/image-test");
    let accounts: Value = serde_json::from_str(
        &std::fs::read_to_string(scan_dir.join("accounts.shard-2-of-2.json")).unwrap(),
    )
    .unwrap();
    let scanned = accounts.as_array().unwrap();
    assert!(
        !scanned.is_empty() && scanned.len() <= manifest.accounts.len(),
        "{accounts:#}"
    );
    assert!(
        scanned.iter().all(|a| a["scan_status"] == "ok"),
        "{accounts:#}"
    );
    // The shard's SQLite database, beside the scan folders, with no journal left over.
    let mut dbs: Vec<String> = std::fs::read_dir(outdir.join("census-out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "image-test")
        .collect();
    dbs.sort();
    assert_eq!(dbs, ["census.shard-2-of-2.db"]);
    // Nothing but the scan folder and the scan file was left in /out (SQLite's
    // journal and temporary files are gone).
    let mut left: Vec<String> = std::fs::read_dir(&outdir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["census-out", "scan.json"]);
}

#[test]
fn image_root_sh_refuses_bad_input_in_one_line() {
    let dir = TempDir::new("census-deploy-image-bad");
    std::fs::write(dir.join("keep"), "data").unwrap();
    let script = deploy_dir().join("image-root.sh");
    let cases: [(&[&Path], &str); 3] = [
        (&[dir.path()], "usage:"),
        (
            &[&dir.join("missing-binary"), &dir.join("root")],
            "is not an executable file",
        ),
        (
            &[Path::new(env!("CARGO_BIN_EXE_census")), dir.path()],
            "is not empty",
        ),
    ];
    for (args, want) in cases {
        let out = Command::new(&script).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
    }
    // Nothing was touched.
    assert_eq!(std::fs::read_to_string(dir.join("keep")).unwrap(), "data");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}
