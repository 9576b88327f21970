//! aws-auto-inventory's own sample scan files (issue 12), kept under
//! `tests/data/aws-auto-inventory/` (Apache-2.0, with its LICENSE and NOTICE): every
//! one loads, each entry with its fate; `--strict` rejects them as before.

use std::collections::BTreeMap;
use std::path::PathBuf;

use census::spec::{self, Fate};

fn samples() -> Vec<String> {
    let root =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/aws-auto-inventory/scan/sample");
    let mut out = Vec::new();
    for dir in [root.clone(), root.join("services")] {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "json") {
                out.push(p.to_str().unwrap().to_string());
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn every_sample_loads_with_fates() {
    let files = samples();
    assert_eq!(files.len(), 360);
    let mut counts: BTreeMap<Fate, usize> = BTreeMap::new();
    let mut problems = Vec::new();
    for f in &files {
        match spec::load(std::slice::from_ref(f), &[], spec::DetailsMode::Core, false).await {
            Ok(s) => {
                for p in &s.planned {
                    *counts.entry(p.fate).or_default() += 1;
                }
            }
            Err(e) => problems.extend(e.problems().iter().map(|p| p.to_string())),
        }
    }
    for p in &problems {
        eprintln!("{p}");
    }
    eprintln!("{counts:?}");
    assert!(problems.is_empty(), "{} problems", problems.len());
}
