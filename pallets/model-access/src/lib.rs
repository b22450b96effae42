//! # Model access pallet
//!
//! Model owners sell access to their models in tiers; buyers pay, and the inference pallet
//! checks access through [`ModelAccessControl`].
//!
//! ## Calls
//! - [`Pallet::set_tier`]: create or update tier `tier_id` of a model (price, duration in
//!   blocks, uses per purchase). Only the owner; each tier holds `TierDeposit` from its creator.
//! - [`Pallet::retire_tier`]: stop selling a tier and release its deposit. Purchases already
//!   made keep their expiry and uses.
//! - [`Pallet::purchase_access`]: pay a tier's price. `OwnerShare` (90 % in the runtime) goes
//!   to the model owner, the rest to the treasury account of `TreasuryPalletId`. Rounding
//!   gives the owner the floor of its share, so the two parts always add up to the price.
//!
//! ## Buying again
//! Time stacks: a purchase adds the tier's duration to the current expiry (or to now when the
//! grant has lapsed). Uses follow the purchased tier: an unlimited tier makes the grant
//! unlimited; a limited tier sets the uses to its `max_uses` plus the limited uses still left.
//!
//! ## Who has access
//! The model's owner; anyone holding a valid grant; anyone at all for an open-source model
//! with no tiers for sale.

#![cfg_attr(not(feature = "std"), no_std)]

pub use pallet::*;

mod types;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

pub use citrate_model_primitives::{
	LicenseKind, ModelAccessControl, ModelId, ModelRegistryInspect, ModelStatsRecorder,
	ModelSummary,
};
pub use types::*;
pub use weights::WeightInfo;

use polkadot_sdk::{
	frame_support::{
		self,
		pallet_prelude::*,
		storage::with_storage_layer,
		traits::{
			fungible::{Inspect, Mutate, MutateHold},
			tokens::{Fortitude, Precision, Preservation},
		},
		PalletId,
	},
	frame_system::{self, pallet_prelude::*},
	sp_runtime::{
		traits::{AccountIdConversion, Saturating, Zero},
		DispatchResult, Perbill,
	},
};

/// Balance type of the currency access is paid in.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// Creates models for the benchmarks, which need a registered model with a known owner.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Registers a model owned by `owner` with the given license family.
	fn create_model(owner: &AccountId, license: LicenseKind) -> ModelId;
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The currency access is paid in and tier deposits are held in.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ Mutate<Self::AccountId>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// The model registry: owners, licenses and reward totals.
		type Registry: ModelRegistryInspect<Self::AccountId> + ModelStatsRecorder<BalanceOf<Self>>;

		/// The model owner's part of each purchase; the treasury gets the rest.
		#[pallet::constant]
		type OwnerShare: Get<Perbill>;

		/// Identifies the treasury account that receives the rest of each purchase.
		#[pallet::constant]
		type TreasuryPalletId: Get<PalletId>;

		/// Deposit held for each tier while it exists.
		#[pallet::constant]
		type TierDeposit: Get<BalanceOf<Self>>;

		/// Tier ids of a model run from 0 to `MaxTiersPerModel - 1`.
		#[pallet::constant]
		type MaxTiersPerModel: Get<u32>;

		/// Weights of this pallet's calls, from its benchmarks.
		type WeightInfo: WeightInfo;

		/// Registers models for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The storage deposit of an access tier.
		TierDeposit,
	}

	/// The tiers for sale, by model and tier id.
	#[pallet::storage]
	pub type Tiers<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, ModelId, Twox64Concat, TierId, AccessTier<T>>;

	/// How many tiers each model has for sale.
	#[pallet::storage]
	pub type TierCount<T: Config> = StorageMap<_, Blake2_128Concat, ModelId, u32, ValueQuery>;

	/// What each account bought for each model.
	#[pallet::storage]
	pub type Access<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		ModelId,
		Blake2_128Concat,
		T::AccountId,
		AccessGrant<T>,
	>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			// The treasury must exist to receive shares below the existential deposit.
			let treasury = Pallet::<T>::treasury_account();
			if T::Currency::balance(&treasury).is_zero() {
				let _ = T::Currency::mint_into(&treasury, T::Currency::minimum_balance());
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A tier was created or its terms changed.
		TierSet {
			model_id: ModelId,
			tier_id: TierId,
			price: BalanceOf<T>,
			duration: BlockNumberFor<T>,
			max_uses: u32,
		},
		/// A tier was retired; purchases already made stay valid.
		TierRetired { model_id: ModelId, tier_id: TierId },
		/// `buyer` bought access; `payer` paid `owner_share` to the owner and `treasury_share`
		/// to the treasury.
		AccessPurchased {
			model_id: ModelId,
			tier_id: TierId,
			buyer: T::AccountId,
			payer: T::AccountId,
			owner_share: BalanceOf<T>,
			treasury_share: BalanceOf<T>,
			expires_at: BlockNumberFor<T>,
			uses_left: Uses,
		},
		/// One use of a model was consumed.
		UseConsumed { model_id: ModelId, who: T::AccountId, uses_left: Uses },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No model has this id.
		ModelNotFound,
		/// Only the model's owner may do this.
		NotModelOwner,
		/// The model is deprecated; its access is no longer sold.
		ModelNotActive,
		/// Tier ids must be below `MaxTiersPerModel`.
		TierIdOutOfRange,
		/// The model has no tier with this id (it may have been retired).
		TierNotFound,
		/// A tier must last at least one block.
		ZeroDuration,
		/// The owner of a model always has access to it.
		OwnerHasAccess,
		/// The tier's price is above the most the buyer agreed to pay.
		PriceAboveLimit,
		/// The payer cannot pay the price and stay above the existential deposit.
		InsufficientBalance,
		/// The owner cannot cover the tier deposit.
		InsufficientDeposit,
		/// The account has no valid access to the model.
		NoAccess,
		/// An expiry block or a use count would overflow.
		Overflow,
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Creates tier `tier_id` of a model the caller owns, or changes its terms. Buyers
		/// pay `price` for `duration` blocks and `max_uses` uses (0 = unlimited).
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::set_tier())]
		pub fn set_tier(
			origin: OriginFor<T>,
			model_id: ModelId,
			tier_id: TierId,
			price: BalanceOf<T>,
			duration: BlockNumberFor<T>,
			max_uses: u32,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_tier(who, model_id, tier_id, price, duration, max_uses)
		}

		/// Stops selling a tier and releases its deposit. Grants already bought stay valid.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::retire_tier())]
		pub fn retire_tier(
			origin: OriginFor<T>,
			model_id: ModelId,
			tier_id: TierId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_retire_tier(who, model_id, tier_id)
		}

		/// Buys tier `tier_id` of a model for the caller, paying at most `max_price` (the
		/// tier's price at inclusion, which protects the buyer from a price change).
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::purchase_access())]
		pub fn purchase_access(
			origin: OriginFor<T>,
			model_id: ModelId,
			tier_id: TierId,
			max_price: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_purchase_access(&who, &who, model_id, tier_id, max_price).map(|_| ())
		}
	}
}

