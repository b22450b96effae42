//! `citrate-node model import`: a Hugging Face model repository into a registered model in one
//! command. The package is built and validated by `citrate-import` (see its docs), added to the
//! node's block store (or a Kubo node) and registered through the node's RPC, signed with
//! `--suri` or a key file: version 1 under a new name, or a new version of a model the signer
//! owns. Its metadata records the import attestation's SHA-256. Importing the same revision
//! again finds the package's CID registered and only prints its model id.

use crate::chain_client::ChainClient;
use crate::progress_bars::Bars;
use citrate_import::{
	agreement::Metric, prepare, source::Source, ImportOptions, Prepared, Quantization, Reporter,
};
use citrate_model_primitives::{InferenceTask, ModelId, ModelInterface};
use citrate_runtime::{
	pallet_inference, pallet_model_registry as registry, Balance, Runtime, RuntimeCall,
	RuntimeEvent,
};
use citrate_storage::{
	import_tree, CarWriter, FsBlockStore, ImportOptions as CidOptions, KuboClient, Observed,
	TreeOptions,
};
use polkadot_sdk::{
	sc_cli,
	sc_service::BasePath,
	sp_core::{sr25519, Pair},
	sp_runtime::{traits::IdentifyAccount, BoundedVec, MultiSigner},
};
use registry::{ModelMetadata, ModelType};
use std::{io::Write, path::PathBuf, sync::Arc, time::Duration};

/// Work with models on a Citrate chain.
#[derive(Debug, clap::Args)]
pub struct ModelCmd {
	/// What to do.
	#[command(subcommand)]
	pub action: ModelAction,
}

/// The `model` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ModelAction {
	/// Import a Hugging Face model repository: build and validate its model package, add it
	/// to the node's store and register it with its metadata and import attestation.
	Import(ImportCmd),
}

/// `model import`'s arguments.
#[derive(Debug, clap::Args)]
pub struct ImportCmd {
	/// A repository directory (a Hub snapshot or any directory in its layout), or `org/name`
	/// in the local Hugging Face cache ($HF_HUB_CACHE, $HF_HOME/hub or
	/// ~/.cache/huggingface/hub).
	pub source: String,

	/// Branch, tag or commit of `org/name` in the cache [default: main].
	#[arg(long)]
	pub revision: Option<String>,

	/// The task, when the card's pipeline_tag and config.json's architecture do not say it
	/// (feature-extraction, text-classification, image-classification, ocr, speech-to-text,
	/// voice-activity, text-generation, raw-tensors).
	#[arg(long, value_parser = parse_task)]
	pub task: Option<InferenceTask>,

	/// License id (SPDX) to register under instead of the card's.
	#[arg(long)]
	pub license: Option<String>,

	/// Registry name [default: the repository id].
	#[arg(long)]
	pub name: Option<String>,

	/// The node's WebSocket RPC.
	#[arg(long, default_value = "ws://127.0.0.1:9944")]
	pub rpc: String,

	/// Secret URI of the signing account (`//Alice` on dev chains). Prefer --key-file
	/// elsewhere: arguments are visible to other users of the machine.
	#[arg(long, conflicts_with = "key_file")]
	pub suri: Option<String>,

	/// A file holding the signing account's secret URI or seed.
	#[arg(long)]
	pub key_file: Option<PathBuf>,

	/// The node's base path: the package is added to its store (`<base-path>/ipfs`), which the
	/// node serves [default: the node's default base path].
	#[arg(long, short = 'd', value_name = "PATH")]
	pub base_path: Option<PathBuf>,

	/// Add the package to this Kubo RPC API (e.g. http://127.0.0.1:5001) instead.
	#[arg(long, value_name = "URL", conflicts_with = "base_path")]
	pub ipfs_api: Option<String>,

	/// Per-call price in plancks, paid to the owner on every inference request.
	#[arg(long)]
	pub price: Option<Balance>,

	/// The signer also serves the model as an inference provider (it must be one).
	#[arg(long)]
	pub serve: bool,

