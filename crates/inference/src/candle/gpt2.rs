//! GPT-2 (and checkpoints of its architecture: DistilGPT2, GPT-2 medium/large/XL) from Hugging
//! Face safetensors + `config.json` + `tokenizer.json`: text generation, greedy or seeded
//! sampling, with a key/value cache.
//!
//! The Hub's files name tensors without a prefix (`h.0.attn.c_attn.weight`); checkpoints saved
//! from `GPT2LMHeadModel` by recent transformers prefix them `transformer.` and may carry an
//! `lm_head.weight`, else the head is the token embedding (tied). GPT-2's linear layers are
//! `Conv1D`: weights `[in, out]`, used as they are (no copy). Activations are `gelu_new` (the
//! tanh approximation); layer norms use `layer_norm_epsilon`.

use super::{
	candle_error, check_safetensors,
	generation::{charge_generation, check_params, generate, Decoder},
};
use crate::{
	pipelines::{GenerationParams, Output},
	Error, Limits, Result,
};
use candle_core::{DType, Device, Tensor as CandleTensor, D};
use candle_nn::{Embedding, LayerNorm, Module, VarBuilder};
use serde::Deserialize;
use tokenizers::Tokenizer;

/// The `config.json` fields GPT-2 reads (Hugging Face's names).
#[derive(Clone, Debug, Deserialize)]
pub struct Config {
	pub vocab_size: usize,
	pub n_positions: usize,
	pub n_embd: usize,
	pub n_layer: usize,
	pub n_head: usize,
	/// Width of the MLP; 4 × `n_embd` when null.
	#[serde(default)]
	pub n_inner: Option<usize>,
	#[serde(default = "default_epsilon")]
	pub layer_norm_epsilon: f64,
	#[serde(default = "default_activation")]
	pub activation_function: String,
	#[serde(default)]
	pub eos_token_id: Option<u32>,
	#[serde(default)]
	pub bos_token_id: Option<u32>,
}

fn default_epsilon() -> f64 {
	1e-5
}

fn default_activation() -> String {
	"gelu_new".into()
}

impl Config {
	fn inner(&self) -> usize {
		self.n_inner.unwrap_or(4 * self.n_embd)
	}

	/// Trained parameters (embeddings, blocks, final norm; the head is tied).
	fn parameters(&self) -> u64 {
		let (e, i) = (self.n_embd as u64, self.inner() as u64);
		let embeddings = (self.vocab_size + self.n_positions) as u64 * e;
		let block = 2 * 2 * e + (e * 3 * e + 3 * e) + (e * e + e) + (e * i + i) + (i * e + e);
		embeddings + self.n_layer as u64 * block + 2 * e
	}
}

/// A `Conv1D` layer: `x · W + b` with `W` stored `[in, out]`.
#[derive(Clone)]
struct Conv1D {
	weight: CandleTensor,
	bias: CandleTensor,
}

impl Conv1D {
	fn load(vb: VarBuilder, inputs: usize, outputs: usize) -> candle_core::Result<Self> {
		Ok(Conv1D { weight: vb.get((inputs, outputs), "weight")?, bias: vb.get(outputs, "bias")? })
	}

	fn forward(&self, x: &CandleTensor) -> candle_core::Result<CandleTensor> {
		x.broadcast_matmul(&self.weight)?.broadcast_add(&self.bias)
	}
}

#[derive(Clone)]
struct Block {
	ln_1: LayerNorm,
	c_attn: Conv1D,
	c_proj: Conv1D,
	ln_2: LayerNorm,
	c_fc: Conv1D,
	mlp_proj: Conv1D,
}

/// GPT-2's weights. Cloning shares them.
#[derive(Clone)]
struct Weights {
	wte: Embedding,
	wpe: Embedding,
	blocks: Vec<Block>,
	ln_f: LayerNorm,
	lm_head: CandleTensor,
}

/// A loaded GPT-2 checkpoint and its tokenizer.
pub struct Gpt2Model {
	weights: Weights,
	config: Config,
	tokenizer: Tokenizer,
	eos: u32,
	device: Device,
	limits: Limits,
	weight_bytes: u64,
}

