//! A fault-injecting loopback HTTP/1.1 reverse proxy, for the cases moto never
//! produces: throttling, access denied, 5xx, dropped connections, slow answers.
//!
//! Every request is read whole, recorded, and matched against the rules in order;
//! the first rule that matches and has uses left decides what happens. Without a
//! matching rule the request is forwarded unchanged (Host header included, so the
//! URLs moto builds from it, such as SQS queue URLs, point back at the proxy), and
//! moto's answer is returned unchanged but for hop-by-hop headers.
//!
//! The proxy runs its own Tokio runtime on a thread of its own, so it serves both
//! blocking tests and `#[tokio::test]`s, and its methods are plain `&self` calls that
//! may be made while requests are in flight.

use std::net::{IpAddr, SocketAddr, TcpListener as StdTcpListener};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::AwsEndpoint;

mod matching;
mod reply;
mod request;

pub use matching::*;
pub use reply::*;
pub use request::*;

/// The request id that [`Reply`]'s error builders put in their bodies and headers,
/// so that a test can tell an injected error from one of moto's.
pub const FAULT_REQUEST_ID: &str = "testkit-fault-0000-0000-000000000000";

/// Headers that describe one hop, not the message: never forwarded either way.
/// (`expect` is answered by the proxy itself; the upstream gets the whole body.)
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
];

struct RuleEntry {
    id: RuleId,
    rule: Rule,
    hits: u64,
}

struct State {
    upstream: String,
    started: Instant,
    next_rule: AtomicU64,
    next_seq: AtomicU64,
    rules: Mutex<Vec<RuleEntry>>,
    seen: Mutex<Vec<SeenRequest>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A test that panicked while holding a lock must not hide the other tests' data.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The fault-injecting reverse proxy. See the module documentation.
///
/// ```no_run
/// use testkit::{Action, FaultProxy, Match, Moto, Protocol, Reply, Rule};
/// let moto = Moto::start();
/// let proxy = FaultProxy::start(&moto);
/// // The first two DynamoDB ListTables calls are throttled, then moto answers.
/// let rule = proxy.add(
///     Rule::new(Match::any().target("ListTables"), Action::Reply(Reply::throttling(Protocol::Json)))
///         .times(2),
/// );
/// // ... point the client under test at proxy.endpoint() ...
/// assert_eq!(proxy.hits(rule), 2);
/// ```
pub struct FaultProxy {
    addr: SocketAddr,
    state: Arc<State>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Starts a proxy on a free `127.0.0.1` port in front of `upstream` (a [`crate::Moto`],
    /// or a `http://` URL on a loopback address).
    ///
    /// # Panics
    /// If the upstream is not a plain-HTTP loopback URL, or the proxy cannot bind.
    pub fn start(upstream: &(impl AwsEndpoint + ?Sized)) -> FaultProxy {
        let upstream = upstream.endpoint_url();
        check_loopback(&upstream);
        let listener = StdTcpListener::bind("127.0.0.1:0").expect("bind the fault proxy");
        listener
            .set_nonblocking(true)
            .expect("make the proxy's listener non-blocking");
        let addr = listener.local_addr().expect("the proxy's address");
        let state = Arc::new(State {
            upstream,
            started: Instant::now(),
            next_rule: AtomicU64::new(0),
            next_seq: AtomicU64::new(0),
            rules: Mutex::new(Vec::new()),
            seen: Mutex::new(Vec::new()),
        });
        let (tx, rx) = oneshot::channel();
        let thread_state = state.clone();
        let thread = std::thread::Builder::new()
            .name(format!("fault-proxy-{}", addr.port()))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("the fault proxy's runtime");
                runtime.block_on(serve(listener, thread_state, rx));
            })
            .expect("spawn the fault proxy's thread");
        FaultProxy {
            addr,
            state,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    /// The proxy's base URL, `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The proxy's socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Adds a rule after the existing ones; it applies from the next request on.
    pub fn add(&self, rule: Rule) -> RuleId {
        let id = RuleId(self.state.next_rule.fetch_add(1, Ordering::Relaxed));
        lock(&self.state.rules).push(RuleEntry { id, rule, hits: 0 });
        id
    }

    /// Removes a rule; returns whether it existed.
    pub fn remove(&self, id: RuleId) -> bool {
        let mut rules = lock(&self.state.rules);
        let before = rules.len();
        rules.retain(|r| r.id != id);
        rules.len() != before
    }

    /// Removes every rule: from now on everything is forwarded.
    pub fn clear_rules(&self) {
        lock(&self.state.rules).clear();
    }

    /// How many requests the rule has handled (0 if it does not exist).
    pub fn hits(&self, id: RuleId) -> u64 {
        lock(&self.state.rules)
            .iter()
            .find(|r| r.id == id)
            .map_or(0, |r| r.hits)
    }

    /// Every request seen so far, in arrival order.
    pub fn requests(&self) -> Vec<SeenRequest> {
        lock(&self.state.seen).clone()
    }

    /// The requests seen so far that `matcher` matches, in arrival order.
    pub fn requests_matching(&self, matcher: &Match) -> Vec<SeenRequest> {
        lock(&self.state.seen)
            .iter()
            .filter(|r| matcher.matches(r))
            .cloned()
            .collect()
    }

    /// Forgets the requests seen so far (rules and their hit counts stay).
    pub fn clear_requests(&self) {
        lock(&self.state.seen).clear();
    }
}

impl AwsEndpoint for FaultProxy {
    fn endpoint_url(&self) -> String {
        self.endpoint()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("endpoint", &self.endpoint())
            .field("upstream", &self.state.upstream)
            .finish()
    }
}

/// Panics unless `url` is `http://` on a loopback address: the kit never sends test
/// traffic anywhere else.
fn check_loopback(url: &str) {
    let rest = url
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("fault proxy upstream {url:?} is not a plain http:// URL"));
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    assert!(
        loopback,
        "fault proxy upstream {url:?} is not on a loopback address"
    );
}

type ProxyClient = Client<HttpConnector, Full<Bytes>>;

/// Marks a connection to be closed with a reset.
#[derive(Debug)]
struct ResetConnection;

impl std::fmt::Display for ResetConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset by a fault rule")
    }
}

