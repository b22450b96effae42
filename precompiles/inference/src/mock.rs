//! A test runtime with pallet-revive, this precompile (and its callbacks), the real model
//! registry, access and inference pallets, set up as Citrate's runtime sets them up: 32-byte
//! accounts mapped to Ethereum addresses by `AccountId32Mapper`, one wei per planck, and the
//! precompile's account alive from genesis. Provider keys are `UintAuthorityId`s.

use crate::{ContractCallbacks, InferencePrecompile};
use citrate_model_primitives::InferenceTask;
use citrate_precompile_utils::testing::map_accounts;
use polkadot_sdk::{
	frame_support::{
		derive_impl, parameter_types,
		traits::{ConstU128, ConstU32, ConstU64},
		weights::{IdentityFee, Weight},
		PalletId,
	},
	frame_system, pallet_balances,
	pallet_revive::{self, AddressMapper, H160},
	sp_io::TestExternalities,
	sp_runtime::{testing::UintAuthorityId, AccountId32, BuildStorage, Perbill},
};

type Block = frame_system::mocking::MockBlock<Test>;
pub type Balance = u128;
pub type AccountId = AccountId32;
pub type Extrinsic = polkadot_sdk::sp_runtime::testing::TestXt<RuntimeCall, ()>;

pub const OWNER: AccountId = AccountId32::new([1; 32]);
pub const BUYER: AccountId = AccountId32::new([2; 32]);
pub const OTHER: AccountId = AccountId32::new([3; 32]);
/// The provider serving the test model.
pub const PROVIDER: AccountId = AccountId32::new([4; 32]);
/// Covers pallet-revive's deposits (address mappings, deployed contracts) as well.
pub const INITIAL_BALANCE: Balance = 1_000_000_000_000_000_000;
pub const EXISTENTIAL_DEPOSIT: Balance = 5;
pub const PRICE: Balance = 500;
pub const RECEIPT_DEPOSIT: Balance = 50;
pub const CALLBACK_DEPOSIT_LIMIT: Balance = 1_000_000_000_000;
pub const REQUEST_TIMEOUT: u64 = 10;

polkadot_sdk::frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Revive: pallet_revive,
		ModelRegistry: pallet_model_registry,
		ModelAccess: pallet_model_access,
		Inference: pallet_inference,
	}
);

citrate_precompile_utils::impl_revive_test_runtime!(
	Test,
	precompiles = (InferencePrecompile<Test>,),
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
	type MaxModelsPerOwner = ConstU32<8>;
	type MaxVersions = ConstU32<4>;
	type OnModelRemoved = (ModelAccess, Inference);
	type WeightInfo = ();
}

parameter_types! {
	pub const OwnerShare: Perbill = Perbill::from_percent(90);
	pub const TreasuryPalletId: PalletId = PalletId(*b"ctr/trsy");
	pub const SlashFraction: Perbill = Perbill::from_percent(10);
	pub const DisputeReward: Perbill = Perbill::from_percent(50);
	pub const MaxCallbackWeight: Weight = Weight::from_parts(2_000_000_000_000, 20_000_000_000);
}

impl pallet_model_access::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Registry = ModelRegistry;
	type OwnerShare = OwnerShare;
	type TreasuryPalletId = TreasuryPalletId;
	type TierDeposit = ConstU128<10>;
	type MaxTiersPerModel = ConstU32<2>;
	type WeightInfo = ();
}

impl pallet_inference::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Registry = ModelRegistry;
	type ProviderKey = UintAuthorityId;
	type MinBond = ConstU128<1_000>;
	type UnbondingDelay = ConstU64<20>;
	type MaxCapacity = ConstU32<100>;
	type MaxModelsPerProvider = ConstU32<3>;
	type MaxProvidersPerModel = ConstU32<4>;
	type Access = ModelAccess;
	type Payments = ModelAccess;
	type WeightToFee = IdentityFee<Balance>;
	type MaxInputLen = ConstU32<1_024>;
	type RequestTimeout = ConstU64<REQUEST_TIMEOUT>;
	type MaxRequestsPerBlock = ConstU32<8>;
	type MaxOutputLen = ConstU32<512>;
	type MaxSignatureLen = ConstU32<2_048>;
	type MaxQuorum = ConstU32<3>;
	type CommitWindow = ConstU64<4>;
	type SlashFraction = SlashFraction;
	type ReceiptRetention = ConstU64<100>;
	type ReceiptDeposit = ConstU128<RECEIPT_DEPOSIT>;
	type MaxChallengeWindow = ConstU32<20>;
	type DisputeJurors = ConstU32<2>;
	type DisputeReward = DisputeReward;
	type Callbacks = ContractCallbacks<Test>;
	type MaxCallbackWeight = MaxCallbackWeight;
	type CallbackDepositLimit = ConstU128<CALLBACK_DEPOSIT_LIMIT>;
	type MaxCallbackData = ConstU32<64>;
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

/// The precompile's account, which holds a call's value while the pallet hands it on; the
/// runtime's genesis gives it the existential deposit.
pub fn precompile_account() -> AccountId {
	<Test as pallet_revive::Config>::AddressMapper::to_fallback_account_id(&H160(
		crate::fixed_address(),
	))
}

/// A text-embedding model owned by OWNER, priced `PRICE`, served by PROVIDER.
pub fn served_model() -> pallet_model_registry::ModelId {
	let model = pallet_model_registry::Pallet::<Test>::do_register_model(
		OWNER,
		b"embedder".to_vec(),
		pallet_model_registry::cid::raw_sha256_v1_base16(&[9; 32]),
		pallet_model_registry::ModelType::Embedding,
		pallet_model_registry::Framework::Onnx,
		1_000,
		pallet_model_registry::LicenseKind::OpenSource,
		b"Apache-2.0".to_vec(),
	)
	.expect("test model registers");
	let metadata = pallet_model_registry::ModelMetadata {
		description: Default::default(),
		task: InferenceTask::FeatureExtraction,
		inputs: Default::default(),
		outputs: Default::default(),
		parameter_count: 1,
		flops_per_inference: 1_000,
		min_memory_bytes: 0,
		tags: Default::default(),
		documentation: Default::default(),
		tokenizer_cid: None,
		import_attestation: None,
	};
	pallet_model_registry::Pallet::<Test>::do_set_metadata(OWNER, model, metadata)
		.expect("metadata is set");
	Inference::register_provider(
		RuntimeOrigin::signed(PROVIDER),
		10_000,
		UintAuthorityId(4),
		pallet_inference::HardwareClass::Cpu,
		10,
	)
	.expect("the provider registers");
	Inference::serve_model(RuntimeOrigin::signed(PROVIDER), model).expect("it serves the model");
	Inference::set_price(RuntimeOrigin::signed(OWNER), model, PRICE).expect("the price is set");
	model
}

pub fn new_test_ext() -> TestExternalities {
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: vec![
			(OWNER, INITIAL_BALANCE),
			(BUYER, INITIAL_BALANCE),
			(OTHER, INITIAL_BALANCE),
			(PROVIDER, INITIAL_BALANCE),
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
		map_accounts::<Test>(&[OWNER, BUYER, OTHER, PROVIDER]);
	});
	ext
}
