//! Genesis presets: `development` (one validator, Alice), `local_testnet` (Alice and Bob) and
//! `local_testnet_3` (Alice, Bob and Charlie: a network that keeps producing blocks with one
//! validator down, and a quorum of three providers that are all validators).

use crate::{
	currency::{EXISTENTIAL_DEPOSIT, UNITS},
	AccountId, AuraConfig, BalancesConfig, GrandpaConfig, InferenceConfig, Runtime,
	RuntimeGenesisConfig, SudoConfig,
};
use alloc::{vec, vec::Vec};
use polkadot_sdk::{
	pallet_revive::{AddressMapper, Config as ReviveConfig},
	sp_consensus_aura::sr25519::AuthorityId as AuraId,
	sp_consensus_grandpa::AuthorityId as GrandpaId,
	sp_core::{self, H160},
	sp_genesis_builder::{self, PresetId},
	sp_keyring::{Ed25519Keyring, Sr25519Keyring},
};

/// What each well-known dev account starts with: one million CTR.
pub const DEV_ENDOWMENT: crate::Balance = 1_000_000 * UNITS;

/// What the pinning reward pool starts with on test networks: 10,000 eras of rewards.
pub const PINNING_POOL_ENDOWMENT: crate::Balance = 100_000 * UNITS;

/// What each validator of a test network bonds as an inference provider (the least bond).
pub const PROVIDER_BOND: crate::Balance = 100 * UNITS;

/// Requests per block each genesis provider accepts.
pub const PROVIDER_CAPACITY: u32 = 500;

/// The account of the `IModelAccess` precompile, which holds a purchase's value while the
/// pallet pays it out. It exists from genesis so that the first buyer does not also pay its
/// existential deposit.
pub fn model_access_precompile_account() -> AccountId {
	let address = pallet_model_access_precompile::fixed_address();
	<Runtime as ReviveConfig>::AddressMapper::to_fallback_account_id(&H160(address))
}

/// The account of the `IInference` precompile: it holds a request's value while the pallet
/// hands it to the requester, and callbacks are called from it (so a callback's storage deposit
/// passes through it). It exists from genesis so that no value sent to it is below the minimum.
pub fn inference_precompile_account() -> AccountId {
	let address = pallet_inference_precompile::fixed_address();
	<Runtime as ReviveConfig>::AddressMapper::to_fallback_account_id(&H160(address))
}

/// Every validator is also an inference provider, bonded from its account and signing with
/// the sr25519 key of its seed (key type `infr`, which `--alice`-style seeds put in the node's
/// keystore).
fn genesis(
	validators: Vec<(Sr25519Keyring, Ed25519Keyring)>,
	endowed_accounts: Vec<AccountId>,
	root: AccountId,
) -> RuntimeGenesisConfig {
	let authorities: Vec<_> =
		validators.iter().map(|(aura, grandpa)| authority(*aura, *grandpa)).collect();
	let providers = validators
		.iter()
		.map(|(seed, _)| {
			(seed.to_account_id(), PROVIDER_BOND, seed.public().into(), PROVIDER_CAPACITY)
		})
		.collect();
	RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed_accounts
				.into_iter()
				.map(|account| (account, DEV_ENDOWMENT))
				.chain([
					(model_access_precompile_account(), EXISTENTIAL_DEPOSIT),
					(inference_precompile_account(), EXISTENTIAL_DEPOSIT),
					(crate::Pinning::reward_pool_account(), PINNING_POOL_ENDOWMENT),
				])
				.collect(),
			..Default::default()
		},
		aura: AuraConfig {
			authorities: authorities.iter().map(|(aura, _)| aura.clone()).collect(),
		},
		grandpa: GrandpaConfig {
			authorities: authorities.iter().map(|(_, grandpa)| (grandpa.clone(), 1)).collect(),
			..Default::default()
		},
		sudo: SudoConfig { key: Some(root) },
		inference: InferenceConfig { providers },
		..Default::default()
	}
}

fn authority(seed: Sr25519Keyring, grandpa: Ed25519Keyring) -> (AuraId, GrandpaId) {
	(seed.public().into(), grandpa.public().into())
}

/// Anvil's and Hardhat's first five development accounts (mnemonic `test test test test test
/// test test test test test test junk`, paths `m/44'/60'/0'/0/0..4`): well-known Ethereum keys,
/// so wallets and tools work against a dev chain through eth-rpc out of the box.
pub const ETH_DEV_ACCOUNTS: [[u8; 20]; 5] = [
	sp_core::hex2array!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266"),
	sp_core::hex2array!("70997970C51812dc3A010C7d01b50e0d17dc79C8"),
	sp_core::hex2array!("3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"),
	sp_core::hex2array!("90F79bf6EB2c4f870365E785982E1f101E93b906"),
	sp_core::hex2array!("15d34AAf54267DB7D7c367839AAf71A00a2C6A65"),
];

/// The Substrate dev accounts (Alice … Ferdie and their stashes) and the Ethereum dev
/// accounts (as pallet-revive's fallback accounts of their addresses).
fn well_known_accounts() -> Vec<AccountId> {
	Sr25519Keyring::well_known()
		.map(|k| k.to_account_id())
		.chain(ETH_DEV_ACCOUNTS.iter().map(|address| {
			<Runtime as ReviveConfig>::AddressMapper::to_fallback_account_id(&H160(*address))
		}))
		.collect()
}

