//! The Citrate runtime: a solo chain (Aura + GRANDPA) with pallet-revive for Solidity
//! contracts and Citrate's model pallets.

#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime` and `impl_runtime_apis` expand to very deep types.
#![recursion_limit = "512"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

pub mod apis;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarks;
pub mod configs;
pub mod genesis_config_presets;

use alloc::{borrow::Cow, vec::Vec};
use polkadot_sdk::{
	frame_executive, frame_support, frame_system, pallet_aura, pallet_balances, pallet_grandpa,
	pallet_revive, pallet_sudo, pallet_timestamp, pallet_transaction_payment,
	sp_runtime::{
		generic, impl_opaque_keys,
		traits::{BlakeTwo256, IdentifyAccount, Verify},
		MultiAddress, MultiSignature,
	},
	sp_version::RuntimeVersion,
};

pub use pallet_inference;
pub use pallet_model_access;
pub use pallet_model_registry;
pub use pallet_pinning;

/// The runtime version. `spec_name` is what polkadot.js apps shows as the chain's runtime.
#[polkadot_sdk::sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: Cow::Borrowed("citrate"),
	impl_name: Cow::Borrowed("citrate-node"),
	authoring_version: 1,
	// 101: the pinning pallet and its precompile.
	spec_version: 112,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	// 2: `AuthorizeCall` joined the transaction extensions (pinning proofs).
	transaction_version: 2,
	system_version: 1,
};

/// Block time. Aura slots are this long; GRANDPA finalises a few blocks behind.
pub const MILLISECS_PER_BLOCK: u64 = 6000;
/// Changing the slot duration after the chain started would stop block production.
pub const SLOT_DURATION: u64 = MILLISECS_PER_BLOCK;
pub const MINUTES: BlockNumber = 60_000 / (MILLISECS_PER_BLOCK as BlockNumber);
pub const HOURS: BlockNumber = MINUTES * 60;
pub const DAYS: BlockNumber = HOURS * 24;

/// The native token, CTR, and its units.
///
/// CTR has 18 decimals, like ether, so pallet-revive maps native balances to EVM values 1:1
/// (`NativeToEthRatio = 1`): `msg.value` in wei is exactly the native amount in planck, with no
/// rounding dust between the Substrate and Ethereum views of an account.
pub mod currency {
	use super::Balance;

	pub const TOKEN_SYMBOL: &str = "CTR";
	pub const TOKEN_DECIMALS: u8 = 18;
	/// One CTR.
	pub const UNITS: Balance = 1_000_000_000_000_000_000;
	pub const MILLI_UNITS: Balance = UNITS / 1_000;
	pub const MICRO_UNITS: Balance = UNITS / 1_000_000;
	/// The smallest balance an account may hold: 0.001 CTR.
	pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNITS;

	/// Storage deposit for `items` storage entries holding `bytes` bytes: 0.01 CTR per item and
	/// 0.0001 CTR per byte. Used by pallet-revive and the model registry alike.
	pub const fn deposit(items: u32, bytes: u32) -> Balance {
		items as Balance * 10 * MILLI_UNITS + bytes as Balance * 100 * MICRO_UNITS
	}
}

/// An index to a block.
pub type BlockNumber = u32;
/// Signatures of transactions: sr25519, ed25519 or ecdsa.
pub type Signature = MultiSignature;
/// An account id: the public key of the signing scheme (32 bytes).
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Balance of an account, in planck (10⁻¹⁸ CTR).
pub type Balance = u128;
/// Index of a transaction in the chain.
pub type Nonce = u32;
/// A hash of some data used by the chain.
pub type Hash = polkadot_sdk::sp_core::H256;

/// Opaque types, so the node need not know the runtime's extrinsic format.
pub mod opaque {
	use super::*;
	pub use polkadot_sdk::sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;

	impl_opaque_keys! {
		pub struct SessionKeys {
			pub aura: Aura,
			pub grandpa: Grandpa,
			/// Not a session key: listed so that `author_rotateKeys` and `--alice`-style dev
			/// seeds put a provider key in the keystore too.
			pub inference: Inference,
		}
	}
}

/// The address format for describing accounts.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header type as expected by this runtime.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block type as expected by this runtime.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;

/// The transaction extensions applied to every signed transaction.
pub type TxExtension = (
	// First: an authorized call (a pinning proof) needs no signer.
	frame_system::AuthorizeCall<Runtime>,
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	// After every extension that relies on a signed origin.
	pallet_revive::evm::tx_extension::SetOrigin<Runtime>,
	// Last, to catch refunds from the extensions before it.
	frame_system::WeightReclaim<Runtime>,
);

/// Extrinsics: Substrate-signed transactions, or Ethereum-signed ones that pallet-revive
/// converts (`eth_transact`).
pub type UncheckedExtrinsic =
	pallet_revive::evm::runtime::UncheckedExtrinsic<Address, Signature, configs::EthExtraImpl>;

/// The payload being signed in transactions.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Runtime migrations beyond the pallets' own.
type Migrations = ();

/// Executive: dispatches calls to the pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;

	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;

	#[runtime::pallet_index(2)]
	pub type Aura = pallet_aura;

	#[runtime::pallet_index(3)]
	pub type Grandpa = pallet_grandpa;

	#[runtime::pallet_index(4)]
	pub type Balances = pallet_balances;

	#[runtime::pallet_index(5)]
	pub type TransactionPayment = pallet_transaction_payment;

	#[runtime::pallet_index(6)]
	pub type Sudo = pallet_sudo;

	#[runtime::pallet_index(10)]
	pub type Revive = pallet_revive;

	#[runtime::pallet_index(20)]
	pub type ModelRegistry = pallet_model_registry;

	#[runtime::pallet_index(21)]
	pub type ModelAccess = pallet_model_access;

	#[runtime::pallet_index(22)]
	pub type Pinning = pallet_pinning;

	#[runtime::pallet_index(23)]
	pub type Inference = pallet_inference;
}
