//! The package's description in the registry's types.

use citrate_import::Prepared;
use citrate_model_primitives::InferenceTask;
use citrate_runtime::pallet_model_registry::{ModelMetadata, ModelType};
use polkadot_sdk::sp_runtime::BoundedVec;

/// The registry's model type for a task.
pub(super) fn model_type(task: InferenceTask) -> ModelType {
	match task {
		InferenceTask::FeatureExtraction => ModelType::Embedding,
		InferenceTask::TextClassification
		| InferenceTask::TextGeneration
		| InferenceTask::FillMask
		| InferenceTask::Text2TextGeneration => ModelType::Language,
		InferenceTask::ZeroShotImageClassification => ModelType::Multimodal,
		InferenceTask::ImageClassification | InferenceTask::Ocr => ModelType::Vision,
		InferenceTask::SpeechToText | InferenceTask::VoiceActivity => ModelType::Audio,
		InferenceTask::RawTensors => ModelType::Custom,
	}
}

pub(super) fn registry_metadata(prepared: &Prepared) -> Result<ModelMetadata, String> {
	let m = &prepared.metadata;
	fn bounded<S: polkadot_sdk::sp_core::Get<u32>>(
		bytes: &[u8],
		what: &str,
	) -> Result<BoundedVec<u8, S>, String> {
		BoundedVec::try_from(bytes.to_vec()).map_err(|_| format!("the {what} is too long"))
	}
	Ok(ModelMetadata {
		description: bounded(m.description.as_bytes(), "description")?,
		task: m.task,
		inputs: BoundedVec::try_from(m.inputs.clone())
			.map_err(|_| "too many inputs".to_string())?,
		outputs: BoundedVec::try_from(m.outputs.clone())
			.map_err(|_| "too many outputs".to_string())?,
		parameter_count: m.parameter_count,
		flops_per_inference: m.flops_per_inference,
		min_memory_bytes: m.min_memory_bytes,
		tags: m
			.tags
			.iter()
			.map(|t| bounded(t.as_bytes(), "tag"))
			.collect::<Result<Vec<_>, _>>()?
			.try_into()
			.map_err(|_| "too many tags".to_string())?,
		documentation: bounded(m.documentation.as_bytes(), "documentation link")?,
		tokenizer_cid: None,
		import_attestation: Some(prepared.attestation_sha256),
	})
}
