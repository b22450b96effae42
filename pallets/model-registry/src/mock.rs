//! A minimal runtime for the pallet's unit tests.

use crate as pallet_model_registry;
use polkadot_sdk::{
	frame_support::{derive_impl, parameter_types, traits::ConstU32, weights::Weight},
	frame_system, pallet_balances,
	sp_io::TestExternalities,
	sp_runtime::BuildStorage,
};

type Block = frame_system::mocking::MockBlock<Test>;
pub type Balance = u128;
pub type AccountId = u64;

pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
/// Holds too little to cover a model deposit.
pub const POOR: AccountId = 3;
pub const INITIAL_BALANCE: Balance = 1_000_000;
pub const DEPOSIT_BASE: Balance = 100;
pub const DEPOSIT_PER_BYTE: Balance = 1;
pub const METADATA_DEPOSIT_BASE: Balance = 50;
pub const MAX_NAME_LENGTH: u32 = 32;
pub const MAX_VERSIONS: u32 = 4;
pub const MAX_MODELS_PER_OWNER: u32 = 6;

polkadot_sdk::frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		ModelRegistry: pallet_model_registry,
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
}

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
	type MaxNameLength = ConstU32<MAX_NAME_LENGTH>;
	type MaxCidLength = ConstU32<128>;
	type MaxLicenseIdLength = ConstU32<32>;
	type MaxModelsPerOwner = ConstU32<MAX_MODELS_PER_OWNER>;
	type MaxVersions = ConstU32<MAX_VERSIONS>;
	type OnModelRemoved = RemovalRecorder;
	type WeightInfo = ();
}

thread_local! {
	/// Every `(model_id, binary CIDv1)` the registry reported removed.
	pub static REMOVED: core::cell::RefCell<Vec<(u64, Vec<u8>)>> = Default::default();
}

/// Stands for the pallets that end their state with a model: records each call.
pub struct RemovalRecorder;

/// What the recorder says it used, and its declared worst case.
pub const HOOK_WEIGHT: Weight = Weight::from_parts(7_000, 0);
pub const HOOK_MAX_WEIGHT: Weight = Weight::from_parts(10_000, 0);

impl pallet_model_registry::OnModelRemoved for RemovalRecorder {
	fn on_model_removed(model_id: u64, cid_v1: &[u8]) -> Weight {
		REMOVED.with(|removed| removed.borrow_mut().push((model_id, cid_v1.to_vec())));
		HOOK_WEIGHT
	}

	fn max_weight() -> Weight {
		HOOK_MAX_WEIGHT
	}
}

pub fn new_test_ext() -> TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![(ALICE, INITIAL_BALANCE), (BOB, INITIAL_BALANCE), (POOR, 150)],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = TestExternalities::new(storage);
	// Events are only recorded from block 1 on.
	ext.execute_with(|| System::set_block_number(1));
	ext
}
