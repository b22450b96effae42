//! Benchmarks for the model registry, each at its worst case: longest name, the CID form that
//! costs most to parse, and the per-owner and per-name lists one entry short of full.

use super::*;
use alloc::{vec, vec::Vec};
use polkadot_sdk::{
	frame_benchmarking::v2::*, frame_support::traits::fungible::Mutate, frame_system::RawOrigin,
	sp_runtime::traits::Bounded,
};

/// A base58btc CIDv1 (dag-pb, sha2-256, digest all 0xff): the slowest form of a storable CID
/// to decode (base58 decoding is quadratic in the length; longer CIDs name content no store
/// can prove and are refused).
const LONGEST_CID: &[u8] = b"zdj7WnfDT2zbb3e67UewLDzm9gx9ixRDTozW6xtdywkeXHYVC";

/// A distinct valid CIDv1 (raw, sha2-256, base16) per `n`.
fn cid(n: u32) -> Vec<u8> {
	let mut digest = [0u8; 32];
	digest[28..].copy_from_slice(&n.to_be_bytes());
	cid::raw_sha256_v1_base16(&digest)
}

fn funded<T: Config>(name: &'static str) -> T::AccountId {
	let who: T::AccountId = account(name, 0, 0);
	T::Currency::set_balance(&who, BalanceOf::<T>::max_value() / 4u32.into());
	who
}

fn longest_name<T: Config>() -> Vec<u8> {
	vec![b'n'; T::MaxNameLength::get() as usize]
}

fn register<T: Config>(owner: &T::AccountId, name: Vec<u8>, cid: Vec<u8>) -> ModelId {
	let id = NextModelId::<T>::get();
	Pallet::<T>::register_model(
		RawOrigin::Signed(owner.clone()).into(),
		name,
		cid,
		ModelType::Language,
		Framework::Onnx,
		u64::MAX,
		LicenseKind::Custom,
		vec![b'l'; T::MaxLicenseIdLength::get() as usize],
	)
	.expect("benchmark registration succeeds");
	id
}

/// Fills `who`'s owner index up to `len` entries with ids no model uses.
fn fill_owner_index<T: Config>(who: &T::AccountId, len: u32) {
	let mut owned = ModelsByOwner::<T>::get(who);
	let mut filler = ModelId::MAX;
	while (owned.len() as u32) < len {
		owned.try_push(filler).expect("below the bound");
		filler -= 1;
	}
	ModelsByOwner::<T>::insert(who, owned);
}

