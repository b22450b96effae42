//! Chain specifications built from the runtime's genesis presets.

use citrate_runtime::{currency, WASM_BINARY};
use polkadot_sdk::{sc_service::ChainType, sp_genesis_builder};

/// The chain specification type of Citrate networks.
pub type ChainSpec = polkadot_sdk::sc_service::GenericChainSpec;

/// Token symbol and decimals, which polkadot.js apps reads to format balances.
fn properties() -> polkadot_sdk::sc_chain_spec::Properties {
	let mut properties = polkadot_sdk::sc_chain_spec::Properties::new();
	properties.insert("tokenSymbol".into(), currency::TOKEN_SYMBOL.into());
	properties.insert("tokenDecimals".into(), currency::TOKEN_DECIMALS.into());
	properties.insert("ss58Format".into(), 42.into());
	properties
}

fn wasm_binary() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| "The runtime WASM blob was not built (SKIP_WASM_BUILD set?)".into())
}

/// `--dev`: one validator (Alice).
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("Citrate Development")
		.with_id("citrate_dev")
		.with_chain_type(ChainType::Development)
		.with_genesis_config_preset_name(sp_genesis_builder::DEV_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}

/// `--chain local`: two validators (Alice and Bob).
pub fn local_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("Citrate Local Testnet")
		.with_id("citrate_local")
		.with_chain_type(ChainType::Local)
		.with_genesis_config_preset_name(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}
