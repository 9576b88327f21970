//! `census doctor` end to end: the binary run as a user runs it against moto's seeded
//! demo organization, healthy, and behind testkit's fault proxy for the failures moto
//! never produces (AssumeRole or ListAccounts denied, an external ID that does not
//! match, an SCP denying the read call).

use std::collections::BTreeSet;

use serde_json::Value;
use testkit::{
    cli_command, shared_demo_org, Action, FaultProxy, Match, Protocol, Reply, Rule,
    FAKE_SECRET_ACCESS_KEY, MANAGEMENT_ACCOUNT_ID,
};

/// Runs `census doctor ARGS` against `endpoint`: exit status, stdout, stderr.
fn doctor(endpoint: &str, args: &[&str]) -> (i32, String, String) {
    let out = cli_command(env!("CARGO_BIN_EXE_census"), endpoint)
        .arg("doctor")
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    for text in [&stdout, &stderr] {
        assert!(
            !text.contains(FAKE_SECRET_ACCESS_KEY),
            "the secret key was printed"
        );
    }
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

/// `census doctor ARGS --output json`: exit status, rows, stderr.
fn doctor_json(endpoint: &str, args: &[&str]) -> (i32, Vec<Value>, String) {
    let mut all = args.to_vec();
    all.extend(["--output", "json"]);
    let (code, stdout, stderr) = doctor(endpoint, &all);
    let rows: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("doctor printed no JSON ({e}):\n{stdout}\n{stderr}"));
    (code, rows.as_array().unwrap().clone(), stderr)
}

fn rows<'a>(all: &'a [Value], check: &str) -> Vec<&'a Value> {
    all.iter().filter(|r| r["check"] == check).collect()
}

fn row<'a>(all: &'a [Value], check: &str, account: &str) -> &'a Value {
    let found: Vec<&Value> = rows(all, check)
        .into_iter()
        .filter(|r| r["account_id"] == account)
        .collect();
    assert_eq!(found.len(), 1, "one {check} row for {account}: {all:#?}");
    found[0]
}

