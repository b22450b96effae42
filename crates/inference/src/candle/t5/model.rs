//! T5's layers, as transformers' `modeling_t5.py` computes them, on candle's tensors: the
//! shared embedding, the encoder and decoder stacks, and the head.
//!
//! T5 has no biases and no absolute positions. Its layer norms are RMS norms (no mean, no
//! bias), attention scores are not scaled by `1/√d_kv` (T5's initialisation folds that in),
//! and each stack adds a relative-position bias, computed by its first layer's
//! `relative_attention_bias` table and shared by all its layers: bidirectional buckets in the
//! encoder, causal ones in the decoder (see [`relative_position_bucket`]). Cross-attention has
//! no position bias. With tied embeddings the decoder's output is scaled by `d_model^-0.5`
//! before the head, which is the embedding.
//!
//! The weights are immutable and shared; a request's decoding state (the encoder output's
//! cross-attention keys and values, and the self-attention cache) is a [`DecoderState`] of its
//! own.

use candle_core::{Device, Module, Result, Tensor, D};
use candle_nn::{embedding, linear_no_bias, Embedding, Linear, VarBuilder};
use serde::Deserialize;
use std::ops::Range;

/// The `config.json` fields T5 reads (Hugging Face's names).
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Config {
	pub vocab_size: usize,
	pub d_model: usize,
	pub d_kv: usize,
	pub d_ff: usize,
	/// Encoder layers (and decoder layers when `num_decoder_layers` is absent).
	pub num_layers: usize,
	#[serde(default)]
	pub num_decoder_layers: Option<usize>,
	pub num_heads: usize,
	pub relative_attention_num_buckets: usize,
	#[serde(default = "default_max_distance")]
	pub relative_attention_max_distance: usize,
	pub layer_norm_epsilon: f64,
	/// Parsed from `feed_forward_proj` before the rest (see [`FeedForwardProj::parse`]).
	#[serde(skip)]
	pub feed_forward_proj: FeedForwardProj,
	#[serde(default = "default_true")]
	pub tie_word_embeddings: bool,
	pub is_encoder_decoder: bool,
	pub pad_token_id: usize,
	pub eos_token_id: usize,
	#[serde(default)]
	pub decoder_start_token_id: Option<usize>,
}

fn default_max_distance() -> usize {
	128
}

fn default_true() -> bool {
	true
}

impl Config {
	/// Decoder layers: `num_decoder_layers`, else as many as the encoder's.
	pub fn decoder_layers(&self) -> usize {
		self.num_decoder_layers.unwrap_or(self.num_layers)
	}

	/// Query, key and value width: `num_heads × d_kv`.
	pub fn inner_dim(&self) -> usize {
		self.num_heads.saturating_mul(self.d_kv)
	}
}

/// The activation of the feed-forward block's first projection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Activation {
	#[default]
	Relu,
	/// The exact (erf) GeLU: transformers' `gelu`.
	Gelu,
	/// The tanh approximation: transformers' `gelu_new` (and `gelu_pytorch_tanh`).
	GeluNew,
	/// `silu` (also named `swish`).
	Silu,
}

impl Activation {
	fn forward(self, x: &Tensor) -> Result<Tensor> {
		match self {
			Activation::Relu => x.relu(),
			Activation::Gelu => x.gelu_erf(),
			Activation::GeluNew => x.gelu(),
			Activation::Silu => x.silu(),
		}
	}
}

/// `feed_forward_proj`: an activation, and whether the block is gated (`wi_0` through the
/// activation times `wi_1`) or not (`wi` through the activation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FeedForwardProj {
	pub gated: bool,
	pub activation: Activation,
}

