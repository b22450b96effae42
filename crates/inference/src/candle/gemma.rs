//! Text generation with Gemma 3 from a GGUF file (quantised weights, candle's
//! `quantized_gemma3`), tokenizer rebuilt from the file's own vocabulary.
//!
//! The GGUF vocabulary is SentencePiece BPE: tokens with scores, no merges. The merges are
//! derived as SentencePiece applies them — a pair merges when the merged token is in the
//! vocabulary, higher-scored merged tokens first — with byte fallback (`<0x..>` tokens) and
//! spaces written as `▁`. Decoding is greedy (temperature 0) or seeded sampling (candle's
//! `LogitsProcessor`: the same seed gives the same text).

use super::generation::{charge_generation, check_params, generate, Decoder};
use crate::{pipelines::Output, Error, Limits, Result};
use candle_core::{quantized::gguf_file, Device, Tensor as CandleTensor};
use candle_transformers::models::quantized_gemma3::ModelWeights;
use std::io::Cursor;
use tokenizers::{
	decoders::{byte_fallback::ByteFallback, fuse::Fuse, sequence::Sequence, DecoderWrapper},
	models::bpe::{Vocab, BPE},
	normalizers::replace::Replace,
	AddedToken, Tokenizer,
};

pub use crate::pipelines::{GenerationParams, MAX_NEW_TOKENS};

/// A loaded Gemma 3 GGUF model and its tokenizer.
pub struct GemmaModel {
	/// Never run: each request runs a clone (weights shared, key/value cache its own).
	weights: ModelWeights,
	tokenizer: Tokenizer,
	bos: u32,
	stop: Vec<u32>,
	device: Device,
	limits: Limits,
	parameters: u64,
	weight_bytes: u64,
}

fn metadata<'a>(content: &'a gguf_file::Content, key: &str) -> Result<&'a gguf_file::Value> {
	content
		.metadata
		.get(key)
		.ok_or_else(|| Error::InvalidModel(format!("GGUF metadata has no `{key}`")))
}

/// The SentencePiece-BPE tokenizer a GGUF file describes.
pub fn tokenizer_from_gguf(content: &gguf_file::Content) -> Result<Tokenizer> {
	let bad = |e: candle_core::Error| Error::InvalidModel(format!("GGUF tokenizer: {e}"));
	let model = metadata(content, "tokenizer.ggml.model")?.to_string().map_err(bad)?;
	if model != "llama" {
		return Err(Error::Unsupported(format!(
			"tokenizer model `{model}`; only SentencePiece BPE"
		)));
	}
	let tokens: Vec<String> = metadata(content, "tokenizer.ggml.tokens")?
		.to_vec()
		.map_err(bad)?
		.iter()
		.map(|t| t.to_string().cloned())
		.collect::<candle_core::Result<_>>()
		.map_err(bad)?;
	let scores: Vec<f32> = metadata(content, "tokenizer.ggml.scores")?
		.to_vec()
		.map_err(bad)?
		.iter()
		.map(|s| s.to_f32())
		.collect::<candle_core::Result<_>>()
		.map_err(bad)?;
	if scores.len() != tokens.len() {
		return Err(Error::InvalidModel("GGUF tokens and scores differ in length".into()));
	}
	let vocab: Vocab = tokens.iter().enumerate().map(|(i, t)| (t.clone(), i as u32)).collect();
	// Every split of a token into two vocabulary tokens is a merge, ranked by the merged
	// token's score (SentencePiece merges the highest-scored pair first).
	let mut merges: Vec<(f32, u32, String, String)> = vec![];
	for (id, token) in tokens.iter().enumerate() {
		if token.starts_with('<') && token.ends_with('>') && token.len() > 2 {
			continue;
		}
		for (split, _) in token.char_indices().skip(1) {
			let (left, right) = token.split_at(split);
			if vocab.contains_key(left) && vocab.contains_key(right) {
				merges.push((scores[id], id as u32, left.to_string(), right.to_string()));
			}
		}
	}
	merges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
	let merges = merges.into_iter().map(|(_, _, l, r)| (l, r)).collect();
	let bpe = BPE::builder()
		.vocab_and_merges(vocab, merges)
		.byte_fallback(true)
		.unk_token("<unk>".into())
		.build()
		.map_err(|e| Error::InvalidModel(format!("GGUF tokenizer: {e}")))?;
	let mut tokenizer = Tokenizer::new(bpe);
	let space = Replace::new(" ", "▁").map_err(|e| Error::InvalidModel(e.to_string()))?;
	tokenizer.with_normalizer(Some(space)).map_err(|e| Error::InvalidModel(e.to_string()))?;
	let unspace = Replace::new("▁", " ").map_err(|e| Error::InvalidModel(e.to_string()))?;
	// Control tokens (<start_of_turn>, <end_of_turn>…) are matched whole, never split.
	if let Ok(types) = metadata(content, "tokenizer.ggml.token_type")
		.and_then(|t| t.to_vec().map_err(|e| Error::InvalidModel(format!("GGUF token types: {e}"))))
	{
		let control: Vec<AddedToken> = types
			.iter()
			.zip(&tokens)
			.filter(|(kind, _)| kind.to_i32().ok() == Some(3))
			.map(|(_, token)| AddedToken::from(token.clone(), true))
			.collect();
		let _registered = tokenizer.add_special_tokens(control);
	}
	tokenizer.with_decoder(Some(Sequence::new(vec![
		DecoderWrapper::Replace(unspace),
		DecoderWrapper::ByteFallback(ByteFallback::new()),
		DecoderWrapper::Fuse(Fuse::new()),
	])));
	Ok(tokenizer)
}

