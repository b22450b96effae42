//! A repository's files as the importer sees them: the config, the model card and which
//! weights it holds.

use crate::{card::ModelCard, source::Source, Error, Result};
use std::{
	collections::BTreeMap,
	path::{Path, PathBuf},
};

/// Most files a repository may hold (the Hub's repositories of one model hold tens).
pub const MAX_FILES: usize = 10_000;

/// The weights a repository holds, by format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Weights {
	/// An ONNX graph (`model.onnx`, or Optimum's `onnx/model.onnx`).
	Onnx { file: String },
	/// An OCR pipeline's ONNX graphs: detector, recogniser, optional angle classifier.
	OcrOnnx { det: String, rec: String, cls: Option<String> },
	/// Hugging Face safetensors (`model.safetensors`) with its `config.json`.
	Safetensors { file: String },
	/// One GGUF file.
	Gguf { file: String },
}

impl Weights {
	/// The repository files holding the weights.
	pub fn files(&self) -> Vec<&str> {
		match self {
			Weights::Onnx { file } | Weights::Safetensors { file } | Weights::Gguf { file } => {
				vec![file]
			}
			Weights::OcrOnnx { det, rec, cls } => [Some(det), Some(rec), cls.as_ref()]
				.into_iter()
				.flatten()
				.map(String::as_str)
				.collect(),
		}
	}
}

/// A repository read from disk.
#[derive(Debug)]
pub struct Repository {
	pub source: Source,
	/// Every regular file, by its path in the repository (`/`-separated), hidden ones aside.
	pub files: BTreeMap<String, PathBuf>,
	/// `config.json`, parsed.
	pub config: Option<serde_json::Value>,
	/// `README.md`'s front matter.
	pub card: Option<ModelCard>,
	pub weights: Weights,
}

impl Repository {
	/// Reads the repository at `source`: its file list, config, card and weights.
	pub fn read(source: Source) -> Result<Repository> {
		let mut files = BTreeMap::new();
		list(&source.dir, "", &mut files)?;
		let config = match files.get("config.json") {
			Some(path) => Some(
				serde_json::from_slice::<serde_json::Value>(&read(path)?)
					.map_err(|e| Error::bad("config.json", format!("not JSON: {e}")))?,
			),
			None => None,
		};
		if config.as_ref().is_some_and(|c| !c.is_object()) {
			return Err(Error::bad("config.json", "not a JSON object"));
		}
		let card = match files.get("README.md") {
			Some(path) => {
				let text = String::from_utf8(read(path)?)
					.map_err(|_| Error::bad("README.md", "not UTF-8"))?;
				Some(ModelCard::parse(&text)?)
			}
			None => None,
		};
		let weights = weights(&files)?;
		Ok(Repository { source, files, config, card, weights })
	}

	/// The bytes of the repository file `name`.
	pub fn read_file(&self, name: &str) -> Result<Vec<u8>> {
		let path = self.files.get(name).ok_or_else(|| Error::bad(name, "missing"))?;
		read(path)
	}

	/// A string field of `config.json`.
	pub fn config_str(&self, key: &str) -> Option<&str> {
		self.config.as_ref()?.get(key)?.as_str()
	}

	/// `config.json`'s `architectures`.
	pub fn architectures(&self) -> Vec<&str> {
		self.config
			.as_ref()
			.and_then(|c| c.get("architectures")?.as_array())
			.map(|a| a.iter().filter_map(|v| v.as_str()).collect())
			.unwrap_or_default()
	}
}

fn read(path: &Path) -> Result<Vec<u8>> {
	std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// Regular files under `dir` (links followed, as the Hub cache's snapshots are links into
/// `blobs/`), hidden entries (`.git`, `.cache`) skipped.
fn list(dir: &Path, prefix: &str, files: &mut BTreeMap<String, PathBuf>) -> Result<()> {
	let mut entries: Vec<_> = std::fs::read_dir(dir)
		.map_err(|e| Error::io(dir, e))?
		.collect::<std::io::Result<_>>()
		.map_err(|e| Error::io(dir, e))?;
	entries.sort_by_key(|e| e.file_name());
	for entry in entries {
		let Ok(name) = entry.file_name().into_string() else {
			return Err(Error::bad(entry.path().display().to_string(), "file name is not UTF-8"));
		};
		if name.starts_with('.') {
			continue;
		}
		let path = entry.path();
		let metadata = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
		let relative = format!("{prefix}{name}");
		if metadata.is_dir() {
			list(&path, &format!("{relative}/"), files)?;
		} else if metadata.is_file() {
			files.insert(relative, path);
			if files.len() > MAX_FILES {
				return Err(Error::Unsupported(format!(
					"the repository holds over {MAX_FILES} files; is {} a model repository?",
					dir.display()
				)));
			}
		}
	}
	Ok(())
}

/// The weights among `files`: ONNX first (what the deterministic backend runs), then
/// safetensors, then GGUF. PyTorch pickles are refused, never read: unpickling runs code.
fn weights(files: &BTreeMap<String, PathBuf>) -> Result<Weights> {
	let has = |name: &str| files.contains_key(name);
	if has("det.onnx") && has("rec.onnx") {
		return Ok(Weights::OcrOnnx {
			det: "det.onnx".into(),
			rec: "rec.onnx".into(),
			cls: has("cls.onnx").then(|| "cls.onnx".into()),
		});
	}
	if let Some(file) = ["model.onnx", "onnx/model.onnx"].into_iter().find(|f| has(f)) {
		return Ok(Weights::Onnx { file: file.into() });
	}
	if has("model.safetensors") {
		return Ok(Weights::Safetensors { file: "model.safetensors".into() });
	}
	if has("model.safetensors.index.json") {
		return Err(Error::bad(
			"model.safetensors.index.json",
			"the weights are sharded across several safetensors files; the engine loads one \
			 model.safetensors (merge the shards, e.g. with `safetensors` in Python)",
		));
	}
	let ggufs: Vec<&String> = files.keys().filter(|f| f.ends_with(".gguf")).collect();
	match ggufs.as_slice() {
		[one] => return Ok(Weights::Gguf { file: (*one).clone() }),
		[] => {}
		many => {
			return Err(Error::Unsupported(format!(
				"the repository holds {} GGUF files ({}); keep the one to import",
				many.len(),
				many.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ")
			)))
		}
	}
	let onnx: Vec<&String> = files.keys().filter(|f| f.ends_with(".onnx")).collect();
	match onnx.as_slice() {
		[one] => return Ok(Weights::Onnx { file: (*one).clone() }),
		[] => {}
		many => {
			return Err(Error::Unsupported(format!(
				"the repository holds {} ONNX files ({}) and no model.onnx; name the one to \
				 import model.onnx",
				many.len(),
				many.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ")
			)))
		}
	}
	if let Some(pickle) = files
		.keys()
		.find(|f| f.ends_with("pytorch_model.bin") || f.ends_with(".pt") || f.ends_with(".pth"))
	{
		return Err(Error::bad(
			pickle.as_str(),
			"PyTorch pickle weights are not imported: reading a pickle runs the code it \
			 holds. Convert them to model.safetensors (e.g. `safetensors`' convert script, or \
			 `model.save_pretrained(dir, safe_serialization=True)`) and import that",
		));
	}
	Err(Error::Unsupported(format!(
		"no weights found: expected model.onnx (or onnx/model.onnx), det.onnx + rec.onnx, \
		 model.safetensors or one .gguf file; the repository holds [{}]",
		files.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
	)))
}
