//! Citrate's inference: bonded providers, requests, results and receipts.

use crate::{
	currency::UNITS, Balances, BlockNumber, ModelAccess, ModelRegistry, Runtime, RuntimeHoldReason,
	DAYS,
};
use polkadot_sdk::{
	frame_support::{
		parameter_types,
		traits::ConstU32,
		weights::{constants::WEIGHT_REF_TIME_PER_SECOND, Weight},
	},
	pallet_transaction_payment,
	sp_runtime::{transaction_validity::TransactionPriority, Perbill},
};

parameter_types! {
	pub const ProviderMinBond: crate::Balance = 100 * UNITS;
	/// A leaving provider can still be slashed for a day of past work.
	pub const ProviderUnbondingDelay: BlockNumber = DAYS;
	/// Ten blocks (one minute) to answer; unanswered requests are refunded.
	pub const InferenceRequestTimeout: BlockNumber = 10;
	pub const InferenceResultPriority: TransactionPriority = TransactionPriority::MAX / 2;
	/// Quorum providers commit within 4 blocks and reveal in the 6 left before the deadline.
	pub const InferenceCommitWindow: BlockNumber = 4;
	/// A quorum provider that disagrees or does not answer loses 10 % of its bond.
	pub const InferenceSlashFraction: Perbill = Perbill::from_percent(10);
	/// Receipts stay readable for 30 days; then anyone may remove them.
	pub const InferenceReceiptRetention: BlockNumber = 30 * DAYS;
	/// A receipt's entry and about 1 KiB (its fixed fields, signatures and a small output),
	/// at the chain's storage deposit rate.
	pub const InferenceReceiptDeposit: crate::Balance = crate::currency::deposit(1, 1024);
	/// Optimistic results can wait up to an hour (600 blocks) for disputes.
	pub const InferenceMaxChallengeWindow: u32 = 600;
	/// The honest side of a dispute gets half of the loser's slash, the jurors the rest.
	pub const InferenceDisputeReward: Perbill = Perbill::from_percent(50);
	/// A callback may use a quarter of a block's compute; its proof size is not what limits it
	/// on a solo chain.
	pub const InferenceMaxCallbackWeight: Weight =
		Weight::from_parts(WEIGHT_REF_TIME_PER_SECOND / 4, 4 * 1024 * 1024);
	/// A callback may store 16 new items holding 2 KiB at pallet-revive's deposit rates.
	pub const InferenceCallbackDepositLimit: crate::Balance = crate::currency::deposit(16, 2048);
}

impl pallet_inference::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Registry = ModelRegistry;
	type ProviderKey = pallet_inference::crypto::Public;
	type MinBond = ProviderMinBond;
	type UnbondingDelay = ProviderUnbondingDelay;
	type MaxCapacity = ConstU32<1_000>;
	type MaxModelsPerProvider = ConstU32<64>;
	type MaxProvidersPerModel = ConstU32<32>;
	type Access = ModelAccess;
	type Payments = ModelAccess;
	/// Compute is priced like block weight.
	type WeightToFee = <Runtime as pallet_transaction_payment::Config>::WeightToFee;
	/// A 256 KiB input: a photo as JPEG, half a minute of 16 kHz audio as 16-bit WAV.
	type MaxInputLen = ConstU32<{ 256 * 1024 }>;
	type RequestTimeout = InferenceRequestTimeout;
	type MaxRequestsPerBlock = ConstU32<512>;
	/// 64 KiB: embeddings, labels, transcripts and generated text fit.
	type MaxOutputLen = ConstU32<{ 64 * 1024 }>;
	type MaxSignatureLen = ConstU32<64>;
	type MaxQuorum = ConstU32<7>;
	type CommitWindow = InferenceCommitWindow;
	type SlashFraction = InferenceSlashFraction;
	type ReceiptRetention = InferenceReceiptRetention;
	type ReceiptDeposit = InferenceReceiptDeposit;
	type MaxChallengeWindow = InferenceMaxChallengeWindow;
	type DisputeJurors = ConstU32<3>;
	type DisputeReward = InferenceDisputeReward;
	/// Results go to the requesting contracts through the IInference precompile.
	type Callbacks = pallet_inference_precompile::ContractCallbacks<Runtime>;
	type MaxCallbackWeight = InferenceMaxCallbackWeight;
	type CallbackDepositLimit = InferenceCallbackDepositLimit;
	type MaxCallbackData = ConstU32<1_024>;
	type UnsignedPriority = InferenceResultPriority;
	type WeightInfo = pallet_inference::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = RegistryBenchmarkHelper;
}

/// Registers and describes models for the inference benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub struct RegistryBenchmarkHelper;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_inference::BenchmarkHelper<crate::AccountId> for RegistryBenchmarkHelper {
	fn create_model(owner: &crate::AccountId) -> pallet_inference::ModelId {
		let id = pallet_model_registry::NextModelId::<Runtime>::get();
		let mut digest = [0u8; 32];
		digest[24..].copy_from_slice(&id.to_be_bytes());
		let cid = pallet_model_registry::cid::raw_sha256_v1_base16(&digest);
		let id = super::model_registry::register_benchmark_model(
			owner,
			cid,
			1,
			pallet_model_registry::LicenseKind::OpenSource,
		);
		let metadata = pallet_model_registry::ModelMetadata {
			description: Default::default(),
			task: pallet_inference::InferenceTask::FeatureExtraction,
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
		ModelRegistry::do_set_metadata(owner.clone(), id, metadata)
			.expect("benchmark metadata is set");
		id
	}
}
