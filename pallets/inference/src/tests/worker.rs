//! The provider worker: runs assigned requests through the inference service and answers
//! them, once, surviving a service that cannot run them yet.

use super::{
	results::{authorize, embedding, pending_request, submit},
	*,
};
use citrate_inference_primitives::service::{RunBatch, RunInput, RunOutcome, RUN_PATH};
use citrate_tensor_primitives::{encode, DType, Tensor};
use codec::{Decode, Encode};
use polkadot_sdk::{
	sp_core::offchain::{
		testing::{
			OffchainState, PendingRequest, PoolState, TestOffchainExt, TestTransactionPoolExt,
		},
		OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
	},
	sp_io::TestExternalities,
	sp_runtime::{offchain::OffchainStorage, traits::Dispatchable},
};
use std::sync::Arc;

const SERVICE: &str = "http://127.0.0.1:8090";

type Shared<S> = Arc<parking_lot::RwLock<S>>;

/// A test externality with offchain HTTP, storage and a transaction pool, the service URL
/// set, and Alice's provider key in the keystore.
fn worker_ext() -> (TestExternalities, Shared<OffchainState>, Shared<PoolState>) {
	let mut ext = new_test_ext();
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	ext.register_extension(OffchainDbExt::new(offchain.clone()));
	ext.register_extension(OffchainWorkerExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	state.write().persistent_storage.set(
		b"",
		SERVICE_STORAGE_KEY,
		&SERVICE.as_bytes().to_vec().encode(),
	);
	UintAuthorityId::set_all_keys(vec![ALICE]);
	(ext, state, pool_state)
}

/// The batch the worker sends for request 0 of `model`.
fn batch_of(model: ModelId) -> RunBatch {
	let interface = <Test as Config>::Registry::interface(model).unwrap();
	let text = Tensor::new("text", DType::U8, vec![2], b"hi".to_vec()).unwrap();
	RunBatch {
		model_id: model,
		package_cid: interface.package_cid,
		framework: interface.framework,
		task: InferenceTask::FeatureExtraction,
		inputs: vec![RunInput::Inline(encode(&[text]).unwrap())],
		max_output_len: MAX_OUTPUT_LEN,
		quantization: None,
	}
}

/// The service answers `batch` with `outcomes`.
fn expect_run(state: &Shared<OffchainState>, batch: &RunBatch, outcomes: Vec<RunOutcome>) {
	state.write().expect_request(PendingRequest {
		method: "POST".into(),
		uri: format!("{SERVICE}{RUN_PATH}"),
		headers: vec![("Content-Type".into(), "application/octet-stream".into())],
		body: batch.encode(),
		response: Some(outcomes.encode()),
		sent: true,
		..Default::default()
	});
}

/// The results the worker put in the pool since the last call.
fn submitted(pool: &Shared<PoolState>) -> Vec<(super::results::Result_, UintAuthoritySignature)> {
	std::mem::take(&mut pool.write().transactions)
		.into_iter()
		.map(|tx| match Extrinsic::decode(&mut &tx[..]).unwrap().function {
			RuntimeCall::Inference(Call::submit_result { result, signature }) => {
				(result, signature)
			}
			other => panic!("not a result: {other:?}"),
		})
		.collect()
}

type UintAuthoritySignature = polkadot_sdk::sp_runtime::testing::TestSignature;

#[test]
fn the_worker_runs_an_assigned_request_and_its_signed_answer_settles_it() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		let (model, _) = pending_request();
		let output = encode(&embedding()).unwrap();
		expect_run(&state, &batch_of(model), vec![RunOutcome::Output(output.clone())]);
		Inference::offchain_worker(1);

		let answers = submitted(&pool);
		assert_eq!(answers.len(), 1);
		let (result, signature) = answers.into_iter().next().unwrap();
		assert_eq!((result.request_id, result.provider), (0, ALICE));
		assert_eq!(result.outcome, Outcome::Output(output.try_into().unwrap()));
		assert_eq!(authorize(&result, &signature), Ok(()));
		assert_ok!(submit(result, signature));
		assert!(Inference::receipt(0).is_some());

		// Settled: later blocks neither run nor answer it again.
		Inference::offchain_worker(2);
		Inference::offchain_worker(10);
		assert!(submitted(&pool).is_empty());
	});
}

