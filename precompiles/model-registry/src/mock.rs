//! A test runtime with pallet-revive, this precompile and the real model registry, set up as
//! Citrate's runtime sets them up: 32-byte accounts mapped to Ethereum addresses by
//! `AccountId32Mapper`, and one wei per planck.

use crate::ModelRegistryPrecompile;
use citrate_precompile_utils::testing::map_accounts;
use polkadot_sdk::{
	frame_support::{derive_impl, parameter_types, traits::ConstU32},
	frame_system, pallet_balances, pallet_revive,
	sp_io::TestExternalities,
	sp_runtime::{AccountId32, BuildStorage},
};

type Block = frame_system::mocking::MockBlock<Test>;
pub type Balance = u128;
pub type AccountId = AccountId32;

pub const ALICE: AccountId = AccountId32::new([1; 32]);
pub const BOB: AccountId = AccountId32::new([2; 32]);
pub const CHARLIE: AccountId = AccountId32::new([3; 32]);
/// Covers pallet-revive's deposits (address mappings, deployed contracts) as well.
pub const INITIAL_BALANCE: Balance = 1_000_000_000_000_000_000;
pub const DEPOSIT_BASE: Balance = 100;
pub const DEPOSIT_PER_BYTE: Balance = 1;
pub const METADATA_DEPOSIT_BASE: Balance = 50;
pub const MAX_VERSIONS: u32 = 4;
pub const MAX_MODELS_PER_OWNER: u32 = 6;

polkadot_sdk::frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Revive: pallet_revive,
		ModelRegistry: pallet_model_registry,
	}
);

citrate_precompile_utils::impl_revive_test_runtime!(Test, precompiles = (ModelRegistryPrecompile<Test>,));

parameter_types! {
	pub const DepositBase: Balance = DEPOSIT_BASE;
	pub const DepositPerByte: Balance = DEPOSIT_PER_BYTE;
	pub const MetadataDepositBase: Balance = METADATA_DEPOSIT_BASE;
}

impl pallet_model_registry::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type DepositBase = DepositBase;
	type DepositPerByte = DepositPerByte;
	type MetadataDepositBase = MetadataDepositBase;
	type MaxNameLength = ConstU32<32>;
	type MaxCidLength = ConstU32<128>;
	type MaxLicenseIdLength = ConstU32<32>;
	type MaxModelsPerOwner = ConstU32<MAX_MODELS_PER_OWNER>;
	type MaxVersions = ConstU32<MAX_VERSIONS>;
	type OnModelRemoved = ();
	type WeightInfo = ();
}

pub fn new_test_ext() -> TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![
			(ALICE, INITIAL_BALANCE),
			(BOB, INITIAL_BALANCE),
			(CHARLIE, INITIAL_BALANCE),
		],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	pallet_revive::GenesisConfig::<Test>::default().assimilate_storage(&mut storage).unwrap();
	let mut ext = TestExternalities::new(storage);
	ext.execute_with(|| {
		// Events are only recorded from block 1 on.
		System::set_block_number(1);
		map_accounts::<Test>(&[ALICE, BOB, CHARLIE]);
	});
	ext
}