/// Metadata with every list full and every string at its longest, every dimension symbolic.
fn largest_metadata() -> ModelMetadata {
	use metadata_limits::*;
	fn text<const N: u32>(byte: u8) -> BoundedVec<u8, ConstU32<N>> {
		BoundedVec::truncate_from(vec![byte; N as usize])
	}
	let tensor = || TensorSpec {
		name: text(b't'),
		dtype: DType::F32,
		dims: BoundedVec::truncate_from(vec![Dim::Symbolic(text(b'd')); MAX_RANK as usize]),
	};
	let tensors = || BoundedVec::truncate_from(vec![tensor(); MAX_TENSORS as usize]);
	let mut tokenizer = LONGEST_CID.to_vec();
	tokenizer.truncate(MAX_AUX_CID_LEN as usize);
	ModelMetadata {
		description: text(b'd'),
		task: InferenceTask::TextGeneration,
		inputs: tensors(),
		outputs: tensors(),
		parameter_count: u64::MAX,
		flops_per_inference: u64::MAX,
		min_memory_bytes: u64::MAX,
		tags: BoundedVec::truncate_from(vec![text(b'g'); MAX_TAGS as usize]),
		documentation: text(b'u'),
		tokenizer_cid: Some(BoundedVec::truncate_from(tokenizer)),
		import_attestation: Some([0xab; 32]),
	}
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_model() {
		let caller = funded::<T>("caller");
		fill_owner_index::<T>(&caller, T::MaxModelsPerOwner::get() - 1);
		let name = longest_name::<T>();

		#[extrinsic_call]
		_(
			RawOrigin::Signed(caller.clone()),
			name.clone(),
			LONGEST_CID.to_vec(),
			ModelType::Language,
			Framework::Onnx,
			u64::MAX,
			LicenseKind::Custom,
			vec![b'l'; T::MaxLicenseIdLength::get() as usize],
		);

		assert_eq!(Pallet::<T>::versions_of(name.clone()).len(), 1);
	}

	#[benchmark]
	fn publish_version() {
		let caller = funded::<T>("caller");
		let name = longest_name::<T>();
		let first = register::<T>(&caller, name.clone(), cid(0));
		fill_owner_index::<T>(&caller, T::MaxModelsPerOwner::get() - 1);
		// One slot left in the history: the stored list is as long as it gets.
		let bounded_name: BoundedVec<u8, T::MaxNameLength> = name.clone().try_into().unwrap();
		ModelVersions::<T>::mutate(&bounded_name, |history| {
			let history = history.as_mut().unwrap();
			let mut versions: Vec<ModelId> =
				(0..T::MaxVersions::get() as u64 - 2).map(|i| ModelId::MAX - i).collect();
			versions.push(first);
			history.versions = versions.try_into().unwrap();
		});

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), name.clone(), LONGEST_CID.to_vec(), Framework::Gguf, u64::MAX);

		assert_eq!(Pallet::<T>::versions_of(name.clone()).len() as u32, T::MaxVersions::get());
	}

	#[benchmark]
	fn transfer_ownership(v: Linear<1, { T::MaxVersions::get() }>) {
		let caller = funded::<T>("caller");
		let receiver: T::AccountId = account("receiver", 0, 0);
		let name = longest_name::<T>();
		let first = register::<T>(&caller, name.clone(), cid(0));
		for n in 1..v {
			Pallet::<T>::publish_version(
				RawOrigin::Signed(caller.clone()).into(),
				name.clone(),
				cid(n),
				Framework::Onnx,
				1,
			)
			.unwrap();
		}
		// The receiver has room for exactly `v` more.
		fill_owner_index::<T>(&receiver, T::MaxModelsPerOwner::get() - v);
		let lookup = T::Lookup::unlookup(receiver.clone());

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), first, lookup);

		assert_eq!(ModelsByOwner::<T>::get(&receiver).len() as u32, T::MaxModelsPerOwner::get());
	}

	#[benchmark]
	fn deprecate() {
		let caller = funded::<T>("caller");
		let id = register::<T>(&caller, longest_name::<T>(), LONGEST_CID.to_vec());

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), id);

		assert_eq!(Models::<T>::get(id).unwrap().status, ModelStatus::Deprecated);
	}

	#[benchmark]
	fn set_metadata() {
		// Worst case: the largest metadata replaces metadata another account paid for, so one
		// deposit is held and another released.
		let previous = funded::<T>("previous");
		let caller = funded::<T>("caller");
		let id = register::<T>(&previous, longest_name::<T>(), LONGEST_CID.to_vec());
		Pallet::<T>::set_metadata(
			RawOrigin::Signed(previous.clone()).into(),
			id,
			largest_metadata(),
		)
		.unwrap();
		Pallet::<T>::transfer_ownership(
			RawOrigin::Signed(previous).into(),
			id,
			T::Lookup::unlookup(caller.clone()),
		)
		.unwrap();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), id, largest_metadata());

		assert_eq!(Metadata::<T>::get(id).unwrap().deposit.depositor, caller);
	}

	#[benchmark]
	fn remove_model() {
		let caller = funded::<T>("caller");
		let id = register::<T>(&caller, longest_name::<T>(), LONGEST_CID.to_vec());
		Pallet::<T>::set_metadata(RawOrigin::Signed(caller.clone()).into(), id, largest_metadata())
			.unwrap();
		Pallet::<T>::deprecate(RawOrigin::Signed(caller.clone()).into(), id).unwrap();
		fill_owner_index::<T>(&caller, T::MaxModelsPerOwner::get() - 1);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), id);

		assert!(Models::<T>::get(id).is_none());
		assert!(Metadata::<T>::get(id).is_none());
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
