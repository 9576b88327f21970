//! `census decode`: botocore's protocol test vectors decoded through the binary (every
//! protocol, results and error bodies), answers recorded from moto decoded to exactly
//! what `census call` printed for them, and bad input.

#[path = "../../awsdyn/tests/vectors/mod.rs"]
mod vectors;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};
use testkit::{cli_command, Caller, FaultProxy, Moto, SeenRequest, TempDir};

fn census() -> Command {
    // No AWS endpoint is ever called: decode is offline.
    cli_command(env!("CARGO_BIN_EXE_census"), "http://127.0.0.1:9")
}

fn decode(args: &[&str], headers: &[(String, String)], stdin: Option<&[u8]>) -> Output {
    let mut cmd = census();
    cmd.arg("decode").args(args);
    for (k, v) in headers {
        cmd.arg("--header").arg(format!("{k}: {v}"));
    }
    match stdin {
        None => cmd.output().unwrap(),
        Some(body) => {
            let mut child = cmd
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(body).unwrap();
            child.wait_with_output().unwrap()
        }
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The five protocols, as the vector files name them.
fn protocol_of(file_stem: &str) -> Option<&'static str> {
    match file_stem {
        "ec2" => Some("ec2"),
        "query" => Some("query"),
        "json" | "json_1_0" | "json_1_0-query-compatible" => Some("json"),
        "rest-json" => Some("rest-json"),
        "rest-xml" => Some("rest-xml"),
        _ => None,
    }
}

/// Runs one output vector through `census decode --model`: the case's body as a file,
/// its status and headers as flags. The result (or error) printed must be the one the
/// vector expects.
fn decode_case(dir: &std::path::Path, n: usize, case: &vectors::Case) -> Result<(), String> {
    let (model_json, op_name) = vectors::model_json(case)?;
    let model = awsdyn::model::ServiceModel::from_value("vectors", model_json.clone())
        .map_err(|e| e.to_string())?;
    let op = &model.operations[&op_name];
    let model_path = dir.join(format!("model-{n}.json"));
    let body_path = dir.join(format!("body-{n}"));
    std::fs::write(&model_path, serde_json::to_vec(&model_json).unwrap()).unwrap();
    let (status, headers, body) = vectors::response_of(case);
    std::fs::write(&body_path, &body).unwrap();
    let status = status.to_string();
    let out = decode(
        &[
            "vectors",
            &op_name,
            body_path.to_str().unwrap(),
            "--model",
            model_path.to_str().unwrap(),
            "--status",
            &status,
        ],
        &headers,
        None,
    );
    let stderr = text(&out.stderr);
    if vectors::expects_error(case) {
        if out.status.code() != Some(1) {
            return Err(format!(
                "expected exit 1 for an error answer, got {:?}: {stderr}",
                out.status.code()
            ));
        }
        if !stderr.starts_with("census: error: ") || stderr.trim_end().lines().count() != 1 {
            return Err(format!("expected one error line, got {stderr:?}"));
        }
        let doc: Value = serde_json::from_slice(&out.stdout)
            .map_err(|e| format!("stdout is not JSON ({e}): {}", text(&out.stdout)))?;
        let mut fields = doc.as_object().cloned().unwrap_or_default();
        let error = fields.remove("Error").unwrap_or(Value::Null);
        let code = error["Code"].as_str().unwrap_or_default();
        let message = error["Message"].as_str().unwrap_or_default();
        if !stderr.contains(code) {
            return Err(format!("the error line does not name {code}: {stderr}"));
        }
        vectors::check_error(&model, op, case, code, message, &fields)
    } else {
        if !out.status.success() {
            return Err(format!("decode failed: {stderr}"));
        }
        let value: Value = serde_json::from_slice(&out.stdout)
            .map_err(|e| format!("stdout is not JSON ({e}): {}", text(&out.stdout)))?;
        vectors::check_result(&model, op, case, &value)
    }
}

#[test]
fn botocore_vectors_decode_on_every_protocol() {
    let skips = vectors::load_skips();
    let dir = TempDir::new("census-decode-vectors");
    // (protocol) -> (results passed, errors passed)
    let mut passed: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    let cases: Vec<_> = vectors::load_cases()
        .into_iter()
        .filter(|c| c.direction == "output")
        .filter_map(|c| protocol_of(&c.protocol).map(|p| (p, c)))
        .filter(|(_, c)| {
            !skips.contains_key(&(c.protocol.clone(), "output".to_string(), c.key.clone()))
        })
        .collect();
    for (n, (protocol, case)) in cases.iter().enumerate() {
        match decode_case(&dir, n, case) {
            Ok(()) => {
                let p = passed.entry(protocol).or_default();
                if vectors::expects_error(case) {
                    p.1 += 1;
                } else {
                    p.0 += 1;
                }
            }
            Err(why) => failures.push(format!("{} {}: {why}", case.protocol, case.key)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed through census decode:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    for protocol in ["ec2", "query", "json", "rest-json", "rest-xml"] {
        let (results, errors) = passed.get(protocol).copied().unwrap_or_default();
        assert!(
            results >= 10 && errors >= 2,
            "{protocol}: only {results} results and {errors} errors decoded"
        );
    }
}

/// One `census call` through the recording proxy, and `census decode` of the answer the
/// proxy saw for its last request: same stdout byte for byte, same stderr, same exit
/// status.
fn same_as_call(proxy: &FaultProxy, service: &str, operation: &str, param: Option<&Value>) {
    proxy.clear_requests();
    let mut call = cli_command(env!("CARGO_BIN_EXE_census"), &proxy.endpoint());
    call.args(["call", service, operation]);
    if let Some(p) = param {
        call.arg("--param").arg(p.to_string());
    }
    let called = call.output().unwrap();
    let seen: Vec<SeenRequest> = proxy.requests();
    let answer = seen.last().expect("census call sent a request");
    assert_eq!(
        seen.len(),
        1,
        "{service} {operation}: one request, one answer"
    );
    let dir = TempDir::new("census-decode-moto");
    let body = dir.join("body");
    std::fs::write(&body, &answer.response_body).unwrap();
    let status = answer.status.unwrap().to_string();
    let decoded = decode(
        &[
            service,
            operation,
            body.to_str().unwrap(),
            "--status",
            &status,
        ],
        &answer.response_headers,
        None,
    );
    let what = format!(
        "{service} {operation} (HTTP {status}, body {:?})",
        text(&answer.response_body)
    );
    assert_eq!(
        decoded.status.code(),
        called.status.code(),
        "{what}: exit status; decode stderr: {}",
        text(&decoded.stderr)
    );
    assert_eq!(
        text(&decoded.stderr),
        text(&called.stderr),
        "{what}: stderr"
    );
    if called.status.success() {
        assert!(
            !called.stdout.is_empty(),
            "{what}: census call printed nothing"
        );
        assert_eq!(
            text(&decoded.stdout),
            text(&called.stdout),
            "{what}: stdout"
        );
    } else {
        // census call prints the error line only; decode adds the error's boto3 form.
        assert!(called.stdout.is_empty());
        let doc: Value = serde_json::from_slice(&decoded.stdout).unwrap();
        let line = text(&called.stderr);
        assert!(
            line.contains(doc["Error"]["Code"].as_str().unwrap()),
            "{what}: {doc} vs {line}"
        );
        // The same answer straight to the decoder (stdin) gives the same.
        let again = decode(
            &[service, operation, "-", "--status", &status],
            &answer.response_headers,
            Some(&answer.response_body),
        );
        assert_eq!(again.stdout, decoded.stdout, "{what}: stdin");
    }
}

fn seed(moto: &Moto, service: &str, operation: &str, params: Value) -> Value {
    testkit::boto3_call(
        moto,
        &Caller::management(),
        service,
        operation,
        &params,
        false,
    )
}

#[test]
fn decode_prints_what_census_call_printed_for_moto_answers() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto);
    seed(
        &moto,
        "ec2",
        "create_vpc",
        json!({"CidrBlock": "10.9.0.0/16", "TagSpecifications": [{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "décodé <&>"}]}]}),
    );
    seed(
        &moto,
        "sns",
        "create_topic",
        json!({"Name": "decode-topic"}),
    );
    seed(
        &moto,
        "sqs",
        "create_queue",
        json!({"QueueName": "decode-queue"}),
    );
    seed(
        &moto,
        "dynamodb",
        "create_table",
        json!({
            "TableName": "decode-table",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        }),
    );
    seed(
        &moto,
        "s3",
        "create_bucket",
        json!({"Bucket": "decode-bucket"}),
    );
    seed(
        &moto,
        "s3",
        "put_object",
        json!({"Bucket": "decode-bucket", "Key": "a dir/b+c é.txt", "Body": "hello"}),
    );
    seed(
        &moto,
        "s3",
        "put_bucket_tagging",
        json!({"Bucket": "decode-bucket", "Tagging": {"TagSet": [{"Key": "k", "Value": "v"}]}}),
    );
    seed(
        &moto,
        "apigateway",
        "create_rest_api",
        json!({"name": "decode-api"}),
    );

    // ec2: query-style request, XML answer.
    same_as_call(&proxy, "ec2", "describe-vpcs", None);
    same_as_call(
        &proxy,
        "ec2",
        "DescribeVpcs",
        Some(&json!({"VpcIds": ["vpc-0000decode"]})),
    );
    // query.
    same_as_call(&proxy, "sns", "list_topics", None);
    same_as_call(
        &proxy,
        "sns",
        "get-topic-attributes",
        Some(&json!({"TopicArn": "arn:aws:sns:us-east-1:123456789012:decode-topic"})),
    );
    same_as_call(
        &proxy,
        "sns",
        "get-topic-attributes",
        Some(&json!({"TopicArn": "arn:aws:sns:us-east-1:123456789012:missing"})),
    );
    // json (sqs is awsQueryCompatible json).
    same_as_call(&proxy, "sqs", "list-queues", None);
    same_as_call(
        &proxy,
        "sqs",
        "get-queue-url",
        Some(&json!({"QueueName": "missing"})),
    );
    same_as_call(
        &proxy,
        "dynamodb",
        "describe-table",
        Some(&json!({"TableName": "decode-table"})),
    );
    same_as_call(
        &proxy,
        "dynamodb",
        "describe-table",
        Some(&json!({"TableName": "missing"})),
    );
    // rest-json.
    same_as_call(&proxy, "lambda", "list-functions", None);
    same_as_call(
        &proxy,
        "lambda",
        "get-function",
        Some(&json!({"FunctionName": "missing"})),
    );
    same_as_call(&proxy, "apigateway", "get-rest-apis", None);
    // rest-xml: url-encoded keys (EncodingType=url), header-bound members, an error.
    same_as_call(
        &proxy,
        "s3",
        "list-objects-v2",
        Some(&json!({"Bucket": "decode-bucket"})),
    );
    same_as_call(
        &proxy,
        "s3",
        "get-object-tagging",
        Some(&json!({"Bucket": "decode-bucket", "Key": "a dir/b+c é.txt"})),
    );
    same_as_call(
        &proxy,
        "s3",
        "get-bucket-tagging",
        Some(&json!({"Bucket": "decode-bucket"})),
    );
    same_as_call(
        &proxy,
        "s3",
        "list-objects-v2",
        Some(&json!({"Bucket": "missing-bucket"})),
    );
}

