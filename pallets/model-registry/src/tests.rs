use crate::{mock::*, *};
use polkadot_sdk::{
	frame_support::{assert_noop, assert_ok, traits::fungible::InspectHold},
	frame_system,
	sp_runtime::{DispatchError, TokenError},
};

/// A distinct, valid CIDv1 (raw, sha2-256, base16) for each `n`.
fn cid(n: u8) -> Vec<u8> {
	cid::raw_sha256_v1_base16(&[n; 32])
}

const CID_V0: &[u8] = b"QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o";
const CID_V1_OF_V0: &[u8] = b"bafybeicg2rebjoofv4kbyovkw7af3rpiitvnl6i7ckcywaq6xjcxnc2mby";

fn register(who: AccountId, name: &[u8], cid: Vec<u8>) -> DispatchResult {
	ModelRegistry::register_model(
		RuntimeOrigin::signed(who),
		name.to_vec(),
		cid,
		ModelType::Embedding,
		Framework::Onnx,
		90_000_000,
		LicenseKind::OpenSource,
		b"Apache-2.0".to_vec(),
	)
}

fn publish(who: AccountId, name: &[u8], cid: Vec<u8>) -> DispatchResult {
	ModelRegistry::publish_version(
		RuntimeOrigin::signed(who),
		name.to_vec(),
		cid,
		Framework::Safetensors,
		45_000_000,
	)
}

fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::ModelDeposit.into(), &who)
}

fn last_event() -> RuntimeEvent {
	frame_system::Pallet::<Test>::events().pop().expect("an event").event
}

fn bounded<S: Get<u32>>(bytes: &[u8]) -> BoundedVec<u8, S> {
	bytes.to_vec().try_into().unwrap()
}

/// Storage is untouched: no model, no index entry, nothing held.
fn assert_nothing_stored() {
	assert_eq!(Models::<Test>::iter().count(), 0);
	assert_eq!(ModelVersions::<Test>::iter().count(), 0);
	assert_eq!(ModelIdByCid::<Test>::iter().count(), 0);
	assert_eq!(ModelsByOwner::<Test>::iter().count(), 0);
	assert_eq!(NextModelId::<Test>::get(), 1);
	assert_eq!(held(ALICE), 0);
}

#[test]
fn register_model_stores_indexes_holds_deposit_and_emits_event() {
	new_test_ext().execute_with(|| {
		assert_ok!(register(ALICE, b"minilm", CID_V0.to_vec()));

		let model = Models::<Test>::get(1).expect("stored");
		assert_eq!(model.name.as_slice(), b"minilm");
		assert_eq!(model.cid.as_slice(), CID_V0);
		assert_eq!(model.owner, ALICE);
		assert_eq!(model.version, 1);
		assert_eq!(model.model_type, ModelType::Embedding);
		assert_eq!(model.framework, Framework::Onnx);
		assert_eq!(model.size_bytes, 90_000_000);
		assert_eq!(model.license.kind, LicenseKind::OpenSource);
		assert_eq!(model.license.identifier.as_slice(), b"Apache-2.0");
		assert_eq!(model.status, ModelStatus::Active);
		assert_eq!((model.usage_count, model.total_rewards), (0, 0));
		assert_eq!(model.registered_at, 1);

		// Deposit = base + per byte × encoded size, held from the registrant.
		let expected = DEPOSIT_BASE + DEPOSIT_PER_BYTE * model.encoded_size() as Balance;
		assert_eq!(model.deposit.amount, expected);
		assert_eq!(model.deposit.depositor, ALICE);
		assert_eq!(held(ALICE), expected);
		assert_eq!(Balances::free_balance(ALICE), INITIAL_BALANCE - expected);

		assert_eq!(ModelsByOwner::<Test>::get(ALICE).into_inner(), vec![1]);
		assert_eq!(ModelIdByCid::<Test>::get(binary_cid(CID_V0).unwrap()), Some(1));
		assert_eq!(ModelRegistry::versions_of(b"minilm"), vec![1]);
		assert_eq!(NextModelId::<Test>::get(), 2);
		assert_eq!(
			last_event(),
			RuntimeEvent::ModelRegistry(Event::ModelRegistered {
				model_id: 1,
				name: bounded(b"minilm"),
				owner: ALICE,
				cid: bounded(CID_V0),
			})
		);
	});
}

