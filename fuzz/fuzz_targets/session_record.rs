//! libFuzzer entry point of `session_record`; the body is [`kaiwa_fuzz::session_record`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kaiwa_fuzz::session_record(data));
