//! The seed's model families at full size, on checkpoints in the Hub's layout with random
//! weights (`citrate-hf-fixtures`; speed does not depend on weight values), against the
//! seed's targets on this machine: load time, latency (per generated token for generative
//! models) and peak memory. Prints a markdown table.
//!
//!     cargo bench -p citrate-inference --bench seed_families -- [--runs N] [--only TEXT] [--out FILE]
//!
//! `--only` measures the cases whose name contains TEXT; `--out` appends the table to FILE
//! (`scripts/bench-inference.sh` appends it to the models' table). Every case runs on all
//! the machine's cores (candle's default), as the seed's targets assume.
//!
//! Each model is measured in its own process (this binary re-run with `--child`), so memory is
//! the model's own; the checkpoint is written to a temporary directory first. "Peak" is the
//! high-water mark (loading holds the file's bytes and the f32 tensors made from them at
//! once); "resident" is what the loaded model keeps after its runs, the files dropped.

mod common;

use citrate_hf_fixtures::{write_checkpoint, Family, Size};
use citrate_inference::pipelines::{
	GenerationParams, ImageText, ModelFiles, Output, Pipeline, PipelineOptions, Request, Task,
	DEFAULT_TEMPLATE,
};
use common::{peak_rss, rss};
use std::{path::Path, process::Command, time::Instant};

struct Case {
	name: &'static str,
	family: Family,
	task: Task,
	/// The seed's targets: load (ms; none where the seed sets none), latency (ms; per token
	/// when generating), memory (MB).
	targets: (Option<f64>, f64, f64),
	/// Tokens generated per run (generative models; latency is per token).
	tokens: usize,
}

const CASES: &[Case] = &[
	Case {
		name: "GPT-2 124M, greedy, 32 tokens after a 9-token prompt",
		family: Family::Gpt2,
		task: Task::TextGeneration,
		targets: (Some(1000.0), 100.0, 500.0),
		tokens: 32,
	},
	Case {
		name: "BERT-base fill-mask, one 14-token sentence",
		family: Family::BertMaskedLm,
		task: Task::FillMask,
		targets: (None, 50.0, 450.0),
		tokens: 0,
	},
	Case {
		name: "BERT-base sequence classification, one 14-token sentence",
		family: Family::BertSequenceClassification,
		task: Task::TextClassification,
		targets: (None, 50.0, 450.0),
		tokens: 0,
	},
	Case {
		name: "T5-small, greedy, 16 tokens after a 14-token prompt",
		family: Family::T5,
		task: Task::Text2TextGeneration,
		targets: (None, 75.0, 250.0),
		tokens: 16,
	},
	Case {
		name: "CLIP ViT-B/32, one 640×480 image against 3 labels",
		family: Family::Clip,
		task: Task::ZeroShotImageClassification,
		targets: (None, 150.0, 600.0),
		tokens: 0,
	},
];

/// A 640×480 photo-like gradient, as PNG.
fn image() -> Vec<u8> {
	let picture = image::RgbImage::from_fn(640, 480, |x, y| {
		image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
	});
	let mut png = std::io::Cursor::new(vec![]);
	picture.write_to(&mut png, image::ImageFormat::Png).expect("PNG");
	png.into_inner()
}

fn request(case: &Case) -> Request {
	let sentence = "The museum in the old town is open on [MASK] from nine to five.";
	match case.task {
		Task::TextGeneration => Request::Prompt {
			text: "The history of the city begins in the".into(),
			params: GenerationParams { max_tokens: case.tokens, ..Default::default() },
		},
		Task::Text2TextGeneration => Request::Prompt {
			text: "translate English to German: The museum is open on Sundays.".into(),
			params: GenerationParams { max_tokens: case.tokens, ..Default::default() },
		},
		Task::ZeroShotImageClassification => Request::ImageText(ImageText::Classify {
			image: image(),
			labels: vec!["a cat".into(), "a dog".into(), "a diagram".into()],
			template: DEFAULT_TEMPLATE.into(),
		}),
		Task::FillMask => Request::Text(vec![sentence.into()]),
		_ => Request::Text(vec![sentence.replace("[MASK]", "Sundays")]),
	}
}

