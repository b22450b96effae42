//! # The chain↔engine contract of Citrate's inference
//!
//! What the runtime must reproduce bit for bit from what an inference provider's engine
//! computes lives here, once, `no_std` (as `citrate-ipfs-primitives` holds proofs of holding):
//! - [`output`]: the output hash a proof of inference signs, and the quantisation float
//!   outputs go through before hashing so that providers on different CPUs agree;
//! - [`cost`]: the schedule that turns an estimate (FLOPs, bytes) into `ref_time`;
//! - [`request`]: the tensors each task's requests carry (names, dtypes, ranks, limits),
//!   checked by the runtime when a request is made and by the engine before it runs one;
//! - [`service`]: what a provider's offchain worker asks its node's inference service, and
//!   what it answers (SCALE over HTTP on loopback).
//!
//! No polkadot-sdk dependency: the engine (`citrate-inference`) uses this crate without a
//! chain.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod cost;
pub mod output;
pub mod request;
pub mod service;

pub use citrate_model_primitives::InferenceTask;
pub use citrate_tensor_primitives as tensor;
