//! boto3 calls through `python/call.py`, as the reference for awsdyn's output.
//!
//! Calls go to long-lived `call.py --serve` workers (one JSON line in, one out), so
//! a call costs milliseconds instead of a Python start-up with boto3's imports. The
//! workers sit in a process-wide pool that grows to the number of calls made at once;
//! a worker exits when the test process does (its standard input closes).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::python::command;
use crate::{AwsEndpoint, MEMBER_ROLE_NAME};

/// Who makes a boto3 call, and where: region, credentials, an optional role to assume
/// first, and boto3's retry settings.
///
/// The default is the management account (moto's fake `testing` credentials) in
/// `us-east-1`, with boto3's standard retry mode and its default attempts.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The client's region.
    pub region: String,
    /// Assume this role first (with the base credentials) and call with its credentials.
    pub role_arn: Option<String>,
    /// Base credentials `(access key id, secret, session token)`; `None` for `testing`.
    pub credentials: Option<(String, String, Option<String>)>,
    /// boto3's `max_attempts` (first try included); `None` for boto3's default.
    pub max_attempts: Option<u32>,
    /// boto3's retry mode: `standard` (default), `legacy` or `adaptive`.
    pub retry_mode: String,
}

impl Default for Caller {
    fn default() -> Self {
        Caller {
            region: "us-east-1".to_string(),
            role_arn: None,
            credentials: None,
            max_attempts: None,
            retry_mode: "standard".to_string(),
        }
    }
}

impl Caller {
    /// The management account in `us-east-1`.
    pub fn management() -> Caller {
        Caller::default()
    }

    /// A member account: AssumeRole into its `OrganizationAccountAccessRole` first.
    pub fn member(account_id: &str) -> Caller {
        Caller {
            role_arn: Some(format!("arn:aws:iam::{account_id}:role/{MEMBER_ROLE_NAME}")),
            ..Caller::default()
        }
    }

    /// The same caller in another region.
    pub fn in_region(mut self, region: &str) -> Caller {
        self.region = region.to_string();
        self
    }

    /// The same caller with boto3's `max_attempts` set (1 = no retries).
    pub fn max_attempts(mut self, attempts: u32) -> Caller {
        self.max_attempts = Some(attempts);
        self
    }
}

/// A successful boto3 call.
#[derive(Clone, Debug, PartialEq)]
pub struct Boto3Output {
    /// The result, `ResponseMetadata` dropped, in awsdyn's output convention.
    pub result: Value,
    /// boto3's `ResponseMetadata.RetryAttempts`; `None` for a paginated call.
    pub retry_attempts: Option<u64>,
    /// HTTP requests boto3 sent, retries and pages included.
    pub requests: u64,
}

/// An AWS error that boto3 raised as `ClientError`.
#[derive(Clone, Debug, PartialEq)]
pub struct Boto3Error {
    /// The error code, such as `ThrottlingException`.
    pub code: String,
    /// The error message.
    pub message: String,
    /// The HTTP status of the last attempt.
    pub status: u16,
    /// The request id, when the response had one.
    pub request_id: Option<String>,
    /// boto3's `RetryAttempts` for the failed call.
    pub retry_attempts: u64,
    /// HTTP requests boto3 sent, retries included.
    pub requests: u64,
    /// The whole `Error` object boto3 parsed (extra members included).
    pub raw: Box<Value>,
}

impl std::fmt::Display for Boto3Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for Boto3Error {}

/// Calls `service`'s `operation` (either `DescribeInstances` or `describe_instances`)
/// with `params` through boto3, as `caller`, against `endpoint` (a [`crate::Moto`], a
/// [`crate::FaultProxy`] or a URL). With `paginate`, the result is the paginator's
/// `build_full_result()`.
///
/// The result is what awsdyn must print for the same call: boto3-shaped JSON without
/// `ResponseMetadata`, datetimes as `isoformat()`, blobs as base64.
///
/// # Panics
/// If the call fails, AWS errors included (use [`try_boto3_call`] to look at those).
pub fn boto3_call(
    endpoint: &(impl AwsEndpoint + ?Sized),
    caller: &Caller,
    service: &str,
    operation: &str,
    params: &Value,
    paginate: bool,
) -> Value {
    match try_boto3_call(endpoint, caller, service, operation, params, paginate) {
        Ok(out) => out.result,
        Err(e) => panic!("boto3 {service} {operation} {params} as {caller:?} failed: {e}"),
    }
}

