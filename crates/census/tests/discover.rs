//! Account discovery against moto: a seeded organization (testkit's demo org), a second
//! organization in another "payer" account, and a fault proxy for what moto never does
//! (denied AssumeRole, a second page of ListAccounts).

use std::collections::BTreeSet;
use std::time::Duration;

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use awsdyn::client::{Client, ClientConfig, EndpointSettings, Target};
use awsdyn::retry::RetryConfig;
use census::account::Account;
use census::auth::{Access, Base, RoleOptions};
use census::discover::{discover, Discovery, Options};
use serde_json::json;
use testkit::{
    seed_demo_org, shared_demo_org, Action, AwsEndpoint, Caller, DemoOrg, FaultProxy, Manifest,
    Match, Moto, Protocol, Reply, Rule, MANAGEMENT_ACCOUNT_ID,
};

const BASE_KEY: &str = "AKIDCENSUSDISCOVER";

fn client() -> Client {
    Client::new(ClientConfig {
        retry: RetryConfig {
            base_delay: Duration::from_millis(5),
            max_backoff: Duration::from_millis(50),
            ..RetryConfig::default()
        },
        ..ClientConfig::default()
    })
    .unwrap()
}

fn base_with(endpoint: &impl AwsEndpoint, credentials: Credentials) -> Base {
    Base::new(
        SharedCredentialsProvider::new(credentials),
        Some("us-east-1".into()),
        EndpointSettings {
            url: Some(endpoint.endpoint_url()),
            ..EndpointSettings::default()
        },
    )
}

fn base(endpoint: &impl AwsEndpoint) -> Base {
    base_with(
        endpoint,
        Credentials::new(BASE_KEY, "census-discover-secret", None, None, "test"),
    )
}

async fn access(client: &Client, base: &Base) -> Access {
    Access::new(client, base, RoleOptions::default())
        .await
        .unwrap()
}

/// Discovery against `endpoint` as the management account.
async fn run(endpoint: &impl AwsEndpoint, opts: &Options) -> Discovery {
    let (c, b) = (client(), base(endpoint));
    let a = access(&c, &b).await;
    discover(&c, &b, &a, opts).await.unwrap()
}

fn ids(d: &Discovery) -> Vec<String> {
    d.accounts.iter().map(|a| a.id.clone()).collect()
}

/// The manifest's accounts that satisfy `keep`, as sorted ids.
fn expected(m: &Manifest, keep: impl Fn(&testkit::Account) -> bool) -> Vec<String> {
    let set: BTreeSet<String> = m
        .accounts
        .iter()
        .filter(|a| keep(a))
        .map(|a| a.id.clone())
        .collect();
    set.into_iter().collect()
}

fn ou_id(m: &Manifest, path: &str) -> String {
    m.ous.iter().find(|o| o.path == path).unwrap().id.clone()
}

