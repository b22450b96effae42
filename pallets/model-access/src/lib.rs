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
//! with no tiers for sale. Free access is expressed that way, not by a tier: a tier's price
//! must be above zero, since every purchase stores a grant and free purchases would let
//! anyone fill storage without a deposit.
//!
//! ## When a model is removed
//! The registry's [`OnModelRemoved`] hook retires every tier of the model and releases the
//! tier deposits to whoever paid them. Grants already bought give no access any more (the
//! model is gone and ids are never reused); they stay in storage, as they hold no deposit and
//! their number is not bounded, so no single block could delete them all.

#![cfg_attr(not(feature = "std"), no_std)]

pub use pallet::*;

mod functions;
mod impls;
mod types;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

pub use citrate_model_primitives::{
	LicenseKind, ModelAccessControl, ModelId, ModelPayments, ModelRegistryInspect,
	ModelStatsRecorder, ModelSummary, OnModelRemoved,
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
		/// A purchase now would expire past the largest block number, so no purchase of the
		/// tier could ever succeed.
		DurationTooLong,
		/// A tier must cost something; free access is an open-source model without tiers.
		ZeroPrice,
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
		/// The value sent with a precompile purchase is not the tier's price; anything else
		/// would be lost or short.
		PaymentNotPrice,
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

	#[pallet::view_functions]
	impl<T: Config> Pallet<T> {
		/// Tier `tier_id` of a model, if it is for sale.
		pub fn tier(model_id: ModelId, tier_id: TierId) -> Option<AccessTier<T>> {
			Tiers::<T>::get(model_id, tier_id)
		}

		/// `who`'s grant for `model_id`, valid or not.
		pub fn access_of(who: T::AccountId, model_id: ModelId) -> Option<AccessGrant<T>> {
			Access::<T>::get(model_id, who)
		}

		/// Whether `who` may use `model_id` now (see the module docs).
		pub fn may_use(who: T::AccountId, model_id: ModelId) -> bool {
			<Self as ModelAccessControl<T::AccountId>>::has_access(&who, model_id)
		}
	}
}
