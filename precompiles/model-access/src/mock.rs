//! A test runtime with pallet-revive, this precompile, the real model registry and the
//! access pallet, set up as Citrate's runtime sets them up: 32-byte accounts mapped to
//! Ethereum addresses by `AccountId32Mapper`, one wei per planck, and the precompile's and
//! the treasury's accounts alive from genesis.

use crate::ModelAccessPrecompile;
use citrate_precompile_utils::testing::map_accounts;
use polkadot_sdk::{
	frame_support::{
		derive_impl, parameter_types,
		traits::{ConstU128, ConstU32},
		PalletId,
	},
	frame_system, pallet_balances,
	pallet_revive::{self, AddressMapper, H160},
	sp_io::TestExternalities,
	sp_runtime::{AccountId32, BuildStorage, Perbill},
};

type Block = frame_system::mocking::MockBlock<Test>;
pub type Balance = u128;
pub type AccountId = AccountId32;

pub const OWNER: AccountId = AccountId32::new([1; 32]);
pub const BUYER: AccountId = AccountId32::new([2; 32]);
pub const OTHER: AccountId = AccountId32::new([3; 32]);
/// Covers pallet-revive's deposits (address mappings, deployed contracts) as well.
pub const INITIAL_BALANCE: Balance = 1_000_000_000_000_000_000;
pub const EXISTENTIAL_DEPOSIT: Balance = 5;
pub const TIER_DEPOSIT: Balance = 20;
pub const MAX_TIERS: u32 = 3;

polkadot_sdk::frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Revive: pallet_revive,
		ModelRegistry: pallet_model_registry,
		ModelAccess: pallet_model_access,
	}
);

citrate_precompile_utils::impl_revive_test_runtime!(Test, precompiles = (ModelAccessPrecompile<Test>,), existential_deposit = ConstU128<EXISTENTIAL_DEPOSIT>);

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
}

/// The account of the precompile, which holds a purchase's value while the pallet pays it
/// out; the runtime's genesis gives it the existential deposit.
pub fn precompile_account() -> AccountId {
	<Test as pallet_revive::Config>::AddressMapper::to_fallback_account_id(&H160(
		crate::fixed_address(),
	))
}

/// Registers a model owned by `owner` in the real registry and returns its id.
pub fn register_model(
	owner: &AccountId,
	name: &str,
	cid_seed: u8,
	license: pallet_model_registry::LicenseKind,
) -> pallet_model_registry::ModelId {
	pallet_model_registry::Pallet::<Test>::do_register_model(
		owner.clone(),
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
			(OTHER, INITIAL_BALANCE),
			(precompile_account(), EXISTENTIAL_DEPOSIT),
		],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	pallet_model_access::GenesisConfig::<Test>::default().assimilate_storage(&mut storage).unwrap();
	pallet_revive::GenesisConfig::<Test>::default().assimilate_storage(&mut storage).unwrap();
	let mut ext = TestExternalities::new(storage);
	ext.execute_with(|| {
		// Events are only recorded from block 1 on.
		System::set_block_number(1);
		map_accounts::<Test>(&[OWNER, BUYER, OTHER]);
	});
	ext
}