#[test]
fn an_answer_is_sent_once_and_again_only_if_it_was_not_included() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		let (model, _) = pending_request();
		let output = RunOutcome::Output(encode(&embedding()).unwrap());
		expect_run(&state, &batch_of(model), vec![output.clone()]);
		Inference::offchain_worker(1);
		assert_eq!(submitted(&pool).len(), 1);

		// The answer was lost (not included): nothing is run again for four blocks…
		for block in 2..6 {
			Inference::offchain_worker(block);
		}
		assert!(submitted(&pool).is_empty());
		// …then it is run and sent again, as after a restart of the provider's node.
		expect_run(&state, &batch_of(model), vec![output]);
		Inference::offchain_worker(6);
		assert_eq!(submitted(&pool).len(), 1);
	});
}

#[test]
fn a_deterministic_failure_is_answered_and_an_unavailable_run_is_retried() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		let (model, _) = pending_request();
		expect_run(&state, &batch_of(model), vec![RunOutcome::Unavailable(b"fetching".to_vec())]);
		Inference::offchain_worker(1);
		assert!(submitted(&pool).is_empty());

		// The next block tries again at once.
		let reason = "image: not a PNG or JPEG".repeat(20);
		expect_run(&state, &batch_of(model), vec![RunOutcome::Failed(reason.clone().into())]);
		Inference::offchain_worker(2);
		let answers = submitted(&pool);
		assert_eq!(answers.len(), 1);
		let Outcome::Failed(sent) = &answers[0].0.outcome else { panic!("not a failure") };
		// Cut to the longest reason a result carries.
		assert_eq!(sent[..], reason.as_bytes()[..MAX_FAILURE_LEN as usize]);
	});
}

#[test]
fn an_output_over_the_limit_breaks_the_protocol_and_is_not_answered() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		let (model, _) = pending_request();
		let big = vec![0u8; MAX_OUTPUT_LEN as usize + 1];
		expect_run(&state, &batch_of(model), vec![RunOutcome::Output(big)]);
		Inference::offchain_worker(1);
		assert!(submitted(&pool).is_empty());
		// Tried again in the next block.
		let output = RunOutcome::Output(encode(&embedding()).unwrap());
		expect_run(&state, &batch_of(model), vec![output]);
		Inference::offchain_worker(2);
		assert_eq!(submitted(&pool).len(), 1);
	});
}

#[test]
fn requests_of_other_providers_and_a_failing_service_send_nothing() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		let (model, _) = pending_request();
		// Only Bob's key is here: Alice's request is not this node's work.
		UintAuthorityId::set_all_keys(vec![BOB]);
		Inference::offchain_worker(1);
		UintAuthorityId::set_all_keys(vec![ALICE]);

		// The service answers with fewer outcomes than inputs: nothing is sent, and the
		// request is tried again in the next block.
		expect_run(&state, &batch_of(model), vec![]);
		Inference::offchain_worker(2);
		assert!(submitted(&pool).is_empty());
		expect_run(
			&state,
			&batch_of(model),
			vec![RunOutcome::Output(encode(&embedding()).unwrap())],
		);
		Inference::offchain_worker(3);
		assert_eq!(submitted(&pool).len(), 1);
	});
}

/// A quorum {3, 2} model served by Alice, Bob and Carol, and request 0 from BUYER.
fn quorum_model() -> ModelId {
	let model = super::results::pending_model();
	for who in [BOB, CAROL] {
		register(who);
		assert_ok!(Inference::serve_model(RuntimeOrigin::signed(who), model));
	}
	let quorum = Verification::Quorum { n: 3, k: 2 };
	assert_ok!(Inference::set_terms(
		RuntimeOrigin::signed(OWNER),
		model,
		quorum,
		Comparison::ExactHash
	));
	super::results::request_hi(model);
	model
}

