//! `citrate-hf-fixture`: writes a Hugging Face model repository with random weights in the
//! exact Hub layout (see the `citrate_hf_fixtures` crate docs).

use std::{path::PathBuf, process::ExitCode, time::Instant};

use citrate_hf_fixtures::{default_tokenizer_source, write_checkpoint_with, Family, Size};
use clap::Parser;

#[derive(Parser)]
#[command(about = "Write a Hugging Face model repository with random weights in the Hub's layout")]
struct Args {
	/// gpt2, bert-mlm, bert-cls, t5 or clip.
	#[arg(long)]
	family: Family,
	/// full (the real model's dimensions) or tiny.
	#[arg(long, default_value = "tiny")]
	size: Size,
	/// Seed of the weights; the same seed gives byte-identical files.
	#[arg(long, default_value_t = 0)]
	seed: u64,
	/// Directory to write the repository into.
	#[arg(long)]
	out: PathBuf,
	/// File with the real vocabulary (GPT-2: a tokenizer.json such as Whisper tiny.en's;
	/// BERT: bert-base-uncased's vocab.txt). Defaults to the copy under $CITRATE_MODELS_DIR or
	/// $HOME/.cache/citrate/models when present.
	#[arg(long)]
	tokenizer_source: Option<PathBuf>,
	/// Use the synthetic vocabulary even if the real one is available (Tiny only).
	#[arg(long, conflicts_with = "tokenizer_source")]
	synthetic_tokenizer: bool,
}

fn main() -> ExitCode {
	let args = Args::parse();
	let source = match (args.tokenizer_source, args.synthetic_tokenizer) {
		(Some(path), _) => Some(path),
		(None, true) => None,
		(None, false) => default_tokenizer_source(args.family),
	};
	let start = Instant::now();
	match write_checkpoint_with(args.family, args.size, args.seed, &args.out, source.as_deref()) {
		Ok(checkpoint) => {
			println!(
				"wrote {} ({}, {:?}, seed {}): {} parameters, {} tensors, vocabulary {}, in {:.2?}",
				args.out.display(),
				args.family.hub_id(),
				args.size,
				args.seed,
				checkpoint.parameters,
				checkpoint.plan.len(),
				checkpoint.vocab_size,
				start.elapsed(),
			);
			for file in &checkpoint.files {
				println!("  {}", file.display());
			}
			ExitCode::SUCCESS
		}
		Err(e) => {
			eprintln!("citrate-hf-fixture: {e}");
			ExitCode::FAILURE
		}
	}
}
