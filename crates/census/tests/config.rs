//! `census config aws-profiles|steampipe|cartography` end to end against moto: two
//! organizations (the demo one, 8 members, and a second reached with --org-role-arn),
//! the files read back by the parsers their users have (Python's configparser for the
//! INI files, hcl-rs for the spc), and the generated profiles used by boto3 to reach
//! each account.
//!
//! What moto can and cannot show: AssumeRole never fails (so a trust policy is not
//! checked), and GetCallerIdentity with an assumed role's keys answers with the
//! role's account: that is what proves a profile leads into its account.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Output;
use std::sync::OnceLock;

use serde_json::json;
use testkit::{
    boto3_call, cli_command, seed_demo_org, Caller, DemoOrg, Manifest, Moto, TempDir,
    FAKE_ACCESS_KEY_ID, FAKE_SECRET_ACCESS_KEY,
};

/// The account moto lets become the management account of a second organization.
const SECOND_MANAGEMENT: &str = "210987654321";
const ORG_ROLE: &str = "arn:aws:iam::210987654321:role/OrganizationAccountAccessRole";

struct Fixture {
    moto: Moto,
    first: Manifest,
    second_org: String,
    /// The second organization's accounts: id -> name.
    second: BTreeMap<String, String>,
}

impl Fixture {
    fn endpoint(&self) -> String {
        self.moto.endpoint()
    }

    /// Every account of both organizations: id -> name.
    fn all(&self) -> BTreeMap<String, String> {
        let mut all: BTreeMap<String, String> = self
            .first
            .accounts
            .iter()
            .map(|a| (a.id.clone(), a.name.clone()))
            .collect();
        all.extend(self.second.clone());
        all
    }

    fn second_id(&self, name: &str) -> String {
        self.second
            .iter()
            .find(|(_, n)| *n == name)
            .unwrap_or_else(|| panic!("no account {name}"))
            .0
            .clone()
    }
}

/// Two organizations in one moto, seeded once for every test of this file (they only
/// read it).
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let moto = Moto::start();
        let first = seed_demo_org(
            &moto,
            &DemoOrg {
                members: 8,
                resource_accounts: 0,
                iam_roles: 0,
                ..DemoOrg::default()
            },
        );
        let ep = moto.endpoint();
        let boss = Caller::member(SECOND_MANAGEMENT);
        let second_org = boto3_call(
            &ep,
            &boss,
            "organizations",
            "CreateOrganization",
            &json!({"FeatureSet": "ALL"}),
            false,
        )["Organization"]["Id"]
            .as_str()
            .unwrap()
            .to_string();
        let mut second = BTreeMap::from([(SECOND_MANAGEMENT.to_string(), "master".to_string())]);
        // Names that need sanitizing: two that clash once sanitized, one that would be
        // the default profile, one with characters a section name cannot hold.
        for (i, name) in ["Globex Prod", "globex/prod", "default", "Globex [dev]; #1"]
            .iter()
            .enumerate()
        {
            let made = boto3_call(
                &ep,
                &boss,
                "organizations",
                "CreateAccount",
                &json!({"AccountName": name, "Email": format!("globex-{i}@globex.example")}),
                false,
            );
            second.insert(
                made["CreateAccountStatus"]["AccountId"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                name.to_string(),
            );
        }
        Fixture {
            moto,
            first,
            second_org,
            second,
        }
    })
}

/// Runs census in `dir` against the fixture's moto.
fn census(dir: &Path, args: &[&str]) -> Output {
    census_env(dir, args, &[])
}

fn census_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = cli_command(env!("CARGO_BIN_EXE_census"), &fixture().endpoint());
    c.args(args).current_dir(dir);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

type Sections = BTreeMap<String, BTreeMap<String, String>>;

/// An INI file read by Python's configparser (strict: a section or key twice fails).
fn parse_ini(path: &Path) -> Sections {
    let v = testkit::python(
        &fixture().endpoint(),
        "config_files.py",
        &["parse", path.to_str().unwrap()],
        &[],
    );
    serde_json::from_value(v["sections"].clone()).unwrap()
}

/// The `[profile NAME]` sections by NAME.
fn profiles(sections: &Sections) -> BTreeMap<String, BTreeMap<String, String>> {
    sections
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("profile ")
                .map(|n| (n.to_string(), v.clone()))
        })
        .collect()
}

