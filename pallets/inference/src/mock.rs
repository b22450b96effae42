//! A test runtime with the real model registry, so providers serve real registered models.
//! Provider keys are `UintAuthorityId`s.

use crate as pallet_inference;
use polkadot_sdk::{
	frame_support::{
		derive_impl, parameter_types,
		traits::{ConstU128, ConstU32, ConstU64},
		weights::{IdentityFee, Weight},
		PalletId,
	},
	frame_system, pallet_balances,
	sp_io::TestExternalities,
	sp_runtime::{testing::UintAuthorityId, BuildStorage, Perbill},
};

type Block = frame_system::mocking::MockBlock<Test>;
/// What the provider worker submits.
pub type Extrinsic = polkadot_sdk::sp_runtime::testing::TestXt<RuntimeCall, ()>;
pub type Balance = u128;
pub type AccountId = u64;

pub const OWNER: AccountId = 1;
pub const ALICE: AccountId = 10;
pub const BOB: AccountId = 11;
/// Cannot cover the least bond.
pub const POOR: AccountId = 12;
/// Covers compute fees priced one planck per picosecond of `ref_time`.
pub const INITIAL_BALANCE: Balance = 1_000_000_000_000;
pub const MIN_BOND: Balance = 1_000;
pub const UNBONDING_DELAY: u64 = 20;
pub const MAX_CAPACITY: u32 = 500;
pub const MAX_MODELS_PER_PROVIDER: u32 = 3;
pub const MAX_PROVIDERS_PER_MODEL: u32 = 4;
pub const MAX_INPUT_LEN: u32 = 1_024;
pub const REQUEST_TIMEOUT: u64 = 10;
pub const MAX_REQUESTS_PER_BLOCK: u32 = 4;
pub const MAX_OUTPUT_LEN: u32 = 512;
/// Requests inference in the tests.
pub const BUYER: AccountId = 13;
/// A third provider, for quorums.
pub const CAROL: AccountId = 14;
/// A fourth provider, for a dispute's jurors.
pub const DAVE: AccountId = 15;
pub const MAX_QUORUM: u32 = 3;
pub const COMMIT_WINDOW: u64 = 4;
pub const RECEIPT_RETENTION: u64 = 100;
pub const RECEIPT_DEPOSIT: Balance = 50;
pub const MAX_CHALLENGE_WINDOW: u32 = 20;
pub const DISPUTE_JURORS: u32 = 2;

pub const CALLBACK_DEPOSIT_LIMIT: Balance = 30;
pub const MAX_CALLBACK_DATA: u32 = 64;

parameter_types! {
	pub const MaxCallbackWeight: Weight = Weight::from_parts(1_000_000, 10_000);
	pub const SlashFraction: Perbill = Perbill::from_percent(10);
	pub const DisputeReward: Perbill = Perbill::from_percent(50);
}

polkadot_sdk::frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		ModelRegistry: pallet_model_registry,
		ModelAccess: pallet_model_access,
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
	type OnModelRemoved = (ModelAccess, Inference);
	type WeightInfo = ();
}

