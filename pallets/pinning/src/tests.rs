//! Pinning pallet tests: registration, pins of registered models, challenges answered with
//! real proofs over DAGs from the real importer, forged and late answers, rewards by bytes
//! and replicas, slashing, and the offchain worker.

use crate::{mock::*, *};
use citrate_storage::CidMode;
use polkadot_sdk::{
	frame_support::{
		assert_noop, assert_ok,
		traits::{fungible::InspectHold, Authorize},
	},
	frame_system::RawOrigin,
	sp_runtime::{
		testing::{TestSignature, UintAuthorityId},
		traits::Dispatchable,
		transaction_validity::{InvalidTransaction, TransactionSource, TransactionValidityError},
		DispatchError,
	},
};

fn key(who: AccountId) -> UintAuthorityId {
	UintAuthorityId(who)
}

fn text(bytes: &[u8]) -> CidText {
	CidText::try_from(bytes.to_vec()).unwrap()
}

fn register(who: AccountId) {
	assert_ok!(Pinning::register_pinner(RuntimeOrigin::signed(who), BOND, key(who)));
}

/// Registers `file` as a model (once) and reports `who`'s pin of it.
fn pin(who: AccountId, file: &File) {
	if pallet_model_registry::ModelIdByCid::<Test>::get(
		pallet_model_registry::binary_cid(&file.cid_text).unwrap(),
	)
	.is_none()
	{
		let name = format!("model-{}", pallet_model_registry::NextModelId::<Test>::get());
		register_model_with_cid(OWNER, &name, file.cid_text.clone(), file.size);
	}
	assert_ok!(Pinning::report_pin(RuntimeOrigin::signed(who), text(&file.cid_text), file.size));
}

/// `who`'s honest answer to this era's challenge of its pin of `file`, signed by its key.
fn honest_proof(who: AccountId, file: &File) -> (ProofOf<Test>, TestSignature) {
	let era = CurrentEra::<Test>::get();
	let offsets = Pinning::challenge_offsets(&era.seed, &who, &file.binary(), file.size);
	let root = citrate_ipfs_primitives::cid::from_binary(&file.binary()).unwrap();
	let blocks =
		citrate_ipfs_primitives::proof::prove(&root, file.size, &offsets, |cid| file.block(cid))
			.unwrap();
	proof_of(who, file, era.index, blocks)
}

fn proof_of(
	who: AccountId,
	file: &File,
	era: EraIndex,
	blocks: Vec<Vec<u8>>,
) -> (ProofOf<Test>, TestSignature) {
	let blocks = blocks.into_iter().map(|b| b.try_into().unwrap()).collect::<Vec<_>>();
	let proof =
		PinProof { era, pinner: who, cid: file.binary(), blocks: blocks.try_into().unwrap() };
	let signature = proof.using_encoded(|encoded| key(who).sign(&encoded)).unwrap();
	(proof, signature)
}

fn call(proof: ProofOf<Test>, signature: TestSignature) -> RuntimeCall {
	RuntimeCall::Pinning(Call::submit_proof { proof, signature })
}

/// What the transaction pool would say about this proof.
fn authorize(
	proof: &ProofOf<Test>,
	signature: &TestSignature,
) -> Result<(), TransactionValidityError> {
	call(proof.clone(), signature.clone())
		.authorize(TransactionSource::External)
		.expect("submit_proof has authorize logic")
		.map(|_| ())
}

/// Authorizes and dispatches a proof, as block building does.
fn submit(proof: ProofOf<Test>, signature: TestSignature) {
	assert_eq!(authorize(&proof, &signature), Ok(()));
	assert_ok!(call(proof, signature).dispatch(RawOrigin::Authorized.into()));
}

fn era_start(era: u64) -> u64 {
	era * ERA_LENGTH
}

fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Pinning(event) => Some(event),
			_ => None,
		})
		.collect()
}

fn balance(who: AccountId) -> Balance {
	Balances::free_balance(who)
}

fn bond_of(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::PinnerBond.into(), &who)
}

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

