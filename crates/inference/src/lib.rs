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
//! - [`cost`]: FLOPs and memory estimated from the graph, and the weight formula;
//! - [`proof`]: the output hash a proof of inference signs;
//! - tensors cross the API in the [`citrate_tensor_codec`] form that extrinsics carry.

pub mod cache;
#[cfg(feature = "candle")]
pub mod candle;
pub mod cost;
mod error;
pub mod limits;
pub mod onnx;
pub mod package;
pub mod pipelines;
pub mod proof;
pub mod tensor;

pub use citrate_tensor_codec as codec;
pub use error::{Error, Result};
pub use limits::Limits;
