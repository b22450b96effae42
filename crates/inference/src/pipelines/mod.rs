//! Task pipelines: what a user or contract sends (text, an image, audio) in, what they want
//! (embeddings, labels, text) out, with the model in between.
//!
//! Every pipeline's result converts to named tensors ([`Output::to_tensors`]) in a fixed
//! layout, so the output hash a proof signs covers exactly what the caller receives.

pub mod audio;
#[cfg(feature = "candle")]
pub mod fill_mask;
pub mod image;
mod model_files;
pub mod ocr;
pub mod outputs;
pub mod preprocess;
mod request;
pub mod task;
pub mod text;
pub mod vad;

use crate::{Error, Result};
use citrate_tensor_primitives::{DType, Tensor};

/// The tasks a model can be registered for: the registry's `InferenceTask`.
pub use citrate_model_primitives::InferenceTask as Task;
pub use model_files::ModelFiles;
pub use request::{Audio, ImageText, Request, SpeechOptions, DEFAULT_TEMPLATE};
pub use task::{Pipeline, PipelineOptions};

/// Most tokens one text-generation request may generate.
pub const MAX_NEW_TOKENS: usize = citrate_inference_primitives::request::MAX_NEW_TOKENS as usize;

/// How to pick each next token.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GenerationParams {
	/// Tokens to generate at most (≤ [`MAX_NEW_TOKENS`]).
	pub max_tokens: usize,
	/// 0 is greedy (argmax); above 0 samples from the softmax at this temperature.
	pub temperature: f64,
	/// Nucleus sampling: keep the most likely tokens up to this much probability.
	pub top_p: Option<f64>,
	/// Seed of the sampler: the same seed, prompt and model give the same text.
	pub seed: u64,
}

impl Default for GenerationParams {
	fn default() -> Self {
		GenerationParams { max_tokens: 32, temperature: 0.0, top_p: None, seed: 0 }
	}
}

/// One class and its probability.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
	pub id: u32,
	pub name: String,
	pub score: f32,
}

/// One line of text found in an image.
#[derive(Clone, Debug, PartialEq)]
pub struct TextLine {
	pub text: String,
	/// Its box in the image: left, top, right, bottom (exclusive), in pixels.
	pub bounds: (u32, u32, u32, u32),
	/// The recogniser's mean probability of the line's characters, 0 to 1.
	pub confidence: f32,
}

/// What a pipeline returns.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
	/// One vector per input text, `dims` long each.
	Embeddings { dims: usize, values: Vec<f32> },
	/// The top classes per input, best first.
	Labels(Vec<Vec<Label>>),
	/// Text (generation).
	Text(String),
	/// Speech-to-text: the text, and the spoken language (multilingual checkpoints; given or
	/// detected).
	Transcript { text: String, language: Option<String> },
	/// Lines of text read from an image (OCR), top to bottom.
	Lines(Vec<TextLine>),
	/// Speech probability per 32 ms chunk of 16 kHz audio.
	SpeechProbabilities(Vec<f32>),
	/// Raw tensors.
	Tensors(Vec<Tensor>),
}

impl Output {
	/// The canonical tensors of this output, which `proof::output_hash` hashes:
	/// - embeddings: `embeddings` f32 [n, dims];
	/// - labels: `label_ids` i64 [n, k] and `scores` f32 [n, k] (label names come from the
	///   model's label list, so ids are enough);
	/// - text: `text` u8 [bytes] (UTF-8);
	/// - transcript: `text` as for text, then `language` u8 [bytes] when the checkpoint is
	///   multilingual;
	/// - lines: `text` as for text, the lines joined by newlines, then `line_confidences` f32
	///   [lines] and `line_boxes` i64 [lines, 4] (left, top, right, bottom);
	/// - speech probabilities: `speech_probabilities` f32 [chunks];
	/// - tensors: as they are.
	pub fn to_tensors(&self) -> Result<Vec<Tensor>> {
		Ok(match self {
			Output::Embeddings { dims, values } => {
				let rows = values.len().checked_div(*dims).unwrap_or(0);
				vec![Tensor::from_f32("embeddings", vec![rows as u32, *dims as u32], values)?]
			}
			Output::Labels(rows) => {
				let k = rows.first().map_or(0, Vec::len);
				if rows.iter().any(|r| r.len() != k) {
					return Err(Error::Pipeline("label rows of different lengths".into()));
				}
				let shape = vec![rows.len() as u32, k as u32];
				let ids =
					rows.iter().flatten().flat_map(|l| i64::from(l.id).to_le_bytes()).collect();
				let scores: Vec<f32> = rows.iter().flatten().map(|l| l.score).collect();
				vec![
					Tensor::new("label_ids", DType::I64, shape.clone(), ids)?,
					Tensor::from_f32("scores", shape, &scores)?,
				]
			}
			Output::Text(text) => vec![Tensor::new(
				"text",
				DType::U8,
				vec![text.len() as u32],
				text.as_bytes().to_vec(),
			)?],
			Output::Transcript { text, language } => {
				let mut tensors = Output::Text(text.clone()).to_tensors()?;
				if let Some(language) = language {
					let bytes = language.as_bytes().to_vec();
					tensors.push(Tensor::new(
						"language",
						DType::U8,
						vec![bytes.len() as u32],
						bytes,
					)?);
				}
				tensors
			}
			Output::Lines(lines) => {
				let text = lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>().join("\n");
				let confidences: Vec<f32> = lines.iter().map(|l| l.confidence).collect();
				let boxes = lines
					.iter()
					.flat_map(|l| [l.bounds.0, l.bounds.1, l.bounds.2, l.bounds.3])
					.flat_map(|v| i64::from(v).to_le_bytes())
					.collect();
				let n = lines.len() as u32;
				let mut tensors = Output::Text(text).to_tensors()?;
				tensors.push(Tensor::from_f32("line_confidences", vec![n], &confidences)?);
				tensors.push(Tensor::new("line_boxes", DType::I64, vec![n, 4], boxes)?);
				tensors
			}
			Output::SpeechProbabilities(p) => {
				vec![Tensor::from_f32("speech_probabilities", vec![p.len() as u32], p)?]
			}
			Output::Tensors(tensors) => tensors.clone(),
		})
	}
}

/// Softmax of `logits`, computed in f64 and rounded, so it sums to 1 within f32 precision.
pub fn softmax(logits: &[f32]) -> Vec<f32> {
	let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
	let exps: Vec<f64> = logits.iter().map(|&l| f64::from(l - max).exp()).collect();
	let sum: f64 = exps.iter().sum();
	exps.iter().map(|e| (e / sum) as f32).collect()
}

/// The `k` best of `scores` as labels named from `names` (ties: the lower id first).
pub fn top_k(scores: &[f32], k: usize, names: &[String]) -> Vec<Label> {
	let mut order: Vec<usize> = (0..scores.len()).collect();
	order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
	order
		.into_iter()
		.take(k)
		.map(|i| Label {
			id: i as u32,
			name: names.get(i).cloned().unwrap_or_else(|| format!("class {i}")),
			score: scores[i],
		})
		.collect()
}