#[test]
fn an_honest_answer_is_accepted_and_paid_the_era_reward() {
	for mode in [CidMode::V0, CidMode::V1RawLeaves] {
		new_test_ext().execute_with(|| {
			let file = File::new(3_000, 7, mode);
			register(ALICE);
			pin(ALICE, &file);
			run_to_block(era_start(1));
			let era = CurrentEra::<Test>::get();
			assert_eq!((era.index, era.start), (1, era_start(1)));
			assert!(events().contains(&Event::EraStarted { era: 1, seed: era.seed }));

			let (proof, signature) = honest_proof(ALICE, &file);
			// K paths through a 3,000-byte file of 64-byte chunks: a root, parents and leaves.
			assert!(proof.blocks.len() >= 3);
			submit(proof, signature);
			assert!(events().contains(&Event::ProofAccepted {
				pinner: ALICE,
				cid: file.binary(),
				era: 1
			}));
			assert_eq!(
				Pinning::verified(&ALICE, &file.binary()),
				Some(Answer { era: 1, valid: true })
			);

			let pool_before = balance(Pinning::reward_pool_account());
			run_to_block(era_start(2));
			// The only proven pin takes the whole era budget.
			assert_eq!(balance(ALICE), INITIAL_BALANCE - BOND + REWARD_PER_ERA);
			assert_eq!(balance(Pinning::reward_pool_account()), pool_before - REWARD_PER_ERA);
			assert!(events().contains(&Event::RewardPaid {
				pinner: ALICE,
				cid: file.binary(),
				era: 1,
				amount: REWARD_PER_ERA
			}));
			assert!(events().contains(&Event::EraSettled {
				era: 1,
				proven: 1,
				failed: 0,
				paid: REWARD_PER_ERA
			}));
		});
	}
}

#[test]
fn challenges_differ_between_pinners_and_eras_and_stay_inside_the_file() {
	new_test_ext().execute_with(|| {
		let file = File::new(3_000, 7, CidMode::V0);
		run_to_block(era_start(1));
		let seed1 = CurrentEra::<Test>::get().seed;
		run_to_block(era_start(2));
		let seed2 = CurrentEra::<Test>::get().seed;
		assert_ne!(seed1, seed2);
		let a1 = Pinning::challenge_offsets(&seed1, &ALICE, &file.binary(), file.size);
		let a2 = Pinning::challenge_offsets(&seed2, &ALICE, &file.binary(), file.size);
		let b1 = Pinning::challenge_offsets(&seed1, &BOB, &file.binary(), file.size);
		assert_eq!(a1.len(), CHALLENGES as usize);
		assert!(a1 != a2 && a1 != b1);
		assert!(a1.iter().chain(&a2).chain(&b1).all(|&offset| offset < file.size));
	});
}

#[test]
fn forged_paths_and_wrong_leaves_are_rejected_and_earn_nothing() {
	new_test_ext().execute_with(|| {
		let file = File::new(3_000, 7, CidMode::V1RawLeaves);
		register(ALICE);
		register(BOB);
		pin(ALICE, &file);
		pin(BOB, &file);
		run_to_block(era_start(1));

		// Alice flips a bit in a leaf: it no longer hashes to its parent's link.
		let (mut forged, _) = honest_proof(ALICE, &file);
		let last = forged.blocks.len() - 1;
		let mut leaf = forged.blocks[last].clone().into_inner();
		leaf[0] ^= 1;
		forged.blocks[last] = leaf.try_into().unwrap();
		let signature = forged.using_encoded(|e| key(ALICE).sign(&e)).unwrap();
		submit(forged, signature);
		assert!(events().contains(&Event::ProofRejected {
			pinner: ALICE,
			cid: file.binary(),
			era: 1,
			reason: ProofFailure::MissingBlock
		}));

		// Bob sends the right path shape but leaves of other offsets (the file's first bytes).
		let era = CurrentEra::<Test>::get();
		let offsets = Pinning::challenge_offsets(&era.seed, &BOB, &file.binary(), file.size);
		assert!(offsets.iter().all(|&o| o >= 64), "the fixed seed challenges past the first chunk");
		let root = citrate_ipfs_primitives::cid::from_binary(&file.binary()).unwrap();
		let wrong =
			citrate_ipfs_primitives::proof::prove(&root, file.size, &[0, 1, 2], |c| file.block(c))
				.unwrap();
		let (proof, signature) = proof_of(BOB, &file, 1, wrong);
		submit(proof, signature);
		assert!(events().contains(&Event::ProofRejected {
			pinner: BOB,
			cid: file.binary(),
			era: 1,
			reason: ProofFailure::MissingBlock
		}));

		// Each pin gets one answer per era: a corrected proof is refused by the pool.
		let (honest, signature) = honest_proof(ALICE, &file);
		assert_eq!(authorize(&honest, &signature), Err(InvalidTransaction::Stale.into()));
		assert_eq!(
			call(honest, signature).dispatch(RawOrigin::Authorized.into()).unwrap_err().error,
			Error::<Test>::AlreadyAnswered.into()
		);

		let pool_before = balance(Pinning::reward_pool_account());
		run_to_block(era_start(2));
		assert_eq!(balance(Pinning::reward_pool_account()), pool_before, "nothing paid");
		assert_eq!(balance(ALICE), INITIAL_BALANCE - BOND);
		assert_eq!(Pins::<Test>::get(ALICE, file.binary()).unwrap().failures, 1);
		assert!(events().contains(&Event::EraSettled { era: 1, proven: 0, failed: 2, paid: 0 }));
	});
}

