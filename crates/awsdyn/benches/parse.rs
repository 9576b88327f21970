//! Response parsing throughput on 20 MB responses: ec2 DescribeInstances (XML) and a
//! DynamoDB Scan (JSON). The responses come from bench/gen_responses.py (run by
//! bench/parse_throughput.py, which also measures botocore on the same bytes); set
//! AWSDYN_BENCH_DATA to their folder (default: <workspace>/bench/data).

use std::path::PathBuf;

use awsdyn::protocol::{self, Response};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

// The allocator the census binary uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn data_dir() -> PathBuf {
    std::env::var_os("AWSDYN_BENCH_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/data"))
}

fn bench_one(c: &mut Criterion, id: &str, service: &str, operation: &str, file: &str) {
    let path = data_dir().join(file);
    let body = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run `python3 bench/gen_responses.py` first",
            path.display()
        )
    });
    let model = awsdyn::model::load(service).unwrap();
    let op = model.operation(operation).unwrap();
    let headers = vec![("Content-Type".to_string(), "text/xml".to_string())];
    let resp = Response {
        status: 200,
        headers: &headers,
        body: &body,
    };
    // Parse once outside the timing to check the result is real.
    let v = protocol::parse(&model, op, &resp).unwrap();
    assert!(
        v.as_object().is_some_and(|o| !o.is_empty()),
        "{id}: empty result"
    );
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.sample_size(10);
    // The result is freed outside the timing, as the botocore timer frees its result
    // outside its own (bench/parse_throughput.py): both measure parsing alone.
    g.bench_function(id, |b| {
        b.iter_with_large_drop(|| protocol::parse(&model, op, &resp).unwrap());
    });
    g.finish();
}

fn parse(c: &mut Criterion) {
    bench_one(
        c,
        "ec2_describe_instances",
        "ec2",
        "DescribeInstances",
        "ec2-describe-instances.xml",
    );
    bench_one(c, "dynamodb_scan", "dynamodb", "Scan", "dynamodb-scan.json");
}

criterion_group!(benches, parse);
criterion_main!(benches);
