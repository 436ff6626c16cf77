//! libFuzzer entry point of `org_signed`; the body is [`kaiwa_fuzz::org_signed`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kaiwa_fuzz::org_signed(data));
