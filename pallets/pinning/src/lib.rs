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

mod offchain;
mod types;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

pub use citrate_model_primitives::{ModelId, ModelRegistryInspect};
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
}

impl<T: Config> Pallet<T> {
	/// The account rewards are paid from and slashes go to.
	pub fn reward_pool_account() -> T::AccountId {
		T::RewardPoolPalletId::get().into_account_truncating()
	}

	/// The byte offsets of `size`-byte file `cid` that `pinner` must prove in the era with
	/// `seed`: `blake2_256(seed ‖ pinner ‖ cid ‖ i) mod size` for `i` in `0..K`.
	pub fn challenge_offsets(
		seed: &[u8; 32],
		pinner: &T::AccountId,
		cid: &BinaryCid,
		size: u64,
	) -> Vec<u64> {
		(0..T::ChallengesPerPin::get())
			.map(|i| {
				let hash =
					(seed, pinner, cid, i).using_encoded(polkadot_sdk::sp_io::hashing::blake2_256);
				let mut word = [0u8; 8];
				word.copy_from_slice(&hash[..8]);
				// The modulo bias is below 2^-40 for files under 16 TiB.
				u64::from_le_bytes(word) % size.max(1)
			})
			.collect()
	}

	/// Registers `who` as a pinner; the extrinsic and the precompile both call this.
	pub fn do_register_pinner(
		who: T::AccountId,
		bond: BalanceOf<T>,
		proof_key: T::ProofKey,
	) -> DispatchResult {
		ensure!(!Pinners::<T>::contains_key(&who), Error::<T>::AlreadyRegistered);
		ensure!(bond >= T::MinBond::get(), Error::<T>::BondTooLow);
		ensure!(!PinnerOfKey::<T>::contains_key(&proof_key), Error::<T>::ProofKeyInUse);
		T::Currency::hold(&HoldReason::PinnerBond.into(), &who, bond)?;
		Pinners::<T>::insert(&who, PinnerInfo { bond, proof_key: proof_key.clone(), pins: 0 });
		PinnerOfKey::<T>::insert(&proof_key, &who);
		Self::deposit_event(Event::PinnerRegistered { pinner: who, bond, proof_key });
		Ok(())
	}

	/// Records `who`'s pin of `cid`; returns the first era it is challenged in. The extrinsic
	/// and the precompile both call this.
	pub fn do_report_pin(
		who: T::AccountId,
		cid: &[u8],
		size: u64,
	) -> Result<EraIndex, DispatchError> {
		let mut info = Pinners::<T>::get(&who).ok_or(Error::<T>::NotRegistered)?;
		let (binary, _) = Self::parse_cid(cid)?;
		let model_id = T::Registry::model_of_cid(&binary).ok_or(Error::<T>::ModelNotRegistered)?;
		let model = T::Registry::model(model_id).ok_or(Error::<T>::ModelNotRegistered)?;
		ensure!(model.active, Error::<T>::ModelInactive);
		ensure!(size > 0, Error::<T>::EmptyFile);
		ensure!(size == model.size_bytes, Error::<T>::SizeMismatch);
		ensure!(!Pins::<T>::contains_key(&who, &binary), Error::<T>::AlreadyPinned);
		ensure!(PinCount::<T>::get() < T::MaxPins::get(), Error::<T>::TooManyPins);
		ensure!(info.pins < T::MaxPinsPerPinner::get(), Error::<T>::TooManyPinsForPinner);
		PinnersOf::<T>::try_mutate(&binary, |pinners| pinners.try_push(who.clone()))
			.map_err(|_| Error::<T>::TooManyPinners)?;
		let since_era = CurrentEra::<T>::get().index.saturating_add(1);
		Pins::<T>::insert(
			&who,
			&binary,
			Pin { model_id, size, since_era, failures: 0, last_answer: None },
		);
		PinCount::<T>::mutate(|count| *count = count.saturating_add(1));
		info.pins = info.pins.saturating_add(1);
		Pinners::<T>::insert(&who, info);
		Self::deposit_event(Event::PinReported {
			pinner: who,
			cid: binary,
			model_id,
			size,
			since_era,
		});
		Ok(since_era)
	}

	/// Removes `who`'s pin of `cid`; the extrinsic and the precompile both call this.
	pub fn do_remove_pin(who: T::AccountId, cid: &[u8]) -> DispatchResult {
		let (binary, _) = Self::parse_cid(cid)?;
		ensure!(Pins::<T>::contains_key(&who, &binary), Error::<T>::NotPinned);
		Self::remove_pin_entry(&who, &binary);
		Self::deposit_event(Event::PinRemoved { pinner: who, cid: binary });
		Ok(())
	}

