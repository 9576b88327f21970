//! Response parsing, protocol ec2: see awsdyn::fuzzing.
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use awsdyn::fuzzing::Responses;
use awsdyn::Protocol;

static CASES: LazyLock<Responses> = LazyLock::new(|| {
    Responses::new(
        Protocol::Ec2,
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data")),
    )
});

libfuzzer_sys::fuzz_target!(|data: &[u8]| CASES.run(data));
