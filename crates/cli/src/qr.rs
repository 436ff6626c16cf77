//! The contact code as a QR code: drawn in the terminal, or written as a PNG file.
//!
//! ```text
//! QR code      byte mode, error correction M (15 %), the smallest version that fits
//! terminal     two module rows per text row with half blocks ▀ ▄ █ and spaces;
//!              light modules are blocks (dark terminal background) unless inverted
//! PNG          8-bit greyscale, QR_PNG_SCALE px per module, QR_QUIET_ZONE modules of
//!              quiet zone on every side (ISO/IEC 18004)
//! ```

use std::path::Path;

use qrcode::{EcLevel, QrCode};

use crate::error::CliError;
use crate::limits::{QR_PNG_SCALE, QR_QUIET_ZONE};

/// A QR code's modules with its quiet zone: `true` is dark.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Modules {
    /// Modules per side, quiet zone included.
    pub(crate) side: usize,
    dark: Vec<bool>,
}

impl Modules {
    /// The QR code of `text`, with its quiet zone.
    pub(crate) fn encode(text: &str) -> Result<Self, CliError> {
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
            .map_err(|_| CliError::QrCode)?;
        let width = code.width();
        let modules = code.to_colors();
        let side = width + 2 * QR_QUIET_ZONE;
        let mut dark = vec![false; side * side];
        for (index, color) in modules.into_iter().enumerate() {
            let (y, x) = (index / width + QR_QUIET_ZONE, index % width + QR_QUIET_ZONE);
            if let Some(cell) = dark.get_mut(y * side + x) {
                *cell = color == qrcode::Color::Dark;
            }
        }
        Ok(Self { side, dark })
    }

    /// Whether the module at (`x`, `y`) is dark (outside the code: light).
    pub(crate) fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.side && self.dark.get(y * self.side + x).copied().unwrap_or(false)
    }

    /// The code drawn with half blocks, one line per two module rows.
    pub(crate) fn to_terminal(&self, invert: bool) -> String {
        let mut out = String::with_capacity((self.side + 1) * self.side.div_ceil(2) * 3);
        for y in (0..self.side).step_by(2) {
            for x in 0..self.side {
                let top = self.is_dark(x, y) == invert;
                let bottom = y + 1 < self.side && self.is_dark(x, y + 1) == invert;
                out.push(match (top, bottom) {
                    (true, true) => '█',
                    (true, false) => '▀',
                    (false, true) => '▄',
                    (false, false) => ' ',
                });
            }
            out.push('\n');
        }
        out
    }

    /// The code as a greyscale PNG image.
    pub(crate) fn to_png(&self) -> Result<Vec<u8>, CliError> {
        let scale = QR_PNG_SCALE as usize;
        let pixels = self.side * scale;
        let side = u32::try_from(pixels).map_err(|_| CliError::QrCode)?;
        let mut image = Vec::with_capacity(pixels * pixels);
        for y in 0..pixels {
            for x in 0..pixels {
                image.push(if self.is_dark(x / scale, y / scale) { 0 } else { 255 });
            }
        }
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|source| CliError::Png { source })?;
        writer.write_image_data(&image).map_err(|source| CliError::Png { source })?;
        writer.finish().map_err(|source| CliError::Png { source })?;
        Ok(out)
    }

    /// Writes [`to_png`](Self::to_png) to `path`.
    pub(crate) fn write_png(&self, path: &Path) -> Result<(), CliError> {
        let bytes = self.to_png()?;
        std::fs::write(path, bytes)
            .map_err(|e| CliError::Io { operation: "writing the PNG file", kind: e.kind() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quiet_zone_is_light_and_finder_patterns_are_dark() {
        let modules = Modules::encode("KAIWA:example").unwrap();
        let q = QR_QUIET_ZONE;
        for i in 0..modules.side {
            assert!(!modules.is_dark(i, 0) && !modules.is_dark(0, i));
        }
        // The top-left finder pattern: a dark 7×7 ring starting at the quiet zone.
        assert!(modules.is_dark(q, q) && modules.is_dark(q + 6, q + 6));
        assert!(!modules.is_dark(q + 1, q + 1));
    }

    #[test]
    fn terminal_rendering_has_one_line_per_two_rows_and_inverts() {
        let modules = Modules::encode("hello").unwrap();
        let text = modules.to_terminal(false);
        assert_eq!(text.lines().count(), modules.side.div_ceil(2));
        assert!(text.lines().all(|l| l.chars().count() == modules.side));
        // Dark background: the light quiet zone is drawn, so the first row is all blocks.
        assert!(text.lines().next().unwrap().chars().all(|c| c == '█'));
        assert!(modules.to_terminal(true).lines().next().unwrap().chars().all(|c| c == ' '));
    }

    #[test]
    fn png_has_the_signature_and_the_expected_size() {
        let modules = Modules::encode("KAIWA:png").unwrap();
        let png = modules.to_png().unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let side = u32::try_from(modules.side).unwrap() * QR_PNG_SCALE;
        assert_eq!(&png[16..20], &side.to_be_bytes());
        assert_eq!(&png[20..24], &side.to_be_bytes());
    }

    #[test]
    fn too_long_a_text_is_an_error_not_a_panic() {
        assert!(matches!(Modules::encode(&"x".repeat(5_000)), Err(CliError::QrCode)));
    }
}