impl GemmaModel {
	/// Loads a Gemma 3 GGUF file.
	pub fn load(gguf: &[u8], device: &Device, limits: &Limits) -> Result<Self> {
		if gguf.len() as u64 > limits.max_model_bytes {
			return Err(Error::ModelTooLarge {
				size: gguf.len() as u64,
				limit: limits.max_model_bytes,
			});
		}
		let mut cursor = Cursor::new(gguf);
		let content = gguf_file::Content::read(&mut cursor)
			.map_err(|e| Error::InvalidModel(format!("not a GGUF file: {e}")))?;
		// Shapes are read from the file: check them before anything multiplies them out.
		for (name, info) in &content.tensor_infos {
			let dims = info.shape.dims();
			let elements =
				dims.iter().try_fold(1u64, |acc, &d| acc.checked_mul(u64::try_from(d).ok()?));
			if elements.is_none_or(|n| n > limits.max_model_tensor_elements) {
				return Err(Error::InvalidModel(format!(
					"GGUF tensor `{name}` has shape {dims:?}, over the limit"
				)));
			}
		}
		let tokenizer = tokenizer_from_gguf(&content)?;
		let id = |key: &str| -> Result<u32> {
			metadata(&content, key)?
				.to_u32()
				.map_err(|e| Error::InvalidModel(format!("GGUF `{key}`: {e}")))
		};
		let bos = id("tokenizer.ggml.bos_token_id")?;
		let mut stop = vec![id("tokenizer.ggml.eos_token_id")?];
		stop.extend(tokenizer.token_to_id("<end_of_turn>"));
		let parameters = content.tensor_infos.values().map(|t| t.shape.elem_count() as u64).sum();
		// Quantised weights stay quantised in memory: about the file's size.
		let weight_bytes = gguf.len() as u64;
		let weights = ModelWeights::from_gguf(content, &mut cursor, device)
			.map_err(|e| Error::InvalidModel(format!("Gemma 3 weights: {e}")))?;
		Ok(GemmaModel {
			weights,
			tokenizer,
			bos,
			stop,
			device: device.clone(),
			limits: limits.clone(),
			parameters,
			weight_bytes,
		})
	}

	/// Bytes of weights held (quantised, about the file's size).
	pub fn weight_bytes(&self) -> u64 {
		self.weight_bytes
	}

	/// The tokenizer rebuilt from the file.
	pub fn tokenizer(&self) -> &Tokenizer {
		&self.tokenizer
	}

	/// Continues `prompt`; returns only the generated text.
	pub fn generate(&self, prompt: &str, params: &GenerationParams) -> Result<Output> {
		check_params(params)?;
		let encoding = self
			.tokenizer
			.encode(prompt, false)
			.map_err(|e| Error::Pipeline(format!("tokenizing: {e}")))?;
		let mut tokens = vec![self.bos];
		tokens.extend(encoding.get_ids());
		let total = tokens.len() + params.max_tokens;
		charge_generation(self.parameters, self.weight_bytes, total, &self.limits)?;
		let mut decoder = GemmaDecoder { weights: self.weights.clone(), device: &self.device };
		let generated = generate(&mut decoder, &tokens, &self.stop, params, &self.limits)?;
		let text = self
			.tokenizer
			.decode(&generated, true)
			.map_err(|e| Error::Pipeline(format!("decoding tokens: {e}")))?;
		Ok(Output::Text(text))
	}
}

/// One request's copy of the weights (shared) with its own key/value cache.
struct GemmaDecoder<'a> {
	weights: ModelWeights,
	device: &'a Device,
}

impl Decoder for GemmaDecoder<'_> {
	fn step(&mut self, tokens: &[u32], position: usize) -> candle_core::Result<CandleTensor> {
		let x = CandleTensor::new(tokens, self.device)?.unsqueeze(0)?;
		self.weights.forward(&x, position)?.squeeze(0)?.to_dtype(candle_core::DType::F32)
	}
}
