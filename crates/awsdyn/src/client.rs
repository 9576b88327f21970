//! The client: real, signed calls to any service and operation, boto3-shaped JSON back.
//!
//! One [`Client`] holds the shared, connection-pooled HTTP client (rustls, a caching DNS
//! resolver, connect and read timeouts) and the [`Retrier`] with its per-key retry quotas
//! and rate limiters. A [`Target`] says where and as whom a call runs: region,
//! credentials, endpoint settings, and a label that keys the rate limiters (Census uses
//! the account id), so that one throttled account/service/region never slows the others.
//!
//! A call: validate the input against the model, apply botocore's customizations,
//! serialize for the service's protocol, resolve the endpoint with the service's rule
//! set, sign with SigV4, send, retry per the retry policy, parse, post-process. An S3
//! call for a bucket of another region is sent once more to that region
//! (`client/s3_redirect.rs`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use serde_json::Value;

use crate::endpoint::{self, EndpointConfig};
use crate::model::{self, Operation, ServiceModel};
use crate::paginate::{FullResult, Paginator};
use crate::protocol::{self, Response};
use crate::retry::{
    classify, Decision, Outcome, Retrier, RetryConfig, RetryKey, TransportErrorKind,
};
use crate::sign::{sign_headers, SigningScope};
use crate::{customize, names, validate, Error};

mod printed;
mod s3_redirect;
mod settings;

pub use printed::*;
pub use settings::*;

/// A model-driven AWS client. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    retrier: Retrier,
    config: ClientConfig,
    /// The regions of S3 buckets met in redirects.
    s3_regions: s3_redirect::RegionCache,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .finish()
    }
}

/// A request ready to sign and send: URL, signing scope, headers.
struct Wire {
    url: String,
    scope: SigningScope,
    headers: Vec<(String, String)>,
}

