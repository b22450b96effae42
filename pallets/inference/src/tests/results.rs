//! Results: signed answers from the assigned provider, settlement, receipts, refusals.

use super::*;
use citrate_inference_primitives::output::output_hash;
use citrate_tensor_primitives::{encode, DType, Tensor};
use codec::Encode;
use polkadot_sdk::{
	frame_support::{dispatch::RawOrigin, traits::Authorize},
	sp_runtime::{
		testing::TestSignature,
		traits::Dispatchable,
		transaction_validity::{InvalidTransaction, TransactionSource, TransactionValidityError},
		RuntimeAppPublic,
	},
};

pub(super) const PRICE: Balance = 500;

/// A priced feature-extraction model served by Alice.
pub(super) fn pending_model() -> ModelId {
	let model = register_model(1);
	let metadata = pallet_model_registry::ModelMetadata {
		description: Default::default(),
		task: InferenceTask::FeatureExtraction,
		inputs: Default::default(),
		outputs: Default::default(),
		parameter_count: 1,
		flops_per_inference: 1_000,
		min_memory_bytes: 0,
		tags: Default::default(),
		documentation: Default::default(),
		tokenizer_cid: None,
		import_attestation: None,
	};
	assert_ok!(ModelRegistry::set_metadata(RuntimeOrigin::signed(OWNER), model, metadata));
	register(ALICE);
	assert_ok!(Inference::serve_model(RuntimeOrigin::signed(ALICE), model));
	assert_ok!(Inference::set_price(RuntimeOrigin::signed(OWNER), model, PRICE));
	model
}

/// [`pending_model`] and one pending request (id 0) from BUYER; returns the model and the
/// compute fee held.
pub(super) fn pending_request() -> (ModelId, Balance) {
	let model = pending_model();
	request_hi(model);
	(model, Inference::request(0).unwrap().compute_fee)
}

/// BUYER asks `model` to embed "hi".
pub(super) fn request_hi(model: ModelId) {
	let text = Tensor::new("text", DType::U8, vec![2], b"hi".to_vec()).unwrap();
	assert_ok!(Inference::request_inference(
		RuntimeOrigin::signed(BUYER),
		model,
		encode(&[text]).unwrap(),
		Balance::MAX
	));
}

pub(super) fn embedding() -> Vec<Tensor> {
	vec![Tensor::from_f32("embedding", vec![1, 3], &[0.25, -0.5, 1.0]).unwrap()]
}

pub(super) fn output(tensors: &[Tensor]) -> Outcome<ConstU32<MAX_OUTPUT_LEN>> {
	Outcome::Output(encode(tensors).unwrap().try_into().unwrap())
}

pub(super) type Result_ = InferenceResult<Test>;

pub(super) fn signed_by(signer: u64, result: &Result_) -> TestSignature {
	result.using_encoded(|encoded| key(signer).sign(&encoded)).unwrap()
}

pub(super) fn call(result: Result_, signature: TestSignature) -> RuntimeCall {
	RuntimeCall::Inference(Call::submit_result { result, signature })
}

pub(super) fn authorize(
	result: &Result_,
	signature: &TestSignature,
) -> Result<(), TransactionValidityError> {
	call(result.clone(), signature.clone())
		.authorize(TransactionSource::External)
		.expect("submit_result has authorize logic")
		.map(|_| ())
}

pub(super) fn submit(result: Result_, signature: TestSignature) -> DispatchResult {
	call(result, signature).dispatch(RawOrigin::Authorized.into()).map(|_| ()).map_err(|e| e.error)
}

use polkadot_sdk::frame_support::traits::{fungible::Inspect, ConstU32};