	/// Keep the package in this (new or empty) directory [default: a temporary one].
	#[arg(long)]
	pub out: Option<PathBuf>,

	/// Build and validate the package and print what would be registered; touch no chain.
	#[arg(long)]
	pub dry_run: bool,

	/// Print the summary as JSON on stdout.
	#[arg(long)]
	pub json: bool,

	/// Optimise the package. `int8`: the float32 weights of ONNX MatMul, Gemm and Conv (1024
	/// elements or more) become int8 with one scale per output channel, dequantized by the
	/// graph (ONNX models on tract only). The result is kept only if it agrees with the
	/// original on the task's reference inputs (--min-agreement); sizes and speeds before and
	/// after are reported and the step is recorded in citrate-import.json.
	#[arg(long, value_name = "SCHEME", value_parser = parse_quantization)]
	pub quantize: Option<Quantization>,

	/// The least agreement of the quantized model with the original, a fraction from 0 to 1:
	/// of reference inputs given the same top-1 label (classifiers) or text (OCR), or the
	/// minimum cosine similarity of the outputs (embeddings, voice activity, raw tensors)
	/// [default: 1 for labels and text, 0.99 for cosine].
	#[arg(long, value_name = "FRACTION", requires = "quantize")]
	pub min_agreement: Option<f64>,
}

fn parse_task(name: &str) -> Result<InferenceTask, String> {
	citrate_import::task::task_of_pipeline_tag(name).ok_or_else(|| {
		format!("unknown task `{name}`; one of {}", InferenceTask::ALL.map(|t| t.name()).join(", "))
	})
}

fn parse_quantization(name: &str) -> Result<Quantization, String> {
	Quantization::from_name(name).ok_or_else(|| {
		format!(
			"unknown scheme `{name}`; one of {}",
			Quantization::ALL.map(|q| q.name()).join(", ")
		)
	})
}

fn failed(error: impl std::fmt::Display) -> sc_cli::Error {
	sc_cli::Error::Input(error.to_string())
}

impl ModelCmd {
	pub fn run(&self) -> sc_cli::Result<()> {
		match &self.action {
			ModelAction::Import(cmd) => cmd.run(),
		}
	}
}

impl ImportCmd {
	fn run(&self) -> sc_cli::Result<()> {
		let signer = if self.dry_run { None } else { Some(self.signer()?) };
		let source = Source::resolve(&self.source, self.revision.as_deref()).map_err(failed)?;
		let temporary = std::env::temp_dir().join(format!(
			"citrate-import-{}-{}",
			std::process::id(),
			now_nanos()
		));
		let out = self.out.clone().unwrap_or_else(|| temporary.clone());
		let options = ImportOptions {
			source,
			task: self.task,
			license: self.license.clone(),
			name: self.name.clone(),
			out,
			progress: Some(Arc::new(Bars::default())),
			quantize: self.quantize,
			min_agreement: self.min_agreement,
		};
		let result = self.import(&options, signer.as_ref());
		if self.out.is_none() {
			let _ = std::fs::remove_dir_all(&temporary);
		}
		result
	}

	fn import(
		&self,
		options: &ImportOptions,
		signer: Option<&sr25519::Pair>,
	) -> sc_cli::Result<()> {
		let prepared = prepare(options).map_err(failed)?;
		let progress = options.progress.clone().unwrap_or_else(|| Arc::new(()));
		let step = |name: &str| progress.start(name, None);
		let registered = self.register(&prepared, signer, &progress, &step);
		progress.finish();
		registered
	}

