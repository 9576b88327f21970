//! boto3_call prints results in awsdyn's convention: isoformat dates, base64 blobs,
//! no ResponseMetadata; errors come back as values.

use base64::Engine as _;
use serde_json::json;
use testkit::{boto3_call, try_boto3_call, Caller, Moto};

/// `2026-11-24T06:04:07+00:00`, with `.ffffff` only when there are microseconds.
fn is_isoformat_utc(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let fixed = s.len() >= 25
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && s.ends_with("+00:00");
    let middle = &s[19..s.len() - 6];
    fixed
        && (middle.is_empty()
            || (middle.len() == 7
                && middle.starts_with('.')
                && middle[1..].bytes().all(|d| d.is_ascii_digit())))
}

#[test]
fn dates_are_isoformat_and_metadata_is_dropped() {
    let moto = Moto::shared();
    let caller = Caller::management();
    let name = "testkit-boto3-dates";
    let created = boto3_call(
        moto,
        &caller,
        "iam",
        "create_user",
        &json!({"UserName": name}),
        false,
    );
    let date = created["User"]["CreateDate"]
        .as_str()
        .expect("CreateDate is a string");
    assert!(is_isoformat_utc(date), "not isoformat: {date}");
    assert!(created.get("ResponseMetadata").is_none(), "{created}");

    // Both spellings of the operation give the same result.
    let a = boto3_call(
        moto,
        &caller,
        "iam",
        "GetUser",
        &json!({"UserName": name}),
        false,
    );
    let b = boto3_call(
        moto,
        &caller,
        "iam",
        "get_user",
        &json!({"UserName": name}),
        false,
    );
    assert_eq!(a, b);
    assert_eq!(a["User"]["CreateDate"], created["User"]["CreateDate"]);
}

#[test]
fn blobs_are_base64() {
    let moto = Moto::shared();
    let random = boto3_call(
        moto,
        &Caller::management(),
        "kms",
        "GenerateRandom",
        &json!({"NumberOfBytes": 24}),
        false,
    );
    let encoded = random["Plaintext"].as_str().expect("Plaintext is a string");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("valid base64");
    assert_eq!(decoded.len(), 24);
}

#[test]
fn paginate_collects_every_page() {
    let moto = Moto::shared();
    let caller = Caller::management().in_region("eu-north-1");
    for i in 0..7 {
        boto3_call(
            moto,
            &caller,
            "logs",
            "CreateLogGroup",
            &json!({"logGroupName": format!("/testkit/paginate/{i}")}),
            false,
        );
    }
    let params = json!({"logGroupNamePrefix": "/testkit/paginate/", "limit": 3});
    let one_page =
        try_boto3_call(moto, &caller, "logs", "DescribeLogGroups", &params, false).unwrap();
    assert_eq!(
        one_page.result["logGroups"].as_array().map(Vec::len),
        Some(3)
    );
    assert!(one_page.result.get("nextToken").is_some());

    let params =
        json!({"logGroupNamePrefix": "/testkit/paginate/", "PaginationConfig": {"PageSize": 3}});
    let all = try_boto3_call(moto, &caller, "logs", "describe_log_groups", &params, true).unwrap();
    assert_eq!(all.result["logGroups"].as_array().map(Vec::len), Some(7));
    assert_eq!(all.requests, 3, "7 groups in pages of 3");
    assert_eq!(all.retry_attempts, None);
}

#[test]
fn errors_come_back_as_values() {
    let moto = Moto::shared();
    let err = try_boto3_call(
        moto,
        &Caller::management(),
        "dynamodb",
        "DescribeTable",
        &json!({"TableName": "testkit-no-such-table"}),
        false,
    )
    .expect_err("the table does not exist");
    assert_eq!(err.code, "ResourceNotFoundException");
    assert_eq!(err.status, 400);
    assert_eq!(err.requests, 1);
    assert!(err.request_id.is_some());
}

#[test]
fn member_caller_acts_in_the_member_account() {
    let moto = Moto::shared();
    let member = Caller::member("210987654321").in_region("sa-east-1");
    let identity = boto3_call(moto, &member, "sts", "GetCallerIdentity", &json!({}), false);
    assert_eq!(identity["Account"], "210987654321");
    assert!(identity["Arn"]
        .as_str()
        .unwrap()
        .contains("assumed-role/OrganizationAccountAccessRole"));
}

#[test]
#[should_panic(expected = "ParamValidationError")]
fn bad_parameters_panic_with_the_traceback() {
    boto3_call(
        Moto::shared(),
        &Caller::management(),
        "sqs",
        "CreateQueue",
        &json!({"NoSuchParameter": 1}),
        false,
    );
}
