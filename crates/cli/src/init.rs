//! `kaiwa init`: a new account in a profile directory.
//!
//! ```text
//! Profile::open_dir(dir) → refuse if it holds an account
//! Client::create(profile, Offline, …, Environment::system())   keys from the OS RNG
//! print: the directory, the public id, the contact code — never a secret
//! ```

use std::path::Path;

use kaiwa::{Client, ClientConfig, Environment, Profile};

use crate::error::CliError;
use crate::offline::Offline;

/// Runs `kaiwa init` on `dir`.
pub(crate) async fn run(dir: &Path) -> Result<(), CliError> {
    let profile = Profile::open_dir(dir).map_err(CliError::client("open the profile"))?;
    if profile.has_account().map_err(CliError::client("read the profile"))? {
        return Err(CliError::AccountExists { dir: dir.to_owned() });
    }
    let environment = Environment::system().map_err(CliError::client("read the system RNG"))?;
    // The facade creates accounts only by starting a client; `Offline` keeps it off any
    // network (see offline.rs).
    let client = Client::create(profile, Offline, ClientConfig::default(), environment)
        .await
        .map_err(CliError::client("create the account"))?;
    let code = client.contact_code().await;
    crate::network::stop_client(&client, true).await;
    let code = code.map_err(CliError::client("read the contact code"))?;
    println!("created an account in {}", dir.display());
    println!("id: {}", client.public_id());
    println!("contact code: {code}");
    println!("next: `kaiwa id` draws the contact code as a QR code; `kaiwa chat` starts chatting");
    Ok(())
}
