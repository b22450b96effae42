//! `IPinningIncentives` precompile: pin reports and proof checks for Solidity.
//!
//! Address `0x000000000000000000000000000000000c030000` (`AddressMatcher::Fixed(0x0C03)`).
//! The interface is [`IPinningIncentives.sol`](../IPinningIncentives.sol), compiled here by
//! `alloy::sol!`. Every function charges its weight first, then calls `pallet-pinning`.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use citrate_precompile_utils::{
	account_of, address_of, caller_account, dispatch_revert, emit, ensure_mutable, ensure_no_value,
	Calldata, Signatures,
};
use core::{marker::PhantomData, num::NonZero};
use pallet_pinning::{Pallet as Pinning, PinStatus, WeightInfo};
use polkadot_sdk::{
	frame_support::{traits::Get, weights::Weight},
	pallet_revive::precompiles::{
		alloy::sol_types::SolCall, AddressMatcher, Error, Ext, Precompile,
	},
	sp_runtime::SaturatedConversion,
};

alloy_core::sol!("IPinningIncentives.sol");

use IPinningIncentives::IPinningIncentivesCalls as Call;

/// The `u16` in [`AddressMatcher::Fixed`]: bytes 16..18 of the address.
pub const ADDRESS_INDEX: u16 = 0x0C03;

/// The precompile's address, `0x000000000000000000000000000000000c030000`.
pub const fn fixed_address() -> [u8; 20] {
	citrate_precompile_utils::fixed_address(ADDRESS_INDEX)
}

/// The pinning incentives precompile for runtime `T`.
pub struct PinningPrecompile<T>(PhantomData<T>);

impl<T> Precompile for PinningPrecompile<T>
where
	T: pallet_pinning::Config + polkadot_sdk::pallet_revive::Config,
{
	type T = T;
	type Interface = Calldata<Call>;
	const MATCHER: AddressMatcher = AddressMatcher::Fixed(NonZero::new(ADDRESS_INDEX).unwrap());
	const HAS_CONTRACT_INFO: bool = false;

	fn call(
		_address: &[u8; 20],
		input: &Self::Interface,
		env: &mut impl Ext<T = Self::T>,
	) -> Result<Vec<u8>, Error> {
		match input.call()? {
			Call::reportPinning(call) => Self::report_pinning(call, env),
			Call::removePinning(call) => Self::remove_pinning(call, env),
			Call::verifyPinning(call) => Self::verify_pinning(call, env),
			Call::pinnersOf(call) => Self::pinners_of(call, env),
			Call::currentEra(call) => Self::current_era(call, env),
		}
	}
}

impl Signatures for Call {
	fn signature(selector: [u8; 4]) -> Option<&'static str> {
		Call::signature_by_selector(selector)
	}
}

impl<T> PinningPrecompile<T>
where
	T: pallet_pinning::Config + polkadot_sdk::pallet_revive::Config,
{
	fn reads(n: u64) -> Weight {
		<T as polkadot_sdk::frame_system::Config>::DbWeight::get().reads(n)
	}

	fn report_pinning(
		call: &IPinningIncentives::reportPinningCall,
		env: &mut impl Ext<T = T>,
	) -> Result<Vec<u8>, Error> {
		env.charge(<T as pallet_pinning::Config>::WeightInfo::report_pin())?;
		ensure_mutable(env, "Pinning.reportPinning")?;
		ensure_no_value(env, "Pinning.reportPinning")?;
		let pinner = caller_account(env)?;
		let since_era = Pinning::<T>::do_report_pin(pinner.clone(), call.cid.as_bytes(), call.size)
			.map_err(|e| dispatch_revert("Pinning.reportPinning", e))?;
		emit(
			env,
			IPinningIncentives::PinReported {
				pinner: address_of::<T>(&pinner),
				cid: call.cid.clone(),
				size: call.size,
				sinceEra: since_era,
			},
		)?;
		Ok(Vec::new())
	}

	fn remove_pinning(
		call: &IPinningIncentives::removePinningCall,
		env: &mut impl Ext<T = T>,
	) -> Result<Vec<u8>, Error> {
		env.charge(<T as pallet_pinning::Config>::WeightInfo::remove_pin())?;
		ensure_mutable(env, "Pinning.removePinning")?;
		ensure_no_value(env, "Pinning.removePinning")?;
		let pinner = caller_account(env)?;
		Pinning::<T>::do_remove_pin(pinner.clone(), call.cid.as_bytes())
			.map_err(|e| dispatch_revert("Pinning.removePinning", e))?;
		emit(
			env,
			IPinningIncentives::PinRemoved {
				pinner: address_of::<T>(&pinner),
				cid: call.cid.clone(),
			},
		)?;
		Ok(Vec::new())
	}

	fn verify_pinning(
		call: &IPinningIncentives::verifyPinningCall,
		env: &mut impl Ext<T = T>,
	) -> Result<Vec<u8>, Error> {
		// The pin and the current era.
		env.charge(Self::reads(2))?;
		ensure_no_value(env, "Pinning.verifyPinning")?;
		let pinner = account_of::<T>(call.pinner);
		let (binary, _) = Pinning::<T>::parse_cid(call.cid.as_bytes())
			.map_err(|e| dispatch_revert("Pinning.verifyPinning", e.into()))?;
		let status: PinStatus = Pinning::<T>::pin_status(pinner, binary);
		let out = IPinningIncentives::Pinning {
			pinned: status.pinned,
			size: status.size,
			lastAnsweredEra: status.last_answered_era,
			verified: status.verified,
		};
		Ok(IPinningIncentives::verifyPinningCall::abi_encode_returns(&out))
	}

	fn pinners_of(
		call: &IPinningIncentives::pinnersOfCall,
		env: &mut impl Ext<T = T>,
	) -> Result<Vec<u8>, Error> {
		env.charge(Self::reads(1))?;
		ensure_no_value(env, "Pinning.pinnersOf")?;
		let (binary, _) = Pinning::<T>::parse_cid(call.cid.as_bytes())
			.map_err(|e| dispatch_revert("Pinning.pinnersOf", e.into()))?;
		let pinners: Vec<_> =
			Pinning::<T>::pinners_of(binary).iter().map(address_of::<T>).collect();
		Ok(IPinningIncentives::pinnersOfCall::abi_encode_returns(&pinners))
	}

	fn current_era(
		_call: &IPinningIncentives::currentEraCall,
		env: &mut impl Ext<T = T>,
	) -> Result<Vec<u8>, Error> {
		env.charge(Self::reads(1))?;
		ensure_no_value(env, "Pinning.currentEra")?;
		let era = Pinning::<T>::current_era();
		Ok(IPinningIncentives::currentEraCall::abi_encode_returns(
			&IPinningIncentives::currentEraReturn {
				era: era.index,
				startBlock: era.start.saturated_into(),
			},
		))
	}
}

#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
