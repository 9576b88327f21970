use super::*;

fn request(seq: u64, headers: &[(&str, &str)], path: &str, body: &str) -> SeenRequest {
    let now = Instant::now();
    SeenRequest {
        seq,
        method: "POST".into(),
        path: path.into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect(),
        body: Bytes::from(body.to_string()),
        at: Duration::ZERO,
        received: now,
        rule: None,
        status: None,
        response_headers: Vec::new(),
        response_body: Bytes::new(),
    }
}

fn signed(service: &str) -> String {
    format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261202/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=00"
        )
}

#[test]
fn draws_are_reproducible_and_disjoint_ranges_exclusive() {
    let rules = [
        Match::any().draw(7, 0.0, 0.20),
        Match::any().draw(7, 0.20, 0.23),
        Match::any().draw(7, 0.23, 0.24),
    ];
    let mut hits = [0u32; 3];
    for seq in 0..100_000 {
        let r = request(seq, &[], "/", "");
        let matched: Vec<usize> = (0..3).filter(|&i| rules[i].matches(&r)).collect();
        assert!(matched.len() <= 1, "{seq}: {matched:?}");
        for i in matched {
            hits[i] += 1;
        }
        assert_eq!(r.draw(7), request(seq, &[], "/x", "y").draw(7));
    }
    // 20%, 3% and 1% of 100,000, within a few standard deviations.
    for (hit, expected) in hits.iter().zip([20_000.0, 3_000.0, 1_000.0]) {
        let sd = f64::sqrt(expected * (1.0 - expected / 100_000.0));
        assert!((f64::from(*hit) - expected).abs() < 5.0 * sd, "{hits:?}");
    }
    // Another seed gives another sequence.
    let differ = (0..1000)
        .filter(|&s| {
            let r = request(s, &[], "/", "");
            r.draw(7) != r.draw(8)
        })
        .count();
    assert_eq!(differ, 1000);
    assert!(Match::any()
        .chance(1, 1.0)
        .matches(&request(5, &[], "/", "")));
    assert!(!Match::any()
        .chance(1, 0.0)
        .matches(&request(5, &[], "/", "")));
}

#[test]
fn protocols_are_told_from_the_request() {
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let sts = signed("sts");
    let ec2 = signed("ec2");
    let cases = [
        (
            request(
                0,
                &[form[0], ("authorization", &sts)],
                "/",
                "Action=AssumeRole&Version=2011-06-15",
            ),
            Protocol::Query,
        ),
        (
            request(
                0,
                &[form[0], ("authorization", &ec2)],
                "/",
                "Action=DescribeVpcs&Version=2016-11-15",
            ),
            Protocol::Ec2,
        ),
        (
            request(
                0,
                &[("x-amz-target", "DynamoDB_20120810.ListTables")],
                "/",
                "{}",
            ),
            Protocol::Json,
        ),
        (
            request(
                0,
                &[("authorization", &signed("lambda"))],
                "/2015-03-31/functions/",
                "",
            ),
            Protocol::RestJson,
        ),
        (
            request(0, &[("authorization", &signed("s3"))], "/bucket", ""),
            Protocol::RestXml,
        ),
        (
            request(
                0,
                &[("authorization", &signed("route53"))],
                "/2013-04-01/hostedzone",
                "",
            ),
            Protocol::RestXml,
        ),
    ];
    for (req, expected) in cases {
        assert_eq!(Protocol::of(&req), expected, "{}", req.label());
        assert!(Match::any().protocol(expected).matches(&req));
    }
}
