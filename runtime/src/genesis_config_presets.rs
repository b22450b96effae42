//! Genesis presets: `development` (one validator, Alice) and `local_testnet` (Alice and Bob).

use crate::{
	currency::UNITS, AccountId, BalancesConfig, RuntimeGenesisConfig, SudoConfig,
};
use alloc::{string::String, vec, vec::Vec};
use polkadot_sdk::{
	frame_support::build_struct_json_patch,
	pallet_aura, pallet_grandpa,
	sp_consensus_aura::sr25519::AuthorityId as AuraId,
	sp_consensus_grandpa::AuthorityId as GrandpaId,
	sp_genesis_builder::{self, PresetId},
	sp_keyring::{Ed25519Keyring, Sr25519Keyring},
};
use serde_json::Value;

/// What each well-known dev account starts with: one million CTR.
pub const DEV_ENDOWMENT: crate::Balance = 1_000_000 * UNITS;

fn genesis(
	authorities: Vec<(AuraId, GrandpaId)>,
	endowed_accounts: Vec<AccountId>,
	root: AccountId,
) -> Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed_accounts
				.into_iter()
				.map(|account| (account, DEV_ENDOWMENT))
				.collect::<Vec<_>>(),
		},
		aura: pallet_aura::GenesisConfig {
			authorities: authorities.iter().map(|(aura, _)| aura.clone()).collect::<Vec<_>>(),
		},
		grandpa: pallet_grandpa::GenesisConfig {
			authorities: authorities.iter().map(|(_, grandpa)| (grandpa.clone(), 1)).collect::<Vec<_>>(),
		},
		sudo: SudoConfig { key: Some(root) },
	})
}

fn authority(seed: Sr25519Keyring, grandpa: Ed25519Keyring) -> (AuraId, GrandpaId) {
	(seed.public().into(), grandpa.public().into())
}

fn well_known_accounts() -> Vec<AccountId> {
	Sr25519Keyring::well_known().map(|k| k.to_account_id()).collect()
}

/// One validator (Alice), Alice is sudo, every well-known dev account is endowed.
pub fn development_config_genesis() -> Value {
	genesis(
		vec![authority(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		well_known_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// Two validators (Alice and Bob), Alice is sudo, every well-known dev account is endowed.
pub fn local_config_genesis() -> Value {
	genesis(
		vec![
			authority(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			authority(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
		],
		well_known_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// The JSON patch of a named preset.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		_ => return None,
	};
	// Serialising a `serde_json::Value` cannot fail.
	serde_json::to_string(&patch).ok().map(String::into_bytes)
}

/// The presets this runtime offers.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
	]
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{Balances, Grandpa, Runtime, Sudo};
	use polkadot_sdk::{
		frame_support::genesis_builder_helper::build_state,
		pallet_revive::{AddressMapper, Config as ReviveConfig},
		sp_io::TestExternalities,
	};

	fn build(preset: &str) -> TestExternalities {
		let patch = get_preset(&PresetId::from(preset)).expect("preset exists");
		let mut ext = TestExternalities::default();
		ext.execute_with(|| build_state::<RuntimeGenesisConfig>(patch).expect("genesis builds"));
		ext
	}

	#[test]
	fn every_listed_preset_exists() {
		for id in preset_names() {
			assert!(get_preset(&id).is_some(), "{id:?}");
		}
		assert!(get_preset(&PresetId::from("no-such-preset")).is_none());
	}

	#[test]
	fn development_preset_has_one_validator_funded_and_mapped_accounts() {
		build(sp_genesis_builder::DEV_RUNTIME_PRESET).execute_with(|| {
			assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), 1);
			assert_eq!(Grandpa::grandpa_authorities().len(), 1);
			let alice = Sr25519Keyring::Alice.to_account_id();
			assert_eq!(Sudo::key(), Some(alice.clone()));
			for account in well_known_accounts() {
				assert_eq!(Balances::free_balance(&account), DEV_ENDOWMENT);
				// AutoMap gives every endowed account its EVM address at genesis.
				assert!(<Runtime as ReviveConfig>::AddressMapper::is_mapped(&account));
			}
		});
	}

	#[test]
	fn local_testnet_preset_has_alice_and_bob_as_validators() {
		build(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
			let authorities = pallet_aura::Authorities::<Runtime>::get();
			assert_eq!(authorities.len(), 2);
			assert_eq!(authorities[1], Sr25519Keyring::Bob.public().into());
			assert_eq!(Grandpa::grandpa_authorities().len(), 2);
		});
	}
}
