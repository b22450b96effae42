//! BERT: `bert-base-uncased` (`BertForMaskedLM`) and a sentiment classifier fine-tuned from it
//! (`BertForSequenceClassification`, labels NEGATIVE/POSITIVE).
//!
//! The masked-LM checkpoint imitates the Hub's `bert-base-uncased/model.safetensors`, which was
//! converted from the original 2018 TensorFlow checkpoint and so:
//!
//! * names every LayerNorm's parameters `gamma`/`beta`, not `weight`/`bias` (transformers
//!   renames them on load; candle's BERT falls back to them);
//! * is a `BertForPreTraining` state dict: it also holds `bert.pooler.dense.*` and the
//!   next-sentence head `cls.seq_relationship.*`, which `BertForMaskedLM` does not use
//!   (marked [`Role::Unused`], so they are not counted as its parameters);
//! * has `cls.predictions.bias` but no `cls.predictions.decoder.weight` (tied to the word
//!   embeddings) and no `decoder.bias` (tied to `cls.predictions.bias`), and no
//!   `position_ids` buffer (the 2018 checkpoint predates it).
//!
//! That layout gives a 440 MB file, the size the Hub lists. The classifier imitates a model
//! fine-tuned and saved by a recent transformers release: `weight`/`bias` names, the pooler,
//! `classifier.{weight,bias}`, and no `position_ids` (non-persistent since transformers 4.31).
//!
//! The tokenizer is bert-base-uncased's WordPiece. Its real 30,522-token vocabulary is read
//! from a `vocab.txt` (or a `tokenizer.json` holding it, e.g. all-MiniLM-L6-v2's); without one,
//! a Tiny checkpoint gets a small synthetic vocabulary with the same special-token ids.

use std::{collections::HashSet, io, path::Path};

use serde_json::{json, Value};

use crate::{
	card::{self, Card},
	tensors::{linear, TensorSpec},
	tokenizer::{added_token, template, vocab_object, TokenizerJson},
	words, Role, Size, Written,
};

/// bert-base-uncased's vocabulary size.
pub const VOCAB: usize = 30_522;

/// Which head the checkpoint carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Head {
	MaskedLm,
	SequenceClassification,
}

const LABELS: [&str; 2] = ["NEGATIVE", "POSITIVE"];
const SPECIALS: [(&str, usize); 5] =
	[("[PAD]", 0), ("[UNK]", 100), ("[CLS]", 101), ("[SEP]", 102), ("[MASK]", 103)];

pub struct Dims {
	pub head: Head,
	pub vocab_size: usize,
	pub hidden: usize,
	pub layers: usize,
	pub heads: usize,
	pub intermediate: usize,
	pub max_positions: usize,
}

impl Dims {
	pub fn new(head: Head, size: Size, vocab_size: usize) -> Self {
		let (hidden, layers, heads) = match size {
			Size::Full => (768, 12, 12),
			Size::Tiny => (32, 2, 4),
		};
		Self {
			head,
			vocab_size,
			hidden,
			layers,
			heads,
			intermediate: 4 * hidden,
			max_positions: 512,
		}
	}

	pub fn plan(&self) -> Vec<TensorSpec> {
		let (h, i) = (self.hidden, self.intermediate);
		// The 2018 checkpoint's LayerNorm names; the fine-tuned classifier uses today's.
		let ln = |prefix: &str| -> [TensorSpec; 2] {
			let (w, b) = match self.head {
				Head::MaskedLm => ("gamma", "beta"),
				Head::SequenceClassification => ("weight", "bias"),
			};
			[
				TensorSpec::ones(format!("{prefix}.{w}"), &[h]),
				TensorSpec::zeros(format!("{prefix}.{b}"), &[h]),
			]
		};
		let mut plan = vec![
			TensorSpec::normal("bert.embeddings.word_embeddings.weight", &[self.vocab_size, h]),
			TensorSpec::normal(
				"bert.embeddings.position_embeddings.weight",
				&[self.max_positions, h],
			),
			TensorSpec::normal("bert.embeddings.token_type_embeddings.weight", &[2, h]),
		];
		plan.extend(ln("bert.embeddings.LayerNorm"));
		for l in 0..self.layers {
			let p = format!("bert.encoder.layer.{l}");
			for proj in ["query", "key", "value"] {
				plan.extend(linear(&format!("{p}.attention.self.{proj}"), h, h));
			}
			plan.extend(linear(&format!("{p}.attention.output.dense"), h, h));
			plan.extend(ln(&format!("{p}.attention.output.LayerNorm")));
			plan.extend(linear(&format!("{p}.intermediate.dense"), i, h));
			plan.extend(linear(&format!("{p}.output.dense"), h, i));
			plan.extend(ln(&format!("{p}.output.LayerNorm")));
		}
		match self.head {
			Head::MaskedLm => {
				plan.extend(linear("bert.pooler.dense", h, h).map(|t| t.with_role(Role::Unused)));
				plan.push(TensorSpec::zeros("cls.predictions.bias", &[self.vocab_size]));
				plan.extend(linear("cls.predictions.transform.dense", h, h));
				plan.extend(ln("cls.predictions.transform.LayerNorm"));
				plan.extend(
					linear("cls.seq_relationship", 2, h).map(|t| t.with_role(Role::Unused)),
				);
			}
			Head::SequenceClassification => {
				plan.extend(linear("bert.pooler.dense", h, h));
				plan.extend(linear("classifier", LABELS.len(), h));
			}
		}
		plan
	}

