//! Accounts: what discovery finds and everything downstream works on.
//!
//! Not for finding accounts (see [`crate::discover`]) nor for entering them (see
//! [`crate::auth`]): the type, its checks and its folder name only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One AWS account to scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// 12-digit account id.
    pub id: String,
    /// Account name (Organizations), or the id when unknown.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Organizations status (`ACTIVE`...), `UNKNOWN` outside Organizations.
    pub status: String,
    /// `aws`, `aws-cn`, `aws-us-gov`.
    pub partition: String,
    /// The organization id (`o-...`) when found through Organizations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// The organization's management account id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management_account_id: Option<String>,
    /// Parent OU id (`ou-...` or the root `r-...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ou_id: Option<String>,
    /// OU path from the root, names joined with `/`: `Root/Workloads/Prod`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ou_path: Option<String>,
    /// Account tags (Organizations ListTagsForResource).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// The role to assume in this account, when the source named one (role-ARN list
    /// mode); otherwise built from `--role-name` / `--role-arn-template`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// True for the account the caller's credentials belong to: scanned with the base
    /// credentials, no role assumed.
    #[serde(default)]
    pub is_caller: bool,
    /// Where the account came from: `organizations`, `role-arns`, `caller`, `tenants`.
    pub source: String,
}

/// The most characters of an account name kept in its folder name: with the id and the
/// `-`, folder names stay far below the 255 bytes file systems allow.
pub const MAX_DIR_NAME_CHARS: usize = 100;

impl Account {
    /// An account known only by its id, from `source` (`caller`, `accounts`,
    /// `role-arns`), entered through `role_arn` when the source names one.
    pub fn plain(id: &str, partition: &str, role_arn: Option<String>, source: &str) -> Account {
        Account {
            id: id.to_string(),
            name: id.to_string(),
            email: None,
            status: "UNKNOWN".to_string(),
            partition: partition.to_string(),
            org_id: None,
            management_account_id: None,
            ou_id: None,
            ou_path: None,
            tags: BTreeMap::new(),
            role_arn,
            is_caller: false,
            source: source.to_string(),
        }
    }

    /// `<id>-<name>`: the account's folder in the output tree. Only ASCII letters,
    /// digits, `-`, `_` and `.` are kept (anything else, `/` and control characters
    /// included, becomes `_`), the name is cut to [`MAX_DIR_NAME_CHARS`] and loses
    /// trailing dots. The 12-digit id first makes every folder name unique, never `.`,
    /// `..` or a reserved device name, and never a path. (Ids are checked where they
    /// enter; an id that is not 12 digits is still made harmless here.)
    pub fn dir_name(&self) -> String {
        let id = safe_id(&self.id);
        let mut name: String = self
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .take(MAX_DIR_NAME_CHARS)
            .collect();
        name.truncate(name.trim_end_matches('.').len());
        if name.is_empty() || name == id {
            id
        } else {
            format!("{id}-{name}")
        }
    }
}

/// Whether `s` is a 12-digit account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Checks an account id that came from data (an Organizations answer, a plan file):
/// exactly 12 ASCII digits.
pub fn check_id(id: &str) -> Result<(), String> {
    if is_account_id(id) {
        Ok(())
    } else {
        Err(format!(
            "account id {} is not 12 digits",
            crate::util::print::escape(&id.chars().take(40).collect::<String>())
        ))
    }
}

/// The id as a file name: itself when it is 12 digits, else only its ASCII letters and
/// digits (others become `_`), cut to 40, `_` when empty.
pub fn safe_id(id: &str) -> String {
    if is_account_id(id) {
        return id.to_string();
    }
    let s: String = id
        .chars()
        .take(40)
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if s.is_empty() {
        "_".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: &str, name: &str) -> Account {
        Account {
            id: id.into(),
            name: name.into(),
            email: None,
            status: "ACTIVE".into(),
            partition: "aws".into(),
            org_id: None,
            management_account_id: None,
            ou_id: None,
            ou_path: None,
            tags: BTreeMap::new(),
            role_arn: None,
            is_caller: false,
            source: "organizations".into(),
        }
    }

    #[test]
    fn folder_names_are_plain_and_short() {
        assert_eq!(
            account("123456789012", "Prod").dir_name(),
            "123456789012-Prod"
        );
        assert_eq!(
            account("123456789012", "123456789012").dir_name(),
            "123456789012"
        );
        assert_eq!(
            account("123456789012", "../../etc").dir_name(),
            "123456789012-.._.._etc"
        );
        assert_eq!(account("123456789012", "..").dir_name(), "123456789012");
        assert_eq!(
            account("123456789012", "a\x1b]0;x\x07\nb").dir_name(),
            "123456789012-a__0_x__b"
        );
        let long = account("123456789012", &"n".repeat(300)).dir_name();
        assert_eq!(long.len(), 12 + 1 + MAX_DIR_NAME_CHARS);
        assert_eq!(
            account("../../../tmp/x", "x").dir_name(),
            "_________tmp_x-x"
        );
        assert_eq!(account("", "").dir_name(), "_");
        for name in ["a/b", "CON", "nul", "..", ".", "a\0b"] {
            let d = account("123456789012", name).dir_name();
            assert!(d.starts_with("123456789012") && !d.contains('/'), "{d}");
        }
    }

    #[test]
    fn ids_checked() {
        assert!(check_id("123456789012").is_ok());
        for bad in [
            "12345678901",
            "1234567890123",
            "../../../tmp",
            "12345678901a",
            "１２３",
        ] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
    }
}
