//! jq result keys (jaq): see census::spec::fuzzing::result_key.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| census::spec::fuzzing::result_key(data));
