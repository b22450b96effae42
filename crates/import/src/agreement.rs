//! How far an optimised package agrees with the original: both run on several reference
//! inputs of their task, and the outputs are compared the way the task is used.
//!
//! - image and text classification: the top-1 label of every input must be the same
//!   (agreement: the fraction of inputs where it is);
//! - OCR: the text read must be the same (the fraction of inputs where it is);
//! - embeddings, speech probabilities and raw tensors: the cosine similarity of the outputs
//!   (agreement: the minimum over inputs; the mean is reported too). A raw model's non-float
//!   outputs must be equal.
//!
//! The inputs: the reference input `validate` runs, and for image classifiers two photographs
//! (the engine's test images: a cat and a cup of coffee), for OCR an image of printed text.
//! (The printed text is no image classifier input: it is no ImageNet class, and
//! EfficientNet-Lite0's top two labels for it are 0.0157 and 0.0155 — a tie that any change of
//! the weights may break, which would measure noise, not agreement.) For text,
//! four sentences; for audio, a tone, noise and a chirp; for raw tensors, zeros and three
//! seeded pseudo-random draws in [-1, 1] of the float inputs.

use crate::{validate, Error, Result};
use citrate_inference::pipelines::{Output, Pipeline, Request};
use citrate_model_primitives::InferenceTask;
use citrate_tensor_primitives::{DType, Tensor, TensorSpec};
use std::time::{Duration, Instant};

/// How outputs are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
	/// The same top-1 label.
	Top1,
	/// The same text.
	SameText,
	/// Cosine similarity of the output vectors.
	Cosine,
}

impl Metric {
	/// The metric of a task's outputs; `None` for tasks that do not run on tract.
	pub fn of(task: InferenceTask) -> Option<Metric> {
		Some(match task {
			InferenceTask::ImageClassification | InferenceTask::TextClassification => Metric::Top1,
			InferenceTask::Ocr => Metric::SameText,
			InferenceTask::FeatureExtraction
			| InferenceTask::VoiceActivity
			| InferenceTask::RawTensors => Metric::Cosine,
			_ => return None,
		})
	}

	pub fn name(self) -> &'static str {
		match self {
			Metric::Top1 => "top-1",
			Metric::SameText => "same-text",
			Metric::Cosine => "cosine",
		}
	}

	/// The agreement required unless `--min-agreement` says otherwise: every label and text
	/// the same; cosine 0.99.
	pub fn default_threshold(self) -> f64 {
		match self {
			Metric::Top1 | Metric::SameText => 1.0,
			Metric::Cosine => 0.99,
		}
	}
}

/// What comparing two models on the reference inputs measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Agreement {
	pub metric: Metric,
	/// Outputs compared (a batch of embeddings counts each row).
	pub inputs: usize,
	/// Top-1 and text: outputs that are the same.
	pub agreeing: usize,
	/// What the threshold applies to: the fraction agreeing (top-1, text) or the minimum
	/// cosine.
	pub value: f64,
	/// The mean cosine (top-1, text: `value`).
	pub mean: f64,
}

/// A model's load time and median run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Speed {
	pub load: Duration,
	/// Median of `runs` runs of the reference input.
	pub run: Duration,
	pub runs: usize,
}

/// Runs of the reference input a median is taken over.
pub const TIMED_RUNS: usize = 7;

const CAT: &[u8] = include_bytes!("../../inference/tests/assets/chelsea.jpg");
const COFFEE: &[u8] = include_bytes!("../../inference/tests/assets/coffee.jpg");
const PRINTED_TEXT: &[u8] = include_bytes!("../../inference/tests/assets/ocr-text.png");

/// Sentences text models are compared on, after the reference sentence.
pub const SENTENCES: [&str; 3] = [
	"The quick brown fox jumps over the lazy dog.",
	"A quantized model should give the same answers as the model it was made from.",
	"Rain is expected in the afternoon, so take an umbrella to the station.",
];

