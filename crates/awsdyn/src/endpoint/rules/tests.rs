use super::compile::parse_path;
use super::*;
use serde_json::json;

fn rules(rules: Value) -> RuleSet {
    RuleSet::from_json(&json!({
        "version": "1.0",
        "parameters": {
            "Region": {"type": "String", "builtIn": "AWS::Region"},
            "UseFIPS": {"type": "Boolean", "default": false, "required": true},
            "Bucket": {"type": "String"},
            "Arns": {"type": "stringArray"}
        },
        "rules": rules
    }))
    .unwrap()
}

#[test]
fn paths() {
    assert_eq!(parse_path("name").unwrap(), [Step::Field("name".into())]);
    assert_eq!(
        parse_path("resourceId[2]").unwrap(),
        [Step::Field("resourceId".into()), Step::Index(2)]
    );
    assert_eq!(parse_path("[0]").unwrap(), [Step::Index(0)]);
    assert_eq!(
        parse_path("a.b[1][2]").unwrap(),
        [
            Step::Field("a".into()),
            Step::Field("b".into()),
            Step::Index(1),
            Step::Index(2)
        ]
    );
    assert!(parse_path("a[x]").is_err());
    assert!(parse_path("").is_err());
}

#[test]
fn tree_error_and_endpoint_rules() {
    let rs = rules(json!([
        {"conditions": [{"fn": "isSet", "argv": [{"ref": "Region"}]}], "type": "tree", "rules": [
            {"conditions": [
                {"fn": "aws.partition", "argv": [{"ref": "Region"}], "assign": "P"},
                {"fn": "booleanEquals", "argv": [{"ref": "UseFIPS"}, true]},
                {"fn": "booleanEquals", "argv": [false, {"fn": "getAttr", "argv": [{"ref": "P"}, "supportsFIPS"]}]}
            ], "type": "error", "error": "no FIPS in {P#name}"},
            {"conditions": [{"fn": "aws.partition", "argv": [{"ref": "Region"}], "assign": "P"}], "type": "endpoint",
             "endpoint": {"url": "https://svc.{Region}.{P#dnsSuffix}",
                          "properties": {"authSchemes": [{"name": "sigv4", "signingName": "svc", "signingRegion": "{Region}"}]},
                          "headers": {"x-first": ["{P#name}", "b"]}}}
        ]},
        {"conditions": [], "type": "error", "error": "Invalid Configuration: Missing Region"}
    ]));
    let e = rs
        .resolve(&Params::new().with("Region", "cn-north-1"))
        .unwrap();
    assert_eq!(e.url, "https://svc.cn-north-1.amazonaws.com.cn");
    assert_eq!(e.signing_name(), Some("svc"));
    assert_eq!(e.signing_region(), Some("cn-north-1"));
    assert_eq!(e.headers["x-first"], ["aws-cn", "b"]);
    let err = rs.resolve(&Params::new()).unwrap_err();
    assert_eq!(
        err,
        EndpointError::Rule("Invalid Configuration: Missing Region".into())
    );
    let wrong = rs.resolve(&Params::new().with("Region", true)).unwrap_err();
    assert!(matches!(wrong, EndpointError::InvalidParameter { .. }));
}

#[test]
fn arns_lists_and_substrings() {
    let rs = rules(json!([
        {"conditions": [
            {"fn": "aws.parseArn", "argv": [{"ref": "Bucket"}], "assign": "arn"},
            {"fn": "getAttr", "argv": [{"ref": "arn"}, "resourceId[1]"], "assign": "name"}
        ], "type": "endpoint", "endpoint": {"url": "https://{name}-{arn#accountId}.{arn#region}.example.com"}},
        {"conditions": [
            {"fn": "getAttr", "argv": [{"ref": "Arns"}, "[0]"], "assign": "first"},
            {"fn": "substring", "argv": [{"ref": "first"}, 0, 3, true], "assign": "tail"}
        ], "type": "endpoint", "endpoint": {"url": "https://{tail}.example.com/{first}"}},
        {"conditions": [], "type": "error", "error": "nothing"}
    ]));
    let p = Params::new().with("Bucket", "arn:aws:s3:us-west-2:123:accesspoint/my-ap");
    assert_eq!(
        rs.resolve(&p).unwrap().url,
        "https://my-ap-123.us-west-2.example.com"
    );
    let p = Params::new().with("Arns", vec!["abcdef".to_string()]);
    assert_eq!(
        rs.resolve(&p).unwrap().url,
        "https://def.example.com/abcdef"
    );
    let p = Params::new().with("Arns", Vec::<String>::new());
    assert_eq!(rs.resolve(&p).unwrap_err().to_string(), "nothing");
}

#[test]
fn compile_errors() {
    let bad_ref = RuleSet::from_json(&json!({"parameters": {}, "rules": [
        {"conditions": [], "type": "endpoint", "endpoint": {"url": "{Nope}"}}
    ]}));
    assert!(bad_ref.is_err());
    let out_of_scope = RuleSet::from_json(
        &json!({"parameters": {"R": {"type": "string"}}, "rules": [
            {"conditions": [{"fn": "aws.partition", "argv": [{"ref": "R"}], "assign": "P"}], "type": "tree", "rules": []},
            {"conditions": [], "type": "endpoint", "endpoint": {"url": "{P#name}"}}
        ]}),
    );
    assert!(out_of_scope.is_err());
    let unknown_fn = RuleSet::from_json(&json!({"parameters": {}, "rules": [
        {"conditions": [{"fn": "nope", "argv": []}], "type": "error", "error": "x"}
    ]}));
    assert!(unknown_fn.is_err());
}

#[test]
fn every_bundled_rule_set_compiles() {
    for e in crate::model::services() {
        let model = crate::model::load(&e.name).unwrap();
        RuleSet::from_json(&model.endpoint_rule_set())
            .unwrap_or_else(|err| panic!("{}: {err}", e.name));
    }
}