/// S3 answers some operations with 200 and an `<Error>` document: an error, as in
/// `census call` (botocore's customization), and a page with a token says so.
#[test]
fn s3_error_in_a_200_answer_and_partial_pages() {
    let body = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message><RequestId>656c76696e6727732072657175657374</RequestId></Error>";
    let out = decode(&["s3", "complete-multipart-upload", "-"], &[], Some(body));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "census: error: InternalError (HTTP 500): We encountered an internal error. Please try again. [request id 656c76696e6727732072657175657374]\n"
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["Error"]["Code"], "InternalError");

    let page = br#"<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><vpcSet><item><vpcId>vpc-1</vpcId></item></vpcSet><nextToken>tok</nextToken></DescribeVpcsResponse>"#;
    let out = decode(&["ec2", "describe_vpcs", "-"], &[], Some(page));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v, json!({"Vpcs": [{"VpcId": "vpc-1"}]}));
    assert!(
        text(&out.stderr).contains("next-page token (NextToken)"),
        "{}",
        text(&out.stderr)
    );
    let out = decode(
        &["ec2", "describe_vpcs", "-", "--no-paginate"],
        &[],
        Some(page),
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v, json!({"Vpcs": [{"VpcId": "vpc-1"}], "NextToken": "tok"}));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));

    // A header-bound member of a rest-xml answer.
    let out = decode(
        &["s3", "get-bucket-versioning", "-"],
        &[],
        Some(br#"<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>"#),
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v, json!({"Status": "Enabled"}));
    let out = decode(
        &["s3", "head-bucket", "-"],
        &[("x-amz-bucket-region".into(), "eu-west-3".into())],
        Some(b""),
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["BucketRegion"], "eu-west-3", "{v}");
}

