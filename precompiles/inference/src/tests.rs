//! Tests of the precompile: calls through pallet-revive's `bare_call` on the mock runtime, from
//! accounts and from contracts (plain, static and delegate calls), and callbacks into a
//! contract delivered by the inference pallet.

use crate::{mock::*, *};
use citrate_inference_primitives::output::output_hash;
use citrate_precompile_utils::testing::{self, deploy_forwarder, CallKind, Called, Log, Outcome};
use citrate_tensor_primitives::{encode, DType, Tensor};
use codec::Encode;
use pallet_inference::{InferenceResult, Outcome as PalletOutcome};
use polkadot_sdk::{
	frame_support::{
		dispatch::RawOrigin,
		traits::{
			fungible::{Inspect, InspectHold},
			Hooks,
		},
	},
	pallet_revive::{
		precompiles::alloy::primitives::{Address, IntoLogData},
		AddressMapper, Code, ExecConfig, Pallet as Revive, TransactionLimits, H160,
	},
	sp_runtime::{testing::UintAuthorityId, traits::Dispatchable, RuntimeAppPublic},
};

const PRECOMPILE: [u8; 20] = fixed_address();
/// A callback gas limit (pallet-revive gas at the base price): 100 ms of weight in the mock,
/// where one gas costs `GasScale` (10) planck and a planck buys a picosecond.
const GAS: u64 = 10_000_000_000;

#[test]
fn the_address_matches_the_interface_file() {
	let sol = include_str!("../IInference.sol");
	let hex: alloc::string::String =
		crate::fixed_address().iter().map(|b| alloc::format!("{b:02x}")).collect();
	assert!(sol.contains(&alloc::format!("0x{hex}")), "address {hex} in the .sol file");
}

fn exec_with(who: &AccountId, value: Balance, call: impl SolCall) -> Called {
	testing::call::<Test>(who, PRECOMPILE, U256::from(value), call.abi_encode())
}

fn exec(who: &AccountId, call: impl SolCall) -> Called {
	exec_with(who, 0, call)
}

fn log(event: impl IntoLogData) -> Log {
	Log::new(PRECOMPILE, event)
}

fn reverted(reason: &str) -> Called {
	Called { outcome: Outcome::revert(reason), logs: Vec::new() }
}

fn hi() -> Vec<u8> {
	encode(&[Tensor::new("text", DType::U8, vec![2], b"hi".to_vec()).unwrap()]).unwrap()
}

fn embedding() -> Vec<u8> {
	encode(&[Tensor::from_f32("embedding", vec![1, 2], &[0.5, -1.0]).unwrap()]).unwrap()
}

fn request_call(model: u64, gas: u64) -> IInference::requestInferenceCall {
	IInference::requestInferenceCall {
		modelId: model,
		input: hi().into(),
		callbackGasLimit: gas,
		callbackData: vec![1, 2, 3].into(),
	}
}

fn estimate(model: u64, gas: u64) -> Balance {
	let call = IInference::estimateFeeCall {
		modelId: model,
		inputLength: hi().len() as u32,
		callbackGasLimit: gas,
	};
	let output = exec(&OTHER, call).outcome.output();
	IInference::estimateFeeCall::abi_decode_returns(&output).unwrap().to::<u128>()
}

/// PROVIDER answers `request_id` with [`embedding`], signed with its key.
fn answer(request_id: u64) {
	let result = InferenceResult::<Test> {
		request_id,
		provider: PROVIDER,
		outcome: PalletOutcome::Output(embedding().try_into().unwrap()),
	};
	let signature = result.using_encoded(|bytes| UintAuthorityId(4).sign(&bytes)).unwrap();
	Inference::do_submit_result(result, signature).expect("the result settles the request");
}

