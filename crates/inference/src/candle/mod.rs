//! The candle backend: Hugging Face safetensors and GGUF models of known architectures
//! (BERT-family encoders, Whisper, Gemma 3), on the CPU, or CUDA / Metal with the `cuda` /
//! `metal` features.
//!
//! Files are checked before candle sees them ([`check_safetensors`]): the header's size, JSON,
//! dtypes and that every tensor's bytes lie inside the file, so a hostile file cannot make
//! the loader allocate or read beyond what it holds. Cost comes from the architecture
//! (`cost` functions per model), not a graph.

pub mod bert;
pub mod clip;
pub mod gemma;
pub mod generation;
pub mod gpt2;
pub mod mel;
pub mod t5;
pub mod weights;
pub mod whisper;

use crate::{Error, Limits, Result};

pub use candle_core::Device;

/// The device requests run on: the first CUDA GPU with `cuda`, the Metal GPU with `metal`,
/// else the CPU. `cpu_only` forces the CPU (deterministic providers).
pub fn device(cpu_only: bool) -> Result<Device> {
	if cpu_only {
		return Ok(Device::Cpu);
	}
	#[cfg(feature = "cuda")]
	if candle_core::utils::cuda_is_available() {
		return Device::new_cuda(0).map_err(candle_error);
	}
	#[cfg(feature = "metal")]
	if candle_core::utils::metal_is_available() {
		return Device::new_metal(0).map_err(candle_error);
	}
	Ok(Device::Cpu)
}

pub(crate) fn candle_error(error: candle_core::Error) -> Error {
	Error::Runtime(format!("candle: {}", without_backtrace(error)))
}

/// candle's error without the backtrace candle attaches when `RUST_BACKTRACE` is set: messages
/// must not depend on the environment.
pub(crate) fn without_backtrace(error: candle_core::Error) -> candle_core::Error {
	match error {
		candle_core::Error::WithBacktrace { inner, .. } => without_backtrace(*inner),
		other => other,
	}
}

/// Checks a safetensors file's layout without trusting it: header length within the file and
/// 100 MiB, valid JSON, known dtypes, and every tensor's byte range inside the data, matching
/// its shape. Returns the header's `__metadata__`.
pub fn check_safetensors(
	bytes: &[u8],
	limits: &Limits,
) -> Result<serde_json::Map<String, serde_json::Value>> {
	let invalid = |why: String| Error::InvalidModel(format!("not a valid safetensors file: {why}"));
	if bytes.len() as u64 > limits.max_model_bytes {
		return Err(Error::ModelTooLarge {
			size: bytes.len() as u64,
			limit: limits.max_model_bytes,
		});
	}
	let header_len = bytes
		.get(..8)
		.map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()))
		.ok_or_else(|| invalid("shorter than its 8-byte header length".into()))?;
	if header_len > (100 << 20) || header_len > bytes.len() as u64 - 8 {
		return Err(invalid(format!("header length {header_len} does not fit the file")));
	}
	let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len as usize])
		.map_err(|e| invalid(format!("header is not JSON: {e}")))?;
	let header = header.as_object().ok_or_else(|| invalid("header is not an object".into()))?;
	let data_len = bytes.len() as u64 - 8 - header_len;
	let mut metadata = serde_json::Map::new();
	for (name, info) in header {
		if name == "__metadata__" {
			metadata = info.as_object().cloned().unwrap_or_default();
			continue;
		}
		let field =
			|key: &str| info.get(key).ok_or_else(|| invalid(format!("`{name}` has no {key}")));
		let size = match field("dtype")?.as_str() {
			Some("F64" | "I64" | "U64") => 8,
			Some("F32" | "I32" | "U32") => 4,
			Some("F16" | "BF16" | "I16" | "U16") => 2,
			Some("I8" | "U8" | "BOOL" | "F8_E4M3" | "F8_E5M2") => 1,
			other => return Err(invalid(format!("`{name}` has dtype {other:?}"))),
		};
		let elements = field("shape")?
			.as_array()
			.ok_or_else(|| invalid(format!("`{name}` shape is not a list")))?
			.iter()
			.try_fold(1u64, |acc, d| d.as_u64().and_then(|d| acc.checked_mul(d)))
			.filter(|&n| n <= limits.max_model_tensor_elements)
			.ok_or_else(|| invalid(format!("`{name}` shape is invalid or over the limit")))?;
		let offsets = field("data_offsets")?
			.as_array()
			.and_then(|o| Some((o.first()?.as_u64()?, o.get(1)?.as_u64()?)))
			.ok_or_else(|| invalid(format!("`{name}` data_offsets are not two numbers")))?;
		if offsets.0 > offsets.1 || offsets.1 > data_len || offsets.1 - offsets.0 != elements * size
		{
			return Err(invalid(format!("`{name}` data_offsets {offsets:?} do not fit")));
		}
	}
	Ok(metadata)
}

impl crate::cache::CachedModel for bert::BertEncoder {
	fn memory_bytes(&self) -> u64 {
		self.weight_bytes()
	}
}

impl crate::cache::CachedModel for whisper::WhisperModel {
	fn memory_bytes(&self) -> u64 {
		self.weight_bytes()
	}
}

impl crate::cache::CachedModel for gemma::GemmaModel {
	fn memory_bytes(&self) -> u64 {
		self.weight_bytes()
	}
}

impl crate::cache::CachedModel for t5::T5Model {
	fn memory_bytes(&self) -> u64 {
		self.weight_bytes()
	}
}

impl crate::cache::CachedModel for clip::ClipModel {
	fn memory_bytes(&self) -> u64 {
		self.weight_bytes()
	}
}
