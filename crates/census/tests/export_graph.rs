//! `census export graph` end to end: the seeded moto organization scanned into SQLite
//! and PostgreSQL (with the scan's own `links`: every seeded instance -> subnet and
//! instance -> security group must be there, plus one unresolved link added with a
//! raw value to escape), then
//! each format read by a real reader: GraphML by networkx, DOT rendered by Graphviz,
//! JSON parsed here, Cypher parsed by an ANTLR-generated Cypher grammar (antlr4-cypher;
//! no Neo4j can be installed here).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};
use testkit::{
    boto3_call, cli_command, python_path, python_script, shared_demo_org, Caller, Postgres,
};

/// The tag value that must survive every format.
const HOSTILE: &str = "a&b<c>\"d'e\\f ünïcødé 中文 🚀";

fn census(args: &[&str]) -> Output {
    let mut c = cli_command(env!("CARGO_BIN_EXE_census"), "http://127.0.0.1:9");
    c.args(args);
    c.output().unwrap()
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

/// What the test database holds, as the export must show it.
struct Fixture {
    db: PathBuf,
    /// The same scan in PostgreSQL.
    url: String,
    scan_id: String,
    dir: PathBuf,
    /// Distinct node ids of the inventory rows.
    resources: BTreeSet<String>,
    /// Account ids of `accounts`.
    accounts: BTreeSet<String>,
    /// (from, kind, to) of the scan's resolved links to resources.
    links: BTreeSet<(String, String, String)>,
    /// How many link edges: one per row and distinct (kind, target).
    link_count: usize,
    /// Distinct (account, node) of the inventory rows.
    contains: BTreeSet<(String, String)>,
    /// The tagged VPC's node id.
    tagged: String,
    /// The node id of a resource with unresolved links, and those links.
    unresolved: (String, Vec<(String, String)>),
    org_id: String,
    ous: Vec<testkit::Ou>,
    root_id: String,
}

fn node_id(arn: Option<String>, account: &str, region: &str, source: &str, id: &str) -> String {
    match arn.filter(|a| !a.is_empty()) {
        Some(a) => a,
        None => format!("census:{account}:{region}:{source}:{id}"),
    }
}

fn fixture() -> &'static Fixture {
    static F: std::sync::OnceLock<Fixture> = std::sync::OnceLock::new();
    F.get_or_init(|| {
        let (moto, manifest) = shared_demo_org();
        // A tag with XML, DOT, JSON and Cypher metacharacters and non-ASCII text.
        let (account, regions) = manifest.resources.iter().next().unwrap();
        let (region, kinds) = regions.iter().find(|(r, _)| *r != "global").unwrap();
        let vpc = kinds["ec2:vpc"][0].clone();
        boto3_call(
            moto,
            &Caller::member(account).in_region(region),
            "ec2",
            "create_tags",
            &json!({"Resources": [vpc], "Tags": [{"Key": "Note", "Value": HOSTILE}]}),
            false,
        );
        // The scan writes SQLite and PostgreSQL at once.
        let url = Postgres::shared().create_database("export_graph");
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("export-graph");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let scan_file =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scans/inventory.json");
        let mut c = cli_command(env!("CARGO_BIN_EXE_census"), &moto.endpoint());
        c.args([
            "scan",
            "-s",
            scan_file.to_str().unwrap(),
            "-o",
            dir.to_str().unwrap(),
            "--org",
            "--regions",
            &manifest.regions.join(","),
            "--postgres",
            &url,
        ]);
        ok(&c.output().unwrap(), "census scan");
        let db = dir.join("census.db");
        let conn = rusqlite::Connection::open(&db).unwrap();
        let scan_id: String = conn
            .query_row("SELECT scan_id FROM scans", [], |r| r.get(0))
            .unwrap();
        // Every row's node id; ARNs of subnets and security groups by id.
        let mut resources = BTreeSet::new();
        let mut contains = BTreeSet::new();
        let mut by_id: BTreeMap<String, String> = BTreeMap::new();
        let mut tagged = String::new();
        let mut stmt = conn
            .prepare("SELECT arn, account_id, region, source, resource_id FROM inventory")
            .unwrap();
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })
            .unwrap();
        for row in rows {
            let (arn, account_id, region, source, id) = row.unwrap();
            let node = node_id(arn, &account_id, &region, &source, &id);
            contains.insert((account_id.clone(), node.clone()));
            if id == vpc {
                tagged = node.clone();
            }
            // Subnets and security groups are known by their ARN: by its last part too.
            let short = id.rsplit('/').next().unwrap_or(&id);
            by_id.insert(format!("{account_id}/{region}/{short}"), node.clone());
            by_id.insert(format!("{account_id}/{region}/{id}"), node.clone());
            resources.insert(node);
        }
        drop(stmt);
        assert!(
            !tagged.is_empty(),
            "the tagged VPC {vpc} is not in inventory"
        );
        // The seeded pairs the scan must have linked: each instance to its subnet and
        // its security groups.
        let mut seeded = BTreeSet::new();
        let mut stmt = conn
            .prepare(
                "SELECT account_id, region, resource_id, item FROM resources \
                 WHERE stem = 'ec2-describe_instances' ORDER BY account_id, region, resource_id",
            )
            .unwrap();
        let items: Vec<(String, String, String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        drop(stmt);
        assert!(!items.is_empty(), "no instances scanned");
        for (account, region, id, item) in &items {
            let item: Value = serde_json::from_str(item).unwrap();
            let from = by_id[&format!("{account}/{region}/{id}")].clone();
            let subnet = item["SubnetId"].as_str().unwrap();
            let to = by_id[&format!("{account}/{region}/{subnet}")].clone();
            seeded.insert((from.clone(), "SubnetId".to_string(), to));
            for g in item["SecurityGroups"].as_array().unwrap() {
                let gid = g["GroupId"].as_str().unwrap();
                let to = by_id[&format!("{account}/{region}/{gid}")].clone();
                seeded.insert((from.clone(), "SecurityGroups[].GroupId".to_string(), to));
            }
        }
        // One more unresolved link, with a raw value every format must escape, in both
        // stores.
        let (account, region, id, _) = &items[0];
        let hostile_from = by_id[&format!("{account}/{region}/{id}")].clone();
        const INSERT: &str = "INSERT INTO links (scan_id, account_id, region, source, \
            from_source, from_id, from_arn, kind, raw, to_type, to_arn) VALUES ($1, $2, $3, \
            'ec2-describe_instances', 'ec2-describe_instances', $4, NULL, 'KeyName', $5, \
            NULL, NULL)";
        let raw = "it's <mine> & \"yours\"";
        conn.execute(INSERT, rusqlite::params![scan_id, account, region, id, raw])
            .unwrap();
        let mut pg = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        pg.execute(INSERT, &[&scan_id, account, region, id, &raw])
            .unwrap();
        let mut stmt = conn
            .prepare(
                "SELECT DISTINCT kind, raw FROM links WHERE to_arn IS NULL AND account_id = ?1 \
                 AND region = ?2 AND from_source = 'ec2-describe_instances' AND from_id = ?3 \
                 ORDER BY kind, raw",
            )
            .unwrap();
        let hostile: Vec<(String, String)> = stmt
            .query_map(rusqlite::params![account, region, id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        drop(stmt);
        assert!(hostile.contains(&("KeyName".to_string(), raw.to_string())));
        let unresolved = (hostile_from, hostile);
        // Every resolved link of the scan, as the export must write it: one edge per
        // row and distinct (kind, target), when the target is a resource.
        let mut stmt = conn
            .prepare(
                "SELECT DISTINCT i.arn, i.account_id, i.region, i.source, i.resource_id, \
                 l.kind, l.to_arn FROM links l JOIN inventory i ON i.scan_id = l.scan_id \
                 AND i.source = l.from_source AND i.account_id = l.account_id \
                 AND i.region = l.region AND i.resource_id = l.from_id \
                 WHERE l.to_arn IS NOT NULL",
            )
            .unwrap();
        let mut links = BTreeSet::new();
        let mut link_count = 0;
        for row in stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })
            .unwrap()
        {
            let (arn, account, region, source, id, kind, to) = row.unwrap();
            if resources.contains(&to) {
                links.insert((node_id(arn, &account, &region, &source, &id), kind, to));
                link_count += 1;
            }
        }
        drop(stmt);
        assert!(
            seeded.is_subset(&links),
            "the scan's links lack seeded pairs: {:?}",
            seeded.difference(&links).collect::<Vec<_>>()
        );
        let accounts = manifest.accounts.iter().map(|a| a.id.clone()).collect();
        Fixture {
            url,
            scan_id,
            db,
            dir,
            resources,
            accounts,
            links,
            link_count,
            contains,
            tagged,
            unresolved,
            org_id: manifest.organization_id.clone(),
            ous: manifest.ous.clone(),
            root_id: manifest.root_id.clone(),
        }
    })
}