/// Loads the checkpoint in `dir` and runs it; prints `load_ms latencies peak_rss` as JSON.
fn child(case: &Case, dir: &Path, runs: usize) {
	let baseline = peak_rss();
	let started = Instant::now();
	let files = ModelFiles::from_dir(dir, u64::MAX).expect("checkpoint files");
	let pipeline = Pipeline::load(case.task, &files, &PipelineOptions::default()).expect("loads");
	drop(files);
	let load_ms = started.elapsed().as_secs_f64() * 1000.0;
	let request = request(case);
	// Latency is per token generated. Random weights may stop early at the end token, so the
	// text is re-tokenised and the count capped at `max_tokens` (re-tokenising can split the
	// text finer than it was generated, never coarser for these tokenizers).
	let tokenizer = tokenizers::Tokenizer::from_file(dir.join("tokenizer.json")).ok();
	let latencies: Vec<f64> = (0..runs)
		.map(|_| {
			let t = Instant::now();
			let output = pipeline.run(&request).expect("runs");
			let elapsed = t.elapsed().as_secs_f64() * 1000.0;
			let per = match (&output, &tokenizer) {
				(Output::Text(text), Some(tokenizer)) => {
					let tokens = tokenizer.encode(text.as_str(), false).map_or(0, |e| e.len());
					tokens.clamp(1, case.tokens)
				}
				_ => 1,
			};
			elapsed / per as f64
		})
		.collect();
	let (peak, resident) = (peak_rss().saturating_sub(baseline), rss().saturating_sub(baseline));
	println!(
		"{}",
		serde_json::json!({
			"load_ms": load_ms,
			"latencies_ms": latencies,
			"peak_rss_bytes": peak,
			"rss_bytes": resident,
		})
	);
}

fn main() {
	let args: Vec<String> = std::env::args().collect();
	let value =
		|flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned();
	let runs: usize = value("--runs").and_then(|v| v.parse().ok()).unwrap_or(5);
	if let (Some(name), Some(dir)) = (value("--child"), value("--dir")) {
		let case = CASES.iter().find(|c| c.name == name).expect("known case");
		return child(case, Path::new(&dir), runs);
	}
	let exe = std::env::current_exe().expect("own path");
	let mut table = String::from(
		"| model | load (ms) | target | latency (ms) | target | resident (MB) | peak (MB) | target |\n|---|---|---|---|---|---|---|---|\n",
	);
	let only = value("--only");
	for case in CASES.iter().filter(|c| only.as_ref().is_none_or(|o| c.name.contains(o.as_str()))) {
		let dir = std::env::temp_dir().join(format!("citrate-seed-bench-{}", std::process::id()));
		let _ = std::fs::remove_dir_all(&dir);
		write_checkpoint(case.family, Size::Full, 1, &dir).expect("checkpoint written");
		let output = Command::new(&exe)
			.args(["--child", case.name, "--runs", &runs.to_string()])
			.arg("--dir")
			.arg(&dir)
			.output()
			.expect("child runs");
		let _ = std::fs::remove_dir_all(&dir);
		eprint!("{}", String::from_utf8_lossy(&output.stderr));
		let line = String::from_utf8_lossy(&output.stdout);
		let json: serde_json::Value = serde_json::from_str(line.lines().last().unwrap_or_default())
			.unwrap_or_else(|_| {
				panic!("{}: {}", case.name, String::from_utf8_lossy(&output.stderr))
			});
		let mut latencies: Vec<f64> =
			json["latencies_ms"].as_array().unwrap().iter().filter_map(|v| v.as_f64()).collect();
		latencies.sort_by(f64::total_cmp);
		let median = latencies[latencies.len() / 2];
		let mb = |key: &str| json[key].as_f64().unwrap() / 1e6;
		let (load, peak, resident) =
			(json["load_ms"].as_f64().unwrap(), mb("peak_rss_bytes"), mb("rss_bytes"));
		let mark = |value: f64, target: f64| if value < target { "✓" } else { "✗" };
		let (tl, tr, tm) = case.targets;
		let load_target =
			tl.map_or("—".to_string(), |tl| format!("< {tl:.0} {}", mark(load, tl)));
		table += &format!(
			"| {} | {load:.0} | {load_target} | {median:.1} | < {tr:.0} {} | {resident:.0} {} | {peak:.0} {} | < {tm:.0} |\n",
			case.name,
			mark(median, tr),
			mark(resident, tm),
			mark(peak, tm)
		);
		eprintln!("measured {}", case.name);
	}
	let report = format!(
		"Seed families at full size (random weights), {} CPUs, median of {runs} runs.\n\n{table}",
		std::thread::available_parallelism().map_or(0, |n| n.get())
	);
	println!("{report}");
	if let Some(out) = value("--out") {
		use std::io::Write;
		let mut file =
			std::fs::OpenOptions::new().append(true).create(true).open(&out).expect("open --out");
		writeln!(file, "\n{report}").expect("append the table");
		eprintln!("appended to {out}");
	}
}
