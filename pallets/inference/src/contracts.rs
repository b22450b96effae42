//! What contracts use, through the IInference precompile: requests paid with the value a call
//! carries, fee estimates, and where a request stands.

use crate::*;
use polkadot_sdk::{
	frame_support::{storage::with_storage_layer, traits::tokens::Preservation},
	sp_runtime::{traits::CheckedSub, DispatchResult},
};

/// A request's input as a caller gives it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum InputSource {
	/// Tensor codec bytes, checked on chain.
	Inline(Vec<u8>),
	/// The binary CID of a file in IPFS holding tensor codec bytes.
	Cid(Vec<u8>),
}

/// Where a request stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub enum RequestStatus<BlockNumber> {
	/// No such request now: never made, cancelled, expired with its callback run (or none), or
	/// its receipt was removed.
	Unknown,
	/// Waiting for its providers' results until `deadline`.
	Pending { deadline: BlockNumber },
	/// An optimistic result is proposed; final at `deadline` unless disputed.
	Proposed { deadline: BlockNumber },
	/// A proposed result is disputed; the jurors vote until `deadline`.
	Disputed { deadline: BlockNumber },
	/// Final; its receipt holds the result.
	Final,
	/// Ended without a result and refunded; its callback has not run yet.
	Expired,
}

impl<T: Config> Pallet<T> {
	/// Everything a request for `model_id` with an input of `input_len` bytes (0 for one by
	/// CID) and a callback with `callback_weight` holds now: the fee (price and compute fees),
	/// the callback's fee and the receipt deposit.
	pub fn estimate_fee(
		model_id: ModelId,
		input_len: u32,
		callback_weight: Option<Weight>,
	) -> Result<BalanceOf<T>, DispatchError> {
		ensure!(input_len <= T::MaxInputLen::get(), Error::<T>::InputTooLarge);
		let interface = T::Registry::interface(model_id).ok_or(Error::<T>::NoMetadata)?;
		let callback = match callback_weight {
			Some(weight) => {
				ensure!(T::Callbacks::ENABLED, Error::<T>::CallbacksUnsupported);
				ensure!(
					weight.all_lte(T::MaxCallbackWeight::get()),
					Error::<T>::CallbackWeightTooHigh
				);
				Self::callback_fee(weight)
			}
			None => Zero::zero(),
		};
		Ok(Self::request_fee(model_id, &interface)
			.saturating_add(callback)
			.saturating_add(T::ReceiptDeposit::get()))
	}

	/// A request by `who` paid with `paid`, which `payer` (the account holding the value a
	/// contract call carried) hands to `who` first. The request holds what it needs from `who`
	/// and is refused (`FeeAboveMax`) when that is more than `paid`; the rest stays with `who`.
	/// Nothing moves when it fails. Returns the request's id and what it holds.
	pub fn do_request_paid(
		payer: &T::AccountId,
		who: T::AccountId,
		paid: BalanceOf<T>,
		model_id: ModelId,
		input: InputSource,
		callback: Option<(Weight, Vec<u8>)>,
	) -> Result<(RequestId, BalanceOf<T>), DispatchError> {
		with_storage_layer(|| {
			Self::receive(payer, &who, paid)?;
			let deposit = T::ReceiptDeposit::get();
			let max_fee = paid.checked_sub(&deposit).ok_or(Error::<T>::FeeAboveMax)?;
			let input = match input {
				InputSource::Inline(bytes) => {
					RequestInput::Inline(bytes.try_into().map_err(|_| Error::<T>::InputTooLarge)?)
				}
				InputSource::Cid(cid) => RequestInput::Cid(Self::storable_cid(&cid)?),
			};
			let (request_id, held) = Self::do_request(who, model_id, input, max_fee, callback)?;
			Ok((request_id, held.saturating_add(deposit)))
		})
	}

	/// Raises `who`'s callback limit for `request_id`, paid with `paid` as
	/// [`Self::do_request_paid`] is; refused (`FeeAboveMax`) when the extra fee is more.
	pub fn do_raise_callback_limit_paid(
		payer: &T::AccountId,
		who: T::AccountId,
		paid: BalanceOf<T>,
		request_id: RequestId,
		weight_limit: Weight,
	) -> Result<BalanceOf<T>, DispatchError> {
		with_storage_layer(|| {
			Self::receive(payer, &who, paid)?;
			let extra = Self::do_raise_callback_limit(who, request_id, weight_limit)?;
			ensure!(extra <= paid, Error::<T>::FeeAboveMax);
			Ok(extra)
		})
	}

	/// Moves `paid` from `payer` to `who`.
	fn receive(payer: &T::AccountId, who: &T::AccountId, paid: BalanceOf<T>) -> DispatchResult {
		if !paid.is_zero() {
			T::Currency::transfer(payer, who, paid, Preservation::Expendable)?;
		}
		Ok(())
	}

	/// Where `request_id` stands.
	pub fn request_status(request_id: RequestId) -> RequestStatus<BlockNumberFor<T>> {
		if let Some(request) = Requests::<T>::get(request_id) {
			let deadline = request.deadline;
			return match request.stage {
				Stage::Open => RequestStatus::Pending { deadline },
				Stage::Proposed => RequestStatus::Proposed { deadline },
				Stage::Disputed { .. } => RequestStatus::Disputed { deadline },
			};
		}
		if Receipts::<T>::contains_key(request_id) {
			return RequestStatus::Final;
		}
		match Callbacks::<T>::get(request_id).and_then(|callback| callback.due) {
			Some(ResultKind::Expired) => RequestStatus::Expired,
			_ => RequestStatus::Unknown,
		}
	}
}
