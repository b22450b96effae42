//! Citrate's pinning incentives.

use crate::{
	currency::UNITS, Balances, BlockNumber, ModelRegistry, Runtime, RuntimeCall, RuntimeHoldReason,
	TxExtension, UncheckedExtrinsic, HOURS, MINUTES,
};
use polkadot_sdk::{
	frame_support::{parameter_types, traits::ConstU32, PalletId},
	frame_system, pallet_transaction_payment,
	sp_runtime::{generic, transaction_validity::TransactionPriority, Perbill},
};

parameter_types! {
	/// Era length and response window live in storage so that a test network can shorten
	/// them through `sudo(system.set_storage)`; keys are `twox_128(":PinningEraLength:")` and
	/// `twox_128(":PinningResponseWindow:")`.
	pub storage PinningEraLength: BlockNumber = HOURS;
	pub storage PinningResponseWindow: BlockNumber = 10 * MINUTES;
	pub const PinningRewardPoolPalletId: PalletId = PalletId(*b"ctr/pins");
	pub const PinnerMinBond: crate::Balance = 100 * UNITS;
	pub const PinningRewardPerEra: crate::Balance = 10 * UNITS;
	/// Copies beyond three earn a quarter each.
	pub const ExtraReplicaShare: Perbill = Perbill::from_percent(25);
	pub const PinningSlashFraction: Perbill = Perbill::from_percent(10);
	pub const PinProofPriority: TransactionPriority = TransactionPriority::MAX / 2;
}

impl pallet_pinning::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Registry = ModelRegistry;
	type ProofKey = pallet_pinning::crypto::Public;
	type MinBond = PinnerMinBond;
	type EraLength = PinningEraLength;
	type ResponseWindow = PinningResponseWindow;
	type ChallengesPerPin = ConstU32<2>;
	type RewardPerEra = PinningRewardPerEra;
	type RewardPoolPalletId = PinningRewardPoolPalletId;
	type TargetReplicas = ConstU32<3>;
	type ExtraReplicaShare = ExtraReplicaShare;
	type MaxFailures = ConstU32<3>;
	type SlashFraction = PinningSlashFraction;
	type MaxPins = ConstU32<512>;
	type MaxPinnersPerCid = ConstU32<16>;
	type MaxPinsPerPinner = ConstU32<64>;
	/// A package proof carries each directory block and each file's root block besides the
	/// challenged paths: room for packages of a few dozen files. The extrinsic length limit
	/// still bounds the bytes.
	type MaxProofBlocks = ConstU32<64>;
	/// A 1 MiB chunk (Kubo's largest) in a dag-pb leaf, with room for its framing.
	type MaxProofBlockLen = ConstU32<{ 1024 * 1024 + 1024 }>;
	type UnsignedPriority = PinProofPriority;
	type WeightInfo = pallet_pinning::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = RegistryBenchmarkHelper;
}

impl<LocalCall> frame_system::offchain::CreateTransactionBase<LocalCall> for Runtime
where
	RuntimeCall: From<LocalCall>,
{
	type RuntimeCall = RuntimeCall;
	type Extrinsic = UncheckedExtrinsic;
}

impl<LocalCall> frame_system::offchain::CreateTransaction<LocalCall> for Runtime
where
	RuntimeCall: From<LocalCall>,
{
	type Extension = TxExtension;

	fn create_transaction(call: RuntimeCall, extension: TxExtension) -> UncheckedExtrinsic {
		generic::UncheckedExtrinsic::new_transaction(call, extension).into()
	}
}

/// Offchain workers send proofs as general transactions that `AuthorizeCall` authorizes; the
/// other extensions do nothing for an authorized origin (no nonce, no fee).
impl<LocalCall> frame_system::offchain::CreateAuthorizedTransaction<LocalCall> for Runtime
where
	RuntimeCall: From<LocalCall>,
{
	fn create_extension() -> TxExtension {
		(
			frame_system::AuthorizeCall::<Runtime>::new(),
			frame_system::CheckNonZeroSender::<Runtime>::new(),
			frame_system::CheckSpecVersion::<Runtime>::new(),
			frame_system::CheckTxVersion::<Runtime>::new(),
			frame_system::CheckGenesis::<Runtime>::new(),
			frame_system::CheckMortality::<Runtime>::from(generic::Era::Immortal),
			frame_system::CheckNonce::<Runtime>::from(0),
			frame_system::CheckWeight::<Runtime>::new(),
			pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
			Default::default(),
			frame_system::WeightReclaim::<Runtime>::new(),
		)
	}
}

/// Registers models in the registry for the pinning benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub struct RegistryBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_pinning::BenchmarkHelper<crate::AccountId> for RegistryBenchmarkHelper {
	fn register_model(
		owner: &crate::AccountId,
		cid: alloc::vec::Vec<u8>,
		size: u64,
	) -> pallet_pinning::ModelId {
		super::model_registry::register_benchmark_model(
			owner,
			cid,
			size,
			pallet_model_registry::LicenseKind::OpenSource,
		)
	}
}
