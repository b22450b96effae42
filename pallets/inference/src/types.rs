//! Types stored by the inference pallet.

use crate::{BalanceOf, Config};
use citrate_model_primitives::ModelId;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::sp_runtime::traits::Saturating;
use polkadot_sdk::{
	frame_support::{BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound},
	frame_system::{self, pallet_prelude::BlockNumberFor},
};
use scale_info::TypeInfo;

/// The hardware a provider runs models on. Results are compared by rules that depend on it:
/// tract on a CPU is bit-for-bit reproducible on one CPU class, GPU kernels are not.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
)]
pub enum HardwareClass {
	/// Deterministic CPU inference (tract, candle on the CPU).
	Cpu,
	/// GPU inference (candle with CUDA or Metal).
	Gpu,
}

/// Whether a provider takes new work.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
)]
pub enum ProviderStatus<BlockNumber> {
	/// Takes work for the models it serves.
	Active,
	/// Takes no new work until it resumes; work already assigned is still due.
	Paused,
	/// Leaving: takes no new work, and its bond can be withdrawn from block `unlocks_at` once
	/// no work is assigned to it.
	Leaving { unlocks_at: BlockNumber },
}

/// A registered provider.
#[derive(
	CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, Encode, Decode, MaxEncodedLen, TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct ProviderInfo<T: Config> {
	/// Held from the provider's account while it is registered.
	pub bond: BalanceOf<T>,
	/// The key the provider's node signs results with; not the account that holds the bond.
	pub key: T::ProviderKey,
	pub hardware: HardwareClass,
	/// Most requests the provider accepts per block, across every model it serves.
	pub capacity: u32,
	pub status: ProviderStatus<BlockNumberFor<T>>,
	/// The models the provider serves.
	pub models: BoundedVec<ModelId, T::MaxModelsPerProvider>,
	/// Requests assigned to the provider and not yet settled; it cannot leave while any are.
	pub assigned: u32,
	/// Requests assigned to the provider in the block named, at most `capacity`.
	pub taken: (BlockNumberFor<T>, u32),
}

/// Identifier of one inference request. Ids start at 0 and are never reused.
pub type RequestId = u64;

/// How a model's results become final; its owner chooses ([`crate::Pallet::set_terms`]).
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
)]
pub enum Verification {
	/// One provider answers and its signed result is final. Protects against nothing but
	/// the provider's wish to keep its bond and reputation: a provider that answers wrong
	/// is not caught.
	#[default]
	Single,
	/// `n` providers run the request; each first commits to its result (a hash bound to its
	/// account), and reveals it once every commitment is in or the commit window closed, so
	/// nobody can copy another's answer from the pool. Final when `k` (more than half of
	/// `n`) agree under the model's [`Comparison`]; the others and those who did not answer
	/// are slashed. Does not protect against `k` colluding providers, nor against a model
	/// whose outputs differ across honest providers beyond the comparison's tolerance.
	Quorum { n: u8, k: u8 },
	/// One provider answers; its result is proposed and becomes final `window` blocks later
	/// unless another active provider serving the model disputes it with a different result
	/// ([`crate::Pallet::dispute_result`]). A dispute re-runs the request as a quorum of up
	/// to `DisputeJurors` other providers (commit then reveal); whichever of the two the
	/// jurors' majority agrees with is final, and the other side loses `SlashFraction` of its
	/// bond, `DisputeReward` of it to the honest side and the rest to the jurors. Costs one
	/// run when nobody disputes. Does not protect against a wrong result that no honest
	/// provider checked within the window, nor against colluding jurors; jurors see both
	/// disputed results, so a lazy juror can guess between them (and is slashed when it
	/// guesses wrong).
	Optimistic { window: u32 },
}

/// How the results of a quorum are compared.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
)]
pub enum Comparison {
	/// Equal output hashes: deterministic engines (tract on one CPU class).
	#[default]
	ExactHash,
	/// Equal once float outputs are rounded to multiples of `2^-fraction_bits`
	/// (`citrate_inference_primitives::output::Quantization`): float outputs across CPUs.
	/// Outputs that straddle a rounding boundary can still disagree.
	Quantized { fraction_bits: u8 },
}

/// A model's verification terms.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
)]
pub struct ModelTerms {
	pub verification: Verification,
	pub comparison: Comparison,
}

impl Verification {
	/// Providers a request needs.
	pub fn providers(self) -> u32 {
		match self {
			Verification::Single | Verification::Optimistic { .. } => 1,
			Verification::Quorum { n, .. } => u32::from(n),
		}
	}
}

/// Longest binary CID a request or a result names.
pub const MAX_CID_LEN: u32 = citrate_ipfs_primitives::cid::MAX_BINARY_CID_LEN as u32;

/// A binary CIDv1: a model package, an input or an output in IPFS.
pub type BinaryCid = BoundedVec<u8, polkadot_sdk::frame_support::traits::ConstU32<MAX_CID_LEN>>;

