//! The bodies of census's fuzz targets (`fuzz/` at the repository root; see
//! FUZZING.md). Not part of the API: plain functions, so that `cargo test` (the
//! `fuzz_corpus_*` tests of tests/spec.rs) replays the committed corpus and the
//! regressions through exactly the code the fuzzer ran. Every function returns
//! normally for any input; a panic is a finding.

use serde_json::Value;

use super::{check, dedup, source, ResultKey, Spec, SpecError};

/// `scan_file`: a scan file's text, read and checked against the bundled models as
/// [`super::load`] does with a file (without the file system), then what the scan
/// reads of each call.
pub fn scan_file(data: &[u8]) {
    match check_scan_text("fuzz.json", data) {
        Ok(spec) => {
            for call in &spec.calls {
                let _ = (
                    call.result_key.as_ref().map(|k| k.to_string()),
                    &call.function,
                );
            }
        }
        Err(e) => {
            let _ = (e.to_string(), e.problems().len());
        }
    }
}

/// A scan file's text, read and checked as [`super::load`] reads and checks the file
/// `name`.
pub fn check_scan_text(name: &str, text: &[u8]) -> Result<Spec, SpecError> {
    let mut problems = Vec::new();
    let mut calls = Vec::new();
    match source::entries(name, text) {
        Ok(entries) => check::entries(entries, &mut calls, &mut problems),
        Err(message) => problems.push(super::Problem {
            origin: name.to_string(),
            message,
        }),
    }
    if !problems.is_empty() {
        return Err(SpecError::new(problems));
    }
    Ok(Spec {
        calls: dedup(calls),
        planned: Vec::new(),
    })
}

/// Result keys the second mode of [`result_key`] applies to fuzzed results: those of
/// the scan files in the repository and of the tests, and the usual jq forms.
pub const FILTERS: &[&str] = &[
    "Reservations",
    ".Reservations[].Instances[]",
    ".Reservations | .[] | .Instances | .[] | .Tags[]|select(.Key==\"Name\")|.Value",
    ".Buckets[]|.Name",
    ".Buckets | map(.Name) | sort_by(.) | reverse",
    ".Vpcs | map({id: .VpcId, cidr: .CidrBlock})",
    ".Vpcs[] | select(.IsDefault) | .VpcId",
    ".Vpcs | keys[] | ascii_downcase",
    ".Vpcs | length",
    ".",
    ".[]",
    "..",
    ".. | numbers",
    "[paths]",
    "to_entries",
    "tostream",
    "tojson | fromjson",
    ".[] | tostring",
    ".[] | ascii_downcase",
    "[.. | strings] | join(\",\")",
    "[.. | numbers] | add",
    ".[] | .[] | todate",
    "[.. | strings | test(\"a.*b\")]",
    ".Contents | group_by(.StorageClass) | map(length)",
    "walk(if type == \"string\" then ascii_upcase else . end)",
    "[.. | objects | keys] | flatten | unique",
    ".[] | @base64d",
    ".[] | @text",
    ".[] | splits(\", *\")",
    "[.[] | tonumber?]",
];

/// `result_key`: first byte even: the rest is a result key, parsed and compiled as a
/// scan file's `result_key` is (never run: a jq filter may legitimately run for
/// ever). Odd: the second byte picks one of [`FILTERS`], applied to the rest, a JSON
/// result (what AWS answered).
pub fn result_key(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        if let Ok(text) = std::str::from_utf8(rest) {
            let _ = ResultKey::parse(text);
        }
        return;
    }
    let Some((&pick, rest)) = rest.split_first() else {
        return;
    };
    let Ok(result) = serde_json::from_slice::<Value>(rest) else {
        return;
    };
    let filter = FILTERS[pick as usize % FILTERS.len()];
    if let Ok(Some(key)) = ResultKey::parse(filter) {
        let _ = key.apply(&result);
    }
}
