//! Types and traits shared by Citrate's model pallets.
//!
//! Pallets that use models (access payments, inference, pinning) depend on these traits rather
//! than on each other, so each can be tested with a mock of the others and the runtime wires
//! the real pallets together.

#![cfg_attr(not(feature = "std"), no_std)]

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use polkadot_sdk::sp_runtime::DispatchResult;
use scale_info::TypeInfo;

/// Identifier of one registered model version. Ids start at 1 and are never reused.
pub type ModelId = u64;

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

/// The inference task a model serves; it selects the inference engine's
/// pipeline (`citrate_inference::pipelines`).
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
pub enum InferenceTask {
	/// Text in, one embedding vector out (`feature-extraction`).
	FeatureExtraction,
	/// Text in, labels with scores out (`text-classification`).
	TextClassification,
	/// Image in, top-k labels out (`image-classification`).
	ImageClassification,
	/// Image in, recognised text out (`image-to-text` / OCR).
	Ocr,
	/// Audio in, transcript out (`automatic-speech-recognition`).
	SpeechToText,
	/// Audio in, speech segments out (`voice-activity-detection`).
	VoiceActivity,
	/// Prompt in, continuation out (`text-generation`).
	TextGeneration,
	/// Named tensors in and out, no pre- or post-processing.
	RawTensors,
}

/// The format a model's weights are stored in.
///
/// A registered model is one CID: a **model package**, the UnixFS directory whose file names
/// are the roles the inference engine reads (`model.onnx`, `tokenizer.json`, `config.json`,
/// `det.onnx` + `rec.onnx` + `cls.onnx`, `model.safetensors`, `model.gguf`, …), or a single
/// file, which stands for a package holding that file alone under
/// [`Framework::single_file_name`].
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

impl Framework {
	/// The name a single-file CID's file takes in its package: `model.<extension>`.
	pub fn single_file_name(self) -> &'static str {
		match self {
			Framework::Onnx => "model.onnx",
			Framework::Safetensors => "model.safetensors",
			Framework::Gguf => "model.gguf",
			Framework::PyTorch => "model.pt",
			Framework::TensorFlow => "model.pb",
			Framework::Other => "model.bin",
		}
	}
}

/// What other pallets need to know about a model, read in one storage access.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ModelSummary<AccountId> {
	pub owner: AccountId,
	/// False once the owner deprecated the model.
	pub active: bool,
	pub license_kind: LicenseKind,
	/// Bytes of the model's files as registered: a package's files together, or the one
	/// file's size.
	pub size_bytes: u64,
}

/// What other pallets may read from the model registry.
pub trait ModelRegistryInspect<AccountId> {
	/// Owner, status and license family of a model, if it exists.
	fn model(model_id: ModelId) -> Option<ModelSummary<AccountId>>;
	/// The model whose weights are the file with this root CID, given in binary CIDv1 form
	/// (a CIDv0 and its CIDv1 name the same model).
	fn model_of_cid(cid_v1: &[u8]) -> Option<ModelId>;
}

/// How other pallets (access payments, inference) update a model's usage statistics.
pub trait ModelStatsRecorder<Balance> {
	/// Adds `uses` to the model's usage count.
	fn record_usage(model_id: ModelId, uses: u64) -> DispatchResult;
	/// Adds `amount` to the model's total rewards.
	fn record_reward(model_id: ModelId, amount: Balance) -> DispatchResult;
}

/// Who may use a model. Implemented by `pallet-model-access`; the inference pallet checks
/// and consumes access through this trait only.
pub trait ModelAccessControl<AccountId> {
	/// Whether `who` may use `model_id` now: the owner, a holder of a valid purchase, or anyone
	/// for an open-source model with no active access tiers.
	fn has_access(who: &AccountId, model_id: ModelId) -> bool;
	/// Records one use of `model_id` by `who`, taking it from `who`'s purchase when it has a
	/// use limit. Fails, changing nothing, when `who` has no access.
	fn consume_use(who: &AccountId, model_id: ModelId) -> DispatchResult;
}