/// What came back from the wire.
struct RawResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Client, Error> {
        max_response_bytes_from_env().map_err(Error::Model)?;
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.read_timeout)
            .pool_max_idle_per_host(config.pool_idle_per_host)
            .pool_idle_timeout(Duration::from_secs(50))
            .tcp_nodelay(true)
            .hickory_dns(true)
            .user_agent(config.user_agent.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Transport {
                operation: "client".into(),
                message: format!("cannot build the HTTP client: {e}"),
                retryable: false,
            })?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                retrier: Retrier::new(config.retry.clone()),
                config,
                s3_regions: s3_redirect::RegionCache::default(),
            }),
        })
    }

    /// The retry state shared by this client's calls.
    pub fn retrier(&self) -> &Retrier {
        &self.inner.retrier
    }

    /// Finds a service model and one of its operations by any accepted name form.
    pub fn operation(service: &str, operation: &str) -> Result<(Arc<ServiceModel>, String), Error> {
        let model = model::load(service)?;
        let key = operation_key(&model, operation)?;
        Ok((model, key))
    }

    /// One request (no pagination), retried per the retry policy.
    pub async fn call(
        &self,
        target: &Target,
        service: &str,
        operation: &str,
        input: &Value,
    ) -> Result<Value, Error> {
        let (model, op) = Self::operation(service, operation)?;
        self.call_op(target, &model, &model.operations[&op], input)
            .await
    }

    /// One request whose payload member is sent as these bytes, as they are: PutObject
    /// of a file that is not UTF-8, say (blobs in `input` are JSON strings and cannot
    /// carry arbitrary bytes). The operation must have a blob payload member; leave it
    /// out of `input`. Same validation, endpoint rules, signing and retries as [`call`].
    ///
    /// [`call`]: Client::call
    pub async fn call_with_payload(
        &self,
        target: &Target,
        service: &str,
        operation: &str,
        input: &Value,
        payload: Vec<u8>,
    ) -> Result<Value, Error> {
        let (model, op) = Self::operation(service, operation)?;
        let op = &model.operations[&op];
        let blob_payload = op.input.as_ref().is_some_and(|r| {
            let shape = model.shape(r.target);
            crate::protocol::rest::payload_member(Some(r), shape)
                .and_then(|m| shape.members.get(m))
                .is_some_and(|m| model.shape(m.target).kind == crate::model::ShapeType::Blob)
        });
        if !blob_payload {
            return Err(Error::Validation {
                operation: op.name.clone(),
                message: format!(
                    "{service} {} has no blob payload member to carry raw bytes",
                    op.name
                ),
            });
        }
        self.call_op_with(target, &model, op, input, Some(payload.into()))
            .await
    }

    /// Every page merged into one result the way boto3's `build_full_result` does, or
    /// one request for an operation without a paginator.
    pub async fn call_all(
        &self,
        target: &Target,
        service: &str,
        operation: &str,
        input: &Value,
    ) -> Result<Value, Error> {
        let mut pages = self.pages(target, service, operation, input)?;
        let Some(paginator) = pages.paginator.clone() else {
            return pages.next().await.unwrap_or_else(|| Ok(protocol::empty()));
        };
        let mut full = FullResult::new(&paginator);
        while let Some(page) = pages.next().await {
            full.add_page(page?);
        }
        Ok(full.finish())
    }

    /// The pages of a call, one request each, fetched as they are asked for (so that a
    /// huge result need not sit in memory).
    pub fn pages(
        &self,
        target: &Target,
        service: &str,
        operation: &str,
        input: &Value,
    ) -> Result<Pages, Error> {
        let (model, op) = Self::operation(service, operation)?;
        let paginator = Paginator::for_operation(&model, &op)?;
        Ok(Pages {
            client: self.clone(),
            target: target.clone(),
            model,
            operation: op,
            input: input.clone(),
            paginator,
            previous: None,
            done: false,
            count: 0,
        })
    }

    /// One request to an operation of a loaded model.
    pub async fn call_op(
        &self,
        target: &Target,
        model: &Arc<ServiceModel>,
        op: &Operation,
        input: &Value,
    ) -> Result<Value, Error> {
        self.call_op_with(target, model, op, input, None).await
    }

    /// [`Client::call_op`], with the serialized body replaced by `payload` when given.
    async fn call_op_with(
        &self,
        target: &Target,
        model: &Arc<ServiceModel>,
        op: &Operation,
        input: &Value,
        payload: Option<bytes::Bytes>,
    ) -> Result<Value, Error> {
        validate::check(model, op, input)?;
        let mut input = input.clone();
        let notes = customize::before_call(model, op, &mut input);
        let request = protocol::serialize(model, op, &input)?;
        let body = payload.unwrap_or_else(|| request.body.clone().into());
        let anonymous = op.auth.iter().any(|a| a == "smithy.api#noAuth")
            || op.authtype.as_deref() == Some("none");
        // An S3 call naming a bucket goes to the bucket's region when it is known, and
        // may be sent once more to it when the answer says it lives elsewhere.
        let mut bucket = s3_redirect::BucketCall::of(model, op, &input, target);
        let mut region = bucket
            .as_ref()
            .and_then(|b| b.cached_region(&self.inner.s3_regions))
            .unwrap_or_else(|| target.region.clone());
        let mut wire = self.prepare(target, model, op, &input, &request, &region)?;

        let key = RetryKey::new(
            target.label.as_str(),
            model.name.as_str(),
            target.region.as_str(),
        );
        let mut attempt = self.inner.retrier.start(&key);
        if let Some(deadline) = target.deadline {
            attempt.limit_budget(deadline.saturating_duration_since(tokio::time::Instant::now()));
        }
        loop {
            attempt.before_send().await;
            let sent = self
                .send_once(
                    target,
                    &wire.scope,
                    anonymous,
                    &request.method,
                    &wire.url,
                    &wire.headers,
                    &body,
                )
                .await;
            let failure = match sent {
                Ok(raw) => {
                    let retry_after = retry_after(&raw.headers);
                    let status = customize::effective_status(model, op, raw.status, &raw.body);
                    let resp = Response {
                        status,
                        headers: &raw.headers,
                        body: &raw.body,
                    };
                    match parse_answer(model, op, notes, &resp) {
                        Ok(value) => {
                            attempt.after(Outcome::Success);
                            return Ok(value);
                        }
                        Err(Error::Service(e)) => {
                            // Not a retry: the same request, once, to the bucket's region.
                            if let Some(b) = bucket.as_mut() {
                                let answer = s3_redirect::Answer::new(&raw, &e);
                                if let Some(to) =
                                    b.redirect(self, target, model, op, &region, &answer).await
                                {
                                    if let Ok(w) =
                                        self.prepare(target, model, op, &input, &request, &to)
                                    {
                                        b.remember(&self.inner.s3_regions, &to);
                                        (wire, region) = (w, to);
                                        continue;
                                    }
                                }
                            }
                            let class = classify(Some(e.status), Some(&e.code), None);
                            (Error::Service(e), class, retry_after)
                        }
                        Err(other) => {
                            let class = classify(Some(status), None, None);
                            (other, class, retry_after)
                        }
                    }
                }
                Err((kind, message)) => {
                    let class = classify(None, None, Some(kind));
                    (
                        Error::Transport {
                            operation: op.name.clone(),
                            message,
                            retryable: class.is_retryable(),
                        },
                        class,
                        None,
                    )
                }
            };
            let (error, class, retry_after) = failure;
            match attempt.after_with_hint(Outcome::Error(class), retry_after) {
                Decision::Retry(delay) => tokio::time::sleep(delay).await,
                Decision::Stop(reason) => {
                    return Err(if attempt.attempts() > 1 {
                        Error::GaveUp {
                            reason: reason.to_string(),
                            last: Box::new(error),
                        }
                    } else {
                        error
                    });
                }
            }
        }
    }

    /// Where and how a serialized request goes when sent for `region`: the endpoint
    /// rule set's URL, the signing scope and the headers.
    fn prepare(
        &self,
        target: &Target,
        model: &ServiceModel,
        op: &Operation,
        input: &Value,
        request: &protocol::Request,
        region: &str,
    ) -> Result<Wire, Error> {
        let facts = customize::service_facts(&model.name);
        let endpoint_config = EndpointConfig {
            region: Some(region.to_string()),
            use_fips: target.endpoints.use_fips,
            use_dual_stack: target.endpoints.use_dual_stack,
            endpoint_url: target.endpoints.url_for(model).map(str::to_string),
            s3_force_path_style: target.endpoints.s3_force_path_style,
            s3_use_global_endpoint: facts.use_global_endpoint,
            ..EndpointConfig::default()
        };
        let endpoint =
            endpoint::resolve(model, op, input, &endpoint_config).map_err(|e| Error::Endpoint {
                service: model.name.clone(),
                region: region.to_string(),
                message: e.to_string(),
            })?;
        let url = join_url(&endpoint.url, request.host_prefix.as_deref(), &request.uri).map_err(
            |message| Error::Endpoint {
                service: model.name.clone(),
                region: region.to_string(),
                message,
            },
        )?;
        let scheme = endpoint.auth_scheme();
        let scope = SigningScope {
            name: scheme
                .as_ref()
                .and_then(|s| s.signing_name)
                .map(str::to_string)
                .or_else(|| model.metadata.signing_name.clone())
                .unwrap_or_else(|| model.metadata.endpoint_prefix.clone()),
            region: scheme
                .as_ref()
                .and_then(|s| {
                    s.signing_region
                        .or_else(|| s.signing_region_set.first().copied())
                })
                .filter(|r| *r != "*")
                .map(str::to_string)
                .unwrap_or_else(|| region.to_string()),
            s3_style: scheme.as_ref().is_some_and(|s| s.disable_double_encoding)
                || facts.s3_signing,
        };
        let mut headers = request.headers.clone();
        for (k, values) in &endpoint.headers {
            headers.push((k.clone(), values.join(",")));
        }
        Ok(Wire {
            url,
            scope,
            headers,
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn send_once(
        &self,
        target: &Target,
        scope: &SigningScope,
        anonymous: bool,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: &bytes::Bytes,
    ) -> Result<RawResponse, (TransportErrorKind, String)> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| (TransportErrorKind::Other, format!("bad URL {url}: {e}")))?;
        let mut all_headers: Vec<(String, String)> = headers.to_vec();
        if !anonymous {
            let creds = target
                .credentials
                .provide_credentials()
                .await
                .map_err(|e| {
                    (
                        TransportErrorKind::Other,
                        format!("no credentials: {}", crate::error::error_chain(&e)),
                    )
                })?;
            let host = match parsed.port() {
                Some(p) => format!("{}:{p}", parsed.host_str().unwrap_or("")),
                None => parsed.host_str().unwrap_or("").to_string(),
            };
            let mut to_sign = all_headers.clone();
            to_sign.push(("host".into(), host));
            let signed = sign_headers(
                &creds,
                scope,
                method,
                url,
                &to_sign,
                body,
                SystemTime::now(),
            )
            .map_err(|e| (TransportErrorKind::Other, e))?;
            all_headers.extend(signed);
        }
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|e| (TransportErrorKind::Other, e.to_string()))?;
        let mut req = self.inner.http.request(method, parsed);
        for (k, v) in &all_headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let resp = req
            .body(body.clone())
            .send()
            .await
            .map_err(|e| transport_error(&e, url))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        // Read piece by piece up to the cap: a body past it is never held whole.
        let cap = self.inner.config.max_response_bytes;
        let too_big = |n: u64| {
            (
                // Not retried: the same answer would come back.
                TransportErrorKind::Other,
                format!(
                    "the response from {} is larger than {} MiB{}; census does not hold one page that big in memory (CENSUS_MAX_RESPONSE_MIB sets the cap)",
                    host_of(url),
                    cap >> 20,
                    if n > 0 { format!(" ({n} bytes announced)") } else { String::new() },
                ),
            )
        };
        if let Some(n) = resp.content_length().filter(|n| *n > cap as u64) {
            return Err(too_big(n));
        }
        let mut resp = resp;
        let mut body = Vec::with_capacity(
            resp.content_length()
                .map_or(0, |n| (n as usize).min(cap).min(16 << 20)),
        );
        while let Some(chunk) = resp.chunk().await.map_err(|e| transport_error(&e, url))? {
            if body.len() + chunk.len() > cap {
                return Err(too_big(0));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(RawResponse {
            status,
            headers,
            body,
        })
    }
}

/// The key `model` lists an operation under, for any accepted name form, or
/// [`Error::UnknownOperation`] with the closest names, written the way `operation` is.
pub fn operation_key(model: &ServiceModel, operation: &str) -> Result<String, Error> {
    if let Some(key) = model.operation_key(operation) {
        return Ok(key.to_string());
    }
    let pascal: Vec<&str> = model.operations.keys().map(String::as_str).collect();
    let suggestions = names::closest(operation, pascal.iter().copied(), 3)
        .iter()
        .map(|s| names::in_style_of(s, operation))
        .collect();
    Err(Error::UnknownOperation {
        service: model.name.clone(),
        operation: operation.to_string(),
        suggestions,
    })
}

/// What a call of `op` with `input` returns when the service answers with `resp`
/// (status, headers and body as received), or the error it fails with: the call's own
/// code path (botocore's status and result customizations included), without the
/// sending, retries, redirects or pagination. `census decode` is built on it.
pub fn decode(
    model: &ServiceModel,
    op: &Operation,
    input: &Value,
    resp: &Response,
) -> Result<Value, Error> {
    let mut input = input.clone();
    let notes = customize::before_call(model, op, &mut input);
    let status = customize::effective_status(model, op, resp.status, resp.body);
    parse_answer(model, op, notes, &Response { status, ..*resp })
}

/// Parses an answer whose status has been through [`customize::effective_status`],
/// then applies the result customizations.
fn parse_answer(
    model: &ServiceModel,
    op: &Operation,
    notes: customize::CallNotes,
    resp: &Response,
) -> Result<Value, Error> {
    let mut value = protocol::parse(model, op, resp)?;
    customize::after_call(model, op, notes, resp.body, &mut value);
    Ok(value)
}

/// The delay a response asks for before a retry: `x-amz-retry-after` (milliseconds, as
/// some AWS services send it) or `Retry-After` (whole seconds; the HTTP-date form is
/// ignored).
fn retry_after(headers: &[(String, String)]) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.trim().parse::<u64>().ok())
    };
    header("x-amz-retry-after")
        .map(Duration::from_millis)
        .or_else(|| header("retry-after").map(Duration::from_secs))
}

