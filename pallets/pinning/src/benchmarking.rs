//! Benchmarks for pinning, each at its worst case. Proofs are real: a file of raw leaves under
//! one dag-pb root, built here with the same encoder the node's importer uses.

use super::*;
use alloc::{collections::BTreeMap, vec};
use citrate_ipfs_primitives::dag_pb;
use polkadot_sdk::{
	frame_benchmarking::v2::*,
	frame_support::traits::{fungible::Mutate, Authorize},
	frame_system::RawOrigin,
	sp_io::hashing::sha2_256,
	sp_runtime::traits::Bounded,
};

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	T::Currency::set_balance(&who, BalanceOf::<T>::max_value() / 1_000_000u32.into());
	who
}

fn pinner<T: Config>(index: u32) -> (T::AccountId, T::ProofKey) {
	let who = funded::<T>("pinner", index);
	let key = T::ProofKey::generate_pair(None);
	Pallet::<T>::do_register_pinner(who.clone(), T::MinBond::get(), key.clone()).unwrap();
	(who, key)
}

/// Bytes the small models are registered and pinned with.
const SMALL_MODEL_SIZE: u64 = 1 << 20;

/// A registered model whose root is a distinct raw block; returns its CID text.
fn small_model<T: Config>(index: u32) -> Vec<u8> {
	let mut digest = [0u8; 32];
	digest[..4].copy_from_slice(&index.to_le_bytes());
	let cid = cid::raw_sha256_v1_base16(&digest);
	T::BenchmarkHelper::register_model(&funded::<T>("owner", index), cid.clone(), SMALL_MODEL_SIZE);
	cid
}

/// A file of `leaves` raw leaves of `leaf_len` bytes under one dag-pb root, registered as a
/// model: its CID text, size and blocks by sha2-256.
fn file<T: Config>(leaves: u32, leaf_len: u32) -> (Vec<u8>, u64, BTreeMap<[u8; 32], Vec<u8>>) {
	let mut blocks = BTreeMap::new();
	let mut links = Vec::new();
	for i in 0..leaves {
		let leaf = vec![i as u8; leaf_len as usize];
		let digest = sha2_256(&leaf);
		links.push(dag_pb::Link {
			cid: [&[0x01, 0x55, 0x12, 0x20][..], &digest].concat(),
			tsize: leaf_len.into(),
			file_size: leaf_len.into(),
		});
		blocks.insert(digest, leaf);
	}
	let size = u64::from(leaves) * u64::from(leaf_len);
	let root =
		dag_pb::node(&links, &dag_pb::unixfs_file(b"", size, links.iter().map(|l| l.file_size)));
	let digest = sha2_256(&root);
	blocks.insert(digest, root);
	let cid = cid::base16_text(&[&[0x01, 0x70, 0x12, 0x20][..], &digest].concat());
	T::BenchmarkHelper::register_model(&funded::<T>("owner", 0), cid.clone(), size);
	(cid, size, blocks)
}

/// A pin challenged in era 1 and an honest, signed answer whose blocks total about `kib` KiB.
fn challenged_pin<T: Config>(
	kib: u32,
) -> (ProofOf<T>, <T::ProofKey as RuntimeAppPublic>::Signature) {
	let k = T::ChallengesPerPin::get();
	let leaf_len = (kib * 1024 / k).clamp(1, T::MaxProofBlockLen::get());
	// More leaves than challenges, so the drawn offsets mostly land in distinct leaves.
	let (cid_text, size, blocks) = file::<T>(4 * k, leaf_len);
	let (who, key) = pinner::<T>(0);
	Pallet::<T>::do_report_pin(who.clone(), &cid_text, size).unwrap();
	let now = frame_system::Pallet::<T>::block_number();
	CurrentEra::<T>::put(EraInfo { index: 1, start: now, seed: [7; 32] });
	let (binary, root) = Pallet::<T>::parse_cid(&cid_text).unwrap();
	let offsets = Pallet::<T>::challenge_offsets(&[7; 32], &who, &binary, size);
	let proof_blocks =
		proof::prove(&root, size, &offsets, |cid| blocks.get(cid.digest()).cloned().ok_or(()))
			.unwrap();
	let blocks = proof_blocks.into_iter().map(|b| b.try_into().unwrap()).collect::<Vec<_>>();
	let proof = PinProof { era: 1, pinner: who, cid: binary, blocks: blocks.try_into().unwrap() };
	let signature = proof.using_encoded(|encoded| key.sign(&encoded)).unwrap();
	(proof, signature)
}

