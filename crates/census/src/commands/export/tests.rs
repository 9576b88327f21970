use super::*;

fn account(id: &str, org: Option<&str>, ou_id: Option<&str>, path: Option<&str>) -> AccountRow {
    AccountRow {
        id: id.into(),
        name: Some(format!("name-{id}")),
        org_id: org.map(str::to_string),
        management_account_id: org.map(|_| "111111111111".to_string()),
        ou_id: ou_id.map(str::to_string),
        ou_path: path.map(str::to_string),
        ..Default::default()
    }
}

#[test]
fn tree_from_ou_paths() {
    let accounts = vec![
        account("111111111111", Some("o-1"), Some("r-root"), Some("Root")),
        account(
            "222222222222",
            Some("o-1"),
            Some("ou-prod"),
            Some("Root/Workloads/Prod"),
        ),
        account(
            "333333333333",
            Some("o-1"),
            Some("ou-work"),
            Some("Root/Workloads"),
        ),
        account(
            "444444444444",
            Some("o-1"),
            Some("ou-dev"),
            Some("Root/Sandbox/Dev"),
        ),
        account("555555555555", None, None, None),
        account("666666666666", Some("o-1"), None, None),
    ];
    let tree = Tree::build(&accounts);
    let ids: Vec<(&str, &str)> = tree.nodes.iter().map(|n| (n.kind, n.id.as_str())).collect();
    assert_eq!(
        ids,
        [
            ("organization", "o-1"),
            ("root", "r-root"),
            ("ou", "census:ou:o-1:Root/Sandbox"),
            ("ou", "ou-dev"),
            ("ou", "ou-work"),
            ("ou", "ou-prod"),
        ]
    );
    let edges: Vec<(&str, &str)> = tree
        .contains
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        edges,
        [
            ("o-1", "r-root"),
            ("r-root", "census:ou:o-1:Root/Sandbox"),
            ("census:ou:o-1:Root/Sandbox", "ou-dev"),
            ("r-root", "ou-work"),
            ("ou-work", "ou-prod"),
            ("r-root", "111111111111"),
            ("ou-prod", "222222222222"),
            ("ou-work", "333333333333"),
            ("ou-dev", "444444444444"),
            ("o-1", "666666666666"),
        ]
    );
    // Without an account under the root, the root's id is made up.
    let tree = Tree::build(&accounts[1..2]);
    assert_eq!(tree.nodes[1].id, "census:root:o-1");
    assert_eq!(
        tree.contains[0],
        ("o-1".to_string(), "census:root:o-1".to_string())
    );
}

#[test]
fn labels_shorten_arns() {
    for (id, want) in [
        ("arn:aws:ec2:us-east-1:1:subnet/subnet-1", "subnet-1"),
        ("arn:aws:lambda:us-east-1:1:function:worker", "worker"),
        (
            "arn:aws:logs:us-east-1:1:log-group:/aws/lambda/w:*",
            "/aws/lambda/w:*",
        ),
        ("arn:aws:s3:::bucket", "bucket"),
        ("arn:aws:iam::1:role/path/r", "path/r"),
        ("vpc-1", "vpc-1"),
        ("arn:broken", "arn:broken"),
    ] {
        assert_eq!(short_id(id), want, "{id}");
    }
}

#[test]
fn node_ids() {
    assert_eq!(
        node_id(
            Some("arn:aws:s3:::b"),
            "1",
            "global",
            "s3-list_buckets",
            "b"
        ),
        "arn:aws:s3:::b"
    );
    assert_eq!(
        node_id(Some(""), "1", "us-east-1", "ec2-describe_vpcs", "vpc-1"),
        "census:1:us-east-1:ec2-describe_vpcs:vpc-1"
    );
}

#[test]
fn cypher_names_and_strings() {
    use cypher::{rel_type, string, type_label};
    assert_eq!(
        rel_type("SecurityGroups[].GroupId"),
        "SECURITY_GROUPS_GROUP_ID"
    );
    assert_eq!(rel_type("SubnetId"), "SUBNET_ID");
    assert_eq!(rel_type("contains"), "CONTAINS");
    assert_eq!(rel_type("KMSKeyId"), "KMSKEY_ID");
    assert_eq!(rel_type("[]."), "LINKS_TO");
    assert_eq!(
        type_label(Some("AWS::EC2::Instance"), "ec2:Instance"),
        "EC2Instance"
    );
    assert_eq!(type_label(None, "ec2:Instance"), "EC2Instance");
    assert_eq!(
        type_label(None, "lambda:FunctionConfiguration"),
        "LambdaFunctionConfiguration"
    );
    assert_eq!(type_label(None, "x-y:Z.z"), "XYZz");
    assert_eq!(string("a'b\\c\nd\u{1}é"), "'a\\'b\\\\c\\nd\\u0001é'");
}

#[test]
fn dot_and_xml_escapes() {
    assert_eq!(dot::quote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    assert_eq!(graphml::xml_text("a\u{1}b\tc"), "a\u{fffd}b\tc");
}
