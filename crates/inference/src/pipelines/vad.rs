//! Voice activity detection with Silero VAD (v5+, 16 kHz), streaming.
//!
//! Audio goes in 512-sample chunks (32 ms); each chunk is fed with the 64 samples before it
//! as context (576 samples) and gives the probability that the chunk holds speech. The Silero
//! package ships several exports of one model, told apart by their inputs:
//! - `input` [1, 576] and `state` [2, 1, 128] (`silero_vad_openvino_16k.onnx`,
//!   `silero_vad_half.onnx`): one chunk per run, the recurrent state carried between runs;
//! - the same with a scalar sample rate `sr` (`silero_vad.onnx`, `silero_vad_16k_op15.onnx`,
//!   `silero_vad_op18_ifless.onnx`): `sr` is fixed to 16000 at load, which resolves the
//!   graph's `If` on the sample rate;
//! - `input` [chunks, 576] with LSTM states `h` and `c` [1, 1, 128]
//!   (`silero_vad_16k_sequence.onnx`): all of a clip's chunks in one run.
//!
//! [`SileroVad::load_package`] picks the first export a package holds in [`PACKAGE_FILES`]'
//! order; a file of another shape (Silero v4's `h`, `c` and `sr`) is refused naming the file to
//! use instead.

use super::{ModelFiles, Output, Task};
use crate::{
	codec::{DType, Tensor},
	onnx::{LoadOptions, OnnxModel},
	Error, Result,
};

/// Samples per chunk at 16 kHz.
pub const CHUNK: usize = 512;
/// Samples of left context fed with each chunk.
pub const CONTEXT: usize = 64;
const STATE: usize = 2 * 128;
const LSTM_STATE: usize = 128;
/// Chunks the sequence export takes per run (8 s of audio).
const SEQUENCE_CHUNKS: usize = 256;

/// The Silero exports a voice-activity package may hold, in the order one is chosen.
pub const PACKAGE_FILES: [&str; 7] = [
	"model.onnx",
	"silero_vad_openvino_16k.onnx",
	"silero_vad_16k_sequence.onnx",
	"silero_vad.onnx",
	"silero_vad_16k_op15.onnx",
	"silero_vad_op18_ifless.onnx",
	"silero_vad_half.onnx",
];

/// Which export a model is, by its inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SileroExport {
	/// `input` [1, 576], `state` [2, 1, 128] (and `sr`, fixed at load).
	Streaming,
	/// `input` [chunks, 576], `h`, `c` [1, 1, 128].
	Sequence,
}

/// A Silero VAD model.
pub struct SileroVad {
	model: OnnxModel,
	export: SileroExport,
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
	/// A loaded Silero model (its `sr`, if it has one, already fixed).
	pub fn new(model: OnnxModel) -> Result<Self> {
		let names: Vec<&str> = model.inputs().iter().map(|s| s.name()).collect();
		let export = match names[..] {
			["input", "state"] => SileroExport::Streaming,
			["input", "h", "c"] => SileroExport::Sequence,
			_ => {
				return Err(Error::InvalidModel(format!(
					"not a Silero VAD v5 export: its inputs are {names:?}; voice activity takes \
					 [input, state] (silero_vad_openvino_16k.onnx), [input, state, sr] \
					 (silero_vad.onnx) or [input, h, c] (silero_vad_16k_sequence.onnx) from the \
					 silero-vad package, version 5 or later"
				)))
			}
		};
		Ok(SileroVad { model, export })
	}

	/// Loads the Silero export `bytes` (the package file `file`), fixing its sample rate input
	/// `sr`, if it has one, to 16 kHz.
	pub fn load(bytes: &[u8], file: &str, options: &LoadOptions) -> Result<Self> {
		let inputs = crate::onnx::declared_inputs(bytes).map_err(|e| e.in_file(file))?;
		let mut options = options.clone();
		if inputs.iter().any(|name| name == "sr") {
			let rate = Tensor::new("sr", DType::I64, vec![], 16_000i64.to_le_bytes().to_vec())?;
			options.constant_inputs.push(rate);
		}
		// Streaming exports always take the same shapes, and their `If`s on dims are decided
		// only once the shapes are concrete: plan for those shapes now.
		let streaming = inputs.iter().any(|name| name == "state");
		options.specialize |= streaming;
		let unusable = |e: Error| {
			Error::Unsupported(format!(
				"{file}: {e}; use silero_vad_openvino_16k.onnx or silero_vad_16k_sequence.onnx \
				 from the silero-vad package instead"
			))
		};
		let model = OnnxModel::load(bytes, &options).map_err(unusable)?;
		let vad = Self::new(model).map_err(|e| e.in_file(file))?;
		if streaming {
			let shapes =
				[(DType::F32, vec![1, (CONTEXT + CHUNK) as u32]), (DType::F32, vec![2, 1, 128])];
			vad.model.specialize(&shapes).map_err(unusable)?;
		}
		Ok(vad)
	}