/// The account id a role ARN names.
fn account_of(role_arn: &str) -> String {
    role_arn.split(':').nth(4).unwrap().to_string()
}

fn is_clean_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Profiles by account id; asserts each account has exactly one.
fn by_account(
    profiles: &BTreeMap<String, BTreeMap<String, String>>,
) -> BTreeMap<String, (String, BTreeMap<String, String>)> {
    let mut out = BTreeMap::new();
    for (name, p) in profiles {
        let id = account_of(&p["role_arn"]);
        assert!(
            out.insert(id.clone(), (name.clone(), p.clone())).is_none(),
            "two profiles for {id}"
        );
    }
    out
}

#[test]
fn aws_profiles_for_two_organizations_parse_and_lead_into_each_account() {
    let f = fixture();
    let dir = TempDir::new("census-config-profiles");
    let out = census(
        &dir,
        &[
            "config",
            "aws-profiles",
            "--org",
            "--org-role-arn",
            ORG_ROLE,
            "--source-profile",
            "census-base",
            "--session-name",
            "census-config-test",
            "-o",
            "profiles.ini",
        ],
    );
    let err = stderr(&out);
    assert_eq!(code(&out), 0, "{err}");
    assert!(out.stdout.is_empty(), "the file, not stdout");
    let sections = parse_ini(&dir.join("profiles.ini"));
    assert!(
        sections.keys().all(|k| k.starts_with("profile ")),
        "{:?}",
        sections.keys()
    );
    let profiles = profiles(&sections);
    let all = f.all();
    assert!(all.len() >= 13, "{all:?}");
    assert_eq!(profiles.len(), all.len(), "{:?}", profiles.keys());
    let accounts = by_account(&profiles);
    assert_eq!(
        accounts.keys().collect::<BTreeSet<_>>(),
        all.keys().collect::<BTreeSet<_>>()
    );
    let entry_name = accounts[SECOND_MANAGEMENT].0.clone();
    for (id, (name, p)) in &accounts {
        assert!(is_clean_name(name), "{name}");
        assert_eq!(p["role_session_name"], "census-config-test");
        assert_eq!(p["region"], "us-east-1");
        assert!(!p.contains_key("credential_source"), "{p:?}");
        let in_second = f.second.contains_key(id);
        if id == SECOND_MANAGEMENT {
            assert_eq!(p["role_arn"], ORG_ROLE, "entered through --org-role-arn");
            assert_eq!(p["source_profile"], "census-base");
        } else if in_second {
            assert_eq!(
                p["role_arn"],
                format!("arn:aws:iam::{id}:role/OrganizationAccountAccessRole")
            );
            assert_eq!(
                p["source_profile"], entry_name,
                "chained through management"
            );
        } else {
            assert_eq!(
                p["role_arn"],
                format!("arn:aws:iam::{id}:role/OrganizationAccountAccessRole")
            );
            assert_eq!(p["source_profile"], "census-base");
        }
    }
    // Plain names stay; clashing and reserved ones get the account id.
    let name = |id: &str| accounts[id].0.clone();
    let member = f.first.members().next().unwrap();
    assert_eq!(name(&member.id), member.name);
    let (prod_a, prod_b) = (f.second_id("Globex Prod"), f.second_id("globex/prod"));
    assert_eq!(name(&prod_a), format!("Globex-Prod-{prod_a}"));
    assert_eq!(name(&prod_b), format!("globex-prod-{prod_b}"));
    let dflt = f.second_id("default");
    assert_eq!(name(&dflt), format!("default-{dflt}"));
    assert_eq!(name(&f.second_id("Globex [dev]; #1")), "Globex-dev-1");
    // Both organizations have an account named master.
    assert_eq!(
        name(&f.first.management_account_id),
        format!("master-{}", f.first.management_account_id)
    );

    // boto3 with the file as its config reaches each account through its profile: a
    // member of the first organization, the second's management account, a member of
    // the second (chained through that account's profile).
    let generated = std::fs::read_to_string(dir.join("profiles.ini")).unwrap();
    let config = dir.join("config");
    std::fs::write(
        &config,
        format!(
            "[profile census-base]\naws_access_key_id = {FAKE_ACCESS_KEY_ID}\naws_secret_access_key = {FAKE_SECRET_ACCESS_KEY}\nregion = us-east-1\nendpoint_url = {}\n\n{generated}",
            f.endpoint()
        ),
    )
    .unwrap();
    let want = [
        member.id.clone(),
        SECOND_MANAGEMENT.to_string(),
        prod_b.clone(),
    ];
    let names: Vec<String> = want.iter().map(|id| name(id)).collect();
    let mut args = vec!["whoami", config.to_str().unwrap()];
    args.extend(names.iter().map(String::as_str));
    let who = testkit::python(&f.endpoint(), "config_files.py", &args, &[]);
    for (id, name) in want.iter().zip(&names) {
        assert_eq!(who[name]["Account"], json!(id), "{name}: {}", who[name]);
    }
    assert!(
        who[&names[2]]["Arn"]
            .as_str()
            .unwrap()
            .contains("assumed-role/OrganizationAccountAccessRole/census-config-test"),
        "{}",
        who[&names[2]]
    );
}

