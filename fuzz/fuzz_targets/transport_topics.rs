//! libFuzzer entry point of `transport_topics`; the body is [`kaiwa_fuzz::transport_topics`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kaiwa_fuzz::transport_topics(data));