	pub fn config(&self) -> Value {
		let mut config = json!({
			"architectures": ["BertForMaskedLM"],
			"attention_probs_dropout_prob": 0.1,
			"gradient_checkpointing": false,
			"hidden_act": "gelu",
			"hidden_dropout_prob": 0.1,
			"hidden_size": self.hidden,
			"initializer_range": 0.02,
			"intermediate_size": self.intermediate,
			"layer_norm_eps": 1e-12,
			"max_position_embeddings": self.max_positions,
			"model_type": "bert",
			"num_attention_heads": self.heads,
			"num_hidden_layers": self.layers,
			"pad_token_id": 0,
			"position_embedding_type": "absolute",
			"transformers_version": "4.6.0.dev0",
			"type_vocab_size": 2,
			"use_cache": true,
			"vocab_size": self.vocab_size,
		});
		if self.head == Head::SequenceClassification {
			let id2label: serde_json::Map<String, Value> =
				LABELS.iter().enumerate().map(|(i, l)| (i.to_string(), json!(l))).collect();
			let label2id: serde_json::Map<String, Value> =
				LABELS.iter().enumerate().map(|(i, l)| (l.to_string(), json!(i))).collect();
			let c = config.as_object_mut().expect("an object");
			c.insert("architectures".into(), json!(["BertForSequenceClassification"]));
			c.insert("_name_or_path".into(), json!("bert-base-uncased"));
			c.insert("classifier_dropout".into(), Value::Null);
			c.insert("finetuning_task".into(), json!("sst2"));
			c.insert("id2label".into(), Value::Object(id2label));
			c.insert("label2id".into(), Value::Object(label2id));
			c.insert("problem_type".into(), json!("single_label_classification"));
			c.insert("torch_dtype".into(), json!("float32"));
			c.insert("transformers_version".into(), json!("4.44.2"));
			c.remove("gradient_checkpointing");
		}
		config
	}
}

