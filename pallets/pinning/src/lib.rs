//! # Pinning incentives pallet
//!
//! Pays IPFS pinners for provably holding the weights of registered models.
//!
//! ## Calls
//! - [`Pallet::register_pinner`]: become a pinner, holding at least `MinBond`, with the key
//!   (key type `pinr`) the pinner's offchain worker signs proofs with.
//! - [`Pallet::report_pin`]: report a pin of a registered, active model's root CID — a model
//!   package (a UnixFS directory of the model's files) or a single file — and its size, which
//!   must be the size the registry records (the bytes of the package's files). The pin is
//!   challenged from the next era on.
//! - [`Pallet::remove_pin`], [`Pallet::unregister_pinner`] (releases the bond once no pins
//!   are left).
//!
//! When the registry removes a model, every pin of its CID ends ([`OnModelRemoved`]): the
//! pins are dropped before the era's rewards are shared, so they earn nothing more.
//! - [`Pallet::submit_proof`]: an unsigned transaction authorized by the proof key's
//!   signature (`#[pallet::authorize]`), carrying the answer to this era's challenge.
//!
//! ## Eras, challenges and proofs
//! Every `EraLength` blocks a new era starts. Its seed is
//! `blake2_256(parent hash ‖ era index)`, and each pin's challenge is `ChallengesPerPin` byte
//! offsets drawn from it ([`Pallet::challenge_offsets`]). For a package, offsets run over the
//! bytes of its files one after another, in the depth-first link order of its directories
//! (entries sorted by name, as UnixFS stores them). The pinner answers with the blocks on the
//! paths from the root to the leaves holding those bytes — root directory → subdirectories →
//! file → leaf — plus each directory block and each file's root block, so the runtime can
//! place every offset; it checks that each block hashes (sha2-256) to the link its parent
//! holds, up to the registered root, and that the files' sizes add up to the reported size
//! (`citrate_ipfs_primitives::proof`, the same code the offchain worker proves with). Answers
//! are due within `ResponseWindow` blocks of the era's start.
//!
//! Randomness: the parent hash is known to the author of the era's first block, who could
//! withhold the block to redraw (one bit of bias per slot, at the cost of the block reward).
//! Seeds are unknown before the era starts, so a pinner cannot prepare for them, but a pinner
//! who can fetch the challenged blocks from the network within the window passes: the proof
//! shows the blocks are retrievable by the pinner, not that they sit on its own disk. A
//! pinner holding a fraction `p` of the leaves passes an era with probability about `p^K`.
//!
//! ## Rewards and slashing
//! When an era ends, `RewardPerEra` (or what the pool account holds above its existential
//! deposit) is shared among the pins whose proofs verified, in proportion to the bytes they
//! hold. A file with `n` proven copies counts `min(n, TargetReplicas)` copies at full weight
//! and each further copy at `ExtraReplicaShare`, split evenly between its `n` pinners.
//! A pin whose challenge was missed or failed earns nothing that era; after `MaxFailures`
//! failures in a row, `SlashFraction` of its pinner's bond goes to the reward pool and the
//! pin is dropped.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

mod eras;
mod functions;
mod model_removal;
mod offchain;
mod types;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

pub use citrate_model_primitives::{ModelId, ModelRegistryInspect, OnModelRemoved};
pub use offchain::GATEWAY_STORAGE_KEY;
pub use types::*;
pub use weights::WeightInfo;

use alloc::vec::Vec;
use citrate_ipfs_primitives::{cid, proof};
use codec::Encode;
use polkadot_sdk::{
	frame_support::{
		self,
		pallet_prelude::*,
		traits::{
			fungible::{Inspect, Mutate, MutateHold},
			tokens::{Fortitude, Precision, Preservation, Restriction},
		},
		PalletId,
	},
	frame_system::{self, offchain::CreateAuthorizedTransaction, pallet_prelude::*},
	sp_core::crypto::KeyTypeId,
	sp_runtime::{
		helpers_128bit::multiply_by_rational_with_rounding,
		traits::{AccountIdConversion, Saturating, Zero},
		PerThing, Perbill, Rounding, RuntimeAppPublic, SaturatedConversion,
	},
};

/// Balance type of the currency bonds and rewards are in.
pub type BalanceOf<T> =
	<<T as Config>::Currency as Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// The proof a pinner submits, with this runtime's bounds.
pub type ProofOf<T> = PinProof<
	<T as frame_system::Config>::AccountId,
	<T as Config>::MaxProofBlocks,
	<T as Config>::MaxProofBlockLen,
>;

/// Keystore key type of proof keys.
pub const KEY_TYPE: KeyTypeId = KeyTypeId(*b"pinr");

