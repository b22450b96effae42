//! `IModelAccess` precompile: model access tiers, purchases and access checks for Solidity.
//!
//! Address `0x000000000000000000000000000000000C020000` (`AddressMatcher::Fixed(0x0C02)`).
//! The interface is [`IModelAccess.sol`](../IModelAccess.sol), compiled here by `alloy::sol!`.
//!
//! Every function charges its weight first, then calls `pallet-model-access`'s `do_*`
//! functions. `purchaseAccess` is payable: pallet-revive moves `msg.value` to this
//! precompile's account before the call, and the pallet pays the owner and the treasury
//! from there, so the buyer's value is spent exactly as an extrinsic purchase would be.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::vec::Vec;
use citrate_precompile_utils::{
	account_of, caller_account, dispatch_revert, emit, ensure_mutable, ensure_no_value,
	from_abi_u256, to_abi_u256, value_in_native, Calldata, Signatures,
};
use core::{marker::PhantomData, num::NonZero};
use pallet_model_access::{
	AccessGrant, ModelAccessControl, Pallet as ModelAccess, Purchase, Uses, WeightInfo,
};
use polkadot_sdk::{
	frame_support::{traits::Get, weights::Weight},
	frame_system::pallet_prelude::BlockNumberFor,
	pallet_revive::precompiles::{
		alloy::sol_types::SolCall, AddressMatcher, Error, Ext, Precompile,
	},
	sp_runtime::SaturatedConversion,
};

alloy_core::sol!("IModelAccess.sol");

use IModelAccess::IModelAccessCalls as Call;

/// The `u16` in [`AddressMatcher::Fixed`]: bytes 16..18 of the address.
pub const ADDRESS_INDEX: u16 = 0x0C02;

/// The precompile's address, `0x000000000000000000000000000000000C020000`.
pub const fn fixed_address() -> [u8; 20] {
	citrate_precompile_utils::fixed_address(ADDRESS_INDEX)
}

/// The model access precompile for runtime `T`.
pub struct ModelAccessPrecompile<T>(PhantomData<T>);

type BalanceOf<T> = pallet_model_access::BalanceOf<T>;

impl<T> Precompile for ModelAccessPrecompile<T>
where
	T: pallet_model_access::Config + polkadot_sdk::pallet_revive::Config,
	BalanceOf<T>: Into<u128> + From<u128>,
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
			Call::setTier(call) => Self::set_tier(call, env),
			Call::retireTier(call) => Self::retire_tier(call, env),
			Call::purchaseAccess(call) => Self::purchase_access(call, env),
			Call::hasAccess(call) => Self::has_access(call, env),
			Call::accessOf(call) => Self::access_of(call, env),
			Call::getTier(call) => Self::get_tier(call, env),
		}
	}
}

impl Signatures for Call {
	fn signature(selector: [u8; 4]) -> Option<&'static str> {
		Call::signature_by_selector(selector)
	}
}

