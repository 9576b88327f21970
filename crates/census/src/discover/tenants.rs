//! The tenants table: a DynamoDB table with one item per organization to report on,
//! which says how to enter it and what to call it.
//!
//! Attributes read (names configurable, defaults in [`Columns::default`]):
//! - `org_role_arn`: the role to enter the organization through, usually in its
//!   management account; or, when absent,
//! - `management_account_id`: the management account, entered through the role named
//!   by `--role-name` / `CROSS_ACCOUNT_ROLE_NAME` (default
//!   `OrganizationAccountAccessRole`);
//! - `tenant_name` and `tenant_id`: copied into the Tenant_Name and Tenant_ID columns.
//!
//! Values may be strings or numbers (a 12-digit account id stored as a number gets its
//! leading zeros back). The table is read with a paginated Scan through awsdyn.
//!
//! Not for reading the organizations it lists: [`crate::discover::discover`] does that,
//! through the roles this gives.

use std::collections::BTreeMap;

use awsdyn::client::{Client, Target};
use serde_json::{json, Value};

use crate::auth::{Base, RoleArn};

/// The tenants table's attribute names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    /// The organization role's ARN (`--tenant-role-arn-attribute`).
    pub role_arn: String,
    /// The management account id (`--tenant-management-account-attribute`).
    pub management_account: String,
    /// `--tenant-name-attribute`.
    pub tenant_name: String,
    /// `--tenant-id-attribute`.
    pub tenant_id: String,
}

impl Default for Columns {
    fn default() -> Self {
        Columns {
            role_arn: "org_role_arn".into(),
            management_account: "management_account_id".into(),
            tenant_name: "tenant_name".into(),
            tenant_id: "tenant_id".into(),
        }
    }
}

/// One organization from the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    /// The role to enter the organization through.
    pub role_arn: RoleArn,
}

/// What the table gave: the tenants (sorted by id, then name), and the items that could
/// not be used, each explained on one line.
#[derive(Debug, Default)]
pub struct Tenants {
    pub tenants: Vec<Tenant>,
    pub problems: Vec<String>,
}

/// Where the table is and how to read it.
pub struct Source<'a> {
    pub table: &'a str,
    pub region: String,
    pub columns: &'a Columns,
    /// The role name to build role ARNs from management account ids with.
    pub role_name: &'a str,
    /// The caller's partition (for built role ARNs).
    pub partition: &'a str,
}

/// Reads the whole table. `Err` (one sentence, with the fix) when it cannot be read at
/// all; items that cannot be used are [`Tenants::problems`].
pub async fn read(client: &Client, base: &Base, source: &Source<'_>) -> Result<Tenants, String> {
    let target = Target::new(source.region.clone(), base.credentials.clone())
        .with_endpoints(base.endpoints.clone())
        .with_label("tenants");
    let out = client
        .call_all(&target, "dynamodb", "Scan", &json!({ "TableName": source.table }))
        .await
        .map_err(|e| {
            let fix = match e.code() {
                "ResourceNotFoundException" => format!(
                    "check --tenants-table (or DYNAMO_TABLE_NAME) and --tenants-region (the table is looked for in {})",
                    source.region
                ),
                c if c.starts_with("AccessDenied") => {
                    "grant dynamodb:Scan on the table to the identity running census".to_string()
                }
                _ => "see the AWS error".to_string(),
            };
            crate::auth::one_line(&format!(
                "cannot read the tenants table {} in {}: {e}; {fix}",
                source.table, source.region
            ))
        })?;
    let items = out["Items"].as_array().cloned().unwrap_or_default();
    Ok(from_items(&items, source))
}

