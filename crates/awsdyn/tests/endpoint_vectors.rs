//! Runs botocore's endpoint test vectors (tests/data/endpoints/<service>/
//! endpoint-tests-1.json) against awsdyn's endpoint rules evaluator and prints
//! `N passed, M failed, K skipped of T`.
//!
//! A case gives `params` (run straight through `RuleSet::resolve`) and/or
//! `operationInputs` (each run through `endpoint::params_for` with the service's
//! model, its built-ins and its operation input), and expects an endpoint (`url`,
//! `headers`, `properties`, compared exactly, properties structurally) or an error
//! message (compared exactly). A case passes when every way of running it does.
//!
//! Skipped cases are listed in tests/data/endpoints-skip.txt, one per line:
//! `<service> <case number, from 1> <reason>`. The run fails when a case that is not
//! listed fails, or when fewer than 99.5% of all cases pass.
//!
//! Filters (environment): ENDPOINT_SERVICE=s3 (one service), ENDPOINT_CASE=12 (one
//! case number); VERBOSE=1 prints every failing case with what differed.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use awsdyn::endpoint::{self, Endpoint, EndpointConfig, EndpointError, Params, RuleSet};
use awsdyn::model;
use serde_json::{Map, Value};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data")
}

fn load_skips() -> HashMap<(String, usize), String> {
    let path = data_dir().join("endpoints-skip.txt");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return HashMap::new();
    };
    let mut skips = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.splitn(3, ' ');
        let (Some(service), Some(case), Some(reason)) = (parts.next(), parts.next(), parts.next())
        else {
            panic!(
                "{}:{}: expected `<service> <case> <reason>`",
                path.display(),
                n + 1
            );
        };
        let case: usize = case
            .parse()
            .unwrap_or_else(|_| panic!("{}:{}: bad case number {case:?}", path.display(), n + 1));
        skips.insert((service.to_string(), case), reason.to_string());
    }
    skips
}

/// What a resolution gave, compared with what the case expects.
fn check(got: Result<Endpoint, EndpointError>, expect: &Value) -> Result<(), String> {
    if let Some(want) = expect.get("error") {
        let want = want.as_str().unwrap_or_default();
        return match got {
            Err(EndpointError::Rule(msg)) if msg == want => Ok(()),
            Err(e) => Err(format!(
                "error {:?}, expected error {want:?}",
                e.to_string()
            )),
            Ok(e) => Err(format!("endpoint {}, expected error {want:?}", e.url)),
        };
    }
    let want = &expect["endpoint"];
    let got = got.map_err(|e| {
        format!(
            "error {:?}, expected endpoint {}",
            e.to_string(),
            want["url"]
        )
    })?;
    let mut diffs = Vec::new();
    if want["url"].as_str() != Some(got.url.as_str()) {
        diffs.push(format!("url {:?}, expected {}", got.url, want["url"]));
    }
    let got_headers: Map<String, Value> = got
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.clone())))
        .collect();
    let want_headers = want
        .get("headers")
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    if Value::Object(got_headers.clone()) != want_headers {
        diffs.push(format!(
            "headers {}, expected {want_headers}",
            Value::Object(got_headers)
        ));
    }
    let want_props = want
        .get("properties")
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    if Value::Object(got.properties.clone()) != want_props {
        diffs.push(format!(
            "properties {}, expected {want_props}",
            Value::Object(got.properties.clone())
        ));
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(diffs.join("; "))
    }
}

/// Runs one case every way it can be run; the first failure, if any.
fn run_case(model: &model::ServiceModel, rules: &RuleSet, case: &Value) -> Result<(), String> {
    let expect = &case["expect"];
    if let Some(params) = case.get("params") {
        let params = Params::from_json(params).map_err(|e| format!("params: {e}"))?;
        check(rules.resolve(&params), expect).map_err(|e| format!("params: {e}"))?;
    }
    for (i, input) in case
        .get("operationInputs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let mut config = EndpointConfig::default();
        for (name, v) in input
            .get("builtInParams")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if !config.set_built_in(name, v) {
                return Err(format!(
                    "operationInputs[{i}]: unknown built-in {name} = {v}"
                ));
            }
        }
        for (name, v) in input
            .get("clientParams")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let v = endpoint::ParamValue::from_json(v)
                .ok_or_else(|| format!("operationInputs[{i}]: client param {name} = {v}"))?;
            config.client_context.insert(name.clone(), v);
        }
        let op_name = input["operationName"].as_str().unwrap_or_default();
        let op = model
            .operation(op_name)
            .ok_or_else(|| format!("operationInputs[{i}]: unknown operation {op_name}"))?;
        let op_params = input
            .get("operationParams")
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new()));
        let params = rules.params_for(model, op, &op_params, &config);
        check(rules.resolve(&params), expect)
            .map_err(|e| format!("operationInputs[{i}] {op_name}: {e}"))?;
    }
    Ok(())
}

