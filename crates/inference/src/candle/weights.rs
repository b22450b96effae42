//! A safetensors file read once into f32 tensors by name, for architectures whose parts share
//! a tensor: BERT's masked-LM decoder is its word embeddings, and checkpoints that tie them
//! store only one. An alias names the same tensor again, so it is held once, and candle's
//! layers load from the map through a [`VarBuilder`] (shapes still checked there).

use super::{candle_error, check_safetensors};
use crate::{Error, Limits, Result};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
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
		let stored = candle_core::safetensors::load_buffer(safetensors, &Device::Cpu)
			.map_err(|e| Error::InvalidModel(format!("model.safetensors: {e}")))?;
		let mut tensors = HashMap::with_capacity(stored.len());
		for (name, tensor) in stored {
			if tensor.dtype().is_float() {
				let tensor = tensor.to_dtype(DType::F32).and_then(|t| t.to_device(device));
				tensors.insert(name, tensor.map_err(candle_error)?);
			}
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
