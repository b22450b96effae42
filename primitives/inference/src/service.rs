//! The inference service's protocol: how a provider's offchain worker (no_std, in the
//! runtime) asks the native engine to run requests, over offchain HTTP to a loopback URL.
//!
//! `POST {service}/v1/run` with a SCALE-encoded [`RunBatch`] answers `200` with a
//! SCALE-encoded `Vec<RunOutcome>`, one per input, in order. Anything else (another status, a
//! body that does not decode, fewer outcomes) means the service could not run the batch: the
//! worker tries again in a later block.

use alloc::vec::Vec;
use citrate_model_primitives::{Framework, InferenceTask, ModelId};
use codec::{Decode, Encode};

/// Path the service answers [`RunBatch`]es on.
pub const RUN_PATH: &str = "/v1/run";

/// Requests of one model, run together where the model's pipeline allows it.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug)]
pub struct RunBatch {
	/// For logs and metrics only: the model is named by `package_cid`.
	pub model_id: ModelId,
	/// The model package's root CID, binary CIDv1.
	pub package_cid: Vec<u8>,
	/// Names a single-file package's file.
	pub framework: Framework,
	/// The registered task, which picks the pipeline.
	pub task: InferenceTask,
	/// Each request's input.
	pub inputs: Vec<RunInput>,
	/// Longest output the chain stores inline, in bytes; a longer output is added to the
	/// provider's store, pinned, and answered as [`RunOutcome::Stored`].
	pub max_output_len: u32,
	/// The fraction bits of the quantisation the model's results are compared under, if
	/// they are compared quantised: a stored output's answer then carries that hash too.
	pub quantization: Option<u8>,
}

/// One request's input.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug)]
pub enum RunInput {
	/// Tensor codec bytes, as the chain holds them.
	Inline(Vec<u8>),
	/// The binary CIDv1 of a UnixFS file holding the tensor codec bytes, read from the
	/// provider's store (fetched from its upstream where blocks are missing).
	Cid(Vec<u8>),
}

/// An output added to the provider's store and pinned, named on chain by its CID.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug)]
pub struct StoredOutput {
	/// Binary CIDv1 of the UnixFS file (CIDv1, raw leaves) holding the output's tensor codec
	/// bytes.
	pub cid: Vec<u8>,
	/// The file's size in bytes.
	pub size: u64,
	/// [`crate::output::output_hash`] of the output.
	pub output_hash: [u8; 32],
	/// The output hash of the output quantised under the batch's `quantization`, if asked.
	pub quantized_hash: Option<[u8; 32]>,
}

/// What running one input produced.
#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug)]
pub enum RunOutcome {
	/// The output tensors, tensor codec bytes (what the output hash covers).
	Output(Vec<u8>),
	/// The input cannot succeed on any provider (an image that does not decode, a text over
	/// the model's limits): the reason, UTF-8. The provider answers with it.
	Failed(Vec<u8>),
	/// This provider cannot run it now (the model package is not reachable, the cache is
	/// full, the engine timed out): the reason, UTF-8. The provider does not answer yet.
	Unavailable(Vec<u8>),
	/// An output longer than the batch's `max_output_len`, kept in the provider's store.
	Stored(StoredOutput),
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_batch_round_trips_and_its_encoding_is_stable() {
		let batch = RunBatch {
			model_id: 7,
			package_cid: alloc::vec![1, 0x70, 0x12, 0x20],
			framework: Framework::Onnx,
			task: InferenceTask::FeatureExtraction,
			inputs: alloc::vec![RunInput::Inline(alloc::vec![1, 2]), RunInput::Cid(alloc::vec![9])],
			max_output_len: 65_536,
			quantization: Some(16),
		};
		let encoded = batch.encode();
		// model id (u64 LE), CID (compact length 4), framework 0, task 0, two inputs (inline,
		// CID), u32, Some(16).
		assert_eq!(
			encoded,
			[
				&[7, 0, 0, 0, 0, 0, 0, 0][..],
				&[16, 1, 0x70, 0x12, 0x20],
				&[0, 0],
				&[8, 0, 8, 1, 2, 1, 4, 9],
				&[0, 0, 1, 0],
				&[1, 16],
			]
			.concat()
		);
		assert_eq!(RunBatch::decode(&mut &encoded[..]).ok(), Some(batch));
		let outcomes = alloc::vec![
			RunOutcome::Output(alloc::vec![9]),
			RunOutcome::Failed(b"bad".to_vec()),
			RunOutcome::Unavailable(b"busy".to_vec()),
			RunOutcome::Stored(StoredOutput {
				cid: alloc::vec![1, 0x70],
				size: 70_000,
				output_hash: [3; 32],
				quantized_hash: None,
			}),
		];
		assert_eq!(Vec::<RunOutcome>::decode(&mut &outcomes.encode()[..]).ok(), Some(outcomes));
	}
}
