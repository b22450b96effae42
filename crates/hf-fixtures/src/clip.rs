//! CLIP (`openai/clip-vit-base-patch32` on the Hub, `CLIPModel`).
//!
//! Tensor names follow the Hub's `model.safetensors`, converted from a `pytorch_model.bin`
//! saved in 2021, when `position_ids` were persistent buffers: the file therefore carries
//! `text_model.embeddings.position_ids` (`[1, 77]`) and `vision_model.embeddings.position_ids`
//! (`[1, 50]`) as i64, which transformers ≥ 4.31 ignores on load (they are listed in such load
//! warnings for the sibling `clip-vit-large-patch14`; that this file has them too is inferred
//! from its age). The patch embedding is a bias-free `[768, 3, 32, 32]` convolution, the
//! vision tower's first norm is spelt `pre_layrnorm` (sic), and `logit_scale` is a scalar
//! (`[]`) initialised to 2.6592 = ln(1 / 0.07).
//!
//! The tokenizer is SYNTHETIC but has CLIP's layout: 256 byte symbols, the same 256 with the
//! `</w>` end-of-word suffix, 48,894 merges (learned from a built-in English word list, then
//! filler merges of letter strings), `<|startoftext|>` = 49406 and `<|endoftext|>` = 49407,
//! 49,408 tokens in all, with CLIP's lower-casing normaliser, split regex and
//! start/end-wrapping post-processor. Token ids therefore differ from the real CLIP's.

use std::{collections::HashSet, io, path::Path};

use serde_json::{json, Value};

use crate::{
	card::{self, Card},
	tensors::{layer_norm, linear, Dtype, TensorSpec},
	tokenizer::{self, added_token, byte_symbols, Bpe, TokenizerJson},
	words, Init, Role, Size, Written,
};

/// CLIP's vocabulary size.
pub const VOCAB: usize = 49_408;
const MERGES: usize = VOCAB - 512 - 2;
const SOT: &str = "<|startoftext|>";
const EOT: &str = "<|endoftext|>";
/// ln(1 / 0.07), CLIP's initial temperature.
const LOGIT_SCALE: f32 = 2.6592;

/// One transformer tower.
pub struct Tower {
	pub hidden: usize,
	pub intermediate: usize,
	pub layers: usize,
	pub heads: usize,
}

pub struct Dims {
	pub text: Tower,
	pub vision: Tower,
	pub projection_dim: usize,
	pub vocab_size: usize,
	pub max_positions: usize,
	pub image_size: usize,
	pub patch_size: usize,
}

impl Dims {
	pub fn new(size: Size) -> Self {
		let tower =
			|hidden, layers, heads| Tower { hidden, intermediate: 4 * hidden, layers, heads };
		let (text, vision, projection_dim) = match size {
			Size::Full => (tower(512, 12, 8), tower(768, 12, 12), 512),
			Size::Tiny => (tower(32, 2, 4), tower(32, 2, 4), 32),
		};
		Self {
			text,
			vision,
			projection_dim,
			vocab_size: VOCAB,
			max_positions: 77,
			image_size: 224,
			patch_size: 32,
		}
	}

	fn num_positions(&self) -> usize {
		(self.image_size / self.patch_size).pow(2) + 1
	}

	pub fn plan(&self) -> Vec<TensorSpec> {
		let (ht, hv) = (self.text.hidden, self.vision.hidden);
		let position_ids = |name: &str, n: usize| TensorSpec {
			name: name.into(),
			shape: vec![1, n],
			dtype: Dtype::I64,
			init: Init::Arange,
			role: Role::Buffer,
		};
		let mut plan = vec![
			TensorSpec::normal(
				"text_model.embeddings.token_embedding.weight",
				&[self.vocab_size, ht],
			),
			TensorSpec::normal(
				"text_model.embeddings.position_embedding.weight",
				&[self.max_positions, ht],
			),
			position_ids("text_model.embeddings.position_ids", self.max_positions),
		];
		encoder(&mut plan, "text_model.encoder", &self.text);
		plan.extend(layer_norm("text_model.final_layer_norm", ht));
		let p = self.patch_size;
		plan.extend([
			TensorSpec::normal("vision_model.embeddings.class_embedding", &[hv]),
			TensorSpec::normal("vision_model.embeddings.patch_embedding.weight", &[hv, 3, p, p]),
			TensorSpec::normal(
				"vision_model.embeddings.position_embedding.weight",
				&[self.num_positions(), hv],
			),
			position_ids("vision_model.embeddings.position_ids", self.num_positions()),
		]);
		plan.extend(layer_norm("vision_model.pre_layrnorm", hv));
		encoder(&mut plan, "vision_model.encoder", &self.vision);
		plan.extend(layer_norm("vision_model.post_layernorm", hv));
		plan.push(TensorSpec::normal("visual_projection.weight", &[self.projection_dim, hv]));
		plan.push(TensorSpec::normal("text_projection.weight", &[self.projection_dim, ht]));
		plan.push(TensorSpec::f32("logit_scale", &[], Init::Constant(LOGIT_SCALE)));
		plan
	}

