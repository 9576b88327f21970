//! `census inventory` and `census report tags` end to end: a moto organization seeded
//! with boto3 (the demo org, its ec2 resources then tagged with Environment, Owner and
//! AideId in a known pattern, some values empty), scanned once into SQLite and
//! PostgreSQL at once; the filters, formats and the tag report are checked against
//! what boto3 reports for every account and region, never against census's own
//! output.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use serde_json::{json, Value};
use testkit::{boto3_call, cli_command, seed_demo_org, Caller, DemoOrg, Manifest, Moto, Postgres};

/// One resource as boto3 sees it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Truth {
    account_id: String,
    region: String,
    kind: String,
    id: String,
    account_name: String,
    tags: BTreeMap<String, String>,
}

struct Fixture {
    _moto: Moto,
    manifest: Manifest,
    db: PathBuf,
    postgres: String,
    /// Every ec2 VPC, subnet, security group and instance, sorted as census sorts.
    truth: Vec<Truth>,
    /// Every SQS queue URL per account.
    queues: BTreeSet<(String, String, String)>,
}

const REGIONS: &[&str] = &["us-east-1", "eu-west-1"];

fn caller(manifest: &Manifest, account_id: &str, region: &str) -> Caller {
    if account_id == manifest.management_account_id {
        Caller::management().in_region(region)
    } else {
        Caller::member(account_id).in_region(region)
    }
}

/// The tags the fixture adds to the `j`th ec2 resource of an account and region.
fn added_tags(j: usize) -> Vec<(&'static str, String)> {
    match j % 4 {
        0 => vec![
            ("Environment", "prod".into()),
            ("Owner", "team-a".into()),
            ("AideId", format!("A-{j}")),
        ],
        1 => vec![("Environment", "dev".into())],
        2 => vec![("Environment", String::new()), ("Owner", "team-b".into())],
        // A name a spreadsheet would run as a formula.
        _ => vec![("Name", "=1+2".into())],
    }
}

