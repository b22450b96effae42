//! A model's files by name, as in its UnixFS directory or Hugging Face repository.

use super::Task;
use crate::{Error, Result};
use std::{collections::BTreeMap, path::Path};

/// A model's files by name (`model.onnx`, `tokenizer.json`, …).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelFiles {
	files: BTreeMap<String, Vec<u8>>,
	total_bytes: u64,
}

impl ModelFiles {
	/// No files yet.
	pub fn new() -> Self {
		Self::default()
	}

	/// Adds or replaces the file `name`.
	pub fn insert(&mut self, name: impl Into<String>, bytes: Vec<u8>) -> &mut Self {
		let name = name.into();
		self.total_bytes += bytes.len() as u64;
		if let Some(old) = self.files.insert(name, bytes) {
			self.total_bytes -= old.len() as u64;
		}
		self
	}

	/// The regular files directly in `dir`, refusing a directory over `max_bytes` in all
	/// before reading it.
	pub fn from_dir(dir: &Path, max_bytes: u64) -> Result<Self> {
		let mut entries = vec![];
		let mut total = 0u64;
		for entry in std::fs::read_dir(dir)? {
			let entry = entry?;
			let metadata = entry.metadata()?;
			if !metadata.is_file() {
				continue;
			}
			total = total.saturating_add(metadata.len());
			if total > max_bytes {
				return Err(Error::ModelTooLarge { size: total, limit: max_bytes });
			}
			let name = entry
				.file_name()
				.into_string()
				.map_err(|name| Error::InvalidModel(format!("file name {name:?} is not UTF-8")))?;
			entries.push((name, entry.path()));
		}
		let mut files = ModelFiles::new();
		for (name, path) in entries {
			files.insert(name, std::fs::read(path)?);
		}
		Ok(files)
	}

	/// The file `name`, if the model has it.
	pub fn get(&self, name: &str) -> Option<&[u8]> {
		self.files.get(name).map(Vec::as_slice)
	}

	/// The file `name`, or an error that says which file `task` needs and which files exist.
	pub fn require(&self, name: &str, task: Task) -> Result<&[u8]> {
		self.get(name).ok_or_else(|| {
			Error::InvalidModel(format!(
				"{} models need `{name}`; this one has {:?}",
				task.name(),
				self.files.keys().collect::<Vec<_>>()
			))
		})
	}

	/// Bytes of all files.
	pub fn total_bytes(&self) -> u64 {
		self.total_bytes
	}
}
