//! Types stored by the inference pallet.

use crate::{BalanceOf, Config};
use citrate_model_primitives::ModelId;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::{
	frame_support::{BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound},
	frame_system::pallet_prelude::BlockNumberFor,
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
}

/// Identifier of one inference request. Ids start at 0 and are never reused.
pub type RequestId = u64;

/// A request waiting for its result.
#[derive(
	CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, Encode, Decode, MaxEncodedLen, TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct InferenceRequest<T: Config> {
	pub requester: T::AccountId,
	pub model_id: ModelId,
	/// The input tensors in the codec's canonical form, checked against the task's schema.
	pub input: BoundedVec<u8, T::MaxInputLen>,
	/// blake2-256 of `input`, which receipts name.
	pub input_hash: [u8; 32],
	/// The model's per-call price, held from the requester until the request settles.
	pub price: BalanceOf<T>,
	/// The providers' compute fee from the cost schedule, held likewise.
	pub compute_fee: BalanceOf<T>,
	/// The provider assigned to answer.
	pub provider: T::AccountId,
	pub submitted_at: BlockNumberFor<T>,
	/// Unanswered by this block, the request expires and its fees go back.
	pub deadline: BlockNumberFor<T>,
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

/// The proof of inference kept for a settled request.
#[derive(
	CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, Encode, Decode, MaxEncodedLen, TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Receipt<T: Config> {
	pub requester: T::AccountId,
	pub model_id: ModelId,
	pub input_hash: [u8; 32],
	/// `citrate_inference_primitives::output::output_hash` of the output; `None` for a
	/// deterministic failure.
	pub output_hash: Option<[u8; 32]>,
	/// What the provider answered.
	pub outcome: Outcome<T::MaxOutputLen>,
	pub provider: T::AccountId,
	/// The provider key's signature over the encoded [`InferenceResult`], SCALE-encoded.
	pub signature: BoundedVec<u8, T::MaxSignatureLen>,
	pub requested_at: BlockNumberFor<T>,
	pub answered_at: BlockNumberFor<T>,
	/// Paid to the model (owner and treasury); 0 for a failure, whose price is refunded.
	pub price_paid: BalanceOf<T>,
	/// Paid to the provider.
	pub compute_fee: BalanceOf<T>,
}
