//! BERT-family encoders (BERT, MiniLM, …) from HF safetensors + `config.json`.

use super::{candle_error, check_safetensors};
use crate::{
	codec::{DType, Tensor},
	cost::Estimate,
	Error, Limits, Result,
};
use candle_core::{Device, Tensor as CandleTensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};

/// A loaded BERT encoder: `input_ids`, `attention_mask`, `token_type_ids` (i64 [batch, seq])
/// in, `last_hidden_state` (f32 [batch, seq, hidden]) out.
pub struct BertEncoder {
	model: BertModel,
	config: Config,
	device: Device,
	weight_bytes: u64,
	limits: Limits,
}

impl BertEncoder {
	/// Loads weights (safetensors, any float dtype; computed in f32) and `config.json`.
	pub fn load(
		safetensors: &[u8],
		config_json: &[u8],
		device: &Device,
		limits: &Limits,
	) -> Result<Self> {
		check_safetensors(safetensors, limits).map_err(|e| e.in_file("model.safetensors"))?;
		let config: Config = serde_json::from_slice(config_json)
			.map_err(|e| Error::InvalidModel(format!("config.json: not a BERT config: {e}")))?;
		let sane = config.hidden_size > 0
			&& config.hidden_size <= 8192
			&& config.num_attention_heads > 0
			&& config.hidden_size.is_multiple_of(config.num_attention_heads)
			&& config.num_hidden_layers <= 128
			&& config.intermediate_size <= 65536;
		if !sane {
			return Err(Error::InvalidModel(format!(
				"config.json: implausible BERT config: {config:?}"
			)));
		}
		let vb = VarBuilder::from_slice_safetensors(safetensors, candle_core::DType::F32, device)
			.map_err(candle_error)?;
		let model = BertModel::load(vb, &config).map_err(|e| {
			Error::InvalidModel(format!("model.safetensors: weights do not match config.json: {e}"))
		})?;
		let weight_bytes = 4 * parameters(&config);
		Ok(BertEncoder {
			model,
			config,
			device: device.clone(),
			weight_bytes,
			limits: limits.clone(),
		})
	}

	/// Bytes of weights held (f32).
	pub fn weight_bytes(&self) -> u64 {
		self.weight_bytes
	}

	/// Runs the encoder on token tensors (as `pipelines::text::encode_texts` makes them).
	pub fn run(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
		let find = |name: &str| {
			inputs
				.iter()
				.find(|t| t.name == name)
				.ok_or_else(|| Error::MissingInput(name.to_string()))
		};
		let ids = find("input_ids")?;
		if ids.shape.len() != 2 || ids.dtype != DType::I64 {
			return Err(Error::InputShape {
				name: "input_ids".into(),
				expected: "I64[batch, sequence]".into(),
				actual: ids.shape.clone(),
			});
		}
		let (batch, sequence) = (ids.shape[0] as usize, ids.shape[1] as usize);
		if sequence > self.config.max_position_embeddings {
			return Err(Error::InputShape {
				name: "input_ids".into(),
				expected: format!("at most {} tokens", self.config.max_position_embeddings),
				actual: ids.shape.clone(),
			});
		}
		let estimate = self.estimate(batch, sequence);
		crate::cost::charge(estimate);
		if estimate.flops > self.limits.max_flops {
			return Err(Error::TooManyFlops {
				flops: estimate.flops,
				limit: self.limits.max_flops,
			});
		}
		let tensor = |t: &Tensor, vocab: usize| -> Result<CandleTensor> {
			if t.dtype != DType::I64 || t.shape != ids.shape {
				return Err(Error::InputShape {
					name: t.name.clone(),
					expected: format!("I64{:?} like input_ids", ids.shape),
					actual: t.shape.clone(),
				});
			}
			let values: Vec<i64> = t
				.data
				.chunks_exact(8)
				.map(|c| i64::from_le_bytes(c.try_into().unwrap_or_default()))
				.collect();
			if values.iter().any(|&v| v < 0 || v as usize >= vocab) {
				return Err(Error::Pipeline(format!("`{}` holds ids outside 0..{vocab}", t.name)));
			}
			CandleTensor::from_vec(values, (batch, sequence), &self.device).map_err(candle_error)
		};
		let input_ids = tensor(ids, self.config.vocab_size)?;
		let mask = tensor(find("attention_mask")?, 2)?;
		let types = match inputs.iter().find(|t| t.name == "token_type_ids") {
			Some(t) => tensor(t, self.config.type_vocab_size)?,
			None => input_ids.zeros_like().map_err(candle_error)?,
		};
		let hidden = self.model.forward(&input_ids, &types, Some(&mask)).map_err(candle_error)?;
		let values: Vec<f32> =
			hidden.flatten_all().and_then(|h| h.to_vec1()).map_err(candle_error)?;
		let shape = vec![batch as u32, sequence as u32, self.config.hidden_size as u32];
		Ok(vec![Tensor::from_f32("last_hidden_state", shape, &values)?])
	}

	/// FLOPs and memory from the architecture: per token and layer, 2·(4·h² + 2·h·ff) in the
	/// projections and 4·sequence·h in attention; activations are the widest per-layer
	/// tensors (the FFN's [batch, seq, ff] and the scores [batch, heads, seq, seq]) twice over.
	pub fn estimate(&self, batch: usize, sequence: usize) -> Estimate {
		let c = &self.config;
		let (b, s, h, ff) =
			(batch as u128, sequence as u128, c.hidden_size as u128, c.intermediate_size as u128);
		let layers = c.num_hidden_layers as u128;
		let flops = layers * b * s * (2 * (4 * h * h + 2 * h * ff) + 4 * s * h);
		let widest = (b * s * ff).max(b * c.num_attention_heads as u128 * s * s);
		let activations = 4 * (2 * widest + 4 * b * s * h);
		Estimate {
			flops,
			weight_bytes: self.weight_bytes,
			peak_activation_bytes: u64::try_from(activations).unwrap_or(u64::MAX),
		}
	}
}

/// Parameters of a BERT encoder (embeddings, layers, no pooler).
fn parameters(c: &Config) -> u64 {
	let (h, ff) = (c.hidden_size as u64, c.intermediate_size as u64);
	let embeddings =
		(c.vocab_size + c.max_position_embeddings + c.type_vocab_size) as u64 * h + 2 * h;
	let layer = 4 * (h * h + h) + (h * ff + ff) + (ff * h + h) + 4 * h;
	embeddings + c.num_hidden_layers as u64 * layer
}
