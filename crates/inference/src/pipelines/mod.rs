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
mod output;
pub mod outputs;
pub mod preprocess;
mod request;
pub mod task;
pub mod text;
pub mod vad;

/// The tasks a model can be registered for: the registry's `InferenceTask`.
pub use citrate_model_primitives::InferenceTask as Task;
pub use model_files::ModelFiles;
pub use output::{output_description, Label, Output, TextLine};
pub use request::{Audio, ImageText, Request, SpeechOptions, DEFAULT_TEMPLATE};
pub use task::{class_names, Pipeline, PipelineOptions};

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
