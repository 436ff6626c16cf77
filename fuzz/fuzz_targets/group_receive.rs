//! libFuzzer entry point of `group_receive`; the body is [`kaiwa_fuzz::group_receive`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kaiwa_fuzz::group_receive(data));