/// The inputs models of `task` are compared on, named (`inputs`: a raw model's inputs).
pub fn reference_inputs(
	task: InferenceTask,
	inputs: &[TensorSpec],
) -> Result<Vec<(String, Request)>> {
	let reference = validate::reference_request(task, inputs, "")?;
	let mut requests = vec![("reference".to_string(), reference)];
	let named = |name: &str, request| (name.to_string(), request);
	match task {
		InferenceTask::ImageClassification => {
			requests.push(named("chelsea.jpg", Request::Image(CAT.to_vec())));
			requests.push(named("coffee.jpg", Request::Image(COFFEE.to_vec())));
		}
		InferenceTask::Ocr => {
			requests.push(named("ocr-text.png", Request::Image(PRINTED_TEXT.to_vec())))
		}
		InferenceTask::FeatureExtraction | InferenceTask::TextClassification => {
			for (i, sentence) in SENTENCES.iter().enumerate() {
				requests.push((
					format!("sentence {}", i + 1),
					Request::Text(vec![sentence.to_string()]),
				));
			}
		}
		InferenceTask::VoiceActivity => {
			let mut random = Random(0x5eed);
			let noise = (0..16_000).map(|_| 0.2 * random.uniform()).collect();
			requests.push(named("noise", Request::samples(noise)));
			let chirp = (0..16_000)
				.map(|i| {
					let t = i as f32 / 16_000.0;
					0.3 * (std::f32::consts::TAU * (200.0 + 1800.0 * t) * t).sin()
				})
				.collect();
			requests.push(named("chirp", Request::samples(chirp)));
		}
		InferenceTask::RawTensors => {
			let zeros = match &requests[0].1 {
				Request::Tensors(zeros) => zeros.clone(),
				_ => vec![],
			};
			let mut random = Random(0x5eed);
			for draw in 1..=3 {
				let tensors = zeros
					.iter()
					.map(|t| match t.dtype {
						DType::F32 => {
							let values: Vec<f32> =
								(0..t.data.len() / 4).map(|_| random.uniform()).collect();
							Tensor::from_f32(t.name.clone(), t.shape.clone(), &values)
								.map_err(|e| Error::Unsupported(format!("a random input: {e:?}")))
						}
						_ => Ok(t.clone()),
					})
					.collect::<Result<Vec<_>>>()?;
				requests.push((format!("random {draw}"), Request::Tensors(tensors)));
			}
		}
		_ => {}
	}
	Ok(requests)
}

/// Runs `original` and `candidate` (models of `task`) on the reference inputs and compares
/// their outputs.
pub fn compare(
	task: InferenceTask,
	original: &Pipeline,
	candidate: &Pipeline,
	inputs: &[TensorSpec],
) -> Result<Agreement> {
	let metric = Metric::of(task)
		.ok_or_else(|| Error::Unsupported(format!("{} outputs are not compared", task.name())))?;
	let mut scores: Vec<f64> = vec![];
	for (name, request) in reference_inputs(task, inputs)? {
		let run = |pipeline: &Pipeline| {
			pipeline.run(&request).map_err(|e| {
				Error::Unsupported(format!("running the reference input `{name}`: {e}"))
			})
		};
		let (a, b) = (run(original)?, run(candidate)?);
		scores.extend(
			score(metric, &a, &b).map_err(|e| {
				Error::Unsupported(format!("comparing the outputs of `{name}`: {e}"))
			})?,
		);
	}
	let inputs = scores.len();
	let mean = scores.iter().sum::<f64>() / inputs.max(1) as f64;
	let agreeing = scores.iter().filter(|&&s| s == 1.0).count();
	let value = match metric {
		Metric::Top1 | Metric::SameText => agreeing as f64 / inputs.max(1) as f64,
		Metric::Cosine => scores.iter().copied().fold(1.0, f64::min),
	};
	Ok(Agreement { metric, inputs, agreeing, value, mean })
}

