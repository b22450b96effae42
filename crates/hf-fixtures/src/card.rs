//! The `README.md` model card: the Hub's YAML front matter for the real model, then a body
//! that says plainly these are random test weights.

use std::{fs, io, path::Path};

use crate::Size;

/// The parts of a model card that differ between families.
pub struct Card<'a> {
	/// YAML front matter lines (without the `---` fences), as on the real model's card.
	pub front_matter: &'a str,
	/// The repository this fixture imitates, e.g. `gpt2`.
	pub hub_id: &'a str,
	/// One sentence on what the real model is.
	pub about: &'a str,
}

pub fn write(dir: &Path, card: &Card, size: Size, seed: u64) -> io::Result<()> {
	let size = match size {
		Size::Full => "full-size (same shapes as the real checkpoint)",
		Size::Tiny => "tiny (same layout, small dimensions)",
	};
	let text = format!(
		"---\n{front}\n---\n\n# {id} (random test weights)\n\n{about}\n\n\
		 The weights in this repository are random test weights written by citrate-hf-fixture \
		 with seed {seed}; the checkpoint is {size}. Tensor names, shapes, configuration and \
		 tokenizer files follow the layout of the `{id}` repository on the Hugging Face Hub, \
		 so importers and pipelines can be tested without the real weights. The model's \
		 outputs are meaningless.\n",
		front = card.front_matter.trim_end(),
		id = card.hub_id,
		about = card.about,
	);
	fs::write(dir.join("README.md"), text)
}
