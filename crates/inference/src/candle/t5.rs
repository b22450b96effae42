//! T5 (`t5-small` and checkpoints of its architecture: t5-base/large, t5 v1.1, flan-t5) from
//! Hugging Face safetensors + `config.json` + `tokenizer.json`: text-to-text generation
//! ("translate English to German: …", "summarize: …"), greedy or seeded sampling, on our own
//! T5 (the `model` submodule: transformers' `T5ForConditionalGeneration` on candle's tensors).
//!
//! Loading checks before any weight is read: the safetensors layout ([`check_safetensors`]), a
//! tokenizer no larger than [`MAX_TOKENIZER_BYTES`](crate::pipelines::text::MAX_TOKENIZER_BYTES), and the config: an encoder-decoder,
//! dimensions and relative-position buckets within bounds (so that the bucket arithmetic has a
//! non-empty exact range and a logarithm base over 1 in both stacks), a feed-forward activation
//! implemented here (`relu`, `gelu`, `gelu_new`, `silu`, each optionally `gated-`; as in
//! transformers, `gated-gelu` is `gelu_new`), special token ids inside the vocabulary and a
//! tokenizer no larger than it. Weights that do not fit the config are refused naming both
//! files. The Hub's files hold one `shared.weight` embedding that the encoder, decoder and
//! (tied, unless `tie_word_embeddings` is false and `lm_head.weight` is given) head use.
//!
//! A request tokenizes the prompt (T5's post-processor ends it with `</s>`; one is added if
//! the tokenizer does not), runs the encoder once, projects its output to each decoder
//! layer's cross-attention keys and values once, then decodes from `decoder_start_token_id`
//! (the pad token) to `eos_token_id` with the shared loop of [`super::generation`], one token
//! at a time through a self-attention key/value cache. The loaded weights are only read: each
//! request's state is its own, so requests may run concurrently.
//!
//! The decoder buckets relative positions causally, as transformers does (`bidirectional=not
//! is_decoder`): all buckets for past distances, 16 of them exact with t5's 32. We do not use
//! candle-transformers' T5 (0.11) because its decoder buckets them bidirectionally (half the
//! buckets, 8 exact), which agrees only up to distance 8, so trained checkpoints drift from
//! transformers after about ten generated tokens; it also scales tied logits by `√d_model`
//! where transformers scales by `1/√d_model` (greedy choices agree, sampling does not), and
//! projects the encoder output to cross-attention keys and values again at every step.

mod model;

pub use model::{relative_position_bucket, Activation, Config, FeedForwardProj};

use super::{
	candle_error, check_safetensors,
	generation::{charge_generation, check_params, generate, Decoder},
	without_backtrace,
};
use crate::{
	pipelines::{text::parse_tokenizer, GenerationParams, Output},
	Error, Limits, Result,
};
use candle_core::{DType, Device, Tensor as CandleTensor};
use candle_nn::VarBuilder;
use model::{DecoderState, T5};
use tokenizers::Tokenizer;

/// Longest prompt, in tokens (`</s>` included): t5's training length.
pub const MAX_PROMPT_TOKENS: usize = 512;

/// Longest prompt in bytes, refused before tokenizing (a token is rarely over 16 bytes).
const MAX_PROMPT_BYTES: usize = 32 * MAX_PROMPT_TOKENS;

/// A loaded T5 checkpoint and its tokenizer.
pub struct T5Model {
	/// Only read: a request's decoding state is a [`DecoderState`] of its own.
	model: T5,
	config: Config,
	tokenizer: Tokenizer,
	eos: u32,
	decoder_start: u32,
	limits: Limits,
	parameters: u64,
}

