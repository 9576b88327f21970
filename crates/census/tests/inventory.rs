//! The inventory's acceptance tests (issue 13) against moto: `census scan` of a
//! seeded organization into SQLite and PostgreSQL (`testkit::seed_inventory`, `python/seed_inventory.py`) must
//! give one `inventory` row per resource with the ARN boto3 reports (or AWS
//! documents), its type, account, region and tags exactly; no reservation rows; the
//! seeded relationships in `links`; exactly the seeded untagged resources among the
//! rows without an Environment tag; and ARNs in the partition of an aws-cn or
//! aws-us-gov account.
//!
//! Each test collects every mismatch before it fails, so that one run lists them all
//! (`cargo test -p census --test inventory -- --nocapture` prints them grouped by
//! topic).
//! Not for the `census inventory` / `report tags` commands or the graph export.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Map, Value};
use testkit::{
    cli_command, seed_inventory, InventoryManifest, InventorySeed, Moto, Postgres, TempDir,
};

/// What a finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Topic {
    /// A resource without exactly one row of its own.
    Row,
    /// `resource_type` differs.
    Type,
    /// `cfn_type` is not the resource type's CloudFormation type.
    CfnType,
    /// `name` is not the Name tag, else the resource's own name.
    Name,
    /// No `name` for a resource whose name is only in its ARN (an SNS topic).
    NameFromArn,
    /// `account_id` differs.
    Account,
    /// `region` differs.
    Region,
    /// A bucket's `region` is not its location.
    BucketRegion,
    /// Tags of an EC2 resource (they are in the list call's items) differ.
    Tags,
    /// Tags that only detail calls or `GetResources` give differ.
    DetailTags,
    /// A row of `GetResources` itself.
    TaggingRows,
    /// A reservation (a wrapper) became a row.
    Reservation,
    /// A row no seeded or moto-made resource explains.
    Extra,
    /// An expected link is missing or unresolved.
    Links,
    /// The rows without Environment are not the seeded untagged ones (and moto's own).
    Untagged,
    /// An ARN not in the account's partition.
    Partition,
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Every mismatch of one check, and notes that are not mismatches.
#[derive(Default)]
struct Findings {
    found: Vec<(Topic, String)>,
    notes: Vec<String>,
}

impl Findings {
    fn add(&mut self, topic: Topic, what: String) {
        self.found.push((topic, what));
    }

    /// Everything, grouped by topic, and the topics that fail.
    fn report(mut self, label: &str) -> (String, Vec<Topic>) {
        self.found.sort();
        let mut by_topic: BTreeMap<Topic, Vec<&str>> = BTreeMap::new();
        for (t, what) in &self.found {
            by_topic.entry(*t).or_default().push(what);
        }
        let mut report = format!("{label}: {} findings\n", self.found.len());
        for (t, whats) in &by_topic {
            report.push_str(&format!("== {t} ({}, FAILS)\n", whats.len()));
            for w in whats {
                report.push_str(&format!("  - {w}\n"));
            }
        }
        for n in &self.notes {
            report.push_str(&format!("note: {n}\n"));
        }
        let failing = by_topic.into_keys().collect();
        (report, failing)
    }
}

/// Prints the findings of every check, then fails if there are any.
fn assert_none(checks: Vec<(String, Findings)>) {
    let mut reports = String::new();
    let mut failing = Vec::new();
    for (label, findings) in checks {
        let (report, topics) = findings.report(&label);
        eprintln!("{report}");
        reports.push_str(&report);
        failing.extend(topics.iter().map(|t| format!("{label}: {t}")));
    }
    assert!(
        failing.is_empty(),
        "findings of {} (see above):\n{reports}",
        failing.join(", ")
    )
}

