//! BERT-family encoders (BERT, MiniLM, …) from Hugging Face safetensors + `config.json`, bare
//! (sentence embeddings) or with the head of `BertForMaskedLM` (fill-mask) or
//! `BertForSequenceClassification` (text classification).
//!
//! Weights are read once into f32 tensors ([`Weights`]). Checkpoints name the body's tensors
//! with or without the `bert.` prefix, and LayerNorms `weight`/`bias` or (2018 checkpoints such
//! as `bert-base-uncased`) `gamma`/`beta`; candle's layers accept both. The masked-LM decoder
//! is tied to the word embeddings, so checkpoints store no `cls.predictions.decoder.weight`
//! (and its bias is `cls.predictions.bias`): those names are aliases of the tensors that are
//! stored, held once. Vocabulary logits are computed only at the masked positions.

use super::{candle_error, weights::Weights};
use crate::{
	codec::{DType, Tensor},
	cost::Estimate,
	Error, Limits, Result,
};
use candle_core::{Device, IndexOp, Module, Tensor as CandleTensor};
use candle_nn::{Linear, VarBuilder};
use candle_transformers::models::bert::{BertModel, BertOnlyMLMHead, Config};

/// `config.json` as a BERT config, refused when implausible.
fn read_config(config_json: &[u8]) -> Result<Config> {
	let config: Config = serde_json::from_slice(config_json)
		.map_err(|e| Error::InvalidModel(format!("config.json: not a BERT config: {e}")))?;
	let sane = config.hidden_size > 0
		&& config.hidden_size <= 8192
		&& config.num_attention_heads > 0
		&& config.hidden_size.is_multiple_of(config.num_attention_heads)
		&& config.num_hidden_layers <= 128
		&& config.intermediate_size <= 65536
		&& config.vocab_size > 0
		&& config.vocab_size <= 1 << 20;
	if !sane {
		return Err(Error::InvalidModel(format!(
			"config.json: implausible BERT config: {config:?}"
		)));
	}
	Ok(config)
}

