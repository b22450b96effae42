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
//! Other pallets and the precompiles call the `do_*` functions, which carry every check.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

pub use citrate_ipfs_primitives::cid;
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
	sp_runtime::{
		traits::{Saturating, StaticLookup},
		DispatchResult,
	},
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
		/// The metadata's tokenizer CID is not a valid CIDv0 or CIDv1.
		InvalidTokenizerCid,
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
			let model = Models::<T>::get(model_id).ok_or(Error::<T>::ModelNotFound)?;
			ensure!(model.owner == who, Error::<T>::NotOwner);
			ensure!(new_owner != who, Error::<T>::AlreadyOwner);
			let history = ModelVersions::<T>::get(&model.name).ok_or(Error::<T>::NameNotFound)?;

			let mut from_list = ModelsByOwner::<T>::get(&who);
			let mut to_list = ModelsByOwner::<T>::get(&new_owner);
			for id in history.versions.iter() {
				from_list.retain(|owned| owned != id);
				to_list.try_push(*id).map_err(|_| Error::<T>::TooManyModels)?;
			}
			for id in history.versions.iter() {
				Models::<T>::mutate(id, |entry| {
					if let Some(m) = entry {
						m.owner = new_owner.clone();
					}
				});
			}
			Self::put_owner_list(&who, from_list);
			Self::put_owner_list(&new_owner, to_list);

			Self::deposit_event(Event::OwnershipTransferred {
				name: model.name,
				from: who,
				to: new_owner,
			});
			Ok(Some(T::WeightInfo::transfer_ownership(history.versions.len() as u32)).into())
		}

		/// Marks a model version as deprecated. It stays readable; it can then be removed.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::deprecate())]
		pub fn deprecate(origin: OriginFor<T>, model_id: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Models::<T>::try_mutate(model_id, |entry| {
				let model = entry.as_mut().ok_or(Error::<T>::ModelNotFound)?;
				ensure!(model.owner == who, Error::<T>::NotOwner);
				ensure!(model.status == ModelStatus::Active, Error::<T>::AlreadyDeprecated);
				model.status = ModelStatus::Deprecated;
				Ok::<_, DispatchError>(())
			})?;
			Self::deposit_event(Event::ModelDeprecated { model_id });
			Ok(())
		}

		/// Deletes a deprecated model version and releases its deposit to whoever paid it.
		/// The name's version history keeps its other versions and their numbers.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::remove_model())]
		pub fn remove_model(origin: OriginFor<T>, model_id: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let model = Models::<T>::get(model_id).ok_or(Error::<T>::ModelNotFound)?;
			ensure!(model.owner == who, Error::<T>::NotOwner);
			ensure!(model.status == ModelStatus::Deprecated, Error::<T>::NotDeprecated);

			T::Currency::release(
				&HoldReason::ModelDeposit.into(),
				&model.deposit.depositor,
				model.deposit.amount,
				Precision::BestEffort,
			)?;
			if let Some(record) = Metadata::<T>::take(model_id) {
				T::Currency::release(
					&HoldReason::MetadataDeposit.into(),
					&record.deposit.depositor,
					record.deposit.amount,
					Precision::BestEffort,
				)?;
			}
			Models::<T>::remove(model_id);
			if let Some(binary) = binary_cid(&model.cid) {
				ModelIdByCid::<T>::remove(binary);
			}
			let mut owned = ModelsByOwner::<T>::get(&who);
			owned.retain(|id| *id != model_id);
			Self::put_owner_list(&who, owned);
			ModelVersions::<T>::mutate_exists(&model.name, |entry| {
				if let Some(history) = entry {
					history.versions.retain(|id| *id != model_id);
					if history.versions.is_empty() {
						// The name is free again once no version of it is stored.
						*entry = None;
					}
				}
			});

			Self::deposit_event(Event::ModelRemoved {
				model_id,
				depositor: model.deposit.depositor,
				deposit_released: model.deposit.amount,
			});
			Ok(())
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
}

impl<T: Config> Pallet<T> {
	/// Registers `name` as version 1 owned by `owner`; see [`Pallet::register_model`].
	#[allow(clippy::too_many_arguments)]
	pub fn do_register_model(
		owner: T::AccountId,
		name: Vec<u8>,
		cid: Vec<u8>,
		model_type: ModelType,
		framework: Framework,
		size_bytes: u64,
		license_kind: LicenseKind,
		license_id: Vec<u8>,
	) -> Result<ModelId, DispatchError> {
		let name = Self::bounded_name(name)?;
		let (cid, binary_cid) = Self::checked_cid(cid)?;
		let identifier: BoundedVec<u8, T::MaxLicenseIdLength> =
			license_id.try_into().map_err(|_| Error::<T>::LicenseIdTooLong)?;
		ensure!(!ModelVersions::<T>::contains_key(&name), Error::<T>::NameAlreadyRegistered);

		let model_id = Self::insert_model(
			&owner,
			&name,
			&cid,
			binary_cid,
			1,
			model_type,
			framework,
			size_bytes,
			License { kind: license_kind, identifier },
		)?;
		let versions = BoundedVec::truncate_from(alloc::vec![model_id]);
		ModelVersions::<T>::insert(&name, VersionHistory { latest_version: 1, versions });

		Self::deposit_event(Event::ModelRegistered { model_id, name, owner, cid });
		Ok(model_id)
	}

