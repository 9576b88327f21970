//! `census iam`: the documents it prints are valid for the tools that take them.
//! Templates (YAML and JSON) and the policies (inside a template that uses them) pass
//! cfn-lint (pinned in crates/testkit/python/requirements.txt, run from the test kit's
//! venv); moto's CloudFormation deploys the template and IAM takes the policies.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};
use testkit::{boto3_call, cli_command, Caller, Moto, TempDir};

const OIDC: &str =
    "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/5C8E1F0A2B";
const ISSUER: &str = "oidc.eks.eu-west-1.amazonaws.com/id/5C8E1F0A2B";

fn census(dir: &Path, args: &[&str]) -> Output {
    // No AWS call is made: the endpoint is never used.
    cli_command(env!("CARGO_BIN_EXE_census"), "http://127.0.0.1:9")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn json_out(dir: &Path, args: &[&str]) -> Value {
    let text = ok(&census(dir, args));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// cfn-lint from the test kit's venv, next to its Python.
fn cfn_lint() -> PathBuf {
    let python = testkit::python_path();
    let bin = python.parent().unwrap().join("cfn-lint");
    assert!(
        bin.exists(),
        "cfn-lint is missing at {}: run scripts/setup-python.sh (it is pinned in crates/testkit/python/requirements.txt)",
        bin.display()
    );
    bin
}

/// Runs cfn-lint on the files; asserts no error, warning or informational finding.
fn lint(files: &[&Path]) {
    let out = Command::new(cfn_lint())
        .args(files)
        .env("NO_PROXY", "*")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "cfn-lint {files:?}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn cfn_lint_does_reject_a_broken_template() {
    // The control for the tests above: a role whose trust policy has a bad action and
    // an unknown property fails.
    let dir = TempDir::new("census-iam-control");
    let file = dir.join("broken.json");
    let broken = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                 "Action": "sts:AssumeRole", "Conditions": {}}]},
            "MaxSessionDurationSeconds": 3600,
        }}},
    });
    std::fs::write(&file, broken.to_string()).unwrap();
    let out = Command::new(cfn_lint()).arg(&file).output().unwrap();
    assert_ne!(
        out.status.code(),
        Some(0),
        "cfn-lint passed a broken template"
    );
}

/// A YAML file read by PyYAML's safe loader.
fn read_yaml(path: &Path) -> Value {
    testkit::python(
        "http://127.0.0.1:9",
        "config_files.py",
        &["yaml", path.to_str().unwrap()],
        &[],
    )
}

#[test]
fn templates_pass_cfn_lint_in_yaml_and_json() {
    let dir = TempDir::new("census-iam-templates");
    let variants: [&[&str]; 3] = [
        &["--trusted-account", "111122223333"],
        &[
            "--trusted-principal",
            "arn:aws:iam::111122223333:role/ops/CensusRunner",
            "--trusted-account",
            "444455556666",
            "--external-id",
            "census-ext-42",
            "--oidc-provider-arn",
            OIDC,
            "--oidc-subject",
            "system:serviceaccount:census:*",
            "--policy",
            "SecurityAudit",
            "--role-name",
            "census/Reader",
            "--max-session-duration",
            "7200",
        ],
        &["--oidc-provider-arn", OIDC, "--partition", "aws-us-gov"],
    ];
    for (i, flags) in variants.iter().enumerate() {
        let mut files = Vec::new();
        for format in ["yaml", "json"] {
            let file = dir.join(format!("member-{i}.{format}"));
            let mut args = vec!["iam", "member-role-template", "--format", format, "-o"];
            args.push(file.to_str().unwrap());
            args.extend(flags.iter());
            ok(&census(&dir, &args));
            files.push(file);
        }
        lint(&files.iter().map(PathBuf::as_path).collect::<Vec<_>>());
        // The YAML and the JSON say the same.
        let json: Value =
            serde_json::from_str(&std::fs::read_to_string(&files[1]).unwrap()).unwrap();
        assert_eq!(read_yaml(&files[0]), json, "variant {i}");
        assert_eq!(json["AWSTemplateFormatVersion"], "2010-09-09");
    }
    // The second variant in detail.
    let t: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("member-1.json")).unwrap()).unwrap();
    let p = &t["Parameters"];
    assert_eq!(p["RoleName"]["Default"], "Reader");
    assert_eq!(p["RolePath"]["Default"], "/census/");
    assert_eq!(p["ManagedPolicy"]["Default"], "SecurityAudit");
    assert_eq!(p["MaxSessionDuration"]["Default"], 7200);
    assert_eq!(p["ExternalId"]["Default"], "census-ext-42");
    assert_eq!(
        p["TrustedPrincipals"]["Default"],
        "arn:aws:iam::444455556666:root,arn:aws:iam::111122223333:role/ops/CensusRunner"
    );
    let statements =
        &t["Resources"]["MemberRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"];
    assert_eq!(statements[1]["Action"], "sts:AssumeRoleWithWebIdentity");
    assert_eq!(
        statements[1]["Condition"]["StringLike"][format!("{ISSUER}:sub")],
        json!({"Ref": "OidcSubject"})
    );
    // Nothing account-specific is fixed: every account of a StackSet gets its own.
    let text = std::fs::read_to_string(dir.join("member-1.json")).unwrap();
    assert!(!text.contains("123456789012"), "{text}");
}

