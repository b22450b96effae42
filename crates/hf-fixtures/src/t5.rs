//! T5 (`t5-small` on the Hub, `T5ForConditionalGeneration`).
//!
//! Tensor names follow the Hub's `model.safetensors`: one `shared.weight` embedding
//! (`[32128, 512]`) and no `encoder.embed_tokens.weight`, `decoder.embed_tokens.weight` or
//! `lm_head.weight`. All four are the same tensor in the model (`tie_word_embeddings`), and
//! both the safetensors conversion and `save_pretrained` keep only `shared.weight`; the file's
//! 242 MB (60.5 M f32 values) leaves no room for copies. This is from knowledge of how the file
//! was made, not from reading it. T5 has no biases and its layer norms are RMS norms with only a
//! `weight`; the relative-position bias exists on block 0 of each stack only.
//!
//! The tokenizer is SYNTHETIC: no T5 SentencePiece model is available, so a Unigram
//! vocabulary is built with t5-small's layout (`<pad>` = 0, `</s>` = 1, `<unk>` = 2, 31,997
//! pieces, then `<extra_id_99>` .. `<extra_id_0>` at 32000..32099; 32,100 tokens against 32,128
//! embedding rows, as on the Hub). Its pieces are `▁`, common English words (with and
//! without `▁`, some capitalised), single characters, suffixes, then filler letter strings,
//! scored so whole words win. No `spiece.model` is written, and NFKC stands in for the
//! SentencePiece `Precompiled` normaliser.

use std::{collections::HashSet, io, path::Path};

use serde_json::{json, Value};

use crate::{
	card::{self, Card},
	tensors::TensorSpec,
	tokenizer::{added_token, js, template, TokenizerJson},
	words, Size, Written,
};

/// Embedding rows in t5-small (the tokenizer has 32,100; the rest are padding rows).
pub const VOCAB: usize = 32_128;
/// Tokens the tokenizer knows: SentencePiece's 32,000 plus 100 sentinels.
pub const TOKENIZER_VOCAB: usize = 32_100;
const EXTRA_IDS: usize = 100;

pub struct Dims {
	pub vocab_size: usize,
	pub d_model: usize,
	pub d_kv: usize,
	pub d_ff: usize,
	pub num_layers: usize,
	pub num_decoder_layers: usize,
	pub num_heads: usize,
	pub buckets: usize,
}

impl Dims {
	pub fn new(size: Size) -> Self {
		match size {
			Size::Full => Self {
				vocab_size: VOCAB,
				d_model: 512,
				d_kv: 64,
				d_ff: 2048,
				num_layers: 6,
				num_decoder_layers: 6,
				num_heads: 8,
				buckets: 32,
			},
			Size::Tiny => Self {
				vocab_size: VOCAB,
				d_model: 32,
				d_kv: 8,
				d_ff: 128,
				num_layers: 2,
				num_decoder_layers: 2,
				num_heads: 4,
				buckets: 32,
			},
		}
	}

	pub fn plan(&self) -> Vec<TensorSpec> {
		let (d, inner) = (self.d_model, self.d_kv * self.num_heads);
		let attention = |prefix: String, relative: bool| {
			let mut v = vec![
				TensorSpec::normal(format!("{prefix}.q.weight"), &[inner, d]),
				TensorSpec::normal(format!("{prefix}.k.weight"), &[inner, d]),
				TensorSpec::normal(format!("{prefix}.v.weight"), &[inner, d]),
				TensorSpec::normal(format!("{prefix}.o.weight"), &[d, inner]),
			];
			if relative {
				v.push(TensorSpec::normal(
					format!("{prefix}.relative_attention_bias.weight"),
					&[self.buckets, self.num_heads],
				));
			}
			v
		};
		let ffn = |prefix: String| {
			vec![
				TensorSpec::normal(format!("{prefix}.DenseReluDense.wi.weight"), &[self.d_ff, d]),
				TensorSpec::normal(format!("{prefix}.DenseReluDense.wo.weight"), &[d, self.d_ff]),
				TensorSpec::ones(format!("{prefix}.layer_norm.weight"), &[d]),
			]
		};
		let mut plan = vec![TensorSpec::normal("shared.weight", &[self.vocab_size, d])];
		for b in 0..self.num_layers {
			let p = format!("encoder.block.{b}.layer");
			plan.extend(attention(format!("{p}.0.SelfAttention"), b == 0));
			plan.push(TensorSpec::ones(format!("{p}.0.layer_norm.weight"), &[d]));
			plan.extend(ffn(format!("{p}.1")));
		}
		plan.push(TensorSpec::ones("encoder.final_layer_norm.weight", &[d]));
		for b in 0..self.num_decoder_layers {
			let p = format!("decoder.block.{b}.layer");
			plan.extend(attention(format!("{p}.0.SelfAttention"), b == 0));
			plan.push(TensorSpec::ones(format!("{p}.0.layer_norm.weight"), &[d]));
			plan.extend(attention(format!("{p}.1.EncDecAttention"), false));
			plan.push(TensorSpec::ones(format!("{p}.1.layer_norm.weight"), &[d]));
			plan.extend(ffn(format!("{p}.2")));
		}
		plan.push(TensorSpec::ones("decoder.final_layer_norm.weight", &[d]));
		plan
	}

