//! # Inference pallet
//!
//! Runs registered models for anyone who asks: bonded providers serve models off-chain with
//! `citrate-inference`, and the chain records what they answered.
//!
//! **Providers**:
//! - [`Pallet::register_provider`]: become a provider, holding at least `MinBond`, with the
//!   key (key type `infr`) the provider's node signs results with — a key in the node's
//!   keystore, separate from the account that holds the bond — its hardware class and how
//!   many requests per block it accepts.
//! - [`Pallet::serve_model`] / [`Pallet::stop_serving`]: declare which registered, active
//!   models it runs (at most `MaxModelsPerProvider`; each model has at most
//!   `MaxProvidersPerModel` providers).
//! - [`Pallet::update_provider`], [`Pallet::set_provider_key`], [`Pallet::pause`],
//!   [`Pallet::resume`], [`Pallet::bond_extra`]: change terms, rotate the key, stop and restart
//!   taking new work, top the bond up (a provider slashed below `MinBond` is paused until it
//!   does).
//! - [`Pallet::leave`] then [`Pallet::withdraw_bond`]: a leaving provider takes no new work and
//!   stops serving its models at once; its bond is released `UnbondingDelay` blocks later, and
//!   not while work is assigned to it (so it can still be slashed for that work).
//!
//! **Requests**:
//! - [`Pallet::set_price`]: a model's owner sets its per-call price (none by default).
//! - [`Pallet::request_inference`]: the input is the tensor codec's bytes, decoded and checked
//!   on chain against the model's task (`citrate_inference_primitives::request`, the rule the
//!   engine applies too) before anything is stored, so a malformed input costs only the
//!   transaction fee. The model needs metadata (its task), the requester needs access
//!   (`ModelAccessControl`; one use is spent), and an active provider must serve the model.
//!   The fee — the per-call price plus the compute fee that the shared cost schedule derives
//!   from the model's registered FLOPs and memory, priced by `WeightToFee` — is held up front
//!   and refused above `max_fee`.
//! - Assignment: one active provider serving the model, drawn with
//!   `blake2_256(parent hash ‖ request id)`. The author of the parent block knows that hash
//!   and could withhold its block to redraw (one bit of bias per slot, at the cost of the
//!   block reward); a requester cannot choose its provider.
//! - An unanswered request expires at its deadline (`RequestTimeout` blocks) and its fees are
//!   released.
//! - [`Pallet::request_inference_cid`]: the input as the CID of a file in IPFS, for inputs over
//!   `MaxInputLen`; the provider reads and checks it, and answers an input that is not what the
//!   task reads as a deterministic failure.
//! - An output over `MaxOutputLen` comes back as [`Outcome::Stored`]: the CID the provider
//!   stored and pinned it under, with its output hash (and quantised hash), signed.
//!
//! Then **results** ([`Pallet::submit_result`]): the assigned provider's answer, an unsigned
//! transaction authorized by its provider key's signature (`#[pallet::authorize]`; only the
//! assigned provider, only before the deadline, once). An output (tensor codec bytes, at most
//! `MaxOutputLen`) pays the compute fee to the provider and the price to the model with the
//! access purchases' 90/10 split; a deterministic failure (a reason instead of an output) pays
//! the compute fee and refunds the price. The receipt — model, input hash, output hash
//! (`citrate_inference_primitives::output::output_hash`), outcome, provider and signature,
//! blocks, fees — is kept ([`Pallet::receipt`]).
//!
//! **Verification** is chosen per model by its owner ([`Pallet::set_terms`], [`Verification`]):
//! `Single` as above, or `Quorum { n, k }`: `n` providers drawn, each commits to its result
//! ([`Pallet::commit_result`]) then reveals it ([`Pallet::reveal_result`]); the answer `k` of
//! them agree on under the model's [`Comparison`] (exact output hash, or the hash of outputs on
//! the shared quantisation grid) is final, and the other providers are slashed
//! (`SlashFraction` of the bond, to the agreeing providers). See `quorum.rs` for the rules and
//! what they do not protect against. Or `Optimistic { window }`: one provider's result is
//! proposed and final `window` blocks later unless another provider disputes it
//! ([`Pallet::dispute_result`]); a dispute re-runs the request as a quorum of jurors drawn from
//! the other providers, and the side they disagree with is slashed (`optimistic.rs`).
//!
//! The **provider worker** (the offchain worker, `offchain.rs`) answers the requests assigned to
//! the provider keys in its node's keystore: it batches them per model, has the node's native
//! inference service run them (offchain HTTP to the loopback URL under
//! [`SERVICE_STORAGE_KEY`]; no custom host function) and submits each signed result. It also
//! checks the optimistic results proposed for the models its providers serve, and disputes
//! those it gets a different result for.
//!
//! **Receipts** hold `ReceiptDeposit` from the requester (held with the fees when the request
//! is made, returned if it ends without a receipt); [`Pallet::purge_receipt`] removes a
//! receipt and returns the deposit: the requester may at any time, anyone else after
//! `ReceiptRetention` blocks.
//!
//! **Callbacks** (`callbacks.rs`): a request made by a contract through the IInference
//! precompile may name a callback (weight limit, data), whose fee is held with the request.
//! Once the request is final or ended without a result, [`Pallet::deliver_callback`] (sent by
//! any provider worker) calls the contract through `Config::Callbacks`; a callback that fails
//! does not undo the result. [`Pallet::raise_callback_limit`] raises the limit of one that has
//! not run; [`Pallet::cancel_request`] cancels a request no provider answered yet.
//!
//! When the registry removes a model, its providers stop serving it ([`OnModelRemoved`]).

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod callbacks;
mod contracts;
mod delivery;
mod errors;
mod events;
mod impls;
mod offchain;
mod optimistic;
mod providers;
mod quorum;
mod requests;
mod results;
mod types;
pub mod weights;

