//! libFuzzer entry point of `session_receive`; the body is [`kaiwa_fuzz::session_receive`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kaiwa_fuzz::session_receive(data));