#[test]
fn bad_input_gets_one_clear_line() {
    let dir = TempDir::new("census-decode-bad");
    let json_body = dir.join("body.json");
    std::fs::write(&json_body, b"{\"TableNames\": [").unwrap();
    let model = dir.join("model.json");
    std::fs::write(&model, b"{\"metadata\": 1}").unwrap();
    let jb = json_body.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["ec3", "describe-vpcs", jb], "unknown service \"ec3\"; did you mean ec2"),
        (
            &["ec2", "describe-vpc", jb],
            "unknown operation \"describe-vpc\" for service ec2; did you mean describe-vpcs",
        ),
        (
            &["ec2", "describe-vpcs", "/nonexistent/body.xml"],
            "/nonexistent/body.xml: cannot read it (No such file or directory (os error 2)); give the file holding the response body, or - for standard input",
        ),
        (
            &["dynamodb", "list-tables", jb],
            "body.json: could not parse the ListTables response (HTTP 200):",
        ),
        (
            &["dynamodb", "list-tables", jb, "--status", "999"],
            "999 is not in 100..=599",
        ),
        (
            &["dynamodb", "list-tables", jb, "--header", "no colon"],
            "\"no colon\" is not a header: write it as 'Name: value'",
        ),
        (
            &["dynamodb", "list-tables", jb, "--model", model.to_str().unwrap()],
            "model.json: not a botocore service model",
        ),
        (&["dynamodb", "list-tables"], "required arguments were not provided"),
    ];
    for (args, want) in cases {
        let out = decode(args, &[], None);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: expected {want:?} in {err:?}");
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{args:?}: one line: {err:?}"
        );
        assert!(out.stdout.is_empty(), "{args:?}: {}", text(&out.stdout));
    }
    // A malformed XML body names the fix.
    let out = decode(
        &["ec2", "describe-vpcs", "-"],
        &[],
        Some(b"<DescribeVpcsResponse><vpcSet><item>"),
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("standard input: could not parse the DescribeVpcs response"),
        "{err}"
    );
    assert!(
        err.contains("with the answer's --status and --header values"),
        "{err}"
    );
}
