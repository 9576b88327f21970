use std::collections::BTreeMap;

use super::*;

/// Detail calls and the code each answers for an item that has none of that.
const ABSENT: &[(&str, &str, &str)] = &[
    ("s3", "GetBucketPolicy", "NoSuchBucketPolicy"),
    ("s3", "GetBucketPolicyStatus", "NoSuchBucketPolicy"),
    (
        "s3",
        "GetBucketEncryption",
        "ServerSideEncryptionConfigurationNotFoundError",
    ),
    ("s3", "GetBucketTagging", "NoSuchTagSet"),
    (
        "s3",
        "GetPublicAccessBlock",
        "NoSuchPublicAccessBlockConfiguration",
    ),
    (
        "s3",
        "GetBucketOwnershipControls",
        "OwnershipControlsNotFoundError",
    ),
    (
        "s3",
        "GetBucketReplication",
        "ReplicationConfigurationNotFoundError",
    ),
    (
        "s3",
        "GetObjectLockConfiguration",
        "ObjectLockConfigurationNotFoundError",
    ),
    (
        "s3",
        "GetBucketLifecycleConfiguration",
        "NoSuchLifecycleConfiguration",
    ),
    ("s3", "GetBucketCors", "NoSuchCORSConfiguration"),
    ("s3", "GetBucketWebsite", "NoSuchWebsiteConfiguration"),
    (
        "s3",
        "GetBucketIntelligentTieringConfiguration",
        "NoSuchConfiguration",
    ),
    ("s3", "HeadBucket", "NoSuchBucket"),
    ("lambda", "GetPolicy", "ResourceNotFoundException"),
    (
        "lambda",
        "GetFunctionUrlConfig",
        "ResourceNotFoundException",
    ),
    ("iam", "GetLoginProfile", "NoSuchEntity"),
    ("iam", "GetLoginProfile", "NoSuchEntityException"),
    ("kms", "GetKeyRotationStatus", "NotFoundException"),
    ("sns", "GetTopicAttributes", "NotFound"),
    ("dynamodb", "DescribeTable", "ResourceNotFoundException"),
    ("dynamodb", "GetResourcePolicy", "PolicyNotFoundException"),
    (
        "secretsmanager",
        "DescribeSecret",
        "ResourceNotFoundException",
    ),
    (
        "elbv2",
        "DescribeLoadBalancerAttributes",
        "LoadBalancerNotFound",
    ),
    (
        "elb",
        "DescribeLoadBalancerAttributes",
        "LoadBalancerNotFound",
    ),
    (
        "ecr",
        "GetRepositoryPolicy",
        "RepositoryPolicyNotFoundException",
    ),
    (
        "ecr",
        "GetLifecyclePolicy",
        "LifecyclePolicyNotFoundException",
    ),
    ("apigateway", "GetStage", "NotFoundException"),
    (
        "sqs",
        "GetQueueAttributes",
        "AWS.SimpleQueueService.NonExistentQueue",
    ),
    ("sqs", "GetQueueAttributes", "QueueDoesNotExist"),
    ("cloudtrail", "GetEventSelectors", "TrailNotFoundException"),
    (
        "cloudtrail",
        "GetInsightSelectors",
        "InsightNotEnabledException",
    ),
    (
        "ec2",
        "DescribeLaunchTemplateVersions",
        "InvalidLaunchTemplateId.NotFound",
    ),
    (
        "ec2",
        "DescribeLaunchTemplateVersions",
        "InvalidLaunchTemplateName.NotFoundException",
    ),
    ("ec2", "DescribeVpcAttribute", "InvalidVpcID.NotFound"),
    ("rds", "DescribeDBClusters", "DBClusterNotFoundFault"),
    ("redshift", "DescribeClusters", "ClusterNotFound"),
    ("efs", "DescribeFileSystemPolicy", "PolicyNotFound"),
    (
        "stepfunctions",
        "DescribeStateMachine",
        "StateMachineDoesNotExist",
    ),
    (
        "wafv2",
        "GetLoggingConfiguration",
        "WAFNonexistentItemException",
    ),
    ("route53", "GetHostedZone", "NoSuchHostedZone"),
    ("cloudfront", "GetDistributionConfig", "NoSuchDistribution"),
    ("ssm", "GetParameter", "ParameterNotFound"),
    ("cloudwatch", "GetDashboard", "ResourceNotFound"),
    ("ram", "GetResourceShares", "UnknownResourceException"),
];

