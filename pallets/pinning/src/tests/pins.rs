//! Pinners, pins and their limits.

use super::*;

#[test]
fn pinners_register_with_a_held_bond_and_leave_when_unpinned() {
	new_test_ext().execute_with(|| {
		register(ALICE);
		assert_eq!(bond_of(ALICE), BOND);
		assert_eq!(PinnerOfKey::<Test>::get(key(ALICE)), Some(ALICE));
		assert_noop!(
			Pinning::register_pinner(RuntimeOrigin::signed(ALICE), BOND, key(99)),
			Error::<Test>::AlreadyRegistered
		);
		assert_noop!(
			Pinning::register_pinner(RuntimeOrigin::signed(BOB), MIN_BOND - 1, key(BOB)),
			Error::<Test>::BondTooLow
		);
		assert_noop!(
			Pinning::register_pinner(RuntimeOrigin::signed(BOB), BOND, key(ALICE)),
			Error::<Test>::ProofKeyInUse
		);
		// A bond the account cannot hold fails and leaves nothing behind.
		assert!(Pinning::register_pinner(RuntimeOrigin::signed(POOR), MIN_BOND, key(POOR)).is_err());
		assert!(!Pinners::<Test>::contains_key(POOR));

		let file = File::new(300, 1, CidMode::V0);
		pin(ALICE, &file);
		assert_noop!(
			Pinning::unregister_pinner(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::StillPinning
		);
		assert_ok!(Pinning::remove_pin(RuntimeOrigin::signed(ALICE), text(&file.cid_text)));
		assert_eq!(
			(PinCount::<Test>::get(), PinnersOf::<Test>::contains_key(file.binary())),
			(0, false)
		);
		assert_ok!(Pinning::unregister_pinner(RuntimeOrigin::signed(ALICE)));
		assert_eq!((bond_of(ALICE), balance(ALICE)), (0, INITIAL_BALANCE));
		assert_eq!(PinnerOfKey::<Test>::get(key(ALICE)), None);
		assert_noop!(
			Pinning::unregister_pinner(RuntimeOrigin::signed(ALICE)),
			Error::<Test>::NotRegistered
		);
	});
}

#[test]
fn only_registered_active_models_can_be_pinned() {
	new_test_ext().execute_with(|| {
		let file = File::new(300, 1, CidMode::V0);
		assert_noop!(
			Pinning::report_pin(RuntimeOrigin::signed(ALICE), text(&file.cid_text), 300),
			Error::<Test>::NotRegistered
		);
		register(ALICE);
		assert_noop!(
			Pinning::report_pin(RuntimeOrigin::signed(ALICE), text(&file.cid_text), 300),
			Error::<Test>::ModelNotRegistered
		);
		assert_noop!(
			Pinning::report_pin(RuntimeOrigin::signed(ALICE), text(b"not-a-cid"), 300),
			Error::<Test>::InvalidCid
		);
		// blake2b-256 roots cannot be checked by the sha2-256 proofs.
		let blake =
			b"f0155a0e40220aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
		assert_noop!(
			Pinning::report_pin(RuntimeOrigin::signed(ALICE), text(blake), 300),
			Error::<Test>::UnsupportedCid
		);
		let model = register_model_with_cid(OWNER, "m", file.cid_text.clone(), 300);
		assert_noop!(
			Pinning::report_pin(RuntimeOrigin::signed(ALICE), text(&file.cid_text), 0),
			Error::<Test>::EmptyFile
		);
		assert_noop!(
			Pinning::report_pin(RuntimeOrigin::signed(ALICE), text(&file.cid_text), 3_000),
			Error::<Test>::SizeMismatch
		);
		assert_ok!(Pinning::report_pin(RuntimeOrigin::signed(ALICE), text(&file.cid_text), 300));
		assert_eq!(
			Pins::<Test>::get(ALICE, file.binary()),
			Some(Pin { model_id: model, size: 300, since_era: 1, failures: 0, last_answer: None })
		);
		// The CIDv1 text of the same root is the same pin.
		let v1 = ::cid::Cid::new_v1(0x70, *file.root.hash()).to_string();
		assert_noop!(
			Pinning::report_pin(RuntimeOrigin::signed(ALICE), text(v1.as_bytes()), 300),
			Error::<Test>::AlreadyPinned
		);
		assert_eq!(PinnersOf::<Test>::get(file.binary()).into_inner(), vec![ALICE]);

		// Deprecated models take no new pins.
		let other = File::new(200, 2, CidMode::V1RawLeaves);
		let other_model = register_model_with_cid(OWNER, "other", other.cid_text.clone(), 200);
		assert_ok!(ModelRegistry::deprecate(RuntimeOrigin::signed(OWNER), other_model));
		register(BOB);
		assert_noop!(
			Pinning::report_pin(RuntimeOrigin::signed(BOB), text(&other.cid_text), 200),
			Error::<Test>::ModelInactive
		);
		assert_noop!(
			Pinning::remove_pin(RuntimeOrigin::signed(BOB), text(&file.cid_text)),
			Error::<Test>::NotPinned
		);
	});
}

#[test]
fn pin_limits_hold() {
	new_test_ext().execute_with(|| {
		let files: Vec<File> = (0..4).map(|i| File::new(100 + i, i as u8, CidMode::V0)).collect();
		register(ALICE);
		for file in &files[..3] {
			pin(ALICE, file);
		}
		register_model_with_cid(OWNER, "fourth", files[3].cid_text.clone(), files[3].size);
		assert_noop!(
			Pinning::report_pin(RuntimeOrigin::signed(ALICE), text(&files[3].cid_text), 103),
			Error::<Test>::TooManyPinsForPinner
		);
		for who in [BOB, CHARLIE, DAVE] {
			register(who);
			pin(who, &files[0]);
		}
		register(OWNER);
		assert_noop!(
			Pinning::report_pin(RuntimeOrigin::signed(OWNER), text(&files[0].cid_text), 100),
			Error::<Test>::TooManyPinners
		);
		// 6 pins so far; two more reach MAX_PINS.
		pin(BOB, &files[1]);
		pin(BOB, &files[2]);
		assert_eq!(PinCount::<Test>::get(), MAX_PINS);
		assert_noop!(
			Pinning::report_pin(RuntimeOrigin::signed(CHARLIE), text(&files[1].cid_text), 101),
			Error::<Test>::TooManyPins
		);
	});
}
