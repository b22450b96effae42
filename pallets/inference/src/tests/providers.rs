//! Providers: registration, terms, keys, models served, pausing, leaving and the bond.

use super::*;

#[test]
fn registering_holds_the_bond_and_indexes_the_key() {
	new_test_ext().execute_with(|| {
		assert_ok!(Inference::register_provider(
			RuntimeOrigin::signed(ALICE),
			MIN_BOND * 2,
			key(7),
			HardwareClass::Gpu,
			250
		));
		let info = Inference::provider(ALICE).expect("registered");
		assert_eq!(
			(info.bond, info.key.clone(), info.hardware, info.capacity, info.status, info.assigned),
			(MIN_BOND * 2, key(7), HardwareClass::Gpu, 250, ProviderStatus::Active, 0)
		);
		assert!(info.models.is_empty());
		assert_eq!(bond_held(ALICE), MIN_BOND * 2);
		assert_eq!(Inference::provider_of_key(key(7)), Some(ALICE));
		assert_eq!(
			last_event(),
			Event::ProviderRegistered {
				provider: ALICE,
				bond: MIN_BOND * 2,
				key: key(7),
				hardware: HardwareClass::Gpu,
				capacity: 250
			}
			.into()
		);
	});
}

#[test]
fn bad_registrations_are_refused_and_hold_nothing() {
	new_test_ext().execute_with(|| {
		let call = |who, bond, key_id, capacity| {
			Inference::register_provider(
				RuntimeOrigin::signed(who),
				bond,
				key(key_id),
				HardwareClass::Cpu,
				capacity,
			)
		};
		assert_noop!(call(ALICE, MIN_BOND - 1, 1, 10), Error::<Test>::BondTooLow);
		assert_noop!(call(ALICE, MIN_BOND, 1, 0), Error::<Test>::ZeroCapacity);
		assert_noop!(call(ALICE, MIN_BOND, 1, MAX_CAPACITY + 1), Error::<Test>::CapacityTooHigh);
		// POOR holds exactly the bond, which would leave nothing for the existential deposit.
		assert_noop!(call(POOR, MIN_BOND, 1, 10), TokenError::FundsUnavailable);
		assert_ok!(call(ALICE, MIN_BOND, 1, 10));
		assert_noop!(call(ALICE, MIN_BOND, 2, 10), Error::<Test>::AlreadyRegistered);
		assert_noop!(call(BOB, MIN_BOND, 1, 10), Error::<Test>::KeyInUse);
		assert_noop!(
			Inference::register_provider(
				RuntimeOrigin::none(),
				MIN_BOND,
				key(3),
				HardwareClass::Cpu,
				1
			),
			DispatchError::BadOrigin
		);
		assert_eq!((bond_held(BOB), bond_held(POOR)), (0, 0));
	});
}

#[test]
fn terms_and_keys_can_change() {
	new_test_ext().execute_with(|| {
		register(ALICE);
		register(BOB);
		assert_ok!(Inference::update_provider(RuntimeOrigin::signed(ALICE), HardwareClass::Gpu, 7));
		let info = Inference::provider(ALICE).unwrap();
		assert_eq!((info.hardware, info.capacity), (HardwareClass::Gpu, 7));
		assert_noop!(
			Inference::update_provider(RuntimeOrigin::signed(ALICE), HardwareClass::Cpu, 0),
			Error::<Test>::ZeroCapacity
		);
		assert_noop!(
			Inference::update_provider(RuntimeOrigin::signed(POOR), HardwareClass::Cpu, 1),
			Error::<Test>::NotRegistered
		);

		assert_noop!(
			Inference::set_provider_key(RuntimeOrigin::signed(ALICE), key(BOB)),
			Error::<Test>::KeyInUse
		);
		assert_ok!(Inference::set_provider_key(RuntimeOrigin::signed(ALICE), key(99)));
		assert_eq!(Inference::provider(ALICE).unwrap().key, key(99));
		assert_eq!(Inference::provider_of_key(key(99)), Some(ALICE));
		assert_eq!(Inference::provider_of_key(key(ALICE)), None, "the old key is freed");
		assert_eq!(
			last_event(),
			Event::ProviderKeyChanged { provider: ALICE, key: key(99) }.into()
		);
	});
}