	pub fn config(&self) -> Value {
		let translation = |language: &str| {
			json!({
				"early_stopping": true,
				"max_length": 300,
				"num_beams": 4,
				"prefix": format!("translate English to {language}: "),
			})
		};
		json!({
			"architectures": ["T5ForConditionalGeneration"],
			"d_ff": self.d_ff,
			"d_kv": self.d_kv,
			"d_model": self.d_model,
			"decoder_start_token_id": 0,
			"dropout_rate": 0.1,
			"eos_token_id": 1,
			"feed_forward_proj": "relu",
			"initializer_factor": 1.0,
			"is_encoder_decoder": true,
			"layer_norm_epsilon": 1e-6,
			"model_type": "t5",
			"n_positions": 512,
			"num_decoder_layers": self.num_decoder_layers,
			"num_heads": self.num_heads,
			"num_layers": self.num_layers,
			"output_past": true,
			"pad_token_id": 0,
			"relative_attention_max_distance": 128,
			"relative_attention_num_buckets": self.buckets,
			"task_specific_params": {
				"summarization": {
					"early_stopping": true,
					"length_penalty": 2.0,
					"max_length": 200,
					"min_length": 30,
					"no_repeat_ngram_size": 3,
					"num_beams": 4,
					"prefix": "summarize: ",
				},
				"translation_en_to_de": translation("German"),
				"translation_en_to_fr": translation("French"),
				"translation_en_to_ro": translation("Romanian"),
			},
			"tie_word_embeddings": true,
			"use_cache": true,
			"vocab_size": self.vocab_size,
		})
	}
}

