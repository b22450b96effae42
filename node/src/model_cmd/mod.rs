//! `citrate-node model import`: a Hugging Face model repository into a registered model in one
//! command. The package is built and validated by `citrate-import` (see its docs), added to the
//! node's block store (or a Kubo node) and registered through the node's RPC, signed with
//! `--suri` or a key file: version 1 under a new name, or a new version of a model the signer
//! owns. Its metadata records the import attestation's SHA-256. Importing the same revision
//! again finds the package's CID registered and only prints its model id.
//!
//! Here: the command line, the signer and the registration; [`store`] adds the package to a
//! block store, [`metadata`] maps it to the registry's types, [`summary`] prints the outcome.

mod metadata;
mod store;
mod summary;

pub(crate) use store::store_dir;
pub(crate) use summary::json as summary_json;

use crate::chain_client::ChainClient;
use crate::progress_bars::Bars;
use citrate_import::{prepare, source::Source, ImportOptions, Prepared, Quantization, Reporter};
use citrate_model_primitives::{InferenceTask, ModelId};
use citrate_runtime::{
	pallet_inference, pallet_model_registry as registry, Balance, Runtime, RuntimeCall,
	RuntimeEvent,
};
use polkadot_sdk::{
	sc_cli,
	sp_core::{sr25519, Pair},
	sp_runtime::{traits::IdentifyAccount, BoundedVec, MultiSigner},
};
use std::{
	path::{Path, PathBuf},
	sync::Arc,
};

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

	#[command(flatten)]
	pub signer: crate::signer::SignerArgs,

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

pub(super) fn failed(error: impl std::fmt::Display) -> sc_cli::Error {
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
		let registered = self.register(&prepared, signer, &progress);
		progress.finish();
		registered
	}

	/// Adds the package and registers it (or finds it registered).
	fn register(
		&self,
		prepared: &Prepared,
		signer: Option<&sr25519::Pair>,
		progress: &Reporter,
	) -> sc_cli::Result<()> {
		let Some(signer) = signer else {
			return summary::report(
				prepared,
				None,
				"dry run: nothing added or registered",
				self.json,
			);
		};
		let runtime =
			tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(failed)?;
		runtime.block_on(async {
			let chain = ChainClient::connect(&self.rpc).await.map_err(failed)?;
			let target = Target {
				ipfs_api: self.ipfs_api.as_deref(),
				base_path: self.base_path.as_deref(),
				price: self.price,
				serve: self.serve,
			};
			let (id, outcome) = publish(&chain, prepared, signer, &target, progress).await?;
			summary::report(prepared, Some(id), outcome, self.json)
		})
	}

	/// The signing key, from --suri or --key-file.
	fn signer(&self) -> sc_cli::Result<sr25519::Pair> {
		self.signer.pair().map_err(failed)?.ok_or_else(|| {
			failed("give the signing account with --suri or --key-file (or use --dry-run)")
		})
	}
}

/// Where `publish` adds a package and what follows its registration.
pub(crate) struct Target<'a> {
	/// A Kubo RPC API, else the node's store under `base_path` (the default base path when
	/// `None`).
	pub ipfs_api: Option<&'a str>,
	pub base_path: Option<&'a Path>,
	/// Per-call price in plancks, set when above 0.
	pub price: Option<Balance>,
	/// The signer serves the model as an inference provider.
	pub serve: bool,
}

/// Adds a prepared package and registers it as `signer` (version 1 under a new name, or a new
/// version of the signer's model), with its metadata, price and service; or finds its CID
/// registered. Returns the model id and what was done.
pub(crate) async fn publish(
	chain: &ChainClient,
	prepared: &Prepared,
	signer: &sr25519::Pair,
	target: &Target<'_>,
	progress: &Reporter,
) -> sc_cli::Result<(ModelId, &'static str)> {
	let step = |name: &str| progress.start(name, None);
	let binary = registry::binary_cid(prepared.cid.as_bytes())
		.ok_or_else(|| failed(format!("{} is not a CID the registry takes", prepared.cid)))?;
	if let Some(id) = chain
		.storage::<ModelId>(registry::ModelIdByCid::<Runtime>::hashed_key_for(binary))
		.await
		.map_err(failed)?
	{
		return Ok((id, "already registered: nothing to do"));
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
				model_type: metadata::model_type(prepared.plan.task),
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
				.ok_or_else(|| failed(format!("model {latest} is listed but not stored")))?;
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
	store::add(prepared, target.ipfs_api, target.base_path, progress).await?;
	step(&action);
	let events = chain.submit(call, signer).await.map_err(failed)?;
	let id = events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::ModelRegistry(registry::Event::ModelRegistered { model_id, .. })
			| RuntimeEvent::ModelRegistry(registry::Event::VersionPublished { model_id, .. }) => {
				Some(*model_id)
			}
			_ => None,
		})
		.ok_or_else(|| failed("the registration emitted no model id"))?;
	step("setting the metadata");
	let metadata = metadata::registry_metadata(prepared).map_err(failed)?;
	let set = RuntimeCall::ModelRegistry(registry::Call::set_metadata { model_id: id, metadata });
	chain.submit(set, signer).await.map_err(failed)?;
	if let Some(price) = target.price.filter(|p| *p > 0) {
		step("setting the price");
		let call =
			RuntimeCall::Inference(pallet_inference::Call::set_price { model_id: id, price });
		chain.submit(call, signer).await.map_err(failed)?;
	}
	if target.serve {
		step("serving the model");
		let call = RuntimeCall::Inference(pallet_inference::Call::serve_model { model_id: id });
		chain.submit(call, signer).await.map_err(failed)?;
	}
	Ok((id, "registered"))
}

pub(crate) fn now_nanos() -> u128 {
	std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}