fn tags_of(item: &Value) -> BTreeMap<String, String> {
    item["Tags"]
        .as_array()
        .map(|tags| {
            tags.iter()
                .map(|t| {
                    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
                    (text(&t["Key"]), text(&t["Value"]))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let moto = Moto::start();
        let manifest = seed_demo_org(
            &moto,
            &DemoOrg {
                members: 3,
                resource_accounts: 2,
                suspended: 0,
                regions: REGIONS.iter().map(|r| r.to_string()).collect(),
                iam_roles: 1,
            },
        );
        for account in manifest.resource_accounts() {
            for region in REGIONS {
                let ids: Vec<&String> = [
                    "ec2:vpc",
                    "ec2:subnet",
                    "ec2:security-group",
                    "ec2:instance",
                ]
                .iter()
                .flat_map(|k| manifest.ids(&account.id, region, k))
                .collect();
                for (j, id) in ids.iter().enumerate() {
                    let tags: Vec<Value> = added_tags(j)
                        .into_iter()
                        .map(|(k, v)| json!({"Key": k, "Value": v}))
                        .collect();
                    boto3_call(
                        &moto,
                        &caller(&manifest, &account.id, region),
                        "ec2",
                        "CreateTags",
                        &json!({"Resources": [id], "Tags": tags}),
                        false,
                    );
                }
            }
        }
        // Lives as long as the test process (statics are never dropped): a fixed
        // folder under cargo's per-target temp dir, emptied first.
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("inventory-cli");
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).unwrap();
        let postgres = Postgres::shared().create_database("inventory_cli");
        let spec = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scans/tagged.json");
        let scan = cli_command(env!("CARGO_BIN_EXE_census"), &moto.endpoint())
            .args(["scan", "--org", "-s", spec.to_str().unwrap(), "-o"])
            .arg(&out)
            .args(["--regions", &REGIONS.join(","), "--postgres", &postgres])
            .output()
            .unwrap();
        ok(&scan, "census scan");
        // What boto3 sees after the scan (moto makes each region's default VPC,
        // subnets and security group when the region is first asked about).
        let mut truth = Vec::new();
        let mut queues = BTreeSet::new();
        for account in &manifest.accounts {
            for region in REGIONS {
                let who = caller(&manifest, &account.id, region);
                let call = |op: &str| boto3_call(&moto, &who, "ec2", op, &json!({}), true);
                let mut add = |kind: &str, id: &str, item: &Value| {
                    truth.push(Truth {
                        account_id: account.id.clone(),
                        region: region.to_string(),
                        kind: kind.into(),
                        id: item[id].as_str().unwrap().to_string(),
                        account_name: account.name.clone(),
                        tags: tags_of(item),
                    })
                };
                for v in call("DescribeVpcs")["Vpcs"].as_array().unwrap() {
                    add("ec2:Vpc", "VpcId", v);
                }
                for v in call("DescribeSubnets")["Subnets"].as_array().unwrap() {
                    add("ec2:Subnet", "SubnetId", v);
                }
                for v in call("DescribeSecurityGroups")["SecurityGroups"]
                    .as_array()
                    .unwrap()
                {
                    add("ec2:SecurityGroup", "GroupId", v);
                }
                for r in call("DescribeInstances")["Reservations"]
                    .as_array()
                    .unwrap()
                {
                    for i in r["Instances"].as_array().unwrap() {
                        add("ec2:Instance", "InstanceId", i);
                    }
                }
                let q = boto3_call(&moto, &who, "sqs", "ListQueues", &json!({}), true);
                for url in q["QueueUrls"].as_array().into_iter().flatten() {
                    let url = url.as_str().unwrap().to_string();
                    queues.insert((account.id.clone(), region.to_string(), url));
                }
            }
        }
        truth.sort_by(|a, b| {
            (&a.account_id, &a.region, &a.kind, &a.id).cmp(&(
                &b.account_id,
                &b.region,
                &b.kind,
                &b.id,
            ))
        });
        Fixture {
            _moto: moto,
            manifest,
            db: out.join("census.db"),
            postgres,
            truth,
            queues,
        }
    })
}

fn ok(out: &Output, what: &str) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn census(args: &[&str]) -> Output {
    cli_command(env!("CARGO_BIN_EXE_census"), "http://127.0.0.1:9")
        .args(args)
        .output()
        .unwrap()
}

/// `census <args> --db DB` (and `--output json` unless given), as JSON rows.
fn json_rows(db: &Path, args: &[&str]) -> Vec<Value> {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--db", db.to_str().unwrap()]);
    if !args.contains(&"--output") {
        all.extend(["--output", "json"]);
    }
    let text = ok(&census(&all), &all.join(" "));
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    v.as_array().unwrap().clone()
}

/// The id boto3 names a resource by: the store's `resource_id` is the item's ARN where
/// it has one (subnets, security groups), else its id.
fn short_id(resource_id: &str) -> String {
    match resource_id.strip_prefix("arn:") {
        Some(arn) => arn.rsplit('/').next().unwrap_or(arn).to_string(),
        None => resource_id.to_string(),
    }
}

/// `(account_id, region, type, id)` of `census inventory` rows, in printed order.
fn keys(rows: &[Value]) -> Vec<(String, String, String, String)> {
    rows.iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            (
                s("account_id"),
                s("region"),
                s("resource_type"),
                short_id(&s("resource_id")),
            )
        })
        .collect()
}

fn truth_keys<'a>(
    f: &'a Fixture,
    keep: impl Fn(&Truth) -> bool + 'a,
) -> Vec<(String, String, String, String)> {
    f.truth
        .iter()
        .filter(|t| keep(t))
        .map(|t| {
            (
                t.account_id.clone(),
                t.region.clone(),
                t.kind.clone(),
                t.id.clone(),
            )
        })
        .collect()
}

fn inventory(args: &[&str]) -> Vec<(String, String, String, String)> {
    let f = fixture();
    let mut all = vec!["inventory"];
    all.extend(args);
    keys(&json_rows(&f.db, &all))
}

fn has_value(t: &Truth, key: &str) -> bool {
    t.tags.get(key).is_some_and(|v| !v.trim().is_empty())
}

