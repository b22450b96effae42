//! Metadata records and their deposits.

use super::*;

fn metadata_held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::MetadataDeposit.into(), &who)
}

/// A sentence-embedding model's metadata with `tags` tags and a symbolic batch dimension.
fn embedding_metadata(tags: usize) -> ModelMetadata {
	let tensor = |name: &[u8], dims: Vec<Dim>| TensorSpec {
		name: bounded(name),
		dtype: DType::I64,
		dims: dims.try_into().unwrap(),
	};
	let batch = || Dim::Symbolic(bounded(b"batch"));
	ModelMetadata {
		description: bounded(b"all-MiniLM-L6-v2 sentence embeddings"),
		task: InferenceTask::FeatureExtraction,
		inputs: vec![
			tensor(b"input_ids", vec![batch(), Dim::Symbolic(bounded(b"sequence"))]),
			tensor(b"attention_mask", vec![batch(), Dim::Symbolic(bounded(b"sequence"))]),
		]
		.try_into()
		.unwrap(),
		outputs: vec![TensorSpec {
			dtype: DType::F32,
			..tensor(b"embedding", vec![batch(), Dim::Fixed(384)])
		}]
		.try_into()
		.unwrap(),
		parameter_count: 22_700_000,
		flops_per_inference: 2_900_000_000,
		min_memory_bytes: 200_000_000,
		tags: (0..tags)
			.map(|i| bounded(format!("tag{i}").as_bytes()))
			.collect::<Vec<_>>()
			.try_into()
			.unwrap(),
		documentation: bounded(b"https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2"),
		tokenizer_cid: Some(bounded(CID_V0)),
		import_attestation: Some([7; 32]),
	}
}

#[test]
fn set_metadata_stores_it_and_holds_a_deposit_sized_to_it() {
	new_test_ext().execute_with(|| {
		assert_ok!(register(ALICE, b"minilm", cid(1)));
		let metadata = embedding_metadata(2);
		assert_ok!(ModelRegistry::set_metadata(RuntimeOrigin::signed(ALICE), 1, metadata.clone()));

		let record = Metadata::<Test>::get(1).unwrap();
		assert_eq!(record.metadata, metadata);
		let expected =
			METADATA_DEPOSIT_BASE + DEPOSIT_PER_BYTE * metadata.encoded_size() as Balance;
		assert_eq!(record.deposit.amount, expected);
		assert_eq!(metadata_held(ALICE), expected);
		assert_eq!(
			last_event(),
			Event::MetadataSet { model_id: 1, depositor: ALICE, deposit: expected }.into()
		);
		// The model record and its own deposit are untouched.
		assert_eq!(held(ALICE), Models::<Test>::get(1).unwrap().deposit.amount);
	});
}

#[test]
fn set_metadata_resizes_the_deposit_up_and_down() {
	new_test_ext().execute_with(|| {
		assert_ok!(register(ALICE, b"minilm", cid(1)));
		let small = embedding_metadata(0);
		let large = embedding_metadata(8);
		let deposit = |m: &ModelMetadata| METADATA_DEPOSIT_BASE + m.encoded_size() as Balance;
		assert!(deposit(&large) > deposit(&small));

		assert_ok!(ModelRegistry::set_metadata(RuntimeOrigin::signed(ALICE), 1, small.clone()));
		assert_eq!(metadata_held(ALICE), deposit(&small));
		assert_ok!(ModelRegistry::set_metadata(RuntimeOrigin::signed(ALICE), 1, large.clone()));
		assert_eq!(metadata_held(ALICE), deposit(&large));
		assert_ok!(ModelRegistry::set_metadata(RuntimeOrigin::signed(ALICE), 1, small.clone()));
		assert_eq!(metadata_held(ALICE), deposit(&small));
		assert_eq!(Metadata::<Test>::get(1).unwrap().metadata, small);
	});
}

#[test]
fn set_metadata_after_a_transfer_moves_the_deposit_to_the_new_owner() {
	new_test_ext().execute_with(|| {
		assert_ok!(register(ALICE, b"minilm", cid(1)));
		assert_ok!(ModelRegistry::set_metadata(
			RuntimeOrigin::signed(ALICE),
			1,
			embedding_metadata(1)
		));
		assert_ok!(ModelRegistry::transfer_ownership(RuntimeOrigin::signed(ALICE), 1, BOB));
		assert_ok!(ModelRegistry::set_metadata(
			RuntimeOrigin::signed(BOB),
			1,
			embedding_metadata(3)
		));

		assert_eq!(metadata_held(ALICE), 0);
		let record = Metadata::<Test>::get(1).unwrap();
		assert_eq!(record.deposit.depositor, BOB);
		assert_eq!(metadata_held(BOB), record.deposit.amount);
	});
}

