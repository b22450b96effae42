//! GPT-2 (`gpt2` on the Hub, `GPT2LMHeadModel`).
//!
//! Tensor names are those of the Hub's `model.safetensors`: no `transformer.` prefix (the
//! checkpoint predates `GPT2LMHeadModel`'s wrapper), Conv1D weights stored `[in, out]`, no
//! `lm_head.weight` (tied to `wte.weight`), and each layer's `h.{i}.attn.bias` causal-mask
//! buffer (`[1, 1, 1024, 1024]` f32, lower-triangular ones), which the 2019 checkpoint
//! persisted and transformers now ignores on load. The Hub file has no `attn.masked_bias`.
//!
//! The tokenizer is GPT-2's byte-level BPE. Its real vocabulary and merges are read from a
//! `tokenizer.json` that holds them (Whisper tiny.en's does, ids 0..50255 plus
//! `<|endoftext|>` = 50256); without one, a Tiny checkpoint gets a small synthetic byte-level
//! BPE (256 byte tokens, merges learned from a built-in word list, `<|endoftext|>` last) and a
//! matching `vocab_size`.

use std::{collections::HashSet, io, path::Path};

use serde_json::{json, Value};

use crate::{
	card::{self, Card},
	tensors::{layer_norm, TensorSpec},
	tokenizer::{self, added_token, byte_level, byte_symbols, Bpe, TokenizerJson},
	words, Init, Role, Size, Written,
};

/// GPT-2's vocabulary: 50,000 merges on top of 256 bytes, plus `<|endoftext|>`.
pub const VOCAB: usize = 50_257;
const MERGES: usize = 50_000;
const EOT: &str = "<|endoftext|>";

/// Model dimensions.
pub struct Dims {
	pub vocab_size: usize,
	pub n_embd: usize,
	pub n_layer: usize,
	pub n_head: usize,
	pub n_positions: usize,
}

impl Dims {
	pub fn new(size: Size, vocab_size: usize) -> Self {
		match size {
			Size::Full => {
				Self { vocab_size, n_embd: 768, n_layer: 12, n_head: 12, n_positions: 1024 }
			}
			Size::Tiny => Self { vocab_size, n_embd: 32, n_layer: 2, n_head: 4, n_positions: 128 },
		}
	}

	pub fn plan(&self) -> Vec<TensorSpec> {
		let (e, p) = (self.n_embd, self.n_positions);
		let mut plan = vec![
			TensorSpec::normal("wte.weight", &[self.vocab_size, e]),
			TensorSpec::normal("wpe.weight", &[p, e]),
		];
		for i in 0..self.n_layer {
			let h = format!("h.{i}");
			plan.extend(layer_norm(&format!("{h}.ln_1"), e));
			plan.push(
				TensorSpec::f32(format!("{h}.attn.bias"), &[1, 1, p, p], Init::LowerTriangular)
					.with_role(Role::Buffer),
			);
			plan.extend(conv1d(&format!("{h}.attn.c_attn"), e, 3 * e));
			plan.extend(conv1d(&format!("{h}.attn.c_proj"), e, e));
			plan.extend(layer_norm(&format!("{h}.ln_2"), e));
			plan.extend(conv1d(&format!("{h}.mlp.c_fc"), e, 4 * e));
			plan.extend(conv1d(&format!("{h}.mlp.c_proj"), 4 * e, e));
		}
		plan.extend(layer_norm("ln_f", e));
		plan
	}

	pub fn config(&self) -> Value {
		let eos = self.vocab_size - 1;
		json!({
			"activation_function": "gelu_new",
			"architectures": ["GPT2LMHeadModel"],
			"attn_pdrop": 0.1,
			"bos_token_id": eos,
			"embd_pdrop": 0.1,
			"eos_token_id": eos,
			"initializer_range": 0.02,
			"layer_norm_epsilon": 1e-5,
			"model_type": "gpt2",
			"n_ctx": self.n_positions,
			"n_embd": self.n_embd,
			"n_head": self.n_head,
			"n_inner": null,
			"n_layer": self.n_layer,
			"n_positions": self.n_positions,
			"resid_pdrop": 0.1,
			"summary_activation": null,
			"summary_first_dropout": 0.1,
			"summary_proj_to_labels": true,
			"summary_type": "cls_index",
			"summary_use_proj": true,
			"task_specific_params": {"text-generation": {"do_sample": true, "max_length": 50}},
			"vocab_size": self.vocab_size,
		})
	}
}

/// GPT-2's `Conv1D`: weight `[in, out]`, bias `[out]`.
fn conv1d(prefix: &str, inp: usize, out: usize) -> [TensorSpec; 2] {
	[
		TensorSpec::normal(format!("{prefix}.weight"), &[inp, out]),
		TensorSpec::zeros(format!("{prefix}.bias"), &[out]),
	]
}

