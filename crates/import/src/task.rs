//! Which task and backend a repository is for.
//!
//! The task comes from the card's `pipeline_tag` (the Hub's own classification), else from
//! `config.json`'s architecture, else from the caller (`--task`). The backend follows from
//! the weights: ONNX runs on tract (deterministic CPU), safetensors and GGUF on candle for
//! the architectures the engine implements. [`SUPPORTED`] is what the engine runs; anything
//! else is refused with that list.

use crate::{
	repository::{Repository, Weights},
	Error, Result,
};
use citrate_model_primitives::{Framework, InferenceTask};

/// The engine backend a package runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
	Tract,
	Candle,
}

impl Backend {
	pub fn name(self) -> &'static str {
		match self {
			Backend::Tract => "tract",
			Backend::Candle => "candle",
		}
	}
}

/// What the engine runs: task, weights and, for candle, the `model_type`s.
pub const SUPPORTED: &[(InferenceTask, &str)] = &[
	(
		InferenceTask::FeatureExtraction,
		"ONNX text encoder + tokenizer.json; safetensors BERT (model_type bert) + tokenizer.json",
	),
	(
		InferenceTask::TextClassification,
		"ONNX text classifier, or safetensors BertForSequenceClassification; + tokenizer.json + \
		 config.json id2label",
	),
	(
		InferenceTask::ImageClassification,
		"ONNX image classifier (+ preprocessor_config.json, config.json id2label)",
	),
	(InferenceTask::Ocr, "ONNX det.onnx + rec.onnx (+ cls.onnx), PP-OCR style"),
	(InferenceTask::SpeechToText, "safetensors Whisper (model_type whisper) + tokenizer.json"),
	(InferenceTask::VoiceActivity, "ONNX Silero VAD"),
	(
		InferenceTask::TextGeneration,
		"GGUF Gemma 3; safetensors GPT-2 (model_type gpt2) + tokenizer.json",
	),
	(InferenceTask::RawTensors, "any ONNX graph tract runs, inputs and outputs as tensors"),
	(
		InferenceTask::FillMask,
		"safetensors BertForMaskedLM (model_type bert) + tokenizer.json with a mask token",
	),
	(InferenceTask::Text2TextGeneration, "safetensors T5 (model_type t5) + tokenizer.json"),
	(
		InferenceTask::ZeroShotImageClassification,
		"safetensors CLIP (model_type clip) + tokenizer.json + preprocessor_config.json",
	),
];

/// The task a Hub `pipeline_tag` names, where the engine has one.
pub fn task_of_pipeline_tag(tag: &str) -> Option<InferenceTask> {
	Some(match tag {
		"feature-extraction" | "sentence-similarity" => InferenceTask::FeatureExtraction,
		"text-classification" => InferenceTask::TextClassification,
		"image-classification" => InferenceTask::ImageClassification,
		"automatic-speech-recognition" => InferenceTask::SpeechToText,
		"voice-activity-detection" => InferenceTask::VoiceActivity,
		"text-generation" => InferenceTask::TextGeneration,
		"fill-mask" => InferenceTask::FillMask,
		"text2text-generation" | "translation" | "summarization" => {
			InferenceTask::Text2TextGeneration
		}
		"zero-shot-image-classification" => InferenceTask::ZeroShotImageClassification,
		_ => return InferenceTask::from_name(tag),
	})
}

/// The task an architecture (`config.json`'s `architectures`) implies.
fn task_of_architecture(architecture: &str) -> Option<InferenceTask> {
	let ends = |suffix: &str| architecture.ends_with(suffix);
	Some(if ends("ForSequenceClassification") {
		InferenceTask::TextClassification
	} else if ends("ForMaskedLM") || ends("ForPreTraining") {
		InferenceTask::FillMask
	} else if ends("ForConditionalGeneration") && !architecture.starts_with("Whisper") {
		InferenceTask::Text2TextGeneration
	} else if architecture == "CLIPModel" {
		InferenceTask::ZeroShotImageClassification
	} else if ends("ForImageClassification") {
		InferenceTask::ImageClassification
	} else if ends("ForSpeechSeq2Seq") || architecture == "WhisperForConditionalGeneration" {
		InferenceTask::SpeechToText
	} else if ends("ForCausalLM") || ends("LMHeadModel") {
		InferenceTask::TextGeneration
	} else if ends("Model") && !ends("PreTrainedModel") {
		InferenceTask::FeatureExtraction
	} else {
		return None;
	})
}

/// What a repository will be imported as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
	pub task: InferenceTask,
	pub backend: Backend,
	pub framework: Framework,
}

