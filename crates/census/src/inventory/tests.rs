use super::*;
use serde_json::json;

const ACCOUNT: &str = "123456789012";

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/src/inventory/fixtures/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn scan(service: &str, operation: &str, result: &Value) -> Vec<Resource> {
    resources(service, operation, result, "aws", "us-east-1", ACCOUNT)
}

fn tags(pairs: &[(&str, &str)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect()
}

#[test]
fn ec2_instances_are_flattened_out_of_reservations() {
    let result = fixture("ec2_DescribeInstances");
    let got = scan("ec2", "DescribeInstances", &result);
    let instances: Vec<&Value> = result["Reservations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["Instances"].as_array().unwrap())
        .collect();
    assert_eq!(got.len(), 2);
    assert_eq!(got.len(), instances.len(), "no reservation rows");
    for (r, i) in got.iter().zip(&instances) {
        let id = i["InstanceId"].as_str().unwrap();
        assert_eq!(r.resource_type, "ec2:Instance");
        assert_eq!(r.cfn_type.as_deref(), Some("AWS::EC2::Instance"));
        assert_eq!(r.resource_id, id);
        assert_eq!(
            r.arn.as_deref(),
            Some(format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{id}").as_str())
        );
        assert_eq!(r.name.as_deref(), Some("web-1"));
        assert_eq!(
            r.created.as_ref(),
            i["LaunchTime"].as_str().map(String::from).as_ref()
        );
        assert!(r.created.as_ref().unwrap().ends_with("+00:00"));
        assert_eq!(r.tags, tags(&[("Name", "web-1"), ("Owner", "payments")]));
    }
    // A result key that flattens already (`.Reservations[].Instances[]`) gives the same.
    let flat = Value::Array(instances.into_iter().cloned().collect());
    assert_eq!(scan("ec2", "DescribeInstances", &flat), got);
    // So does the `Reservations` member alone.
    assert_eq!(
        scan("ec2", "DescribeInstances", &result["Reservations"]),
        got
    );
}

#[test]
fn partitions_come_from_the_account() {
    let result = fixture("ec2_DescribeInstances");
    let id = result["Reservations"][0]["Instances"][0]["InstanceId"]
        .as_str()
        .unwrap();
    let cn = resources(
        "ec2",
        "DescribeInstances",
        &result,
        "aws-cn",
        "cn-north-1",
        ACCOUNT,
    );
    assert_eq!(
        cn[0].arn.as_deref(),
        Some(format!("arn:aws-cn:ec2:cn-north-1:{ACCOUNT}:instance/{id}").as_str())
    );
    let gov = resources(
        "s3",
        "ListBuckets",
        &fixture("s3_ListBuckets"),
        "aws-us-gov",
        "us-gov-west-1",
        ACCOUNT,
    );
    assert_eq!(
        gov[0].arn.as_deref(),
        Some("arn:aws-us-gov:s3:::census-logs")
    );
    let tables = resources(
        "dynamodb",
        "ListTables",
        &fixture("dynamodb_ListTables"),
        "aws-us-gov",
        "us-gov-east-1",
        ACCOUNT,
    );
    assert!(tables
        .iter()
        .all(|t| t.arn.as_ref().unwrap().starts_with(&format!(
            "arn:aws-us-gov:dynamodb:us-gov-east-1:{ACCOUNT}:table/"
        ))));
}

#[test]
fn vpcs_subnets_and_security_groups() {
    let vpcs = fixture("ec2_DescribeVpcs");
    let got = scan("ec2", "DescribeVpcs", &vpcs);
    let id = vpcs["Vpcs"][0]["VpcId"].as_str().unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].resource_type, "ec2:Vpc");
    assert_eq!(got[0].cfn_type.as_deref(), Some("AWS::EC2::VPC"));
    assert_eq!(got[0].resource_id, id);
    assert_eq!(
        got[0].arn.as_deref(),
        Some(format!("arn:aws:ec2:us-east-1:{ACCOUNT}:vpc/{id}").as_str())
    );
    assert_eq!(got[0].name.as_deref(), Some("main"));
    assert_eq!(
        got[0].tags,
        tags(&[("Name", "main"), ("Owner", "payments")])
    );

    let subnets = fixture("ec2_DescribeSubnets");
    let s = &subnets["Subnets"][0];
    let id = s["SubnetId"].as_str().unwrap();
    let got = scan("ec2", "DescribeSubnets", &subnets);
    assert_eq!(got[0].resource_type, "ec2:Subnet");
    // moto returns `SubnetArn`, which identifies the item (as the SQL stores key it);
    // built from the format the ARN is the same.
    let built = format!("arn:aws:ec2:us-east-1:{ACCOUNT}:subnet/{id}");
    assert_eq!(got[0].resource_id, built);
    assert_eq!(got[0].arn.as_deref(), Some(built.as_str()));
    let mut without = s.clone();
    without.as_object_mut().unwrap().remove("SubnetArn");
    let got2 = scan("ec2", "DescribeSubnets", &json!([without]));
    assert_eq!(got2[0].resource_id, id);
    assert_eq!(got2[0].arn.as_deref(), Some(built.as_str()));
    assert_eq!(got[0].name.as_deref(), Some("private-a"));

    let sgs = fixture("ec2_DescribeSecurityGroups");
    let id = sgs["SecurityGroups"][0]["GroupId"].as_str().unwrap();
    let got = scan("ec2", "DescribeSecurityGroups", &sgs);
    assert_eq!(got[0].resource_type, "ec2:SecurityGroup");
    let built = format!("arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{id}");
    assert_eq!(got[0].arn.as_deref(), Some(built.as_str()));
    let mut without = sgs["SecurityGroups"][0].clone();
    without.as_object_mut().unwrap().remove("SecurityGroupArn");
    let got2 = scan(
        "ec2",
        "DescribeSecurityGroups",
        &json!({"SecurityGroups": [without]}),
    );
    assert_eq!(got2[0].resource_id, id);
    assert_eq!(got2[0].arn.as_deref(), Some(built.as_str()));
    // No Name tag: the group's name member.
    assert_eq!(got[0].name.as_deref(), Some("web"));
    assert_eq!(got[0].tags, tags(&[("Environment", "prod")]));
}

#[test]
fn s3_buckets() {
    let got = scan("s3", "ListBuckets", &fixture("s3_ListBuckets"));
    assert_eq!(got.len(), 2, "the Owner member is not a resource");
    assert_eq!(got[0].resource_type, "s3:Bucket");
    assert_eq!(got[0].cfn_type.as_deref(), Some("AWS::S3::Bucket"));
    assert_eq!(got[0].resource_id, "census-logs");
    assert_eq!(got[0].arn.as_deref(), Some("arn:aws:s3:::census-logs"));
    assert_eq!(got[0].name.as_deref(), Some("census-logs"));
    assert!(got[0].created.as_ref().unwrap().starts_with("20"));
    assert!(got[0].tags.is_empty());
}

#[test]
fn scalar_items_sqs_urls_and_dynamodb_names() {
    let queues = fixture("sqs_ListQueues");
    for result in [queues.clone(), queues["QueueUrls"].clone()] {
        let got = scan("sqs", "ListQueues", &result);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].resource_type, "sqs:Queue");
        assert_eq!(got[0].cfn_type.as_deref(), Some("AWS::SQS::Queue"));
        assert_eq!(got[0].resource_id, queues["QueueUrls"][0].as_str().unwrap());
        assert_eq!(
            got[0].arn.as_deref(),
            Some(format!("arn:aws:sqs:us-east-1:{ACCOUNT}:orders").as_str())
        );
        assert_eq!(got[0].name.as_deref(), Some("orders"));
        assert_eq!(got[1].name.as_deref(), Some("orders-dlq"));
    }
    let got = scan("dynamodb", "ListTables", &fixture("dynamodb_ListTables"));
    let names: Vec<_> = got.iter().map(|r| r.name.clone().unwrap()).collect();
    assert_eq!(names.len(), 2);
    for r in &got {
        assert_eq!(r.resource_type, "dynamodb:Table");
        assert_eq!(r.resource_id, *r.name.as_ref().unwrap());
        assert_eq!(
            r.arn.as_deref(),
            Some(
                format!(
                    "arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{}",
                    r.resource_id
                )
                .as_str()
            )
        );
    }
}