impl FeedForwardProj {
	/// transformers' reading of `feed_forward_proj`: `ACT` or `gated-ACT`, where
	/// `gated-gelu` means `gelu_new` (kept so for old checkpoints). `None` for an activation
	/// not implemented here.
	pub fn parse(name: &str) -> Option<Self> {
		let (gated, activation) = match name.strip_prefix("gated-") {
			Some("gelu") => (true, "gelu_new"),
			Some(activation) => (true, activation),
			None => (false, name),
		};
		let activation = match activation {
			"relu" => Activation::Relu,
			"gelu" => Activation::Gelu,
			"gelu_new" | "gelu_pytorch_tanh" => Activation::GeluNew,
			"silu" | "swish" => Activation::Silu,
			_ => return None,
		};
		Some(FeedForwardProj { gated, activation })
	}
}

/// transformers' `T5Attention._relative_position_bucket` for one position: the bias-table row
/// for a key `relative_position` tokens after its query (negative: before it).
///
/// Bidirectional (the encoder): half the buckets for keys before the query and half for keys
/// after it. Causal (the decoder): every bucket for keys before the query; later keys (masked
/// anyway) share bucket 0. Within a direction, the first half of the buckets hold distances
/// `0..max_exact` one each; the rest cover `max_exact..max_distance` in logarithmically wider
/// ranges, and farther distances share the last bucket.
///
/// Always below `num_buckets` (or 0 when it is 0); equal to transformers' value when
/// `max_distance` exceeds `max_exact`, as the loader requires.
pub fn relative_position_bucket(
	relative_position: i64,
	bidirectional: bool,
	num_buckets: u32,
	max_distance: u32,
) -> u32 {
	let (buckets, offset, distance) = if bidirectional {
		let half = num_buckets / 2;
		let offset = if relative_position > 0 { half } else { 0 };
		(half, offset, relative_position.unsigned_abs())
	} else {
		(num_buckets, 0, relative_position.min(0).unsigned_abs())
	};
	let max_exact = buckets / 2;
	if distance < u64::from(max_exact) {
		return offset + distance as u32;
	}
	// As transformers: truncated towards zero, capped at the direction's last bucket. A float
	// cast saturates (and NaN, from max_exact 0, is 0).
	let log = (distance as f64 / f64::from(max_exact)).ln()
		/ (f64::from(max_distance) / f64::from(max_exact)).ln()
		* f64::from(buckets - max_exact);
	offset + max_exact.saturating_add(log as u32).min(buckets.saturating_sub(1))
}

/// `T5LayerNorm`: `x · rsqrt(mean(x²) + ε) · weight` (no mean subtracted, no bias).
struct RmsNorm {
	weight: Tensor,
	eps: f64,
}

impl RmsNorm {
	fn load(c: &Config, vb: VarBuilder) -> Result<Self> {
		Ok(RmsNorm { weight: vb.get(c.d_model, "weight")?, eps: c.layer_norm_epsilon })
	}

	fn forward(&self, x: &Tensor) -> Result<Tensor> {
		let variance = x.sqr()?.mean_keepdim(D::Minus1)?;
		x.broadcast_mul(&(variance + self.eps)?.sqrt()?.recip()?)?.broadcast_mul(&self.weight)
	}
}

/// `T5Attention` (`q`, `k`, `v`, `o`, no biases), without its bias table (see [`Stack`]).
struct Attention {
	q: Linear,
	k: Linear,
	v: Linear,
	o: Linear,
	heads: usize,
	d_kv: usize,
}

impl Attention {
	fn load(c: &Config, vb: VarBuilder) -> Result<Self> {
		let (d, inner) = (c.d_model, c.inner_dim());
		Ok(Attention {
			q: linear_no_bias(d, inner, vb.pp("q"))?,
			k: linear_no_bias(d, inner, vb.pp("k"))?,
			v: linear_no_bias(d, inner, vb.pp("v"))?,
			o: linear_no_bias(inner, d, vb.pp("o"))?,
			heads: c.num_heads,
			d_kv: c.d_kv,
		})
	}

	/// `[1, positions, inner]` → `[1, heads, positions, d_kv]`.
	fn split_heads(&self, x: &Tensor) -> Result<Tensor> {
		let (batch, positions, _) = x.dims3()?;
		x.reshape((batch, positions, self.heads, self.d_kv))?.transpose(1, 2)?.contiguous()
	}

