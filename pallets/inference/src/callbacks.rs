//! Callbacks: a final result handed to the contract that asked for it.
//!
//! A request made with a callback (through the IInference precompile) names a weight limit
//! and opaque data; the storage deposit its callee may take is at most
//! `Config::CallbackDepositLimit`. The price of those limits — `WeightToFee` of the weight limit
//! plus the deposit limit — is held from the requester with the request's fees. Once the request
//! is final, or ends without a result, its callback is *due*: the next transaction
//! [`Pallet::deliver_callback`] (unsigned, authorized by the callback being due; the provider
//! worker sends it, anyone may) calls it through `Config::Callbacks` (pallet-revive in the
//! runtime) within those limits.
//!
//! - A callback that reverts or runs out of weight does not undo the result, which stays final
//!   and readable; [`Event::CallbackDelivered`] says whether it succeeded.
//! - The fee of the weight it used is burnt, as transaction fees are; the storage deposit it
//!   took stays with the contract's storage; the rest of what was held goes back.
//! - Delivered in a later transaction, never in the one that settles the result: pallet-revive
//!   refuses re-entry while a contract runs, results may become final in a block hook
//!   (optimistic windows, quorum deadlines), and the delivering transaction's weight must
//!   include the callback's limit, which only its own call can declare.

use crate::*;
use polkadot_sdk::{
	frame_support::{
		traits::tokens::{Fortitude, Preservation},
		weights::WeightToFee as _,
	},
	sp_runtime::DispatchResult,
};

/// What a final request's callback is told its result is.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
)]
pub enum ResultKind {
	/// The output, in the tensor codec's form.
	Output,
	/// The output was stored in IPFS by its provider: its binary CID.
	Stored,
	/// The request cannot succeed on any provider: the reason, UTF-8.
	Failed,
	/// No result: the request expired or no quorum agreed; its fees were refunded.
	Expired,
}

impl ResultKind {
	/// The kind of a final `outcome`.
	pub fn of<M: Get<u32>>(outcome: &Outcome<M>) -> Self {
		match outcome {
			Outcome::Output(_) => Self::Output,
			Outcome::Stored(_) => Self::Stored,
			Outcome::Failed(_) => Self::Failed,
		}
	}
}

/// A request's callback, kept from the request until it is delivered or the request is
/// cancelled.
#[derive(
	CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, Encode, Decode, MaxEncodedLen, TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Callback<T: Config> {
	/// The request's requester: the contract called, which pays.
	pub requester: T::AccountId,
	/// Most weight the callee may use.
	pub weight_limit: Weight,
	/// Most storage deposit the callee may take from the requester.
	pub deposit_limit: BalanceOf<T>,
	/// Handed to the callee as is.
	pub data: BoundedVec<u8, T::MaxCallbackData>,
	/// Held from the requester for the limits ([`Pallet::callback_fee`]).
	pub held: BalanceOf<T>,
	/// Set once the request is final or ended: what the callee is told.
	pub due: Option<ResultKind>,
}

/// The result handed to a callee.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CallbackResult<'a> {
	pub request_id: RequestId,
	pub kind: ResultKind,
	/// The output, the stored output's binary CID or the failure's reason; empty when expired.
	pub output: &'a [u8],
	/// The output hash the providers signed; zero for a failure or no result.
	pub output_hash: [u8; 32],
	/// The data the request named.
	pub data: &'a [u8],
}

/// What running a callback used.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct CallbackOutcome<Balance> {
	/// Weight the callee used (at most the limit).
	pub weight_used: Weight,
	/// Storage deposit the callee took from the requester.
	pub deposit_used: Balance,
	/// False when the callee reverted, ran out of weight or deposit, or could not be called.
	pub success: bool,
}

/// Runs callbacks: the runtime's implementation calls the requesting contract through
/// pallet-revive.
pub trait ResultCallback<AccountId, Balance> {
	/// Whether this runtime delivers callbacks at all; requests asking for one are refused
	/// (`CallbacksUnsupported`) when it does not.
	const ENABLED: bool;

	/// Calls `requester`'s callback with `result`, within `weight_limit`, its storage deposit
	/// (at most `deposit_limit`) paid by `requester`. Never fails: what went wrong is a
	/// callback that did not succeed.
	fn deliver(
		requester: &AccountId,
		result: CallbackResult<'_>,
		weight_limit: Weight,
		deposit_limit: Balance,
	) -> CallbackOutcome<Balance>;
}

/// No callbacks: requests that ask for one are refused.
impl<AccountId, Balance: Default> ResultCallback<AccountId, Balance> for () {
	const ENABLED: bool = false;

	fn deliver(
		_: &AccountId,
		_: CallbackResult<'_>,
		_: Weight,
		_: Balance,
	) -> CallbackOutcome<Balance> {
		CallbackOutcome::default()
	}
}

