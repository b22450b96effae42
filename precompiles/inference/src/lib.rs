//! `IInference` precompile: inference requests, results, receipts and result callbacks for
//! Solidity.
//!
//! Address `0x000000000000000000000000000000000c040000` (`AddressMatcher::Fixed(0x0C04)`).
//! The interface is [`IInference.sol`](../IInference.sol), compiled here by `alloy::sol!`.
//!
//! Every function charges its weight first, then calls `pallet-inference`'s `do_*` functions
//! and view functions. The payable ones (`requestInference`, `requestInferenceCid`,
//! `raiseCallbackGas`) hand `msg.value`, which pallet-revive moved to this precompile's account,
//! to the pallet's `do_*_paid` functions: the pallet gives it to the caller, holds what the
//! request needs from it and refuses the request when that is more, so no value stays here.
//!
//! Callbacks are delivered by [`ContractCallbacks`], the runtime's
//! `pallet_inference::Config::Callbacks`: it calls the requesting contract's
//! `onInferenceResult` with `bare_call` from this precompile's fallback account, so the
//! consumer sees `msg.sender == INFERENCE_ADDRESS`.
//!
//! Gas: a callback gas limit is in the unit `eth_estimateGas` reports on this chain (one gas
//! costs `GasScale` planck at the base fee); [`callback_weight`] turns it into the weight whose
//! fee that gas pays.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

mod callbacks;
pub use callbacks::ContractCallbacks;

use alloc::vec::Vec;
use citrate_precompile_utils::{
	address_of, caller_account, dispatch_revert, emit, ensure_mutable, ensure_no_value,
	to_abi_u256, value_in_native, Calldata, Signatures,
};
use core::{marker::PhantomData, num::NonZero};
use pallet_inference::{
	InputSource, Pallet as InferencePallet, Receipt, RequestStatus, ResultKind, Verification,
	WeightInfo,
};
use polkadot_sdk::{
	frame_support::{traits::Get, weights::Weight},
	pallet_revive::{
		precompiles::{
			alloy::{
				primitives::{Bytes, FixedBytes},
				sol_types::SolCall,
			},
			AddressMatcher, Error, Ext, Precompile,
		},
		U256,
	},
	sp_runtime::SaturatedConversion,
};

alloy_core::sol!("IInference.sol");

use IInference::IInferenceCalls as Call;

/// The `u16` in [`AddressMatcher::Fixed`]: bytes 16..18 of the address.
pub const ADDRESS_INDEX: u16 = 0x0C04;

/// The precompile's address, `0x000000000000000000000000000000000c040000`.
pub const fn fixed_address() -> [u8; 20] {
	citrate_precompile_utils::fixed_address(ADDRESS_INDEX)
}

/// The inference precompile for runtime `T`.
pub struct InferencePrecompile<T>(PhantomData<T>);

type BalanceOf<T> = pallet_inference::BalanceOf<T>;

impl<T> Precompile for InferencePrecompile<T>
where
	T: pallet_inference::Config + polkadot_sdk::pallet_revive::Config,
	BalanceOf<T>: Into<u128> + From<u128>,
{
	type T = T;
	type Interface = Calldata<Call>;
	const MATCHER: AddressMatcher = AddressMatcher::Fixed(NonZero::new(ADDRESS_INDEX).unwrap());
	const HAS_CONTRACT_INFO: bool = false;

	fn call(
		_address: &[u8; 20],
		input: &Self::Interface,
		env: &mut impl Ext<T = Self::T>,
	) -> Result<Vec<u8>, Error> {
		match input.call()? {
			Call::estimateFee(call) => Self::estimate_fee(call, env),
			Call::requestInference(call) => Self::request(
				env,
				"Inference.requestInference",
				call.modelId,
				InputSource::Inline(call.input.to_vec()),
				call.callbackGasLimit,
				&call.callbackData,
			),
			Call::requestInferenceCid(call) => Self::request(
				env,
				"Inference.requestInferenceCid",
				call.modelId,
				InputSource::Cid(call.inputCid.to_vec()),
				call.callbackGasLimit,
				&call.callbackData,
			),
			Call::raiseCallbackGas(call) => Self::raise_callback_gas(call, env),
			Call::cancelRequest(call) => Self::cancel_request(call, env),
			Call::purgeReceipt(call) => Self::purge_receipt(call, env),
			Call::status(call) => Self::status(call, env),
			Call::result(call) => Self::result(call, env),
			Call::receipt(call) => Self::receipt(call, env),
		}
	}
}

