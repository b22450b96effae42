//! Inference benchmark on the real models: cold load, warm latency (median, p95) and peak
//! memory for tract (and candle), beside onnxruntime on the same model, machine and thread
//! count, measured in the same run. Prints a markdown table and writes it to a file.
//!
//!     cargo bench -p citrate-inference --bench models -- [--threads N] [--runs N] [--out FILE]
//!
//! Below the table, where tract's time goes: each ONNX model's run profiled once, the three
//! operators it spends most in, with their share of the run.
//!
//! Each measurement runs in its own process (this binary re-run with `--child`, and
//! `scripts/bench_onnxruntime.py` in `$CITRATE_BENCH_PYTHON`, default python3), so peak RSS is
//! the model's own. Cold load = read + parse + optimise + first run; RSS = peak growth over
//! the process before loading.

mod common;

use citrate_inference::{
	codec::{encode, DType, Tensor},
	onnx::{LoadOptions, OnnxModel},
};
use common::peak_rss;
use std::{
	path::{Path, PathBuf},
	process::Command,
	time::Instant,
};

struct Case {
	name: &'static str,
	file: &'static str,
	inputs: fn() -> Vec<Tensor>,
	/// Runs on candle (no onnxruntime counterpart).
	candle: bool,
	/// Plan per input shape (`LoadOptions::specialize`), as image pipelines load models.
	specialize: bool,
}

fn lcg(count: usize, seed: u32) -> Vec<f32> {
	let mut x = seed;
	(0..count)
		.map(|_| {
			x = x.wrapping_mul(1664525).wrapping_add(1013904223);
			(x >> 24) as f32 / 255.0 * 2.0 - 1.0
		})
		.collect()
}

fn image(name: &str, shape: [u32; 4]) -> Tensor {
	Tensor::from_f32(name, shape.to_vec(), &lcg(shape.iter().product::<u32>() as usize, 1)).unwrap()
}

fn bert(sequence: u32) -> Vec<Tensor> {
	let ids: Vec<i64> = (0..sequence).map(|i| 1000 + i64::from(i) * 37 % 20000).collect();
	let i64s = |name: &str, values: &[i64]| {
		Tensor::new(
			name,
			DType::I64,
			vec![1, sequence],
			values.iter().flat_map(|v| v.to_le_bytes()).collect(),
		)
		.unwrap()
	};
	vec![
		i64s("input_ids", &ids),
		i64s("attention_mask", &vec![1; sequence as usize]),
		i64s("token_type_ids", &vec![0; sequence as usize]),
	]
}

fn unet() -> Vec<Tensor> {
	vec![
		image("noisy", [1, 1, 128, 128]),
		Tensor::from_f32("sigma", vec![1], &[0.5]).unwrap(),
		Tensor::from_f32("difficulty", vec![1], &[1.0]).unwrap(),
	]
}

fn vad() -> Vec<Tensor> {
	vec![
		Tensor::from_f32("input", vec![1, 576], &lcg(576, 2)).unwrap(),
		Tensor::from_f32("state", vec![2, 1, 128], &[0.0; 256]).unwrap(),
	]
}

const fn case(name: &'static str, file: &'static str, inputs: fn() -> Vec<Tensor>) -> Case {
	Case { name, file, inputs, candle: false, specialize: false }
}

const fn specialized(name: &'static str, file: &'static str, inputs: fn() -> Vec<Tensor>) -> Case {
	Case { name, file, inputs, candle: false, specialize: true }
}

const CASES: &[Case] = &[
	case("MiniLM-L6 int8, 32 tokens", "all-minilm-l6-v2-int8/model.onnx", || bert(32)),
	specialized(
		"MiniLM-L6 int8, 32 tokens, planned for its shape",
		"all-minilm-l6-v2-int8/model.onnx",
		|| bert(32),
	),
	case("MiniLM-L6 int8, 128 tokens", "all-minilm-l6-v2-int8/model.onnx", || bert(128)),
	Case {
		name: "MiniLM-L6 fp32 (candle), 32 tokens",
		file: "all-minilm-l6-v2/model.safetensors",
		inputs: || bert(32),
		candle: true,
		specialize: false,
	},
	case("EfficientNet-Lite0, 224², symbolic plan", "efficientnet-lite0/model.onnx", || {
		vec![image("images", [1, 3, 224, 224])]
	}),
	specialized("EfficientNet-Lite0, 224²", "efficientnet-lite0/model.onnx", || {
		vec![image("images", [1, 3, 224, 224])]
	}),
	case("Silero VAD, 32 ms chunk", "silero-vad/silero_vad_16k.onnx", vad),
	case("PP-OCRv4 det, 320²", "pp-ocrv4/det.onnx", || vec![image("x", [1, 3, 320, 320])]),
	case("PP-OCRv4 rec, 48×320", "pp-ocrv4/rec.onnx", || vec![image("x", [1, 3, 48, 320])]),
	case("PP-OCR cls, 48×192", "pp-ocrv4/cls.onnx", || vec![image("x", [1, 3, 48, 192])]),
	case("terrain UNet, 128², symbolic plan", "terrain-unet/unet.onnx", unet),
	specialized("terrain UNet, 128²", "terrain-unet/unet.onnx", unet),
];