#[test]
fn imds_and_ecs_modes_with_the_scan_filters() {
    let f = fixture();
    let dir = TempDir::new("census-config-modes");
    let prod = f
        .first
        .ous
        .iter()
        .find(|o| o.path == "Root/Workloads/Prod")
        .unwrap();
    let out = census(
        &dir,
        &[
            "config",
            "aws-profiles",
            "--org",
            "--ou",
            &prod.id,
            "--mode",
            "imds",
            "--prefix",
            "acme-",
            "--profile-region",
            "eu-west-1",
            "--role-name",
            "CensusReader",
            "--external-id",
            "census-ext-1",
            "--duration",
            "1800",
            "-o",
            "imds.ini",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let p = profiles(&parse_ini(&dir.join("imds.ini")));
    let want: BTreeSet<&String> = f
        .first
        .accounts
        .iter()
        .filter(|a| a.ou_path.starts_with("Root/Workloads/Prod"))
        .map(|a| &a.id)
        .collect();
    assert!(!want.is_empty());
    let got = by_account(&p);
    assert_eq!(got.keys().collect::<BTreeSet<_>>(), want);
    for (id, (name, p)) in &got {
        assert!(name.starts_with("acme-"), "{name}");
        assert_eq!(
            p["role_arn"],
            format!("arn:aws:iam::{id}:role/CensusReader")
        );
        assert_eq!(p["credential_source"], "Ec2InstanceMetadata");
        assert!(!p.contains_key("source_profile"));
        assert_eq!(p["region"], "eu-west-1");
        assert_eq!(p["external_id"], "census-ext-1");
        assert_eq!(p["duration_seconds"], "1800");
    }

    // ecs, to stdout, without the management account and one member.
    let dropped = &f.first.members().nth(2).unwrap().id;
    let out = census(
        &dir,
        &[
            "config",
            "aws-profiles",
            "--org",
            "--mode",
            "ecs",
            "--include-management",
            "false",
            "--exclude-accounts",
            dropped,
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    std::fs::write(dir.join("ecs.ini"), &out.stdout).unwrap();
    let got = by_account(&profiles(&parse_ini(&dir.join("ecs.ini"))));
    let want: BTreeSet<&String> = f
        .first
        .members()
        .map(|a| &a.id)
        .filter(|id| *id != dropped)
        .collect();
    assert_eq!(got.keys().collect::<BTreeSet<_>>(), want);
    assert!(got
        .values()
        .all(|(_, p)| p["credential_source"] == "EcsContainer"));
}

#[test]
fn an_organization_whose_entry_account_is_left_out_gets_an_entry_profile() {
    let f = fixture();
    let dir = TempDir::new("census-config-hop");
    let out = census(
        &dir,
        &[
            "config",
            "aws-profiles",
            "--org-role-arn",
            ORG_ROLE,
            "--include-management",
            "false",
            "--source-profile",
            "census-base",
            "-o",
            "hop.ini",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let p = profiles(&parse_ini(&dir.join("hop.ini")));
    let entry = format!("entry-{}", f.second_org);
    assert_eq!(p[&entry]["role_arn"], ORG_ROLE);
    assert_eq!(p[&entry]["source_profile"], "census-base");
    let members: BTreeMap<_, _> = p.iter().filter(|(n, _)| **n != entry).collect();
    assert_eq!(members.len(), f.second.len() - 1);
    for (name, profile) in &members {
        assert_eq!(profile["source_profile"], entry, "{name}");
        assert!(f.second.contains_key(&account_of(&profile["role_arn"])));
    }
    let generated = std::fs::read_to_string(dir.join("hop.ini")).unwrap();
    let config = dir.join("config");
    std::fs::write(
        &config,
        format!(
            "[profile census-base]\naws_access_key_id = {FAKE_ACCESS_KEY_ID}\naws_secret_access_key = {FAKE_SECRET_ACCESS_KEY}\nregion = us-east-1\nendpoint_url = {}\n\n{generated}",
            f.endpoint()
        ),
    )
    .unwrap();
    let (name, profile) = members.iter().next().unwrap();
    let who = testkit::python(
        &f.endpoint(),
        "config_files.py",
        &["whoami", config.to_str().unwrap(), name],
        &[],
    );
    assert_eq!(
        who[name.as_str()]["Account"],
        json!(account_of(&profile["role_arn"]))
    );
}

#[test]
fn conflicts_are_listed_and_the_aws_config_is_never_written() {
    let f = fixture();
    let dir = TempDir::new("census-config-conflicts");
    let home = dir.join("home");
    std::fs::create_dir_all(home.join(".aws")).unwrap();
    let member = f.first.members().next().unwrap();
    let aws_config = home.join(".aws").join("config");
    let original = format!(
        "[default]\nregion = eu-west-1\n\n[profile {}]\nregion = us-east-1\n\n[sso-session corp]\nsso_region = us-east-1\n",
        member.name
    );
    std::fs::write(&aws_config, &original).unwrap();
    let home_env = [("HOME", home.to_str().unwrap())];

    // --check-conflicts without a file: the AWS config.
    let out = census_env(
        &dir,
        &[
            "config",
            "aws-profiles",
            "--org",
            "--check-conflicts",
            "-o",
            "new.ini",
        ],
        &home_env,
    );
    let err = stderr(&out);
    assert_eq!(code(&out), 2, "{err}");
    assert!(
        err.contains(&format!(
            "profile {} is already in {} (line 4)",
            member.name,
            aws_config.display()
        )),
        "{err}"
    );
    assert_eq!(err.matches("census: conflict:").count(), 1, "{err}");
    assert!(dir.join("new.ini").is_file(), "written all the same");

    // The AWS config is never the output, even with --force, and is left as it was.
    let out = census_env(
        &dir,
        &[
            "config",
            "aws-profiles",
            "--org",
            "--force",
            "-o",
            aws_config.to_str().unwrap(),
        ],
        &home_env,
    );
    let err = stderr(&out);
    assert_eq!(code(&out), 1, "{err}");
    assert!(err.contains("never writes over the AWS config"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert_eq!(std::fs::read_to_string(&aws_config).unwrap(), original);

    // An existing output file needs --force.
    let out = census_env(
        &dir,
        &["config", "steampipe", "--org", "-o", "new.ini"],
        &home_env,
    );
    let err = stderr(&out);
    assert_eq!(code(&out), 1, "{err}");
    assert!(err.contains("pass --force"), "{err}");
    let out = census_env(
        &dir,
        &["config", "steampipe", "--org", "--force", "-o", "new.ini"],
        &home_env,
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(std::fs::read_to_string(dir.join("new.ini"))
        .unwrap()
        .contains("connection \"aws\""));
}

#[test]
fn bad_flags_get_one_line_errors() {
    let dir = TempDir::new("census-config-errors");
    for (args, want) in [
        (
            &["config", "aws-profiles", "--prefix", "a b"][..],
            "--prefix: \"a b\"",
        ),
        (
            &[
                "config",
                "aws-profiles",
                "--mode",
                "imds",
                "--source-profile",
                "x",
            ][..],
            "--source-profile is for --mode local",
        ),
        (
            &["config", "aws-profiles", "--profile-region", "mars-1"][..],
            "--profile-region",
        ),
        (
            &["config", "cartography", "--accounts", "12345"][..],
            "--accounts: \"12345\"",
        ),
        (
            &["config", "steampipe", "--regions", "EU*"][..],
            "--regions: \"EU*\"",
        ),
        (
            &["config", "aws-profiles", "--role-name", "bad name"][..],
            "--role-name",
        ),
    ] {
        let out = census(&dir, args);
        let err = stderr(&out);
        assert_eq!(code(&out), 1, "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

/// A block attribute's value.
fn attr<'a>(block: &'a hcl::Block, key: &str) -> &'a hcl::Expression {
    block
        .body
        .attributes()
        .find(|a| a.key.as_str() == key)
        .map(|a| &a.expr)
        .unwrap_or_else(|| panic!("no {key} in {block:?}"))
}

fn string(e: &hcl::Expression) -> String {
    match e {
        hcl::Expression::String(s) => s.clone(),
        other => panic!("not a string: {other:?}"),
    }
}

fn strings(e: &hcl::Expression) -> Vec<String> {
    match e {
        hcl::Expression::Array(items) => items.iter().map(string).collect(),
        other => panic!("not an array: {other:?}"),
    }
}

#[test]
fn steampipe_connections_match_the_profiles() {
    let f = fixture();
    let dir = TempDir::new("census-config-steampipe");
    let common = [
        "--org",
        "--org-role-arn",
        ORG_ROLE,
        "--source-profile",
        "census-base",
        "--prefix",
        "acme.",
    ];
    let mut args = vec!["config", "steampipe"];
    args.extend(common);
    args.extend(["--regions", "us-east-1,eu-*", "-o", "aws.spc"]);
    let out = census(&dir, &args);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let mut args = vec!["config", "aws-profiles"];
    args.extend(common);
    args.extend(["-o", "profiles.ini"]);
    let out = census(&dir, &args);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let profile_names: BTreeSet<String> = profiles(&parse_ini(&dir.join("profiles.ini")))
        .into_keys()
        .collect();

    let text = std::fs::read_to_string(dir.join("aws.spc")).unwrap();
    let body: hcl::Body = hcl::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let mut connections: BTreeMap<String, &hcl::Block> = BTreeMap::new();
    for block in body.blocks() {
        assert_eq!(block.identifier.as_str(), "connection");
        assert_eq!(block.labels.len(), 1);
        let name = block.labels[0].as_str().to_string();
        assert!(
            connections.insert(name.clone(), block).is_none(),
            "{name} twice"
        );
    }
    assert_eq!(
        connections.len(),
        f.all().len() + 1,
        "{:?}",
        connections.keys()
    );
    let aggregator = connections.remove("aws").expect("the aggregator");
    assert_eq!(string(attr(aggregator, "plugin")), "aws");
    assert_eq!(string(attr(aggregator, "type")), "aggregator");
    assert_eq!(strings(attr(aggregator, "connections")), ["aws_*"]);
    let mut used = BTreeSet::new();
    for (name, block) in &connections {
        let ok = name.starts_with("aws_")
            && name.len() <= 63
            && name[4..]
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        assert!(
            ok && !name.contains("acme"),
            "{name}: the prefix is the profiles'"
        );
        assert_eq!(string(attr(block, "plugin")), "aws");
        assert_eq!(strings(attr(block, "regions")), ["us-east-1", "eu-*"]);
        used.insert(string(attr(block, "profile")));
    }
    assert_eq!(used, profile_names, "one connection per profile");
    let member = f.first.members().next().unwrap();
    assert_eq!(
        string(attr(
            connections[&format!("aws_{}", member.name.replace('-', "_"))],
            "profile"
        )),
        format!("acme.{}", member.name)
    );
}

#[test]
fn cartography_profiles_take_the_instance_role() {
    let f = fixture();
    let dir = TempDir::new("census-config-cartography");
    let out = census(
        &dir,
        &[
            "config",
            "cartography",
            "--org",
            "--org-role-arn",
            ORG_ROLE,
            "--chain-through-management",
            "false",
            "--role-name",
            "cartography-read-only",
            "-o",
            "cartography.ini",
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let sections = parse_ini(&dir.join("cartography.ini"));
    assert_eq!(
        sections["default"],
        BTreeMap::from([
            ("region".to_string(), "us-east-1".to_string()),
            ("output".to_string(), "json".to_string())
        ])
    );
    let p = profiles(&sections);
    assert_eq!(sections.len(), p.len() + 1, "{:?}", sections.keys());
    let got = by_account(&p);
    assert_eq!(
        got.keys().collect::<BTreeSet<_>>(),
        f.all().keys().collect::<BTreeSet<_>>()
    );
    for (id, (_, p)) in &got {
        assert_eq!(p["credential_source"], "Ec2InstanceMetadata");
        assert_eq!(p["output"], "json");
        assert_eq!(p["region"], "us-east-1");
        let role = if id == SECOND_MANAGEMENT {
            ORG_ROLE.to_string()
        } else {
            format!("arn:aws:iam::{id}:role/cartography-read-only")
        };
        assert_eq!(p["role_arn"], role);
        assert!(!p.contains_key("source_profile"));
    }
}
