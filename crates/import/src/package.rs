//! Building the model package: files laid out under the names the engine reads, validated in
//! the engine, described by registry metadata and attested.

use crate::{
	agreement::{self, Agreement, Speed},
	attestation::{
		self, AgreementRecord, Attestation, FileDigest, PackageFile, PackageRecord,
		QuantizationRecord, QuantizedFile, SourceRecord,
	},
	license::License,
	progress::{copy_file, Progress, Reporter},
	quantize::{self, Quantization},
	repository::{Repository, Weights},
	source::Source,
	task::{self, Backend, Plan},
	validate::{validate, validate_loaded, Validation},
	Error, Result,
};
use citrate_inference::{parameters, pipelines::ModelFiles};
use citrate_model_primitives::{Framework, InferenceTask};
use citrate_storage::{import_tree, ImportOptions as CidOptions, Observed, TreeOptions};
use citrate_tensor_primitives::TensorSpec;
use std::path::{Path, PathBuf};

/// Registry bounds the metadata is cut to (`pallet-model-registry`'s).
pub const MAX_NAME_LEN: usize = 64;
pub const MAX_DESCRIPTION_LEN: usize = 1024;
pub const MAX_TAGS: usize = 16;
pub const MAX_TAG_LEN: usize = 32;
pub const MAX_DOCUMENTATION_LEN: usize = 256;

/// Repository files the package keeps beside the weights, when present.
const KEPT: &[&str] =
	&["config.json", "tokenizer.json", "preprocessor_config.json", "citrate.json", "README.md"];

/// What to import and how.
#[derive(Clone, Debug)]
pub struct ImportOptions {
	pub source: Source,
	/// The task, when the card and config do not say (or say something else).
	pub task: Option<InferenceTask>,
	/// A license id replacing the card's.
	pub license: Option<String>,
	/// The registry name; the repository id by default.
	pub name: Option<String>,
	/// Directory the package is written to; it must not exist, or be empty.
	pub out: PathBuf,
	/// Told each step as it starts (hashing, copying, validating…) and the bytes done in it.
	pub progress: Option<Reporter>,
	/// The optimisation step (`--quantize int8`): quantize the package's ONNX weights, keep
	/// the result only if it agrees with the original on the reference inputs.
	pub quantize: Option<Quantization>,
	/// The least agreement the quantized model must reach, a fraction from 0 to 1 (of
	/// inputs with the same top-1 label or text; or the minimum cosine similarity);
	/// [`Metric::default_threshold`](crate::agreement::Metric::default_threshold) when `None`.
	pub min_agreement: Option<f64>,
}

/// What the optimisation step did and measured.
#[derive(Clone, Debug)]
pub struct Quantized {
	pub quantization: Quantization,
	/// Each model file rewritten, and what quantizing it did.
	pub files: Vec<(String, quantize::Report)>,
	/// Bytes of the model files before and after.
	pub bytes_before: u64,
	pub bytes_after: u64,
	pub agreement: Agreement,
	/// The agreement required.
	pub threshold: f64,
	/// Load and median run time of the original and the quantized model.
	pub speed_before: Speed,
	pub speed_after: Speed,
	/// The original package's reference run (`Prepared::validation` is the quantized one's).
	pub original: Validation,
}

/// Registry metadata, as `pallet-model-registry`'s `ModelMetadata` holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
	pub description: String,
	pub task: InferenceTask,
	pub inputs: Vec<TensorSpec>,
	pub outputs: Vec<TensorSpec>,
	pub parameter_count: u64,
	pub flops_per_inference: u64,
	pub min_memory_bytes: u64,
	pub tags: Vec<String>,
	pub documentation: String,
}

/// A package ready to add and register.
#[derive(Debug)]
pub struct Prepared {
	/// Where its files are.
	pub dir: PathBuf,
	pub name: String,
	pub plan: Plan,
	pub license: License,
	pub metadata: Metadata,
	/// The reference run of the package as written (quantized, with `--quantize`).
	pub validation: Validation,
	/// The optimisation step, when one ran.
	pub quantized: Option<Quantized>,
	pub attestation: Attestation,
	/// SHA-256 of `citrate-import.json`, which the registry records.
	pub attestation_sha256: [u8; 32],
	/// The package's CID (`ipfs add -r` of `dir`, CIDv0) and the bytes of its files.
	pub cid: String,
	pub size_bytes: u64,
}