/// A request's input.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(MaxInput))]
#[codec(mel_bound())]
pub enum RequestInput<MaxInput: polkadot_sdk::frame_support::traits::Get<u32>> {
	/// The input tensors in the codec's canonical form, checked on chain against the task.
	Inline(BoundedVec<u8, MaxInput>),
	/// A UnixFS file in IPFS holding the codec bytes (a storable CIDv1: sha2-256, dag-pb or
	/// raw). The chain cannot read it: the provider checks it, and an input that is not
	/// what the task reads is answered as a deterministic failure (the compute fee is paid).
	Cid(BinaryCid),
}

impl<MaxInput: polkadot_sdk::frame_support::traits::Get<u32>> RequestInput<MaxInput> {
	/// What receipts name the input by: blake2-256 of the inline bytes, or of the CID's
	/// binary form (the CID itself commits to the bytes).
	pub fn hash(&self) -> [u8; 32] {
		match self {
			RequestInput::Inline(bytes) => polkadot_sdk::sp_io::hashing::blake2_256(bytes),
			RequestInput::Cid(cid) => polkadot_sdk::sp_io::hashing::blake2_256(cid),
		}
	}
}

/// Where a request stands.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
)]
pub enum Stage {
	/// Waiting for its providers' results (or a quorum's votes).
	#[default]
	Open,
	/// `Optimistic`: a result is proposed ([`crate::Proposals`]) and becomes final at the
	/// request's deadline unless disputed.
	Proposed,
	/// `Optimistic`, disputed: the request's providers are now the jurors, who vote like a
	/// quorum in which `k` must agree.
	Disputed { k: u8 },
}

/// A request waiting for its result.
#[derive(
	CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, Encode, Decode, MaxEncodedLen, TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct InferenceRequest<T: Config> {
	pub requester: T::AccountId,
	pub model_id: ModelId,
	/// The model package to run (binary CIDv1), as registered when the request was made.
	pub package_cid: BinaryCid,
	/// The input: inline (checked against the task's schema) or by CID.
	pub input: RequestInput<T::MaxInputLen>,
	/// [`RequestInput::hash`] of `input`, which receipts name.
	pub input_hash: [u8; 32],
	/// The model's per-call price, held from the requester until the request settles.
	pub price: BalanceOf<T>,
	/// One provider's compute fee from the cost schedule; held once per assigned provider.
	pub compute_fee: BalanceOf<T>,
	/// Held from the requester until the receipt is removed; returned then, or when the
	/// request ends without a receipt.
	pub deposit: BalanceOf<T>,
	/// The providers assigned to answer (one, a quorum's `n`, or a dispute's jurors).
	pub providers: BoundedVec<T::AccountId, T::MaxQuorum>,
	/// The model's terms when the request was made.
	pub terms: ModelTerms,
	pub stage: Stage,
	pub submitted_at: BlockNumberFor<T>,
	/// Quorum (or jurors') commitments are taken until this block (or until every provider
	/// committed).
	pub commits_close: BlockNumberFor<T>,
	/// Unsettled by this block, the request expires (a quorum is counted, a proposed result
	/// becomes final).
	pub deadline: BlockNumberFor<T>,
}

impl<T: Config> InferenceRequest<T> {
	/// The fees held from the requester: the price and each run's compute fee (a dispute's
	/// jurors are paid from the loser's slash, not from these).
	pub fn held(&self) -> BalanceOf<T> {
		let runs: BalanceOf<T> = self.terms.verification.providers().into();
		self.price.saturating_add(self.compute_fee.saturating_mul(runs))
	}

	/// How many of the request's providers must agree, while they vote (a quorum, or a
	/// dispute's jurors).
	pub fn quorum(&self) -> Option<u8> {
		match (self.terms.verification, self.stage) {
			(Verification::Quorum { k, .. }, _) => Some(k),
			(Verification::Optimistic { .. }, Stage::Disputed { k }) => Some(k),
			_ => None,
		}
	}
}

/// An `Optimistic` request's proposed result, and the result that disputes it.
#[derive(
	CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, Encode, Decode, MaxEncodedLen, TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Proposal<T: Config> {
	pub proposer: T::AccountId,
	pub result: Reveal<T>,
	/// The disputing provider and its result.
	pub challenge: Option<(T::AccountId, Reveal<T>)>,
}

/// A quorum provider's commitment to its result, signed by its provider key.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct ResultCommitment<T: Config> {
	pub request_id: RequestId,
	pub provider: T::AccountId,
	/// `blake2_256(SCALE((outcome, provider, salt)))`: [`commitment_of`].
	pub commitment: [u8; 32],
}

