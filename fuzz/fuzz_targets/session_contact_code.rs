//! libFuzzer entry point of `session_contact_code`; the body is [`kaiwa_fuzz::session_contact_code`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kaiwa_fuzz::session_contact_code(data));
