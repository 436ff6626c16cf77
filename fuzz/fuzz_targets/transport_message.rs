//! libFuzzer entry point of `transport_message`; the body is [`kaiwa_fuzz::transport_message`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kaiwa_fuzz::transport_message(data));
