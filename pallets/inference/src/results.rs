//! Results: the assigned provider's signed answer, settlement and the receipt.
//!
//! Settlement of a `Single` request: the held fees are released; the
//! compute fee goes to the provider; for an output, the price is paid to the model with the
//! access purchases' split (`ModelPayments`); for a deterministic failure, the price goes back
//! to the requester, who still gets an answer. A model removed while its request was pending
//! is not paid.

use crate::*;
use citrate_inference_primitives::{
	output::output_hash,
	tensor::{decode_with, Limits},
};
use codec::Encode;
use polkadot_sdk::{
	frame_support::traits::{fungible::Mutate as _, tokens::Preservation},
	sp_runtime::DispatchResult,
};

/// `InvalidTransaction::Custom` code of a result from a provider the request is not
/// assigned to.
pub const NOT_ASSIGNED: u8 = 1;

impl<T: Config> Pallet<T> {
	/// The pending request `request_id`, if `provider` is assigned to it and the deadline
	/// has not passed.
	pub(crate) fn assigned_request(
		request_id: RequestId,
		provider: &T::AccountId,
	) -> Result<InferenceRequest<T>, Error<T>> {
		let request = Requests::<T>::get(request_id).ok_or(Error::<T>::RequestNotFound)?;
		ensure!(request.providers.contains(provider), Error::<T>::NotAssigned);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now <= request.deadline, Error::<T>::TooLate);
		Ok(request)
	}

	/// The pending single-provider request (`Single`, or `Optimistic` without a proposed
	/// result yet) `result` answers.
	fn answered_request(result: &InferenceResult<T>) -> Result<InferenceRequest<T>, Error<T>> {
		let request = Self::assigned_request(result.request_id, &result.provider)?;
		ensure!(
			!matches!(request.terms.verification, Verification::Quorum { .. }),
			Error::<T>::QuorumRequest
		);
		ensure!(request.stage == Stage::Open, Error::<T>::AlreadyAnswered);
		Ok(request)
	}

	/// `citrate_inference_primitives::output::output_hash` of an output (`None` for a
	/// failure), checking that the output decodes within `MaxOutputLen`.
	pub(crate) fn hash_outcome(
		outcome: &Outcome<T::MaxOutputLen>,
	) -> Result<Option<[u8; 32]>, Error<T>> {
		let bytes = match outcome {
			Outcome::Output(bytes) => bytes,
			Outcome::Failed(_) => return Ok(None),
			Outcome::Stored(stored) => {
				// Canonical: the binary CIDv1 of storable content.
				let canonical = Self::storable_cid(&stored.cid)?;
				ensure!(canonical == stored.cid, Error::<T>::InvalidCid);
				return Ok(Some(stored.output_hash));
			}
		};
		let limits = Limits { max_bytes: T::MaxOutputLen::get() as usize, ..Limits::default() };
		let tensors = decode_with(bytes, &limits).map_err(|_| Error::<T>::MalformedOutput)?;
		Ok(Some(output_hash(&tensors).map_err(|_| Error::<T>::MalformedOutput)?))
	}

	/// Checks `signature` of `provider`'s key over `message`, within `MaxSignatureLen`.
	pub(crate) fn check_signature(
		provider: &T::AccountId,
		message: &impl Encode,
		signature: &<T::ProviderKey as RuntimeAppPublic>::Signature,
	) -> Result<(), InvalidTransaction> {
		let info = Providers::<T>::get(provider).ok_or(InvalidTransaction::BadSigner)?;
		let fits = signature.encoded_size() <= T::MaxSignatureLen::get() as usize;
		if !fits || !message.using_encoded(|encoded| info.key.verify(&encoded, signature)) {
			return Err(InvalidTransaction::BadProof);
		}
		Ok(())
	}

	/// Validity of a `submit_result`: the request is pending and assigned to the result's
	/// provider, the deadline has not passed, and the provider's key signed the result.
	pub(crate) fn authorize_result(
		_source: TransactionSource,
		result: &InferenceResult<T>,
		signature: &<T::ProviderKey as RuntimeAppPublic>::Signature,
	) -> TransactionValidityWithRefund {
		let request = Self::answered_request(result).map_err(Self::invalid)?;
		Self::check_signature(&result.provider, result, signature)?;
		Self::valid_until(request.deadline, ("InferenceResult", result.request_id))
	}

	/// Why a provider's transaction is invalid, for the pool.
	pub(crate) fn invalid(error: Error<T>) -> InvalidTransaction {
		match error {
			Error::<T>::RequestNotFound | Error::<T>::TooLate | Error::<T>::AlreadyAnswered => {
				InvalidTransaction::Stale
			}
			Error::<T>::NotAssigned => InvalidTransaction::Custom(NOT_ASSIGNED),
			_ => InvalidTransaction::Call,
		}
	}

	/// A provider's transaction, valid until `deadline`, providing `tag`.
	pub(crate) fn valid_until(
		deadline: BlockNumberFor<T>,
		tag: impl Encode,
	) -> TransactionValidityWithRefund {
		let left = deadline.saturating_sub(frame_system::Pallet::<T>::block_number());
		ValidTransaction::with_tag_prefix("Inference")
			.priority(T::UnsignedPriority::get())
			.and_provides(tag)
			.longevity(left.saturated_into::<u64>().max(1))
			.propagate(true)
			.build()
			.map(|validity| (validity, Weight::zero()))
	}

	/// Settles the request `result` answers and keeps its receipt, or, for an `Optimistic`
	/// request, proposes the result; see [`Pallet::submit_result`] and the module docs.
	pub fn do_submit_result(
		result: InferenceResult<T>,
		signature: <T::ProviderKey as RuntimeAppPublic>::Signature,
	) -> DispatchResult {
		let request = Self::answered_request(&result)?;
		if let Verification::Optimistic { window } = request.terms.verification {
			return Self::propose(result, signature, request, window);
		}
		let output_hash = Self::hash_outcome(&result.outcome)?;
		let signature = signature.encode().try_into().map_err(|_| Error::<T>::SignatureTooLong)?;
		let providers =
			BoundedVec::truncate_from(alloc::vec![(result.provider.clone(), signature)]);
		let paid = [result.provider.clone()];
		let (price_paid, compute_fee) = Self::settle(
			result.request_id,
			&request,
			result.outcome,
			output_hash,
			providers,
			&paid,
		)?;
		Self::deposit_event(Event::ResultSubmitted {
			request_id: result.request_id,
			provider: result.provider,
			output_hash,
			price_paid,
			compute_fee,
		});
		Ok(())
	}

	/// Settles `request` with its final `outcome`, signed by `providers`: releases the fees
	/// held, pays one compute fee to each of `paid` (at most the runs held for) and the model
	/// its price (for an output), gives the rest back to the requester, frees every assigned
	/// provider and keeps the receipt with its deposit. Returns the price paid and the compute
	/// fees paid.
	pub(crate) fn settle(
		request_id: RequestId,
		request: &InferenceRequest<T>,
		outcome: Outcome<T::MaxOutputLen>,
		output_hash: Option<[u8; 32]>,
		providers: Signers<T>,
		paid: &[T::AccountId],
	) -> Result<(BalanceOf<T>, BalanceOf<T>), DispatchError> {
		let requester = &request.requester;
		T::Currency::release(
			&HoldReason::RequestFees.into(),
			requester,
			request.held(),
			Precision::Exact,
		)?;
		let mut compute_fee = BalanceOf::<T>::zero();
		let runs = request.terms.verification.providers() as usize;
		if !request.compute_fee.is_zero() {
			for provider in paid.iter().take(runs) {
				T::Currency::transfer(
					requester,
					provider,
					request.compute_fee,
					Preservation::Preserve,
				)?;
				compute_fee.saturating_accrue(request.compute_fee);
			}
		}
		let pays_price = output_hash.is_some()
			&& !request.price.is_zero()
			&& T::Registry::model(request.model_id).is_some();
		let price_paid = if pays_price {
			T::Payments::pay_for_model(requester, request.model_id, request.price)?;
			request.price
		} else {
			Zero::zero()
		};

		Requests::<T>::remove(request_id);
		Self::free_providers(&request.providers);
		Self::callback_due(request_id, ResultKind::of(&outcome));
		Receipts::<T>::insert(
			request_id,
			Receipt {
				requester: request.requester.clone(),
				model_id: request.model_id,
				package_cid: request.package_cid.clone(),
				input_hash: request.input_hash,
				input_cid: match &request.input {
					RequestInput::Cid(cid) => Some(cid.clone()),
					RequestInput::Inline(_) => None,
				},
				output_hash,
				outcome,
				providers,
				verification: request.terms.verification,
				requested_at: request.submitted_at,
				answered_at: frame_system::Pallet::<T>::block_number(),
				price_paid,
				compute_fee,
				deposit: request.deposit,
			},
		);
		Ok((price_paid, compute_fee))
	}

	/// Removes `request_id`'s receipt for `who` (its requester, or anyone once it is older
	/// than `ReceiptRetention`) and returns its deposit; see [`Pallet::purge_receipt`].
	pub fn do_purge_receipt(who: T::AccountId, request_id: RequestId) -> DispatchResult {
		let receipt = Receipts::<T>::get(request_id).ok_or(Error::<T>::ReceiptNotFound)?;
		ensure!(!Callbacks::<T>::contains_key(request_id), Error::<T>::CallbackPending);
		let kept_until = receipt.answered_at.saturating_add(T::ReceiptRetention::get());
		ensure!(
			who == receipt.requester || frame_system::Pallet::<T>::block_number() > kept_until,
			Error::<T>::ReceiptRetained
		);
		Receipts::<T>::remove(request_id);
		let deposit = T::Currency::release(
			&HoldReason::ReceiptDeposit.into(),
			&receipt.requester,
			receipt.deposit,
			Precision::BestEffort,
		)
		.unwrap_or_default();
		Self::deposit_event(Event::ReceiptPurged { request_id, by: who, deposit });
		Ok(())
	}
}