#[test]
fn a_lie_about_the_size_fails_the_proof() {
	new_test_ext().execute_with(|| {
		let file = File::new(3_000, 7, CidMode::V0);
		register(ALICE);
		// An owner who registered 10x the bytes, and a pinner claiming them for a 10x share.
		register_model_with_cid(OWNER, "m", file.cid_text.clone(), 30_000);
		assert_ok!(Pinning::report_pin(RuntimeOrigin::signed(ALICE), text(&file.cid_text), 30_000));
		run_to_block(era_start(1));
		let era = CurrentEra::<Test>::get();
		let offsets = Pinning::challenge_offsets(&era.seed, &ALICE, &file.binary(), 30_000);
		// The honest blocks for offsets inside the real file still carry the real size.
		let inside: Vec<u64> = offsets.iter().map(|o| o % file.size).collect();
		let root = citrate_ipfs_primitives::cid::from_binary(&file.binary()).unwrap();
		let blocks =
			citrate_ipfs_primitives::proof::prove(&root, file.size, &inside, |c| file.block(c))
				.unwrap();
		let (proof, signature) = proof_of(ALICE, &file, 1, blocks);
		submit(proof, signature);
		let rejected = events()
			.into_iter()
			.any(|e| matches!(e, Event::ProofRejected { reason: ProofFailure::SizeMismatch, .. }));
		assert!(rejected);
	});
}

#[test]
fn answers_are_due_within_the_window_and_signed_by_the_pinners_key() {
	new_test_ext().execute_with(|| {
		let file = File::new(1_000, 3, CidMode::V0);
		register(ALICE);
		register(BOB);
		pin(ALICE, &file);
		run_to_block(era_start(1));
		let (proof, signature) = honest_proof(ALICE, &file);

		// Signed by another key, or a signature over other bytes.
		let by_bob = proof.using_encoded(|e| key(BOB).sign(&e)).unwrap();
		assert_eq!(authorize(&proof, &by_bob), Err(InvalidTransaction::BadProof.into()));
		let over_other = key(ALICE).sign(&b"something else".to_vec()).unwrap();
		assert_eq!(authorize(&proof, &over_other), Err(InvalidTransaction::BadProof.into()));
		// The wrong era.
		let (mut stale, _) = honest_proof(ALICE, &file);
		stale.era = 0;
		let stale_sig = stale.using_encoded(|e| key(ALICE).sign(&e)).unwrap();
		assert_eq!(authorize(&stale, &stale_sig), Err(InvalidTransaction::Stale.into()));
		// A pin nobody holds.
		let (mut unpinned, _) = honest_proof(ALICE, &file);
		unpinned.pinner = BOB;
		let unpinned_sig = unpinned.using_encoded(|e| key(BOB).sign(&e)).unwrap();
		assert_eq!(
			authorize(&unpinned, &unpinned_sig),
			Err(InvalidTransaction::Custom(INVALID_PIN).into())
		);

		// The last block of the window is in time; the next is late.
		run_to_block(era_start(1) + RESPONSE_WINDOW + 1);
		assert_eq!(authorize(&proof, &signature), Err(InvalidTransaction::Stale.into()));
		assert_eq!(
			call(proof, signature).dispatch(RawOrigin::Authorized.into()).unwrap_err().error,
			Error::<Test>::ResponseTooLate.into()
		);
		// Unsigned origins other than the authorized one are refused.
		let (proof, signature) = honest_proof(ALICE, &file);
		assert_eq!(
			call(proof, signature).dispatch(RuntimeOrigin::signed(ALICE)).unwrap_err().error,
			DispatchError::BadOrigin
		);
		run_to_block(era_start(2));
		assert_eq!(Pins::<Test>::get(ALICE, file.binary()).unwrap().failures, 1, "late = missed");
	});
}

