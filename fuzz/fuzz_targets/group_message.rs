//! libFuzzer entry point of `group_message`; the body is [`kaiwa_fuzz::group_message`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kaiwa_fuzz::group_message(data));
