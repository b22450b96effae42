//! Registering models: stored records, indexes, deposits and refusals.

use super::*;

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
		assert_eq!(ModelRegistry::versions_of(b"minilm".to_vec()), vec![1]);
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
		// Valid CIDs no store holds or pinner can prove: an identity multihash (the content
		// inlined in the CID), dag-cbor, sha2-512.
		for unsupported in [
			&b"bafkqablimvwgy3y"[..],
			b"bafyreibnoelefnzgwbcacyt4vh52ymxvzbjq7mmqhtcnwarfq4lzegsiqe",
			b"bafkrgqfevpkejdcjkywyfaiv2e5b7thksj7vfngviwjjp6fuhzbnvcjdrpatmjxehxftrxnqqjeisj7msbh3iicxiq4yh2efqulz2ucvdl7ge",
		] {
			assert_noop!(register(ALICE, b"m", unsupported.to_vec()), Error::<Test>::UnsupportedCid);
		}
		// Names are shown to people: bytes that are not UTF-8 would reach them as U+FFFD.
		assert_noop!(register(ALICE, b"caf\xe9", cid(1)), Error::<Test>::NameNotUtf8);
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
				RuntimeOrigin::signed(ALICE),
				b"m".to_vec(),
				cid(1),
				ModelType::Vision,
				Framework::Onnx,
				1,
				LicenseKind::Custom,
				vec![0xff, 0xfe],
			),
			Error::<Test>::LicenseIdNotUtf8
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

#[test]
fn view_functions_read_what_clients_and_precompiles_need() {
	new_test_ext().execute_with(|| {
		assert_ok!(register(ALICE, b"minilm", cid(1)));
		assert_ok!(publish(ALICE, b"minilm", cid(2)));
		assert_eq!(ModelRegistry::model(2), Models::<Test>::get(2));
		assert_eq!(ModelRegistry::model(9), None);
		assert_eq!(ModelRegistry::metadata(1), None);
		assert_eq!(ModelRegistry::models_of(ALICE), vec![1, 2]);
		assert_eq!(ModelRegistry::models_of(BOB), Vec::<ModelId>::new());
		assert_eq!(ModelRegistry::versions_of(b"minilm".to_vec()), vec![1, 2]);
		assert_eq!(ModelRegistry::versions_of(vec![b'x'; 100]), Vec::<ModelId>::new());
	});
}