#[test]
fn every_ec2_resource_once_with_its_account_tags_and_arn() {
    let f = fixture();
    let rows = json_rows(&f.db, &["inventory", "--type", "ec2"]);
    assert_eq!(keys(&rows), truth_keys(f, |_| true));
    for (row, t) in rows.iter().zip(&f.truth) {
        assert_eq!(row["account_name"], t.account_name.as_str(), "{row}");
        let tags: BTreeMap<String, String> =
            serde_json::from_value(row["tags"].clone()).unwrap_or_else(|e| panic!("{e}: {row}"));
        assert_eq!(tags, t.tags, "{row}");
        let arn = row["arn"].as_str().unwrap_or_default();
        assert!(
            arn.starts_with(&format!("arn:aws:ec2:{}:{}:", t.region, t.account_id))
                && arn.ends_with(&t.id),
            "{row}"
        );
        if let Some(name) = t.tags.get("Name") {
            assert_eq!(row["name"], name.as_str(), "{row}");
        }
    }
    // Without --type: the queues too, and nothing else.
    let all = inventory(&[]);
    let queues: BTreeSet<(String, String, String)> = all
        .iter()
        .filter(|k| k.2 == "sqs:Queue")
        .map(|k| (k.0.clone(), k.1.clone(), k.3.clone()))
        .collect();
    assert_eq!(queues, f.queues);
    assert_eq!(all.len(), f.truth.len() + f.queues.len());
}

#[test]
fn filters_by_account_region_and_type() {
    let f = fixture();
    let [first, second] = [
        &f.manifest.resource_accounts()[0],
        &f.manifest.resource_accounts()[1],
    ];
    // By name (any case) and by id, repeated and comma-separated.
    let by_name = inventory(&["--type", "ec2", "--account", &first.name.to_uppercase()]);
    assert_eq!(by_name, truth_keys(f, |t| t.account_id == first.id));
    assert!(!by_name.is_empty());
    assert_eq!(
        inventory(&["--type", "ec2", "--account", &first.id]),
        by_name
    );
    let both = truth_keys(f, |t| t.account_id == first.id || t.account_id == second.id);
    assert_eq!(
        inventory(&[
            "--type",
            "ec2",
            "--account",
            &format!("{},{}", first.id, second.name)
        ]),
        both
    );
    assert_eq!(
        inventory(&[
            "--type",
            "ec2",
            "--account",
            &first.name,
            "--account",
            &second.id
        ]),
        both
    );
    assert_eq!(
        inventory(&["--type", "ec2", "--region", "eu-west-1"]),
        truth_keys(f, |t| t.region == "eu-west-1")
    );
    // One type, in both spellings and any case.
    let instances = truth_keys(f, |t| t.kind == "ec2:Instance");
    assert_eq!(instances.len(), 6, "2 accounts x (2 + 1) instances");
    for spelling in [
        "ec2:Instance",
        "AWS::EC2::Instance",
        "ec2:instance",
        "aws::ec2::instance",
    ] {
        assert_eq!(inventory(&["--type", spelling]), instances, "{spelling}");
    }
    assert_eq!(
        inventory(&["--type", "ec2:Vpc,AWS::EC2::Subnet"]),
        truth_keys(f, |t| t.kind == "ec2:Vpc" || t.kind == "ec2:Subnet")
    );
    assert_eq!(inventory(&["--type", "ec2:*"]), truth_keys(f, |_| true));
    assert_eq!(
        inventory(&["--type", "AWS::EC2::*"]),
        truth_keys(f, |_| true)
    );
    assert_eq!(inventory(&["--type", "ec2:Vpc", "--limit", "2"]).len(), 2);
}

#[test]
fn filters_by_tags() {
    let f = fixture();
    let t = |args: &[&str]| {
        let mut all = vec!["--type", "ec2"];
        all.extend(args);
        inventory(&all)
    };
    let prod = t(&["--tag", "Environment=prod"]);
    assert_eq!(
        prod,
        truth_keys(f, |t| t.tags.get("Environment").map(String::as_str)
            == Some("prod"))
    );
    assert_eq!(
        prod.len(),
        2 * 2 * 2,
        "j = 0 and 4 in the first region, 0 in the second"
    );
    // Any value, the empty one included.
    let owner = t(&["--tag", "Owner"]);
    assert_eq!(owner, truth_keys(f, |t| t.tags.contains_key("Owner")));
    assert!(f
        .truth
        .iter()
        .any(|t| t.tags.get("Environment").is_some_and(String::is_empty)));
    assert_eq!(
        t(&["--tag", "Environment="]),
        truth_keys(f, |t| t
            .tags
            .get("Environment")
            .is_some_and(String::is_empty))
    );
    assert_eq!(
        t(&["--tag", "Environment=prod", "--tag", "Owner=team-a"]),
        prod,
        "every prod resource is team-a's"
    );
    // Missing or empty.
    let no_env = t(&["--missing-tag", "Environment"]);
    assert_eq!(no_env, truth_keys(f, |t| !has_value(t, "Environment")));
    assert!(
        no_env.len() > f.truth.len() / 2,
        "moto's defaults are untagged"
    );
    assert_eq!(
        t(&["--tag", "Owner", "--missing-tag", "Environment"]),
        truth_keys(f, |t| t.tags.contains_key("Owner")
            && !has_value(t, "Environment"))
    );
    assert_eq!(
        t(&[
            "--missing-tag",
            "Owner",
            "--missing-tag",
            "Environment|AideId"
        ]),
        truth_keys(f, |t| !has_value(t, "Owner")
            && !has_value(t, "Environment")
            && !has_value(t, "AideId"))
    );
}

