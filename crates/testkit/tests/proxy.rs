//! The fault proxy forwards unchanged, injects each kind of fault by rule, records
//! what it saw, and its canned errors are what boto3 recognizes.

use std::time::{Duration, Instant};

use serde_json::json;
use testkit::{
    boto3_call, try_boto3_call, Action, Caller, FaultProxy, Match, Moto, Protocol, Reply, Rule,
    FAULT_REQUEST_ID,
};

/// A plain client: no retries, no pooling surprises across tests.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("reqwest client")
}

/// STS GetCallerIdentity as a plain form POST (moto does not check signatures, but
/// reads the service and region from the credential scope).
async fn get_caller_identity(
    client: &reqwest::Client,
    base: &str,
) -> reqwest::Result<reqwest::Response> {
    client
        .post(format!("{base}/"))
        .header(
            "Content-Type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/sts/aws4_request, \
             SignedHeaders=host, Signature=0",
        )
        .body("Action=GetCallerIdentity&Version=2011-06-15")
        .send()
        .await
}

#[tokio::test]
async fn forwards_unchanged_and_records() {
    let moto = Moto::shared();
    let proxy = FaultProxy::start(moto);
    let client = client();

    let direct = client
        .get(format!("{}/moto-api/", moto.endpoint()))
        .send()
        .await
        .unwrap();
    let proxied = client
        .get(format!("{}/moto-api/?x=1", proxy.endpoint()))
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.status(), direct.status());
    assert_eq!(
        proxied.bytes().await.unwrap(),
        direct.bytes().await.unwrap()
    );

    let sts = get_caller_identity(&client, &proxy.endpoint())
        .await
        .unwrap();
    assert_eq!(sts.status(), 200);
    let body = sts.text().await.unwrap();
    assert!(body.contains("<Account>123456789012</Account>"), "{body}");

    let seen = proxy.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].path, "/moto-api/?x=1");
    assert_eq!(seen[0].path_only(), "/moto-api/");
    assert_eq!(seen[0].status, Some(200));
    assert_eq!(seen[0].rule, None);
    assert_eq!(seen[1].method, "POST");
    assert_eq!(seen[1].form_action().as_deref(), Some("GetCallerIdentity"));
    assert_eq!(
        seen[1].body_str(),
        "Action=GetCallerIdentity&Version=2011-06-15"
    );
    assert_eq!(
        seen[1].header("Host"),
        Some(proxy.addr().to_string().as_str())
    );
    assert!(seen[0].seq < seen[1].seq && seen[0].at <= seen[1].at);

    proxy.clear_requests();
    assert!(proxy.requests().is_empty());
}

#[tokio::test]
async fn reply_rule_applies_n_times_then_forwards() {
    let proxy = FaultProxy::start(Moto::shared());
    let client = client();
    let rule = proxy.add(
        Rule::new(
            Match::any().form_action("GetCallerIdentity"),
            Action::Reply(Reply::throttling(Protocol::Query)),
        )
        .times(2),
    );
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let response = get_caller_identity(&client, &proxy.endpoint())
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
        let body = response.text().await.unwrap();
        if statuses.len() == 1 {
            assert!(body.contains("<Code>Throttling</Code>"), "{body}");
            assert!(body.contains(FAULT_REQUEST_ID), "{body}");
        }
    }
    assert_eq!(statuses, [400, 400, 200]);
    assert_eq!(proxy.hits(rule), 2);
    let seen = proxy.requests();
    let rules: Vec<_> = seen.iter().map(|r| r.rule).collect();
    assert_eq!(rules, [Some(rule), Some(rule), None]);
    let recorded: Vec<_> = seen.iter().map(|r| r.status).collect();
    assert_eq!(recorded, [Some(400), Some(400), Some(200)]);
}