#[test]
fn the_window_closes_after_its_last_block() {
	new_test_ext().execute_with(|| {
		let file = File::new(1_000, 3, CidMode::V0);
		register(ALICE);
		pin(ALICE, &file);
		run_to_block(era_start(1) + RESPONSE_WINDOW);
		let (proof, signature) = honest_proof(ALICE, &file);
		submit(proof, signature);
		assert_eq!(Pinning::verified(&ALICE, &file.binary()), Some(Answer { era: 1, valid: true }));
	});
}

#[test]
fn pins_reported_during_an_era_are_challenged_from_the_next() {
	new_test_ext().execute_with(|| {
		let file = File::new(1_000, 3, CidMode::V0);
		register(ALICE);
		run_to_block(era_start(1) + 1);
		pin(ALICE, &file);
		assert_eq!(Pins::<Test>::get(ALICE, file.binary()).unwrap().since_era, 2);
		let (proof, signature) = honest_proof(ALICE, &file);
		assert_eq!(
			authorize(&proof, &signature),
			Err(InvalidTransaction::Custom(INVALID_PIN).into())
		);
		// Not challenged, so not failed either.
		run_to_block(era_start(2));
		assert_eq!(Pins::<Test>::get(ALICE, file.binary()).unwrap().failures, 0);
		let (proof, signature) = honest_proof(ALICE, &file);
		submit(proof, signature);
	});
}

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
fn the_offchain_worker_answers_from_the_gateway() {
	use polkadot_sdk::{
		sp_core::offchain::{
			testing::{PendingRequest, TestOffchainExt, TestTransactionPoolExt},
			OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
		},
		sp_runtime::offchain::OffchainStorage,
	};
	let mut ext = new_test_ext();
	let (offchain, state) = TestOffchainExt::new();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	ext.register_extension(OffchainDbExt::new(offchain.clone()));
	ext.register_extension(OffchainWorkerExt::new(offchain));
	ext.register_extension(TransactionPoolExt::new(pool));
	let gateway = "http://127.0.0.1:8080";
	state.write().persistent_storage.set(
		b"",
		GATEWAY_STORAGE_KEY,
		&gateway.as_bytes().to_vec().encode(),
	);
	ext.execute_with(|| {
		let file = File::new(3_000, 9, CidMode::V0);
		register(ALICE);
		register(BOB);
		pin(ALICE, &file);
		pin(BOB, &file);
		run_to_block(era_start(1));
		// Only Alice's key is in this node's keystore.
		UintAuthorityId::set_all_keys(vec![ALICE]);

		// The gateway serves each block on the challenged paths once, in walk order.
		let era = CurrentEra::<Test>::get();
		let offsets = Pinning::challenge_offsets(&era.seed, &ALICE, &file.binary(), file.size);
		let root = citrate_ipfs_primitives::cid::from_binary(&file.binary()).unwrap();
		let mut served = Vec::new();
		citrate_ipfs_primitives::proof::prove(&root, file.size, &offsets, |cid| {
			let block = file.block(cid)?;
			served.push((*cid, block.clone()));
			Ok::<_, ()>(block)
		})
		.unwrap();
		for (cid, block) in &served {
			let (bytes, len) = cid.to_v1_bytes();
			let cid_text =
				String::from_utf8(citrate_ipfs_primitives::cid::base16_text(&bytes[..len]))
					.unwrap();
			state.write().expect_request(PendingRequest {
				method: "GET".into(),
				uri: format!("{gateway}/ipfs/{cid_text}?format=raw"),
				headers: vec![("Accept".into(), "application/vnd.ipld.raw".into())],
				response: Some(block.clone()),
				sent: true,
				..Default::default()
			});
		}
		Pinning::offchain_worker(era_start(1));

		// One transaction, for Alice, which the pallet accepts.
		let txs = std::mem::take(&mut pool_state.write().transactions);
		assert_eq!(txs.len(), 1);
		let xt = Extrinsic::decode(&mut &txs[0][..]).unwrap();
		let RuntimeCall::Pinning(Call::submit_proof { proof, signature }) = xt.function else {
			panic!("not a proof: {:?}", xt.function)
		};
		assert_eq!((proof.pinner, proof.era, proof.blocks.len()), (ALICE, 1, served.len()));
		submit(proof, signature);
		assert_eq!(Pinning::verified(&ALICE, &file.binary()), Some(Answer { era: 1, valid: true }));

		// The next block sends nothing: the answer is in.
		Pinning::offchain_worker(era_start(1) + 1);
		assert!(pool_state.read().transactions.is_empty());
	});
}
