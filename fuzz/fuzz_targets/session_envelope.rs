//! libFuzzer entry point of `session_envelope`; the body is [`kaiwa_fuzz::session_envelope`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kaiwa_fuzz::session_envelope(data));
