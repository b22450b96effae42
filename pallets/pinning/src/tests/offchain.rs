//! The offchain worker answering from a gateway.

use super::*;

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
