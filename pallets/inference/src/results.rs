//! Results: the assigned provider's signed answer, settlement and the receipt.
//!
//! Settlement of a `Single` request (the only tier so far): the held fees are released; the
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
	/// The pending request `result` answers, if its provider is the assigned one and the
	/// deadline has not passed.
	fn answered_request(result: &InferenceResult<T>) -> Result<InferenceRequest<T>, Error<T>> {
		let request = Requests::<T>::get(result.request_id).ok_or(Error::<T>::RequestNotFound)?;
		ensure!(request.provider == result.provider, Error::<T>::NotAssigned);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now <= request.deadline, Error::<T>::TooLate);
		Ok(request)
	}

	/// Validity of a `submit_result`: the request is pending and assigned to the result's
	/// provider, the deadline has not passed, and the provider's key signed the result.
	pub(crate) fn authorize_result(
		_source: TransactionSource,
		result: &InferenceResult<T>,
		signature: &<T::ProviderKey as RuntimeAppPublic>::Signature,
	) -> TransactionValidityWithRefund {
		let request = Self::answered_request(result).map_err(|error| match error {
			Error::<T>::RequestNotFound | Error::<T>::TooLate => InvalidTransaction::Stale,
			_ => InvalidTransaction::Custom(NOT_ASSIGNED),
		})?;
		let info = Providers::<T>::get(&result.provider).ok_or(InvalidTransaction::BadSigner)?;
		let fits = signature.encoded_size() <= T::MaxSignatureLen::get() as usize;
		if !fits || !result.using_encoded(|encoded| info.key.verify(&encoded, signature)) {
			return Err(InvalidTransaction::BadProof.into());
		}
		let left = request.deadline.saturating_sub(frame_system::Pallet::<T>::block_number());
		ValidTransaction::with_tag_prefix("InferenceResult")
			.priority(T::UnsignedPriority::get())
			.and_provides(result.request_id)
			.longevity(left.saturated_into::<u64>().max(1))
			.propagate(true)
			.build()
			.map(|validity| (validity, Weight::zero()))
	}

	/// Settles the request `result` answers and keeps its receipt; see
	/// [`Pallet::submit_result`] and the module docs.
	pub fn do_submit_result(
		result: InferenceResult<T>,
		signature: <T::ProviderKey as RuntimeAppPublic>::Signature,
	) -> DispatchResult {
		let request = Self::answered_request(&result)?;
		let output_hash = match &result.outcome {
			Outcome::Output(bytes) => {
				let limits =
					Limits { max_bytes: T::MaxOutputLen::get() as usize, ..Limits::default() };
				let tensors =
					decode_with(bytes, &limits).map_err(|_| Error::<T>::MalformedOutput)?;
				Some(output_hash(&tensors).map_err(|_| Error::<T>::MalformedOutput)?)
			}
			Outcome::Failed(_) => None,
		};
		let signature = signature.encode().try_into().map_err(|_| Error::<T>::SignatureTooLong)?;

		let requester = &request.requester;
		let held = request.price.saturating_add(request.compute_fee);
		T::Currency::release(&HoldReason::RequestFees.into(), requester, held, Precision::Exact)?;
		if !request.compute_fee.is_zero() {
			T::Currency::transfer(
				requester,
				&request.provider,
				request.compute_fee,
				Preservation::Preserve,
			)?;
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

		Requests::<T>::remove(result.request_id);
		Providers::<T>::mutate(&request.provider, |info| {
			if let Some(info) = info {
				info.assigned = info.assigned.saturating_sub(1);
			}
		});
		Receipts::<T>::insert(
			result.request_id,
			Receipt {
				requester: request.requester.clone(),
				model_id: request.model_id,
				input_hash: request.input_hash,
				output_hash,
				outcome: result.outcome,
				provider: request.provider.clone(),
				signature,
				requested_at: request.submitted_at,
				answered_at: frame_system::Pallet::<T>::block_number(),
				price_paid,
				compute_fee: request.compute_fee,
			},
		);
		Self::deposit_event(Event::ResultSubmitted {
			request_id: result.request_id,
			provider: request.provider,
			output_hash,
			price_paid,
			compute_fee: request.compute_fee,
		});
		Ok(())
	}
}