fn mismatch(error: candle_core::Error) -> Error {
	Error::InvalidModel(format!("model.safetensors: weights do not match config.json: {error}"))
}

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
		let config = read_config(config_json)?;
		let weights = Weights::load(safetensors, device, limits)?;
		Self::from_var_builder(weights.into_var_builder(device), config, device, limits)
	}

	fn from_var_builder(
		vb: VarBuilder,
		config: Config,
		device: &Device,
		limits: &Limits,
	) -> Result<Self> {
		let model = BertModel::load(vb, &config).map_err(mismatch)?;
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
		let (hidden, batch, sequence) = self.hidden(inputs, 0)?;
		let values: Vec<f32> =
			hidden.flatten_all().and_then(|h| h.to_vec1()).map_err(candle_error)?;
		let shape = vec![batch as u32, sequence as u32, self.config.hidden_size as u32];
		Ok(vec![Tensor::from_f32("last_hidden_state", shape, &values)?])
	}

	/// The last hidden state [batch, sequence, hidden] for token tensors, charging the
	/// encoder's cost plus `head_flops`.
	fn hidden(&self, inputs: &[Tensor], head_flops: u128) -> Result<(CandleTensor, usize, usize)> {
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
		let mut estimate = self.estimate(batch, sequence);
		estimate.flops = estimate.flops.saturating_add(head_flops);
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
			let values = t.to_i64().unwrap_or_default();
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
		Ok((hidden, batch, sequence))
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

/// `BertForMaskedLM`: the encoder and its vocabulary head, for fill-mask.
pub struct BertMaskedLm {
	encoder: BertEncoder,
	head: BertOnlyMLMHead,
	weight_bytes: u64,
}

impl BertMaskedLm {
	/// Loads a `BertForMaskedLM` (or `BertForPreTraining`) checkpoint; the decoder is the word
	/// embeddings where the file does not store it.
	pub fn load(
		safetensors: &[u8],
		config_json: &[u8],
		device: &Device,
		limits: &Limits,
	) -> Result<Self> {
		let config = read_config(config_json)?;
		let mut weights = Weights::load(safetensors, device, limits)?;
		let prefix =
			if weights.contains("bert.embeddings.word_embeddings.weight") { "bert." } else { "" };
		weights.alias(
			"cls.predictions.decoder.weight",
			&format!("{prefix}embeddings.word_embeddings.weight"),
		);
		weights.alias("cls.predictions.decoder.bias", "cls.predictions.bias");
		if !weights.contains("cls.predictions.decoder.bias") {
			return Err(Error::InvalidModel(
				"model.safetensors: no masked-LM head (`cls.predictions.*`): not a \
				 BertForMaskedLM checkpoint"
					.into(),
			));
		}
		let vb = weights.into_var_builder(device);
		let head = BertOnlyMLMHead::load(vb.pp("cls"), &config).map_err(mismatch)?;
		let h = config.hidden_size as u64;
		let weight_bytes = 4 * (h * h + 3 * h + config.vocab_size as u64);
		let encoder = BertEncoder::from_var_builder(vb, config, device, limits)?;
		Ok(BertMaskedLm { weight_bytes: encoder.weight_bytes + weight_bytes, encoder, head })
	}

	/// Bytes of weights held (f32; the tied decoder counted once).
	pub fn weight_bytes(&self) -> u64 {
		self.weight_bytes
	}

	/// Size of the vocabulary the logits range over.
	pub fn vocab_size(&self) -> usize {
		self.encoder.config.vocab_size
	}

	/// Logits over the vocabulary at each of `positions` (row, token) of the batch.
	pub fn logits_at(
		&self,
		inputs: &[Tensor],
		positions: &[(usize, usize)],
	) -> Result<Vec<Vec<f32>>> {
		let (h, vocab) = (self.encoder.config.hidden_size as u128, self.vocab_size() as u128);
		let head_flops = positions.len() as u128 * 2 * (h * h + h * vocab);
		let (hidden, batch, sequence) = self.encoder.hidden(inputs, head_flops)?;
		let rows: Vec<u32> = positions
			.iter()
			.filter(|&&(row, token)| row < batch && token < sequence)
			.map(|&(row, token)| (row * sequence + token) as u32)
			.collect();
		if rows.len() != positions.len() {
			return Err(Error::Pipeline("a masked position lies outside the batch".into()));
		}
		let rows = CandleTensor::new(rows, &self.encoder.device).map_err(candle_error)?;
		hidden
			.reshape((batch * sequence, self.encoder.config.hidden_size))
			.and_then(|flat| flat.index_select(&rows, 0))
			.and_then(|picked| self.head.forward(&picked))
			.and_then(|logits| logits.to_vec2())
			.map_err(candle_error)
	}
}

/// `BertForSequenceClassification`: the encoder, its pooler (tanh of a dense layer on the
/// first token) and a linear classifier; `logits` f32 [batch, classes] out.
pub struct BertClassifier {
	encoder: BertEncoder,
	pooler: Linear,
	classifier: Linear,
	classes: usize,
}

impl BertClassifier {
	/// Loads a `BertForSequenceClassification` checkpoint; the classes are the rows of
	/// `classifier.weight`.
	pub fn load(
		safetensors: &[u8],
		config_json: &[u8],
		device: &Device,
		limits: &Limits,
	) -> Result<Self> {
		let config = read_config(config_json)?;
		let weights = Weights::load(safetensors, device, limits)?;
		let classes = match weights.dims("classifier.weight") {
			Some(&[classes, _]) if classes > 0 => classes,
			_ => {
				return Err(Error::InvalidModel(
					"model.safetensors: no `classifier.weight` [classes, hidden]: not a \
					 BertForSequenceClassification checkpoint"
						.into(),
				))
			}
		};
		let prefix = if weights.contains("bert.pooler.dense.weight") { "bert." } else { "" };
		let vb = weights.into_var_builder(device);
		let h = config.hidden_size;
		let pooler =
			candle_nn::linear(h, h, vb.pp(format!("{prefix}pooler.dense"))).map_err(mismatch)?;
		let classifier = candle_nn::linear(h, classes, vb.pp("classifier")).map_err(mismatch)?;
		let encoder = BertEncoder::from_var_builder(vb, config, device, limits)?;
		Ok(BertClassifier { encoder, pooler, classifier, classes })
	}

	/// Number of classes.
	pub fn classes(&self) -> usize {
		self.classes
	}

	/// Bytes of weights held (f32).
	pub fn weight_bytes(&self) -> u64 {
		let (h, c) = (self.encoder.config.hidden_size as u64, self.classes as u64);
		self.encoder.weight_bytes + 4 * (h * h + h + c * h + c)
	}

	/// Class logits for token tensors: `logits` f32 [batch, classes].
	pub fn run(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
		let (h, c) = (self.encoder.config.hidden_size as u128, self.classes as u128);
		let (hidden, batch, _) = self.encoder.hidden(inputs, 2 * h * (h + c))?;
		let logits = hidden
			.i((.., 0))
			.and_then(|first| self.pooler.forward(&first))
			.and_then(|pooled| pooled.tanh())
			.and_then(|pooled| self.classifier.forward(&pooled))
			.and_then(|logits| logits.flatten_all())
			.and_then(|logits| logits.to_vec1::<f32>())
			.map_err(candle_error)?;
		Ok(vec![Tensor::from_f32("logits", vec![batch as u32, self.classes as u32], &logits)?])
	}
}
