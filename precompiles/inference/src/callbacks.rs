//! Delivering results to contracts: `pallet_inference::Config::Callbacks` for a runtime with
//! pallet-revive.

use crate::{fixed_address, result_kind, IInference, IInferenceConsumer};
use core::marker::PhantomData;
use pallet_inference::{CallbackOutcome, CallbackResult, ResultCallback};
use polkadot_sdk::{
	frame_support::{
		traits::{fungible::Mutate, tokens::Preservation},
		weights::Weight,
	},
	frame_system::RawOrigin,
	pallet_revive::{
		precompiles::alloy::{
			primitives::{Bytes, FixedBytes, IntoLogData, U256 as AbiU256},
			sol_types::SolCall,
		},
		AddressMapper, Config, ExecConfig, Pallet as Revive, StorageDeposit, TransactionLimits,
		H160, H256, U256,
	},
	sp_runtime::Saturating,
};

/// Calls the requesting contract's `onInferenceResult(uint256,uint8,bytes,bytes32,bytes)` with
/// `bare_call` from the IInference precompile's fallback account, so the contract sees
/// `msg.sender == INFERENCE_ADDRESS`. The storage deposit the callee takes is paid by the
/// requester: the deposit budget moves to the fallback account for the call and what the call
/// did not take moves back. Logs `InferenceResult` before the call and `CallbackDelivered`
/// after it, from the precompile's address.
pub struct ContractCallbacks<T>(PhantomData<T>);

type BalanceOf<T> = pallet_inference::BalanceOf<T>;

impl<T> ContractCallbacks<T>
where
	T: pallet_inference::Config + Config,
{
	/// The account callbacks are called from: the precompile address's fallback account.
	pub fn caller() -> T::AccountId {
		T::AddressMapper::to_fallback_account_id(&H160(fixed_address()))
	}

	/// Logs `event` as the precompile's, as a contract's log would appear.
	fn log(event: impl IntoLogData) {
		let (topics, data) = event.into_log_data().split();
		let event = polkadot_sdk::pallet_revive::Event::<T>::ContractEmitted {
			contract: H160(fixed_address()),
			data: data.to_vec(),
			topics: topics.into_iter().map(|topic| H256(topic.0)).collect(),
		};
		polkadot_sdk::frame_system::Pallet::<T>::deposit_event(
			<T as polkadot_sdk::frame_system::Config>::RuntimeEvent::from(event),
		);
	}
}

impl<T> ResultCallback<T::AccountId, BalanceOf<T>> for ContractCallbacks<T>
where
	T: pallet_inference::Config
		+ Config<Currency = <T as pallet_inference::Config>::Currency>
		+ Config<Balance = BalanceOf<T>>,
	<T as polkadot_sdk::frame_system::Config>::RuntimeEvent:
		From<polkadot_sdk::pallet_revive::Event<T>>,
{
	const ENABLED: bool = true;

	fn deliver(
		requester: &T::AccountId,
		result: CallbackResult<'_>,
		weight_limit: Weight,
		deposit_limit: BalanceOf<T>,
	) -> CallbackOutcome<BalanceOf<T>> {
		let caller = Self::caller();
		// Without the budget (an account at its minimum), the callee may take no deposit.
		let deposit_limit = match <T as pallet_inference::Config>::Currency::transfer(
			requester,
			&caller,
			deposit_limit,
			Preservation::Preserve,
		) {
			Ok(_) => deposit_limit,
			Err(_) => Default::default(),
		};
		Self::log(IInference::InferenceResult {
			requestId: result.request_id,
			kind: result_kind(result.kind),
			outputHash: FixedBytes(result.output_hash),
		});
		let data = IInferenceConsumer::onInferenceResultCall {
			requestId: AbiU256::from(result.request_id),
			kind: result_kind(result.kind),
			output: Bytes::copy_from_slice(result.output),
			outputHash: FixedBytes(result.output_hash),
			callbackData: Bytes::copy_from_slice(result.data),
		}
		.abi_encode();
		let called = Revive::<T>::bare_call(
			RawOrigin::Signed(caller.clone()).into(),
			T::AddressMapper::to_address(requester),
			U256::zero(),
			TransactionLimits::WeightAndDeposit { weight_limit, deposit_limit },
			data,
			&ExecConfig::new_substrate_tx(),
		);
		let success = matches!(&called.result, Ok(value) if !value.did_revert());
		let (deposit_used, returned) = match called.storage_deposit {
			StorageDeposit::Charge(charged) => (charged, deposit_limit.saturating_sub(charged)),
			StorageDeposit::Refund(refund) => {
				(Default::default(), deposit_limit.saturating_add(refund))
			}
		};
		// Back to the requester: the budget the callee did not take.
		let _ = <T as pallet_inference::Config>::Currency::transfer(
			&caller,
			requester,
			returned,
			Preservation::Expendable,
		);
		Self::log(IInference::CallbackDelivered { requestId: result.request_id, success });
		CallbackOutcome { weight_used: called.weight_consumed, deposit_used, success }
	}
}
