//! `client::decode_printed` (the streaming path: answer bytes straight to printed
//! JSON) against the value path (`client::decode`, merged as boto3 merges a first page,
//! pretty-printed by serde_json): the same bytes on every botocore output vector of
//! the protocols it streams, on bench/gen_responses.py's answers at a small size, and
//! on mutated copies of those bodies (members reordered or repeated, bytes dropped).
//! Where the streaming path declines (`None`), the caller prints the value: the test
//! also checks that it declines rarely on the vectors, so the comparison means
//! something.

mod vectors;

use awsdyn::model::{Operation, ServiceModel};
use awsdyn::paginate::{FullResult, Paginator};
use awsdyn::Response;
use serde_json::{json, Value};

/// The value path's printed bytes, or `None` when it fails.
fn printed_by_value(
    model: &ServiceModel,
    op_name: &str,
    op: &Operation,
    resp: &Response,
    merge: bool,
) -> Option<Vec<u8>> {
    let page = awsdyn::client::decode(model, op, &json!({}), resp).ok()?;
    let value = match Paginator::for_operation(model, op_name).unwrap() {
        Some(p) if merge => {
            let mut full = FullResult::new(&p);
            full.add_page(page);
            full.finish()
        }
        _ => page,
    };
    Some(serde_json::to_vec_pretty(&value).unwrap())
}

/// Compares both paths on one answer: `Some(true)` when the streaming path printed
/// it (the same bytes), `Some(false)` when it declined, `None` when neither could.
fn compare(
    what: &str,
    model: &ServiceModel,
    op_name: &str,
    resp: &Response,
    merge: bool,
) -> Option<bool> {
    let op = &model.operations[op_name];
    let by_value = printed_by_value(model, op_name, op, resp, merge);
    let Some(printed) = awsdyn::client::decode_printed(model, op_name, op, resp, merge) else {
        return by_value.map(|_| false);
    };
    let mut streamed = Vec::new();
    printed.write_to(&mut streamed).unwrap();
    let Some(by_value) = by_value else {
        panic!(
            "{what}: the streaming path printed an answer the value path refuses:\n{}",
            String::from_utf8_lossy(&streamed)
        );
    };
    if streamed != by_value {
        panic!(
            "{what}: streaming and value paths differ\n--- value path:\n{}\n--- streaming:\n{}\n--- body:\n{}",
            String::from_utf8_lossy(&by_value),
            String::from_utf8_lossy(&streamed),
            String::from_utf8_lossy(resp.body)
        );
    }
    Some(true)
}

fn streamed_protocol(stem: &str) -> bool {
    matches!(
        stem,
        "ec2" | "query" | "json" | "json_1_0" | "json_1_0-query-compatible"
    )
}

#[test]
fn every_output_vector_prints_the_same() {
    let (mut streamed, mut declined) = (0, 0);
    for case in vectors::load_cases() {
        if case.direction != "output" || !streamed_protocol(&case.protocol) {
            continue;
        }
        let Ok((model, op_name)) = vectors::model_for(&case) else {
            continue;
        };
        let (status, headers, body) = vectors::response_of(&case);
        let resp = Response {
            status,
            headers: &headers,
            body: &body,
        };
        let what = format!("{} {}", case.protocol, case.key);
        match compare(&what, &model, &op_name, &resp, true) {
            Some(true) => streamed += 1,
            Some(false) if !vectors::expects_error(&case) => {
                eprintln!("declined: {what}");
                declined += 1
            }
            _ => {}
        }
    }
    eprintln!("output vectors: {streamed} streamed, {declined} success answers declined");
    assert!(streamed > 100, "only {streamed} vectors streamed");
    assert!(
        declined * 10 < streamed,
        "{declined} success answers declined, {streamed} streamed"
    );
}

/// bench/gen_responses.py's answers, at about 300 KB.
fn generated() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let dir = testkit::TempDir::new("printed");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench/gen_responses.py");
    let status = std::process::Command::new("python3")
        .arg(script)
        .arg(dir.path())
        .env("GEN_RESPONSES_BYTES", "300000")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs bench/gen_responses.py");
    assert!(status.success());
    let read = |name: &str| std::fs::read(dir.path().join(name)).unwrap();
    vec![
        (
            "ec2",
            "DescribeInstances",
            read("ec2-describe-instances.xml"),
        ),
        ("dynamodb", "Scan", read("dynamodb-scan.json")),
    ]
}

#[test]
fn generated_answers_print_the_same() {
    for (service, op_name, body) in generated() {
        let model = awsdyn::model::load(service).unwrap();
        let resp = Response {
            status: 200,
            headers: &[],
            body: &body,
        };
        for merge in [true, false] {
            let what = format!("{service} {op_name} (merge {merge})");
            assert_eq!(
                compare(&what, &model, op_name, &resp, merge),
                Some(true),
                "{what}"
            );
        }
    }
}

