//! The seeded organization is what its manifest says, as boto3 sees it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use serde_json::{json, Value};
use testkit::{boto3_call, seed_demo_org, Caller, DemoOrg, Manifest, Moto};

fn strings(v: &Value, list: &str, field: &str) -> BTreeSet<String> {
    v[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} in {v}"))
        .iter()
        .map(|x| x[field].as_str().expect("a string field").to_string())
        .collect()
}

/// Walks the organization tree with boto3: account id -> parent path.
fn placement_by_boto3(
    moto: &Moto,
    caller: &Caller,
    root: &str,
) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    let mut accounts = BTreeMap::new();
    let mut ous = BTreeMap::new();
    let mut stack = vec![(root.to_string(), "Root".to_string())];
    while let Some((parent, path)) = stack.pop() {
        let params = json!({"ParentId": parent});
        let listed = boto3_call(
            moto,
            caller,
            "organizations",
            "list_accounts_for_parent",
            &params,
            true,
        );
        for a in listed["Accounts"].as_array().expect("Accounts") {
            accounts.insert(a["Id"].as_str().unwrap().to_string(), path.clone());
        }
        let children = boto3_call(
            moto,
            caller,
            "organizations",
            "ListOrganizationalUnitsForParent",
            &params,
            true,
        );
        for ou in children["OrganizationalUnits"]
            .as_array()
            .expect("OrganizationalUnits")
        {
            let child_path = format!("{path}/{}", ou["Name"].as_str().unwrap());
            ous.insert(ou["Id"].as_str().unwrap().to_string(), child_path.clone());
            stack.push((ou["Id"].as_str().unwrap().to_string(), child_path));
        }
    }
    (accounts, ous)
}

