//! The `do_*` functions the calls, the precompile and other pallets use.

use crate::*;

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

	pub(crate) fn owned_model(
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
		ensure!(!price.is_zero(), Error::<T>::ZeroPrice);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now.checked_add(&duration).is_some(), Error::<T>::DurationTooLong);

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
		Self::release_tier_deposit(&tier)?;
		TierCount::<T>::mutate_exists(model_id, |count| {
			let left = count.unwrap_or_default().saturating_sub(1);
			*count = (left > 0).then_some(left);
		});
		Self::deposit_event(Event::TierRetired { model_id, tier_id });
		Ok(())
	}

	pub(crate) fn release_tier_deposit(tier: &AccessTier<T>) -> DispatchResult {
		T::Currency::release(
			&HoldReason::TierDeposit.into(),
			&tier.depositor,
			tier.deposit,
			Precision::BestEffort,
		)
		.map(|_| ())
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
	) -> Result<Purchase<T>, DispatchError> {
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

		let (owner_share, treasury_share) = with_storage_layer(|| {
			let shares = Self::pay_shares(payer, &owner, model_id, tier.price)?;
			Access::<T>::insert(model_id, buyer, grant.clone());
			Ok::<_, DispatchError>(shares)
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
		Ok(Purchase { grant, owner_share, treasury_share })
	}

	/// `payer` buys tier `tier_id` of `model_id` for `buyer` with exactly `paid`, the value a
	/// precompile call carried: refused with `PaymentNotPrice` unless it is the tier's price.
	pub fn do_purchase_paid(
		payer: &T::AccountId,
		buyer: &T::AccountId,
		model_id: ModelId,
		tier_id: TierId,
		paid: BalanceOf<T>,
	) -> Result<Purchase<T>, DispatchError> {
		if let Some(tier) = Tiers::<T>::get(model_id, tier_id) {
			ensure!(tier.price == paid, Error::<T>::PaymentNotPrice);
		}
		Self::do_purchase_access(payer, buyer, model_id, tier_id, paid)
	}

	/// Whether `who` needs no grant: the owner, or anyone for an open-source model without
	/// tiers for sale. `None` when the model does not exist.
	pub(crate) fn free_for(who: &T::AccountId, model_id: ModelId) -> Option<bool> {
		let model = T::Registry::model(model_id)?;
		Some(
			&model.owner == who
				|| (model.license_kind == LicenseKind::OpenSource
					&& TierCount::<T>::get(model_id) == 0),
		)
	}

	/// Pays `price` for `model_id` from `payer`: `OwnerShare` to `owner` (recorded as the
	/// model's reward), the rest to the treasury. Callers run it in a storage layer.
	pub(crate) fn pay_shares(
		payer: &T::AccountId,
		owner: &T::AccountId,
		model_id: ModelId,
		price: BalanceOf<T>,
	) -> Result<(BalanceOf<T>, BalanceOf<T>), DispatchError> {
		let (owner_share, treasury_share) = Self::split(price);
		for (to, amount) in [(owner, owner_share), (&Self::treasury_account(), treasury_share)] {
			if !amount.is_zero() {
				T::Currency::transfer(payer, to, amount, Preservation::Preserve)?;
			}
		}
		T::Registry::record_reward(model_id, owner_share)?;
		Ok((owner_share, treasury_share))
	}
}