#[test]
fn register_model_rejects_bad_input_and_stores_nothing() {
	new_test_ext().execute_with(|| {
		let too_long = vec![b'n'; MAX_NAME_LENGTH as usize + 1];
		assert_noop!(register(ALICE, &too_long, cid(1)), Error::<Test>::NameTooLong);
		assert_noop!(register(ALICE, b"", cid(1)), Error::<Test>::EmptyName);
		assert_noop!(register(ALICE, b"m", b"QmNotACid".to_vec()), Error::<Test>::InvalidCid);
		assert_noop!(register(ALICE, b"m", vec![b'b'; 129]), Error::<Test>::CidTooLong);
		assert_noop!(
			ModelRegistry::register_model(
				RuntimeOrigin::signed(ALICE),
				b"m".to_vec(),
				cid(1),
				ModelType::Vision,
				Framework::Onnx,
				1,
				LicenseKind::Custom,
				vec![b'x'; 33],
			),
			Error::<Test>::LicenseIdTooLong
		);
		assert_noop!(
			ModelRegistry::register_model(
				RuntimeOrigin::none(),
				b"m".to_vec(),
				cid(1),
				ModelType::Vision,
				Framework::Onnx,
				1,
				LicenseKind::Custom,
				vec![],
			),
			DispatchError::BadOrigin
		);
		assert_nothing_stored();
	});
}

#[test]
fn register_model_rejects_taken_name_and_cid() {
	new_test_ext().execute_with(|| {
		assert_ok!(register(ALICE, b"m", cid(1)));
		assert_noop!(register(BOB, b"m", cid(2)), Error::<Test>::NameAlreadyRegistered);
		assert_noop!(register(BOB, b"other", cid(1)), Error::<Test>::CidAlreadyRegistered);
		// The CIDv1 text of a registered CIDv0 names the same content.
		assert_ok!(register(ALICE, b"v0", CID_V0.to_vec()));
		assert_noop!(
			register(BOB, b"v1", CID_V1_OF_V0.to_vec()),
			Error::<Test>::CidAlreadyRegistered
		);
		assert_eq!(Models::<Test>::iter().count(), 2);
		assert_eq!(held(BOB), 0);
	});
}

#[test]
fn register_model_without_funds_for_the_deposit_fails() {
	new_test_ext().execute_with(|| {
		assert_noop!(register(POOR, b"m", cid(1)), Error::<Test>::InsufficientDeposit);
		assert_eq!(Balances::free_balance(POOR), 150);
		assert_eq!(Models::<Test>::iter().count(), 0);
	});
}

#[test]
fn register_model_fails_when_owner_index_is_full() {
	new_test_ext().execute_with(|| {
		for n in 0..MAX_MODELS_PER_OWNER as u8 {
			assert_ok!(register(ALICE, &[b'a' + n], cid(n)));
		}
		assert_noop!(register(ALICE, b"z", cid(99)), Error::<Test>::TooManyModels);
	});
}

