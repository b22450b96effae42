//! Quorum verification: `n` providers commit to their results, then reveal them; the result
//! `k` of them agree on is final, the others are slashed.
//!
//! - **Commit** ([`Pallet::commit_result`]) until every assigned provider committed or
//!   `CommitWindow` blocks passed: `blake2_256(SCALE((outcome, provider, salt)))`, signed by
//!   the provider key. A provider cannot copy another's commitment (it names the provider)
//!   nor learn another's result from it.
//! - **Reveal** ([`Pallet::reveal_result`]) once commits are closed and before the deadline:
//!   the result and salt must give the commitment. Results are compared by the model's
//!   [`Comparison`]: the output hash, or the hash of outputs rounded to the shared
//!   quantisation grid; every deterministic failure counts as the same answer.
//! - **Settlement**, when every provider that committed has revealed (after commits closed),
//!   else at the deadline: the answer of at least `k` providers is final (`k` is more than
//!   half of `n`, so there is at most one). Its providers get one compute fee each and the
//!   receipt lists them with their signatures; the model is paid its price for an output.
//!   Every other assigned provider — revealed something else, revealed nothing, committed
//!   nothing — loses `SlashFraction` of its bond to the providers whose answer is final and
//!   its compute fee goes back to the requester. Without `k` in agreement nothing is paid,
//!   everything held is refunded and only the providers that did not reveal are slashed (to
//!   the requester): disagreement alone does not say who is wrong.
//!
//! A provider whose bond falls below `MinBond` is paused and takes no new work.

use crate::*;
use alloc::collections::BTreeMap;
use citrate_inference_primitives::{
	output::{output_hash, quantize_outputs, Quantization},
	tensor::{decode_with, Limits},
};
use codec::Encode;
use polkadot_sdk::{
	frame_support::traits::tokens::{Fortitude, Restriction},
	sp_io::hashing::blake2_256,
	sp_runtime::DispatchResult,
};

/// The comparison key every deterministic failure shares.
const FAILURE_KEY: &[u8] = b"citrate::inference::failed";

impl<T: Config> Pallet<T> {
	/// Sets `model_id`'s terms for its owner `who`; see [`Pallet::set_terms`].
	pub fn do_set_terms(
		who: T::AccountId,
		model_id: ModelId,
		verification: Verification,
		comparison: Comparison,
	) -> DispatchResult {
		let model = T::Registry::model(model_id).ok_or(Error::<T>::ModelNotFound)?;
		ensure!(model.owner == who, Error::<T>::NotModelOwner);
		if let Verification::Quorum { n, k } = verification {
			let (n, k) = (u32::from(n), u32::from(k));
			ensure!(n > 1 && n <= T::MaxQuorum::get(), Error::<T>::InvalidQuorum);
			ensure!(k > n / 2 && k <= n, Error::<T>::InvalidQuorum);
		}
		if let Verification::Optimistic { window } = verification {
			ensure!(
				window >= 1 && window <= T::MaxChallengeWindow::get(),
				Error::<T>::InvalidWindow
			);
		}
		if let Comparison::Quantized { fraction_bits } = comparison {
			ensure!(Quantization::new(fraction_bits).is_some(), Error::<T>::InvalidQuorum);
		}
		let terms = ModelTerms { verification, comparison };
		if terms == ModelTerms::default() {
			Terms::<T>::remove(model_id);
		} else {
			Terms::<T>::insert(model_id, terms);
		}
		Self::deposit_event(Event::TermsSet { model_id, verification, comparison });
		Ok(())
	}

	/// The pending request `request_id` that `provider` votes on (as one of a quorum, or a
	/// dispute's juror).
	fn quorum_request(
		request_id: RequestId,
		provider: &T::AccountId,
	) -> Result<InferenceRequest<T>, Error<T>> {
		let request = Self::assigned_request(request_id, provider)?;
		ensure!(request.quorum().is_some(), Error::<T>::NotQuorumRequest);
		Ok(request)
	}

