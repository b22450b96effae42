//! Quorum verification: commit then reveal, agreement under the model's comparison, payment
//! of the agreeing providers, slashing of the others, refunds without a quorum.

use super::{
	results::{embedding, output, PRICE},
	*,
};
use citrate_inference_primitives::output::output_hash;
use citrate_tensor_primitives::{encode, DType, Tensor};
use codec::Encode;
use polkadot_sdk::{
	frame_support::{
		dispatch::RawOrigin,
		traits::{fungible::Inspect, Authorize, ConstU32, Hooks},
	},
	sp_runtime::{
		testing::TestSignature,
		traits::Dispatchable,
		transaction_validity::{InvalidTransaction, TransactionSource, TransactionValidityError},
		RuntimeAppPublic,
	},
};

pub(super) const SALT: [u8; 32] = [9; 32];
pub(super) const SLASH: Balance = MIN_BOND / 10;

pub(super) type Output = Outcome<ConstU32<MAX_OUTPUT_LEN>>;

/// A priced feature-extraction model under `terms`, served by Alice, Bob and Carol, and
/// one pending request (id 0) from BUYER assigned to all three; returns the compute fee of
/// one run.
fn quorum_request(comparison: Comparison) -> (ModelId, Balance) {
	let model = super::results::pending_model();
	for who in [BOB, CAROL] {
		register(who);
		assert_ok!(Inference::serve_model(RuntimeOrigin::signed(who), model));
	}
	let quorum = Verification::Quorum { n: 3, k: 2 };
	assert_ok!(Inference::set_terms(RuntimeOrigin::signed(OWNER), model, quorum, comparison));
	super::results::request_hi(model);
	let request = Inference::request(0).unwrap();
	let mut providers = request.providers.to_vec();
	providers.sort();
	assert_eq!(providers, vec![ALICE, BOB, CAROL]);
	assert_eq!(fees_held(BUYER), PRICE + 3 * request.compute_fee);
	(model, request.compute_fee)
}

pub(super) fn fees_held(who: AccountId) -> Balance {
	use polkadot_sdk::frame_support::traits::fungible::InspectHold;
	Balances::balance_on_hold(&HoldReason::RequestFees.into(), &who)
}

pub(super) fn signed<M: Encode>(signer: AccountId, message: &M) -> TestSignature {
	message.using_encoded(|encoded| key(signer).sign(&encoded)).unwrap()
}

pub(super) fn commit_call(provider: AccountId, outcome: &Output, salt: [u8; 32]) -> RuntimeCall {
	let commitment = ResultCommitment::<Test> {
		request_id: 0,
		provider,
		commitment: commitment_of(outcome, &provider, &salt),
	};
	let signature = signed(provider, &commitment);
	RuntimeCall::Inference(Call::commit_result { commitment, signature })
}

pub(super) fn reveal_call(provider: AccountId, outcome: &Output, salt: [u8; 32]) -> RuntimeCall {
	let result = InferenceResult::<Test> { request_id: 0, provider, outcome: outcome.clone() };
	let signature = signed(provider, &result);
	RuntimeCall::Inference(Call::reveal_result { result, salt, signature })
}

/// Authorizes then dispatches `call`, as the pool and the block would.
pub(super) fn send(call: RuntimeCall) -> DispatchResult {
	call.authorize(TransactionSource::External)
		.expect("authorize logic")
		.map_err(|_| DispatchError::Other("not authorized"))?;
	call.dispatch(RawOrigin::Authorized.into()).map(|_| ()).map_err(|e| e.error)
}

/// Dispatches `call` without the pool's check, to reach the call's own errors.
pub(super) fn dispatch(call: RuntimeCall) -> DispatchResult {
	call.dispatch(RawOrigin::Authorized.into()).map(|_| ()).map_err(|e| e.error)
}

pub(super) fn authorize(call: &RuntimeCall) -> Result<(), TransactionValidityError> {
	call.authorize(TransactionSource::External).expect("authorize logic").map(|_| ())
}