#[test]
fn a_lost_commitment_is_sent_again_from_the_kept_result_without_running_it() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		let model = quorum_model();
		let output = encode(&embedding()).unwrap();
		expect_run(&state, &batch_of(model), vec![RunOutcome::Output(output)]);
		Inference::offchain_worker(1);
		let first = std::mem::take(&mut pool.write().transactions);
		assert_eq!(first.len(), 1);
		// Not included (the node restarted, the pool dropped it): the next block waits…
		Inference::offchain_worker(2);
		assert!(pool.read().transactions.is_empty());
		// …then the same commitment goes out again; no run is expected by the service.
		Inference::offchain_worker(3);
		assert_eq!(std::mem::take(&mut pool.write().transactions), first);
	});
}

#[test]
fn under_a_quorum_the_worker_commits_then_reveals_what_it_ran() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		let model = quorum_model();
		let output = encode(&embedding()).unwrap();
		expect_run(&state, &batch_of(model), vec![RunOutcome::Output(output.clone())]);
		Inference::offchain_worker(1);

		// A commitment, not the result: nothing in it gives the output away.
		let txs = std::mem::take(&mut pool.write().transactions);
		assert_eq!(txs.len(), 1);
		let call = Extrinsic::decode(&mut &txs[0][..]).unwrap().function;
		let RuntimeCall::Inference(Call::commit_result { commitment, .. }) = &call else {
			panic!("not a commitment: {call:?}")
		};
		assert_eq!((commitment.request_id, commitment.provider), (0, ALICE));
		assert!(!call.encode().windows(output.len()).any(|w| w == &output[..]));
		assert_ok!(call
			.dispatch(polkadot_sdk::frame_support::dispatch::RawOrigin::Authorized.into())
			.map_err(|e| e.error));
		// Commits are still open: nothing to reveal yet.
		Inference::offchain_worker(2);
		assert!(pool.read().transactions.is_empty());

		// The others commit; the worker reveals the output it ran, with its salt.
		let other = Outcome::Output(output.clone().try_into().unwrap());
		for who in [BOB, CAROL] {
			assert_ok!(Inference::do_commit_result(ResultCommitment {
				request_id: 0,
				provider: who,
				commitment: commitment_of(&other, &who, &[3; 32]),
			}));
		}
		Inference::offchain_worker(3);
		let txs = std::mem::take(&mut pool.write().transactions);
		let call = Extrinsic::decode(&mut &txs[0][..]).unwrap().function;
		let RuntimeCall::Inference(Call::reveal_result { result, .. }) = &call else {
			panic!("not a reveal: {call:?}")
		};
		assert_eq!(result.outcome, other);
		assert_ok!(call
			.dispatch(polkadot_sdk::frame_support::dispatch::RawOrigin::Authorized.into())
			.map_err(|e| e.error));
		assert!(Inference::vote(0, ALICE).unwrap().reveal.is_some());
	});
}

/// An optimistic request proposed with `proposed` by its provider; this node holds the key
/// of another provider of the model, which watches it. Returns the model and the watcher.
fn watched_proposal(proposed: Vec<Tensor>) -> (ModelId, AccountId) {
	use super::optimistic::{optimistic_request, others, propose_call};
	let (model, _, proposer) = optimistic_request();
	assert_ok!(super::quorum::send(propose_call(proposer, &super::results::output(&proposed))));
	let watcher = others(proposer)[0];
	UintAuthorityId::set_all_keys(vec![watcher]);
	(model, watcher)
}