impl std::error::Error for ResetConnection {}

async fn serve(listener: StdTcpListener, state: Arc<State>, mut shutdown: oneshot::Receiver<()>) {
    let listener = TcpListener::from_std(listener).expect("register the proxy's listener");
    let client: ProxyClient = Client::builder(TokioExecutor::new()).build_http();
    loop {
        let stream = tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        let _ = stream.set_nodelay(true);
        // A second handle on the socket outlives hyper's: to reset, the service sets
        // SO_LINGER 0 through it, hyper drops its handle, and dropping this one closes
        // the socket with an RST instead of a FIN.
        let reset_handle = socket2::SockRef::from(&stream).try_clone().ok();
        let reset = Arc::new(AtomicBool::new(false));
        let state = state.clone();
        let client = client.clone();
        tokio::spawn(async move {
            let service = service_fn({
                let reset = reset.clone();
                move |req| handle(req, state.clone(), client.clone(), reset.clone())
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Some(socket) = reset_handle {
                if reset.load(Ordering::SeqCst) {
                    let _ = socket.set_linger(Some(Duration::ZERO));
                }
                drop(socket);
            }
        });
    }
}

async fn handle(
    req: Request<Incoming>,
    state: Arc<State>,
    client: ProxyClient,
    reset: Arc<AtomicBool>,
) -> Result<Response<Full<Bytes>>, ResetConnection> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Err(ResetConnection),
    };
    let received = Instant::now();
    let mut seen = SeenRequest {
        seq: state.next_seq.fetch_add(1, Ordering::Relaxed),
        method: parts.method.to_string(),
        path: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_string(), |pq| pq.to_string()),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.clone(),
        at: received - state.started,
        received,
        rule: None,
        status: None,
        response_headers: Vec::new(),
        response_body: Bytes::new(),
    };

    // Decide under the lock, so that "first N" counts are exact under concurrency.
    let action = {
        let mut rules = lock(&state.rules);
        let chosen = rules
            .iter_mut()
            .find(|r| r.rule.times.is_none_or(|n| r.hits < n) && r.rule.matcher.matches(&seen));
        match chosen {
            Some(entry) => {
                entry.hits += 1;
                seen.rule = Some(entry.id);
                entry.rule.action.clone()
            }
            None => Action::Forward,
        }
    };
    let seq = seen.seq;
    lock(&state.seen).push(seen);

    let mut action = action;
    while let Action::Delay(d, then) = action {
        tokio::time::sleep(d).await;
        action = *then;
    }
    let response = match action {
        Action::Reset => {
            reset.store(true, Ordering::SeqCst);
            return Err(ResetConnection);
        }
        Action::Reply(reply) => reply_response(&reply),
        Action::Forward => forward(&state, &client, parts, body).await,
        Action::Delay(..) => unreachable!("delays were unwound above"),
    };
    // Record the answer on the entry (unless the log was cleared meanwhile).
    let (parts, body) = response.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(never) => match never {},
    };
    if let Some(entry) = lock(&state.seen).iter_mut().rev().find(|e| e.seq == seq) {
        entry.status = Some(parts.status.as_u16());
        entry.response_headers = parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        entry.response_body = body.clone();
    }
    Ok(Response::from_parts(parts, Full::new(body)))
}

fn reply_response(reply: &Reply) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(reply.body.clone()));
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in &reply.headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            response.headers_mut().append(k, v);
        }
    }
    response
}

async fn forward(
    state: &State,
    client: &ProxyClient,
    parts: hyper::http::request::Parts,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_string();
    let uri = format!("{}{}", state.upstream, path);
    let mut builder = Request::builder().method(parts.method).uri(uri);
    for (k, v) in &parts.headers {
        if !HOP_BY_HOP.contains(&k.as_str()) {
            builder = builder.header(k, v);
        }
    }
    let request = match builder.body(Full::new(body)) {
        Ok(r) => r,
        Err(e) => return bad_gateway(&format!("could not build the upstream request: {e}")),
    };
    let upstream = match client.request(request).await {
        Ok(r) => r,
        Err(e) => return bad_gateway(&format!("upstream {}: {e}", state.upstream)),
    };
    let (parts, body) = upstream.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return bad_gateway(&format!("upstream body: {e}")),
    };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = parts.status;
    for (k, v) in &parts.headers {
        if !HOP_BY_HOP.contains(&k.as_str()) {
            response.headers_mut().append(k, v.clone());
        }
    }
    response
}

fn bad_gateway(message: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(message.to_string())));
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response
}

#[cfg(test)]
mod tests;
