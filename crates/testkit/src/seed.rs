//! A demo AWS Organization seeded into moto by `python/seed_org.py`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{AwsEndpoint, Moto};

/// What [`seed_demo_org`] creates. The defaults make 8 members, 3 of them with
/// resources in 3 regions, and 12 IAM roles per resource account (enough for several
/// pages with a small `MaxItems`).
#[derive(Clone, Debug, Serialize)]
pub struct DemoOrg {
    /// Member accounts (the management account comes on top).
    pub members: usize,
    /// How many of the first members get resources.
    pub resource_accounts: usize,
    /// How many of the last members are closed (status `SUSPENDED`).
    pub suspended: usize,
    /// The regions that get regional resources.
    pub regions: Vec<String>,
    /// IAM roles named `app-role-NN` per resource account (`lambda-exec` comes on top).
    pub iam_roles: usize,
}

impl Default for DemoOrg {
    fn default() -> Self {
        DemoOrg {
            members: 8,
            resource_accounts: 3,
            suspended: 0,
            regions: vec![
                "us-east-1".to_string(),
                "eu-west-1".to_string(),
                "ap-southeast-2".to_string(),
            ],
            iam_roles: 12,
        }
    }
}

/// An organizational unit.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct Ou {
    /// `ou-...`.
    pub id: String,
    /// The OU's own name, e.g. `Prod`.
    pub name: String,
    /// Its path from the root, e.g. `Root/Workloads/Prod`.
    pub path: String,
    /// The parent's id (the root's `r-...` for top-level OUs).
    pub parent_id: String,
}

/// An account of the organization.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct Account {
    /// The 12-digit id (moto picks member ids at random).
    pub id: String,
    /// The account name, e.g. `prod-01`.
    pub name: String,
    /// The e-mail address.
    pub email: String,
    /// `ACTIVE` or `SUSPENDED`.
    pub status: String,
    /// The parent's id: an OU's, or the root's.
    pub ou_id: String,
    /// The parent's path, `Root` for accounts directly under the root.
    pub ou_path: String,
    /// The account's tags.
    pub tags: BTreeMap<String, String>,
}

/// What [`seed_demo_org`] made: the ground truth integration tests assert against.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Manifest {
    /// `123456789012`.
    pub management_account_id: String,
    /// `o-...`.
    pub organization_id: String,
    /// `r-...`.
    pub root_id: String,
    /// The OUs, parents before children.
    pub ous: Vec<Ou>,
    /// Every account, the management account first, then members in creation order.
    pub accounts: Vec<Account>,
    /// The regions that got regional resources.
    pub regions: Vec<String>,
    /// Resource ids by account id, then region (`global` for IAM and Route53), then
    /// kind (`ec2:vpc`, `ec2:subnet`, `ec2:security-group`, `ec2:instance`,
    /// `s3:bucket`, `dynamodb:table`, `sqs:queue` (names), `sns:topic` (ARNs),
    /// `lambda:function`, `kms:key`, `logs:log-group`, `cloudformation:stack`,
    /// `cloudformation:stack-id`, `iam:role`, `iam:user`, `iam:policy` (ARNs),
    /// `route53:hosted-zone`). Only what the seed created: moto's default VPC,
    /// subnets and security group per region, and `OrganizationAccountAccessRole` in
    /// every member, come on top.
    pub resources: BTreeMap<String, BTreeMap<String, BTreeMap<String, Vec<String>>>>,
}

impl Manifest {
    /// The member accounts (everything but the management account).
    pub fn members(&self) -> impl Iterator<Item = &Account> {
        self.accounts
            .iter()
            .filter(move |a| a.id != self.management_account_id)
    }

    /// The account with this name.
    pub fn account_named(&self, name: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.name == name)
    }

    /// The accounts that got resources, in creation order.
    pub fn resource_accounts(&self) -> Vec<&Account> {
        self.accounts
            .iter()
            .filter(|a| self.resources.contains_key(&a.id))
            .collect()
    }

    /// The ids of one kind of resource in one account and region (`global` for IAM
    /// and Route53); empty if there are none.
    pub fn ids(&self, account_id: &str, region: &str, kind: &str) -> &[String] {
        self.resources
            .get(account_id)
            .and_then(|r| r.get(region))
            .and_then(|r| r.get(kind))
            .map_or(&[], Vec::as_slice)
    }
}

/// Seeds an organization into the moto behind `endpoint` (moto's own URL, or a proxy
/// in front of it) and returns what it made. See `python/seed_org.py` for the layout.
///
/// Moto must be fresh (or [`crate::Moto::reset`]): an organization can be created
/// only once.
///
/// # Panics
/// If seeding fails; the message holds the script's stderr.
pub fn seed_demo_org(endpoint: &(impl AwsEndpoint + ?Sized), org: &DemoOrg) -> Manifest {
    let options = serde_json::to_string(org).expect("DemoOrg serializes");
    let value = crate::python(endpoint, "seed_org.py", &[&options], &[]);
    serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("seed_org.py printed an unexpected manifest ({e}): {value}"))
}

/// One moto with the default [`DemoOrg`], seeded on first use and shared by every test
/// of the process: seeding takes seconds, so tests that only read should share it.
///
/// Tests that use it must not change it (no writes, no reset): they run in parallel.
/// It is separate from [`Moto::shared`].
pub fn shared_demo_org() -> (&'static Moto, &'static Manifest) {
    static SHARED: std::sync::OnceLock<(Moto, Manifest)> = std::sync::OnceLock::new();
    let (moto, manifest) = SHARED.get_or_init(|| {
        let moto = Moto::start();
        let manifest = seed_demo_org(&moto, &DemoOrg::default());
        (moto, manifest)
    });
    (moto, manifest)
}