#[test]
fn a_watcher_disputes_a_proposed_result_it_does_not_reproduce() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		let (model, watcher) = watched_proposal(super::quorum::other_embedding());
		let output = encode(&embedding()).unwrap();
		expect_run(&state, &batch_of(model), vec![RunOutcome::Output(output.clone())]);
		Inference::offchain_worker(2);
		let txs = std::mem::take(&mut pool.write().transactions);
		assert_eq!(txs.len(), 1);
		let call = Extrinsic::decode(&mut &txs[0][..]).unwrap().function;
		let RuntimeCall::Inference(Call::dispute_result { result, .. }) = &call else {
			panic!("not a dispute: {call:?}")
		};
		assert_eq!((result.request_id, result.provider), (0, watcher));
		assert_eq!(result.outcome, Outcome::Output(output.try_into().unwrap()));
		assert_eq!(super::quorum::authorize(&call), Ok(()));
		assert_ok!(super::quorum::dispatch(call));
		assert!(matches!(Inference::request(0).unwrap().stage, Stage::Disputed { .. }));
	});
}

#[test]
fn a_watcher_checks_an_agreeing_result_once_and_sends_nothing() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		let (model, _) = watched_proposal(embedding());
		let output = encode(&embedding()).unwrap();
		expect_run(&state, &batch_of(model), vec![RunOutcome::Output(output)]);
		Inference::offchain_worker(2);
		assert!(pool.read().transactions.is_empty());
		// Not run again while the window is open (the service expects no more runs).
		for block in 3..10 {
			Inference::offchain_worker(block);
		}
		assert!(pool.read().transactions.is_empty());
	});
}

#[test]
fn an_input_by_cid_goes_to_the_service_as_a_cid_and_a_stored_output_is_answered_by_cid() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		let model = super::results::pending_model();
		let cid = super::ipfs::input_cid();
		assert_ok!(Inference::request_inference_cid(
			RuntimeOrigin::signed(BUYER),
			model,
			cid.clone(),
			Balance::MAX
		));
		let stored = citrate_inference_primitives::service::StoredOutput {
			cid: super::ipfs::output_cid(),
			size: 70_000,
			output_hash: [4; 32],
			quantized_hash: None,
		};
		// Sent as the CIDv1 the request keeps.
		let cid_v1 = super::ipfs::input_cid_v1();
		let batch = RunBatch { inputs: vec![RunInput::Cid(cid_v1)], ..batch_of(model) };
		expect_run(&state, &batch, vec![RunOutcome::Stored(stored.clone())]);
		Inference::offchain_worker(1);
		let answers = submitted(&pool);
		assert_eq!(answers.len(), 1);
		let (result, signature) = answers.into_iter().next().unwrap();
		let Outcome::Stored(sent) = &result.outcome else { panic!("{:?}", result.outcome) };
		assert_eq!((sent.cid.to_vec(), sent.size, sent.output_hash), (stored.cid, 70_000, [4; 32]));
		assert_ok!(submit(result, signature));
		assert_eq!(Inference::receipt(0).unwrap().output_hash, Some([4; 32]));
	});
}

#[test]
fn sent_records_are_removed_once_their_deadline_passed() {
	let (mut ext, state, pool) = worker_ext();
	ext.execute_with(|| {
		let (model, _) = pending_request();
		let output = RunOutcome::Output(encode(&embedding()).unwrap());
		expect_run(&state, &batch_of(model), vec![output]);
		Inference::offchain_worker(1);
		let (result, signature) = submitted(&pool).pop().unwrap();
		assert_ok!(submit(result, signature));

		let key = crate::offchain::sent_key(0, &ALICE, crate::offchain::Step::Answer);
		let kept = |key: &[u8]| state.read().persistent_storage.get(key).is_some();
		assert!(kept(&key));
		// Kept until the request's deadline (block 1 + REQUEST_TIMEOUT) has passed…
		Inference::offchain_worker(1 + REQUEST_TIMEOUT);
		assert!(kept(&key));
		// …then removed, with the list it was kept in.
		Inference::offchain_worker(2 + REQUEST_TIMEOUT);
		assert!(!kept(&key));
		let index =
			[&b"citrate::inference::sent-index::"[..], &(1 + REQUEST_TIMEOUT).encode()].concat();
		assert!(!kept(&index));
	});
}