#[tokio::test]
async fn rules_change_while_running() {
    let proxy = FaultProxy::start(Moto::shared());
    let client = client();
    let url = format!("{}/moto-api/", proxy.endpoint());
    let status = |r: reqwest::Response| r.status().as_u16();

    assert_eq!(status(client.get(&url).send().await.unwrap()), 200);
    let unavailable = proxy.add(Rule::new(
        Match::any().path_prefix("/moto-api"),
        Action::Reply(Reply::service_unavailable(Protocol::RestXml)),
    ));
    assert_eq!(status(client.get(&url).send().await.unwrap()), 503);
    assert_eq!(status(client.get(&url).send().await.unwrap()), 503);
    assert!(proxy.remove(unavailable));
    assert!(!proxy.remove(unavailable));
    assert_eq!(status(client.get(&url).send().await.unwrap()), 200);

    // A later rule applies only where earlier ones do not.
    proxy.add(Rule::new(
        Match::any().method("HEAD"),
        Action::Reply(Reply::new(404)),
    ));
    proxy.add(Rule::new(Match::any(), Action::Reply(Reply::new(500))));
    assert_eq!(status(client.head(&url).send().await.unwrap()), 404);
    assert_eq!(status(client.get(&url).send().await.unwrap()), 500);
    proxy.clear_rules();
    assert_eq!(status(client.get(&url).send().await.unwrap()), 200);
    assert_eq!(
        proxy
            .requests_matching(&Match::any().method("GET"))
            .iter()
            .map(|r| r.status)
            .collect::<Vec<_>>(),
        [
            Some(200),
            Some(503),
            Some(503),
            Some(200),
            Some(500),
            Some(200)
        ]
    );
}

