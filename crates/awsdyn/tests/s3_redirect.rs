//! S3 region redirects through the fault-injecting proxy in front of moto (which never
//! redirects): the proxy answers requests for a bucket signed for us-east-1 the way S3
//! answers a request sent to the wrong region, and lets the others through. With an
//! endpoint override every region has the same URL, so where a request went shows in
//! its signature's credential scope only.

use std::sync::Arc;

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use awsdyn::client::{Client, EndpointSettings, Target};
use awsdyn::retry::RetryKey;
use awsdyn::Error;
use serde_json::{json, Value};
use testkit::{Action, FaultProxy, Match, Moto, Reply, Rule, SeenRequest};

const US_EAST_1: &str = "/us-east-1/s3/";
const EU_WEST_1: &str = "/eu-west-1/s3/";

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn target(proxy: &FaultProxy, region: &str) -> Target {
    let creds = SharedCredentialsProvider::new(Credentials::new(
        "AKIDREDIRECT",
        "testing-secret",
        None,
        None,
        "test",
    ));
    Target::new(region, creds)
        .with_endpoints(Arc::new(EndpointSettings {
            url: Some(proxy.endpoint()),
            ..EndpointSettings::default()
        }))
        .with_label("redirect")
}

/// A bucket in moto with two tags, created through the proxy (no rule yet).
fn tagged_bucket(rt: &tokio::runtime::Runtime, client: &Client, proxy: &FaultProxy, bucket: &str) {
    let t = target(proxy, "us-east-1");
    rt.block_on(client.call(&t, "s3", "CreateBucket", &json!({"Bucket": bucket})))
        .unwrap();
    let tags =
        json!({"TagSet": [{"Key": "team", "Value": "census"}, {"Key": "env", "Value": "test"}]});
    rt.block_on(client.call(
        &t,
        "s3",
        "PutBucketTagging",
        &json!({"Bucket": bucket, "Tagging": tags}),
    ))
    .unwrap();
    proxy.clear_requests();
}

fn get_tagging(
    rt: &tokio::runtime::Runtime,
    client: &Client,
    proxy: &FaultProxy,
    bucket: &str,
) -> Result<Value, Box<Error>> {
    rt.block_on(client.call(
        &target(proxy, "us-east-1"),
        "s3",
        "GetBucketTagging",
        &json!({"Bucket": bucket}),
    ))
    .map_err(Box::new)
}

/// The requests of the bucket signed for a region (`/eu-west-1/s3/`).
fn signed_for(proxy: &FaultProxy, bucket: &str, scope: &str) -> Vec<SeenRequest> {
    proxy.requests_matching(&bucket_requests(bucket).header_contains("authorization", scope))
}

fn bucket_requests(bucket: &str) -> Match {
    Match::any().path_prefix(&format!("/{bucket}"))
}

fn permanent_redirect(bucket: &str) -> Reply {
    Reply::new(301)
        .header("Content-Type", "application/xml")
        .body(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>PermanentRedirect</Code>\
             <Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message>\
             <Endpoint>{bucket}.s3.eu-west-1.amazonaws.com</Endpoint><Bucket>{bucket}</Bucket>\
             <RequestId>R301</RequestId></Error>"
        ))
}

fn tags(result: &Value) -> Value {
    let mut tags = result["TagSet"].as_array().cloned().unwrap_or_default();
    tags.sort_by_key(|t| t["Key"].as_str().unwrap_or_default().to_string());
    Value::Array(tags)
}

fn expected_tags() -> Value {
    json!([{"Key": "env", "Value": "test"}, {"Key": "team", "Value": "census"}])
}

#[test]
fn a_permanent_redirect_is_followed_once_and_remembered() {
    let rt = rt();
    let proxy = FaultProxy::start(Moto::shared());
    let client = Client::new(Default::default()).unwrap();
    let bucket = "redirect-permanent";
    tagged_bucket(&rt, &client, &proxy, bucket);
    let key = RetryKey::new("redirect", "s3", "us-east-1");
    let quota = client.retrier().stats(&key).map(|s| s.retry_tokens);
    let rule = proxy.add(Rule::new(
        bucket_requests(bucket).header_contains("authorization", US_EAST_1),
        Action::Reply(permanent_redirect(bucket).header("x-amz-bucket-region", "eu-west-1")),
    ));

    let result = get_tagging(&rt, &client, &proxy, bucket).unwrap();
    assert_eq!(tags(&result), expected_tags());
    assert_eq!(proxy.hits(rule), 1, "one request signed for us-east-1");
    let resent = signed_for(&proxy, bucket, EU_WEST_1);
    assert_eq!(resent.len(), 1, "one resend, signed for eu-west-1");
    assert_eq!(resent[0].status, Some(200));
    assert_eq!(proxy.requests().len(), 2, "no HeadBucket, no retry");
    // The redirect is not a retry: the quota is untouched.
    assert_eq!(client.retrier().stats(&key).map(|s| s.retry_tokens), quota);

    // The next call for the bucket goes straight to eu-west-1.
    proxy.clear_requests();
    let again = get_tagging(&rt, &client, &proxy, bucket).unwrap();
    assert_eq!(tags(&again), expected_tags());
    assert_eq!(proxy.hits(rule), 1);
    assert_eq!(proxy.requests().len(), 1);
    assert_eq!(signed_for(&proxy, bucket, EU_WEST_1).len(), 1);
}