	/// Publishes the next version of `name` for its owner `who`; see
	/// [`Pallet::publish_version`].
	pub fn do_publish_version(
		who: T::AccountId,
		name: Vec<u8>,
		cid: Vec<u8>,
		framework: Framework,
		size_bytes: u64,
	) -> Result<PublishedVersion, DispatchError> {
		let name = Self::bounded_name(name)?;
		let (cid, binary_cid) = Self::checked_cid(cid)?;
		let mut history = ModelVersions::<T>::get(&name).ok_or(Error::<T>::NameNotFound)?;
		let previous = *history.versions.last().ok_or(Error::<T>::NameNotFound)?;
		let latest = Models::<T>::get(previous).ok_or(Error::<T>::ModelNotFound)?;
		ensure!(latest.owner == who, Error::<T>::NotOwner);
		ensure!(!history.versions.is_full(), Error::<T>::TooManyVersions);
		let version = history.latest_version.checked_add(1).ok_or(Error::<T>::Overflow)?;

		let model_id = Self::insert_model(
			&who,
			&name,
			&cid,
			binary_cid,
			version,
			latest.model_type,
			framework,
			size_bytes,
			latest.license,
		)?;
		history.latest_version = version;
		history.versions.try_push(model_id).map_err(|_| Error::<T>::TooManyVersions)?;
		ModelVersions::<T>::insert(&name, history);

		Self::deposit_event(Event::VersionPublished { model_id, name, version, previous, cid });
		Ok(PublishedVersion { model_id, version, previous })
	}

	/// Sets the metadata of `model_id` for its owner `who`; see [`Pallet::set_metadata`].
	///
	/// The new deposit is held before the old one is released, so a caller who cannot cover
	/// it changes nothing.
	pub fn do_set_metadata(
		who: T::AccountId,
		model_id: ModelId,
		metadata: ModelMetadata,
	) -> DispatchResult {
		let model = Models::<T>::get(model_id).ok_or(Error::<T>::ModelNotFound)?;
		ensure!(model.owner == who, Error::<T>::NotOwner);
		if let Some(tokenizer) = &metadata.tokenizer_cid {
			ensure!(cid::parse(tokenizer).is_ok(), Error::<T>::InvalidTokenizerCid);
		}
		let amount = Self::metadata_deposit_for(metadata.encoded_size());
		let reason = HoldReason::MetadataDeposit.into();
		let hold = |value: BalanceOf<T>| {
			T::Currency::hold(&reason, &who, value).map_err(|_| Error::<T>::InsufficientDeposit)
		};
		match Metadata::<T>::get(model_id) {
			Some(old) if old.deposit.depositor == who => {
				if amount > old.deposit.amount {
					hold(amount.saturating_sub(old.deposit.amount))?;
				} else {
					let excess = old.deposit.amount.saturating_sub(amount);
					T::Currency::release(&reason, &who, excess, Precision::BestEffort)?;
				}
			}
			Some(old) => {
				hold(amount)?;
				T::Currency::release(
					&reason,
					&old.deposit.depositor,
					old.deposit.amount,
					Precision::BestEffort,
				)?;
			}
			None => hold(amount)?,
		}
		let deposit = ModelDeposit { depositor: who.clone(), amount };
		Metadata::<T>::insert(model_id, MetadataRecord { metadata, deposit });
		Self::deposit_event(Event::MetadataSet { model_id, depositor: who, deposit: amount });
		Ok(())
	}

	/// The deposit a metadata record of this encoded size holds.
	pub fn metadata_deposit_for(encoded_len: usize) -> BalanceOf<T> {
		let bytes: BalanceOf<T> = (encoded_len as u32).into();
		T::MetadataDepositBase::get().saturating_add(T::DepositPerByte::get().saturating_mul(bytes))
	}
}

impl<T: Config> Pallet<T> {
	fn bounded_name(name: Vec<u8>) -> Result<BoundedVec<u8, T::MaxNameLength>, Error<T>> {
		ensure!(!name.is_empty(), Error::<T>::EmptyName);
		name.try_into().map_err(|_| Error::<T>::NameTooLong)
	}

