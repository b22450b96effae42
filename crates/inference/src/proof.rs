//! The hash a proof of inference signs.
//!
//! `output_hash = blake2b-256(encode(outputs))`: the tensor codec's canonical encoding of the
//! outputs in the model's output order, hashed with the hash the runtime uses natively
//! (`sp_io::hashing::blake2_256`), so the chain can recompute it from a submitted result.
//! Because the encoding is canonical, two providers agree on the hash exactly when they agree
//! on every name, dtype, shape and bit of the outputs.
//!
//! ## What can differ between machines
//! Tract is deterministic on one machine: the same model, plan and inputs give the same bits
//! (tested). Across machines, float results can differ in the last bits: tract picks matrix
//! kernels by CPU features (AVX2/FMA, AVX-512, NEON), and fused multiply-add and summation
//! order change rounding. Thread count does not change tract's results (it splits work, not
//! reductions), but a different tract version can.
//!
//! So quorum cannot compare raw float hashes across providers. The proposal, for the
//! inference pallet: each model declares a comparison rule in its metadata —
//! - **exact** for integer and quantised outputs (token ids, labels, int8 models): compare
//!   `output_hash`;
//! - **quantised** for float outputs: providers round every float output to a per-model grid
//!   ([`quantize_outputs`], e.g. 1/1024 for probabilities, 1/256 for embeddings) before
//!   hashing, and quorum compares the hashes of the quantised outputs; a value sitting on a
//!   rounding boundary can still split the quorum, so
//! - **tolerance** is the fallback: providers submit the quantised outputs themselves and the
//!   pallet accepts results within the model's max-abs tolerance of the median.

use blake2::{digest::consts::U32, Blake2b, Digest};
use citrate_tensor_codec::{encode, DType, Tensor};

/// blake2b-256 of the canonical encoding of `outputs`.
pub fn output_hash(outputs: &[Tensor]) -> crate::Result<[u8; 32]> {
	let bytes = encode(outputs)?;
	Ok(Blake2b::<U32>::digest(&bytes).into())
}

/// Rounds every f32 output to the nearest multiple of `step` (ties away from zero), leaving
/// other dtypes as they are. NaN stays NaN and infinities stay infinite; `-0.0` becomes `0.0`
/// so that the sign of zero cannot split a quorum.
pub fn quantize_outputs(outputs: &[Tensor], step: f32) -> Vec<Tensor> {
	outputs
		.iter()
		.map(|tensor| {
			let Some(values) = tensor.to_f32().filter(|_| tensor.dtype == DType::F32) else {
				return tensor.clone();
			};
			let data = values
				.iter()
				.map(|&v| {
					let q = if v.is_finite() { (v / step).round() * step } else { v };
					if q == 0.0 {
						0.0f32
					} else {
						q
					}
				})
				.flat_map(f32::to_le_bytes)
				.collect();
			Tensor { data, ..tensor.clone() }
		})
		.collect()
}