#[test]
fn the_region_of_an_authorization_header_malformed_body_is_followed() {
    let rt = rt();
    let proxy = FaultProxy::start(Moto::shared());
    let client = Client::new(Default::default()).unwrap();
    let bucket = "redirect-malformed";
    tagged_bucket(&rt, &client, &proxy, bucket);
    let reply = Reply::new(400)
        .header("Content-Type", "application/xml")
        .body(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AuthorizationHeaderMalformed</Code>\
             <Message>The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'</Message>\
             <Region>eu-west-1</Region><RequestId>R400</RequestId></Error>",
        );
    let rule = proxy.add(Rule::new(
        bucket_requests(bucket).header_contains("authorization", US_EAST_1),
        Action::Reply(reply),
    ));

    let result = rt
        .block_on(client.call(
            &target(&proxy, "us-east-1"),
            "s3",
            "GetBucketTagging",
            &json!({"Bucket": bucket}),
        ))
        .unwrap();
    assert_eq!(tags(&result), expected_tags());
    assert_eq!(proxy.hits(rule), 1);
    assert_eq!(signed_for(&proxy, bucket, EU_WEST_1).len(), 1);
    assert_eq!(proxy.requests().len(), 2);

    proxy.clear_requests();
    get_tagging(&rt, &client, &proxy, bucket).unwrap();
    assert_eq!(proxy.hits(rule), 1);
    assert_eq!(signed_for(&proxy, bucket, EU_WEST_1).len(), 1);
    assert_eq!(proxy.requests().len(), 1);
}

#[test]
fn without_a_header_or_body_region_a_head_bucket_finds_the_region() {
    let rt = rt();
    let proxy = FaultProxy::start(Moto::shared());
    let client = Client::new(Default::default()).unwrap();
    let bucket = "redirect-head";
    tagged_bucket(&rt, &client, &proxy, bucket);
    let head = proxy.add(Rule::new(
        bucket_requests(bucket)
            .method("HEAD")
            .header_contains("authorization", US_EAST_1),
        Action::Reply(Reply::new(301).header("x-amz-bucket-region", "eu-west-1")),
    ));
    let get = proxy.add(Rule::new(
        bucket_requests(bucket).header_contains("authorization", US_EAST_1),
        Action::Reply(permanent_redirect(bucket)),
    ));

    let result = get_tagging(&rt, &client, &proxy, bucket).unwrap();
    assert_eq!(tags(&result), expected_tags());
    assert_eq!((proxy.hits(get), proxy.hits(head)), (1, 1));
    assert_eq!(signed_for(&proxy, bucket, EU_WEST_1).len(), 1);
    assert_eq!(proxy.requests().len(), 3);
}

#[test]
fn without_any_region_the_original_error_is_returned() {
    let rt = rt();
    let proxy = FaultProxy::start(Moto::shared());
    let client = Client::new(Default::default()).unwrap();
    let bucket = "redirect-nowhere";
    tagged_bucket(&rt, &client, &proxy, bucket);
    // Every request for the bucket, the HeadBucket included, gets a 301 naming no region.
    let rule = proxy.add(Rule::new(
        bucket_requests(bucket),
        Action::Reply(permanent_redirect(bucket)),
    ));

    let err = get_tagging(&rt, &client, &proxy, bucket).unwrap_err();
    let Error::Service(e) = &*err else {
        panic!("not the service's error: {err:?}")
    };
    assert_eq!((e.code.as_str(), e.status), ("PermanentRedirect", 301));
    assert_eq!(e.request_id.as_deref(), Some("R301"));
    // The call and one HeadBucket, both for us-east-1; nothing resent.
    assert_eq!(proxy.hits(rule), 2);
    let seen = proxy.requests();
    assert_eq!(seen.iter().filter(|r| r.method == "HEAD").count(), 1);
    assert!(seen
        .iter()
        .all(|r| r.header("authorization").unwrap().contains(US_EAST_1)));
}