#[test]
fn every_format_parses() {
    let f = fixture();
    let db = f.db.to_str().unwrap();
    let want = truth_keys(f, |t| t.kind == "ec2:Vpc");
    let csv_text = ok(
        &census(&[
            "inventory",
            "--type",
            "ec2:Vpc",
            "--db",
            db,
            "--output",
            "csv",
        ]),
        "csv",
    );
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "account_id",
            "account_name",
            "region",
            "resource_type",
            "resource_id",
            "arn",
            "name",
            "created",
            "tags"
        ]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let got: Vec<(String, String, String, String)> = records
        .iter()
        .map(|r| {
            (
                r[0].to_string(),
                r[2].to_string(),
                r[3].to_string(),
                short_id(&r[4]),
            )
        })
        .collect();
    assert_eq!(got, want);
    for (r, t) in records
        .iter()
        .zip(f.truth.iter().filter(|t| t.kind == "ec2:Vpc"))
    {
        let tags: BTreeMap<String, String> = serde_json::from_str(&r[8]).unwrap();
        assert_eq!(tags, t.tags);
        assert_eq!(&r[1], t.account_name);
    }
    let table = ok(
        &census(&["inventory", "--type", "ec2:Vpc", "--db", db]),
        "table",
    );
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), want.len() + 2, "{table}");
    assert!(
        lines[0].starts_with("account_id") && lines[0].ends_with("tags"),
        "{table}"
    );
    for (line, k) in lines[2..].iter().zip(&want) {
        assert!(line.starts_with(&k.0) && line.contains(&k.3), "{line}");
    }
    // No rows: an empty table, array and CSV, exit 0.
    let none = ["inventory", "--tag", "Nobody=has-this", "--db", db];
    assert_eq!(json_rows(&f.db, &none[..3]), Vec::<Value>::new());
    let empty = ok(
        &census(&[&none[..], &["--output", "csv"]].concat()),
        "empty csv",
    );
    assert_eq!(empty.lines().count(), 1);
    assert_eq!(ok(&census(&none), "empty table").lines().count(), 2);
}

/// What boto3's tags say a resource misses, of `required` (alternates joined by `|`).
fn misses(t: &Truth, required: &[&str]) -> Vec<String> {
    required
        .iter()
        .filter(|r| !r.split('|').any(|k| has_value(t, k)))
        .map(|r| r.to_string())
        .collect()
}

