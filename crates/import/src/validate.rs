//! Loading a package in the engine and running a reference input of its task: the package
//! is refused if the engine refuses it, and the run gives the cost the registry records.

use crate::{Error, Result};
use citrate_inference::{
	cost::{metered, Estimate},
	pipelines::{
		GenerationParams, ImageText, ModelFiles, Output, Pipeline, PipelineOptions, Request,
		DEFAULT_TEMPLATE,
	},
};
use citrate_model_primitives::InferenceTask;
use citrate_tensor_primitives::{Dim, Tensor, TensorSpec};
use std::time::{Duration, Instant};

/// The sentence text models are checked on.
pub const REFERENCE_TEXT: &str =
	"Citrate puts AI models on chain, where contracts and agents can call them.";
/// The prompt generative models are checked on, and the tokens they generate.
pub const REFERENCE_PROMPT: &str = "The capital of France is";
/// The prompt text-to-text models are checked on (T5's task prefix).
pub const REFERENCE_TEXT2TEXT_PROMPT: &str = "translate English to German: The house is wonderful.";
/// The sentence fill-mask models are checked on; `{}` is the model's mask token.
pub const REFERENCE_MASKED_TEXT: &str = "The capital of France is {}.";
/// The labels zero-shot image models rank for the reference image.
pub const REFERENCE_LABELS: [&str; 3] = ["a gradient", "a cat", "a diagram"];
pub const REFERENCE_NEW_TOKENS: usize = 8;

/// What running the reference input gave.
#[derive(Clone, Debug)]
pub struct Validation {
	/// The model's inputs and outputs, for raw-tensor models (other tasks' inputs are their
	/// task's schema).
	pub inputs: Vec<TensorSpec>,
	pub outputs: Vec<TensorSpec>,
	/// The engine's cost estimate of the reference run.
	pub estimate: Estimate,
	/// Bytes of weights the loaded model holds.
	pub weight_bytes: u64,
	pub load_time: Duration,
	pub run_time: Duration,
	/// The output, in a line.
	pub summary: String,
}

/// The request a model of `task` is checked on (`inputs`: a raw model's declared inputs, as
/// zeros; `mask`: a fill-mask model's mask token).
pub fn reference_request(
	task: InferenceTask,
	inputs: &[TensorSpec],
	mask: &str,
) -> Result<Request> {
	Ok(match task {
		InferenceTask::FillMask => Request::Text(vec![REFERENCE_MASKED_TEXT.replace("{}", mask)]),
		InferenceTask::Text2TextGeneration => Request::Prompt {
			text: REFERENCE_TEXT2TEXT_PROMPT.to_string(),
			params: GenerationParams { max_tokens: REFERENCE_NEW_TOKENS, ..Default::default() },
		},
		InferenceTask::ZeroShotImageClassification => Request::ImageText(ImageText::Classify {
			image: reference_png()?,
			labels: REFERENCE_LABELS.map(String::from).to_vec(),
			template: DEFAULT_TEMPLATE.to_string(),
		}),
		InferenceTask::FeatureExtraction | InferenceTask::TextClassification => {
			Request::Text(vec![REFERENCE_TEXT.to_string()])
		}
		InferenceTask::ImageClassification | InferenceTask::Ocr => Request::Image(reference_png()?),
		InferenceTask::SpeechToText | InferenceTask::VoiceActivity => {
			Request::samples(reference_audio())
		}
		InferenceTask::TextGeneration => Request::Prompt {
			text: REFERENCE_PROMPT.to_string(),
			params: GenerationParams { max_tokens: REFERENCE_NEW_TOKENS, ..Default::default() },
		},
		InferenceTask::RawTensors => {
			Request::Tensors(
				inputs.iter().map(zeros).collect::<std::result::Result<_, _>>().map_err(|e| {
					Error::Unsupported(format!("cannot build a reference input: {e}"))
				})?,
			)
		}
	})
}

/// Loads `files` as a model of `task` and runs the reference input.
pub fn validate(task: InferenceTask, files: &ModelFiles) -> Result<Validation> {
	validate_loaded(task, files).map(|(validation, _)| validation)
}