#[test]
fn policies_pass_cfn_lint_and_iam_takes_them() {
    let dir = TempDir::new("census-iam-policies");
    let management = json_out(
        &dir,
        &[
            "iam",
            "management-policy",
            "--role-name",
            "CensusReader",
            "--org-role-arn",
            "arn:aws:iam::210987654321:role/OrganizationAccountAccessRole",
        ],
    );
    let actions: Vec<&str> = management["Statement"][0]["Action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"organizations:ListAccounts"),
        "{actions:?}"
    );
    assert_eq!(
        management["Statement"][1]["Resource"],
        "arn:aws:iam::*:role/CensusReader"
    );
    assert_eq!(
        management["Statement"][2]["Resource"],
        json!(["arn:aws:iam::210987654321:role/OrganizationAccountAccessRole"])
    );
    let templated = json_out(
        &dir,
        &[
            "iam",
            "management-policy",
            "--role-arn-template",
            "arn:{partition}:iam::{account_id}:role/audit/{role_name}",
            "--partition",
            "aws-cn",
        ],
    );
    assert_eq!(
        templated["Statement"][1]["Resource"],
        "arn:aws-cn:iam::*:role/audit/CensusReadOnly"
    );
    let trust = json_out(
        &dir,
        &[
            "iam",
            "trust-policy",
            "--trusted-account",
            "111122223333",
            "--external-id",
            "census-ext-42",
            "--oidc-provider-arn",
            OIDC,
        ],
    );
    assert_eq!(
        trust["Statement"][0]["Principal"]["AWS"],
        json!(["arn:aws:iam::111122223333:root"])
    );
    assert_eq!(
        trust["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"],
        "census-ext-42"
    );
    assert_eq!(trust["Statement"][1]["Principal"]["Federated"], OIDC);
    assert_eq!(
        trust["Statement"][1]["Condition"]["StringEquals"][format!("{ISSUER}:sub")],
        "system:serviceaccount:census:census"
    );

    // cfn-lint checks IAM policy documents inside a template.
    let wrapper = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "CensusManagement": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {"PolicyDocument": management},
            },
            "CensusTemplated": {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {"PolicyDocument": templated},
            },
            "CensusMember": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": trust,
                    "ManagedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
                },
            },
        },
    });
    let file = dir.join("policies.json");
    std::fs::write(&file, serde_json::to_string_pretty(&wrapper).unwrap()).unwrap();
    lint(&[&file]);

    // IAM (moto's, which checks policy grammar) takes them.
    let moto = Moto::start();
    let ep = moto.endpoint();
    let made = boto3_call(
        &ep,
        &Caller::management(),
        "iam",
        "CreatePolicy",
        &json!({"PolicyName": "census-management", "PolicyDocument": management.to_string()}),
        false,
    );
    assert_eq!(made["Policy"]["PolicyName"], "census-management");
    let role = boto3_call(
        &ep,
        &Caller::management(),
        "iam",
        "CreateRole",
        &json!({"RoleName": "CensusReadOnly", "AssumeRolePolicyDocument": trust.to_string()}),
        false,
    );
    assert_eq!(role["Role"]["RoleName"], "CensusReadOnly");
}