async fn caller_account(
    client: &Client,
    credentials: SharedCredentialsProvider,
    endpoint: &impl AwsEndpoint,
) -> String {
    let target = Target::new("us-east-1", credentials).with_endpoints(std::sync::Arc::new(
        EndpointSettings {
            url: Some(endpoint.endpoint_url()),
            ..EndpointSettings::default()
        },
    ));
    let out = client
        .call(&target, "sts", "GetCallerIdentity", &json!({}))
        .await
        .unwrap();
    out["Account"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn org_finds_every_active_account_with_its_metadata() {
    let (moto, m) = shared_demo_org();
    let d = run(
        moto,
        &Options {
            org: true,
            ..Options::default()
        },
    )
    .await;
    assert!(d.problems.is_empty(), "{:?}", d.problems);
    assert_eq!(ids(&d), expected(m, |_| true));
    for want in &m.accounts {
        let got = d.accounts.iter().find(|a| a.id == want.id).unwrap();
        assert_eq!(got.name, want.name);
        assert_eq!(got.email.as_deref(), Some(want.email.as_str()));
        assert_eq!(got.status, "ACTIVE");
        assert_eq!(got.tags, want.tags, "{}", want.name);
        assert_eq!(
            got.ou_id.as_deref(),
            Some(want.ou_id.as_str()),
            "{}",
            want.name
        );
        assert_eq!(
            got.ou_path.as_deref(),
            Some(want.ou_path.as_str()),
            "{}",
            want.name
        );
        assert_eq!(got.org_id.as_deref(), Some(m.organization_id.as_str()));
        assert_eq!(
            got.management_account_id.as_deref(),
            Some(MANAGEMENT_ACCOUNT_ID)
        );
        assert_eq!(got.partition, "aws");
        assert_eq!(got.source, "organizations");
        assert_eq!(got.role_arn, None);
        assert_eq!(got.is_caller, want.id == MANAGEMENT_ACCOUNT_ID);
    }
    assert_eq!(d.organizations.len(), 1);
    let org = &d.organizations[0];
    assert_eq!(org.id, m.organization_id);
    assert_eq!(org.management_account_id, MANAGEMENT_ACCOUNT_ID);
    assert_eq!(org.root_id.as_deref(), Some(m.root_id.as_str()));
    assert_eq!(org.via_role_arn, None);
    assert_eq!(org.active_accounts, m.accounts.len());
    assert!(org.inactive_accounts.is_empty());
    let mut want_ous: Vec<_> = m
        .ous
        .iter()
        .map(|o| {
            (
                o.path.clone(),
                o.id.clone(),
                o.name.clone(),
                o.parent_id.clone(),
            )
        })
        .collect();
    want_ous.sort();
    let got_ous: Vec<_> = org
        .ous
        .iter()
        .map(|o| {
            (
                o.path.clone(),
                o.id.clone(),
                o.name.clone(),
                o.parent_id.clone(),
            )
        })
        .collect();
    assert_eq!(got_ous, want_ous);
}

#[tokio::test]
async fn filters_select_exactly_the_expected_accounts() {
    let (moto, m) = shared_demo_org();
    let (c, b) = (client(), base(moto));
    let a = access(&c, &b).await;
    let org = |o: Options| Options { org: true, ..o };
    let workloads = ou_id(m, "Root/Workloads");
    let prod = ou_id(m, "Root/Workloads/Prod");
    let dev = ou_id(m, "Root/Workloads/Dev");
    let members: Vec<&testkit::Account> = m.members().collect();
    let cases: Vec<(&str, Options, Vec<String>)> = vec![
        (
            "--ou Workloads reaches Prod and Dev below it",
            org(Options {
                ous: vec![workloads.clone()],
                ..Options::default()
            }),
            expected(m, |a| a.ou_path.starts_with("Root/Workloads")),
        ),
        (
            "--exclude-ou Prod",
            org(Options {
                exclude_ous: vec![prod.clone()],
                ..Options::default()
            }),
            expected(m, |a| a.ou_path != "Root/Workloads/Prod"),
        ),
        (
            "--ou Workloads --exclude-ou Dev",
            org(Options {
                ous: vec![workloads.clone()],
                exclude_ous: vec![dev.clone()],
                ..Options::default()
            }),
            expected(m, |a| {
                a.ou_path.starts_with("Root/Workloads") && a.ou_path != "Root/Workloads/Dev"
            }),
        ),
        (
            "--ou Prod --ou Dev",
            org(Options {
                ous: vec![prod.clone(), dev.clone()],
                ..Options::default()
            }),
            expected(m, |a| {
                a.ou_path == "Root/Workloads/Prod" || a.ou_path == "Root/Workloads/Dev"
            }),
        ),
        (
            "--ou <root>",
            org(Options {
                ous: vec![m.root_id.clone()],
                ..Options::default()
            }),
            expected(m, |_| true),
        ),
        (
            "--accounts",
            org(Options {
                accounts: vec![members[1].id.clone(), members[4].id.clone()],
                ..Options::default()
            }),
            expected(m, |a| a.id == members[1].id || a.id == members[4].id),
        ),
        (
            "--exclude-accounts",
            org(Options {
                exclude_accounts: vec![members[0].id.clone()],
                ..Options::default()
            }),
            expected(m, |a| a.id != members[0].id),
        ),
        (
            "--include-management off",
            org(Options {
                include_management: false,
                ..Options::default()
            }),
            expected(m, |a| a.id != MANAGEMENT_ACCOUNT_ID),
        ),
        (
            "--ou Workloads --include-management off --exclude-accounts",
            org(Options {
                ous: vec![workloads.clone()],
                include_management: false,
                exclude_accounts: vec![members[0].id.clone()],
                ..Options::default()
            }),
            expected(m, |a| {
                a.ou_path.starts_with("Root/Workloads") && a.id != members[0].id
            }),
        ),
    ];
    for (what, opts, want) in cases {
        let d = discover(&c, &b, &a, &opts).await.unwrap();
        assert!(d.problems.is_empty(), "{what}: {:?}", d.problems);
        assert_eq!(ids(&d), want, "{what}");
        assert!(!want.is_empty(), "{what}: the case selects something");
    }

    // An OU of no organization, and an account not found: problems, not failures.
    let d = discover(
        &c,
        &b,
        &a,
        &org(Options {
            ous: vec!["ou-zzzz-zzzzzzzz".into(), prod.clone()],
            accounts: vec!["999999999999".into()],
            ..Options::default()
        }),
    )
    .await
    .unwrap();
    assert!(d.accounts.is_empty());
    let text: Vec<String> = d.problems.iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 2, "{text:?}");
    assert_eq!(
        text[0],
        format!(
            "--ou ou-zzzz-zzzzzzzz: ou-zzzz-zzzzzzzz is not an OU of {}",
            m.organization_id
        )
    );
    assert!(
        text[1].starts_with("--accounts: 999999999999 is not among the accounts found"),
        "{}",
        text[1]
    );
}

#[tokio::test]
async fn role_arns_need_no_organizations_permission() {
    let (moto, m) = shared_demo_org();
    let proxy = FaultProxy::start(moto);
    let members: Vec<&testkit::Account> = m.members().collect();
    let arn = |id: &str, name: &str| format!("arn:aws:iam::{id}:role/{name}");
    let opts = Options {
        role_arns: vec![
            arn(&members[2].id, "Auditor"),
            arn(&members[0].id, "OrganizationAccountAccessRole"),
            arn(&members[2].id, "Auditor"),
            arn("999999999999", "Auditor"),
        ],
        exclude_accounts: vec!["999999999999".into()],
        ..Options::default()
    };
    let d = run(&proxy, &opts).await;
    assert!(d.problems.is_empty(), "{:?}", d.problems);
    let mut want = vec![members[0].id.clone(), members[2].id.clone()];
    want.sort();
    assert_eq!(ids(&d), want);
    for a in &d.accounts {
        assert_eq!(a.source, "role-arns");
        assert_eq!(a.status, "UNKNOWN");
        assert_eq!(a.org_id, None);
        assert!(!a.is_caller);
        let name = if a.id == members[2].id {
            "Auditor"
        } else {
            "OrganizationAccountAccessRole"
        };
        assert_eq!(a.role_arn.as_deref(), Some(arn(&a.id, name).as_str()));
    }
    assert!(d.organizations.is_empty());
    let organizations = proxy.requests_matching(&Match::any().custom(|r| {
        r.target()
            .is_some_and(|t| t.starts_with("AWSOrganizationsV"))
    }));
    assert!(
        organizations.is_empty(),
        "no Organizations call: {:?}",
        organizations.iter().map(|r| r.label()).collect::<Vec<_>>()
    );

    // With --org too, the organization's metadata is kept and the explicit role wins.
    let d = run(
        &proxy,
        &Options {
            org: true,
            ..opts.clone()
        },
    )
    .await;
    let a = d.accounts.iter().find(|a| a.id == members[2].id).unwrap();
    assert_eq!(a.source, "organizations");
    assert_eq!(a.name, members[2].name);
    assert_eq!(
        a.role_arn.as_deref(),
        Some(arn(&members[2].id, "Auditor").as_str())
    );
    assert_eq!(d.accounts.len(), m.accounts.len());
}

#[tokio::test]
async fn without_a_source_the_caller_or_the_accounts_given() {
    let (moto, m) = shared_demo_org();
    let d = run(moto, &Options::default()).await;
    assert_eq!(ids(&d), vec![MANAGEMENT_ACCOUNT_ID.to_string()]);
    let me = &d.accounts[0];
    assert!(me.is_caller);
    assert_eq!(
        (me.source.as_str(), me.partition.as_str()),
        ("caller", "aws")
    );
    assert!(d.organizations.is_empty() && d.problems.is_empty());

    let member = m.members().next().unwrap().id.clone();
    let opts = Options {
        accounts: vec![member.clone(), MANAGEMENT_ACCOUNT_ID.into(), member.clone()],
        ..Options::default()
    };
    let d = run(moto, &opts).await;
    assert_eq!(
        ids(&d),
        expected(m, |a| a.id == member || a.id == MANAGEMENT_ACCOUNT_ID)
    );
    assert!(d.accounts.iter().all(|a| a.source == "accounts"));
    assert_eq!(d.accounts.iter().filter(|a| a.is_caller).count(), 1);

    let d = run(
        moto,
        &Options {
            exclude_accounts: vec![MANAGEMENT_ACCOUNT_ID.into()],
            ..Options::default()
        },
    )
    .await;
    assert!(d.accounts.is_empty());
}

#[tokio::test]
async fn malformed_input_is_one_clear_sentence() {
    let (moto, _) = shared_demo_org();
    let (c, b) = (client(), base(moto));
    let a = access(&c, &b).await;
    let cases = [
        (
            Options { role_arns: vec!["arn:aws:sts::123456789012:assumed-role/Admin/me".into()], ..Options::default() },
            "--role-arns: \"arn:aws:sts::123456789012:assumed-role/Admin/me\" is an assumed-role session, not a role; use the role's ARN, arn:aws:iam::123456789012:role/Admin",
        ),
        (
            Options { org_role_arns: vec!["arn:aws:iam:123456789012:role/X".into()], ..Options::default() },
            "--org-role-arn: \"arn:aws:iam:123456789012:role/X\" is not an ARN; write it as arn:aws:iam::123456789012:role/RoleName",
        ),
        (
            Options { org: true, accounts: vec!["12345678901".into()], ..Options::default() },
            "--accounts: \"12345678901\" is not an AWS account id: it has 11 digits, not 12",
        ),
        (
            Options { org: true, exclude_accounts: vec!["prod".into()], ..Options::default() },
            "--exclude-accounts: \"prod\" is not an AWS account id (12 digits, such as 123456789012)",
        ),
        (
            Options { org: true, ous: vec!["Workloads".into()], ..Options::default() },
            "--ou: \"Workloads\" is not an OU id",
        ),
        (
            Options { ous: vec!["ou-abcd-abcdefgh".into()], ..Options::default() },
            "--ou and --exclude-ou select accounts of an organization: add --org or --org-role-arn",
        ),
    ];
    for (opts, want) in cases {
        let e = discover(&c, &b, &a, &opts).await.unwrap_err().to_string();
        assert!(e.starts_with(want), "{e}\nwanted: {want}");
        assert!(!e.contains('\n'));
    }
}

#[tokio::test]
async fn suspended_accounts_are_left_out_and_listed() {
    let moto = Moto::start();
    let m = seed_demo_org(
        &moto,
        &DemoOrg {
            members: 3,
            resource_accounts: 0,
            suspended: 1,
            ..DemoOrg::default()
        },
    );
    let d = run(
        &moto,
        &Options {
            org: true,
            ..Options::default()
        },
    )
    .await;
    assert_eq!(ids(&d), expected(&m, |a| a.status == "ACTIVE"));
    let suspended: Vec<&testkit::Account> =
        m.accounts.iter().filter(|a| a.status != "ACTIVE").collect();
    assert_eq!(suspended.len(), 1);
    let org = &d.organizations[0];
    assert_eq!(org.inactive_accounts.len(), 1);
    assert_eq!(org.inactive_accounts[0].id, suspended[0].id);
    assert_eq!(org.inactive_accounts[0].name, suspended[0].name);
    assert_ne!(org.inactive_accounts[0].status, "ACTIVE");
    assert_eq!(org.active_accounts, m.accounts.len() - 1);
}

/// ListAccounts pages, written by the proxy (moto checks its own tokens): the second
/// request carries the first page's token, and both pages are merged.
#[tokio::test]
async fn list_accounts_follows_next_tokens() {
    let (moto, m) = shared_demo_org();
    let proxy = FaultProxy::start(moto);
    let entry = |a: &testkit::Account| {
        json!({
            "Id": a.id, "Name": a.name, "Email": a.email, "Status": "ACTIVE",
            "Arn": format!("arn:aws:organizations::{MANAGEMENT_ACCOUNT_ID}:account/{}/{}", m.organization_id, a.id),
        })
    };
    let (first, rest) = m.accounts.split_at(3);
    let pages = [
        json!({"Accounts": first.iter().map(entry).collect::<Vec<_>>(), "NextToken": "census-page-2"}),
        json!({"Accounts": rest.iter().map(entry).collect::<Vec<_>>()}),
    ];
    let reply = |page: &serde_json::Value| {
        Action::Reply(
            Reply::new(200)
                .header("Content-Type", "application/x-amz-json-1.1")
                .body(page.to_string()),
        )
    };
    proxy.add(Rule::new(
        Match::any()
            .target("ListAccounts")
            .custom(|r| !r.body_str().contains("NextToken")),
        reply(&pages[0]),
    ));
    proxy.add(Rule::new(
        Match::any()
            .target("ListAccounts")
            .body_contains("census-page-2"),
        reply(&pages[1]),
    ));
    let d = run(
        &proxy,
        &Options {
            org: true,
            ..Options::default()
        },
    )
    .await;
    let calls = proxy.requests_matching(&Match::any().target("ListAccounts"));
    assert_eq!(calls.len(), 2);
    assert!(
        calls[1].body_str().contains("census-page-2"),
        "{}",
        calls[1].body_str()
    );
    assert!(d.problems.is_empty(), "{:?}", d.problems);
    assert_eq!(ids(&d), expected(m, |_| true));
    assert!(d
        .accounts
        .iter()
        .all(|a| a.ou_path.is_some() && a.email.is_some()));
}

#[tokio::test]
async fn a_member_calling_list_accounts_gets_a_problem() {
    let (moto, m) = shared_demo_org();
    let c = client();
    let member = m.members().next().unwrap();
    // Base credentials that belong to a member: its role's, through a management Access.
    let mb = base(moto);
    let management = access(&c, &mb).await;
    let account = Account {
        id: member.id.clone(),
        name: member.name.clone(),
        email: None,
        status: "ACTIVE".into(),
        partition: "aws".into(),
        org_id: None,
        management_account_id: None,
        ou_id: None,
        ou_path: None,
        tags: Default::default(),
        role_arn: None,
        is_caller: false,
        source: "test".into(),
    };
    let creds = management
        .credentials(&account)
        .await
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    let b = base_with(moto, creds);
    let a = access(&c, &b).await;
    assert_eq!(a.caller().account_id, member.id);
    let d = discover(
        &c,
        &b,
        &a,
        &Options {
            org: true,
            ..Options::default()
        },
    )
    .await
    .unwrap();
    assert!(d.accounts.is_empty() && d.organizations.is_empty());
    assert_eq!(d.problems.len(), 1);
    let p = d.problems[0].to_string();
    assert!(
        p.starts_with(&format!(
            "organization of {}: ListAccounts returned no accounts",
            member.id
        )),
        "{p}"
    );
    assert!(
        p.contains(&format!(
            "run from the management account {MANAGEMENT_ACCOUNT_ID} or a delegated administrator"
        )),
        "{p}"
    );
    assert!(p.contains("--org-role-arn"), "{p}");
}

/// Two organizations: the demo org of 123456789012, and one created by the "payer"
/// account 210987654321 (moto keeps an organization per account). A third
/// `--org-role-arn` is denied by the proxy.
#[tokio::test]
async fn several_organizations_through_org_role_arns() {
    const PAYER: &str = "210987654321";
    let payer_role = format!("arn:aws:iam::{PAYER}:role/CensusOrgReader");
    let moto = Moto::start();
    let m = seed_demo_org(
        &moto,
        &DemoOrg {
            members: 3,
            resource_accounts: 0,
            ..DemoOrg::default()
        },
    );
    let as_payer = Caller {
        role_arn: Some(payer_role.clone()),
        ..Caller::default()
    };
    let org2 = testkit::boto3_call(
        &moto,
        &as_payer,
        "organizations",
        "create_organization",
        &json!({"FeatureSet": "ALL"}),
        false,
    );
    let org2_id = org2["Organization"]["Id"].as_str().unwrap().to_string();
    let mut org2_members = Vec::new();
    for name in ["payer-a", "payer-b"] {
        let out = testkit::boto3_call(
            &moto,
            &as_payer,
            "organizations",
            "create_account",
            &json!({"AccountName": name, "Email": format!("{name}@payer.example"), "Tags": [{"Key": "Payer", "Value": "2"}]}),
            false,
        );
        org2_members.push(
            out["CreateAccountStatus"]["AccountId"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let proxy = FaultProxy::start(&moto);
    let denied_role = "arn:aws:iam::333333333333:role/CensusOrgReader";
    proxy.add(Rule::new(
        Match::any()
            .form_action("AssumeRole")
            .body_contains("333333333333"),
        Action::Reply(Reply::access_denied(Protocol::Query)),
    ));
    // The caller's own organization, named again through a role: kept once.
    let own_again = format!("arn:aws:iam::{MANAGEMENT_ACCOUNT_ID}:role/CensusOrgReader");

    let c = client();
    let b = base(&proxy);
    let opts = Options {
        org: true,
        org_role_arns: vec![payer_role.clone(), denied_role.into(), own_again],
        ..Options::default()
    };
    let a = access(&c, &b).await;
    let d = discover(&c, &b, &a, &opts).await.unwrap();
    // Discovery only reads: the routes into the organizations it entered are the
    // caller's to register.
    assert_eq!(d.routes.len(), 1, "{:?}", d.routes);
    a.add_routes(&d.routes);

    let mut want: Vec<String> = m.accounts.iter().map(|a| a.id.clone()).collect();
    want.push(PAYER.into());
    want.extend(org2_members.iter().cloned());
    want.sort();
    assert_eq!(ids(&d), want);
    assert_eq!(d.organizations.len(), 2);
    assert_eq!(d.organizations[0].id, m.organization_id);
    assert_eq!(d.organizations[1].id, org2_id);
    assert_eq!(d.organizations[1].management_account_id, PAYER);
    assert_eq!(
        d.organizations[1].via_role_arn.as_deref(),
        Some(payer_role.as_str())
    );
    for id in org2_members.iter().chain([&PAYER.to_string()]) {
        let acct = d.accounts.iter().find(|a| &a.id == id).unwrap();
        assert_eq!(acct.org_id.as_deref(), Some(org2_id.as_str()));
        assert_eq!(acct.management_account_id.as_deref(), Some(PAYER));
        assert_eq!(acct.ou_path.as_deref(), Some("Root"));
        assert!(!acct.is_caller);
        if id != PAYER {
            assert_eq!(acct.tags.get("Payer").map(String::as_str), Some("2"));
        }
    }
    assert_eq!(d.problems.len(), 1, "{:?}", d.problems);
    let p = &d.problems[0];
    assert_eq!(p.scope, format!("--org-role-arn {denied_role}"));
    assert_eq!(p.code.as_deref(), Some("AccessDenied"));
    assert!(
        p.message.contains("the role's trust policy does not trust"),
        "{p}"
    );

    // The payer account is scanned with the organization role itself; its members
    // through it (chaining on): their AssumeRole is signed with the payer session's key.
    let payer = d.accounts.iter().find(|a| a.id == PAYER).unwrap();
    assert_eq!(a.role_arn(payer).as_deref(), Some(payer_role.as_str()));
    let payer_key = a
        .credentials(payer)
        .await
        .unwrap()
        .provide_credentials()
        .await
        .unwrap()
        .access_key_id()
        .to_string();
    let member = d.accounts.iter().find(|a| a.id == org2_members[0]).unwrap();
    let creds = a.credentials(member).await.unwrap();
    assert_eq!(caller_account(&c, creds, &proxy).await, member.id);
    let assume = proxy.requests_matching(
        &Match::any()
            .form_action("AssumeRole")
            .body_contains(&member.id),
    );
    assert_eq!(assume.len(), 1);
    let auth = assume[0].header("authorization").unwrap();
    assert!(
        auth.contains(&payer_key),
        "signed by the payer role: {auth}"
    );
    // A member of the caller's own organization: from the base identity.
    let own_member = d
        .accounts
        .iter()
        .find(|x| x.id == m.members().next().unwrap().id)
        .unwrap();
    a.credentials(own_member).await.unwrap();
    let assume = proxy.requests_matching(
        &Match::any()
            .form_action("AssumeRole")
            .body_contains(&own_member.id),
    );
    assert!(assume[0]
        .header("authorization")
        .unwrap()
        .contains(BASE_KEY));

    // Chaining off: members of the payer's organization from the base identity.
    let a = access(&c, &b).await;
    let opts = Options {
        org_role_arns: vec![payer_role.clone()],
        chain_through_management: false,
        include_management: false,
        ..Options::default()
    };
    let d = discover(&c, &b, &a, &opts).await.unwrap();
    a.add_routes(&d.routes);
    let mut want = org2_members.clone();
    want.sort();
    assert_eq!(ids(&d), want);
    proxy.clear_requests();
    let member = &d.accounts[1];
    let creds = a.credentials(member).await.unwrap();
    assert_eq!(caller_account(&c, creds, &proxy).await, member.id);
    let assume = proxy.requests_matching(
        &Match::any()
            .form_action("AssumeRole")
            .body_contains(&member.id),
    );
    assert!(assume[0]
        .header("authorization")
        .unwrap()
        .contains(BASE_KEY));
}

/// What a caller with partial Organizations permissions gets, as real AWS answers it
/// (moto allows everything): denied tags or OU walk leave the accounts without that
/// metadata; a denied ListAccounts leaves the organization out. Each is one problem.
#[tokio::test]
async fn organizations_permission_gaps_are_problems() {
    let (moto, m) = shared_demo_org();
    let proxy = FaultProxy::start(moto);
    let deny = |op: &str| {
        proxy.add(Rule::new(
            Match::any().target(op),
            Action::Reply(Reply::access_denied(Protocol::Json)),
        ))
    };
    let org = Options {
        org: true,
        ..Options::default()
    };

    let tags = deny("ListTagsForResource");
    let d = run(&proxy, &org).await;
    assert_eq!(ids(&d), expected(m, |_| true));
    assert!(d
        .accounts
        .iter()
        .all(|a| a.tags.is_empty() && a.ou_path.is_some()));
    assert_eq!(d.problems.len(), 1, "{:?}", d.problems);
    let p = d.problems[0].to_string();
    assert!(p.starts_with(&format!("organization of {MANAGEMENT_ACCOUNT_ID}: the tags of {} of {} accounts could not be read: AccessDeniedException", m.accounts.len(), m.accounts.len())), "{p}");
    assert!(p.ends_with("grant arn:aws:sts::123456789012:user/moto organizations:ListTagsForResource; the accounts are kept, without tags"), "{p}");
    // The first denial stops the others (at most one call in flight per slot).
    assert!(proxy.hits(tags) <= 4, "{}", proxy.hits(tags));
    proxy.clear_rules();

    deny("ListRoots");
    let d = run(&proxy, &org).await;
    assert_eq!(ids(&d), expected(m, |_| true));
    assert!(d
        .accounts
        .iter()
        .all(|a| (a.ou_path.is_none() && !a.tags.is_empty()) || a.id == MANAGEMENT_ACCOUNT_ID));
    assert!(d.organizations[0].ous.is_empty() && d.organizations[0].root_id.is_none());
    assert_eq!(d.problems.len(), 1, "{:?}", d.problems);
    assert!(
        d.problems[0]
            .message
            .contains("--ou/--exclude-ou cannot apply"),
        "{}",
        d.problems[0]
    );
    // With an OU filter, the organization's accounts cannot be selected: left out.
    let d = run(
        &proxy,
        &Options {
            exclude_ous: vec![ou_id(m, "Root/Sandbox")],
            ..org.clone()
        },
    )
    .await;
    assert!(d.accounts.is_empty());
    let text: Vec<String> = d.problems.iter().map(ToString::to_string).collect();
    assert!(text.iter().any(|p| p.contains(&format!("its OU tree could not be read, so --ou/--exclude-ou cannot be applied: its {} accounts are left out", m.accounts.len()))), "{text:?}");
    proxy.clear_rules();

    deny("ListAccounts");
    let d = run(&proxy, &org).await;
    assert!(d.accounts.is_empty() && d.organizations.is_empty());
    assert_eq!(d.problems.len(), 1);
    assert_eq!(d.problems[0].code.as_deref(), Some("AccessDeniedException"));
    assert!(d.problems[0].message.contains(&format!("cannot list the accounts of {}: run from the management account {MANAGEMENT_ACCOUNT_ID}", m.organization_id)), "{}", d.problems[0]);
    proxy.clear_rules();

    proxy.add(Rule::new(
        Match::any().target("DescribeOrganization"),
        Action::Reply(Reply::error(
            Protocol::Json,
            400,
            "AWSOrganizationsNotInUseException",
            "Your account is not a member of an organization.",
        )),
    ));
    let d = run(&proxy, &org).await;
    assert!(d.accounts.is_empty());
    assert!(d.problems[0].message.ends_with("account 123456789012 is not in an organization: drop --org to scan it alone, or list accounts with --role-arns"), "{}", d.problems[0]);
}
