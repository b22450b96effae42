//! A test runtime with pallet-revive, this precompile, the real model registry and the
//! pinning pallet (configured as in the pallet's own tests), set up as Citrate's runtime
//! sets them up: 32-byte accounts mapped to Ethereum addresses by `AccountId32Mapper`, and
//! one wei per planck.

use crate::PinningPrecompile;
use citrate_precompile_utils::testing::map_accounts;
use polkadot_sdk::{
	frame_support::{
		derive_impl, parameter_types,
		traits::{ConstU128, ConstU32, ConstU64},
		PalletId,
	},
	frame_system, pallet_balances, pallet_revive,
	sp_io::TestExternalities,
	sp_runtime::{testing::UintAuthorityId, AccountId32, BuildStorage, Perbill},
};

type Block = frame_system::mocking::MockBlock<Test>;
pub type Balance = u128;
pub type AccountId = AccountId32;
pub type Extrinsic = polkadot_sdk::sp_runtime::testing::TestXt<RuntimeCall, ()>;

pub const OWNER: AccountId = AccountId32::new([1; 32]);
pub const ALICE: AccountId = AccountId32::new([10; 32]);
pub const BOB: AccountId = AccountId32::new([11; 32]);
/// Covers pallet-revive's deposits (address mappings, deployed contracts) as well.
pub const INITIAL_BALANCE: Balance = 1_000_000_000_000_000_000;
pub const EXISTENTIAL_DEPOSIT: Balance = 5;
pub const MIN_BOND: Balance = 100;
pub const BOND: Balance = 1_000;
pub const ERA_LENGTH: u64 = 10;

polkadot_sdk::frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Revive: pallet_revive,
		ModelRegistry: pallet_model_registry,
		Pinning: pallet_pinning,
	}
);

citrate_precompile_utils::impl_revive_test_runtime!(
	Test,
	precompiles = (PinningPrecompile<Test>,),
	existential_deposit = ConstU128<EXISTENTIAL_DEPOSIT>,
);

impl pallet_model_registry::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type DepositBase = ConstU128<0>;
	type DepositPerByte = ConstU128<0>;
	type MetadataDepositBase = ConstU128<0>;
	type MaxNameLength = ConstU32<32>;
	type MaxCidLength = ConstU32<128>;
	type MaxLicenseIdLength = ConstU32<32>;
	type MaxModelsPerOwner = ConstU32<16>;
	type MaxVersions = ConstU32<4>;
	type OnModelRemoved = Pinning;
	type WeightInfo = ();
}

parameter_types! {
	pub const RewardPoolPalletId: PalletId = PalletId(*b"ctr/pins");
	pub const ExtraReplicaShare: Perbill = Perbill::from_percent(50);
	pub const SlashFraction: Perbill = Perbill::from_percent(10);
}

impl pallet_pinning::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Registry = ModelRegistry;
	type ProofKey = UintAuthorityId;
	type MinBond = ConstU128<MIN_BOND>;
	type EraLength = ConstU64<ERA_LENGTH>;
	type ResponseWindow = ConstU64<5>;
	type ChallengesPerPin = ConstU32<3>;
	type RewardPerEra = ConstU128<9_000>;
	type RewardPoolPalletId = RewardPoolPalletId;
	type TargetReplicas = ConstU32<2>;
	type ExtraReplicaShare = ExtraReplicaShare;
	type MaxFailures = ConstU32<2>;
	type SlashFraction = SlashFraction;
	type MaxPins = ConstU32<8>;
	type MaxPinnersPerCid = ConstU32<4>;
	type MaxPinsPerPinner = ConstU32<3>;
	type MaxProofBlocks = ConstU32<16>;
	type MaxProofBlockLen = ConstU32<1024>;
	type UnsignedPriority = ConstU64<{ 1 << 20 }>;
	type WeightInfo = ();
}

impl<LocalCall> frame_system::offchain::CreateTransactionBase<LocalCall> for Test
where
	RuntimeCall: From<LocalCall>,
{
	type RuntimeCall = RuntimeCall;
	type Extrinsic = Extrinsic;
}

impl<LocalCall> frame_system::offchain::CreateTransaction<LocalCall> for Test
where
	RuntimeCall: From<LocalCall>,
{
	type Extension = ();
	fn create_transaction(call: RuntimeCall, extension: ()) -> Extrinsic {
		Extrinsic::new_transaction(call, extension)
	}
}

impl<LocalCall> frame_system::offchain::CreateAuthorizedTransaction<LocalCall> for Test
where
	RuntimeCall: From<LocalCall>,
{
	fn create_extension() -> Self::Extension {}
}

/// A storable CID (CIDv1, raw, sha2-256 of `[seed; 32]`) as text.
pub fn cid(seed: u8) -> alloc::string::String {
	alloc::string::String::from_utf8(pallet_model_registry::cid::raw_sha256_v1_base16(&[seed; 32]))
		.unwrap()
}

/// Registers a model whose `size` bytes of files have root `cid`, owned by OWNER.
pub fn register_model(name: &str, cid: &str, size: u64) -> pallet_model_registry::ModelId {
	pallet_model_registry::Pallet::<Test>::do_register_model(
		OWNER,
		name.as_bytes().to_vec(),
		cid.as_bytes().to_vec(),
		pallet_model_registry::ModelType::Language,
		pallet_model_registry::Framework::Onnx,
		size,
		pallet_model_registry::LicenseKind::OpenSource,
		b"Apache-2.0".to_vec(),
	)
	.expect("test model registers")
}

/// Registers `who` as a pinner with a bond and a proof key of its own.
pub fn register_pinner(who: &AccountId, key: u64) {
	Pinning::register_pinner(RuntimeOrigin::signed(who.clone()), BOND, UintAuthorityId(key))
		.expect("the pinner registers");
}

pub fn new_test_ext() -> TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![(OWNER, INITIAL_BALANCE), (ALICE, INITIAL_BALANCE), (BOB, INITIAL_BALANCE)],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	pallet_pinning::GenesisConfig::<Test>::default().assimilate_storage(&mut storage).unwrap();
	pallet_revive::GenesisConfig::<Test>::default().assimilate_storage(&mut storage).unwrap();
	let mut ext = TestExternalities::new(storage);
	ext.execute_with(|| {
		// Events are only recorded from block 1 on.
		System::set_block_number(1);
		map_accounts::<Test>(&[OWNER, ALICE, BOB]);
	});
	ext
}
