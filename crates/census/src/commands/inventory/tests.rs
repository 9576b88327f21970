//! Unit tests of the inventory filter and statements.

use super::filter::*;
use super::read::rows_sql;

#[test]
fn types_in_both_spellings_and_services() {
    assert_eq!(
        TypeSpec::parse("ec2:Instance").unwrap(),
        TypeSpec::Type("ec2:instance".into())
    );
    assert_eq!(
        TypeSpec::parse(" AWS::EC2::Instance").unwrap(),
        TypeSpec::Cfn("aws::ec2::instance".into())
    );
    for s in ["ec2", "EC2:*"] {
        assert_eq!(TypeSpec::parse(s).unwrap(), TypeSpec::Service("ec2".into()));
    }
    for s in ["AWS::EC2::*", "aws::ec2"] {
        assert_eq!(
            TypeSpec::parse(s).unwrap(),
            TypeSpec::CfnService("aws::ec2::".into())
        );
    }
    for bad in [
        ":Instance",
        "ec2:",
        "AWS::",
        "::EC2::Instance",
        "ec2:a:b",
        "a b",
        "",
    ] {
        let e = TypeSpec::parse(bad).unwrap_err().to_string();
        assert!(e.contains("--type") && e.lines().count() == 1, "{bad}: {e}");
    }
    let instance = TypeSpec::parse("aws::ec2::INSTANCE").unwrap();
    assert!(instance.matches("ec2:Instance", Some("AWS::EC2::Instance")));
    assert!(!instance.matches("ec2:Instance", None));
    let ec2 = TypeSpec::parse("ec2").unwrap();
    assert!(ec2.matches("ec2:Vpc", None));
    assert!(!ec2.matches("ec2instanceconnect:Endpoint", None));
}

#[test]
fn tag_filters_and_requirements() {
    let tags: Tags = [("environment", "prod"), ("Owner", ""), ("AideId", "A-1")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let holds = |s: &str| TagFilter::parse(s).unwrap().holds(&tags);
    assert!(holds("Environment=prod"));
    assert!(holds("Owner"));
    assert!(holds("Owner="));
    assert!(!holds("Owner=x"));
    assert!(!holds("Team"));
    assert!(TagFilter::parse("=x")
        .unwrap_err()
        .to_string()
        .contains("no key"));
    let req = |s: &str| Requirement::parse(s, "--require").unwrap().satisfied(&tags);
    assert!(req("Environment"));
    assert!(!req("Owner"), "an empty value does not count");
    assert!(req("Aide_ID|AideId|AIDE_ID"));
    assert!(!req("Team"));
    assert!(Requirement::parse("A||B", "--require").is_err());
}

#[test]
fn statements_bind_every_value() {
    let filter = Filter {
        accounts: vec!["prod-01".into()],
        regions: vec!["eu-west-1".into()],
        types: vec![
            TypeSpec::Service("ec2".into()),
            TypeSpec::Cfn("aws::s3::bucket".into()),
        ],
        scan: Some("x'; drop table scans".into()),
        ..Filter::default()
    };
    let (sql, params) = rows_sql(&filter, true);
    assert!(
        !sql.contains("drop table") && !sql.contains("prod-01"),
        "{sql}"
    );
    assert_eq!(params.len(), 6);
    assert!(sql.contains("$6") && !sql.contains("$7"), "{sql}");
    let (sql, _) = rows_sql(&Filter::default(), false);
    assert!(
        sql.starts_with("WITH latest") && !sql.contains("WHERE i."),
        "{sql}"
    );
}