#[test]
fn manifest_matches_what_boto3_lists() {
    let moto = Moto::start();
    let started = Instant::now();
    let manifest = seed_demo_org(&moto, &DemoOrg::default());
    eprintln!("seeded the default demo org in {:?}", started.elapsed());
    let caller = Caller::management();

    // Accounts: 8 members + the management account, with the right names.
    let listed = boto3_call(
        &moto,
        &caller,
        "organizations",
        "ListAccounts",
        &json!({}),
        true,
    );
    assert_eq!(listed["Accounts"].as_array().map(Vec::len), Some(9));
    assert_eq!(manifest.accounts.len(), 9);
    assert_eq!(manifest.members().count(), 8);
    let names: BTreeSet<String> = manifest.accounts.iter().map(|a| a.name.clone()).collect();
    assert_eq!(strings(&listed, "Accounts", "Name"), names);
    assert_eq!(
        strings(&listed, "Accounts", "Id"),
        manifest.accounts.iter().map(|a| a.id.clone()).collect()
    );

    // OU paths and placement, walked from the root.
    let (accounts, ous) = placement_by_boto3(&moto, &caller, &manifest.root_id);
    let want_ous: BTreeMap<String, String> = manifest
        .ous
        .iter()
        .map(|o| (o.id.clone(), o.path.clone()))
        .collect();
    assert_eq!(ous, want_ous);
    assert_eq!(
        want_ous.values().cloned().collect::<BTreeSet<_>>(),
        [
            "Root/Sandbox",
            "Root/Workloads",
            "Root/Workloads/Dev",
            "Root/Workloads/Prod"
        ]
        .map(String::from)
        .into()
    );
    let want_accounts: BTreeMap<String, String> = manifest
        .accounts
        .iter()
        .map(|a| (a.id.clone(), a.ou_path.clone()))
        .collect();
    assert_eq!(accounts, want_accounts);

    // Tags on a member account.
    let prod = manifest.account_named("prod-01").expect("prod-01");
    let tags = boto3_call(
        &moto,
        &caller,
        "organizations",
        "ListTagsForResource",
        &json!({"ResourceId": prod.id}),
        false,
    );
    let tags: BTreeMap<String, String> = tags["Tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["Key"].as_str().unwrap().into(),
                t["Value"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(tags, prod.tags);

    check_member_resources(&moto, &manifest);
}

/// Each resource account sees its own resources, and only those.
fn check_member_resources(moto: &Moto, manifest: &Manifest) {
    let resource_accounts = manifest.resource_accounts();
    assert_eq!(resource_accounts.len(), 3);
    for account in &resource_accounts {
        let member = Caller::member(&account.id);
        let identity = boto3_call(moto, &member, "sts", "GetCallerIdentity", &json!({}), false);
        assert_eq!(identity["Account"], account.id.as_str());

        // IAM roles, over several pages of 5: the seeded ones plus the org access role.
        let roles = boto3_call(
            moto,
            &member,
            "iam",
            "list_roles",
            &json!({"PaginationConfig": {"PageSize": 5}}),
            true,
        );
        let mut want: BTreeSet<String> = manifest
            .ids(&account.id, "global", "iam:role")
            .iter()
            .cloned()
            .collect();
        assert_eq!(want.len(), 13);
        want.insert("OrganizationAccountAccessRole".into());
        assert_eq!(strings(&roles, "Roles", "RoleName"), want);

        for region in &manifest.regions {
            let here = member.clone().in_region(region);
            let vpcs = boto3_call(moto, &here, "ec2", "DescribeVpcs", &json!({}), true);
            let vpc_ids = strings(&vpcs, "Vpcs", "VpcId");
            for vpc in manifest.ids(&account.id, region, "ec2:vpc") {
                assert!(
                    vpc_ids.contains(vpc),
                    "{vpc} not in {region} of {}: {vpc_ids:?}",
                    account.name
                );
            }
            let tables = boto3_call(moto, &here, "dynamodb", "ListTables", &json!({}), true);
            let want: Vec<Value> = manifest
                .ids(&account.id, region, "dynamodb:table")
                .iter()
                .map(|t| json!(t))
                .collect();
            assert_eq!(tables["TableNames"], Value::Array(want));
            let functions = boto3_call(moto, &here, "lambda", "ListFunctions", &json!({}), false);
            assert_eq!(
                strings(&functions, "Functions", "FunctionName"),
                manifest
                    .ids(&account.id, region, "lambda:function")
                    .iter()
                    .cloned()
                    .collect()
            );
            let stacks = boto3_call(
                moto,
                &here,
                "cloudformation",
                "DescribeStacks",
                &json!({}),
                true,
            );
            assert_eq!(
                strings(&stacks, "Stacks", "StackId"),
                manifest
                    .ids(&account.id, region, "cloudformation:stack-id")
                    .iter()
                    .cloned()
                    .collect()
            );
            let topics = boto3_call(moto, &here, "sns", "ListTopics", &json!({}), true);
            assert_eq!(
                strings(&topics, "Topics", "TopicArn"),
                manifest
                    .ids(&account.id, region, "sns:topic")
                    .iter()
                    .cloned()
                    .collect()
            );
        }
    }

    // A member without resources has none of theirs (moto's isolation is real).
    let plain = manifest
        .members()
        .find(|a| !manifest.resources.contains_key(&a.id))
        .expect("a member without resources");
    let tables = boto3_call(
        moto,
        &Caller::member(&plain.id),
        "dynamodb",
        "ListTables",
        &json!({}),
        false,
    );
    assert_eq!(tables["TableNames"], json!([]));
    let buckets = boto3_call(
        moto,
        &Caller::member(&plain.id),
        "s3",
        "ListBuckets",
        &json!({}),
        false,
    );
    assert_eq!(buckets["Buckets"], json!([]));
}

#[test]
fn options_shape_the_org() {
    let moto = Moto::start();
    let org = DemoOrg {
        members: 3,
        resource_accounts: 1,
        suspended: 1,
        regions: vec!["eu-central-1".into()],
        iam_roles: 2,
    };
    let manifest = seed_demo_org(&moto, &org);
    assert_eq!(manifest.members().count(), 3);
    let statuses: Vec<&str> = manifest
        .accounts
        .iter()
        .map(|a| a.status.as_str())
        .collect();
    assert_eq!(statuses, ["ACTIVE", "ACTIVE", "ACTIVE", "SUSPENDED"]);
    let listed = boto3_call(
        &moto,
        &Caller::management(),
        "organizations",
        "list_accounts",
        &json!({}),
        true,
    );
    let suspended: Vec<&Value> = listed["Accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["Status"] == "SUSPENDED")
        .collect();
    assert_eq!(suspended.len(), 1);
    assert_eq!(suspended[0]["Id"], manifest.accounts[3].id.as_str());

    let only = &manifest.resource_accounts()[0].id;
    assert_eq!(
        manifest.resources[only].keys().collect::<Vec<_>>(),
        ["eu-central-1", "global"]
    );
    assert_eq!(manifest.ids(only, "global", "iam:role").len(), 3);
    let buckets = boto3_call(
        &moto,
        &Caller::member(only),
        "s3",
        "ListBuckets",
        &json!({}),
        false,
    );
    assert_eq!(
        strings(&buckets, "Buckets", "Name"),
        manifest
            .ids(only, "eu-central-1", "s3:bucket")
            .iter()
            .cloned()
            .collect()
    );
}