	/// Whether `request` takes no more commitments: every provider committed, or the window
	/// closed.
	fn commits_closed(request_id: RequestId, request: &InferenceRequest<T>) -> bool {
		frame_system::Pallet::<T>::block_number() > request.commits_close
			|| Votes::<T>::iter_prefix(request_id).count() >= request.providers.len()
	}

	fn check_commit(commitment: &ResultCommitment<T>) -> Result<InferenceRequest<T>, Error<T>> {
		let request = Self::quorum_request(commitment.request_id, &commitment.provider)?;
		ensure!(
			!Votes::<T>::contains_key(commitment.request_id, &commitment.provider),
			Error::<T>::AlreadyCommitted
		);
		ensure!(
			frame_system::Pallet::<T>::block_number() <= request.commits_close,
			Error::<T>::CommitsClosed
		);
		Ok(request)
	}

	/// Validity of a `commit_result`.
	pub(crate) fn authorize_commit(
		_source: TransactionSource,
		commitment: &ResultCommitment<T>,
		signature: &<T::ProviderKey as RuntimeAppPublic>::Signature,
	) -> TransactionValidityWithRefund {
		let request = Self::check_commit(commitment).map_err(Self::invalid)?;
		Self::check_signature(&commitment.provider, commitment, signature)?;
		let tag = ("commit", commitment.request_id, &commitment.provider);
		Self::valid_until(request.commits_close, tag)
	}

	/// Records a quorum provider's commitment; see [`Pallet::commit_result`].
	pub fn do_commit_result(commitment: ResultCommitment<T>) -> DispatchResult {
		Self::check_commit(&commitment)?;
		Votes::<T>::insert(
			commitment.request_id,
			&commitment.provider,
			Vote { commitment: commitment.commitment, reveal: None },
		);
		Self::deposit_event(Event::ResultCommitted {
			request_id: commitment.request_id,
			provider: commitment.provider,
		});
		Ok(())
	}

	fn check_reveal(
		result: &InferenceResult<T>,
		salt: &[u8; 32],
	) -> Result<(InferenceRequest<T>, Vote<T>), Error<T>> {
		let request = Self::quorum_request(result.request_id, &result.provider)?;
		let vote =
			Votes::<T>::get(result.request_id, &result.provider).ok_or(Error::<T>::NotCommitted)?;
		ensure!(vote.reveal.is_none(), Error::<T>::AlreadyRevealed);
		ensure!(Self::commits_closed(result.request_id, &request), Error::<T>::CommitsOpen);
		ensure!(
			commitment_of(&result.outcome, &result.provider, salt) == vote.commitment,
			Error::<T>::RevealMismatch
		);
		Ok((request, vote))
	}

	/// Validity of a `reveal_result`.
	pub(crate) fn authorize_reveal(
		_source: TransactionSource,
		result: &InferenceResult<T>,
		salt: &[u8; 32],
		signature: &<T::ProviderKey as RuntimeAppPublic>::Signature,
	) -> TransactionValidityWithRefund {
		let (request, _) = Self::check_reveal(result, salt).map_err(Self::invalid)?;
		Self::check_signature(&result.provider, result, signature)?;
		Self::valid_until(request.deadline, ("reveal", result.request_id, &result.provider))
	}

	/// Records a revealed result, and settles the request once every provider that committed
	/// has revealed; see [`Pallet::reveal_result`]. Returns the votes counted.
	pub fn do_reveal_result(
		result: InferenceResult<T>,
		salt: [u8; 32],
		signature: <T::ProviderKey as RuntimeAppPublic>::Signature,
	) -> Result<u32, DispatchError> {
		let (request, mut vote) = Self::check_reveal(&result, &salt)?;
		let output_hash = Self::hash_outcome(&result.outcome)?;
		let comparison_key = Self::comparison_key(&result.outcome, request.terms.comparison)?;
		let signature = signature.encode().try_into().map_err(|_| Error::<T>::SignatureTooLong)?;
		vote.reveal =
			Some(Reveal { comparison_key, output_hash, outcome: result.outcome, signature });
		Votes::<T>::insert(result.request_id, &result.provider, vote);
		Self::deposit_event(Event::ResultRevealed {
			request_id: result.request_id,
			provider: result.provider,
			output_hash,
		});
		let votes: Vec<Vote<T>> = Votes::<T>::iter_prefix_values(result.request_id).collect();
		if votes.iter().all(|vote| vote.reveal.is_some()) {
			Requests::<T>::remove(result.request_id);
			Self::settle_quorum(result.request_id, request);
		}
		Ok(votes.len() as u32)
	}

