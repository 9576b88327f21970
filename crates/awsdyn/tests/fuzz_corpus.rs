//! Replays awsdyn's fuzz corpora and regressions through the fuzz targets' own bodies
//! (`awsdyn::fuzzing`), so that every run of the tests (CI included) runs each input
//! the fuzzers kept and each input that once crashed, without nightly or libFuzzer.
//! See FUZZING.md. census's targets are replayed by census's tests/spec.rs.
//!
//! Inputs: fuzz/corpus/<target>/* (minimized corpora) and fuzz/regressions/<target>/*
//! (inputs that crashed, hung or ran out of memory before their fix).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use awsdyn::fuzzing::{self, Responses};
use awsdyn::Protocol;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every input of a target: corpus, then regressions, each in name order.
fn inputs(target: &str) -> Vec<PathBuf> {
    let mut all = Vec::new();
    for kind in ["corpus", "regressions"] {
        let dir = repo().join("fuzz").join(kind).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        all.extend(files);
    }
    all
}

/// Runs every input of `target` through `run`; fails naming each input that panicked.
fn replay(target: &str, run: impl Fn(&[u8])) {
    let files = inputs(target);
    assert!(
        files.len() >= 10,
        "fuzz/corpus/{target} has {} inputs: the committed corpus is missing",
        files.len()
    );
    let mut failed = Vec::new();
    for path in &files {
        let data = std::fs::read(path).unwrap();
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| run(&data))) {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failed.push(format!("{}: {msg}", path.display()));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} inputs of {target} panicked:\n{}",
        failed.len(),
        files.len(),
        failed.join("\n")
    );
}

fn responses(protocol: Protocol) {
    let cases = Responses::new(protocol, &repo().join("tests/data"));
    assert!(cases.len() > 20, "{} operations", cases.len());
    replay(&fuzzing::response_target(protocol), |d| cases.run(d));
}

#[test]
fn response_query() {
    responses(Protocol::Query);
}

#[test]
fn response_ec2() {
    responses(Protocol::Ec2);
}

#[test]
fn response_json() {
    responses(Protocol::Json);
}

#[test]
fn response_rest_json() {
    responses(Protocol::RestJson);
}

#[test]
fn response_rest_xml() {
    responses(Protocol::RestXml);
}

#[test]
fn endpoint() {
    replay("endpoint", fuzzing::endpoint);
}

/// The replay itself can fail: an input that panics (here the first) is reported
/// with its file.
#[test]
#[should_panic(expected = "panicked")]
fn replay_reports_a_panicking_input() {
    let first = std::cell::Cell::new(true);
    replay("endpoint", |_| {
        if first.replace(false) {
            panic!("boom");
        }
    });
}
