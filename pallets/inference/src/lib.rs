//! # Inference pallet
//!
//! Runs registered models for anyone who asks: bonded providers serve models off-chain with
//! `citrate-inference`, and the chain records what they answered.
//!
//! This is the first part, **providers**:
//! - [`Pallet::register_provider`]: become a provider, holding at least `MinBond`, with the
//!   key (key type `infr`) the provider's node signs results with — a key in the node's
//!   keystore, separate from the account that holds the bond — its hardware class and how
//!   many requests per block it accepts.
//! - [`Pallet::serve_model`] / [`Pallet::stop_serving`]: declare which registered, active
//!   models it runs (at most `MaxModelsPerProvider`; each model has at most
//!   `MaxProvidersPerModel` providers).
//! - [`Pallet::update_provider`], [`Pallet::set_provider_key`], [`Pallet::pause`],
//!   [`Pallet::resume`]: change terms, rotate the key, stop and restart taking new work.
//! - [`Pallet::leave`] then [`Pallet::withdraw_bond`]: a leaving provider takes no new work and
//!   stops serving its models at once; its bond is released `UnbondingDelay` blocks later, and
//!   not while work is assigned to it (so it can still be slashed for that work).
//!
//! When the registry removes a model, its providers stop serving it ([`OnModelRemoved`]).
//! Requests, results, receipts, quorum and slashing build on these records.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

mod impls;
mod providers;
mod types;
pub mod weights;

#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

pub use citrate_model_primitives::{ModelId, ModelRegistryInspect, OnModelRemoved};
pub use types::*;
pub use weights::WeightInfo;

use alloc::vec::Vec;
use polkadot_sdk::{
	frame_support::{
		self,
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, Mutate, MutateHold},
			tokens::Precision,
		},
	},
	frame_system::{self, pallet_prelude::*},
	sp_core::crypto::KeyTypeId,
	sp_runtime::{traits::Saturating, RuntimeAppPublic},
};

/// Balance type of the currency bonds are held in.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// Keystore key type of provider keys.
pub const KEY_TYPE: KeyTypeId = KeyTypeId(*b"infr");

/// The sr25519 provider key runtimes use as `Config::ProviderKey`.
pub mod crypto {
	use polkadot_sdk::sp_runtime::app_crypto::{app_crypto, sr25519};
	app_crypto!(sr25519, super::KEY_TYPE);
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The currency bonds are held in.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ Mutate<Self::AccountId>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// The model registry: which models exist and are active.
		type Registry: ModelRegistryInspect<Self::AccountId>;

		/// The key providers sign results with ([`crypto::Public`] in the runtime).
		type ProviderKey: Member + Parameter + RuntimeAppPublic + Ord + MaxEncodedLen;

		/// Least bond a provider holds.
		#[pallet::constant]
		type MinBond: Get<BalanceOf<Self>>;

		/// Blocks between `leave` and the bond's release.
		#[pallet::constant]
		type UnbondingDelay: Get<BlockNumberFor<Self>>;

		/// Most requests per block one provider may offer to take.
		#[pallet::constant]
		type MaxCapacity: Get<u32>;

		/// Most models one provider serves.
		#[pallet::constant]
		type MaxModelsPerProvider: Get<u32>;