	/// Whether `pinner`'s latest proof for `cid` verified, and for which era; `None` when the
	/// pin does not exist or was never answered.
	pub fn verified(pinner: &T::AccountId, cid: &[u8]) -> Option<Answer> {
		let binary = BinaryCid::try_from(cid.to_vec()).ok()?;
		Pins::<T>::get(pinner, binary)?.last_answer
	}

	/// The binary CIDv1 of a textual CID that proofs can check (sha2-256, dag-pb or raw).
	pub fn parse_cid(text: &[u8]) -> Result<(BinaryCid, cid::Cid), Error<T>> {
		let parsed = cid::parse(text).map_err(|_| Error::<T>::InvalidCid)?;
		let proofs_can_check = parsed.hash_code == cid::SHA2_256
			&& (parsed.codec == cid::DAG_PB || parsed.codec == cid::RAW);
		ensure!(proofs_can_check, Error::<T>::UnsupportedCid);
		let (bytes, len) = parsed.to_v1_bytes();
		Ok((BoundedVec::truncate_from(bytes[..len].to_vec()), parsed))
	}

	/// The pin a proof answers, if it is challenged now and not yet answered, with the era.
	fn challenged_pin(proof: &ProofOf<T>) -> Result<(Pin, EraInfo<T>), Error<T>> {
		let era = CurrentEra::<T>::get();
		ensure!(proof.era == era.index, Error::<T>::WrongEra);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(
			now <= era.start.saturating_add(T::ResponseWindow::get()),
			Error::<T>::ResponseTooLate
		);
		let pin = Pins::<T>::get(&proof.pinner, &proof.cid).ok_or(Error::<T>::NotPinned)?;
		ensure!(pin.since_era <= era.index, Error::<T>::NotChallenged);
		ensure!(
			pin.last_answer.is_none_or(|answer| answer.era != era.index),
			Error::<T>::AlreadyAnswered
		);
		Ok((pin, era))
	}

	/// Validity of a `submit_proof`: the pin is challenged and unanswered, the window is
	/// open, and the pinner's proof key signed the proof.
	fn authorize_proof(
		_source: TransactionSource,
		proof: &ProofOf<T>,
		signature: &<T::ProofKey as RuntimeAppPublic>::Signature,
	) -> TransactionValidityWithRefund {
		let (_, era) = Self::challenged_pin(proof).map_err(|error| match error {
			Error::<T>::WrongEra | Error::<T>::ResponseTooLate | Error::<T>::AlreadyAnswered => {
				InvalidTransaction::Stale
			}
			_ => InvalidTransaction::Custom(INVALID_PIN),
		})?;
		let info = Pinners::<T>::get(&proof.pinner).ok_or(InvalidTransaction::BadSigner)?;
		if !proof.using_encoded(|encoded| info.proof_key.verify(&encoded, signature)) {
			return Err(InvalidTransaction::BadProof.into());
		}
		let deadline = era.start.saturating_add(T::ResponseWindow::get());
		let left = deadline.saturating_sub(frame_system::Pallet::<T>::block_number());
		ValidTransaction::with_tag_prefix("PinProof")
			.priority(T::UnsignedPriority::get())
			.and_provides((&proof.pinner, &proof.cid, era.index))
			.longevity(left.saturated_into::<u64>().max(1))
			.propagate(true)
			.build()
			.map(|validity| (validity, Weight::zero()))
	}

	fn start_era(now: BlockNumberFor<T>, index: EraIndex) {
		let parent = frame_system::Pallet::<T>::parent_hash();
		let seed = (parent, index).using_encoded(polkadot_sdk::sp_io::hashing::blake2_256);
		CurrentEra::<T>::put(EraInfo { index, start: now, seed });
		Self::deposit_event(Event::EraStarted { era: index, seed });
	}

