//! Eras: challenges drawn from each era's seed, proofs checked against them, and the
//! settlement that pays proven pins and slashes failing ones.

use crate::*;

impl<T: Config> Pallet<T> {
	/// The byte offsets of `size`-byte file `cid` that `pinner` must prove in the era with
	/// `seed`: `blake2_256(seed ‖ pinner ‖ cid ‖ i) mod size` for `i` in `0..K`.
	pub fn challenge_offsets(
		seed: &[u8; 32],
		pinner: &T::AccountId,
		cid: &BinaryCid,
		size: u64,
	) -> Vec<u64> {
		(0..T::ChallengesPerPin::get())
			.map(|i| {
				let hash =
					(seed, pinner, cid, i).using_encoded(polkadot_sdk::sp_io::hashing::blake2_256);
				let mut word = [0u8; 8];
				word.copy_from_slice(&hash[..8]);
				// The modulo bias is below 2^-40 for files under 16 TiB.
				u64::from_le_bytes(word) % size.max(1)
			})
			.collect()
	}

	/// The pin a proof answers, if it is challenged now and not yet answered, with the era.
	pub(crate) fn challenged_pin(proof: &ProofOf<T>) -> Result<(Pin, EraInfo<T>), Error<T>> {
		let era = CurrentEra::<T>::get();
		ensure!(proof.era == era.index, Error::<T>::WrongEra);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(
			now <= era.start.saturating_add(T::ResponseWindow::get()),
			Error::<T>::ResponseTooLate
		);
		let pin = Pins::<T>::get(&proof.pinner, &proof.cid).ok_or(Error::<T>::NotPinned)?;
		ensure!(pin.since_era <= era.index, Error::<T>::NotChallenged);
		ensure!(
			pin.last_answer.is_none_or(|answer| answer.era != era.index),
			Error::<T>::AlreadyAnswered
		);
		Ok((pin, era))
	}

	/// Validity of a `submit_proof`: the pin is challenged and unanswered, the window is
	/// open, and the pinner's proof key signed the proof.
	pub(crate) fn authorize_proof(
		_source: TransactionSource,
		proof: &ProofOf<T>,
		signature: &<T::ProofKey as RuntimeAppPublic>::Signature,
	) -> TransactionValidityWithRefund {
		let (_, era) = Self::challenged_pin(proof).map_err(|error| match error {
			Error::<T>::WrongEra | Error::<T>::ResponseTooLate | Error::<T>::AlreadyAnswered => {
				InvalidTransaction::Stale
			}
			_ => InvalidTransaction::Custom(INVALID_PIN),
		})?;
		let info = Pinners::<T>::get(&proof.pinner).ok_or(InvalidTransaction::BadSigner)?;
		if !proof.using_encoded(|encoded| info.proof_key.verify(&encoded, signature)) {
			return Err(InvalidTransaction::BadProof.into());
		}
		let deadline = era.start.saturating_add(T::ResponseWindow::get());
		let left = deadline.saturating_sub(frame_system::Pallet::<T>::block_number());
		ValidTransaction::with_tag_prefix("PinProof")
			.priority(T::UnsignedPriority::get())
			.and_provides((&proof.pinner, &proof.cid, era.index))
			.longevity(left.saturated_into::<u64>().max(1))
			.propagate(true)
			.build()
			.map(|validity| (validity, Weight::zero()))
	}

	pub(crate) fn start_era(now: BlockNumberFor<T>, index: EraIndex) {
		let parent = frame_system::Pallet::<T>::parent_hash();
		let seed = (parent, index).using_encoded(polkadot_sdk::sp_io::hashing::blake2_256);
		CurrentEra::<T>::put(EraInfo { index, start: now, seed });
		Self::deposit_event(Event::EraStarted { era: index, seed });
	}