		/// Most providers serving one model.
		#[pallet::constant]
		type MaxProvidersPerModel: Get<u32>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A provider's bond.
		ProviderBond,
	}

	/// Registered providers by account.
	#[pallet::storage]
	pub type Providers<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, ProviderInfo<T>>;

	/// The provider each key signs for.
	#[pallet::storage]
	pub type ProviderOfKey<T: Config> =
		StorageMap<_, Blake2_128Concat, T::ProviderKey, T::AccountId>;

	/// The providers serving each model (active or paused; leaving providers are removed).
	#[pallet::storage]
	pub type ProvidersOf<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		ModelId,
		BoundedVec<T::AccountId, T::MaxProvidersPerModel>,
		ValueQuery,
	>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A provider registered and bonded.
		ProviderRegistered {
			provider: T::AccountId,
			bond: BalanceOf<T>,
			key: T::ProviderKey,
			hardware: HardwareClass,
			capacity: u32,
		},
		/// A provider changed its hardware class or capacity.
		ProviderUpdated { provider: T::AccountId, hardware: HardwareClass, capacity: u32 },
		/// A provider's results are signed by `key` from now on.
		ProviderKeyChanged { provider: T::AccountId, key: T::ProviderKey },
		/// A provider serves `model_id` from now on.
		ModelServed { provider: T::AccountId, model_id: ModelId },
		/// A provider stopped serving `model_id`.
		ModelDropped { provider: T::AccountId, model_id: ModelId },
		/// A provider stopped taking new work.
		ProviderPaused { provider: T::AccountId },
		/// A paused provider takes work again.
		ProviderResumed { provider: T::AccountId },
		/// A provider is leaving; its bond can be withdrawn from block `unlocks_at`.
		ProviderLeaving { provider: T::AccountId, unlocks_at: BlockNumberFor<T> },
		/// A provider left; `bond` was released.
		ProviderLeft { provider: T::AccountId, bond: BalanceOf<T> },
		/// `model_id` left the registry; the `providers` serving it stopped.
		ModelServiceEnded { model_id: ModelId, providers: u32 },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account is already a provider.
		AlreadyRegistered,
		/// The account is not a provider.
		NotRegistered,
		/// The bond is below `MinBond`.
		BondTooLow,
		/// Another provider signs with this key.
		KeyInUse,
		/// A provider must accept at least one request per block.
		ZeroCapacity,
		/// The capacity is above `MaxCapacity`.
		CapacityTooHigh,
		/// No model has this id.
		ModelNotFound,
		/// The model is deprecated; it takes no new providers.
		ModelInactive,
		/// The provider already serves this model.
		AlreadyServing,
		/// The provider does not serve this model.
		NotServing,
		/// The provider already serves `MaxModelsPerProvider` models.
		TooManyModels,
		/// The model already has `MaxProvidersPerModel` providers.
		TooManyProviders,
		/// Only an active provider can pause.
		NotActive,
		/// Only a paused provider can resume.
		NotPaused,
		/// The provider is leaving; it can only withdraw its bond.
		Leaving,
		/// The provider has not called `leave`.
		NotLeaving,
		/// The unbonding delay has not passed yet.
		StillUnbonding,
		/// Work is assigned to the provider; it can withdraw once that work is settled.
		WorkAssigned,
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers the caller as a provider holding `bond`, whose node signs results with
		/// `key`, running models on `hardware` and accepting up to `capacity` requests per
		/// block.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_provider())]
		pub fn register_provider(
			origin: OriginFor<T>,
			bond: BalanceOf<T>,
			key: T::ProviderKey,
			hardware: HardwareClass,
			capacity: u32,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_register_provider(who, bond, key, hardware, capacity)
		}

		/// Changes the caller's hardware class and capacity.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::update_provider())]
		pub fn update_provider(
			origin: OriginFor<T>,
			hardware: HardwareClass,
			capacity: u32,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_update_provider(who, hardware, capacity)
		}

		/// Makes `key` the key the caller's results are signed with.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::set_provider_key())]
		pub fn set_provider_key(origin: OriginFor<T>, key: T::ProviderKey) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_provider_key(who, key)
		}

		/// The caller serves `model_id`, a registered and active model, from now on.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::serve_model())]
		pub fn serve_model(origin: OriginFor<T>, model_id: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_serve_model(who, model_id)
		}

		/// The caller stops serving `model_id`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::stop_serving())]
		pub fn stop_serving(origin: OriginFor<T>, model_id: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_stop_serving(who, model_id)
		}

		/// The caller takes no new work until it resumes.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::pause())]
		pub fn pause(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_pause(who)
		}

		/// The paused caller takes work again.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::resume())]
		pub fn resume(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_resume(who)
		}

		/// The caller starts leaving: it stops serving every model at once and its bond can be
		/// withdrawn `UnbondingDelay` blocks from now.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::leave(T::MaxModelsPerProvider::get()))]
		pub fn leave(origin: OriginFor<T>) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let models = Self::do_leave(who)?;
			Ok(Some(T::WeightInfo::leave(models)).into())
		}

		/// Releases the leaving caller's bond once the unbonding delay has passed and no work
		/// is assigned to it, and forgets the provider.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::withdraw_bond())]
		pub fn withdraw_bond(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw_bond(who)
		}
	}

	#[pallet::view_functions]
	impl<T: Config> Pallet<T> {
		/// A registered provider.
		pub fn provider(who: T::AccountId) -> Option<ProviderInfo<T>> {
			Providers::<T>::get(who)
		}

		/// The providers serving `model_id`, active or paused.
		pub fn providers_of(model_id: ModelId) -> Vec<T::AccountId> {
			ProvidersOf::<T>::get(model_id).into_inner()
		}

		/// The provider that signs with `key`.
		pub fn provider_of_key(key: T::ProviderKey) -> Option<T::AccountId> {
			ProviderOfKey::<T>::get(key)
		}
	}
}