#[test]
fn publish_version_links_versions_under_the_name() {
	new_test_ext().execute_with(|| {
		assert_ok!(register(ALICE, b"whisper", cid(1)));
		assert_ok!(publish(ALICE, b"whisper", cid(2)));

		let v2 = Models::<Test>::get(2).expect("stored");
		assert_eq!(v2.version, 2);
		assert_eq!(v2.cid.to_vec(), cid(2));
		assert_eq!(v2.framework, Framework::Safetensors);
		assert_eq!(v2.size_bytes, 45_000_000);
		// Type and license carry over from version 1.
		assert_eq!(v2.model_type, ModelType::Embedding);
		assert_eq!(v2.license.identifier.as_slice(), b"Apache-2.0");
		assert_eq!(ModelRegistry::versions_of(b"whisper"), vec![1, 2]);
		assert_eq!(
			ModelVersions::<Test>::get(bounded::<ConstU32<32>>(b"whisper")).unwrap().latest_version,
			2
		);
		assert_eq!(ModelsByOwner::<Test>::get(ALICE).into_inner(), vec![1, 2]);
		assert_eq!(held(ALICE), Models::<Test>::get(1).unwrap().deposit.amount + v2.deposit.amount);
		assert_eq!(
			last_event(),
			RuntimeEvent::ModelRegistry(Event::VersionPublished {
				model_id: 2,
				name: bounded(b"whisper"),
				version: 2,
				previous: 1,
				cid: bounded(&cid(2)),
			})
		);
	});
}

#[test]
fn publish_version_error_paths() {
	new_test_ext().execute_with(|| {
		assert_noop!(publish(ALICE, b"missing", cid(1)), Error::<Test>::NameNotFound);
		assert_ok!(register(ALICE, b"m", cid(1)));
		assert_noop!(publish(BOB, b"m", cid(2)), Error::<Test>::NotOwner);
		assert_noop!(publish(ALICE, b"m", cid(1)), Error::<Test>::CidAlreadyRegistered);
		assert_noop!(publish(ALICE, b"m", b"bogus".to_vec()), Error::<Test>::InvalidCid);
		let too_long = vec![b'n'; MAX_NAME_LENGTH as usize + 1];
		assert_noop!(publish(ALICE, &too_long, cid(2)), Error::<Test>::NameTooLong);
		for n in 2..=MAX_VERSIONS as u8 {
			assert_ok!(publish(ALICE, b"m", cid(n)));
		}
		assert_noop!(publish(ALICE, b"m", cid(50)), Error::<Test>::TooManyVersions);
		assert_eq!(ModelRegistry::versions_of(b"m").len(), MAX_VERSIONS as usize);
	});
}

#[test]
fn transfer_ownership_moves_every_version_and_keeps_deposits() {
	new_test_ext().execute_with(|| {
		assert_ok!(register(ALICE, b"m", cid(1)));
		assert_ok!(publish(ALICE, b"m", cid(2)));
		assert_ok!(register(ALICE, b"other", cid(3)));
		let alice_held = held(ALICE);

		assert_ok!(ModelRegistry::transfer_ownership(RuntimeOrigin::signed(ALICE), 2, BOB));

		assert_eq!(Models::<Test>::get(1).unwrap().owner, BOB);
		assert_eq!(Models::<Test>::get(2).unwrap().owner, BOB);
		assert_eq!(Models::<Test>::get(3).unwrap().owner, ALICE);
		assert_eq!(ModelsByOwner::<Test>::get(ALICE).into_inner(), vec![3]);
		assert_eq!(ModelsByOwner::<Test>::get(BOB).into_inner(), vec![1, 2]);
		// Deposits stay held from the account that paid them.
		assert_eq!(held(ALICE), alice_held);
		assert_eq!(held(BOB), 0);
		assert_eq!(
			last_event(),
			RuntimeEvent::ModelRegistry(Event::OwnershipTransferred {
				name: bounded(b"m"),
				from: ALICE,
				to: BOB,
			})
		);
		// The new owner publishes; the old one no longer can.
		assert_noop!(publish(ALICE, b"m", cid(4)), Error::<Test>::NotOwner);
		assert_ok!(publish(BOB, b"m", cid(4)));
		assert_eq!(Models::<Test>::get(4).unwrap().version, 3);
	});
}