	/// The keys and values of `x` (`[1, positions, d_model]`), split into heads.
	fn keys_values(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
		Ok((self.split_heads(&self.k.forward(x)?)?, self.split_heads(&self.v.forward(x)?)?))
	}

	/// `x`'s queries attend to `keys` and `values`, scores unscaled plus `bias`
	/// (`[1, heads, queries, keys]`, masks folded in).
	fn attend(
		&self,
		x: &Tensor,
		keys: &Tensor,
		values: &Tensor,
		bias: Option<&Tensor>,
	) -> Result<Tensor> {
		let (batch, queries, _) = x.dims3()?;
		let q = self.split_heads(&self.q.forward(x)?)?;
		let mut scores = q.matmul(&keys.t()?)?;
		if let Some(bias) = bias {
			scores = scores.broadcast_add(bias)?;
		}
		let weights = candle_nn::ops::softmax_last_dim(&scores)?;
		let output = weights.matmul(values)?.transpose(1, 2)?;
		self.o.forward(&output.reshape((batch, queries, self.heads * self.d_kv))?)
	}
}

/// `T5LayerFF`: a residual feed-forward block, `DenseReluDense` after a norm.
struct FeedForward {
	norm: RmsNorm,
	/// `wi`, or `wi_0` (through the activation) and `wi_1` when gated.
	wi: (Linear, Option<Linear>),
	wo: Linear,
	activation: Activation,
}

impl FeedForward {
	fn load(c: &Config, vb: VarBuilder) -> Result<Self> {
		let norm = RmsNorm::load(c, vb.pp("layer_norm"))?;
		let vb = vb.pp("DenseReluDense");
		let (d, ff) = (c.d_model, c.d_ff);
		let wi = if c.feed_forward_proj.gated {
			(linear_no_bias(d, ff, vb.pp("wi_0"))?, Some(linear_no_bias(d, ff, vb.pp("wi_1"))?))
		} else {
			(linear_no_bias(d, ff, vb.pp("wi"))?, None)
		};
		let wo = linear_no_bias(ff, d, vb.pp("wo"))?;
		Ok(FeedForward { norm, wi, wo, activation: c.feed_forward_proj.activation })
	}

	fn forward(&self, x: &Tensor) -> Result<Tensor> {
		let h = self.norm.forward(x)?;
		let mut hidden = self.activation.forward(&self.wi.0.forward(&h)?)?;
		if let Some(wi_1) = &self.wi.1 {
			hidden = (hidden * wi_1.forward(&h)?)?;
		}
		x + self.wo.forward(&hidden)?
	}
}

/// An encoder block (`layer.0` self-attention, `layer.1` feed-forward) or a decoder block
/// (`layer.0` self-attention, `layer.1` cross-attention, `layer.2` feed-forward).
struct Block {
	self_norm: RmsNorm,
	self_attention: Attention,
	/// `EncDecAttention` and its norm: decoder blocks only.
	cross: Option<(RmsNorm, Attention)>,
	feed_forward: FeedForward,
}

impl Block {
	fn load(c: &Config, decoder: bool, vb: VarBuilder) -> Result<Self> {
		let vb = vb.pp("layer");
		let self_norm = RmsNorm::load(c, vb.pp("0.layer_norm"))?;
		let self_attention = Attention::load(c, vb.pp("0.SelfAttention"))?;
		let cross = if decoder {
			let norm = RmsNorm::load(c, vb.pp("1.layer_norm"))?;
			Some((norm, Attention::load(c, vb.pp("1.EncDecAttention"))?))
		} else {
			None
		};
		let feed_forward = FeedForward::load(c, vb.pp(if decoder { "2" } else { "1" }))?;
		Ok(Block { self_norm, self_attention, cross, feed_forward })
	}