/// Turns scanned items into tenants.
pub fn from_items(items: &[Value], source: &Source<'_>) -> Tenants {
    let c = source.columns;
    let mut out = Tenants::default();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for item in items {
        let get = |name: &str| -> Result<Option<String>, String> { attribute(item, name) };
        let id = get(&c.tenant_id);
        let name = get(&c.tenant_name);
        let role = get(&c.role_arn);
        let management = get(&c.management_account);
        let label = match (&id, &name) {
            (Ok(Some(id)), _) => format!("{} {id:?}", c.tenant_id),
            (_, Ok(Some(name))) => format!("{} {name:?}", c.tenant_name),
            _ => format!("item {}", compact(item)),
        };
        let scope = format!("tenants table {}, {label}", source.table);
        let result = (|| -> Result<Tenant, String> {
            let id = id?.unwrap_or_default();
            let name = name?.unwrap_or_default();
            let role_arn = match (role?, management?) {
                (Some(arn), _) => RoleArn::parse(&arn).map_err(|e| {
                    format!("attribute {} = {arn:?} {e}", c.role_arn)
                })?,
                (None, Some(account)) => {
                    // Stored as a number, it lost its leading zeros; a string keeps them.
                    let number = item[&c.management_account].get("N").is_some();
                    let account = if number {
                        pad_account_id(&account)
                    } else {
                        account
                    };
                    if !crate::auth::is_account_id(&account) {
                        return Err(format!(
                            "attribute {} = {account:?} is not a 12-digit account id",
                            c.management_account
                        ));
                    }
                    let arn = format!(
                        "arn:{}:iam::{account}:role/{}",
                        source.partition, source.role_name
                    );
                    RoleArn::parse(&arn).map_err(|e| format!("the role ARN {arn:?} {e}"))?
                }
                (None, None) => {
                    return Err(format!(
                        "has neither {} nor {}: add one, or rename the attributes census reads with --tenant-role-arn-attribute / --tenant-management-account-attribute",
                        c.role_arn, c.management_account
                    ))
                }
            };
            Ok(Tenant { id, name, role_arn })
        })();
        match result {
            Ok(t) => {
                let key = t.role_arn.to_string();
                if let Some(first) = seen.get(&key) {
                    out.problems.push(format!(
                        "{scope}: enters the same organization role as {first} ({key}); only the first is reported"
                    ));
                    continue;
                }
                seen.insert(key, label);
                out.tenants.push(t);
            }
            Err(e) => out
                .problems
                .push(format!("{scope}: {e}; the item is skipped")),
        }
    }
    out.tenants
        .sort_by(|a, b| a.id.cmp(&b.id).then(a.name.cmp(&b.name)));
    out
}

/// A string or number attribute of a DynamoDB item (boto3-shaped attribute values).
fn attribute(item: &Value, name: &str) -> Result<Option<String>, String> {
    let Some(v) = item.get(name) else {
        return Ok(None);
    };
    if let Some(s) = v.get("S").and_then(Value::as_str) {
        return Ok((!s.trim().is_empty()).then(|| s.trim().to_string()));
    }
    if let Some(n) = v.get("N").and_then(Value::as_str) {
        return Ok(Some(n.to_string()));
    }
    if v.get("NULL").is_some() {
        return Ok(None);
    }
    let kind = v
        .as_object()
        .and_then(|o| o.keys().next().cloned())
        .unwrap_or_else(|| "?".into());
    Err(format!(
        "attribute {name} is of DynamoDB type {kind}; a string (S) or number (N) is expected"
    ))
}

/// An account id stored as a number loses its leading zeros; give them back.
fn pad_account_id(s: &str) -> String {
    if !s.is_empty() && s.len() < 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        format!("{s:0>12}")
    } else {
        s.to_string()
    }
}

/// An item on one short line, for messages.
fn compact(item: &Value) -> String {
    let s = item.to_string();
    if s.len() > 120 {
        let cut = (0..=117)
            .rev()
            .find(|i| s.is_char_boundary(*i))
            .unwrap_or(0);
        format!("{}...", &s[..cut])
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items() {
        let columns = Columns::default();
        let source = Source {
            table: "tenants",
            region: "us-east-1".into(),
            columns: &columns,
            role_name: "OrganizationAccountAccessRole",
            partition: "aws",
        };
        let items = vec![
            json!({"tenant_id": {"S": "t-2"}, "tenant_name": {"S": "Beta"},
                   "org_role_arn": {"S": "arn:aws:iam::210987654321:role/Audit"}}),
            json!({"tenant_id": {"N": "1"}, "tenant_name": {"S": "Acme"},
                   "management_account_id": {"N": "23456789012"}}),
            json!({"tenant_id": {"S": "t-3"}}),
            json!({"tenant_id": {"S": "t-4"}, "management_account_id": {"S": "12345"}}),
            json!({"tenant_id": {"S": "t-5"}, "org_role_arn": {"L": []}}),
            json!({"tenant_id": {"S": "t-6"}, "org_role_arn": {"S": "arn:aws:iam::210987654321:role/Audit"}}),
        ];
        let t = from_items(&items, &source);
        assert_eq!(t.tenants.len(), 2, "{:?}", t.problems);
        assert_eq!(t.tenants[0].id, "1");
        assert_eq!(
            t.tenants[0].role_arn.to_string(),
            "arn:aws:iam::023456789012:role/OrganizationAccountAccessRole"
        );
        assert_eq!(t.tenants[1].name, "Beta");
        assert_eq!(t.problems.len(), 4, "{:?}", t.problems);
        assert!(
            t.problems[0]
                .contains("tenant_id \"t-3\": has neither org_role_arn nor management_account_id"),
            "{}",
            t.problems[0]
        );
        assert!(
            t.problems[1].contains("is not a 12-digit account id"),
            "{}",
            t.problems[1]
        );
        assert!(t.problems[2].contains("type L"), "{}", t.problems[2]);
        assert!(
            t.problems[3].contains("only the first is reported"),
            "{}",
            t.problems[3]
        );
    }
}