	/// Pays era `era`'s rewards to the proven pins and counts failures of the others.
	pub(crate) fn settle(era: EraIndex) {
		struct Entry<AccountId> {
			pinner: AccountId,
			cid: BinaryCid,
			pin: Pin,
			weight: u128,
		}
		let mut entries = Vec::new();
		for (cid, pinners) in PinnersOf::<T>::iter() {
			let challenged: Vec<_> = pinners
				.into_iter()
				.filter_map(|pinner| {
					let pin = Pins::<T>::get(&pinner, &cid)?;
					(pin.since_era <= era).then_some((pinner, pin))
				})
				.collect();
			let proven =
				challenged.iter().filter(|(_, pin)| Self::proven_in(pin, era)).count() as u32;
			for (pinner, pin) in challenged {
				let weight = if Self::proven_in(&pin, era) {
					Self::replica_weight(pin.size, proven)
				} else {
					0
				};
				entries.push(Entry { pinner, cid: cid.clone(), pin, weight });
			}
		}

		let pool = Self::reward_pool_account();
		let available =
			T::Currency::reducible_balance(&pool, Preservation::Preserve, Fortitude::Polite);
		let budget: u128 = T::RewardPerEra::get().min(available).saturated_into();
		let total: u128 = entries.iter().map(|entry| entry.weight).fold(0, u128::saturating_add);
		let (mut proven, mut failed, mut paid) = (0u32, 0u32, BalanceOf::<T>::zero());
		for Entry { pinner, cid, mut pin, weight } in entries {
			if Self::proven_in(&pin, era) {
				proven += 1;
				pin.failures = 0;
				Pins::<T>::insert(&pinner, &cid, pin);
				let share =
					multiply_by_rational_with_rounding(budget, weight, total, Rounding::Down)
						.unwrap_or(0)
						.saturated_into::<BalanceOf<T>>();
				if share.is_zero() {
					continue;
				}
				match T::Currency::transfer(&pool, &pinner, share, Preservation::Preserve) {
					Ok(_) => {
						paid = paid.saturating_add(share);
						Self::deposit_event(Event::RewardPaid { pinner, cid, era, amount: share });
					}
					Err(error) => log::warn!(target: LOG_TARGET, "reward not paid: {error:?}"),
				}
			} else {
				failed += 1;
				pin.failures = pin.failures.saturating_add(1);
				let failures = pin.failures;
				Self::deposit_event(Event::ChallengeFailed {
					pinner: pinner.clone(),
					cid: cid.clone(),
					era,
					failures,
				});
				if failures >= T::MaxFailures::get() {
					Self::slash(&pinner, &cid);
				} else {
					Pins::<T>::insert(&pinner, &cid, pin);
				}
			}
		}
		Self::deposit_event(Event::EraSettled { era, proven, failed, paid });
	}

	pub(crate) fn proven_in(pin: &Pin, era: EraIndex) -> bool {
		pin.last_answer == Some(Answer { era, valid: true })
	}

	/// Weight of one of `copies` proven copies of a `size`-byte file, in bytes × 10^9.
	pub(crate) fn replica_weight(size: u64, copies: u32) -> u128 {
		let full = u128::from(copies.min(T::TargetReplicas::get()));
		let extra = u128::from(copies.saturating_sub(T::TargetReplicas::get()));
		let parts = full * u128::from(Perbill::ACCURACY)
			+ extra * u128::from(T::ExtraReplicaShare::get().deconstruct());
		u128::from(size) * parts / u128::from(copies.max(1))
	}

	/// Takes `SlashFraction` of `pinner`'s bond into the reward pool and drops the pin.
	pub(crate) fn slash(pinner: &T::AccountId, cid: &BinaryCid) {
		Self::remove_pin_entry(pinner, cid);
		let Some(mut info) = Pinners::<T>::get(pinner) else { return };
		let amount = T::SlashFraction::get() * info.bond;
		let taken = T::Currency::transfer_on_hold(
			&HoldReason::PinnerBond.into(),
			pinner,
			&Self::reward_pool_account(),
			amount,
			Precision::BestEffort,
			Restriction::Free,
			Fortitude::Force,
		)
		.unwrap_or_else(|error| {
			log::warn!(target: LOG_TARGET, "slash failed: {error:?}");
			Zero::zero()
		});
		info.bond = info.bond.saturating_sub(taken);
		Pinners::<T>::insert(pinner, info);
		Self::deposit_event(Event::Slashed {
			pinner: pinner.clone(),
			cid: cid.clone(),
			amount: taken,
		});
	}
}