/// Reads the repository, builds the package in `options.out`, validates it and attests it.
/// A refused import leaves no package behind: `options.out` is removed if this call made it,
/// emptied otherwise.
pub fn prepare(options: &ImportOptions) -> Result<Prepared> {
	let existed = options.out.exists();
	// A directory that held files is refused untouched.
	let ours = !existed || std::fs::read_dir(&options.out).is_ok_and(|mut d| d.next().is_none());
	let silent: Reporter = std::sync::Arc::new(());
	let progress = options.progress.as_ref().unwrap_or(&silent);
	let prepared = prepare_in(options, progress.as_ref());
	progress.finish();
	if prepared.is_err() && ours && options.out.is_dir() {
		if existed {
			if let Ok(entries) = std::fs::read_dir(&options.out) {
				for entry in entries.flatten() {
					let _ = std::fs::remove_file(entry.path());
				}
			}
		} else {
			let _ = std::fs::remove_dir_all(&options.out);
		}
	}
	prepared
}

fn prepare_in(options: &ImportOptions, progress: &dyn Progress) -> Result<Prepared> {
	let step = |name: &str| progress.start(name, None);
	let repo = Repository::read(options.source.clone())?;
	let plan = task::plan(&repo, options.task)?;
	let license = License::of_card(repo.card.as_ref(), options.license.as_deref())?;
	if let Some(quantization) = options.quantize {
		quantizable(&repo, plan, quantization)?;
	}
	match (options.min_agreement, options.quantize) {
		(Some(_), None) => {
			return Err(Error::Unsupported(
				"--min-agreement is the threshold of --quantize; give both or neither".into(),
			))
		}
		(Some(min), Some(_)) if !(0.0..=1.0).contains(&min) => {
			return Err(Error::Unsupported(format!(
				"--min-agreement {min}: give a fraction from 0 to 1"
			)))
		}
		_ => {}
	}
	let name = options.name.clone().unwrap_or_else(|| repo.source.repo_id.clone());
	if name.is_empty() || name.len() > MAX_NAME_LEN {
		return Err(Error::Unsupported(format!(
			"the model name `{name}` must be 1 to {MAX_NAME_LEN} bytes; pass --name"
		)));
	}

	progress.start("hashing the repository's files", Some(bytes_of(repo.files.values())));
	let source_files = repo
		.files
		.iter()
		.map(|(path, file)| {
			let (bytes, sha256) =
				attestation::sha256_file(file, progress).map_err(|e| Error::io(file, e))?;
			Ok(FileDigest { path: path.clone(), bytes, sha256 })
		})
		.collect::<Result<Vec<_>>>()?;

	let layout = layout(&repo);
	progress.start(
		"laying out the package",
		Some(bytes_of(layout.iter().map(|(_, from)| &repo.files[from]))),
	);
	create_empty_dir(&options.out)?;
	let mut package_files = vec![];
	for (to, from) in &layout {
		let source = &repo.files[from];
		let digest = source_files.iter().find(|d| &d.path == from).cloned();
		copy_file(source, &options.out.join(to), progress).map_err(|e| Error::io(source, e))?;
		let FileDigest { bytes, sha256, .. } = digest.unwrap_or_else(|| FileDigest {
			path: from.clone(),
			bytes: 0,
			sha256: String::new(),
		});
		package_files.push(PackageFile { path: to.clone(), from: from.clone(), bytes, sha256 });
	}
	package_files.sort_by(|a, b| a.path.cmp(&b.path));

	step("validating the package in the inference engine");
	let files = ModelFiles::from_dir(&options.out, u64::MAX)?;
	// The original's parameters: quantizing adds scales, not parameters.
	let parameter_count = parameter_count(&repo.weights, &files)?;
	let (validation, quantized) = match options.quantize {
		None => (validate(plan.task, &files)?, None),
		Some(quantization) => {
			let (validation, quantized) =
				quantize_package(options, plan, quantization, files, progress)?;
			for package_file in &mut package_files {
				if let Some((_, report)) =
					quantized.files.iter().find(|(f, _)| *f == package_file.path)
				{
					let path = options.out.join(&package_file.path);
					let (bytes, sha256) =
						attestation::sha256_file(&path, &()).map_err(|e| Error::io(&path, e))?;
					debug_assert_eq!(bytes, report.bytes_after);
					package_file.bytes = bytes;
					package_file.sha256 = sha256;
				}
			}
			(validation, Some(quantized))
		}
	};
	let mut metadata = metadata(&repo, plan, parameter_count, &validation);
	if let Some(quantized) = &quantized {
		// The engine folds the dequantization at load: the model holds float32 weights in
		// memory, as the original did, whatever the file's size.
		let original = &quantized.original;
		metadata.min_memory_bytes = metadata
			.min_memory_bytes
			.max(original.estimate.peak_memory_bytes().max(original.weight_bytes));
	}

	let package_bytes = package_files.iter().map(|f| f.bytes).sum::<u64>();
	progress.start("computing the model files' CID", Some(package_bytes));
	let model_files_cid = cid_of(&options.out, progress)?.0;
	let quantization = quantized.as_ref().map(|q| quantization_record(q, &source_files, &layout));
	let attestation = Attestation {
		format: attestation::FORMAT,
		source: SourceRecord {
			repo: repo.source.repo_id.clone(),
			revision: repo.source.revision.clone(),
			files: source_files,
		},
		converter: [("citrate-import".to_string(), env!("CARGO_PKG_VERSION").to_string())].into(),
		engine: citrate_inference::VERSIONS
			.iter()
			.map(|(name, version)| (name.to_string(), version.to_string()))
			.collect(),
		task: plan.task.name().to_string(),
		backend: plan.backend.name().to_string(),
		license: license.id.clone(),
		quantization,
		package: PackageRecord { cid: model_files_cid, files: package_files },
	};
	let bytes = attestation.to_bytes();
	let attestation_path = options.out.join(attestation::FILE_NAME);
	std::fs::write(&attestation_path, &bytes).map_err(|e| Error::io(&attestation_path, e))?;
	let attestation_sha256 = {
		use sha2::Digest;
		sha2::Sha256::digest(&bytes).into()
	};
	progress.start("computing the package CID", Some(package_bytes + bytes.len() as u64));
	let (cid, size_bytes) = cid_of(&options.out, progress)?;
	Ok(Prepared {
		dir: options.out.clone(),
		name,
		plan,
		license,
		metadata,
		validation,
		quantized,
		attestation,
		attestation_sha256,
		cid,
		size_bytes,
	})
}

