//! Helpers shared by Citrate's precompiles, so each precompile crate only maps its Solidity
//! interface onto its pallet's functions.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::{format, string::String, vec::Vec};
use codec::{Decode, Encode};
use polkadot_sdk::{
	pallet_revive::{
		precompiles::{
			alloy::{
				primitives::{IntoLogData, U256 as AbiU256},
				sol_types::Revert,
			},
			AddressMapper, Error, Ext, RuntimeCosts, H160, H256, U256,
		},
		Config,
	},
	sp_runtime::DispatchError,
};

/// The address `AddressMatcher::Fixed(index)` places a precompile at: the index, big endian,
/// in bytes 16..18, every other byte zero.
pub const fn fixed_address(index: u16) -> [u8; 20] {
	let mut address = [0u8; 20];
	let bytes = index.to_be_bytes();
	address[16] = bytes[0];
	address[17] = bytes[1];
	address
}

/// A Solidity `revert(reason)`.
pub fn revert(reason: impl Into<String>) -> Error {
	Error::Revert(Revert { reason: reason.into() })
}

/// Turns a pallet's failure into a Solidity revert that names the function and the error,
/// e.g. `ModelAccess.purchaseAccess: InsufficientBalance`.
pub fn dispatch_revert(context: &str, error: DispatchError) -> Error {
	match error {
		DispatchError::Module(module) => match module.message {
			Some(name) => revert(format!("{context}: {name}")),
			None => revert(format!("{context}: module error {:?}", module.error)),
		},
		other => revert(format!("{context}: {other:?}")),
	}
}

/// Refuses state changes from a static call and calls made through `delegatecall`, with a
/// revert reason naming the function (`context`, e.g. `ModelRegistry.deprecate`).
pub fn ensure_mutable<T: Config>(env: &impl Ext<T = T>, context: &str) -> Result<(), Error> {
	if env.is_read_only() {
		return Err(revert(format!("{context}: cannot change state in a static call")));
	}
	if env.is_delegate_call() {
		return Err(revert(format!("{context}: cannot be called through delegatecall")));
	}
	Ok(())
}

/// Refuses value sent to a function that is not `payable`, which would otherwise stay on
/// the precompile's account.
pub fn ensure_no_value<T: Config>(env: &impl Ext<T = T>, context: &str) -> Result<(), Error> {
	if env.value_transferred().is_zero() {
		Ok(())
	} else {
		Err(revert(format!("{context}: function is not payable")))
	}
}

/// The account of the contract or user calling the precompile.
pub fn caller_account<T: Config>(env: &impl Ext<T = T>) -> Result<T::AccountId, Error> {
	env.caller().account_id().cloned().map_err(|_| revert("caller has no account (root)"))
}

/// The account behind an Ethereum address.
pub fn account_of<T: Config>(address: alloy_address::Address) -> T::AccountId {
	T::AddressMapper::to_account_id(&H160::from(address.into_array()))
}

/// The Ethereum address of an account.
pub fn address_of<T: Config>(account: &T::AccountId) -> alloy_address::Address {
	alloy_address::Address::from(T::AddressMapper::to_address(account).0)
}

/// Re-exported so precompile crates name the same address type.
pub mod alloy_address {
	pub use polkadot_sdk::pallet_revive::precompiles::alloy::primitives::Address;
}

/// The value sent with the call in native units. Reverts when it carries dust below one
/// native unit, which a precompile could not pass on.
pub fn value_in_native<T: Config>(env: &impl Ext<T = T>) -> Result<u128, Error> {
	let ratio =
		U256::from(<<T as Config>::NativeToEthRatio as polkadot_sdk::frame_support::traits::Get<
			u32,
		>>::get());
	let value = env.value_transferred();
	if !(value % ratio).is_zero() {
		return Err(revert("value must be a whole number of native units"));
	}
	u128::try_from(value / ratio).map_err(|_| revert("value too large"))
}

/// A balance as a Solidity `uint256`.
pub fn to_abi_u256(value: u128) -> AbiU256 {
	AbiU256::from(value)
}

/// A Solidity `uint256` as a balance, reverting when it does not fit.
pub fn from_abi_u256(value: AbiU256, what: &str) -> Result<u128, Error> {
	u128::try_from(value).map_err(|_| revert(format!("{what} does not fit a balance")))
}

/// Emits an EVM log, charging for it first.
pub fn emit<T: Config>(env: &mut impl Ext<T = T>, event: impl IntoLogData) -> Result<(), Error> {
	let (topics, data) = event.into_log_data().split();
	let topics: Vec<H256> = topics.into_iter().map(|topic| H256(topic.0)).collect();
	env.frame_meter_mut().charge_weight_token(RuntimeCosts::DepositEvent {
		num_topic: topics.len() as u32,
		len: data.len() as u32,
	})?;
	env.deposit_event(topics, data.to_vec());
	Ok(())
}

/// A field-less pallet enum from its Solidity `uint8`, by SCALE index (Solidity enums and
/// the pallets' enums list their variants in the same order).
pub fn enum_from_u8<E: Decode>(value: u8, what: &str) -> Result<E, Error> {
	E::decode(&mut &[value][..]).map_err(|_| revert(format!("unknown {what} {value}")))
}

/// The Solidity `uint8` of a field-less pallet enum.
pub fn enum_to_u8<E: Encode>(value: &E) -> u8 {
	value.encode().first().copied().unwrap_or_default()
}

mod calldata;
pub use calldata::{Calldata, Signatures};

#[cfg(feature = "testing")]
pub mod testing;

#[cfg(test)]
mod tests {
	use super::*;
	use polkadot_sdk::sp_runtime::{ModuleError, TokenError};

	fn reason(error: Error) -> String {
		match error {
			Error::Revert(Revert { reason }) => reason,
			other => panic!("not a revert: {other:?}"),
		}
	}

	#[test]
	fn fixed_addresses_put_the_index_in_bytes_16_and_17() {
		let address = fixed_address(0x0C01);
		assert_eq!(address[16..18], [0x0C, 0x01]);
		assert!(address.iter().enumerate().all(|(i, b)| *b == 0 || (16..18).contains(&i)));
	}

	#[test]
	fn pallet_errors_revert_with_their_name() {
		let module = DispatchError::Module(ModuleError {
			index: 21,
			error: [6, 0, 0, 0],
			message: Some("TierNotFound"),
		});
		assert_eq!(
			reason(dispatch_revert("ModelAccess.purchaseAccess", module)),
			"ModelAccess.purchaseAccess: TierNotFound"
		);
		let token = DispatchError::Token(TokenError::FundsUnavailable);
		assert_eq!(reason(dispatch_revert("X.f", token)), "X.f: Token(FundsUnavailable)");
	}

	#[derive(Encode, Decode, PartialEq, Debug)]
	enum Colour {
		Red,
		Green,
	}

	#[test]
	fn enums_convert_by_index_and_unknown_values_revert() {
		assert_eq!(enum_from_u8::<Colour>(1, "colour").unwrap(), Colour::Green);
		assert_eq!(enum_to_u8(&Colour::Green), 1);
		assert_eq!(reason(enum_from_u8::<Colour>(2, "colour").unwrap_err()), "unknown colour 2");
	}

	#[test]
	fn oversized_uint256_reverts() {
		assert_eq!(from_abi_u256(AbiU256::from(5u8), "price").unwrap(), 5);
		let too_big = AbiU256::from(u128::MAX) + AbiU256::from(1u8);
		assert_eq!(
			reason(from_abi_u256(too_big, "price").unwrap_err()),
			"price does not fit a balance"
		);
	}
}
