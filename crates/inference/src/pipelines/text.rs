//! Text pipelines: feature extraction (sentence embeddings) with a Hugging Face tokenizer.

use super::{outputs::OutputChoice, Output};
use crate::{codec::DType, codec::Tensor, onnx::OnnxModel, Error, Result};
use tokenizers::{PaddingParams, PaddingStrategy, PostProcessor, Tokenizer, TruncationParams};

/// Largest `tokenizer.json` accepted.
pub const MAX_TOKENIZER_BYTES: usize = 32 << 20;

/// Most texts in one request.
pub const MAX_TEXTS: usize = 64;

/// A `tokenizer.json` of at most [`MAX_TOKENIZER_BYTES`], as it is (no truncation, no
/// padding).
pub fn parse_tokenizer(json: &[u8]) -> Result<Tokenizer> {
	if json.len() > MAX_TOKENIZER_BYTES {
		return Err(Error::InvalidModel(format!(
			"tokenizer.json: {} bytes; the limit is {MAX_TOKENIZER_BYTES}",
			json.len()
		)));
	}
	Tokenizer::from_bytes(json).map_err(|e| Error::InvalidModel(format!("tokenizer.json: {e}")))
}

/// A tokenizer from a `tokenizer.json` ([`parse_tokenizer`]), truncating to
/// `max_tokens` (special tokens included); refused when its special tokens alone would not fit.
pub fn read_tokenizer(json: &[u8], max_tokens: usize) -> Result<Tokenizer> {
	let mut tokenizer = parse_tokenizer(json)?;
	// `tokenizers` subtracts the special tokens from the length unchecked (a panic).
	let special = tokenizer.get_post_processor().map_or(0, |p| p.added_tokens(false));
	if special >= max_tokens {
		return Err(Error::InvalidModel(format!(
			"tokenizer.json: adds {special} special tokens, leaving no room for text in \
			 {max_tokens} tokens"
		)));
	}
	tokenizer
		.with_truncation(Some(TruncationParams { max_length: max_tokens, ..Default::default() }))
		.map_err(|e| Error::InvalidModel(format!("tokenizer.json: truncation: {e}")))?;
	Ok(tokenizer)
}

/// A tokenizer from a `tokenizer.json` ([`read_tokenizer`]), padding each batch to its longest
/// text.
pub fn load_tokenizer(json: &[u8], max_tokens: usize) -> Result<Tokenizer> {
	let mut tokenizer = read_tokenizer(json, max_tokens)?;
	let pad_id = tokenizer.get_padding().map_or(0, |p| p.pad_id);
	let pad_token =
		tokenizer.get_padding().map_or_else(|| "[PAD]".to_string(), |p| p.pad_token.clone());
	tokenizer.with_padding(Some(PaddingParams {
		strategy: PaddingStrategy::BatchLongest,
		pad_id,
		pad_token,
		..PaddingParams::default()
	}));
	Ok(tokenizer)
}

/// Token tensors for `texts`, as BERT-style encoders take them (`input_ids`,
/// `attention_mask`, `token_type_ids`, i64 [batch, sequence]).
pub fn encode_texts(tokenizer: &Tokenizer, texts: &[&str]) -> Result<Vec<Tensor>> {
	if texts.is_empty() || texts.len() > MAX_TEXTS {
		return Err(Error::Pipeline(format!("send 1 to {MAX_TEXTS} texts, not {}", texts.len())));
	}
	let encodings = tokenizer
		.encode_batch(texts.to_vec(), true)
		.map_err(|e| Error::Pipeline(format!("tokenizing: {e}")))?;
	let sequence = encodings.first().map_or(0, |e| e.get_ids().len());
	let shape = vec![texts.len() as u32, sequence as u32];
	let column = |name: &str, get: fn(&tokenizers::Encoding) -> &[u32]| {
		let data = encodings
			.iter()
			.flat_map(|e| get(e).iter().flat_map(|&v| i64::from(v).to_le_bytes()))
			.collect();
		Tensor::new(name, DType::I64, shape.clone(), data)
	};
	Ok(vec![
		column("input_ids", tokenizers::Encoding::get_ids)?,
		column("attention_mask", tokenizers::Encoding::get_attention_mask)?,
		column("token_type_ids", tokenizers::Encoding::get_type_ids)?,
	])
}