impl T5Model {
	/// Loads `model.safetensors` (any float dtype; computed in f32), `config.json` (Hugging
	/// Face's T5 config) and `tokenizer.json`.
	pub fn load(
		safetensors: &[u8],
		config_json: &[u8],
		tokenizer_json: &[u8],
		device: &Device,
		limits: &Limits,
	) -> Result<Self> {
		check_safetensors(safetensors, limits).map_err(|e| e.in_file("model.safetensors"))?;
		let config = parse_config(config_json)?;
		let tokenizer = parse_tokenizer(tokenizer_json)?;
		// Ids past the embedding would fail in the middle of a request.
		let known = tokenizer.get_vocab_size(true);
		if known > config.vocab_size {
			return Err(Error::InvalidModel(format!(
				"tokenizer.json: {known} tokens, more than config.json's vocab_size {}",
				config.vocab_size
			)));
		}
		let vb =
			VarBuilder::from_slice_safetensors(safetensors, DType::F32, device).map_err(|e| {
				Error::InvalidModel(format!("model.safetensors: {}", without_backtrace(e)))
			})?;
		let model = T5::load(vb, &config).map_err(|e| {
			// candle attaches a backtrace when RUST_BACKTRACE is set; messages must not vary.
			let e = without_backtrace(e);
			Error::InvalidModel(format!("model.safetensors: weights do not match config.json: {e}"))
		})?;
		let decoder_start = config.decoder_start_token_id.unwrap_or(config.pad_token_id);
		Ok(T5Model {
			model,
			tokenizer,
			eos: config.eos_token_id as u32,
			decoder_start: decoder_start as u32,
			limits: limits.clone(),
			parameters: parameters(&config),
			config,
		})
	}

	/// Bytes of weights held (f32).
	pub fn weight_bytes(&self) -> u64 {
		4 * self.parameters
	}

	/// Trained parameters: the shared embedding once, both stacks, and the head when it is not
	/// tied to the embedding.
	pub fn parameters(&self) -> u64 {
		self.parameters
	}

	/// The checkpoint's configuration.
	pub fn config(&self) -> &Config {
		&self.config
	}

	/// Rewrites `prompt` (with a task prefix such as "translate English to German: ");
	/// returns the generated text, special tokens skipped.
	pub fn generate(&self, prompt: &str, params: &GenerationParams) -> Result<Output> {
		let generated = self.generate_ids(prompt, params)?;
		let text = self
			.tokenizer
			.decode(&generated, true)
			.map_err(|e| Error::Pipeline(format!("decoding tokens: {e}")))?;
		Ok(Output::Text(text))
	}

	/// The token ids [`T5Model::generate`] decodes to text (`</s>` not included).
	pub fn generate_ids(&self, prompt: &str, params: &GenerationParams) -> Result<Vec<u32>> {
		check_params(params)?;
		let input = self.prompt_ids(prompt)?;
		charge_generation(
			self.parameters,
			self.weight_bytes(),
			self.charged_tokens(input.len(), params.max_tokens),
			&self.limits,
		)?;
		let mut decoder = self.decoder(&input)?;
		generate(&mut decoder, &[self.decoder_start], &[self.eos], params, &self.limits)
	}

	/// The encoder's input ids for `prompt`: its tokens, then one `</s>`.
	pub fn prompt_ids(&self, prompt: &str) -> Result<Vec<u32>> {
		if prompt.trim().is_empty() {
			return Err(Error::Pipeline("the prompt is empty".into()));
		}
		if prompt.len() > MAX_PROMPT_BYTES {
			return Err(Error::Pipeline(format!(
				"the prompt is {} bytes; the limit is {MAX_PROMPT_BYTES}",
				prompt.len()
			)));
		}
		let encoding = self
			.tokenizer
			.encode(prompt, true)
			.map_err(|e| Error::Pipeline(format!("tokenizing: {e}")))?;
		let mut ids = encoding.get_ids().to_vec();
		// T5 was trained on inputs ending in `</s>`; Hub tokenizers append it, others may not.
		if ids.last() != Some(&self.eos) {
			ids.push(self.eos);
		}
		// Only `</s>`: the prompt held nothing the tokenizer keeps.
		if ids.len() < 2 {
			return Err(Error::Pipeline("the prompt is empty".into()));
		}
		if ids.len() > MAX_PROMPT_TOKENS {
			return Err(Error::Pipeline(format!(
				"the prompt is {} tokens; the limit is {MAX_PROMPT_TOKENS}",
				ids.len()
			)));
		}
		Ok(ids)
	}

	/// The encoder's output for `prompt` (after its final norm): one f32 `[d_model]` row per
	/// token of [`T5Model::prompt_ids`]. Not charged: for tests.
	pub fn encoder_output(&self, prompt: &str) -> Result<Vec<Vec<f32>>> {
		let input = self.prompt_ids(prompt)?;
		self.model
			.encode(&input)
			.and_then(|encoded| encoded.squeeze(0)?.to_vec2::<f32>())
			.map_err(candle_error)
	}