#[test]
fn report_tags_finds_exactly_the_untagged() {
    let f = fixture();
    let required = ["Environment", "Owner"];
    let rows = json_rows(
        &f.db,
        &[
            "report",
            "tags",
            "--require",
            "Environment,Owner",
            "--type",
            "ec2",
            "--resources",
        ],
    );
    let want: Vec<&Truth> = f
        .truth
        .iter()
        .filter(|t| !misses(t, &required).is_empty())
        .collect();
    assert_eq!(rows.len(), want.len());
    for (row, t) in rows.iter().zip(&want) {
        assert_eq!(
            short_id(row["resource_id"].as_str().unwrap()),
            t.id,
            "{row}"
        );
        assert_eq!(row["account_name"], t.account_name.as_str(), "{row}");
        assert_eq!(row["missing"], json!(misses(t, &required)), "{row}");
    }
    // As a table (read twice from the store): the same rows, counted once.
    let table = census(&[
        "report",
        "tags",
        "--require",
        "Environment,Owner",
        "--type",
        "ec2",
        "--resources",
        "--db",
        f.db.to_str().unwrap(),
    ]);
    let text = ok(&table, "report tags table");
    assert_eq!(text.lines().count(), want.len() + 2, "{text}");
    let note = String::from_utf8(table.stderr).unwrap();
    assert_eq!(
        note,
        format!(
            "census: {} of {} resources miss a required tag (missing: Environment {}, Owner {})\n",
            want.len(),
            f.truth.len(),
            f.truth
                .iter()
                .filter(|t| !has_value(t, "Environment"))
                .count(),
            f.truth.iter().filter(|t| !has_value(t, "Owner")).count(),
        )
    );
    // The summary: per account and type.
    let summary = json_rows(
        &f.db,
        &[
            "report",
            "tags",
            "--require",
            "Environment,Owner",
            "--type",
            "ec2",
        ],
    );
    let mut expected: BTreeMap<(String, String), [u64; 4]> = BTreeMap::new();
    for t in &f.truth {
        let m = misses(t, &required);
        let e = expected
            .entry((t.account_id.clone(), t.kind.clone()))
            .or_default();
        e[0] += 1;
        e[1] += u64::from(!m.is_empty());
        e[2] += u64::from(m.iter().any(|k| k == "Environment"));
        e[3] += u64::from(m.iter().any(|k| k == "Owner"));
    }
    let got: BTreeMap<(String, String), [u64; 4]> = summary
        .iter()
        .map(|r| {
            let n = |k: &str| r[k].as_u64().unwrap_or_else(|| panic!("{k}: {r}"));
            (
                (
                    r["account_id"].as_str().unwrap().to_string(),
                    r["resource_type"].as_str().unwrap().to_string(),
                ),
                [
                    n("resources"),
                    n("noncompliant"),
                    n("missing:Environment"),
                    n("missing:Owner"),
                ],
            )
        })
        .collect();
    assert_eq!(got, expected);
    // The default requirements, alternates and all: the account report's conventions.
    let defaults = ["Environment", "Aide_ID|AideId|AIDE_ID"];
    let rows = json_rows(
        &f.db,
        &["report", "tags", "--type", "ec2:Instance", "--resources"],
    );
    let want: Vec<(String, Vec<String>)> = f
        .truth
        .iter()
        .filter(|t| t.kind == "ec2:Instance" && !misses(t, &defaults).is_empty())
        .map(|t| (t.id.clone(), misses(t, &defaults)))
        .collect();
    let got: Vec<(String, Vec<String>)> = rows
        .iter()
        .map(|r| {
            (
                short_id(r["resource_id"].as_str().unwrap()),
                serde_json::from_value(r["missing"].clone()).unwrap(),
            )
        })
        .collect();
    assert_eq!(got, want);
    assert!(f
        .truth
        .iter()
        .any(|t| t.kind == "ec2:Instance" && misses(t, &defaults).is_empty()));
}

