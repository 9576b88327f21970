//! Accounts: what discovery finds and everything downstream works on.

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

impl Account {
    /// `<id>-<name>` with characters unsafe in file names replaced: the account's
    /// folder in the output tree.
    pub fn dir_name(&self) -> String {
        let name: String = self
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if name.is_empty() || name == self.id {
            self.id.clone()
        } else {
            format!("{}-{}", self.id, name)
        }
    }
}
