//! Checkpoints in the Hugging Face Hub's layout with random weights (`citrate-hf-fixtures`),
//! written to a temporary directory that is removed when dropped.

use citrate_hf_fixtures::{write_checkpoint, Family, Size};
use citrate_inference::pipelines::ModelFiles;
use std::path::PathBuf;

/// One test's checkpoint directory.
pub struct Fixture {
	pub dir: PathBuf,
}

impl Fixture {
	/// The Tiny checkpoint of `family` with weights from `seed`, for the test named `test`.
	pub fn tiny(family: Family, test: &str, seed: u64) -> Fixture {
		let dir = std::env::temp_dir().join(format!(
			"citrate-{}-{}-{test}",
			family.name(),
			std::process::id()
		));
		let _ = std::fs::remove_dir_all(&dir);
		write_checkpoint(family, Size::Tiny, seed, &dir).expect("checkpoint written");
		Fixture { dir }
	}

	/// The repository's file `name`.
	pub fn file(&self, name: &str) -> Vec<u8> {
		std::fs::read(self.dir.join(name)).expect("checkpoint file")
	}

	/// All of the repository's files, as a package holds them.
	pub fn files(&self) -> ModelFiles {
		ModelFiles::from_dir(&self.dir, u64::MAX).expect("checkpoint files")
	}
}

impl Drop for Fixture {
	fn drop(&mut self) {
		let _ = std::fs::remove_dir_all(&self.dir);
	}
}
