//! Which requests a rule applies to: rule ids and [`Match`] conditions.

use super::*;

/// Identifies a rule added with [`FaultProxy::add`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId(pub u64);

/// A condition of [`Match::custom`].
pub(super) type Predicate = Arc<dyn Fn(&SeenRequest) -> bool + Send + Sync>;

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
pub(super) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
