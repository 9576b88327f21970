//! Scan-file loading and the check against the models: see census::spec::fuzzing.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| census::spec::fuzzing::scan_file(data));