/// `scheme://host[:port]` of a URL (no path or query).
fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .map(|u| {
            format!("{}://{}", u.scheme(), u.host_str().unwrap_or(""))
                + &u.port().map(|p| format!(":{p}")).unwrap_or_default()
        })
        .unwrap_or_default()
}

fn transport_error(e: &reqwest::Error, url: &str) -> (TransportErrorKind, String) {
    use std::error::Error as _;
    let mut detail = String::new();
    let mut source = e.source();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    let lower = detail.to_ascii_lowercase();
    let kind = if e.is_timeout() {
        if e.is_connect() {
            TransportErrorKind::ConnectTimeout
        } else {
            TransportErrorKind::ReadTimeout
        }
    } else if e.is_connect() {
        TransportErrorKind::Connect
    } else if lower.contains("reset")
        || lower.contains("closed")
        || lower.contains("broken pipe")
        || lower.contains("connection")
    {
        TransportErrorKind::Reset
    } else if e.is_body() || e.is_decode() {
        TransportErrorKind::IncompleteBody
    } else if e.is_request() {
        TransportErrorKind::Reset
    } else {
        TransportErrorKind::Other
    };
    let what = match kind {
        TransportErrorKind::Connect => "could not connect to",
        TransportErrorKind::ConnectTimeout => "timed out connecting to",
        TransportErrorKind::ReadTimeout => "timed out waiting for",
        TransportErrorKind::Reset => "connection reset by",
        TransportErrorKind::IncompleteBody => "incomplete response from",
        TransportErrorKind::Other => "request failed to",
    };
    let host = reqwest::Url::parse(url)
        .ok()
        .map(|u| {
            format!("{}://{}", u.scheme(), u.host_str().unwrap_or(""))
                + &u.port().map(|p| format!(":{p}")).unwrap_or_default()
        })
        .unwrap_or_else(|| url.to_string());
    let detail = if detail.is_empty() {
        e.to_string()
    } else {
        detail
    };
    (kind, format!("{what} {host} ({detail})"))
}