#[test]
fn iam_roles_have_their_own_arn_and_tags() {
    let mut result = fixture("iam_ListRoles");
    // moto's ListRoles leaves tags out; AWS's Role shape has them as a Key/Value list.
    result["Roles"][1]["Tags"] = json!([{"Key": "Owner", "Value": "payments"}]);
    let got = scan("iam", "ListRoles", &result);
    assert_eq!(got.len(), 2);
    let role = &got[1];
    assert_eq!(role.resource_type, "iam:Role");
    assert_eq!(role.cfn_type.as_deref(), Some("AWS::IAM::Role"));
    assert_eq!(
        role.arn.as_deref(),
        Some("arn:aws:iam::123456789012:role/fn-role")
    );
    assert_eq!(role.resource_id, *role.arn.as_ref().unwrap());
    assert_eq!(role.name.as_deref(), Some("fn-role"));
    assert_eq!(
        role.created.as_ref(),
        result["Roles"][1]["CreateDate"]
            .as_str()
            .map(String::from)
            .as_ref()
    );
    assert_eq!(role.tags, tags(&[("Owner", "payments")]));
    assert!(got[0].tags.is_empty());
}

#[test]
fn lambda_kms_and_sns() {
    let got = scan("lambda", "ListFunctions", &fixture("lambda_ListFunctions"));
    assert_eq!(got[0].resource_type, "lambda:Function");
    assert_eq!(
        got[0].arn.as_deref(),
        Some("arn:aws:lambda:us-east-1:123456789012:function:orders-fn")
    );
    assert_eq!(got[0].name.as_deref(), Some("orders-fn"));
    assert_eq!(got[0].created, None, "LastModified is not a creation time");

    let keys = fixture("kms_ListKeys");
    let got = scan("kms", "ListKeys", &keys);
    assert_eq!(got[0].resource_type, "kms:Key");
    assert_eq!(got[0].cfn_type.as_deref(), Some("AWS::KMS::Key"));
    assert_eq!(
        got[0].arn.as_ref(),
        keys["Keys"][0]["KeyArn"]
            .as_str()
            .map(String::from)
            .as_ref()
    );
    assert_eq!(got[0].name, None);

    let got = scan("sns", "ListTopics", &fixture("sns_ListTopics"));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].resource_type, "sns:Topic");
    assert_eq!(
        got[0].arn.as_deref(),
        Some("arn:aws:sns:us-east-1:123456789012:alerts")
    );
    assert_eq!(
        got[0].resource_id,
        "arn:aws:sns:us-east-1:123456789012:alerts"
    );
}

