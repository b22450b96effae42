//! Checks the written repositories: Full-size parameter counts from the plan (nothing
//! written), and for Tiny checkpoints every file, the safetensors layout against the
//! `safetensors` crate's own writer, the tokenizers against the `tokenizers` crate, config/tensor
//! agreement, the model card, and byte-identical determinism.

use std::{
	collections::{BTreeMap, BTreeSet},
	fs,
	path::{Path, PathBuf},
};

use citrate_hf_fixtures::{
	default_tokenizer_source, plan, tensors, write_checkpoint_with, Checkpoint, Dtype, Family,
	Init, Role, Size,
};
use safetensors::SafeTensors;
use serde_json::Value;
use tokenizers::Tokenizer;

const TEXT: &str = "The quick brown fox";

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
	fn new(name: &str) -> Self {
		let dir =
			std::env::temp_dir().join(format!("citrate-hf-fixtures-{}-{name}", std::process::id()));
		let _ = fs::remove_dir_all(&dir);
		Self(dir)
	}
}

impl Drop for Scratch {
	fn drop(&mut self) {
		let _ = fs::remove_dir_all(&self.0);
	}
}

fn elements(plan: &[citrate_hf_fixtures::TensorSpec], keep: impl Fn(Role) -> bool) -> u64 {
	plan.iter().filter(|t| keep(t.role)).map(|t| t.elements()).sum()
}

#[test]
fn full_parameter_counts_match_the_real_models() {
	// Published / `model.num_parameters()` figures of the real models.
	let expected = [
		(Family::Gpt2, 124_439_808),
		// BertModel without pooler (108,891,648) + MLM transform (590,592 + 1,536) + bias (30,522).
		(Family::BertMaskedLm, 109_514_298),
		// BertModel with pooler (109,482,240) + classifier 768 x 2 + 2.
		(Family::BertSequenceClassification, 109_483_778),
		(Family::T5, 60_506_624),
		(Family::Clip, 151_277_313),
	];
	for (family, count) in expected {
		let p = plan(family, Size::Full);
		assert_eq!(tensors::parameter_count(&p), count, "{family:?}");
	}
	// bert-base-uncased's file is a BertForPreTraining state dict: + pooler + NSP head.
	let bert = plan(Family::BertMaskedLm, Size::Full);
	assert_eq!(elements(&bert, |r| r != Role::Buffer), 110_106_428);
	// GPT-2's twelve persisted causal masks, 1024 x 1024 each.
	let gpt2 = plan(Family::Gpt2, Size::Full);
	assert_eq!(elements(&gpt2, |r| r == Role::Buffer), 12 * 1024 * 1024);
	// Tensor counts of the Hub files.
	assert_eq!(gpt2.len(), 4 + 12 * 13);
	assert_eq!(bert.len(), 5 + 12 * 16 + 2 + 5 + 2);
	// Encoder blocks hold 8 tensors, decoder blocks 13, plus one relative bias and a final norm each.
	assert_eq!(plan(Family::T5, Size::Full).len(), 1 + (6 * 8 + 2) + (6 * 13 + 2));
	assert_eq!(plan(Family::Clip, Size::Full).len(), 3 + 12 * 16 * 2 + 2 + 4 + 2 + 2 + 3);
	// Byte sizes of the Hub's model.safetensors files (as recalled, not fetched). Equal sizes
	// mean equal tensor data and an equal-length header, i.e. the same names, shapes, dtypes
	// and order. gpt2's file (548,105,171 bytes) came from an early safetensors that neither
	// padded the header nor sorted by name, so only its data size can match: 548,090,880.
	for (family, bytes) in [
		(Family::BertMaskedLm, 440_449_768),
		(Family::T5, 242_041_896),
		(Family::Clip, 605_157_884),
	] {
		assert_eq!(tensors::file_size(&plan(family, Size::Full)), bytes, "{family:?}");
	}
	let gpt2_data: u64 = gpt2.iter().map(|t| t.byte_len()).sum();
	assert_eq!(gpt2_data, 548_090_880);
}

