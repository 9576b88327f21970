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

/// Identifies a rule added with [`FaultProxy::add`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId(pub u64);

/// A condition of [`Match::custom`].
type Predicate = Arc<dyn Fn(&SeenRequest) -> bool + Send + Sync>;

/// Which requests a rule applies to. Every condition set must hold; `Match::any()`
/// matches everything. String comparisons are exact unless said otherwise.
#[derive(Clone, Default)]
pub struct Match {
    method: Option<String>,
    path_prefix: Option<String>,
    target: Option<String>,
    form_action: Option<String>,
    host: Option<String>,
    body_contains: Option<String>,
    headers: Vec<(String, String)>,
    protocol: Option<Protocol>,
    draw: Option<(u64, f64, f64)>,
    custom: Option<Predicate>,
}

impl std::fmt::Debug for Match {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Match")
            .field("method", &self.method)
            .field("path_prefix", &self.path_prefix)
            .field("target", &self.target)
            .field("form_action", &self.form_action)
            .field("host", &self.host)
            .field("body_contains", &self.body_contains)
            .field("headers", &self.headers)
            .field("protocol", &self.protocol)
            .field("draw", &self.draw)
            .field("custom", &self.custom.is_some())
            .finish()
    }
}

impl Match {
    /// Matches every request.
    pub fn any() -> Match {
        Match::default()
    }

    /// The HTTP method, case-insensitive (`GET`, `POST`, `HEAD`...).
    pub fn method(mut self, method: &str) -> Match {
        self.method = Some(method.to_ascii_uppercase());
        self
    }

    /// The path (query string excluded) starts with `prefix`, e.g. `/2015-03-31/functions`
    /// for Lambda or `/my-bucket` for S3.
    pub fn path_prefix(mut self, prefix: &str) -> Match {
        self.path_prefix = Some(prefix.to_string());
        self
    }

    /// The `X-Amz-Target` header (json protocol) equals `target`, or its operation part
    /// does: `DynamoDB_20120810.ListTables` and `ListTables` both match that header.
    pub fn target(mut self, target: &str) -> Match {
        self.target = Some(target.to_string());
        self
    }

    /// The query-protocol `Action=` parameter (form body or query string) equals
    /// `action`, e.g. `AssumeRole` or `DescribeInstances`.
    pub fn form_action(mut self, action: &str) -> Match {
        self.form_action = Some(action.to_string());
        self
    }

    /// The `Host` header equals `host`, case-insensitive, with or without its port.
    pub fn host(mut self, host: &str) -> Match {
        self.host = Some(host.to_ascii_lowercase());
        self
    }

    /// The body, read as UTF-8 (lossy), contains `needle`: for instance an account id
    /// inside an AssumeRole `RoleArn` (form bodies are URL-encoded: use the id alone).
    pub fn body_contains(mut self, needle: &str) -> Match {
        self.body_contains = Some(needle.to_string());
        self
    }

    /// Header `name` (case-insensitive) contains `needle`: for instance an access key id
    /// in `Authorization`, which identifies the credentials, hence the account.
    pub fn header_contains(mut self, name: &str, needle: &str) -> Match {
        self.headers
            .push((name.to_ascii_lowercase(), needle.to_string()));
        self
    }

    /// The request speaks `protocol` (as [`Protocol::of`] tells), so that a rule can
    /// answer in that protocol's error format.
    pub fn protocol(mut self, protocol: Protocol) -> Match {
        self.protocol = Some(protocol);
        self
    }

    /// The request's random draw for `seed` falls in `[from, to)`: a request matches
    /// with probability `to - from`, reproducibly.
    ///
    /// Each request gets one number in `[0, 1)` per seed, a hash of the seed and its
    /// arrival order ([`SeenRequest::seq`]), the same in every run: a run that sends its
    /// requests in the same order meets the same faults. Rules drawing with the same seed
    /// over disjoint ranges never match the same request, so
    /// `draw(seed, 0.0, 0.2)` -> throttling, `draw(seed, 0.2, 0.23)` -> 500 and
    /// `draw(seed, 0.23, 0.24)` -> reset inject exactly 20%, 3% and 1%.
    pub fn draw(mut self, seed: u64, from: f64, to: f64) -> Match {
        self.draw = Some((seed, from, to));
        self
    }

