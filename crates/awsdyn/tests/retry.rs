//! Retries through the fault-injecting proxy in front of moto: throttling errors in
//! each protocol's format, 500/503, connection resets and slow responses are retried
//! within the budget; the adaptive limiter slows only the throttled key; a spent
//! budget (time for throttling, attempts for the rest) gives a clear error.

use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use awsdyn::client::{Client, ClientConfig, EndpointSettings, Target};
use awsdyn::retry::{RetryConfig, RetryKey, RetryMode};
use serde_json::json;
use testkit::{Action, FaultProxy, Match, Moto, Protocol, Reply, Rule, SeenRequest};

fn client(mode: RetryMode, max_attempts: u32, read_timeout: Duration) -> Client {
    client_with_budget(mode, max_attempts, read_timeout, Duration::from_secs(300))
}

fn client_with_budget(
    mode: RetryMode,
    max_attempts: u32,
    read_timeout: Duration,
    time_budget: Duration,
) -> Client {
    Client::new(ClientConfig {
        retry: RetryConfig {
            mode,
            max_attempts,
            time_budget,
            base_delay: Duration::from_millis(5),
            max_backoff: Duration::from_millis(40),
            // Standard mode as such: STS and Organizations are paced by default (the
            // adaptive limiter, tested in retry/tests.rs), which spaces the attempts
            // these tests count.
            paced_services: Vec::new(),
            ..RetryConfig::default()
        },
        read_timeout,
        ..ClientConfig::default()
    })
    .unwrap()
}

fn target(proxy: &FaultProxy, access_key: &str, label: &str, region: &str) -> Target {
    let creds = SharedCredentialsProvider::new(Credentials::new(
        access_key,
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
        .with_label(label)
}

/// One read operation per protocol, with the matcher that picks out its requests.
fn operations() -> Vec<(&'static str, &'static str, Protocol, Match)> {
    vec![
        (
            "sts",
            "GetCallerIdentity",
            Protocol::Query,
            Match::any().form_action("GetCallerIdentity"),
        ),
        (
            "ec2",
            "DescribeVpcs",
            Protocol::Ec2,
            Match::any().form_action("DescribeVpcs"),
        ),
        (
            "dynamodb",
            "ListTables",
            Protocol::Json,
            Match::any().target("DynamoDB_20120810.ListTables"),
        ),
        (
            "lambda",
            "ListFunctions",
            Protocol::RestJson,
            Match::any().path_prefix("/2015-03-31/functions"),
        ),
        (
            "s3",
            "ListBuckets",
            Protocol::RestXml,
            Match::any().custom(|r: &SeenRequest| r.method == "GET" && r.path_only() == "/"),
        ),
    ]
}

/// The fault to inject, in the protocol's own error format.
type FaultFor = Box<dyn Fn(Protocol) -> Action>;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn every_fault_is_retried_within_the_budget() {
    let moto = Moto::start_with(&[("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")]);
    let proxy = FaultProxy::start(&moto);
    let rt = rt();
    // 4 attempts: every fault below happens at most 3 times in a row.
    // Every service is called once before any fault is injected, with a patient
    // client: moto's first answers (a region's first EC2 call builds its defaults) can
    // take seconds on a busy machine. The read timeout of the client under test must
    // then catch the slow answer below but no ordinary one.
    let patient = client(RetryMode::Standard, 3, Duration::from_secs(120));
    for (service, op, _, _) in operations() {
        let t = target(&proxy, "AKIDWARMUP", "warm-up", "eu-west-1");
        rt.block_on(patient.call(&t, service, op, &json!({})))
            .unwrap();
    }
    let client = client(RetryMode::Standard, 4, Duration::from_secs(4));
    let faults: Vec<(&str, FaultFor, u64)> = vec![
        (
            "throttling",
            Box::new(|p| Action::Reply(Reply::throttling(p))),
            3,
        ),
        (
            "500",
            Box::new(|p| Action::Reply(Reply::internal_error(p))),
            2,
        ),
        (
            "503",
            Box::new(|p| Action::Reply(Reply::service_unavailable(p))),
            2,
        ),
        ("reset", Box::new(|_| Action::Reset), 2),
        (
            "slow",
            Box::new(|_| Action::delay(Duration::from_secs(12), Action::Forward)),
            1,
        ),
    ];
    for (service, op, protocol, matcher) in operations() {
        for (fault, action, times) in &faults {
            proxy.clear_requests();
            let rule = proxy.add(Rule::new(matcher.clone(), action(protocol)).times(*times));
            let t = target(
                &proxy,
                "AKIDFAULTS",
                &format!("{service}-{fault}"),
                "eu-west-1",
            );
            let result = rt.block_on(client.call(&t, service, op, &json!({})));
            assert!(
                result.is_ok(),
                "{service} {op} with {times} x {fault}: {}",
                result.unwrap_err()
            );
            assert_eq!(
                proxy.hits(rule),
                *times,
                "{service} {op}: the {fault} rule was not used as planned"
            );
            let seen = proxy.requests_matching(&matcher).len() as u64;
            assert_eq!(
                seen,
                times + 1,
                "{service} {op} with {times} x {fault}: {seen} requests"
            );
            proxy.remove(rule);
        }
    }
}

#[test]
fn a_spent_budget_gives_a_clear_error() {
    let moto = Moto::start_with(&[("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")]);
    let proxy = FaultProxy::start(&moto);
    let rt = rt();
    // Throttling is retried until the time budget is spent, however many attempts that
    // takes; 5xx and resets stop after max_attempts.
    let budget = Duration::from_millis(600);
    let client = client_with_budget(RetryMode::Standard, 3, Duration::from_secs(5), budget);
    for (service, op, protocol, matcher) in operations() {
        for (fault, reply) in [
            ("throttling", Reply::throttling(protocol)),
            ("500", Reply::internal_error(protocol)),
        ] {
            proxy.clear_requests();
            let rule = proxy.add(Rule::new(matcher.clone(), Action::Reply(reply)));
            let t = target(
                &proxy,
                "AKIDBUDGET",
                &format!("{service}-{fault}"),
                "eu-west-1",
            );
            let started = std::time::Instant::now();
            let err = rt
                .block_on(client.call(&t, service, op, &json!({})))
                .unwrap_err();
            let elapsed = started.elapsed();
            let text = err.to_string();
            let sent = proxy.requests_matching(&matcher).len();
            assert!(err.service_error().is_some(), "{service}: {text}");
            assert!(err.is_retryable(), "{service} {fault}: {text}");
            assert!(!text.contains('\n'), "one line: {text}");
            if fault == "throttling" {
                assert!(
                    [
                        "Throttling",
                        "ThrottlingException",
                        "SlowDown",
                        "RequestLimitExceeded",
                        "TooManyRequestsException"
                    ]
                    .contains(&err.code()),
                    "{service}: code {}",
                    err.code()
                );
                assert!(
                    text.contains(&format!(
                        "gave up after {sent} attempts (time budget of 600ms spent)"
                    )),
                    "{service}: {text}"
                );
                // Delays of at most 40 ms over 600 ms: far more than 3 attempts, and
                // no retry planned past the budget.
                assert!(sent > 10, "{service}: {sent} attempts");
                assert!(elapsed < budget + Duration::from_millis(400), "{elapsed:?}");
            } else {
                assert!(
                    text.contains("gave up after 3 attempts"),
                    "{service}: {text}"
                );
                assert_eq!(sent, 3, "{service}");
            }
            proxy.remove(rule);
        }
    }
    // A connection that always resets: a transport error naming the endpoint.
    let matcher = Match::any().form_action("GetCallerIdentity");
    let rule = proxy.add(Rule::new(matcher, Action::Reset));
    let t = target(&proxy, "AKIDBUDGET", "reset", "eu-west-1");
    let err = rt
        .block_on(client.call(&t, "sts", "GetCallerIdentity", &json!({})))
        .unwrap_err();
    let text = err.to_string();
    assert_eq!(err.code(), "Transport");
    assert!(
        text.contains(&proxy.endpoint()) && text.contains("gave up after 3 attempts"),
        "{text}"
    );
    proxy.remove(rule);
    // Nothing listening at all.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let creds = SharedCredentialsProvider::new(Credentials::new(
        "AKIDDEAD",
        "testing-secret",
        None,
        None,
        "test",
    ));
    let t = Target::new("eu-west-1", creds).with_endpoints(Arc::new(EndpointSettings {
        url: Some(format!("http://127.0.0.1:{dead}")),
        ..EndpointSettings::default()
    }));
    let text = rt
        .block_on(client.call(&t, "sts", "GetCallerIdentity", &json!({})))
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("could not connect to http://127.0.0.1:"),
        "{text}"
    );
    assert!(!text.contains("testing-secret"));
}