fn models_dir() -> PathBuf {
	std::env::var_os("CITRATE_MODELS_DIR").map(PathBuf::from).unwrap_or_else(|| {
		PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/citrate/models")
	})
}

/// One measurement in this process; prints `load_ms latency… peak_rss` as JSON.
fn child(case: &Case, threads: usize, runs: usize) {
	let inputs = (case.inputs)();
	let path = models_dir().join(case.file);
	let baseline = peak_rss();
	let started = Instant::now();
	let flops: u128;
	let mut onnx: Option<std::sync::Arc<OnnxModel>> = None;
	let run: Box<dyn Fn() -> Vec<Tensor>> = if case.candle {
		#[cfg(feature = "candle")]
		{
			let bytes = std::fs::read(&path).expect("model");
			let config = std::fs::read(path.with_file_name("config.json")).expect("config");
			let device = citrate_inference::candle::device(true).unwrap();
			let model = citrate_inference::candle::bert::BertEncoder::load(
				&bytes,
				&config,
				&device,
				&citrate_inference::Limits::default(),
			)
			.expect("loads");
			// BERT inputs are [1, sequence].
			let sequence = inputs.first().and_then(|t| t.shape.get(1)).map_or(0, |&n| n as usize);
			flops = model.estimate(1, sequence).flops;
			let inputs = inputs.clone();
			Box::new(move || model.run(&inputs).expect("runs"))
		}
		#[cfg(not(feature = "candle"))]
		panic!("built without candle")
	} else {
		let bytes = std::fs::read(&path).expect("model");
		let model = OnnxModel::load(
			&bytes,
			&LoadOptions { threads, specialize: case.specialize, ..LoadOptions::default() },
		)
		.expect("loads");
		drop(bytes);
		flops = model.estimate(&inputs).expect("estimate").flops;
		let model = std::sync::Arc::new(model);
		onnx = Some(model.clone());
		let inputs = inputs.clone();
		Box::new(move || model.run(&inputs).expect("runs"))
	};
	run();
	let load_ms = started.elapsed().as_secs_f64() * 1000.0;
	let latencies: Vec<f64> = (0..runs)
		.map(|_| {
			let t = Instant::now();
			run();
			t.elapsed().as_secs_f64() * 1000.0
		})
		.collect();
	let rss = peak_rss().saturating_sub(baseline);
	let profile: Vec<serde_json::Value> = onnx
		.map(|model| model.profile(&inputs).expect("profiles").1)
		.unwrap_or_default()
		.iter()
		.map(|t| serde_json::json!([t.op, t.spent.as_secs_f64() * 1000.0]))
		.collect();
	println!(
		"{}",
		serde_json::json!({
			"load_ms": load_ms,
			"latencies_ms": latencies,
			"peak_rss_bytes": rss,
			"flops": flops as f64,
			"profile": profile,
		})
	);
}

struct Measured {
	/// The cost model's estimate for one run (tract and candle only).
	flops: f64,
	load_ms: f64,
	median_ms: f64,
	p95_ms: f64,
	rss_mb: f64,
	/// Milliseconds per operator kind in one profiled run, most first (tract only).
	profile: Vec<(String, f64)>,
}

fn parse(output: &[u8]) -> Option<Measured> {
	let line = String::from_utf8_lossy(output);
	let json: serde_json::Value = serde_json::from_str(line.lines().last()?).ok()?;
	let mut latencies: Vec<f64> =
		json["latencies_ms"].as_array()?.iter().filter_map(|v| v.as_f64()).collect();
	latencies.sort_by(f64::total_cmp);
	let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
	Some(Measured {
		flops: json["flops"].as_f64().unwrap_or(0.0),
		load_ms: json["load_ms"].as_f64()?,
		median_ms: at(0.5),
		p95_ms: at(0.95),
		rss_mb: json["peak_rss_bytes"].as_f64()? / 1e6,
		profile: json["profile"]
			.as_array()
			.map(|ops| {
				ops.iter()
					.filter_map(|op| Some((op[0].as_str()?.to_string(), op[1].as_f64()?)))
					.collect()
			})
			.unwrap_or_default(),
	})
}

