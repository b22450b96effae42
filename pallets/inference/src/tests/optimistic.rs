//! Optimistic verification: a proposed result is final after its window; a dispute re-runs
//! the request among jurors and the side they disagree with is slashed.

use super::{
	quorum::{
		authorize, balance, commit_call, dispatch, fees_held, other_embedding, reveal_call, send,
		signed, Output, SALT, SLASH,
	},
	results::{embedding, output, pending_model, request_hi, PRICE},
	*,
};
use citrate_inference_primitives::output::output_hash;
use codec::Encode;
use polkadot_sdk::{
	frame_support::traits::Hooks, sp_runtime::transaction_validity::InvalidTransaction,
};

/// Longer than `REQUEST_TIMEOUT`: the request outlives its first deadline.
const WINDOW: u32 = 15;

/// A priced model served by Alice, Bob, Carol and Dave under `Optimistic { WINDOW }`, and
/// request 0 from BUYER; returns the model, one run's compute fee and the drawn provider.
pub(super) fn optimistic_request() -> (ModelId, Balance, AccountId) {
	let model = pending_model();
	for who in [BOB, CAROL, DAVE] {
		register(who);
		assert_ok!(Inference::serve_model(RuntimeOrigin::signed(who), model));
	}
	let terms = Verification::Optimistic { window: WINDOW };
	assert_ok!(Inference::set_terms(
		RuntimeOrigin::signed(OWNER),
		model,
		terms,
		Comparison::ExactHash
	));
	request_hi(model);
	let request = Inference::request(0).unwrap();
	assert_eq!(request.providers.len(), 1, "one provider runs it");
	assert_eq!(fees_held(BUYER), PRICE + request.compute_fee);
	(model, request.compute_fee, request.providers[0])
}

fn result(provider: AccountId, outcome: &Output) -> InferenceResult<Test> {
	InferenceResult { request_id: 0, provider, outcome: outcome.clone() }
}

pub(super) fn propose_call(provider: AccountId, outcome: &Output) -> RuntimeCall {
	let result = result(provider, outcome);
	let signature = signed(provider, &result);
	RuntimeCall::Inference(Call::submit_result { result, signature })
}

fn dispute_call(provider: AccountId, outcome: &Output) -> RuntimeCall {
	let result = result(provider, outcome);
	let signature = signed(provider, &result);
	RuntimeCall::Inference(Call::dispute_result { result, signature })
}

/// The providers other than `proposer`, in account order.
pub(super) fn others(proposer: AccountId) -> Vec<AccountId> {
	[ALICE, BOB, CAROL, DAVE].into_iter().filter(|who| *who != proposer).collect()
}

/// Every juror commits to `outcome`, then reveals it.
fn jurors_vote(jurors: &[AccountId], outcome: &Output) {
	for juror in jurors {
		assert_ok!(send(commit_call(*juror, outcome, SALT)));
	}
	for juror in jurors {
		assert_ok!(send(reveal_call(*juror, outcome, SALT)));
	}
}

fn assert_every_provider_free() {
	for who in [ALICE, BOB, CAROL, DAVE] {
		assert_eq!(Inference::provider(who).unwrap().assigned, 0, "{who} is free");
	}
}

fn events() -> Vec<RuntimeEvent> {
	System::events().into_iter().map(|record| record.event).collect()
}