	/// Adds the package and registers it (or finds it registered).
	fn register(
		&self,
		prepared: &Prepared,
		signer: Option<&sr25519::Pair>,
		progress: &Reporter,
		step: &dyn Fn(&str),
	) -> sc_cli::Result<()> {
		let Some(signer) = signer else {
			return self.report(prepared, None, "dry run: nothing added or registered");
		};
		let runtime =
			tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(failed)?;
		runtime.block_on(async {
			let chain = ChainClient::connect(&self.rpc).await.map_err(failed)?;
			let binary = registry::binary_cid(prepared.cid.as_bytes()).ok_or_else(|| {
				failed(format!("{} is not a CID the registry takes", prepared.cid))
			})?;
			if let Some(id) = chain
				.storage::<ModelId>(registry::ModelIdByCid::<Runtime>::hashed_key_for(binary))
				.await
				.map_err(failed)?
			{
				return self.report(prepared, Some(id), "already registered: nothing to do");
			}
			let owner = MultiSigner::from(signer.public()).into_account();
			let name: BoundedVec<u8, _> = prepared
				.name
				.as_bytes()
				.to_vec()
				.try_into()
				.map_err(|_| failed(format!("the name `{}` is too long", prepared.name)))?;
			let history = chain
				.storage::<registry::VersionHistory<Runtime>>(
					registry::ModelVersions::<Runtime>::hashed_key_for(name),
				)
				.await
				.map_err(failed)?;
			let (action, call) = match history.as_ref().and_then(|h| h.versions.last().copied()) {
				None => (
					"registering the model".to_string(),
					RuntimeCall::ModelRegistry(registry::Call::register_model {
						name: prepared.name.as_bytes().to_vec(),
						cid: prepared.cid.as_bytes().to_vec(),
						model_type: model_type(prepared.plan.task),
						framework: prepared.plan.framework,
						size_bytes: prepared.size_bytes,
						license_kind: prepared.license.kind,
						license_id: prepared.license.id.as_bytes().to_vec(),
					}),
				),
				Some(latest) => {
					let info = chain
						.storage::<registry::ModelInfo<Runtime>>(
							registry::Models::<Runtime>::hashed_key_for(latest),
						)
						.await
						.map_err(failed)?
						.ok_or_else(|| {
							failed(format!("model {latest} is listed but not stored"))
						})?;
					if info.owner != owner {
						return Err(failed(format!(
							"the name `{}` belongs to {} (model {latest}); pass --name to register \
							 under another",
							prepared.name, info.owner
						)));
					}
					(
						format!("publishing a new version of model {latest}"),
						RuntimeCall::ModelRegistry(registry::Call::publish_version {
							name: prepared.name.as_bytes().to_vec(),
							cid: prepared.cid.as_bytes().to_vec(),
							framework: prepared.plan.framework,
							size_bytes: prepared.size_bytes,
						}),
					)
				}
			};
			// Added once the name is known to be ours to use, so a refusal leaves nothing behind.
			self.add(prepared, progress).await?;
			step(&action);
			let events = chain.submit(call, signer).await.map_err(failed)?;
			let id = events
				.iter()
				.find_map(|event| match event {
					RuntimeEvent::ModelRegistry(registry::Event::ModelRegistered {
						model_id,
						..
					})
					| RuntimeEvent::ModelRegistry(registry::Event::VersionPublished {
						model_id,
						..
					}) => Some(*model_id),
					_ => None,
				})
				.ok_or_else(|| failed("the registration emitted no model id"))?;
			step("setting the metadata");
			let metadata = registry_metadata(prepared).map_err(failed)?;
			let set =
				RuntimeCall::ModelRegistry(registry::Call::set_metadata { model_id: id, metadata });
			chain.submit(set, signer).await.map_err(failed)?;
			if let Some(price) = self.price.filter(|p| *p > 0) {
				step("setting the price");
				let call = RuntimeCall::Inference(pallet_inference::Call::set_price {
					model_id: id,
					price,
				});
				chain.submit(call, signer).await.map_err(failed)?;
			}
			if self.serve {
				step("serving the model");
				let call =
					RuntimeCall::Inference(pallet_inference::Call::serve_model { model_id: id });
				chain.submit(call, signer).await.map_err(failed)?;
			}
			self.report(prepared, Some(id), "registered")
		})
	}