#[test]
fn nested_result_lists() {
    let arn = "arn:aws:cloudfront::123456789012:distribution/E1";
    let list = json!({"Marker": "", "Quantity": 1, "IsTruncated": false, "Items": [
        {"Id": "E1", "ARN": arn, "DomainName": "d1.cloudfront.net", "Aliases": {"Quantity": 0}}
    ]});
    for result in [json!({ "DistributionList": list.clone() }), list] {
        let got = scan("cloudfront", "ListDistributions", &result);
        assert_eq!(got.len(), 1, "{result}");
        assert_eq!(got[0].resource_type, "cloudfront:Distribution");
        assert_eq!(
            got[0].cfn_type.as_deref(),
            Some("AWS::CloudFront::Distribution")
        );
        assert_eq!(got[0].arn.as_deref(), Some(arn));
    }
}

#[test]
fn wrappers_only_where_the_model_has_them() {
    let facts = OperationFacts::for_operation("ec2", "DescribeInstances");
    assert_eq!(facts.lists[0].path, "Reservations");
    assert_eq!(facts.lists[0].inner.as_ref().unwrap().0, "Instances");
    for (service, op, path, ty) in [
        ("iam", "ListRoles", "Roles", "iam:Role"),
        ("s3", "ListBuckets", "Buckets", "s3:Bucket"),
        (
            "elbv2",
            "DescribeLoadBalancers",
            "LoadBalancers",
            "elbv2:LoadBalancer",
        ),
        (
            "ec2",
            "DescribeSecurityGroups",
            "SecurityGroups",
            "ec2:SecurityGroup",
        ),
        ("ec2", "DescribeVpcs", "Vpcs", "ec2:Vpc"),
        (
            "rds",
            "DescribeDBInstances",
            "DBInstances",
            "rds:DBInstance",
        ),
    ] {
        let f = OperationFacts::for_operation(service, op);
        assert_eq!(f.lists[0].path, path, "{service} {op}");
        assert!(
            f.lists[0].inner.is_none(),
            "{service} {op} is not a wrapper"
        );
        assert_eq!(f.lists[0].resource().resource_type, ty);
    }
    let lbs = fixture("elbv2_DescribeLoadBalancers");
    let got = scan("elbv2", "DescribeLoadBalancers", &lbs);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].name.as_deref(), Some("web-lb"));
    assert_eq!(
        got[0].arn.as_ref(),
        lbs["LoadBalancers"][0]["LoadBalancerArn"]
            .as_str()
            .map(String::from)
            .as_ref()
    );
}