	/// What results are compared by under `comparison`.
	pub fn comparison_key(
		outcome: &Outcome<T::MaxOutputLen>,
		comparison: Comparison,
	) -> Result<[u8; 32], Error<T>> {
		let bytes = match outcome {
			Outcome::Output(bytes) => bytes,
			Outcome::Failed(_) => return Ok(blake2_256(FAILURE_KEY)),
			Outcome::Stored(stored) => {
				return match comparison {
					Comparison::ExactHash => Ok(stored.output_hash),
					Comparison::Quantized { .. } => {
						stored.quantized_hash.ok_or(Error::<T>::MalformedOutput)
					}
				}
			}
		};
		let limits = Limits { max_bytes: T::MaxOutputLen::get() as usize, ..Limits::default() };
		let tensors = decode_with(bytes, &limits).map_err(|_| Error::<T>::MalformedOutput)?;
		let tensors = match comparison {
			Comparison::ExactHash => tensors,
			Comparison::Quantized { fraction_bits } => {
				let grid = Quantization::new(fraction_bits).ok_or(Error::<T>::MalformedOutput)?;
				quantize_outputs(&tensors, grid)
			}
		};
		output_hash(&tensors).map_err(|_| Error::<T>::MalformedOutput)
	}

	/// Counts the votes on `request` (already taken out of `Requests`), pays, slashes and
	/// keeps the receipt; see the module docs. The votes of a dispute's jurors settle the
	/// dispute (`optimistic.rs`).
	pub(crate) fn settle_quorum(request_id: RequestId, request: InferenceRequest<T>) {
		let Some(k) = request.quorum() else { return };
		let votes: BTreeMap<T::AccountId, Vote<T>> = Votes::<T>::drain_prefix(request_id).collect();
		let mut groups: BTreeMap<[u8; 32], Vec<T::AccountId>> = BTreeMap::new();
		for (provider, vote) in votes.iter() {
			if let Some(reveal) = &vote.reveal {
				groups.entry(reveal.comparison_key).or_default().push(provider.clone());
			}
		}
		let agreed = groups.into_iter().find(|(_, members)| members.len() >= usize::from(k));
		if let Some(proposal) = Proposals::<T>::take(request_id) {
			return Self::settle_dispute(request_id, request, proposal, &votes, agreed);
		}
		let Some((_, winners)) = agreed else {
			return Self::fail_quorum(request_id, &request, &votes);
		};
		let Some(reveal) = votes.get(&winners[0]).and_then(|vote| vote.reveal.clone()) else {
			return;
		};
		let providers = Self::signers(&votes, &winners, None);
		let paid = Self::settle(
			request_id,
			&request,
			reveal.outcome,
			reveal.output_hash,
			providers,
			&winners,
		);
		let (price_paid, compute_fee) = paid.unwrap_or_else(|error| {
			log::warn!(target: LOG_TARGET, "settling request {request_id}: {error:?}");
			Default::default()
		});
		for provider in request.providers.iter().filter(|p| !winners.contains(*p)) {
			Self::slash(request_id, provider, &winners);
		}
		Self::deposit_event(Event::QuorumReached {
			request_id,
			providers: winners,
			output_hash: reveal.output_hash,
			price_paid,
			compute_fee,
		});
	}