/// Dispatches the due callback's delivery as the provider worker's transaction would.
fn deliver(request_id: u64) {
	let weight_limit = Inference::callback(request_id).expect("a callback").weight_limit;
	RuntimeCall::Inference(pallet_inference::Call::deliver_callback { request_id, weight_limit })
		.dispatch(RawOrigin::Authorized.into())
		.expect("the delivery dispatches");
}

fn address(who: &AccountId) -> Address {
	address_of::<Test>(who)
}

#[test]
fn estimates_cover_price_compute_callback_and_deposit() {
	new_test_ext().execute_with(|| {
		let model = served_model();
		let (price, compute_fee) = Inference::quote(model).unwrap();
		assert_eq!(estimate(model, 0), price + compute_fee + RECEIPT_DEPOSIT);
		let weight = callback_weight::<Test>(GAS);
		assert!(weight.ref_time() > 0, "{GAS} gas buys some weight");
		assert_eq!(
			estimate(model, GAS),
			price + compute_fee + RECEIPT_DEPOSIT + Inference::callback_fee(weight)
		);
		let unknown =
			IInference::estimateFeeCall { modelId: 99, inputLength: 2, callbackGasLimit: 0 };
		assert_eq!(exec(&OTHER, unknown), reverted("Inference.estimateFee: NoMetadata"));
		let too_long =
			IInference::estimateFeeCall { modelId: model, inputLength: 5_000, callbackGasLimit: 0 };
		assert_eq!(exec(&OTHER, too_long), reverted("Inference.estimateFee: InputTooLarge"));
		let with_value =
			IInference::estimateFeeCall { modelId: model, inputLength: 2, callbackGasLimit: 0 };
		assert_eq!(
			exec_with(&OTHER, 1, with_value),
			reverted("Inference.estimateFee: function is not payable")
		);
	});
}

#[test]
fn a_request_holds_the_estimate_from_the_value_and_gives_back_the_rest() {
	new_test_ext().execute_with(|| {
		let model = served_model();
		let fee = estimate(model, 0);
		let (buyer, free) = (Balances::total_balance(&BUYER), Balances::balance(&BUYER));

		// Below the estimate: refused, and the value stays with the caller.
		assert_eq!(
			exec_with(&BUYER, fee - 1, request_call(model, 0)),
			reverted("Inference.requestInference: FeeAboveMax")
		);
		assert_eq!(Balances::total_balance(&BUYER), buyer);

		// Three times the estimate: the estimate is held, the rest stays free with the caller
		// and nothing stays on the precompile's account.
		let called = exec_with(&BUYER, 3 * fee, request_call(model, 0));
		assert_eq!(
			called,
			Called {
				outcome: Outcome::Success(IInference::requestInferenceCall::abi_encode_returns(&0)),
				logs: vec![log(IInference::InferenceRequested {
					requestId: 0,
					requester: address(&BUYER),
					modelId: model,
					fee: to_abi_u256(fee),
					callbackGasLimit: 0,
				})],
			}
		);
		assert_eq!(Balances::total_balance(&BUYER), buyer);
		assert_eq!(Balances::balance(&BUYER), free - fee);
		assert_eq!(Balances::total_balance(&precompile_account()), EXISTENTIAL_DEPOSIT);
		assert_eq!(Inference::request(0).unwrap().requester, BUYER);
	});
}

