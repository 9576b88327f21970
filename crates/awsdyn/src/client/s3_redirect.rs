//! S3 region redirects: a request for a bucket that lives in another region than the
//! one it was sent to (Census sends every bucket's detail calls to the region of
//! ListBuckets) is answered with an error that names, or lets us find, the bucket's
//! region. As boto3 does, the call is then sent once more, to that region: the
//! endpoint rule set is evaluated again for it and the request signed for it. The
//! region is remembered per bucket, so that the next call for the bucket goes there
//! straight away.
//!
//! The answers that mean "wrong region": HTTP 301/302/307, `PermanentRedirect`,
//! `AuthorizationHeaderMalformed` naming the expected `<Region>`, a HEAD answered 301 or
//! 400 (no body), `IllegalLocationConstraintException` (an opt-in region). The bucket's
//! region comes from the `x-amz-bucket-region` header, else from the error body's
//! `<Region>`, else from a HeadBucket sent where the call went. A region of another
//! partition is never followed, and a call is redirected at most once.

use std::sync::Mutex;

use quick_xml::events::Event;

use super::*;
use crate::endpoint::partition::partition_of_region;
use crate::ServiceError;

/// How many buckets the region cache holds; past that, an entry makes room.
const CACHE_CAPACITY: usize = 4096;

/// The header in which S3 names a bucket's region.
const BUCKET_REGION_HEADER: &str = "x-amz-bucket-region";

/// Which bucket, as seen through which endpoint settings: the partition of the call's
/// region, the configured endpoint URL (if any), the bucket's name.
type CacheKey = (&'static str, String, String);

/// The regions of the buckets met in redirects, bounded.
#[derive(Default)]
pub(super) struct RegionCache {
    regions: Mutex<HashMap<CacheKey, String>>,
}

impl RegionCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CacheKey, String>> {
        self.regions.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get(&self, key: &CacheKey) -> Option<String> {
        self.lock().get(key).cloned()
    }

    fn put(&self, key: CacheKey, region: String) {
        let mut map = self.lock();
        if map.len() >= CACHE_CAPACITY && !map.contains_key(&key) {
            if let Some(old) = map.keys().next().cloned() {
                map.remove(&old);
            }
        }
        map.insert(key, region);
    }

    fn forget(&self, key: &CacheKey) {
        self.lock().remove(key);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// One S3 call that names a bucket, and whether it was redirected already.
pub(super) struct BucketCall {
    key: CacheKey,
    redirected: bool,
}

/// What a failed attempt got back, as the redirect decision needs it.
pub(super) struct Answer<'a> {
    status: u16,
    code: &'a str,
    headers: &'a [(String, String)],
    body: &'a [u8],
}

impl<'a> Answer<'a> {
    pub(super) fn new(raw: &'a RawResponse, error: &'a ServiceError) -> Answer<'a> {
        Answer {
            status: raw.status,
            code: &error.code,
            headers: &raw.headers,
            body: &raw.body,
        }
    }

    fn header_region(&self) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(BUCKET_REGION_HEADER))
            .map(|(_, v)| v.trim().to_string())
    }

    /// Whether the answer means that the bucket is in another region (botocore's
    /// `S3RegionRedirectorv2.redirect_from_error` conditions).
    fn is_wrong_region(&self, operation: &str) -> bool {
        let head_status = matches!(self.code, "301" | "400");
        matches!(self.status, 301 | 302 | 307)
            || self.code == "PermanentRedirect"
            || (self.code == "AuthorizationHeaderMalformed" && body_region(self.body).is_some())
            || (operation == "HeadObject" && head_status)
            || (operation == "HeadBucket" && head_status && self.header_region().is_some())
            || (self.code == "IllegalLocationConstraintException" && operation != "CreateBucket")
    }
}

