//! The provider `do_*` functions the calls (and later the precompile) use.

use crate::*;
use polkadot_sdk::sp_runtime::DispatchResult;

impl<T: Config> Pallet<T> {
	/// Registers `who` as a provider; see [`Pallet::register_provider`].
	pub fn do_register_provider(
		who: T::AccountId,
		bond: BalanceOf<T>,
		key: T::ProviderKey,
		hardware: HardwareClass,
		capacity: u32,
	) -> DispatchResult {
		ensure!(!Providers::<T>::contains_key(&who), Error::<T>::AlreadyRegistered);
		ensure!(bond >= T::MinBond::get(), Error::<T>::BondTooLow);
		ensure!(!ProviderOfKey::<T>::contains_key(&key), Error::<T>::KeyInUse);
		Self::check_capacity(capacity)?;
		T::Currency::hold(&HoldReason::ProviderBond.into(), &who, bond)?;
		let info = ProviderInfo::<T> {
			bond,
			key: key.clone(),
			hardware,
			capacity,
			status: ProviderStatus::Active,
			models: Default::default(),
			assigned: 0,
			taken: Default::default(),
		};
		Providers::<T>::insert(&who, info);
		ProviderOfKey::<T>::insert(&key, &who);
		Self::deposit_event(Event::ProviderRegistered {
			provider: who,
			bond,
			key,
			hardware,
			capacity,
		});
		Ok(())
	}

	/// Holds `amount` more of `who`'s funds as its bond; see [`Pallet::bond_extra`].
	pub fn do_bond_extra(who: T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		let bond = Self::mutate_staying(&who, |info| {
			T::Currency::hold(&HoldReason::ProviderBond.into(), &who, amount)
				.map_err(|_| Error::<T>::InsufficientFunds)?;
			info.bond = info.bond.saturating_add(amount);
			Ok(info.bond)
		})?;
		Self::deposit_event(Event::ProviderBonded { provider: who, amount, bond });
		Ok(())
	}

	/// Changes `who`'s hardware class and capacity; see [`Pallet::update_provider`].
	pub fn do_update_provider(
		who: T::AccountId,
		hardware: HardwareClass,
		capacity: u32,
	) -> DispatchResult {
		Self::check_capacity(capacity)?;
		Self::mutate_staying(&who, |info| {
			info.hardware = hardware;
			info.capacity = capacity;
			Ok(())
		})?;
		Self::deposit_event(Event::ProviderUpdated { provider: who, hardware, capacity });
		Ok(())
	}

	/// Makes `key` `who`'s signing key; see [`Pallet::set_provider_key`].
	pub fn do_set_provider_key(who: T::AccountId, key: T::ProviderKey) -> DispatchResult {
		ensure!(!ProviderOfKey::<T>::contains_key(&key), Error::<T>::KeyInUse);
		let old =
			Self::mutate_staying(&who, |info| Ok(core::mem::replace(&mut info.key, key.clone())))?;
		ProviderOfKey::<T>::remove(&old);
		ProviderOfKey::<T>::insert(&key, &who);
		Self::deposit_event(Event::ProviderKeyChanged { provider: who, key });
		Ok(())
	}

	/// `who` serves `model_id` from now on; see [`Pallet::serve_model`].
	pub fn do_serve_model(who: T::AccountId, model_id: ModelId) -> DispatchResult {
		let model = T::Registry::model(model_id).ok_or(Error::<T>::ModelNotFound)?;
		ensure!(model.active, Error::<T>::ModelInactive);
		let mut providers = ProvidersOf::<T>::get(model_id);
		Self::mutate_staying(&who, |info| {
			ensure!(!info.models.contains(&model_id), Error::<T>::AlreadyServing);
			info.models.try_push(model_id).map_err(|_| Error::<T>::TooManyModels)?;
			providers.try_push(who.clone()).map_err(|_| Error::<T>::TooManyProviders)?;
			Ok(())
		})?;
		ProvidersOf::<T>::insert(model_id, providers);
		Self::deposit_event(Event::ModelServed { provider: who, model_id });
		Ok(())
	}