#[test]
fn cloudformation_deploys_the_yaml_template() {
    let dir = TempDir::new("census-iam-deploy");
    let file = dir.join("member-role.yaml");
    ok(&census(
        &dir,
        &[
            "iam",
            "member-role-template",
            "--trusted-account",
            "111122223333",
            "--external-id",
            "census-ext-42",
            "-o",
            file.to_str().unwrap(),
        ],
    ));
    let moto = Moto::start();
    let ep = moto.endpoint();
    let member = Caller::member("222233334444");
    boto3_call(
        &ep,
        &member,
        "cloudformation",
        "CreateStack",
        &json!({
            "StackName": "census-member-role",
            "TemplateBody": std::fs::read_to_string(&file).unwrap(),
            "Capabilities": ["CAPABILITY_NAMED_IAM"],
            "Parameters": [{"ParameterKey": "RoleName", "ParameterValue": "CensusReader"}],
        }),
        false,
    );
    let stack = boto3_call(
        &ep,
        &member,
        "cloudformation",
        "DescribeStacks",
        &json!({"StackName": "census-member-role"}),
        false,
    );
    assert_eq!(
        stack["Stacks"][0]["StackStatus"], "CREATE_COMPLETE",
        "{stack}"
    );
    assert_eq!(
        stack["Stacks"][0]["Outputs"][0]["OutputValue"],
        "arn:aws:iam::222233334444:role/CensusReader"
    );
    let role = boto3_call(
        &ep,
        &member,
        "iam",
        "GetRole",
        &json!({"RoleName": "CensusReader"}),
        false,
    );
    // boto3 gives the document decoded, as an object.
    let trust = &role["Role"]["AssumeRolePolicyDocument"];
    assert_eq!(
        trust["Statement"][0]["Principal"]["AWS"],
        json!("arn:aws:iam::111122223333:root")
    );
    assert_eq!(
        trust["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"],
        "census-ext-42"
    );
}

#[test]
fn bad_parameters_get_one_line_errors() {
    let dir = TempDir::new("census-iam-errors");
    let cases: [(&[&str], &str); 9] = [
        (
            &["trust-policy", "--trusted-account", "12345"],
            "--trusted-account: \"12345\" is not an AWS account id",
        ),
        (
            &["trust-policy", "--trusted-principal", "arn:aws:iam::123456789012:group/ops"],
            "--trusted-principal: \"arn:aws:iam::123456789012:group/ops\"",
        ),
        (
            &["trust-policy", "--trusted-principal", "123456789012"],
            "pass it with --trusted-account",
        ),
        (&["trust-policy"], "nobody would be trusted"),
        (
            &["trust-policy", "--oidc-provider-arn", "arn:aws:iam::123456789012:role/x"],
            "--oidc-provider-arn: \"arn:aws:iam::123456789012:role/x\" is not an IAM OIDC provider ARN",
        ),
        (
            &["trust-policy", "--oidc-provider-arn", OIDC, "--external-id", "x-1"],
            "--external-id applies to --trusted-account",
        ),
        (
            &["member-role-template", "--trusted-account", "111122223333", "--role-name", "bad name!"],
            "--role-name: \"bad name!\"",
        ),
        (
            &["member-role-template", "--trusted-account", "111122223333", "--max-session-duration", "60"],
            "--max-session-duration: 60 s",
        ),
        (
            &["management-policy", "--org-role-arn", "arn:aws:iam::123:role/x"],
            "--org-role-arn: \"arn:aws:iam::123:role/x\"",
        ),
    ];
    for (args, want) in cases {
        let mut all = vec!["iam"];
        all.extend(args);
        let out = census(&dir, &all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn all_writes_every_document() {
    let dir = TempDir::new("census-iam-all");
    let out = ok(&census(
        &dir,
        &[
            "iam",
            "all",
            "--trusted-account",
            "111122223333",
            "--output-dir",
            "iam",
        ],
    ));
    let files: Vec<&str> = out.lines().collect();
    assert_eq!(files.len(), 4, "{out}");
    for name in [
        "management-policy.json",
        "member-trust-policy.json",
        "member-role.yaml",
        "member-role.json",
    ] {
        assert!(dir.join("iam").join(name).is_file(), "{name}");
    }
    lint(&[&dir.join("iam/member-role.yaml")]);
}