#[test]
fn state_changes_are_refused_in_static_and_delegate_calls() {
	new_test_ext().execute_with(|| {
		let model = served_model();
		let fee = estimate(model, 0);
		for (kind, reason) in [
			(CallKind::StaticCall, "Inference.requestInference: cannot change state in a static call"),
			(CallKind::DelegateCall, "Inference.requestInference: cannot be called through delegatecall"),
		] {
			let forwarder = deploy_forwarder::<Test>(&BUYER, kind, PRECOMPILE, U256::from(fee));
			// The next deployment gets another address.
			System::inc_account_nonce(&BUYER);
			let called = testing::call::<Test>(
				&BUYER,
				forwarder,
				U256::zero(),
				request_call(model, 0).abi_encode(),
			);
			assert_eq!(called.outcome, Outcome::revert(reason), "{kind:?}");
		}
		for call in [
			IInference::cancelRequestCall { requestId: 0 }.abi_encode(),
			IInference::purgeReceiptCall { requestId: 0 }.abi_encode(),
		] {
			let forwarder =
				deploy_forwarder::<Test>(&BUYER, CallKind::StaticCall, PRECOMPILE, U256::zero());
			System::inc_account_nonce(&BUYER);
			let called = testing::call::<Test>(&BUYER, forwarder, U256::zero(), call);
			assert!(
				matches!(&called.outcome, Outcome::Revert(reason) if reason.ends_with("cannot change state in a static call")),
				"{called:?}"
			);
		}
		assert_eq!(Inference::request(0), None);
	});
}

#[test]
fn status_result_and_receipt_follow_the_request() {
	new_test_ext().execute_with(|| {
		let model = served_model();
		let status = |id| {
			let output = exec(&OTHER, IInference::statusCall { requestId: id }).outcome.output();
			let status = IInference::statusCall::abi_decode_returns(&output).unwrap();
			(status.status as u8, status.deadline)
		};
		assert_eq!(status(0), (IInference::Status::Unknown as u8, 0));
		let fee = estimate(model, 0);
		exec_with(&BUYER, fee, request_call(model, 0)).outcome.output();
		assert_eq!(status(0), (IInference::Status::Pending as u8, 1 + REQUEST_TIMEOUT));
		let result = |id| {
			let output = exec(&OTHER, IInference::resultCall { requestId: id }).outcome.output();
			IInference::resultCall::abi_decode_returns(&output).unwrap()
		};
		assert_eq!(result(0).kind as u8, IInference::ResultKind::None as u8);

		System::set_block_number(3);
		answer(0);
		assert_eq!(status(0), (IInference::Status::Final as u8, 0));
		let hash = output_hash(&citrate_tensor_primitives::decode(&embedding()).unwrap()).unwrap();
		let final_result = result(0);
		assert_eq!(
			(final_result.kind as u8, final_result.output.to_vec(), final_result.outputHash.0),
			(IInference::ResultKind::Output as u8, embedding(), hash)
		);
		let output = exec(&OTHER, IInference::receiptCall { requestId: 0 }).outcome.output();
		let receipt = IInference::receiptCall::abi_decode_returns(&output).unwrap();
		let stored = Inference::receipt(0).unwrap();
		assert!(receipt.exists);
		assert_eq!(
			(receipt.requester, receipt.modelId, receipt.kind as u8, receipt.outputHash.0),
			(address(&BUYER), model, IInference::ResultKind::Output as u8, hash)
		);
		assert_eq!(receipt.packageCid.to_vec(), stored.package_cid.to_vec());
		assert_eq!(receipt.inputHash.0, stored.input_hash);
		assert_eq!(receipt.providers, vec![address(&PROVIDER)]);
		assert_eq!((receipt.verification, receipt.requestedAt, receipt.answeredAt), (0, 1, 3));
		assert_eq!(receipt.pricePaid, to_abi_u256(PRICE));
		assert_eq!(receipt.computeFeePaid, to_abi_u256(stored.compute_fee));

		// Only the requester purges its receipt early.
		assert_eq!(
			exec(&OTHER, IInference::purgeReceiptCall { requestId: 0 }),
			reverted("Inference.purgeReceipt: ReceiptRetained")
		);
		assert_eq!(
			exec(&BUYER, IInference::purgeReceiptCall { requestId: 0 }),
			Called {
				outcome: Outcome::Success(Vec::new()),
				logs: vec![log(IInference::ReceiptPurged { requestId: 0 })]
			}
		);
		let output = exec(&OTHER, IInference::receiptCall { requestId: 0 }).outcome.output();
		assert!(!IInference::receiptCall::abi_decode_returns(&output).unwrap().exists);
	});
}