/// Mean of `hidden` ([batch, sequence, dims]) over the tokens `mask` keeps, each row scaled to
/// unit length: sentence-transformers' mean pooling and normalisation.
pub fn mean_pool_normalized(hidden: &[f32], mask: &[i64], batch: usize, dims: usize) -> Vec<f32> {
	let sequence = mask.len().checked_div(batch).unwrap_or(0);
	let mut out = vec![0f32; batch * dims];
	for b in 0..batch {
		let row = &mut out[b * dims..(b + 1) * dims];
		let mut kept = 0f32;
		for s in 0..sequence {
			if mask[b * sequence + s] != 0 {
				kept += 1.0;
				let token = &hidden[(b * sequence + s) * dims..(b * sequence + s + 1) * dims];
				row.iter_mut().zip(token).for_each(|(r, t)| *r += t);
			}
		}
		row.iter_mut().for_each(|r| *r /= kept.max(1e-9));
		let norm = row.iter().map(|r| r * r).sum::<f32>().sqrt().max(1e-12);
		row.iter_mut().for_each(|r| *r /= norm);
	}
	out
}

/// A model over token tensors: an encoder whose outputs include the last hidden state
/// [batch, sequence, dims] or a pooled embedding [batch, dims], or a classifier's logits
/// [batch, classes].
pub enum Encoder {
	/// An ONNX export (tract).
	Onnx(OnnxModel),
	/// HF safetensors (candle): a bare BERT encoder.
	#[cfg(feature = "candle")]
	Bert(crate::candle::bert::BertEncoder),
	/// HF safetensors (candle): `BertForSequenceClassification`.
	#[cfg(feature = "candle")]
	BertClassifier(crate::candle::bert::BertClassifier),
}

impl Encoder {
	fn takes(&self, input: &str) -> bool {
		match self {
			Encoder::Onnx(model) => model.inputs().iter().any(|spec| spec.name() == input),
			#[cfg(feature = "candle")]
			Encoder::Bert(_) | Encoder::BertClassifier(_) => true,
		}
	}

	fn weight_bytes(&self) -> u64 {
		match self {
			Encoder::Onnx(model) => model.weight_bytes(),
			#[cfg(feature = "candle")]
			Encoder::Bert(model) => model.weight_bytes(),
			#[cfg(feature = "candle")]
			Encoder::BertClassifier(model) => model.weight_bytes(),
		}
	}

	fn run(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
		match self {
			Encoder::Onnx(model) => model.run(inputs),
			#[cfg(feature = "candle")]
			Encoder::Bert(model) => model.run(inputs),
			#[cfg(feature = "candle")]
			Encoder::BertClassifier(model) => model.run(inputs),
		}
	}
}

impl From<OnnxModel> for Encoder {
	fn from(model: OnnxModel) -> Self {
		Encoder::Onnx(model)
	}
}

#[cfg(feature = "candle")]
impl From<crate::candle::bert::BertEncoder> for Encoder {
	fn from(model: crate::candle::bert::BertEncoder) -> Self {
		Encoder::Bert(model)
	}
}

#[cfg(feature = "candle")]
impl From<crate::candle::bert::BertClassifier> for Encoder {
	fn from(model: crate::candle::bert::BertClassifier) -> Self {
		Encoder::BertClassifier(model)
	}
}

impl Encoder {
	/// Which output a pipeline reads: chosen among an ONNX model's outputs (see
	/// [`OutputChoice::for_model`]); candle models return one.
	fn output(
		&self,
		configured: Option<String>,
		ranks: &'static [usize],
		what: &'static str,
	) -> Result<OutputChoice> {
		match self {
			Encoder::Onnx(model) => OutputChoice::for_model(model, configured, ranks, what),
			#[cfg(feature = "candle")]
			_ => Ok(OutputChoice::first(ranks, what)),
		}
	}
}

/// The embedding outputs an embedder reads: a hidden state [batch, sequence, dims] to
/// mean-pool, else an embedding already pooled [batch, dims].
const EMBEDDING_RANKS: &[usize] = &[3, 2];

/// Sentence embeddings: tokenize, encode, mean-pool over real tokens (unless the model pools),
/// normalise.
pub struct SentenceEmbedder {
	encoder: Encoder,
	tokenizer: Tokenizer,
	output: OutputChoice,
}

impl SentenceEmbedder {
	/// An embedder from a loaded encoder and its `tokenizer.json`, reading the encoder's first
	/// f32 output of rank 3, else of rank 2.
	pub fn new(
		encoder: impl Into<Encoder>,
		tokenizer_json: &[u8],
		max_tokens: usize,
	) -> Result<Self> {
		Self::with_output(encoder, tokenizer_json, max_tokens, None)
	}

	/// An embedder that reads the encoder's output `output` when given (the package's
	/// `citrate.json`), else as [`SentenceEmbedder::new`].
	pub fn with_output(
		encoder: impl Into<Encoder>,
		tokenizer_json: &[u8],
		max_tokens: usize,
		output: Option<String>,
	) -> Result<Self> {
		let encoder = encoder.into();
		let output = encoder.output(output, EMBEDDING_RANKS, "embedding")?;
		Ok(SentenceEmbedder {
			encoder,
			tokenizer: load_tokenizer(tokenizer_json, max_tokens)?,
			output,
		})
	}

