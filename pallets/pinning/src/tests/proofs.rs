//! Challenges, proofs of holding and their windows.

use super::*;

#[test]
fn pin_status_reports_a_pin_verified_in_this_or_the_last_era() {
	new_test_ext().execute_with(|| {
		let file = File::new(1_000, 5, CidMode::V0);
		assert_eq!(Pinning::pin_status(ALICE, file.binary()), PinStatus::default());
		register(ALICE);
		pin(ALICE, &file);
		let unanswered =
			PinStatus { pinned: true, size: 1_000, last_answered_era: 0, verified: false };
		assert_eq!(Pinning::pin_status(ALICE, file.binary()), unanswered);
		assert_eq!(Pinning::pinners_of(file.binary()), vec![ALICE]);

		run_to_block(era_start(1));
		let (proof, signature) = honest_proof(ALICE, &file);
		submit(proof, signature);
		let verified = PinStatus { last_answered_era: 1, verified: true, ..unanswered };
		assert_eq!(Pinning::pin_status(ALICE, file.binary()), verified);
		// Era 2's challenge may not be due yet, so era 1's answer still counts.
		run_to_block(era_start(2));
		assert_eq!(Pinning::current_era().index, 2);
		assert_eq!(Pinning::pin_status(ALICE, file.binary()), verified);
		// Two eras on it no longer does.
		run_to_block(era_start(3));
		let status = Pinning::pin_status(ALICE, file.binary());
		assert_eq!((status.last_answered_era, status.verified), (1, false));
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