	/// The signing key, from --suri or --key-file.
	fn signer(&self) -> sc_cli::Result<sr25519::Pair> {
		let secret = match (&self.suri, &self.key_file) {
			(Some(suri), _) => suri.clone(),
			(None, Some(file)) => std::fs::read_to_string(file)
				.map_err(|e| failed(format!("{}: {e}", file.display())))?
				.trim()
				.to_string(),
			(None, None) => {
				return Err(failed(
					"give the signing account with --suri or --key-file (or use --dry-run)",
				))
			}
		};
		// The secret is never echoed: the parse error alone says what is wrong.
		sr25519::Pair::from_string(&secret, None).map_err(|e| {
			failed(format!("the signing key is not a valid secret URI or seed: {e:?}"))
		})
	}

	/// Adds the package to the node's store (pinned) or the Kubo API; the CID must be the one
	/// computed.
	async fn add(&self, prepared: &Prepared, progress: &Reporter) -> sc_cli::Result<()> {
		let seen = |bytes| progress.advance(bytes);
		let cid = if let Some(api) = &self.ipfs_api {
			// Written as a CAR of our own blocks and sent to `dag/import`: the daemon stores
			// exactly the DAG whose CID was computed, whatever its own `add` defaults.
			let root = prepared.cid.parse::<cid::Cid>().map_err(failed)?;
			let car = std::env::temp_dir().join(format!(
				"citrate-import-{}-{}.car",
				std::process::id(),
				now_nanos()
			));
			progress.start("writing the package as a CAR", Some(prepared.size_bytes));
			let written = write_car(&prepared.dir, &root, &car, seen);
			let uploaded = match written {
				Ok(bytes) => {
					progress.start(&format!("uploading it to the IPFS node at {api}"), Some(bytes));
					let kubo = KuboClient::new(api, Duration::from_secs(600)).map_err(failed)?;
					let reporter = progress.clone();
					kubo.dag_import_observed(&car, move |bytes| reporter.advance(bytes))
						.await
						.map_err(failed)
				}
				Err(error) => Err(error),
			};
			let _ = std::fs::remove_file(&car);
			let roots = uploaded?;
			if !roots.iter().any(|r| r.hash() == root.hash()) {
				return Err(failed(format!(
					"the IPFS node imported {roots:?}, not the package {root}"
				)));
			}
			prepared.cid.clone()
		} else {
			let base = match &self.base_path {
				Some(path) => path.clone(),
				None => BasePath::from_project("", "", "citrate-node").path().to_path_buf(),
			};
			progress.start("adding the package to the store", Some(prepared.size_bytes));
			let store = FsBlockStore::open(base.join("ipfs")).map_err(failed)?;
			let mut writer = store.background_writer();
			let tree = import_tree(
				&prepared.dir,
				CidOptions::default(),
				TreeOptions::default(),
				&mut Observed { sink: &mut writer, seen },
			)
			.map_err(failed)?;
			writer.finish().map_err(failed)?;
			store.pin(&tree.root).map_err(failed)?;
			tree.root.to_string()
		};
		if cid != prepared.cid {
			return Err(failed(format!("the store gave {cid}, the package is {}", prepared.cid)));
		}
		Ok(())
	}