#[test]
fn transfer_ownership_error_paths() {
	new_test_ext().execute_with(|| {
		assert_noop!(
			ModelRegistry::transfer_ownership(RuntimeOrigin::signed(ALICE), 1, BOB),
			Error::<Test>::ModelNotFound
		);
		assert_ok!(register(ALICE, b"m", cid(1)));
		assert_noop!(
			ModelRegistry::transfer_ownership(RuntimeOrigin::signed(BOB), 1, BOB),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			ModelRegistry::transfer_ownership(RuntimeOrigin::signed(ALICE), 1, ALICE),
			Error::<Test>::AlreadyOwner
		);
		for n in 0..MAX_MODELS_PER_OWNER as u8 {
			assert_ok!(register(BOB, &[b'a' + n], cid(10 + n)));
		}
		assert_noop!(
			ModelRegistry::transfer_ownership(RuntimeOrigin::signed(ALICE), 1, BOB),
			Error::<Test>::TooManyModels
		);
		assert_eq!(Models::<Test>::get(1).unwrap().owner, ALICE);
	});
}

#[test]
fn deprecate_marks_the_version_and_its_errors() {
	new_test_ext().execute_with(|| {
		assert_noop!(
			ModelRegistry::deprecate(RuntimeOrigin::signed(ALICE), 1),
			Error::<Test>::ModelNotFound
		);
		assert_ok!(register(ALICE, b"m", cid(1)));
		assert_noop!(
			ModelRegistry::deprecate(RuntimeOrigin::signed(BOB), 1),
			Error::<Test>::NotOwner
		);
		assert!(<ModelRegistry as ModelRegistryInspect<AccountId>>::model(1).unwrap().active);

		assert_ok!(ModelRegistry::deprecate(RuntimeOrigin::signed(ALICE), 1));
		assert_eq!(Models::<Test>::get(1).unwrap().status, ModelStatus::Deprecated);
		assert!(!<ModelRegistry as ModelRegistryInspect<AccountId>>::model(1).unwrap().active);
		assert_eq!(
			last_event(),
			RuntimeEvent::ModelRegistry(Event::ModelDeprecated { model_id: 1 })
		);
		assert_noop!(
			ModelRegistry::deprecate(RuntimeOrigin::signed(ALICE), 1),
			Error::<Test>::AlreadyDeprecated
		);
	});
}

#[test]
fn remove_model_releases_the_deposit_to_the_payer_and_cleans_indexes() {
	new_test_ext().execute_with(|| {
		assert_ok!(register(ALICE, b"m", cid(1)));
		assert_ok!(publish(ALICE, b"m", cid(2)));
		let v1_deposit = Models::<Test>::get(1).unwrap().deposit.amount;
		let v2_deposit = Models::<Test>::get(2).unwrap().deposit.amount;
		assert_ok!(ModelRegistry::transfer_ownership(RuntimeOrigin::signed(ALICE), 1, BOB));

		assert_noop!(
			ModelRegistry::remove_model(RuntimeOrigin::signed(BOB), 1),
			Error::<Test>::NotDeprecated
		);
		assert_ok!(ModelRegistry::deprecate(RuntimeOrigin::signed(BOB), 1));
		assert_noop!(
			ModelRegistry::remove_model(RuntimeOrigin::signed(ALICE), 1),
			Error::<Test>::NotOwner
		);
		assert_ok!(ModelRegistry::remove_model(RuntimeOrigin::signed(BOB), 1));

		assert!(Models::<Test>::get(1).is_none());
		assert!(ModelIdByCid::<Test>::get(binary_cid(&cid(1)).unwrap()).is_none());
		assert_eq!(ModelsByOwner::<Test>::get(BOB).into_inner(), vec![2]);
		assert_eq!(ModelRegistry::versions_of(b"m"), vec![2]);
		// Alice paid version 1's deposit, so she gets it back.
		assert_eq!(held(ALICE), v2_deposit);
		assert_eq!(
			last_event(),
			RuntimeEvent::ModelRegistry(Event::ModelRemoved {
				model_id: 1,
				depositor: ALICE,
				deposit_released: v1_deposit,
			})
		);
		assert_noop!(
			ModelRegistry::remove_model(RuntimeOrigin::signed(BOB), 1),
			Error::<Test>::ModelNotFound
		);

		// Removing the last version frees the name; the next publish keeps counting.
		assert_ok!(publish(BOB, b"m", cid(3)));
		assert_eq!(Models::<Test>::get(3).unwrap().version, 3);
		for id in [2, 3] {
			assert_ok!(ModelRegistry::deprecate(RuntimeOrigin::signed(BOB), id));
			assert_ok!(ModelRegistry::remove_model(RuntimeOrigin::signed(BOB), id));
		}
		assert!(ModelVersions::<Test>::get(bounded::<ConstU32<32>>(b"m")).is_none());
		assert_eq!(ModelsByOwner::<Test>::iter().count(), 0);
		assert_eq!((held(ALICE), held(BOB)), (0, 0));
		assert_eq!(Balances::free_balance(ALICE), INITIAL_BALANCE);
		assert_ok!(register(BOB, b"m", cid(1)));
	});
}

