//! Chain specifications built from the runtime's genesis presets.
//!
//! The built-in `dev` and `local` specs compute their genesis storage natively, with the same
//! runtime code the WASM blob is built from. Left to the generic path, the chain-spec loader
//! would compile the 5 MB runtime once more (uncached) just to build genesis, adding seconds
//! to every start. `export-chain-spec` therefore prints these specs in raw form.

use citrate_runtime::{currency, genesis_config_presets, RuntimeGenesisConfig, WASM_BINARY};
use polkadot_sdk::{
	sc_chain_spec::{self, ChainSpec as _},
	sc_service::ChainType,
	sp_core::storage::well_known_keys,
	sp_genesis_builder,
	sp_runtime::BuildStorage,
};

/// The chain specification type of Citrate networks.
pub type ChainSpec = polkadot_sdk::sc_service::GenericChainSpec;

/// Token symbol and decimals, which polkadot.js apps reads to format balances.
fn properties() -> sc_chain_spec::Properties {
	let mut properties = sc_chain_spec::Properties::new();
	properties.insert("tokenSymbol".into(), currency::TOKEN_SYMBOL.into());
	properties.insert("tokenDecimals".into(), currency::TOKEN_DECIMALS.into());
	properties.insert("ss58Format".into(), 42.into());
	properties
}

fn wasm_binary() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| "The runtime WASM blob was not built (SKIP_WASM_BUILD set?)".into())
}

/// Genesis storage of a preset's config, built natively, with the runtime code under `:code`.
fn native_genesis_storage(
	code: &[u8],
	config: RuntimeGenesisConfig,
) -> Result<polkadot_sdk::sp_core::storage::Storage, String> {
	let mut storage = config.build_storage()?;
	storage.top.insert(well_known_keys::CODE.to_vec(), code.to_vec());
	Ok(storage)
}

fn preset_chain_spec(
	name: &str,
	id: &str,
	chain_type: ChainType,
	preset: &str,
	config: RuntimeGenesisConfig,
) -> Result<ChainSpec, String> {
	let code = wasm_binary()?;
	let mut spec = ChainSpec::builder(code, None)
		.with_name(name)
		.with_id(id)
		.with_chain_type(chain_type)
		.with_genesis_config_preset_name(preset)
		.with_properties(properties())
		.build();
	spec.set_storage(native_genesis_storage(code, config)?);
	Ok(spec)
}

/// `--dev`: one validator (Alice).
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	preset_chain_spec(
		"Citrate Development",
		"citrate_dev",
		ChainType::Development,
		sp_genesis_builder::DEV_RUNTIME_PRESET,
		genesis_config_presets::development_config(),
	)
}

/// `--chain local3`: three validators (Alice, Bob and Charlie).
pub fn local_3_chain_spec() -> Result<ChainSpec, String> {
	preset_chain_spec(
		"Citrate Local Testnet (3 validators)",
		"citrate_local3",
		ChainType::Local,
		genesis_config_presets::LOCAL_TESTNET_3_PRESET,
		genesis_config_presets::local_testnet_3_config(),
	)
}

/// `--chain local`: two validators (Alice and Bob).
pub fn local_chain_spec() -> Result<ChainSpec, String> {
	preset_chain_spec(
		"Citrate Local Testnet",
		"citrate_local",
		ChainType::Local,
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET,
		genesis_config_presets::local_testnet_config(),
	)
}