pub(super) fn other_embedding() -> Vec<Tensor> {
	vec![Tensor::from_f32("embedding", vec![1, 3], &[0.9, 0.1, -1.0]).unwrap()]
}

pub(super) fn balance(who: AccountId) -> Balance {
	Balances::total_balance(&who)
}

#[test]
fn the_majority_answer_is_final_and_the_dissenter_pays_the_agreeing_providers() {
	new_test_ext().execute_with(|| {
		let (model, compute_fee) = quorum_request(Comparison::ExactHash);
		let before: Vec<Balance> = [BUYER, ALICE, BOB, CAROL, OWNER].map(balance).to_vec();
		let (honest, forged) = (output(&embedding()), output(&other_embedding()));
		assert_ok!(send(commit_call(ALICE, &honest, SALT)));
		assert_ok!(send(commit_call(BOB, &honest, [1; 32])));
		// Reveals wait until every provider committed (or the window closed).
		assert_noop!(dispatch(reveal_call(ALICE, &honest, SALT)), Error::<Test>::CommitsOpen);
		assert_eq!(
			authorize(&reveal_call(ALICE, &honest, SALT)),
			Err(InvalidTransaction::Call.into())
		);
		assert_ok!(send(commit_call(CAROL, &forged, SALT)));
		assert_noop!(dispatch(commit_call(CAROL, &honest, SALT)), Error::<Test>::AlreadyCommitted);

		assert_ok!(send(reveal_call(ALICE, &honest, SALT)));
		assert_ok!(send(reveal_call(CAROL, &forged, SALT)));
		assert!(Inference::request(0).is_some(), "Bob has not revealed yet");
		assert_ok!(send(reveal_call(BOB, &honest, [1; 32])));

		// Settled: Alice and Bob are paid, Carol is slashed to them and loses her fee.
		assert_eq!(Inference::request(0), None);
		assert_eq!(Votes::<Test>::iter_prefix(0).count(), 0);
		let receipt = Inference::receipt(0).unwrap();
		let hash = output_hash(&embedding()).unwrap();
		assert_eq!((receipt.output_hash, receipt.outcome.clone()), (Some(hash), honest));
		let mut signers: Vec<_> = receipt.providers.iter().map(|(p, _)| *p).collect();
		signers.sort();
		assert_eq!(signers, vec![ALICE, BOB]);
		assert_eq!(receipt.verification, Verification::Quorum { n: 3, k: 2 });
		assert_eq!((receipt.price_paid, receipt.compute_fee), (PRICE, 2 * compute_fee));
		assert_eq!(balance(BUYER), before[0] - PRICE - 2 * compute_fee);
		assert_eq!(fees_held(BUYER), 0);
		assert_eq!(balance(ALICE), before[1] + compute_fee + SLASH / 2);
		assert_eq!(balance(BOB), before[2] + compute_fee + SLASH / 2);
		assert_eq!(balance(CAROL), before[3] - SLASH);
		assert_eq!(balance(OWNER), before[4] + PRICE * 9 / 10);
		let carol = Inference::provider(CAROL).unwrap();
		assert_eq!(
			(carol.bond, carol.status, carol.assigned),
			(MIN_BOND - SLASH, ProviderStatus::Paused, 0)
		);
		assert_noop!(Inference::resume(RuntimeOrigin::signed(CAROL)), Error::<Test>::BondTooLow);
		// Topped up to the least bond, Carol can resume.
		assert_ok!(Inference::bond_extra(RuntimeOrigin::signed(CAROL), SLASH));
		assert_eq!(
			last_event(),
			Event::ProviderBonded { provider: CAROL, amount: SLASH, bond: MIN_BOND }.into()
		);
		assert_ok!(Inference::resume(RuntimeOrigin::signed(CAROL)));
		assert_noop!(
			Inference::bond_extra(RuntimeOrigin::signed(CAROL), INITIAL_BALANCE),
			Error::<Test>::InsufficientFunds
		);
		assert_noop!(
			Inference::bond_extra(RuntimeOrigin::signed(OWNER), SLASH),
			Error::<Test>::NotRegistered
		);
		assert!(System::events().iter().any(|record| record.event
			== Event::ProviderSlashed { request_id: 0, provider: CAROL, amount: SLASH }.into()));
		let _ = model;
	});
}