#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

pub use callbacks::{
	Callback, CallbackOutcome, CallbackResult, ResultCallback, ResultKind, CALLBACK_LIMIT_MISMATCH,
};
pub use citrate_model_primitives::{
	InferenceTask, ModelAccessControl, ModelId, ModelInterface, ModelPayments,
	ModelRegistryInspect, OnModelRemoved,
};
pub use contracts::{InputSource, RequestStatus};
pub use offchain::{MAX_BATCH, SERVICE_STORAGE_KEY};
pub use types::*;
pub use weights::WeightInfo;

use alloc::vec::Vec;
use polkadot_sdk::{
	frame_support::{
		self,
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, Mutate, MutateHold},
			tokens::Precision,
		},
	},
	frame_system::{
		self, ensure_authorized, offchain::CreateAuthorizedTransaction, pallet_prelude::*,
	},
	sp_core::crypto::KeyTypeId,
	sp_runtime::{
		traits::{Saturating, Zero},
		transaction_validity::{
			InvalidTransaction, TransactionSource, TransactionValidityWithRefund, ValidTransaction,
		},
		Perbill, RuntimeAppPublic, SaturatedConversion,
	},
};

/// Balance type of the currency bonds are held in.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// Creates models for the benchmarks: registered, active, open source, with metadata whose
/// task is feature extraction.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Registers and describes a model owned by `owner`.
	fn create_model(owner: &AccountId) -> ModelId;
}

/// Log target of the provider worker.
const LOG_TARGET: &str = "runtime::inference";

/// A provider registered at genesis: the account holding the bond, the bond, the provider
/// key, requests per block.
pub type GenesisProvider<T> =
	(<T as frame_system::Config>::AccountId, BalanceOf<T>, <T as pallet::Config>::ProviderKey, u32);

/// Keystore key type of provider keys.
pub const KEY_TYPE: KeyTypeId = KeyTypeId(*b"infr");

/// The sr25519 provider key runtimes use as `Config::ProviderKey`.
pub mod crypto {
	use polkadot_sdk::sp_runtime::app_crypto::{app_crypto, sr25519};
	app_crypto!(sr25519, super::KEY_TYPE);
}

/// Lets a runtime list the provider key among its `SessionKeys`, so `author_rotateKeys` and
/// dev seeds (`--alice`) put one in the node's keystore.
impl<T: Config> polkadot_sdk::sp_runtime::BoundToRuntimeAppPublic for Pallet<T> {
	type Public = crypto::Public;
}

