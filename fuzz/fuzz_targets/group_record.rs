//! libFuzzer entry point of `group_record`; the body is [`kaiwa_fuzz::group_record`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kaiwa_fuzz::group_record(data));