#[tokio::test]
async fn each_matcher_selects_its_requests() {
    let proxy = FaultProxy::start(Moto::shared());
    let client = client();
    let base = proxy.endpoint();
    // Every request is answered by the proxy: 418 when the rule matches, 299 otherwise.
    let cases: Vec<(Match, reqwest::RequestBuilder, reqwest::RequestBuilder)> = vec![
        (
            Match::any().method("put"),
            client.put(format!("{base}/a")),
            client.post(format!("{base}/a")),
        ),
        (
            Match::any().path_prefix("/2015-03-31/functions"),
            client.get(format!("{base}/2015-03-31/functions/?MaxItems=1")),
            client.get(format!("{base}/2015-03-31/layers")),
        ),
        (
            Match::any().target("ListTables"),
            client
                .post(format!("{base}/"))
                .header("X-Amz-Target", "DynamoDB_20120810.ListTables"),
            client
                .post(format!("{base}/"))
                .header("X-Amz-Target", "DynamoDB_20120810.ListTablesX"),
        ),
        (
            Match::any().target("DynamoDB_20120810.ListTables"),
            client
                .post(format!("{base}/"))
                .header("X-Amz-Target", "DynamoDB_20120810.ListTables"),
            client
                .post(format!("{base}/"))
                .header("X-Amz-Target", "DynamoDB_20120810.DescribeTable"),
        ),
        (
            Match::any().form_action("DescribeRegions"),
            client
                .post(format!("{base}/"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body("Version=2016-11-15&Action=DescribeRegions"),
            client
                .post(format!("{base}/"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body("Action=DescribeRegionsAll&Version=2016-11-15"),
        ),
        (
            Match::any().form_action("ListUsers"),
            client.get(format!("{base}/?Action=ListUsers&Version=2010-05-08")),
            client.get(format!("{base}/?Action=ListRoles&Version=2010-05-08")),
        ),
        (
            Match::any().host("sts.us-east-1.amazonaws.com"),
            client
                .get(format!("{base}/"))
                .header("Host", "sts.us-east-1.amazonaws.com:443"),
            client
                .get(format!("{base}/"))
                .header("Host", "iam.amazonaws.com"),
        ),
        (
            Match::any().body_contains("210987654321"),
            client
                .post(format!("{base}/"))
                .body("Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A210987654321%3Arole%2FX"),
            client
                .post(format!("{base}/"))
                .body("Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2FX"),
        ),
        (
            Match::any().header_contains("authorization", "Credential=AKIDMEMBER/"),
            client.get(format!("{base}/")).header(
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDMEMBER/2026",
            ),
            client.get(format!("{base}/")).header(
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDOTHER/2026",
            ),
        ),
        (
            Match::any().custom(|r| r.body.len() == 3),
            client.post(format!("{base}/")).body("abc"),
            client.post(format!("{base}/")).body("abcd"),
        ),
    ];
    for (i, (matcher, hit, miss)) in cases.into_iter().enumerate() {
        proxy.clear_rules();
        proxy.add(Rule::new(matcher.clone(), Action::Reply(Reply::new(418))));
        proxy.add(Rule::new(Match::any(), Action::Reply(Reply::new(299))));
        let hit = hit.send().await.unwrap().status().as_u16();
        let miss = miss.send().await.unwrap().status().as_u16();
        assert_eq!((hit, miss), (418, 299), "case {i}: {matcher:?}");
    }
}

#[tokio::test]
async fn reset_drops_the_connection_without_a_response() {
    let proxy = FaultProxy::start(Moto::shared());
    let client = client();
    let url = format!("{}/moto-api/", proxy.endpoint());
    let rule = proxy.add(Rule::new(Match::any(), Action::Reset).times(1));
    let err = client
        .get(&url)
        .send()
        .await
        .expect_err("the connection was reset");
    let chain = format!("{err:?}");
    // A TCP reset (ECONNRESET), not a graceful close.
    assert!(
        chain.contains("ConnectionReset"),
        "unexpected error: {chain}"
    );
    assert_eq!(proxy.hits(rule), 1);
    assert_eq!(proxy.requests()[0].status, None);
    // The next request, on a new connection, is forwarded.
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn delay_slows_the_answer_down() {
    let proxy = FaultProxy::start(Moto::shared());
    let client = client();
    let url = format!("{}/moto-api/", proxy.endpoint());
    proxy.add(
        Rule::new(
            Match::any().method("GET"),
            Action::delay(Duration::from_millis(400), Action::Forward),
        )
        .times(1),
    );
    proxy.add(
        Rule::new(
            Match::any().method("GET"),
            Action::delay(
                Duration::from_millis(300),
                Action::Reply(Reply::internal_error(Protocol::Json)),
            ),
        )
        .times(1),
    );

    let started = Instant::now();
    let first = client.get(&url).send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(400));

    let started = Instant::now();
    let second = client.get(&url).send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(second.status(), 500);
    assert!(second.text().await.unwrap().contains("InternalFailure"));
}

#[tokio::test]
async fn first_n_is_exact_under_concurrency() {
    let proxy = FaultProxy::start(Moto::shared());
    let rule = proxy.add(Rule::new(Match::any(), Action::Reply(Reply::new(429))).times(5));
    proxy.add(Rule::new(Match::any(), Action::Reply(Reply::new(200))));
    let client = client();
    let url = format!("{}/x", proxy.endpoint());
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (client, url) = (client.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            client.get(url).send().await.unwrap().status().as_u16()
        }));
    }
    let mut throttled = 0;
    for task in tasks {
        if task.await.unwrap() == 429 {
            throttled += 1;
        }
    }
    assert_eq!(throttled, 5);
    assert_eq!(proxy.hits(rule), 5);
    assert_eq!(proxy.requests().len(), 20);
}

/// Each protocol's canned throttling and access-denied errors are parsed by boto3
/// into the intended code and status (boto3 retries disabled).
#[test]
fn canned_errors_parse_in_boto3() {
    let moto = Moto::shared();
    let proxy = FaultProxy::start(moto);
    let once = Caller::management().max_attempts(1);
    let cases = [
        (
            Protocol::Query,
            Match::any().form_action("GetCallerIdentity"),
            "sts",
            "GetCallerIdentity",
            json!({}),
        ),
        (
            Protocol::Query,
            Match::any().form_action("ListRoles"),
            "iam",
            "ListRoles",
            json!({}),
        ),
        (
            Protocol::Ec2,
            Match::any().form_action("DescribeVpcs"),
            "ec2",
            "DescribeVpcs",
            json!({}),
        ),
        (
            Protocol::Json,
            Match::any().target("ListTables"),
            "dynamodb",
            "ListTables",
            json!({}),
        ),
        (
            Protocol::Json,
            Match::any().target("ListQueues"),
            "sqs",
            "ListQueues",
            json!({}),
        ),
        (
            Protocol::RestJson,
            Match::any().path_prefix("/2015-03-31/functions"),
            "lambda",
            "ListFunctions",
            json!({}),
        ),
        (
            Protocol::RestXml,
            Match::any().method("GET").path_prefix("/"),
            "s3",
            "ListBuckets",
            json!({}),
        ),
        (
            Protocol::RestXml,
            Match::any().path_prefix("/2013-04-01/hostedzone"),
            "route53",
            "ListHostedZones",
            json!({}),
        ),
    ];
    for (protocol, matcher, service, operation, params) in cases {
        for reply in [
            Reply::throttling(protocol),
            Reply::access_denied(protocol),
            Reply::internal_error(protocol),
        ] {
            proxy.clear_rules();
            proxy.add(Rule::new(matcher.clone(), Action::Reply(reply.clone())));
            let err = try_boto3_call(&proxy, &once, service, operation, &params, false)
                .expect_err("the proxy answers with an error");
            assert_eq!(
                err.code,
                reply_code(&reply),
                "{service} {operation} {protocol:?}: {err:?}"
            );
            assert_eq!(
                err.status, reply.status,
                "{service} {operation} {protocol:?}"
            );
            assert_eq!(err.requests, 1, "no retries with max_attempts=1");
        }
    }
    // Without rules the same calls reach moto.
    proxy.clear_rules();
    let identity = boto3_call(&proxy, &once, "sts", "GetCallerIdentity", &json!({}), false);
    assert_eq!(identity["Account"], "123456789012");
}

/// The code a canned reply carries, read back from its header or body.
fn reply_code(reply: &Reply) -> &'static str {
    let body = String::from_utf8_lossy(&reply.body);
    for code in [
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ThrottlingException",
        "Throttling",
        "SlowDown",
        "UnauthorizedOperation",
        "AccessDeniedException",
        "AccessDenied",
        "InternalFailure",
        "InternalError",
    ] {
        let in_header = reply.headers.iter().any(|(_, v)| v == code);
        if in_header || body.contains(&format!(">{code}<")) || body.contains(&format!("\"{code}\""))
        {
            return code;
        }
    }
    panic!("no code in {reply:?}")
}

