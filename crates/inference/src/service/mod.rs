//! The inference service: what a provider's node runs natively for its offchain worker.
//!
//! The worker (in the runtime, no_std) posts a [`RunBatch`] — a registered model's package
//! CID, framework and task, and the inputs of the requests assigned to the provider — and
//! gets one [`RunOutcome`] per input (`citrate_inference_primitives::service`). The model
//! package is read from the node's block store (fetched from its upstream where blocks are
//! missing) and its pipeline kept in a [`ModelCache`] under a memory budget.
//!
//! A batch loads its model once; each input then runs alone, so its output is bit for bit
//! what a request of its own gives (padding texts to a common length changes float rounding,
//! which would break agreement between providers).
//!
//! Inputs come inline or as the CID of a file in IPFS ([`RunInput`]), read from the store
//! (fetched from upstream where blocks are missing; at most [`MAX_INPUT_FILE`] bytes). An
//! output longer than the chain stores inline is added to the store (CIDv1, raw leaves),
//! pinned, and answered by its CID and hashes ([`RunOutcome::Stored`]), so the node's gateway
//! serves it.
//!
//! Outcomes: an error caused by the input (it does not decode, is not what the task reads, an
//! image that is not PNG/JPEG, an input CID that names a directory or too large a file) is a
//! deterministic failure the provider answers with; an error of this provider (the package or
//! the input cannot be fetched, the cache is too small, limits or time ran out, the engine
//! failed) makes the input *unavailable*, and the worker tries again.
//!
//! [`http::serve`] answers the protocol on a loopback socket; `citrate-node` embeds it, and
//! the `citrate-inference-service` binary runs it on its own.

pub mod http;
mod metrics;

pub use citrate_inference_primitives::service::{
	RunBatch, RunInput, RunOutcome, StoredOutput, RUN_PATH,
};
pub use metrics::Metrics;

use crate::{
	cache::ModelCache,
	codec::{decode, encode},
	package::{Cid, ModelLoader},
	pipelines::{Pipeline, PipelineOptions, Request},
	proof::{output_hash, quantize_outputs, Quantization},
	Error, Result,
};
use citrate_storage::{car::DagScope, export, import, parse_block, CidMode, ImportOptions, Node};
use std::{sync::Arc, time::Instant};

/// Largest input file a request may name by CID, in bytes.
pub const MAX_INPUT_FILE: u64 = 64 << 20;

/// How the service loads and runs models.
#[derive(Clone, Debug)]
pub struct ServiceConfig {
	/// Bytes of loaded models the cache keeps.
	pub cache_bytes: u64,
	/// How pipelines load (limits, threads). Providers run on the CPU unless `cpu_only` is
	/// off.
	pub pipeline: PipelineOptions,
}

impl Default for ServiceConfig {
	/// 4 GiB of models, the engine's default limits.
	fn default() -> Self {
		Self { cache_bytes: 4 << 30, pipeline: PipelineOptions::default() }
	}
}

/// Runs batches of requests for a provider's offchain worker.
pub struct InferenceService {
	loader: ModelLoader,
	cache: Arc<ModelCache<Pipeline>>,
	options: PipelineOptions,
	metrics: Option<Metrics>,
}

impl InferenceService {
	/// A service loading packages with `loader`; its metrics go to `registry` if given.
	pub fn new(
		loader: ModelLoader,
		config: ServiceConfig,
		registry: Option<&prometheus::Registry>,
	) -> Result<Self, prometheus::Error> {
		Ok(Self {
			loader,
			cache: Arc::new(ModelCache::new(config.cache_bytes)),
			options: config.pipeline,
			metrics: registry.map(Metrics::register).transpose()?,
		})
	}