/// Like [`boto3_call`], but returns AWS errors as [`Boto3Error`] and tells how many
/// attempts boto3 made.
///
/// # Panics
/// If the script itself fails (bad parameters, connection refused, no JSON).
pub fn try_boto3_call(
    endpoint: &(impl AwsEndpoint + ?Sized),
    caller: &Caller,
    service: &str,
    operation: &str,
    params: &Value,
    paginate: bool,
) -> Result<Boto3Output, Boto3Error> {
    let credentials = caller.credentials.as_ref().map(|(id, secret, token)| {
        json!({"AccessKeyId": id, "SecretAccessKey": secret, "SessionToken": token})
    });
    let request = json!({
        "endpoint": endpoint.endpoint_url(),
        "service": service,
        "operation": operation,
        "params": params,
        "region": caller.region,
        "paginate": paginate,
        "role_arn": caller.role_arn,
        "credentials": credentials,
        "max_attempts": caller.max_attempts,
        "retry_mode": caller.retry_mode,
    });
    let out = with_worker(|worker| worker.ask(&request));
    if let Some(crash) = out.get("crash") {
        panic!(
            "boto3 {service} {operation} {params} as {caller:?} crashed:\n{}",
            crash.as_str().unwrap_or_default()
        );
    }
    let requests = out["requests"].as_u64().unwrap_or(0);
    if let Some(error) = out.get("error") {
        let text = |k: &str| error[k].as_str().unwrap_or_default().to_string();
        return Err(Boto3Error {
            code: text("Code"),
            message: text("Message"),
            status: error["HTTPStatusCode"]
                .as_u64()
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(0),
            request_id: error["RequestId"].as_str().map(str::to_string),
            retry_attempts: error["RetryAttempts"].as_u64().unwrap_or(0),
            requests,
            raw: Box::new(error.clone()),
        });
    }
    let mut out = out;
    Ok(Boto3Output {
        result: out["result"].take(),
        retry_attempts: out["retry_attempts"].as_u64(),
        requests,
    })
}

/// A `call.py --serve` process.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    stderr: Arc<Mutex<Vec<u8>>>,
}

static IDLE: Mutex<Vec<Worker>> = Mutex::new(Vec::new());

/// Runs `f` with an idle worker (started if there is none) and puts it back after; a
/// worker whose call panicked is dropped (killed) instead.
fn with_worker<R>(f: impl FnOnce(&mut Worker) -> R) -> R {
    let idle = IDLE.lock().unwrap_or_else(|e| e.into_inner()).pop();
    let mut worker = idle.unwrap_or_else(Worker::spawn);
    let result = f(&mut worker);
    IDLE.lock().unwrap_or_else(|e| e.into_inner()).push(worker);
    result
}

impl Worker {
    fn spawn() -> Worker {
        let mut cmd = command(None, "call.py");
        cmd.arg("--serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("could not start python/call.py --serve: {e}"));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let mut pipe = child.stderr.take().expect("piped stderr");
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = std::io::Read::read(&mut pipe, &mut chunk) {
                let mut buf = sink.lock().unwrap_or_else(|e| e.into_inner());
                buf.extend_from_slice(&chunk[..n]);
                let excess = buf.len().saturating_sub(32 * 1024);
                buf.drain(..excess);
            }
        });
        Worker {
            stdin: child.stdin.take().expect("piped stdin"),
            stdout: BufReader::new(child.stdout.take().expect("piped stdout")),
            child,
            stderr,
        }
    }

    /// Sends one request line and reads one answer line.
    fn ask(&mut self, request: &Value) -> Value {
        let sent = writeln!(self.stdin, "{request}").and_then(|()| self.stdin.flush());
        let mut line = String::new();
        let read = sent.and_then(|()| self.stdout.read_line(&mut line));
        match read {
            Ok(n) if n > 0 => serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("python/call.py answered no JSON ({e}): {line}")),
            other => {
                let status = self.child.try_wait();
                let stderr = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
                panic!(
                    "python/call.py --serve stopped answering ({other:?}, exit {status:?}):\n{}",
                    String::from_utf8_lossy(&stderr)
                )
            }
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
