//! Reading one organization through AWS Organizations: the organization, its ACTIVE
//! accounts, its OU tree (for OU paths and `--ou` filters) and the accounts' tags.
//!
//! Calls go through awsdyn in the partition's global region, keyed for rate limiting
//! by the account whose credentials make them. Only the first two steps
//! (DescribeOrganization, ListAccounts) are required; a tree or tags that cannot be
//! read leave the accounts without that metadata and add a [`Problem`].

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use aws_credential_types::provider::SharedCredentialsProvider;
use awsdyn::client::{Client, Target};
use futures::stream::{self, StreamExt};
use serde_json::{json, Value};

use super::{InactiveAccount, OuInfo, Problem};
use crate::account::Account;
use crate::auth::{Base, Identity, RoleArn};
use crate::regions::global_region;

/// Organizations calls in flight at once per organization, for the OU tree (a few
/// calls per level) and the accounts' tags (one call per account: with thousands of
/// accounts this is most of discovery). Its API limits are low: throttled calls are
/// retried and slowed down by awsdyn like any other.
const CONCURRENCY: usize = 16;

/// Who reads the organization.
pub(super) struct Reader<'a> {
    pub client: &'a Client,
    pub base: &'a Base,
    pub credentials: SharedCredentialsProvider,
    /// The account the credentials belong to (the rate-limit key).
    pub account_id: String,
    /// The principal, for messages: the caller's ARN or the organization role's.
    pub principal: String,
    pub partition: String,
    /// The role the organization is entered through (`--org-role-arn`).
    pub via: Option<RoleArn>,
    pub caller: &'a Identity,
}

/// What DescribeOrganization says.
pub(super) struct Head {
    pub id: String,
    pub arn: String,
    pub management_account_id: String,
    pub feature_set: Option<String>,
    /// From the organization's ARN.
    pub partition: String,
}

/// The listing of an organization's accounts.
pub(super) struct Listed {
    /// How many are ACTIVE (each was handed on).
    pub active: usize,
    /// The others, sorted by id.
    pub inactive: Vec<InactiveAccount>,
}