	/// The logits (f32 `[vocab]`) after each of `decoder_tokens`, fed one at a time through the
	/// key/value cache as generation feeds them, for `prompt`: what tests compare with
	/// [`T5Model::recomputed_logits`]. Not charged; callers bound `decoder_tokens`.
	pub fn decoder_logits(&self, prompt: &str, decoder_tokens: &[u32]) -> Result<Vec<Vec<f32>>> {
		let input = self.prompt_ids(prompt)?;
		let mut decoder = self.decoder(&input)?;
		decoder_tokens
			.iter()
			.enumerate()
			.map(|(position, &token)| {
				decoder
					.step(&[token], position)
					.and_then(|logits| logits.to_vec1::<f32>())
					.map_err(candle_error)
			})
			.collect()
	}

	/// The same logits as [`T5Model::decoder_logits`], each recomputed without a cache: the
	/// decoder runs over `decoder_tokens[..=i]` at once (causal mask and position bias over the
	/// whole prefix) from a fresh state. Not charged; callers bound `decoder_tokens`.
	pub fn recomputed_logits(&self, prompt: &str, decoder_tokens: &[u32]) -> Result<Vec<Vec<f32>>> {
		let input = self.prompt_ids(prompt)?;
		let encoded = self.model.encode(&input).map_err(candle_error)?;
		(1..=decoder_tokens.len())
			.map(|end| {
				let mut state = self.model.start(&encoded)?;
				self.model.decode(&mut state, &decoder_tokens[..end])?.to_vec1::<f32>()
			})
			.collect::<candle_core::Result<_>>()
			.map_err(candle_error)
	}

	/// A request's decoder: the encoded prompt's cross-attention keys and values, and an empty
	/// cache.
	fn decoder(&self, input: &[u32]) -> Result<T5Decoder<'_>> {
		let state = self.model.encode(input).and_then(|encoded| self.model.start(&encoded));
		Ok(T5Decoder { model: &self.model, state: state.map_err(candle_error)? })
	}

	/// What a request is charged, in tokens of [`charge_generation`]'s two FLOPs per parameter
	/// each: the prompt's `n` tokens and `m = max_tokens` (an upper bound: a prompt token
	/// passes through the encoder and the decoder's cross-attention key and value projections,
	/// a generated one through the rest of the decoder and the head, and decoding may stop
	/// early), plus attention over the sequences, which that rule misses: `QKᵀ` and `AV` cost
	/// `2·2·inner` FLOPs per query and key, with `inner = num_heads·d_kv`, so
	/// `4·n²·inner` per encoder layer and at most `4·m·(m + n)·inner` per decoder layer
	/// (self-attention over at most `m` tokens, cross-attention over `n`). That sum, divided
	/// by two FLOPs per parameter and rounded up, is added.
	fn charged_tokens(&self, prompt: usize, max_tokens: usize) -> usize {
		let c = &self.config;
		let (n, m) = (prompt as u128, max_tokens as u128);
		let inner = c.inner_dim() as u128;
		let encoder_attention = 4 * n * n * inner * c.num_layers as u128;
		let decoder_attention = 4 * m * (m + n) * inner * c.decoder_layers() as u128;
		let per_token = 2 * u128::from(self.parameters.max(1));
		let extra = (encoder_attention + decoder_attention).div_ceil(per_token);
		(prompt + max_tokens).saturating_add(usize::try_from(extra).unwrap_or(usize::MAX))
	}
}

