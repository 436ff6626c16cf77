//! libFuzzer entry point of `group_event`; the body is [`kaiwa_fuzz::group_event`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kaiwa_fuzz::group_event(data));
