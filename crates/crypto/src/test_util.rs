//! Helpers for this crate's unit tests.

use core::fmt;

/// Asserts that the `Debug` output of `value` shows none of `secret`: not as lowercase or
/// uppercase hex (checked for every 4-byte window, so a partial leak is caught too) and not
/// as a decimal byte list. Returns the output for further checks.
pub(crate) fn assert_debug_redacted(value: &impl fmt::Debug, secret: &[u8]) -> String {
    let debug = format!("{value:?}");
    let pretty = format!("{value:#?}");
    for out in [&debug, &pretty] {
        for window in secret.windows(4) {
            let hex: String = window.iter().map(|b| format!("{b:02x}")).collect();
            assert!(!out.contains(&hex), "Debug output {out:?} contains secret bytes {hex}");
            assert!(!out.to_uppercase().contains(&hex.to_uppercase()), "{out:?} leaks {hex}");
        }
        let decimal: Vec<String> = secret.iter().take(4).map(u8::to_string).collect();
        assert!(!out.contains(&decimal.join(", ")), "{out:?} leaks decimal bytes");
    }
    debug
}