#[test]
fn only_the_requester_cancels_and_is_refunded_everything() {
	new_test_ext().execute_with(|| {
		let model = served_model();
		let fee = estimate(model, GAS);
		let buyer = Balances::balance(&BUYER);
		exec_with(&BUYER, fee, request_call(model, GAS)).outcome.output();
		assert_eq!(
			exec(&OTHER, IInference::cancelRequestCall { requestId: 0 }),
			reverted("Inference.cancelRequest: NotRequester")
		);
		assert_eq!(
			exec_with(&BUYER, 1, IInference::cancelRequestCall { requestId: 0 }),
			reverted("Inference.cancelRequest: function is not payable")
		);
		assert_eq!(
			exec(&BUYER, IInference::cancelRequestCall { requestId: 0 }),
			Called {
				outcome: Outcome::Success(Vec::new()),
				logs: vec![log(IInference::RequestCancelled {
					requestId: 0,
					refunded: to_abi_u256(fee)
				})]
			}
		);
		assert_eq!(Balances::balance(&BUYER), buyer);
		assert_eq!(
			exec(&BUYER, IInference::cancelRequestCall { requestId: 0 }),
			reverted("Inference.cancelRequest: RequestNotFound")
		);
	});
}

#[test]
fn raising_the_callback_gas_takes_the_difference_from_the_value() {
	new_test_ext().execute_with(|| {
		let model = served_model();
		exec_with(&BUYER, estimate(model, GAS), request_call(model, GAS)).outcome.output();
		let raise = |gas| IInference::raiseCallbackGasCall { requestId: 0, callbackGasLimit: gas };
		let extra = Inference::callback_fee(callback_weight::<Test>(2 * GAS))
			- Inference::callback_fee(callback_weight::<Test>(GAS));
		assert_eq!(
			exec_with(&BUYER, extra - 1, raise(2 * GAS)),
			reverted("Inference.raiseCallbackGas: FeeAboveMax")
		);
		assert_eq!(
			exec_with(&OTHER, extra, raise(2 * GAS)),
			reverted("Inference.raiseCallbackGas: NotRequester")
		);
		assert_eq!(
			exec_with(&BUYER, extra, raise(GAS)),
			reverted("Inference.raiseCallbackGas: CallbackWeightTooLow")
		);
		assert_eq!(
			exec_with(&BUYER, extra, raise(2 * GAS)),
			Called {
				outcome: Outcome::Success(Vec::new()),
				logs: vec![log(IInference::CallbackGasRaised {
					requestId: 0,
					callbackGasLimit: 2 * GAS
				})]
			}
		);
		assert_eq!(Inference::callback(0).unwrap().weight_limit, callback_weight::<Test>(2 * GAS));
	});
}

/// EVM opcodes the consumer contract uses.
mod op {
	pub const EQ: u8 = 0x14;
	pub const CALLER: u8 = 0x33;
	pub const CALLVALUE: u8 = 0x34;
	pub const CALLDATALOAD: u8 = 0x35;
	pub const CALLDATASIZE: u8 = 0x36;
	pub const CALLDATACOPY: u8 = 0x37;
	pub const RETURNDATASIZE: u8 = 0x3d;
	pub const RETURNDATACOPY: u8 = 0x3e;
	pub const SSTORE: u8 = 0x55;
	pub const JUMP: u8 = 0x56;
	pub const JUMPI: u8 = 0x57;
	pub const GAS: u8 = 0x5a;
	pub const JUMPDEST: u8 = 0x5b;
	pub const PUSH1: u8 = 0x60;
	pub const PUSH20: u8 = 0x73;
	pub const STOP: u8 = 0x00;
	pub const CALL: u8 = 0xf1;
	pub const RETURN: u8 = 0xf3;
	pub const REVERT: u8 = 0xfd;
}