/// Refuses `--quantize` for packages it does not apply to, before any work.
fn quantizable(repo: &Repository, plan: Plan, quantization: Quantization) -> Result<()> {
	let weights = match &repo.weights {
		Weights::Onnx { .. } | Weights::OcrOnnx { .. } if plan.backend == Backend::Tract => {
			return Ok(())
		}
		Weights::Safetensors { file } => format!("safetensors ({file})"),
		Weights::Gguf { file } => format!("GGUF ({file}), quantized already"),
		Weights::Onnx { file } => format!("ONNX ({file})"),
		Weights::OcrOnnx { det, .. } => format!("ONNX ({det})"),
	};
	Err(Error::Unsupported(format!(
		"--quantize {} applies to ONNX models run on tract (it quantizes their MatMul, Gemm and \
		 Conv weights); this repository's weights are {weights}, run on {}: import it without \
		 --quantize",
		quantization.name(),
		plan.backend.name()
	)))
}

/// The optimisation step: validates the original package (`files`, laid out in
/// `options.out`), quantizes its ONNX files in place, validates the result, compares the two
/// on the reference inputs and refuses the result below the threshold. Gives the quantized
/// package's reference run.
fn quantize_package(
	options: &ImportOptions,
	plan: Plan,
	quantization: Quantization,
	files: ModelFiles,
	progress: &dyn Progress,
) -> Result<(Validation, Quantized)> {
	let step = |name: &str| progress.start(name, None);
	let (original, original_pipeline) = validate_loaded(plan.task, &files)?;

	step(&format!("quantizing the weights ({})", quantization.name()));
	let mut quantized_files = files.clone();
	let mut reports = vec![];
	for name in ["model.onnx", "det.onnx", "rec.onnx", "cls.onnx"] {
		let Some(bytes) = files.get(name) else { continue };
		let (bytes, report) = match quantization {
			Quantization::Int8 => quantize::quantize_onnx(bytes),
		}
		.map_err(|e| Error::bad(name, format!("--quantize {}: {e}", quantization.name())))?;
		if report.tensors > 0 {
			quantized_files.insert(name, bytes);
			reports.push((name.to_string(), report));
		}
	}
	if reports.is_empty() {
		return Err(Error::Unsupported(format!(
			"--quantize {}: the model holds no float32 MatMul, Gemm or Conv weight of {} elements \
			 or more (it may be quantized already); import it without --quantize",
			quantization.name(),
			quantize::MIN_ELEMENTS
		)));
	}

	step("validating the quantized package");
	let (validation, quantized_pipeline) = validate_loaded(plan.task, &quantized_files)?;

	step("comparing the quantized model with the original on the reference inputs");
	let agreement =
		agreement::compare(plan.task, &original_pipeline, &quantized_pipeline, &original.inputs)?;
	let threshold = options.min_agreement.unwrap_or_else(|| agreement.metric.default_threshold());
	if agreement.value < threshold {
		return Err(Error::Disagreement { quantization, agreement, threshold });
	}

	step("timing the original and the quantized model");
	let reference = agreement::reference_inputs(plan.task, &original.inputs)?.remove(0).1;
	let (run_before, run_after) = agreement::median_runs(
		&original_pipeline,
		&quantized_pipeline,
		&reference,
		agreement::TIMED_RUNS,
	)?;
	let speed = |load, run| Speed { load, run, runs: agreement::TIMED_RUNS };
	let speed_before = speed(original.load_time, run_before);
	let speed_after = speed(validation.load_time, run_after);

	for (name, _) in &reports {
		let path = options.out.join(name);
		let bytes = quantized_files.get(name).unwrap_or_default();
		std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))?;
	}
	let quantized = Quantized {
		quantization,
		bytes_before: reports.iter().map(|(_, r)| r.bytes_before).sum(),
		bytes_after: reports.iter().map(|(_, r)| r.bytes_after).sum(),
		files: reports,
		agreement,
		threshold,
		speed_before,
		speed_after,
		original,
	};
	Ok((validation, quantized))
}