/// One validator (Alice), Alice is sudo, every well-known dev account is endowed.
pub fn development_config() -> RuntimeGenesisConfig {
	genesis(
		vec![(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		well_known_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// Two validators (Alice and Bob), Alice is sudo, every well-known dev account is endowed.
pub fn local_testnet_config() -> RuntimeGenesisConfig {
	genesis(
		vec![
			(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
		],
		well_known_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// Name of the three-validator preset (`--chain local3`).
pub const LOCAL_TESTNET_3_PRESET: &str = "local_testnet_3";

/// Three validators (Alice, Bob and Charlie), Alice is sudo, every well-known dev account is
/// endowed.
pub fn local_testnet_3_config() -> RuntimeGenesisConfig {
	genesis(
		vec![
			(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
			(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
		],
		well_known_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// The genesis config of a named preset.
pub fn preset_config(id: &PresetId) -> Option<RuntimeGenesisConfig> {
	match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => Some(development_config()),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => Some(local_testnet_config()),
		LOCAL_TESTNET_3_PRESET => Some(local_testnet_3_config()),
		_ => None,
	}
}

/// A named preset as JSON (a complete genesis config, which is also a valid patch).
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	// Serialising a genesis config cannot fail.
	preset_config(id).and_then(|config| serde_json::to_vec(&config).ok())
}

/// The presets this runtime offers.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
		PresetId::from(LOCAL_TESTNET_3_PRESET),
	]
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{Balances, Grandpa, Runtime};
	use polkadot_sdk::{
		frame_support::{genesis_builder_helper::build_state, traits::fungible::Inspect},
		pallet_aura, pallet_sudo,
		sp_io::{self, TestExternalities},
		sp_runtime::{BuildStorage, StateVersion},
	};

	fn storage_of(id: &str) -> TestExternalities {
		let config = preset_config(&PresetId::from(id)).expect("preset exists");
		TestExternalities::new(config.build_storage().expect("genesis builds"))
	}

	#[test]
	fn every_listed_preset_exists_and_its_json_builds_the_same_state() {
		for id in preset_names() {
			// The JSON path (what the WASM genesis builder runs) and the native path agree.
			let json = get_preset(&id).expect("listed preset exists");
			let mut from_json = TestExternalities::default();
			from_json.execute_with(|| build_state::<RuntimeGenesisConfig>(json).expect("builds"));
			let root = || sp_io::storage::root(StateVersion::V1);
			assert_eq!(
				from_json.execute_with(root),
				storage_of(id.as_ref()).execute_with(root),
				"{id:?}"
			);
		}
		assert!(get_preset(&PresetId::from("no-such-preset")).is_none());
	}

	#[test]
	fn development_preset_has_one_validator_funded_and_mapped_accounts() {
		storage_of(sp_genesis_builder::DEV_RUNTIME_PRESET).execute_with(|| {
			assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), 1);
			assert_eq!(Grandpa::grandpa_authorities().len(), 1);
			let alice = Sr25519Keyring::Alice.to_account_id();
			assert_eq!(pallet_sudo::Key::<Runtime>::get(), Some(alice.clone()));
			// Alice, the validator, is also an inference provider bonding from her endowment.
			let provider = crate::Inference::provider(alice.clone()).expect("a provider");
			assert_eq!(provider.bond, PROVIDER_BOND);
			assert_eq!(provider.key, Sr25519Keyring::Alice.public().into());
			for account in well_known_accounts() {
				assert_eq!(Balances::total_balance(&account), DEV_ENDOWMENT);
				// AutoMap gives every endowed account its EVM address at genesis.
				assert!(<Runtime as ReviveConfig>::AddressMapper::is_mapped(&account));
			}
			// Both accounts that receive shares of purchases exist from genesis.
			let treasury = crate::ModelAccess::treasury_account();
			assert_eq!(Balances::free_balance(&treasury), EXISTENTIAL_DEPOSIT);
			let precompile = model_access_precompile_account();
			assert_eq!(Balances::free_balance(&precompile), EXISTENTIAL_DEPOSIT);
			let inference = inference_precompile_account();
			assert_eq!(Balances::free_balance(&inference), EXISTENTIAL_DEPOSIT);
			let pool = crate::Pinning::reward_pool_account();
			assert_eq!(Balances::free_balance(&pool), PINNING_POOL_ENDOWMENT);
			assert_eq!(
				<Runtime as ReviveConfig>::AddressMapper::to_account_id(&H160(
					pallet_model_access_precompile::fixed_address()
				)),
				precompile
			);
		});
	}

	#[test]
	fn local_testnet_preset_has_alice_and_bob_as_validators() {
		storage_of(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
			let authorities = pallet_aura::Authorities::<Runtime>::get();
			assert_eq!(authorities.len(), 2);
			assert_eq!(authorities[1], Sr25519Keyring::Bob.public().into());
			assert_eq!(Grandpa::grandpa_authorities().len(), 2);
		});
	}

	#[test]
	fn three_validator_preset_makes_each_validator_a_provider() {
		storage_of(LOCAL_TESTNET_3_PRESET).execute_with(|| {
			let authorities = pallet_aura::Authorities::<Runtime>::get();
			assert_eq!(authorities.len(), 3);
			assert_eq!(authorities[2], Sr25519Keyring::Charlie.public().into());
			assert_eq!(Grandpa::grandpa_authorities().len(), 3);
			let charlie = Sr25519Keyring::Charlie.to_account_id();
			let provider = pallet_inference::Providers::<Runtime>::get(&charlie).unwrap();
			assert_eq!(provider.key, Sr25519Keyring::Charlie.public().into());
		});
	}
}