#[test]
fn tag_forms_from_the_models() {
    let form = |service: &str, op: &str| {
        OperationFacts::for_operation(service, op).lists[0]
            .resource()
            .tags
            .clone()
            .unwrap()
    };
    let list = |member: &str, key: &str, value: &str| TagForm::List {
        member: member.into(),
        key: key.into(),
        value: value.into(),
    };
    let cases = [
        (
            "ec2",
            "DescribeVpcs",
            list("Tags", "Key", "Value"),
            json!({"VpcId": "vpc-1", "Tags": [{"Key": "Owner", "Value": "x"}]}),
        ),
        (
            "ec2",
            "DescribeNetworkInterfaces",
            list("TagSet", "Key", "Value"),
            json!({"NetworkInterfaceId": "eni-1", "TagSet": [{"Key": "Owner", "Value": "x"}]}),
        ),
        (
            "rds",
            "DescribeDBInstances",
            list("TagList", "Key", "Value"),
            json!({"DBInstanceIdentifier": "db1", "TagList": [{"Key": "Owner", "Value": "x"}]}),
        ),
        (
            "codepipeline",
            "ListWebhooks",
            list("tags", "key", "value"),
            json!({"url": "u", "tags": [{"key": "Owner", "value": "x"}]}),
        ),
        (
            "chatbot",
            "DescribeSlackChannelConfigurations",
            list("Tags", "TagKey", "TagValue"),
            json!({"ChatConfigurationArn": "arn:aws:chatbot::1:chat-configuration/slack-channel/c", "Tags": [{"TagKey": "Owner", "TagValue": "x"}]}),
        ),
        (
            "apigateway",
            "GetRestApis",
            TagForm::Map {
                member: "tags".into(),
            },
            json!({"id": "a1", "tags": {"Owner": "x"}}),
        ),
    ];
    for (service, op, want, item) in cases {
        assert_eq!(form(service, op), want, "{service} {op}");
        let got = scan(service, op, &json!([item]));
        assert_eq!(got.len(), 1, "{service} {op}");
        assert_eq!(got[0].tags, tags(&[("Owner", "x")]), "{service} {op}");
    }
    // Without a model: either form is still read.
    assert_eq!(
        tags_any(&json!({"TagList": [{"key": "a", "value": "b"}]})),
        tags(&[("a", "b")])
    );
    assert_eq!(tags_any(&json!({"Tags": {"a": "b"}})), tags(&[("a", "b")]));
}

#[test]
fn arn_formats() {
    let place = Place {
        partition: "aws-cn",
        region: "cn-north-1",
        account_id: ACCOUNT,
    };
    assert_eq!(
        build_arn(
            "arn:${Partition}:sqs:${Region}:${Account}:${.|last}",
            &json!("https://sqs.cn-north-1.amazonaws.com.cn/1/q"),
            place
        )
        .as_deref(),
        Some("arn:aws-cn:sqs:cn-north-1:123456789012:q")
    );
    assert_eq!(
        build_arn("x/${InstanceId}", &json!({}), place),
        None,
        "a missing member gives no ARN"
    );
    assert_eq!(build_arn("x/${.|nope}", &json!("a"), place), None);
    // Every format and CloudFormation type parses, and every format starts with the
    // account's partition.
    assert!(arn_format("ec2:Instance").is_some() && cfn_type("ec2:Instance").is_some());
    let formats: Data = serde_json::from_str(ARN_FORMATS).unwrap();
    for (ty, f) in &formats.types {
        assert!(f.starts_with("arn:${Partition}:"), "{ty}: {f}");
        assert!(ty.contains(':'), "{ty}");
    }
    let cfn: Data = serde_json::from_str(CFN_TYPES).unwrap();
    assert!(cfn.types.values().all(|t| t.starts_with("AWS::")));
}

