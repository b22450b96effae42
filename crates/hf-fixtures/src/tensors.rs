//! Tensor plans and a streaming safetensors writer.
//!
//! A [`TensorSpec`] says what one tensor of the Hub checkpoint is called, its shape and dtype,
//! how its values are made and whether it is a model parameter. The writer lays the file out
//! the way the `safetensors` library (Python and Rust alike) does, so the bytes match what
//! `safetensors.torch.save_file` would produce for the same tensors:
//!
//! * an 8-byte little-endian header length, then a JSON header padded with spaces to a
//!   multiple of 8 bytes;
//! * `__metadata__` first (`{"format":"pt"}`), then one entry per tensor with `dtype`,
//!   `shape` and `data_offsets`;
//! * tensors sorted by descending dtype (so the i64 `position_ids` buffers come before the f32
//!   weights) and then by name, with the data laid out in that same order.
//!
//! Data is generated in fixed-size chunks straight into a `BufWriter`, so writing the 500 MB
//! GPT-2 checkpoint never holds more than one chunk in memory.

use std::{
	fs::File,
	io::{self, BufWriter, Write},
	path::Path,
};

use crate::rng::{stream_seed, SplitMix64};

/// The standard deviation BERT, GPT-2 and CLIP use to initialise matrices and embeddings.
pub const INIT_STD: f32 = 0.02;

/// Element type of a tensor. Declared in the order `safetensors`' `Dtype` enum declares them,
/// because the file is sorted by that order (descending).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dtype {
	F32,
	I64,
}

impl Dtype {
	pub fn name(self) -> &'static str {
		match self {
			Dtype::F32 => "F32",
			Dtype::I64 => "I64",
		}
	}

	pub fn size(self) -> usize {
		match self {
			Dtype::F32 => 4,
			Dtype::I64 => 8,
		}
	}
}

/// How a tensor's values are generated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
	/// Normal-ish with mean 0 and this standard deviation.
	Normal(f32),
	/// Every element equals this value (LayerNorm weights 1.0, biases 0.0, `logit_scale`).
	Constant(f32),
	/// GPT-2's causal-mask buffer `attn.bias`: `tril(ones(n, n))` viewed as `[1, 1, n, n]`.
	LowerTriangular,
	/// `position_ids` buffers: `arange(n)` viewed as `[1, n]` (i64).
	Arange,
}

/// What a tensor is to the architecture named in `config.json`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
	/// A parameter of the model class; counted in [`crate::Checkpoint::parameters`].
	Parameter,
	/// A buffer that old checkpoints persisted (GPT-2's `attn.bias`, CLIP's `position_ids`);
	/// transformers ignores it on load.
	Buffer,
	/// A parameter of another head that the Hub file carries but this class does not use
	/// (bert-base-uncased's pooler and next-sentence head under `BertForMaskedLM`).
	Unused,
}

/// One tensor of a checkpoint plan.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorSpec {
	pub name: String,
	pub shape: Vec<usize>,
	pub dtype: Dtype,
	pub init: Init,
	pub role: Role,
}

impl TensorSpec {
	/// A parameter initialised normal-ish with [`INIT_STD`].
	pub fn normal(name: impl Into<String>, shape: &[usize]) -> Self {
		Self::f32(name, shape, Init::Normal(INIT_STD))
	}

	/// A parameter filled with ones (LayerNorm / RMSNorm scales).
	pub fn ones(name: impl Into<String>, shape: &[usize]) -> Self {
		Self::f32(name, shape, Init::Constant(1.0))
	}

	/// A parameter filled with zeros (biases).
	pub fn zeros(name: impl Into<String>, shape: &[usize]) -> Self {
		Self::f32(name, shape, Init::Constant(0.0))
	}

	pub fn f32(name: impl Into<String>, shape: &[usize], init: Init) -> Self {
		Self {
			name: name.into(),
			shape: shape.to_vec(),
			dtype: Dtype::F32,
			init,
			role: Role::Parameter,
		}
	}

	pub fn with_role(mut self, role: Role) -> Self {
		self.role = role;
		self
	}

	pub fn elements(&self) -> u64 {
		self.shape.iter().map(|&d| d as u64).product()
	}

	pub fn byte_len(&self) -> u64 {
		self.elements() * self.dtype.size() as u64
	}
}

/// A `(weight, bias)` pair for a linear layer stored as `[out, in]` (PyTorch `nn.Linear`).
pub fn linear(prefix: &str, out: usize, inp: usize) -> [TensorSpec; 2] {
	[
		TensorSpec::normal(format!("{prefix}.weight"), &[out, inp]),
		TensorSpec::zeros(format!("{prefix}.bias"), &[out]),
	]
}

/// A LayerNorm with the modern `weight`/`bias` names.
pub fn layer_norm(prefix: &str, dim: usize) -> [TensorSpec; 2] {
	[
		TensorSpec::ones(format!("{prefix}.weight"), &[dim]),
		TensorSpec::zeros(format!("{prefix}.bias"), &[dim]),
	]
}

/// Sum of the elements of the tensors with [`Role::Parameter`].
pub fn parameter_count(plan: &[TensorSpec]) -> u64 {
	plan.iter().filter(|t| t.role == Role::Parameter).map(TensorSpec::elements).sum()
}