#[test]
fn an_undisputed_result_is_final_after_its_window() {
	new_test_ext().execute_with(|| {
		let (model, compute_fee, proposer) = optimistic_request();
		let before: Vec<Balance> = [BUYER, proposer, OWNER].map(balance).to_vec();
		let honest = output(&embedding());
		assert_ok!(send(propose_call(proposer, &honest)));
		let final_at = 1 + u64::from(WINDOW);
		let hash = output_hash(&embedding()).unwrap();
		assert_eq!(
			last_event(),
			Event::ResultProposed {
				request_id: 0,
				provider: proposer,
				output_hash: Some(hash),
				final_at
			}
			.into()
		);
		// Proposed, not final: nothing is paid, and no second answer is taken.
		let request = Inference::request(0).unwrap();
		assert_eq!((request.stage, request.deadline), (Stage::Proposed, final_at));
		assert_eq!(Inference::proposal(0).unwrap().proposer, proposer);
		assert_eq!([BUYER, proposer, OWNER].map(balance).to_vec(), before);
		let again = propose_call(proposer, &honest);
		assert_eq!(authorize(&again), Err(InvalidTransaction::Stale.into()));
		assert_noop!(dispatch(again), Error::<Test>::AlreadyAnswered);

		// The request's first deadline passes without effect…
		System::set_block_number(1 + REQUEST_TIMEOUT);
		Inference::on_initialize(1 + REQUEST_TIMEOUT);
		assert!(Inference::request(0).is_some());
		// …and the window's end makes the result final.
		System::set_block_number(final_at);
		Inference::on_initialize(final_at);
		assert_eq!(Inference::request(0), None);
		assert_eq!(Inference::proposal(0), None);
		assert!(events().contains(
			&Event::ResultFinalized {
				request_id: 0,
				provider: proposer,
				output_hash: Some(hash),
				price_paid: PRICE,
				compute_fee,
			}
			.into()
		));
		assert_eq!(balance(BUYER), before[0] - PRICE - compute_fee);
		assert_eq!(balance(proposer), before[1] + compute_fee);
		assert_eq!(balance(OWNER), before[2] + PRICE * 9 / 10);
		let receipt = Inference::receipt(0).unwrap();
		assert_eq!(receipt.verification, Verification::Optimistic { window: WINDOW });
		assert_eq!((receipt.requested_at, receipt.answered_at), (1, final_at));
		assert_eq!(receipt.outcome, honest);
		let signature = signed(proposer, &result(proposer, &honest)).encode();
		let signers: Vec<_> = receipt.providers.iter().map(|(p, s)| (*p, s.to_vec())).collect();
		assert_eq!(signers, vec![(proposer, signature)]);
		let package = <Test as Config>::Registry::interface(model).unwrap().package_cid;
		assert_eq!(receipt.package_cid.to_vec(), package);
		assert_eq!(Inference::provider(proposer).unwrap().assigned, 0);
	});
}

#[test]
fn a_dispute_re_runs_the_request_and_a_lying_proposer_pays_the_disputer_and_the_jurors() {
	new_test_ext().execute_with(|| {
		let (_, compute_fee, proposer) = optimistic_request();
		let (honest, forged) = (output(&embedding()), output(&other_embedding()));
		assert_ok!(send(propose_call(proposer, &forged)));
		let others = others(proposer);
		let challenger = others[0];
		let before: Vec<Balance> = [BUYER, proposer, OWNER].map(balance).to_vec();
		let others_before: Vec<Balance> = others.iter().copied().map(balance).collect();

		System::set_block_number(2);
		assert_ok!(send(dispute_call(challenger, &honest)));
		let request = Inference::request(0).unwrap();
		let mut jurors = request.providers.to_vec();
		jurors.sort();
		assert_eq!(jurors, others[1..].to_vec(), "every other free provider, up to two");
		assert_eq!(request.stage, Stage::Disputed { k: 2 });
		assert_eq!(
			last_event(),
			Event::ResultDisputed {
				request_id: 0,
				challenger,
				output_hash: Some(output_hash(&embedding()).unwrap()),
				jurors: request.providers.to_vec(),
				deadline: 2 + REQUEST_TIMEOUT,
			}
			.into()
		);
		// One dispute per request.
		assert_noop!(dispatch(dispute_call(jurors[0], &honest)), Error::<Test>::AlreadyDisputed);

		jurors_vote(&jurors, &honest);

		// The jurors sided with the disputer: its result is final and it is paid the compute
		// fee; the proposer loses SLASH, half to the disputer, half to the jurors.
		assert_eq!(Inference::request(0), None);
		let receipt = Inference::receipt(0).unwrap();
		assert_eq!(receipt.outcome, honest);
		let signers: Vec<AccountId> = receipt.providers.iter().map(|(p, _)| *p).collect();
		assert_eq!(signers[0], challenger);
		assert!(events().contains(
			&Event::DisputeSettled {
				request_id: 0,
				upheld: false,
				providers: signers.clone(),
				output_hash: Some(output_hash(&embedding()).unwrap()),
				price_paid: PRICE,
				compute_fee,
			}
			.into()
		));
		assert_eq!(balance(BUYER), before[0] - PRICE - compute_fee);
		assert_eq!(balance(proposer), before[1] - SLASH);
		assert_eq!(balance(OWNER), before[2] + PRICE * 9 / 10);
		assert_eq!(balance(challenger), others_before[0] + compute_fee + SLASH / 2);
		assert_eq!(balance(others[1]), others_before[1] + SLASH / 4);
		assert_eq!(balance(others[2]), others_before[2] + SLASH / 4);
		assert_every_provider_free();
	});
}