#[test]
fn providers_serve_registered_active_models_within_the_bounds() {
	new_test_ext().execute_with(|| {
		let models: Vec<_> = (1..=4).map(register_model).collect();
		register(ALICE);
		register(BOB);
		assert_ok!(Inference::serve_model(RuntimeOrigin::signed(ALICE), models[0]));
		assert_eq!(
			last_event(),
			Event::ModelServed { provider: ALICE, model_id: models[0] }.into()
		);
		assert_ok!(Inference::serve_model(RuntimeOrigin::signed(BOB), models[0]));
		assert_eq!(Inference::providers_of(models[0]), vec![ALICE, BOB]);
		assert_noop!(
			Inference::serve_model(RuntimeOrigin::signed(ALICE), models[0]),
			Error::<Test>::AlreadyServing
		);
		assert_noop!(
			Inference::serve_model(RuntimeOrigin::signed(ALICE), 99),
			Error::<Test>::ModelNotFound
		);
		assert_noop!(
			Inference::serve_model(RuntimeOrigin::signed(POOR), models[1]),
			Error::<Test>::NotRegistered
		);
		for model in &models[1..3] {
			assert_ok!(Inference::serve_model(RuntimeOrigin::signed(ALICE), *model));
		}
		assert_noop!(
			Inference::serve_model(RuntimeOrigin::signed(ALICE), models[3]),
			Error::<Test>::TooManyModels
		);
		// A fifth provider for a model with four is one too many.
		for who in [CAROL, DAVE] {
			register(who);
			assert_ok!(Inference::serve_model(RuntimeOrigin::signed(who), models[0]));
		}
		assert_ok!(Inference::register_provider(
			RuntimeOrigin::signed(OWNER),
			MIN_BOND,
			key(OWNER),
			HardwareClass::Cpu,
			1
		));
		assert_noop!(
			Inference::serve_model(RuntimeOrigin::signed(OWNER), models[0]),
			Error::<Test>::TooManyProviders
		);
		// A deprecated model takes no new providers.
		assert_ok!(ModelRegistry::deprecate(RuntimeOrigin::signed(OWNER), models[3]));
		assert_noop!(
			Inference::serve_model(RuntimeOrigin::signed(BOB), models[3]),
			Error::<Test>::ModelInactive
		);

		assert_ok!(Inference::stop_serving(RuntimeOrigin::signed(ALICE), models[0]));
		assert_eq!(Inference::providers_of(models[0]), vec![BOB, CAROL, DAVE]);
		assert_eq!(Inference::provider(ALICE).unwrap().models.into_inner(), models[1..3]);
		assert_noop!(
			Inference::stop_serving(RuntimeOrigin::signed(ALICE), models[0]),
			Error::<Test>::NotServing
		);
		for who in [BOB, CAROL, DAVE] {
			assert_ok!(Inference::stop_serving(RuntimeOrigin::signed(who), models[0]));
		}
		assert!(!ProvidersOf::<Test>::contains_key(models[0]), "the empty list is removed");
	});
}

#[test]
fn pausing_and_resuming() {
	new_test_ext().execute_with(|| {
		register(ALICE);
		assert_noop!(Inference::resume(RuntimeOrigin::signed(ALICE)), Error::<Test>::NotPaused);
		assert_ok!(Inference::pause(RuntimeOrigin::signed(ALICE)));
		assert_eq!(Inference::provider(ALICE).unwrap().status, ProviderStatus::Paused);
		assert_eq!(last_event(), Event::ProviderPaused { provider: ALICE }.into());
		assert_noop!(Inference::pause(RuntimeOrigin::signed(ALICE)), Error::<Test>::NotActive);
		assert_ok!(Inference::resume(RuntimeOrigin::signed(ALICE)));
		assert_eq!(Inference::provider(ALICE).unwrap().status, ProviderStatus::Active);
	});
}