fn main() {
    let only_service = std::env::var("ENDPOINT_SERVICE").ok();
    let only_case: Option<usize> = std::env::var("ENDPOINT_CASE")
        .ok()
        .and_then(|c| c.parse().ok());
    let verbose = std::env::var("VERBOSE").is_ok_and(|v| !v.is_empty() && v != "0");
    let skips = load_skips();

    let root = data_dir().join("endpoints");
    let mut services: Vec<String> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    services.sort();

    let (mut passed, mut failed, mut skipped, mut total) = (0usize, 0usize, 0usize, 0usize);
    let mut unlisted_failures = 0usize;
    let mut failures_by_service: BTreeMap<String, usize> = BTreeMap::new();
    let mut skip_passed = Vec::new();
    let mut resolve_time = std::time::Duration::ZERO;
    let mut resolutions = 0usize;
    for service in &services {
        if only_service.as_deref().is_some_and(|s| s != service) {
            continue;
        }
        let path = root.join(service).join("endpoint-tests-1.json");
        let file: Value = serde_json::from_slice(&std::fs::read(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let cases = file["testCases"].as_array().cloned().unwrap_or_default();
        // The folder is the botocore service name; find_service also accepts other
        // spellings (serviceId, CLI names).
        let loaded = model::find_service(service)
            .ok_or_else(|| format!("no bundled model for {service}"))
            .and_then(|e| model::load(&e.name).map_err(|e| e.to_string()))
            .and_then(|m| {
                endpoint::rule_set(&m)
                    .map(|r| (m.clone(), r))
                    .map_err(|e| e.to_string())
            });
        for (i, case) in cases.iter().enumerate() {
            let number = i + 1;
            if only_case.is_some_and(|c| c != number) {
                continue;
            }
            total += 1;
            let skip = skips.get(&(service.clone(), number));
            let result = match &loaded {
                Ok((model, rules)) => {
                    let start = Instant::now();
                    let r = run_case(model, rules, case);
                    resolve_time += start.elapsed();
                    resolutions += 1;
                    r
                }
                Err(e) => Err(e.clone()),
            };
            match (result, skip) {
                (Ok(()), None) => passed += 1,
                (Ok(()), Some(_)) => {
                    skipped += 1;
                    skip_passed.push(format!("{service} {number}"));
                }
                (Err(_), Some(_)) => skipped += 1,
                (Err(e), None) => {
                    failed += 1;
                    unlisted_failures += 1;
                    *failures_by_service.entry(service.clone()).or_default() += 1;
                    if verbose {
                        let doc = case["documentation"].as_str().unwrap_or_default();
                        println!("FAIL {service} {number} ({doc}): {e}");
                    }
                }
            }
        }
    }

    if !failures_by_service.is_empty() {
        println!("failures by service:");
        for (s, n) in &failures_by_service {
            println!("  {s}: {n}");
        }
    }
    if !skip_passed.is_empty() {
        println!("skipped cases that now pass (remove them from endpoints-skip.txt):");
        for s in &skip_passed {
            println!("  {s}");
        }
    }
    if resolutions > 0 {
        println!(
            "average time per case (all of its resolutions, incl. building parameters): {:.1} µs",
            resolve_time.as_secs_f64() * 1e6 / resolutions as f64
        );
    }
    println!("{passed} passed, {failed} failed, {skipped} skipped of {total}");
    let rate = if total == 0 {
        1.0
    } else {
        passed as f64 / total as f64
    };
    let filtered = only_service.is_some() || only_case.is_some();
    if unlisted_failures > 0 || (!filtered && rate < 0.995) {
        println!(
            "FAILED: {unlisted_failures} unlisted failures, pass rate {:.2}%",
            rate * 100.0
        );
        std::process::exit(1);
    }
}
