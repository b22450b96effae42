//! Contract requests: paid with a call's value, callbacks held, due and delivered, raised,
//! cancelled; estimates and status.

use super::{
	results::{embedding, output, pending_model, signed_by, submit, Result_, PRICE},
	*,
};
use citrate_inference_primitives::output::output_hash;
use citrate_tensor_primitives::{encode, DType, Tensor};
use polkadot_sdk::{
	frame_support::{
		dispatch::{GetDispatchInfo, RawOrigin},
		traits::{fungible::Inspect, Authorize, Hooks},
		weights::Weight,
	},
	sp_runtime::{
		traits::Dispatchable,
		transaction_validity::{InvalidTransaction, TransactionSource, TransactionValidityError},
	},
};

/// Holds the value a contract call carried, as the IInference precompile's account does.
const PAYER: AccountId = OWNER;
const LIMIT: Weight = Weight::from_parts(500_000, 5_000);

fn hi() -> Vec<u8> {
	encode(&[Tensor::new("text", DType::U8, vec![2], b"hi".to_vec()).unwrap()]).unwrap()
}

/// BUYER's request for `model` paid with `paid`, with a callback of `LIMIT` and data `[7; 3]`.
fn request_paid(model: ModelId, paid: Balance) -> Result<(RequestId, Balance), DispatchError> {
	Inference::do_request_paid(
		&PAYER,
		BUYER,
		paid,
		model,
		InputSource::Inline(hi()),
		Some((LIMIT, vec![7; 3])),
	)
}

fn held(reason: HoldReason, who: AccountId) -> Balance {
	Balances::balance_on_hold(&reason.into(), &who)
}

fn delivery(request_id: RequestId, weight_limit: Weight) -> RuntimeCall {
	RuntimeCall::Inference(Call::deliver_callback { request_id, weight_limit })
}

fn authorize_delivery(call: &RuntimeCall) -> Result<(), TransactionValidityError> {
	call.authorize(TransactionSource::External).expect("has authorize logic").map(|_| ())
}

/// Dispatches an authorized delivery; returns the weight it reports using.
fn deliver(request_id: RequestId) -> Result<Weight, DispatchError> {
	let call = delivery(request_id, LIMIT);
	let declared = call.get_dispatch_info().call_weight;
	call.dispatch(RawOrigin::Authorized.into())
		.map(|post| post.actual_weight.unwrap_or(declared))
		.map_err(|e| e.error)
}

fn alice_answers(request_id: RequestId) {
	let result = Result_ { request_id, provider: ALICE, outcome: output(&embedding()) };
	let signature = signed_by(ALICE, &result);
	assert_ok!(submit(result, signature));
}

#[test]
fn a_paid_request_holds_what_it_needs_and_leaves_the_rest_with_the_caller() {
	new_test_ext().execute_with(|| {
		let model = pending_model();
		let estimate = Inference::estimate_fee(model, hi().len() as u32, Some(LIMIT)).unwrap();
		let compute_fee = Inference::quote(model).unwrap().1;
		let callback_fee = LIMIT.ref_time() as Balance + CALLBACK_DEPOSIT_LIMIT;
		assert_eq!(estimate, PRICE + compute_fee + callback_fee + RECEIPT_DEPOSIT);

		// One planck short of the estimate: refused, and nothing moved.
		let (payer, buyer) = (Balances::balance(&PAYER), Balances::balance(&BUYER));
		assert_eq!(request_paid(model, estimate - 1), Err(Error::<Test>::FeeAboveMax.into()));
		assert_eq!((Balances::balance(&PAYER), Balances::balance(&BUYER)), (payer, buyer));
		assert_eq!(Inference::request(0), None);

		// Twice the estimate: the request holds the estimate, the rest is the caller's.
		assert_eq!(request_paid(model, 2 * estimate), Ok((0, estimate)));
		assert_eq!(Balances::balance(&PAYER), payer - 2 * estimate);
		assert_eq!(Balances::balance(&BUYER), buyer + estimate);
		assert_eq!(held(HoldReason::CallbackFee, BUYER), callback_fee);
		assert_eq!(held(HoldReason::RequestFees, BUYER), PRICE + compute_fee);
		assert_eq!(held(HoldReason::ReceiptDeposit, BUYER), RECEIPT_DEPOSIT);
		let callback = Inference::callback(0).unwrap();
		assert_eq!(
			(callback.requester, callback.weight_limit, callback.data.to_vec(), callback.due),
			(BUYER, LIMIT, vec![7; 3], None)
		);
		assert_eq!(Inference::status(0), RequestStatus::Pending { deadline: 1 + REQUEST_TIMEOUT });
	});
}