#[test]
fn leaving_stops_service_at_once_and_releases_the_bond_after_the_delay() {
	new_test_ext().execute_with(|| {
		let (a, b) = (register_model(1), register_model(2));
		register(ALICE);
		for model in [a, b] {
			assert_ok!(Inference::serve_model(RuntimeOrigin::signed(ALICE), model));
		}
		assert_noop!(
			Inference::withdraw_bond(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::NotLeaving
		);
		assert_ok!(Inference::leave(RuntimeOrigin::signed(ALICE)));
		let unlocks_at = 1 + UNBONDING_DELAY;
		assert_eq!(last_event(), Event::ProviderLeaving { provider: ALICE, unlocks_at }.into());
		assert_eq!(
			Inference::provider(ALICE).unwrap().status,
			ProviderStatus::Leaving { unlocks_at }
		);
		assert!(Inference::providers_of(a).is_empty() && Inference::providers_of(b).is_empty());
		// A leaving provider can only withdraw.
		assert_noop!(
			Inference::serve_model(RuntimeOrigin::signed(ALICE), a),
			Error::<Test>::Leaving
		);
		assert_noop!(Inference::leave(RuntimeOrigin::signed(ALICE)), Error::<Test>::Leaving);
		assert_noop!(Inference::resume(RuntimeOrigin::signed(ALICE)), Error::<Test>::Leaving);

		System::set_block_number(unlocks_at - 1);
		assert_noop!(
			Inference::withdraw_bond(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::StillUnbonding
		);
		System::set_block_number(unlocks_at);
		// Work still assigned keeps the bond where it can be slashed.
		Providers::<Test>::mutate(ALICE, |info| info.as_mut().unwrap().assigned = 1);
		assert_noop!(
			Inference::withdraw_bond(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::WorkAssigned
		);
		Providers::<Test>::mutate(ALICE, |info| info.as_mut().unwrap().assigned = 0);
		assert_ok!(Inference::withdraw_bond(RuntimeOrigin::signed(ALICE)));
		assert_eq!(last_event(), Event::ProviderLeft { provider: ALICE, bond: MIN_BOND }.into());
		assert_eq!(bond_held(ALICE), 0);
		assert_eq!(Inference::provider(ALICE), None);
		assert_eq!(Inference::provider_of_key(key(ALICE)), None);
		// The key and the account can register again.
		register(ALICE);
	});
}

#[test]
fn a_removed_model_loses_its_providers() {
	new_test_ext().execute_with(|| {
		let (a, b) = (register_model(1), register_model(2));
		register(ALICE);
		register(BOB);
		for (who, model) in [(ALICE, a), (ALICE, b), (BOB, a)] {
			assert_ok!(Inference::serve_model(RuntimeOrigin::signed(who), model));
		}
		assert_ok!(ModelRegistry::deprecate(RuntimeOrigin::signed(OWNER), a));
		assert_ok!(ModelRegistry::remove_model(RuntimeOrigin::signed(OWNER), a));
		assert!(frame_system::Pallet::<Test>::events()
			.iter()
			.any(|r| r.event == Event::ModelServiceEnded { model_id: a, providers: 2 }.into()));
		assert!(!ProvidersOf::<Test>::contains_key(a));
		assert_eq!(Inference::provider(ALICE).unwrap().models.into_inner(), vec![b]);
		assert!(Inference::provider(BOB).unwrap().models.is_empty());
		assert_eq!(
			<Inference as OnModelRemoved>::max_weight(),
			<() as WeightInfo>::on_model_removed(MAX_PROVIDERS_PER_MODEL)
		);
	});
}
