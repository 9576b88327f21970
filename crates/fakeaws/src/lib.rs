//! fakeaws: a small, fast loopback fixture that answers the AWS calls of an organization
//! scan (Organizations, STS, and a few list calls) for thousands of generated accounts,
//! in the real wire formats, each answer after a fixed latency.
//!
//! It exists for Census's scale benchmark (`bench/scan_scale.py`): moto serves a few
//! hundred requests a second from one Python process, so it cannot tell whether Census
//! keeps its throughput and memory flat from 200 to 2,000 accounts; fakeaws costs
//! almost nothing per request, so the latency (as with real AWS) is what bounds a scan.
//!
//! What it is not: an emulator. Nothing is stored, signatures are not checked, and only
//! the operations listed in `api.rs` are answered; the rest get the protocol's "unknown
//! operation" error.
//!
//! ```text
//! fakeaws --accounts 2000 --latency-ms 50 --port 0
//! {"port": 40123}
//! ```
//!
//! Requests go to `http://127.0.0.1:<port>` (set `AWS_ENDPOINT_URL`); the service and
//! region come from the SigV4 credential scope. `GET /_fakeaws/stats` gives the requests
//! served, by service and operation, with the times of the first and the last answer
//! of each (seconds since start), the most requests in flight at once, and how many
//! requests were throttled. It binds to 127.0.0.1 only.
//!
//! `--sts-assume-role-rate 20` limits STS AssumeRole to 20 requests a second per caller
//! (access key), a token bucket holding one second's worth, as AWS throttles STS per
//! caller: beyond it the answer is the query protocol's `Throttling` "Rate exceeded"
//! with HTTP 400, as AWS sends it.
//!
//! The library runs it in-process for tests ([`Server::start`]); the binary
//! (`src/main.rs`) is what the benchmarks start.
//!
//! Modules: `api` (the operations answered, by service; not their encoding), `org` (the
//! generated organization and its resources; no wire format), `wire` (reading requests
//! and writing answers and errors per protocol; no data of its own).

mod api;
pub mod org;
mod wire;

/// What fakeaws serves.
#[derive(Clone, Debug)]
pub struct Options {
    /// Accounts in the organization, the management account included.
    pub accounts: usize,
    /// Delay before every answer.
    pub latency: Duration,
    /// STS AssumeRole requests answered per second for each caller (access key), as AWS
    /// limits them: a token bucket holding a second's worth; beyond it the caller gets
    /// the query protocol's `Throttling` "Rate exceeded" error with HTTP 400. `None`:
    /// no limit.
    pub sts_assume_role_rate: Option<f64>,
    /// Organizations requests answered per second for each caller (AWS allows about 5);
    /// beyond it `TooManyRequestsException` (HTTP 400). `None`: no limit.
    pub organizations_rate: Option<f64>,
    /// Scan calls (every service but STS and Organizations) answered per second for
    /// each account, service and region; beyond it the protocol's own throttling error:
    /// EC2's 503 `RequestLimitExceeded`, the query protocol's 400 `Throttling`, JSON's
    /// 400 `ThrottlingException`. `None`: no limit.
    pub call_rate: Option<f64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            accounts: 200,
            latency: Duration::from_millis(50),
            sts_assume_role_rate: None,
            organizations_rate: None,
            call_rate: None,
        }
    }
}

impl Options {
    /// The limits AWS puts on a caller, as the scale benchmarks use them: 50 ms
    /// latency, Organizations 5 requests/s per caller, STS AssumeRole 20/s per caller,
    /// 20 requests/s per account, service and region on scan calls.
    pub fn aws_like(accounts: usize) -> Options {
        Options {
            accounts,
            latency: Duration::from_millis(50),
            sts_assume_role_rate: Some(20.0),
            organizations_rate: Some(5.0),
            call_rate: Some(20.0),
        }
    }
}

