use super::*;
use serde_json::json;

#[test]
fn retired_list_is_well_formed() {
    let r = retired();
    assert!(!r.services.is_empty() && !r.operations.is_empty());
    for g in &r.services {
        assert!(g.operation.is_empty(), "{g:?}");
        assert!(
            awsdyn::model::find_service(&g.service).is_none(),
            "{} is in the models: not retired",
            g.service
        );
    }
    for g in &r.operations {
        let model = check::service_model(&g.service).unwrap();
        assert!(
            check::operation(&model, &g.operation).is_err(),
            "{} {} is in the models: not retired",
            g.service,
            g.operation
        );
    }
}

/// The fates of `entries` (as one file), and the calls.
fn plan(entries: Value) -> (Vec<Planned>, Vec<Call>, Vec<Problem>) {
    let entries = entries
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, v)| Entry {
            origin: format!("f entry {}", i + 1),
            value: v.clone(),
        })
        .collect();
    let (mut calls, mut fates, mut problems) = (Vec::new(), Fates::default(), Vec::new());
    super::entries(entries, false, &mut calls, &mut fates, &mut problems);
    attach(&mut calls, &mut fates);
    (fates.planned, calls, problems)
}

fn fates(planned: &[Planned]) -> Vec<(&str, Fate)> {
    planned
        .iter()
        .map(|p| (p.function.as_str(), p.fate))
        .collect()
}

#[test]
fn each_entry_gets_its_fate() {
    let (planned, calls, problems) = plan(json!([
        {"service": "s3", "function": "get_bucket_acl"},
        {"service": "s3", "function": "list_buckets"},
        {"service": "s3", "function": "get_paginator"},
        {"service": "alexaforbusiness", "function": "list_skills"},
        {"service": "chime", "function": "list_meetings"},
        {"service": "ec2", "function": "terminate_instances"},
        {"service": "ec2", "function": "get_password_data"},
        {"service": "s3", "function": "list_objects_v2"},
        {"service": "ec2", "function": "describe_byoip_cidrs"},
        {"service": "iam", "function": "get_role"},
    ]));
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        fates(&planned),
        [
            ("get_bucket_acl", Fate::Detail),
            ("list_buckets", Fate::Runs),
            ("get_paginator", Fate::Helper),
            ("list_skills", Fate::Retired),
            ("list_meetings", Fate::Retired),
            ("terminate_instances", Fate::Write),
            ("get_password_data", Fate::Secret),
            ("list_objects_v2", Fate::Unfillable),
            ("describe_byoip_cidrs", Fate::Unfillable),
            ("get_role", Fate::Detail),
        ]
    );
    assert_eq!(planned[0].note, "of ListBuckets: Bucket=.Name");
    assert!(
        planned[3].note.contains("botocore 1.34.121"),
        "{}",
        planned[3].note
    );
    assert!(
        planned[8].note.starts_with("needs MaxResults"),
        "{}",
        planned[8].note
    );
    assert!(
        planned[9].note.starts_with("of ListRoles (added)"),
        "{}",
        planned[9].note
    );
    // GetBucketAcl joins the file's own ListBuckets; GetRole's list call is added.
    let ops: Vec<(&str, Vec<&str>)> = calls
        .iter()
        .map(|c| {
            (
                c.operation.as_str(),
                c.details.iter().map(|d| d.operation.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        ops,
        [
            ("ListBuckets", vec!["GetBucketAcl"]),
            ("ListRoles", vec!["GetRole"])
        ]
    );
    assert_eq!(calls[0].details[0].member.as_deref(), Some("Buckets"));
    assert_eq!(calls[0].details[0].function, "get_bucket_acl");
    assert_eq!(calls[1].origin, "f entry 10 (its list call)");
}

#[test]
fn a_list_call_with_its_list_as_result_key_is_a_parent_too() {
    let (planned, calls, _) = plan(json!([
        {"service": "s3", "function": "list_buckets", "result_key": "Buckets"},
        {"service": "s3", "function": "get_bucket_tagging"},
        {"service": "cloudfront", "function": "get_distribution_config"},
    ]));
    assert_eq!(calls.len(), 2, "{calls:#?}");
    assert_eq!(calls[0].details.len(), 1);
    assert_eq!(calls[0].details[0].member, None);
    assert_eq!(planned[1].note, "of ListBuckets: Bucket=.Name");
    // CloudFront's distributions are at DistributionList.Items: the added list call
    // keeps them with a jq result key.
    assert_eq!(calls[1].operation, "ListDistributions");
    assert_eq!(
        calls[1].result_key.as_ref().map(ResultKey::as_str),
        Some(".DistributionList.Items[]?")
    );
    assert_eq!(calls[1].details[0].operation, "GetDistributionConfig");
    assert_eq!(calls[1].details[0].member, None);
    assert!(
        planned[2]
            .note
            .starts_with("of ListDistributions (added): Id="),
        "{}",
        planned[2].note
    );
}

#[test]
fn typos_and_written_parameters_stay_errors() {
    let (planned, calls, problems) = plan(json!([
        {"service": "s3", "function": "get_bucket_acll"},
        {"service": "ec3", "function": "describe_instances"},
        {"service": "s3", "function": "get_bucket_acl", "parameters": {"Buckett": "x"}},
        {"service": "s3", "function": "get_bucket_acl", "paramters": {}},
        {"service": "s3", "function": "get_bucket_acl", "details": "auto"},
    ]));
    assert!(planned.is_empty() && calls.is_empty());
    let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
    assert!(
        messages[0].ends_with("did you mean get_bucket_acl?"),
        "{}",
        messages[0]
    );
    assert!(messages[1].contains("did you mean ec2"), "{}", messages[1]);
    assert!(messages[2].contains("Buckett"), "{}", messages[2]);
    assert!(
        messages[3].contains("did you mean \"parameters\""),
        "{}",
        messages[3]
    );
    assert_eq!(messages.len(), 5);
}

#[test]
fn strict_keeps_every_error() {
    let entries = vec![Entry {
        origin: "f entry 1".into(),
        value: json!({"service": "s3", "function": "get_paginator"}),
    }];
    let (mut calls, mut fates, mut problems) = (Vec::new(), Fates::default(), Vec::new());
    super::entries(entries, true, &mut calls, &mut fates, &mut problems);
    assert_eq!(problems.len(), 1);
    assert!(problems[0].message.contains("boto3 client helper"));
}

#[test]
fn counts_every_fate() {
    let c = counts(&[]);
    assert_eq!(c.len(), Fate::ALL.len());
    assert!(c.values().all(|n| *n == 0));
}