#[test]
fn the_limiter_slows_only_the_throttled_key() {
    let moto = Moto::start_with(&[("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")]);
    let proxy = FaultProxy::start(&moto);
    let rt = rt();
    let client = client(RetryMode::Adaptive, 5, Duration::from_secs(5));
    // Account A's DynamoDB calls are throttled three times; B's never.
    let a_matcher = Match::any()
        .target("DynamoDB_20120810.ListTables")
        .header_contains("authorization", "Credential=AKIDACCOUNTA");
    let rule =
        proxy.add(Rule::new(a_matcher, Action::Reply(Reply::throttling(Protocol::Json))).times(3));
    let a = target(&proxy, "AKIDACCOUNTA", "111111111111", "eu-west-1");
    let b = target(&proxy, "AKIDACCOUNTB", "222222222222", "eu-west-1");
    let empty = json!({});
    rt.block_on(async {
        let (ra, rb) = tokio::join!(client.call(&a, "dynamodb", "ListTables", &empty), async {
            let mut last = None;
            for _ in 0..10 {
                last = Some(client.call(&b, "dynamodb", "ListTables", &empty).await);
            }
            last.unwrap()
        });
        ra.unwrap();
        rb.unwrap();
    });
    assert_eq!(proxy.hits(rule), 3);
    let stats_a = client
        .retrier()
        .stats(&RetryKey::new("111111111111", "dynamodb", "eu-west-1"))
        .unwrap();
    let stats_b = client
        .retrier()
        .stats(&RetryKey::new("222222222222", "dynamodb", "eu-west-1"))
        .unwrap();
    let la = stats_a.limiter.unwrap();
    let lb = stats_b.limiter.unwrap();
    assert!(
        la.enabled,
        "A was throttled: its limiter must be on: {la:?}"
    );
    assert!(
        !lb.enabled,
        "B was never throttled: its limiter must stay off: {lb:?}"
    );
    // The same account in another region, and the same region for another service,
    // are untouched too.
    assert!(client
        .retrier()
        .stats(&RetryKey::new("111111111111", "dynamodb", "us-east-1"))
        .is_none());
    assert_eq!(
        stats_a.retry_tokens, stats_b.retry_tokens,
        "throttling retries cost no quota"
    );
}