/// Exports `format` to a file under the fixture's folder; returns its path and stderr.
fn export(format: &str, extra: &[&str]) -> (PathBuf, String) {
    let f = fixture();
    let name = format!(
        "graph-{format}-{}.out",
        extra.join("_").replace(['/', ':'], "_")
    );
    let path = f.dir.join(name);
    let mut args = vec![
        "export",
        "graph",
        "--format",
        format,
        "--db",
        f.db.to_str().unwrap(),
        "-o",
        path.to_str().unwrap(),
    ];
    args.extend(extra);
    let out = census(&args);
    ok(&out, &format!("census {}", args.join(" ")));
    (path, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn check(kind: &str, path: &Path) -> Value {
    let out = Command::new(python_path())
        .arg(python_script("graph_check.py"))
        .arg(kind)
        .arg(path)
        .output()
        .unwrap();
    let text = ok(&out, &format!("graph_check.py {kind}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// The nodes every format must hold: resources, accounts, the organization, its root
/// and OUs.
fn expected_nodes(f: &Fixture) -> BTreeSet<String> {
    let mut all = f.resources.clone();
    all.extend(f.accounts.iter().cloned());
    all.insert(f.org_id.clone());
    all.insert(f.root_id.clone());
    all.extend(f.ous.iter().map(|o| o.id.clone()));
    all
}

/// The containment edges every format must hold.
fn expected_contains(f: &Fixture) -> usize {
    // org -> root, parent -> OU, parent -> account, account -> resource.
    1 + f.ous.len() + f.accounts.len() + f.contains.len()
}

#[test]
fn graphml_loads_in_networkx_with_every_node_and_edge() {
    let f = fixture();
    let (path, stderr) = export("graphml", &[]);
    let g = check("graphml", &path);
    assert_eq!(g["directed"], true);
    let nodes = g["nodes"].as_object().unwrap();
    let ids: BTreeSet<String> = nodes.keys().cloned().collect();
    assert_eq!(ids, expected_nodes(f));
    let edges = g["edges"].as_array().unwrap();
    let links: BTreeSet<(String, String, String)> = edges
        .iter()
        .filter(|e| e["kind"] != "contains")
        .map(|e| {
            (
                e["source"].as_str().unwrap().to_string(),
                e["kind"].as_str().unwrap().to_string(),
                e["target"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(links, f.links);
    let contains = edges.iter().filter(|e| e["kind"] == "contains").count();
    assert_eq!(contains, expected_contains(f));
    assert_eq!(edges.len(), f.link_count + contains, "repeated edges");
    // Attributes survive: the hostile tag, the unresolved links, the OU tree.
    let vpc = &nodes[&f.tagged];
    let tags: Value = serde_json::from_str(vpc["tags"].as_str().unwrap()).unwrap();
    assert_eq!(tags["Note"], HOSTILE);
    assert_eq!(vpc["kind"], "resource");
    assert_eq!(vpc["resource_type"], "ec2:Vpc");
    let (from, want) = &f.unresolved;
    let got: Vec<(String, String)> = serde_json::from_str::<Vec<BTreeMap<String, String>>>(
        nodes[from]["unresolved"].as_str().unwrap(),
    )
    .unwrap()
    .into_iter()
    .map(|m| (m["kind"].clone(), m["raw"].clone()))
    .collect();
    assert_eq!(&got, want);
    for ou in &f.ous {
        assert_eq!(nodes[&ou.id]["kind"], "ou");
        assert_eq!(nodes[&ou.id]["path"], ou.path.as_str());
        assert!(
            edges.iter().any(|e| e["source"] == ou.parent_id.as_str()
                && e["target"] == ou.id.as_str()
                && e["kind"] == "contains"),
            "{} not under {}",
            ou.id,
            ou.parent_id
        );
    }
    assert!(
        stderr.contains(&format!("{} resources", f.resources.len())),
        "{stderr}"
    );
}

#[test]
fn json_is_cytoscape_elements_with_every_edge_between_nodes() {
    let f = fixture();
    // `-o -` writes to standard output.
    let out = census(&[
        "export",
        "graph",
        "--format",
        "json",
        "--db",
        f.db.to_str().unwrap(),
        "-o",
        "-",
    ]);
    let text = ok(&out, "export json");
    let g: Value = serde_json::from_str(&text).unwrap();
    let nodes = g["elements"]["nodes"].as_array().unwrap();
    let ids: Vec<&str> = nodes
        .iter()
        .map(|n| n["data"]["id"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<String> = ids.iter().map(|s| s.to_string()).collect();
    assert_eq!(ids.len(), unique.len(), "repeated node ids");
    assert_eq!(unique, expected_nodes(f));
    let edges = g["elements"]["edges"].as_array().unwrap();
    let edge_ids: HashSet<&str> = edges
        .iter()
        .map(|e| e["data"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(edge_ids.len(), edges.len(), "repeated edge ids");
    for e in edges {
        for end in ["source", "target"] {
            let id = e["data"][end].as_str().unwrap();
            assert!(
                unique.contains(id),
                "edge {} {end} {id} is not a node",
                e["data"]["id"]
            );
        }
    }
    assert_eq!(edges.len(), f.link_count + expected_contains(f));
    // Tags are an object, unresolved links a list.
    let vpc = nodes
        .iter()
        .find(|n| n["data"]["id"] == f.tagged.as_str())
        .unwrap();
    assert_eq!(vpc["data"]["tags"]["Note"], HOSTILE);
    let (from, want) = &f.unresolved;
    let node = nodes
        .iter()
        .find(|n| n["data"]["id"] == from.as_str())
        .unwrap();
    let got: Vec<(String, String)> = node["data"]["unresolved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["kind"].as_str().unwrap().into(),
                u["raw"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(&got, want);
}

#[test]
fn dot_renders_with_graphviz() {
    let f = fixture();
    let (path, _) = export("dot", &[]);
    let text = std::fs::read_to_string(&path).unwrap();
    // One cluster per account, the hostile tag escaped inside a quoted string.
    for account in &f.accounts {
        assert!(
            text.contains(&format!("subgraph \"cluster_{account}\" {{")),
            "{account}"
        );
    }
    assert!(
        text.contains(r#"\"Note\":\"a&b<c>\\\"d'e\\\\f ünïcødé 中文 🚀\""#),
        "tag not escaped as expected"
    );
    let png = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("export-graph-demo.png");
    let _ = std::fs::remove_file(&png);
    let out = Command::new("dot")
        .args(["-Tpng", "-o"])
        .arg(&png)
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("dot (Graphviz) did not run ({e}): install the Debian package graphviz (apt-get install graphviz; .ci/run does)"));
    assert!(
        out.status.success(),
        "dot failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "dot warned: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&png).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
        "{} bytes",
        bytes.len()
    );
    // Graphviz reads back every node and edge (gvpr counts them).
    let out = Command::new("gvpr")
        .args([
            "-c",
            "BEG_G { printf(\"%d %d\\n\", nNodes($G), nEdges($G)) }",
        ])
        .arg(&path)
        .output()
        .unwrap();
    let counts = String::from_utf8_lossy(&out.stdout);
    let first = counts.lines().next().unwrap_or_default().to_string();
    assert_eq!(
        first,
        format!(
            "{} {}",
            expected_nodes(f).len(),
            f.link_count + expected_contains(f)
        ),
        "gvpr: {counts} {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn cypher_parses_and_merges_every_node_and_relationship() {
    let f = fixture();
    let (path, _) = export("cypher", &[]);
    let c = check("cypher", &path);
    assert_eq!(c["errors"], json!([]), "syntax errors");
    assert_eq!(
        c["schema"],
        json!([
            "CREATE CONSTRAINT census_node_id IF NOT EXISTS FOR (n:CensusNode) REQUIRE n.id IS UNIQUE;",
            "CREATE INDEX census_aws_tag_id IF NOT EXISTS FOR (t:AWSTag) ON (t.id);"
        ])
    );
    let mut nodes = BTreeSet::new();
    let mut links = BTreeSet::new();
    let mut contains = 0;
    for u in c["unwinds"].as_array().unwrap() {
        let statement = u["text"].as_str().unwrap();
        for row in u["rows"].as_array().unwrap() {
            if let Some(id) = row["id"].as_str() {
                assert!(
                    statement.contains("MERGE (n:CensusNode {id: row.id})"),
                    "{statement}"
                );
                assert!(nodes.insert(id.to_string()), "{id} twice");
                if id == f.tagged {
                    assert_eq!(
                        row["tags"],
                        json!([{"key": "Name", "value": row["tags"][0]["value"]}, {"key": "Note", "value": HOSTILE}])
                    );
                    assert!(
                        statement.contains("n:`AWSResource`:`EC2VPC`"),
                        "{statement}"
                    );
                }
            } else if row["kind"] == "contains" {
                assert!(
                    statement.contains("MERGE (a)-[e:`CONTAINS` {kind: r.kind}]->(b)"),
                    "{statement}"
                );
                contains += 1;
            } else {
                links.insert((
                    row["source"].as_str().unwrap().to_string(),
                    row["kind"].as_str().unwrap().to_string(),
                    row["target"].as_str().unwrap().to_string(),
                ));
            }
        }
    }
    assert_eq!(nodes, expected_nodes(f));
    assert_eq!(links, f.links);
    assert_eq!(contains, expected_contains(f));
}

#[test]
fn filters_keep_the_accounts_and_types_asked_for() {
    let f = fixture();
    let (_, manifest) = shared_demo_org();
    let account = manifest.resource_accounts()[0];
    // Names match in any case, as `census inventory --account` does.
    let (path, stderr) = export(
        "json",
        &[
            "--account",
            &account.name.to_uppercase(),
            "--type",
            "ec2:instance,aws::ec2::Subnet",
        ],
    );
    let g: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let nodes = g["elements"]["nodes"].as_array().unwrap();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for n in nodes {
        let d = &n["data"];
        if d["kind"] == "resource" {
            assert_eq!(d["account_id"], account.id.as_str());
            *kinds
                .entry(d["resource_type"].as_str().unwrap().into())
                .or_default() += 1;
        } else if d["kind"] == "account" {
            assert_eq!(d["id"], account.id.as_str());
        }
    }
    let want_instances = f
        .links
        .iter()
        .filter(|(from, k, _)| k == "SubnetId" && from.contains(&account.id))
        .count();
    assert_eq!(kinds.remove("ec2:Instance"), Some(want_instances));
    assert!(kinds.remove("ec2:Subnet").unwrap() > 0);
    assert!(kinds.is_empty(), "{kinds:?}");
    // Instance -> subnet edges stay; instance -> security group ones point outside.
    let edges = g["elements"]["edges"].as_array().unwrap();
    assert_eq!(
        edges
            .iter()
            .filter(|e| e["data"]["kind"] == "SubnetId")
            .count(),
        want_instances
    );
    assert!(!edges
        .iter()
        .any(|e| e["data"]["kind"] == "SecurityGroups[].GroupId"));
    assert!(
        stderr.contains("links point at resources that are not in the export"),
        "{stderr}"
    );
}

#[test]
fn bad_input_is_one_line_and_exit_1() {
    let f = fixture();
    let db = f.db.to_str().unwrap();
    let missing = f.dir.join("no-such.db");
    let unwritable = f.dir.join("no-such-dir/graph.graphml");
    for (args, want) in [
        (
            vec!["export", "graph", "--format", "svg", "--db", db],
            "svg",
        ),
        (
            vec![
                "export",
                "graph",
                "--db",
                db,
                "-o",
                unwritable.to_str().unwrap(),
            ],
            "cannot write there",
        ),
        (
            vec!["export", "graph", "--db", missing.to_str().unwrap()],
            "no census database there",
        ),
        (
            vec!["export", "graph", "--db", db, "--scan", "nope"],
            "has no such scan",
        ),
        (
            vec!["export", "graph", "--db", db, "--type", "ec2 instance"],
            "--type ec2 instance",
        ),
        (
            vec!["export", "graph", "--db", db, "--account", "nobody"],
            "no account with that id or name",
        ),
    ] {
        let out = census(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    assert!(!unwritable.parent().unwrap().exists());
}

/// A device or a symbolic link given to -o is written through, never replaced by a
/// file.
#[test]
fn devices_and_links_are_written_through() {
    use std::os::unix::fs::FileTypeExt;
    let f = fixture();
    let db = f.db.to_str().unwrap();
    let out = census(&["export", "graph", "--db", db, "-o", "/dev/null"]);
    ok(&out, "export to /dev/null");
    assert!(std::fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());
    let target = f.dir.join("linked-target.graphml");
    let link = f.dir.join("linked.graphml");
    let _ = std::fs::remove_file(&link);
    std::fs::write(&target, "x".repeat(1 << 20)).unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();
    ok(
        &census(&["export", "graph", "--db", db, "-o", link.to_str().unwrap()]),
        "export through a link",
    );
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(&target)
        .unwrap()
        .starts_with("<?xml"));
}

/// PostgreSQL gives the same file as SQLite (its jsonb key order and ICU collation
/// notwithstanding), for the latest rows and for one scan named.
#[test]
fn postgres_exports_the_same_graph_as_sqlite() {
    let f = fixture();
    for format in ["json", "graphml", "dot", "cypher"] {
        for scan in [None, Some(f.scan_id.as_str())] {
            let mut sqlite = vec![
                "export",
                "graph",
                "--format",
                format,
                "--db",
                f.db.to_str().unwrap(),
            ];
            let mut pg = vec![
                "export",
                "graph",
                "--format",
                format,
                "--postgres",
                f.url.as_str(),
            ];
            if let Some(scan) = scan {
                sqlite.extend(["--scan", scan]);
                pg.extend(["--scan", scan]);
            }
            let a = ok(&census(&sqlite), "export from SQLite");
            let b = ok(&census(&pg), "export from PostgreSQL");
            assert!(a.len() > 10_000, "{format}: {} bytes", a.len());
            assert!(a == b, "{format} {scan:?}: SQLite and PostgreSQL differ");
        }
    }
}
