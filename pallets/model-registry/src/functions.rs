//! The registry's functions: the `do_*` functions the calls, other pallets and the precompile
//! call, and the checks and bookkeeping they share.

use crate::*;
use polkadot_sdk::{
	frame_support::{pallet_prelude::*, traits::tokens::Precision},
	sp_runtime::{traits::Saturating, DispatchResult},
};

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
		ensure!(core::str::from_utf8(&identifier).is_ok(), Error::<T>::LicenseIdNotUtf8);
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

	/// Transfers every stored version of `model_id`'s name from its owner `who` to
	/// `new_owner`; see [`Pallet::transfer_ownership`]. Returns how many versions moved.
	pub fn do_transfer_ownership(
		who: T::AccountId,
		model_id: ModelId,
		new_owner: T::AccountId,
	) -> Result<u32, DispatchError> {
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
		Ok(history.versions.len() as u32)
	}

	/// Deprecates `model_id` for its owner `who`; see [`Pallet::deprecate`].
	pub fn do_deprecate(who: T::AccountId, model_id: ModelId) -> DispatchResult {
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

	/// Removes the deprecated `model_id` for its owner `who`; see [`Pallet::remove_model`].
	/// Returns the weight the [`Config::OnModelRemoved`] hooks used.
	pub fn do_remove_model(who: T::AccountId, model_id: ModelId) -> Result<Weight, DispatchError> {
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
		let binary = binary_cid(&model.cid);
		if let Some(binary) = &binary {
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
		// Stored CIDs were validated on entry, so `binary` is always there.
		let cid_v1 = binary.map(|b| b.into_inner()).unwrap_or_default();
		Ok(T::OnModelRemoved::on_model_removed(model_id, &cid_v1))
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
		Self::check_metadata(&metadata)?;
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
		let name: BoundedVec<u8, T::MaxNameLength> =
			name.try_into().map_err(|_| Error::<T>::NameTooLong)?;
		ensure!(core::str::from_utf8(&name).is_ok(), Error::<T>::NameNotUtf8);
		Ok(name)
	}

	/// Validates a textual CID (parsable and storable) and checks its content is not
	/// registered yet.
	fn checked_cid(cid: Vec<u8>) -> Result<(TextCid<T>, BinaryCid), Error<T>> {
		let cid: BoundedVec<u8, T::MaxCidLength> =
			cid.try_into().map_err(|_| Error::<T>::CidTooLong)?;
		let parsed = cid::parse(&cid).map_err(|_| Error::<T>::InvalidCid)?;
		ensure!(parsed.is_storable(), Error::<T>::UnsupportedCid);
		let binary = binary_cid(&cid).ok_or(Error::<T>::InvalidCid)?;
		ensure!(!ModelIdByCid::<T>::contains_key(&binary), Error::<T>::CidAlreadyRegistered);
		Ok((cid, binary))
	}

	/// Text fields are UTF-8, tensor specs well formed, the tokenizer CID storable.
	fn check_metadata(metadata: &ModelMetadata) -> Result<(), Error<T>> {
		let utf8 = |bytes: &[u8]| core::str::from_utf8(bytes).is_ok();
		let text_ok = utf8(&metadata.description)
			&& utf8(&metadata.documentation)
			&& metadata.tags.iter().all(|tag| utf8(tag));
		ensure!(text_ok, Error::<T>::MetadataNotUtf8);
		let specs_ok =
			metadata.inputs.iter().chain(metadata.outputs.iter()).all(|s| s.check().is_ok());
		ensure!(specs_ok, Error::<T>::InvalidTensorSpec);
		if let Some(tokenizer) = &metadata.tokenizer_cid {
			let storable = cid::parse(tokenizer).is_ok_and(|cid| cid.is_storable());
			ensure!(storable, Error::<T>::InvalidTokenizerCid);
		}
		Ok(())
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
}