    /// [`Match::draw`] from 0: the request matches with probability `p`.
    pub fn chance(self, seed: u64, p: f64) -> Match {
        self.draw(seed, 0.0, p)
    }

    /// Any other condition on the recorded request.
    pub fn custom(mut self, f: impl Fn(&SeenRequest) -> bool + Send + Sync + 'static) -> Match {
        self.custom = Some(Arc::new(f));
        self
    }

    /// Whether `req` meets every condition.
    pub fn matches(&self, req: &SeenRequest) -> bool {
        if let Some(m) = &self.method {
            if !req.method.eq_ignore_ascii_case(m) {
                return false;
            }
        }
        if let Some(prefix) = &self.path_prefix {
            if !req.path_only().starts_with(prefix.as_str()) {
                return false;
            }
        }
        if let Some(t) = &self.target {
            match req.target() {
                Some(h) if h == t || h.rsplit('.').next() == Some(t.as_str()) => {}
                _ => return false,
            }
        }
        if let Some(a) = &self.form_action {
            if req.form_action().as_deref() != Some(a.as_str()) {
                return false;
            }
        }
        if let Some(host) = &self.host {
            let Some(h) = req.header("host") else {
                return false;
            };
            let h = h.to_ascii_lowercase();
            let without_port = h.rsplit_once(':').map(|(n, _)| n).unwrap_or(&h);
            if h != *host && without_port != host {
                return false;
            }
        }
        if let Some(needle) = &self.body_contains {
            if !req.body_str().contains(needle.as_str()) {
                return false;
            }
        }
        for (name, needle) in &self.headers {
            if !req
                .header(name)
                .is_some_and(|v| v.contains(needle.as_str()))
            {
                return false;
            }
        }
        if let Some(p) = self.protocol {
            if Protocol::of(req) != p {
                return false;
            }
        }
        if let Some((seed, from, to)) = self.draw {
            let u = req.draw(seed);
            if !(from <= u && u < to) {
                return false;
            }
        }
        if let Some(f) = &self.custom {
            if !f(req) {
                return false;
            }
        }
        true
    }
}

/// SplitMix64's output function: a well-mixed 64-bit hash of `x`.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The wire protocols whose error shapes [`Reply`] can write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `query` (IAM, STS, SNS, CloudFormation...): `<ErrorResponse><Error>...`.
    Query,
    /// `ec2`: `<Response><Errors><Error>...`.
    Ec2,
    /// `json` (DynamoDB, SQS, KMS, Logs, Organizations...): `{"__type": ...}`.
    Json,
    /// `rest-json` (Lambda...): the `x-amzn-errortype` header and a JSON body.
    RestJson,
    /// `rest-xml` (S3, Route53, CloudFront): `<Error><Code>...`, S3's shape, which
    /// botocore also reads for the others.
    RestXml,
}

impl Protocol {
    /// Every protocol, in the order of the enum.
    pub const ALL: [Protocol; 5] = [
        Protocol::Query,
        Protocol::Ec2,
        Protocol::Json,
        Protocol::RestJson,
        Protocol::RestXml,
    ];

    /// The protocol a request speaks, from what it carries: `X-Amz-Target` (json), a
    /// form `Action` (ec2 for EC2's API version or signing name, else query), else the
    /// service of its SigV4 credential scope (`s3`, `route53`, `cloudfront` and
    /// `s3-control` are rest-xml; every other REST service Census meets is rest-json).
    pub fn of(req: &SeenRequest) -> Protocol {
        if req.target().is_some() {
            return Protocol::Json;
        }
        let service = req.signing_service();
        if req.form_action().is_some() {
            let ec2 = service.as_deref() == Some("ec2")
                || req.body_str().contains("Version=2016-11-15")
                || req.path.contains("Version=2016-11-15");
            return if ec2 { Protocol::Ec2 } else { Protocol::Query };
        }
        match service.as_deref() {
            Some("s3" | "route53" | "cloudfront" | "s3-control" | "s3control") | None => {
                Protocol::RestXml
            }
            Some(_) => Protocol::RestJson,
        }
    }
}

