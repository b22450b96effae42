//! Versions, transfers, deprecation, removal, usage statistics and held deposits.

use super::*;

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
		assert_eq!(ModelRegistry::versions_of(b"whisper".to_vec()), vec![1, 2]);
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
		assert_eq!(ModelRegistry::versions_of(b"m".to_vec()).len(), MAX_VERSIONS as usize);
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
		assert_eq!(ModelRegistry::versions_of(b"m".to_vec()), vec![2]);
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
fn remove_model_tells_other_pallets_and_charges_what_they_used() {
	new_test_ext().execute_with(|| {
		assert_ok!(register(ALICE, b"m", CID_V0.to_vec()));
		assert_ok!(ModelRegistry::deprecate(RuntimeOrigin::signed(ALICE), 1));
		// Failed removals tell nobody.
		assert_noop!(
			ModelRegistry::remove_model(RuntimeOrigin::signed(BOB), 1),
			Error::<Test>::NotOwner
		);
		assert!(REMOVED.with(|r| r.borrow().is_empty()));

		let call = crate::Call::<Test>::remove_model { model_id: 1 };
		let declared =
			polkadot_sdk::frame_support::dispatch::GetDispatchInfo::get_dispatch_info(&call)
				.call_weight;
		assert_eq!(declared, <() as WeightInfo>::remove_model() + HOOK_MAX_WEIGHT);
		let post = ModelRegistry::remove_model(RuntimeOrigin::signed(ALICE), 1).unwrap();
		assert_eq!(post.actual_weight, Some(<() as WeightInfo>::remove_model() + HOOK_WEIGHT));
		// The hook gets the content in binary CIDv1 form, whatever text was registered.
		let binary = binary_cid(CID_V1_OF_V0).unwrap().into_inner();
		assert_eq!(REMOVED.with(|r| r.borrow().clone()), vec![(1, binary)]);
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
