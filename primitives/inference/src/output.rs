//! The output hash and output quantisation.
//!
//! `output_hash = blake2b-256(encode(outputs))`: the tensor codec's canonical encoding of the
//! outputs in the model's output order, hashed with BLAKE2b-256 (the runtime's
//! `sp_io::hashing::blake2_256`). Because the encoding is canonical, two providers agree on
//! the hash exactly when they agree on every name, dtype, shape and bit of the outputs.
//!
//! ## Comparing float results
//! Tract is deterministic on one machine, but across machines float results can differ in the
//! last bits (kernels picked by CPU features, fused multiply-add, summation order). So float
//! outputs are rounded to a grid of 2^-`fraction_bits` ([`Quantization`]) before hashing:
//! multiplying and dividing by a power of two is exact in IEEE arithmetic, and rounding is
//! done here with integer-exact steps, so native and WASM code give the same bits. A value on
//! a rounding boundary can still split a quorum; the inference pallet decides what a split
//! costs.

use alloc::vec::Vec;
use blake2::{digest::consts::U32, Blake2b, Digest};
use citrate_tensor_primitives::{encode, CodecError, DType, Tensor};

/// blake2b-256 of the canonical encoding of `outputs`.
pub fn output_hash(outputs: &[Tensor]) -> Result<[u8; 32], CodecError> {
	let bytes = encode(outputs)?;
	Ok(Blake2b::<U32>::digest(&bytes).into())
}

/// The grid float outputs are rounded to: multiples of 2^-`fraction_bits`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quantization {
	/// 0..=[`Quantization::MAX_FRACTION_BITS`]; 10 keeps probabilities to ~0.001, 8 keeps
	/// embeddings to ~0.004.
	pub fraction_bits: u8,
}

impl Quantization {
	/// Finer grids than 2^-24 would only keep f32 noise.
	pub const MAX_FRACTION_BITS: u8 = 24;

	/// A grid of 2^-`fraction_bits`, if that is at most [`Quantization::MAX_FRACTION_BITS`].
	pub fn new(fraction_bits: u8) -> Option<Quantization> {
		(fraction_bits <= Self::MAX_FRACTION_BITS).then_some(Quantization { fraction_bits })
	}

	/// The grid step, 2^-`fraction_bits`.
	pub fn step(self) -> f32 {
		1.0 / (1u32 << self.fraction_bits.min(Self::MAX_FRACTION_BITS)) as f32
	}

	/// `value` on the grid: the nearest multiple of the step, ties away from zero. Every NaN
	/// becomes the one canonical quiet NaN and `-0.0` becomes `0.0`, so neither NaN payloads
	/// nor the sign of zero can split a quorum; infinities stay.
	pub fn quantize(self, value: f32) -> f32 {
		if value.is_nan() {
			return f32::NAN;
		}
		let scale = (1u32 << self.fraction_bits.min(Self::MAX_FRACTION_BITS)) as f32;
		// Exact: scaling by a power of two only changes the exponent (or overflows to ±inf).
		let q = round_half_away_from_zero(value * scale) / scale;
		if q == 0.0 {
			0.0
		} else {
			q
		}
	}
}

/// Rounds to the nearest integer, ties away from zero, as `f32::round` does, using only exact
/// operations (`f32::round` is not in `core`).
fn round_half_away_from_zero(x: f32) -> f32 {
	// From 2^23 up every f32 is an integer (and ±inf stays).
	if x.is_nan() || x.abs() >= 8_388_608.0 {
		return x;
	}
	let truncated = x as i32 as f32;
	// Exact: both have the same sign and |x - truncated| < 1.
	let fraction = x - truncated;
	if fraction >= 0.5 {
		truncated + 1.0
	} else if fraction <= -0.5 {
		truncated - 1.0
	} else {
		truncated
	}
}

/// `outputs` with every f32 element on the `grid`; other dtypes are left as they are.
pub fn quantize_outputs(outputs: &[Tensor], grid: Quantization) -> Vec<Tensor> {
	outputs
		.iter()
		.map(|tensor| {
			if tensor.dtype != DType::F32 {
				return tensor.clone();
			}
			let data = tensor
				.data
				.chunks_exact(4)
				.map(|c| grid.quantize(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
				.flat_map(f32::to_le_bytes)
				.collect();
			Tensor { data, ..tensor.clone() }
		})
		.collect()
}