pub fn write(dir: &Path, size: Size, seed: u64) -> io::Result<Written> {
	let dims = Dims::new(size);
	let mut w = Written::new(dir);
	w.json("config.json", &dims.config())?;
	w.json(
		"generation_config.json",
		&json!({
			"_from_model_config": true,
			"decoder_start_token_id": 0,
			"eos_token_id": 1,
			"pad_token_id": 0,
			"transformers_version": "4.27.0.dev0",
		}),
	)?;
	let plan = dims.plan();
	w.safetensors(&plan, seed)?;

	let pieces = pieces();
	let extra = |i: usize| format!("<extra_id_{i}>");
	// Sentinels count down: <extra_id_0> is the last id, as T5Tokenizer numbers them.
	let sentinels: Vec<String> = (0..EXTRA_IDS).rev().map(extra).collect();
	let mut vocab: Vec<String> =
		["<pad>", "</s>", "<unk>"].iter().map(|t| format!("[{}, 0.0]", js(t))).collect();
	for (j, piece) in pieces.iter().enumerate() {
		// Scores fall with rank, like SentencePiece's log-probabilities, so the most common
		// (earliest) pieces win and a whole word beats any split of it.
		let score = -((1000 + j) as f64) / 1000.0;
		vocab.push(format!("[{}, {}]", js(piece), serde_json::to_string(&score).expect("a float")));
	}
	vocab.extend(sentinels.iter().map(|s| format!("[{}, 0.0]", js(s))));
	let model = format!(
		"{{\n    \"type\": \"Unigram\",\n    \"unk_id\": 2,\n    \"vocab\": [\n      {}\n    ],\n    \"byte_fallback\": false\n  }}",
		vocab.join(",\n      ")
	);
	let mut added: Vec<Value> = ["<pad>", "</s>", "<unk>"]
		.iter()
		.enumerate()
		.map(|(i, t)| added_token(i, t, false))
		.collect();
	let first_sentinel = TOKENIZER_VOCAB - EXTRA_IDS;
	added.extend(
		sentinels.iter().enumerate().map(|(i, t)| added_token(first_sentinel + i, t, false)),
	);
	let metaspace =
		json!({"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true});
	let tok = TokenizerJson {
		added_tokens: added,
		normalizer: json!({
			"type": "Sequence",
			"normalizers": [
				{"type": "NFKC"},
				{"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
			],
		}),
		pre_tokenizer: metaspace.clone(),
		post_processor: template(&["$A", "</s>"], &["$A", "</s>", "$B", "</s>"], &[("</s>", 1)]),
		decoder: metaspace,
		model,
	};
	w.file("tokenizer.json", |p| tok.write(p))?;
	let additional: Vec<String> = (0..EXTRA_IDS).map(extra).collect();
	w.json(
		"tokenizer_config.json",
		&json!({
			"additional_special_tokens": additional,
			"eos_token": "</s>",
			"extra_ids": EXTRA_IDS,
			"model_max_length": 512,
			"pad_token": "<pad>",
			"tokenizer_class": "T5Tokenizer",
			"unk_token": "<unk>",
		}),
	)?;
	w.json(
		"special_tokens_map.json",
		&json!({
			"additional_special_tokens": additional,
			"eos_token": "</s>",
			"pad_token": "<pad>",
			"unk_token": "<unk>",
		}),
	)?;
	let card = Card {
		front_matter: "language:\n- en\n- fr\n- ro\n- de\n- multilingual\nlicense: apache-2.0\nlibrary_name: transformers\npipeline_tag: translation\ntags:\n- summarization\n- translation\ndatasets:\n- c4",
		hub_id: "t5-small",
		about: "T5 small is Google's 60M-parameter text-to-text encoder-decoder, pretrained on C4 \
		        and trained for translation and summarisation via task prefixes. This fixture's \
		        tokenizer is synthetic (no SentencePiece model), so ids differ from the real one.",
	};
	w.file("README.md", |_| card::write(dir, &card, size, seed))?;
	Ok(w.finish(plan, TOKENIZER_VOCAB))
}

/// The 31,997 ordinary pieces between `<unk>` and the sentinels.
fn pieces() -> Vec<String> {
	let target = TOKENIZER_VOCAB - 3 - EXTRA_IDS;
	let mut out = Vec::with_capacity(target);
	let mut seen = HashSet::new();
	let mut push = |p: String, out: &mut Vec<String>| {
		if out.len() < target && seen.insert(p.clone()) {
			out.push(p);
		}
	};
	push("▁".into(), &mut out);
	for (rank, word) in words::WORDS.iter().enumerate() {
		push(format!("▁{word}"), &mut out);
		if rank < 200 {
			push(format!("▁{}", words::capitalised(word)), &mut out);
		}
	}
	let chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?;:'\"-()[]{}/&%$#@*+=<>_~`|\\^";
	for c in chars.chars() {
		push(c.to_string(), &mut out);
		push(format!("▁{c}"), &mut out);
	}
	for word in words::WORDS.iter().take(300) {
		push(word.to_string(), &mut out);
	}
	for suffix in
		["s", "es", "ed", "ing", "ly", "er", "est", "ion", "tion", "ness", "ment", "'s", "n't"]
	{
		push(suffix.to_string(), &mut out);
	}
	// Filler: every lowercase string of length 2, then 3, ..., with and without `▁`.
	let mut len = 2u32;
	while out.len() < target {
		for n in 0..26usize.pow(len) {
			let s: String = (0..len)
				.rev()
				.map(|k| char::from(b'a' + (n / 26usize.pow(k) % 26) as u8))
				.collect();
			push(s.clone(), &mut out);
			push(format!("▁{s}"), &mut out);
		}
		len += 1;
	}
	out
}
