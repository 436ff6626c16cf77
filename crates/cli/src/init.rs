//! `kaiwa init`: a new account in a profile directory.
//!
//! ```text
//! Profile::open_dir(dir) → refuse if it holds an account
//! Profile::create_account(Environment::system())   keys from the OS RNG; no client, no network
//! print: the directory, the public id, the contact code — never a secret
//! ```

use std::path::Path;

use kaiwa::{Environment, Profile, SystemClock};

use crate::error::CliError;

/// Runs `kaiwa init` on `dir`.
pub(crate) async fn run(dir: &Path) -> Result<(), CliError> {
    let mut profile = Profile::open_dir(dir).map_err(CliError::client("open the profile"))?;
    if profile.has_account().map_err(CliError::client("read the profile"))? {
        return Err(CliError::AccountExists { dir: dir.to_owned() });
    }
    let environment = Environment::system().map_err(CliError::client("read the system RNG"))?;
    let id = profile.create_account(environment).map_err(CliError::client("create the account"))?;
    let code =
        profile.contact_code(&SystemClock).map_err(CliError::client("read the contact code"))?;
    println!("created an account in {}", dir.display());
    println!("id: {id}");
    println!("contact code: {code}");
    println!("next: `kaiwa id` draws the contact code as a QR code; `kaiwa chat` starts chatting");
    Ok(())
}
