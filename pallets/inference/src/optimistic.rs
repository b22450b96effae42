//! Optimistic verification: one provider's result is proposed, and final `window` blocks
//! later unless another provider disputes it.
//!
//! - **Propose** ([`Pallet::submit_result`] on an `Optimistic` request): the assigned
//!   provider's signed result is kept as the request's [`Proposal`] and the request's deadline
//!   moves to the end of the window. Nothing is paid yet.
//! - **Dispute** ([`Pallet::dispute_result`]) before the window closes: an active provider
//!   serving the model, other than the proposer, sends its own signed result, which must
//!   differ from the proposal under the model's [`Comparison`]. Up to `DisputeJurors` other
//!   free providers are drawn as jurors; the request becomes a quorum of them (commit then
//!   reveal, `k` = more than half of the jurors) with a new deadline.
//! - **Final**: undisputed, at the window's end the proposal settles as a `Single` result
//!   would. Disputed, the jurors' majority answer is final. The side it disagrees with (the
//!   proposer or the disputer; both when the jurors found a third answer) loses
//!   `SlashFraction` of its bond: `DisputeReward` of that to the honest side (the jurors when
//!   neither side was right), the rest to the agreeing jurors, who are paid for their runs this
//!   way and not by the requester. The requester's compute fee goes to the side whose result
//!   is final (the first agreeing juror when neither). Jurors who disagree or do not reveal are
//!   slashed as a quorum's are. Without a majority of jurors nothing is paid, everything held
//!   is refunded, silent jurors are slashed to the requester, and neither side is slashed.

use crate::*;
use alloc::collections::BTreeMap;
use polkadot_sdk::sp_runtime::DispatchResult;

/// An admissible dispute: the request, its proposal and the dispute's comparison key.
type Admissible<T> = (InferenceRequest<T>, Proposal<T>, [u8; 32]);

impl<T: Config> Pallet<T> {
	/// Keeps `result` as the proposal of the `Optimistic` request it answers, final `window`
	/// blocks from now.
	pub(crate) fn propose(
		result: InferenceResult<T>,
		signature: <T::ProviderKey as RuntimeAppPublic>::Signature,
		mut request: InferenceRequest<T>,
		window: u32,
	) -> DispatchResult {
		let output_hash = Self::hash_outcome(&result.outcome)?;
		let comparison_key = Self::comparison_key(&result.outcome, request.terms.comparison)?;
		let signature = signature.encode().try_into().map_err(|_| Error::<T>::SignatureTooLong)?;
		let now = frame_system::Pallet::<T>::block_number();
		let final_at = Self::schedule_expiry(result.request_id, now.saturating_add(window.into()))?;
		request.stage = Stage::Proposed;
		request.deadline = final_at;
		Requests::<T>::insert(result.request_id, request);
		Proposals::<T>::insert(
			result.request_id,
			Proposal {
				proposer: result.provider.clone(),
				result: Reveal { comparison_key, output_hash, outcome: result.outcome, signature },
				challenge: None,
			},
		);
		Self::deposit_event(Event::ResultProposed {
			request_id: result.request_id,
			provider: result.provider,
			output_hash,
			final_at,
		});
		Ok(())
	}

	/// Settles an undisputed proposal at the end of its window (`request` already taken out
	/// of `Requests`).
	pub(crate) fn finalize_proposal(request_id: RequestId, request: InferenceRequest<T>) {
		let Some(proposal) = Proposals::<T>::take(request_id) else {
			let refunded = Self::refund(request_id, &request);
			return Self::deposit_event(Event::RequestExpired { request_id, refunded });
		};
		let Reveal { output_hash, outcome, signature, .. } = proposal.result;
		let provider = proposal.proposer;
		let signers = BoundedVec::truncate_from(alloc::vec![(provider.clone(), signature)]);
		let paid = [provider.clone()];
		let settled = frame_support::storage::with_storage_layer(|| {
			Self::settle(request_id, &request, outcome, output_hash, signers, &paid)
		});
		match settled {
			Ok((price_paid, compute_fee)) => Self::deposit_event(Event::ResultFinalized {
				request_id,
				provider,
				output_hash,
				price_paid,
				compute_fee,
			}),
			Err(error) => {
				log::warn!(target: LOG_TARGET, "finalizing request {request_id}: {error:?}");
				let refunded = Self::refund(request_id, &request);
				Self::deposit_event(Event::RequestExpired { request_id, refunded });
			}
		}
	}

	/// The request `result` disputes, its proposal and the dispute's comparison key, if
	/// `result` may dispute it now.
	fn check_dispute(result: &InferenceResult<T>) -> Result<Admissible<T>, Error<T>> {
		let request = Requests::<T>::get(result.request_id).ok_or(Error::<T>::RequestNotFound)?;
		ensure!(
			matches!(request.terms.verification, Verification::Optimistic { .. }),
			Error::<T>::NotOptimistic
		);
		ensure!(frame_system::Pallet::<T>::block_number() <= request.deadline, Error::<T>::TooLate);
		match request.stage {
			Stage::Open => return Err(Error::<T>::NoProposal),
			Stage::Disputed { .. } => return Err(Error::<T>::AlreadyDisputed),
			Stage::Proposed => {}
		}
		let proposal = Proposals::<T>::get(result.request_id).ok_or(Error::<T>::NoProposal)?;
		ensure!(proposal.proposer != result.provider, Error::<T>::OwnResult);
		let info = Providers::<T>::get(&result.provider).ok_or(Error::<T>::NotRegistered)?;
		ensure!(info.status == ProviderStatus::Active, Error::<T>::NotActive);
		ensure!(
			ProvidersOf::<T>::get(request.model_id).contains(&result.provider),
			Error::<T>::NotServing
		);
		let key = Self::comparison_key(&result.outcome, request.terms.comparison)?;
		ensure!(key != proposal.result.comparison_key, Error::<T>::DisputeAgrees);
		Ok((request, proposal, key))
	}