fn main() {
	let args: Vec<String> = std::env::args().collect();
	let value =
		|flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned();
	let threads: usize = value("--threads").and_then(|v| v.parse().ok()).unwrap_or(1);
	let runs: usize = value("--runs").and_then(|v| v.parse().ok()).unwrap_or(30);
	if let Some(name) = value("--child") {
		let case = CASES.iter().find(|c| c.name == name).expect("known case");
		return child(case, threads, runs);
	}
	let out = value("--out").map(PathBuf::from).unwrap_or_else(|| {
		PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()))
			.join("inference-bench.md")
	});
	let python = std::env::var("CITRATE_BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
	let script =
		Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
			.join("../../scripts/bench_onnxruntime.py");
	let exe = std::env::current_exe().expect("own path");
	let tmp = std::env::temp_dir().join(format!("citrate-bench-{}", std::process::id()));
	std::fs::create_dir_all(&tmp).unwrap();

	let mut profiles = String::from(
		"| model | where tract's time goes (share of one profiled run) |\n|---|---|\n",
	);
	let mut table = String::from(
		"| model | engine | cold load (ms) | median (ms) | p95 (ms) | peak RSS (MB) | latency ÷ onnxruntime | est. GFLOP | GFLOP/s |\n|---|---|---|---|---|---|---|---|---|\n",
	);
	for case in CASES {
		let ours = Command::new(&exe)
			.args([
				"--child",
				case.name,
				"--threads",
				&threads.to_string(),
				"--runs",
				&runs.to_string(),
			])
			.output()
			.expect("child runs");
		let ours = parse(&ours.stdout)
			.unwrap_or_else(|| panic!("{}: {}", case.name, String::from_utf8_lossy(&ours.stderr)));
		let engine = if case.candle { "candle" } else { "tract" };
		let reference = (!case.candle).then(|| {
			let inputs = tmp.join(format!("{}.cten", case.name.replace(['/', ' ', ','], "_")));
			std::fs::write(&inputs, encode(&(case.inputs)()).unwrap()).unwrap();
			let output = Command::new(&python)
				.arg(&script)
				.arg(models_dir().join(case.file))
				.arg(&inputs)
				.args([threads.to_string(), runs.to_string()])
				.output()
				.expect("python runs");
			parse(&output.stdout).unwrap_or_else(|| {
				panic!("onnxruntime on {}: {}", case.name, String::from_utf8_lossy(&output.stderr))
			})
		});
		let ratio = reference
			.as_ref()
			.map_or("—".to_string(), |r| format!("{:.2}", ours.median_ms / r.median_ms));
		// The achieved rate calibrates the cost model's `Schedule::ps_per_flop`.
		let gflop = ours.flops / 1e9;
		table += &format!(
			"| {} | {engine} | {:.0} | {:.2} | {:.2} | {:.0} | {ratio} | {gflop:.2} | {:.1} |\n",
			case.name,
			ours.load_ms,
			ours.median_ms,
			ours.p95_ms,
			ours.rss_mb,
			gflop / (ours.median_ms / 1000.0)
		);
		let total: f64 = ours.profile.iter().map(|(_, ms)| ms).sum();
		if total > 0.0 {
			let top: Vec<String> = ours
				.profile
				.iter()
				.take(3)
				.map(|(op, ms)| format!("{op} {:.0} %", ms / total * 100.0))
				.collect();
			profiles += &format!("| {} | {} |\n", case.name, top.join(", "));
		}
		if let Some(r) = reference {
			table += &format!(
				"| {} | onnxruntime | {:.0} | {:.2} | {:.2} | {:.0} | 1.00 | | |\n",
				case.name, r.load_ms, r.median_ms, r.p95_ms, r.rss_mb
			);
		}
		eprintln!("measured {}", case.name);
	}
	let header = format!(
		"Inference benchmark: {threads} thread(s), {runs} warm runs per model, {} CPUs.\n\n",
		std::thread::available_parallelism().map_or(0, |n| n.get())
	);
	let report = header + &table + "\n" + &profiles;
	println!("{report}");
	std::fs::write(&out, &report).expect("write the table");
	eprintln!("wrote {}", out.display());
	let _ = std::fs::remove_dir_all(&tmp);
}