#[test]
fn core_resource_types_have_a_cloudformation_type() {
    let mut missing = Vec::new();
    for c in crate::spec::Preset::Core.calls().unwrap() {
        let f = OperationFacts::for_operation(&c.service, &c.operation);
        let Some(l) = f.lists.first() else { continue };
        let ty = &l.resource().resource_type;
        if cfn_type(ty).is_none() {
            missing.push(ty.clone());
        }
    }
    // Types CloudFormation has no resource for (or that name a listing, not a resource).
    missing.retain(|t| {
        ![
            "ec2:Snapshot",
            "ec2:Image",
            "ssm:Instance",
            "backup:BackupVaultListMember",
        ]
        .contains(&t.as_str())
    });
    assert!(missing.is_empty(), "{missing:?}");
}

/// The coverage figures: `cargo test -p census --lib inventory::tests::coverage -- --ignored --nocapture`.
#[test]
#[ignore]
fn coverage() {
    let calls: std::collections::BTreeSet<(String, String)> = crate::spec::Preset::All
        .calls()
        .unwrap()
        .into_iter()
        .map(|c| (c.service, c.operation))
        .collect();
    let (mut ops, mut typed, mut arn, mut tagged, mut named, mut created, mut flattened) =
        (0, 0, 0, 0, 0, 0, 0);
    let (mut own_arn, mut format_arn, mut scalar) = (0, 0, 0);
    let mut wrappers = Vec::new();
    for (service, operation) in &calls {
        let facts = OperationFacts::for_operation(service, operation);
        ops += 1;
        let Some(list) = facts.lists.first() else {
            continue;
        };
        let r = list.resource();
        typed += 1;
        if list.inner.is_some() {
            flattened += 1;
            wrappers.push(format!(
                "{service} {operation} {} -> {}",
                list.element.shape, r.resource_type
            ));
        }
        scalar += usize::from(r.scalar);
        let own = r.arn.is_some() || r.scalar_kind == Some("Arn");
        let format = arn_format(&r.resource_type).is_some();
        own_arn += usize::from(own);
        format_arn += usize::from(!own && format);
        arn += usize::from(own || format);
        tagged += usize::from(r.tags.is_some());
        named += usize::from(r.name.is_some() || r.scalar_kind == Some("Name"));
        created += usize::from(r.created.is_some());
    }
    for c in crate::spec::Preset::Core.calls().unwrap() {
        let facts = OperationFacts::for_operation(&c.service, &c.operation);
        let Some(r) = facts.lists.first().map(ListFacts::resource) else {
            println!(
                "  core without a resource list: {} {}",
                c.service, c.operation
            );
            continue;
        };
        if r.arn.is_none() && r.scalar_kind != Some("Arn") && arn_format(&r.resource_type).is_none()
        {
            println!(
                "  core without an ARN: {} {} {}",
                c.service, c.operation, r.resource_type
            );
        }
    }
    println!("all preset: {ops} list operations; {typed} with a resource list and type ({scalar} of scalars), {flattened} flattened");
    println!(
        "ARN: {arn} ({own_arn} an ARN member or ARN items, {format_arn} from arn_formats.json)"
    );
    println!("tags member: {tagged}; name: {named}; created: {created}");
    for w in wrappers {
        println!("  flattened: {w}");
    }
}

