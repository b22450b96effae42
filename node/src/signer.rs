//! The signing account of the node's client commands (`model import`, `mcp`): a secret URI
//! on the command line (dev chains) or in a file. The secret is never echoed, not even in
//! an error.

use polkadot_sdk::sp_core::{sr25519, Pair};
use std::path::PathBuf;

/// `--suri` or `--key-file`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SignerArgs {
	/// Secret URI of the signing account (`//Alice` on dev chains). Prefer --key-file
	/// elsewhere: arguments are visible to other users of the machine.
	#[arg(long, conflicts_with = "key_file")]
	pub suri: Option<String>,

	/// A file holding the signing account's secret URI or seed.
	#[arg(long)]
	pub key_file: Option<PathBuf>,
}

impl SignerArgs {
	/// The signing key; `None` when neither flag is given.
	pub fn pair(&self) -> Result<Option<sr25519::Pair>, String> {
		let secret = match (&self.suri, &self.key_file) {
			(Some(suri), _) => suri.clone(),
			(None, Some(file)) => std::fs::read_to_string(file)
				.map_err(|e| format!("{}: {e}", file.display()))?
				.trim()
				.to_string(),
			(None, None) => return Ok(None),
		};
		// The parse error alone says what is wrong; the secret stays out of it.
		sr25519::Pair::from_string(&secret, None)
			.map(Some)
			.map_err(|e| format!("the signing key is not a valid secret URI or seed: {e:?}"))
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_key_comes_from_the_uri_or_the_file_and_a_bad_one_is_not_echoed() {
		let alice = SignerArgs { suri: Some("//Alice".into()), key_file: None };
		let from_uri = alice.pair().unwrap().unwrap().public();
		let file = std::env::temp_dir().join(format!("citrate-signer-{}", std::process::id()));
		std::fs::write(&file, "//Alice\n").unwrap();
		let from_file = SignerArgs { suri: None, key_file: Some(file.clone()) }.pair();
		std::fs::remove_file(&file).unwrap();
		assert_eq!(from_file.unwrap().unwrap().public(), from_uri);
		assert!(SignerArgs::default().pair().unwrap().is_none());
		let Err(error) = SignerArgs { suri: Some("not a secret 42".into()), key_file: None }.pair()
		else {
			panic!("a bad secret URI was accepted");
		};
		assert!(error.starts_with("the signing key is not a valid secret URI or seed"), "{error}");
		assert!(!error.contains("not a secret 42"), "{error}");
	}
}
