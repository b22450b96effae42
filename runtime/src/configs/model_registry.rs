//! Citrate's model registry.

use crate::{
	currency::deposit, Balances, Inference, ModelAccess, Pinning, Runtime, RuntimeHoldReason,
};
use polkadot_sdk::frame_support::{parameter_types, traits::ConstU32};

parameter_types! {
	/// A model version occupies about four storage entries (record, CID index, owner and
	/// version lists).
	pub const ModelDepositBase: crate::Balance = deposit(4, 0);
	pub const ModelDepositPerByte: crate::Balance = deposit(0, 1);
	/// Metadata is one storage entry.
	pub const MetadataDepositBase: crate::Balance = deposit(1, 0);
}

impl pallet_model_registry::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type DepositBase = ModelDepositBase;
	type DepositPerByte = ModelDepositPerByte;
	type MetadataDepositBase = MetadataDepositBase;
	type MaxNameLength = ConstU32<64>;
	/// Room for any CIDv1 of a 64-byte digest in base32.
	type MaxCidLength = ConstU32<128>;
	type MaxLicenseIdLength = ConstU32<64>;
	type MaxModelsPerOwner = ConstU32<256>;
	type MaxVersions = ConstU32<64>;
	/// A removed model's access tiers are retired (deposits released) and its pins end.
	type OnModelRemoved = (ModelAccess, (Pinning, Inference));
	type WeightInfo = pallet_model_registry::weights::SubstrateWeight<Runtime>;
}

/// Registers a model named `bench-<id>` whose weights have root `cid`, for the benchmarks of
/// the pallets that need registered models (access, pinning).
#[cfg(feature = "runtime-benchmarks")]
pub(super) fn register_benchmark_model(
	owner: &crate::AccountId,
	cid: alloc::vec::Vec<u8>,
	size: u64,
	license: pallet_model_registry::LicenseKind,
) -> pallet_model_registry::ModelId {
	use pallet_model_registry::{Framework, ModelType, NextModelId};
	let id = NextModelId::<Runtime>::get();
	crate::ModelRegistry::do_register_model(
		owner.clone(),
		alloc::format!("bench-{id}").into_bytes(),
		cid,
		ModelType::Language,
		Framework::Onnx,
		size,
		license,
		b"LicenseRef-bench".to_vec(),
	)
	.expect("benchmark model registers");
	id
}