parameter_types! {
	pub const OwnerShare: Perbill = Perbill::from_percent(90);
	pub const TreasuryPalletId: PalletId = PalletId(*b"ctr/trsy");
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
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = RegistryHelper;
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
	type Access = ModelAccess;
	type Payments = ModelAccess;
	type WeightToFee = IdentityFee<Balance>;
	type MaxInputLen = ConstU32<MAX_INPUT_LEN>;
	type RequestTimeout = ConstU64<REQUEST_TIMEOUT>;
	type MaxRequestsPerBlock = ConstU32<MAX_REQUESTS_PER_BLOCK>;
	type MaxOutputLen = ConstU32<MAX_OUTPUT_LEN>;
	/// Test signatures carry the message they sign.
	type MaxSignatureLen = ConstU32<2_048>;
	type MaxQuorum = ConstU32<MAX_QUORUM>;
	type CommitWindow = ConstU64<COMMIT_WINDOW>;
	type SlashFraction = SlashFraction;
	type ReceiptRetention = ConstU64<RECEIPT_RETENTION>;
	type ReceiptDeposit = ConstU128<RECEIPT_DEPOSIT>;
	type MaxChallengeWindow = ConstU32<MAX_CHALLENGE_WINDOW>;
	type DisputeJurors = ConstU32<DISPUTE_JURORS>;
	type DisputeReward = DisputeReward;
	type Callbacks = MockCallbacks;
	type MaxCallbackWeight = MaxCallbackWeight;
	type CallbackDepositLimit = ConstU128<CALLBACK_DEPOSIT_LIMIT>;
	type MaxCallbackData = ConstU32<MAX_CALLBACK_DATA>;
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

/// Registers and describes models in the real registry for the benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub struct RegistryHelper;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_model_access::BenchmarkHelper<AccountId> for RegistryHelper {
	fn create_model(
		_owner: &AccountId,
		license: pallet_model_registry::LicenseKind,
	) -> pallet_model_registry::ModelId {
		let id = pallet_model_registry::NextModelId::<Test>::get();
		register_licensed_model(id as u8, license)
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AccountId> for RegistryHelper {
	fn create_model(owner: &AccountId) -> crate::ModelId {
		let id = pallet_model_registry::NextModelId::<Test>::get();
		pallet_model_registry::Pallet::<Test>::do_register_model(
			*owner,
			format!("bench-{id}").into_bytes(),
			pallet_model_registry::cid::raw_sha256_v1_base16(&[id as u8; 32]),
			pallet_model_registry::ModelType::Embedding,
			pallet_model_registry::Framework::Onnx,
			1_000,
			pallet_model_registry::LicenseKind::OpenSource,
			b"Apache-2.0".to_vec(),
		)
		.expect("benchmark model registers");
		let metadata = pallet_model_registry::ModelMetadata {
			description: Default::default(),
			task: crate::InferenceTask::FeatureExtraction,
			inputs: Default::default(),
			outputs: Default::default(),
			parameter_count: 1,
			flops_per_inference: 1_000_000,
			min_memory_bytes: 1_000,
			tags: Default::default(),
			documentation: Default::default(),
			tokenizer_cid: None,
			import_attestation: None,
		};
		pallet_model_registry::Pallet::<Test>::do_set_metadata(*owner, id, metadata)
			.expect("benchmark metadata is set");
		id
	}
}

/// Registers an open-source model owned by `OWNER` in the real registry and returns its id.
pub fn register_model(seed: u8) -> pallet_model_registry::ModelId {
	register_licensed_model(seed, pallet_model_registry::LicenseKind::OpenSource)
}

/// Registers a model with `license` owned by `OWNER` and returns its id.
pub fn register_licensed_model(
	seed: u8,
	license: pallet_model_registry::LicenseKind,
) -> pallet_model_registry::ModelId {
	pallet_model_registry::Pallet::<Test>::do_register_model(
		OWNER,
		format!("model-{seed}").into_bytes(),
		pallet_model_registry::cid::raw_sha256_v1_base16(&[seed; 32]),
		pallet_model_registry::ModelType::Embedding,
		pallet_model_registry::Framework::Onnx,
		1_000,
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
			(ALICE, INITIAL_BALANCE),
			(BOB, INITIAL_BALANCE),
			(POOR, MIN_BOND),
			(BUYER, INITIAL_BALANCE),
			(CAROL, INITIAL_BALANCE),
			(DAVE, INITIAL_BALANCE),
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

/// One callback the mock delivered.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Delivered {
	pub requester: AccountId,
	pub request_id: pallet_inference::RequestId,
	pub kind: pallet_inference::ResultKind,
	pub output: Vec<u8>,
	pub output_hash: [u8; 32],
	pub data: Vec<u8>,
	pub weight_limit: Weight,
	pub deposit_limit: Balance,
}

std::thread_local! {
	/// The callbacks delivered so far.
	pub static DELIVERED: core::cell::RefCell<Vec<Delivered>> = const { core::cell::RefCell::new(Vec::new()) };
	/// What the next deliveries report: (weight used, deposit used, success).
	pub static CALLBACK_OUTCOME: core::cell::Cell<(Weight, Balance, bool)> =
		const { core::cell::Cell::new((Weight::from_parts(400_000, 1_000), 7, true)) };
}

/// Records each delivery and reports `CALLBACK_OUTCOME`, taking the deposit it reports from
/// the requester as a contract's storage would.
pub struct MockCallbacks;

impl pallet_inference::ResultCallback<AccountId, Balance> for MockCallbacks {
	const ENABLED: bool = true;

	fn deliver(
		requester: &AccountId,
		result: pallet_inference::CallbackResult<'_>,
		weight_limit: Weight,
		deposit_limit: Balance,
	) -> pallet_inference::CallbackOutcome<Balance> {
		DELIVERED.with(|delivered| {
			delivered.borrow_mut().push(Delivered {
				requester: *requester,
				request_id: result.request_id,
				kind: result.kind,
				output: result.output.to_vec(),
				output_hash: result.output_hash,
				data: result.data.to_vec(),
				weight_limit,
				deposit_limit,
			})
		});
		let (weight_used, deposit_used, success) = CALLBACK_OUTCOME.with(|outcome| outcome.get());
		use polkadot_sdk::frame_support::traits::{fungible::Mutate, tokens::Preservation};
		let deposit_used = deposit_used.min(deposit_limit);
		let _ = Balances::transfer(requester, &OWNER, deposit_used, Preservation::Preserve);
		pallet_inference::CallbackOutcome { weight_used, deposit_used, success }
	}
}

/// The callbacks delivered so far, taken.
pub fn delivered() -> Vec<Delivered> {
	DELIVERED.with(|delivered| delivered.take())
}
