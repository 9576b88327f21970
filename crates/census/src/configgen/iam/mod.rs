//! `census iam`: the IAM documents a Census set-up needs, printed (or written) for the
//! user to apply with their own tools.
//!
//! - `management-policy`: for the identity Census runs as (and for every
//!   `--org-role-arn` role): read the organization (the Organizations calls discovery
//!   makes) and assume the member role in any account (and the organization roles).
//! - `trust-policy`: the member role's trust policy: the accounts or principals Census
//!   runs as (AssumeRole, optionally only with an external ID) and/or an OIDC provider
//!   (AssumeRoleWithWebIdentity, for IRSA-style `--web-identity`).
//! - `member-role-template`: a CloudFormation template that creates the member role
//!   with the trust above and ReadOnlyAccess or SecurityAudit attached. Everything
//!   account-specific is a parameter or a pseudo parameter, so one template serves a
//!   StackSet over every account.
//! - `all`: the three (the template in YAML and JSON) written to a folder.
//!
//! Every parameter is checked first; an error names the flag, the value and the fix.
//!
//! Not for applying anything: Census never calls IAM or CloudFormation; it prints the
//! documents for the user's own tools.

mod yaml;

use std::io::Write;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Map, Value};

pub use yaml::to_yaml;

use crate::auth::{check_role_name, is_account_id, is_external_id, RoleArn, PARTITIONS};
pub use crate::cli::iam::{
    AllFlags, Format, IamCommand, ManagedPolicy, ManagementFlags, MemberRoleFlags, RoleSettings,
    TemplateFlags, TrustFlags, TrustPolicyFlags,
};

/// The member role's name when none is given (`--role-name` or `ORG_ROLE_NAME`).
pub const DEFAULT_MEMBER_ROLE: &str = "CensusReadOnly";

/// The Organizations actions discovery calls.
pub const ORGANIZATIONS_ACTIONS: &[&str] = &[
    "organizations:DescribeOrganization",
    "organizations:ListAccounts",
    "organizations:ListAccountsForParent",
    "organizations:ListOrganizationalUnitsForParent",
    "organizations:ListRoots",
    "organizations:ListTagsForResource",
];

/// A member role name split into IAM's path and name.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RoleName {
    /// `/` or `/team/`.
    path: String,
    name: String,
}

fn role_name(given: Option<&str>) -> Result<RoleName> {
    let given = given.unwrap_or(DEFAULT_MEMBER_ROLE);
    check_role_name(given)
        .map_err(|e| anyhow!("--role-name: {e}; pass the role's name, such as CensusReadOnly"))?;
    let given = given.trim_matches('/');
    Ok(match given.rsplit_once('/') {
        Some((path, name)) => RoleName {
            path: format!("/{path}/"),
            name: name.to_string(),
        },
        None => RoleName {
            path: "/".into(),
            name: given.to_string(),
        },
    })
}

fn check_partition(p: &str) -> Result<()> {
    if PARTITIONS.contains(&p) {
        Ok(())
    } else {
        bail!(
            "--partition: {p:?} is not a partition; use one of {}",
            PARTITIONS.join(", ")
        )
    }
}

/// A principal a trust policy may name: a role, a user, or an account root.
fn check_principal(arn: &str) -> Result<(), String> {
    if RoleArn::parse(arn).is_ok() {
        return Ok(());
    }
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() == 6
        && parts[0] == "arn"
        && PARTITIONS.contains(&parts[1])
        && parts[2] == "iam"
        && parts[3].is_empty()
        && is_account_id(parts[4])
    {
        let resource = parts[5];
        if resource == "root" {
            return Ok(());
        }
        if let Some(user) = resource.strip_prefix("user/") {
            if check_role_name(user).is_ok() {
                return Ok(());
            }
        }
    }
    if is_account_id(arn) {
        return Err("is an account id: pass it with --trusted-account".into());
    }
    // The role ARN parser explains best what is wrong.
    Err(RoleArn::parse(arn)
        .err()
        .unwrap_or_default()
        .replace("an IAM role", "an IAM role, user or account root"))
}

