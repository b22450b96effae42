//! CLIP (`openai/clip-vit-base-patch32` and checkpoints of its architecture, Hugging Face's
//! `CLIPModel`) from safetensors + `config.json` + `tokenizer.json` +
//! `preprocessor_config.json`: image and text embeddings in the shared projection space, and
//! zero-shot image classification over labels the caller names.
//!
//! ## Loading
//! - `model.safetensors` is checked and read once into f32 tensors ([`Weights`]); the text
//!   tower is `text_model.*`, the vision tower `vision_model.*`, the projections
//!   `text_projection.weight` and `visual_projection.weight` (no bias), and `logit_scale` a
//!   scalar (when a checkpoint lacks it, `config.json`'s `logit_scale_init_value`). Every
//!   weight's shape must be what `config.json` says; `vision_model.embeddings.class_embedding`
//!   must be present (candle would otherwise draw it at random).
//! - `config.json` is Hugging Face's `CLIPConfig`: `text_config` and `vision_config` (overlaid
//!   by `text_config_dict` / `vision_config_dict` where old files carry them, as transformers
//!   does), fields they omit taking transformers' CLIP defaults (the ViT-B/32 sizes),
//!   top-level `projection_dim` and `logit_scale_init_value`. Sizes are bounded, the
//!   activation must be `quick_gelu` and `layer_norm_eps` 1e-5 (what candle's CLIP computes),
//!   images must have 3 channels, and `model_type`, when given, must be `clip`.
//! - `tokenizer.json`: texts are truncated to `max_position_embeddings` tokens keeping the
//!   end-of-text token last (the tokenizer's truncation makes room for its special tokens) and
//!   padded per batch with that token, as CLIP's tokenizer pads. Its ids must fit the
//!   vocabulary.
//! - `preprocessor_config.json` ([`ImagePreprocessing::resolve`]) for an f32 NCHW
//!   `[1, 3, image_size, image_size]` input: CLIP's shortest-edge bicubic resize, centre crop
//!   and normalisation, refused if it does not give `image_size` pixels a side.
//!
//! ## Running
//! Each call estimates its FLOPs from the architecture ([`ClipModel::estimate_image`],
//! [`ClipModel::estimate_texts`]), charges them (`crate::cost::charge`) and refuses requests
//! over `max_flops` before running either tower.
//! - [`ClipModel::embed_image`]: decode ([`image::decode`], its size limits), preprocess, the
//!   vision tower (class token after `post_layernorm`), `visual_projection`, scaled to unit
//!   length.
//! - [`ClipModel::embed_texts`]: 1 to [`MAX_TEXTS`] texts in one padded batch through the text
//!   tower, pooled (below), `text_projection`, unit length.
//! - [`ClipModel::classify`]: each label put into the template (every `{}`), the texts
//!   embedded as one batch and the image once; the scores are
//!   `softmax(exp(logit_scale) · cos(image, text))` over the labels, all labels best first.
//!
//! ## Text pooling
//! CLIP's text embedding is the final-layer-normed hidden state at the end-of-text token.
//! candle's `Module::forward` for the text tower pools at `argmax(input_ids)`, which is that
//! token only while it is the highest id and occurs once; padding with it (as CLIP's
//! tokenizer does) puts several in a row, and candle's argmax need not pick the first. So the
//! tower runs with `forward_with_mask(ids, usize::MAX)` (causal mask only) and each row is
//! pooled at the FIRST occurrence of the end-of-text id, as transformers does for configs with
//! a real `eos_token_id`. The causal mask means no token up to that one sees the padding after
//! it, so a text's embedding does not depend on what it is batched with. The end-of-text id
//! is `text_config.eos_token_id` when it is within the vocabulary and is the token the
//! tokenizer ends texts with; otherwise (old configs say 2, a placeholder transformers also
//! ignores) the tokenizer's `<|endoftext|>`. A text that itself contains `<|endoftext|>` is
//! pooled there, as in transformers.