/// The attestation's record of the optimisation step.
fn quantization_record(
	quantized: &Quantized,
	sources: &[FileDigest],
	layout: &[(String, String)],
) -> QuantizationRecord {
	let cut = |x: f64| (x * 1e4).floor() / 1e4;
	let a = &quantized.agreement;
	QuantizationRecord {
		converter: format!("citrate-import/quantize {}", env!("CARGO_PKG_VERSION")),
		quantization: quantized.quantization.name(),
		scheme: quantized.quantization.scheme(),
		files: quantized
			.files
			.iter()
			.map(|(path, report)| QuantizedFile {
				path: path.clone(),
				source_sha256: layout
					.iter()
					.find(|(to, _)| to == path)
					.and_then(|(_, from)| sources.iter().find(|d| &d.path == from))
					.map(|d| d.sha256.clone())
					.unwrap_or_default(),
				tensors: report.tensors,
				elements: report.elements,
				dequantization: report.dequantization,
				opset: report.opset,
				bytes_before: report.bytes_before,
				bytes_after: report.bytes_after,
			})
			.collect(),
		agreement: AgreementRecord {
			metric: a.metric.name(),
			inputs: a.inputs,
			measured: cut(a.value),
			mean: cut(a.mean),
			threshold: quantized.threshold,
		},
	}
}

/// Package file name ← repository file.
fn layout(repo: &Repository) -> Vec<(String, String)> {
	let mut layout: Vec<(String, String)> = match &repo.weights {
		Weights::Onnx { file } => vec![("model.onnx".into(), file.clone())],
		Weights::OcrOnnx { det, rec, cls } => {
			let mut files =
				vec![("det.onnx".into(), det.clone()), ("rec.onnx".into(), rec.clone())];
			files.extend(cls.iter().map(|cls| ("cls.onnx".to_string(), cls.clone())));
			files
		}
		Weights::Safetensors { file } => vec![("model.safetensors".into(), file.clone())],
		Weights::Gguf { file } => vec![("model.gguf".into(), file.clone())],
	};
	for kept in KEPT {
		if repo.files.contains_key(*kept) {
			layout.push((kept.to_string(), kept.to_string()));
		}
	}
	layout
}