/// The order `safetensors` lays tensors out in: descending dtype, then name.
pub fn file_order(plan: &[TensorSpec]) -> Vec<&TensorSpec> {
	let mut order: Vec<&TensorSpec> = plan.iter().collect();
	order.sort_by(|a, b| b.dtype.cmp(&a.dtype).then_with(|| a.name.cmp(&b.name)));
	order
}

/// The JSON header, already padded with spaces to a multiple of 8 bytes.
pub fn header(plan: &[TensorSpec]) -> Vec<u8> {
	// Written by hand rather than through a map so the key order is exactly the crate's:
	// `__metadata__` first, then the tensors in file order.
	let mut json = String::from(r#"{"__metadata__":{"format":"pt"}"#);
	let mut offset = 0u64;
	for t in file_order(plan) {
		let shape = t.shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(",");
		let end = offset + t.byte_len();
		json.push_str(&format!(
			r#",{}:{{"dtype":"{}","shape":[{}],"data_offsets":[{},{}]}}"#,
			serde_json::to_string(&t.name).expect("a string serialises"),
			t.dtype.name(),
			shape,
			offset,
			end
		));
		offset = end;
	}
	json.push('}');
	let mut bytes = json.into_bytes();
	bytes.resize(bytes.len().next_multiple_of(8), b' ');
	bytes
}

/// Total size of the file the plan produces, without writing it.
pub fn file_size(plan: &[TensorSpec]) -> u64 {
	8 + header(plan).len() as u64 + plan.iter().map(TensorSpec::byte_len).sum::<u64>()
}

/// Writes `plan` to `path` as a safetensors file, generating values from `seed`.
pub fn write_safetensors(path: &Path, plan: &[TensorSpec], seed: u64) -> io::Result<u64> {
	let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
	let header = header(plan);
	out.write_all(&(header.len() as u64).to_le_bytes())?;
	out.write_all(&header)?;
	let mut chunk = Vec::with_capacity(CHUNK_ELEMENTS * 8);
	for t in file_order(plan) {
		let mut values = Values::new(t, seed);
		while values.fill(&mut chunk) {
			out.write_all(&chunk)?;
		}
	}
	out.flush()?;
	Ok(file_size(plan))
}

/// The little-endian bytes of one tensor (used by tests to compare with the crate's writer).
pub fn tensor_bytes(t: &TensorSpec, seed: u64) -> Vec<u8> {
	let mut all = Vec::with_capacity(t.byte_len() as usize);
	let mut chunk = Vec::new();
	let mut values = Values::new(t, seed);
	while values.fill(&mut chunk) {
		all.extend_from_slice(&chunk);
	}
	all
}

const CHUNK_ELEMENTS: usize = 1 << 16;

/// Generates a tensor's bytes chunk by chunk.
struct Values<'a> {
	spec: &'a TensorSpec,
	rng: SplitMix64,
	next: u64,
	total: u64,
}

impl<'a> Values<'a> {
	fn new(spec: &'a TensorSpec, seed: u64) -> Self {
		Self {
			spec,
			rng: SplitMix64::new(stream_seed(seed, &spec.name)),
			next: 0,
			total: spec.elements(),
		}
	}

	/// Replaces `chunk` with the next bytes; false once the tensor is exhausted.
	fn fill(&mut self, chunk: &mut Vec<u8>) -> bool {
		chunk.clear();
		if self.next >= self.total {
			return false;
		}
		let end = (self.next + CHUNK_ELEMENTS as u64).min(self.total);
		let last = *self.spec.shape.last().unwrap_or(&1) as u64;
		for i in self.next..end {
			match self.spec.init {
				Init::Normal(std) => {
					chunk.extend_from_slice(&(self.rng.normal() * std).to_le_bytes())
				}
				Init::Constant(v) => chunk.extend_from_slice(&v.to_le_bytes()),
				Init::LowerTriangular => {
					let (row, col) = (i / last, i % last);
					let v: f32 = if col <= row { 1.0 } else { 0.0 };
					chunk.extend_from_slice(&v.to_le_bytes());
				}
				Init::Arange => chunk.extend_from_slice(&((i % last) as i64).to_le_bytes()),
			}
		}
		self.next = end;
		true
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn header_is_padded_and_ordered() {
		let plan = vec![
			TensorSpec::normal("b", &[2, 3]),
			TensorSpec::zeros("a", &[3]),
			TensorSpec {
				name: "z.position_ids".into(),
				shape: vec![1, 4],
				dtype: Dtype::I64,
				init: Init::Arange,
				role: Role::Buffer,
			},
		];
		let h = header(&plan);
		assert_eq!(h.len() % 8, 0);
		let text = String::from_utf8(h).unwrap();
		let z = text.find("z.position_ids").unwrap();
		let a = text.find("\"a\"").unwrap();
		let b = text.find("\"b\"").unwrap();
		assert!(z < a && a < b, "{text}");
		assert_eq!(parameter_count(&plan), 9);
		let ids = tensor_bytes(&plan[2], 0);
		assert_eq!(ids[8..16], 1i64.to_le_bytes());
	}
}