/// The OIDC issuer (host and path) an `oidc-provider` ARN names.
fn oidc_issuer(arn: &str) -> Result<String> {
    const FIX: &str = "write it as arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE (aws iam list-open-id-connect-providers lists them)";
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let issuer = (parts.len() == 6
        && parts[0] == "arn"
        && PARTITIONS.contains(&parts[1])
        && parts[2] == "iam"
        && parts[3].is_empty()
        && is_account_id(parts[4]))
    .then(|| parts[5].strip_prefix("oidc-provider/"))
    .flatten()
    .filter(|i| {
        !i.is_empty()
            && !i.starts_with('/')
            && i.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._/".contains(c))
    });
    issuer.map(str::to_string).ok_or_else(|| {
        anyhow!("--oidc-provider-arn: {arn:?} is not an IAM OIDC provider ARN; {FIX}")
    })
}

/// The trust, checked.
struct Trust {
    principals: Vec<String>,
    external_id: Option<String>,
    /// (provider ARN, issuer).
    oidc: Option<(String, String)>,
    subject: String,
    audience: String,
}

impl TrustFlags {
    fn check(&self) -> Result<Trust> {
        check_partition(&self.partition)?;
        let mut principals = Vec::new();
        for id in &self.trusted_accounts {
            crate::discover::check(crate::discover::ListKind::AccountIds, id)
                .map_err(|e| anyhow!("--trusted-account: {id:?} {e}"))?;
            principals.push(format!("arn:{}:iam::{id}:root", self.partition));
        }
        for arn in &self.trusted_principals {
            check_principal(arn).map_err(|e| {
                anyhow!("--trusted-principal: {arn:?} {e}; write it as arn:aws:iam::123456789012:role/CensusRunner")
            })?;
            principals.push(arn.clone());
        }
        principals.dedup();
        if let Some(id) = &self.external_id {
            if !is_external_id(id) {
                bail!("--external-id: the external ID must be 2 to 1224 of A-Za-z0-9+=,.@:/_-; pass the one census scan will be given");
            }
            if principals.is_empty() {
                bail!("--external-id applies to --trusted-account and --trusted-principal: give one of them too");
            }
        }
        let oidc = match &self.oidc_provider_arn {
            Some(arn) => Some((arn.clone(), oidc_issuer(arn)?)),
            None => None,
        };
        if principals.is_empty() && oidc.is_none() {
            bail!("nobody would be trusted: give --trusted-account (the account Census runs in), --trusted-principal (the role it runs as) or --oidc-provider-arn");
        }
        let subject_ok = !self.oidc_subject.is_empty()
            && self
                .oidc_subject
                .chars()
                .all(|c| c.is_ascii_graphic() && c != '"');
        if !subject_ok {
            bail!("--oidc-subject: {:?} is not a token subject; for IRSA write system:serviceaccount:NAMESPACE:SERVICE_ACCOUNT", self.oidc_subject);
        }
        let audience_ok = !self.oidc_audience.is_empty()
            && self
                .oidc_audience
                .chars()
                .all(|c| c.is_ascii_graphic() && c != '"' && c != '*');
        if !audience_ok {
            bail!(
                "--oidc-audience: {:?} is not an audience; for IRSA it is sts.amazonaws.com",
                self.oidc_audience
            );
        }
        Ok(Trust {
            principals,
            external_id: self.external_id.clone(),
            oidc,
            subject: self.oidc_subject.clone(),
            audience: self.oidc_audience.clone(),
        })
    }
}

/// `StringLike` when the subject has wildcards, else `StringEquals`.
fn subject_operator(subject: &str) -> &'static str {
    if subject.contains(['*', '?']) {
        "StringLike"
    } else {
        "StringEquals"
    }
}

