//! `kaiwa id`: what you give others, and what you compare with them.
//!
//! ```text
//! id              0x ‖ 64 hex digits: the Ed25519 identity key (public)
//! contact code    KAIWA:… — the signed prekey bundle; adding it verifies the identity
//! QR code         the contact code, in the terminal (and as PNG with --png FILE)
//! safety number   with --with 0x…: 60 digits both sides compute identically
//!                 (kaiwa::safety_number)
//! ```

use std::path::Path;

use kaiwa::{Profile, SystemClock, parse_public_id, safety_number};

use crate::args::IdArgs;
use crate::error::CliError;
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
    let code =
        profile.contact_code(&SystemClock).map_err(CliError::client("read the contact code"))?;
    let id = profile.public_id().map_err(CliError::client("read the public id"))?;
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
            let number = safety_number(&id, &other)
                .map_err(CliError::client("compute the safety number"))?;
            println!("  {number}");
        }
        None => println!("safety number with a contact: kaiwa id --with <their id>"),
    }
    Ok(())
}
