//! A safetensors file read once into f32 tensors by name, for architectures whose parts share
//! a tensor: BERT's masked-LM decoder is its word embeddings, and checkpoints that tie them
//! store only one. An alias names the same tensor again, so it is held once, and candle's
//! layers load from the map through a [`VarBuilder`] (shapes still checked there).

use super::{candle_error, check_safetensors, without_backtrace};
use crate::{Error, Limits, Result};
use candle_core::safetensors::Load;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use safetensors::tensor::{self as st, SafeTensors};
use std::collections::HashMap;

/// A checkpoint's float tensors, as f32, by name.
pub struct Weights {
	tensors: HashMap<String, Tensor>,
}

impl Weights {
	/// Every float tensor of `safetensors` (checked first) as f32 on `device`; integer tensors
	/// (buffers such as `position_ids`) are left out.
	pub fn load(safetensors: &[u8], device: &Device, limits: &Limits) -> Result<Self> {
		check_safetensors(safetensors, limits).map_err(|e| e.in_file("model.safetensors"))?;
		let invalid = |e: String| Error::InvalidModel(format!("model.safetensors: {e}"));
		let file = SafeTensors::deserialize(safetensors).map_err(|e| invalid(e.to_string()))?;
		let mut tensors = HashMap::with_capacity(file.len());
		for (name, view) in file.tensors() {
			let tensor = match (view.dtype(), view.shape()) {
				// The common case read straight into its layout: one copy, not two.
				(st::Dtype::F32, &[rows, cols]) if is_projection(&name, 2) => {
					let values = transpose(rows, cols, |i| {
						let bytes = &view.data()[4 * i..4 * i + 4];
						f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
					});
					Tensor::from_vec(values, (cols, rows), &Device::Cpu).and_then(|t| t.t())
				}
				_ => {
					let tensor = view
						.load(&Device::Cpu)
						.map_err(|e| invalid(without_backtrace(e).to_string()))?;
					if !tensor.dtype().is_float() {
						continue;
					}
					tensor.to_dtype(DType::F32).and_then(|t| {
						if is_projection(&name, t.rank()) {
							column_major(&t)
						} else {
							Ok(t)
						}
					})
				}
			};
			tensors.insert(name, tensor.and_then(|t| t.to_device(device)).map_err(candle_error)?);
		}
		Ok(Weights { tensors })
	}

	/// Whether the checkpoint holds `name`.
	pub fn contains(&self, name: &str) -> bool {
		self.tensors.contains_key(name)
	}

	/// The shape of tensor `name`, if the checkpoint holds it.
	pub fn dims(&self, name: &str) -> Option<&[usize]> {
		self.tensors.get(name).map(Tensor::dims)
	}

	/// Makes `alias` name the tensor `name` (no copy) where the checkpoint lacks `alias`.
	pub fn alias(&mut self, alias: &str, name: &str) {
		if !self.tensors.contains_key(alias) {
			if let Some(tensor) = self.tensors.get(name).cloned() {
				self.tensors.insert(alias.to_string(), tensor);
			}
		}
	}

	/// A var builder over the tensors (f32 on `device`).
	pub fn into_var_builder(self, device: &Device) -> VarBuilder<'static> {
		VarBuilder::from_tensors(self.tensors, DType::F32, device)
	}
}

/// Whether `name` is the weight of a linear layer: 2-D, and not a table of embeddings (which
/// are looked up by row, so stay row-major).
fn is_projection(name: &str, rank: usize) -> bool {
	rank == 2 && name.ends_with("weight") && !name.contains("embedding")
}

/// The same [out, in] matrix with column-major strides: candle's `Linear` multiplies by
/// `weightᵀ`, which is then a row-major [in, out] matrix, and the matrix product of a few
/// tokens runs 1.4–1.9× faster against it than against the transposed view of a row-major
/// weight (BERT-base in the `seed_families` bench). Same values; only the layout changes.
fn column_major(weight: &Tensor) -> candle_core::Result<Tensor> {
	let (rows, cols) = weight.dims2()?;
	let values = weight.to_device(&Device::Cpu)?.flatten_all()?.to_vec1::<f32>()?;
	Tensor::from_vec(transpose(rows, cols, |i| values[i]), (cols, rows), &Device::Cpu)?.t()
}

