//! libFuzzer entry point of `org_request`; the body is [`kaiwa_fuzz::org_request`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kaiwa_fuzz::org_request(data));
