//! The importer on real models laid out as Hugging Face repositories (from the models
//! `scripts/fetch-models.py` caches), in the Hub cache's layout, and on bad repositories,
//! each refused with the file and the problem.

use citrate_import::{prepare, source::Source, validate::REFERENCE_TEXT, ImportOptions, Prepared};
use citrate_model_primitives::{Framework, InferenceTask, LicenseKind};
use std::{
	path::{Path, PathBuf},
	sync::{Arc, Mutex},
};

/// Records each step: its name, the bytes announced and the bytes counted.
#[derive(Debug, Default)]
struct Recorder {
	steps: Mutex<Vec<(String, Option<u64>, u64)>>,
	finished: Mutex<bool>,
}

impl citrate_import::Progress for Recorder {
	fn start(&self, step: &str, bytes: Option<u64>) {
		self.steps.lock().unwrap().push((step.to_string(), bytes, 0));
	}

	fn advance(&self, bytes: u64) {
		self.steps.lock().unwrap().last_mut().expect("a step started").2 += bytes;
	}

	fn finish(&self) {
		*self.finished.lock().unwrap() = true;
	}
}

fn models_dir() -> PathBuf {
	std::env::var_os("CITRATE_MODELS_DIR").map(PathBuf::from).unwrap_or_else(|| {
		PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/citrate/models")
	})
}

fn model(relative: &str) -> PathBuf {
	let path = models_dir().join(relative);
	assert!(path.exists(), "{} is missing: run `python3 scripts/fetch-models.py`", path.display());
	path
}

