//! Types stored by the model registry.

use crate::{BalanceOf, Config};
pub use citrate_model_primitives::{
	Framework, InferenceTask, LicenseKind, ModelAccessControl, ModelId, ModelInterface,
	ModelRegistryInspect, ModelStatsRecorder, ModelSummary,
};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::{
	frame_support::{BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound},
	frame_system::pallet_prelude::BlockNumberFor,
};
use scale_info::TypeInfo;

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

/// What `do_publish_version` created: the new version's id and number, and the id of the
/// version it follows.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PublishedVersion {
	pub model_id: ModelId,
	pub version: u32,
	pub previous: ModelId,
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

/// Bounds of [`ModelMetadata`]. They are fixed rather than `Config` constants so that the
/// metadata has one shape on every Citrate chain, and the Solidity interface can state them.
pub mod metadata_limits {
	/// Longest description, in bytes.
	pub const MAX_DESCRIPTION_LEN: u32 = 1024;
	/// Most input (and, separately, output) tensors.
	pub const MAX_TENSORS: u32 = 16;
	/// Longest tensor name, in bytes.
	pub const MAX_TENSOR_NAME_LEN: u32 = citrate_tensor_primitives::MAX_NAME_LEN as u32;
	/// Most dimensions of one tensor.
	pub const MAX_RANK: u32 = citrate_tensor_primitives::MAX_RANK as u32;
	/// Longest symbolic dimension name (`batch`, `sequence`), in bytes.
	pub const MAX_DIM_SYMBOL_LEN: u32 = citrate_tensor_primitives::MAX_SYMBOL_LEN as u32;
	/// Most tags.
	pub const MAX_TAGS: u32 = 16;
	/// Longest tag, in bytes.
	pub const MAX_TAG_LEN: u32 = 32;
	/// Longest documentation link (a URL or a CID), in bytes.
	pub const MAX_DOCUMENTATION_LEN: u32 = 256;
	/// Longest tokenizer / preprocessing CID, in bytes (as `MaxCidLength` in the runtime).
	pub const MAX_AUX_CID_LEN: u32 = 128;
}

use metadata_limits::*;
use polkadot_sdk::frame_support::traits::ConstU32;

/// Tensor specs in metadata are the one tensor vocabulary the engine and the codec use.
pub use citrate_tensor_primitives::{DType, Dim, TensorSpec};

/// What a model version does and what it needs, set by its owner with `set_metadata`.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
pub struct ModelMetadata {
	pub description: BoundedVec<u8, ConstU32<MAX_DESCRIPTION_LEN>>,
	pub task: InferenceTask,
	pub inputs: BoundedVec<TensorSpec, ConstU32<MAX_TENSORS>>,
	pub outputs: BoundedVec<TensorSpec, ConstU32<MAX_TENSORS>>,
	/// Number of trained parameters.
	pub parameter_count: u64,
	/// Floating-point operations of one inference at the reference input size.
	pub flops_per_inference: u64,
	/// Memory the model needs to run, in bytes.
	pub min_memory_bytes: u64,
	pub tags: BoundedVec<BoundedVec<u8, ConstU32<MAX_TAG_LEN>>, ConstU32<MAX_TAGS>>,
	/// A documentation URL or CID; empty when there is none.
	pub documentation: BoundedVec<u8, ConstU32<MAX_DOCUMENTATION_LEN>>,
	/// CID of the tokenizer or preprocessing files, when the model needs them.
	pub tokenizer_cid: Option<BoundedVec<u8, ConstU32<MAX_AUX_CID_LEN>>>,
	/// SHA-256 of the package's `citrate-import.json` when the model was imported from a
	/// Hugging Face repository (`citrate-node model import`): the attestation anyone can
	/// check by running the import again.
	pub import_attestation: Option<[u8; 32]>,
}

/// A model version's metadata and the deposit held for storing it.
#[derive(
	CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, Encode, Decode, MaxEncodedLen, TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct MetadataRecord<T: Config> {
	pub metadata: ModelMetadata,
	/// Held from the owner who last set the metadata; resized on every update.
	pub deposit: ModelDeposit<T>,
}