/// `pins` pins, one per pinner and file, all challenged in era 1, which ends now.
fn era_of_pins<T: Config>(pins: u32, proven: bool) -> BlockNumberFor<T> {
	for i in 0..pins {
		let (who, _) = pinner::<T>(i);
		let cid = small_model::<T>(i);
		Pallet::<T>::do_report_pin(who.clone(), &cid, SMALL_MODEL_SIZE).unwrap();
		let binary = Pallet::<T>::parse_cid(&cid).unwrap().0;
		Pins::<T>::mutate(&who, &binary, |pin| {
			let pin = pin.as_mut().unwrap();
			pin.last_answer = proven.then_some(Answer { era: 1, valid: true });
			pin.failures = if proven { 0 } else { T::MaxFailures::get() - 1 };
		});
	}
	let start = frame_system::Pallet::<T>::block_number();
	CurrentEra::<T>::put(EraInfo { index: 1, start, seed: [7; 32] });
	start + T::EraLength::get()
}

#[benchmarks(where <T as frame_system::Config>::RuntimeCall: From<Call<T>>)]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_pinner() {
		let who = funded::<T>("pinner", 0);
		let key = T::ProofKey::generate_pair(None);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), T::MinBond::get(), key);

		assert!(Pinners::<T>::contains_key(&who));
	}

	#[benchmark]
	fn unregister_pinner() {
		let (who, _) = pinner::<T>(0);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert!(!Pinners::<T>::contains_key(&who));
	}

	#[benchmark]
	fn report_pin() {
		// The file already has all pinners but one.
		let cid = small_model::<T>(0);
		for i in 1..T::MaxPinnersPerCid::get() {
			let (other, _) = pinner::<T>(i);
			Pallet::<T>::do_report_pin(other, &cid, SMALL_MODEL_SIZE).unwrap();
		}
		let (who, _) = pinner::<T>(0);
		let text: CidText = cid.clone().try_into().unwrap();

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), text, SMALL_MODEL_SIZE);

		assert_eq!(Pinners::<T>::get(&who).unwrap().pins, 1);
	}

	#[benchmark]
	fn remove_pin() {
		let cid = small_model::<T>(0);
		for i in 0..T::MaxPinnersPerCid::get() {
			let (other, _) = pinner::<T>(i);
			Pallet::<T>::do_report_pin(other, &cid, SMALL_MODEL_SIZE).unwrap();
		}
		let who: T::AccountId = account("pinner", 0, 0);
		let text: CidText = cid.clone().try_into().unwrap();

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), text);

		assert_eq!(Pinners::<T>::get(&who).unwrap().pins, 0);
	}

	#[benchmark]
	fn submit_proof(
		k: Linear<1, { T::ChallengesPerPin::get() * T::MaxProofBlockLen::get() / 1024 }>,
	) {
		let (proof, signature) = challenged_pin::<T>(k);
		let (who, binary) = (proof.pinner.clone(), proof.cid.clone());

		#[extrinsic_call]
		_(RawOrigin::Authorized, proof, signature);

		assert_eq!(Pallet::<T>::verified(&who, &binary), Some(Answer { era: 1, valid: true }));
	}

	#[benchmark]
	fn authorize_submit_proof(
		k: Linear<1, { T::ChallengesPerPin::get() * T::MaxProofBlockLen::get() / 1024 }>,
	) -> Result<(), BenchmarkError> {
		let (proof, signature) = challenged_pin::<T>(k);
		let call: <T as frame_system::Config>::RuntimeCall =
			Call::submit_proof { proof, signature }.into();

		#[block]
		{
			call.authorize(TransactionSource::External)
				.ok_or("submit_proof has authorize logic")?
				.map_err(|_| "authorized")?;
		}
		Ok(())
	}

	#[benchmark]
	fn settle_era_paid(p: Linear<1, { T::MaxPins::get() }>) {
		let end = era_of_pins::<T>(p, true);

		#[block]
		{
			Pallet::<T>::on_initialize(end);
		}

		assert_eq!(CurrentEra::<T>::get().index, 2);
	}

	#[benchmark]
	fn settle_era_slashed(p: Linear<1, { T::MaxPins::get() }>) {
		let end = era_of_pins::<T>(p, false);

		#[block]
		{
			Pallet::<T>::on_initialize(end);
		}

		assert_eq!(PinCount::<T>::get(), 0);
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
