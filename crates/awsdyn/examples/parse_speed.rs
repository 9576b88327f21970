//! Times awsdyn's parse of a response body (the client's code path,
//! [`awsdyn::client::decode`]), its streaming decode straight to the printed JSON
//! ([`awsdyn::client::decode_printed`] and writing it out, as `census decode` prints
//! it, to a sink) and, on a JSON body, `serde_json::from_slice::<Value>` on the same
//! bytes, in the same process: the in-process figures of bench/speed.py.
//!
//! ```text
//! cargo run --release -p awsdyn --example parse_speed -- RUNS SERVICE OPERATION FILE [SERVICE OPERATION FILE]...
//! ```
//!
//! Prints one JSON object per response: `{"service", "operation", "bytes", "runs",
//! "awsdyn_s", "awsdyn_cpu_s", "printed_s", "printed_cpu_s", "serde_json_s",
//! "serde_json_cpu_s"}` (medians in seconds, wall and the thread's CPU time; the
//! printed ones are null when the streaming path declines the answer, the serde_json
//! ones for a body that is not JSON). CPU time is the figure to compare on a busy machine: wall time there is
//! mostly waiting for a core. Each result is dropped outside its timing.

use std::time::Instant;

use serde_json::{json, Value};

// The allocator the census binary uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The CPU time this thread has used, in seconds.
fn thread_cpu() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec, which `ts` is.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

/// Times `f` `runs` times: the medians of wall and CPU seconds. Its result is dropped
/// outside the timing.
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, f64) {
    let (mut walls, mut cpus) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for _ in 0..runs {
        let (t, c) = (Instant::now(), thread_cpu());
        let v = f();
        cpus.push(thread_cpu() - c);
        walls.push(t.elapsed().as_secs_f64());
        drop(v);
    }
    (median(walls), median(cpus))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if !n.is_multiple_of(2) {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: parse_speed RUNS SERVICE OPERATION FILE [SERVICE OPERATION FILE]...";
    let runs: usize = args
        .first()
        .and_then(|r| r.parse().ok())
        .filter(|&r| r > 0)
        .expect(usage);
    let cases = &args[1..];
    assert!(
        !cases.is_empty() && cases.len().is_multiple_of(3),
        "{usage}"
    );
    for case in cases.chunks(3) {
        let (service, operation, file) = (&case[0], &case[1], &case[2]);
        let body = std::fs::read(file).unwrap_or_else(|e| panic!("{file}: {e}"));
        let (model, key) =
            awsdyn::client::Client::operation(service, operation).unwrap_or_else(|e| panic!("{e}"));
        let op = &model.operations[&key];
        let input = json!({});
        let resp = awsdyn::Response {
            status: 200,
            headers: &[],
            body: &body,
        };
        let ours = time(runs, || {
            let v = awsdyn::client::decode(&model, op, &input, &resp)
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            assert!(
                v.as_object().is_some_and(|o| !o.is_empty()),
                "{file}: empty"
            );
            v
        });
        let printed = awsdyn::client::decode_printed(&model, &key, op, &resp, true)
            .is_some()
            .then(|| {
                time(runs, || {
                    let p = awsdyn::client::decode_printed(&model, &key, op, &resp, true)
                        .expect("declined once, declined always");
                    p.write_to(&mut std::io::sink()).expect("writing to a sink");
                    p
                })
            });
        let is_json = body
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|&b| b == b'{' || b == b'[');
        let serde = is_json.then(|| {
            time(runs, || {
                serde_json::from_slice::<Value>(&body).expect("valid JSON")
            })
        });
        println!(
            "{}",
            json!({
                "service": service,
                "operation": operation,
                "bytes": body.len(),
                "runs": runs,
                "awsdyn_s": ours.0,
                "awsdyn_cpu_s": ours.1,
                "printed_s": printed.map(|s| s.0),
                "printed_cpu_s": printed.map(|s| s.1),
                "serde_json_s": serde.map(|s| s.0),
                "serde_json_cpu_s": serde.map(|s| s.1),
            })
        );
    }
}