#[test]
fn callback_limits_and_inputs_are_checked_before_anything_is_held() {
	new_test_ext().execute_with(|| {
		let model = pending_model();
		let too_heavy = MaxCallbackWeight::get().add_proof_size(1);
		assert_eq!(
			Inference::estimate_fee(model, 0, Some(too_heavy)),
			Err(Error::<Test>::CallbackWeightTooHigh.into())
		);
		assert_eq!(
			Inference::estimate_fee(model, MAX_INPUT_LEN + 1, None),
			Err(Error::<Test>::InputTooLarge.into())
		);
		assert_eq!(Inference::estimate_fee(99, 0, None), Err(Error::<Test>::NoMetadata.into()));
		let ask = |weight, data_len| {
			Inference::do_request_paid(
				&PAYER,
				BUYER,
				INITIAL_BALANCE / 10,
				model,
				InputSource::Inline(hi()),
				Some((weight, vec![0; data_len])),
			)
		};
		assert_eq!(ask(too_heavy, 1), Err(Error::<Test>::CallbackWeightTooHigh.into()));
		let too_long = MAX_CALLBACK_DATA as usize + 1;
		assert_eq!(ask(LIMIT, too_long), Err(Error::<Test>::CallbackDataTooLong.into()));
		let bad_cid = Inference::do_request_paid(
			&PAYER,
			BUYER,
			INITIAL_BALANCE / 10,
			model,
			InputSource::Cid(b"not a cid".to_vec()),
			None,
		);
		assert_eq!(bad_cid, Err(Error::<Test>::InvalidCid.into()));
		assert_eq!(held(HoldReason::CallbackFee, BUYER), 0);
		assert_eq!(Balances::balance(&BUYER), INITIAL_BALANCE);
	});
}

#[test]
fn a_final_result_makes_the_callback_due_and_its_delivery_settles_the_gas() {
	new_test_ext().execute_with(|| {
		let model = pending_model();
		let estimate = Inference::estimate_fee(model, hi().len() as u32, Some(LIMIT)).unwrap();
		request_paid(model, estimate).unwrap();
		// Not due while pending.
		assert_eq!(authorize_delivery(&delivery(0, LIMIT)), Err(InvalidTransaction::Stale.into()));
		assert_eq!(deliver(0), Err(Error::<Test>::CallbackNotDue.into()));

		alice_answers(0);
		assert_eq!(Inference::status(0), RequestStatus::Final);
		assert_eq!(Inference::callback(0).unwrap().due, Some(ResultKind::Output));
		assert!(System::events().iter().any(|record| record.event
			== Event::CallbackDue { request_id: 0, kind: ResultKind::Output }.into()));
		// The receipt stays while the callback has not run.
		assert_noop!(
			Inference::purge_receipt(RuntimeOrigin::signed(BUYER), 0),
			Error::<Test>::CallbackPending
		);
		// A delivery must declare the callback's limit.
		let short = LIMIT.sub_ref_time(1);
		assert_eq!(
			authorize_delivery(&delivery(0, short)),
			Err(InvalidTransaction::Custom(CALLBACK_LIMIT_MISMATCH).into())
		);
		assert_eq!(
			delivery(0, short).dispatch(RawOrigin::Authorized.into()).map_err(|e| e.error),
			Err(Error::<Test>::CallbackWeightTooLow.into())
		);
		assert_eq!(authorize_delivery(&delivery(0, LIMIT)), Ok(()));

		let buyer = Balances::total_balance(&BUYER);
		let used = deliver(0).unwrap();
		let (weight_used, deposit_used, _) = CALLBACK_OUTCOME.with(|outcome| outcome.get());
		assert_eq!(used, <() as WeightInfo>::deliver_callback() + weight_used);
		let hash = output_hash(&embedding()).unwrap();
		let encoded = encode(&embedding()).unwrap();
		assert_eq!(
			delivered(),
			vec![Delivered {
				requester: BUYER,
				request_id: 0,
				kind: ResultKind::Output,
				output: encoded,
				output_hash: hash,
				data: vec![7; 3],
				weight_limit: LIMIT,
				deposit_limit: CALLBACK_DEPOSIT_LIMIT,
			}]
		);
		// The used weight's fee is burnt, the deposit the callee took is gone, the rest is back.
		let fee = weight_used.ref_time() as Balance;
		assert_eq!(Balances::total_balance(&BUYER), buyer - fee - deposit_used);
		assert_eq!(held(HoldReason::CallbackFee, BUYER), 0);
		assert_eq!(
			last_event(),
			Event::CallbackDelivered {
				request_id: 0,
				success: true,
				weight_used,
				fee,
				deposit: deposit_used
			}
			.into()
		);
		// Once only; then the receipt may go.
		assert_eq!(authorize_delivery(&delivery(0, LIMIT)), Err(InvalidTransaction::Stale.into()));
		assert_eq!(deliver(0), Err(Error::<Test>::NoCallback.into()));
		assert_ok!(Inference::purge_receipt(RuntimeOrigin::signed(BUYER), 0));
	});
}