impl<T: Config> Pallet<T> {
	/// What a callback with `weight_limit` holds: the weight's fee plus the deposit limit.
	pub fn callback_fee(weight_limit: Weight) -> BalanceOf<T> {
		T::WeightToFee::weight_to_fee(&weight_limit).saturating_add(T::CallbackDepositLimit::get())
	}

	/// The heaviest callback weight `fee` pays for: the most `ref_time` (up to
	/// `MaxCallbackWeight`'s) whose `WeightToFee`, with `MaxCallbackWeight`'s proof size, is at
	/// most `fee`. For callers that budget callbacks in money, as Ethereum gas does. The proof
	/// size is not scaled down: what a callee reads (its code, its storage) does not shrink with
	/// its compute, and a solo chain does not price proof size.
	pub fn callback_weight_for_fee(fee: BalanceOf<T>) -> Weight {
		let max = T::MaxCallbackWeight::get();
		let with_ref_time = |ref_time: u64| Weight::from_parts(ref_time, max.proof_size());
		let fee_of = |ref_time: u64| T::WeightToFee::weight_to_fee(&with_ref_time(ref_time));
		if fee_of(max.ref_time()) <= fee {
			return max;
		}
		if fee_of(0) > fee {
			return Weight::zero();
		}
		// The fee grows with `ref_time`: find the last `ref_time` within `fee`.
		let (mut low, mut high) = (0u64, max.ref_time());
		while low < high {
			let mid = low + (high - low).div_ceil(2);
			if fee_of(mid) <= fee {
				low = mid;
			} else {
				high = mid - 1;
			}
		}
		with_ref_time(low)
	}

	/// The callback a request asks for, checked; `None` without one.
	pub(crate) fn new_callback(
		requester: T::AccountId,
		weight_limit: Weight,
		data: Vec<u8>,
	) -> Result<Callback<T>, DispatchError> {
		ensure!(T::Callbacks::ENABLED, Error::<T>::CallbacksUnsupported);
		ensure!(
			weight_limit.all_lte(T::MaxCallbackWeight::get()),
			Error::<T>::CallbackWeightTooHigh
		);
		Ok(Callback {
			requester,
			weight_limit,
			deposit_limit: T::CallbackDepositLimit::get(),
			data: data.try_into().map_err(|_| Error::<T>::CallbackDataTooLong)?,
			held: Self::callback_fee(weight_limit),
			due: None,
		})
	}

	/// Holds `callback`'s fee from its requester and keeps it for `request_id`.
	pub(crate) fn hold_callback(request_id: RequestId, callback: Callback<T>) -> DispatchResult {
		T::Currency::hold(&HoldReason::CallbackFee.into(), &callback.requester, callback.held)
			.map_err(|_| Error::<T>::InsufficientFunds)?;
		Callbacks::<T>::insert(request_id, callback);
		Ok(())
	}

	/// Makes `request_id`'s callback, if it has one, due with `kind`.
	pub(crate) fn callback_due(request_id: RequestId, kind: ResultKind) {
		Callbacks::<T>::mutate(request_id, |callback| {
			if let Some(callback) = callback {
				callback.due = Some(kind);
				Self::deposit_event(Event::CallbackDue { request_id, kind });
			}
		});
	}

	/// Checks a [`Pallet::deliver_callback`] transaction: the callback is due and `weight_limit`
	/// is its limit.
	pub(crate) fn authorize_delivery(
		_source: TransactionSource,
		request_id: &RequestId,
		weight_limit: &Weight,
	) -> TransactionValidityWithRefund {
		let due = Callbacks::<T>::get(request_id).filter(|callback| callback.due.is_some());
		let callback = due.ok_or(InvalidTransaction::Stale)?;
		if callback.weight_limit != *weight_limit {
			return Err(InvalidTransaction::Custom(CALLBACK_LIMIT_MISMATCH).into());
		}
		let until =
			frame_system::Pallet::<T>::block_number().saturating_add(CALLBACK_LONGEVITY.into());
		Self::valid_until(until, ("InferenceCallback", request_id))
	}

