//! libFuzzer entry point of `crypto_decode`; the body is [`kaiwa_fuzz::crypto_decode`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kaiwa_fuzz::crypto_decode(data));
