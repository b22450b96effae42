//! # Citrate inference engine
//!
//! Runs registered models off-chain for the chain, and stands alone without one:
//! - [`onnx`]: the tract backend (ONNX, deterministic CPU), with caps from [`Limits`];
//! - `candle` (feature `candle`, on by default; `cuda` / `metal` for GPUs): HF safetensors
//!   and GGUF models of known architectures — BERT encoders, Whisper, Gemma 3;
//! - [`pipelines`]: text, images and audio in, labels, embeddings and text out, chosen by the
//!   model's task ([`pipelines::Pipeline`]);
//! - [`package`]: a registered model's CID (its model package) into [`pipelines::ModelFiles`],
//!   from the local store or fetched and verified;
//! - [`cache`]: loaded models by content id under a memory budget;
//! - [`service`]: what a provider's node runs for its offchain worker: batches of requests
//!   over HTTP on loopback, models from the cache, Prometheus metrics;
//! - [`cost`]: FLOPs and memory estimated from the graph, and [`cost::metered`] for what a
//!   whole pipeline run was estimated to need; [`parameters`]: parameter counts of weights files;
//! - [`VERSIONS`]: the engine's and its backends' versions, which import attestations record;
//! - what the chain must reproduce bit for bit is the no_std contract
//!   [`citrate_inference_primitives`]: the output hash and quantisation ([`proof`]), the cost
//!   schedule ([`cost::Schedule`]) and the request schema each pipeline checks first;
//! - tensors cross the API in the [`citrate_tensor_primitives`] form that extrinsics carry, and
//!   a loaded model's inputs and outputs are [`codec::TensorSpec`]s, which
//!   [`onnx::OnnxModel::check_registered`] compares with its registered metadata.

pub mod cache;
#[cfg(feature = "candle")]
pub mod candle;
pub mod cost;
mod error;
pub mod limits;
pub mod onnx;
pub mod package;
pub mod parameters;

/// The engine's version and its backends' (tract, candle) as `Cargo.lock` pins them; a test
/// keeps them in step with the lock file.
pub const VERSIONS: &[(&str, &str)] =
	&[("citrate-inference", env!("CARGO_PKG_VERSION")), ("tract", "0.23.9"), ("candle", "0.11.1")];
pub mod pipelines;
pub mod service;
pub mod tensor;

pub use citrate_inference_primitives::output as proof;
pub use citrate_tensor_primitives as codec;
pub use error::{Error, Result};
pub use limits::Limits;

#[cfg(test)]
mod tests {
	#[test]
	fn versions_are_the_ones_cargo_lock_pins() {
		let lock = include_str!("../../../Cargo.lock");
		let locked = |name: &str| {
			lock.split("[[package]]")
				.find(|p| p.contains(&format!("name = \"{name}\"\n")))
				.and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = ")))
				.map(|v| v.trim_matches('"').to_string())
		};
		for (backend, krate) in [("tract", "tract-core"), ("candle", "candle-core")] {
			let version = super::VERSIONS.iter().find(|(n, _)| *n == backend).unwrap().1;
			assert_eq!(locked(krate).as_deref(), Some(version), "{backend}");
		}
	}
}