/// Chooses the task (`requested` wins, then the card, then the architecture) and checks
/// that the engine runs it from these weights.
pub fn plan(repo: &Repository, requested: Option<InferenceTask>) -> Result<Plan> {
	let tag = repo.card.as_ref().and_then(|c| c.pipeline_tag.as_deref());
	let architectures = repo.architectures();
	let task = match requested {
		Some(task) => task,
		None => match (&repo.weights, tag) {
			(Weights::OcrOnnx { .. }, _) => InferenceTask::Ocr,
			(_, Some(tag)) => task_of_pipeline_tag(tag).ok_or_else(|| {
				unsupported(format!(
					"the card's pipeline_tag `{tag}` is not a task the engine runs"
				))
			})?,
			(_, None) => {
				architectures.iter().find_map(|a| task_of_architecture(a)).ok_or_else(|| {
					unsupported(format!(
						"the task is unknown: the card has no pipeline_tag and config.json's \
						 architectures [{}] name none the engine knows; pass --task <{}>",
						architectures.join(", "),
						InferenceTask::ALL.map(|t| t.name()).join("|")
					))
				})?
			}
		},
	};
	let model_type = repo.config_str("model_type");
	let has = |f: &str| repo.files.contains_key(f);
	let (backend, framework) = match (&repo.weights, task) {
		(Weights::OcrOnnx { .. }, InferenceTask::Ocr) => (Backend::Tract, Framework::Onnx),
		(Weights::Onnx { .. }, InferenceTask::Ocr) => {
			return Err(unsupported(
				"OCR needs a detector and a recogniser: det.onnx and rec.onnx".to_string(),
			))
		}
		(Weights::OcrOnnx { .. }, task) => {
			return Err(unsupported(format!(
				"det.onnx + rec.onnx is an OCR pipeline, not {}",
				task.name()
			)))
		}
		(
			Weights::Onnx { .. },
			InferenceTask::SpeechToText
			| InferenceTask::TextGeneration
			| InferenceTask::FillMask
			| InferenceTask::Text2TextGeneration
			| InferenceTask::ZeroShotImageClassification,
		) => {
			return Err(unsupported(format!(
				"{} runs on candle (safetensors Whisper, BERT, T5, CLIP, GPT-2; GGUF Gemma 3), \
				 not from ONNX",
				task.name()
			)))
		}
		(Weights::Onnx { .. }, _) => (Backend::Tract, Framework::Onnx),
		(
			Weights::Safetensors { .. },
			InferenceTask::FeatureExtraction
			| InferenceTask::FillMask
			| InferenceTask::TextClassification,
		) if model_type == Some("bert") => (Backend::Candle, Framework::Safetensors),
		(Weights::Safetensors { .. }, InferenceTask::Text2TextGeneration)
			if model_type == Some("t5") =>
		{
			(Backend::Candle, Framework::Safetensors)
		}
		(Weights::Safetensors { .. }, InferenceTask::ZeroShotImageClassification)
			if model_type == Some("clip") =>
		{
			(Backend::Candle, Framework::Safetensors)
		}
		(Weights::Safetensors { .. }, InferenceTask::SpeechToText)
			if model_type == Some("whisper") =>
		{
			(Backend::Candle, Framework::Safetensors)
		}
		(Weights::Safetensors { .. }, InferenceTask::TextGeneration)
			if model_type == Some("gpt2") =>
		{
			(Backend::Candle, Framework::Safetensors)
		}
		(Weights::Safetensors { .. }, task) => {
			return Err(unsupported(format!(
				"safetensors weights of model_type `{}` ({}) for {}: the candle backend runs \
				 BERT (feature-extraction, fill-mask, text-classification), Whisper \
				 (speech-to-text), GPT-2 (text-generation), T5 (text2text-generation) and CLIP \
				 (zero-shot-image-classification) from safetensors",
				model_type.unwrap_or("none"),
				if architectures.is_empty() {
					"no architectures".into()
				} else {
					architectures.join(", ")
				},
				task.name()
			)))
		}
		(Weights::Gguf { .. }, InferenceTask::TextGeneration) => (Backend::Candle, Framework::Gguf),
		(Weights::Gguf { .. }, task) => {
			return Err(unsupported(format!(
				"GGUF weights run text generation (Gemma 3), not {}",
				task.name()
			)))
		}
	};
	let needs = |file: &str, why: &str| -> Result<()> {
		if has(file) {
			Ok(())
		} else {
			Err(Error::bad(file, format!("missing: {} models need it ({why})", task.name())))
		}
	};
	match task {
		InferenceTask::FeatureExtraction
		| InferenceTask::TextClassification
		| InferenceTask::FillMask
		| InferenceTask::Text2TextGeneration => needs("tokenizer.json", "the Hugging Face tokenizer")?,
		InferenceTask::ZeroShotImageClassification => {
			needs("tokenizer.json", "CLIP's tokenizer")?;
			needs("preprocessor_config.json", "how images are resized and normalised")?
		}
		InferenceTask::SpeechToText => needs("tokenizer.json", "Whisper's tokenizer")?,
		InferenceTask::TextGeneration if framework == Framework::Safetensors => {
			needs("tokenizer.json", "GPT-2's tokenizer")?
		}
		_ => {}
	}
	if framework == Framework::Safetensors {
		needs("config.json", "the architecture of the safetensors weights")?;
	}
	if task == InferenceTask::TextClassification {
		needs("config.json", "the labels, id2label")?;
	}
	Ok(Plan { task, backend, framework })
}

fn unsupported(why: String) -> Error {
	let list: Vec<String> =
		SUPPORTED.iter().map(|(task, what)| format!("  {}: {what}", task.name())).collect();
	Error::Unsupported(format!("{why}.\nThe engine imports:\n{}", list.join("\n")))
}