#[test]
fn a_false_dispute_costs_the_disputer() {
	new_test_ext().execute_with(|| {
		let (_, compute_fee, proposer) = optimistic_request();
		let (honest, forged) = (output(&embedding()), output(&other_embedding()));
		assert_ok!(send(propose_call(proposer, &honest)));
		let others = others(proposer);
		let challenger = others[2];
		let (proposer_before, challenger_before) = (balance(proposer), balance(challenger));
		assert_ok!(send(dispute_call(challenger, &forged)));
		let jurors = Inference::request(0).unwrap().providers.to_vec();
		jurors_vote(&jurors, &honest);
		assert_eq!(Inference::receipt(0).unwrap().providers[0].0, proposer);
		assert_eq!(balance(proposer), proposer_before + compute_fee + SLASH / 2);
		assert_eq!(balance(challenger), challenger_before - SLASH);
		assert!(events().iter().any(|event| matches!(
			event,
			RuntimeEvent::Inference(Event::DisputeSettled { upheld: true, .. })
		)));
	});
}

#[test]
fn jurors_without_a_majority_refund_everything_and_slash_only_the_silent_juror() {
	new_test_ext().execute_with(|| {
		let (_, compute_fee, proposer) = optimistic_request();
		let (honest, forged) = (output(&embedding()), output(&other_embedding()));
		let buyer = balance(BUYER);
		assert_ok!(send(propose_call(proposer, &honest)));
		let challenger = others(proposer)[0];
		assert_ok!(send(dispute_call(challenger, &forged)));
		let jurors = Inference::request(0).unwrap().providers.to_vec();
		let (talker, silent) = (jurors[0], jurors[1]);
		assert_ok!(send(commit_call(talker, &honest, SALT)));
		let before: Vec<Balance> = [proposer, challenger, silent].map(balance).to_vec();
		// The silent juror's window closes; the one vote cast settles the dispute, without a
		// majority.
		System::set_block_number(3 + COMMIT_WINDOW);
		assert_ok!(send(reveal_call(talker, &honest, SALT)));
		assert_eq!(Inference::request(0), None);
		assert_eq!(Inference::receipt(0), None);
		let refunded = PRICE + compute_fee;
		assert!(events().contains(&Event::NoQuorum { request_id: 0, refunded }.into()));
		// Everything back to the requester, plus the silent juror's slash.
		assert_eq!(balance(BUYER), buyer + SLASH);
		assert_eq!(fees_held(BUYER), 0);
		assert_eq!(
			[proposer, challenger, silent].map(balance).to_vec(),
			vec![before[0], before[1], before[2] - SLASH]
		);
		assert_every_provider_free();
	});
}