	/// Validates a textual CID and checks its content is not registered yet.
	fn checked_cid(cid: Vec<u8>) -> Result<(TextCid<T>, BinaryCid), Error<T>> {
		let cid: BoundedVec<u8, T::MaxCidLength> =
			cid.try_into().map_err(|_| Error::<T>::CidTooLong)?;
		let binary = binary_cid(&cid).ok_or(Error::<T>::InvalidCid)?;
		ensure!(!ModelIdByCid::<T>::contains_key(&binary), Error::<T>::CidAlreadyRegistered);
		Ok((cid, binary))
	}

	/// The deposit a model record of this encoded size holds.
	pub fn deposit_for(encoded_len: usize) -> BalanceOf<T> {
		let bytes: BalanceOf<T> = (encoded_len as u32).into();
		T::DepositBase::get().saturating_add(T::DepositPerByte::get().saturating_mul(bytes))
	}

	/// Stores a new model version, holds its deposit and indexes it by owner and CID.
	#[allow(clippy::too_many_arguments)]
	fn insert_model(
		owner: &T::AccountId,
		name: &BoundedVec<u8, T::MaxNameLength>,
		cid: &BoundedVec<u8, T::MaxCidLength>,
		binary_cid: BinaryCid,
		version: u32,
		model_type: ModelType,
		framework: Framework,
		size_bytes: u64,
		license: License<T>,
	) -> Result<ModelId, DispatchError> {
		let model_id = NextModelId::<T>::get();
		let next_id = model_id.checked_add(1).ok_or(Error::<T>::Overflow)?;
		let mut owned = ModelsByOwner::<T>::get(owner);
		owned.try_push(model_id).map_err(|_| Error::<T>::TooManyModels)?;

		let mut model = ModelInfo::<T> {
			name: name.clone(),
			cid: cid.clone(),
			owner: owner.clone(),
			version,
			model_type,
			framework,
			size_bytes,
			license,
			status: ModelStatus::Active,
			usage_count: 0,
			total_rewards: Default::default(),
			registered_at: frame_system::Pallet::<T>::block_number(),
			deposit: ModelDeposit { depositor: owner.clone(), amount: Default::default() },
		};
		model.deposit.amount = Self::deposit_for(model.encoded_size());
		T::Currency::hold(&HoldReason::ModelDeposit.into(), owner, model.deposit.amount)
			.map_err(|_| Error::<T>::InsufficientDeposit)?;

		Models::<T>::insert(model_id, model);
		ModelIdByCid::<T>::insert(binary_cid, model_id);
		ModelsByOwner::<T>::insert(owner, owned);
		NextModelId::<T>::put(next_id);
		Ok(model_id)
	}

	fn put_owner_list(who: &T::AccountId, list: BoundedVec<ModelId, T::MaxModelsPerOwner>) {
		if list.is_empty() {
			ModelsByOwner::<T>::remove(who);
		} else {
			ModelsByOwner::<T>::insert(who, list);
		}
	}

	/// Every stored version under `name`, oldest first.
	pub fn versions_of(name: &[u8]) -> Vec<ModelId> {
		BoundedVec::<u8, T::MaxNameLength>::try_from(name.to_vec())
			.ok()
			.and_then(ModelVersions::<T>::get)
			.map(|history| history.versions.into_inner())
			.unwrap_or_default()
	}
}

impl<T: Config> ModelRegistryInspect<T::AccountId> for Pallet<T> {
	fn model(model_id: ModelId) -> Option<ModelSummary<T::AccountId>> {
		Models::<T>::get(model_id).map(|m| ModelSummary {
			owner: m.owner,
			active: m.status == ModelStatus::Active,
			license_kind: m.license.kind,
			size_bytes: m.size_bytes,
		})
	}

	fn model_of_cid(cid_v1: &[u8]) -> Option<ModelId> {
		ModelIdByCid::<T>::get(BinaryCid::try_from(cid_v1.to_vec()).ok()?)
	}
}

impl<T: Config> ModelStatsRecorder<BalanceOf<T>> for Pallet<T> {
	fn record_usage(model_id: ModelId, uses: u64) -> DispatchResult {
		let usage_count = Models::<T>::try_mutate(model_id, |entry| {
			let model = entry.as_mut().ok_or(Error::<T>::ModelNotFound)?;
			model.usage_count = model.usage_count.checked_add(uses).ok_or(Error::<T>::Overflow)?;
			Ok::<_, Error<T>>(model.usage_count)
		})?;
		Self::deposit_event(Event::UsageRecorded { model_id, uses, usage_count });
		Ok(())
	}

	fn record_reward(model_id: ModelId, amount: BalanceOf<T>) -> DispatchResult {
		let total_rewards = Models::<T>::try_mutate(model_id, |entry| {
			let model = entry.as_mut().ok_or(Error::<T>::ModelNotFound)?;
			model.total_rewards = model.total_rewards.saturating_add(amount);
			Ok::<_, Error<T>>(model.total_rewards)
		})?;
		Self::deposit_event(Event::RewardRecorded { model_id, amount, total_rewards });
		Ok(())
	}
}
