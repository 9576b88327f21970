//! IAM role ARNs and role names: parsing and validation with one-line explanations.

use std::fmt;

// What an account id is belongs to the account type; ARNs only check theirs with it.
pub use crate::account::is_account_id;

/// The partitions an ARN may name.
pub const PARTITIONS: &[&str] = &[
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// A parsed IAM role ARN: `arn:<partition>:iam::<account id>:role/<path/><name>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoleArn {
    pub partition: String,
    pub account_id: String,
    /// The role's name, without its path.
    pub name: String,
    /// The path between `role/` and the name, `""` or `team/ops/`.
    pub path: String,
}

impl fmt::Display for RoleArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:iam::{}:role/{}{}",
            self.partition, self.account_id, self.path, self.name
        )
    }
}

impl RoleArn {
    /// Parses a role ARN. The error says what is wrong and how a role ARN is written
    /// (it does not repeat the value: the caller names it).
    pub fn parse(s: &str) -> Result<RoleArn, String> {
        const FIX: &str = "write it as arn:aws:iam::123456789012:role/RoleName";
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        if parts.len() != 6 || parts[0] != "arn" {
            return Err(format!("is not an ARN; {FIX}"));
        }
        let (partition, service, region, account, resource) =
            (parts[1], parts[2], parts[3], parts[4], parts[5]);
        if !PARTITIONS.contains(&partition) {
            return Err(format!(
                "names an unknown partition {partition:?} (known: {}); {FIX}",
                PARTITIONS.join(", ")
            ));
        }
        if service == "sts" && resource.starts_with("assumed-role/") {
            let role = resource.split('/').nth(1).unwrap_or("RoleName");
            return Err(format!(
                "is an assumed-role session, not a role; use the role's ARN, arn:{partition}:iam::{account}:role/{role}"
            ));
        }
        if service != "iam" {
            return Err(format!("is a {service} ARN, not an IAM role; {FIX}"));
        }
        if !region.is_empty() {
            return Err(format!(
                "has a region ({region}); IAM ARNs have none: arn:{partition}:iam::{account}:{resource}"
            ));
        }
        if !is_account_id(account) {
            return Err(format!(
                "has {account:?} where the 12-digit account id belongs; {FIX}"
            ));
        }
        let Some(role) = resource.strip_prefix("role/") else {
            let kind = resource.split('/').next().unwrap_or(resource);
            return Err(format!("names an IAM {kind}, not a role; {FIX}"));
        };
        let (path, name) = match role.rsplit_once('/') {
            Some((path, name)) => (format!("{path}/"), name),
            None => (String::new(), role),
        };
        check_role_name(name).map_err(|e| format!("has a bad role name: {e}"))?;
        if path
            .split('/')
            .any(|seg| !seg.is_empty() && !seg.chars().all(is_name_char))
        {
            return Err(format!("has a bad role path {path:?}; {FIX}"));
        }
        Ok(RoleArn {
            partition: partition.to_string(),
            account_id: account.to_string(),
            name: name.to_string(),
            path,
        })
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)
}

/// Checks a role name (1 to 64 of `A-Za-z0-9+=,.@_-`), optionally with a path in front
/// (`team/ops/Reader`).
pub fn check_role_name(name: &str) -> Result<(), String> {
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.is_empty() || last.len() > 64 {
        return Err(format!(
            "{name:?} is not a role name (1 to 64 characters, such as OrganizationAccountAccessRole)"
        ));
    }
    if let Some(c) = name.chars().find(|&c| c != '/' && !is_name_char(c)) {
        return Err(format!(
            "{name:?} has {c:?}, which role names cannot hold (letters, digits and +=,.@_- only)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_role_arns() {
        let a = RoleArn::parse("arn:aws:iam::123456789012:role/Audit").unwrap();
        assert_eq!(
            (a.partition.as_str(), a.account_id.as_str()),
            ("aws", "123456789012")
        );
        assert_eq!((a.name.as_str(), a.path.as_str()), ("Audit", ""));
        let a = RoleArn::parse("arn:aws-us-gov:iam::123456789012:role/ops/team/Reader").unwrap();
        assert_eq!(a.path, "ops/team/");
        assert_eq!(
            a.to_string(),
            "arn:aws-us-gov:iam::123456789012:role/ops/team/Reader"
        );
    }

    #[test]
    fn explains_bad_arns() {
        let cases = [
            ("123456789012", "is not an ARN"),
            ("arn:aws:iam::12345:role/X", "12-digit account id"),
            ("arn:awz:iam::123456789012:role/X", "unknown partition"),
            (
                "arn:aws:sts::123456789012:assumed-role/Admin/me",
                "arn:aws:iam::123456789012:role/Admin",
            ),
            ("arn:aws:iam::123456789012:user/bob", "names an IAM user"),
            ("arn:aws:iam:us-east-1:123456789012:role/X", "has a region"),
            ("arn:aws:s3:::bucket", "is a s3 ARN"),
            (
                "arn:aws:iam::123456789012:role/a b",
                "role names cannot hold",
            ),
        ];
        for (arn, want) in cases {
            let e = RoleArn::parse(arn).unwrap_err();
            assert!(e.contains(want), "{arn}: {e}");
        }
    }
}