	pub fn config(&self) -> Value {
		let tower = |t: &Tower, model_type: &str| {
			json!({
				"attention_dropout": 0.0,
				"dropout": 0.0,
				"hidden_act": "quick_gelu",
				"hidden_size": t.hidden,
				"initializer_factor": 1.0,
				"initializer_range": 0.02,
				"intermediate_size": t.intermediate,
				"layer_norm_eps": 1e-5,
				"model_type": model_type,
				"num_attention_heads": t.heads,
				"num_hidden_layers": t.layers,
				"projection_dim": self.projection_dim,
			})
		};
		let mut text = tower(&self.text, "clip_text_model");
		let t = text.as_object_mut().expect("an object");
		t.insert("bos_token_id".into(), json!(VOCAB - 2));
		t.insert("eos_token_id".into(), json!(VOCAB - 1));
		t.insert("pad_token_id".into(), json!(1));
		t.insert("max_position_embeddings".into(), json!(self.max_positions));
		t.insert("vocab_size".into(), json!(self.vocab_size));
		let mut vision = tower(&self.vision, "clip_vision_model");
		let v = vision.as_object_mut().expect("an object");
		v.insert("image_size".into(), json!(self.image_size));
		v.insert("num_channels".into(), json!(3));
		v.insert("patch_size".into(), json!(self.patch_size));
		json!({
			"architectures": ["CLIPModel"],
			"initializer_factor": 1.0,
			"logit_scale_init_value": LOGIT_SCALE,
			"model_type": "clip",
			"projection_dim": self.projection_dim,
			"text_config": text,
			"torch_dtype": "float32",
			"transformers_version": "4.16.0.dev0",
			"vision_config": vision,
		})
	}
}

fn encoder(plan: &mut Vec<TensorSpec>, prefix: &str, t: &Tower) {
	for i in 0..t.layers {
		let p = format!("{prefix}.layers.{i}");
		for proj in ["k_proj", "v_proj", "q_proj", "out_proj"] {
			plan.extend(linear(&format!("{p}.self_attn.{proj}"), t.hidden, t.hidden));
		}
		plan.extend(layer_norm(&format!("{p}.layer_norm1"), t.hidden));
		plan.extend(linear(&format!("{p}.mlp.fc1"), t.intermediate, t.hidden));
		plan.extend(linear(&format!("{p}.mlp.fc2"), t.hidden, t.intermediate));
		plan.extend(layer_norm(&format!("{p}.layer_norm2"), t.hidden));
	}
}

