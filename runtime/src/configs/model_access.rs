//! Citrate's model access tiers and payments.

use crate::{currency::deposit, Balances, ModelRegistry, Runtime, RuntimeHoldReason};
use polkadot_sdk::{
	frame_support::{parameter_types, traits::ConstU32, PalletId},
	sp_runtime::Perbill,
};

parameter_types! {
	/// Model owners receive 90 % of each purchase; the treasury the other 10 %.
	pub const OwnerShare: Perbill = Perbill::from_percent(90);
	/// The treasury account is derived from this id (`modl` + `ctr/trsy`).
	pub const TreasuryPalletId: PalletId = PalletId(*b"ctr/trsy");
	/// A tier is one storage entry of about 100 bytes.
	pub const TierDeposit: crate::Balance = deposit(1, 100);
}

impl pallet_model_access::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Registry = ModelRegistry;
	type OwnerShare = OwnerShare;
	type TreasuryPalletId = TreasuryPalletId;
	type TierDeposit = TierDeposit;
	type MaxTiersPerModel = ConstU32<8>;
	type WeightInfo = pallet_model_access::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = RegistryBenchmarkHelper;
}

/// Registers real models in the registry for the access benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub struct RegistryBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_model_access::BenchmarkHelper<crate::AccountId> for RegistryBenchmarkHelper {
	fn create_model(
		owner: &crate::AccountId,
		license: pallet_model_access::LicenseKind,
	) -> pallet_model_access::ModelId {
		let id = pallet_model_registry::NextModelId::<Runtime>::get();
		// A distinct CIDv1 per model id.
		let mut digest = [0u8; 32];
		digest[24..].copy_from_slice(&id.to_be_bytes());
		let cid = pallet_model_registry::cid::raw_sha256_v1_base16(&digest);
		super::model_registry::register_benchmark_model(owner, cid, 1, license)
	}
}
