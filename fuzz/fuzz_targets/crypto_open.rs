//! libFuzzer entry point of `crypto_open`; the body is [`kaiwa_fuzz::crypto_open`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kaiwa_fuzz::crypto_open(data));
