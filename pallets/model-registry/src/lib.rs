//! # Model registry pallet
//!
//! The registry of AI models on Citrate. A model version records its name, the IPFS CID of
//! its weights, owner, version number, type, framework, size and license, plus usage and
//! reward totals that other pallets update through [`ModelStatsRecorder`].
//!
//! ## Calls
//! - [`Pallet::register_model`]: a new model name, version 1.
//! - [`Pallet::publish_version`]: version n+1 under a name the caller owns, with a new CID.
//! - [`Pallet::transfer_ownership`]: hand every version of a model to another account.
//! - [`Pallet::deprecate`]: retire a version (it stays readable).
//! - [`Pallet::remove_model`]: delete a deprecated version and release its deposits.
//! - [`Pallet::set_metadata`]: describe a version: task, tensor specs, cost figures, tags.
//!
//! Each stored version holds a deposit from the registering account
//! (`DepositBase + DepositPerByte × encoded size`), released when the version is removed.
//! Metadata holds its own deposit (`MetadataDepositBase + DepositPerByte × encoded size`)
//! from the owner who set it, resized on every update.
//!
//! Other pallets and the precompiles call the `do_*` functions, which carry every check, and
//! clients read models through the view functions ([`Pallet::model`], [`Pallet::metadata`],
//! [`Pallet::versions_of`], [`Pallet::models_of`]).
//!
//! ## What is accepted
//! Names, license identifiers and metadata text are UTF-8. CIDs name content a Citrate store
//! holds and pinners can prove: sha2-256 over dag-pb or raw blocks
//! (`citrate_ipfs_primitives::cid::Cid::is_storable`, the rule pinning applies too). Tensor
//! specs follow the one tensor vocabulary of `citrate-tensor-primitives`.
//!
//! ## Removal
//! Removing a version ends what other pallets tied to it, through [`Config::OnModelRemoved`]
//! (access tiers retired with their deposits released, pins ended), so no state or held
//! deposit outlives the model; `remove_model`'s weight includes the hooks' worst case.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

pub use citrate_ipfs_primitives::cid;
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

pub use types::*;
pub use weights::WeightInfo;

use alloc::vec::Vec;
pub use citrate_model_primitives::OnModelRemoved;
use polkadot_sdk::{
	frame_support::{
		self,
		pallet_prelude::*,
		traits::fungible::{Inspect, Mutate, MutateHold},
	},
	frame_system::{self, pallet_prelude::*},
	sp_runtime::{traits::StaticLookup, DispatchResult},
};

/// A CID in binary CIDv1 form, the key of [`ModelIdByCid`].
pub type BinaryCid = BoundedVec<u8, ConstU32<{ cid::MAX_BINARY_CID_LEN as u32 }>>;

/// The binary CIDv1 of a textual CID, or `None` if the text is not a valid CID.
pub fn binary_cid(text: &[u8]) -> Option<BinaryCid> {
	let (bytes, len) = cid::parse(text).ok()?.to_v1_bytes();
	// `to_v1_bytes` never exceeds `MAX_BINARY_CID_LEN`, so this cannot truncate.
	Some(BoundedVec::truncate_from(bytes[..len].to_vec()))
}

/// A CID as the text users submitted, validated.
pub type TextCid<T> = BoundedVec<u8, <T as Config>::MaxCidLength>;

/// Balance type of the currency deposits are held in.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

type AccountIdLookupOf<T> = <<T as frame_system::Config>::Lookup as StaticLookup>::Source;

