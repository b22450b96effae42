//! Types stored by the model registry.

use crate::{BalanceOf, Config};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::{
	frame_support::{BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound},
	frame_system::pallet_prelude::BlockNumberFor,
	sp_runtime::DispatchResult,
};
use scale_info::TypeInfo;

/// Identifier of one registered model version. Ids start at 1 and are never reused.
pub type ModelId = u64;

/// What kind of data a model works on.
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
pub enum ModelType {
	Language,
	Vision,
	Audio,
	Multimodal,
	Embedding,
	Custom,
}

/// The format the weights behind the CID are stored in.
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
pub enum Framework {
	Onnx,
	Safetensors,
	Gguf,
	PyTorch,
	TensorFlow,
	Other,
}

/// The family a model's license belongs to; the exact terms are named by an SPDX-style id.
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
pub enum LicenseKind {
	OpenSource,
	Commercial,
	ResearchOnly,
	Custom,
}

/// A model's license: its family and an identifier such as `Apache-2.0` or `LicenseRef-acme`.
#[derive(
	CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, Encode, Decode, MaxEncodedLen, TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct License<T: Config> {
	pub kind: LicenseKind,
	pub identifier: BoundedVec<u8, T::MaxLicenseIdLength>,
}

/// Whether a model may still be used.
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
pub enum ModelStatus {
	Active,
	/// The owner retired this version; it stays readable and can then be removed.
	Deprecated,
}

/// Who paid the storage deposit of a model and how much is held.
///
/// The deposit stays with the account that paid it when ownership moves, and goes back to it
/// when the model is removed.
#[derive(
	CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, Encode, Decode, MaxEncodedLen, TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct ModelDeposit<T: Config> {
	pub depositor: T::AccountId,
	pub amount: BalanceOf<T>,
}

/// One registered model version.
#[derive(
	CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, Encode, Decode, MaxEncodedLen, TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct ModelInfo<T: Config> {
	/// Name shared by every version of the model.
	pub name: BoundedVec<u8, T::MaxNameLength>,
	/// IPFS CID of the weights, as text (CIDv0 or CIDv1), validated on entry.
	pub cid: BoundedVec<u8, T::MaxCidLength>,
	pub owner: T::AccountId,
	/// 1 for the first registration, n+1 for each published version.
	pub version: u32,
	pub model_type: ModelType,
	pub framework: Framework,
	/// Size of the weights in bytes.
	pub size_bytes: u64,
	pub license: License<T>,
	pub status: ModelStatus,
	/// Uses recorded by other pallets (inference, access) through [`ModelStatsRecorder`].
	pub usage_count: u64,
	/// Rewards paid to the model recorded by other pallets through [`ModelStatsRecorder`].
	pub total_rewards: BalanceOf<T>,
	pub registered_at: BlockNumberFor<T>,
	pub deposit: ModelDeposit<T>,
}

/// Every version ever published under one name.
#[derive(
	CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, Encode, Decode, MaxEncodedLen, TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct VersionHistory<T: Config> {
	/// Highest version number ever published; removed versions are never renumbered.
	pub latest_version: u32,
	/// Ids of the stored versions, oldest first.
	pub versions: BoundedVec<ModelId, T::MaxVersions>,
}

/// What other pallets may read from the registry.
pub trait ModelRegistryInspect<AccountId> {
	/// The owner of a model, if it exists.
	fn model_owner(model_id: ModelId) -> Option<AccountId>;
	/// Whether a model exists and has not been deprecated.
	fn is_active(model_id: ModelId) -> bool;
	/// The license family of a model, if it exists.
	fn license_kind(model_id: ModelId) -> Option<LicenseKind>;
}

/// How other pallets (access payments, inference) update a model's usage statistics.
pub trait ModelStatsRecorder<Balance> {
	/// Adds `uses` to the model's usage count.
	fn record_usage(model_id: ModelId, uses: u64) -> DispatchResult;
	/// Adds `amount` to the model's total rewards.
	fn record_reward(model_id: ModelId, amount: Balance) -> DispatchResult;
}