pub fn write(dir: &Path, size: Size, seed: u64) -> io::Result<Written> {
	let dims = Dims::new(size);
	let mut w = Written::new(dir);
	w.json("config.json", &dims.config())?;
	let plan = dims.plan();
	w.safetensors(&plan, seed)?;

	let bpe = synthetic_bpe();
	let tok = TokenizerJson {
		added_tokens: vec![added_token(VOCAB - 2, SOT, true), added_token(VOCAB - 1, EOT, true)],
		normalizer: json!({
			"type": "Sequence",
			"normalizers": [
				{"type": "NFC"},
				{"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "},
				{"type": "Lowercase"},
			],
		}),
		pre_tokenizer: json!({
			"type": "Sequence",
			"pretokenizers": [
				{
					"type": "Split",
					"pattern": {"Regex": "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+"},
					"behavior": "Removed",
					"invert": true,
				},
				{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false},
			],
		}),
		post_processor: json!({
			"type": "RobertaProcessing",
			"sep": [EOT, VOCAB - 1],
			"cls": [SOT, VOCAB - 2],
			"trim_offsets": false,
			"add_prefix_space": false,
		}),
		decoder: json!({"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}),
		model: bpe.model_json(),
	};
	w.bpe_tokenizer(&tok, &bpe)?;
	w.json(
		"tokenizer_config.json",
		&json!({
			"add_prefix_space": false,
			"bos_token": SOT,
			"do_lower_case": true,
			"eos_token": EOT,
			"errors": "replace",
			"model_max_length": 77,
			"pad_token": EOT,
			"tokenizer_class": "CLIPTokenizer",
			"unk_token": EOT,
		}),
	)?;
	w.json(
		"special_tokens_map.json",
		&json!({"bos_token": SOT, "eos_token": EOT, "pad_token": EOT, "unk_token": EOT}),
	)?;
	w.json(
		"preprocessor_config.json",
		&json!({
			"crop_size": {"height": dims.image_size, "width": dims.image_size},
			"do_center_crop": true,
			"do_convert_rgb": true,
			"do_normalize": true,
			"do_rescale": true,
			"do_resize": true,
			"feature_extractor_type": "CLIPFeatureExtractor",
			"image_mean": [0.48145466, 0.4578275, 0.40821073],
			"image_processor_type": "CLIPImageProcessor",
			"image_std": [0.26862954, 0.26130258, 0.27577711],
			"resample": 3,
			"rescale_factor": 1.0 / 255.0,
			"size": {"shortest_edge": dims.image_size},
		}),
	)?;
	let card = Card {
		front_matter: "license: mit\nlibrary_name: transformers\npipeline_tag: zero-shot-image-classification\ntags:\n- vision",
		hub_id: "openai/clip-vit-base-patch32",
		about: "CLIP ViT-B/32 is OpenAI's contrastive image-text model: a ViT-B/32 image encoder \
		        and a text transformer trained to embed matching images and captions together. \
		        This fixture's tokenizer is synthetic, so ids differ from the real one.",
	};
	w.file("README.md", |_| card::write(dir, &card, size, seed))?;
	Ok(w.finish(plan, VOCAB))
}

/// A byte-level BPE with CLIP's `</w>` suffix and exactly CLIP's vocabulary size.
fn synthetic_bpe() -> Bpe {
	const EOW: &str = "</w>";
	let bytes = byte_symbols();
	let mut vocab = bytes.clone();
	vocab.extend(bytes.iter().map(|b| format!("{b}{EOW}")));
	let mut known: HashSet<String> = vocab.iter().cloned().collect();
	let corpus: Vec<(Vec<String>, u64)> = words::WORDS
		.iter()
		.enumerate()
		.map(|(rank, word)| {
			let mut symbols: Vec<String> = word.chars().map(String::from).collect();
			if let Some(last) = symbols.last_mut() {
				last.push_str(EOW);
			}
			(symbols, words::weight(rank))
		})
		.collect();
	let mut bpe = Bpe {
		vocab,
		merges: Vec::new(),
		unk_token: Some(EOT.into()),
		end_of_word_suffix: EOW.into(),
	};
	bpe.extend_merges(&mut known, tokenizer::learn_merges(&corpus, MERGES), MERGES);
	// Filler: extend every letter string of length n by one letter, mid-word and word-final,
	// for n = 1, 2, ... until the vocabulary is full. Each prefix exists before it is used.
	let letters: Vec<char> = ('a'..='z').collect();
	let filler = (1u32..).flat_map(move |len| {
		let letters = letters.clone();
		(0..26usize.pow(len)).flat_map(move |n| {
			let prefix: String = (0..len).rev().map(|k| letters[n / 26usize.pow(k) % 26]).collect();
			letters.clone().into_iter().flat_map(move |c| {
				[(prefix.clone(), c.to_string()), (prefix.clone(), format!("{c}{EOW}"))]
			})
		})
	});
	bpe.extend_merges(&mut known, filler, MERGES);
	bpe.vocab.push(SOT.into());
	bpe.vocab.push(EOT.into());
	bpe
}