/// A ready-made HTTP response, for the [`Action::Reply`] of a rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Headers, in order (`Content-Length` is set by the proxy).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
}

impl Reply {
    /// A response with this status, no headers and an empty body.
    pub fn new(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Reply {
        self.body = body.into();
        self
    }

    /// An AWS error in `protocol`'s shape, with [`FAULT_REQUEST_ID`] as its request id.
    pub fn error(protocol: Protocol, status: u16, code: &str, message: &str) -> Reply {
        let id = FAULT_REQUEST_ID;
        let kind = if status >= 500 { "Receiver" } else { "Sender" };
        match protocol {
            Protocol::Query => Reply::new(status)
                .header("Content-Type", "text/xml")
                .header("x-amzn-RequestId", id)
                .body(format!(
                    "<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code>\
                     <Message>{message}</Message></Error><RequestId>{id}</RequestId></ErrorResponse>"
                )),
            Protocol::Ec2 => Reply::new(status)
                .header("Content-Type", "text/xml;charset=UTF-8")
                .body(format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>\
                     <Code>{code}</Code><Message>{message}</Message></Error></Errors>\
                     <RequestID>{id}</RequestID></Response>"
                )),
            Protocol::Json => Reply::new(status)
                .header("Content-Type", "application/x-amz-json-1.1")
                .header("x-amzn-RequestId", id)
                .body(format!(
                    "{{\"__type\":\"{code}\",\"message\":{}}}",
                    json_string(message)
                )),
            Protocol::RestJson => Reply::new(status)
                .header("Content-Type", "application/json")
                .header("x-amzn-RequestId", id)
                .header("x-amzn-ErrorType", code)
                .body(format!("{{\"message\":{}}}", json_string(message))),
            Protocol::RestXml => Reply::new(status)
                .header("Content-Type", "application/xml")
                .header("x-amz-request-id", id)
                .body(format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
                     <Message>{message}</Message><RequestId>{id}</RequestId></Error>"
                )),
        }
    }

    /// The throttling error each protocol's services really send, all of which botocore
    /// retries as throttling: query `Throttling` (400), ec2 `RequestLimitExceeded`
    /// (503), json `ThrottlingException` (400), rest-json `TooManyRequestsException`
    /// (429), rest-xml `SlowDown` (503).
    pub fn throttling(protocol: Protocol) -> Reply {
        match protocol {
            Protocol::Query => Reply::error(protocol, 400, "Throttling", "Rate exceeded"),
            Protocol::Ec2 => Reply::error(
                protocol,
                503,
                "RequestLimitExceeded",
                "Request limit exceeded.",
            ),
            Protocol::Json => Reply::error(protocol, 400, "ThrottlingException", "Rate exceeded"),
            Protocol::RestJson => {
                Reply::error(protocol, 429, "TooManyRequestsException", "Rate exceeded")
            }
            Protocol::RestXml => Reply::error(
                protocol,
                503,
                "SlowDown",
                "Please reduce your request rate.",
            ),
        }
    }

    /// Access denied as each protocol's services send it: query and rest-xml
    /// `AccessDenied` (403), ec2 `UnauthorizedOperation` (403), json
    /// `AccessDeniedException` (400), rest-json `AccessDeniedException` (403).
    pub fn access_denied(protocol: Protocol) -> Reply {
        let message = "User is not authorized to perform this operation";
        match protocol {
            Protocol::Query | Protocol::RestXml => {
                Reply::error(protocol, 403, "AccessDenied", message)
            }
            Protocol::Ec2 => Reply::error(protocol, 403, "UnauthorizedOperation", message),
            Protocol::Json => Reply::error(protocol, 400, "AccessDeniedException", message),
            Protocol::RestJson => Reply::error(protocol, 403, "AccessDeniedException", message),
        }
    }

    /// A 500 `InternalError` (`InternalFailure` for json protocols).
    pub fn internal_error(protocol: Protocol) -> Reply {
        let code = match protocol {
            Protocol::Json | Protocol::RestJson => "InternalFailure",
            _ => "InternalError",
        };
        Reply::error(protocol, 500, code, "We encountered an internal error.")
    }

    /// A 503 `ServiceUnavailable`.
    pub fn service_unavailable(protocol: Protocol) -> Reply {
        Reply::error(
            protocol,
            503,
            "ServiceUnavailable",
            "The service is unavailable. Please try again later.",
        )
    }
}