	/// Loads the first export in [`PACKAGE_FILES`] the package holds.
	pub fn load_package(files: &ModelFiles, options: &LoadOptions) -> Result<Self> {
		let file =
			PACKAGE_FILES.iter().find(|name| files.get(name).is_some()).ok_or_else(|| {
				Error::InvalidModel(format!(
					"{} models need one of {PACKAGE_FILES:?}",
					Task::VoiceActivity.name()
				))
			})?;
		Self::load(files.get(file).unwrap_or_default(), file, options)
	}

	/// Which export this is.
	pub fn export(&self) -> SileroExport {
		self.export
	}

	/// Bytes of weights the model holds.
	pub fn weight_bytes(&self) -> u64 {
		self.model.weight_bytes()
	}

	/// Feeds `samples` (16 kHz mono, -1..1) to `stream`; returns the speech probability of
	/// every chunk completed. Samples short of a chunk wait for the next call.
	pub fn push(&self, stream: &mut VadStream, samples: &[f32]) -> Result<Vec<f32>> {
		stream.pending.extend_from_slice(samples);
		let chunks = stream.pending.len() / CHUNK;
		if chunks == 0 {
			return Ok(vec![]);
		}
		let rows: Vec<Vec<f32>> = (0..chunks)
			.map(|i| {
				let chunk = &stream.pending[i * CHUNK..(i + 1) * CHUNK];
				let context = match i {
					0 => stream.context.as_slice(),
					_ => &stream.pending[i * CHUNK - CONTEXT..i * CHUNK],
				};
				[context, chunk].concat()
			})
			.collect();
		let probabilities = match self.export {
			SileroExport::Streaming => rows
				.iter()
				.map(|row| self.run_streaming(&mut stream.state, row))
				.collect::<Result<Vec<f32>>>()?,
			SileroExport::Sequence => {
				let mut probabilities = Vec::with_capacity(rows.len());
				for group in rows.chunks(SEQUENCE_CHUNKS) {
					probabilities.extend(self.run_sequence(&mut stream.state, group)?);
				}
				probabilities
			}
		};
		stream.context = stream.pending[chunks * CHUNK - CONTEXT..chunks * CHUNK].to_vec();
		stream.pending.drain(..chunks * CHUNK);
		Ok(probabilities)
	}

	/// One chunk through a streaming export: its probability, and the state carried on.
	fn run_streaming(&self, state: &mut Vec<f32>, row: &[f32]) -> Result<f32> {
		let outputs = self.model.run(&[
			Tensor::from_f32("input", vec![1, (CONTEXT + CHUNK) as u32], row)?,
			Tensor::from_f32("state", vec![2, 1, 128], &state[..STATE])?,
		])?;
		let probability = named(&outputs, "output").and_then(|p| p.first().copied());
		let next = named(&outputs, "stateN").filter(|s| s.len() == STATE);
		let (Some(probability), Some(next)) = (probability, next) else {
			return Err(unexpected_outputs(&outputs, "`output` [1, 1] and `stateN` [2, 1, 128]"));
		};
		*state = next;
		Ok(probability)
	}

	/// A stream's chunks through the sequence export in one run; the LSTM's `h` and `c` are
	/// carried on in the stream's state.
	fn run_sequence(&self, state: &mut Vec<f32>, rows: &[Vec<f32>]) -> Result<Vec<f32>> {
		let (h, c) = state.split_at(LSTM_STATE);
		let outputs = self.model.run(&[
			Tensor::from_f32(
				"input",
				vec![rows.len() as u32, (CONTEXT + CHUNK) as u32],
				&rows.concat(),
			)?,
			Tensor::from_f32("h", vec![1, 1, 128], h)?,
			Tensor::from_f32("c", vec![1, 1, 128], &c[..LSTM_STATE])?,
		])?;
		let probabilities = named(&outputs, "speech_probs").filter(|p| p.len() == rows.len());
		let h = named(&outputs, "hn").filter(|h| h.len() == LSTM_STATE);
		let c = named(&outputs, "cn").filter(|c| c.len() == LSTM_STATE);
		let (Some(probabilities), Some(h), Some(c)) = (probabilities, h, c) else {
			return Err(unexpected_outputs(
				&outputs,
				"`speech_probs` [chunks], `hn` and `cn` [1, 1, 128]",
			));
		};
		*state = [h, c].concat();
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

/// The f32 values of output `name`.
fn named(outputs: &[Tensor], name: &str) -> Option<Vec<f32>> {
	outputs.iter().find(|t| t.name == name).and_then(Tensor::to_f32)
}

fn unexpected_outputs(outputs: &[Tensor], expected: &str) -> Error {
	let found: Vec<String> =
		outputs.iter().map(|t| format!("`{}` {} {:?}", t.name, t.dtype, t.shape)).collect();
	Error::Pipeline(format!("Silero VAD returned [{}]; expected {expected}", found.join(", ")))
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