/// The resource types the seed makes, with their CloudFormation types.
const KINDS: &[(&str, &str)] = &[
    ("ec2:Instance", "AWS::EC2::Instance"),
    ("ec2:Vpc", "AWS::EC2::VPC"),
    ("ec2:Subnet", "AWS::EC2::Subnet"),
    ("ec2:SecurityGroup", "AWS::EC2::SecurityGroup"),
    ("ec2:Volume", "AWS::EC2::Volume"),
    ("s3:Bucket", "AWS::S3::Bucket"),
    ("sqs:Queue", "AWS::SQS::Queue"),
    ("sns:Topic", "AWS::SNS::Topic"),
    ("dynamodb:Table", "AWS::DynamoDB::Table"),
    ("lambda:Function", "AWS::Lambda::Function"),
    ("iam:Role", "AWS::IAM::Role"),
    ("kms:Key", "AWS::KMS::Key"),
];

fn cfn_type(kind: &str) -> Option<&'static str> {
    KINDS.iter().find(|(k, _)| *k == kind).map(|(_, c)| *c)
}

/// The inventory rows of `GetResources` (stem prefix).
const TAGGING_SOURCE: &str = "resourcegroupstaggingapi-";

fn scan_file() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scans/inventory-acceptance.json")
}

fn ok(out: &Output, what: &str) -> String {
    testkit::succeeded(out, what)
}

/// `census scan` of the inventory scan file into `out/census.db` (the default store).
fn scan(moto: &Moto, out: &Path, region: &str, extra: &[&str]) -> PathBuf {
    let mut c = cli_command(env!("CARGO_BIN_EXE_census"), &moto.endpoint());
    c.env("AWS_REGION", region).args([
        "scan",
        "-s",
        scan_file().to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    c.args(extra);
    ok(&c.output().unwrap(), "census scan");
    out.join("census.db")
}

/// Where a scan was written: `census.db`, or a PostgreSQL database by URL.
#[derive(Clone, Copy)]
enum Store<'a> {
    Sqlite(&'a Path),
    Postgres(&'a str),
}

/// `census query SQL --db DB | --postgres URL --output json` as rows.
fn query(store: Store<'_>, sql: &str) -> Vec<Map<String, Value>> {
    let (flag, value) = match store {
        Store::Sqlite(db) => ("--db", db.to_str().unwrap()),
        Store::Postgres(url) => ("--postgres", url),
    };
    let out = cli_command(env!("CARGO_BIN_EXE_census"), "http://127.0.0.1:9")
        .args(["query", sql, flag, value, "--output", "json"])
        .output()
        .unwrap();
    let text = ok(&out, sql);
    let rows: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_object().unwrap().clone())
        .collect()
}

fn text(row: &Map<String, Value>, column: &str) -> String {
    match &row[column] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A row's tags column (JSON text) as a map of strings.
fn tags_of(row: &Map<String, Value>) -> BTreeMap<String, String> {
    let parsed: Value = serde_json::from_str(&text(row, "tags")).unwrap_or(Value::Null);
    parsed
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str().map_or_else(|| v.to_string(), str::to_string),
            )
        })
        .collect()
}

fn is_tagging(row: &Map<String, Value>) -> bool {
    text(row, "source").starts_with(TAGGING_SOURCE)
}

/// Tags of EC2 resources are in their list call's items; the others' come from detail
/// calls or `GetResources`.
fn tags_topic(kind: &str) -> Topic {
    if kind.starts_with("ec2:") {
        Topic::Tags
    } else {
        Topic::DetailTags
    }
}