impl BucketCall {
    /// The bucket call of an S3 operation whose input names a bucket (not an ARN: an
    /// access point's region is in its ARN); `None` for anything else.
    pub(super) fn of(
        model: &ServiceModel,
        op: &Operation,
        input: &Value,
        target: &Target,
    ) -> Option<BucketCall> {
        if model.name != "s3" {
            return None;
        }
        let shape = model.shape(op.input.as_ref()?.target);
        if !shape.members.contains_key("Bucket") {
            return None;
        }
        let bucket = input.get("Bucket")?.as_str()?;
        if bucket.is_empty() || bucket.starts_with("arn:") {
            return None;
        }
        let endpoint = target.endpoints.url_for(model).unwrap_or_default();
        Some(BucketCall {
            key: (
                partition_of_region(&target.region),
                endpoint.to_string(),
                bucket.to_string(),
            ),
            redirected: false,
        })
    }

    /// The bucket's region, if an earlier call found it.
    pub(super) fn cached_region(&self, cache: &RegionCache) -> Option<String> {
        cache.get(&self.key)
    }

    /// The region to send the call to again, when `answer` (to the call sent for
    /// `region`) says the bucket lives elsewhere and its region can be found (the
    /// caller [remembers](BucketCall::remember) it once it has an endpoint). `None` when the call is to fail with the answer's error: not a
    /// wrong-region answer, already redirected once, no region found, or a region of
    /// another partition.
    pub(super) async fn redirect(
        &mut self,
        client: &Client,
        target: &Target,
        model: &ServiceModel,
        op: &Operation,
        region: &str,
        answer: &Answer<'_>,
    ) -> Option<String> {
        if self.redirected || !answer.is_wrong_region(&op.name) {
            return None;
        }
        self.redirected = true;
        let bucket = self.key.2.as_str();
        let found = match answer.header_region().or_else(|| body_region(answer.body)) {
            Some(r) => Some(r),
            None => head_bucket_region(client, target, model, region, bucket).await,
        };
        let cache = &client.inner.s3_regions;
        let Some(found) = found else {
            tracing::debug!(
                "S3 {} for bucket {bucket:?} in {region}: {} (HTTP {}), and the bucket's region cannot be found",
                op.name,
                answer.code,
                answer.status
            );
            cache.forget(&self.key);
            return None;
        };
        if found == region {
            return None;
        }
        if !plausible_region(&found) || partition_of_region(&found) != self.key.0 {
            tracing::debug!(
                "S3 {} for bucket {bucket:?}: not redirected from {region} to {found:?}, a region outside the {} partition",
                op.name,
                self.key.0
            );
            return None;
        }
        tracing::debug!(
            "S3 {} for bucket {bucket:?} sent to {region}, but the bucket is in {found} ({}, HTTP {}): sending it there",
            op.name,
            answer.code,
            answer.status
        );
        Some(found)
    }

    /// Remembers `region` as the bucket's, for the next calls.
    pub(super) fn remember(&self, cache: &RegionCache, region: &str) {
        cache.put(self.key.clone(), region.to_string());
    }
}

