//! Slashing, rewards by bytes held, and proof weights.

use super::*;

#[test]
fn missed_challenges_slash_the_bond_and_drop_the_pin() {
	new_test_ext().execute_with(|| {
		let file = File::new(1_000, 3, CidMode::V1RawLeaves);
		register(ALICE);
		pin(ALICE, &file);
		run_to_block(era_start(2));
		assert!(events().contains(&Event::ChallengeFailed {
			pinner: ALICE,
			cid: file.binary(),
			era: 1,
			failures: 1
		}));
		assert_eq!(bond_of(ALICE), BOND, "one miss does not slash");

		// A proven era resets the count.
		let (proof, signature) = honest_proof(ALICE, &file);
		submit(proof, signature);
		run_to_block(era_start(3));
		assert_eq!(Pins::<Test>::get(ALICE, file.binary()).unwrap().failures, 0);

		// MAX_FAILURES misses in a row: 10 % of the bond goes to the pool and the pin is gone.
		let pool_before = balance(Pinning::reward_pool_account());
		run_to_block(era_start(3 + MAX_FAILURES as u64));
		let slash = BOND / 10;
		assert!(events().contains(&Event::Slashed {
			pinner: ALICE,
			cid: file.binary(),
			amount: slash
		}));
		assert_eq!(bond_of(ALICE), BOND - slash);
		assert_eq!(Pinners::<Test>::get(ALICE).unwrap().bond, BOND - slash);
		assert_eq!(balance(Pinning::reward_pool_account()), pool_before + slash);
		assert_eq!(Pins::<Test>::get(ALICE, file.binary()), None);
		assert_eq!((PinCount::<Test>::get(), Pinners::<Test>::get(ALICE).unwrap().pins), (0, 0));
		// The pinner can leave with what is left.
		assert_ok!(Pinning::unregister_pinner(RuntimeOrigin::signed(ALICE)));
		// Era 2's reward stays hers.
		assert_eq!(balance(ALICE), INITIAL_BALANCE - slash + REWARD_PER_ERA);
	});
}

#[test]
fn rewards_follow_bytes_held_with_less_for_copies_beyond_the_target() {
	new_test_ext().execute_with(|| {
		// File A (3,000 B) has three proven copies; the target is two, so it counts
		// 2 + 50 % = 2.5 copies, shared by its three pinners. File B (6,000 B) has one.
		let a = File::new(3_000, 1, CidMode::V0);
		let b = File::new(6_000, 2, CidMode::V1RawLeaves);
		for who in [ALICE, BOB, CHARLIE, DAVE] {
			register(who);
		}
		for who in [ALICE, BOB, CHARLIE] {
			pin(who, &a);
		}
		pin(DAVE, &b);
		run_to_block(era_start(1));
		for who in [ALICE, BOB, CHARLIE] {
			let (proof, signature) = honest_proof(who, &a);
			submit(proof, signature);
		}
		let (proof, signature) = honest_proof(DAVE, &b);
		submit(proof, signature);
		run_to_block(era_start(2));

		// Weights: A's pinners 3,000 × 2.5 / 3 = 2,500 each; B's 6,000. Total 13,500.
		let earned = |who| balance(who) - (INITIAL_BALANCE - BOND);
		for who in [ALICE, BOB, CHARLIE] {
			assert_eq!(earned(who), REWARD_PER_ERA * 2_500 / 13_500); // 1,666
		}
		assert_eq!(earned(DAVE), REWARD_PER_ERA * 6_000 / 13_500); // 4,000
		let paid = 3 * 1_666 + 4_000;
		assert!(events().contains(&Event::EraSettled { era: 1, proven: 4, failed: 0, paid }));
	});
}

#[test]
fn failed_copies_do_not_count_as_replicas() {
	new_test_ext().execute_with(|| {
		let a = File::new(3_000, 1, CidMode::V0);
		for who in [ALICE, BOB, CHARLIE] {
			register(who);
			pin(who, &a);
		}
		run_to_block(era_start(1));
		// Only Alice and Bob answer: two copies, both at full weight; the budget is theirs.
		for who in [ALICE, BOB] {
			let (proof, signature) = honest_proof(who, &a);
			submit(proof, signature);
		}
		run_to_block(era_start(2));
		assert_eq!(balance(ALICE) - (INITIAL_BALANCE - BOND), REWARD_PER_ERA / 2);
		assert_eq!(balance(BOB) - (INITIAL_BALANCE - BOND), REWARD_PER_ERA / 2);
		assert_eq!(balance(CHARLIE), INITIAL_BALANCE - BOND);
	});
}