/// A token bucket: `rate` tokens a second, at most `rate` (and at least 1) held.
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// A limit of `rate` requests a second for each key (a caller; an account, service and
/// region).
struct RateLimit {
    rate: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimit {
    fn new(rate: f64) -> RateLimit {
        RateLimit {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token of `caller`'s bucket, if there is one.
    fn take(&self, caller: &str, now: Instant) -> bool {
        let capacity = self.rate.max(1.0);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets.entry(caller.to_string()).or_insert(Bucket {
            tokens: capacity,
            last: now,
        });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(capacity);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

struct State {
    org: org::Org,
    latency: Duration,
    assume_role_limit: Option<RateLimit>,
    organizations_limit: Option<RateLimit>,
    call_limit: Option<RateLimit>,
    throttled: AtomicU64,
    started: Instant,
    requests: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    by_operation: Mutex<BTreeMap<String, OpStats>>,
}

/// Requests of one operation, and when the first and the last were answered (seconds
/// since fakeaws started): a timeline of a scan's phases.
#[derive(Clone, Default)]
struct OpStats {
    count: u64,
    first_s: f64,
    last_s: f64,
}

/// A fakeaws running on a thread of its own (for tests): it stops when dropped.
pub struct Server {
    port: u16,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Starts fakeaws on a free 127.0.0.1 port.
    pub fn start(options: Options) -> std::io::Result<Server> {
        let listener = std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let thread = std::thread::Builder::new()
            .name(format!("fakeaws-{port}"))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("fakeaws's runtime");
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(listener).expect("fakeaws's listener");
                    let _ = serve(listener, options, async {
                        let _ = rx.await;
                    })
                    .await;
                });
            })?;
        Ok(Server {
            port,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `GET /_fakeaws/stats`'s answer.
    pub fn stats(&self) -> serde_json::Value {
        use std::io::{Read, Write};
        let mut stream =
            std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect to fakeaws");
        stream
            .write_all(
                b"GET /_fakeaws/stats HTTP/1.1\r\nHost: fakeaws\r\nConnection: close\r\n\r\n",
            )
            .expect("ask fakeaws for its stats");
        let mut text = String::new();
        stream
            .read_to_string(&mut text)
            .expect("read fakeaws's stats");
        let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        serde_json::from_str(body).expect("fakeaws's stats are JSON")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Binds 127.0.0.1:`port` (0: any free port), prints `{"port": N}` on stdout, and
/// serves until Ctrl-C.
pub async fn run(port: u16, options: Options) -> std::io::Result<()> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    let port = listener.local_addr()?.port();
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{{\"port\": {port}}}")?;
        out.flush()?;
    }
    serve(listener, options, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// Serves on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    options: Options,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let state = Arc::new(State {
        org: org::Org::new(options.accounts),
        latency: options.latency,
        assume_role_limit: options.sts_assume_role_rate.map(RateLimit::new),
        organizations_limit: options.organizations_rate.map(RateLimit::new),
        call_limit: options.call_rate.map(RateLimit::new),
        throttled: AtomicU64::new(0),
        started: Instant::now(),
        requests: AtomicU64::new(0),
        in_flight: AtomicU64::new(0),
        max_in_flight: AtomicU64::new(0),
        by_operation: Mutex::new(BTreeMap::new()),
    });
    let shutdown = shutdown;
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    eprintln!("fakeaws: accept: {e}");
                    continue;
                }
            },
            () = &mut shutdown => return Ok(()),
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(state.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.method() == Method::GET && req.uri().path() == "/_fakeaws/stats" {
        return Ok(stats(&state));
    }
    let n = state.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let now = state.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
    state.max_in_flight.fetch_max(now, Ordering::Relaxed);
    let request_id = format!("fa4e0000-0000-4000-8000-{n:012x}");
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    tokio::time::sleep(state.latency).await;

    let answer = match wire::scope(&parts.headers) {
        None => wire::error(
            wire::Protocol::Json { version: "1.1" },
            StatusCode::FORBIDDEN,
            "MissingAuthenticationTokenException",
            "fakeaws needs a SigV4 Authorization header: it reads the service, region and access key from its credential scope",
            &request_id,
        ),
        Some(scope) => {
            let target = parts
                .headers
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok());
            let call = api::decode(&state.org, &scope, target, &body, request_id.clone());
            let (limit, key) = match (scope.service.as_str(), call.operation.as_str()) {
                ("sts", "AssumeRole") => (&state.assume_role_limit, scope.access_key.clone()),
                ("sts", _) => (&None, String::new()),
                ("organizations", _) => (&state.organizations_limit, scope.access_key.clone()),
                (service, _) => (
                    &state.call_limit,
                    format!("{}/{service}/{}", api::caller(&scope), scope.region),
                ),
            };
            let limited = limit
                .as_ref()
                .is_some_and(|l| !l.take(&key, Instant::now()));
            let (answer, key) = if limited {
                state.throttled.fetch_add(1, Ordering::Relaxed);
                let protocol = api::protocol(&scope.service);
                let (status, code, message) = match (scope.service.as_str(), protocol) {
                    ("organizations", _) => (
                        StatusCode::BAD_REQUEST,
                        "TooManyRequestsException",
                        "AWS Organizations can't complete your request because it received too many requests at the same time. Try again later.",
                    ),
                    (_, wire::Protocol::Ec2) => (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "RequestLimitExceeded",
                        "Request limit exceeded.",
                    ),
                    (_, wire::Protocol::Query { .. }) => {
                        (StatusCode::BAD_REQUEST, "Throttling", "Rate exceeded")
                    }
                    (_, wire::Protocol::Json { .. }) => {
                        (StatusCode::BAD_REQUEST, "ThrottlingException", "Rate exceeded")
                    }
                };
                let answer = wire::error(protocol, status, code, message, &request_id);
                (
                    answer,
                    format!("{} {} (throttled)", scope.service, call.operation),
                )
            } else {
                (call.answer(), format!("{} {}", scope.service, call.operation))
            };
            let at = state.started.elapsed().as_secs_f64();
            let mut ops = state.by_operation.lock().unwrap_or_else(|e| e.into_inner());
            let op = ops.entry(key).or_insert(OpStats {
                count: 0,
                first_s: at,
                last_s: at,
            });
            op.count += 1;
            op.last_s = at;
            answer
        }
    };
    state.in_flight.fetch_sub(1, Ordering::Relaxed);
    let mut response = Response::new(Full::new(answer.body));
    *response.status_mut() = answer.status;
    let headers = response.headers_mut();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(answer.content_type),
    );
    if let Ok(v) = hyper::header::HeaderValue::from_str(&request_id) {
        headers.insert("x-amzn-requestid", v.clone());
        headers.insert("x-amz-request-id", v);
    }
    Ok(response)
}

fn stats(state: &State) -> Response<Full<Bytes>> {
    let by_operation: serde_json::Map<String, serde_json::Value> = state
        .by_operation
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                serde_json::json!({"count": v.count, "first_s": v.first_s, "last_s": v.last_s}),
            )
        })
        .collect();
    let body = serde_json::json!({
        "accounts": state.org.accounts.len(),
        "latency_ms": state.latency.as_millis() as u64,
        "uptime_s": state.started.elapsed().as_secs_f64(),
        "requests": state.requests.load(Ordering::Relaxed),
        "max_in_flight": state.max_in_flight.load(Ordering::Relaxed),
        "throttled": state.throttled.load(Ordering::Relaxed),
        "by_operation": by_operation,
    });
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assume_role_is_limited_per_caller() {
        let limit = RateLimit::new(20.0);
        let t0 = Instant::now();
        // A second's worth at once, then nothing...
        assert_eq!((0..25).filter(|_| limit.take("AKIDA", t0)).count(), 20);
        // ...while another caller has its own bucket...
        assert!(limit.take("AKIDB", t0));
        // ...then 20 a second.
        let later = t0 + Duration::from_millis(500);
        assert_eq!((0..25).filter(|_| limit.take("AKIDA", later)).count(), 10);
        let much_later = t0 + Duration::from_secs(60);
        assert_eq!(
            (0..25).filter(|_| limit.take("AKIDA", much_later)).count(),
            20
        );
    }
}
