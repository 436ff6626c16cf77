//! Where profiles live.
//!
//! ```text
//! data dir     --data-dir DIR  >  $KAIWA_DATA_DIR  >  $XDG_DATA_HOME/kaiwa  >  $HOME/.local/share/kaiwa
//! profile dir  <data dir>/<profile>          (--profile NAME, default "default")
//!              one account, one installation: the facade's kaiwa.sqlite3 and kaiwa-state
//! ```

use std::path::{Path, PathBuf};

use crate::args::GlobalArgs;
use crate::error::CliError;

/// The profile directory the global options name.
pub(crate) fn profile_dir(global: &GlobalArgs) -> Result<PathBuf, CliError> {
    let data = match &global.data_dir {
        Some(dir) => dir.clone(),
        None => default_data_dir(
            std::env::var_os("XDG_DATA_HOME").map(PathBuf::from).as_deref(),
            std::env::var_os("HOME").map(PathBuf::from).as_deref(),
        )?,
    };
    Ok(data.join(checked_profile_name(&global.profile)?))
}

/// `$XDG_DATA_HOME/kaiwa` if set and absolute (the XDG spec ignores relative values), else
/// `$HOME/.local/share/kaiwa`.
fn default_data_dir(xdg: Option<&Path>, home: Option<&Path>) -> Result<PathBuf, CliError> {
    match (xdg, home) {
        (Some(xdg), _) if xdg.is_absolute() => Ok(xdg.join("kaiwa")),
        (_, Some(home)) if !home.as_os_str().is_empty() => {
            Ok(home.join(".local").join("share").join("kaiwa"))
        }
        _ => Err(CliError::NoDataDir),
    }
}

/// A profile name is one path segment: `[A-Za-z0-9_-]{1,64}` (no `..`, no separators).
fn checked_profile_name(name: &str) -> Result<&str, CliError> {
    let valid = (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid { Ok(name) } else { Err(CliError::ProfileName) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xdg_wins_over_home_and_relative_xdg_is_ignored() {
        let home = Path::new("/home/u");
        assert_eq!(
            default_data_dir(Some(Path::new("/x")), Some(home)).unwrap(),
            PathBuf::from("/x/kaiwa")
        );
        assert_eq!(
            default_data_dir(Some(Path::new("rel")), Some(home)).unwrap(),
            PathBuf::from("/home/u/.local/share/kaiwa")
        );
        assert!(matches!(default_data_dir(None, None), Err(CliError::NoDataDir)));
    }

    #[test]
    fn profile_names_are_one_safe_segment() {
        assert!(checked_profile_name("alice_2").is_ok());
        for bad in ["", "..", "a/b", "a b", &"x".repeat(65)] {
            assert!(matches!(checked_profile_name(bad), Err(CliError::ProfileName)), "{bad}");
        }
    }

    #[test]
    fn the_data_dir_option_wins() {
        let global = GlobalArgs { data_dir: Some(PathBuf::from("/d")), profile: "bob".to_owned() };
        assert_eq!(profile_dir(&global).unwrap(), PathBuf::from("/d/bob"));
    }
}