/// Codes that are failures whatever the call.
const NEVER_ABSENT: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "ThrottlingException",
    "Throttling",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "InternalServerException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "ValidationException",
    "ValidationError",
    "InvalidParameterValue",
    "InvalidParameterValueException",
    "InvalidParameterException",
    "CallTimeout",
    "AccountDeadlineExceeded",
    "ExpiredToken",
];

#[test]
fn detail_codes_are_absent() {
    for &(service, operation, code) in ABSENT {
        assert!(
            is_absent(service, operation, code),
            "{service} {operation} {code} should be absent"
        );
    }
}

#[test]
fn failures_are_never_absent() {
    for &(service, operation, _) in ABSENT {
        for code in NEVER_ABSENT {
            assert!(
                !is_absent(service, operation, code),
                "{service} {operation} {code} is a failure"
            );
        }
    }
}

#[test]
fn data_exclusions_win() {
    // Modeled and caught by the name rule, excluded by the data.
    assert!(!is_absent(
        "dax",
        "DescribeClusters",
        "ServiceLinkedRoleNotFoundFault"
    ));
    assert!(!is_absent(
        "lambda",
        "GetDurableExecution",
        "KMSNotFoundException"
    ));
    assert!(!is_absent(
        "codecommit",
        "GetBlob",
        "EncryptionKeyNotFoundException"
    ));
    assert!(!is_absent(
        "iam",
        "ListOrganizationsFeatures",
        "OrganizationNotFoundException"
    ));
    // The exclusion is written for the shape name and code both.
    assert!(!is_absent("sns", "GetTopicAttributes", "KMSNotFound"));
    assert!(!is_absent(
        "sns",
        "GetTopicAttributes",
        "KMSNotFoundException"
    ));
}

#[test]
fn modeled_codes_differ_from_shape_names() {
    // elb's AccessPointNotFoundException is sent as LoadBalancerNotFound.
    assert!(is_absent(
        "elb",
        "DescribeLoadBalancerAttributes",
        "AccessPointNotFoundException"
    ));
    // redshift sends ReservedNodeExchangeNotFoundFault as ReservedNodeExchangeNotFond:
    // only the model knows.
    assert!(is_absent(
        "redshift",
        "DescribeReservedNodeExchangeStatus",
        "ReservedNodeExchangeNotFond"
    ));
    assert!(!not_found_name("ReservedNodeExchangeNotFond"));
}

/// HEAD errors have no body: the status is the code.
#[test]
fn head_404() {
    assert!(is_absent("s3", "HeadBucket", "404"));
    assert!(is_absent("s3", "HeadObject", "404"));
    assert!(!is_absent("s3", "HeadBucket", "403"));
    assert!(!is_absent("s3", "HeadBucket", "500"));
    assert!(!is_absent("s3", "GetBucketPolicy", "404"));
}

#[test]
fn name_rule() {
    for code in [
        "NoSuchEntity",
        "NoSuchBucketPolicy",
        "NotFound",
        "NotFoundException",
        "ResourceNotFoundException",
        "ClusterNotFoundFault",
        "ServerSideEncryptionConfigurationNotFoundError",
        "InvalidVpcID.NotFound",
        "InvalidLaunchTemplateName.NotFoundException",
        "StateMachineDoesNotExist",
        "RepositoryDoesNotExistException",
        "RedshiftIdcApplicationNotExistsFault",
        "EntityNotExistsException",
    ] {
        assert!(not_found_name(code), "{code}");
    }
    for code in [
        "NoSuchness",
        "NotFoundable",
        "EntityAlreadyExists",
        "InvalidVpcID.Malformed",
        "AWS.SimpleQueueService.NonExistentQueue",
        "Found",
        "",
    ] {
        assert!(!not_found_name(code), "{code}");
    }
}