fn parameter_count(weights: &Weights, files: &ModelFiles) -> Result<u64> {
	let count = |name: &str, count: fn(&[u8]) -> citrate_inference::Result<u64>| {
		files.get(name).map_or(Ok(0), count).map_err(|e| Error::bad(name, e.to_string()))
	};
	Ok(match weights {
		Weights::Onnx { .. } => count("model.onnx", parameters::onnx_parameters)?,
		Weights::OcrOnnx { .. } => ["det.onnx", "rec.onnx", "cls.onnx"]
			.iter()
			.map(|f| count(f, parameters::onnx_parameters))
			.sum::<Result<u64>>()?,
		Weights::Safetensors { .. } => {
			count("model.safetensors", parameters::safetensors_parameters)?
		}
		Weights::Gguf { .. } => count("model.gguf", parameters::gguf_parameters)?,
	})
}

fn metadata(repo: &Repository, plan: Plan, parameter_count: u64, run: &Validation) -> Metadata {
	let card = repo.card.as_ref();
	let backend = match plan.backend {
		Backend::Tract => "ONNX on tract",
		Backend::Candle if plan.framework == Framework::Gguf => "GGUF on candle",
		Backend::Candle => "safetensors on candle",
	};
	let description = card
		.and_then(|c| c.summary.clone())
		.unwrap_or_else(|| format!("{} ({}, {backend})", repo.source.repo_id, plan.task.name()));
	let mut tags: Vec<String> = vec![];
	let candidates: Vec<String> = card
		.map(|c| {
			c.pipeline_tag.iter().chain(&c.tags).chain(c.library_name.iter()).cloned().collect()
		})
		.unwrap_or_default();
	for tag in [plan.task.name().to_string()].into_iter().chain(candidates) {
		let tag = tag.trim().to_lowercase();
		if !tag.is_empty()
			&& tag.len() <= MAX_TAG_LEN
			&& !tags.contains(&tag)
			&& tags.len() < MAX_TAGS
		{
			tags.push(tag);
		}
	}
	let documentation = if repo.source.on_hub {
		format!("https://huggingface.co/{}", repo.source.repo_id)
	} else {
		String::new()
	};
	Metadata {
		description: truncate(&description, MAX_DESCRIPTION_LEN),
		task: plan.task,
		inputs: run.inputs.clone(),
		outputs: run.outputs.clone(),
		parameter_count,
		flops_per_inference: u64::try_from(run.estimate.flops).unwrap_or(u64::MAX),
		min_memory_bytes: run.estimate.peak_memory_bytes().max(run.weight_bytes),
		tags,
		documentation: truncate(&documentation, MAX_DOCUMENTATION_LEN),
	}
}

/// `text` cut to at most `max` bytes at a character boundary.
fn truncate(text: &str, max: usize) -> String {
	let mut end = text.len().min(max);
	while !text.is_char_boundary(end) {
		end -= 1;
	}
	text[..end].to_string()
}

fn create_empty_dir(dir: &Path) -> Result<()> {
	if dir.exists() {
		let empty = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?.next().is_none();
		if !empty {
			return Err(Error::Unsupported(format!(
				"{} is not empty; the package is written to a new or empty directory",
				dir.display()
			)));
		}
	}
	std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))
}

/// The CID `ipfs add -r` gives `dir` (CIDv0, Kubo's defaults), and its files' bytes.
pub fn cid_of(dir: &Path, progress: &dyn Progress) -> Result<(String, u64)> {
	let mut sink = Observed { sink: (), seen: |bytes| progress.advance(bytes) };
	let tree = import_tree(dir, CidOptions::default(), TreeOptions::default(), &mut sink)
		.map_err(|e| Error::Unsupported(format!("computing the package CID: {e}")))?;
	Ok((tree.root.to_string(), tree.file_bytes))
}

/// The bytes of the files at `paths` (0 for one that cannot be read: the step reading it
/// names the problem).
fn bytes_of<'a>(paths: impl IntoIterator<Item = &'a PathBuf>) -> u64 {
	paths.into_iter().filter_map(|path| std::fs::metadata(path).ok()).map(|m| m.len()).sum()
}
