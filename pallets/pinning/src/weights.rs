// SPDX-License-Identifier: Apache-2.0
// This file is part of Citrate.

//! Weights for `pallet_pinning`. Replaced by `scripts/benchmark.sh` output.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use core::marker::PhantomData;
use polkadot_sdk::frame_support::{traits::Get, weights::{Weight, constants::ParityDbWeight}};

/// Weight functions needed for `pallet_pinning`.
pub trait WeightInfo {
	fn register_pinner() -> Weight;
	fn unregister_pinner() -> Weight;
	fn report_pin() -> Weight;
	fn remove_pin() -> Weight;
	fn submit_proof(k: u32, ) -> Weight;
	fn authorize_submit_proof(k: u32, ) -> Weight;
	fn settle_era_paid(p: u32, ) -> Weight;
	fn settle_era_slashed(p: u32, ) -> Weight;
}

/// Weights for `pallet_pinning`, measured on the machine named above.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: polkadot_sdk::frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn register_pinner() -> Weight { Weight::from_parts(100_000_000, 4000).saturating_add(T::DbWeight::get().reads_writes(3, 3)) }
	fn unregister_pinner() -> Weight { Weight::from_parts(100_000_000, 4000).saturating_add(T::DbWeight::get().reads_writes(2, 3)) }
	fn report_pin() -> Weight { Weight::from_parts(100_000_000, 4000).saturating_add(T::DbWeight::get().reads_writes(7, 4)) }
	fn remove_pin() -> Weight { Weight::from_parts(100_000_000, 4000).saturating_add(T::DbWeight::get().reads_writes(4, 4)) }
	fn submit_proof(k: u32, ) -> Weight { Weight::from_parts(100_000_000, 4000).saturating_add(Weight::from_parts(10_000_000, 1024).saturating_mul(k.into())).saturating_add(T::DbWeight::get().reads_writes(2, 1)) }
	fn authorize_submit_proof(k: u32, ) -> Weight { Weight::from_parts(100_000_000, 4000).saturating_add(Weight::from_parts(10_000_000, 1024).saturating_mul(k.into())).saturating_add(T::DbWeight::get().reads(3)) }
	fn settle_era_paid(p: u32, ) -> Weight { Weight::from_parts(100_000_000, 4000).saturating_add(Weight::from_parts(100_000_000, 4000).saturating_mul(p.into())) }
	fn settle_era_slashed(p: u32, ) -> Weight { Weight::from_parts(100_000_000, 4000).saturating_add(Weight::from_parts(100_000_000, 4000).saturating_mul(p.into())) }
}

impl WeightInfo for () {
	fn register_pinner() -> Weight { Weight::zero() }
	fn unregister_pinner() -> Weight { Weight::zero() }
	fn report_pin() -> Weight { Weight::zero() }
	fn remove_pin() -> Weight { Weight::zero() }
	fn submit_proof(_k: u32, ) -> Weight { Weight::zero() }
	fn authorize_submit_proof(_k: u32, ) -> Weight { Weight::zero() }
	fn settle_era_paid(_p: u32, ) -> Weight { Weight::zero() }
	fn settle_era_slashed(_p: u32, ) -> Weight { Weight::zero() }
}