impl Signatures for Call {
	fn signature(selector: [u8; 4]) -> Option<&'static str> {
		Call::signature_by_selector(selector)
	}
}

/// The weight a callback gas limit pays for: `gas` at the base gas price (in planck, as
/// pallet-revive prices gas) buys what the inference pallet's fee schedule gives for it. Zero
/// gas is no callback.
pub fn callback_weight<T>(gas: u64) -> Weight
where
	T: pallet_inference::Config + polkadot_sdk::pallet_revive::Config,
	BalanceOf<T>: From<u128>,
{
	if gas == 0 {
		return Weight::zero();
	}
	let ratio = U256::from(<T as polkadot_sdk::pallet_revive::Config>::NativeToEthRatio::get());
	let per_gas = polkadot_sdk::pallet_revive::Pallet::<T>::evm_base_fee() / ratio.max(1.into());
	let budget: u128 = U256::from(gas).saturating_mul(per_gas).try_into().unwrap_or(u128::MAX);
	InferencePallet::<T>::callback_weight_for_fee(budget.into())
}

/// The callback a request asks for: `None` for a zero gas limit.
fn callback_of<T>(gas: u64, data: &Bytes) -> Option<(Weight, Vec<u8>)>
where
	T: pallet_inference::Config + polkadot_sdk::pallet_revive::Config,
	BalanceOf<T>: From<u128>,
{
	(gas > 0).then(|| (callback_weight::<T>(gas), data.to_vec()))
}