/// Parses and bounds `config.json`, so that nothing the model does with it can panic or
/// allocate without bound.
fn parse_config(config_json: &[u8]) -> Result<Config> {
	let invalid = |why: String| Error::InvalidModel(format!("config.json: {why}"));
	let raw: serde_json::Value =
		serde_json::from_slice(config_json).map_err(|e| invalid(format!("not JSON: {e}")))?;
	// transformers' default when absent.
	let feed_forward_proj = match raw.get("feed_forward_proj") {
		None => Some(FeedForwardProj::default()),
		Some(serde_json::Value::String(name)) => FeedForwardProj::parse(name),
		Some(_) => None,
	};
	let Some(feed_forward_proj) = feed_forward_proj else {
		return Err(Error::Unsupported(format!(
			"config.json: feed_forward_proj {}; T5 runs relu, gelu, gelu_new or silu, each \
			 optionally gated (gated-gelu, gated-silu, …)",
			raw["feed_forward_proj"]
		)));
	};
	let mut config: Config =
		serde_json::from_value(raw).map_err(|e| invalid(format!("not a T5 config: {e}")))?;
	config.feed_forward_proj = feed_forward_proj;
	if !config.is_encoder_decoder {
		return Err(invalid(
			"is_encoder_decoder is false; T5ForConditionalGeneration is an encoder-decoder".into(),
		));
	}
	let decoder_layers = config.decoder_layers();
	let buckets = config.relative_attention_num_buckets;
	let vocab = config.vocab_size;
	// Each (field, value, whether it is plausible); the first implausible one is reported.
	let checks: [(&str, String, bool); 12] = [
		("d_model", config.d_model.to_string(), (1..=8192).contains(&config.d_model)),
		("num_heads", config.num_heads.to_string(), (1..=128).contains(&config.num_heads)),
		("d_kv", config.d_kv.to_string(), (1..=1024).contains(&config.d_kv)),
		("num_heads × d_kv", config.inner_dim().to_string(), config.inner_dim() <= 16384),
		("d_ff", config.d_ff.to_string(), (1..=65536).contains(&config.d_ff)),
		("num_layers", config.num_layers.to_string(), (1..=128).contains(&config.num_layers)),
		("num_decoder_layers", decoder_layers.to_string(), (1..=128).contains(&decoder_layers)),
		("vocab_size", vocab.to_string(), (2..=1 << 20).contains(&vocab)),
		// At least 4 buckets, so the encoder's exact range (a quarter of them) is not empty.
		("relative_attention_num_buckets", buckets.to_string(), (4..=1024).contains(&buckets)),
		// Twice the decoder's exact range (half the buckets) at least, so the logarithm's base
		// is 2 or more in both stacks.
		(
			"relative_attention_max_distance",
			config.relative_attention_max_distance.to_string(),
			(2 * (buckets / 2)..=1 << 16).contains(&config.relative_attention_max_distance),
		),
		(
			"layer_norm_epsilon",
			config.layer_norm_epsilon.to_string(),
			(0.0..1.0).contains(&config.layer_norm_epsilon),
		),
		(
			"pad_token_id, eos_token_id, decoder_start_token_id",
			format!(
				"{}, {}, {:?}",
				config.pad_token_id, config.eos_token_id, config.decoder_start_token_id
			),
			config.pad_token_id < vocab
				&& config.eos_token_id < vocab
				&& config.decoder_start_token_id.is_none_or(|id| id < vocab),
		),
	];
	if let Some((field, value, _)) = checks.iter().find(|(_, _, plausible)| !plausible) {
		return Err(invalid(format!("implausible T5 config: {field} = {value}")));
	}
	Ok(config)
}

/// Trained parameters of a T5 checkpoint (no biases; layer norms have a weight only).
fn parameters(c: &Config) -> u64 {
	let (d, inner, ff) = (c.d_model as u64, c.inner_dim() as u64, c.d_ff as u64);
	let attention = 4 * d * inner;
	let feed_forward = if c.feed_forward_proj.gated { 3 * d * ff } else { 2 * d * ff };
	let encoder_layer = attention + feed_forward + 2 * d;
	let decoder_layer = 2 * attention + feed_forward + 3 * d;
	// Block 0 of each stack holds the relative-position bias.
	let bias = 2 * (c.relative_attention_num_buckets * c.num_heads) as u64;
	let embedding = c.vocab_size as u64 * d;
	let head = if c.tie_word_embeddings { 0 } else { embedding };
	embedding
		+ head + c.num_layers as u64 * encoder_layer
		+ c.decoder_layers() as u64 * decoder_layer
		+ bias + 2 * d
}

/// One request's decoding state over the shared weights: the encoded prompt's cross-attention
/// keys and values and the self-attention cache.
struct T5Decoder<'a> {
	model: &'a T5,
	state: DecoderState,
}

impl Decoder for T5Decoder<'_> {
	/// `tokens` are the next `decoder_input_ids`; the state holds the earlier ones, so
	/// `position` is implied.
	fn step(&mut self, tokens: &[u32], _position: usize) -> candle_core::Result<CandleTensor> {
		self.model.decode(&mut self.state, tokens)
	}
}