use super::{candle_error, weights::Weights, without_backtrace};
use crate::{
	codec::{DType, Dim, TensorSpec},
	cost::Estimate,
	pipelines::{
		image,
		preprocess::{ImagePreprocessing, PREPROCESSOR_CONFIG},
		softmax,
		text::{read_tokenizer, MAX_TEXTS},
		top_k, Output,
	},
	Error, Limits, Result,
};
use candle_core::{Device, Tensor as CandleTensor};
use candle_nn::{Linear, Module};
use candle_transformers::models::clip::{
	text_model::ClipTextTransformer, vision_model::ClipVisionTransformer,
};
use serde_json::Value;
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer};

mod config;

use config::END_OF_TEXT;
pub use config::{Config, TextConfig, VisionConfig};

/// A loaded CLIP checkpoint, its tokenizer and its image preprocessing.
pub struct ClipModel {
	text_model: ClipTextTransformer,
	vision_model: ClipVisionTransformer,
	text_projection: Linear,
	visual_projection: Linear,
	/// The natural log of the temperature that multiplies cosines into logits.
	logit_scale: f32,
	config: Config,
	tokenizer: Tokenizer,
	/// The end-of-text id texts are pooled at (see the module docs).
	eos: u32,
	preprocessing: ImagePreprocessing,
	device: Device,
	weight_bytes: u64,
	limits: Limits,
}

/// Texts tokenized as one padded batch: ids row-major `[batch, sequence]`, and where each
/// row's end-of-text token first is.
struct Batch {
	ids: Vec<u32>,
	rows: usize,
	sequence: usize,
	pool_at: Vec<usize>,
}

impl ClipModel {
	/// Loads `model.safetensors` (any float dtype; computed in f32), `config.json`,
	/// `tokenizer.json` and `preprocessor_config.json`, checking each (module docs).
	pub fn load(
		safetensors: &[u8],
		config_json: &[u8],
		tokenizer_json: &[u8],
		preprocessor_json: &[u8],
		device: &Device,
		limits: &Limits,
	) -> Result<Self> {
		let config = Config::from_json(config_json)?;
		let (tokenizer, eos) = tokenizer(tokenizer_json, &config.text)?;
		let side = config.vision.image_size as u64;
		let spec = TensorSpec::new(
			"pixel_values",
			DType::F32,
			vec![Dim::Fixed(1), Dim::Fixed(3), Dim::Fixed(side), Dim::Fixed(side)],
		)
		.map_err(|e| Error::InvalidModel(format!("the image input: {e}")))?;
		let preprocessing = ImagePreprocessing::resolve(Some(preprocessor_json), None, &spec)?;
		let vb = Weights::load(safetensors, device, limits)?.into_var_builder(device);
		let mismatch = |e: candle_core::Error| {
			let e = without_backtrace(e);
			Error::InvalidModel(format!("model.safetensors: weights do not match config.json: {e}"))
		};
		let class_embedding = "vision_model.embeddings.class_embedding";
		if !vb.contains_tensor(class_embedding) {
			return Err(Error::InvalidModel(format!(
				"model.safetensors: no `{class_embedding}`; is this a CLIP checkpoint?"
			)));
		}
		let text_model =
			ClipTextTransformer::new(vb.pp("text_model"), &config.text()).map_err(mismatch)?;
		let vision_model = ClipVisionTransformer::new(vb.pp("vision_model"), &config.vision())
			.map_err(mismatch)?;
		let text_projection = candle_nn::linear_no_bias(
			config.text.hidden_size,
			config.projection_dim,
			vb.pp("text_projection"),
		)
		.map_err(mismatch)?;
		let visual_projection = candle_nn::linear_no_bias(
			config.vision.hidden_size,
			config.projection_dim,
			vb.pp("visual_projection"),
		)
		.map_err(mismatch)?;
		let logit_scale = if vb.contains_tensor("logit_scale") {
			let scale = vb.get((), "logit_scale").map_err(mismatch)?;
			scale.to_scalar::<f32>().map_err(candle_error)?
		} else {
			config.logit_scale_init_value as f32
		};
		// exp(logit_scale) must be a usable temperature: CLIP trains it to at most 100.
		if !logit_scale.is_finite() || logit_scale.abs() > 20.0 {
			return Err(Error::InvalidModel(format!(
				"model.safetensors: logit_scale {logit_scale} is not a usable log temperature"
			)));
		}
		let weight_bytes = 4 * config.parameters();
		Ok(ClipModel {
			text_model,
			vision_model,
			text_projection,
			visual_projection,
			logit_scale,
			config,
			tokenizer,
			eos,
			preprocessing,
			device: device.clone(),
			weight_bytes,
			limits: limits.clone(),
		})
	}

