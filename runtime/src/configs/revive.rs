//! pallet-revive: Ethereum contracts (EVM bytecode via its REVM backend, and PolkaVM).

use crate::{
	currency::deposit, AccountId, Address, Balance, Balances, Runtime, RuntimeCall, RuntimeEvent,
	RuntimeHoldReason, RuntimeOrigin, Signature, Timestamp,
};
use polkadot_sdk::{
	frame_support::{
		parameter_types,
		traits::{ConstBool, ConstU32, ConstU64, FindAuthor},
		ConsensusEngineId,
	},
	frame_system::{self, EnsureSigned},
	pallet_aura,
	pallet_revive::{self, evm::runtime::EthExtra, AccountId32Mapper},
	pallet_transaction_payment,
	sp_runtime::{FixedU128, Perbill},
};

/// The EIP-155 chain id of Citrate networks built from this runtime.
pub const CHAIN_ID: u64 = 0x0C17_0001;

parameter_types! {
	pub const DepositPerItem: Balance = deposit(1, 0);
	/// Solidity stores each 32-byte slot as one child-trie item: charge it lightly.
	pub const DepositPerChildTrieItem: Balance = deposit(1, 0) / 100;
	pub const DepositPerByte: Balance = deposit(0, 1);
	pub CodeHashLockupDepositPercent: Perbill = Perbill::from_percent(30);
	pub MaxEthExtrinsicWeight: FixedU128 = FixedU128::from_rational(9, 10);
}

impl pallet_revive::Config for Runtime {
	type Time = Timestamp;
	type Balance = Balance;
	type Currency = Balances;
	type OnBurn = ();
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type RuntimeOrigin = RuntimeOrigin;
	type RuntimeHoldReason = RuntimeHoldReason;
	type WeightInfo = pallet_revive::weights::SubstrateWeight<Self>;
	/// Citrate's model precompiles, at the addresses in `precompiles/README.md`.
	type Precompiles = (
		pallet_model_registry_precompile::ModelRegistryPrecompile<Self>,
		pallet_model_access_precompile::ModelAccessPrecompile<Self>,
		pallet_pinning_precompile::PinningPrecompile<Self>,
		pallet_inference_precompile::InferencePrecompile<Self>,
	);
	/// `block.coinbase` is the Aura author's account.
	type FindAuthor = AuraAuthorAccount;
	type DepositPerByte = DepositPerByte;
	type DepositPerItem = DepositPerItem;
	type DepositPerChildTrieItem = DepositPerChildTrieItem;
	type CodeHashLockupDepositPercent = CodeHashLockupDepositPercent;
	type AddressMapper = AccountId32Mapper<Self>;
	/// Plain `solc` output deploys and runs.
	type AllowEVMBytecode = ConstBool<true>;
	type UploadOrigin = EnsureSigned<Self::AccountId>;
	type InstantiateOrigin = EnsureSigned<Self::AccountId>;
	type RuntimeMemory = ConstU32<{ 128 * 1024 * 1024 }>;
	type PVFMemory = ConstU32<{ 512 * 1024 * 1024 }>;
	type ChainId = ConstU64<CHAIN_ID>;
	/// CTR has 18 decimals like ether: one planck is one wei.
	type NativeToEthRatio = ConstU32<1>;
	type FeeInfo = pallet_revive::evm::fees::Info<Address, Signature, EthExtraImpl>;
	type Deposit = ();
	type MaxEthExtrinsicWeight = MaxEthExtrinsicWeight;
	type DebugEnabled = ConstBool<false>;
	/// See `frame_system::Config::OnNewAccount`.
	type AutoMap = ConstBool<true>;
	/// Gas price = fee multiplier × 1 gwei, so gas figures look like Ethereum's.
	type GasScale = ConstU32<1_000_000_000>;
}

/// The account of the Aura authority that authored the current block. An sr25519 Aura key
/// and its account id share the same 32 bytes.
pub struct AuraAuthorAccount;

impl FindAuthor<AccountId> for AuraAuthorAccount {
	fn find_author<'a, I>(digests: I) -> Option<AccountId>
	where
		I: 'a + IntoIterator<Item = (ConsensusEngineId, &'a [u8])>,
	{
		pallet_aura::AuraAuthorId::<Runtime>::find_author(digests)
			.map(|authority| AccountId::new(authority.into_inner().0))
	}
}

/// The transaction extensions applied to Ethereum transactions (`eth_transact`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct EthExtraImpl;

impl EthExtra for EthExtraImpl {
	type Config = Runtime;
	type ExtensionV0 = crate::TxExtension;
	type ExtensionOtherVersions = polkadot_sdk::sp_runtime::traits::InvalidVersion;

	fn get_eth_extension(nonce: u32, tip: Balance) -> Self::ExtensionV0 {
		(
			frame_system::AuthorizeCall::<Runtime>::new(),
			frame_system::CheckNonZeroSender::<Runtime>::new(),
			frame_system::CheckSpecVersion::<Runtime>::new(),
			frame_system::CheckTxVersion::<Runtime>::new(),
			frame_system::CheckGenesis::<Runtime>::new(),
			frame_system::CheckMortality::from(polkadot_sdk::sp_runtime::generic::Era::Immortal),
			frame_system::CheckNonce::<Runtime>::from(nonce),
			frame_system::CheckWeight::<Runtime>::new(),
			pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(tip),
			pallet_revive::evm::tx_extension::SetOrigin::<Runtime>::new_from_eth_transaction(),
			frame_system::WeightReclaim::<Runtime>::new(),
		)
	}
}
