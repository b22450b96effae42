//! Voice activity detection with Silero VAD (v5+, 16 kHz), streaming.
//!
//! Audio goes in 512-sample chunks (32 ms); each chunk is fed with the 64 samples before it
//! as context (input `[1, 576]`) and the recurrent state the previous chunk returned
//! (`[2, 1, 128]`), and gives the probability that the chunk holds speech.

use super::Output;
use crate::{codec::Tensor, onnx::OnnxModel, Error, Result};

/// Samples per chunk at 16 kHz.
pub const CHUNK: usize = 512;
/// Samples of left context fed with each chunk.
pub const CONTEXT: usize = 64;
const STATE: usize = 2 * 128;

/// A Silero VAD model (`silero_vad_16k.onnx`: inputs `input`, `state`).
pub struct SileroVad {
	model: OnnxModel,
}

/// One audio stream's position: the state and context carried from chunk to chunk, and
/// samples waiting for a full chunk.
#[derive(Clone, Debug)]
pub struct VadStream {
	state: Vec<f32>,
	context: Vec<f32>,
	pending: Vec<f32>,
}

impl Default for VadStream {
	fn default() -> Self {
		VadStream { state: vec![0.0; STATE], context: vec![0.0; CONTEXT], pending: vec![] }
	}
}

impl SileroVad {
	pub fn new(model: OnnxModel) -> Result<Self> {
		let names: Vec<&str> = model.inputs().iter().map(|s| s.name()).collect();
		if names != ["input", "state"] {
			return Err(Error::Pipeline(format!(
				"expected Silero VAD v5 inputs [input, state], found {names:?}"
			)));
		}
		Ok(SileroVad { model })
	}

	/// Bytes of weights the model holds.
	pub fn weight_bytes(&self) -> u64 {
		self.model.weight_bytes()
	}

	/// Feeds `samples` (16 kHz mono, -1..1) to `stream`; returns the speech probability of
	/// every chunk completed. Samples short of a chunk wait for the next call.
	pub fn push(&self, stream: &mut VadStream, samples: &[f32]) -> Result<Vec<f32>> {
		stream.pending.extend_from_slice(samples);
		let mut probabilities = vec![];
		while stream.pending.len() >= CHUNK {
			let chunk: Vec<f32> = stream.pending.drain(..CHUNK).collect();
			let mut input = stream.context.clone();
			input.extend_from_slice(&chunk);
			let outputs = self.model.run(&[
				Tensor::from_f32("input", vec![1, (CONTEXT + CHUNK) as u32], &input)?,
				Tensor::from_f32("state", vec![2, 1, 128], &stream.state)?,
			])?;
			let probability =
				outputs.first().and_then(Tensor::to_f32).and_then(|p| p.first().copied());
			let state = outputs.get(1).and_then(Tensor::to_f32).filter(|s| s.len() == STATE);
			let (Some(probability), Some(state)) = (probability, state) else {
				return Err(Error::Pipeline("unexpected Silero VAD outputs".into()));
			};
			probabilities.push(probability);
			stream.state = state;
			stream.context = chunk[CHUNK - CONTEXT..].to_vec();
		}
		Ok(probabilities)
	}

	/// Speech probabilities of a whole clip, the last partial chunk padded with silence.
	pub fn detect(&self, samples: &[f32]) -> Result<Output> {
		let mut stream = VadStream::default();
		let mut probabilities = self.push(&mut stream, samples)?;
		if !stream.pending.is_empty() {
			let padding = vec![0.0; CHUNK - stream.pending.len()];
			probabilities.extend(self.push(&mut stream, &padding)?);
		}
		Ok(Output::SpeechProbabilities(probabilities))
	}
}

/// Speech segments `(first chunk, last chunk)` from per-chunk probabilities: speech starts
/// at `threshold` and ends once the probability falls below `threshold - 0.15` (Silero's
/// hysteresis).
pub fn segments(probabilities: &[f32], threshold: f32) -> Vec<(usize, usize)> {
	let mut out = vec![];
	let mut start = None;
	for (i, &p) in probabilities.iter().enumerate() {
		match start {
			None if p >= threshold => start = Some(i),
			Some(s) if p < threshold - 0.15 => {
				out.push((s, i - 1));
				start = None;
			}
			_ => {}
		}
	}
	if let Some(s) = start {
		out.push((s, probabilities.len() - 1));
	}
	out
}