impl<T> InferencePrecompile<T>
where
	T: pallet_inference::Config + polkadot_sdk::pallet_revive::Config,
	BalanceOf<T>: Into<u128> + From<u128>,
{
	fn reads(n: u64) -> Weight {
		<T as polkadot_sdk::frame_system::Config>::DbWeight::get().reads(n)
	}

	/// Handing `msg.value` to the caller: two accounts read and written.
	fn payment_weight() -> Weight {
		<T as polkadot_sdk::frame_system::Config>::DbWeight::get().reads_writes(2, 2)
	}

	fn estimate_fee(
		call: &IInference::estimateFeeCall,
		env: &mut impl Ext<T = T>,
	) -> Result<Vec<u8>, Error> {
		env.charge(Self::reads(8))?;
		ensure_no_value(env, "Inference.estimateFee")?;
		let callback =
			(call.callbackGasLimit > 0).then(|| callback_weight::<T>(call.callbackGasLimit));
		let fee = InferencePallet::<T>::estimate_fee(call.modelId, call.inputLength, callback)
			.map_err(|e| dispatch_revert("Inference.estimateFee", e))?;
		Ok(IInference::estimateFeeCall::abi_encode_returns(&to_abi_u256(fee.into())))
	}

	fn request(
		env: &mut impl Ext<T = T>,
		context: &str,
		model_id: u64,
		input: InputSource,
		callback_gas: u64,
		callback_data: &Bytes,
	) -> Result<Vec<u8>, Error> {
		let request_weight = match &input {
			InputSource::Inline(bytes) => {
				<T as pallet_inference::Config>::WeightInfo::request_inference(bytes.len() as u32)
			}
			InputSource::Cid(_) => {
				<T as pallet_inference::Config>::WeightInfo::request_inference_cid()
			}
		};
		env.charge(request_weight.saturating_add(Self::payment_weight()))?;
		ensure_mutable(env, context)?;
		let requester = caller_account(env)?;
		let paid = value_in_native(env)?;
		let payer = env.account_id().clone();
		let callback = callback_of::<T>(callback_gas, callback_data);
		let (request_id, held) = InferencePallet::<T>::do_request_paid(
			&payer,
			requester.clone(),
			paid.into(),
			model_id,
			input,
			callback,
		)
		.map_err(|e| dispatch_revert(context, e))?;
		emit(
			env,
			IInference::InferenceRequested {
				requestId: request_id,
				requester: address_of::<T>(&requester),
				modelId: model_id,
				fee: to_abi_u256(held.into()),
				callbackGasLimit: callback_gas,
			},
		)?;
		Ok(IInference::requestInferenceCall::abi_encode_returns(&request_id))
	}

	fn raise_callback_gas(
		call: &IInference::raiseCallbackGasCall,
		env: &mut impl Ext<T = T>,
	) -> Result<Vec<u8>, Error> {
		env.charge(
			<T as pallet_inference::Config>::WeightInfo::raise_callback_limit()
				.saturating_add(Self::payment_weight()),
		)?;
		ensure_mutable(env, "Inference.raiseCallbackGas")?;
		let requester = caller_account(env)?;
		let paid = value_in_native(env)?;
		let payer = env.account_id().clone();
		InferencePallet::<T>::do_raise_callback_limit_paid(
			&payer,
			requester,
			paid.into(),
			call.requestId,
			callback_weight::<T>(call.callbackGasLimit),
		)
		.map_err(|e| dispatch_revert("Inference.raiseCallbackGas", e))?;
		emit(
			env,
			IInference::CallbackGasRaised {
				requestId: call.requestId,
				callbackGasLimit: call.callbackGasLimit,
			},
		)?;
		Ok(Vec::new())
	}

	fn cancel_request(
		call: &IInference::cancelRequestCall,
		env: &mut impl Ext<T = T>,
	) -> Result<Vec<u8>, Error> {
		env.charge(<T as pallet_inference::Config>::WeightInfo::cancel_request())?;
		ensure_mutable(env, "Inference.cancelRequest")?;
		ensure_no_value(env, "Inference.cancelRequest")?;
		let requester = caller_account(env)?;
		let refunded = InferencePallet::<T>::do_cancel_request(requester, call.requestId)
			.map_err(|e| dispatch_revert("Inference.cancelRequest", e))?;
		emit(
			env,
			IInference::RequestCancelled {
				requestId: call.requestId,
				refunded: to_abi_u256(refunded.into()),
			},
		)?;
		Ok(Vec::new())
	}

	fn purge_receipt(
		call: &IInference::purgeReceiptCall,
		env: &mut impl Ext<T = T>,
	) -> Result<Vec<u8>, Error> {
		env.charge(<T as pallet_inference::Config>::WeightInfo::purge_receipt())?;
		ensure_mutable(env, "Inference.purgeReceipt")?;
		ensure_no_value(env, "Inference.purgeReceipt")?;
		let who = caller_account(env)?;
		InferencePallet::<T>::do_purge_receipt(who, call.requestId)
			.map_err(|e| dispatch_revert("Inference.purgeReceipt", e))?;
		emit(env, IInference::ReceiptPurged { requestId: call.requestId })?;
		Ok(Vec::new())
	}

	fn status(call: &IInference::statusCall, env: &mut impl Ext<T = T>) -> Result<Vec<u8>, Error> {
		env.charge(Self::reads(2))?;
		ensure_no_value(env, "Inference.status")?;
		use IInference::Status;
		let (status, deadline) = match InferencePallet::<T>::request_status(call.requestId) {
			RequestStatus::Unknown => (Status::Unknown, 0),
			RequestStatus::Pending { deadline } => (Status::Pending, deadline.saturated_into()),
			RequestStatus::Proposed { deadline } => (Status::Proposed, deadline.saturated_into()),
			RequestStatus::Disputed { deadline } => (Status::Disputed, deadline.saturated_into()),
			RequestStatus::Final => (Status::Final, 0),
			RequestStatus::Expired => (Status::Expired, 0),
		};
		Ok(IInference::statusCall::abi_encode_returns(&IInference::statusReturn {
			status,
			deadline,
		}))
	}

	fn result(call: &IInference::resultCall, env: &mut impl Ext<T = T>) -> Result<Vec<u8>, Error> {
		env.charge(Self::reads(1))?;
		ensure_no_value(env, "Inference.result")?;
		let out = match InferencePallet::<T>::receipt(call.requestId) {
			Some(receipt) => {
				let (kind, output, hash) = receipt.result();
				IInference::resultReturn {
					kind: result_kind(kind),
					output: Bytes::copy_from_slice(output),
					outputHash: FixedBytes(hash),
				}
			}
			None => IInference::resultReturn {
				kind: IInference::ResultKind::None,
				output: Bytes::new(),
				outputHash: FixedBytes::ZERO,
			},
		};
		Ok(IInference::resultCall::abi_encode_returns(&out))
	}

	fn receipt(
		call: &IInference::receiptCall,
		env: &mut impl Ext<T = T>,
	) -> Result<Vec<u8>, Error> {
		env.charge(Self::reads(1))?;
		ensure_no_value(env, "Inference.receipt")?;
		let receipt = match InferencePallet::<T>::receipt(call.requestId) {
			Some(receipt) => abi_receipt::<T>(&receipt),
			None => no_receipt(),
		};
		Ok(IInference::receiptCall::abi_encode_returns(&receipt))
	}
}

