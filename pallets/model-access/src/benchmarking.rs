//! Benchmarks for model access, each at its worst case.

use super::*;
use polkadot_sdk::{
	frame_benchmarking::v2::*, frame_support::traits::fungible::Mutate, frame_system::RawOrigin,
	sp_runtime::traits::Bounded,
};

fn funded<T: Config>(name: &'static str) -> T::AccountId {
	let who: T::AccountId = account(name, 0, 0);
	T::Currency::set_balance(&who, BalanceOf::<T>::max_value() / 4u32.into());
	who
}

/// A commercial model with a limited tier 0 on sale.
fn model_with_tier<T: Config>(owner: &T::AccountId) -> ModelId {
	let id = T::BenchmarkHelper::create_model(owner, LicenseKind::Commercial);
	Pallet::<T>::do_set_tier(owner.clone(), id, 0, 1_000u32.into(), 100u32.into(), 10).unwrap();
	id
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn set_tier() {
		// Creating a tier holds a deposit: dearer than updating one.
		let owner = funded::<T>("owner");
		let id = T::BenchmarkHelper::create_model(&owner, LicenseKind::Commercial);
		let tier = T::MaxTiersPerModel::get() - 1;

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, tier, 1_000u32.into(), 100u32.into(), 10);

		assert!(Tiers::<T>::contains_key(id, tier));
	}

	#[benchmark]
	fn retire_tier() {
		let owner = funded::<T>("owner");
		let id = model_with_tier::<T>(&owner);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), id, 0);

		assert!(!Tiers::<T>::contains_key(id, 0));
	}

	#[benchmark]
	fn purchase_access() {
		// Worst case: extending a valid limited grant (read, add, write) and paying both shares.
		let owner = funded::<T>("owner");
		let buyer = funded::<T>("buyer");
		let id = model_with_tier::<T>(&owner);
		Pallet::<T>::do_purchase_access(&buyer, &buyer, id, 0, 1_000u32.into()).unwrap();

		#[extrinsic_call]
		_(RawOrigin::Signed(buyer.clone()), id, 0, 1_000u32.into());

		assert_eq!(Access::<T>::get(id, &buyer).unwrap().uses_left, Uses::Limited(20));
	}

	#[benchmark]
	fn has_access() {
		// Worst case: not the owner, tiers on sale, so the grant is read too.
		let owner = funded::<T>("owner");
		let buyer = funded::<T>("buyer");
		let id = model_with_tier::<T>(&owner);
		Pallet::<T>::do_purchase_access(&buyer, &buyer, id, 0, 1_000u32.into()).unwrap();
		let result;

		#[block]
		{
			result = <Pallet<T> as ModelAccessControl<T::AccountId>>::has_access(&buyer, id);
		}

		assert!(result);
	}

	#[benchmark]
	fn consume_use() {
		let owner = funded::<T>("owner");
		let buyer = funded::<T>("buyer");
		let id = model_with_tier::<T>(&owner);
		Pallet::<T>::do_purchase_access(&buyer, &buyer, id, 0, 1_000u32.into()).unwrap();

		#[block]
		{
			<Pallet<T> as ModelAccessControl<T::AccountId>>::consume_use(&buyer, id).unwrap();
		}

		assert_eq!(Access::<T>::get(id, &buyer).unwrap().uses_left, Uses::Limited(9));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
