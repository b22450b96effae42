//! Hugging Face model repositories with random weights, in the exact Hub layout.
//!
//! No package ships the real weights of GPT-2, BERT, T5 or CLIP, and torch is not available,
//! yet importers and candle pipelines need checkpoints shaped exactly like the real ones. This
//! crate writes such repositories: `config.json` as on the Hub, `model.safetensors` with the
//! Hub file's tensor names, shapes, dtypes and layout (values from a deterministic PRNG), the
//! tokenizer files (`tokenizer.json` loadable by the `tokenizers` crate, plus the slow
//! tokenizers' files), `generation_config.json` where the Hub has one, and a model card.
//!
//! | [`Family`] | imitates | notes |
//! |---|---|---|
//! | `Gpt2` | `gpt2` | real vocabulary from a GPT-2 `tokenizer.json` (Whisper tiny.en's) |
//! | `BertMaskedLm` | `bert-base-uncased` | real vocabulary from a `vocab.txt`; `gamma`/`beta` names |
//! | `BertSequenceClassification` | a bert-base-uncased SST-2 classifier | NEGATIVE/POSITIVE |
//! | `T5` | `t5-small` | synthetic Unigram tokenizer |
//! | `Clip` | `openai/clip-vit-base-patch32` | synthetic BPE tokenizer |
//!
//! Each family's module documents what its checkpoint contains and which parts rest on
//! knowledge of the Hub file rather than on reading it. [`Size::Full`] has the real model's
//! dimensions (and parameter count); [`Size::Tiny`] keeps every key and tensor name with small
//! dimensions (hidden 32, 2 layers) for fast tests. The same family, size, seed and tokenizer
//! source always give byte-identical files.
//!
//! Weights are normal-ish with standard deviation 0.02 (matrices, embeddings), LayerNorm
//! scales are 1 and biases 0, so forward passes give finite, varied outputs; the outputs mean
//! nothing.
//!
//! # How exact is "exact"
//!
//! The tensor lists come from knowledge of the Hub files, not from reading them (they are not
//! available here). Two checks back them: the Full parameter counts equal the published ones
//! (gpt2 124,439,808; bert-base-uncased as `BertForMaskedLM` 109,514,298; t5-small 60,506,624;
//! clip-vit-base-patch32 151,277,313), and the Full files' byte sizes equal the sizes of the
//! Hub's `model.safetensors` as the author recalls them (bert-base-uncased 440,449,768,
//! t5-small 242,041,896, clip-vit-base-patch32 605,157,884), which needs the same names,
//! shapes, dtypes and order. gpt2's Hub file (recalled as 548,105,171 bytes) was written by an
//! early safetensors release with an unpadded header in another order; its tensor data
//! (548,090,880 bytes, including the twelve `attn.bias` masks) matches, its header does not
//! byte for byte. The points that rest on inference are listed in each family's module docs:
//! `attn.bias` present and `attn.masked_bias` absent in gpt2, `gamma`/`beta` names and no
//! decoder weight in bert-base-uncased, only `shared.weight` in t5-small, and CLIP's i64
//! `position_ids` buffers.

use std::{
	fs, io,
	path::{Path, PathBuf},
	str::FromStr,
};

use serde_json::Value;

mod bert;
mod card;
mod clip;
mod gpt2;
mod rng;
mod t5;
pub mod tensors;
mod tokenizer;
mod words;

pub use tensors::{Dtype, Init, Role, TensorSpec};

/// A model family (and head) whose Hub repository can be imitated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
	Gpt2,
	BertMaskedLm,
	BertSequenceClassification,
	T5,
	Clip,
}

impl Family {
	pub const ALL: [Family; 5] = [
		Family::Gpt2,
		Family::BertMaskedLm,
		Family::BertSequenceClassification,
		Family::T5,
		Family::Clip,
	];