	/// One block over `x` (`[1, positions, d_model]`). `cache` holds the self-attention's
	/// earlier keys and values (decoder) and receives them with `x`'s appended; `cross` are the
	/// encoder output's keys and values for this block's cross-attention (decoder).
	fn forward(
		&self,
		x: &Tensor,
		bias: &Tensor,
		cache: Option<&mut Option<(Tensor, Tensor)>>,
		cross: Option<&(Tensor, Tensor)>,
	) -> Result<Tensor> {
		let h = self.self_norm.forward(x)?;
		let (mut keys, mut values) = self.self_attention.keys_values(&h)?;
		if let Some(cache) = cache {
			if let Some((past_keys, past_values)) = cache.as_ref() {
				keys = Tensor::cat(&[past_keys, &keys], 2)?;
				values = Tensor::cat(&[past_values, &values], 2)?;
			}
			*cache = Some((keys.clone(), values.clone()));
		}
		let mut x = (x + self.self_attention.attend(&h, &keys, &values, Some(bias))?)?;
		if let (Some((norm, attention)), Some((keys, values))) = (&self.cross, cross) {
			let h = norm.forward(&x)?;
			x = (&x + attention.attend(&h, keys, values, None)?)?;
		}
		self.feed_forward.forward(&x)
	}
}

/// An encoder or decoder stack: its blocks, the relative-position bias table of its first
/// block (shared by all), and its final norm.
struct Stack {
	blocks: Vec<Block>,
	bias_table: Embedding,
	final_norm: RmsNorm,
	/// Bidirectional buckets and no mask (encoder), or causal buckets and mask (decoder).
	bidirectional: bool,
	buckets: u32,
	max_distance: u32,
}

impl Stack {
	fn load(c: &Config, decoder: bool, vb: VarBuilder) -> Result<Self> {
		let layers = if decoder { c.decoder_layers() } else { c.num_layers };
		let blocks = (0..layers)
			.map(|i| Block::load(c, decoder, vb.pp(format!("block.{i}"))))
			.collect::<Result<Vec<_>>>()?;
		let bias_table = embedding(
			c.relative_attention_num_buckets,
			c.num_heads,
			vb.pp("block.0.layer.0.SelfAttention.relative_attention_bias"),
		)?;
		let final_norm = RmsNorm::load(c, vb.pp("final_layer_norm"))?;
		let bucket_count = |n: usize| {
			u32::try_from(n).map_err(|_| candle_core::Error::Msg(format!("{n} is too large")))
		};
		Ok(Stack {
			blocks,
			bias_table,
			final_norm,
			bidirectional: !decoder,
			buckets: bucket_count(c.relative_attention_num_buckets)?,
			max_distance: bucket_count(c.relative_attention_max_distance)?,
		})
	}

	/// The position bias (`[1, heads, queries, keys]`) of queries at `queries` over keys at
	/// `0..keys`; in the decoder, keys after their query are masked (`-∞`).
	fn position_bias(&self, queries: Range<usize>, keys: usize, device: &Device) -> Result<Tensor> {
		let rows = queries.len();
		// Some key after its query: the decoder over several new tokens.
		let masked = !self.bidirectional && keys > queries.start + 1;
		let mut buckets = Vec::with_capacity(rows * keys);
		let mut mask = Vec::with_capacity(if masked { rows * keys } else { 0 });
		for query in queries {
			for key in 0..keys {
				let relative = key as i64 - query as i64;
				buckets.push(relative_position_bucket(
					relative,
					self.bidirectional,
					self.buckets,
					self.max_distance,
				));
				if masked {
					mask.push(if relative > 0 { f32::NEG_INFINITY } else { 0.0 });
				}
			}
		}
		let buckets = Tensor::from_vec(buckets, (rows, keys), device)?;
		let bias = self.bias_table.forward(&buckets)?.permute((2, 0, 1))?.unsqueeze(0)?;
		if !masked {
			return Ok(bias);
		}
		bias.broadcast_add(&Tensor::from_vec(mask, (rows, keys), device)?)
	}
}

/// One request's decoding state: each decoder block's cross-attention keys and values of the
/// encoder output (computed once), its self-attention cache, and the tokens decoded so far.
/// A step that fails leaves it unusable.
pub struct DecoderState {
	cross: Vec<(Tensor, Tensor)>,
	cache: Vec<Option<(Tensor, Tensor)>>,
	positions: usize,
}

