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
//! of each (seconds since start), and the most requests in flight at once. It binds to
//! 127.0.0.1 only.

mod api;
mod org;
mod wire;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

#[derive(Debug, Parser)]
#[command(
    name = "fakeaws",
    about = "A loopback AWS fixture for scale benchmarks"
)]
struct Args {
    /// Accounts in the organization, the management account included.
    #[arg(long, default_value_t = 200)]
    accounts: usize,
    /// Delay before every answer, in milliseconds.
    #[arg(long = "latency-ms", default_value_t = 50)]
    latency_ms: u64,
    /// Port on 127.0.0.1; 0 lets the system choose (printed as JSON on stdout).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Worker threads (1: a single-threaded runtime).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Exit when standard input closes (for harnesses that may die without cleaning up).
    #[arg(long)]
    exit_on_eof: bool,
}

struct State {
    org: org::Org,
    latency: Duration,
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

fn main() {
    let args = Args::parse();
    let runtime = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()
    };
    let runtime = match runtime {
        Ok(r) => r,
        Err(e) => {
            eprintln!("fakeaws: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(serve(args)) {
        eprintln!("fakeaws: {e}");
        std::process::exit(1);
    }
}

async fn serve(args: Args) -> std::io::Result<()> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], args.port))).await?;
    let port = listener.local_addr()?.port();
    let state = Arc::new(State {
        org: org::Org::new(args.accounts),
        latency: Duration::from_millis(args.latency_ms),
        started: Instant::now(),
        requests: AtomicU64::new(0),
        in_flight: AtomicU64::new(0),
        max_in_flight: AtomicU64::new(0),
        by_operation: Mutex::new(BTreeMap::new()),
    });
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{{\"port\": {port}}}")?;
        out.flush()?;
    }
    if args.exit_on_eof {
        std::thread::spawn(|| {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            std::process::exit(0);
        });
    }
    let shutdown = tokio::signal::ctrl_c();
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
            _ = &mut shutdown => return Ok(()),
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
            let answer = call.answer();
            let key = format!("{} {}", scope.service, call.operation);
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
        "by_operation": by_operation,
    });
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}