#[test]
fn an_output_settles_the_request_pays_everyone_and_keeps_a_receipt() {
	new_test_ext().execute_with(|| {
		let (model, compute_fee) = pending_request();
		let treasury = ModelAccess::treasury_account();
		let before = |who| Balances::total_balance(&who);
		let (buyer, alice, owner, treasury_before) =
			(before(BUYER), before(ALICE), before(OWNER), before(treasury));
		System::set_block_number(3);

		let result = Result_ { request_id: 0, provider: ALICE, outcome: output(&embedding()) };
		let signature = signed_by(ALICE, &result);
		assert_eq!(authorize(&result, &signature), Ok(()));
		assert_ok!(submit(result.clone(), signature.clone()));

		// The held fees paid the provider its compute fee and the model its price, 90/10.
		assert_eq!(Balances::total_balance(&BUYER), buyer - PRICE - compute_fee);
		assert_eq!(fees_on_hold(BUYER), 0);
		assert_eq!(Balances::total_balance(&ALICE), alice + compute_fee);
		assert_eq!(Balances::total_balance(&OWNER), owner + 450);
		assert_eq!(Balances::total_balance(&treasury), treasury_before + 50);
		assert_eq!(pallet_model_registry::Models::<Test>::get(model).unwrap().total_rewards, 450);

		let hash = output_hash(&embedding()).unwrap();
		let receipt = Inference::receipt(0).expect("kept");
		assert_eq!(
			(receipt.requester, receipt.model_id, receipt.output_hash, receipt.verification),
			(BUYER, model, Some(hash), Verification::Single)
		);
		assert_eq!(receipt.outcome, result.outcome);
		let signed = receipt.providers.iter().map(|(p, s)| (*p, s.to_vec())).collect::<Vec<_>>();
		assert_eq!(signed, vec![(ALICE, signature.encode())]);
		assert_eq!((receipt.requested_at, receipt.answered_at), (1, 3));
		assert_eq!((receipt.price_paid, receipt.compute_fee), (PRICE, compute_fee));
		assert_eq!(Inference::request(0), None);
		assert_eq!(Inference::provider(ALICE).unwrap().assigned, 0);
		assert_eq!(
			last_event(),
			Event::ResultSubmitted {
				request_id: 0,
				provider: ALICE,
				output_hash: Some(hash),
				price_paid: PRICE,
				compute_fee
			}
			.into()
		);
		// A replay finds nothing to answer.
		assert_eq!(authorize(&result, &signature), Err(InvalidTransaction::Stale.into()));
		assert_eq!(submit(result, signature), Err(Error::<Test>::RequestNotFound.into()));
		// Nothing expires later.
		Inference::on_initialize(1 + REQUEST_TIMEOUT);
		assert_eq!(Balances::total_balance(&BUYER), buyer - PRICE - compute_fee);
	});
}

fn fees_on_hold(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::RequestFees.into(), &who)
}

#[test]
fn a_deterministic_failure_is_an_answer_and_refunds_the_price() {
	new_test_ext().execute_with(|| {
		let (_, compute_fee) = pending_request();
		let buyer = Balances::total_balance(&BUYER);
		let reason = b"the image does not decode".to_vec().try_into().unwrap();
		let result = Result_ { request_id: 0, provider: ALICE, outcome: Outcome::Failed(reason) };
		let signature = signed_by(ALICE, &result);
		assert_ok!(submit(result, signature));
		assert_eq!(Balances::total_balance(&BUYER), buyer - compute_fee);
		let receipt = Inference::receipt(0).unwrap();
		assert_eq!((receipt.output_hash, receipt.price_paid), (None, 0));
	});
}