/// T5's weights (`T5ForConditionalGeneration`), shared by all requests.
pub struct T5 {
	shared: Embedding,
	encoder: Stack,
	decoder: Stack,
	/// `lm_head.weight`, or the shared embedding when tied.
	head: Linear,
	/// `d_model^-0.5` with tied embeddings (transformers' rescale), else 1.
	head_scale: f64,
	vocab_size: usize,
	device: Device,
}

impl T5 {
	/// Loads the weights `c` describes from `vb`, with their shapes checked: the embedding is
	/// `shared.weight` (`decoder.embed_tokens.weight` in files without it).
	pub fn load(vb: VarBuilder, c: &Config) -> Result<Self> {
		let shared = if vb.contains_tensor("shared.weight") {
			vb.pp("shared")
		} else {
			vb.pp("decoder.embed_tokens")
		};
		let shared = embedding(c.vocab_size, c.d_model, shared)?;
		let encoder = Stack::load(c, false, vb.pp("encoder"))?;
		let decoder = Stack::load(c, true, vb.pp("decoder"))?;
		let (head, head_scale) = if c.tie_word_embeddings {
			(Linear::new(shared.embeddings().clone(), None), (c.d_model as f64).powf(-0.5))
		} else {
			(linear_no_bias(c.d_model, c.vocab_size, vb.pp("lm_head"))?, 1.0)
		};
		Ok(T5 {
			shared,
			encoder,
			decoder,
			head,
			head_scale,
			vocab_size: c.vocab_size,
			device: vb.device().clone(),
		})
	}

	/// `ids` as `[1, tokens]`, refused when empty or past the embedding.
	fn ids(&self, ids: &[u32]) -> Result<Tensor> {
		if ids.is_empty() {
			candle_core::bail!("no tokens");
		}
		if let Some(id) = ids.iter().find(|&&id| id as usize >= self.vocab_size) {
			candle_core::bail!("token id {id} is outside the vocabulary of {}", self.vocab_size);
		}
		Tensor::new(ids, &self.device)?.unsqueeze(0)
	}

	/// The encoder's output for `ids`: `[1, tokens, d_model]`, after its final norm.
	pub fn encode(&self, ids: &[u32]) -> Result<Tensor> {
		let mut x = self.shared.forward(&self.ids(ids)?)?;
		let bias = self.encoder.position_bias(0..ids.len(), ids.len(), &self.device)?;
		for block in &self.encoder.blocks {
			x = block.forward(&x, &bias, None, None)?;
		}
		self.encoder.final_norm.forward(&x)
	}

	/// A decoding state for the encoder output `encoded`: each block's cross-attention keys
	/// and values, computed here once.
	pub fn start(&self, encoded: &Tensor) -> Result<DecoderState> {
		let cross = self
			.decoder
			.blocks
			.iter()
			.filter_map(|block| block.cross.as_ref())
			.map(|(_, attention)| attention.keys_values(encoded))
			.collect::<Result<Vec<_>>>()?;
		Ok(DecoderState { cross, cache: vec![None; self.decoder.blocks.len()], positions: 0 })
	}

	/// Feeds `tokens` (the decoder inputs after those `state` holds) and returns the logits
	/// after the last of them, f32 `[vocab]`.
	pub fn decode(&self, state: &mut DecoderState, tokens: &[u32]) -> Result<Tensor> {
		let ids = self.ids(tokens)?;
		let (past, count) = (state.positions, tokens.len());
		let mut x = self.shared.forward(&ids)?;
		let bias = self.decoder.position_bias(past..past + count, past + count, &self.device)?;
		let layers = state.cache.iter_mut().zip(&state.cross);
		for (block, (cache, cross)) in self.decoder.blocks.iter().zip(layers) {
			x = block.forward(&x, &bias, Some(cache), Some(cross))?;
		}
		state.positions += count;
		let last = self.decoder.final_norm.forward(&x)?.narrow(1, count - 1, 1)?.squeeze(1)?;
		self.head.forward(&(last * self.head_scale)?)?.squeeze(0)
	}
}