/// A small deterministic generator (xorshift) for the mutations.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// A copy of `body` changed at random: a line or a byte range dropped, repeated or
/// moved, or a byte changed. The generated answers are one element or member a line
/// (XML) or a compact document (JSON), so moving lines reorders and repeats members.
fn mutate(body: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = body.to_vec();
    for _ in 0..1 + rng.below(3) {
        let len = out.len().max(1);
        let a = rng.below(len);
        let b = (a + 1 + rng.below(200)).min(out.len());
        match rng.below(5) {
            0 => {
                out.drain(a..b);
            }
            1 => {
                let piece = out[a..b].to_vec();
                let at = rng.below(out.len());
                out.splice(at..at, piece);
            }
            2 => {
                let piece: Vec<u8> = out.drain(a..b).collect();
                let at = rng.below(out.len());
                out.splice(at..at, piece);
            }
            3 if !out.is_empty() => {
                let at = a.min(out.len() - 1);
                let bytes = b"<>{}[],:\"\\n0a &/";
                out[at] = bytes[rng.below(bytes.len())];
            }
            _ => {
                // Whole lines: repeat or move one.
                let lines: Vec<&[u8]> = out.split(|&c| c == b'\n').collect();
                let i = rng.below(lines.len());
                let j = rng.below(lines.len());
                let mut moved: Vec<&[u8]> = lines.clone();
                let line = moved[i];
                if rng.below(2) == 0 {
                    moved.remove(i);
                }
                moved.insert(j.min(moved.len()), line);
                out = moved.join(&b'\n');
            }
        }
    }
    out
}

#[test]
fn mutated_bodies_print_the_same_or_are_declined() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut streamed = 0;
    // The vectors' success bodies.
    for case in vectors::load_cases() {
        if case.direction != "output"
            || !streamed_protocol(&case.protocol)
            || vectors::expects_error(&case)
        {
            continue;
        }
        let Ok((model, op_name)) = vectors::model_for(&case) else {
            continue;
        };
        let (status, headers, body) = vectors::response_of(&case);
        for n in 0..20 {
            let body = mutate(&body, &mut rng);
            let resp = Response {
                status,
                headers: &headers,
                body: &body,
            };
            let what = format!("{} {} mutation {n}", case.protocol, case.key);
            streamed += usize::from(compare(&what, &model, &op_name, &resp, true) == Some(true));
        }
    }
    // The generated answers, cut to their first 20 KB and closed again.
    for (service, op_name, body) in generated() {
        let model = awsdyn::model::load(service).unwrap();
        let head = &body[..body.len().min(20_000)];
        for n in 0..200 {
            let body = mutate(head, &mut rng);
            let resp = Response {
                status: 200,
                headers: &[],
                body: &body,
            };
            let what = format!("{service} {op_name} mutation {n}");
            streamed += usize::from(compare(&what, &model, op_name, &resp, true) == Some(true));
        }
    }
    eprintln!("mutated bodies streamed: {streamed}");
    assert!(streamed > 100);
}

#[test]
fn declines_what_it_does_not_stream() {
    let model = awsdyn::model::load("dynamodb").unwrap();
    let op = &model.operations["Scan"];
    let headers = vec![];
    let resp = |status, body: &'static [u8]| Response {
        status,
        headers: &headers,
        body,
    };
    let error = br#"{"__type":"ResourceNotFoundException","message":"no"}"#;
    assert!(awsdyn::client::decode_printed(&model, "Scan", op, &resp(400, error), true).is_none());
    // A map key given twice: the value path keeps the last value in the first place.
    let twice = br#"{"Items":[{"a":{"S":"1"},"b":{"S":"2"},"a":{"S":"3"}}]}"#;
    assert!(awsdyn::client::decode_printed(&model, "Scan", op, &resp(200, twice), true).is_none());
    let v: Value = serde_json::from_slice(
        &printed_by_value(&model, "Scan", op, &resp(200, twice), true).unwrap(),
    )
    .unwrap();
    assert_eq!(v["Items"][0], json!({"a": {"S": "3"}, "b": {"S": "2"}}));
    // Members out of model order are streamed, in model order.
    let reordered = br#"{"ScannedCount":2,"Count":1,"Items":[]}"#;
    let printed =
        awsdyn::client::decode_printed(&model, "Scan", op, &resp(200, reordered), true).unwrap();
    let mut out = Vec::new();
    printed.write_to(&mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "{\n  \"ConsumedCapacity\": null,\n  \"Items\": [],\n  \"Count\": 1,\n  \"ScannedCount\": 2\n}"
    );
}