impl<T: Config> Pallet<T> {
	/// The account that receives the treasury's share of every purchase.
	pub fn treasury_account() -> T::AccountId {
		T::TreasuryPalletId::get().into_account_truncating()
	}

	/// How a price splits: `(owner_share, treasury_share)`, adding up to `price` exactly.
	pub fn split(price: BalanceOf<T>) -> (BalanceOf<T>, BalanceOf<T>) {
		let owner_share = T::OwnerShare::get().mul_floor(price);
		(owner_share, price.saturating_sub(owner_share))
	}

	fn owned_model(
		who: &T::AccountId,
		model_id: ModelId,
	) -> Result<ModelSummary<T::AccountId>, Error<T>> {
		let model = T::Registry::model(model_id).ok_or(Error::<T>::ModelNotFound)?;
		ensure!(&model.owner == who, Error::<T>::NotModelOwner);
		Ok(model)
	}

	/// Creates or updates a tier for the model's owner `who`; see [`Pallet::set_tier`].
	pub fn do_set_tier(
		who: T::AccountId,
		model_id: ModelId,
		tier_id: TierId,
		price: BalanceOf<T>,
		duration: BlockNumberFor<T>,
		max_uses: u32,
	) -> DispatchResult {
		let model = Self::owned_model(&who, model_id)?;
		ensure!(model.active, Error::<T>::ModelNotActive);
		ensure!(tier_id < T::MaxTiersPerModel::get(), Error::<T>::TierIdOutOfRange);
		ensure!(!duration.is_zero(), Error::<T>::ZeroDuration);

		let (depositor, deposit) = match Tiers::<T>::get(model_id, tier_id) {
			Some(existing) => (existing.depositor, existing.deposit),
			None => {
				let deposit = T::TierDeposit::get();
				T::Currency::hold(&HoldReason::TierDeposit.into(), &who, deposit)
					.map_err(|_| Error::<T>::InsufficientDeposit)?;
				TierCount::<T>::mutate(model_id, |count| count.saturating_inc());
				(who, deposit)
			}
		};
		Tiers::<T>::insert(
			model_id,
			tier_id,
			AccessTier { price, duration, max_uses, depositor, deposit },
		);
		Self::deposit_event(Event::TierSet { model_id, tier_id, price, duration, max_uses });
		Ok(())
	}

	/// Retires a tier for the model's owner `who`; see [`Pallet::retire_tier`].
	pub fn do_retire_tier(who: T::AccountId, model_id: ModelId, tier_id: TierId) -> DispatchResult {
		Self::owned_model(&who, model_id)?;
		let tier = Tiers::<T>::take(model_id, tier_id).ok_or(Error::<T>::TierNotFound)?;
		T::Currency::release(
			&HoldReason::TierDeposit.into(),
			&tier.depositor,
			tier.deposit,
			Precision::BestEffort,
		)?;
		TierCount::<T>::mutate_exists(model_id, |count| {
			let left = count.unwrap_or_default().saturating_sub(1);
			*count = (left > 0).then_some(left);
		});
		Self::deposit_event(Event::TierRetired { model_id, tier_id });
		Ok(())
	}