#[polkadot_sdk::frame_support::pallet_macros::import_section(events::events)]
#[polkadot_sdk::frame_support::pallet_macros::import_section(errors::errors)]
#[frame_support::pallet]
pub mod pallet {
	use super::*;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config:
		CreateAuthorizedTransaction<Call<Self>>
		+ polkadot_sdk::frame_system::Config<RuntimeEvent: From<Event<Self>>>
	{
		/// The currency bonds are held in.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ Mutate<Self::AccountId>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// The model registry: which models exist and are active.
		type Registry: ModelRegistryInspect<Self::AccountId>;

		/// The key providers sign results with ([`crypto::Public`] in the runtime).
		type ProviderKey: Member
			+ Parameter
			+ RuntimeAppPublic
			+ Ord
			+ MaxEncodedLen
			+ MaybeSerializeDeserialize;

		/// Least bond a provider holds.
		#[pallet::constant]
		type MinBond: Get<BalanceOf<Self>>;

		/// Blocks between `leave` and the bond's release.
		#[pallet::constant]
		type UnbondingDelay: Get<BlockNumberFor<Self>>;

		/// Most requests per block one provider may offer to take.
		#[pallet::constant]
		type MaxCapacity: Get<u32>;

		/// Most models one provider serves.
		#[pallet::constant]
		type MaxModelsPerProvider: Get<u32>;

		/// Most providers serving one model.
		#[pallet::constant]
		type MaxProvidersPerModel: Get<u32>;

		/// Who may use which model (`pallet-model-access`).
		type Access: ModelAccessControl<Self::AccountId>;

		/// Pays a model's price with the access purchases' split (`pallet-model-access`).
		type Payments: ModelPayments<Self::AccountId, BalanceOf<Self>>;

		/// Prices the compute a request needs, given as weight (`ref_time` from the cost
		/// schedule).
		type WeightToFee: polkadot_sdk::frame_support::weights::WeightToFee<
			Balance = BalanceOf<Self>,
		>;

		/// Longest inline input, in bytes.
		#[pallet::constant]
		type MaxInputLen: Get<u32>;

		/// Blocks a provider has to answer before a request expires.
		#[pallet::constant]
		type RequestTimeout: Get<BlockNumberFor<Self>>;

		/// Most requests one block may take (each expires in the same later block).
		#[pallet::constant]
		type MaxRequestsPerBlock: Get<u32>;

		/// Longest output stored on chain, in bytes.
		#[pallet::constant]
		type MaxOutputLen: Get<u32>;

		/// Longest SCALE-encoded provider signature a receipt keeps (64 for sr25519).
		#[pallet::constant]
		type MaxSignatureLen: Get<u32>;

		/// Most providers a quorum may have.
		#[pallet::constant]
		type MaxQuorum: Get<u32>;

		/// Blocks after a request during which quorum providers commit (less than
		/// `RequestTimeout`, which leaves the rest for reveals).
		#[pallet::constant]
		type CommitWindow: Get<BlockNumberFor<Self>>;

		/// Part of its bond a quorum provider loses for a result that disagrees with the final
		/// one, or for no result by the deadline.
		#[pallet::constant]
		type SlashFraction: Get<Perbill>;

		/// Blocks a receipt is kept after its request settled; after that anyone may remove it
		/// ([`Pallet::purge_receipt`]).
		#[pallet::constant]
		type ReceiptRetention: Get<BlockNumberFor<Self>>;

		/// Held from a requester for each request's receipt until the receipt is removed.
		#[pallet::constant]
		type ReceiptDeposit: Get<BalanceOf<Self>>;

		/// Longest challenge window a model's `Optimistic` terms may set, in blocks.
		#[pallet::constant]
		type MaxChallengeWindow: Get<u32>;

		/// Most jurors drawn to re-run a disputed optimistic result (fewer when fewer other
		/// providers are free; at least one). Less than `MaxQuorum`.
		#[pallet::constant]
		type DisputeJurors: Get<u32>;

		/// Part of a dispute loser's slash paid to the honest side (the proposer or the
		/// disputer); the rest goes to the jurors who agreed with the final result.
		#[pallet::constant]
		type DisputeReward: Get<Perbill>;

		/// Delivers results to the contracts that asked for a callback (pallet-revive in the
		/// runtime; `()` for none).
		type Callbacks: ResultCallback<Self::AccountId, BalanceOf<Self>>;

		/// Most weight a callback may use.
		#[pallet::constant]
		type MaxCallbackWeight: Get<Weight>;

		/// Most storage deposit a callback may take from its requester (held with the request,
		/// the unused part returned).
		#[pallet::constant]
		type CallbackDepositLimit: Get<BalanceOf<Self>>;

		/// Longest data a request hands its callback, in bytes.
		#[pallet::constant]
		type MaxCallbackData: Get<u32>;

		/// Priority of result transactions in the pool.
		#[pallet::constant]
		type UnsignedPriority: Get<TransactionPriority>;

		/// Weights of this pallet's calls.
		type WeightInfo: WeightInfo;

		/// Creates models for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A provider's bond.
		ProviderBond,
		/// The fees of a pending request.
		RequestFees,
		/// The deposit for a request's receipt.
		ReceiptDeposit,
		/// The fee of a request's callback until it runs.
		CallbackFee,
	}