/// The sr25519 proof key runtimes use as `Config::ProofKey`.
pub mod crypto {
	use polkadot_sdk::sp_runtime::app_crypto::{app_crypto, sr25519};
	app_crypto!(sr25519, super::KEY_TYPE);
}

/// Registers models for the benchmarks, which need registered root CIDs.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Registers a model owned by `owner` whose files (`size` bytes) have the root `cid`
	/// (text form).
	fn register_model(owner: &AccountId, cid: Vec<u8>, size: u64) -> ModelId;
}

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
		/// The currency bonds are held in and rewards paid in.
		type Currency: MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ Mutate<Self::AccountId>;

		/// The overarching hold reason.
		type RuntimeHoldReason: From<HoldReason>;

		/// The model registry: which CIDs are registered models.
		type Registry: ModelRegistryInspect<Self::AccountId>;

		/// The key type pinners sign proofs with ([`crypto::Public`] in the runtime).
		type ProofKey: Member + Parameter + RuntimeAppPublic + Ord + MaxEncodedLen;

		/// Least bond a pinner holds.
		#[pallet::constant]
		type MinBond: Get<BalanceOf<Self>>;

		/// Blocks per era.
		#[pallet::constant]
		type EraLength: Get<BlockNumberFor<Self>>;

		/// Blocks after an era's start within which its challenges must be answered.
		#[pallet::constant]
		type ResponseWindow: Get<BlockNumberFor<Self>>;

		/// Byte offsets challenged per pin per era (K).
		#[pallet::constant]
		type ChallengesPerPin: Get<u32>;

		/// Rewards shared among proven pins each era, paid from the pool account.
		#[pallet::constant]
		type RewardPerEra: Get<BalanceOf<Self>>;

		/// Identifies the reward pool account, which slashes also go to.
		#[pallet::constant]
		type RewardPoolPalletId: Get<PalletId>;

		/// Copies of a file paid at full weight.
		#[pallet::constant]
		type TargetReplicas: Get<u32>;

		/// Weight of each copy beyond `TargetReplicas`, relative to a full copy.
		#[pallet::constant]
		type ExtraReplicaShare: Get<Perbill>;

		/// Failed or missed challenges in a row that get a pin slashed and dropped.
		#[pallet::constant]
		type MaxFailures: Get<u32>;

		/// Part of the bond taken by a slash.
		#[pallet::constant]
		type SlashFraction: Get<Perbill>;

		/// Pins in total; bounds the work at each era's end.
		#[pallet::constant]
		type MaxPins: Get<u32>;

		/// Pinners of one file.
		#[pallet::constant]
		type MaxPinnersPerCid: Get<u32>;

		/// Pins of one pinner.
		#[pallet::constant]
		type MaxPinsPerPinner: Get<u32>;

		/// Blocks in one proof.
		#[pallet::constant]
		type MaxProofBlocks: Get<u32>;

		/// Bytes of one block in a proof (a leaf is a whole chunk: 256 KiB by default).
		#[pallet::constant]
		type MaxProofBlockLen: Get<u32>;

		/// Priority of proof transactions in the pool.
		#[pallet::constant]
		type UnsignedPriority: Get<TransactionPriority>;

		/// Weights of this pallet's calls, from its benchmarks.
		type WeightInfo: WeightInfo;

		/// Registers models for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A pinner's bond.
		PinnerBond,
	}

	/// Registered pinners.
	#[pallet::storage]
	pub type Pinners<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, PinnerInfo<T>>;

	/// The pinner each proof key signs for.
	#[pallet::storage]
	pub type PinnerOfKey<T: Config> = StorageMap<_, Blake2_128Concat, T::ProofKey, T::AccountId>;

	/// Pins, by pinner and root CID.
	#[pallet::storage]
	pub type Pins<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Blake2_128Concat, BinaryCid, Pin>;

	/// Who pins each file.
	#[pallet::storage]
	pub type PinnersOf<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		BinaryCid,
		BoundedVec<T::AccountId, T::MaxPinnersPerCid>,
		ValueQuery,
	>;

	/// Pins in total.
	#[pallet::storage]
	pub type PinCount<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// The current era.
	#[pallet::storage]
	pub type CurrentEra<T: Config> = StorageValue<_, EraInfo<T>, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			// The pool must exist to receive slashes smaller than the existential deposit.
			let pool = Pallet::<T>::reward_pool_account();
			if T::Currency::balance(&pool).is_zero() {
				let _ = T::Currency::mint_into(&pool, T::Currency::minimum_balance());
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A pinner registered and bonded.
		PinnerRegistered { pinner: T::AccountId, bond: BalanceOf<T>, proof_key: T::ProofKey },
		/// A pinner left; its bond was released.
		PinnerUnregistered { pinner: T::AccountId, bond: BalanceOf<T> },
		/// A pin was reported; it is challenged from `since_era` on.
		PinReported {
			pinner: T::AccountId,
			cid: BinaryCid,
			model_id: ModelId,
			size: u64,
			since_era: EraIndex,
		},
		/// A pin was removed by its pinner.
		PinRemoved { pinner: T::AccountId, cid: BinaryCid },
		/// A pin ended because its model was removed from the registry; it earns nothing
		/// from the current era on.
		PinEnded { pinner: T::AccountId, cid: BinaryCid, model_id: ModelId },
		/// A new era began; its challenges are drawn from `seed`.
		EraStarted { era: EraIndex, seed: [u8; 32] },
		/// A proof verified.
		ProofAccepted { pinner: T::AccountId, cid: BinaryCid, era: EraIndex },
		/// A proof did not verify; the pin earns nothing this era.
		ProofRejected { pinner: T::AccountId, cid: BinaryCid, era: EraIndex, reason: ProofFailure },
		/// A pin's share of an era's rewards was paid.
		RewardPaid { pinner: T::AccountId, cid: BinaryCid, era: EraIndex, amount: BalanceOf<T> },
		/// A pin's challenge was missed or failed; `failures` in a row so far.
		ChallengeFailed { pinner: T::AccountId, cid: BinaryCid, era: EraIndex, failures: u32 },
		/// A pin failed `MaxFailures` challenges in a row: its pinner's bond was slashed by
		/// `amount` and the pin dropped.
		Slashed { pinner: T::AccountId, cid: BinaryCid, amount: BalanceOf<T> },
		/// An era's rewards were settled.
		EraSettled { era: EraIndex, proven: u32, failed: u32, paid: BalanceOf<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account is already a pinner.
		AlreadyRegistered,
		/// The account is not a pinner.
		NotRegistered,
		/// The bond is below `MinBond`.
		BondTooLow,
		/// Another pinner signs with this proof key.
		ProofKeyInUse,
		/// A pinner with pins cannot leave; remove them first.
		StillPinning,
		/// The CID text is not a valid CID.
		InvalidCid,
		/// Only sha2-256 CIDs of dag-pb or raw blocks can be proved.
		UnsupportedCid,
		/// No registered model has this root CID.
		ModelNotRegistered,
		/// The model is deprecated.
		ModelInactive,
		/// A pin of an empty file proves nothing.
		EmptyFile,
		/// The reported size is not the size the model registry records for this CID (the
		/// bytes of the package's files).
		SizeMismatch,
		/// The pinner already pins this file.
		AlreadyPinned,
		/// The pinner does not pin this file.
		NotPinned,
		/// The chain holds `MaxPins` pins.
		TooManyPins,
		/// The file has `MaxPinnersPerCid` pinners.
		TooManyPinners,
		/// The pinner holds `MaxPinsPerPinner` pins.
		TooManyPinsForPinner,
		/// The proof answers another era's challenge.
		WrongEra,
		/// The answer came after the response window.
		ResponseTooLate,
		/// This era's challenge of the pin was already answered.
		AlreadyAnswered,
		/// The pin is not challenged in this era (it was reported during it).
		NotChallenged,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			let era = CurrentEra::<T>::get();
			if now < era.start.saturating_add(T::EraLength::get()) {
				return T::DbWeight::get().reads(1);
			}
			let pins = PinCount::<T>::get();
			Self::settle(era.index);
			Self::start_era(now, era.index.saturating_add(1));
			T::WeightInfo::settle_era_paid(pins).max(T::WeightInfo::settle_era_slashed(pins))
		}

		fn offchain_worker(now: BlockNumberFor<T>) {
			offchain::answer_challenges::<T>(now);
		}

		fn integrity_test() {
			assert!(
				T::ResponseWindow::get() < T::EraLength::get(),
				"answers are due within the era"
			);
			assert!(T::ChallengesPerPin::get() >= 1, "at least one challenge per pin");
			assert!(T::MaxFailures::get() >= 1, "slash after at least one failure");
		}
	}

	#[pallet::call(weight(<T as Config>::WeightInfo))]
	impl<T: Config> Pallet<T> {
		/// Registers the caller as a pinner, holding `bond` (at least `MinBond`). The
		/// offchain worker signs proofs with `proof_key`, which must be in the node's keystore
		/// under key type `pinr`.
		#[pallet::call_index(0)]
		pub fn register_pinner(
			origin: OriginFor<T>,
			bond: BalanceOf<T>,
			proof_key: T::ProofKey,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_register_pinner(who, bond, proof_key)
		}

		/// Leaves, releasing the bond. Every pin must have been removed.
		#[pallet::call_index(1)]
		pub fn unregister_pinner(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let info = Pinners::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
			ensure!(info.pins == 0, Error::<T>::StillPinning);
			T::Currency::release(
				&HoldReason::PinnerBond.into(),
				&who,
				info.bond,
				Precision::BestEffort,
			)?;
			Pinners::<T>::remove(&who);
			PinnerOfKey::<T>::remove(&info.proof_key);
			Self::deposit_event(Event::PinnerUnregistered { pinner: who, bond: info.bond });
			Ok(())
		}

		/// Reports that the caller pins `cid`, a registered model's root CID (its package
		/// directory or single file), whose files hold `size` bytes as the registry records.
		/// The pin is challenged from the next era on.
		#[pallet::call_index(2)]
		pub fn report_pin(origin: OriginFor<T>, cid: CidText, size: u64) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_report_pin(who, &cid, size).map(|_| ())
		}

		/// Stops pinning `cid`. The current era's reward for it is forfeited.
		#[pallet::call_index(3)]
		pub fn remove_pin(origin: OriginFor<T>, cid: CidText) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_remove_pin(who, &cid)
		}

		/// Answers this era's challenge of `proof.pinner`'s pin of `proof.cid`. Sent unsigned
		/// by the pinner's offchain worker; `signature` is the proof key's signature of the
		/// SCALE-encoded `proof`. A proof that does not verify is recorded as this era's
		/// answer: the pin earns nothing this era and counts a failure.
		#[pallet::call_index(4)]
		#[pallet::weight(<T as Config>::WeightInfo::submit_proof(proof.kib()))]
		#[pallet::weight_of_authorize(<T as Config>::WeightInfo::authorize_submit_proof(proof.kib()))]
		#[pallet::authorize(Self::authorize_proof)]
		pub fn submit_proof(
			origin: OriginFor<T>,
			proof: ProofOf<T>,
			// Checked in `authorize_proof`.
			_signature: <T::ProofKey as RuntimeAppPublic>::Signature,
		) -> DispatchResult {
			ensure_authorized(origin)?;
			let (mut pin, era) = Self::challenged_pin(&proof)?;
			let offsets = Self::challenge_offsets(&era.seed, &proof.pinner, &proof.cid, pin.size);
			let root = cid::from_binary(&proof.cid).map_err(|_| Error::<T>::UnsupportedCid)?;
			let blocks: Vec<&[u8]> = proof.blocks.iter().map(|block| block.as_slice()).collect();
			let outcome = proof::verify(&root, pin.size, &offsets, &blocks, |bytes| {
				polkadot_sdk::sp_io::hashing::sha2_256(bytes)
			});
			pin.last_answer = Some(Answer { era: era.index, valid: outcome.is_ok() });
			Pins::<T>::insert(&proof.pinner, &proof.cid, pin);
			let (pinner, cid, era) = (proof.pinner, proof.cid, era.index);
			Self::deposit_event(match outcome {
				Ok(()) => Event::ProofAccepted { pinner, cid, era },
				Err(error) => Event::ProofRejected { pinner, cid, era, reason: error.into() },
			});
			Ok(())
		}
	}

	#[pallet::view_functions]
	impl<T: Config> Pallet<T> {
		/// `pinner`'s pin of `cid` (binary CIDv1): whether it exists, its size, the era of its
		/// latest answer and whether it counts as verified now.
		pub fn pin_status(pinner: T::AccountId, cid: BinaryCid) -> PinStatus {
			let era = CurrentEra::<T>::get().index;
			match Pins::<T>::get(&pinner, &cid) {
				None => PinStatus::default(),
				Some(pin) => PinStatus {
					pinned: true,
					size: pin.size,
					last_answered_era: pin.last_answer.map_or(0, |answer| answer.era),
					verified: pin.last_answer.is_some_and(|answer| answer.is_current(era)),
				},
			}
		}

		/// Who pins `cid` (binary CIDv1).
		pub fn pinners_of(cid: BinaryCid) -> Vec<T::AccountId> {
			PinnersOf::<T>::get(&cid).into_inner()
		}

		/// The current era: its index, first block and seed.
		pub fn current_era() -> EraInfo<T> {
			CurrentEra::<T>::get()
		}
	}
}

/// `InvalidTransaction::Custom` code of a proof for a pin that does not exist or is not
/// challenged this era.
pub const INVALID_PIN: u8 = 1;

const LOG_TARGET: &str = "runtime::pinning";
