//! The endpoint rule evaluator: see awsdyn::fuzzing::endpoint.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| awsdyn::fuzzing::endpoint(data));