	fn report(
		&self,
		prepared: &Prepared,
		id: Option<ModelId>,
		outcome: &str,
	) -> sc_cli::Result<()> {
		let m = &prepared.metadata;
		let fee = pallet_inference::Pallet::<Runtime>::compute_fee(&interface(prepared));
		let ms = |d: Duration| d.as_secs_f64() * 1000.0;
		let quantization = prepared.quantized.as_ref().map(|q| {
			let a = &q.agreement;
			serde_json::json!({
				"scheme": q.quantization.name(),
				"files": q.files.iter().map(|(path, r)| serde_json::json!({
					"path": path,
					"tensors": r.tensors,
					"dequantization": r.dequantization,
					"opset": r.opset,
					"bytes_before": r.bytes_before,
					"bytes_after": r.bytes_after,
				})).collect::<Vec<_>>(),
				"bytes_before": q.bytes_before,
				"bytes_after": q.bytes_after,
				"agreement": {
					"metric": a.metric.name(),
					"inputs": a.inputs,
					"agreeing": a.agreeing,
					"measured": a.value,
					"mean": a.mean,
					"threshold": q.threshold,
				},
				"before": {
					"load_ms": ms(q.speed_before.load),
					"median_run_ms": ms(q.speed_before.run),
					"output": q.original.summary,
				},
				"after": {
					"load_ms": ms(q.speed_after.load),
					"median_run_ms": ms(q.speed_after.run),
					"output": prepared.validation.summary,
				},
				"runs": q.speed_after.runs,
			})
		});
		let summary = serde_json::json!({
			"outcome": outcome,
			"model_id": id,
			"name": prepared.name,
			"cid": prepared.cid,
			"size_bytes": prepared.size_bytes,
			"task": m.task.name(),
			"backend": prepared.plan.backend.name(),
			"license": prepared.license.id,
			"parameters": m.parameter_count,
			"flops_per_inference": m.flops_per_inference,
			"min_memory_bytes": m.min_memory_bytes,
			"compute_fee_per_call": fee.to_string(),
			"attestation_sha256": hex(&prepared.attestation_sha256),
			"reference_run": {
				"output": prepared.validation.summary,
				"load_ms": prepared.validation.load_time.as_millis() as u64,
				"run_ms": prepared.validation.run_time.as_millis() as u64,
			},
			"quantization": quantization,
		});
		let mut out = std::io::stdout().lock();
		if self.json {
			writeln!(out, "{summary}")?;
		} else {
			let id = id.map_or("—".to_string(), |id| id.to_string());
			writeln!(out, "{outcome}")?;
			writeln!(out, "  model id     {id}")?;
			writeln!(out, "  name         {}", prepared.name)?;
			writeln!(out, "  CID          {}", prepared.cid)?;
			writeln!(out, "  size         {} bytes", prepared.size_bytes)?;
			writeln!(out, "  task         {} ({})", m.task.name(), prepared.plan.backend.name())?;
			writeln!(out, "  license      {}", prepared.license.id)?;
			writeln!(out, "  parameters   {}", m.parameter_count)?;
			writeln!(
				out,
				"  cost/call    {} FLOPs, {} bytes; compute fee {fee} plancks",
				m.flops_per_inference, m.min_memory_bytes
			)?;
			writeln!(
				out,
				"  reference    {} (load {} ms, run {} ms)",
				prepared.validation.summary,
				prepared.validation.load_time.as_millis(),
				prepared.validation.run_time.as_millis()
			)?;
			if let Some(q) = &prepared.quantized {
				let tensors: usize = q.files.iter().map(|(_, r)| r.tensors).sum();
				let files: Vec<&str> = q.files.iter().map(|(path, _)| path.as_str()).collect();
				writeln!(
					out,
					"  quantized    {}: {tensors} weights in {}; {} → {} bytes ({:.1}%)",
					q.quantization.name(),
					files.join(", "),
					q.bytes_before,
					q.bytes_after,
					100.0 * q.bytes_after as f64 / q.bytes_before.max(1) as f64
				)?;
				let a = &q.agreement;
				let agreement = match a.metric {
					Metric::Top1 | Metric::SameText => format!(
						"{} {} of {} reference inputs (required {:.0}%)",
						if a.metric == Metric::Top1 {
							"same top-1 label on"
						} else {
							"same text on"
						},
						a.agreeing,
						a.inputs,
						q.threshold * 100.0
					),
					Metric::Cosine => format!(
						"cosine similarity min {:.6}, mean {:.6} over {} reference inputs \
						 (required {})",
						a.value, a.mean, a.inputs, q.threshold
					),
				};
				writeln!(out, "  agreement    {agreement}")?;
				writeln!(
					out,
					"  speed        load {:.0} → {:.0} ms; run {:.1} → {:.1} ms (median of {})",
					ms(q.speed_before.load),
					ms(q.speed_after.load),
					ms(q.speed_before.run),
					ms(q.speed_after.run),
					q.speed_after.runs
				)?;
			}
			writeln!(
				out,
				"  attestation  citrate-import.json, SHA-256 {}",
				hex(&prepared.attestation_sha256)
			)?;
		}
		Ok(())
	}
}