	/// Bytes of weights held (f32).
	pub fn weight_bytes(&self) -> u64 {
		self.weight_bytes
	}

	/// The checkpoint's configuration.
	pub fn config(&self) -> &Config {
		&self.config
	}

	/// One unit-length image embedding in the projection space: `Output::Embeddings` with one
	/// row of `projection_dim` values.
	pub fn embed_image(&self, image: &[u8]) -> Result<Output> {
		let pixels = self.pixels(image)?;
		self.charge(self.estimate_image())?;
		let values = self.image_features(&pixels)?;
		Ok(Output::Embeddings { dims: self.config.projection_dim, values })
	}

	/// One unit-length text embedding per text (1 to [`MAX_TEXTS`] texts), in order.
	pub fn embed_texts(&self, texts: &[&str]) -> Result<Output> {
		if texts.is_empty() || texts.len() > MAX_TEXTS {
			return Err(Error::Pipeline(format!(
				"send 1 to {MAX_TEXTS} texts, not {}",
				texts.len()
			)));
		}
		let batch = self.tokenize(texts)?;
		self.charge(self.estimate_texts(batch.rows, batch.sequence))?;
		let values = self.text_features(&batch)?;
		Ok(Output::Embeddings { dims: self.config.projection_dim, values })
	}

	/// Zero-shot classification: each label put into `template` (every `{}` replaced), the
	/// scores `softmax(exp(logit_scale) · cos(image, text))` over the labels; one row of ALL
	/// labels, best first (`id` the label's index in `labels`, ties the lower first).
	pub fn classify(&self, image: &[u8], labels: &[String], template: &str) -> Result<Output> {
		if !template.contains("{}") {
			return Err(Error::Pipeline(format!(
				"the template {template:?} has no {{}} where the label goes"
			)));
		}
		if labels.is_empty() || labels.len() > MAX_TEXTS {
			return Err(Error::Pipeline(format!(
				"give 1 to {MAX_TEXTS} labels, not {}",
				labels.len()
			)));
		}
		let pixels = self.pixels(image)?;
		let texts: Vec<String> = labels.iter().map(|label| template.replace("{}", label)).collect();
		let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
		let batch = self.tokenize(&texts)?;
		let image_cost = self.estimate_image();
		let text_cost = self.estimate_texts(batch.rows, batch.sequence);
		self.charge(Estimate {
			flops: image_cost.flops.saturating_add(text_cost.flops),
			weight_bytes: self.weight_bytes,
			peak_activation_bytes: image_cost
				.peak_activation_bytes
				.max(text_cost.peak_activation_bytes),
		})?;
		let image = self.image_features(&pixels)?;
		let texts = self.text_features(&batch)?;
		let scale = self.logit_scale.exp();
		let logits: Vec<f32> = texts
			.chunks_exact(self.config.projection_dim)
			.map(|text| scale * text.iter().zip(&image).map(|(t, i)| t * i).sum::<f32>())
			.collect();
		Ok(Output::Labels(vec![top_k(&softmax(&logits), labels.len(), labels)]))
	}

	/// An image's cost: the patch convolution, per token and layer 2·(4·h² + 2·h·ff) in the
	/// projections and 4·positions·h in attention, and the projection; activations are the
	/// widest per-layer tensors (the MLP's and the attention scores) twice over.
	pub fn estimate_image(&self) -> Estimate {
		let v = &self.config.vision;
		let patches = (v.grid() * v.grid()) as u128;
		let kernel = (v.num_channels * v.patch_size * v.patch_size) as u128;
		let hidden = v.hidden_size as u128;
		let convolution = 2 * patches * kernel * hidden;
		let projection = 2 * hidden * self.config.projection_dim as u128;
		let tower = self.tower(
			1,
			v.positions(),
			v.hidden_size,
			v.intermediate_size,
			v.num_hidden_layers,
			v.num_attention_heads,
		);
		Estimate { flops: tower.flops + convolution + projection, ..tower }
	}

