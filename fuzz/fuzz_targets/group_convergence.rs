//! libFuzzer entry point of `group_convergence`; the body is [`kaiwa_fuzz::group_convergence`].
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kaiwa_fuzz::group_convergence(data));
