use super::*;
use serde_json::json;

fn list(service: &str, operation: &str, result_key: Option<&str>) -> Call {
    Call {
        service: service.into(),
        operation: operation.into(),
        function: awsdyn::names::snake_case(operation),
        parameters: json!({}),
        result_key: result_key.map(|k| ResultKey::parse(k).unwrap().unwrap()),
        details: Vec::new(),
        origin: String::new(),
    }
}

fn err(details: Value) -> String {
    entries(&details, &list("s3", "ListBuckets", Some("Buckets"))).unwrap_err()
}

#[test]
fn written_details_compile_and_evaluate() {
    let parent = list("dynamodb", "ListTables", None);
    let details = entries(
        &json!([
            {"function": "describe_table", "parameters": {"TableName": "."}},
            {"function": "ListTagsOfResource", "parameters": {"ResourceArn": "$details.describe_table.Table.TableArn"}},
            {"service": "cloudwatch", "function": "describe-alarms", "parameters": {"AlarmNamePrefix": ". + \"-\"", "MaxRecords": 5}}
        ]),
        &parent,
    )
    .unwrap();
    let names: Vec<_> = details
        .iter()
        .map(|d| {
            (
                d.service.as_str(),
                d.operation.as_str(),
                d.function.as_str(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("dynamodb", "DescribeTable", "describe_table"),
            ("dynamodb", "ListTagsOfResource", "list_tags_of_resource"),
            ("cloudwatch", "DescribeAlarms", "describe_alarms"),
        ]
    );
    assert_eq!(details[1].uses(), ["describe_table"]);
    let item = json!("orders");
    assert_eq!(
        Value::Object(details[0].parameters.eval(&item, &json!({})).unwrap()),
        json!({"TableName": "orders"})
    );
    let earlier = json!({"describe_table": {"Table": {"TableArn": "arn:aws:dynamodb:us-east-1:1:table/orders"}}});
    assert_eq!(
        Value::Object(details[1].parameters.eval(&item, &earlier).unwrap()),
        json!({"ResourceArn": "arn:aws:dynamodb:us-east-1:1:table/orders"})
    );
    // Constants stay as they are; a null value leaves the parameter out.
    assert_eq!(
        Value::Object(details[2].parameters.eval(&item, &json!({})).unwrap()),
        json!({"AlarmNamePrefix": "orders-", "MaxRecords": 5})
    );
    assert_eq!(
        Value::Object(details[1].parameters.eval(&item, &json!({})).unwrap()),
        json!({})
    );
    // Several values are an error for the item.
    let several = Params::parse(json!({"Bucket": ".[]"}).as_object().unwrap().clone()).unwrap();
    let e = several.eval(&json!(["a", "b"]), &json!({})).unwrap_err();
    assert!(e.contains("several values"), "{e}");
    // The plan keeps the parameters as written.
    let planned = serde_json::to_value(details[1].planned()).unwrap();
    assert_eq!(
        planned["parameters"],
        json!({"ResourceArn": "$details.describe_table.Table.TableArn"})
    );
    let back: Detail<String> = serde_json::from_value(planned).unwrap();
    assert_eq!(back.compile().unwrap().operation, "ListTagsOfResource");
}

#[test]
fn bad_details_name_the_detail_and_the_fix() {
    for (details, want) in [
        (
            json!([{"function": "get_bucket_polcy", "parameters": {"Bucket": ".Name"}}]),
            "detail 1 (get_bucket_polcy): unknown operation \"get_bucket_polcy\" for s3; did you mean get_bucket_policy",
        ),
        (
            json!([{"function": "delete_bucket", "parameters": {"Bucket": ".Name"}}]),
            "detail 1 (delete_bucket): s3 DeleteBucket is not a read operation",
        ),
        (
            json!([{"function": "get_bucket_policy"}]),
            "detail 1 (get_bucket_policy): invalid parameters for s3 GetBucketPolicy: missing required parameter Bucket",
        ),
        (
            json!([{"function": "get_bucket_policy", "parameters": {"Bucket": ".Name |"}}]),
            "detail 1 (get_bucket_policy): parameter Bucket: jq \".Name |\": ",
        ),
        (
            json!([{"function": "get_bucket_policy", "parameters": {"Bucket": ".Name", "Buckt": "x"}}]),
            "unknown parameter Buckt",
        ),
        (
            json!([{"function": "get_bucket_policy", "parameters": {"Bucket": 3}}]),
            "parameter Bucket must be a string, got a number",
        ),
        (
            json!([{"function": "get_bucket_policy", "parameters": {"Bucket": "$details.get_bucket_tagging.x"}}]),
            "uses $details.get_bucket_tagging, but no earlier detail of this entry is get_bucket_tagging",
        ),
        (
            json!([{"function": "get_bucket_policy", "parameter": {"Bucket": ".Name"}}]),
            "unknown member \"parameter\"; did you mean \"parameters\"?",
        ),
        (
            json!([{"service": "secretsmanager", "function": "get_secret_value", "parameters": {"SecretId": ".Name"}}]),
            "returns secrets",
        ),
        (json!({"function": "x"}), "\"details\" must be a list of detail calls"),
        (json!(["get_bucket_policy"]), "detail 1: a detail is an object"),
    ] {
        let e = err(details.clone());
        assert!(e.contains(want), "{details}: {e}");
        assert!(!e.contains('\n'), "{e}");
    }
}

#[test]
fn auto_derives_the_items_own_details() {
    // An entry without a result key: the derived details run on the derivation's list.
    let buckets = derived(&list("s3", "ListBuckets", None));
    let policy = buckets
        .iter()
        .find(|d| d.operation == "GetBucketPolicy")
        .expect("GetBucketPolicy derived for ListBuckets");
    assert_eq!(policy.member.as_deref(), Some("Buckets"));
    assert_eq!(
        policy.parameters.written(),
        json!({"Bucket": ".Name"}).as_object().unwrap()
    );
    assert!(policy.takes("Buckets") && !policy.takes("Owner") && policy.takes(""));
    // Its result key being that list: every item.
    let keyed = derived(&list("s3", "ListBuckets", Some("Buckets")));
    assert!(keyed.iter().all(|d| d.member.is_none()));
    assert_eq!(keyed.len(), buckets.len());
    // Another result key: the items are not the derivation's, nothing is derived, and
    // "auto" says so.
    let names = list("s3", "ListBuckets", Some(".Buckets[].Name"));
    assert!(derived(&names).is_empty());
    let e = entries(&json!("auto"), &names).unwrap_err();
    assert!(e.contains("leave result_key out"), "{e}");
    // Never a secret.
    let secrets = derived(&list("secretsmanager", "ListSecrets", None));
    assert!(!secrets.is_empty());
    assert!(secrets.iter().all(|d| d.operation != "GetSecretValue"));
    // Mode parsing.
    assert_eq!("AUTO".parse::<Mode>().unwrap(), Mode::Auto);
    assert!("some".parse::<Mode>().unwrap_err().contains("none, core"));
}

#[test]
fn apply_modes() {
    let mut calls = vec![list("s3", "ListBuckets", None)];
    calls[0].details = entries(
        &json!([{"function": "get_bucket_policy", "parameters": {"Bucket": ".Name"}}]),
        &calls[0],
    )
    .unwrap();
    let mut auto = calls.clone();
    apply(Mode::Auto, &mut auto);
    assert!(auto[0].details.len() > 3);
    // The written one stays first and is not derived again.
    assert_eq!(auto[0].details[0].member, None);
    assert_eq!(
        auto[0]
            .details
            .iter()
            .filter(|d| d.operation == "GetBucketPolicy")
            .count(),
        1
    );
    apply(Mode::None, &mut calls);
    assert!(calls[0].details.is_empty());
}

#[test]
fn referenced_functions() {
    assert_eq!(
        referenced_details("$details.describe_table.Table.TableArn // $details.x"),
        ["describe_table", "x"]
    );
    assert!(referenced_details(".Name").is_empty());
}