	/// `rows` texts of `sequence` tokens: the tower as for images, and the projection.
	pub fn estimate_texts(&self, rows: usize, sequence: usize) -> Estimate {
		let t = &self.config.text;
		let projection =
			2 * rows as u128 * t.hidden_size as u128 * self.config.projection_dim as u128;
		let tower = self.tower(
			rows,
			sequence,
			t.hidden_size,
			t.intermediate_size,
			t.num_hidden_layers,
			t.num_attention_heads,
		);
		Estimate { flops: tower.flops + projection, ..tower }
	}

	fn tower(
		&self,
		batch: usize,
		sequence: usize,
		hidden: usize,
		intermediate: usize,
		layers: usize,
		heads: usize,
	) -> Estimate {
		let (b, s, h, ff) = (batch as u128, sequence as u128, hidden as u128, intermediate as u128);
		let flops = layers as u128 * b * s * (2 * (4 * h * h + 2 * h * ff) + 4 * s * h);
		let widest = (b * s * ff).max(b * heads as u128 * s * s);
		let activations = 4 * (2 * widest + 4 * b * s * h);
		Estimate {
			flops,
			weight_bytes: self.weight_bytes,
			peak_activation_bytes: u64::try_from(activations).unwrap_or(u64::MAX),
		}
	}

	fn charge(&self, estimate: Estimate) -> Result<()> {
		crate::cost::charge(estimate);
		if estimate.flops > self.limits.max_flops {
			return Err(Error::TooManyFlops {
				flops: estimate.flops,
				limit: self.limits.max_flops,
			});
		}
		Ok(())
	}

	/// The image decoded and preprocessed: `[1, 3, image_size, image_size]` f32 values.
	fn pixels(&self, bytes: &[u8]) -> Result<Vec<f32>> {
		let image = image::decode(bytes)?;
		let tensor = self.preprocessing.tensor(&image, "pixel_values")?;
		tensor
			.to_f32()
			.ok_or_else(|| Error::Runtime(format!("{PREPROCESSOR_CONFIG}: pixels are not f32")))
	}

	/// Unit-length image embedding, `projection_dim` values.
	fn image_features(&self, pixels: &[f32]) -> Result<Vec<f32>> {
		let side = self.config.vision.image_size;
		let pixels = CandleTensor::from_slice(pixels, (1, 3, side, side), &self.device)
			.map_err(candle_error)?;
		let pooled = self.vision_model.forward(&pixels).map_err(candle_error)?;
		let features = self.visual_projection.forward(&pooled).map_err(candle_error)?;
		let values: Vec<f32> =
			features.flatten_all().and_then(|f| f.to_vec1()).map_err(candle_error)?;
		Ok(normalized(values, self.config.projection_dim))
	}

	/// Unit-length text embeddings, `projection_dim` values per row.
	fn text_features(&self, batch: &Batch) -> Result<Vec<f32>> {
		let (rows, sequence) = (batch.rows, batch.sequence);
		let ids = CandleTensor::from_slice(&batch.ids, (rows, sequence), &self.device)
			.map_err(candle_error)?;
		let hidden = self.text_model.forward_with_mask(&ids, usize::MAX).map_err(candle_error)?;
		let at: Vec<u32> = batch
			.pool_at
			.iter()
			.enumerate()
			.map(|(row, &at)| (row * sequence + at) as u32)
			.collect();
		let at = CandleTensor::from_vec(at, rows, &self.device).map_err(candle_error)?;
		let pooled = hidden
			.reshape((rows * sequence, self.config.text.hidden_size))
			.and_then(|h| h.index_select(&at, 0))
			.map_err(candle_error)?;
		let features = self.text_projection.forward(&pooled).map_err(candle_error)?;
		let values: Vec<f32> =
			features.flatten_all().and_then(|f| f.to_vec1()).map_err(candle_error)?;
		Ok(normalized(values, self.config.projection_dim))
	}