#[test]
fn a_copied_commitment_or_a_changed_answer_does_not_reveal() {
	new_test_ext().execute_with(|| {
		quorum_request(Comparison::ExactHash);
		let honest = output(&embedding());
		assert_ok!(send(commit_call(ALICE, &honest, SALT)));
		// Bob posts Alice's commitment as his own…
		let copied = ResultCommitment::<Test> {
			request_id: 0,
			provider: BOB,
			commitment: commitment_of(&honest, &ALICE, &SALT),
		};
		let signature = signed(BOB, &copied);
		assert_ok!(send(RuntimeCall::Inference(Call::commit_result {
			commitment: copied,
			signature
		})));
		assert_ok!(send(commit_call(CAROL, &honest, SALT)));
		// …and cannot reveal Alice's answer with it: the commitment names Alice.
		assert_noop!(dispatch(reveal_call(BOB, &honest, SALT)), Error::<Test>::RevealMismatch);
		// Nor can Alice reveal another answer, or the same with another salt.
		let other = output(&other_embedding());
		assert_noop!(dispatch(reveal_call(ALICE, &other, SALT)), Error::<Test>::RevealMismatch);
		assert_noop!(dispatch(reveal_call(ALICE, &honest, [0; 32])), Error::<Test>::RevealMismatch);
		// A reveal signed by another key is refused by the pool.
		let result = InferenceResult::<Test> { request_id: 0, provider: ALICE, outcome: honest };
		let signature = signed(BOB, &result);
		let forged = RuntimeCall::Inference(Call::reveal_result { result, salt: SALT, signature });
		assert_eq!(authorize(&forged), Err(InvalidTransaction::BadProof.into()));
	});
}

#[test]
fn a_provider_that_commits_and_never_reveals_is_slashed_at_the_deadline() {
	new_test_ext().execute_with(|| {
		let (_, compute_fee) = quorum_request(Comparison::ExactHash);
		let honest = output(&embedding());
		for who in [ALICE, BOB, CAROL] {
			assert_ok!(send(commit_call(who, &honest, SALT)));
		}
		assert_ok!(send(reveal_call(ALICE, &honest, SALT)));
		assert_ok!(send(reveal_call(BOB, &honest, SALT)));
		assert!(Inference::request(0).is_some(), "Carol may still reveal");
		let (buyer, carol) = (balance(BUYER), balance(CAROL));

		Inference::on_initialize(1 + REQUEST_TIMEOUT);
		let receipt = Inference::receipt(0).expect("settled at the deadline");
		assert_eq!(receipt.providers.len(), 2);
		assert_eq!(balance(BUYER), buyer - PRICE - 2 * compute_fee);
		assert_eq!(balance(CAROL), carol - SLASH);
		assert_eq!(Inference::provider(CAROL).unwrap().assigned, 0);
	});
}

#[test]
fn without_a_majority_everything_is_refunded_and_only_the_silent_are_slashed() {
	new_test_ext().execute_with(|| {
		quorum_request(Comparison::ExactHash);
		let (a, b) = (output(&embedding()), output(&other_embedding()));
		assert_ok!(send(commit_call(ALICE, &a, SALT)));
		assert_ok!(send(commit_call(BOB, &b, SALT)));
		// Carol commits nothing; after the window the others reveal.
		System::set_block_number(2 + COMMIT_WINDOW);
		assert_noop!(dispatch(commit_call(CAROL, &a, SALT)), Error::<Test>::CommitsClosed);
		assert_ok!(send(reveal_call(ALICE, &a, SALT)));
		assert_ok!(send(reveal_call(BOB, &b, SALT)));
		// Every committed provider revealed: counted now, and no two agree.
		assert_eq!(Inference::request(0), None);
		assert_eq!(Inference::receipt(0), None);
		assert_eq!(fees_held(BUYER), 0);
		assert_eq!(balance(BUYER), INITIAL_BALANCE + SLASH);
		assert_eq!([ALICE, BOB].map(balance), [INITIAL_BALANCE; 2]);
		assert_eq!(balance(CAROL), INITIAL_BALANCE - SLASH);
		assert!(System::events().iter().any(|record| matches!(
			record.event,
			RuntimeEvent::Inference(Event::NoQuorum { request_id: 0, .. })
		)));
	});
}

