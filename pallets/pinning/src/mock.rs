//! A test runtime with the real model registry and balances; proof keys are
//! `UintAuthorityId`s, whose signatures are checkable in tests.

use crate as pallet_pinning;
use citrate_storage::{import, CidMode, ImportOptions};
use polkadot_sdk::{
	frame_support::{
		derive_impl, parameter_types,
		traits::{ConstU128, ConstU32, ConstU64, Hooks},
		PalletId,
	},
	frame_system, pallet_balances,
	sp_core::H256,
	sp_io::TestExternalities,
	sp_runtime::{testing::UintAuthorityId, BuildStorage, Perbill},
};
use std::collections::HashMap;

type Block = frame_system::mocking::MockBlock<Test>;
pub type Balance = u128;
pub type AccountId = u64;
pub type Extrinsic = polkadot_sdk::sp_runtime::testing::TestXt<RuntimeCall, ()>;

pub const OWNER: AccountId = 1;
pub const ALICE: AccountId = 10;
pub const BOB: AccountId = 11;
pub const CHARLIE: AccountId = 12;
pub const DAVE: AccountId = 13;
/// Can afford little more than the existential deposit.
pub const POOR: AccountId = 14;
pub const INITIAL_BALANCE: Balance = 1_000_000;
pub const EXISTENTIAL_DEPOSIT: Balance = 5;
pub const MIN_BOND: Balance = 100;
pub const BOND: Balance = 1_000;
pub const ERA_LENGTH: u64 = 10;
pub const RESPONSE_WINDOW: u64 = 5;
pub const CHALLENGES: u32 = 3;
pub const REWARD_PER_ERA: Balance = 9_000;
pub const POOL_FUNDS: Balance = 1_000_000;
pub const MAX_FAILURES: u32 = 2;
pub const MAX_PINS: u32 = 8;
pub const MAX_PINNERS_PER_CID: u32 = 4;
pub const MAX_PINS_PER_PINNER: u32 = 3;
pub const MAX_PROOF_BLOCK_LEN: u32 = 1024;

polkadot_sdk::frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		ModelRegistry: pallet_model_registry,
		Pinning: pallet_pinning,
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
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
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
	type ResponseWindow = ConstU64<RESPONSE_WINDOW>;
	type ChallengesPerPin = ConstU32<CHALLENGES>;
	type RewardPerEra = ConstU128<REWARD_PER_ERA>;
	type RewardPoolPalletId = RewardPoolPalletId;
	type TargetReplicas = ConstU32<2>;
	type ExtraReplicaShare = ExtraReplicaShare;
	type MaxFailures = ConstU32<MAX_FAILURES>;
	type SlashFraction = SlashFraction;
	type MaxPins = ConstU32<MAX_PINS>;
	type MaxPinnersPerCid = ConstU32<MAX_PINNERS_PER_CID>;
	type MaxPinsPerPinner = ConstU32<MAX_PINS_PER_PINNER>;
	type MaxProofBlocks = ConstU32<16>;
	type MaxProofBlockLen = ConstU32<MAX_PROOF_BLOCK_LEN>;
	type UnsignedPriority = ConstU64<{ 1 << 20 }>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = RegistryHelper;
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

/// Registers models in the real registry for the benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub struct RegistryHelper;

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AccountId> for RegistryHelper {
	fn register_model(owner: &AccountId, cid: Vec<u8>, size: u64) -> crate::ModelId {
		let id = pallet_model_registry::NextModelId::<Test>::get();
		register_model_with_cid(*owner, &format!("bench-{id}"), cid, size)
	}
}

/// Registers a model whose `size` bytes of files have root `cid`; returns its id.
pub fn register_model_with_cid(
	owner: AccountId,
	name: &str,
	cid: Vec<u8>,
	size: u64,
) -> crate::ModelId {
	pallet_model_registry::Pallet::<Test>::do_register_model(
		owner,
		name.as_bytes().to_vec(),
		cid,
		pallet_model_registry::ModelType::Language,
		pallet_model_registry::Framework::Onnx,
		size,
		pallet_model_registry::LicenseKind::OpenSource,
		b"Apache-2.0".to_vec(),
	)
	.expect("test model registers")
}

/// A real UnixFS file: its blocks (from the real importer, 64-byte chunks, 4 links per node
/// so small files have deep trees), root CID text and size.
pub struct File {
	pub blocks: HashMap<cid::Cid, Vec<u8>>,
	pub root: cid::Cid,
	pub cid_text: Vec<u8>,
	pub size: u64,
}

impl File {
	pub fn new(len: usize, seed: u8, mode: CidMode) -> Self {
		let data: Vec<u8> = (0..len)
			.map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 8) as u8)
			.collect();
		let mut blocks = HashMap::new();
		let imported =
			import(&data[..], ImportOptions { mode, chunk_size: 64, max_links: 4 }, &mut blocks)
				.unwrap();
		Self {
			blocks,
			root: imported.root,
			cid_text: imported.root.to_string().into_bytes(),
			size: len as u64,
		}
	}

	/// The binary CIDv1 the pallet keys pins by.
	pub fn binary(&self) -> crate::BinaryCid {
		crate::Pallet::<Test>::parse_cid(&self.cid_text).unwrap().0
	}

	/// The block the runtime's CID names, as a gateway would serve it.
	pub fn block(&self, cid: &citrate_ipfs_primitives::cid::Cid) -> Result<Vec<u8>, ()> {
		let multihash = cid::multihash::Multihash::<64>::wrap(cid.hash_code, cid.digest()).unwrap();
		// Stores key CIDv0 blocks by their v0 CID; the runtime names roots in v1 form.
		let v1 = cid::Cid::new_v1(cid.codec, multihash);
		let v0 = cid::Cid::new_v0(multihash).ok();
		let block = self.blocks.get(&v1).or_else(|| v0.and_then(|v0| self.blocks.get(&v0)));
		block.cloned().ok_or(())
	}
}

pub fn new_test_ext() -> TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![
			(OWNER, INITIAL_BALANCE),
			(ALICE, INITIAL_BALANCE),
			(BOB, INITIAL_BALANCE),
			(CHARLIE, INITIAL_BALANCE),
			(DAVE, INITIAL_BALANCE),
			(POOR, EXISTENTIAL_DEPOSIT + 50),
		],
		..Default::default()
	}
	.assimilate_storage(&mut storage)
	.unwrap();
	pallet_pinning::GenesisConfig::<Test>::default().assimilate_storage(&mut storage).unwrap();
	let mut ext = TestExternalities::new(storage);
	ext.execute_with(|| {
		System::set_block_number(1);
		let pool = Pinning::reward_pool_account();
		let _ = <Balances as polkadot_sdk::frame_support::traits::fungible::Mutate<_>>::mint_into(
			&pool, POOL_FUNDS,
		);
	});
	ext
}

/// Advances to block `n`, running the pallet's `on_initialize` for each block.
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_parent_hash(H256::repeat_byte(next as u8));
		System::set_block_number(next);
		Pinning::on_initialize(next);
	}
}