pub fn write(dir: &Path, size: Size, seed: u64, source: Option<&Path>) -> io::Result<Written> {
	let bpe = match source {
		Some(path) => real_bpe(path)?,
		None if size == Size::Full => {
			return Err(io::Error::new(
				io::ErrorKind::NotFound,
				"a full-size GPT-2 needs GPT-2's real vocabulary: pass the tokenizer.json of \
				 Whisper tiny.en (e.g. $HOME/.cache/citrate/models/whisper-tiny-en-ct2/tokenizer.json)",
			))
		}
		None => synthetic_bpe(),
	};
	let dims = Dims::new(size, bpe.vocab.len());
	let eos = dims.vocab_size - 1;
	let mut w = Written::new(dir);
	w.json("config.json", &dims.config())?;
	w.json(
		"generation_config.json",
		&json!({
			"_from_model_config": true,
			"bos_token_id": eos,
			"eos_token_id": eos,
			"transformers_version": "4.26.0.dev0",
		}),
	)?;
	let plan = dims.plan();
	w.safetensors(&plan, seed)?;

	let byte_level_part = |add_prefix_space: bool, trim_offsets: bool| json!({"type": "ByteLevel", "add_prefix_space": add_prefix_space, "trim_offsets": trim_offsets, "use_regex": true});
	let tok = TokenizerJson {
		added_tokens: vec![added_token(eos, EOT, true)],
		normalizer: Value::Null,
		pre_tokenizer: byte_level_part(false, true),
		post_processor: byte_level_part(true, false),
		decoder: byte_level_part(true, true),
		model: bpe.model_json(),
	};
	w.bpe_tokenizer(&tok, &bpe)?;
	w.json(
		"tokenizer_config.json",
		&json!({
			"add_prefix_space": false,
			"bos_token": EOT,
			"eos_token": EOT,
			"model_max_length": dims.n_positions,
			"tokenizer_class": "GPT2Tokenizer",
			"unk_token": EOT,
		}),
	)?;
	let card = Card {
		front_matter: "language: en\nlicense: mit\nlibrary_name: transformers\npipeline_tag: text-generation\ntags:\n- exbert",
		hub_id: "gpt2",
		about: "GPT-2 is a causal language model pretrained by OpenAI on English web text (WebText).",
	};
	w.file("README.md", |_| card::write(dir, &card, size, seed))?;
	Ok(w.finish(plan, dims.vocab_size))
}

/// Reads GPT-2's vocabulary (ids 0..50256) and 50,000 merges from a `tokenizer.json`.
fn real_bpe(path: &Path) -> io::Result<Bpe> {
	let json = crate::read_json(path)?;
	let bad = |what: &str| {
		io::Error::new(io::ErrorKind::InvalidData, format!("{}: {what}", path.display()))
	};
	let vocab = json["model"]["vocab"].as_object().ok_or_else(|| bad("no model.vocab"))?;
	let mut tokens = vec![String::new(); VOCAB];
	for (tok, id) in vocab {
		let id = id.as_u64().ok_or_else(|| bad("non-integer id"))? as usize;
		if id < VOCAB {
			tokens[id] = tok.clone();
		}
	}
	if tokens.iter().any(String::is_empty) || tokens[VOCAB - 1] != EOT {
		return Err(bad("not GPT-2's vocabulary (ids 0..50256 with <|endoftext|> = 50256)"));
	}
	let merges =
		crate::read_merges(&json["model"]["merges"]).ok_or_else(|| bad("bad model.merges"))?;
	if merges.len() != MERGES {
		return Err(bad("not GPT-2's 50,000 merges"));
	}
	Ok(Bpe { vocab: tokens, merges, unk_token: None, end_of_word_suffix: String::new() })
}

/// A small byte-level BPE learned from the built-in word list, for Tiny checkpoints.
fn synthetic_bpe() -> Bpe {
	let mut corpus = Vec::new();
	for (rank, word) in words::WORDS.iter().enumerate() {
		let w = words::weight(rank);
		for (text, weight) in [
			(format!(" {word}"), w),
			(words::capitalised(word), w / 4 + 1),
			(format!(" {}", words::capitalised(word)), w / 8 + 1),
		] {
			corpus.push((byte_level(&text).chars().map(String::from).collect(), weight));
		}
	}
	let vocab = byte_symbols();
	let mut known: HashSet<String> = vocab.iter().cloned().collect();
	let mut bpe =
		Bpe { vocab, merges: Vec::new(), unk_token: None, end_of_word_suffix: String::new() };
	bpe.extend_merges(&mut known, tokenizer::learn_merges(&corpus, 1500), 1500);
	bpe.vocab.push(EOT.to_string());
	bpe
}