/// Checks the scan in `db` against `manifest`: rows, links, untagged rows, partition.
fn check(manifest: &InventoryManifest, db: Store<'_>) -> Findings {
    let mut f = Findings::default();
    let rows = query(
        db,
        "SELECT account_id, region, resource_type, cfn_type, resource_id, arn, arn_source, name, \
         tags, source FROM inventory",
    );
    // moto's ARN where it has the partition wrong → the right one.
    let right: BTreeMap<&str, &str> = manifest
        .resources
        .iter()
        .filter_map(|r| Some((r.moto_arn.as_deref()?, r.arn.as_str())))
        .collect();
    let arn_of = |row: &Map<String, Value>| -> String {
        let arn = text(row, "arn");
        right.get(arn.as_str()).map_or(arn, |a| a.to_string())
    };
    let mut by_arn: BTreeMap<String, Vec<&Map<String, Value>>> = BTreeMap::new();
    for row in &rows {
        by_arn.entry(arn_of(row)).or_default().push(row);
    }
    let known: BTreeSet<&str> = manifest.resources.iter().map(|r| r.arn.as_str()).collect();

    // Every resource: exactly one row of its own, its type, account, region, tags.
    for r in &manifest.resources {
        let all = by_arn.get(&r.arn).cloned().unwrap_or_default();
        let (tagging, own): (Vec<_>, Vec<_>) = all.into_iter().partition(|row| is_tagging(row));
        if !tagging.is_empty() {
            f.add(
                Topic::TaggingRows,
                format!("{} {}: also a GetResources row", r.kind, r.arn),
            );
        }
        if let Some(moto) = &r.moto_arn {
            if own.iter().any(|row| text(row, "arn") == *moto) {
                f.notes.push(format!(
                    "{} has moto's ARN {moto}: moto writes arn:aws: in every partition; \
                     census copies the item's own ARN member",
                    r.arn
                ));
            }
        }
        let [row] = own.as_slice() else {
            let hint = rows
                .iter()
                .filter(|row| {
                    text(row, "resource_id") == r.id && text(row, "account_id") == r.account_id
                })
                .map(|row| format!("{} (arn {:?})", text(row, "source"), text(row, "arn")))
                .collect::<Vec<_>>();
            f.add(
                Topic::Row,
                format!(
                    "{} {} ({} {}): {} rows; rows with resource_id {:?}: {hint:?}",
                    r.kind,
                    r.arn,
                    r.account_id,
                    r.region,
                    own.len(),
                    r.id
                ),
            );
            continue;
        };
        let got = |c: &str| text(row, c);
        if got("resource_type") != r.kind {
            f.add(
                Topic::Type,
                format!(
                    "{}: resource_type {:?}, want {:?}",
                    r.arn,
                    got("resource_type"),
                    r.kind
                ),
            );
        }
        if Some(got("cfn_type").as_str()) != cfn_type(&r.kind) {
            f.add(
                Topic::CfnType,
                format!(
                    "{}: cfn_type {:?}, want {:?}",
                    r.arn,
                    got("cfn_type"),
                    cfn_type(&r.kind)
                ),
            );
        }
        let name = got("name");
        if r.name.as_deref().unwrap_or_default() != name {
            let from_arn = name.is_empty() && r.name.as_deref() == r.arn.rsplit([':', '/']).next();
            f.add(
                if from_arn {
                    Topic::NameFromArn
                } else {
                    Topic::Name
                },
                format!("{} {}: name {name:?}, want {:?}", r.kind, r.arn, r.name),
            );
        }
        if got("account_id") != r.account_id {
            f.add(
                Topic::Account,
                format!(
                    "{}: account_id {}, want {}",
                    r.arn,
                    got("account_id"),
                    r.account_id
                ),
            );
        }
        if got("region") != r.region {
            let topic = if r.kind == "s3:Bucket" {
                Topic::BucketRegion
            } else {
                Topic::Region
            };
            f.add(
                topic,
                format!("{}: region {:?}, want {:?}", r.arn, got("region"), r.region),
            );
        }
        if let Some(want) = &r.tags {
            let have = tags_of(row);
            if have != *want {
                f.add(
                    tags_topic(&r.kind),
                    format!("{}: tags {have:?}, want {want:?}", r.arn),
                );
            }
        }
    }

    // No wrappers, nothing unexplained.
    for row in &rows {
        let t = text(row, "resource_type");
        if t.to_ascii_lowercase().contains("reservation")
            || text(row, "resource_id").starts_with("r-")
        {
            f.add(
                Topic::Reservation,
                format!(
                    "{t} {} from {}",
                    text(row, "resource_id"),
                    text(row, "source")
                ),
            );
        } else if is_tagging(row) {
            if !known.contains(arn_of(row).as_str()) {
                f.add(
                    Topic::TaggingRows,
                    format!("{t} {}: a GetResources row of nothing seeded", arn_of(row)),
                );
            }
        } else if !known.contains(arn_of(row).as_str()) {
            f.add(
                Topic::Extra,
                format!(
                    "{t} {:?} (resource_id {}, from {}) is no resource of the seed or moto",
                    text(row, "arn"),
                    text(row, "resource_id"),
                    text(row, "source")
                ),
            );
        }
    }
    for r in &rows {
        let t = text(r, "resource_type");
        if !is_tagging(r) && cfn_type(&t).is_none() {
            f.add(
                Topic::Type,
                format!("{t} is not a type of the seed ({})", arn_of(r)),
            );
        }
    }

    // Links: every seeded pair, its target resolved to a row's ARN.
    let links = query(db, "SELECT from_arn, kind, raw, to_arn FROM links");
    let mut pairs: BTreeMap<String, Vec<(String, String, String)>> = BTreeMap::new();
    for l in &links {
        let from = text(l, "from_arn");
        let from = right.get(from.as_str()).map_or(from, |a| a.to_string());
        let to = text(l, "to_arn");
        let to = right.get(to.as_str()).map_or(to, |a| a.to_string());
        if !to.is_empty() && !by_arn.contains_key(&to) {
            f.add(
                Topic::Links,
                format!(
                    "{from} {} -> {to}: no inventory row has that ARN",
                    text(l, "kind")
                ),
            );
        }
        pairs
            .entry(from)
            .or_default()
            .push((text(l, "kind"), text(l, "raw"), to));
    }
    for want in &manifest.links {
        let have = pairs.get(&want.from_arn).cloned().unwrap_or_default();
        if !have.iter().any(|(_, _, to)| *to == want.to_arn) {
            f.add(
                Topic::Links,
                format!(
                    "{} -> {} ({}): missing; links from it: {have:?}",
                    want.from_arn, want.to_arn, want.member
                ),
            );
        }
    }

    // The rows without Environment: the seeded untagged ones, and moto's own.
    let missing = query(
        db,
        "SELECT arn, resource_type, source FROM inventory WHERE tags ->> 'Environment' IS NULL",
    );
    let want: BTreeSet<&str> = manifest
        .resources
        .iter()
        .filter(|r| r.untagged || !r.seeded)
        .map(|r| r.arn.as_str())
        .collect();
    let mut have: BTreeSet<String> = BTreeSet::new();
    for row in &missing {
        let arn = arn_of(row);
        if is_tagging(row) {
            f.add(
                Topic::TaggingRows,
                format!("{arn}: a GetResources row is among the rows without Environment"),
            );
            continue;
        }
        if !want.contains(arn.as_str()) {
            let kind = text(row, "resource_type");
            let topic = if known.contains(arn.as_str()) {
                tags_topic(&kind)
            } else {
                Topic::Untagged
            };
            f.add(
                topic,
                format!("{kind} {arn} is tagged Environment but its row has no Environment"),
            );
        }
        have.insert(arn);
    }
    for arn in want {
        if !have.contains(arn) && by_arn.contains_key(arn) {
            f.add(
                Topic::Untagged,
                format!("{arn} has no Environment tag but its row has one"),
            );
        }
    }

    // Every ARN in the account's partition.
    let prefix = format!("arn:{}:", manifest.partition);
    for row in &rows {
        let arn = arn_of(row);
        if !arn.starts_with(&prefix) {
            f.add(
                Topic::Partition,
                format!(
                    "{arn} ({}) is not in {}",
                    text(row, "resource_type"),
                    manifest.partition
                ),
            );
        }
    }
    f
}