	/// Registered providers by account.
	#[pallet::storage]
	pub type Providers<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, ProviderInfo<T>>;

	/// The provider each key signs for.
	#[pallet::storage]
	pub type ProviderOfKey<T: Config> =
		StorageMap<_, Blake2_128Concat, T::ProviderKey, T::AccountId>;

	/// The providers serving each model (active or paused; leaving providers are removed).
	#[pallet::storage]
	pub type ProvidersOf<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		ModelId,
		BoundedVec<T::AccountId, T::MaxProvidersPerModel>,
		ValueQuery,
	>;

	/// Each model's verification terms, set by its owner; `Single` and exact hashes when
	/// absent.
	#[pallet::storage]
	pub type Terms<T: Config> = StorageMap<_, Blake2_128Concat, ModelId, ModelTerms>;

	/// Quorum providers' commitments and revealed results, by request.
	#[pallet::storage]
	pub type Votes<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, RequestId, Blake2_128Concat, T::AccountId, Vote<T>>;

	/// The results proposed for `Optimistic` requests, and their disputes.
	#[pallet::storage]
	pub type Proposals<T: Config> = StorageMap<_, Blake2_128Concat, RequestId, Proposal<T>>;

	/// Each model's per-call price, set by its owner; none when absent.
	#[pallet::storage]
	pub type ModelPrices<T: Config> = StorageMap<_, Blake2_128Concat, ModelId, BalanceOf<T>>;

	/// The id the next request gets.
	#[pallet::storage]
	pub type NextRequestId<T> = StorageValue<_, RequestId, ValueQuery>;

	/// Requests waiting for their result.
	#[pallet::storage]
	pub type Requests<T: Config> = StorageMap<_, Blake2_128Concat, RequestId, InferenceRequest<T>>;

	/// Receipts of settled requests.
	#[pallet::storage]
	pub type Receipts<T: Config> = StorageMap<_, Blake2_128Concat, RequestId, Receipt<T>>;

	/// Requests' callbacks, from the request until they run (see `callbacks.rs`).
	#[pallet::storage]
	pub type Callbacks<T: Config> = StorageMap<_, Blake2_128Concat, RequestId, Callback<T>>;

	/// The requests that expire in each block.
	#[pallet::storage]
	pub type Expiring<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<RequestId, T::MaxRequestsPerBlock>,
		ValueQuery,
	>;

