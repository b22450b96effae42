//! The `do_*` functions the calls and the precompile use, and the pin bookkeeping they share.

use crate::*;

impl<T: Config> Pallet<T> {
	/// The account rewards are paid from and slashes go to.
	pub fn reward_pool_account() -> T::AccountId {
		T::RewardPoolPalletId::get().into_account_truncating()
	}

	/// Registers `who` as a pinner; the extrinsic and the precompile both call this.
	pub fn do_register_pinner(
		who: T::AccountId,
		bond: BalanceOf<T>,
		proof_key: T::ProofKey,
	) -> DispatchResult {
		ensure!(!Pinners::<T>::contains_key(&who), Error::<T>::AlreadyRegistered);
		ensure!(bond >= T::MinBond::get(), Error::<T>::BondTooLow);
		ensure!(!PinnerOfKey::<T>::contains_key(&proof_key), Error::<T>::ProofKeyInUse);
		T::Currency::hold(&HoldReason::PinnerBond.into(), &who, bond)?;
		Pinners::<T>::insert(&who, PinnerInfo { bond, proof_key: proof_key.clone(), pins: 0 });
		PinnerOfKey::<T>::insert(&proof_key, &who);
		Self::deposit_event(Event::PinnerRegistered { pinner: who, bond, proof_key });
		Ok(())
	}

	/// Records `who`'s pin of `cid`; returns the first era it is challenged in. The extrinsic
	/// and the precompile both call this.
	pub fn do_report_pin(
		who: T::AccountId,
		cid: &[u8],
		size: u64,
	) -> Result<EraIndex, DispatchError> {
		let mut info = Pinners::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
		let (binary, _) = Self::parse_cid(cid)?;
		let model_id = T::Registry::model_of_cid(&binary).ok_or(Error::<T>::ModelNotRegistered)?;
		let model = T::Registry::model(model_id).ok_or(Error::<T>::ModelNotRegistered)?;
		ensure!(model.active, Error::<T>::ModelInactive);
		ensure!(size > 0, Error::<T>::EmptyFile);
		ensure!(size == model.size_bytes, Error::<T>::SizeMismatch);
		ensure!(!Pins::<T>::contains_key(&who, &binary), Error::<T>::AlreadyPinned);
		ensure!(PinCount::<T>::get() < T::MaxPins::get(), Error::<T>::TooManyPins);
		ensure!(info.pins < T::MaxPinsPerPinner::get(), Error::<T>::TooManyPinsForPinner);
		PinnersOf::<T>::try_mutate(&binary, |pinners| pinners.try_push(who.clone()))
			.map_err(|_| Error::<T>::TooManyPinners)?;
		let since_era = CurrentEra::<T>::get().index.saturating_add(1);
		Pins::<T>::insert(
			&who,
			&binary,
			Pin { model_id, size, since_era, failures: 0, last_answer: None },
		);
		PinCount::<T>::mutate(|count| *count = count.saturating_add(1));
		info.pins = info.pins.saturating_add(1);
		Pinners::<T>::insert(&who, info);
		Self::deposit_event(Event::PinReported {
			pinner: who,
			cid: binary,
			model_id,
			size,
			since_era,
		});
		Ok(since_era)
	}

	/// Removes `who`'s pin of `cid`; the extrinsic and the precompile both call this.
	pub fn do_remove_pin(who: T::AccountId, cid: &[u8]) -> DispatchResult {
		let (binary, _) = Self::parse_cid(cid)?;
		ensure!(Pins::<T>::contains_key(&who, &binary), Error::<T>::NotPinned);
		Self::remove_pin_entry(&who, &binary);
		Self::deposit_event(Event::PinRemoved { pinner: who, cid: binary });
		Ok(())
	}

	/// Whether `pinner`'s latest proof for `cid` verified, and for which era; `None` when the
	/// pin does not exist or was never answered.
	pub fn verified(pinner: &T::AccountId, cid: &[u8]) -> Option<Answer> {
		let binary = BinaryCid::try_from(cid.to_vec()).ok()?;
		Pins::<T>::get(pinner, binary)?.last_answer
	}

	/// The binary CIDv1 of a textual CID that proofs can check (sha2-256, dag-pb or raw).
	pub fn parse_cid(text: &[u8]) -> Result<(BinaryCid, cid::Cid), Error<T>> {
		let parsed = cid::parse(text).map_err(|_| Error::<T>::InvalidCid)?;
		ensure!(parsed.is_storable(), Error::<T>::UnsupportedCid);
		let (bytes, len) = parsed.to_v1_bytes();
		Ok((BoundedVec::truncate_from(bytes[..len].to_vec()), parsed))
	}

	pub(crate) fn remove_pin_entry(pinner: &T::AccountId, cid: &BinaryCid) {
		if Pins::<T>::take(pinner, cid).is_none() {
			return;
		}
		PinnersOf::<T>::mutate_exists(cid, |entry| {
			if let Some(pinners) = entry {
				pinners.retain(|p| p != pinner);
				if pinners.is_empty() {
					*entry = None;
				}
			}
		});
		PinCount::<T>::mutate(|count| *count = count.saturating_sub(1));
		Pinners::<T>::mutate(pinner, |info| {
			if let Some(info) = info {
				info.pins = info.pins.saturating_sub(1);
			}
		});
	}
}
