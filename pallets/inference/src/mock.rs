//! A test runtime with the real model registry, so providers serve real registered models.
//! Provider keys are `UintAuthorityId`s.

use crate as pallet_inference;
use polkadot_sdk::{
	frame_support::{
		derive_impl,
		traits::{ConstU128, ConstU32, ConstU64},
	},
	frame_system, pallet_balances,
	sp_io::TestExternalities,
	sp_runtime::{testing::UintAuthorityId, BuildStorage},
};

type Block = frame_system::mocking::MockBlock<Test>;
pub type Balance = u128;
pub type AccountId = u64;

pub const OWNER: AccountId = 1;
pub const ALICE: AccountId = 10;
pub const BOB: AccountId = 11;
/// Cannot cover the least bond.
pub const POOR: AccountId = 12;
pub const INITIAL_BALANCE: Balance = 1_000_000;
pub const MIN_BOND: Balance = 1_000;
pub const UNBONDING_DELAY: u64 = 20;
pub const MAX_CAPACITY: u32 = 500;
pub const MAX_MODELS_PER_PROVIDER: u32 = 3;
pub const MAX_PROVIDERS_PER_MODEL: u32 = 2;

polkadot_sdk::frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		ModelRegistry: pallet_model_registry,
		Inference: pallet_inference,
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

impl pallet_model_registry::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type DepositBase = ConstU128<0>;
	type DepositPerByte = ConstU128<0>;
	type MetadataDepositBase = ConstU128<0>;
	type MaxNameLength = ConstU32<32>;
	type MaxCidLength = ConstU32<128>;
	type MaxLicenseIdLength = ConstU32<32>;
	type MaxModelsPerOwner = ConstU32<8>;
	type MaxVersions = ConstU32<4>;
	type OnModelRemoved = Inference;
	type WeightInfo = ();
}

impl pallet_inference::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Registry = ModelRegistry;
	type ProviderKey = UintAuthorityId;
	type MinBond = ConstU128<MIN_BOND>;
	type UnbondingDelay = ConstU64<UNBONDING_DELAY>;
	type MaxCapacity = ConstU32<MAX_CAPACITY>;
	type MaxModelsPerProvider = ConstU32<MAX_MODELS_PER_PROVIDER>;
	type MaxProvidersPerModel = ConstU32<MAX_PROVIDERS_PER_MODEL>;
	type WeightInfo = ();
}

/// Registers a model owned by `OWNER` in the real registry and returns its id.
pub fn register_model(seed: u8) -> pallet_model_registry::ModelId {
	pallet_model_registry::Pallet::<Test>::do_register_model(
		OWNER,
		format!("model-{seed}").into_bytes(),
		pallet_model_registry::cid::raw_sha256_v1_base16(&[seed; 32]),
		pallet_model_registry::ModelType::Embedding,
		pallet_model_registry::Framework::Onnx,
		1_000,
		pallet_model_registry::LicenseKind::OpenSource,
		b"Apache-2.0".to_vec(),
	)
	.expect("test model registers")
}

pub fn new_test_ext() -> TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![
			(OWNER, INITIAL_BALANCE),
			(ALICE, INITIAL_BALANCE),
			(BOB, INITIAL_BALANCE),
			(POOR, MIN_BOND),
		],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	let mut ext = TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}