	/// Tokenizes `texts` as one batch, padded to the longest, each at most
	/// `max_position_embeddings` tokens.
	fn tokenize(&self, texts: &[&str]) -> Result<Batch> {
		let encodings = self
			.tokenizer
			.encode_batch(texts.to_vec(), true)
			.map_err(|e| Error::Pipeline(format!("tokenizing: {e}")))?;
		let sequence = encodings.iter().map(|e| e.get_ids().len()).max().unwrap_or(0);
		let (vocab, positions) =
			(self.config.text.vocab_size, self.config.text.max_position_embeddings);
		if sequence == 0 || sequence > positions {
			return Err(Error::Pipeline(format!(
				"the texts tokenize to {sequence} tokens; the model takes 1 to {positions}"
			)));
		}
		let mut batch = Batch { ids: vec![], rows: texts.len(), sequence, pool_at: vec![] };
		for encoding in &encodings {
			let ids = encoding.get_ids();
			if ids.len() != sequence || ids.iter().any(|&id| id as usize >= vocab) {
				return Err(Error::Pipeline(format!(
					"the tokenizer gave a row of {} tokens (the batch has {sequence}) or ids \
					 outside 0..{vocab}",
					ids.len()
				)));
			}
			let at = ids.iter().position(|&id| id == self.eos).ok_or_else(|| {
				Error::Pipeline(format!("a tokenized text has no end-of-text token {}", self.eos))
			})?;
			batch.pool_at.push(at);
			batch.ids.extend_from_slice(ids);
		}
		Ok(batch)
	}
}

/// Each `dims`-long row of `values` scaled to unit length.
fn normalized(mut values: Vec<f32>, dims: usize) -> Vec<f32> {
	for row in values.chunks_mut(dims.max(1)) {
		let norm = row.iter().map(|v| f64::from(*v) * f64::from(*v)).sum::<f64>().sqrt().max(1e-12);
		row.iter_mut().for_each(|v| *v = (f64::from(*v) / norm) as f32);
	}
	values
}

/// The tokenizer, truncating to the model's positions and padding with the end-of-text
/// token, and that token's id (see the module docs).
fn tokenizer(json: &[u8], text: &TextConfig) -> Result<(Tokenizer, u32)> {
	let mut tokenizer = read_tokenizer(json, text.max_position_embeddings)?;
	let largest = tokenizer.get_vocab(true).into_values().max().unwrap_or(0);
	if largest as usize >= text.vocab_size {
		return Err(Error::InvalidModel(format!(
			"tokenizer.json: has token id {largest}, but config.json's text_config.vocab_size is {}",
			text.vocab_size
		)));
	}
	let ends_with =
		tokenizer.encode("a", true).ok().and_then(|encoding| encoding.get_ids().last().copied());
	let configured = text
		.eos_token_id
		.as_ref()
		.and_then(Value::as_u64)
		.and_then(|id| u32::try_from(id).ok())
		.filter(|&id| (id as usize) < text.vocab_size);
	let named = tokenizer.token_to_id(END_OF_TEXT);
	let eos = [configured, named].into_iter().flatten().find(|&id| Some(id) == ends_with);
	let eos = eos.ok_or_else(|| {
		Error::InvalidModel(format!(
			"tokenizer.json: texts end with token {ends_with:?}, which is neither \
			 text_config.eos_token_id ({configured:?}) nor {END_OF_TEXT} ({named:?}); CLIP \
			 pools each text at its end-of-text token"
		))
	})?;
	let pad_token = tokenizer.id_to_token(eos).unwrap_or_else(|| END_OF_TEXT.to_string());
	tokenizer.with_padding(Some(PaddingParams {
		strategy: PaddingStrategy::BatchLongest,
		pad_id: eos,
		pad_token,
		..PaddingParams::default()
	}));
	Ok((tokenizer, eos))
}