#[test]
fn without_a_model_and_repeats() {
    let result = json!({"Things": [
        {"ThingArn": "arn:aws:x:us-east-1:1:thing/a", "Tags": {"Owner": "x"}},
        {"ThingArn": "arn:aws:x:us-east-1:1:thing/a"},
        "plain"
    ]});
    let got = scan("nosuchservice", "ListThings", &result);
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].resource_type, "nosuchservice:Unknown");
    assert_eq!(got[0].arn.as_deref(), Some("arn:aws:x:us-east-1:1:thing/a"));
    assert_eq!(got[0].tags, tags(&[("Owner", "x")]));
    assert_eq!(got[1].resource_id, "arn:aws:x:us-east-1:1:thing/a#2");
    assert_eq!(got[2].resource_id, "plain");
    assert_eq!(got[2].arn, None);
    assert!(scan("s3", "ListBuckets", &Value::Null).is_empty());
    assert!(scan("s3", "ListBuckets", &json!({})).is_empty());
}

#[test]
fn arns_in_ids_and_references_are_told_apart() {
    let stack = "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1";
    let result = json!({"Stacks": [{
        "StackId": stack, "StackName": "s", "RoleARN": "arn:aws:iam::123456789012:role/deploy",
        "CreationTime": "2026-01-02T03:04:05+00:00", "StackStatus": "CREATE_COMPLETE",
        "Tags": [{"Key": "Owner", "Value": "x"}]
    }]});
    let got = scan("cloudformation", "DescribeStacks", &result);
    assert_eq!(
        got[0].arn.as_deref(),
        Some(stack),
        "the StackId, not the RoleARN"
    );
    assert_eq!(got[0].name.as_deref(), Some("s"));
    assert_eq!(got[0].created.as_deref(), Some("2026-01-02T03:04:05+00:00"));
    assert_eq!(
        got[0].cfn_type.as_deref(),
        Some("AWS::CloudFormation::Stack")
    );

    let zones = json!({"HostedZones": [{"Id": "/hostedzone/Z1", "Name": "example.com.", "CallerReference": "c"}]});
    let got = resources(
        "route53",
        "ListHostedZones",
        &zones,
        "aws-cn",
        "cn-north-1",
        ACCOUNT,
    );
    assert_eq!(
        got[0].arn.as_deref(),
        Some("arn:aws-cn:route53:::hostedzone/Z1")
    );
    assert_eq!(got[0].name.as_deref(), Some("example.com."));
}

#[test]
fn facts_are_cached_per_operation() {
    let cache = FactsCache::default();
    let a = cache.get("ec2", "DescribeInstances");
    let b = cache.get("ec2", "DescribeInstances");
    assert!(Arc::ptr_eq(&a, &b));
    assert_eq!(
        *a,
        OperationFacts::for_operation("ec2", "describe_instances")
    );
    let place = Place {
        partition: "aws",
        region: "us-east-1",
        account_id: ACCOUNT,
    };
    let result = fixture("ec2_DescribeInstances");
    assert_eq!(
        resources_with(&a, "ec2", &result, place),
        scan("ec2", "DescribeInstances", &result)
    );
}

#[test]
fn scalar_arns_are_their_own_arn() {
    let arn = "arn:aws:ecs:us-east-1:123456789012:cluster/prod";
    let got = scan("ecs", "ListClusters", &json!({"clusterArns": [arn]}));
    assert_eq!(got[0].resource_type, "ecs:Cluster");
    assert_eq!(got[0].cfn_type.as_deref(), Some("AWS::ECS::Cluster"));
    assert_eq!(got[0].arn.as_deref(), Some(arn));
    assert_eq!(got[0].resource_id, arn);
    assert_eq!(got[0].name.as_deref(), Some("prod"));
}

fn link_kinds(r: &Resource) -> Vec<(&str, &str, Option<&str>)> {
    r.links
        .iter()
        .map(|l| (l.kind.as_str(), l.raw.as_str(), l.to_type.as_deref()))
        .collect()
}