/// boto3's own retries ride over injected throttling and resets; the proxy's record
/// shows every attempt.
#[test]
fn boto3_retries_through_faults() {
    let moto = Moto::shared();
    let proxy = FaultProxy::start(moto);
    let caller = Caller::management().in_region("ca-central-1");
    let list_tables = Match::any().target("ListTables");
    let throttle = proxy.add(
        Rule::new(
            list_tables.clone(),
            Action::Reply(Reply::throttling(Protocol::Json)),
        )
        .times(2),
    );
    let out = try_boto3_call(&proxy, &caller, "dynamodb", "ListTables", &json!({}), false)
        .expect("boto3 retries past two throttles");
    assert_eq!(out.retry_attempts, Some(2));
    assert_eq!(out.requests, 3);
    assert_eq!(proxy.hits(throttle), 2);
    let attempts = proxy.requests_matching(&list_tables);
    let statuses: Vec<_> = attempts.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(400), Some(400), Some(200)]);
    assert!(attempts.windows(2).all(|w| w[0].at <= w[1].at));

    // A connection reset is retried too.
    proxy.clear_requests();
    let describe = Match::any().form_action("DescribeRegions");
    proxy.add(Rule::new(describe.clone(), Action::Reset).times(1));
    let out = try_boto3_call(&proxy, &caller, "ec2", "DescribeRegions", &json!({}), false)
        .expect("boto3 retries past a reset");
    assert_eq!(out.retry_attempts, Some(1));
    assert_eq!(proxy.requests_matching(&describe).len(), 2);

    // With retries exhausted, the throttling error surfaces.
    proxy.add(Rule::new(
        list_tables.clone(),
        Action::Reply(Reply::throttling(Protocol::Json)),
    ));
    let err = try_boto3_call(
        &proxy,
        &caller.clone().max_attempts(2),
        "dynamodb",
        "ListTables",
        &json!({}),
        false,
    )
    .expect_err("always throttled");
    assert_eq!(err.code, "ThrottlingException");
    assert_eq!(err.retry_attempts, 1);
    assert_eq!(err.request_id.as_deref(), Some(FAULT_REQUEST_ID));
}