#[test]
fn a_pool_short_of_the_budget_pays_what_it_holds_above_the_deposit() {
	new_test_ext().execute_with(|| {
		let pool = Pinning::reward_pool_account();
		let _ = <Balances as polkadot_sdk::frame_support::traits::fungible::Mutate<_>>::set_balance(
			&pool,
			EXISTENTIAL_DEPOSIT + 700,
		);
		let file = File::new(1_000, 3, CidMode::V0);
		register(ALICE);
		pin(ALICE, &file);
		run_to_block(era_start(1));
		let (proof, signature) = honest_proof(ALICE, &file);
		submit(proof, signature);
		run_to_block(era_start(2));
		assert_eq!(balance(ALICE), INITIAL_BALANCE - BOND + 700);
		assert_eq!(balance(pool), EXISTENTIAL_DEPOSIT);
	});
}

#[test]
fn proof_weight_is_charged_by_the_kib_it_carries() {
	let proof_with = |lens: &[usize]| -> ProofOf<Test> {
		let blocks: Vec<_> = lens.iter().map(|&len| vec![0u8; len].try_into().unwrap()).collect();
		PinProof {
			era: 1,
			pinner: ALICE,
			cid: Default::default(),
			blocks: blocks.try_into().unwrap(),
		}
	};
	assert_eq!(proof_with(&[]).kib(), 0);
	assert_eq!(proof_with(&[1]).kib(), 1);
	assert_eq!(proof_with(&[1024]).kib(), 1);
	assert_eq!(proof_with(&[1024, 1]).kib(), 2);
	assert_eq!(proof_with(&[1000, 1000, 1000]).kib(), 3);
}

#[test]
fn pins_of_a_removed_model_end_and_earn_nothing_more() {
	new_test_ext().execute_with(|| {
		let a = File::new(3_000, 1, CidMode::V0);
		let b = File::new(6_000, 2, CidMode::V1RawLeaves);
		for who in [ALICE, BOB, DAVE] {
			register(who);
		}
		pin(ALICE, &a);
		pin(BOB, &a);
		pin(DAVE, &b);
		let model_a = pallet_model_registry::ModelIdByCid::<Test>::get(a.binary()).unwrap();
		run_to_block(era_start(1));
		for (who, file) in [(ALICE, &a), (BOB, &a), (DAVE, &b)] {
			let (proof, signature) = honest_proof(who, file);
			submit(proof, signature);
		}
		// A's owner removes the model after its pins answered, before the era closes.
		assert_ok!(ModelRegistry::deprecate(RuntimeOrigin::signed(OWNER), model_a));
		assert_ok!(ModelRegistry::remove_model(RuntimeOrigin::signed(OWNER), model_a));
		for pinner in [ALICE, BOB] {
			assert!(events().contains(&Event::PinEnded {
				pinner,
				cid: a.binary(),
				model_id: model_a
			}));
			assert_eq!(Pins::<Test>::get(pinner, a.binary()), None);
			assert_eq!(Pinners::<Test>::get(pinner).unwrap().pins, 0);
		}
		assert_eq!(PinnersOf::<Test>::get(a.binary()).len(), 0);
		assert_eq!(PinCount::<Test>::get(), 1);

		run_to_block(era_start(2));
		// The whole era's reward goes to the pin whose model still exists.
		assert_eq!(balance(ALICE), INITIAL_BALANCE - BOND);
		assert_eq!(balance(BOB), INITIAL_BALANCE - BOND);
		assert_eq!(balance(DAVE), INITIAL_BALANCE - BOND + REWARD_PER_ERA);
		// Nothing ties the pinners any more: they can leave with their bonds.
		assert_ok!(Pinning::unregister_pinner(RuntimeOrigin::signed(ALICE)));
		assert_eq!(balance(ALICE), INITIAL_BALANCE);
	});
}

#[test]
fn the_removal_hook_declares_its_worst_case() {
	use polkadot_sdk::frame_support::{traits::Get, weights::RuntimeDbWeight};
	let db: RuntimeDbWeight = <Test as frame_system::Config>::DbWeight::get();
	let per_pin = <() as WeightInfo>::remove_pin();
	let max = <Pinning as OnModelRemoved>::max_weight();
	assert_eq!(max, db.reads(1) + per_pin.saturating_mul(u64::from(MAX_PINNERS_PER_CID)));
	new_test_ext().execute_with(|| {
		let a = File::new(1_000, 1, CidMode::V0);
		register(ALICE);
		pin(ALICE, &a);
		let used = <Pinning as OnModelRemoved>::on_model_removed(1, &a.binary());
		assert_eq!(used, db.reads(1) + per_pin);
		assert!(used.all_lte(max));
	});
}