#[test]
fn only_reads_get_the_name_rule() {
    // Not modeled for the operation, and not a read: not absent.
    assert!(!is_absent("s3", "PutBucketPolicy", "NoSuchBucketPolicy"));
    assert!(!is_absent("ec2", "CreateTags", "InvalidVpcID.NotFound"));
    // Any name form of the operation; a service not in the bundle gets the name rule.
    assert!(is_absent("s3", "get_bucket_policy", "NoSuchBucketPolicy"));
    assert!(is_absent(
        "no-such-service",
        "GetThing",
        "ThingNotFoundException"
    ));
    assert!(!is_absent(
        "no-such-service",
        "Getaway",
        "ThingNotFoundException"
    ));
    // The data speaks of model names; any name form of the call finds it.
    assert!(is_absent(
        "sqs",
        "get_queue_attributes",
        "AWS.SimpleQueueService.NonExistentQueue"
    ));
    assert!(!is_absent(
        "dax",
        "describe-clusters",
        "ServiceLinkedRoleNotFoundFault"
    ));
    // Nothing about not found.
    assert!(!is_absent("s3", "GetBucketPolicy", "NoSuchness"));
    assert!(!is_absent("s3", "GetBucketPolicy", "MethodNotAllowed"));
}

/// Every entry of `presets/absent.json` names a real service and operation, says
/// something the rule would not say anyway, and is said once.
#[test]
fn data_names_real_operations() {
    let mut seen = HashSet::new();
    assert!(!data().codes.is_empty());
    for e in &data().codes {
        let at = format!(
            "presets/absent.json: {} {} {}",
            e.service, e.operation, e.code
        );
        assert!(!e.reason.is_empty(), "{at}: no reason");
        assert!(
            seen.insert((&e.service, &e.operation, &e.code)),
            "{at}: twice"
        );
        assert!(
            !never(&e.code),
            "{at}: never absent, whatever the data says"
        );
        assert_ne!(
            e.absent,
            not_found_name(&e.code),
            "{at}: the name rule says so already"
        );
        if e.service == "*" {
            assert_eq!(e.operation, "*", "{at}: an operation needs its service");
            continue;
        }
        let model =
            awsdyn::model::load(&e.service).unwrap_or_else(|_| panic!("{at}: no such service"));
        assert_eq!(model.name, e.service, "{at}: write the botocore name");
        assert!(
            e.operation == "*" || model.operations.contains_key(&e.operation),
            "{at}: no such operation"
        );
    }
}

/// Coverage, for BENCHMARKS.md: how many read operations of all models list at least
/// one absent error, and which codes. `cargo test -p census --lib absent_coverage --
/// --ignored --nocapture`
#[test]
#[ignore]
fn absent_coverage() {
    let (mut reads, mut with_errors, mut with_absent) = (0, 0, 0);
    let mut codes: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for entry in awsdyn::model::services() {
        let model = awsdyn::model::load(&entry.name).unwrap();
        for (key, op) in &model.operations {
            if !read_operation(key) {
                continue;
            }
            reads += 1;
            with_errors += usize::from(!op.errors.is_empty());
            let (absent, _) = modeled(&model, key, op);
            if absent.is_empty() {
                continue;
            }
            with_absent += 1;
            for code in absent {
                let c = codes
                    .entry(code)
                    .or_insert_with(|| (0, format!("{} {key}", model.name)));
                c.0 += 1;
            }
        }
    }
    println!("read operations (Get/Describe/List/Head): {reads}");
    println!("  listing any error: {with_errors}");
    println!("  listing at least one absent error: {with_absent}");
    println!("distinct absent codes and shape names: {}", codes.len());
    for (code, (n, example)) in &codes {
        println!("{n:6} {code} (e.g. {example})");
    }
    println!("presets/absent.json entries: {}", data().codes.len());
}