fn json_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// What the proxy does with a request that a rule matched.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Send it upstream unchanged (what happens when no rule matches).
    Forward,
    /// Answer with this response; upstream never sees the request.
    Reply(Reply),
    /// Close the connection with a TCP reset, without any response.
    Reset,
    /// Wait, then do the inner action: a slow answer, or a slow reset.
    Delay(Duration, Box<Action>),
}

impl Action {
    /// `Delay(duration, then)`.
    pub fn delay(duration: Duration, then: Action) -> Action {
        Action::Delay(duration, Box::new(then))
    }
}

/// A rule: requests that match, an action, and how many times it applies.
#[derive(Clone, Debug)]
pub struct Rule {
    matcher: Match,
    action: Action,
    times: Option<u64>,
}

impl Rule {
    /// A rule that applies to every matching request, for as long as it exists.
    pub fn new(matcher: Match, action: Action) -> Rule {
        Rule {
            matcher,
            action,
            times: None,
        }
    }

    /// Applies only to the first `n` matching requests, then is skipped.
    pub fn times(mut self, n: u64) -> Rule {
        self.times = Some(n);
        self
    }
}

/// A request as the proxy received it.
#[derive(Clone, Debug)]
pub struct SeenRequest {
    /// Arrival order, from 0.
    pub seq: u64,
    /// The HTTP method.
    pub method: String,
    /// Path and query string, as sent.
    pub path: String,
    /// Headers in arrival order, names lowercase.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Bytes,
    /// When it arrived (fully read), since the proxy started.
    pub at: Duration,
    /// When it arrived, as an instant.
    pub received: Instant,
    /// The rule that handled it; `None` if it was forwarded for lack of one.
    pub rule: Option<RuleId>,
    /// The status sent back: upstream's when forwarded (502 if upstream failed),
    /// the reply's otherwise; `None` for a reset, or while the answer is pending.
    pub status: Option<u16>,
}

impl SeenRequest {
    /// The first value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The request's random number in `[0, 1)` for `seed`: see [`Match::draw`].
    pub fn draw(&self, seed: u64) -> f64 {
        let bits = splitmix64(splitmix64(seed) ^ self.seq);
        (bits >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The service of the SigV4 credential scope in `Authorization`
    /// (`Credential=AKID/20261202/us-east-1/ec2/aws4_request` -> `ec2`).
    pub fn signing_service(&self) -> Option<String> {
        let auth = self.header("authorization")?;
        let scope = auth.split("Credential=").nth(1)?;
        let scope = scope.split([',', ' ']).next()?;
        scope.split('/').nth(3).map(str::to_string)
    }

    /// The path without its query string.
    pub fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or_default()
    }

    /// The `X-Amz-Target` header.
    pub fn target(&self) -> Option<&str> {
        self.header("x-amz-target")
    }

    /// The query protocol's `Action` parameter, from the form body or the query string.
    pub fn form_action(&self) -> Option<String> {
        let query = self
            .path
            .split_once('?')
            .map(|(_, q)| q)
            .unwrap_or_default();
        form_value(query, "Action").or_else(|| {
            let is_form = self
                .header("content-type")
                .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
            if is_form {
                form_value(&self.body_str(), "Action")
            } else {
                None
            }
        })
    }

    /// The body as UTF-8 (lossy).
    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A short label for messages: the target, the form action, or method and path.
    pub fn label(&self) -> String {
        if let Some(t) = self.target() {
            return t.to_string();
        }
        if let Some(a) = self.form_action() {
            return a;
        }
        format!("{} {}", self.method, self.path)
    }
}

/// The first value of `key` in an `application/x-www-form-urlencoded` string.
fn form_value(form: &str, key: &str) -> Option<String> {
    form.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == key).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push((hi * 16 + lo) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

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
    // Record the status on the entry (unless the log was cleared meanwhile).
    let status = response.status().as_u16();
    if let Some(entry) = lock(&state.seen).iter_mut().rev().find(|e| e.seq == seq) {
        entry.status = Some(status);
    }
    Ok(response)
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
