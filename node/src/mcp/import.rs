//! `import_model`: the Hugging Face importer (`citrate-node model import`) on a repository on
//! this machine, registered as the server's signer, its steps reported as progress.

use super::{server::Shared, store::StoreTarget};
use crate::model_cmd::{self, Target};
use citrate_import::{prepare, source::Source, ImportOptions, Progress, Quantization, Reporter};
use citrate_model_primitives::InferenceTask;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

/// A repository to import and how to register it.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ImportArgs {
	/// A repository directory on this machine (a Hub snapshot or any directory in its layout),
	/// or `org/name` in the local Hugging Face cache.
	pub source: String,
	/// Branch, tag or commit of `org/name` in the cache (default main).
	pub revision: Option<String>,
	/// The task, when the model card and config.json do not say it (e.g. feature-extraction).
	pub task: Option<String>,
	/// License id (SPDX) to register under instead of the card's.
	pub license: Option<String>,
	/// Registry name (default: the repository id).
	pub name: Option<String>,
	/// Per-call price in CTR paid to the owner on every request.
	pub price: Option<f64>,
	/// The server's account also serves the model (it must be a provider).
	pub serve: Option<bool>,
	/// `int8`: quantize ONNX weights, kept only if the result agrees with the original.
	pub quantize: Option<String>,
}

/// Each step's name, to `report`.
struct Steps<F>(F);

impl<F> std::fmt::Debug for Steps<F> {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.write_str("Steps")
	}
}

impl<F: Fn(String) + Send + Sync> Progress for Steps<F> {
	fn start(&self, step: &str, _bytes: Option<u64>) {
		(self.0)(step.to_string());
	}
	fn advance(&self, _bytes: u64) {}
}

/// Imports `args.source` and registers it; returns the import's summary (model id, CID,
/// task, cost per call, reference run, attestation).
pub async fn import_model(
	shared: &Shared,
	store: &StoreTarget,
	args: ImportArgs,
	report: impl Fn(String) + Send + Sync + 'static,
) -> Result<Value, String> {
	let signer = shared.signer.as_ref().ok_or(
		"this MCP server has no signing account, so it cannot register models: start it with \
		 --suri or --key-file",
	)?;
	let task = args
		.task
		.as_deref()
		.map(|name| {
			citrate_import::task::task_of_pipeline_tag(name).ok_or_else(|| {
				let names = InferenceTask::ALL.map(|t| t.name()).join(", ");
				format!("unknown task `{name}`; tasks are: {names}")
			})
		})
		.transpose()?;
	let quantize = args
		.quantize
		.as_deref()
		.map(|name| {
			Quantization::from_name(name).ok_or_else(|| {
				let names = Quantization::ALL.map(|q| q.name()).join(", ");
				format!("unknown quantization `{name}`; one of {names}")
			})
		})
		.transpose()?;
	let price = args.price.map(|ctr| super::cards::plancks_of(&ctr.to_string())).transpose()?;
	let out = std::env::temp_dir().join(format!(
		"citrate-mcp-import-{}-{}",
		std::process::id(),
		model_cmd::now_nanos()
	));
	let progress: Reporter = Arc::new(Steps(report));
	let options_progress = progress.clone();
	let work_dir = out.clone();
	let prepared = tokio::task::spawn_blocking(move || {
		let source =
			Source::resolve(&args.source, args.revision.as_deref()).map_err(|e| e.to_string())?;
		let options = ImportOptions {
			source,
			task,
			license: args.license,
			name: args.name,
			out: work_dir,
			progress: Some(options_progress),
			quantize,
			min_agreement: None,
		};
		prepare(&options).map_err(|e| e.to_string())
	})
	.await
	.map_err(|e| format!("the import stopped: {e}"));
	let published = match prepared {
		Ok(Ok(prepared)) => {
			let target = Target {
				ipfs_api: store.ipfs_api.as_deref(),
				base_path: store.base_path.as_deref(),
				price,
				serve: args.serve.unwrap_or(false),
			};
			model_cmd::publish(&shared.chain.client, &prepared, signer, &target, &progress)
				.await
				.map(|(id, outcome)| model_cmd::summary_json(&prepared, Some(id), outcome))
				.map_err(|e| match e {
					polkadot_sdk::sc_cli::Error::Input(text) => text,
					other => other.to_string(),
				})
		}
		Ok(Err(e)) | Err(e) => Err(e),
	};
	let _ = std::fs::remove_dir_all(&out);
	published
}