/// The member role's trust policy.
fn trust_policy(t: &Trust) -> Value {
    let mut statements = Vec::new();
    if !t.principals.is_empty() {
        let mut s = json!({
            "Sid": "CensusAssumeRole",
            "Effect": "Allow",
            "Principal": {"AWS": t.principals},
            "Action": "sts:AssumeRole",
        });
        if let Some(id) = &t.external_id {
            s["Condition"] = json!({"StringEquals": {"sts:ExternalId": id}});
        }
        statements.push(s);
    }
    if let Some((arn, issuer)) = &t.oidc {
        statements.push(oidc_statement(
            json!(arn),
            issuer,
            &t.audience,
            json!(t.subject),
            &t.subject,
        ));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn oidc_statement(
    provider: Value,
    issuer: &str,
    audience: &str,
    subject: Value,
    subject_text: &str,
) -> Value {
    let mut condition = Map::new();
    condition.insert(
        "StringEquals".into(),
        json!({ format!("{issuer}:aud"): audience }),
    );
    let op = subject_operator(subject_text);
    let entry = condition
        .entry(op)
        .or_insert_with(|| Value::Object(Map::new()));
    entry[format!("{issuer}:sub")] = subject;
    json!({
        "Sid": "CensusAssumeRoleWithWebIdentity",
        "Effect": "Allow",
        "Principal": {"Federated": provider},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": condition,
    })
}

/// The policy for the identity Census runs as.
fn management_policy(f: &ManagementFlags) -> Result<Value> {
    check_partition(&f.partition)?;
    let name = role_name(f.role.role_name.as_deref())?;
    let member = match &f.role.role_arn_template {
        Some(t) => {
            // Checked the way scan checks it, then every account.
            crate::auth::RoleOptions {
                role_name: format!("{}{}", name.path.trim_start_matches('/'), name.name),
                role_arn_template: Some(t.clone()),
                ..Default::default()
            }
            .check()?;
            t.replace("{partition}", &f.partition)
                .replace("{account_id}", "*")
                .replace("{role_name}", &name.name)
        }
        None => format!("arn:{}:iam::*:role{}{}", f.partition, name.path, name.name),
    };
    let mut statements = vec![
        json!({
            "Sid": "CensusReadOrganization",
            "Effect": "Allow",
            "Action": ORGANIZATIONS_ACTIONS,
            "Resource": "*",
        }),
        json!({
            "Sid": "CensusAssumeMemberRole",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": member,
        }),
    ];
    let mut org_roles = Vec::new();
    for arn in &f.role.org_role_arns {
        RoleArn::parse(arn).map_err(|e| anyhow!("--org-role-arn: {arn:?} {e}"))?;
        if !org_roles.contains(arn) {
            org_roles.push(arn.clone());
        }
    }
    if !org_roles.is_empty() {
        statements.push(json!({
            "Sid": "CensusEnterOrganizations",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": org_roles,
        }));
    }
    Ok(json!({"Version": "2012-10-17", "Statement": statements}))
}

/// The CloudFormation template creating the member role.
fn member_role_template(trust: &Trust, name: &RoleName, settings: &RoleSettings) -> Result<Value> {
    if !(3600..=43_200).contains(&settings.max_session_duration) {
        bail!(
            "--max-session-duration: {} s is not a maximum IAM accepts; pass 3600 (1 hour) to 43200 (12 hours)",
            settings.max_session_duration
        );
    }
    let mut parameters = Map::new();
    parameters.insert(
        "RoleName".into(),
        json!({
            "Type": "String",
            "Default": name.name,
            "AllowedPattern": "[\\w+=,.@-]{1,64}",
            "Description": "The role's name: census scan --role-name (with the path, if any, in front).",
        }),
    );
    parameters.insert(
        "RolePath".into(),
        json!({
            "Type": "String",
            "Default": name.path,
            "AllowedPattern": "/|/[\\x21-\\x7E]{0,510}/",
            "Description": "The role's path: / or /team/.",
        }),
    );
    parameters.insert(
        "ManagedPolicy".into(),
        json!({
            "Type": "String",
            "Default": settings.policy.name(),
            "AllowedValues": ["ReadOnlyAccess", "SecurityAudit"],
            "Description": "The AWS managed policy attached: ReadOnlyAccess (every read) or SecurityAudit (security configuration).",
        }),
    );
    parameters.insert(
        "MaxSessionDuration".into(),
        json!({
            "Type": "Number",
            "Default": settings.max_session_duration,
            "MinValue": 3600,
            "MaxValue": 43200,
            "Description": "The longest session, in seconds, census scan --duration may ask for.",
        }),
    );
    let mut conditions = Map::new();
    let mut resources = Map::new();
    let mut statements = Vec::new();
    if !trust.principals.is_empty() {
        parameters.insert(
            "TrustedPrincipals".into(),
            json!({
                "Type": "CommaDelimitedList",
                "Default": trust.principals.join(","),
                "Description": "Who may assume the role: the ARNs of the accounts (arn:aws:iam::ID:root) or roles Census runs as.",
            }),
        );
        parameters.insert(
            "ExternalId".into(),
            json!({
                "Type": "String",
                "Default": trust.external_id.clone().unwrap_or_default(),
                "AllowedPattern": "([\\w+=,.@:/-]{2,1224})?",
                "Description": "The external ID the principals must give (census scan --external-id); empty for none.",
            }),
        );
        conditions.insert(
            "HasExternalId".into(),
            json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "ExternalId"}, ""]}]}),
        );
        statements.push(json!({
            "Sid": "CensusAssumeRole",
            "Effect": "Allow",
            "Principal": {"AWS": {"Ref": "TrustedPrincipals"}},
            "Action": "sts:AssumeRole",
            "Condition": {"Fn::If": [
                "HasExternalId",
                {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}},
                {"Ref": "AWS::NoValue"},
            ]},
        }));
    }
    if let Some((_, issuer)) = &trust.oidc {
        parameters.insert(
            "OidcSubject".into(),
            json!({
                "Type": "String",
                "Default": trust.subject,
                "Description": "The token subject accepted, e.g. system:serviceaccount:census:census (* and ? match anything).",
            }),
        );
        parameters.insert(
            "CreateOidcProvider".into(),
            json!({
                "Type": "String",
                "Default": "false",
                "AllowedValues": ["true", "false"],
                "Description": format!("Create the OIDC provider https://{issuer} in the account (true), or use the one there (false)."),
            }),
        );
        conditions.insert(
            "CreateOidcProvider".into(),
            json!({"Fn::Equals": [{"Ref": "CreateOidcProvider"}, "true"]}),
        );
        resources.insert(
            "OidcProvider".into(),
            json!({
                "Type": "AWS::IAM::OIDCProvider",
                "Condition": "CreateOidcProvider",
                "Properties": {
                    "Url": format!("https://{issuer}"),
                    "ClientIdList": [trust.audience],
                },
            }),
        );
        let provider = json!({"Fn::If": [
            "CreateOidcProvider",
            {"Ref": "OidcProvider"},
            {"Fn::Sub": format!("arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:oidc-provider/{issuer}")},
        ]});
        statements.push(oidc_statement(
            provider,
            issuer,
            &trust.audience,
            json!({"Ref": "OidcSubject"}),
            &trust.subject,
        ));
    }
    resources.insert(
        "MemberRole".into(),
        json!({
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": {"Ref": "RoleName"},
                "Path": {"Ref": "RolePath"},
                "Description": "Read-only access for the Census inventory",
                "MaxSessionDuration": {"Ref": "MaxSessionDuration"},
                "ManagedPolicyArns": [
                    {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/${ManagedPolicy}"}
                ],
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": statements,
                },
            },
        }),
    );
    let mut template = Map::new();
    template.insert("AWSTemplateFormatVersion".into(), json!("2010-09-09"));
    template.insert(
        "Description".into(),
        json!("Census member role: read-only access for the Census inventory, assumed from the account or role Census runs as. One template for every account: deploy it as a StackSet (service-managed, to your OUs; StackSets skip the management account, so deploy it there as a stack), with CAPABILITY_NAMED_IAM."),
    );
    template.insert("Parameters".into(), Value::Object(parameters));
    if !conditions.is_empty() {
        template.insert("Conditions".into(), Value::Object(conditions));
    }
    template.insert("Resources".into(), Value::Object(resources));
    template.insert(
        "Outputs".into(),
        json!({
            "RoleArn": {
                "Description": "The member role's ARN",
                "Value": {"Fn::GetAtt": ["MemberRole", "Arn"]},
            }
        }),
    );
    Ok(Value::Object(template))
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("a JSON value serializes");
    s.push('\n');
    s
}

