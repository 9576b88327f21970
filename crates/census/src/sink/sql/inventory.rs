//! What the SQL sinks keep to write the `inventory` table (schema 3, see
//! [`crate::store`]): the facts of each operation, derived once, and each account's
//! partition, so that a list call's result becomes its [`Resource`] rows on the
//! calling thread, beside its `resources` rows. The rows themselves are made by
//! [`crate::inventory`]; the writers insert them ([`super::sqlite`], [`super::postgres`]).

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::Value;

use crate::inventory::{resources_with, FactsCache, Place, Resource};
use crate::sink::{AccountReport, CallRecord};

/// The partition of an account the sink has no report of.
pub const DEFAULT_PARTITION: &str = "aws";

/// The sink's inventory state: facts per operation, partition per account.
#[derive(Debug, Default)]
pub struct Inventory {
    facts: FactsCache,
    partitions: Mutex<HashMap<String, String>>,
}

impl Inventory {
    /// Remembers the account's partition (as the JSON tree remembers its folder).
    pub fn account(&self, report: &AccountReport) {
        let a = &report.account;
        if !a.partition.is_empty() {
            self.partitions
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(a.id.clone(), a.partition.clone());
        }
    }

    /// The partition of `account_id`: its report's, else [`DEFAULT_PARTITION`].
    pub fn partition(&self, account_id: &str) -> String {
        self.partitions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(account_id)
            .cloned()
            .unwrap_or_else(|| DEFAULT_PARTITION.to_string())
    }

    /// The inventory rows of a call's result: none for a detail call (its list call's
    /// rows stand for its items).
    pub fn rows(&self, record: &CallRecord, result: &Value) -> Vec<Resource> {
        if record.parent.is_some() {
            return Vec::new();
        }
        let facts = self.facts.get(&record.service, &record.operation);
        let partition = self.partition(&record.account_id);
        let place = Place {
            partition: &partition,
            region: &record.region,
            account_id: &record.account_id,
        };
        resources_with(&facts, &record.service, result, place)
    }
}

/// A row's tags as JSON text (`{key: value}`).
pub fn tags_json(r: &Resource) -> String {
    serde_json::to_string(&r.tags).unwrap_or_else(|_| "{}".into())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::account::Account;
    use crate::sink::Status;

    fn report(id: &str, partition: &str) -> AccountReport {
        AccountReport {
            account: Account {
                id: id.into(),
                name: "n".into(),
                email: None,
                status: "ACTIVE".into(),
                partition: partition.into(),
                org_id: None,
                management_account_id: None,
                ou_id: None,
                ou_path: None,
                tags: BTreeMap::new(),
                role_arn: None,
                is_caller: false,
                source: "organizations".into(),
            },
            status: Status::Ok,
            regions: Vec::new(),
            error_code: None,
            error_message: None,
            remediation: None,
            retryable: false,
        }
    }

    fn record(account: &str, parent: Option<&str>) -> CallRecord {
        CallRecord {
            account_id: account.into(),
            region: "cn-north-1".into(),
            service: "ec2".into(),
            function: "describe_instances".into(),
            operation: "DescribeInstances".into(),
            stem: "ec2-describe_instances".into(),
            status: Status::Ok,
            items: 1,
            pages: 1,
            duration_ms: 1,
            error_code: None,
            error_message: None,
            request_id: None,
            retryable: false,
            parent: parent.map(str::to_string),
            absent: 0,
            items_not_detailed: 0,
        }
    }

    fn instances() -> Value {
        serde_json::from_str(include_str!(
            "../../inventory/fixtures/ec2_DescribeInstances.json"
        ))
        .unwrap()
    }

    #[test]
    fn list_calls_give_rows_in_their_account_partition() {
        let inv = Inventory::default();
        inv.account(&report("222222222222", "aws-cn"));
        inv.account(&report("333333333333", ""));
        assert_eq!(inv.partition("222222222222"), "aws-cn");
        assert_eq!(inv.partition("333333333333"), "aws");
        assert_eq!(inv.partition("444444444444"), "aws");
        let rows = inv.rows(&record("222222222222", None), &instances());
        assert_eq!(rows.len(), 2, "{rows:?}");
        for r in &rows {
            assert_eq!(r.resource_type, "ec2:Instance");
            let arn = r.arn.as_deref().unwrap();
            assert!(
                arn.starts_with("arn:aws-cn:ec2:cn-north-1:222222222222:instance/i-"),
                "{arn}"
            );
            assert_eq!(tags_json(r), r#"{"Name":"web-1","Owner":"payments"}"#);
        }
        let aws = inv.rows(&record("444444444444", None), &instances());
        assert!(aws[0].arn.as_deref().unwrap().starts_with("arn:aws:ec2:"));
    }

    #[test]
    fn detail_calls_give_no_rows() {
        let inv = Inventory::default();
        let rows = inv.rows(
            &record("222222222222", Some("ec2-describe_instances")),
            &instances(),
        );
        assert!(rows.is_empty());
    }
}