#[test]
fn set_metadata_error_paths_change_nothing() {
	new_test_ext().execute_with(|| {
		assert_ok!(register(ALICE, b"minilm", cid(1)));
		assert_ok!(ModelRegistry::set_metadata(
			RuntimeOrigin::signed(ALICE),
			1,
			embedding_metadata(1)
		));
		let before = Metadata::<Test>::get(1).unwrap();

		assert_noop!(
			ModelRegistry::set_metadata(RuntimeOrigin::signed(ALICE), 9, embedding_metadata(1)),
			Error::<Test>::ModelNotFound
		);
		assert_noop!(
			ModelRegistry::set_metadata(RuntimeOrigin::signed(BOB), 1, embedding_metadata(1)),
			Error::<Test>::NotOwner
		);
		let bad_tokenizer =
			ModelMetadata { tokenizer_cid: Some(bounded(b"not-a-cid")), ..embedding_metadata(1) };
		assert_noop!(
			ModelRegistry::set_metadata(RuntimeOrigin::signed(ALICE), 1, bad_tokenizer),
			Error::<Test>::InvalidTokenizerCid
		);
		let identity_tokenizer = ModelMetadata {
			tokenizer_cid: Some(bounded(b"bafkqablimvwgy3y")),
			..embedding_metadata(1)
		};
		assert_noop!(
			ModelRegistry::set_metadata(RuntimeOrigin::signed(ALICE), 1, identity_tokenizer),
			Error::<Test>::InvalidTokenizerCid
		);
		let mut latin1 = embedding_metadata(1);
		latin1.tags[0] = bounded(b"caf\xe9");
		assert_noop!(
			ModelRegistry::set_metadata(RuntimeOrigin::signed(ALICE), 1, latin1),
			Error::<Test>::MetadataNotUtf8
		);
		let mut unnamed = embedding_metadata(1);
		unnamed.inputs[0].name = bounded(b"");
		assert_noop!(
			ModelRegistry::set_metadata(RuntimeOrigin::signed(ALICE), 1, unnamed),
			Error::<Test>::InvalidTensorSpec
		);
		let mut bad_symbol = embedding_metadata(1);
		bad_symbol.outputs[0].dims[0] = Dim::Symbolic(bounded(&[0xff]));
		assert_noop!(
			ModelRegistry::set_metadata(RuntimeOrigin::signed(ALICE), 1, bad_symbol),
			Error::<Test>::InvalidTensorSpec
		);
		// POOR owns a model but cannot cover a larger deposit: the old metadata stays.
		assert_ok!(ModelRegistry::transfer_ownership(RuntimeOrigin::signed(ALICE), 1, POOR));
		assert_noop!(
			ModelRegistry::set_metadata(RuntimeOrigin::signed(POOR), 1, embedding_metadata(16)),
			Error::<Test>::InsufficientDeposit
		);
		assert_eq!(Metadata::<Test>::get(1).unwrap(), before);
		assert_eq!(metadata_held(ALICE), before.deposit.amount);
	});
}

#[test]
fn metadata_bounds_are_enforced_when_decoding() {
	// Extrinsic arguments decode into bounded types: encode the struct's fields in order with
	// an unbounded tag list, and one tag too many does not decode.
	let metadata = embedding_metadata(0);
	let encode_with_tags = |count: u32| {
		let tags: Vec<Vec<u8>> = (0..count).map(|i| format!("t{i}").into_bytes()).collect();
		(
			&metadata.description,
			metadata.task,
			&metadata.inputs,
			&metadata.outputs,
			metadata.parameter_count,
			metadata.flops_per_inference,
			metadata.min_memory_bytes,
			tags,
			&metadata.documentation,
			&metadata.tokenizer_cid,
			&metadata.import_attestation,
		)
			.encode()
	};
	let fits = ModelMetadata::decode(&mut &encode_with_tags(metadata_limits::MAX_TAGS)[..]);
	assert_eq!(fits.unwrap().tags.len() as u32, metadata_limits::MAX_TAGS);
	let over = encode_with_tags(metadata_limits::MAX_TAGS + 1);
	assert!(ModelMetadata::decode(&mut &over[..]).is_err());
}

#[test]
fn remove_model_releases_the_metadata_deposit_too() {
	new_test_ext().execute_with(|| {
		assert_ok!(register(ALICE, b"minilm", cid(1)));
		assert_ok!(ModelRegistry::set_metadata(
			RuntimeOrigin::signed(ALICE),
			1,
			embedding_metadata(4)
		));
		assert_ok!(ModelRegistry::deprecate(RuntimeOrigin::signed(ALICE), 1));
		assert_ok!(ModelRegistry::remove_model(RuntimeOrigin::signed(ALICE), 1));
		assert!(Metadata::<Test>::get(1).is_none());
		assert_eq!(metadata_held(ALICE), 0);
		assert_eq!(held(ALICE), 0);
		assert_eq!(Balances::free_balance(ALICE), INITIAL_BALANCE);
	});
}