fn emit(output: Option<&Path>, text: &str, out: &mut dyn Write) -> Result<()> {
    match output {
        Some(path) => {
            crate::util::fs::write_atomic(path, text.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("census: wrote {}", path.display());
        }
        None => out.write_all(text.as_bytes())?,
    }
    Ok(())
}

/// Runs a `census iam` command, printing to `out` what goes to stdout.
pub fn run(command: IamCommand, out: &mut dyn Write) -> Result<()> {
    match command {
        IamCommand::ManagementPolicy(f) => {
            let policy = management_policy(&f)?;
            emit(f.output.as_deref(), &pretty(&policy), out)
        }
        IamCommand::TrustPolicy(f) => {
            let trust = f.trust.check()?;
            emit(f.output.as_deref(), &pretty(&trust_policy(&trust)), out)
        }
        IamCommand::MemberRoleTemplate(f) => {
            let trust = f.trust.check()?;
            let name = role_name(f.role_name.as_deref())?;
            let template = member_role_template(&trust, &name, &f.settings)?;
            let text = match f.format {
                Format::Yaml => to_yaml(&template),
                Format::Json => pretty(&template),
            };
            emit(f.output.as_deref(), &text, out)
        }
        IamCommand::All(f) => {
            let trust = f.trust.check()?;
            let name = role_name(f.role.role_name.as_deref())?;
            let management = management_policy(&ManagementFlags {
                role: f.role.clone(),
                partition: f.trust.partition.clone(),
                output: None,
            })?;
            let template = member_role_template(&trust, &name, &f.settings)?;
            let files = [
                ("management-policy.json", pretty(&management)),
                ("member-trust-policy.json", pretty(&trust_policy(&trust))),
                ("member-role.yaml", to_yaml(&template)),
                ("member-role.json", pretty(&template)),
            ];
            for (file, text) in files {
                let path = f.output_dir.join(file);
                crate::util::fs::write_atomic(&path, text.as_bytes())
                    .with_context(|| format!("cannot write {}", path.display()))?;
                writeln!(out, "{}", path.display())?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trust(accounts: &[&str], oidc: Option<&str>) -> TrustFlags {
        TrustFlags {
            partition: "aws".into(),
            trusted_accounts: accounts.iter().map(|s| s.to_string()).collect(),
            trusted_principals: vec![],
            external_id: None,
            oidc_provider_arn: oidc.map(str::to_string),
            oidc_subject: "system:serviceaccount:census:*".into(),
            oidc_audience: "sts.amazonaws.com".into(),
        }
    }

    #[test]
    fn role_names_split_into_path_and_name() {
        assert_eq!(
            role_name(Some("team/ops/Reader")).unwrap(),
            RoleName {
                path: "/team/ops/".into(),
                name: "Reader".into()
            }
        );
        assert_eq!(role_name(None).unwrap().name, DEFAULT_MEMBER_ROLE);
        let e = role_name(Some("bad name")).unwrap_err().to_string();
        assert!(e.starts_with("--role-name: \"bad name\""), "{e}");
    }

    #[test]
    fn principals_are_checked() {
        assert!(check_principal("arn:aws:iam::123456789012:role/x/Runner").is_ok());
        assert!(check_principal("arn:aws:iam::123456789012:user/bob").is_ok());
        assert!(check_principal("arn:aws-cn:iam::123456789012:root").is_ok());
        let e = check_principal("123456789012").unwrap_err();
        assert!(e.contains("--trusted-account"), "{e}");
        let e = check_principal("arn:aws:iam::123456789012:group/x").unwrap_err();
        assert!(e.contains("group"), "{e}");
    }

    #[test]
    fn oidc_trust_uses_the_issuer_in_its_conditions() {
        let t = trust(
            &[],
            Some("arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"),
        )
        .check()
        .unwrap();
        let p = trust_policy(&t);
        let s = &p["Statement"][0];
        assert_eq!(s["Action"], "sts:AssumeRoleWithWebIdentity");
        assert_eq!(
            s["Condition"]["StringLike"]["oidc.eks.us-east-1.amazonaws.com/id/ABC:sub"],
            "system:serviceaccount:census:*"
        );
        assert_eq!(
            s["Condition"]["StringEquals"]["oidc.eks.us-east-1.amazonaws.com/id/ABC:aud"],
            "sts.amazonaws.com"
        );
        let e = trust(&[], Some("arn:aws:iam::123456789012:role/x"))
            .check()
            .err()
            .unwrap()
            .to_string();
        assert!(e.starts_with("--oidc-provider-arn:"), "{e}");
    }

    #[test]
    fn yaml_quotes_every_string() {
        let v = json!({"A": "2010-09-09", "B": ["yes", {"C": 1, "D": {}}], "sts:x": [], "E": {"F": [[1, 2]]}});
        assert_eq!(
            to_yaml(&v),
            "A: \"2010-09-09\"\nB:\n  - \"yes\"\n  - C: 1\n    D: {}\n\"sts:x\": []\nE:\n  F:\n    - - 1\n      - 2\n"
        );
    }
}