	/// Runs every input of `batch`; one outcome per input, in order.
	pub async fn run_batch(&self, batch: RunBatch) -> Vec<RunOutcome> {
		let count = batch.inputs.len();
		if let Some(metrics) = &self.metrics {
			metrics.requests_seen.inc_by(count as u64);
		}
		let pipeline = match self.pipeline(&batch).await {
			Ok(pipeline) => pipeline,
			Err(error) => {
				log::warn!(
					target: LOG_TARGET,
					"model {} ({} requests) cannot run here: {error}",
					batch.model_id,
					count
				);
				self.record_cache();
				let reason = format!("loading model {}: {error}", batch.model_id);
				return (0..count).map(|_| self.unavailable("model", &reason)).collect();
			}
		};
		self.record_cache();
		let mut inputs = Vec::with_capacity(count);
		for input in batch.inputs {
			inputs.push(match input {
				RunInput::Inline(bytes) => Ok(bytes),
				RunInput::Cid(cid) => self.read_input(&cid).await,
			});
		}
		let task = batch.task;
		let runs = tokio::task::spawn_blocking(move || {
			inputs
				.into_iter()
				.map(|input| {
					let started = Instant::now();
					let result = input.map(|input| run_one(&pipeline, task, &input));
					(result, started.elapsed())
				})
				.collect::<Vec<_>>()
		})
		.await;
		let Ok(runs) = runs else {
			return (0..count).map(|_| self.unavailable("engine", "the run panicked")).collect();
		};
		let limits = OutputLimits {
			max_inline: batch.max_output_len as usize,
			quantization: batch.quantization.and_then(Quantization::new),
		};
		let mut outcomes = Vec::with_capacity(count);
		for (result, took) in runs {
			let result = match result {
				Ok(result) => result,
				Err(unreadable) => {
					outcomes.push(unreadable);
					continue;
				}
			};
			if let Some(metrics) = &self.metrics {
				metrics.run_seconds.observe(took.as_secs_f64());
			}
			outcomes.push(self.outcome(result, &limits).await);
		}
		outcomes
	}

	/// The tensor codec bytes in the file `cid` names, or the outcome that answers a request
	/// whose input cannot be read.
	async fn read_input(&self, cid: &[u8]) -> Result<Vec<u8>, RunOutcome> {
		let cid = Cid::try_from(cid)
			.map_err(|error| self.failed("input", format!("the input CID is invalid: {error}")))?;
		let fetcher = self.loader.fetcher();
		let unavailable = |error: &dyn std::fmt::Display| {
			self.unavailable("fetch", &format!("fetching input {cid}: {error}"))
		};
		let (root, _) = fetcher.block(&cid).await.map_err(|error| unavailable(&error))?;
		match parse_block(&cid, root) {
			Ok(Node::File { size, .. }) if size <= MAX_INPUT_FILE => {}
			Ok(Node::File { size, .. }) => {
				return Err(self.failed(
					"input",
					format!("input {cid} is {size} bytes; at most {MAX_INPUT_FILE} are read"),
				))
			}
			Ok(Node::Directory(_)) => {
				return Err(self.failed("input", format!("input {cid} is a directory, not a file")))
			}
			Err(error) => return Err(self.failed("input", format!("input {cid}: {error}"))),
		}
		fetcher.fetch_path(&cid, "", DagScope::All).await.map_err(|error| unavailable(&error))?;
		let store = fetcher.store().clone();
		let read = tokio::task::spawn_blocking(move || {
			let mut bytes = Vec::new();
			export(&cid, &*store, &mut bytes).map(|_| bytes)
		})
		.await;
		match read {
			Ok(Ok(bytes)) => Ok(bytes),
			Ok(Err(error)) => Err(self.failed("input", format!("input {cid}: {error}"))),
			Err(error) => Err(unavailable(&error)),
		}
	}

	/// The cache's counters, for metrics and tests.
	pub fn cache_stats(&self) -> crate::cache::CacheStats {
		self.cache.stats()
	}

	/// The batch's model, from the cache or loaded from its package.
	async fn pipeline(&self, batch: &RunBatch) -> Result<Arc<Pipeline>> {
		let cid = Cid::try_from(&batch.package_cid[..])
			.map_err(|error| Error::Package(format!("the package CID is invalid: {error}")))?;
		// The same package could be registered again under another task.
		let key = [&batch.package_cid[..], &[batch.task as u8]].concat();
		let files = if self.cache.contains(&key) {
			None
		} else {
			Some(self.loader.load(&cid, batch.framework).await?)
		};
		let (cache, options, task) = (self.cache.clone(), self.options.clone(), batch.task);
		tokio::task::spawn_blocking(move || {
			let size = files.as_ref().map_or(0, |files| files.total_bytes());
			cache.get_or_load(&key, size, || match files {
				Some(files) => Pipeline::load(task, &files, &options),
				None => Err(Error::Cache("the model left the cache while loading".into())),
			})
		})
		.await
		.map_err(|error| Error::Runtime(format!("loading the pipeline: {error}")))?
	}