impl Reader<'_> {
    fn scope(&self) -> String {
        match &self.via {
            Some(role) => super::scope::organization_via(&role.to_string()),
            None => super::scope::own_organization(&self.account_id),
        }
    }

    fn target(&self) -> Target {
        let region = global_region(&self.partition)
            .map(str::to_string)
            .or_else(|| self.base.region.clone())
            .unwrap_or_else(|| "us-east-1".to_string());
        Target::new(region, self.credentials.clone())
            .with_endpoints(self.base.endpoints.clone())
            .with_label(self.account_id.clone())
    }

    /// One Organizations call, every page. awsdyn retries each request (throttling for
    /// its whole time budget); a call that still ends in a retryable error gets one more
    /// round, as a scan's calls do, since discovery failing loses whole accounts.
    async fn call(&self, operation: &str, input: Value) -> Result<Value, awsdyn::Error> {
        self.twice(operation, &input, true).await
    }

    /// One request (`all_pages` false) or every page, with the one more round.
    async fn twice(
        &self,
        operation: &str,
        input: &Value,
        all_pages: bool,
    ) -> Result<Value, awsdyn::Error> {
        let target = self.target();
        let once = || async {
            if all_pages {
                self.client
                    .call_all(&target, "organizations", operation, input)
                    .await
            } else {
                self.client
                    .call(&target, "organizations", operation, input)
                    .await
            }
        };
        match once().await {
            Err(e) if e.is_retryable() => {
                tracing::info!(operation, error = %e, "retryable error: one more round");
                once().await
            }
            other => other,
        }
    }

    /// `operation` failed: "`operation` failed: error; fix".
    fn problem(&self, error: &awsdyn::Error, operation: &str, fix: &str) -> Problem {
        let what = format!("{operation} failed");
        Problem::from_call(self.scope(), operation, error, &what, fix)
    }

    /// DescribeOrganization. `Err` when the organization cannot be read at all.
    pub async fn head(&self) -> Result<Head, Problem> {
        let org = self
            .call("DescribeOrganization", json!({}))
            .await
            .map_err(|e| {
                let fix = match e.code() {
                    "AWSOrganizationsNotInUseException" => format!(
                        "account {} is not in an organization: drop --org to scan it alone, or list accounts with --role-arns",
                        self.account_id
                    ),
                    _ => format!(
                        "{} needs organizations:DescribeOrganization and organizations:List* (run from the management account or a delegated administrator, or use --org-role-arn)",
                        self.principal
                    ),
                };
                self.problem(&e, "DescribeOrganization", &fix)
            })?;
        let org = &org["Organization"];
        let text = |k: &str| org[k].as_str().unwrap_or_default().to_string();
        let arn = text("Arn");
        let partition = arn
            .split(':')
            .nth(1)
            .filter(|p| !p.is_empty())
            .unwrap_or(&self.partition)
            .to_string();
        Ok(Head {
            id: text("Id"),
            management_account_id: text("MasterAccountId"),
            feature_set: org["FeatureSet"].as_str().map(str::to_string),
            arn,
            partition,
        })
    }

    /// Lists the organization's accounts page by page (ListAccounts), handing each
    /// ACTIVE one to `each` as its page arrives, so that a scan can start on the first
    /// page. `Err` when the accounts cannot be listed at all; a listing that fails
    /// part-way is an `Err` too, after the accounts of the pages that came.
    pub async fn list(
        &self,
        head: &Head,
        mut each: impl FnMut(Account),
    ) -> Result<Listed, Problem> {
        let not_admin = format!(
            "{} (account {}) cannot list the accounts of {}: run from the management account {} or a delegated administrator, or use --org-role-arn arn:{}:iam::{}:role/<role>; the identity needs organizations:ListAccounts and organizations:DescribeOrganization",
            self.principal,
            self.account_id,
            head.id,
            head.management_account_id,
            self.partition,
            head.management_account_id
        );
        let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
        let mut listed = Listed {
            active: 0,
            inactive: Vec::new(),
        };
        let mut token: Option<String> = None;
        loop {
            let input = match &token {
                Some(t) => json!({ "NextToken": t }),
                None => json!({}),
            };
            let page = self
                .twice("ListAccounts", &input, false)
                .await
                .map_err(|e| {
                    let fix = if e.code().starts_with("AccessDenied") {
                        not_admin.as_str()
                    } else {
                        "the organization's accounts could not be listed; see the AWS error"
                    };
                    self.problem(&e, "ListAccounts", fix)
                })?;
            for a in page["Accounts"].as_array().into_iter().flatten() {
                // `State` replaces `Status` in newer API versions; either will do.
                let status = a["Status"]
                    .as_str()
                    .or_else(|| a["State"].as_str())
                    .unwrap_or("UNKNOWN")
                    .to_string();
                let id = text(a, "Id");
                if status != "ACTIVE" {
                    listed.inactive.push(InactiveAccount {
                        id,
                        name: text(a, "Name"),
                        status,
                    });
                    continue;
                }
                listed.active += 1;
                let name = a["Name"]
                    .as_str()
                    .filter(|n| !n.is_empty())
                    .unwrap_or(&id)
                    .to_string();
                each(Account {
                    is_caller: id == self.caller.account_id,
                    id,
                    name,
                    email: a["Email"].as_str().map(str::to_string),
                    status,
                    partition: head.partition.clone(),
                    org_id: Some(head.id.clone()),
                    management_account_id: Some(head.management_account_id.clone()),
                    ou_id: None,
                    ou_path: None,
                    tags: BTreeMap::new(),
                    role_arn: None,
                    source: "organizations".to_string(),
                });
            }
            let next = page["NextToken"].as_str().filter(|t| !t.is_empty());
            match next {
                Some(t) if token.as_deref() != Some(t) => token = Some(t.to_string()),
                _ => break,
            }
        }
        if listed.active == 0 && listed.inactive.is_empty() {
            return Err(Problem {
                scope: self.scope(),
                code: None,
                message: format!("ListAccounts returned no accounts; {not_admin}"),
                operation: Some("ListAccounts".to_string()),
                remediation: Some(not_admin),
            });
        }
        listed.inactive.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(listed)
    }

    /// Walks the OU tree from the root, one level at a time.
    pub async fn tree(&self) -> Result<Tree, Problem> {
        let fix = format!(
            "{} needs organizations:ListRoots, ListOrganizationalUnitsForParent and ListAccountsForParent; without them accounts have no OU path and --ou/--exclude-ou cannot apply",
            self.principal
        );
        let roots = self
            .call("ListRoots", json!({}))
            .await
            .map_err(|e| self.problem(&e, "ListRoots", &fix))?;
        let root = &roots["Roots"][0];
        let root_id = root["Id"].as_str().unwrap_or_default().to_string();
        let root_name = root["Name"].as_str().unwrap_or("Root").to_string();
        let mut tree = Tree {
            root_id: root_id.clone(),
            ous: Vec::new(),
            paths: HashMap::from([(root_id.clone(), root_name.clone())]),
            account_parents: HashMap::new(),
            ou_parents: HashMap::new(),
        };
        let mut level = vec![(root_id, root_name)];
        while !level.is_empty() {
            let results: Vec<_> = stream::iter(level)
                .map(|(parent, path)| async move {
                    let input = json!({ "ParentId": parent });
                    let ous = self
                        .call("ListOrganizationalUnitsForParent", input.clone())
                        .await;
                    let accounts = self.call("ListAccountsForParent", input).await;
                    (parent, path, ous, accounts)
                })
                .buffer_unordered(CONCURRENCY)
                .collect()
                .await;
            let mut next = Vec::new();
            for (parent, path, ous, accounts) in results {
                let ous =
                    ous.map_err(|e| self.problem(&e, "ListOrganizationalUnitsForParent", &fix))?;
                let accounts =
                    accounts.map_err(|e| self.problem(&e, "ListAccountsForParent", &fix))?;
                for a in accounts["Accounts"].as_array().into_iter().flatten() {
                    if let Some(id) = a["Id"].as_str() {
                        tree.account_parents.insert(id.to_string(), parent.clone());
                    }
                }
                for ou in ous["OrganizationalUnits"].as_array().into_iter().flatten() {
                    let (Some(id), Some(name)) = (ou["Id"].as_str(), ou["Name"].as_str()) else {
                        continue;
                    };
                    let ou_path = format!("{path}/{name}");
                    tree.paths.insert(id.to_string(), ou_path.clone());
                    tree.ous.push(OuInfo {
                        id: id.to_string(),
                        name: name.to_string(),
                        path: ou_path.clone(),
                        parent_id: parent.clone(),
                    });
                    next.push((id.to_string(), ou_path));
                }
            }
            level = next;
        }
        tree.ous
            .sort_by(|a, b| a.path.cmp(&b.path).then(a.id.cmp(&b.id)));
        tree.ou_parents = tree
            .ous
            .iter()
            .map(|ou| (ou.id.clone(), ou.parent_id.clone()))
            .collect();
        Ok(tree)
    }

    /// The tags of the accounts `ids`, by id. Stops at the first AccessDenied (the same
    /// answer would come for every account); one problem for all failures.
    pub async fn tags(
        &self,
        ids: Vec<String>,
    ) -> (HashMap<String, BTreeMap<String, String>>, Option<Problem>) {
        let denied = Arc::new(AtomicBool::new(false));
        let fetch = |id: String| {
            let denied = denied.clone();
            async move {
                if denied.load(Ordering::Relaxed) {
                    return (id, None);
                }
                let result = self
                    .call("ListTagsForResource", json!({ "ResourceId": id }))
                    .await;
                if let Err(e) = &result {
                    if e.code().starts_with("AccessDenied") {
                        denied.store(true, Ordering::Relaxed);
                    }
                }
                (id, Some(result))
            }
        };
        let total = ids.len();
        // The first account alone: when tags are denied, that is the one call made.
        let mut ids = ids.into_iter();
        let mut results = Vec::with_capacity(total);
        if let Some(first) = ids.next() {
            results.push(fetch(first).await);
        }
        results.extend(
            stream::iter(ids)
                .map(fetch)
                .buffer_unordered(CONCURRENCY)
                .collect::<Vec<_>>()
                .await,
        );
        let mut tags = HashMap::with_capacity(total);
        let mut failed = 0;
        let mut skipped = 0;
        let mut first_error = None;
        for (id, result) in results {
            match result {
                None => skipped += 1,
                Some(Err(e)) => {
                    failed += 1;
                    if first_error.is_none() {
                        first_error = Some(e);
                    }
                }
                Some(Ok(out)) => {
                    let mut of = BTreeMap::new();
                    for tag in out["Tags"].as_array().into_iter().flatten() {
                        if let (Some(k), Some(v)) = (tag["Key"].as_str(), tag["Value"].as_str()) {
                            of.insert(k.to_string(), v.to_string());
                        }
                    }
                    tags.insert(id, of);
                }
            }
        }
        let Some(error) = first_error else {
            return (tags, None);
        };
        let problem = Problem::from_call(
            self.scope(),
            "ListTagsForResource",
            &error,
            &format!(
                "the tags of {} of {total} accounts could not be read",
                failed + skipped,
            ),
            &format!(
                "grant {} organizations:ListTagsForResource; the accounts are kept, without tags",
                self.principal
            ),
        );
        (tags, Some(problem))
    }
}

/// The OU tree of one organization.
pub(super) struct Tree {
    pub root_id: String,
    /// Every OU, sorted by path.
    pub ous: Vec<OuInfo>,
    /// The path of every OU and of the root, by id: `Root/Workloads/Prod`.
    pub paths: HashMap<String, String>,
    /// Each account's parent (an OU or the root).
    pub account_parents: HashMap<String, String>,
    /// Each OU's parent (an OU or the root).
    pub ou_parents: HashMap<String, String>,
}

impl Tree {
    /// The ids of `id`'s ancestors, nearest first (its parent, ..., the root).
    pub fn ancestors(&self, id: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut current = match self.account_parents.get(id) {
            Some(p) => p.as_str(),
            None => return out,
        };
        loop {
            if out.iter().any(|o| o == current) {
                break;
            }
            out.push(current.to_string());
            match self.ou_parents.get(current) {
                Some(p) => current = p,
                None => break,
            }
        }
        out
    }

    /// Sets the account's parent OU and OU path, when the tree knows it.
    pub fn place(&self, account: &mut Account) {
        if let Some(parent) = self.account_parents.get(&account.id) {
            account.ou_path = self.paths.get(parent).cloned();
            account.ou_id = Some(parent.clone());
        }
    }
}
