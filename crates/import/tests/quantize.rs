//! `--quantize int8` on real models: EfficientNet-Lite0 (fp32) shrinks to int8 weights and
//! keeps its top-1 labels, reproducibly; a result below the agreement threshold is refused
//! and leaves nothing behind; packages it does not apply to are refused up front.

use citrate_import::{
	agreement::Metric, prepare, quantize::Dequantization, source::Source, Error, ImportOptions,
	Prepared, Quantization,
};
use citrate_model_primitives::InferenceTask;
use std::path::{Path, PathBuf};

fn model(relative: &str) -> PathBuf {
	let dir = std::env::var_os("CITRATE_MODELS_DIR").map(PathBuf::from).unwrap_or_else(|| {
		PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/citrate/models")
	});
	let path = dir.join(relative);
	assert!(path.exists(), "{} is missing: run `python3 scripts/fetch-models.py`", path.display());
	path
}

/// A scratch directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
	fn new(test: &str) -> Scratch {
		let dir = std::env::temp_dir()
			.join(format!("citrate-import-quantize-{}-{test}", std::process::id()));
		let _ = std::fs::remove_dir_all(&dir);
		std::fs::create_dir_all(&dir).unwrap();
		Scratch(dir)
	}

	/// A repository directory `name` holding `files` (path ← source file, or text).
	fn repo(&self, name: &str, files: &[(&str, Result<PathBuf, &str>)]) -> PathBuf {
		let dir = self.0.join(name);
		std::fs::create_dir_all(&dir).unwrap();
		for (path, file) in files {
			let to = dir.join(path);
			match file {
				Ok(from) => std::fs::copy(from, &to).map(|_| ()).unwrap(),
				Err(text) => std::fs::write(&to, text).unwrap(),
			}
		}
		dir
	}
}

impl Drop for Scratch {
	fn drop(&mut self) {
		let _ = std::fs::remove_dir_all(&self.0);
	}
}

fn options(repo: &Path, out: PathBuf, min_agreement: Option<f64>) -> ImportOptions {
	ImportOptions {
		source: Source::resolve(repo.to_str().unwrap(), None).unwrap(),
		task: None,
		license: None,
		name: None,
		out,
		progress: None,
		quantize: Some(Quantization::Int8),
		min_agreement,
	}
}