// `register_model` takes a model's fields as separate arguments, which is what polkadot.js
// users and Solidity callers see.
#[allow(clippy::too_many_arguments)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: polkadot_sdk::frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The currency model deposits are held in.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ Mutate<Self::AccountId>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// Deposit held for every stored model version, whatever its size.
		#[pallet::constant]
		type DepositBase: Get<BalanceOf<Self>>;

		/// Deposit held per byte of a stored model version's encoded record or metadata.
		#[pallet::constant]
		type DepositPerByte: Get<BalanceOf<Self>>;

		/// Deposit held for a version's metadata record, whatever its size.
		#[pallet::constant]
		type MetadataDepositBase: Get<BalanceOf<Self>>;

		/// Longest model name, in bytes.
		#[pallet::constant]
		type MaxNameLength: Get<u32>;

		/// Longest textual CID, in bytes.
		#[pallet::constant]
		type MaxCidLength: Get<u32>;

		/// Longest license identifier, in bytes.
		#[pallet::constant]
		type MaxLicenseIdLength: Get<u32>;

		/// Most model versions one account may own.
		#[pallet::constant]
		type MaxModelsPerOwner: Get<u32>;

		/// Most stored versions under one name.
		#[pallet::constant]
		type MaxVersions: Get<u32>;

		/// What other pallets do when a model version is removed (end its access tiers and
		/// pins); `()` for none.
		type OnModelRemoved: OnModelRemoved;

		/// Weights of this pallet's calls, from its benchmarks.
		type WeightInfo: WeightInfo;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The storage deposit of a registered model version.
		ModelDeposit,
		/// The storage deposit of a model version's metadata.
		MetadataDeposit,
	}

	#[pallet::type_value]
	pub fn FirstModelId() -> ModelId {
		1
	}

	/// The id the next registered model version gets.
	#[pallet::storage]
	pub type NextModelId<T> = StorageValue<_, ModelId, ValueQuery, FirstModelId>;

	/// Every stored model version by id.
	#[pallet::storage]
	pub type Models<T: Config> = StorageMap<_, Blake2_128Concat, ModelId, ModelInfo<T>>;

	/// The versions published under each name, oldest first.
	#[pallet::storage]
	pub type ModelVersions<T: Config> =
		StorageMap<_, Blake2_128Concat, BoundedVec<u8, T::MaxNameLength>, VersionHistory<T>>;

	/// The model versions each account owns.
	#[pallet::storage]
	pub type ModelsByOwner<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		BoundedVec<ModelId, T::MaxModelsPerOwner>,
		ValueQuery,
	>;

	/// The model version registered with each content, keyed by binary CIDv1 so that the
	/// CIDv0 and CIDv1 texts of the same weights count as one. Content is registered once.
	#[pallet::storage]
	pub type ModelIdByCid<T: Config> = StorageMap<_, Blake2_128Concat, BinaryCid, ModelId>;

	/// The metadata of each model version that has some.
	#[pallet::storage]
	pub type Metadata<T: Config> = StorageMap<_, Blake2_128Concat, ModelId, MetadataRecord<T>>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A new model name was registered as version 1.
		ModelRegistered {
			model_id: ModelId,
			name: BoundedVec<u8, T::MaxNameLength>,
			owner: T::AccountId,
			cid: BoundedVec<u8, T::MaxCidLength>,
		},
		/// A new version was published under an existing name.
		VersionPublished {
			model_id: ModelId,
			name: BoundedVec<u8, T::MaxNameLength>,
			version: u32,
			previous: ModelId,
			cid: BoundedVec<u8, T::MaxCidLength>,
		},
		/// Every version stored under `name` changed owner.
		OwnershipTransferred {
			name: BoundedVec<u8, T::MaxNameLength>,
			from: T::AccountId,
			to: T::AccountId,
		},
		/// A model version was deprecated by its owner.
		ModelDeprecated { model_id: ModelId },
		/// A deprecated model version was deleted and its deposit released.
		ModelRemoved { model_id: ModelId, depositor: T::AccountId, deposit_released: BalanceOf<T> },
		/// Another pallet recorded uses of a model.
		UsageRecorded { model_id: ModelId, uses: u64, usage_count: u64 },
		/// Another pallet recorded a reward paid for a model.
		RewardRecorded { model_id: ModelId, amount: BalanceOf<T>, total_rewards: BalanceOf<T> },
		/// The owner set or replaced a model version's metadata; `deposit` is now held for it.
		MetadataSet { model_id: ModelId, depositor: T::AccountId, deposit: BalanceOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The model name is empty.
		EmptyName,
		/// The model name is longer than `MaxNameLength`.
		NameTooLong,
		/// The CID is longer than `MaxCidLength`.
		CidTooLong,
		/// The CID is not a valid CIDv0 or CIDv1.
		InvalidCid,
		/// The CID names content no Citrate store holds or pinner can prove: only sha2-256
		/// over dag-pb (UnixFS) or raw blocks is accepted, not identity multihashes or other
		/// codecs.
		UnsupportedCid,
		/// The model name is not UTF-8.
		NameNotUtf8,
		/// The license identifier is not UTF-8.
		LicenseIdNotUtf8,
		/// The license identifier is longer than `MaxLicenseIdLength`.
		LicenseIdTooLong,
		/// A model with this name exists; publish a new version instead.
		NameAlreadyRegistered,
		/// A model with this CID is already registered.
		CidAlreadyRegistered,
		/// No model is registered under this name.
		NameNotFound,
		/// No model has this id.
		ModelNotFound,
		/// Only the model's owner may do this.
		NotOwner,
		/// The account already owns `MaxModelsPerOwner` model versions.
		TooManyModels,
		/// The name already has `MaxVersions` stored versions.
		TooManyVersions,
		/// The model version is already deprecated.
		AlreadyDeprecated,
		/// Only a deprecated model version can be removed.
		NotDeprecated,
		/// The account already owns this model.
		AlreadyOwner,
		/// The registering account cannot cover the storage deposit.
		InsufficientDeposit,
		/// A counter (model id, version, usage) would overflow.
		Overflow,
		/// The metadata's tokenizer CID is not a valid, storable CID (as for `UnsupportedCid`).
		InvalidTokenizerCid,
		/// The metadata's description, a tag or the documentation link is not UTF-8.
		MetadataNotUtf8,
		/// A tensor spec's name is empty or not UTF-8, or a symbolic dim is empty or not
		/// UTF-8.
		InvalidTensorSpec,
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers a new model as version 1 and holds its storage deposit from the caller.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_model())]
		pub fn register_model(
			origin: OriginFor<T>,
			name: Vec<u8>,
			cid: Vec<u8>,
			model_type: ModelType,
			framework: Framework,
			size_bytes: u64,
			license_kind: LicenseKind,
			license_id: Vec<u8>,
		) -> DispatchResult {
			let owner = ensure_signed(origin)?;
			Self::do_register_model(
				owner,
				name,
				cid,
				model_type,
				framework,
				size_bytes,
				license_kind,
				license_id,
			)
			.map(|_| ())
		}

		/// Publishes version n+1 of a model the caller owns, with new weights. Type and license
		/// carry over from the latest stored version.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::publish_version())]
		pub fn publish_version(
			origin: OriginFor<T>,
			name: Vec<u8>,
			cid: Vec<u8>,
			framework: Framework,
			size_bytes: u64,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_publish_version(who, name, cid, framework, size_bytes).map(|_| ())
		}

		/// Transfers every stored version of `model_id`'s name to `new_owner`. Deposits stay
		/// held from the accounts that paid them.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::transfer_ownership(T::MaxVersions::get()))]
		pub fn transfer_ownership(
			origin: OriginFor<T>,
			model_id: ModelId,
			new_owner: AccountIdLookupOf<T>,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let new_owner = T::Lookup::lookup(new_owner)?;
			let versions = Self::do_transfer_ownership(who, model_id, new_owner)?;
			Ok(Some(T::WeightInfo::transfer_ownership(versions)).into())
		}

		/// Marks a model version as deprecated. It stays readable; it can then be removed.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::deprecate())]
		pub fn deprecate(origin: OriginFor<T>, model_id: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_deprecate(who, model_id)
		}

		/// Deletes a deprecated model version and releases its deposits to whoever paid them.
		/// The name's version history keeps its other versions and their numbers. Other
		/// pallets end what they tied to the version ([`Config::OnModelRemoved`]).
		#[pallet::call_index(4)]
		#[pallet::weight(
			T::WeightInfo::remove_model().saturating_add(T::OnModelRemoved::max_weight())
		)]
		pub fn remove_model(origin: OriginFor<T>, model_id: ModelId) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let hooks = Self::do_remove_model(who, model_id)?;
			Ok(Some(T::WeightInfo::remove_model().saturating_add(hooks)).into())
		}

		/// Sets or replaces the metadata of a model version the caller owns. The metadata
		/// deposit is resized to the new encoded size and held from the caller.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::set_metadata())]
		pub fn set_metadata(
			origin: OriginFor<T>,
			model_id: ModelId,
			metadata: ModelMetadata,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_metadata(who, model_id, metadata)
		}
	}

	#[pallet::view_functions]
	impl<T: Config> Pallet<T> {
		/// A stored model version.
		pub fn model(model_id: ModelId) -> Option<ModelInfo<T>> {
			Models::<T>::get(model_id)
		}

		/// A model version's metadata, if its owner set some.
		pub fn metadata(model_id: ModelId) -> Option<ModelMetadata> {
			Metadata::<T>::get(model_id).map(|record| record.metadata)
		}

		/// Every stored version under `name`, oldest first.
		pub fn versions_of(name: Vec<u8>) -> Vec<ModelId> {
			BoundedVec::<u8, T::MaxNameLength>::try_from(name)
				.ok()
				.and_then(ModelVersions::<T>::get)
				.map(|history| history.versions.into_inner())
				.unwrap_or_default()
		}

		/// The model versions `owner` owns.
		pub fn models_of(owner: T::AccountId) -> Vec<ModelId> {
			ModelsByOwner::<T>::get(owner).into_inner()
		}
	}
}