#[test]
fn links_come_from_id_and_arn_members() {
    let instances = scan(
        "ec2",
        "DescribeInstances",
        &fixture("ec2_DescribeInstances"),
    );
    let first = &instances[0];
    let kinds = link_kinds(first);
    let subnet = fixture("ec2_DescribeInstances")["Reservations"][0]["Instances"][0]["SubnetId"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        kinds.contains(&("SubnetId", subnet.as_str(), Some("ec2:Subnet"))),
        "{kinds:?}"
    );
    for (kind, to) in [
        ("VpcId", "ec2:Vpc"),
        ("SecurityGroups[].GroupId", "ec2:SecurityGroup"),
        ("ImageId", "ec2:Image"),
    ] {
        assert!(
            kinds.iter().any(|(k, _, t)| *k == kind && *t == Some(to)),
            "{kind}: {kinds:?}"
        );
    }
    // Its own id, its owner (an account) and its availability zone are not links.
    assert!(
        !kinds.iter().any(|(k, _, _)| [
            "InstanceId",
            "OwnerId",
            "NetworkInterfaces[].OwnerId",
            "Placement.AvailabilityZoneId"
        ]
        .contains(k)),
        "{kinds:?}"
    );
    let subnets = scan("ec2", "DescribeSubnets", &fixture("ec2_DescribeSubnets"));
    assert_eq!(
        link_kinds(&subnets[0])
            .iter()
            .map(|l| l.0)
            .collect::<Vec<_>>(),
        ["VpcId"]
    );
    let sgs = scan(
        "ec2",
        "DescribeSecurityGroups",
        &fixture("ec2_DescribeSecurityGroups"),
    );
    assert!(sgs.iter().all(|g| link_kinds(g)
        .iter()
        .any(|l| l.0 == "VpcId" && l.2 == Some("ec2:Vpc"))));
    // An ARN member names its target by the ARN: lambda's `Role`.
    let functions = scan("lambda", "ListFunctions", &fixture("lambda_ListFunctions"));
    let role = link_kinds(&functions[0]);
    assert!(
        role.iter()
            .any(|(k, raw, t)| *k == "Role" && raw.starts_with("arn:aws:iam::") && t.is_none()),
        "{role:?}"
    );
    // Across services through link_types.json: a volume's key, an RDS instance's
    // security groups and VPC.
    let volumes = OperationFacts::for_operation("ec2", "DescribeVolumes");
    let paths: Vec<_> = volumes.lists[0]
        .resource()
        .links
        .iter()
        .map(|l| (l.kind.as_str(), l.to_type.as_deref()))
        .collect();
    assert!(
        paths.contains(&("Attachments[].InstanceId", Some("ec2:Instance"))),
        "{paths:?}"
    );
    assert!(paths.contains(&("KmsKeyId", Some("kms:Key"))), "{paths:?}");
    let rds = OperationFacts::for_operation("rds", "DescribeDBInstances");
    let paths: Vec<_> = rds.lists[0]
        .resource()
        .links
        .iter()
        .map(|l| (l.kind.as_str(), l.to_type.as_deref()))
        .collect();
    assert!(
        paths.contains(&(
            "VpcSecurityGroups[].VpcSecurityGroupId",
            Some("ec2:SecurityGroup")
        )),
        "{paths:?}"
    );
    assert!(
        paths.contains(&("DBSubnetGroup.VpcId", Some("ec2:Vpc"))),
        "{paths:?}"
    );
}

#[test]
fn identifiers_name_rds_resources_and_global_arns_have_no_region() {
    let rds = OperationFacts::for_operation("rds", "DescribeDBInstances");
    assert_eq!(
        rds.lists[0].resource().name.as_deref(),
        Some("DBInstanceIdentifier")
    );
    let place = Place {
        partition: "aws-us-gov",
        region: "global",
        account_id: "123456789012",
    };
    let item = serde_json::json!({"Id": "Z1"});
    assert_eq!(
        build_arn(
            "arn:${Partition}:svc:${Region}:${Account}:thing/${Id}",
            &item,
            place
        )
        .as_deref(),
        Some("arn:aws-us-gov:svc::123456789012:thing/Z1")
    );
}

#[test]
fn a_list_less_output_gives_its_one_resource() {
    let result = serde_json::json!({"Organization": {
        "Id": "o-abc",
        "Arn": "arn:aws:organizations::111111111111:organization/o-abc",
        "MasterAccountId": "111111111111",
        "AvailablePolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}]
    }});
    let got = scan("organizations", "DescribeOrganization", &result);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].resource_type, "organizations:Organization");
    assert_eq!(
        got[0].arn.as_deref(),
        Some("arn:aws:organizations::111111111111:organization/o-abc")
    );
    assert_eq!(got[0].native_id, "o-abc");
}