	/// `who` stops serving `model_id`; see [`Pallet::stop_serving`].
	pub fn do_stop_serving(who: T::AccountId, model_id: ModelId) -> DispatchResult {
		Self::mutate_staying(&who, |info| {
			ensure!(info.models.contains(&model_id), Error::<T>::NotServing);
			info.models.retain(|id| *id != model_id);
			Ok(())
		})?;
		Self::remove_from_model(&who, model_id);
		Self::deposit_event(Event::ModelDropped { provider: who, model_id });
		Ok(())
	}

	/// `who` takes no new work; see [`Pallet::pause`].
	pub fn do_pause(who: T::AccountId) -> DispatchResult {
		Self::mutate_staying(&who, |info| {
			ensure!(info.status == ProviderStatus::Active, Error::<T>::NotActive);
			info.status = ProviderStatus::Paused;
			Ok(())
		})?;
		Self::deposit_event(Event::ProviderPaused { provider: who });
		Ok(())
	}

	/// The paused `who` takes work again; see [`Pallet::resume`].
	pub fn do_resume(who: T::AccountId) -> DispatchResult {
		Self::mutate_staying(&who, |info| {
			ensure!(info.status == ProviderStatus::Paused, Error::<T>::NotPaused);
			// A provider slashed below the least bond stays paused.
			ensure!(info.bond >= T::MinBond::get(), Error::<T>::BondTooLow);
			info.status = ProviderStatus::Active;
			Ok(())
		})?;
		Self::deposit_event(Event::ProviderResumed { provider: who });
		Ok(())
	}

	/// `who` starts leaving; see [`Pallet::leave`]. Returns how many models it stopped
	/// serving.
	pub fn do_leave(who: T::AccountId) -> Result<u32, DispatchError> {
		let unlocks_at =
			frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingDelay::get());
		let models = Self::mutate_staying(&who, |info| {
			info.status = ProviderStatus::Leaving { unlocks_at };
			Ok(core::mem::take(&mut info.models))
		})?;
		for model_id in models.iter() {
			Self::remove_from_model(&who, *model_id);
		}
		Self::deposit_event(Event::ProviderLeaving { provider: who, unlocks_at });
		Ok(models.len() as u32)
	}

	/// Releases the leaving `who`'s bond; see [`Pallet::withdraw_bond`].
	pub fn do_withdraw_bond(who: T::AccountId) -> DispatchResult {
		let info = Providers::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
		let ProviderStatus::Leaving { unlocks_at } = info.status else {
			return Err(Error::<T>::NotLeaving.into());
		};
		ensure!(
			frame_system::Pallet::<T>::block_number() >= unlocks_at,
			Error::<T>::StillUnbonding
		);
		ensure!(info.assigned == 0, Error::<T>::WorkAssigned);
		T::Currency::release(
			&HoldReason::ProviderBond.into(),
			&who,
			info.bond,
			Precision::BestEffort,
		)?;
		Providers::<T>::remove(&who);
		ProviderOfKey::<T>::remove(&info.key);
		Self::deposit_event(Event::ProviderLeft { provider: who, bond: info.bond });
		Ok(())
	}

	fn check_capacity(capacity: u32) -> Result<(), Error<T>> {
		ensure!(capacity > 0, Error::<T>::ZeroCapacity);
		ensure!(capacity <= T::MaxCapacity::get(), Error::<T>::CapacityTooHigh);
		Ok(())
	}

	/// Changes a registered provider that is not leaving; nothing is written when `change`
	/// fails.
	fn mutate_staying<R>(
		who: &T::AccountId,
		change: impl FnOnce(&mut ProviderInfo<T>) -> Result<R, Error<T>>,
	) -> Result<R, Error<T>> {
		Providers::<T>::try_mutate(who, |entry| {
			let info = entry.as_mut().ok_or(Error::<T>::NotRegistered)?;
			ensure!(!matches!(info.status, ProviderStatus::Leaving { .. }), Error::<T>::Leaving);
			change(info)
		})
	}

	pub(crate) fn remove_from_model(who: &T::AccountId, model_id: ModelId) {
		ProvidersOf::<T>::mutate_exists(model_id, |entry| {
			if let Some(providers) = entry {
				providers.retain(|p| p != who);
				if providers.is_empty() {
					*entry = None;
				}
			}
		});
	}
}