pub fn write(
	dir: &Path,
	head: Head,
	size: Size,
	seed: u64,
	source: Option<&Path>,
) -> io::Result<Written> {
	let vocab = match source {
		Some(path) => real_vocab(path)?,
		None if size == Size::Full => {
			return Err(io::Error::new(
				io::ErrorKind::NotFound,
				"a full-size BERT needs bert-base-uncased's vocabulary: pass its vocab.txt \
				 (e.g. $HOME/.cache/citrate/models/all-minilm-l6-v2/vocab.txt)",
			))
		}
		None => synthetic_vocab(),
	};
	let dims = Dims::new(head, size, vocab.len());
	let mut w = Written::new(dir);
	w.json("config.json", &dims.config())?;
	let plan = dims.plan();
	w.safetensors(&plan, seed)?;

	let model = format!(
		"{{\n    \"type\": \"WordPiece\",\n    \"unk_token\": \"[UNK]\",\n    \"continuing_subword_prefix\": \"##\",\n    \"max_input_chars_per_word\": 100,\n    \"vocab\": {}\n  }}",
		vocab_object(&vocab, 6)
	);
	let tok = TokenizerJson {
		added_tokens: SPECIALS.iter().map(|(t, id)| added_token(*id, t, false)).collect(),
		normalizer: json!({
			"type": "BertNormalizer",
			"clean_text": true,
			"handle_chinese_chars": true,
			"strip_accents": null,
			"lowercase": true,
		}),
		pre_tokenizer: json!({"type": "BertPreTokenizer"}),
		post_processor: template(
			&["[CLS]", "$A", "[SEP]"],
			&["[CLS]", "$A", "[SEP]", "$B", "[SEP]"],
			&[("[CLS]", 101), ("[SEP]", 102)],
		),
		decoder: json!({"type": "WordPiece", "prefix": "##", "cleanup": true}),
		model,
	};
	w.file("tokenizer.json", |p| tok.write(p))?;
	w.file("vocab.txt", |p| std::fs::write(p, vocab.join("\n") + "\n"))?;
	w.json(
		"tokenizer_config.json",
		&json!({
			"clean_up_tokenization_spaces": true,
			"cls_token": "[CLS]",
			"do_lower_case": true,
			"mask_token": "[MASK]",
			"model_max_length": 512,
			"pad_token": "[PAD]",
			"sep_token": "[SEP]",
			"strip_accents": null,
			"tokenize_chinese_chars": true,
			"tokenizer_class": "BertTokenizer",
			"unk_token": "[UNK]",
		}),
	)?;
	w.json(
		"special_tokens_map.json",
		&json!({
			"cls_token": "[CLS]",
			"mask_token": "[MASK]",
			"pad_token": "[PAD]",
			"sep_token": "[SEP]",
			"unk_token": "[UNK]",
		}),
	)?;
	let card = match head {
		Head::MaskedLm => Card {
			front_matter: "language: en\nlicense: apache-2.0\nlibrary_name: transformers\npipeline_tag: fill-mask\ntags:\n- exbert\ndatasets:\n- bookcorpus\n- wikipedia",
			hub_id: "bert-base-uncased",
			about: "BERT base (uncased) is a transformer encoder pretrained by Google on English \
			        text with masked language modelling and next-sentence prediction.",
		},
		Head::SequenceClassification => Card {
			front_matter: "language: en\nlicense: apache-2.0\nlibrary_name: transformers\npipeline_tag: text-classification\nbase_model: bert-base-uncased\ntags:\n- text-classification\n- sentiment-analysis\ndatasets:\n- glue",
			hub_id: "bert-base-uncased-sst2",
			about: "A binary sentiment classifier (NEGATIVE/POSITIVE) fine-tuned from \
			        bert-base-uncased on GLUE SST-2.",
		},
	};
	w.file("README.md", |_| card::write(dir, &card, size, seed))?;
	Ok(w.finish(plan, dims.vocab_size))
}

/// Reads bert-base-uncased's vocabulary from a `vocab.txt` or a `tokenizer.json`.
fn real_vocab(path: &Path) -> io::Result<Vec<String>> {
	let bad = |what: &str| {
		io::Error::new(io::ErrorKind::InvalidData, format!("{}: {what}", path.display()))
	};
	let vocab: Vec<String> = if path.extension().is_some_and(|e| e == "txt") {
		std::fs::read_to_string(path)?.lines().map(str::to_string).collect()
	} else {
		let json = crate::read_json(path)?;
		let map = json["model"]["vocab"].as_object().ok_or_else(|| bad("no model.vocab"))?;
		let mut tokens = vec![String::new(); map.len()];
		for (tok, id) in map {
			let id =
				id.as_u64().filter(|&id| (id as usize) < map.len()).ok_or_else(|| bad("bad id"))?;
			tokens[id as usize] = tok.clone();
		}
		tokens
	};
	if vocab.len() != VOCAB || SPECIALS.iter().any(|(t, id)| vocab[*id] != *t) {
		return Err(bad("not bert-base-uncased's 30,522-token vocabulary"));
	}
	Ok(vocab)
}

/// A small WordPiece vocabulary with bert-base-uncased's special-token ids, for Tiny.
fn synthetic_vocab() -> Vec<String> {
	let mut vocab = vec!["[PAD]".to_string()];
	vocab.extend((0..99).map(|i| format!("[unused{i}]")));
	vocab.extend(["[UNK]", "[CLS]", "[SEP]", "[MASK]"].map(String::from));
	let mut seen: HashSet<String> = vocab.iter().cloned().collect();
	let mut push = |t: String, vocab: &mut Vec<String>| {
		if seen.insert(t.clone()) {
			vocab.push(t);
		}
	};
	for c in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~0123456789abcdefghijklmnopqrstuvwxyz".chars() {
		push(c.to_string(), &mut vocab);
	}
	for word in words::WORDS {
		push(word.to_string(), &mut vocab);
	}
	for c in "0123456789abcdefghijklmnopqrstuvwxyz".chars() {
		push(format!("##{c}"), &mut vocab);
	}
	for suffix in ["s", "es", "ed", "ing", "ly", "er", "est", "ion", "tion", "ness", "ment"] {
		push(format!("##{suffix}"), &mut vocab);
	}
	vocab
}
