//! The traits other pallets use this one through: access checks for inference, and the
//! registry's removal hook.

use crate::*;

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

impl<T: Config> OnModelRemoved for Pallet<T> {
	/// Retires every tier of the removed model, releasing the deposits.
	fn on_model_removed(model_id: ModelId, _cid_v1: &[u8]) -> Weight {
		let mut retired = 0u64;
		for (tier_id, tier) in Tiers::<T>::drain_prefix(model_id) {
			// Releasing what this pallet holds cannot fail short of a broken invariant; the
			// tier is gone either way, so log instead of stopping the removal.
			if let Err(error) = Self::release_tier_deposit(&tier) {
				log::error!(target: "runtime::model-access", "tier deposit not released: {error:?}");
			}
			Self::deposit_event(Event::TierRetired { model_id, tier_id });
			retired += 1;
		}
		TierCount::<T>::remove(model_id);
		// The drain's final read, then per tier what `retire_tier` does.
		T::DbWeight::get()
			.reads_writes(1, 1)
			.saturating_add(T::WeightInfo::retire_tier().saturating_mul(retired))
	}

	fn max_weight() -> Weight {
		T::DbWeight::get().reads_writes(1, 1).saturating_add(
			T::WeightInfo::retire_tier().saturating_mul(u64::from(T::MaxTiersPerModel::get())),
		)
	}
}

impl<T: Config> ModelPayments<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn pay_for_model(
		payer: &T::AccountId,
		model_id: ModelId,
		price: BalanceOf<T>,
	) -> Result<(BalanceOf<T>, BalanceOf<T>), DispatchError> {
		with_storage_layer(|| {
			let owner = T::Registry::model(model_id).ok_or(Error::<T>::ModelNotFound)?.owner;
			Self::pay_shares(payer, &owner, model_id, price)
		})
	}
}