/// Joins an endpoint URL, a host prefix and a request URI (path + query) the way
/// botocore's `_urljoin` does.
pub fn join_url(endpoint: &str, host_prefix: Option<&str>, uri: &str) -> Result<String, String> {
    let (scheme, rest) = endpoint
        .split_once("://")
        .ok_or_else(|| format!("endpoint URL {endpoint:?} has no scheme"))?;
    let (authority, base_path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let (req_path, query) = match uri.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (uri, None),
    };
    let path = if req_path.is_empty() || req_path == "/" {
        if base_path.is_empty() {
            "/".to_string()
        } else {
            base_path.to_string()
        }
    } else if base_path.ends_with('/') && req_path.starts_with('/') {
        format!("{}{}", &base_path[..base_path.len() - 1], req_path)
    } else {
        format!("{base_path}{req_path}")
    };
    let mut url = format!("{scheme}://{}{authority}{path}", host_prefix.unwrap_or(""));
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        url.push('?');
        url.push_str(q);
    }
    Ok(url)
}

/// The pages of one call. See [`Client::pages`].
pub struct Pages {
    client: Client,
    target: Target,
    model: Arc<ServiceModel>,
    operation: String,
    input: Value,
    paginator: Option<Paginator>,
    previous: Option<Vec<(String, Value)>>,
    done: bool,
    count: usize,
}

impl Pages {
    /// The operation's paginator, if it has one.
    pub fn paginator(&self) -> Option<&Paginator> {
        self.paginator.as_ref()
    }

    /// Pages fetched so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The next page, or `None` after the last one (or after an error).
    pub async fn next(&mut self) -> Option<Result<Value, Error>> {
        if self.done {
            return None;
        }
        let op = &self.model.operations[&self.operation];
        let result = self
            .client
            .call_op(&self.target, &self.model, op, &self.input)
            .await;
        let page = match result {
            Ok(p) => p,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        self.count += 1;
        match self
            .paginator
            .as_ref()
            .and_then(|p| p.next_tokens(&page).map(|t| (p, t)))
        {
            None => self.done = true,
            Some((p, tokens)) => {
                if self.previous.as_ref() == Some(&tokens) {
                    self.done = true;
                    return Some(Err(Error::Pagination {
                        operation: self.operation.clone(),
                        message: format!(
                            "the service returned the same next token twice ({}); stopped after {} pages",
                            tokens.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", "),
                            self.count
                        ),
                    }));
                }
                p.inject(&mut self.input, &tokens);
                self.previous = Some(tokens);
            }
        }
        Some(Ok(page))
    }
}

#[cfg(test)]
mod tests;