/// A scratch directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
	fn new(test: &str) -> Scratch {
		let dir =
			std::env::temp_dir().join(format!("citrate-import-{}-{test}", std::process::id()));
		let _ = std::fs::remove_dir_all(&dir);
		std::fs::create_dir_all(&dir).unwrap();
		Scratch(dir)
	}

	/// A repository directory `name` holding `files` (path in the repo ← source file or text).
	fn repo(&self, name: &str, files: &[(&str, File)]) -> PathBuf {
		let dir = self.0.join(name);
		for (path, file) in files {
			let to = dir.join(path);
			std::fs::create_dir_all(to.parent().unwrap()).unwrap();
			match file {
				File::Copy(from) => std::fs::copy(from, &to).map(|_| ()).unwrap(),
				File::Text(text) => std::fs::write(&to, text).unwrap(),
				File::Bytes(bytes) => std::fs::write(&to, bytes).unwrap(),
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

enum File {
	Copy(PathBuf),
	Text(String),
	Bytes(Vec<u8>),
}

fn card(license: &str, pipeline_tag: &str) -> File {
	File::Text(format!(
		"---\nlicense: {license}\npipeline_tag: {pipeline_tag}\ntags:\n- sentence-transformers\n\
		 library_name: sentence-transformers\n---\n\n# all-MiniLM-L6-v2\n\nMaps sentences to a \
		 384 dimensional dense vector space.\n"
	))
}

fn minilm_onnx_repo(scratch: &Scratch, name: &str) -> PathBuf {
	scratch.repo(
		name,
		&[
			("onnx/model.onnx", File::Copy(model("all-minilm-l6-v2-int8/model.onnx"))),
			("tokenizer.json", File::Copy(model("all-minilm-l6-v2/tokenizer.json"))),
			("config.json", File::Copy(model("all-minilm-l6-v2/config.json"))),
			("README.md", card("apache-2.0", "sentence-similarity")),
		],
	)
}

fn minilm_safetensors_files() -> Vec<(&'static str, File)> {
	vec![
		("model.safetensors", File::Copy(model("all-minilm-l6-v2/model.safetensors"))),
		("tokenizer.json", File::Copy(model("all-minilm-l6-v2/tokenizer.json"))),
		("config.json", File::Copy(model("all-minilm-l6-v2/config.json"))),
		("README.md", card("apache-2.0", "feature-extraction")),
	]
}

fn options(dir: &Path, out: PathBuf) -> ImportOptions {
	ImportOptions {
		source: Source::resolve(dir.to_str().unwrap(), None).unwrap(),
		task: None,
		license: None,
		name: None,
		out,
		progress: None,
		quantize: None,
		min_agreement: None,
	}
}

fn import(dir: &Path, out: PathBuf) -> citrate_import::Result<Prepared> {
	prepare(&options(dir, out))
}

fn refusal(dir: &Path, scratch: &Scratch) -> String {
	let out = scratch.0.join("refused-out");
	let error = import(dir, out.clone()).expect_err("refused").to_string();
	assert!(!out.exists(), "a refused import leaves no package behind");
	error
}

#[test]
fn an_onnx_sentence_encoder_imports_with_metadata_and_a_reproducible_attestation() {
	let scratch = Scratch::new("onnx");
	let repo = minilm_onnx_repo(&scratch, "all-MiniLM-L6-v2");
	let first = import(&repo, scratch.0.join("out-1")).unwrap();
	assert_eq!(first.name, "all-MiniLM-L6-v2");
	assert_eq!(first.plan.task, InferenceTask::FeatureExtraction);
	assert_eq!(first.plan.framework, Framework::Onnx);
	assert_eq!(first.license.id, "Apache-2.0");
	assert_eq!(first.license.kind, LicenseKind::OpenSource);
	assert_eq!(first.validation.summary, "1 embedding(s) of 384 dims");

	// The package holds the engine's file names, the card and the attestation.
	let mut names: Vec<String> = std::fs::read_dir(&first.dir)
		.unwrap()
		.map(|e| e.unwrap().file_name().into_string().unwrap())
		.collect();
	names.sort();
	assert_eq!(
		names,
		["README.md", "citrate-import.json", "config.json", "model.onnx", "tokenizer.json"]
	);

	// Metadata from the engine: MiniLM's 22.7 M parameters (int8), the cost model's FLOPs
	// for the reference sentence (BERT-small, 6 layers of 384: ~2·22 M per token).
	let m = &first.metadata;
	assert_eq!(m.description, "Maps sentences to a 384 dimensional dense vector space.");
	assert!((22_000_000..23_500_000).contains(&m.parameter_count), "{}", m.parameter_count);
	// The encoder's ~10.6 M non-embedding parameters, 2 FLOPs each per token.
	let words = REFERENCE_TEXT.split_whitespace().count() as u64;
	assert!(m.flops_per_inference > 2 * 10_000_000 * words, "{}", m.flops_per_inference);
	assert!(m.flops_per_inference < 2 * 12_000_000 * 3 * words, "{}", m.flops_per_inference);
	assert!(m.min_memory_bytes >= first.validation.weight_bytes);
	assert_eq!(m.tags, ["feature-extraction", "sentence-similarity", "sentence-transformers"]);
	assert_eq!(m.documentation, "", "a plain directory has no Hub page");
	assert!(m.inputs.is_empty() && m.outputs.is_empty(), "the task's schema is the interface");

	// The attestation lists every source file with its SHA-256, and the model files' CID.
	let a = &first.attestation;
	assert_eq!(a.format, "citrate-import/1");
	assert_eq!(a.source.revision, "local");
	let sources: Vec<&str> = a.source.files.iter().map(|f| f.path.as_str()).collect();
	assert_eq!(sources, ["README.md", "config.json", "onnx/model.onnx", "tokenizer.json"]);
	let onnx = a.source.files.iter().find(|f| f.path == "onnx/model.onnx").unwrap();
	assert_eq!(onnx.sha256, "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6");
	let packaged = a.package.files.iter().find(|f| f.path == "model.onnx").unwrap();
	assert_eq!(
		(packaged.from.as_str(), packaged.sha256.as_str()),
		("onnx/model.onnx", onnx.sha256.as_str())
	);
	assert_eq!(a.engine["tract"], "0.23.9");
	let written = std::fs::read(first.dir.join("citrate-import.json")).unwrap();
	assert_eq!(written, a.to_bytes());
	let digest: [u8; 32] = {
		use sha2::Digest;
		sha2::Sha256::digest(&written).into()
	};
	assert_eq!(first.attestation_sha256, digest);
	std::fs::remove_file(first.dir.join("citrate-import.json")).unwrap();
	assert_eq!(citrate_import::package::cid_of(&first.dir, &()).unwrap().0, a.package.cid);

	// The same repository imports to the same package, byte for byte and CID for CID; its
	// progress goes step by step, the byte-counted steps through exactly their bytes.
	let recorder = Arc::new(Recorder::default());
	let second = prepare(&ImportOptions {
		progress: Some(recorder.clone()),
		..options(&repo, scratch.0.join("out-2"))
	})
	.unwrap();
	let source_bytes = a.source.files.iter().map(|f| f.bytes).sum::<u64>();
	let package_bytes = a.package.files.iter().map(|f| f.bytes).sum::<u64>();
	assert_eq!(
		*recorder.steps.lock().unwrap(),
		[
			("hashing the repository's files".to_string(), Some(source_bytes), source_bytes),
			("laying out the package".into(), Some(package_bytes), package_bytes),
			("validating the package in the inference engine".into(), None, 0),
			("computing the model files' CID".into(), Some(package_bytes), package_bytes),
			("computing the package CID".into(), Some(second.size_bytes), second.size_bytes),
		]
	);
	assert!(*recorder.finished.lock().unwrap());
	assert_eq!(second.cid, first.cid);
	assert_eq!(second.attestation, first.attestation);
	assert!(second.cid.starts_with("Qm"), "{}", second.cid);
	assert_eq!(
		second.size_bytes,
		std::fs::read_dir(&second.dir)
			.unwrap()
			.map(|e| e.unwrap().metadata().unwrap().len())
			.sum::<u64>()
	);
}

#[test]
fn a_safetensors_bert_from_the_hub_cache_runs_on_candle() {
	let scratch = Scratch::new("hub-cache");
	// The cache's layout: refs/main names the commit; snapshot files are links to blobs.
	let commit = "7dbbc90392e2f80f3d3c277d6e90027e55de9125";
	let repo = scratch.0.join("hub/models--sentence-transformers--all-MiniLM-L6-v2");
	let snapshot = repo.join("snapshots").join(commit);
	std::fs::create_dir_all(&snapshot).unwrap();
	std::fs::create_dir_all(repo.join("blobs")).unwrap();
	std::fs::create_dir_all(repo.join("refs")).unwrap();
	std::fs::write(repo.join("refs/main"), commit).unwrap();
	let staged = scratch.repo("staged", &minilm_safetensors_files());
	for (name, _) in minilm_safetensors_files() {
		let blob = repo.join("blobs").join(name.replace('.', "_"));
		std::fs::rename(staged.join(name), &blob).unwrap();
		std::os::unix::fs::symlink(&blob, snapshot.join(name)).unwrap();
	}

	let cache = scratch.0.join("hub");
	let source =
		Source::resolve_in("sentence-transformers/all-MiniLM-L6-v2", None, &cache).unwrap();
	assert_eq!(source.revision, commit);
	assert_eq!(
		Source::resolve_in("sentence-transformers/all-MiniLM-L6-v2", Some(commit), &cache).unwrap(),
		source
	);
	let error = Source::resolve_in("sentence-transformers/all-MiniLM-L6-v2", Some("v2"), &cache)
		.unwrap_err();
	assert!(
		error.to_string().starts_with(
			"sentence-transformers/all-MiniLM-L6-v2 has no revision `v2` in the cache"
		),
		"{error}"
	);
	let error = Source::resolve_in("acme/nothing", None, &cache).unwrap_err().to_string();
	assert!(
		error.contains("is not in the Hugging Face cache")
			&& error.contains("models--acme--nothing"),
		"{error}"
	);
	// The snapshot directory itself is recognised as that repository and commit.
	assert_eq!(Source::resolve(snapshot.to_str().unwrap(), None).unwrap().repo_id, source.repo_id);

	let prepared = prepare(&ImportOptions {
		source,
		task: None,
		license: None,
		name: None,
		out: scratch.0.join("out"),
		progress: None,
		quantize: None,
		min_agreement: None,
	})
	.unwrap();
	assert_eq!(prepared.name, "sentence-transformers/all-MiniLM-L6-v2");
	assert_eq!(prepared.plan.framework, Framework::Safetensors);
	assert_eq!(prepared.plan.backend.name(), "candle");
	assert_eq!(prepared.attestation.source.revision, commit);
	assert_eq!(
		prepared.metadata.documentation,
		"https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2"
	);
	assert_eq!(prepared.validation.summary, "1 embedding(s) of 384 dims");
	// all-MiniLM-L6-v2: 22,713,216 parameters (its safetensors' tensors, pooler included).
	assert!((22_500_000..23_000_000).contains(&prepared.metadata.parameter_count));
	assert!(prepared.metadata.flops_per_inference > 0);
}

#[test]
fn an_image_classifier_and_an_ocr_pipeline_import() {
	let scratch = Scratch::new("vision");
	let readme =
		"---\nlicense: apache-2.0\npipeline_tag: image-classification\n---\nEfficientNet-Lite0.\n";
	let mut files = vec![
		("model.onnx", File::Copy(model("efficientnet-lite0/model.onnx"))),
		("README.md", File::Text(readme.into())),
	];
	// Its input has symbolic height and width: without its preprocessing it is refused
	// when the package is built, naming what is missing.
	let no_size = scratch.repo("efficientnet-unsized", &files);
	assert_eq!(
		refusal(&no_size, &scratch),
		"the inference engine refused the package: not a valid model file: \
		 preprocessor_config.json: `size` is missing, and input `images` does not fix its height \
		 and width; give the size images are resized to"
	);
	files.push((
		"preprocessor_config.json",
		File::Text(
			r#"{"size": {"height": 224, "width": 224}, "resample": 2, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]}"#
				.into(),
		),
	));
	let image = scratch.repo("efficientnet-lite0", &files);
	let prepared = import(&image, scratch.0.join("image-out")).unwrap();
	assert_eq!(prepared.plan.task, InferenceTask::ImageClassification);
	assert!(
		prepared.validation.summary.starts_with("top label "),
		"{}",
		prepared.validation.summary
	);
	// EfficientNet-Lite0: 4.65 M parameters, ~0.8 GFLOPs at 224².
	assert!((4_500_000..4_800_000).contains(&prepared.metadata.parameter_count));
	assert!((600_000_000..1_000_000_000).contains(&prepared.metadata.flops_per_inference));

	let ocr = scratch.repo(
		"pp-ocrv4",
		&[
			("det.onnx", File::Copy(model("pp-ocrv4/det.onnx"))),
			("rec.onnx", File::Copy(model("pp-ocrv4/rec.onnx"))),
			("cls.onnx", File::Copy(model("pp-ocrv4/cls.onnx"))),
			(
				"README.md",
				File::Text("---\nlicense: apache-2.0\npipeline_tag: image-to-text\n---\n".into()),
			),
		],
	);
	let prepared = import(&ocr, scratch.0.join("ocr-out")).unwrap();
	assert_eq!(prepared.plan.task, InferenceTask::Ocr);
	assert!(prepared.metadata.flops_per_inference > 0);
}

#[test]
fn bad_repositories_are_refused_naming_the_file_and_the_problem() {
	let scratch = Scratch::new("bad");
	let readme = || card("apache-2.0", "feature-extraction");

	let no_weights = scratch
		.repo("no-weights", &[("config.json", File::Text("{}".into())), ("README.md", readme())]);
	assert_eq!(
		refusal(&no_weights, &scratch),
		"no weights found: expected model.onnx (or onnx/model.onnx), det.onnx + rec.onnx, \
		 model.safetensors or one .gguf file; the repository holds [README.md, config.json]"
	);

	let pickle = scratch.repo(
		"pickle",
		&[
			("pytorch_model.bin", File::Bytes(b"\x80\x02cos\nsystem\n".to_vec())),
			("README.md", readme()),
		],
	);
	assert!(refusal(&pickle, &scratch).starts_with(
		"pytorch_model.bin: PyTorch pickle weights are not imported: reading a pickle runs the code it holds."
	));

	let mut unlicensed = minilm_safetensors_files();
	unlicensed[3] =
		("README.md", File::Text("---\npipeline_tag: feature-extraction\n---\n".into()));
	let unlicensed = scratch.repo("unlicensed", &unlicensed);
	assert_eq!(
		refusal(&unlicensed, &scratch),
		"README.md: the model card states no `license` in its front matter; add one \
		 (`license: apache-2.0`), or pass --license <SPDX id>"
	);

	let weights = std::fs::read(model("all-minilm-l6-v2/model.safetensors")).unwrap();
	let mut truncated = minilm_safetensors_files();
	truncated[0] = ("model.safetensors", File::Bytes(weights[..weights.len() / 2].to_vec()));
	let truncated = scratch.repo("truncated", &truncated);
	let error = refusal(&truncated, &scratch);
	assert!(
		error.starts_with(
			"the inference engine refused the package: not a valid model file: model.safetensors: "
		),
		"{error}"
	);

	let config: serde_json::Value =
		serde_json::from_slice(&std::fs::read(model("all-minilm-l6-v2/config.json")).unwrap())
			.unwrap();
	let mut wider = config.clone();
	wider["hidden_size"] = 768.into();
	let mut disagreeing = minilm_safetensors_files();
	disagreeing[2] = ("config.json", File::Text(wider.to_string()));
	let disagreeing = scratch.repo("disagreeing", &disagreeing);
	let error = refusal(&disagreeing, &scratch);
	assert!(
		error.starts_with(
			"the inference engine refused the package: not a valid model file: model.safetensors: \
			 weights do not match config.json"
		),
		"{error}"
	);

	let mut t5 = config;
	t5["model_type"] = "t5".into();
	t5["architectures"] = serde_json::json!(["T5ForConditionalGeneration"]);
	let mut seq2seq = minilm_safetensors_files();
	seq2seq[2] = ("config.json", File::Text(t5.to_string()));
	seq2seq[3] = (
		"README.md",
		File::Text("---\nlicense: apache-2.0\npipeline_tag: text-generation\n---\n".into()),
	);
	let seq2seq = scratch.repo("t5", &seq2seq);
	let error = refusal(&seq2seq, &scratch);
	assert!(
		error.starts_with(
			"safetensors weights of model_type `t5` (T5ForConditionalGeneration) for \
			 text-generation: the candle backend runs BERT (feature-extraction, fill-mask, \
			 text-classification), Whisper (speech-to-text), GPT-2 (text-generation), T5 \
			 (text2text-generation) and CLIP (zero-shot-image-classification) from \
			 safetensors.\nThe engine imports:\n  feature-extraction: "
		),
		"{error}"
	);

	// A directory that holds files is never written into, nor emptied.
	let repo = minilm_onnx_repo(&scratch, "busy");
	let busy = scratch.0.join("busy-out");
	std::fs::create_dir_all(&busy).unwrap();
	std::fs::write(busy.join("keep.txt"), "mine").unwrap();
	let error = import(&repo, busy.clone()).unwrap_err().to_string();
	assert!(error.ends_with("is not empty; the package is written to a new or empty directory"));
	assert_eq!(std::fs::read_to_string(busy.join("keep.txt")).unwrap(), "mine");
}

#[test]
fn the_seed_families_in_the_hub_layout_import_with_their_tasks() {
	use citrate_hf_fixtures::Family;
	let scratch = Scratch::new("families");
	for (family, task, summary) in [
		(Family::Gpt2, InferenceTask::TextGeneration, "generated "),
		(Family::BertMaskedLm, InferenceTask::FillMask, "top label "),
		(Family::BertSequenceClassification, InferenceTask::TextClassification, "top label "),
		(Family::T5, InferenceTask::Text2TextGeneration, "generated "),
		(Family::Clip, InferenceTask::ZeroShotImageClassification, "top label "),
	] {
		let repo = scratch.0.join(family.name());
		let written = citrate_hf_fixtures::write_checkpoint(
			family,
			citrate_hf_fixtures::Size::Tiny,
			7,
			&repo,
		)
		.unwrap();
		let prepared = import(&repo, scratch.0.join(format!("{}-out", family.name())))
			.unwrap_or_else(|e| panic!("{}: {e}", family.name()));
		assert_eq!(prepared.plan.task, task, "{}", family.name());
		assert_eq!(prepared.plan.framework, Framework::Safetensors);
		// Parameters stored in the file: buffers are not parameters, but a head the class does
		// not use (bert-base-uncased's pooler under BertForMaskedLM) is stored, so counted.
		let stored: u64 = written
			.plan
			.iter()
			.filter(|t| t.role != citrate_hf_fixtures::Role::Buffer)
			.map(citrate_hf_fixtures::TensorSpec::elements)
			.sum();
		assert_eq!(prepared.metadata.parameter_count, stored, "{}", family.name());
		assert!(
			prepared.validation.summary.starts_with(summary),
			"{}: {}",
			family.name(),
			prepared.validation.summary
		);
		// At least two FLOPs per parameter the reference input passes through once.
		assert!(prepared.metadata.flops_per_inference > written.parameters, "{}", family.name());
	}
}
