//! A request as the proxy received it ([`SeenRequest`]) and its form fields.

use super::*;

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
    /// The headers sent back (names lowercase, hop-by-hop ones left out); empty for a
    /// reset, or while the answer is pending.
    pub response_headers: Vec<(String, String)>,
    /// The body sent back, whole; empty for a reset, or while the answer is pending.
    pub response_body: Bytes,
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
pub(super) fn form_value(form: &str, key: &str) -> Option<String> {
    form.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == key).then(|| percent_decode(v))
    })
}

pub(super) fn percent_decode(s: &str) -> String {
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