#[test]
fn an_expired_request_calls_back_and_a_failing_callback_changes_nothing_else() {
	new_test_ext().execute_with(|| {
		let model = pending_model();
		let estimate = Inference::estimate_fee(model, hi().len() as u32, Some(LIMIT)).unwrap();
		request_paid(model, estimate).unwrap();
		let buyer = Balances::total_balance(&BUYER);
		Inference::on_initialize(1 + REQUEST_TIMEOUT);
		assert_eq!(Inference::status(0), RequestStatus::Expired);
		// The fees and the deposit came back; the callback's fee waits for the callback.
		assert_eq!(held(HoldReason::RequestFees, BUYER), 0);
		assert_eq!(held(HoldReason::CallbackFee, BUYER), LIMIT.ref_time() as Balance + 30);

		CALLBACK_OUTCOME.with(|outcome| outcome.set((LIMIT, 0, false)));
		deliver(0).unwrap();
		let delivered = delivered();
		assert_eq!(
			(delivered[0].kind, delivered[0].output.len(), delivered[0].output_hash),
			(ResultKind::Expired, 0, [0; 32])
		);
		let fee = LIMIT.ref_time() as Balance;
		assert_eq!(
			last_event(),
			Event::CallbackDelivered {
				request_id: 0,
				success: false,
				weight_used: LIMIT,
				fee,
				deposit: 0
			}
			.into()
		);
		assert_eq!(Balances::total_balance(&BUYER), buyer - fee);
		assert_eq!(Inference::status(0), RequestStatus::Unknown);
	});
}

#[test]
fn only_the_requester_raises_its_callback_limit_paying_the_difference() {
	new_test_ext().execute_with(|| {
		let model = pending_model();
		let estimate = Inference::estimate_fee(model, hi().len() as u32, Some(LIMIT)).unwrap();
		request_paid(model, estimate).unwrap();
		let higher = LIMIT.add_ref_time(1_000);
		assert_eq!(
			Inference::do_raise_callback_limit(ALICE, 0, higher),
			Err(Error::<Test>::NotRequester.into())
		);
		assert_eq!(
			Inference::do_raise_callback_limit(BUYER, 0, LIMIT),
			Err(Error::<Test>::CallbackWeightTooLow.into())
		);
		assert_eq!(
			Inference::do_raise_callback_limit(BUYER, 0, MaxCallbackWeight::get().add_ref_time(1)),
			Err(Error::<Test>::CallbackWeightTooHigh.into())
		);
		// Paid with less than the difference: refused, nothing moved.
		let payer = Balances::balance(&PAYER);
		assert_eq!(
			Inference::do_raise_callback_limit_paid(&PAYER, BUYER, 999, 0, higher),
			Err(Error::<Test>::FeeAboveMax.into())
		);
		assert_eq!(Balances::balance(&PAYER), payer);
		assert_eq!(
			Inference::do_raise_callback_limit_paid(&PAYER, BUYER, 1_000, 0, higher),
			Ok(1_000)
		);
		assert_eq!(held(HoldReason::CallbackFee, BUYER), higher.ref_time() as Balance + 30);
		assert_eq!(Inference::callback(0).unwrap().weight_limit, higher);
		assert_eq!(
			Inference::do_raise_callback_limit(BUYER, 7, higher),
			Err(Error::<Test>::NoCallback.into())
		);
	});
}

#[test]
fn the_requester_cancels_an_unanswered_request_and_gets_everything_back() {
	new_test_ext().execute_with(|| {
		let model = pending_model();
		let estimate = Inference::estimate_fee(model, hi().len() as u32, Some(LIMIT)).unwrap();
		let buyer = Balances::total_balance(&BUYER);
		request_paid(model, estimate).unwrap();
		assert_noop!(
			Inference::cancel_request(RuntimeOrigin::signed(ALICE), 0),
			Error::<Test>::NotRequester
		);
		assert_ok!(Inference::cancel_request(RuntimeOrigin::signed(BUYER), 0));
		assert_eq!(
			last_event(),
			Event::RequestCancelled { request_id: 0, refunded: estimate }.into()
		);
		assert_eq!(Balances::total_balance(&BUYER), buyer + estimate);
		assert_eq!(Balances::balance(&BUYER), buyer + estimate);
		assert_eq!(Inference::provider(ALICE).unwrap().assigned, 0);
		assert_eq!((Inference::status(0), Inference::callback(0)), (RequestStatus::Unknown, None));
		// Its expiry and a late answer find nothing; no callback runs.
		Inference::on_initialize(1 + REQUEST_TIMEOUT);
		assert_eq!(Balances::total_balance(&BUYER), buyer + estimate);
		assert!(delivered().is_empty());

		// An answered request cannot be cancelled.
		request_paid(model, estimate).unwrap();
		alice_answers(1);
		assert_noop!(
			Inference::cancel_request(RuntimeOrigin::signed(BUYER), 1),
			Error::<Test>::RequestNotFound
		);
	});
}
