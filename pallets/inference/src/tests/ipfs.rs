//! Inputs and outputs in IPFS: requests naming their input by CID, outputs too long for the
//! chain answered by the CID the provider stored them under.

use super::{
	quorum::{balance, commit_call, fees_held, send, signed, Output, SALT},
	results::{embedding, output, pending_model, PRICE},
	*,
};
use citrate_inference_primitives::output::output_hash;
use polkadot_sdk::sp_io::hashing::blake2_256;

/// A binary CIDv0 (a bare sha2-256 multihash) of an input file.
pub(super) fn input_cid() -> Vec<u8> {
	[&[0x12, 0x20][..], &[7; 32]].concat()
}

/// The same content as [`input_cid`], as binary CIDv1 (dag-pb).
pub(super) fn input_cid_v1() -> Vec<u8> {
	[&[0x01, 0x70, 0x12, 0x20][..], &[7; 32]].concat()
}

/// A binary CIDv1 of an output file (raw leaves, so its root is dag-pb).
pub(super) fn output_cid() -> Vec<u8> {
	[&[0x01, 0x70, 0x12, 0x20][..], &[8; 32]].concat()
}

fn stored(cid: Vec<u8>, output_hash: [u8; 32]) -> Output {
	Outcome::Stored(StoredOutput {
		cid: cid.try_into().unwrap(),
		size: 70_000,
		output_hash,
		quantized_hash: None,
	})
}

fn answer(provider: AccountId, outcome: Output) -> DispatchResult {
	let result = InferenceResult::<Test> { request_id: 0, provider, outcome };
	let signature = signed(provider, &result);
	send(RuntimeCall::Inference(Call::submit_result { result, signature }))
}

#[test]
fn an_input_named_by_cid_is_requested_as_cidv1_and_named_by_the_receipt() {
	new_test_ext().execute_with(|| {
		let model = pending_model();
		assert_ok!(Inference::request_inference_cid(
			RuntimeOrigin::signed(BUYER),
			model,
			input_cid(),
			Balance::MAX
		));
		let request = Inference::request(0).unwrap();
		assert_eq!(request.input, RequestInput::Cid(input_cid_v1().try_into().unwrap()));
		assert_eq!(request.input_hash, blake2_256(&input_cid_v1()));
		assert_eq!(fees_held(BUYER), PRICE + request.compute_fee);

		assert_ok!(answer(ALICE, output(&embedding())));
		let receipt = Inference::receipt(0).unwrap();
		assert_eq!(receipt.input_cid.map(|cid| cid.to_vec()), Some(input_cid_v1()));
		assert_eq!(receipt.input_hash, blake2_256(&input_cid_v1()));
		assert_eq!(receipt.price_paid, PRICE);
	});
}

#[test]
fn input_cids_a_store_cannot_hold_are_refused_and_nothing_is_held() {
	new_test_ext().execute_with(|| {
		let model = pending_model();
		let identity = [&[0x01, 0x55, 0x00, 0x03][..], b"abc"].concat();
		let blake2b = [&[0x01, 0x55, 0xa0, 0xe4, 0x02, 0x20][..], &[1; 32]].concat();
		let truncated = input_cid()[..20].to_vec();
		for cid in [identity, blake2b, truncated, b"QmNotBinary".to_vec()] {
			assert_noop!(
				Inference::request_inference_cid(
					RuntimeOrigin::signed(BUYER),
					model,
					cid.clone(),
					Balance::MAX
				),
				Error::<Test>::InvalidCid
			);
		}
		assert_eq!(fees_held(BUYER), 0);
	});
}

#[test]
fn a_stored_output_settles_by_its_cid_and_hash_and_its_cid_must_be_canonical() {
	new_test_ext().execute_with(|| {
		let model = pending_model();
		super::results::request_hi(model);
		let owner = balance(OWNER);
		// The CIDv0 form of a CID is not the canonical binary CIDv1 receipts name.
		let v0 = [&[0x12, 0x20][..], &[8; 32]].concat();
		assert_eq!(answer(ALICE, stored(v0, [4; 32])), Err(Error::<Test>::InvalidCid.into()));
		assert_ok!(answer(ALICE, stored(output_cid(), [4; 32])));
		let receipt = Inference::receipt(0).unwrap();
		assert_eq!(receipt.outcome, stored(output_cid(), [4; 32]));
		assert_eq!((receipt.output_hash, receipt.price_paid), (Some([4; 32]), PRICE));
		assert_eq!(balance(OWNER), owner + PRICE * 9 / 10);
	});
}

#[test]
fn under_a_quorum_a_stored_output_agrees_with_the_same_output_inline() {
	new_test_ext().execute_with(|| {
		let model = pending_model();
		for who in [BOB, CAROL] {
			register(who);
			assert_ok!(Inference::serve_model(RuntimeOrigin::signed(who), model));
		}
		let quorum = Verification::Quorum { n: 3, k: 3 };
		assert_ok!(Inference::set_terms(
			RuntimeOrigin::signed(OWNER),
			model,
			quorum,
			Comparison::ExactHash
		));
		super::results::request_hi(model);
		let inline = output(&embedding());
		let kept = stored(output_cid(), output_hash(&embedding()).unwrap());
		for (who, outcome) in [(ALICE, &inline), (BOB, &inline), (CAROL, &kept)] {
			assert_ok!(send(commit_call(who, outcome, SALT)));
		}
		for (who, outcome) in [(ALICE, &inline), (BOB, &inline), (CAROL, &kept)] {
			assert_ok!(send(super::quorum::reveal_call(who, outcome, SALT)));
		}
		let receipt = Inference::receipt(0).expect("all three agree");
		assert_eq!(receipt.providers.len(), 3);

		// Compared quantised, a stored output must carry its quantised hash.
		let quantized = Comparison::Quantized { fraction_bits: 8 };
		assert_ok!(Inference::set_terms(RuntimeOrigin::signed(OWNER), model, quorum, quantized));
		super::results::request_hi(model);
		let kept = stored(output_cid(), output_hash(&embedding()).unwrap());
		let commitment = ResultCommitment::<Test> {
			request_id: 1,
			provider: CAROL,
			commitment: commitment_of(&kept, &CAROL, &SALT),
		};
		let signature = signed(CAROL, &commitment);
		assert_ok!(send(RuntimeCall::Inference(Call::commit_result { commitment, signature })));
		System::set_block_number(2 + COMMIT_WINDOW);
		let result = InferenceResult::<Test> { request_id: 1, provider: CAROL, outcome: kept };
		let signature = signed(CAROL, &result);
		assert_noop!(
			Inference::reveal_result(
				polkadot_sdk::frame_support::dispatch::RawOrigin::Authorized.into(),
				result,
				SALT,
				signature
			),
			Error::<Test>::MalformedOutput
		);
	});
}
