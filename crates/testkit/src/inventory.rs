//! The resources of the inventory's acceptance tests (issue 13), seeded into moto by
//! `python/seed_inventory.py`: what a scan's `inventory` and `links` tables must hold.
//! Not the demo organization ([`crate::seed_demo_org`]), which other tests count on
//! as it is.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::AwsEndpoint;

/// What [`seed_inventory`] creates.
#[derive(Clone, Debug, Serialize)]
pub struct InventorySeed {
    /// An organization with `members` member accounts, resources in the first member;
    /// else the caller's own account gets them.
    pub organization: bool,
    /// Member accounts (with `organization`); all but the first get no resources.
    pub members: usize,
    /// The regions that get regional resources; the first decides the partition
    /// (`cn-north-1`: `aws-cn`).
    pub regions: Vec<String>,
}

impl Default for InventorySeed {
    fn default() -> Self {
        InventorySeed {
            organization: true,
            members: 2,
            regions: vec!["us-east-1".to_string(), "eu-west-1".to_string()],
        }
    }
}

impl InventorySeed {
    /// The caller's own account, alone, in `region` (and its partition).
    pub fn single(region: &str) -> InventorySeed {
        InventorySeed {
            organization: false,
            members: 0,
            regions: vec![region.to_string()],
        }
    }
}

/// One resource that exists after seeding.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct SeededResource {
    /// The inventory's `resource_type`: `ec2:Instance`, `s3:Bucket`, `iam:Role`...
    pub kind: String,
    pub account_id: String,
    /// The region it is in; `global` for IAM roles; a bucket's location.
    pub region: String,
    /// How boto3 names it: an id, a name, a queue URL, a topic ARN.
    pub id: String,
    /// Its ARN as boto3 reports it, else as AWS documents it, in the account's
    /// partition.
    pub arn: String,
    /// The ARN moto itself reports when it has the partition wrong (moto 5 writes
    /// `arn:aws:` for subnets and security groups in every partition).
    pub moto_arn: Option<String>,
    /// The inventory's `name`: the Name tag, else the name its API gives it (a
    /// bucket's, queue's, topic's, table's, function's, role's, security group's);
    /// `None` for keys and other EC2 resources.
    pub name: Option<String>,
    /// Its tags as boto3 reads them back; `None` where the seed did not read them
    /// (moto's own resources of services without tags in their list calls).
    pub tags: Option<BTreeMap<String, String>>,
    /// Made by the seed; `false`: moto's own (default VPCs, subnets and security
    /// groups, root volumes, `OrganizationAccountAccessRole`).
    pub seeded: bool,
    /// Seeded without Environment and Owner tags.
    pub untagged: bool,
}

/// A relationship the inventory's `links` must hold.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExpectedLink {
    /// The member of the source that names the target (`SubnetId`,
    /// `SecurityGroups[].GroupId`, `Role`, `Attachments[].InstanceId`,
    /// `SSEDescription.KMSMasterKeyArn`): a hint, the pair is what must hold.
    pub member: String,
    pub from_arn: String,
    pub to_arn: String,
}

/// An account of the seeded set.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct SeededAccount {
    pub id: String,
    /// `None` for the caller's own account outside an organization.
    pub name: Option<String>,
}

/// What [`seed_inventory`] made.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct InventoryManifest {
    /// `aws`, `aws-cn`, `aws-us-gov`: from the caller's ARN in the first region.
    pub partition: String,
    pub regions: Vec<String>,
    pub organization_id: Option<String>,
    pub management_account_id: Option<String>,
    /// The account holding the seeded resources.
    pub resource_account_id: String,
    /// Every account (the management account first with an organization).
    pub accounts: Vec<SeededAccount>,
    /// Every resource of the seeded kinds in every account and region, seeded or not.
    pub resources: Vec<SeededResource>,
    pub links: Vec<ExpectedLink>,
}

impl InventoryManifest {
    /// The resources the seed made.
    pub fn seeded(&self) -> impl Iterator<Item = &SeededResource> {
        self.resources.iter().filter(|r| r.seeded)
    }
}

/// Seeds the resources of `seed` into the moto behind `endpoint` and returns what
/// exists afterwards. See `python/seed_inventory.py` for the layout.
///
/// Moto must be fresh (or [`crate::Moto::reset`]) when `seed.organization` is set: an
/// organization can be created only once.
///
/// # Panics
/// If seeding fails; the message holds the script's stderr.
pub fn seed_inventory(
    endpoint: &(impl AwsEndpoint + ?Sized),
    seed: &InventorySeed,
) -> InventoryManifest {
    let options = serde_json::to_string(seed).expect("InventorySeed serializes");
    let value = crate::python(endpoint, "seed_inventory.py", &[&options], &[]);
    serde_json::from_value(value.clone()).unwrap_or_else(|e| {
        panic!("seed_inventory.py printed an unexpected manifest ({e}): {value}")
    })
}