#[test]
fn quantised_comparison_lets_float_noise_agree() {
	new_test_ext().execute_with(|| {
		quorum_request(Comparison::Quantized { fraction_bits: 8 });
		let noisy = |x: f32| {
			output(&[Tensor::from_f32("embedding", vec![1, 2], &[0.5 + x, -0.25 - x]).unwrap()])
		};
		let (a, b, c) = (noisy(0.0), noisy(0.0001), noisy(0.3));
		assert_ok!(send(commit_call(ALICE, &a, SALT)));
		assert_ok!(send(commit_call(BOB, &b, SALT)));
		assert_ok!(send(commit_call(CAROL, &c, SALT)));
		for (who, outcome) in [(ALICE, &a), (BOB, &b), (CAROL, &c)] {
			assert_ok!(send(reveal_call(who, outcome, SALT)));
		}
		let receipt = Inference::receipt(0).unwrap();
		let mut signers: Vec<_> = receipt.providers.iter().map(|(p, _)| *p).collect();
		signers.sort();
		assert_eq!(signers, vec![ALICE, BOB]);
	});
}

#[test]
fn terms_are_checked_and_each_tier_takes_its_own_calls() {
	new_test_ext().execute_with(|| {
		let (model, _) = super::results::pending_request();
		let set = |who, n, k| {
			Inference::set_terms(
				RuntimeOrigin::signed(who),
				model,
				Verification::Quorum { n, k },
				Comparison::ExactHash,
			)
		};
		assert_noop!(set(ALICE, 3, 2), Error::<Test>::NotModelOwner);
		for (n, k) in [(1, 1), (4, 3), (3, 1), (2, 1), (3, 4)] {
			assert_noop!(set(OWNER, n, k), Error::<Test>::InvalidQuorum);
		}
		assert_noop!(
			Inference::set_terms(
				RuntimeOrigin::signed(OWNER),
				model,
				Verification::Single,
				Comparison::Quantized { fraction_bits: 99 }
			),
			Error::<Test>::InvalidQuorum
		);
		// Request 0 was made under `Single`: commitments are not its calls.
		assert_noop!(
			dispatch(commit_call(ALICE, &output(&embedding()), SALT)),
			Error::<Test>::NotQuorumRequest
		);
		// A quorum of three with one provider serving.
		assert_ok!(set(OWNER, 3, 2));
		assert_eq!(Inference::quote(model).map(|(price, _)| price), Some(PRICE));
		let text = Tensor::new("text", DType::U8, vec![2], b"hi".to_vec()).unwrap();
		assert_noop!(
			Inference::request_inference(
				RuntimeOrigin::signed(BUYER),
				model,
				encode(&[text]).unwrap(),
				Balance::MAX
			),
			Error::<Test>::NotEnoughProviders
		);
	});
}

#[test]
fn a_quorum_request_takes_no_single_result() {
	new_test_ext().execute_with(|| {
		quorum_request(Comparison::ExactHash);
		let result = InferenceResult::<Test> {
			request_id: 0,
			provider: ALICE,
			outcome: output(&embedding()),
		};
		let signature = signed(ALICE, &result);
		assert_noop!(
			dispatch(RuntimeCall::Inference(Call::submit_result { result, signature })),
			Error::<Test>::QuorumRequest
		);
	});
}