#[test]
fn report_tags_writes_csv_to_a_file() {
    let f = fixture();
    let dir = testkit::TempDir::new("census-report-tags");
    let file = dir.path().join("untagged.csv");
    let out = census(&[
        "report",
        "tags",
        "--require",
        "Owner",
        "--resources",
        "--account",
        &f.manifest.resource_accounts()[0].name,
        "--db",
        f.db.to_str().unwrap(),
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(ok(&out, "report tags -o").is_empty());
    let note = String::from_utf8(out.stderr).unwrap();
    let account = &f.manifest.resource_accounts()[0].id;
    let want: BTreeSet<(String, String)> = f
        .truth
        .iter()
        .filter(|t| &t.account_id == account && !has_value(t, "Owner"))
        .map(|t| (t.region.clone(), t.id.clone()))
        .collect();
    let mut reader = csv::Reader::from_path(&file).unwrap();
    assert_eq!(&reader.headers().unwrap()[7], "missing");
    let mut formulas = 0;
    let got: BTreeSet<(String, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            assert_eq!(&r[7], "Owner");
            assert_ne!(&r[6], "=1+2", "not defused");
            formulas += usize::from(&r[6] == "'=1+2");
            (r[2].to_string(), short_id(&r[4]))
        })
        .collect();
    // The sqs queues have no tags in this scan: they miss Owner too.
    let queues: BTreeSet<(String, String)> = f
        .queues
        .iter()
        .filter(|q| &q.0 == account)
        .map(|q| (q.1.clone(), q.2.clone()))
        .collect();
    assert_eq!(got, want.union(&queues).cloned().collect());
    assert_eq!(formulas, 2, "the j = 3 security group of each region");
    assert!(
        note.contains(&format!("{} of ", got.len())) && note.contains(&file.display().to_string()),
        "{note}"
    );
}

/// The one line of a failed command's stderr.
fn one_line_error(args: &[&str]) -> String {
    let out = census(args);
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert!(out.stdout.is_empty(), "{args:?}");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    err
}

#[test]
fn bad_input_is_one_line_and_an_unknown_type_a_hint() {
    let f = fixture();
    let db = f.db.to_str().unwrap();
    for (args, want) in [
        (&["inventory", "--tag", "=x"][..], "--tag \"=x\" has no key"),
        (&["inventory", "--type", ":Instance"], "names no service"),
        (
            &["inventory", "--type", "AWS::EC2::"],
            "not a CloudFormation type",
        ),
        (&["inventory", "--missing-tag", "Owner|"], "empty tag key"),
        (
            &["inventory", "--account", ""],
            "--account has an empty value",
        ),
        (
            &["inventory", "--scan", "20990101T000000Z"],
            "has no scan \"20990101T000000Z\"",
        ),
        (
            &["report", "tags", "--require", "Env||Environment"],
            "empty tag key",
        ),
        (&["report", "tags", "--type", "ec2:"], "not a type"),
        (&["inventory", "--output", "xml"], "xml"),
        (&["inventory", "--limit", "0"], "--limit"),
    ] {
        let err = one_line_error(&[args, &["--db", db]].concat());
        assert!(err.contains(want), "{args:?}: {err}");
    }
    let missing = f.db.with_file_name("nothing-here.db");
    let err = one_line_error(&["inventory", "--db", missing.to_str().unwrap()]);
    let query = census(&["query", "select 1", "--db", missing.to_str().unwrap()]);
    assert_eq!(err, String::from_utf8(query.stderr).unwrap());
    // A type the store does not have: an empty result, and the closest types.
    let out = census(&["inventory", "--type", "ec2:Instanse", "--db", db]);
    assert_eq!(ok(&out, "unknown type").lines().count(), 2);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("no resource of type ec2:Instanse") && err.contains("ec2:Instance"),
        "{err}"
    );
    // So does an account the store does not have.
    let name = &f.manifest.resource_accounts()[0].name;
    let typo = format!("{name}x");
    let out = census(&["inventory", "--account", &typo, "--db", db]);
    assert_eq!(ok(&out, "unknown account").lines().count(), 2);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(&format!("no account {typo} in")) && err.contains(name.as_str()),
        "{err}"
    );
    // A known type filtered away says nothing.
    let out = census(&[
        "inventory",
        "--type",
        "ec2:Instance",
        "--region",
        "nowhere-1",
        "--db",
        db,
    ]);
    ok(&out, "filtered away");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn scan_ids_select_one_scan() {
    let f = fixture();
    let scans = json_rows(&f.db, &["query", "select scan_id from scans"]);
    let id = scans[0]["scan_id"].as_str().unwrap();
    assert_eq!(
        inventory(&["--type", "ec2", "--scan", id]),
        truth_keys(f, |_| true)
    );
}

#[test]
fn postgres_gives_the_same_rows() {
    let f = fixture();
    for args in [
        &["inventory", "--type", "ec2", "--tag", "Owner"][..],
        &[
            "inventory",
            "--account",
            &f.manifest.resource_accounts()[1].name,
            "--missing-tag",
            "Environment",
        ],
        &["inventory"],
        &["report", "tags", "--require", "Environment,Owner"],
        &["report", "tags", "--resources"],
    ] {
        let from_sqlite = ok(
            &census(&[args, &["--db", f.db.to_str().unwrap(), "--output", "json"]].concat()),
            "sqlite",
        );
        let from_pg = ok(
            &census(&[args, &["--postgres", &f.postgres, "--output", "json"]].concat()),
            "postgres",
        );
        assert_eq!(from_pg, from_sqlite, "{args:?}");
        assert!(from_pg.len() > 10, "{args:?}: {from_pg}");
    }
    let pg_rows: Vec<Value> = serde_json::from_str(&ok(
        &census(&[
            "inventory",
            "--type",
            "ec2",
            "--postgres",
            &f.postgres,
            "--output",
            "json",
        ]),
        "pg",
    ))
    .unwrap();
    assert_eq!(keys(&pg_rows), truth_keys(f, |_| true));
}