impl<T> ModelAccessPrecompile<T>
where
	T: pallet_model_access::Config + polkadot_sdk::pallet_revive::Config,
	BalanceOf<T>: Into<u128> + From<u128>,
{
	fn reads(n: u64) -> Weight {
		<T as polkadot_sdk::frame_system::Config>::DbWeight::get().reads(n)
	}

	fn set_tier(
		call: &IModelAccess::setTierCall,
		env: &mut impl Ext<T = T>,
	) -> Result<Vec<u8>, Error> {
		env.charge(<T as pallet_model_access::Config>::WeightInfo::set_tier())?;
		ensure_mutable(env, "ModelAccess.setTier")?;
		ensure_no_value(env, "ModelAccess.setTier")?;
		let owner = caller_account(env)?;
		let price = from_abi_u256(call.price, "ModelAccess.setTier: price")?;
		let duration = BlockNumberFor::<T>::try_from(call.duration).map_err(|_| {
			citrate_precompile_utils::revert("ModelAccess.setTier: duration too long")
		})?;
		ModelAccess::<T>::do_set_tier(
			owner,
			call.modelId,
			call.tierId,
			price.into(),
			duration,
			call.maxUses,
		)
		.map_err(|e| dispatch_revert("ModelAccess.setTier", e))?;
		emit(
			env,
			IModelAccess::TierSet {
				modelId: call.modelId,
				tierId: call.tierId,
				price: call.price,
				duration: call.duration,
				maxUses: call.maxUses,
			},
		)?;
		Ok(Vec::new())
	}

	fn retire_tier(
		call: &IModelAccess::retireTierCall,
		env: &mut impl Ext<T = T>,
	) -> Result<Vec<u8>, Error> {
		env.charge(<T as pallet_model_access::Config>::WeightInfo::retire_tier())?;
		ensure_mutable(env, "ModelAccess.retireTier")?;
		ensure_no_value(env, "ModelAccess.retireTier")?;
		let owner = caller_account(env)?;
		ModelAccess::<T>::do_retire_tier(owner, call.modelId, call.tierId)
			.map_err(|e| dispatch_revert("ModelAccess.retireTier", e))?;
		emit(env, IModelAccess::TierRetired { modelId: call.modelId, tierId: call.tierId })?;
		Ok(Vec::new())
	}

	fn purchase_access(
		call: &IModelAccess::purchaseAccessCall,
		env: &mut impl Ext<T = T>,
	) -> Result<Vec<u8>, Error> {
		// The purchase, plus reading the tier to compare its price with the value.
		env.charge(
			<T as pallet_model_access::Config>::WeightInfo::purchase_access()
				.saturating_add(Self::reads(1)),
		)?;
		ensure_mutable(env, "ModelAccess.purchaseAccess")?;
		let buyer = caller_account(env)?;
		let value = value_in_native(env)?;
		// pallet-revive moved the value to this precompile's account, which pays from it.
		let payer = env.account_id().clone();
		let Purchase { grant, owner_share, treasury_share } = ModelAccess::<T>::do_purchase_paid(
			&payer,
			&buyer,
			call.modelId,
			call.tierId,
			value.into(),
		)
		.map_err(|e| dispatch_revert("ModelAccess.purchaseAccess", e))?;
		emit(
			env,
			IModelAccess::AccessPurchased {
				modelId: call.modelId,
				buyer: citrate_precompile_utils::address_of::<T>(&buyer),
				tierId: call.tierId,
				ownerShare: to_abi_u256(owner_share.into()),
				treasuryShare: to_abi_u256(treasury_share.into()),
				expiresAt: grant.expires_at.saturated_into(),
			},
		)?;
		Ok(Vec::new())
	}

	fn has_access(
		call: &IModelAccess::hasAccessCall,
		env: &mut impl Ext<T = T>,
	) -> Result<Vec<u8>, Error> {
		env.charge(<T as pallet_model_access::Config>::WeightInfo::has_access())?;
		ensure_no_value(env, "ModelAccess.hasAccess")?;
		let user = account_of::<T>(call.user);
		let allowed = ModelAccess::<T>::has_access(&user, call.modelId);
		Ok(IModelAccess::hasAccessCall::abi_encode_returns(&allowed))
	}

	fn access_of(
		call: &IModelAccess::accessOfCall,
		env: &mut impl Ext<T = T>,
	) -> Result<Vec<u8>, Error> {
		env.charge(<T as pallet_model_access::Config>::WeightInfo::has_access())?;
		ensure_no_value(env, "ModelAccess.accessOf")?;
		let user = account_of::<T>(call.user);
		let access = match ModelAccess::<T>::access_of(user, call.modelId) {
			None => IModelAccess::Access {
				exists: false,
				tierId: 0,
				expiresAt: 0,
				unlimitedUses: false,
				usesLeft: 0,
			},
			Some(AccessGrant { tier_id, expires_at, uses_left }) => IModelAccess::Access {
				exists: true,
				tierId: tier_id,
				expiresAt: expires_at.saturated_into(),
				unlimitedUses: uses_left == Uses::Unlimited,
				usesLeft: match uses_left {
					Uses::Limited(left) => left,
					Uses::Unlimited => 0,
				},
			},
		};
		Ok(IModelAccess::accessOfCall::abi_encode_returns(&access))
	}

	fn get_tier(
		call: &IModelAccess::getTierCall,
		env: &mut impl Ext<T = T>,
	) -> Result<Vec<u8>, Error> {
		env.charge(Self::reads(1))?;
		ensure_no_value(env, "ModelAccess.getTier")?;
		let out = match ModelAccess::<T>::tier(call.modelId, call.tierId) {
			Some(tier) => IModelAccess::getTierReturn {
				exists: true,
				price: to_abi_u256(tier.price.into()),
				duration: tier.duration.saturated_into(),
				maxUses: tier.max_uses,
			},
			None => IModelAccess::getTierReturn {
				exists: false,
				price: Default::default(),
				duration: 0,
				maxUses: 0,
			},
		};
		Ok(IModelAccess::getTierCall::abi_encode_returns(&out))
	}
}

#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