	/// Pays era `era`'s rewards to the proven pins and counts failures of the others.
	fn settle(era: EraIndex) {
		struct Entry<AccountId> {
			pinner: AccountId,
			cid: BinaryCid,
			pin: Pin,
			weight: u128,
		}
		let mut entries = Vec::new();
		for (cid, pinners) in PinnersOf::<T>::iter() {
			let challenged: Vec<_> = pinners
				.into_iter()
				.filter_map(|pinner| {
					let pin = Pins::<T>::get(&pinner, &cid)?;
					(pin.since_era <= era).then_some((pinner, pin))
				})
				.collect();
			let proven =
				challenged.iter().filter(|(_, pin)| Self::proven_in(pin, era)).count() as u32;
			for (pinner, pin) in challenged {
				let weight = if Self::proven_in(&pin, era) {
					Self::replica_weight(pin.size, proven)
				} else {
					0
				};
				entries.push(Entry { pinner, cid: cid.clone(), pin, weight });
			}
		}

		let pool = Self::reward_pool_account();
		let available =
			T::Currency::reducible_balance(&pool, Preservation::Preserve, Fortitude::Polite);
		let budget: u128 = T::RewardPerEra::get().min(available).saturated_into();
		let total: u128 = entries.iter().map(|entry| entry.weight).fold(0, u128::saturating_add);
		let (mut proven, mut failed, mut paid) = (0u32, 0u32, BalanceOf::<T>::zero());
		for Entry { pinner, cid, mut pin, weight } in entries {
			if Self::proven_in(&pin, era) {
				proven += 1;
				pin.failures = 0;
				Pins::<T>::insert(&pinner, &cid, pin);
				let share =
					multiply_by_rational_with_rounding(budget, weight, total, Rounding::Down)
						.unwrap_or(0)
						.saturated_into::<BalanceOf<T>>();
				if share.is_zero() {
					continue;
				}
				match T::Currency::transfer(&pool, &pinner, share, Preservation::Preserve) {
					Ok(_) => {
						paid = paid.saturating_add(share);
						Self::deposit_event(Event::RewardPaid { pinner, cid, era, amount: share });
					}
					Err(error) => log::warn!(target: LOG_TARGET, "reward not paid: {error:?}"),
				}
			} else {
				failed += 1;
				pin.failures = pin.failures.saturating_add(1);
				let failures = pin.failures;
				Self::deposit_event(Event::ChallengeFailed {
					pinner: pinner.clone(),
					cid: cid.clone(),
					era,
					failures,
				});
				if failures >= T::MaxFailures::get() {
					Self::slash(&pinner, &cid);
				} else {
					Pins::<T>::insert(&pinner, &cid, pin);
				}
			}
		}
		Self::deposit_event(Event::EraSettled { era, proven, failed, paid });
	}

	fn proven_in(pin: &Pin, era: EraIndex) -> bool {
		pin.last_answer == Some(Answer { era, valid: true })
	}

	/// Weight of one of `copies` proven copies of a `size`-byte file, in bytes × 10^9.
	fn replica_weight(size: u64, copies: u32) -> u128 {
		let full = u128::from(copies.min(T::TargetReplicas::get()));
		let extra = u128::from(copies.saturating_sub(T::TargetReplicas::get()));
		let parts = full * u128::from(Perbill::ACCURACY)
			+ extra * u128::from(T::ExtraReplicaShare::get().deconstruct());
		u128::from(size) * parts / u128::from(copies.max(1))
	}

	/// Takes `SlashFraction` of `pinner`'s bond into the reward pool and drops the pin.
	fn slash(pinner: &T::AccountId, cid: &BinaryCid) {
		Self::remove_pin_entry(pinner, cid);
		let Some(mut info) = Pinners::<T>::get(pinner) else { return };
		let amount = T::SlashFraction::get() * info.bond;
		let taken = T::Currency::transfer_on_hold(
			&HoldReason::PinnerBond.into(),
			pinner,
			&Self::reward_pool_account(),
			amount,
			Precision::BestEffort,
			Restriction::Free,
			Fortitude::Force,
		)
		.unwrap_or_else(|error| {
			log::warn!(target: LOG_TARGET, "slash failed: {error:?}");
			Zero::zero()
		});
		info.bond = info.bond.saturating_sub(taken);
		Pinners::<T>::insert(pinner, info);
		Self::deposit_event(Event::Slashed {
			pinner: pinner.clone(),
			cid: cid.clone(),
			amount: taken,
		});
	}

	fn remove_pin_entry(pinner: &T::AccountId, cid: &BinaryCid) {
		if Pins::<T>::take(pinner, cid).is_none() {
			return;
		}
		PinnersOf::<T>::mutate_exists(cid, |entry| {
			if let Some(pinners) = entry {
				pinners.retain(|p| p != pinner);
				if pinners.is_empty() {
					*entry = None;
				}
			}
		});
		PinCount::<T>::mutate(|count| *count = count.saturating_sub(1));
		Pinners::<T>::mutate(pinner, |info| {
			if let Some(info) = info {
				info.pins = info.pins.saturating_sub(1);
			}
		});
	}
}

/// `InvalidTransaction::Custom` code of a proof for a pin that does not exist or is not
/// challenged this era.
pub const INVALID_PIN: u8 = 1;

const LOG_TARGET: &str = "runtime::pinning";