#[test]
fn disputes_are_refused_unless_they_can_change_the_result() {
	new_test_ext().execute_with(|| {
		let (model, _, proposer) = optimistic_request();
		let (honest, forged) = (output(&embedding()), output(&other_embedding()));
		let challenger = others(proposer)[0];
		// Nothing proposed yet.
		let early = dispute_call(challenger, &forged);
		assert_eq!(authorize(&early), Err(InvalidTransaction::Call.into()));
		assert_noop!(dispatch(early), Error::<Test>::NoProposal);

		assert_ok!(send(propose_call(proposer, &honest)));
		assert_noop!(dispatch(dispute_call(proposer, &forged)), Error::<Test>::OwnResult);
		assert_noop!(dispatch(dispute_call(challenger, &honest)), Error::<Test>::DisputeAgrees);
		// A provider that does not serve the model cannot judge it.
		assert_ok!(Inference::register_provider(
			RuntimeOrigin::signed(OWNER),
			MIN_BOND,
			key(OWNER),
			HardwareClass::Cpu,
			1
		));
		assert_noop!(dispatch(dispute_call(OWNER, &forged)), Error::<Test>::NotServing);
		// A paused provider takes no work, disputes included.
		assert_ok!(Inference::pause(RuntimeOrigin::signed(challenger)));
		assert_noop!(dispatch(dispute_call(challenger, &forged)), Error::<Test>::NotActive);
		assert_ok!(Inference::resume(RuntimeOrigin::signed(challenger)));
		// Signed by another key.
		let wrong = result(challenger, &forged);
		let signature = signed(proposer, &wrong);
		let forged_key = RuntimeCall::Inference(Call::dispute_result { result: wrong, signature });
		assert_eq!(authorize(&forged_key), Err(InvalidTransaction::BadProof.into()));

		// A single-provider request cannot be disputed.
		assert_ok!(Inference::set_terms(
			RuntimeOrigin::signed(OWNER),
			model,
			Verification::Single,
			Comparison::ExactHash
		));
		request_hi(model);
		let single = InferenceResult::<Test> { request_id: 1, ..result(challenger, &forged) };
		let signature = signed(challenger, &single);
		assert_noop!(
			dispatch(RuntimeCall::Inference(Call::dispute_result { result: single, signature })),
			Error::<Test>::NotOptimistic
		);

		// After the window the result is final: nothing left to dispute.
		let final_at = 1 + u64::from(WINDOW);
		System::set_block_number(final_at);
		Inference::on_initialize(final_at);
		let late = dispute_call(challenger, &forged);
		assert_eq!(authorize(&late), Err(InvalidTransaction::Stale.into()));
		assert_noop!(dispatch(late), Error::<Test>::RequestNotFound);
	});
}

#[test]
fn a_dispute_needs_a_free_juror_and_a_window_must_fit() {
	new_test_ext().execute_with(|| {
		let model = pending_model();
		register(BOB);
		assert_ok!(Inference::serve_model(RuntimeOrigin::signed(BOB), model));
		for window in [0, MAX_CHALLENGE_WINDOW + 1] {
			assert_noop!(
				Inference::set_terms(
					RuntimeOrigin::signed(OWNER),
					model,
					Verification::Optimistic { window },
					Comparison::ExactHash
				),
				Error::<Test>::InvalidWindow
			);
		}
		let terms = Verification::Optimistic { window: 3 };
		assert_ok!(Inference::set_terms(
			RuntimeOrigin::signed(OWNER),
			model,
			terms,
			Comparison::ExactHash
		));
		request_hi(model);
		let proposer = Inference::request(0).unwrap().providers[0];
		let challenger = if proposer == ALICE { BOB } else { ALICE };
		assert_ok!(send(propose_call(proposer, &output(&embedding()))));
		// Only the proposer and the disputer serve the model: nobody can judge.
		assert_noop!(
			dispatch(dispute_call(challenger, &output(&other_embedding()))),
			Error::<Test>::NotEnoughProviders
		);
	});
}