/// What the consumer does when the precompile calls it back.
#[derive(Clone, Copy, Debug)]
enum OnResult {
	/// Stores the calldata's size in slot 0 and the `kind` argument in slot 1.
	Store,
	Revert,
	/// Loops until it runs out of gas.
	Loop,
}

/// A consumer contract: called by the precompile, it handles the callback as `on_result`
/// says; called by anyone else, it forwards the call (and its value) to the precompile and
/// returns the precompile's output, so it is the requester of the requests it forwards.
fn consumer_code(on_result: OnResult) -> Vec<u8> {
	use op::*;
	let mut code = vec![CALLER, PUSH20];
	code.extend_from_slice(&PRECOMPILE);
	code.extend_from_slice(&[EQ, PUSH1, 0 /* callback, patched below */, JUMPI]);
	let callback_label = code.len() - 2;
	// Forward: memory[0..] = calldata; call the precompile with the value; return or revert
	// with its output.
	code.extend_from_slice(&[CALLDATASIZE, PUSH1, 0, PUSH1, 0, CALLDATACOPY]);
	code.extend_from_slice(&[PUSH1, 0, PUSH1, 0, CALLDATASIZE, PUSH1, 0, CALLVALUE, PUSH20]);
	code.extend_from_slice(&PRECOMPILE);
	code.extend_from_slice(&[GAS, CALL, RETURNDATASIZE, PUSH1, 0, PUSH1, 0, RETURNDATACOPY]);
	let ok = code.len() + 7;
	code.extend_from_slice(&[PUSH1, ok as u8, JUMPI, RETURNDATASIZE, PUSH1, 0, REVERT]);
	code.extend_from_slice(&[JUMPDEST, RETURNDATASIZE, PUSH1, 0, RETURN]);
	code[callback_label] = code.len() as u8;
	let start = code.len() as u8;
	code.push(JUMPDEST);
	match on_result {
		OnResult::Store => code.extend_from_slice(&[
			CALLDATASIZE,
			PUSH1,
			0,
			SSTORE,
			PUSH1,
			36,
			CALLDATALOAD,
			PUSH1,
			1,
			SSTORE,
			STOP,
		]),
		OnResult::Revert => code.extend_from_slice(&[PUSH1, 0, PUSH1, 0, REVERT]),
		OnResult::Loop => code.extend_from_slice(&[PUSH1, start, JUMP]),
	}
	code
}

fn deploy_consumer(on_result: OnResult) -> H160 {
	let code = testing::deployable(&consumer_code(on_result));
	let result = Revive::<Test>::bare_instantiate(
		RawOrigin::Signed(BUYER).into(),
		U256::zero(),
		TransactionLimits::WeightAndDeposit {
			weight_limit: polkadot_sdk::frame_support::weights::Weight::MAX,
			deposit_limit: Balance::MAX,
		},
		Code::Upload(code),
		Vec::new(),
		None,
		&ExecConfig::new_substrate_tx(),
	)
	.result
	.expect("the consumer deploys");
	result.addr
}

fn slot(contract: H160, n: u8) -> Option<Vec<u8>> {
	let mut key = [0u8; 32];
	key[31] = n;
	Revive::<Test>::get_storage(contract, key).expect("a contract")
}

/// The consumer at `contract` asks for `model` with a callback of [`GAS`]; returns its account.
fn request_from(contract: H160, model: u64) -> AccountId {
	let fee = estimate(model, GAS);
	let called = testing::call::<Test>(
		&BUYER,
		contract,
		U256::from(fee),
		request_call(model, GAS).abi_encode(),
	);
	assert_eq!(
		called.outcome,
		Outcome::Success(IInference::requestInferenceCall::abi_encode_returns(&0))
	);
	<Test as polkadot_sdk::pallet_revive::Config>::AddressMapper::to_account_id(&contract)
}