	async fn outcome(&self, result: Result<Vec<u8>>, limits: &OutputLimits) -> RunOutcome {
		match result {
			Ok(output) if output.len() > limits.max_inline => {
				match self.store_output(output, limits.quantization).await {
					Ok(stored) => {
						if let Some(metrics) = &self.metrics {
							metrics.runs.with_label_values(&["stored"]).inc();
						}
						RunOutcome::Stored(stored)
					}
					Err(error) => {
						self.unavailable("store", &format!("storing the output: {error}"))
					}
				}
			}
			Ok(output) => {
				if let Some(metrics) = &self.metrics {
					metrics.runs.with_label_values(&["output"]).inc();
				}
				RunOutcome::Output(output)
			}
			Err(error) if is_input_error(&error) => self.failed("input", error.to_string()),
			Err(error) => self.unavailable(reason_of(&error), &error.to_string()),
		}
	}

	/// Adds `output` to the store as a file (CIDv1, raw leaves) and pins it.
	async fn store_output(
		&self,
		output: Vec<u8>,
		quantization: Option<Quantization>,
	) -> Result<StoredOutput> {
		let store = self.loader.fetcher().store().clone();
		tokio::task::spawn_blocking(move || {
			let tensors = decode(&output)?;
			let hash = output_hash(&tensors)?;
			let quantized_hash = quantization
				.map(|grid| output_hash(&quantize_outputs(&tensors, grid)))
				.transpose()?;
			let options = ImportOptions { mode: CidMode::V1RawLeaves, ..ImportOptions::default() };
			let imported = import(&output[..], options, &mut &*store)
				.map_err(|error| Error::Io(std::io::Error::other(error.to_string())))?;
			store
				.pin(&imported.root)
				.map_err(|error| Error::Io(std::io::Error::other(error.to_string())))?;
			Ok(StoredOutput {
				cid: imported.root.to_bytes(),
				size: imported.file_size,
				output_hash: hash,
				quantized_hash,
			})
		})
		.await
		.map_err(|error| Error::Runtime(format!("storing the output: {error}")))?
	}

	fn failed(&self, reason: &str, message: String) -> RunOutcome {
		if let Some(metrics) = &self.metrics {
			metrics.runs.with_label_values(&["failed"]).inc();
			metrics.failures.with_label_values(&[reason]).inc();
		}
		RunOutcome::Failed(message.into_bytes())
	}

	fn unavailable(&self, reason: &str, message: &str) -> RunOutcome {
		if let Some(metrics) = &self.metrics {
			metrics.runs.with_label_values(&["unavailable"]).inc();
			metrics.failures.with_label_values(&[reason]).inc();
		}
		RunOutcome::Unavailable(message.as_bytes().to_vec())
	}

	fn record_cache(&self) {
		if let Some(metrics) = &self.metrics {
			metrics.record_cache(&self.cache.stats());
		}
	}
}

const LOG_TARGET: &str = "inference-service";

/// What a batch's outputs are held to.
struct OutputLimits {
	/// Longer outputs are stored and answered by CID.
	max_inline: usize,
	/// The grid a stored output's quantised hash is taken on.
	quantization: Option<Quantization>,
}

/// Decodes, checks and runs one input; its output in the tensor codec's form.
fn run_one(pipeline: &Pipeline, task: crate::pipelines::Task, input: &[u8]) -> Result<Vec<u8>> {
	let request = Request::from_tensors(task, decode(input)?)?;
	let output = pipeline.run(&request)?;
	Ok(encode(&output.to_tensors()?)?)
}

/// Whether `error` comes from the input, and so repeats on every provider.
fn is_input_error(error: &Error) -> bool {
	matches!(
		error,
		Error::Codec(_)
			| Error::Request(_)
			| Error::MissingInput(_)
			| Error::InputShape { .. }
			| Error::TooManyElements { .. }
			| Error::Pipeline(_)
	)
}

/// The metrics label of a provider-side failure.
fn reason_of(error: &Error) -> &'static str {
	match error {
		Error::TooManyFlops { .. } | Error::TooMuchMemory { .. } | Error::Timeout { .. } => {
			"limits"
		}
		Error::Package(_) | Error::Io(_) | Error::ModelTooLarge { .. } => "model",
		Error::Cache(_) => "cache",
		_ => "engine",
	}
}
