//! libFuzzer entry point of `org_view`; the body is [`kaiwa_fuzz::org_view`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kaiwa_fuzz::org_view(data));
