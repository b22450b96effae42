//! Weights for `pallet_model_registry`.
//!
//! Placeholder until `scripts/benchmark.sh` regenerates this file from the pallet's benchmarks.

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use polkadot_sdk::frame_support::{
	traits::Get,
	weights::{constants::RocksDbWeight, Weight},
};

/// Weight functions needed for `pallet_model_registry`.
pub trait WeightInfo {
	fn register_model() -> Weight;
	fn publish_version() -> Weight;
	fn transfer_ownership(v: u32) -> Weight;
	fn deprecate() -> Weight;
	fn remove_model() -> Weight;
}

/// Weights for `pallet_model_registry` using the runtime's database weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: polkadot_sdk::frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn register_model() -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
	fn publish_version() -> Weight {
		Weight::from_parts(100_000_000, 10_000)
			.saturating_add(T::DbWeight::get().reads(6_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
	fn transfer_ownership(v: u32) -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(Weight::from_parts(5_000_000, 0).saturating_mul(v.into()))
			.saturating_add(T::DbWeight::get().reads(4_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
			.saturating_add(T::DbWeight::get().reads((1_u64).saturating_mul(v.into())))
			.saturating_add(T::DbWeight::get().writes((1_u64).saturating_mul(v.into())))
	}
	fn deprecate() -> Weight {
		Weight::from_parts(30_000_000, 5_000)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	fn remove_model() -> Weight {
		Weight::from_parts(80_000_000, 10_000)
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
}

impl WeightInfo for () {
	fn register_model() -> Weight {
		Weight::from_parts(100_000_000, 10_000)
	}
	fn publish_version() -> Weight {
		Weight::from_parts(100_000_000, 10_000)
	}
	fn transfer_ownership(v: u32) -> Weight {
		Weight::from_parts(50_000_000, 10_000)
			.saturating_add(Weight::from_parts(5_000_000, 0).saturating_mul(v.into()))
	}
	fn deprecate() -> Weight {
		Weight::from_parts(30_000_000, 5_000)
	}
	fn remove_model() -> Weight {
		Weight::from_parts(80_000_000, 10_000)
	}
}