#[test]
fn full_gpt2_without_the_real_vocabulary_is_an_error() {
	let dir = Scratch::new("gpt2-full-nosource");
	let err = write_checkpoint_with(Family::Gpt2, Size::Full, 0, &dir.0, None).unwrap_err();
	assert!(err.to_string().contains("tokenizer.json"), "{err}");
	assert!(!dir.0.join("model.safetensors").exists());
}

fn expected_files(family: Family) -> BTreeSet<&'static str> {
	let mut files = BTreeSet::from([
		"config.json",
		"model.safetensors",
		"tokenizer.json",
		"tokenizer_config.json",
		"README.md",
	]);
	files.extend(match family {
		Family::Gpt2 => vec!["generation_config.json", "vocab.json", "merges.txt"],
		Family::BertMaskedLm | Family::BertSequenceClassification => {
			vec!["vocab.txt", "special_tokens_map.json"]
		}
		Family::T5 => vec!["generation_config.json", "special_tokens_map.json"],
		Family::Clip => {
			vec!["vocab.json", "merges.txt", "special_tokens_map.json", "preprocessor_config.json"]
		}
	});
	files
}

fn json(path: &Path) -> Value {
	serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

fn u(v: &Value) -> usize {
	v.as_u64().unwrap_or_else(|| panic!("not an integer: {v}")) as usize
}

/// Checks one Tiny repository; returns its tensors' shapes by name.
fn check_repo(family: Family, dir: &Path, ck: &Checkpoint) -> BTreeMap<String, Vec<usize>> {
	// Every file, and only those.
	let names: BTreeSet<String> =
		ck.files.iter().map(|f| f.file_name().unwrap().to_string_lossy().into()).collect();
	let expected: BTreeSet<String> = expected_files(family).into_iter().map(String::from).collect();
	assert_eq!(names, expected, "{family:?}");
	for f in &ck.files {
		assert!(f.is_file() && f.starts_with(dir), "{}", f.display());
	}

	// The safetensors file parses, holds exactly the plan, and is byte-identical to what the
	// `safetensors` crate writes for the same tensors (header format, order and padding).
	let bytes = fs::read(dir.join("model.safetensors")).unwrap();
	assert!(bytes.len() < 10_000_000, "{family:?}: {} bytes", bytes.len());
	let st = SafeTensors::deserialize(&bytes).unwrap();
	let mut shapes = BTreeMap::new();
	for (name, view) in st.tensors() {
		shapes.insert(name, view.shape().to_vec());
	}
	let planned: BTreeMap<String, Vec<usize>> =
		ck.plan.iter().map(|t| (t.name.clone(), t.shape.clone())).collect();
	assert_eq!(shapes, planned, "{family:?}");
	let (_, metadata) = SafeTensors::read_metadata(&bytes).unwrap();
	assert_eq!(
		metadata.metadata().as_ref().and_then(|m| m.get("format")).map(String::as_str),
		Some("pt")
	);
	let owned: Vec<(String, Vec<u8>, &citrate_hf_fixtures::TensorSpec)> =
		ck.plan.iter().map(|t| (t.name.clone(), tensors::tensor_bytes(t, ck.seed), t)).collect();
	let views: Vec<(String, safetensors::tensor::TensorView)> = owned
		.iter()
		.map(|(n, data, t)| {
			let dtype = match t.dtype {
				Dtype::F32 => safetensors::Dtype::F32,
				Dtype::I64 => safetensors::Dtype::I64,
			};
			(n.clone(), safetensors::tensor::TensorView::new(dtype, t.shape.clone(), data).unwrap())
		})
		.collect();
	let meta = std::collections::HashMap::from([("format".to_string(), "pt".to_string())]);
	let reference = safetensors::serialize(views, Some(meta)).unwrap();
	assert!(reference == bytes, "{family:?}: differs from safetensors::serialize");

	// Values: finite; constants exact; normal-ish tensors with std ~0.02.
	for t in &ck.plan {
		let view = st.tensor(&t.name).unwrap();
		if t.dtype != Dtype::F32 {
			continue;
		}
		let v: Vec<f32> = view
			.data()
			.chunks_exact(4)
			.map(|c| f32::from_le_bytes(c.try_into().unwrap()))
			.collect();
		assert!(v.iter().all(|x| x.is_finite()), "{}", t.name);
		match t.init {
			Init::Constant(c) => assert!(v.iter().all(|&x| x == c), "{}", t.name),
			Init::Normal(std) if v.len() > 10_000 => {
				let var = v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>() / v.len() as f64;
				assert!(
					(var.sqrt() - f64::from(std)).abs() < 0.002,
					"{}: std {}",
					t.name,
					var.sqrt()
				);
			}
			_ => {}
		}
		let norm_scale = t.name.ends_with("LayerNorm.gamma")
			|| t.name.ends_with("layer_norm.weight")
			|| t.name.ends_with("LayerNorm.weight")
			|| t.name.ends_with("ln_1.weight");
		if norm_scale {
			assert!(v.iter().all(|&x| x == 1.0), "{}", t.name);
		}
		if t.name == "logit_scale" {
			assert_eq!(v, [2.6592]);
		}
	}

	// The model card's front matter.
	let card = fs::read_to_string(dir.join("README.md")).unwrap();
	let front = card.strip_prefix("---\n").and_then(|c| c.split_once("\n---\n")).unwrap().0;
	assert!(front.lines().any(|l| l.starts_with("license: ")), "{front}");
	assert!(front.lines().any(|l| l.starts_with("pipeline_tag: ")), "{front}");
	assert!(front.contains("library_name: transformers"));
	assert!(card.contains(&format!(
		"random test weights written by citrate-hf-fixture with seed {}",
		ck.seed
	)));

	let config = json(&dir.join("config.json"));
	assert_eq!(config["architectures"][0], family.architecture());
	shapes
}

fn encode(dir: &Path) -> (Tokenizer, Vec<u32>) {
	let tokenizer = Tokenizer::from_file(dir.join("tokenizer.json")).unwrap();
	let ids = tokenizer.encode(TEXT, true).unwrap().get_ids().to_vec();
	(tokenizer, ids)
}

fn write_tiny(family: Family, seed: u64, dir: &Path) -> Checkpoint {
	let ck = write_checkpoint_with(family, Size::Tiny, seed, dir, None).unwrap();
	check_repo(family, dir, &ck);
	ck
}

#[test]
fn tiny_gpt2() {
	let dir = Scratch::new("gpt2");
	let ck = write_tiny(Family::Gpt2, 1, &dir.0);
	check_gpt2(&dir.0, &ck);
}

fn check_gpt2(dir: &Path, ck: &Checkpoint) {
	let c = json(&dir.join("config.json"));
	let shapes: BTreeMap<_, _> =
		ck.plan.iter().map(|t| (t.name.as_str(), t.shape.clone())).collect();
	let (v, e, n) = (u(&c["vocab_size"]), u(&c["n_embd"]), u(&c["n_positions"]));
	assert_eq!(shapes["wte.weight"], [v, e]);
	assert_eq!(shapes["wpe.weight"], [n, e]);
	assert_eq!(shapes["h.0.attn.c_attn.weight"], [e, 3 * e]);
	assert_eq!(shapes["h.0.attn.bias"], [1, 1, u(&c["n_ctx"]), u(&c["n_ctx"])]);
	assert_eq!(shapes.keys().filter(|k| k.ends_with("ln_1.weight")).count(), u(&c["n_layer"]));
	assert_eq!(e % u(&c["n_head"]), 0);
	assert!(!shapes.contains_key("lm_head.weight"));
	let (tok, ids) = encode(dir);
	assert_eq!(tok.get_vocab_size(true), v);
	assert_eq!(tok.token_to_id("<|endoftext|>"), Some(u(&c["eos_token_id"]) as u32));
	assert_eq!(u(&c["eos_token_id"]), v - 1);
	assert!(!ids.is_empty() && ids.iter().all(|&i| (i as usize) < v - 1), "{ids:?}");
	assert_eq!(tok.decode(&ids, false).unwrap(), TEXT);
	let vocab = json(&dir.join("vocab.json"));
	assert_eq!(vocab.as_object().unwrap().len(), v);
	let merges = fs::read_to_string(dir.join("merges.txt")).unwrap();
	assert_eq!(merges.lines().count() - 1, v - 257);
	let generation = json(&dir.join("generation_config.json"));
	assert_eq!(u(&generation["eos_token_id"]), v - 1);
}

#[test]
fn tiny_gpt2_with_the_real_vocabulary() {
	let Some(source) = default_tokenizer_source(Family::Gpt2) else {
		eprintln!("skipped: no Whisper tiny.en tokenizer.json under the models directory");
		return;
	};
	let dir = Scratch::new("gpt2-real");
	let ck = write_checkpoint_with(Family::Gpt2, Size::Tiny, 1, &dir.0, Some(&source)).unwrap();
	check_repo(Family::Gpt2, &dir.0, &ck);
	check_gpt2(&dir.0, &ck);
	assert_eq!(ck.plan, plan(Family::Gpt2, Size::Tiny));
	let (_, ids) = encode(&dir.0);
	// GPT-2's real ids for "The quick brown fox".
	assert_eq!(ids, [464, 2068, 7586, 21831]);
}

fn check_bert(family: Family, dir: &Path, ck: &Checkpoint) {
	let c = json(&dir.join("config.json"));
	let shapes: BTreeMap<_, _> =
		ck.plan.iter().map(|t| (t.name.as_str(), t.shape.clone())).collect();
	let (v, h, i) = (u(&c["vocab_size"]), u(&c["hidden_size"]), u(&c["intermediate_size"]));
	assert_eq!(shapes["bert.embeddings.word_embeddings.weight"], [v, h]);
	assert_eq!(
		shapes["bert.embeddings.position_embeddings.weight"],
		[u(&c["max_position_embeddings"]), h]
	);
	assert_eq!(
		shapes["bert.embeddings.token_type_embeddings.weight"],
		[u(&c["type_vocab_size"]), h]
	);
	assert_eq!(shapes["bert.encoder.layer.0.intermediate.dense.weight"], [i, h]);
	assert_eq!(shapes["bert.encoder.layer.0.output.dense.weight"], [h, i]);
	let layers = shapes.keys().filter(|k| k.ends_with("attention.self.query.weight")).count();
	assert_eq!(layers, u(&c["num_hidden_layers"]));
	assert_eq!(h % u(&c["num_attention_heads"]), 0);
	if family == Family::BertMaskedLm {
		assert_eq!(shapes["cls.predictions.bias"], [v]);
		assert!(shapes.contains_key("bert.embeddings.LayerNorm.gamma"));
		assert!(!shapes.contains_key("cls.predictions.decoder.weight"));
	} else {
		assert_eq!(shapes["classifier.weight"], [c["id2label"].as_object().unwrap().len(), h]);
		assert_eq!(c["id2label"]["1"], "POSITIVE");
		assert_eq!(c["label2id"]["NEGATIVE"], 0);
		assert!(shapes.contains_key("bert.embeddings.LayerNorm.weight"));
	}
	let (tok, ids) = encode(dir);
	assert_eq!(tok.get_vocab_size(true), v);
	assert_eq!((ids[0], *ids.last().unwrap()), (101, 102), "{ids:?}");
	assert!(ids.iter().all(|&i| (i as usize) < v));
	assert!(!ids.contains(&100), "no [UNK] in {ids:?}");
	for (t, id) in [("[PAD]", 0), ("[UNK]", 100), ("[CLS]", 101), ("[SEP]", 102), ("[MASK]", 103)] {
		assert_eq!(tok.token_to_id(t), Some(id));
	}
	assert_eq!(fs::read_to_string(dir.join("vocab.txt")).unwrap().lines().count(), v);
}

#[test]
fn tiny_bert() {
	for family in [Family::BertMaskedLm, Family::BertSequenceClassification] {
		let dir = Scratch::new(family.name());
		let ck = write_tiny(family, 2, &dir.0);
		check_bert(family, &dir.0, &ck);
	}
}

#[test]
fn tiny_bert_with_the_real_vocabulary() {
	let Some(source) = default_tokenizer_source(Family::BertMaskedLm) else {
		eprintln!("skipped: no bert-base-uncased vocab.txt under the models directory");
		return;
	};
	let dir = Scratch::new("bert-real");
	let ck =
		write_checkpoint_with(Family::BertMaskedLm, Size::Tiny, 2, &dir.0, Some(&source)).unwrap();
	check_repo(Family::BertMaskedLm, &dir.0, &ck);
	check_bert(Family::BertMaskedLm, &dir.0, &ck);
	assert_eq!(ck.plan, plan(Family::BertMaskedLm, Size::Tiny));
	let (_, ids) = encode(&dir.0);
	// bert-base-uncased's real ids for "[CLS] the quick brown fox [SEP]".
	assert_eq!(ids, [101, 1996, 4248, 2829, 4419, 102]);
}

#[test]
fn tiny_t5() {
	let dir = Scratch::new("t5");
	let ck = write_tiny(Family::T5, 3, &dir.0);
	let c = json(&dir.0.join("config.json"));
	let shapes: BTreeMap<_, _> =
		ck.plan.iter().map(|t| (t.name.as_str(), t.shape.clone())).collect();
	let (v, d, inner) = (u(&c["vocab_size"]), u(&c["d_model"]), u(&c["d_kv"]) * u(&c["num_heads"]));
	assert_eq!(shapes["shared.weight"], [v, d]);
	assert_eq!(shapes["encoder.block.0.layer.0.SelfAttention.q.weight"], [inner, d]);
	assert_eq!(shapes["decoder.block.0.layer.1.EncDecAttention.o.weight"], [d, inner]);
	assert_eq!(shapes["encoder.block.0.layer.1.DenseReluDense.wi.weight"], [u(&c["d_ff"]), d]);
	let rel = [u(&c["relative_attention_num_buckets"]), u(&c["num_heads"])];
	assert_eq!(shapes["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"], rel);
	assert_eq!(shapes["decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"], rel);
	assert_eq!(shapes.keys().filter(|k| k.contains("relative_attention_bias")).count(), 2);
	let blocks = |stack: &str| {
		shapes
			.keys()
			.filter(|k| k.starts_with(stack) && k.ends_with("layer.0.layer_norm.weight"))
			.count()
	};
	assert_eq!(blocks("encoder."), u(&c["num_layers"]));
	assert_eq!(blocks("decoder."), u(&c["num_decoder_layers"]));
	assert_eq!(
		c["task_specific_params"]["translation_en_to_de"]["prefix"],
		"translate English to German: "
	);
	let (tok, ids) = encode(&dir.0);
	assert_eq!(tok.get_vocab_size(true), 32_100);
	assert_eq!(*ids.last().unwrap(), 1, "{ids:?}");
	assert!(ids.iter().all(|&i| (i as usize) < 32_100) && !ids.contains(&2), "{ids:?}");
	assert_eq!(
		ids.len(),
		5,
		"one piece per word: {:?}",
		tok.encode(TEXT, true).unwrap().get_tokens()
	);
	assert_eq!(tok.token_to_id("<extra_id_0>"), Some(32_099));
	assert_eq!(tok.token_to_id("<extra_id_99>"), Some(32_000));
	assert_eq!(tok.decode(&ids, true).unwrap(), TEXT);
	let prefixed = tok.encode("translate English to German: That is good.", true).unwrap();
	assert!(!prefixed.get_ids().contains(&2), "{:?}", prefixed.get_tokens());
}

#[test]
fn tiny_clip() {
	let dir = Scratch::new("clip");
	let ck = write_tiny(Family::Clip, 4, &dir.0);
	let c = json(&dir.0.join("config.json"));
	let (t, vis) = (&c["text_config"], &c["vision_config"]);
	let shapes: BTreeMap<_, _> =
		ck.plan.iter().map(|t| (t.name.as_str(), t.shape.clone())).collect();
	let (v, ht, hv, p) =
		(u(&t["vocab_size"]), u(&t["hidden_size"]), u(&vis["hidden_size"]), u(&vis["patch_size"]));
	assert_eq!(shapes["text_model.embeddings.token_embedding.weight"], [v, ht]);
	assert_eq!(
		shapes["text_model.embeddings.position_embedding.weight"],
		[u(&t["max_position_embeddings"]), ht]
	);
	assert_eq!(
		shapes["vision_model.embeddings.patch_embedding.weight"],
		[hv, u(&vis["num_channels"]), p, p]
	);
	let positions = (u(&vis["image_size"]) / p).pow(2) + 1;
	assert_eq!(shapes["vision_model.embeddings.position_embedding.weight"], [positions, hv]);
	assert_eq!(shapes["vision_model.embeddings.position_ids"], [1, positions]);
	assert_eq!(shapes["vision_model.embeddings.class_embedding"], [hv]);
	assert_eq!(shapes["visual_projection.weight"], [u(&c["projection_dim"]), hv]);
	assert_eq!(shapes["text_projection.weight"], [u(&c["projection_dim"]), ht]);
	assert_eq!(shapes["logit_scale"], Vec::<usize>::new());
	assert!(shapes.contains_key("vision_model.pre_layrnorm.weight"));
	assert!(!shapes.contains_key("vision_model.embeddings.patch_embedding.bias"));
	let layers = |tower: &str| {
		shapes.keys().filter(|k| k.starts_with(tower) && k.ends_with("layer_norm1.weight")).count()
	};
	assert_eq!(layers("text_model."), u(&t["num_hidden_layers"]));
	assert_eq!(layers("vision_model."), u(&vis["num_hidden_layers"]));
	let (tok, ids) = encode(&dir.0);
	assert_eq!(tok.get_vocab_size(true), 49_408);
	assert_eq!((ids[0], *ids.last().unwrap()), (49_406, 49_407), "{ids:?}");
	assert!(ids.iter().all(|&i| (i as usize) < v));
	assert_eq!(
		ids.len(),
		6,
		"one token per word: {:?}",
		tok.encode(TEXT, true).unwrap().get_tokens()
	);
	assert_eq!(tok.encode(TEXT, true).unwrap().get_tokens()[1], "the</w>");
	let vocab = json(&dir.0.join("vocab.json"));
	assert_eq!(vocab.as_object().unwrap().len(), 49_408);
	assert_eq!(fs::read_to_string(dir.0.join("merges.txt")).unwrap().lines().count() - 1, 48_894);
	let pre = json(&dir.0.join("preprocessor_config.json"));
	assert_eq!(pre["crop_size"]["height"], 224);
	assert_eq!(pre["image_processor_type"], "CLIPImageProcessor");
}

#[test]
fn same_seed_same_bytes_other_seed_other_weights() {
	for family in Family::ALL {
		let (a, b, c) = (Scratch::new("det-a"), Scratch::new("det-b"), Scratch::new("det-c"));
		let ca = write_checkpoint_with(family, Size::Tiny, 7, &a.0, None).unwrap();
		write_checkpoint_with(family, Size::Tiny, 7, &b.0, None).unwrap();
		write_checkpoint_with(family, Size::Tiny, 8, &c.0, None).unwrap();
		for f in &ca.files {
			let name = f.file_name().unwrap();
			let (x, y, z) = (
				fs::read(f).unwrap(),
				fs::read(b.0.join(name)).unwrap(),
				fs::read(c.0.join(name)).unwrap(),
			);
			assert!(x == y, "{family:?}: {name:?} differs between identical runs");
			match name.to_str().unwrap() {
				"model.safetensors" | "README.md" => {
					assert!(x != z, "{family:?}: {name:?} ignores the seed")
				}
				_ => assert!(x == z, "{family:?}: {name:?} depends on the seed"),
			}
		}
		let header = |bytes: &[u8]| {
			bytes[..8 + u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize].to_vec()
		};
		let (x, z) = (
			fs::read(a.0.join("model.safetensors")).unwrap(),
			fs::read(c.0.join("model.safetensors")).unwrap(),
		);
		assert_eq!(header(&x), header(&z), "{family:?}: the seed changes only values");
	}
}
