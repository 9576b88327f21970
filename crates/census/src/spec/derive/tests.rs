use super::*;

fn derived(service: &str, list: &str) -> Derivation {
    let model = awsdyn::model::load(service).unwrap();
    derive(&model)
        .into_iter()
        .find(|d| d.list == list)
        .unwrap_or_else(|| panic!("{service} {list} is not a list operation"))
}

fn params(d: &Derivation, operation: &str) -> Vec<(String, String)> {
    d.details
        .iter()
        .find(|x| x.operation == operation)
        .unwrap_or_else(|| {
            let names: Vec<_> = d.details.iter().map(|x| &x.operation).collect();
            panic!("{} does not derive {operation}: {names:?}", d.list)
        })
        .parameters
        .clone()
}

fn pair(member: &str, path: &str) -> Vec<(String, String)> {
    vec![(member.to_string(), path.to_string())]
}

/// Every operation `presets/not_details.json` names exists, so a typo cannot let a
/// data-returning operation through.
#[test]
fn not_details_names_real_operations() {
    assert!(!facts().identifiers.is_empty());
    for e in &facts().operations {
        let model = awsdyn::model::load(&e.service).unwrap();
        assert!(
            model.operations.contains_key(&e.operation),
            "presets/not_details.json: {} has no {}",
            e.service,
            e.operation
        );
    }
}

#[test]
fn s3_buckets() {
    let d = derived("s3", "ListBuckets");
    assert_eq!(d.result_key, "Buckets");
    assert!(!d.scalar);
    for op in [
        "GetBucketEncryption",
        "GetBucketVersioning",
        "GetBucketPolicy",
        "GetBucketPolicyStatus",
        "GetBucketTagging",
        "GetBucketLocation",
        "GetPublicAccessBlock",
        "GetBucketOwnershipControls",
        "GetBucketLogging",
    ] {
        assert_eq!(params(&d, op), pair("Bucket", ".Name"), "{op}");
    }
    let names: Vec<_> = d.details.iter().map(|x| x.operation.as_str()).collect();
    for op in [
        "GetObject",
        "GetObjectAcl",
        "GetBucketIntelligentTieringConfiguration",
    ] {
        assert!(!names.contains(&op), "{op} derived: {names:?}");
    }
}

#[test]
fn dynamodb_tables() {
    let d = derived("dynamodb", "ListTables");
    assert!(d.scalar);
    assert_eq!(d.result_key, "TableNames");
    assert_eq!(params(&d, "DescribeTable"), pair("TableName", "."));
    assert!(d.details.iter().all(|x| x.own));
    let backups = derived("dynamodb", "ListBackups");
    let table = backups
        .details
        .iter()
        .find(|x| x.operation == "DescribeTable");
    assert!(
        !table.unwrap().own,
        "a backup's table is related, not the backup"
    );
    assert!(d
        .details
        .iter()
        .all(|x| x.operation != "Scan" && x.operation != "GetItem"));
}

#[test]
fn sqs_queues() {
    let d = derived("sqs", "ListQueues");
    assert_eq!(params(&d, "GetQueueAttributes"), pair("QueueUrl", "."));
    assert_eq!(params(&d, "ListQueueTags"), pair("QueueUrl", "."));
}

#[test]
fn iam_roles() {
    let d = derived("iam", "ListRoles");
    for op in ["GetRole", "ListAttachedRolePolicies", "ListRolePolicies"] {
        assert_eq!(params(&d, op), pair("RoleName", ".RoleName"), "{op}");
    }
    assert!(d.details.iter().all(|x| x.own), "{:?}", d.details);
}

#[test]
fn tags_by_resource_arn() {
    let d = derived("sns", "ListTopics");
    assert_eq!(
        params(&d, "ListTagsForResource"),
        pair("ResourceArn", ".TopicArn")
    );
}

#[test]
fn bare_identifiers_need_the_item_named() {
    let d = derived("eks", "ListAccessPolicies");
    assert!(
        d.details
            .iter()
            .all(|x| x.operation != "DescribeCluster" && x.operation != "ListUpdates"),
        "{:?}",
        d.details
    );
    let d = derived("eks", "ListEksAnywhereSubscriptions");
    assert_eq!(
        params(&d, "DescribeEksAnywhereSubscription"),
        pair("id", ".id")
    );
}

#[test]
fn no_secrets() {
    let d = derived("secretsmanager", "ListSecrets");
    let names: Vec<_> = d.details.iter().map(|x| x.operation.as_str()).collect();
    assert!(names.contains(&"DescribeSecret"), "{names:?}");
    assert!(!names.contains(&"GetSecretValue"), "{names:?}");
    for entry in awsdyn::model::services() {
        let model = awsdyn::model::load(&entry.name).unwrap();
        for d in derive(&model) {
            for x in &d.details {
                assert!(
                    super::super::secret_list()
                        .iter()
                        .all(|s| s.service != model.name || s.operation != x.operation),
                    "{} {} derives secret {}",
                    model.name,
                    d.list,
                    x.operation
                );
            }
        }
    }
    for (service, op) in [
        ("s3", "GetObject"),
        ("ssm", "GetParameter"),
        ("ssm", "GetParameters"),
        ("kms", "Decrypt"),
        ("ecr", "GetAuthorizationToken"),
        ("iam", "GetCredentialReport"),
        ("gamelift", "GetGameSessionLogUrl"),
        ("athena", "GetQueryResults"),
    ] {
        assert!(never_detail(service, op), "{service} {op}");
    }
    assert!(!never_detail("s3", "GetBucketPolicy"));
}

#[test]
fn singulars() {
    assert_eq!(singular("TableNames"), "TableName");
    assert_eq!(singular("Policies"), "Policy");
    assert_eq!(singular("Addresses"), "Address");
    assert_eq!(noun("BucketSummary"), "Bucket");
    assert_eq!(noun("Bucket"), "Bucket");
    assert_eq!(noun("ImportsListItem"), "Imports");
    assert!(identifies("ImportId", "ImportsListItem"));
    assert!(!identifies("VpcId", "CarrierGateway"));
}

/// The coverage figure: `cargo test -p census --lib derive::tests::coverage -- --ignored --nocapture`.
#[test]
#[ignore]
fn coverage() {
    let (mut services, mut lists, mut with, mut details) = (0, 0, 0, 0);
    let (mut with_own, mut own) = (0, 0);
    let all: std::collections::HashSet<(String, String)> = super::super::Preset::All
        .calls()
        .unwrap()
        .into_iter()
        .map(|c| (c.service, c.operation))
        .collect();
    let (mut in_all, mut in_all_with, mut in_all_own) = (0, 0, 0);
    for entry in awsdyn::model::services() {
        let model = awsdyn::model::load(&entry.name).unwrap();
        services += 1;
        for d in derive(&model) {
            lists += 1;
            if all.contains(&(model.name.clone(), d.list.clone())) {
                in_all += 1;
                in_all_with += usize::from(!d.details.is_empty());
                in_all_own += usize::from(d.details.iter().any(|x| x.own));
            }
            if !d.details.is_empty() {
                with += 1;
                details += d.details.len();
            }
            let n = d.details.iter().filter(|x| x.own).count();
            own += n;
            with_own += usize::from(n > 0);
        }
    }
    println!(
        "{with} of {lists} list operations in {services} services have at least one derived detail ({details} derived details); {with_own} have one of the item itself ({own} such details)"
    );
    println!("all preset: {in_all_with} of its {in_all} list operations have at least one derived detail; {in_all_own} have one of the item itself (what --details auto makes)");
}
