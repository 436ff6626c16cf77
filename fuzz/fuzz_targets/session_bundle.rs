//! libFuzzer entry point of `session_bundle`; the body is [`kaiwa_fuzz::session_bundle`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kaiwa_fuzz::session_bundle(data));