/// The registry's model type for a task.
fn model_type(task: InferenceTask) -> ModelType {
	match task {
		InferenceTask::FeatureExtraction => ModelType::Embedding,
		InferenceTask::TextClassification
		| InferenceTask::TextGeneration
		| InferenceTask::FillMask
		| InferenceTask::Text2TextGeneration => ModelType::Language,
		InferenceTask::ZeroShotImageClassification => ModelType::Multimodal,
		InferenceTask::ImageClassification | InferenceTask::Ocr => ModelType::Vision,
		InferenceTask::SpeechToText | InferenceTask::VoiceActivity => ModelType::Audio,
		InferenceTask::RawTensors => ModelType::Custom,
	}
}

fn registry_metadata(prepared: &Prepared) -> Result<ModelMetadata, String> {
	let m = &prepared.metadata;
	fn bounded<S: polkadot_sdk::sp_core::Get<u32>>(
		bytes: &[u8],
		what: &str,
	) -> Result<BoundedVec<u8, S>, String> {
		BoundedVec::try_from(bytes.to_vec()).map_err(|_| format!("the {what} is too long"))
	}
	Ok(ModelMetadata {
		description: bounded(m.description.as_bytes(), "description")?,
		task: m.task,
		inputs: BoundedVec::try_from(m.inputs.clone())
			.map_err(|_| "too many inputs".to_string())?,
		outputs: BoundedVec::try_from(m.outputs.clone())
			.map_err(|_| "too many outputs".to_string())?,
		parameter_count: m.parameter_count,
		flops_per_inference: m.flops_per_inference,
		min_memory_bytes: m.min_memory_bytes,
		tags: m
			.tags
			.iter()
			.map(|t| bounded(t.as_bytes(), "tag"))
			.collect::<Result<Vec<_>, _>>()?
			.try_into()
			.map_err(|_| "too many tags".to_string())?,
		documentation: bounded(m.documentation.as_bytes(), "documentation link")?,
		tokenizer_cid: None,
		import_attestation: Some(prepared.attestation_sha256),
	})
}

/// What the inference pallet prices a call of the model from.
fn interface(prepared: &Prepared) -> ModelInterface {
	ModelInterface {
		task: prepared.metadata.task,
		package_cid: vec![],
		framework: prepared.plan.framework,
		inputs: vec![],
		flops_per_inference: prepared.metadata.flops_per_inference,
		min_memory_bytes: prepared.metadata.min_memory_bytes,
	}
}

fn hex(bytes: &[u8]) -> String {
	bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes the DAG of `dir` as a CARv1 rooted at `root` into `car`; gives the CAR's bytes.
fn write_car(
	dir: &std::path::Path,
	root: &cid::Cid,
	car: &std::path::Path,
	seen: impl FnMut(u64),
) -> sc_cli::Result<u64> {
	let file = std::fs::File::create(car).map_err(|e| failed(format!("{}: {e}", car.display())))?;
	let mut writer = CarWriter::new(std::io::BufWriter::new(file), root).map_err(failed)?;
	let tree = import_tree(
		dir,
		CidOptions::default(),
		TreeOptions::default(),
		&mut Observed { sink: &mut writer, seen },
	)
	.map_err(failed)?;
	if tree.root != *root {
		return Err(failed(format!("the package is {}, its files give {}", root, tree.root)));
	}
	writer.finish().map_err(failed)?;
	std::fs::metadata(car).map(|m| m.len()).map_err(failed)
}

fn now_nanos() -> u128 {
	std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}