/// The Solidity `ResultKind` of a final result.
pub fn result_kind(kind: ResultKind) -> IInference::ResultKind {
	match kind {
		ResultKind::Output => IInference::ResultKind::Output,
		ResultKind::Stored => IInference::ResultKind::Stored,
		ResultKind::Failed => IInference::ResultKind::Failed,
		ResultKind::Expired => IInference::ResultKind::Expired,
	}
}

/// The Solidity `Receipt` of a request without one: every field zero.
fn no_receipt() -> IInference::Receipt {
	IInference::Receipt {
		exists: false,
		requester: Default::default(),
		modelId: 0,
		packageCid: Bytes::new(),
		inputHash: FixedBytes::ZERO,
		inputCid: Bytes::new(),
		kind: IInference::ResultKind::None,
		outputHash: FixedBytes::ZERO,
		providers: Vec::new(),
		verification: 0,
		requestedAt: 0,
		answeredAt: 0,
		pricePaid: Default::default(),
		computeFeePaid: Default::default(),
	}
}

/// A receipt as the Solidity `Receipt` struct.
fn abi_receipt<T>(receipt: &Receipt<T>) -> IInference::Receipt
where
	T: pallet_inference::Config + polkadot_sdk::pallet_revive::Config,
	BalanceOf<T>: Into<u128>,
{
	let (kind, _, hash) = receipt.result();
	IInference::Receipt {
		exists: true,
		requester: address_of::<T>(&receipt.requester),
		modelId: receipt.model_id,
		packageCid: Bytes::copy_from_slice(&receipt.package_cid),
		inputHash: FixedBytes(receipt.input_hash),
		inputCid: receipt
			.input_cid
			.as_ref()
			.map(|cid| Bytes::copy_from_slice(cid))
			.unwrap_or_default(),
		kind: result_kind(kind),
		outputHash: FixedBytes(hash),
		providers: receipt.providers.iter().map(|(who, _)| address_of::<T>(who)).collect(),
		verification: match receipt.verification {
			Verification::Single => 0,
			Verification::Quorum { .. } => 1,
			Verification::Optimistic { .. } => 2,
		},
		requestedAt: receipt.requested_at.saturated_into(),
		answeredAt: receipt.answered_at.saturated_into(),
		pricePaid: to_abi_u256(receipt.price_paid.into()),
		computeFeePaid: to_abi_u256(receipt.compute_fee.into()),
	}
}

#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