#[test]
fn stats_recorder_updates_usage_and_rewards() {
	new_test_ext().execute_with(|| {
		assert_eq!(
			<ModelRegistry as ModelStatsRecorder<Balance>>::record_usage(1, 1),
			Err(Error::<Test>::ModelNotFound.into())
		);
		assert_ok!(register(ALICE, b"m", cid(1)));
		assert_ok!(<ModelRegistry as ModelStatsRecorder<Balance>>::record_usage(1, 3));
		assert_ok!(<ModelRegistry as ModelStatsRecorder<Balance>>::record_usage(1, 2));
		assert_eq!(
			last_event(),
			RuntimeEvent::ModelRegistry(Event::UsageRecorded {
				model_id: 1,
				uses: 2,
				usage_count: 5
			})
		);
		assert_ok!(<ModelRegistry as ModelStatsRecorder<Balance>>::record_reward(1, 900));
		assert_ok!(<ModelRegistry as ModelStatsRecorder<Balance>>::record_reward(1, 100));
		let model = Models::<Test>::get(1).unwrap();
		assert_eq!((model.usage_count, model.total_rewards), (5, 1_000));
		assert_eq!(
			<ModelRegistry as ModelStatsRecorder<Balance>>::record_usage(1, u64::MAX),
			Err(Error::<Test>::Overflow.into())
		);
		assert_eq!(
			<ModelRegistry as ModelRegistryInspect<AccountId>>::model(1),
			Some(ModelSummary {
				owner: ALICE,
				active: true,
				license_kind: LicenseKind::OpenSource,
				size_bytes: 90_000_000,
			})
		);
		assert_eq!(<ModelRegistry as ModelRegistryInspect<AccountId>>::model(99), None);
	});
}

#[test]
fn held_deposit_cannot_be_spent() {
	new_test_ext().execute_with(|| {
		assert_ok!(register(ALICE, b"m", cid(1)));
		let free = Balances::free_balance(ALICE);
		assert_noop!(
			Balances::transfer_allow_death(RuntimeOrigin::signed(ALICE), BOB, free + 1),
			TokenError::FundsUnavailable
		);
	});
}

fn metadata_held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::MetadataDeposit.into(), &who)
}

/// A sentence-embedding model's metadata with `tags` tags and a symbolic batch dimension.
fn embedding_metadata(tags: usize) -> ModelMetadata {
	let tensor = |name: &[u8], dims: Vec<Dim>| TensorSpec {
		name: bounded(name),
		dtype: TensorDType::I64,
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
			dtype: TensorDType::F32,
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

#[test]
fn a_model_package_registers_by_its_directory_cid() {
	new_test_ext().execute_with(|| {
		// A package's root is a dag-pb directory node, named like any dag-pb CID: Kubo's empty
		// directory here, in CIDv0 form.
		let directory = b"QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn".to_vec();
		assert_ok!(register(ALICE, b"ocr-package", directory.clone()));
		let binary = crate::binary_cid(&directory).unwrap();
		assert_eq!(ModelIdByCid::<Test>::get(binary), Some(1));
	});
}