/// The `<Region>` of an S3 error document (`<Error>...<Region>eu-west-1</Region>`).
fn body_region(body: &[u8]) -> Option<String> {
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut in_error = Vec::new();
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => {
                let name = e.local_name();
                if name.as_ref() == b"Region" && in_error.last() == Some(&true) {
                    let text = reader.read_text(e.name()).ok()?;
                    let text = text.trim();
                    return (!text.is_empty()).then(|| text.to_string());
                }
                in_error.push(name.as_ref() == b"Error");
                if in_error.len() > 4 {
                    return None;
                }
            }
            Event::End(_) => {
                in_error.pop();
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}

/// Whether `region` looks like a region name (`eu-west-1`): it goes into a host name.
fn plausible_region(region: &str) -> bool {
    (2..=48).contains(&region.len())
        && region.starts_with(|c: char| c.is_ascii_lowercase())
        && !region.ends_with('-')
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The region S3 names for `bucket` in its answer to a HeadBucket sent for `region`
/// (one attempt, whatever its status: a HeadBucket to the wrong region is answered 301
/// with the header).
async fn head_bucket_region(
    client: &Client,
    target: &Target,
    model: &ServiceModel,
    region: &str,
    bucket: &str,
) -> Option<String> {
    let op = model.operations.get("HeadBucket")?;
    let input = serde_json::json!({ "Bucket": bucket });
    let request = protocol::serialize(model, op, &input).ok()?;
    let wire = client
        .prepare(target, model, op, &input, &request, region)
        .ok()?;
    let body = bytes::Bytes::from(request.body.clone());
    let raw = client
        .send_once(
            target,
            &wire.scope,
            false,
            &request.method,
            &wire.url,
            &wire.headers,
            &body,
        )
        .await
        .ok()?;
    raw.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(BUCKET_REGION_HEADER))
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer<'a>(
        status: u16,
        code: &'a str,
        headers: &'a [(String, String)],
        body: &'a [u8],
    ) -> Answer<'a> {
        Answer {
            status,
            code,
            headers,
            body,
        }
    }

    #[test]
    fn region_from_the_error_body() {
        let body = b"<?xml version=\"1.0\"?>\n<Error><Code>AuthorizationHeaderMalformed</Code>\
            <Message>the region 'us-east-1' is wrong; expecting 'eu-west-1'</Message>\
            <Region>eu-west-1</Region><RequestId>R</RequestId></Error>";
        assert_eq!(body_region(body).as_deref(), Some("eu-west-1"));
        assert_eq!(body_region(b"<Error><Code>X</Code></Error>"), None);
        assert_eq!(body_region(b"<Other><Region>x</Region></Other>"), None);
        assert_eq!(body_region(b""), None);
        assert_eq!(body_region(b"not xml <<<"), None);
    }

    #[test]
    fn wrong_region_answers() {
        let none: Vec<(String, String)> = Vec::new();
        let header = vec![("X-Amz-Bucket-Region".to_string(), "eu-west-1".to_string())];
        let with_region =
            b"<Error><Code>AuthorizationHeaderMalformed</Code><Region>eu-west-1</Region></Error>";
        let without = b"<Error><Code>AuthorizationHeaderMalformed</Code></Error>";
        let cases: Vec<(Answer, &str, bool)> = vec![
            (
                answer(301, "PermanentRedirect", &none, b""),
                "GetBucketPolicy",
                true,
            ),
            (
                answer(307, "TemporaryRedirect", &none, b""),
                "GetBucketPolicy",
                true,
            ),
            (
                answer(400, "AuthorizationHeaderMalformed", &none, with_region),
                "GetBucketTagging",
                true,
            ),
            (
                answer(400, "AuthorizationHeaderMalformed", &none, without),
                "GetBucketTagging",
                false,
            ),
            (answer(400, "400", &none, b""), "HeadObject", true),
            (answer(400, "400", &none, b""), "HeadBucket", false),
            (answer(301, "301", &header, b""), "HeadBucket", true),
            (
                answer(400, "IllegalLocationConstraintException", &none, b""),
                "GetBucketAcl",
                true,
            ),
            (
                answer(400, "IllegalLocationConstraintException", &none, b""),
                "CreateBucket",
                false,
            ),
            (
                answer(403, "AccessDenied", &header, b""),
                "GetBucketPolicy",
                false,
            ),
            (
                answer(404, "NoSuchBucket", &none, b""),
                "GetBucketPolicy",
                false,
            ),
        ];
        for (a, op, expected) in cases {
            assert_eq!(
                a.is_wrong_region(op),
                expected,
                "{op} {} {}",
                a.status,
                a.code
            );
        }
        assert_eq!(
            answer(301, "301", &header, b"").header_region().as_deref(),
            Some("eu-west-1")
        );
    }

    #[test]
    fn plausible_regions() {
        for r in ["eu-west-1", "us-gov-west-1", "cn-northwest-1", "us-east-1"] {
            assert!(plausible_region(r), "{r}");
        }
        for r in [
            "",
            "EU-WEST-1",
            "eu west 1",
            "evil.com/x",
            "-a",
            "a-",
            "1-a",
        ] {
            assert!(!plausible_region(r), "{r}");
        }
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = RegionCache::default();
        for i in 0..CACHE_CAPACITY + 10 {
            cache.put(("aws", String::new(), format!("b{i}")), "eu-west-1".into());
        }
        assert_eq!(cache.len(), CACHE_CAPACITY);
        let key = ("aws", String::new(), "last".to_string());
        cache.put(key.clone(), "eu-west-2".into());
        assert_eq!(cache.get(&key).as_deref(), Some("eu-west-2"));
        cache.forget(&key);
        assert_eq!(cache.get(&key), None);
    }
}
