//! Fill-mask: the likeliest tokens where a text has its tokenizer's mask token (`[MASK]` for
//! BERT, `<mask>` for RoBERTa-style vocabularies).
//!
//! The result has one row of labels per mask, texts in order and masks left to right within a
//! text, as Hugging Face's `fill-mask` pipeline lists them: the `k` likeliest tokens, scored by
//! the softmax over the whole vocabulary at that position; a label's id is the token's id and
//! its name the token as text. A text without a mask is refused, naming it.

use super::{softmax, text::encode_texts, top_k, Output};
use crate::{candle::bert::BertMaskedLm, codec::Tensor, Error, Result};
use tokenizers::Tokenizer;

/// Mask tokens of the vocabularies in use, tried in order.
const MASK_TOKENS: [&str; 2] = ["[MASK]", "<mask>"];

/// A masked language model and its tokenizer.
pub struct FillMask {
	model: BertMaskedLm,
	tokenizer: Tokenizer,
	mask: (String, u32),
	/// Every token as text, by id (label names).
	tokens: Vec<String>,
}

impl FillMask {
	/// The fill-mask pipeline of `model` with its `tokenizer.json`; refused when the vocabulary
	/// has no mask token or does not match the model's.
	pub fn new(model: BertMaskedLm, tokenizer_json: &[u8], max_tokens: usize) -> Result<Self> {
		let tokenizer = super::text::load_tokenizer(tokenizer_json, max_tokens)?;
		let mask = MASK_TOKENS
			.iter()
			.find_map(|token| tokenizer.token_to_id(token).map(|id| (token.to_string(), id)))
			.ok_or_else(|| {
				Error::InvalidModel(format!(
					"tokenizer.json: no mask token ({})",
					MASK_TOKENS.join(" or ")
				))
			})?;
		let vocab = tokenizer.get_vocab_size(true);
		if vocab > model.vocab_size() {
			return Err(Error::InvalidModel(format!(
				"tokenizer.json has {vocab} tokens; the model's vocabulary has {}",
				model.vocab_size()
			)));
		}
		let tokens = (0..model.vocab_size() as u32)
			.map(|id| {
				let token = tokenizer.id_to_token(id).unwrap_or_default();
				// WordPiece continuations read as the text they add.
				token.strip_prefix("##").map(str::to_string).unwrap_or(token)
			})
			.collect();
		Ok(FillMask { model, tokenizer, mask, tokens })
	}

	/// The mask token texts must contain.
	pub fn mask_token(&self) -> &str {
		&self.mask.0
	}

	/// Bytes of weights the model holds.
	pub fn weight_bytes(&self) -> u64 {
		self.model.weight_bytes()
	}

	/// The `k` likeliest tokens at every mask of `texts`.
	pub fn fill(&self, texts: &[&str], k: usize) -> Result<Output> {
		let inputs = encode_texts(&self.tokenizer, texts)?;
		let ids = inputs
			.iter()
			.find(|t| t.name == "input_ids")
			.and_then(Tensor::to_i64)
			.ok_or_else(|| Error::Pipeline("the tokenizer gave no input_ids".into()))?;
		let sequence = ids.len() / texts.len();
		let mut positions = vec![];
		for (row, tokens) in ids.chunks(sequence.max(1)).enumerate() {
			let before = positions.len();
			positions.extend(
				(0..tokens.len())
					.filter(|&i| tokens[i] == i64::from(self.mask.1))
					.map(|i| (row, i)),
			);
			if positions.len() == before {
				return Err(Error::Pipeline(format!(
					"text {} has no {} token (after truncation to the model's length)",
					row + 1,
					self.mask.0
				)));
			}
		}
		let logits = self.model.logits_at(&inputs, &positions)?;
		Ok(Output::Labels(logits.iter().map(|row| top_k(&softmax(row), k, &self.tokens)).collect()))
	}
}