	/// The tokenizer, for callers that build their own inputs.
	pub fn tokenizer(&self) -> &Tokenizer {
		&self.tokenizer
	}

	/// Bytes of weights the encoder holds.
	pub fn weight_bytes(&self) -> u64 {
		self.encoder.weight_bytes()
	}

	/// One unit-length embedding per text.
	pub fn embed(&self, texts: &[&str]) -> Result<Output> {
		let mut inputs = encode_texts(&self.tokenizer, texts)?;
		// Encoders exported without token types take only ids and mask.
		inputs.retain(|t| self.encoder.takes(&t.name));
		let outputs = self.encoder.run(&inputs)?;
		let (tensor, rank) = self.output.pick(&outputs, texts.len())?;
		let dims = tensor.shape[rank - 1] as usize;
		let values = tensor.to_f32().unwrap_or_default();
		if rank == 2 {
			let mask = vec![1; texts.len()];
			return Ok(Output::Embeddings {
				dims,
				values: mean_pool_normalized(&values, &mask, texts.len(), dims),
			});
		}
		let mask: Vec<i64> = inputs
			.iter()
			.find(|t| t.name == "attention_mask")
			.and_then(Tensor::to_i64)
			.ok_or_else(|| Error::Pipeline("the encoder takes no attention_mask".into()))?;
		Ok(Output::Embeddings {
			dims,
			values: mean_pool_normalized(&values, &mask, texts.len(), dims),
		})
	}
}

/// Label names from a Hugging Face `config.json`'s `id2label` (`{"0": "negative", …}`), in
/// class order.
pub fn labels_from_config(config_json: &[u8]) -> Result<Vec<String>> {
	let config: serde_json::Value = serde_json::from_slice(config_json)
		.map_err(|e| Error::Pipeline(format!("config.json: {e}")))?;
	let map = config
		.get("id2label")
		.and_then(|m| m.as_object())
		.ok_or_else(|| Error::Pipeline("config.json has no id2label".into()))?;
	let mut labels = vec![None; map.len()];
	for (id, name) in map {
		let slot = id.parse::<usize>().ok().and_then(|i| labels.get_mut(i));
		match (slot, name.as_str()) {
			(Some(slot), Some(name)) => *slot = Some(name.to_string()),
			_ => return Err(Error::Pipeline(format!("id2label entry {id}: {name}"))),
		}
	}
	labels
		.into_iter()
		.collect::<Option<Vec<_>>>()
		.ok_or_else(|| Error::Pipeline("id2label skips an id".into()))
}

/// Text classification: a sequence classifier whose output logits [batch, classes] (its first
/// f32 output of rank 2, or the one `citrate.json` names) take the label names of its
/// `id2label`.
pub struct TextClassifier {
	model: Encoder,
	tokenizer: Tokenizer,
	labels: Vec<String>,
	output: OutputChoice,
}

impl TextClassifier {
	pub fn new(
		model: impl Into<Encoder>,
		tokenizer_json: &[u8],
		max_tokens: usize,
		labels: Vec<String>,
	) -> Result<Self> {
		Self::with_output(model, tokenizer_json, max_tokens, labels, None)
	}

	/// A classifier reading the model's output `output` when given.
	pub fn with_output(
		model: impl Into<Encoder>,
		tokenizer_json: &[u8],
		max_tokens: usize,
		labels: Vec<String>,
		output: Option<String>,
	) -> Result<Self> {
		let model = model.into();
		let output = model.output(output, &[2], "logits")?;
		Ok(TextClassifier {
			model,
			tokenizer: load_tokenizer(tokenizer_json, max_tokens)?,
			labels,
			output,
		})
	}

	/// Bytes of weights the classifier holds.
	pub fn weight_bytes(&self) -> u64 {
		self.model.weight_bytes()
	}

	/// The `k` most likely labels per text.
	pub fn classify(&self, texts: &[&str], k: usize) -> Result<Output> {
		let mut inputs = encode_texts(&self.tokenizer, texts)?;
		inputs.retain(|t| self.model.takes(&t.name));
		let outputs = self.model.run(&inputs)?;
		let (logits, _) = self.output.pick(&outputs, texts.len())?;
		let (values, classes) = (logits.to_f32().unwrap_or_default(), logits.shape[1] as usize);
		if classes != self.labels.len() {
			return Err(Error::Pipeline(format!(
				"the classifier has {classes} classes and {} labels",
				self.labels.len()
			)));
		}
		Ok(Output::Labels(
			values
				.chunks(classes)
				.map(|row| super::top_k(&super::softmax(row), k, &self.labels))
				.collect(),
		))
	}
}