fn failed(all: &[Value]) -> Vec<(String, String)> {
    all.iter()
        .filter(|r| r["status"] == "fail")
        .map(|r| {
            (
                r["check"].as_str().unwrap().to_string(),
                r["account_id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn text<'a>(r: &'a Value, key: &str) -> &'a str {
    r[key].as_str().unwrap_or_default()
}

/// The table's rows as cells, cut at the columns the rule line (`-----  ---`) marks.
fn parse_table(table: &str) -> Vec<Vec<String>> {
    let lines: Vec<&str> = table.lines().collect();
    let rule = lines[1];
    assert!(rule.starts_with("---"), "{table}");
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in rule.char_indices().chain([(rule.len(), ' ')]) {
        match (c, start) {
            ('-', None) => start = Some(i),
            (' ', Some(s)) => {
                spans.push(s);
                start = None;
            }
            _ => {}
        }
    }
    lines[2..]
        .iter()
        .map(|line| {
            let chars: Vec<char> = line.chars().collect();
            (0..spans.len())
                .map(|i| {
                    let from = spans[i].min(chars.len());
                    let to = spans
                        .get(i + 1)
                        .copied()
                        .unwrap_or(chars.len())
                        .min(chars.len());
                    chars[from..to]
                        .iter()
                        .collect::<String>()
                        .trim()
                        .to_string()
                })
                .collect()
        })
        .collect()
}

#[test]
fn a_healthy_organization_passes() {
    let (moto, m) = shared_demo_org();
    let regions = m.regions.join(",");
    let (code, all, stderr) = doctor_json(&moto.endpoint(), &["--org", "--regions", &regions]);
    assert_eq!(code, 0, "{all:#?}\n{stderr}");
    assert!(failed(&all).is_empty(), "{all:#?}");
    assert!(
        all.iter().all(|r| r["status"] == "ok"),
        "every check passes: {all:#?}"
    );
    assert_eq!(
        text(rows(&all, "identity")[0], "account_id"),
        MANAGEMENT_ACCOUNT_ID
    );
    let org = rows(&all, "organization");
    assert_eq!(org.len(), 1);
    assert!(
        text(org[0], "message").contains(&m.organization_id),
        "{}",
        org[0]
    );
    let listed = rows(&all, "list-accounts");
    assert_eq!(
        text(listed[0], "message"),
        format!("{} ACTIVE accounts (0 not active)", m.accounts.len())
    );
    // One assume-role, read and regions row per account of the organization.
    let expected: BTreeSet<&str> = m.accounts.iter().map(|a| a.id.as_str()).collect();
    for check in ["assume-role", "read", "regions"] {
        let ids: BTreeSet<&str> = rows(&all, check)
            .iter()
            .map(|r| text(r, "account_id"))
            .collect();
        assert_eq!(ids, expected, "{check}");
        assert_eq!(rows(&all, check).len(), m.accounts.len(), "{check}");
    }
    for a in m.members() {
        let assumed = row(&all, "assume-role", &a.id);
        assert_eq!(assumed["account_name"], a.name.as_str());
        assert!(
            text(assumed, "message").starts_with(&format!(
                "as arn:aws:sts::{}:assumed-role/OrganizationAccountAccessRole/census-doctor-",
                a.id
            )),
            "{assumed}"
        );
        assert_eq!(row(&all, "read", &a.id)["region"], "us-east-1");
        assert_eq!(
            text(row(&all, "regions", &a.id), "message"),
            format!("all {} --regions enabled", m.regions.len())
        );
    }
    assert!(
        text(row(&all, "assume-role", MANAGEMENT_ACCOUNT_ID), "message")
            .starts_with("the caller's own account: base credentials")
    );
    assert!(
        stderr.contains(&format!(
            "{} checks: {} ok, 0 warn, 0 failed, 0 skipped",
            all.len(),
            all.len()
        )),
        "{stderr}"
    );
}

#[test]
fn denied_assume_role_fails_exactly_those_accounts() {
    let (moto, m) = shared_demo_org();
    let proxy = FaultProxy::start(moto);
    let members: Vec<&testkit::Account> = m.members().collect();
    let denied: BTreeSet<String> = [members[1].id.clone(), members[5].id.clone()].into();
    for id in &denied {
        proxy.add(Rule::new(
            Match::any().form_action("AssumeRole").body_contains(id),
            Action::Reply(Reply::access_denied(Protocol::Query)),
        ));
    }
    let (code, all, stderr) = doctor_json(&proxy.endpoint(), &["--org"]);
    assert_eq!(code, 2, "{all:#?}\n{stderr}");
    let expected: Vec<(String, String)> = denied
        .iter()
        .map(|id| ("assume-role".to_string(), id.clone()))
        .collect();
    assert_eq!(failed(&all), expected);
    for id in &denied {
        let r = row(&all, "assume-role", id);
        assert_eq!(r["error_code"], "AccessDenied");
        let fix = text(r, "remediation");
        let role = format!("arn:aws:iam::{id}:role/OrganizationAccountAccessRole");
        assert!(
            fix.contains("trust policy does not trust arn:aws:sts::123456789012:user/moto")
                && fix.contains(&format!("lacks sts:AssumeRole on {role}"))
                && fix.contains(&format!("the role is missing or misnamed in account {id}")),
            "{fix}"
        );
        assert_eq!(
            text(r, "message"),
            format!(
                "cannot assume {role}: User is not authorized to perform this operation [request id {}]",
                testkit::FAULT_REQUEST_ID
            )
        );
        for check in ["read", "regions"] {
            let skipped = row(&all, check, id);
            assert_eq!(skipped["status"], "skipped", "{skipped}");
            assert!(
                text(skipped, "message").contains("assume-role failed"),
                "{skipped}"
            );
        }
    }
    // Everything else passed.
    let others = all
        .iter()
        .filter(|r| !denied.contains(text(r, "account_id")) || r["check"] == "identity")
        .filter(|r| r["status"] != "ok")
        .count();
    assert_eq!(others, 0, "{all:#?}");
    assert_eq!(rows(&all, "assume-role").len(), m.accounts.len());
    assert!(stderr.contains("2 failed, 4 skipped"), "{stderr}");

    // The table says the same as the JSON, row for row.
    let (code, table, _) = doctor(&proxy.endpoint(), &["--org"]);
    assert_eq!(code, 2);
    let header = table.lines().next().unwrap();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        [
            "check",
            "account_id",
            "account_name",
            "region",
            "status",
            "error_code",
            "message",
            "remediation"
        ]
    );
    let cells = parse_table(&table);
    assert_eq!(cells.len(), all.len(), "{table}");
    let scrub = |s: &str| {
        // Session names carry the second the doctor ran.
        match s.find("census-doctor-") {
            Some(i) => s[..i].to_string(),
            None => s.to_string(),
        }
    };
    for (cells, json) in cells.iter().zip(&all) {
        let keys = [
            "check",
            "account_id",
            "account_name",
            "region",
            "status",
            "error_code",
            "message",
            "remediation",
        ];
        for (cell, key) in cells.iter().zip(keys) {
            assert_eq!(scrub(cell), scrub(text(json, key)), "{key} of {json}");
        }
    }
}

#[test]
fn denied_list_accounts_fails_and_named_accounts_are_still_checked() {
    let (moto, m) = shared_demo_org();
    let proxy = FaultProxy::start(moto);
    proxy.add(Rule::new(
        Match::any().target("ListAccounts"),
        Action::Reply(Reply::access_denied(Protocol::Json)),
    ));
    let (code, all, stderr) = doctor_json(&proxy.endpoint(), &["--org"]);
    assert_eq!(code, 2, "{all:#?}\n{stderr}");
    assert_eq!(
        failed(&all),
        [(
            "list-accounts".to_string(),
            MANAGEMENT_ACCOUNT_ID.to_string()
        )]
    );
    let r = &rows(&all, "list-accounts")[0];
    assert_eq!(r["error_code"], "AccessDeniedException");
    let fix = text(r, "remediation");
    assert!(
        fix.contains("needs organizations:ListAccounts")
            && fix.contains(&format!(
                "run from the management account {MANAGEMENT_ACCOUNT_ID} or a delegated administrator"
            )),
        "{fix}"
    );
    assert!(
        text(r, "message").starts_with(&format!(
            "organization of {MANAGEMENT_ACCOUNT_ID}: ListAccounts failed: AccessDeniedException"
        )),
        "{r}"
    );
    assert_eq!(rows(&all, "identity")[0]["status"], "ok");
    assert_eq!(rows(&all, "organization")[0]["status"], "ok");
    assert!(rows(&all, "assume-role").is_empty());

    // Accounts named with --accounts are checked all the same.
    let named = [&m.accounts[2].id, &m.accounts[4].id];
    let list = format!("{},{}", named[0], named[1]);
    let (code, all, stderr) = doctor_json(&proxy.endpoint(), &["--org", "--accounts", &list]);
    assert_eq!(code, 2, "{all:#?}\n{stderr}");
    assert_eq!(failed(&all).len(), 1, "{all:#?}");
    for id in named {
        for check in ["assume-role", "read", "regions"] {
            assert_eq!(row(&all, check, id)["status"], "ok", "{check} {id}");
        }
    }
    assert!(rows(&all, "discovery").is_empty(), "{all:#?}");
}

#[test]
fn a_wrong_external_id_is_named_as_such() {
    let (moto, m) = shared_demo_org();
    let proxy = FaultProxy::start(moto);
    let members: Vec<&testkit::Account> = m.members().collect();
    let (strict, other) = (&members[0].id, &members[3].id);
    // The strict account's trust policy wants another external ID than the one given.
    proxy.add(Rule::new(
        Match::any()
            .form_action("AssumeRole")
            .body_contains("ExternalId=census-ext-given")
            .body_contains(strict),
        Action::Reply(Reply::access_denied(Protocol::Query)),
    ));
    let list = format!("{strict},{other}");
    let (code, all, stderr) = doctor_json(
        &proxy.endpoint(),
        &["--accounts", &list, "--external-id", "census-ext-given"],
    );
    assert_eq!(code, 2, "{all:#?}\n{stderr}");
    assert_eq!(failed(&all), [("assume-role".to_string(), strict.clone())]);
    let fix = text(row(&all, "assume-role", strict), "remediation");
    assert!(
        fix.ends_with(
            "or the external ID given does not match the trust policy's sts:ExternalId condition"
        ),
        "{fix}"
    );
    assert_eq!(row(&all, "assume-role", other)["status"], "ok");
    // The external ID is not printed.
    let printed = serde_json::to_string(&all).unwrap() + &stderr;
    assert!(!printed.contains("census-ext-given"), "{printed}");
}

#[test]
fn an_scp_denying_reads_and_a_region_not_enabled_are_reported() {
    let (moto, m) = shared_demo_org();
    let proxy = FaultProxy::start(moto);
    let member = &m.members().next().unwrap().id;
    // ap-southeast-9 is shaped like a region but not one the account has enabled.
    let (code, all, _) = doctor_json(
        &proxy.endpoint(),
        &[
            "--accounts",
            member,
            "--regions",
            "us-east-1,ap-southeast-9",
        ],
    );
    assert_eq!(code, 2, "{all:#?}");
    assert_eq!(failed(&all), [("regions".to_string(), member.clone())]);
    let r = row(&all, "regions", member);
    assert_eq!(r["error_code"], "RegionNotEnabled");
    assert_eq!(r["region"], "ap-southeast-9");
    assert!(
        text(r, "remediation").starts_with(&format!("enable ap-southeast-9 in account {member}")),
        "{r}"
    );

    proxy.add(Rule::new(
        Match::any().form_action("DescribeRegions"),
        Action::Reply(Reply::error(
            Protocol::Ec2,
            403,
            "UnauthorizedOperation",
            "You are not authorized to perform this operation. with an explicit deny in a service control policy",
        )),
    ));
    let (code, all, _) = doctor_json(&proxy.endpoint(), &["--accounts", member]);
    assert_eq!(code, 2, "{all:#?}");
    assert_eq!(failed(&all), [("read".to_string(), member.clone())]);
    let r = row(&all, "read", member);
    assert_eq!(r["error_code"], "UnauthorizedOperation");
    assert!(
        text(r, "message").starts_with("ec2:DescribeRegions: You are not authorized"),
        "{r}"
    );
    assert!(text(r, "remediation").starts_with(&format!(
        "a service control policy (SCP) denies ec2:DescribeRegions in account {member}: exempt arn:aws:iam::{member}:role/OrganizationAccountAccessRole"
    )), "{r}");
    assert_eq!(row(&all, "assume-role", member)["status"], "ok");
    assert_eq!(row(&all, "regions", member)["status"], "skipped");
}

#[test]
fn bad_flags_exit_1_with_one_line() {
    // Nothing listens there: the flags are refused before any call.
    for (args, says) in [
        (
            &["--regions", "eu-wset-1"][..],
            "--regions: \"eu-wset-1\" is not an AWS region; did you mean eu-west-1",
        ),
        (&["--output", "xml"][..], "unknown output format \"xml\""),
        (
            &["--accounts", "12345"][..],
            "--accounts: \"12345\" is not an AWS account id",
        ),
        (&["--duration", "60"][..], "--duration: 60 s"),
    ] {
        let (code, stdout, stderr) = doctor("http://127.0.0.1:9", args);
        assert_eq!(code, 1, "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{stdout}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

#[test]
fn an_organization_entered_through_a_role() {
    let (moto, m) = shared_demo_org();
    let proxy = FaultProxy::start(moto);
    let role = format!("arn:aws:iam::{MANAGEMENT_ACCOUNT_ID}:role/CensusOrgReader");
    let (code, all, stderr) = doctor_json(&proxy.endpoint(), &["--org-role-arn", &role]);
    assert_eq!(code, 0, "{all:#?}\n{stderr}");
    assert!(all.iter().all(|r| r["status"] == "ok"), "{all:#?}");
    assert_eq!(
        text(rows(&all, "org-role")[0], "message"),
        format!("assumed {role}")
    );
    assert_eq!(rows(&all, "organization").len(), 1);
    assert_eq!(rows(&all, "assume-role").len(), m.accounts.len());
    // The members are entered from the organization role; the management account is
    // the caller's own, read with the base credentials.
    for a in m.members() {
        assert!(
            text(row(&all, "assume-role", &a.id), "message").starts_with(&format!(
                "as arn:aws:sts::{}:assumed-role/OrganizationAccountAccessRole/",
                a.id
            )),
            "{all:#?}"
        );
    }
    assert!(
        text(row(&all, "assume-role", MANAGEMENT_ACCOUNT_ID), "message")
            .starts_with("the caller's own account"),
        "{all:#?}"
    );
    // Member roles were assumed with the organization role's credentials, not the
    // caller's (fake) key.
    let member_assumes = proxy.requests_matching(
        &Match::any()
            .form_action("AssumeRole")
            .body_contains("OrganizationAccountAccessRole"),
    );
    assert_eq!(member_assumes.len(), m.members().count());
    assert!(member_assumes.iter().all(|r| !r
        .header("authorization")
        .unwrap_or_default()
        .contains(testkit::FAKE_ACCESS_KEY_ID)));

    proxy.add(Rule::new(
        Match::any()
            .form_action("AssumeRole")
            .body_contains("CensusOrgReader"),
        Action::Reply(Reply::access_denied(Protocol::Query)),
    ));
    let (code, all, _) = doctor_json(&proxy.endpoint(), &["--org-role-arn", &role]);
    assert_eq!(code, 2, "{all:#?}");
    assert_eq!(
        failed(&all),
        [("org-role".to_string(), MANAGEMENT_ACCOUNT_ID.to_string())]
    );
    let r = rows(&all, "org-role")[0];
    assert_eq!(r["error_code"], "AccessDenied");
    assert!(text(r, "remediation").contains("trust policy"), "{r}");
    for check in ["organization", "list-accounts"] {
        assert_eq!(rows(&all, check)[0]["status"], "skipped", "{check}");
    }
    assert!(rows(&all, "assume-role").is_empty(), "{all:#?}");
    assert!(rows(&all, "discovery").is_empty(), "{all:#?}");
}

#[test]
fn bad_base_credentials_fail_the_identity_and_skip_the_rest() {
    let (moto, m) = shared_demo_org();
    let proxy = FaultProxy::start(moto);
    proxy.add(Rule::new(
        Match::any().form_action("GetCallerIdentity"),
        Action::Reply(Reply::error(
            Protocol::Query,
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        )),
    ));
    let member = &m.accounts[1].id;
    let (code, all, _) = doctor_json(&proxy.endpoint(), &["--org", "--accounts", member]);
    assert_eq!(code, 2, "{all:#?}");
    assert_eq!(failed(&all), [("identity".to_string(), String::new())]);
    let r = rows(&all, "identity")[0];
    assert_eq!(r["error_code"], "InvalidClientTokenId");
    assert!(
        text(r, "remediation").starts_with("refresh your credentials"),
        "{r}"
    );
    let skipped: Vec<(&str, &str)> = all
        .iter()
        .filter(|r| r["status"] == "skipped")
        .map(|r| (text(r, "check"), text(r, "account_id")))
        .collect();
    assert_eq!(
        skipped,
        [
            ("organization", ""),
            ("list-accounts", ""),
            ("assume-role", member.as_str())
        ]
    );
}