#[test]
fn a_region_of_another_partition_is_not_followed() {
    let rt = rt();
    let proxy = FaultProxy::start(Moto::shared());
    let client = Client::new(Default::default()).unwrap();
    let bucket = "redirect-other-partition";
    tagged_bucket(&rt, &client, &proxy, bucket);
    let rule = proxy.add(Rule::new(
        bucket_requests(bucket).header_contains("authorization", US_EAST_1),
        Action::Reply(permanent_redirect(bucket).header("x-amz-bucket-region", "cn-north-1")),
    ));

    let err = get_tagging(&rt, &client, &proxy, bucket).unwrap_err();
    assert_eq!(err.code(), "PermanentRedirect");
    assert_eq!(proxy.hits(rule), 1);
    assert_eq!(proxy.requests().len(), 1);
    assert!(signed_for(&proxy, bucket, "/cn-north-1/").is_empty());

    // Nothing was remembered: the next call starts from us-east-1 again.
    get_tagging(&rt, &client, &proxy, bucket).unwrap_err();
    assert_eq!(proxy.hits(rule), 2);
}

#[test]
fn a_call_is_redirected_at_most_once() {
    let rt = rt();
    let proxy = FaultProxy::start(Moto::shared());
    let client = Client::new(Default::default()).unwrap();
    let bucket = "redirect-once";
    tagged_bucket(&rt, &client, &proxy, bucket);
    let first = proxy.add(Rule::new(
        bucket_requests(bucket).header_contains("authorization", US_EAST_1),
        Action::Reply(permanent_redirect(bucket).header("x-amz-bucket-region", "eu-west-1")),
    ));
    let second = proxy.add(Rule::new(
        bucket_requests(bucket).header_contains("authorization", EU_WEST_1),
        Action::Reply(permanent_redirect(bucket).header("x-amz-bucket-region", "eu-west-2")),
    ));

    let err = get_tagging(&rt, &client, &proxy, bucket).unwrap_err();
    let e = err.service_error().expect("the service's error");
    assert_eq!((e.code.as_str(), e.status), ("PermanentRedirect", 301));
    assert!(
        !matches!(*err, Error::GaveUp { .. }),
        "not retried: {err:?}"
    );
    assert_eq!((proxy.hits(first), proxy.hits(second)), (1, 1));
    assert_eq!(proxy.requests().len(), 2);
    assert!(signed_for(&proxy, bucket, "/eu-west-2/").is_empty());
}

#[test]
fn a_call_without_a_bucket_is_not_redirected() {
    let rt = rt();
    let proxy = FaultProxy::start(Moto::shared());
    let client = Client::new(Default::default()).unwrap();
    let rule = proxy.add(Rule::new(
        Match::any().custom(|r: &SeenRequest| r.method == "GET" && r.path_only() == "/"),
        Action::Reply(Reply::new(301).header("x-amz-bucket-region", "eu-west-1")),
    ));
    let err = rt
        .block_on(client.call(
            &target(&proxy, "us-east-1"),
            "s3",
            "ListBuckets",
            &json!({}),
        ))
        .unwrap_err();
    assert_eq!(err.service_error().map(|e| e.status), Some(301));
    assert_eq!(proxy.hits(rule), 1);
    assert_eq!(proxy.requests().len(), 1);
}

#[test]
fn a_stale_cached_region_is_replaced() {
    let rt = rt();
    let proxy = FaultProxy::start(Moto::shared());
    let client = Client::new(Default::default()).unwrap();
    let bucket = "redirect-moved";
    tagged_bucket(&rt, &client, &proxy, bucket);
    let to_eu_west_1 = proxy.add(Rule::new(
        bucket_requests(bucket).header_contains("authorization", US_EAST_1),
        Action::Reply(permanent_redirect(bucket).header("x-amz-bucket-region", "eu-west-1")),
    ));
    get_tagging(&rt, &client, &proxy, bucket).unwrap();
    assert_eq!(proxy.hits(to_eu_west_1), 1);

    // The bucket "moves" to eu-west-2: the call from the cached region is redirected
    // there, and the cache follows.
    let to_eu_west_2 = proxy.add(Rule::new(
        bucket_requests(bucket).header_contains("authorization", EU_WEST_1),
        Action::Reply(permanent_redirect(bucket).header("x-amz-bucket-region", "eu-west-2")),
    ));
    proxy.clear_requests();
    let result = get_tagging(&rt, &client, &proxy, bucket).unwrap();
    assert_eq!(tags(&result), expected_tags());
    assert_eq!((proxy.hits(to_eu_west_1), proxy.hits(to_eu_west_2)), (1, 1));
    assert_eq!(signed_for(&proxy, bucket, "/eu-west-2/s3/").len(), 1);
    assert_eq!(proxy.requests().len(), 2);

    proxy.clear_requests();
    get_tagging(&rt, &client, &proxy, bucket).unwrap();
    assert_eq!(proxy.requests().len(), 1);
    assert_eq!(signed_for(&proxy, bucket, "/eu-west-2/s3/").len(), 1);
}
