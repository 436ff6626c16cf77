//! libFuzzer entry point of `transport_store_response`; the body is [`kaiwa_fuzz::transport_store_response`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kaiwa_fuzz::transport_store_response(data));