#[test]
fn only_the_assigned_provider_with_its_key_before_the_deadline_is_heard() {
	new_test_ext().execute_with(|| {
		pending_request();
		register(BOB);
		let result = |provider| Result_ { request_id: 0, provider, outcome: output(&embedding()) };

		// Bob is not assigned, even when signing with his own key.
		let bobs = result(BOB);
		let signature = signed_by(BOB, &bobs);
		assert_eq!(
			authorize(&bobs, &signature),
			Err(InvalidTransaction::Custom(crate::results::NOT_ASSIGNED).into())
		);
		assert_eq!(submit(bobs, signature), Err(Error::<Test>::NotAssigned.into()));

		// Alice's result signed with Bob's key.
		let forged = result(ALICE);
		assert_eq!(
			authorize(&forged, &signed_by(BOB, &forged)),
			Err(InvalidTransaction::BadProof.into())
		);
		// A signature over another result does not carry over.
		let other = Result_ { request_id: 0, provider: ALICE, outcome: output(&[]) };
		assert_eq!(
			authorize(&forged, &signed_by(ALICE, &other)),
			Err(InvalidTransaction::BadProof.into())
		);

		// Output bytes that are not the codec's are refused when dispatched.
		let garbage = Result_ {
			request_id: 0,
			provider: ALICE,
			outcome: Outcome::Output(b"garbage".to_vec().try_into().unwrap()),
		};
		let signature = signed_by(ALICE, &garbage);
		assert_eq!(authorize(&garbage, &signature), Ok(()));
		assert_eq!(submit(garbage, signature), Err(Error::<Test>::MalformedOutput.into()));

		// Past the deadline the request is stale.
		System::set_block_number(1 + REQUEST_TIMEOUT + 1);
		let late = result(ALICE);
		let signature = signed_by(ALICE, &late);
		assert_eq!(authorize(&late, &signature), Err(InvalidTransaction::Stale.into()));
		assert_eq!(submit(late, signature), Err(Error::<Test>::TooLate.into()));
		assert!(Inference::receipt(0).is_none());
	});
}

#[test]
fn old_receipts_can_be_purged_by_anyone_and_young_ones_cannot() {
	new_test_ext().execute_with(|| {
		pending_request();
		assert_eq!(deposit_held(BUYER), RECEIPT_DEPOSIT);
		let result = Result_ { request_id: 0, provider: ALICE, outcome: output(&embedding()) };
		let signature = signed_by(ALICE, &result);
		assert_ok!(submit(result, signature));
		assert_eq!(Inference::receipt(0).unwrap().deposit, RECEIPT_DEPOSIT);
		assert_eq!(deposit_held(BUYER), RECEIPT_DEPOSIT, "kept with the receipt");
		let purge = || Inference::purge_receipt(RuntimeOrigin::signed(BOB), 0);
		System::set_block_number(1 + RECEIPT_RETENTION);
		assert_noop!(purge(), Error::<Test>::ReceiptRetained);
		System::set_block_number(2 + RECEIPT_RETENTION);
		let free = Balances::free_balance(BUYER);
		assert_ok!(purge());
		assert_eq!(Inference::receipt(0), None);
		assert_eq!(
			last_event(),
			Event::ReceiptPurged { request_id: 0, by: BOB, deposit: RECEIPT_DEPOSIT }.into()
		);
		assert_eq!(deposit_held(BUYER), 0);
		assert_eq!(Balances::free_balance(BUYER), free + RECEIPT_DEPOSIT, "back to the requester");
		assert_noop!(purge(), Error::<Test>::ReceiptNotFound);
	});
}

#[test]
fn the_requester_may_purge_its_receipt_at_once_and_an_expired_request_returns_the_deposit() {
	new_test_ext().execute_with(|| {
		let (model, _) = pending_request();
		let result = Result_ { request_id: 0, provider: ALICE, outcome: output(&embedding()) };
		let signature = signed_by(ALICE, &result);
		assert_ok!(submit(result, signature));
		assert_ok!(Inference::purge_receipt(RuntimeOrigin::signed(BUYER), 0));
		assert_eq!(
			last_event(),
			Event::ReceiptPurged { request_id: 0, by: BUYER, deposit: RECEIPT_DEPOSIT }.into()
		);
		assert_eq!(deposit_held(BUYER), 0);

		// No receipt, no deposit kept.
		request_hi(model);
		assert_eq!(deposit_held(BUYER), RECEIPT_DEPOSIT);
		let deadline = Inference::request(1).unwrap().deadline;
		System::set_block_number(deadline);
		<Inference as polkadot_sdk::frame_support::traits::Hooks<u64>>::on_initialize(deadline);
		assert!(Inference::request(1).is_none());
		assert_eq!(deposit_held(BUYER), 0);
	});
}

fn deposit_held(who: AccountId) -> Balance {
	use polkadot_sdk::frame_support::traits::fungible::InspectHold;
	Balances::balance_on_hold(&HoldReason::ReceiptDeposit.into(), &who)
}