fn delivered_log(success: bool) -> Log {
	log(IInference::CallbackDelivered { requestId: 0, success })
}

#[test]
fn a_final_result_calls_the_requesting_contract_back_from_the_precompile() {
	new_test_ext().execute_with(|| {
		let model = served_model();
		let consumer = deploy_consumer(OnResult::Store);
		let account = request_from(consumer, model);
		assert_eq!(Inference::request(0).unwrap().requester, account);
		answer(0);
		assert_eq!(slot(consumer, 0), None);
		deliver(0);

		// The callback ran with msg.sender == the precompile (else it would have forwarded)
		// and the ABI-encoded result: selector, five words of head, output and data tails.
		let size = slot(consumer, 0).expect("the callback stored its calldata size");
		let call = crate::IInferenceConsumer::onInferenceResultCall {
			requestId: Default::default(),
			kind: IInference::ResultKind::Output,
			output: embedding().into(),
			outputHash: Default::default(),
			callbackData: vec![1, 2, 3].into(),
		};
		assert_eq!(U256::from_big_endian(&size), U256::from(call.abi_encode().len()));
		assert_eq!(slot(consumer, 1).map(|kind| kind[31]), Some(1), "ResultKind.Output");
		let logs = testing::logs::<Test>();
		let result_log = log(IInference::InferenceResult {
			requestId: 0,
			kind: IInference::ResultKind::Output,
			outputHash: Inference::receipt(0).and_then(|r| r.output_hash).expect("final").into(),
		});
		assert_eq!(logs[logs.len() - 2..], [result_log, delivered_log(true)]);
		assert_eq!(Inference::callback(0), None);
		assert_eq!(Balances::total_balance(&precompile_account()), EXISTENTIAL_DEPOSIT);
		assert_eq!(
			Balances::balance_on_hold(&pallet_inference::HoldReason::CallbackFee.into(), &account),
			0
		);
	});
}

#[test]
fn a_reverting_or_exhausted_callback_keeps_the_result_final() {
	for on_result in [OnResult::Revert, OnResult::Loop] {
		new_test_ext().execute_with(|| {
			let model = served_model();
			let consumer = deploy_consumer(on_result);
			let account = request_from(consumer, model);
			answer(0);
			let before = Balances::total_balance(&account);
			deliver(0);
			assert_eq!(
				testing::logs::<Test>().last(),
				Some(&delivered_log(false)),
				"{on_result:?}"
			);
			assert_eq!(Inference::request_status(0), pallet_inference::RequestStatus::Final);
			let fee = match System::events().last().map(|record| record.event.clone()) {
				Some(RuntimeEvent::Inference(pallet_inference::Event::CallbackDelivered {
					success: false,
					fee,
					..
				})) => fee,
				other => panic!("{on_result:?}: {other:?}"),
			};
			// It paid for the gas it used and got the rest back.
			assert!(fee > 0);
			assert_eq!(Balances::total_balance(&account), before - fee, "{on_result:?}");
			assert_eq!(Balances::total_balance(&precompile_account()), EXISTENTIAL_DEPOSIT);
		});
	}
}

#[test]
fn an_expired_request_calls_back_with_no_result() {
	new_test_ext().execute_with(|| {
		let model = served_model();
		let consumer = deploy_consumer(OnResult::Store);
		request_from(consumer, model);
		Inference::on_initialize(1 + REQUEST_TIMEOUT);
		let output = exec(&OTHER, IInference::statusCall { requestId: 0 }).outcome.output();
		let status = IInference::statusCall::abi_decode_returns(&output).unwrap();
		assert_eq!(status.status as u8, IInference::Status::Expired as u8);
		deliver(0);
		assert_eq!(slot(consumer, 1).map(|kind| kind[31]), Some(4), "ResultKind.Expired");
		assert_eq!(testing::logs::<Test>().last(), Some(&delivered_log(true)));
	});
}
