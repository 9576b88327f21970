//! Running the kit's Python scripts (`crates/testkit/python`) with boto3 pointed at a
//! loopback endpoint.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::AwsEndpoint;

/// The repository's root directory (the one holding the workspace `Cargo.toml`).
pub fn repo_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .and_then(|p| p.parent())
        .map(PathBuf::from)
        .unwrap_or(manifest_dir)
}

/// The Python interpreter that has the pinned moto and boto3: `$CENSUS_PYTHON` if set,
/// else `<repo>/.venv/bin/python`.
///
/// # Panics
/// If that file does not exist, with a message that says to run
/// `scripts/setup-python.sh`.
pub fn python_path() -> PathBuf {
    let (path, origin) = match std::env::var_os("CENSUS_PYTHON") {
        Some(p) if !p.is_empty() => (PathBuf::from(p), "CENSUS_PYTHON"),
        _ => (repo_root().join(".venv/bin/python"), "the default location"),
    };
    if !path.exists() {
        panic!(
            "the test kit's Python is missing at {} ({origin}): run scripts/setup-python.sh \
             to create <repo>/.venv with the pinned moto and boto3, or set CENSUS_PYTHON",
            path.display()
        );
    }
    path
}

/// The path of one of the kit's scripts, such as `python_script("call.py")`.
pub fn python_script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("python")
        .join(name)
}

/// A command running `python <script>` in a clean AWS environment: every inherited
/// `AWS_*` and proxy variable is removed, so that a developer's real credentials,
/// profiles or endpoints can never be used, and the fake ones moto accepts are set.
/// `TZ=UTC` makes boto3's local-time datetimes print as `+00:00`.
pub(crate) fn command(endpoint: Option<&str>, script: &str) -> Command {
    let mut cmd = Command::new(python_path());
    cmd.arg(python_script(script));
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        let upper = key.to_ascii_uppercase();
        if upper.starts_with("AWS_") || upper.ends_with("_PROXY") {
            cmd.env_remove(key.as_ref());
        }
    }
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_PROXY", "*")
        .env("TZ", "UTC")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    if let Some(endpoint) = endpoint {
        cmd.env("AWS_ENDPOINT_URL", endpoint);
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// Runs `python/<script> <args>` with boto3 configured for `endpoint`
/// (`AWS_ENDPOINT_URL`, fake credentials `testing`/`testing`, region `us-east-1`),
/// plus `env`, and returns its standard output parsed as JSON.
///
/// # Panics
/// If the script fails or prints something that is not JSON; the message holds the
/// script's exit status and standard error.
pub fn python(
    endpoint: &(impl AwsEndpoint + ?Sized),
    script: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Value {
    try_python(endpoint, script, args, env).unwrap_or_else(|e| panic!("{e}"))
}

/// Like [`python`], but returns the failure as a message instead of panicking.
pub fn try_python(
    endpoint: &(impl AwsEndpoint + ?Sized),
    script: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<Value, String> {
    let endpoint = endpoint.endpoint_url();
    let mut cmd = command(Some(&endpoint), script);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = cmd
        .output()
        .map_err(|e| format!("could not run python/{script}: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!(
            "python/{script} {args:?} against {endpoint} failed ({}):\n--- stderr ---\n{stderr}\n--- stdout ---\n{stdout}",
            output.status
        ));
    }
    serde_json::from_str(&stdout).map_err(|e| {
        format!(
            "python/{script} {args:?} printed no JSON ({e}):\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
        )
    })
}