/// An organization (management account, a member with resources in two regions, a
/// member without) scanned with `--org` into SQLite and PostgreSQL at once, each store
/// checked: every resource once with its ARN, type, name, account, region and tags; no
/// reservations; the links; the untagged rows.
#[test]
fn every_seeded_resource_is_one_row_with_its_arn_tags_and_links() {
    let moto = Moto::start();
    let manifest = seed_inventory(&moto, &InventorySeed::default());
    // The seed did what the checks assume.
    let seeded = |kind: &str| manifest.seeded().filter(|r| r.kind == kind).count();
    for (kind, _) in KINDS {
        let untagged = manifest
            .seeded()
            .filter(|r| r.kind == *kind && r.untagged)
            .count();
        assert!(
            seeded(kind) > untagged && untagged > 0,
            "{kind}: the seed made {} of which {untagged} untagged",
            seeded(kind)
        );
    }
    assert_eq!(manifest.accounts.len(), 3, "{:?}", manifest.accounts);

    let out = TempDir::new("census-inventory-org");
    let regions = manifest.regions.join(",");
    let url = Postgres::shared().create_database("inventory");
    let db = scan(
        &moto,
        &out,
        "us-east-1",
        &["--org", "--regions", &regions, "--postgres", &url],
    );
    let stores = [
        ("SQLite", Store::Sqlite(&db)),
        ("PostgreSQL", Store::Postgres(&url)),
    ];
    let mut checks = Vec::new();
    for (label, store) in stores {
        let accounts = query(store, "SELECT account_id FROM accounts");
        assert_eq!(accounts.len(), 3, "{label}: every account: {accounts:?}");
        checks.push((format!("organization, {label}"), check(&manifest, store)));
    }
    assert_none(checks);
}