/// AssumeRole into one member is denied by a rule on its account id; the others work.
#[test]
fn assume_role_denied_for_one_account() {
    let moto = Moto::shared();
    let proxy = FaultProxy::start(moto);
    let denied = "333344445555";
    proxy.add(Rule::new(
        Match::any().form_action("AssumeRole").body_contains(denied),
        Action::Reply(Reply::access_denied(Protocol::Query)),
    ));
    let err = try_boto3_call(
        &proxy,
        &Caller::member(denied),
        "sts",
        "GetCallerIdentity",
        &json!({}),
        false,
    )
    .expect_err("AssumeRole is denied");
    assert_eq!(err.code, "AccessDenied");
    assert_eq!(err.status, 403);
    let identity = boto3_call(
        &proxy,
        &Caller::member("444455556666"),
        "sts",
        "GetCallerIdentity",
        &json!({}),
        false,
    );
    assert_eq!(identity["Account"], "444455556666");
}

/// The Host header reaches moto unchanged, so the URLs moto builds from it point back
/// at the proxy; HEAD answers keep their Content-Length.
#[test]
fn host_is_preserved_and_head_works() {
    let moto = Moto::shared();
    let proxy = FaultProxy::start(moto);
    let caller = Caller::management().in_region("eu-west-3");
    let queue = boto3_call(
        &proxy,
        &caller,
        "sqs",
        "CreateQueue",
        &json!({"QueueName": "testkit-proxy-host"}),
        false,
    );
    let url = queue["QueueUrl"].as_str().unwrap();
    assert!(
        url.starts_with(&proxy.endpoint()),
        "{url} does not point at {}",
        proxy.endpoint()
    );

    let bucket = "testkit-proxy-head";
    boto3_call(
        &proxy,
        &caller,
        "s3",
        "CreateBucket",
        &json!({"Bucket": bucket, "CreateBucketConfiguration": {"LocationConstraint": "eu-west-3"}}),
        false,
    );
    boto3_call(
        &proxy,
        &caller,
        "s3",
        "PutObject",
        &json!({"Bucket": bucket, "Key": "k", "Body": "hello"}),
        false,
    );
    let head = boto3_call(
        &proxy,
        &caller,
        "s3",
        "HeadObject",
        &json!({"Bucket": bucket, "Key": "k"}),
        false,
    );
    assert_eq!(head["ContentLength"], 5);
    let object = boto3_call(
        &proxy,
        &caller,
        "s3",
        "GetObject",
        &json!({"Bucket": bucket, "Key": "k"}),
        false,
    );
    assert_eq!(object["Body"], "aGVsbG8=");
    let heads = proxy.requests_matching(&Match::any().method("HEAD"));
    assert_eq!(heads.len(), 1);
    assert_eq!(heads[0].status, Some(200));
}

#[test]
#[should_panic(expected = "not on a loopback address")]
fn refuses_an_upstream_off_loopback() {
    FaultProxy::start("http://192.0.2.1:80");
}
