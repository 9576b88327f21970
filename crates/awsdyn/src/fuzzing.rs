//! The bodies of awsdyn's fuzz targets (`fuzz/` at the repository root; see
//! FUZZING.md). Not part of the API: each target is a plain function here so that an
//! ordinary `cargo test` (tests/fuzz_corpus.rs) replays the committed corpus and the
//! regressions through exactly the code the fuzzer ran. Every function returns
//! normally for any input; a panic is a finding.
//!
//! # Response targets (`response_<protocol>`)
//!
//! One target per wire protocol, over a fixed list of operations: the operations of
//! botocore's response-parsing vectors for that protocol (`tests/data/protocols/output`
//! and `legacy/output`, files in name order, suites and cases in file order), then the
//! bundled operations of [`BUNDLED`] that speak it. Input:
//!
//! ```text
//! bytes 0..2   the operation: u16 little-endian, modulo the number of operations
//! bytes 2..4   the HTTP status: u16 little-endian
//! then         header lines `Name: value`, an empty line (`\n\n`), the body
//! ```
//!
//! With no `\n\n` after byte 4, everything after it is the body and there are no
//! headers. The response goes through what the client does with one: s3's status
//! rule, the protocol's parser (result, or error body for any status the protocol
//! treats as an error), the result customizations, and pagination (next tokens, and
//! two pages merged).
//!
//! # Endpoint target (`endpoint`)
//!
//! Input: a JSON object `{"service": NAME, "ruleSet": RULESET?, "params": {..}?,
//! "operationInputs": [..]?}`, the shape of one case of the endpoint test vectors plus
//! the service. `ruleSet`, when given, replaces the service's bundled rule set (it is
//! compiled against the bundled partitions); `params` are resolved directly,
//! `operationInputs` through the parameters of a call (built-ins, client context,
//! static and operation context parameters, then the rule set).

use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::endpoint::{self, EndpointConfig, ParamValue, Params, RuleSet};
use crate::model::{self, Protocol, ServiceModel};
use crate::paginate::{FullResult, Paginator};
use crate::protocol::{self, Response};
use crate::{customize, Error};

/// Bundled operations the response targets add to the vectors' toy models: real
/// shapes with deep nesting, lists, maps, timestamps, blobs, flattened XML, header and
/// status bindings, payloads, paginators and the customized results.
pub const BUNDLED: &[(&str, &str)] = &[
    // query
    ("iam", "GetAccountAuthorizationDetails"),
    ("iam", "ListRoles"),
    ("sts", "AssumeRole"),
    ("sns", "GetTopicAttributes"),
    ("cloudformation", "DescribeStacks"),
    ("cloudformation", "GetTemplate"),
    ("cloudwatch", "GetMetricData"),
    ("rds", "DescribeDBInstances"),
    ("autoscaling", "DescribeAutoScalingGroups"),
    ("sdb", "Select"),
    ("elbv2", "DescribeLoadBalancers"),
    // ec2
    ("ec2", "DescribeInstances"),
    ("ec2", "DescribeImages"),
    ("ec2", "DescribeSecurityGroups"),
    ("ec2", "DescribeSpotPriceHistory"),
    ("ec2", "GetConsoleOutput"),
    ("ec2", "DescribeLaunchTemplateVersions"),
    // json
    ("dynamodb", "Scan"),
    ("dynamodb", "DescribeTable"),
    ("kinesis", "GetRecords"),
    ("logs", "FilterLogEvents"),
    ("ssm", "DescribeInstanceInformation"),
    ("ecs", "DescribeTasks"),
    ("organizations", "ListAccounts"),
    ("cloudtrail", "LookupEvents"),
    ("sqs", "GetQueueAttributes"),
    // rest-json
    ("lambda", "ListFunctions"),
    ("lambda", "GetFunction"),
    ("lambda", "Invoke"),
    ("eks", "DescribeCluster"),
    ("apigateway", "GetRestApis"),
    ("apigateway", "GetExport"),
    ("efs", "DescribeFileSystems"),
    ("glacier", "ListVaults"),
    ("iot", "ListThings"),
    // rest-xml
    ("s3", "ListBuckets"),
    ("s3", "ListObjectsV2"),
    ("s3", "ListObjectVersions"),
    ("s3", "GetBucketLocation"),
    ("s3", "GetBucketTagging"),
    ("s3", "GetObject"),
    ("s3", "HeadObject"),
    ("s3", "GetBucketPolicy"),
    ("s3", "GetBucketLifecycleConfiguration"),
    ("route53", "ListResourceRecordSets"),
    ("cloudfront", "ListDistributions"),
    ("s3control", "ListAccessPoints"),
];

/// The name of the response target of a protocol: `response_rest_xml`.
pub fn response_target(protocol: Protocol) -> String {
    format!("response_{}", protocol.name().replace('-', "_"))
}

/// The operations one response target covers.
pub struct Responses {
    /// `None` for a vector case whose model awsdyn refuses: it keeps its place, so
    /// that case numbers stay those of the vector files (fuzz/seed.py relies on it).
    cases: Vec<Option<(Arc<ServiceModel>, String)>>,
}

impl Responses {
    /// The operations of `protocol`: the vectors under `data_dir` (the repository's
    /// `tests/data`), then [`BUNDLED`]. Panics if the vectors cannot be read, as a
    /// fuzz target or test cannot do without them.
    pub fn new(protocol: Protocol, data_dir: &Path) -> Responses {
        let mut cases = Vec::new();
        for suites in vector_files(data_dir) {
            for suite in suites {
                if suite["metadata"]["protocol"].as_str() != Some(protocol.name()) {
                    continue;
                }
                for case in suite["cases"].as_array().into_iter().flatten() {
                    cases.push(vector_model(&suite, case));
                }
            }
        }
        for (service, op) in BUNDLED {
            let model = model::load(service).unwrap_or_else(|e| panic!("{service}: {e}"));
            if model.protocol().ok() != Some(protocol) {
                continue;
            }
            let key = model
                .operation_key(op)
                .unwrap_or_else(|| panic!("{service} has no operation {op}"))
                .to_string();
            cases.push(Some((model, key)));
        }
        Responses { cases }
    }