/// A quorum provider's vote: its commitment, then its revealed result.
#[derive(
	CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, Encode, Decode, MaxEncodedLen, TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Vote<T: Config> {
	pub commitment: [u8; 32],
	pub reveal: Option<Reveal<T>>,
}

/// A result shown on chain: a quorum provider's revealed result, or an optimistic proposal
/// or dispute.
#[derive(
	CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, Encode, Decode, MaxEncodedLen, TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Reveal<T: Config> {
	/// What results are compared by: the output hash, of quantised outputs under
	/// [`Comparison::Quantized`]; one value for every deterministic failure.
	pub comparison_key: [u8; 32],
	pub output_hash: Option<[u8; 32]>,
	pub outcome: Outcome<T::MaxOutputLen>,
	/// The provider key's signature over the encoded [`InferenceResult`], SCALE-encoded.
	pub signature: BoundedVec<u8, T::MaxSignatureLen>,
}

/// The commitment a quorum provider posts for `outcome`: binding it to `provider` keeps
/// another provider from posting a copy, and `salt` keeps it from being guessed.
pub fn commitment_of<AccountId: Encode, M: polkadot_sdk::frame_support::traits::Get<u32>>(
	outcome: &Outcome<M>,
	provider: &AccountId,
	salt: &[u8; 32],
) -> [u8; 32] {
	polkadot_sdk::sp_io::hashing::blake2_256(&(outcome, provider, salt).encode())
}

/// Longest reason a provider may give for a deterministic failure, in bytes.
pub const MAX_FAILURE_LEN: u32 = 256;

/// What a provider's run of a request produced.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(MaxOutput))]
#[codec(mel_bound())]
pub enum Outcome<MaxOutput: polkadot_sdk::frame_support::traits::Get<u32>> {
	/// The output tensors in the codec's canonical form.
	Output(BoundedVec<u8, MaxOutput>),
	/// The request cannot succeed on any provider (an image that does not decode, text that
	/// is not UTF-8): the reason, as UTF-8.
	Failed(BoundedVec<u8, polkadot_sdk::frame_support::traits::ConstU32<MAX_FAILURE_LEN>>),
	/// An output longer than `MaxOutputLen`, which the provider added to its store and pinned;
	/// the gateway of the provider's node serves it. The hashes are the provider's, signed
	/// with the result: the chain cannot read the output.
	Stored(StoredOutput),
}

/// An output kept in IPFS by the provider that produced it.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct StoredOutput {
	/// Binary CIDv1 of the UnixFS file holding the output's tensor codec bytes.
	pub cid: BinaryCid,
	/// The file's size in bytes.
	pub size: u64,
	/// `citrate_inference_primitives::output::output_hash` of the output.
	pub output_hash: [u8; 32],
	/// The output hash of the output rounded to the model's quantisation grid, for models
	/// compared `Quantized`.
	pub quantized_hash: Option<[u8; 32]>,
}

/// A provider's answer to a request, signed by its provider key.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct InferenceResult<T: Config> {
	pub request_id: RequestId,
	pub provider: T::AccountId,
	pub outcome: Outcome<T::MaxOutputLen>,
}

/// The providers whose result is final, each with its provider key's SCALE-encoded
/// signature over the [`InferenceResult`] it sent.
pub type Signers<T> = BoundedVec<
	(<T as frame_system::Config>::AccountId, BoundedVec<u8, <T as Config>::MaxSignatureLen>),
	<T as Config>::MaxQuorum,
>;

/// The proof of inference kept for a settled request.
#[derive(
	CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, Encode, Decode, MaxEncodedLen, TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Receipt<T: Config> {
	pub requester: T::AccountId,
	pub model_id: ModelId,
	/// The model package that ran (binary CIDv1).
	pub package_cid: BinaryCid,
	/// [`RequestInput::hash`] of the input.
	pub input_hash: [u8; 32],
	/// The input's CID, when it was passed by CID.
	pub input_cid: Option<BinaryCid>,
	/// `citrate_inference_primitives::output::output_hash` of the output; `None` for a
	/// deterministic failure.
	pub output_hash: Option<[u8; 32]>,
	/// The final result (under a quorum, the first agreeing provider's).
	pub outcome: Outcome<T::MaxOutputLen>,
	/// The providers whose result is final, each with its provider key's signature over
	/// the encoded [`InferenceResult`] it sent (SCALE-encoded).
	pub providers: Signers<T>,
	pub verification: Verification,
	pub requested_at: BlockNumberFor<T>,
	/// The block the result became final.
	pub answered_at: BlockNumberFor<T>,
	/// Paid to the model (owner and treasury); 0 for a failure, whose price is refunded.
	pub price_paid: BalanceOf<T>,
	/// Paid to the providers, together.
	pub compute_fee: BalanceOf<T>,
	/// Held from the requester while the receipt is kept ([`crate::Pallet::purge_receipt`]
	/// returns it).
	pub deposit: BalanceOf<T>,
}