/// An account of aws-cn and one of aws-us-gov (moto keeps the partitions apart; the
/// caller's ARN in a cn-north-1 client is `arn:aws-cn:`), each scanned in its region:
/// every ARN has the partition, and every resource is as in the organization test.
/// Then `--no-inventory` leaves the inventory and links out.
#[test]
fn accounts_of_aws_cn_and_aws_us_gov_get_arns_of_their_partition() {
    let moto = Moto::start();
    let mut checks = Vec::new();
    for (region, partition) in [("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")] {
        let manifest = seed_inventory(&moto, &InventorySeed::single(region));
        assert_eq!(manifest.partition, partition);
        let out = TempDir::new(&format!("census-inventory-{partition}"));
        let db = scan(&moto, &out, region, &["--regions", region]);
        let store = Store::Sqlite(&db);
        let accounts = query(store, "SELECT partition FROM accounts");
        assert_eq!(text(&accounts[0], "partition"), partition);
        let rows = query(store, "SELECT count(*) AS n FROM inventory");
        assert!(text(&rows[0], "n").parse::<u32>().unwrap() > 20, "{rows:?}");
        checks.push((partition.to_string(), check(&manifest, store)));
    }
    assert_none(checks);
    // `--no-inventory`: the calls' rows as always, no inventory, no links.
    let out = TempDir::new("census-no-inventory");
    let db = scan(
        &moto,
        &out,
        "cn-north-1",
        &["--regions", "cn-north-1", "--no-inventory"],
    );
    let counts = query(
        Store::Sqlite(&db),
        "SELECT (SELECT count(*) FROM resources) AS resources,
                (SELECT count(*) FROM inventory) AS inventory,
                (SELECT count(*) FROM links) AS links",
    );
    assert!(
        text(&counts[0], "resources").parse::<u32>().unwrap() > 20,
        "{counts:?}"
    );
    assert_eq!(
        (text(&counts[0], "inventory"), text(&counts[0], "links")),
        ("0".to_string(), "0".to_string())
    );
}