	/// The name the command line uses.
	pub fn name(self) -> &'static str {
		match self {
			Family::Gpt2 => "gpt2",
			Family::BertMaskedLm => "bert-mlm",
			Family::BertSequenceClassification => "bert-cls",
			Family::T5 => "t5",
			Family::Clip => "clip",
		}
	}

	/// The Hub repository the fixture imitates.
	pub fn hub_id(self) -> &'static str {
		match self {
			Family::Gpt2 => "gpt2",
			Family::BertMaskedLm => "bert-base-uncased",
			Family::BertSequenceClassification => "bert-base-uncased-sst2",
			Family::T5 => "t5-small",
			Family::Clip => "openai/clip-vit-base-patch32",
		}
	}

	/// The class named in `config.json`'s `architectures`.
	pub fn architecture(self) -> &'static str {
		match self {
			Family::Gpt2 => "GPT2LMHeadModel",
			Family::BertMaskedLm => "BertForMaskedLM",
			Family::BertSequenceClassification => "BertForSequenceClassification",
			Family::T5 => "T5ForConditionalGeneration",
			Family::Clip => "CLIPModel",
		}
	}
}

impl FromStr for Family {
	type Err = String;

	fn from_str(s: &str) -> Result<Self, String> {
		Family::ALL.into_iter().find(|f| f.name() == s).ok_or_else(|| {
			format!("unknown family {s:?} (expected gpt2, bert-mlm, bert-cls, t5 or clip)")
		})
	}
}

/// Full: the real model's dimensions. Tiny: the same layout with small dimensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Size {
	Full,
	Tiny,
}

impl FromStr for Size {
	type Err = String;

	fn from_str(s: &str) -> Result<Self, String> {
		match s {
			"full" => Ok(Size::Full),
			"tiny" => Ok(Size::Tiny),
			_ => Err(format!("unknown size {s:?} (expected full or tiny)")),
		}
	}
}

/// What [`write_checkpoint`] wrote.
#[derive(Clone, Debug)]
pub struct Checkpoint {
	pub family: Family,
	pub size: Size,
	pub seed: u64,
	/// Parameters of the class in `config.json` held by the file (buffers and tensors of
	/// unused heads excluded; tied weights counted once), i.e. `model.num_parameters()`.
	pub parameters: u64,
	/// Size of the tokenizer's vocabulary (for T5 less than the 32,128 embedding rows).
	pub vocab_size: usize,
	/// The tensors of `model.safetensors`, in plan order.
	pub plan: Vec<TensorSpec>,
	/// Every file written, in writing order.
	pub files: Vec<PathBuf>,
}

/// The tensors of `family`'s checkpoint at `size`, with the real vocabulary, computed
/// without writing anything. [`write_checkpoint`] writes exactly this plan unless a Tiny
/// GPT-2 or BERT falls back to a smaller synthetic vocabulary.
pub fn plan(family: Family, size: Size) -> Vec<TensorSpec> {
	match family {
		Family::Gpt2 => gpt2::Dims::new(size, gpt2::VOCAB).plan(),
		Family::BertMaskedLm => bert::Dims::new(bert::Head::MaskedLm, size, bert::VOCAB).plan(),
		Family::BertSequenceClassification => {
			bert::Dims::new(bert::Head::SequenceClassification, size, bert::VOCAB).plan()
		}
		Family::T5 => t5::Dims::new(size).plan(),
		Family::Clip => clip::Dims::new(size).plan(),
	}
}

/// Writes a repository into `dir` (created if missing), taking GPT-2's or BERT's real
/// vocabulary from [`default_tokenizer_source`] when it is there.
pub fn write_checkpoint(
	family: Family,
	size: Size,
	seed: u64,
	dir: &Path,
) -> io::Result<Checkpoint> {
	write_checkpoint_with(family, size, seed, dir, default_tokenizer_source(family).as_deref())
}

/// Writes a repository into `dir` (created if missing).
///
/// `tokenizer_source` supplies the real vocabulary: for GPT-2 a `tokenizer.json` holding
/// GPT-2's vocabulary and merges (Whisper tiny.en's), for BERT bert-base-uncased's `vocab.txt`
/// (or a `tokenizer.json` with it). Without it a Tiny GPT-2 or BERT gets a small synthetic
/// vocabulary and a Full one is an error. T5 and CLIP always use synthetic tokenizers and
/// reject a source.
pub fn write_checkpoint_with(
	family: Family,
	size: Size,
	seed: u64,
	dir: &Path,
	tokenizer_source: Option<&Path>,
) -> io::Result<Checkpoint> {
	fs::create_dir_all(dir)?;
	if tokenizer_source.is_some() && matches!(family, Family::T5 | Family::Clip) {
		return Err(io::Error::new(
			io::ErrorKind::InvalidInput,
			format!("{} uses a synthetic tokenizer and takes no tokenizer source", family.name()),
		));
	}
	let written = match family {
		Family::Gpt2 => gpt2::write(dir, size, seed, tokenizer_source)?,
		Family::BertMaskedLm => {
			bert::write(dir, bert::Head::MaskedLm, size, seed, tokenizer_source)?
		}
		Family::BertSequenceClassification => {
			bert::write(dir, bert::Head::SequenceClassification, size, seed, tokenizer_source)?
		}
		Family::T5 => t5::write(dir, size, seed)?,
		Family::Clip => clip::write(dir, size, seed)?,
	};
	Ok(Checkpoint {
		family,
		size,
		seed,
		parameters: tensors::parameter_count(&written.plan),
		vocab_size: written.vocab_size,
		plan: written.plan,
		files: written.files,
	})
}