fn efficientnet(scratch: &Scratch) -> PathBuf {
	scratch.repo(
		"efficientnet-lite0",
		&[
			("model.onnx", Ok(model("efficientnet-lite0/model.onnx"))),
			(
				"README.md",
				Err("---\nlicense: apache-2.0\npipeline_tag: image-classification\n---\n\
				     EfficientNet-Lite0.\n"),
			),
			(
				"preprocessor_config.json",
				Err(r#"{"size": {"height": 224, "width": 224}, "resample": 2, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]}"#),
			),
		],
	)
}

fn report(what: &str, prepared: &Prepared) {
	let q = prepared.quantized.as_ref().unwrap();
	eprintln!(
		"{what}: {} → {} bytes ({:.1}%), {} tensors; {} agreement {} over {} inputs (mean {}); \
		 load {:?} → {:?}, median run {:?} → {:?}",
		q.bytes_before,
		q.bytes_after,
		100.0 * q.bytes_after as f64 / q.bytes_before as f64,
		q.files.iter().map(|(_, r)| r.tensors).sum::<usize>(),
		q.agreement.metric.name(),
		q.agreement.value,
		q.agreement.inputs,
		q.agreement.mean,
		q.speed_before.load,
		q.speed_after.load,
		q.speed_before.run,
		q.speed_after.run,
	);
}

#[test]
fn efficientnet_lite0_quantizes_to_int8_keeping_its_labels_reproducibly() {
	let scratch = Scratch::new("efficientnet");
	let repo = efficientnet(&scratch);
	let first = prepare(&options(&repo, scratch.0.join("out-1"), None)).unwrap();
	report("EfficientNet-Lite0 int8", &first);
	let q = first.quantized.as_ref().expect("the optimisation step ran");

	// int8 weights: under 35% of the fp32 file.
	let (name, file) = &q.files[0];
	assert_eq!((q.files.len(), name.as_str()), (1, "model.onnx"));
	assert_eq!(
		file.bytes_before,
		std::fs::metadata(model("efficientnet-lite0/model.onnx")).unwrap().len()
	);
	let written = std::fs::metadata(first.dir.join("model.onnx")).unwrap().len();
	assert_eq!(written, file.bytes_after);
	assert!(written * 100 < file.bytes_before * 35, "{written} of {}", file.bytes_before);
	assert_eq!((file.dequantization, file.opset), (Dequantization::DequantizeLinear, 13));
	assert!(file.tensors > 30, "{} weights quantized", file.tensors);
	// 4.65 M parameters, nearly all of them in the quantized weights.
	assert!(file.elements > 4_000_000, "{}", file.elements);

	// The same top-1 label on every reference input: the synthetic image, a cat and a coffee.
	assert_eq!(q.agreement.metric, Metric::Top1);
	assert_eq!((q.agreement.inputs, q.agreement.agreeing), (3, 3));
	assert_eq!((q.agreement.value, q.threshold), (1.0, 1.0));
	assert!(first.validation.summary.starts_with("top label "), "{}", first.validation.summary);
	assert_eq!(
		first.validation.summary.split(" (").next(),
		q.original.summary.split(" (").next(),
		"the reference run's label"
	);
	// The registry's parameter count is the original model's (scales are not parameters), and
	// so is its memory: the engine holds the weights dequantized.
	assert!((4_500_000..4_800_000).contains(&first.metadata.parameter_count));
	assert!(first.validation.weight_bytes < 5_000_000, "{}", first.validation.weight_bytes);
	assert!(first.metadata.min_memory_bytes >= q.original.weight_bytes);
	assert!(q.original.weight_bytes > 18_000_000, "{}", q.original.weight_bytes);

	// The attestation records the step; the package file is the quantized one.
	let a = &first.attestation;
	let record = a.quantization.as_ref().expect("recorded");
	assert_eq!(record.quantization, "int8");
	assert_eq!(record.converter, format!("citrate-import/quantize {}", env!("CARGO_PKG_VERSION")));
	assert_eq!(record.files.len(), 1);
	assert_eq!(record.files[0].tensors, file.tensors);
	assert_eq!(
		(record.files[0].bytes_before, record.files[0].bytes_after),
		(file.bytes_before, written)
	);
	let source = a.source.files.iter().find(|f| f.path == "model.onnx").unwrap();
	assert_eq!(record.files[0].source_sha256, source.sha256);
	assert_eq!(
		(record.agreement.metric, record.agreement.inputs, record.agreement.measured),
		("top-1", 3, 1.0)
	);
	assert_eq!(record.agreement.threshold, 1.0);
	let packaged = a.package.files.iter().find(|f| f.path == "model.onnx").unwrap();
	let (bytes, sha256) =
		citrate_import::attestation::sha256_file(&first.dir.join("model.onnx"), &()).unwrap();
	assert_eq!((packaged.bytes, &packaged.sha256), (bytes, &sha256));
	assert_ne!(packaged.sha256, source.sha256);
	let json: serde_json::Value =
		serde_json::from_slice(&std::fs::read(first.dir.join("citrate-import.json")).unwrap())
			.unwrap();
	assert_eq!(json["quantization"]["files"][0]["dequantization"], "dequantize-linear");
	assert_eq!(json["quantization"]["agreement"]["metric"], "top-1");

	// Quantizing is deterministic: the same repository gives the same package and CID.
	let second = prepare(&options(&repo, scratch.0.join("out-2"), None)).unwrap();
	assert_eq!(second.attestation, first.attestation);
	assert_eq!(second.cid, first.cid);
	assert_eq!(
		std::fs::read(second.dir.join("model.onnx")).unwrap(),
		std::fs::read(first.dir.join("model.onnx")).unwrap()
	);
}

#[test]
fn a_quantized_model_below_the_threshold_is_refused_leaving_nothing() {
	let scratch = Scratch::new("threshold");
	let repo = efficientnet(&scratch);
	// As raw tensors, outputs are compared by cosine similarity; int8 weights cannot give
	// the original's logits exactly, so a threshold of 1 is out of reach.
	let out = scratch.0.join("refused");
	let mut raw = options(&repo, out.clone(), Some(1.0));
	raw.task = Some(InferenceTask::RawTensors);
	let error = prepare(&raw).unwrap_err();
	assert!(!out.exists(), "a refused import leaves no package behind");
	let Error::Disagreement { quantization, agreement, threshold } = &error else {
		panic!("{error}")
	};
	assert_eq!(
		(*quantization, agreement.metric, *threshold),
		(Quantization::Int8, Metric::Cosine, 1.0)
	);
	// Zeros and three random draws; close, but not equal.
	assert_eq!(agreement.inputs, 4);
	assert!((0.98..1.0).contains(&agreement.value), "{agreement:?}");
	assert!(agreement.value <= agreement.mean && agreement.mean < 1.0, "{agreement:?}");
	let cut = |x: f64| format!("{:.6}", (x * 1e6).floor() / 1e6);
	assert_eq!(
		error.to_string(),
		format!(
			"--quantize int8 refused: the quantized model has outputs of cosine similarity {} to \
			 the original's (the minimum over 4 reference inputs; mean {}), below the required \
			 1.000000; nothing was written. --min-agreement <fraction> sets the threshold",
			cut(agreement.value),
			cut(agreement.mean)
		)
	);
	eprintln!("EfficientNet-Lite0 as raw tensors: {error}");

	// A threshold it reaches accepts the same model (0.99 is the default for cosine).
	assert_eq!(Metric::Cosine.default_threshold(), 0.99);
	raw.min_agreement = Some(0.98);
	let accepted = prepare(&raw).unwrap();
	let q = accepted.quantized.as_ref().unwrap();
	assert_eq!((q.agreement.metric, q.threshold), (Metric::Cosine, 0.98));
	assert_eq!(q.agreement, *agreement, "the same measurement, run to run");
	report("EfficientNet-Lite0 int8 as raw tensors", &accepted);
}

#[test]
fn quantize_is_refused_where_it_does_not_apply() {
	let scratch = Scratch::new("refusals");
	let card = |tag: &str| format!("---\nlicense: apache-2.0\npipeline_tag: {tag}\n---\n");
	let refusal = |repo: &Path, min_agreement: Option<f64>, quantize: Option<Quantization>| {
		let out = scratch.0.join("out");
		let mut options = options(repo, out.clone(), min_agreement);
		options.quantize = quantize;
		let error = prepare(&options).expect_err("refused").to_string();
		assert!(!out.exists(), "a refused import leaves no package behind");
		error
	};

	let extraction = card("feature-extraction");
	let safetensors = scratch.repo(
		"minilm-safetensors",
		&[
			("model.safetensors", Ok(model("all-minilm-l6-v2/model.safetensors"))),
			("tokenizer.json", Ok(model("all-minilm-l6-v2/tokenizer.json"))),
			("config.json", Ok(model("all-minilm-l6-v2/config.json"))),
			("README.md", Err(&extraction)),
		],
	);
	assert_eq!(
		refusal(&safetensors, None, Some(Quantization::Int8)),
		"--quantize int8 applies to ONNX models run on tract (it quantizes their MatMul, Gemm \
		 and Conv weights); this repository's weights are safetensors (model.safetensors), run \
		 on candle: import it without --quantize"
	);

	// MiniLM's ONNX export is int8 already (MatMulInteger): nothing is left to quantize.
	let int8 = scratch.repo(
		"minilm-int8",
		&[
			("model.onnx", Ok(model("all-minilm-l6-v2-int8/model.onnx"))),
			("tokenizer.json", Ok(model("all-minilm-l6-v2/tokenizer.json"))),
			("config.json", Ok(model("all-minilm-l6-v2/config.json"))),
			("README.md", Err(&extraction)),
		],
	);
	assert_eq!(
		refusal(&int8, None, Some(Quantization::Int8)),
		"--quantize int8: the model holds no float32 MatMul, Gemm or Conv weight of 1024 \
		 elements or more (it may be quantized already); import it without --quantize"
	);

	assert_eq!(
		refusal(&int8, Some(0.9), None),
		"--min-agreement is the threshold of --quantize; give both or neither"
	);
	assert_eq!(
		refusal(&int8, Some(1.5), Some(Quantization::Int8)),
		"--min-agreement 1.5: give a fraction from 0 to 1"
	);
	assert_eq!(Quantization::from_name("int8"), Some(Quantization::Int8));
	assert_eq!(Quantization::from_name("int4"), None);
}

#[test]
fn the_engine_folds_the_dequantization_at_load_running_the_original_s_plan() {
	use citrate_inference::onnx::{LoadOptions, OnnxModel};
	use citrate_tensor_primitives::Tensor;
	let original = std::fs::read(model("efficientnet-lite0/model.onnx")).unwrap();
	let (quantized, report) = citrate_import::quantize::quantize_onnx(&original).unwrap();
	// The 1000 × 1280 classifier weight is over 4 MiB of f32: dequantized in two chunks.
	assert_eq!(report.tensors, 46);
	// A flat grey image, normalised (-0.5 is grey at EfficientNet's mean and std of 0.5).
	let image =
		Tensor::from_f32("images", vec![1, 3, 224, 224], &vec![-0.5; 3 * 224 * 224]).unwrap();
	let plan = |bytes: &[u8]| {
		let model = OnnxModel::load(bytes, &LoadOptions::default()).unwrap();
		let (outputs, times) = model.profile(std::slice::from_ref(&image)).unwrap();
		let mut ops: Vec<(String, usize)> = times.into_iter().map(|t| (t.op, t.calls)).collect();
		ops.sort();
		(ops, outputs[0].to_f32().unwrap())
	};
	let (before, logits_before) = plan(&original);
	let (after, logits_after) = plan(&quantized);
	// The same operators, as many times: no DequantizeLinear, Cast or Concat is left to run,
	// so the quantized model runs as fast as the original, never faster.
	assert_eq!(after, before);
	assert!(!after.iter().any(|(op, _)| op.contains("Dequantize")), "{after:?}");
	// Different weights all the same.
	assert_ne!(logits_after, logits_before);
	let cosine = citrate_import::agreement::cosine(&logits_before, &logits_after);
	assert!(cosine > 0.99, "{cosine}");
}