/// Per output compared: 1 or 0 (same label, same text) or a cosine.
fn score(metric: Metric, a: &Output, b: &Output) -> std::result::Result<Vec<f64>, String> {
	let same = |x: bool| if x { 1.0 } else { 0.0 };
	Ok(match (metric, a, b) {
		(Metric::Top1, Output::Labels(a), Output::Labels(b)) if a.len() == b.len() => a
			.iter()
			.zip(b)
			.map(|(a, b)| same(a.first().map(|l| l.id) == b.first().map(|l| l.id)))
			.collect(),
		(Metric::SameText, Output::Lines(a), Output::Lines(b)) => {
			let text = |lines: &[citrate_inference::pipelines::TextLine]| {
				lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>().join("\n")
			};
			vec![same(text(a) == text(b))]
		}
		(
			Metric::Cosine,
			Output::Embeddings { dims: da, values: a },
			Output::Embeddings { dims: db, values: b },
		) if da == db && a.len() == b.len() && *da > 0 => {
			a.chunks(*da).zip(b.chunks(*db)).map(|(a, b)| cosine(a, b)).collect()
		}
		(Metric::Cosine, Output::SpeechProbabilities(a), Output::SpeechProbabilities(b))
			if a.len() == b.len() =>
		{
			vec![cosine(a, b)]
		}
		(Metric::Cosine, Output::Tensors(a), Output::Tensors(b)) if a.len() == b.len() => {
			// An input's score is its worst output's.
			let mut worst = 1.0f64;
			for (a, b) in a.iter().zip(b) {
				if a.name != b.name || a.dtype != b.dtype || a.shape != b.shape {
					return Err(format!("output `{}` changed form", a.name));
				}
				worst = worst.min(match (a.to_f32(), b.to_f32()) {
					(Some(x), Some(y)) if a.dtype == DType::F32 => cosine(&x, &y),
					_ => same(a.data == b.data),
				});
			}
			vec![worst]
		}
		_ => return Err("the two models' outputs differ in form".into()),
	})
}

/// Cosine similarity, in f64: 1 for identical vectors (zeros included), 0 when only one is
/// zero.
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
	if a == b {
		return 1.0;
	}
	let (mut dot, mut aa, mut bb) = (0f64, 0f64, 0f64);
	for (&x, &y) in a.iter().zip(b) {
		let (x, y) = (f64::from(x), f64::from(y));
		dot += x * y;
		aa += x * x;
		bb += y * y;
	}
	if aa == 0.0 || bb == 0.0 {
		return 0.0;
	}
	let cosine = dot / (aa.sqrt() * bb.sqrt());
	// Never 1 for vectors that differ, never outside [-1, 1] by rounding.
	if cosine.is_nan() {
		0.0
	} else {
		cosine.clamp(-1.0, 1.0 - f64::EPSILON)
	}
}

/// The median times of `runs` runs of `request` on `a` and on `b`, run in turns so that
/// whatever else the machine does weighs on both alike.
pub fn median_runs(
	a: &Pipeline,
	b: &Pipeline,
	request: &Request,
	runs: usize,
) -> Result<(Duration, Duration)> {
	let (mut times_a, mut times_b) = (vec![], vec![]);
	for _ in 0..runs.max(1) {
		for (pipeline, times) in [(a, &mut times_a), (b, &mut times_b)] {
			let started = Instant::now();
			pipeline.run(request)?;
			times.push(started.elapsed());
		}
	}
	let median = |times: &mut Vec<Duration>| {
		times.sort();
		times[times.len() / 2]
	};
	Ok((median(&mut times_a), median(&mut times_b)))
}

/// xorshift64: the same draws everywhere.
struct Random(u64);

impl Random {
	/// Uniform in [-1, 1).
	fn uniform(&mut self) -> f32 {
		self.0 ^= self.0 << 13;
		self.0 ^= self.0 >> 7;
		self.0 ^= self.0 << 17;
		(self.0 >> 40) as f32 / (1u64 << 23) as f32 - 1.0
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn cosine_is_one_only_for_equal_vectors() {
		assert_eq!(cosine(&[1.0, 2.0], &[1.0, 2.0]), 1.0);
		assert_eq!(cosine(&[0.0, 0.0], &[0.0, 0.0]), 1.0);
		assert_eq!(cosine(&[0.0, 0.0], &[0.0, 1.0]), 0.0);
		assert!(cosine(&[1.0, 2.0], &[2.0, 4.0]) < 1.0, "parallel but different");
		assert!((cosine(&[1.0, 2.0], &[2.0, 4.0]) - 1.0).abs() < 1e-12);
		assert_eq!(cosine(&[1.0, 0.0], &[-1.0, 0.0]), -1.0);
		assert!(cosine(&[1.0, 0.0], &[0.0, 1.0]).abs() < 1e-12);
	}

	#[test]
	fn draws_are_in_range_and_repeatable() {
		let draws: Vec<f32> = {
			let mut r = Random(0x5eed);
			(0..1000).map(|_| r.uniform()).collect()
		};
		assert!(draws.iter().all(|d| (-1.0..1.0).contains(d)));
		let mut r = Random(0x5eed);
		assert_eq!(r.uniform(), draws[0]);
	}
}
