//! What the SQL sinks keep to write the `inventory` table (schema 3, see
//! [`crate::store`]): the facts of each operation, derived once, and each account's
//! partition, so that a list call's result becomes its [`Resource`] rows on the
//! calling thread, beside its `resources` rows. The rows themselves are made by
//! [`crate::inventory`]; the writers insert them ([`super::sqlite`], [`super::postgres`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::inventory::{
    enrichment, resources_with, type_noun, DetailFacts, Enrichment, FactsCache, Place, Resource,
};
use crate::sink::{AccountReport, CallRecord, DetailItem, DetailOutcome};

/// The partition of an account the sink has no report of.
pub const DEFAULT_PARTITION: &str = "aws";

/// The sink's inventory state: facts per operation, partition per account.
#[derive(Debug)]
pub struct Inventory {
    /// Whether rows are made at all (`census scan --no-inventory` says no).
    pub enabled: bool,
    facts: FactsCache,
    details: FactsCache<DetailFacts>,
    partitions: Mutex<HashMap<String, String>>,
    /// The nouns of each list call's resources, by stem (`Queue` for `sqs-list_queues`).
    nouns: Mutex<HashMap<String, Arc<Vec<String>>>>,
}

impl Default for Inventory {
    fn default() -> Self {
        Inventory {
            enabled: true,
            facts: FactsCache::default(),
            details: FactsCache::default(),
            partitions: Mutex::default(),
            nouns: Mutex::default(),
        }
    }
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
    /// rows stand for its items) nor for the Tagging API's mappings (which complete
    /// other rows when the scan finishes).
    pub fn rows(&self, record: &CallRecord, result: &Value) -> Vec<Resource> {
        let call = (record.service.as_str(), record.operation.as_str());
        if !self.enabled || record.parent.is_some() || call == super::resolve::TAG_MAPPINGS {
            return Vec::new();
        }
        let facts = self.facts.get(&record.service, &record.operation);
        self.nouns_of(&record.stem, &record.service, &record.operation);
        let partition = self.partition(&record.account_id);
        let place = Place {
            partition: &partition,
            region: &record.region,
            account_id: &record.account_id,
        };
        resources_with(&facts, &record.service, result, place)
    }
}

impl Inventory {
    /// The nouns of the resources the list call `stem` (of `service`'s `operation`)
    /// gives, derived once per stem.
    fn nouns_of(&self, stem: &str, service: &str, operation: &str) -> Arc<Vec<String>> {
        let mut nouns = self.nouns.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = nouns.get(stem) {
            return n.clone();
        }
        let facts = self.facts.get(service, operation);
        let mut list: Vec<String> = Vec::new();
        for l in &facts.lists {
            let n = type_noun(&l.resource().resource_type).to_string();
            if !list.contains(&n) {
                list.push(n);
            }
        }
        let list = Arc::new(list);
        nouns.insert(stem.to_string(), list.clone());
        list
    }

    /// What a detail call's results add to its list's rows: one [`Enrichment`] per
    /// item with a result that holds an ARN, tags or links.
    pub fn enrichments(&self, record: &CallRecord, items: &[DetailItem]) -> Vec<Enrichment> {
        let Some(parent) = record.parent.as_deref().filter(|_| self.enabled) else {
            return Vec::new();
        };
        // The list call may not have been written in this run (a resumed scan fetches
        // a settled list call again without recording it): its stem tells it.
        let (service, function) = stem_call(parent);
        let nouns = self.nouns_of(parent, service, function);
        let facts = self.details.get(&record.service, &record.operation);
        items
            .iter()
            .filter_map(|item| match &item.outcome {
                DetailOutcome::Result(result) => {
                    let e = enrichment(&facts, &nouns, &item.resource_id, result);
                    (e.arn.is_some() || e.tags.is_some() || !e.links.is_empty()).then_some(e)
                }
                _ => None,
            })
            .collect()
    }
}

/// The service and function of a call's stem: `sso-admin-list_instances-2` →
/// (`sso-admin`, `list_instances`) (functions are snake_case; a repeat has `-<n>`).
fn stem_call(stem: &str) -> (&str, &str) {
    let base = match stem.rsplit_once('-') {
        Some((b, n)) if !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()) => b,
        _ => stem,
    };
    base.rsplit_once('-').unwrap_or((base, ""))
}

/// An enrichment's tags as JSON text and the name its `Name` tag gives, if any.
pub fn enriched_tags(e: &Enrichment) -> (Option<String>, Option<String>) {
    let Some(tags) = &e.tags else {
        return (None, None);
    };
    let name = tags
        .get("Name")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    (serde_json::to_string(tags).ok(), name)
}

/// The region of a row from a call in `call_region`: the item's own region member
/// where a global call lists it (s3 `BucketRegion`), else the call's. The stores
/// match a global call's rows in any region (its stem runs in no other).
pub fn row_region<'a>(r: &'a Resource, call_region: &'a str) -> &'a str {
    match r.region.as_deref() {
        Some(region) if call_region == GLOBAL => region,
        _ => call_region,
    }
}

/// The region global calls are recorded in.
pub const GLOBAL: &str = "global";

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
    fn stems_name_their_call() {
        assert_eq!(stem_call("sqs-list_queues"), ("sqs", "list_queues"));
        assert_eq!(
            stem_call("sso-admin-list_instances-2"),
            ("sso-admin", "list_instances")
        );
        assert_eq!(
            stem_call("ec2-describe_images-12"),
            ("ec2", "describe_images")
        );
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