impl Gpt2Model {
	/// Loads `model.safetensors` (any float dtype; computed in f32), `config.json` and
	/// `tokenizer.json`.
	pub fn load(
		safetensors: &[u8],
		config_json: &[u8],
		tokenizer_json: &[u8],
		device: &Device,
		limits: &Limits,
	) -> Result<Self> {
		check_safetensors(safetensors, limits).map_err(|e| e.in_file("model.safetensors"))?;
		let config: Config = serde_json::from_slice(config_json)
			.map_err(|e| Error::InvalidModel(format!("config.json: not a GPT-2 config: {e}")))?;
		let sane = config.n_embd > 0
			&& config.n_embd <= 8192
			&& config.n_head > 0
			&& config.n_embd.is_multiple_of(config.n_head)
			&& config.n_layer <= 128
			&& config.n_positions <= 1 << 16
			&& config.vocab_size <= 1 << 20;
		if !sane {
			return Err(Error::InvalidModel(format!(
				"config.json: implausible GPT-2 config: {config:?}"
			)));
		}
		if config.activation_function != "gelu_new" && config.activation_function != "gelu" {
			return Err(Error::Unsupported(format!(
				"config.json: activation `{}`; GPT-2 checkpoints use gelu_new",
				config.activation_function
			)));
		}
		let tokenizer = crate::pipelines::text::parse_tokenizer(tokenizer_json)?;
		let eos = config
			.eos_token_id
			.or_else(|| tokenizer.token_to_id("<|endoftext|>"))
			.ok_or_else(|| {
				Error::InvalidModel(
					"config.json: no eos_token_id, and tokenizer.json has no <|endoftext|>".into(),
				)
			})?;
		let vb = VarBuilder::from_slice_safetensors(safetensors, DType::F32, device)
			.map_err(candle_error)?;
		let weights = load_weights(vb, &config).map_err(|e| {
			Error::InvalidModel(format!("model.safetensors: weights do not match config.json: {e}"))
		})?;
		let weight_bytes = 4 * config.parameters();
		Ok(Gpt2Model {
			weights,
			config,
			tokenizer,
			eos,
			device: device.clone(),
			limits: limits.clone(),
			weight_bytes,
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

	/// Continues `prompt`; returns only the generated text. An empty prompt starts from
	/// `<|endoftext|>`, as GPT-2 was trained to begin documents.
	pub fn generate(&self, prompt: &str, params: &GenerationParams) -> Result<Output> {
		check_params(params)?;
		let tokens = self.encode(prompt)?;
		let total = tokens.len() + params.max_tokens;
		if total > self.config.n_positions {
			return Err(Error::Pipeline(format!(
				"the prompt ({} tokens) and max_tokens ({}) exceed the model's {} positions",
				tokens.len(),
				params.max_tokens,
				self.config.n_positions
			)));
		}
		charge_generation(self.config.parameters(), self.weight_bytes, total, &self.limits)?;
		let mut decoder = self.decoder();
		let generated = generate(&mut decoder, &tokens, &[self.eos], params, &self.limits)?;
		let text = self
			.tokenizer
			.decode(&generated, true)
			.map_err(|e| Error::Pipeline(format!("decoding tokens: {e}")))?;
		Ok(Output::Text(text))
	}

	/// The next-token logits (f32 `[vocab]`) after `prompt`, computed in one pass without the
	/// cache: what tests compare the cached decoding with.
	pub fn next_token_logits(&self, prompt: &str) -> Result<Vec<f32>> {
		let tokens = self.encode(prompt)?;
		let mut decoder = self.decoder();
		decoder.step(&tokens, 0).and_then(|logits| logits.to_vec1::<f32>()).map_err(candle_error)
	}

	/// The next-token logits after `prompt` fed one token at a time through the cache.
	pub fn next_token_logits_cached(&self, prompt: &str) -> Result<Vec<f32>> {
		let tokens = self.encode(prompt)?;
		let mut decoder = self.decoder();
		let mut logits = None;
		for (position, token) in tokens.iter().enumerate() {
			logits = Some(decoder.step(&[*token], position).map_err(candle_error)?);
		}
		logits
			.ok_or_else(|| Error::Pipeline("empty prompt".into()))?
			.to_vec1::<f32>()
			.map_err(candle_error)
	}

	fn encode(&self, prompt: &str) -> Result<Vec<u32>> {
		let encoding = self
			.tokenizer
			.encode(prompt, false)
			.map_err(|e| Error::Pipeline(format!("tokenizing: {e}")))?;
		let mut tokens = encoding.get_ids().to_vec();
		if tokens.is_empty() {
			tokens.push(self.config.bos_token_id.unwrap_or(self.eos));
		}
		Ok(tokens)
	}

	fn decoder(&self) -> Gpt2Decoder<'_> {
		Gpt2Decoder { model: self, cache: vec![None; self.config.n_layer] }
	}
}

fn load_weights(vb: VarBuilder, config: &Config) -> candle_core::Result<Weights> {
	let (e, inner) = (config.n_embd, config.inner());
	let lm_head = vb
		.contains_tensor("lm_head.weight")
		.then(|| vb.get((config.vocab_size, e), "lm_head.weight"));
	let vb = if vb.contains_tensor("transformer.wte.weight") { vb.pp("transformer") } else { vb };
	let norm = |vb: VarBuilder| candle_nn::layer_norm(e, config.layer_norm_epsilon, vb);
	let wte = candle_nn::embedding(config.vocab_size, e, vb.pp("wte"))?;
	let wpe = candle_nn::embedding(config.n_positions, e, vb.pp("wpe"))?;
	let blocks = (0..config.n_layer)
		.map(|i| {
			let vb = vb.pp(format!("h.{i}"));
			Ok(Block {
				ln_1: norm(vb.pp("ln_1"))?,
				c_attn: Conv1D::load(vb.pp("attn.c_attn"), e, 3 * e)?,
				c_proj: Conv1D::load(vb.pp("attn.c_proj"), e, e)?,
				ln_2: norm(vb.pp("ln_2"))?,
				c_fc: Conv1D::load(vb.pp("mlp.c_fc"), e, inner)?,
				mlp_proj: Conv1D::load(vb.pp("mlp.c_proj"), inner, e)?,
			})
		})
		.collect::<candle_core::Result<Vec<_>>>()?;
	let ln_f = norm(vb.pp("ln_f"))?;
	let lm_head = match lm_head {
		Some(head) => head?,
		None => wte.embeddings().clone(),
	};
	Ok(Weights { wte, wpe, blocks, ln_f, lm_head })
}

/// One request's decoding state: the model and each layer's cached keys and values
/// (`[1, heads, positions, head size]`).
struct Gpt2Decoder<'a> {
	model: &'a Gpt2Model,
	cache: Vec<Option<(CandleTensor, CandleTensor)>>,
}

impl Decoder for Gpt2Decoder<'_> {
	fn step(&mut self, tokens: &[u32], position: usize) -> candle_core::Result<CandleTensor> {
		let (model, c) = (self.model, &self.model.config);
		let w = &model.weights;
		let t = tokens.len();
		let (heads, head_size) = (c.n_head, c.n_embd / c.n_head);
		let ids = CandleTensor::new(tokens, &model.device)?.unsqueeze(0)?;
		let positions: Vec<u32> = (position as u32..(position + t) as u32).collect();
		let positions = CandleTensor::new(positions.as_slice(), &model.device)?.unsqueeze(0)?;
		let mut x = w.wte.forward(&ids)?.broadcast_add(&w.wpe.forward(&positions)?)?;
		// New token i sees every cached position and the new ones up to itself.
		let mask = (t > 1)
			.then(|| {
				let total = position + t;
				let values: Vec<f32> = (0..t)
					.flat_map(|i| {
						(0..total)
							.map(move |j| if j > position + i { f32::NEG_INFINITY } else { 0.0 })
					})
					.collect();
				CandleTensor::from_vec(values, (t, total), &model.device)
			})
			.transpose()?;
		for (block, cache) in w.blocks.iter().zip(self.cache.iter_mut()) {
			let h = block.ln_1.forward(&x)?;
			let qkv = block.c_attn.forward(&h)?;
			let split = |i: usize| {
				qkv.narrow(D::Minus1, i * c.n_embd, c.n_embd)?
					.reshape((1, t, heads, head_size))?
					.transpose(1, 2)?
					.contiguous()
			};
			let (q, mut k, mut v) = (split(0)?, split(1)?, split(2)?);
			if let Some((past_k, past_v)) = cache.as_ref() {
				k = CandleTensor::cat(&[past_k, &k], 2)?;
				v = CandleTensor::cat(&[past_v, &v], 2)?;
			}
			*cache = Some((k.clone(), v.clone()));
			let mut scores = (q.matmul(&k.t()?)? / (head_size as f64).sqrt())?;
			if let Some(mask) = &mask {
				scores = scores.broadcast_add(mask)?;
			}
			let attention = candle_nn::ops::softmax_last_dim(&scores)?.matmul(&v)?;
			let attention = attention.transpose(1, 2)?.reshape((1, t, c.n_embd))?;
			x = (x + block.c_proj.forward(&attention)?)?;
			let h = block.ln_2.forward(&x)?;
			let h = block.mlp_proj.forward(&block.c_fc.forward(&h)?.gelu()?)?;
			x = (x + h)?;
		}
		let last = w.ln_f.forward(&x)?.narrow(1, t - 1, 1)?.squeeze(1)?;
		last.matmul(&w.lm_head.t()?)?.squeeze(0)
	}
}
