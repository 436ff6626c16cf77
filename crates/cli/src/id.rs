//! `kaiwa id`: what you give others, and what you compare with them.
//!
//! ```text
//! id              0x ‖ 64 hex digits: the Ed25519 identity key (public)
//! contact code    KAIWA:… — the signed prekey bundle; adding it verifies the identity
//! QR code         the contact code, in the terminal (and as PNG with --png FILE)
//! safety number   with --with 0x…: 60 digits both sides compute identically (fingerprint.rs)
//! ```

use std::path::Path;

use kaiwa::{Client, ClientConfig, Environment, Profile, parse_public_id};

use crate::args::IdArgs;
use crate::error::CliError;
use crate::fingerprint::safety_number;
use crate::offline::Offline;
use crate::qr::Modules;

/// Runs `kaiwa id` on the profile in `dir`.
pub(crate) async fn run(dir: &Path, args: &IdArgs) -> Result<(), CliError> {
    let with = args
        .with
        .as_deref()
        .map(parse_public_id)
        .transpose()
        .map_err(CliError::client("read the --with public id"))?;
    let profile = Profile::open_dir(dir).map_err(CliError::client("open the profile"))?;
    if !profile.has_account().map_err(CliError::client("read the profile"))? {
        return Err(CliError::NoAccount { dir: dir.to_owned() });
    }
    let environment = Environment::system().map_err(CliError::client("read the system RNG"))?;
    let client = Client::open(profile, Offline, ClientConfig::default(), environment)
        .await
        .map_err(CliError::client("open the account"))?;
    let code = client.contact_code().await;
    crate::network::stop_client(&client, true).await;
    let code = code.map_err(CliError::client("read the contact code"))?;
    let id = client.public_id();
    println!("id: {id}");
    println!("contact code: {code}");
    let modules = Modules::encode(&code)?;
    if !args.no_qr {
        print!("{}", modules.to_terminal(args.invert));
    }
    if let Some(path) = &args.png {
        modules.write_png(path)?;
        println!("wrote the QR code to {}", path.display());
    }
    match with {
        Some(other) => {
            println!("safety number with {other}:");
            println!("  {}", safety_number(&id, &other));
        }
        None => println!("safety number with a contact: kaiwa id --with <their id>"),
    }
    Ok(())
}