	/// `payer` buys tier `tier_id` of `model_id` for `buyer`; see [`Pallet::purchase_access`].
	/// The precompile pays from the value sent with the call, so payer and buyer can differ.
	/// Either everything happens or nothing does.
	pub fn do_purchase_access(
		payer: &T::AccountId,
		buyer: &T::AccountId,
		model_id: ModelId,
		tier_id: TierId,
		max_price: BalanceOf<T>,
	) -> Result<AccessGrant<T>, DispatchError> {
		let ModelSummary { owner, active, .. } =
			T::Registry::model(model_id).ok_or(Error::<T>::ModelNotFound)?;
		ensure!(active, Error::<T>::ModelNotActive);
		let tier = Tiers::<T>::get(model_id, tier_id).ok_or(Error::<T>::TierNotFound)?;
		ensure!(buyer != &owner, Error::<T>::OwnerHasAccess);
		ensure!(tier.price <= max_price, Error::<T>::PriceAboveLimit);
		let spendable =
			T::Currency::reducible_balance(payer, Preservation::Preserve, Fortitude::Polite);
		ensure!(spendable >= tier.price, Error::<T>::InsufficientBalance);

		let now = frame_system::Pallet::<T>::block_number();
		let current = Access::<T>::get(model_id, buyer).filter(|grant| grant.is_valid(now));
		let starts = current.as_ref().map_or(now, |grant| grant.expires_at);
		let expires_at = starts.checked_add(&tier.duration).ok_or(Error::<T>::Overflow)?;
		let uses_left = match (tier.max_uses, current.map(|grant| grant.uses_left)) {
			(0, _) => Uses::Unlimited,
			(added, Some(Uses::Limited(left))) => {
				Uses::Limited(left.checked_add(added).ok_or(Error::<T>::Overflow)?)
			}
			(added, _) => Uses::Limited(added),
		};
		let grant = AccessGrant::<T> { tier_id, expires_at, uses_left };
		let (owner_share, treasury_share) = Self::split(tier.price);

		with_storage_layer(|| {
			for (to, amount) in [(&owner, owner_share), (&Self::treasury_account(), treasury_share)]
			{
				if !amount.is_zero() {
					T::Currency::transfer(payer, to, amount, Preservation::Preserve)?;
				}
			}
			T::Registry::record_reward(model_id, owner_share)?;
			Access::<T>::insert(model_id, buyer, grant.clone());
			Ok::<_, DispatchError>(())
		})?;

		Self::deposit_event(Event::AccessPurchased {
			model_id,
			tier_id,
			buyer: buyer.clone(),
			payer: payer.clone(),
			owner_share,
			treasury_share,
			expires_at,
			uses_left,
		});
		Ok(grant)
	}

	/// Whether `who` needs no grant: the owner, or anyone for an open-source model without
	/// tiers for sale. `None` when the model does not exist.
	fn free_for(who: &T::AccountId, model_id: ModelId) -> Option<bool> {
		let model = T::Registry::model(model_id)?;
		Some(
			&model.owner == who
				|| (model.license_kind == LicenseKind::OpenSource
					&& TierCount::<T>::get(model_id) == 0),
		)
	}

	/// `who`'s grant for `model_id`, valid or not.
	pub fn access_of(who: &T::AccountId, model_id: ModelId) -> Option<AccessGrant<T>> {
		Access::<T>::get(model_id, who)
	}
}

impl<T: Config> ModelAccessControl<T::AccountId> for Pallet<T> {
	fn has_access(who: &T::AccountId, model_id: ModelId) -> bool {
		match Self::free_for(who, model_id) {
			None => false,
			Some(true) => true,
			Some(false) => {
				let now = frame_system::Pallet::<T>::block_number();
				Access::<T>::get(model_id, who).is_some_and(|grant| grant.is_valid(now))
			}
		}
	}

	fn consume_use(who: &T::AccountId, model_id: ModelId) -> DispatchResult {
		with_storage_layer(|| Self::do_consume_use(who, model_id))
	}
}

impl<T: Config> Pallet<T> {
	fn do_consume_use(who: &T::AccountId, model_id: ModelId) -> DispatchResult {
		let free = Self::free_for(who, model_id).ok_or(Error::<T>::ModelNotFound)?;
		let uses_left = if free {
			Uses::Unlimited
		} else {
			let now = frame_system::Pallet::<T>::block_number();
			Access::<T>::try_mutate(model_id, who, |entry| {
				let grant =
					entry.as_mut().filter(|g| g.is_valid(now)).ok_or(Error::<T>::NoAccess)?;
				if let Uses::Limited(left) = &mut grant.uses_left {
					*left = left.saturating_sub(1);
				}
				Ok::<_, Error<T>>(grant.uses_left)
			})?
		};
		T::Registry::record_usage(model_id, 1)?;
		Self::deposit_event(Event::UseConsumed { model_id, who: who.clone(), uses_left });
		Ok(())
	}
}