/// The [rows, cols] row-major matrix whose element `i` is `at(i)`, transposed: [cols, rows]
/// row-major. In cache-sized blocks, writing each output row in order.
fn transpose(rows: usize, cols: usize, at: impl Fn(usize) -> f32) -> Vec<f32> {
	const BLOCK: usize = 32;
	let mut out = vec![0f32; rows * cols];
	for c0 in (0..cols).step_by(BLOCK) {
		for r0 in (0..rows).step_by(BLOCK) {
			for c in c0..(c0 + BLOCK).min(cols) {
				let end = (r0 + BLOCK).min(rows);
				for (r, value) in (r0..end).zip(&mut out[c * rows + r0..c * rows + end]) {
					*value = at(r * cols + c);
				}
			}
		}
	}
	out
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_projection_keeps_its_values_in_column_major_layout() {
		// 37 × 70: not a multiple of the block, so partial blocks are covered.
		let values: Vec<f32> = (0..37 * 70).map(|i| i as f32 * 0.5).collect();
		let weight = Tensor::from_vec(values.clone(), (37, 70), &Device::Cpu).unwrap();
		let laid_out = column_major(&weight).unwrap();
		assert_eq!(laid_out.dims(), [37, 70]);
		assert_eq!(laid_out.stride(), [1, 37], "column-major");
		assert!(laid_out.t().unwrap().is_contiguous(), "its transpose is row-major");
		assert_eq!(laid_out.flatten_all().unwrap().to_vec1::<f32>().unwrap(), values);
		assert!(is_projection("encoder.layer.0.attention.self.query.weight", 2));
		assert!(!is_projection("embeddings.word_embeddings.weight", 2));
		assert!(!is_projection("encoder.layer.0.attention.self.query.bias", 1));
	}

	#[test]
	fn weights_read_from_the_file_equal_candles_reading_in_every_dtype() {
		let values: Vec<f32> = (0..6 * 5).map(|i| i as f32 - 7.25).collect();
		let matrix = Tensor::from_vec(values.clone(), (6, 5), &Device::Cpu).unwrap();
		let stored: HashMap<String, Tensor> = [
			("layer.dense.weight".to_string(), matrix.clone()),
			("layer.half.weight".to_string(), matrix.to_dtype(DType::F16).unwrap()),
			("embeddings.word_embeddings.weight".to_string(), matrix.clone()),
			("layer.dense.bias".to_string(), matrix.get(0).unwrap()),
			("position_ids".to_string(), Tensor::arange(0i64, 4, &Device::Cpu).unwrap()),
		]
		.into();
		let path = std::env::temp_dir().join(format!("citrate-weights-{}.st", std::process::id()));
		candle_core::safetensors::save(&stored, &path).unwrap();
		let bytes = std::fs::read(&path).unwrap();
		let _ = std::fs::remove_file(&path);
		let weights = Weights::load(&bytes, &Device::Cpu, &Limits::default()).unwrap();
		assert!(!weights.contains("position_ids"), "integer buffers are left out");
		for name in ["layer.dense.weight", "layer.half.weight", "embeddings.word_embeddings.weight"]
		{
			let tensor = &weights.tensors[name];
			assert_eq!(tensor.dims(), [6, 5], "{name}");
			assert_eq!(tensor.flatten_all().unwrap().to_vec1::<f32>().unwrap(), values, "{name}");
			let column_major = !name.contains("embedding");
			assert_eq!(tensor.stride() == [1, 6], column_major, "{name}: {:?}", tensor.stride());
		}
		assert_eq!(weights.tensors["layer.dense.bias"].to_vec1::<f32>().unwrap(), values[..5]);
	}
}
