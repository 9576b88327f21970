//! Differential test: the same read operations through boto3 and through awsdyn,
//! against the same moto server seeded by boto3, must give identical JSON.
//!
//! tests/differential/seed.py seeds moto; tests/differential/ops.json lists the calls
//! (all five protocols, small page sizes so that lists span several pages);
//! tests/differential/boto3_calls.py runs them through boto3 (`build_full_result`
//! when the operation paginates, as `census call` does).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use awsdyn::client::{Client, ClientConfig, EndpointSettings, Target};
use awsdyn::paginate::FullResult;
use serde_json::Value;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/differential")
}

/// Runs one of this suite's scripts with boto3 pointed at `endpoint`.
fn run_python(endpoint: &str, script: &str, args: &[&str]) -> Value {
    let out = Command::new(testkit::python_path())
        .arg(dir().join(script))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "eu-west-1")
        .env("TZ", "UTC")
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{script} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{script} printed no JSON: {e}"))
}

fn substitute(v: &Value, seeded: &Value) -> Value {
    match v {
        Value::String(s) if s.starts_with('$') => seeded[&s[1..]].clone(),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), substitute(x, seeded)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute(x, seeded)).collect()),
        other => other.clone(),
    }
}

/// Removes a value that the emulator recomputes on every request (`A[].B.C`: `[]` is
/// every element of a list) so that it does not count as a difference.
fn drop_volatile(v: &mut Value, path: &str) {
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    let (key, every) = match head.strip_suffix("[]") {
        Some(k) => (k, true),
        None => (head, false),
    };
    let Some(obj) = v.as_object_mut() else { return };
    match (rest, every) {
        (None, _) => {
            obj.remove(key);
        }
        (Some(rest), true) => {
            if let Some(Value::Array(items)) = obj.get_mut(key) {
                items.iter_mut().for_each(|i| drop_volatile(i, rest));
            }
        }
        (Some(rest), false) => {
            if let Some(inner) = obj.get_mut(key) {
                drop_volatile(inner, rest);
            }
        }
    }
}

/// The first place where two values differ, as a path.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()).collect::<BTreeSet<_>>() {
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => {
                        if let Some(d) = first_difference(p, q, &format!("{path}.{k}")) {
                            return Some(d);
                        }
                    }
                    (p, q) => return Some(format!("{path}.{k}: awsdyn {p:?} vs boto3 {q:?}")),
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Some(format!(
                    "{path}: awsdyn has {} items, boto3 {}",
                    x.len(),
                    y.len()
                ));
            }
            x.iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (p, q))| first_difference(p, q, &format!("{path}[{i}]")))
        }
        (Value::Number(x), Value::Number(y)) if x.as_f64() == y.as_f64() => None,
        _ if a == b => None,
        _ => Some(format!("{path}: awsdyn {a} vs boto3 {b}")),
    }
}

#[test]
fn awsdyn_gives_what_boto3_gives() {
    let moto = testkit::Moto::start();
    let endpoint = moto.endpoint();
    let seeded = run_python(&endpoint, "seed.py", &[]);
    let ops_path = dir().join("ops.json");
    let ops: Vec<Value> = serde_json::from_slice(&std::fs::read(&ops_path).unwrap()).unwrap();
    let boto3 = run_python(
        &endpoint,
        "boto3_calls.py",
        &[ops_path.to_str().unwrap(), &seeded.to_string()],
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = Client::new(ClientConfig::default()).unwrap();
    let creds =
        SharedCredentialsProvider::new(Credentials::new("testing", "testing", None, None, "test"));
    let endpoints = Arc::new(EndpointSettings {
        url: Some(endpoint.clone()),
        ..EndpointSettings::default()
    });

    let mut mismatches = Vec::new();
    let mut protocols: BTreeMap<String, usize> = BTreeMap::new();
    let mut multi_page = Vec::new();
    for op in &ops {
        let id = op["id"].as_str().unwrap();
        let service = op["service"].as_str().unwrap();
        let operation = op["operation"].as_str().unwrap();
        let region = op
            .get("region")
            .and_then(Value::as_str)
            .unwrap_or("eu-west-1");
        let params = substitute(&op["params"], &seeded);
        let target = Target::new(region, creds.clone()).with_endpoints(endpoints.clone());
        let mut expected = boto3[id].clone();
        assert!(
            expected.get("__error__").is_none(),
            "{id}: boto3 failed: {expected}"
        );
        let (mut ours, pages) = rt.block_on(async {
            let mut pages = client.pages(&target, service, operation, &params).unwrap();
            match pages.paginator().cloned() {
                Some(p) => {
                    let mut full = FullResult::new(&p);
                    while let Some(page) = pages.next().await {
                        full.add_page(page.unwrap_or_else(|e| panic!("{id}: {e}")));
                    }
                    (full.finish(), pages.count())
                }
                None => (
                    pages
                        .next()
                        .await
                        .unwrap()
                        .unwrap_or_else(|e| panic!("{id}: {e}")),
                    1,
                ),
            }
        });
        let protocol = awsdyn::model::load(service)
            .unwrap()
            .protocol()
            .unwrap()
            .name();
        *protocols.entry(protocol.to_string()).or_default() += 1;
        if pages > 1 {
            multi_page.push(format!("{id} ({pages} pages)"));
        }
        for path in op
            .get("volatile")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            drop_volatile(&mut ours, path.as_str().unwrap());
            drop_volatile(&mut expected, path.as_str().unwrap());
        }
        match first_difference(&ours, &expected, id) {
            None => println!("same    {id:45} {protocol:9} {pages} page(s)"),
            Some(d) => {
                println!("DIFFERS {id:45} {protocol:9} {d}");
                mismatches.push(d);
            }
        }
    }
    println!("protocols: {protocols:?}");
    println!("multi-page: {}", multi_page.join(", "));
    assert!(
        mismatches.is_empty(),
        "{} of {} operations differ from boto3:\n{}",
        mismatches.len(),
        ops.len(),
        mismatches.join("\n")
    );
    assert!(ops.len() >= 40, "only {} operations", ops.len());
    assert_eq!(
        protocols.len(),
        5,
        "every protocol must be covered: {protocols:?}"
    );
    assert!(
        multi_page.len() >= 8,
        "too few paginated calls span pages: {multi_page:?}"
    );
}
