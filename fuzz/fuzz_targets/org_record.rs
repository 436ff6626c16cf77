//! libFuzzer entry point of `org_record`; the body is [`kaiwa_fuzz::org_record`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kaiwa_fuzz::org_record(data));
