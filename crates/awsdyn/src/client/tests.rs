use super::*;

/// A body past the cap, streamed without a length, fails the call once the cap is
/// passed (it is never read whole), with a clear error that names the cap.
#[tokio::test]
async fn a_body_past_the_cap_is_a_clear_error() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming().take(1) {
            let mut conn = conn.unwrap();
            let mut buf = [0u8; 65536];
            let mut seen = Vec::new();
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = conn.read(&mut buf).unwrap();
                if n == 0 {
                    return;
                }
                seen.extend_from_slice(&buf[..n]);
            }
            let _ = conn.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\ntransfer-encoding: chunked\r\n\r\n",
                );
            let chunk = vec![b' '; 256 * 1024];
            for _ in 0..16 {
                if conn
                    .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                    .and_then(|_| conn.write_all(&chunk))
                    .and_then(|_| conn.write_all(b"\r\n"))
                    .is_err()
                {
                    return;
                }
            }
            let _ = conn.write_all(b"0\r\n\r\n");
        }
    });
    let client = Client::new(ClientConfig {
        retry: RetryConfig {
            max_attempts: 1,
            ..RetryConfig::default()
        },
        max_response_bytes: 1 << 20,
        ..ClientConfig::default()
    })
    .unwrap();
    let creds = aws_credential_types::provider::SharedCredentialsProvider::new(
        aws_credential_types::Credentials::new("AKID", "secret", None, None, "test"),
    );
    let target = Target::new("us-east-1", creds).with_endpoints(Arc::new(EndpointSettings {
        url: Some(format!("http://{addr}")),
        ..EndpointSettings::default()
    }));
    let err = client
        .call(&target, "sqs", "ListQueues", &serde_json::json!({}))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("larger than 1 MiB"), "{err}");
    assert!(err.contains("CENSUS_MAX_RESPONSE_MIB"), "{err}");
}

#[test]
fn joins_like_botocore() {
    assert_eq!(
        join_url("https://ec2.eu-west-1.amazonaws.com", None, "/").unwrap(),
        "https://ec2.eu-west-1.amazonaws.com/"
    );
    assert_eq!(
        join_url("http://127.0.0.1:5000/bucket", None, "/?list-type=2").unwrap(),
        "http://127.0.0.1:5000/bucket?list-type=2"
    );
    assert_eq!(
        join_url("http://127.0.0.1:5000/bucket", None, "/key/a?x=1").unwrap(),
        "http://127.0.0.1:5000/bucket/key/a?x=1"
    );
    assert_eq!(
        join_url("https://example.com/custom/", Some("foo."), "/op").unwrap(),
        "https://foo.example.com/custom/op"
    );
    assert!(join_url("example.com", None, "/").is_err());
}

#[test]
fn retry_after_headers() {
    let h = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
    assert_eq!(
        retry_after(&h("x-amz-retry-after", "1500")),
        Some(Duration::from_millis(1500))
    );
    assert_eq!(
        retry_after(&h("Retry-After", "3")),
        Some(Duration::from_secs(3))
    );
    assert_eq!(
        retry_after(&h("retry-after", "Wed, 21 Oct 2026 07:28:00 GMT")),
        None
    );
    assert_eq!(retry_after(&h("x-other", "1")), None);
}

#[test]
fn endpoint_env() {
    let vars = [
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
        (
            "AWS_ENDPOINT_URL_RESOURCE_GROUPS_TAGGING_API",
            "http://127.0.0.1:2",
        ),
    ];
    let s = EndpointSettings::from_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let tagging = model::load("resourcegroupstaggingapi").unwrap();
    let ec2 = model::load("ec2").unwrap();
    assert_eq!(s.url_for(&tagging), Some("http://127.0.0.1:2"));
    assert_eq!(s.url_for(&ec2), Some("http://127.0.0.1:1"));
    let ignored = EndpointSettings::from_vars(
        vars.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .chain([(
                "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS".to_string(),
                "true".to_string(),
            )]),
    );
    assert_eq!(ignored.url_for(&ec2), None);
}

#[test]
fn operations_are_found_by_listed_name() {
    // CloudFront lists ListDistributions; its wire name is versioned.
    let (model, key) = Client::operation("cloudfront", "list_distributions").unwrap();
    assert_eq!(key, "ListDistributions");
    assert_eq!(model.operations[&key].name, "ListDistributions2020_05_31");
    assert!(model.paginators().get(&key).is_some());
}

#[test]
fn unknown_operation_suggests_in_the_callers_style() {
    let e = Client::operation("ec2", "describe_instance")
        .unwrap_err()
        .to_string();
    assert!(e.contains("did you mean describe_instances"), "{e}");
    let e = Client::operation("ec2", "DescribeInstance")
        .unwrap_err()
        .to_string();
    assert!(e.contains("did you mean DescribeInstances"), "{e}");
}