/// [`validate`], keeping the loaded pipeline.
pub fn validate_loaded(task: InferenceTask, files: &ModelFiles) -> Result<(Validation, Pipeline)> {
	let options = PipelineOptions::default();
	let started = Instant::now();
	let pipeline = Pipeline::load(task, files, &options)?;
	let load_time = started.elapsed();
	let (inputs, outputs) = match &pipeline {
		Pipeline::RawTensors(model) => {
			(model.inputs().to_vec(), model.outputs().map(<[_]>::to_vec).unwrap_or_default())
		}
		_ => (vec![], vec![]),
	};
	let mask = match &pipeline {
		Pipeline::FillMask(model, _) => model.mask_token(),
		_ => "",
	};
	let request = reference_request(task, &inputs, mask)?;
	let started = Instant::now();
	let (output, estimate) = metered(|| pipeline.run(&request));
	let run_time = started.elapsed();
	let output = output?;
	let validation = Validation {
		inputs,
		outputs,
		estimate,
		weight_bytes: pipeline.weight_bytes(),
		load_time,
		run_time,
		summary: summarise(&output),
	};
	Ok((validation, pipeline))
}

fn summarise(output: &Output) -> String {
	let quote = |text: &str| {
		let short: String = text.chars().take(80).collect();
		format!("{short:?}{}", if short.len() < text.len() { "…" } else { "" })
	};
	match output {
		Output::Embeddings { dims, values } => {
			format!("{} embedding(s) of {dims} dims", values.len() / (*dims).max(1))
		}
		Output::Labels(rows) => match rows.first().and_then(|r| r.first()) {
			Some(top) => format!("top label {:?} ({:.3})", top.name, top.score),
			None => "no labels".into(),
		},
		Output::Text(text) => format!("generated {}", quote(text)),
		Output::Transcript { text, language } => match language {
			Some(language) => format!("transcript ({language}) {}", quote(text)),
			None => format!("transcript {}", quote(text)),
		},
		Output::Lines(lines) => format!("{} line(s) of text", lines.len()),
		Output::SpeechProbabilities(p) => format!("speech probabilities for {} chunks", p.len()),
		Output::Tensors(tensors) => format!(
			"tensors {}",
			tensors
				.iter()
				.map(|t| format!("{}{:?}", t.name, t.shape))
				.collect::<Vec<_>>()
				.join(", ")
		),
	}
}

/// A 224×224 RGB PNG: a diagonal gradient with dark bars, so detectors and classifiers see
/// edges (its content is not meant to be recognised).
pub(crate) fn reference_png() -> Result<Vec<u8>> {
	let (width, height) = (224u32, 224u32);
	let image = image::RgbImage::from_fn(width, height, |x, y| {
		let bar = (40..56).contains(&(y % 64)) && (16..208).contains(&x);
		if bar {
			image::Rgb([20, 20, 20])
		} else {
			image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 180])
		}
	});
	let mut png = vec![];
	image
		.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
		.map_err(|e| Error::Unsupported(format!("encoding the reference image: {e}")))?;
	Ok(png)
}

/// One second of 16 kHz audio: a 440 Hz tone at a tenth of full scale.
pub(crate) fn reference_audio() -> Vec<f32> {
	(0..16_000).map(|i| 0.1 * (i as f32 * 440.0 * std::f32::consts::TAU / 16_000.0).sin()).collect()
}

/// A symbolic size of a reference input beyond the first dim (a sequence, an image's width):
/// large enough for convolutions and pooling to apply.
pub const REFERENCE_SYMBOLIC_SIZE: u32 = 64;

/// Zeros of `spec`'s dtype and shape; a symbolic first dim (the batch) is 1, other symbolic
/// dims [`REFERENCE_SYMBOLIC_SIZE`].
pub(crate) fn zeros(spec: &TensorSpec) -> std::result::Result<Tensor, String> {
	let shape: Vec<u32> = spec
		.dims
		.iter()
		.enumerate()
		.map(|(i, d)| match d {
			Dim::Fixed(n) => u32::try_from(*n).map_err(|_| format!("dim {n} of `{}`", spec.name())),
			Dim::Symbolic(_) if i == 0 => Ok(1),
			Dim::Symbolic(_) => Ok(REFERENCE_SYMBOLIC_SIZE),
		})
		.collect::<std::result::Result<_, _>>()?;
	let elements: usize = shape.iter().map(|&d| d as usize).product();
	let bytes = elements * spec.dtype.size();
	Tensor::new(spec.name(), spec.dtype, shape, vec![0; bytes]).map_err(|e| format!("{e:?}"))
}