    /// How many operations there are.
    pub fn len(&self) -> usize {
        self.cases.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cases.is_empty()
    }

    /// Runs one input (see the module's documentation).
    pub fn run(&self, data: &[u8]) {
        if data.len() < 4 || self.cases.is_empty() {
            return;
        }
        let pick = u16::from_le_bytes([data[0], data[1]]) as usize % self.cases.len();
        let Some((model, key)) = &self.cases[pick] else {
            return;
        };
        let status = u16::from_le_bytes([data[2], data[3]]);
        let (headers, body) = split_message(&data[4..]);
        let op = &model.operations[key.as_str()];
        let status = customize::effective_status(model, op, status, body);
        let resp = Response {
            status,
            headers: &headers,
            body,
        };
        let mut input = Value::Object(Map::new());
        let notes = customize::before_call(model, op, &mut input);
        match protocol::parse(model, op, &resp) {
            Ok(mut value) => {
                customize::after_call(model, op, notes, body, &mut value);
                paginate(model, key, value);
            }
            Err(Error::Service(e)) => {
                let _ = (e.to_string(), protocol::error_shape(model, op, &e.code));
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
}

/// Header lines and body of a response target's input.
fn split_message(data: &[u8]) -> (Vec<(String, String)>, &[u8]) {
    let Some(at) = data.windows(2).position(|w| w == b"\n\n") else {
        return (Vec::new(), data);
    };
    let headers = String::from_utf8_lossy(&data[..at])
        .lines()
        .filter(|l| !l.is_empty())
        .map(|line| match line.split_once(':') {
            Some((k, v)) => (k.trim().to_string(), v.trim().to_string()),
            None => (line.trim().to_string(), String::new()),
        })
        .collect();
    (headers, &data[at + 2..])
}

/// What the client does with a page: the next tokens, and merging (two copies of the
/// page, as two pages).
fn paginate(model: &ServiceModel, key: &str, page: Value) {
    let Ok(Some(paginator)) = Paginator::for_operation(model, key) else {
        return;
    };
    let mut input = Value::Object(Map::new());
    if let Some(tokens) = paginator.next_tokens(&page) {
        paginator.inject(&mut input, &tokens);
    }
    let mut full = FullResult::new(&paginator);
    full.add_page(page.clone());
    full.add_page(page);
    let _ = full.finish();
}

/// The response-vector files, in the order [`Responses::new`] reads them.
fn vector_files(data_dir: &Path) -> Vec<Vec<Value>> {
    let mut out = Vec::new();
    for sub in ["output", "legacy/output"] {
        let dir = data_dir.join("protocols").join(sub);
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let suites: Vec<Value> =
                serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            out.push(suites);
        }
    }
    out
}

/// The model of one vector case: the suite's metadata and shapes, the case's operation.
fn vector_model(suite: &Value, case: &Value) -> Option<(Arc<ServiceModel>, String)> {
    let given = &case["given"];
    let name = given["name"].as_str()?.to_string();
    let mut ops = Map::new();
    ops.insert(name.clone(), given.clone());
    let json = serde_json::json!({
        "metadata": suite["metadata"],
        "shapes": suite["shapes"],
        "operations": ops,
    });
    let model = ServiceModel::from_value("vector", json).ok()?;
    Some((Arc::new(model), name))
}

/// The endpoint target: one input (see the module's documentation).
pub fn endpoint(data: &[u8]) {
    let Ok(doc) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Some(model) = doc["service"]
        .as_str()
        .and_then(model::find_service)
        .and_then(|e| model::load(&e.name).ok())
    else {
        return;
    };
    let rules = match doc.get("ruleSet") {
        Some(json) => match RuleSet::from_json(json) {
            Ok(rules) => Arc::new(rules),
            Err(e) => {
                let _ = e.to_string();
                return;
            }
        },
        None => match endpoint::rule_set(&model) {
            Ok(rules) => rules,
            Err(_) => return,
        },
    };
    if let Some(params) = doc.get("params") {
        if let Ok(params) = Params::from_json(params) {
            let _ = show(rules.resolve(&params));
        }
    }
    for input in doc["operationInputs"].as_array().into_iter().flatten() {
        let mut config = EndpointConfig::default();
        for (name, v) in input["builtInParams"].as_object().into_iter().flatten() {
            config.set_built_in(name, v);
        }
        for (name, v) in input["clientParams"].as_object().into_iter().flatten() {
            if let Some(v) = ParamValue::from_json(v) {
                config.client_context.insert(name.clone(), v);
            }
        }
        let Some(op) = input["operationName"]
            .as_str()
            .and_then(|name| model.operation(name))
        else {
            continue;
        };
        let op_params = input
            .get("operationParams")
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new()));
        let params = rules.params_for(&model, op, &op_params, &config);
        let _ = show(rules.resolve(&params));
    }
}

/// What the client reads of a resolved endpoint.
fn show(result: Result<endpoint::Endpoint, endpoint::EndpointError>) -> String {
    match result {
        Ok(e) => format!("{} {:?} {:?}", e.url, e.signing_name(), e.signing_region()),
        Err(e) => e.to_string(),
    }
}
