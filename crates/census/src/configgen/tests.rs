//! Tests of the `census config` plan: profile names, hops and conflicts.

use super::*;

fn account(id: &str, name: &str, org: Option<&str>) -> Account {
    Account {
        id: id.into(),
        name: name.into(),
        email: None,
        status: "ACTIVE".into(),
        partition: "aws".into(),
        org_id: org.map(str::to_string),
        management_account_id: None,
        ou_id: None,
        ou_path: None,
        tags: Default::default(),
        role_arn: None,
        is_caller: false,
        source: "organizations".into(),
    }
}

fn org(id: &str, management: &str, via: Option<&str>) -> OrgInfo {
    OrgInfo {
        id: id.into(),
        arn: String::new(),
        management_account_id: management.into(),
        feature_set: None,
        via_role_arn: via.map(str::to_string),
        root_id: None,
        ous: vec![],
        active_accounts: 0,
        inactive_accounts: vec![],
    }
}

#[test]
fn names_are_sanitized() {
    assert_eq!(sanitize("Prod Account (EU)", "1"), "Prod-Account-EU");
    assert_eq!(sanitize("  ", "111111111111"), "111111111111");
    assert_eq!(sanitize("a/b]c[d#e;f=g", "1"), "a-b-c-d-e-f-g");
    assert_eq!(sanitize("Société Générale", "1"), "Soci-t-G-n-rale");
    assert_eq!(sanitize(&"x".repeat(60), "1").len(), MAX_NAME);
    assert_eq!(connection_key("Prod-Account.EU"), "prod_account_eu");
}

#[test]
fn clashing_and_reserved_names_get_the_account_id() {
    let accounts = vec![
        account("111111111111", "Prod", None),
        account("222222222222", "prod", None),
        account("333333333333", "default", None),
        account("444444444444", "base", None),
        account("555555555555", "dev.eu", None),
        account("666666666666", "dev-eu", None),
        account("777777777777", "unique", None),
    ];
    let p = plan(
        &accounts,
        &[],
        &RoleOptions::default(),
        true,
        "",
        &["default", "base"],
    );
    let names: Vec<&str> = p.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Prod-111111111111",
            "prod-222222222222",
            "default-333333333333",
            "base-444444444444",
            "dev.eu-555555555555",
            "dev-eu-666666666666",
            "unique"
        ]
    );
    let connections: BTreeSet<&str> = p.entries.iter().map(|e| e.connection.as_str()).collect();
    assert_eq!(connections.len(), accounts.len());
    assert!(connections.contains("aws_unique"));
    // With a prefix, "default" is no longer a clash.
    let p = plan(
        &accounts,
        &[],
        &RoleOptions::default(),
        true,
        "acme-",
        &["default"],
    );
    assert!(p.entries.iter().any(|e| e.name == "acme-default"));
}

#[test]
fn entered_organizations_chain_through_their_entry_profile() {
    let role = "arn:aws:iam::210987654321:role/OrgReader";
    let orgs = vec![
        org("o-own", "123456789012", None),
        org("o-other", "210987654321", Some(role)),
    ];
    let accounts = vec![
        account("123456789012", "master", Some("o-own")),
        account("111111111111", "prod", Some("o-own")),
        account("210987654321", "globex", Some("o-other")),
        account("222222222222", "globex-dev", Some("o-other")),
    ];
    let roles = RoleOptions {
        role_name: "Census".into(),
        ..RoleOptions::default()
    };
    let p = plan(&accounts, &orgs, &roles, true, "", &["default"]);
    let by: BTreeMap<&str, &Entry> = p.entries.iter().map(|e| (e.name.as_str(), e)).collect();
    assert_eq!(by["prod"].source, Source::Base);
    assert_eq!(by["prod"].role_arn, "arn:aws:iam::111111111111:role/Census");
    assert_eq!(by["globex"].role_arn, role);
    assert_eq!(by["globex"].source, Source::Base);
    assert_eq!(by["globex-dev"].source, Source::Profile("globex".into()));
    assert_eq!(
        by["globex-dev"].role_arn,
        "arn:aws:iam::222222222222:role/Census"
    );
    // The order: organizations as read.
    let order: Vec<&str> = p.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(order, ["prod", "master", "globex", "globex-dev"]);
    // Without the entry account, a hop profile; without chaining, none.
    let p = plan(
        &accounts[..2]
            .iter()
            .chain(&accounts[3..])
            .cloned()
            .collect::<Vec<_>>(),
        &orgs,
        &roles,
        true,
        "x-",
        &[],
    );
    let hop = p.entries.iter().find(|e| e.account.is_none()).unwrap();
    assert_eq!(
        (hop.name.as_str(), hop.role_arn.as_str()),
        ("x-entry-o-other", role)
    );
    let dev = p.entries.iter().find(|e| e.name == "x-globex-dev").unwrap();
    assert_eq!(dev.source, Source::Profile("x-entry-o-other".into()));
    let p = plan(&accounts, &orgs, &roles, false, "", &[]);
    assert!(p.entries.iter().all(|e| e.source == Source::Base));
}

#[test]
fn existing_profiles_are_found() {
    let text = "[default]\nregion = x\n# [profile commented]\n[profile prod]\n[sso-session s]\n[ services  svc ]\n[plain]\n";
    assert_eq!(
        existing_profiles(text),
        [
            ("default".to_string(), 1),
            ("prod".to_string(), 4),
            ("plain".to_string(), 7)
        ]
    );
}