	/// Delivers `request_id`'s due callback within at most `weight_limit` (the call's declared
	/// limit, at least the callback's); returns the weight the callee used. See
	/// [`Pallet::deliver_callback`].
	pub fn do_deliver_callback(
		request_id: RequestId,
		weight_limit: Weight,
	) -> Result<Weight, DispatchError> {
		let callback = Callbacks::<T>::get(request_id).ok_or(Error::<T>::NoCallback)?;
		let kind = callback.due.ok_or(Error::<T>::CallbackNotDue)?;
		ensure!(callback.weight_limit.all_lte(weight_limit), Error::<T>::CallbackWeightTooLow);
		// An expired request has no receipt; a final one keeps its receipt while its callback
		// is due (`purge_receipt` refuses).
		let receipt = Receipts::<T>::get(request_id);
		let requester = &callback.requester;
		Callbacks::<T>::remove(request_id);
		T::Currency::release(
			&HoldReason::CallbackFee.into(),
			requester,
			callback.held,
			Precision::BestEffort,
		)?;

		let (output, output_hash) = match &receipt {
			Some(receipt) => {
				let (_, output, hash) = receipt.result();
				(output, hash)
			}
			None => (&[][..], [0; 32]),
		};
		let outcome = T::Callbacks::deliver(
			requester,
			CallbackResult { request_id, kind, output, output_hash, data: &callback.data },
			callback.weight_limit,
			callback.deposit_limit,
		);
		let weight_used = outcome.weight_used.min(callback.weight_limit);
		let fee = T::WeightToFee::weight_to_fee(&weight_used);
		let burnt = T::Currency::burn_from(
			requester,
			fee,
			Preservation::Preserve,
			Precision::BestEffort,
			Fortitude::Polite,
		)
		.unwrap_or_default();
		Self::deposit_event(Event::CallbackDelivered {
			request_id,
			success: outcome.success,
			weight_used,
			fee: burnt,
			deposit: outcome.deposit_used,
		});
		Ok(weight_used)
	}

	/// Raises the weight limit of `who`'s undelivered callback for `request_id` to
	/// `weight_limit`, holding the difference; see [`Pallet::raise_callback_limit`].
	pub fn do_raise_callback_limit(
		who: T::AccountId,
		request_id: RequestId,
		weight_limit: Weight,
	) -> Result<BalanceOf<T>, DispatchError> {
		let mut callback = Callbacks::<T>::get(request_id).ok_or(Error::<T>::NoCallback)?;
		ensure!(callback.requester == who, Error::<T>::NotRequester);
		ensure!(
			weight_limit.all_gte(callback.weight_limit) && weight_limit != callback.weight_limit,
			Error::<T>::CallbackWeightTooLow
		);
		ensure!(
			weight_limit.all_lte(T::MaxCallbackWeight::get()),
			Error::<T>::CallbackWeightTooHigh
		);
		let held = Self::callback_fee(weight_limit);
		let extra = held.saturating_sub(callback.held);
		T::Currency::hold(&HoldReason::CallbackFee.into(), &who, extra)
			.map_err(|_| Error::<T>::InsufficientFunds)?;
		callback.weight_limit = weight_limit;
		callback.held = held;
		Callbacks::<T>::insert(request_id, callback);
		Self::deposit_event(Event::CallbackLimitRaised { request_id, weight_limit, held });
		Ok(extra)
	}

	/// Cancels `who`'s request `request_id` before any provider answered: everything held for
	/// it goes back; see [`Pallet::cancel_request`]. Returns what was refunded.
	pub fn do_cancel_request(
		who: T::AccountId,
		request_id: RequestId,
	) -> Result<BalanceOf<T>, DispatchError> {
		let request = Requests::<T>::get(request_id).ok_or(Error::<T>::RequestNotFound)?;
		ensure!(request.requester == who, Error::<T>::NotRequester);
		ensure!(
			request.stage == Stage::Open && Votes::<T>::iter_prefix(request_id).next().is_none(),
			Error::<T>::AlreadyAnswered
		);
		Requests::<T>::remove(request_id);
		// Taken first: a cancelled request's callback is not called.
		let callback = Callbacks::<T>::take(request_id);
		// `refund` also returns the receipt deposit, which it does not count.
		let mut refunded = Self::refund(request_id, &request).saturating_add(request.deposit);
		if let Some(callback) = callback {
			let released = T::Currency::release(
				&HoldReason::CallbackFee.into(),
				&who,
				callback.held,
				Precision::BestEffort,
			)
			.unwrap_or_default();
			refunded.saturating_accrue(released);
		}
		Self::deposit_event(Event::RequestCancelled { request_id, refunded });
		Ok(refunded)
	}
}

impl<T: Config> Receipt<T> {
	/// The final result: its kind, the output (or the stored output's binary CID, or the
	/// failure's reason) and the output hash the providers signed (zero for a failure).
	pub fn result(&self) -> (ResultKind, &[u8], [u8; 32]) {
		match &self.outcome {
			Outcome::Output(bytes) => {
				(ResultKind::Output, bytes, self.output_hash.unwrap_or_default())
			}
			Outcome::Stored(stored) => (ResultKind::Stored, &stored.cid, stored.output_hash),
			Outcome::Failed(reason) => (ResultKind::Failed, reason, [0; 32]),
		}
	}
}

/// `InvalidTransaction::Custom` code: the delivery does not declare the callback's weight limit.
pub const CALLBACK_LIMIT_MISMATCH: u8 = 2;

/// Blocks a delivery stays valid in the pool.
const CALLBACK_LONGEVITY: u32 = 16;