/// Where Citrate keeps downloaded models: `$CITRATE_MODELS_DIR`, else
/// `$HOME/.cache/citrate/models`.
pub fn models_dir() -> Option<PathBuf> {
	std::env::var_os("CITRATE_MODELS_DIR").map(PathBuf::from).or_else(|| {
		std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/citrate/models"))
	})
}

/// The local file holding `family`'s real vocabulary, if present: Whisper tiny.en's
/// `tokenizer.json` for GPT-2, all-MiniLM-L6-v2's `vocab.txt` (bert-base-uncased's) for BERT.
pub fn default_tokenizer_source(family: Family) -> Option<PathBuf> {
	let relative = match family {
		Family::Gpt2 => "whisper-tiny-en-ct2/tokenizer.json",
		Family::BertMaskedLm | Family::BertSequenceClassification => "all-minilm-l6-v2/vocab.txt",
		Family::T5 | Family::Clip => return None,
	};
	Some(models_dir()?.join(relative)).filter(|p| p.is_file())
}

/// Collects the files a family writes into its directory.
pub(crate) struct Written {
	dir: PathBuf,
	files: Vec<PathBuf>,
	plan: Vec<TensorSpec>,
	vocab_size: usize,
}

impl Written {
	fn new(dir: &Path) -> Self {
		Self { dir: dir.to_path_buf(), files: Vec::new(), plan: Vec::new(), vocab_size: 0 }
	}

	fn file(&mut self, name: &str, write: impl FnOnce(&Path) -> io::Result<()>) -> io::Result<()> {
		let path = self.dir.join(name);
		write(&path)?;
		self.files.push(path);
		Ok(())
	}

	fn json(&mut self, name: &str, value: &Value) -> io::Result<()> {
		self.file(name, |p| tokenizer::write_json(p, value))
	}

	/// A BPE tokenizer's three files, as the Hub's GPT-2 and CLIP repositories hold them.
	fn bpe_tokenizer(
		&mut self,
		tokenizer: &tokenizer::TokenizerJson,
		bpe: &tokenizer::Bpe,
	) -> io::Result<()> {
		self.file("tokenizer.json", |p| tokenizer.write(p))?;
		self.file("vocab.json", |p| bpe.write_vocab_json(p))?;
		self.file("merges.txt", |p| bpe.write_merges_txt(p))
	}

	fn safetensors(&mut self, plan: &[TensorSpec], seed: u64) -> io::Result<()> {
		self.file("model.safetensors", |p| tensors::write_safetensors(p, plan, seed).map(drop))
	}

	fn finish(mut self, plan: Vec<TensorSpec>, vocab_size: usize) -> Self {
		self.plan = plan;
		self.vocab_size = vocab_size;
		self
	}
}

pub(crate) fn read_json(path: &Path) -> io::Result<Value> {
	let text = fs::read_to_string(path)?;
	serde_json::from_str(&text)
		.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", path.display())))
}

/// `model.merges` of a `tokenizer.json`, in either format: `"a b"` strings (older files) or
/// `["a", "b"]` pairs (tokenizers ≥ 0.20).
pub(crate) fn read_merges(merges: &Value) -> Option<Vec<(String, String)>> {
	merges
		.as_array()?
		.iter()
		.map(|m| match m {
			Value::String(s) => s.split_once(' ').map(|(a, b)| (a.to_string(), b.to_string())),
			Value::Array(pair) => match pair.as_slice() {
				[Value::String(a), Value::String(b)] => Some((a.clone(), b.clone())),
				_ => None,
			},
			_ => None,
		})
		.collect()
}
