//! Types and traits shared by Citrate's model pallets.
//!
//! Pallets that use models (access payments, inference, pinning) depend on these traits rather
//! than on each other, so each can be tested with a mock of the others and the runtime wires
//! the real pallets together. The traits need feature `frame`; the types alone (what the
//! inference engine uses) do not depend on polkadot-sdk.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
#[cfg(feature = "frame")]
use polkadot_sdk::{
	sp_runtime::{DispatchError, DispatchResult},
	sp_weights::Weight,
};
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
	/// Text with mask tokens in, the likeliest tokens for each mask out (`fill-mask`).
	FillMask,
	/// Text in, text out from an encoder-decoder: translation, summarisation… prompts
	/// (`text2text-generation`).
	Text2TextGeneration,
	/// An image and candidate labels in, the labels ranked out; or an image or texts in, their
	/// embeddings in the shared space out (`zero-shot-image-classification`, CLIP).
	ZeroShotImageClassification,
}

impl InferenceTask {
	/// Every task, in SCALE index order.
	pub const ALL: [InferenceTask; 11] = [
		InferenceTask::FeatureExtraction,
		InferenceTask::TextClassification,
		InferenceTask::ImageClassification,
		InferenceTask::Ocr,
		InferenceTask::SpeechToText,
		InferenceTask::VoiceActivity,
		InferenceTask::TextGeneration,
		InferenceTask::RawTensors,
		InferenceTask::FillMask,
		InferenceTask::Text2TextGeneration,
		InferenceTask::ZeroShotImageClassification,
	];

	/// The task's name, as the Hugging Face pipeline tags write it where one exists.
	pub const fn name(self) -> &'static str {
		match self {
			InferenceTask::FeatureExtraction => "feature-extraction",
			InferenceTask::TextClassification => "text-classification",
			InferenceTask::ImageClassification => "image-classification",
			InferenceTask::Ocr => "ocr",
			InferenceTask::SpeechToText => "speech-to-text",
			InferenceTask::VoiceActivity => "voice-activity",
			InferenceTask::TextGeneration => "text-generation",
			InferenceTask::RawTensors => "raw-tensors",
			InferenceTask::FillMask => "fill-mask",
			InferenceTask::Text2TextGeneration => "text2text-generation",
			InferenceTask::ZeroShotImageClassification => "zero-shot-image-classification",
		}
	}

	/// The task named `name` as [`InferenceTask::name`] writes it, in any case.
	pub fn from_name(name: &str) -> Option<InferenceTask> {
		InferenceTask::ALL.into_iter().find(|task| task.name().eq_ignore_ascii_case(name))
	}
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

/// What a model takes and costs, from the metadata its owner registered: what the inference
/// pallet checks requests against and prices them by.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ModelInterface {
	pub task: InferenceTask,
	/// The model package's root CID in binary CIDv1 form: what a provider loads.
	pub package_cid: alloc::vec::Vec<u8>,
	/// Names a single-file package's file (`Framework::single_file_name`).
	pub framework: Framework,
	/// The registered input tensors (what raw-tensor requests must send).
	pub inputs: alloc::vec::Vec<citrate_tensor_primitives::TensorSpec>,
	/// Floating-point operations of one inference at the reference input size.
	pub flops_per_inference: u64,
	/// Memory the model needs to run, in bytes.
	pub min_memory_bytes: u64,
}

#[cfg(feature = "frame")]
/// What other pallets may read from the model registry.
pub trait ModelRegistryInspect<AccountId> {
	/// Owner, status and license family of a model, if it exists.
	fn model(model_id: ModelId) -> Option<ModelSummary<AccountId>>;
	/// The model whose weights are the file with this root CID, given in binary CIDv1 form
	/// (a CIDv0 and its CIDv1 name the same model).
	fn model_of_cid(cid_v1: &[u8]) -> Option<ModelId>;
	/// The model's task, inputs and cost figures; `None` until its owner set metadata.
	fn interface(model_id: ModelId) -> Option<ModelInterface>;
}

#[cfg(feature = "frame")]
/// How other pallets (access payments, inference) update a model's usage statistics.
pub trait ModelStatsRecorder<Balance> {
	/// Adds `uses` to the model's usage count.
	fn record_usage(model_id: ModelId, uses: u64) -> DispatchResult;
	/// Adds `amount` to the model's total rewards.
	fn record_reward(model_id: ModelId, amount: Balance) -> DispatchResult;
}

#[cfg(feature = "frame")]
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

/// What other pallets do when a model version leaves the registry: the registry calls this
/// from `remove_model`, so state tied to the model (access tiers and their deposits, pins and
/// their rewards) ends with it instead of outliving it.
#[cfg(feature = "frame")]
pub trait OnModelRemoved {
	/// `model_id`, whose content is `cid_v1` (binary CIDv1), was removed. Returns the weight
	/// used, at most [`OnModelRemoved::max_weight`].
	fn on_model_removed(model_id: ModelId, cid_v1: &[u8]) -> Weight;
	/// The most `on_model_removed` can weigh; `remove_model` charges it up front.
	fn max_weight() -> Weight;
}

#[cfg(feature = "frame")]
impl OnModelRemoved for () {
	fn on_model_removed(_: ModelId, _: &[u8]) -> Weight {
		Weight::zero()
	}

	fn max_weight() -> Weight {
		Weight::zero()
	}
}

#[cfg(feature = "frame")]
impl<A: OnModelRemoved, B: OnModelRemoved> OnModelRemoved for (A, B) {
	fn on_model_removed(model_id: ModelId, cid_v1: &[u8]) -> Weight {
		A::on_model_removed(model_id, cid_v1).saturating_add(B::on_model_removed(model_id, cid_v1))
	}

	fn max_weight() -> Weight {
		A::max_weight().saturating_add(B::max_weight())
	}
}

/// How other pallets pay a model's per-call price: with the split access purchases use, so one
/// piece of code decides who gets what. Implemented by `pallet-model-access`.
#[cfg(feature = "frame")]
pub trait ModelPayments<AccountId, Balance> {
	/// Pays `price` for a use of `model_id` from `payer`: the owner's share to the model's owner
	/// (recorded as the model's reward), the rest to the treasury. Returns
	/// `(owner_share, treasury_share)`; nothing moves when it fails.
	fn pay_for_model(
		payer: &AccountId,
		model_id: ModelId,
		price: Balance,
	) -> Result<(Balance, Balance), DispatchError>;
}