	/// Ends a vote without `k` in agreement: nothing is paid, everything held is refunded and
	/// the providers that did not reveal are slashed to the requester.
	pub(crate) fn fail_quorum(
		request_id: RequestId,
		request: &InferenceRequest<T>,
		votes: &BTreeMap<T::AccountId, Vote<T>>,
	) {
		let refunded = Self::refund(request_id, request);
		let silent = request
			.providers
			.iter()
			.filter(|provider| votes.get(*provider).is_none_or(|vote| vote.reveal.is_none()));
		for provider in silent {
			Self::slash(request_id, provider, core::slice::from_ref(&request.requester));
		}
		Self::deposit_event(Event::NoQuorum { request_id, refunded });
	}

	/// The receipt's signers: `first` (an optimistic dispute's honest side), then each of
	/// `voters` with the signature of its revealed result.
	pub(crate) fn signers(
		votes: &BTreeMap<T::AccountId, Vote<T>>,
		voters: &[T::AccountId],
		first: Option<(&T::AccountId, &Reveal<T>)>,
	) -> Signers<T> {
		let first = first.map(|(provider, reveal)| (provider.clone(), reveal.signature.clone()));
		let signed = voters.iter().filter_map(|provider| {
			let reveal = votes.get(provider)?.reveal.as_ref()?;
			Some((provider.clone(), reveal.signature.clone()))
		});
		BoundedVec::truncate_from(first.into_iter().chain(signed).collect::<Vec<_>>())
	}

	/// Moves `SlashFraction` of `provider`'s bond to `to`, in equal parts; see
	/// [`Self::slash_shares`].
	pub(crate) fn slash(request_id: RequestId, provider: &T::AccountId, to: &[T::AccountId]) {
		Self::slash_shares(request_id, provider, &[(to, Perbill::one())]);
	}

	/// Moves `SlashFraction` of `provider`'s bond: each `(receivers, share)` part gets
	/// `share` of it (the last part what is left), in equal parts among its receivers (the
	/// first gets what does not divide). Pauses the provider if its bond falls below
	/// `MinBond`.
	pub(crate) fn slash_shares(
		request_id: RequestId,
		provider: &T::AccountId,
		parts: &[(&[T::AccountId], Perbill)],
	) {
		let Some(mut info) = Providers::<T>::get(provider) else { return };
		let amount = T::SlashFraction::get() * info.bond;
		let mut left = amount;
		let mut taken = BalanceOf::<T>::zero();
		for (index, (receivers, share)) in parts.iter().enumerate() {
			let part = if index + 1 == parts.len() { left } else { *share * amount };
			left = left.saturating_sub(part);
			taken.saturating_accrue(Self::pay_from_bond(provider, receivers, part));
		}
		info.bond = info.bond.saturating_sub(taken);
		if info.bond < T::MinBond::get() && info.status == ProviderStatus::Active {
			info.status = ProviderStatus::Paused;
		}
		Providers::<T>::insert(provider, info);
		Self::deposit_event(Event::ProviderSlashed {
			request_id,
			provider: provider.clone(),
			amount: taken,
		});
	}

	/// Pays `amount` of `provider`'s bond to `to` in equal parts (the first gets what does not
	/// divide); returns what was moved.
	fn pay_from_bond(
		provider: &T::AccountId,
		to: &[T::AccountId],
		amount: BalanceOf<T>,
	) -> BalanceOf<T> {
		let parts: BalanceOf<T> = (to.len() as u32).max(1).into();
		let share = amount / parts;
		let mut taken = BalanceOf::<T>::zero();
		for (index, receiver) in to.iter().enumerate() {
			let rest = share.saturating_mul(parts.saturating_sub(1u32.into()));
			let part = if index == 0 { amount.saturating_sub(rest) } else { share };
			let moved = T::Currency::transfer_on_hold(
				&HoldReason::ProviderBond.into(),
				provider,
				receiver,
				part,
				Precision::BestEffort,
				Restriction::Free,
				Fortitude::Force,
			);
			taken.saturating_accrue(moved.unwrap_or_else(|error| {
				log::warn!(target: LOG_TARGET, "slash failed: {error:?}");
				Zero::zero()
			}));
		}
		taken
	}
}
