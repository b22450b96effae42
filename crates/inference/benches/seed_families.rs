//! The seed's model families at full size, on checkpoints in the Hub's layout with random
//! weights (`citrate-hf-fixtures`; speed does not depend on weight values), against the
//! seed's targets on this machine: load time, latency (per generated token for generative
//! models) and peak memory. Prints a markdown table.
//!
//!     cargo bench -p citrate-inference --bench seed_families -- [--runs N]
//!
//! Each model is measured in its own process (this binary re-run with `--child`), so peak RSS
//! is the model's own; the checkpoint is written to a temporary directory first.

mod common;

use citrate_hf_fixtures::{write_checkpoint, Family, Size};
use citrate_inference::pipelines::{
	GenerationParams, ModelFiles, Output, Pipeline, PipelineOptions, Request, Task,
};
use common::peak_rss;
use std::{path::Path, process::Command, time::Instant};

struct Case {
	name: &'static str,
	family: Family,
	task: Task,
	/// The seed's targets: load (ms), latency (ms; per token when generating), memory (MB).
	targets: (f64, f64, f64),
	/// Tokens generated per run (generative models; latency is per token).
	tokens: usize,
}

const CASES: &[Case] = &[Case {
	name: "GPT-2 124M, greedy, 32 tokens after a 9-token prompt",
	family: Family::Gpt2,
	task: Task::TextGeneration,
	targets: (1000.0, 100.0, 500.0),
	tokens: 32,
}];

fn request(case: &Case) -> Request {
	match case.task {
		Task::TextGeneration => Request::Prompt {
			text: "The history of the city begins in the".into(),
			params: GenerationParams { max_tokens: case.tokens, ..Default::default() },
		},
		_ => Request::Text(vec![
			"A sentence of about twelve words to encode for the benchmark.".into()
		]),
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
	let latencies: Vec<f64> = (0..runs)
		.map(|_| {
			let t = Instant::now();
			let output = pipeline.run(&request).expect("runs");
			let per = match output {
				// Greedy decoding of random weights may stop early at the end token.
				Output::Text(_) => case.tokens.max(1),
				_ => 1,
			};
			t.elapsed().as_secs_f64() * 1000.0 / per as f64
		})
		.collect();
	let rss = peak_rss().saturating_sub(baseline);
	println!(
		"{}",
		serde_json::json!({ "load_ms": load_ms, "latencies_ms": latencies, "peak_rss_bytes": rss })
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
		"| model | load (ms) | target | latency (ms) | target | peak RSS (MB) | target |\n|---|---|---|---|---|---|---|\n",
	);
	for case in CASES {
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
		let line = String::from_utf8_lossy(&output.stdout);
		let json: serde_json::Value = serde_json::from_str(line.lines().last().unwrap_or_default())
			.unwrap_or_else(|_| {
				panic!("{}: {}", case.name, String::from_utf8_lossy(&output.stderr))
			});
		let mut latencies: Vec<f64> =
			json["latencies_ms"].as_array().unwrap().iter().filter_map(|v| v.as_f64()).collect();
		latencies.sort_by(f64::total_cmp);
		let median = latencies[latencies.len() / 2];
		let (load, rss) =
			(json["load_ms"].as_f64().unwrap(), json["peak_rss_bytes"].as_f64().unwrap() / 1e6);
		let mark = |value: f64, target: f64| if value < target { "✓" } else { "✗" };
		let (tl, tr, tm) = case.targets;
		table += &format!(
			"| {} | {load:.0} | < {tl:.0} {} | {median:.1} | < {tr:.0} {} | {rss:.0} | < {tm:.0} {} |\n",
			case.name,
			mark(load, tl),
			mark(median, tr),
			mark(rss, tm)
		);
		eprintln!("measured {}", case.name);
	}
	println!(
		"Seed families at full size (random weights), {} CPUs, median of {runs} runs.\n\n{table}",
		std::thread::available_parallelism().map_or(0, |n| n.get())
	);
}
