//! # Citrate tensor primitives
//!
//! The one tensor vocabulary of the chain and the inference engine, `no_std`:
//! - [`DType`]: element types, with the one numbering every layer uses (codec byte, SCALE
//!   index, Solidity enum);
//! - [`TensorSpec`] and [`Dim`]: a tensor's name, dtype and shape as a model declares it, stored
//!   in the registry's metadata and reported by the engine for a loaded model, and
//!   [`check_specs`], which compares the two;
//! - [`Tensor`] and the codec ([`encode`], [`decode`]): named tensors as inference requests and
//!   results carry them in extrinsics, through precompiles and to and from the engine.
//!
//! ## Codec layout, version 1 (all integers little-endian)
//! ```text
//! magic     4 bytes  "CTEN"
//! version   u8       1
//! count     u8       number of tensors (≤ Limits::max_tensors)
//! count × tensor:
//!   name_len  u8       1..=64
//!   name      name_len bytes of UTF-8, unique within the payload
//!   dtype     u8       see `DType` (0 = f32 … 9 = bool)
//!   rank      u8       0..=8 (0 is a scalar)
//!   dims      rank × u32
//!   data      product(dims) × dtype size bytes, little-endian; bool is one byte, 0 or 1
//! ```
//! Nothing may follow the last tensor. The encoding is canonical: every valid payload has
//! exactly one byte form, so `encode(decode(bytes)) == bytes`, which lets proofs of inference
//! hash outputs in this form.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

mod codec;
mod dtype;
mod spec;

pub use codec::{decode, decode_with, encode, CodecError, Limits, Tensor, MAGIC, VERSION};
pub use dtype::DType;
pub use spec::{check_specs, Dim, SpecError, SpecMismatch, SpecSide, TensorSpec};

/// Longest tensor name, in bytes.
pub const MAX_NAME_LEN: usize = 64;
/// Highest rank.
pub const MAX_RANK: usize = 8;
/// Longest symbolic dimension name (`batch`, `sequence`), in bytes.
pub const MAX_SYMBOL_LEN: usize = 32;

/// `name` as text, when it is a valid tensor name: 1..=[`MAX_NAME_LEN`] bytes of UTF-8.
pub fn check_name(name: &[u8]) -> Option<&str> {
	if name.is_empty() || name.len() > MAX_NAME_LEN {
		return None;
	}
	core::str::from_utf8(name).ok()
}
