//! A test runtime with the real model registry, so access is tested against real owners,
//! licenses and reward totals.

use crate as pallet_model_access;
use polkadot_sdk::{
	frame_support::{derive_impl, parameter_types, traits::ConstU32, PalletId},
	frame_system, pallet_balances,
	sp_io::TestExternalities,
	sp_runtime::{BuildStorage, Perbill},
};

type Block = frame_system::mocking::MockBlock<Test>;
pub type Balance = u128;
pub type AccountId = u64;

pub const OWNER: AccountId = 1;
pub const BUYER: AccountId = 2;
/// Can pay for little.
pub const POOR: AccountId = 3;
pub const OTHER: AccountId = 4;
pub const INITIAL_BALANCE: Balance = 1_000_000;
pub const POOR_BALANCE: Balance = 120;
pub const EXISTENTIAL_DEPOSIT: Balance = 5;
pub const TIER_DEPOSIT: Balance = 20;
pub const MAX_TIERS: u32 = 3;

polkadot_sdk::frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		ModelRegistry: pallet_model_registry,
		ModelAccess: pallet_model_access,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = AccountId;
	type Lookup = polkadot_sdk::sp_runtime::traits::IdentityLookup<AccountId>;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
	type ExistentialDeposit = polkadot_sdk::frame_support::traits::ConstU128<EXISTENTIAL_DEPOSIT>;
}

impl pallet_model_registry::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type DepositBase = polkadot_sdk::frame_support::traits::ConstU128<0>;
	type DepositPerByte = polkadot_sdk::frame_support::traits::ConstU128<0>;
	type MetadataDepositBase = polkadot_sdk::frame_support::traits::ConstU128<0>;
	type MaxNameLength = ConstU32<32>;
	type MaxCidLength = ConstU32<128>;
	type MaxLicenseIdLength = ConstU32<32>;
	type MaxModelsPerOwner = ConstU32<8>;
	type MaxVersions = ConstU32<4>;
	type OnModelRemoved = ModelAccess;
	type WeightInfo = ();
}

parameter_types! {
	pub const OwnerShare: Perbill = Perbill::from_percent(90);
	pub const TreasuryPalletId: PalletId = PalletId(*b"ctr/trsy");
	pub const TierDeposit: Balance = TIER_DEPOSIT;
}

impl pallet_model_access::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Registry = ModelRegistry;
	type OwnerShare = OwnerShare;
	type TreasuryPalletId = TreasuryPalletId;
	type TierDeposit = TierDeposit;
	type MaxTiersPerModel = ConstU32<MAX_TIERS>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = RegistryHelper;
}

/// Registers models in the real registry for the benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub struct RegistryHelper;

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AccountId> for RegistryHelper {
	fn create_model(owner: &AccountId, license: crate::LicenseKind) -> crate::ModelId {
		let id = pallet_model_registry::NextModelId::<Test>::get();
		register_model(*owner, &format!("bench-{id}"), id as u8, license)
	}
}

/// Registers a model in the real registry and returns its id.
pub fn register_model(
	owner: AccountId,
	name: &str,
	cid_seed: u8,
	license: pallet_model_registry::LicenseKind,
) -> pallet_model_registry::ModelId {
	pallet_model_registry::Pallet::<Test>::do_register_model(
		owner,
		name.as_bytes().to_vec(),
		pallet_model_registry::cid::raw_sha256_v1_base16(&[cid_seed; 32]),
		pallet_model_registry::ModelType::Language,
		pallet_model_registry::Framework::Onnx,
		1,
		license,
		b"LicenseRef-test".to_vec(),
	)
	.expect("test model registers")
}

pub fn new_test_ext() -> TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![
			(OWNER, INITIAL_BALANCE),
			(BUYER, INITIAL_BALANCE),
			(POOR, POOR_BALANCE),
			(OTHER, INITIAL_BALANCE),
		],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	pallet_model_access::GenesisConfig::<Test>::default().assimilate_storage(&mut storage).unwrap();
	let mut ext = TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}