	/// Validity of a `dispute_result`: the dispute is admissible and the disputing provider's
	/// key signed it. One dispute per request is taken.
	pub(crate) fn authorize_dispute(
		_source: TransactionSource,
		result: &InferenceResult<T>,
		signature: &<T::ProviderKey as RuntimeAppPublic>::Signature,
	) -> TransactionValidityWithRefund {
		let (request, ..) = Self::check_dispute(result).map_err(Self::invalid)?;
		Self::check_signature(&result.provider, result, signature)?;
		Self::valid_until(request.deadline, ("dispute", result.request_id))
	}

	/// Records the dispute and draws its jurors; see [`Pallet::dispute_result`].
	pub fn do_dispute_result(
		result: InferenceResult<T>,
		signature: <T::ProviderKey as RuntimeAppPublic>::Signature,
	) -> DispatchResult {
		let (mut request, mut proposal, comparison_key) = Self::check_dispute(&result)?;
		let output_hash = Self::hash_outcome(&result.outcome)?;
		let signature = signature.encode().try_into().map_err(|_| Error::<T>::SignatureTooLong)?;
		let request_id = result.request_id;
		let excluded = [&proposal.proposer, &result.provider];
		let (_, free) = Self::free_providers_of(request.model_id, &excluded);
		ensure!(!free.is_empty(), Error::<T>::NotEnoughProviders);
		let jurors = Self::draw(free, request_id, T::DisputeJurors::get() as usize)?;
		let k = u8::try_from(jurors.len() / 2 + 1).map_err(|_| Error::<T>::InvalidQuorum)?;
		let now = frame_system::Pallet::<T>::block_number();
		let deadline =
			Self::schedule_expiry(request_id, now.saturating_add(T::RequestTimeout::get()))?;

		Self::assign(&jurors, now);
		// The disputer stays slashable until the dispute is settled.
		Providers::<T>::mutate(&result.provider, |info| {
			if let Some(info) = info {
				info.assigned = info.assigned.saturating_add(1);
			}
		});
		request.providers = jurors.clone();
		request.stage = Stage::Disputed { k };
		request.commits_close = now.saturating_add(T::CommitWindow::get());
		request.deadline = deadline;
		Requests::<T>::insert(request_id, request);
		let reveal = Reveal { comparison_key, output_hash, outcome: result.outcome, signature };
		proposal.challenge = Some((result.provider.clone(), reveal));
		Proposals::<T>::insert(request_id, proposal);
		Self::deposit_event(Event::ResultDisputed {
			request_id,
			challenger: result.provider,
			output_hash,
			jurors: jurors.into_inner(),
			deadline,
		});
		Ok(())
	}

	/// Settles a dispute from its jurors' `votes`; `agreed` is the comparison key and the
	/// jurors of the majority answer, if there is one. See the module docs.
	pub(crate) fn settle_dispute(
		request_id: RequestId,
		request: InferenceRequest<T>,
		proposal: Proposal<T>,
		votes: &BTreeMap<T::AccountId, Vote<T>>,
		agreed: Option<([u8; 32], Vec<T::AccountId>)>,
	) {
		let Some((challenger, challenge)) = proposal.challenge else {
			// Only a disputed request is voted on.
			return;
		};
		let sides = [(proposal.proposer, proposal.result), (challenger, challenge)];
		let disputants = [sides[0].0.clone(), sides[1].0.clone()];
		Self::free_providers(&disputants);
		let Some((key, jurors)) = agreed else {
			return Self::fail_quorum(request_id, &request, votes);
		};
		let honest = sides.iter().find(|(_, reveal)| reveal.comparison_key == key);
		let final_reveal = match honest {
			Some((_, reveal)) => Some(reveal.clone()),
			None => votes.get(&jurors[0]).and_then(|vote| vote.reveal.clone()),
		};
		let Some(final_reveal) = final_reveal else { return };
		let signers = Self::signers(votes, &jurors, honest.map(|(who, reveal)| (who, reveal)));
		let honest_side: Vec<T::AccountId> = match honest {
			Some((who, _)) => alloc::vec![who.clone()],
			None => jurors.clone(),
		};
		let paid = [honest_side[0].clone()];
		let settled = Self::settle(
			request_id,
			&request,
			final_reveal.outcome,
			final_reveal.output_hash,
			signers.clone(),
			&paid,
		);
		let (price_paid, compute_fee) = settled.unwrap_or_else(|error| {
			log::warn!(target: LOG_TARGET, "settling dispute {request_id}: {error:?}");
			Default::default()
		});

		let reward = T::DisputeReward::get();
		let rest = Perbill::one().saturating_sub(reward);
		for (loser, _) in sides.iter().filter(|(_, reveal)| reveal.comparison_key != key) {
			Self::slash_shares(request_id, loser, &[(&honest_side, reward), (&jurors, rest)]);
		}
		for juror in request.providers.iter().filter(|p| !jurors.contains(*p)) {
			Self::slash(request_id, juror, &jurors);
		}
		Self::deposit_event(Event::DisputeSettled {
			request_id,
			upheld: sides[0].1.comparison_key == key,
			providers: signers.into_iter().map(|(who, _)| who).collect(),
			output_hash: final_reveal.output_hash,
			price_paid,
			compute_fee,
		});
	}
}