	/// Providers registered at genesis (development chains), on deterministic CPUs.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		pub providers: Vec<GenesisProvider<T>>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for (who, bond, key, capacity) in &self.providers {
				let registered = Pallet::<T>::do_register_provider(
					who.clone(),
					*bond,
					key.clone(),
					HardwareClass::Cpu,
					*capacity,
				);
				assert!(registered.is_ok(), "genesis provider: {registered:?}");
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(
				T::DisputeJurors::get() >= 1 && T::DisputeJurors::get() < T::MaxQuorum::get(),
				"a dispute draws at least one juror, and the jurors and the honest side fit in \
				 a receipt (MaxQuorum)"
			);
			assert!(T::CommitWindow::get() < T::RequestTimeout::get(), "reveals need time");
		}

		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::expire(now)
		}

		fn offchain_worker(now: BlockNumberFor<T>) {
			offchain::answer_requests::<T>(now);
			delivery::deliver_callbacks::<T>(now);
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Registers the caller as a provider holding `bond`, whose node signs results with
		/// `key`, running models on `hardware` and accepting up to `capacity` requests per
		/// block.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_provider())]
		pub fn register_provider(
			origin: OriginFor<T>,
			bond: BalanceOf<T>,
			key: T::ProviderKey,
			hardware: HardwareClass,
			capacity: u32,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_register_provider(who, bond, key, hardware, capacity)
		}

		/// Changes the caller's hardware class and capacity.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::update_provider())]
		pub fn update_provider(
			origin: OriginFor<T>,
			hardware: HardwareClass,
			capacity: u32,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_update_provider(who, hardware, capacity)
		}

		/// Makes `key` the key the caller's results are signed with.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::set_provider_key())]
		pub fn set_provider_key(origin: OriginFor<T>, key: T::ProviderKey) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_provider_key(who, key)
		}

		/// The caller serves `model_id`, a registered and active model, from now on.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::serve_model())]
		pub fn serve_model(origin: OriginFor<T>, model_id: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_serve_model(who, model_id)
		}

		/// The caller stops serving `model_id`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::stop_serving())]
		pub fn stop_serving(origin: OriginFor<T>, model_id: ModelId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_stop_serving(who, model_id)
		}

		/// The caller takes no new work until it resumes.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::pause())]
		pub fn pause(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_pause(who)
		}

		/// The paused caller takes work again.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::resume())]
		pub fn resume(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_resume(who)
		}

		/// The caller starts leaving: it stops serving every model at once and its bond can be
		/// withdrawn `UnbondingDelay` blocks from now.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::leave(T::MaxModelsPerProvider::get()))]
		pub fn leave(origin: OriginFor<T>) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let models = Self::do_leave(who)?;
			Ok(Some(T::WeightInfo::leave(models)).into())
		}

		/// Releases the leaving caller's bond once the unbonding delay has passed and no work
		/// is assigned to it, and forgets the provider.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::withdraw_bond())]
		pub fn withdraw_bond(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw_bond(who)
		}

		/// Sets the per-call price of a model the caller owns (zero for none).
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::set_price())]
		pub fn set_price(
			origin: OriginFor<T>,
			model_id: ModelId,
			price: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_price(who, model_id, price)
		}

		/// Asks for `model_id` to run on `input` (tensor codec bytes), paying at most
		/// `max_fee`; see the module docs.
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::request_inference(input.len() as u32))]
		pub fn request_inference(
			origin: OriginFor<T>,
			model_id: ModelId,
			input: Vec<u8>,
			max_fee: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_request_inference(who, model_id, input, max_fee).map(|_| ())
		}

		/// The assigned provider's answer to a request: an unsigned transaction authorized by
		/// the provider key's signature over `result` (`#[pallet::authorize]`). Settles the
		/// request and keeps its receipt.
		#[pallet::call_index(11)]
		#[pallet::weight(T::WeightInfo::submit_result(T::MaxOutputLen::get()))]
		#[pallet::weight_of_authorize(T::WeightInfo::authorize_submit_result())]
		#[pallet::authorize(Self::authorize_result)]
		pub fn submit_result(
			origin: OriginFor<T>,
			result: InferenceResult<T>,
			signature: <T::ProviderKey as RuntimeAppPublic>::Signature,
		) -> DispatchResult {
			ensure_authorized(origin)?;
			Self::do_submit_result(result, signature)
		}

		/// Sets the verification terms of a model the caller owns: `Single`, or
		/// `Quorum { n, k }` with the comparison its results are checked by. Requests made
		/// before keep the terms they were made under.
		#[pallet::call_index(12)]
		#[pallet::weight(T::WeightInfo::set_terms())]
		pub fn set_terms(
			origin: OriginFor<T>,
			model_id: ModelId,
			verification: Verification,
			comparison: Comparison,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_terms(who, model_id, verification, comparison)
		}

		/// A quorum provider's commitment to its result (an unsigned transaction authorized
		/// by its provider key's signature over `commitment`).
		#[pallet::call_index(13)]
		#[pallet::weight(T::WeightInfo::commit_result())]
		#[pallet::weight_of_authorize(T::WeightInfo::authorize_commit_result())]
		#[pallet::authorize(Self::authorize_commit)]
		pub fn commit_result(
			origin: OriginFor<T>,
			commitment: ResultCommitment<T>,
			signature: <T::ProviderKey as RuntimeAppPublic>::Signature,
		) -> DispatchResult {
			ensure_authorized(origin)?;
			// Checked by `authorize_commit`; a commitment keeps no signature.
			let _ = signature;
			Self::do_commit_result(commitment)
		}

		/// A quorum provider reveals the result it committed to, with the commitment's salt
		/// (authorized by its provider key's signature over `result`). The last reveal
		/// settles the request; see the module docs.
		#[pallet::call_index(14)]
		#[pallet::weight(T::WeightInfo::reveal_result(T::MaxQuorum::get()))]
		#[pallet::weight_of_authorize(T::WeightInfo::authorize_reveal_result())]
		#[pallet::authorize(Self::authorize_reveal)]
		pub fn reveal_result(
			origin: OriginFor<T>,
			result: InferenceResult<T>,
			salt: [u8; 32],
			signature: <T::ProviderKey as RuntimeAppPublic>::Signature,
		) -> DispatchResultWithPostInfo {
			ensure_authorized(origin)?;
			let voters = Self::do_reveal_result(result, salt, signature)?;
			Ok(Some(T::WeightInfo::reveal_result(voters)).into())
		}

		/// Removes a receipt and returns its deposit to the requester: the requester may at
		/// any time, anyone else once it is older than `ReceiptRetention` blocks.
		#[pallet::call_index(15)]
		#[pallet::weight(T::WeightInfo::purge_receipt())]
		pub fn purge_receipt(origin: OriginFor<T>, request_id: RequestId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_purge_receipt(who, request_id)
		}

		/// Asks for `model_id` to run on the input file `input_cid` (a binary CID of a UnixFS
		/// file in IPFS holding tensor codec bytes), paying at most `max_fee`: for inputs
		/// larger than `MaxInputLen`. The chain cannot check the input; the provider reads it
		/// from IPFS and answers an input that is not what the task reads as a deterministic
		/// failure. Otherwise as [`Pallet::request_inference`].
		#[pallet::call_index(17)]
		#[pallet::weight(T::WeightInfo::request_inference_cid())]
		pub fn request_inference_cid(
			origin: OriginFor<T>,
			model_id: ModelId,
			input_cid: Vec<u8>,
			max_fee: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_request_inference_cid(who, model_id, input_cid, max_fee).map(|_| ())
		}

		/// Adds `amount` of the caller's funds to its provider bond: for a provider slashed
		/// below `MinBond` (paused) to top up and `resume`, or to bond more than the least.
		#[pallet::call_index(18)]
		#[pallet::weight(T::WeightInfo::bond_extra())]
		pub fn bond_extra(origin: OriginFor<T>, amount: BalanceOf<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_bond_extra(who, amount)
		}

		/// Disputes the result proposed for an `Optimistic` request with the caller's own,
		/// different result: an unsigned transaction authorized by the disputing provider's
		/// key (an active provider of the model, not the proposer), before the window closes.
		/// Draws jurors to re-run the request; see the module docs.
		#[pallet::call_index(16)]
		#[pallet::weight(T::WeightInfo::dispute_result(T::MaxOutputLen::get()))]
		#[pallet::weight_of_authorize(T::WeightInfo::authorize_dispute_result())]
		#[pallet::authorize(Self::authorize_dispute)]
		pub fn dispute_result(
			origin: OriginFor<T>,
			result: InferenceResult<T>,
			signature: <T::ProviderKey as RuntimeAppPublic>::Signature,
		) -> DispatchResult {
			ensure_authorized(origin)?;
			Self::do_dispute_result(result, signature)
		}

		/// Runs a due callback (the request is final, or ended without a result): an unsigned
		/// transaction authorized by the callback being due, which any node may send (the
		/// provider worker does). `weight_limit` declares the callback's limit, which this
		/// transaction's weight includes; the weight the callee did not use is refunded. The
		/// callee's failure is recorded, not an error; see `callbacks.rs`.
		#[pallet::call_index(19)]
		#[pallet::weight(T::WeightInfo::deliver_callback().saturating_add(*weight_limit))]
		#[pallet::weight_of_authorize(T::WeightInfo::authorize_deliver_callback())]
		#[pallet::authorize(Self::authorize_delivery)]
		pub fn deliver_callback(
			origin: OriginFor<T>,
			request_id: RequestId,
			weight_limit: Weight,
		) -> DispatchResultWithPostInfo {
			ensure_authorized(origin)?;
			let used = Self::do_deliver_callback(request_id, weight_limit)?;
			Ok(Some(T::WeightInfo::deliver_callback().saturating_add(used)).into())
		}

		/// Raises the weight limit of the caller's callback for `request_id`, which has not run
		/// yet, holding the difference in fee.
		#[pallet::call_index(20)]
		#[pallet::weight(T::WeightInfo::raise_callback_limit())]
		pub fn raise_callback_limit(
			origin: OriginFor<T>,
			request_id: RequestId,
			weight_limit: Weight,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_raise_callback_limit(who, request_id, weight_limit).map(|_| ())
		}

		/// Cancels the caller's request before any provider answered (no result, commitment or
		/// proposal on chain): everything held for it comes back and its providers are freed. A
		/// provider that already ran it is not paid; its answer is refused.
		#[pallet::call_index(21)]
		#[pallet::weight(T::WeightInfo::cancel_request())]
		pub fn cancel_request(origin: OriginFor<T>, request_id: RequestId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_cancel_request(who, request_id).map(|_| ())
		}
	}

	#[pallet::view_functions]
	impl<T: Config> Pallet<T> {
		/// A registered provider.
		pub fn provider(who: T::AccountId) -> Option<ProviderInfo<T>> {
			Providers::<T>::get(who)
		}

		/// The providers serving `model_id`, active or paused.
		pub fn providers_of(model_id: ModelId) -> Vec<T::AccountId> {
			ProvidersOf::<T>::get(model_id).into_inner()
		}

		/// The provider that signs with `key`.
		pub fn provider_of_key(key: T::ProviderKey) -> Option<T::AccountId> {
			ProviderOfKey::<T>::get(key)
		}

		/// A request waiting for its result.
		pub fn request(request_id: RequestId) -> Option<InferenceRequest<T>> {
			Requests::<T>::get(request_id)
		}

		/// The receipt of a settled request.
		pub fn receipt(request_id: RequestId) -> Option<Receipt<T>> {
			Receipts::<T>::get(request_id)
		}

		/// What a request for `model_id` would be charged now (price, compute fee of all its
		/// providers together); `None` when the model has no metadata.
		pub fn quote(model_id: ModelId) -> Option<(BalanceOf<T>, BalanceOf<T>)> {
			let interface = T::Registry::interface(model_id)?;
			let runs: BalanceOf<T> = Self::terms(model_id).verification.providers().into();
			Some((
				ModelPrices::<T>::get(model_id).unwrap_or_default(),
				Self::compute_fee(&interface).saturating_mul(runs),
			))
		}

		/// A model's verification terms.
		pub fn terms(model_id: ModelId) -> ModelTerms {
			Terms::<T>::get(model_id).unwrap_or_default()
		}

		/// The result proposed for a pending `Optimistic` request, and its dispute.
		pub fn proposal(request_id: RequestId) -> Option<Proposal<T>> {
			Proposals::<T>::get(request_id)
		}

		/// Where a request stands.
		pub fn status(request_id: RequestId) -> RequestStatus<BlockNumberFor<T>> {
			Self::request_status(request_id)
		}

		/// A request's callback, until it runs.
		pub fn callback(request_id: RequestId) -> Option<Callback<T>> {
			Callbacks::<T>::get(request_id)
		}

		/// Everything a request for `model_id` with an `input_len`-byte input and a callback
		/// of `callback_weight` would hold now (fees, callback fee, receipt deposit).
		pub fn estimate(
			model_id: ModelId,
			input_len: u32,
			callback_weight: Option<Weight>,
		) -> Option<BalanceOf<T>> {
			Self::estimate_fee(model_id, input_len, callback_weight).ok()
		}

		/// A quorum provider's vote on a pending request.
		pub fn vote(request_id: RequestId, provider: T::AccountId) -> Option<Vote<T>> {
			Votes::<T>::get(request_id, provider)
		}
	}
}
