//! Strict calldata decoding with reasons a Solidity developer can read.
//!
//! pallet-revive decodes a precompile's calldata before calling it and answers anything it
//! cannot decode with a bare `Panic(0x41)`. A precompile whose `Interface` is
//! [`Calldata<Calls>`] gets every input instead: well-formed calls as [`Calldata::Call`], and
//! short, unknown or malformed calldata as [`Calldata::Malformed`] with the reason, which
//! [`Calldata::call`] turns into a `revert`. Decoding is strict: non-canonical offsets,
//! dirty padding and bytes after the arguments are refused, not ignored.

use crate::revert;
use alloc::{format, string::String, vec::Vec};
use polkadot_sdk::pallet_revive::precompiles::{
	alloy::sol_types::{abi::AbiDecoderConfig, SolInterface},
	Error,
};

/// What `alloy::sol!` generates for an interface's calls enum and `SolInterface` lacks: the
/// signature of a selector, for revert reasons.
pub trait Signatures: SolInterface {
	/// `register(string,uint64)` for its selector; `None` for an unknown selector.
	fn signature(selector: [u8; 4]) -> Option<&'static str>;
}

/// A precompile's calldata: a decoded call, or why it could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Calldata<C> {
	Call(C),
	Malformed(String),
}

impl<C> Calldata<C> {
	/// The decoded call, or a revert with the reason it could not be decoded.
	pub fn call(&self) -> Result<&C, Error> {
		match self {
			Calldata::Call(call) => Ok(call),
			Calldata::Malformed(reason) => Err(revert(reason.clone())),
		}
	}
}

/// The interface's name for reasons: `IModelRegistry`, not alloy's `IModelRegistryCalls`.
fn interface<C: SolInterface>() -> &'static str {
	C::NAME.strip_suffix("Calls").unwrap_or(C::NAME)
}

impl<C: Signatures> Calldata<C> {
	fn decode(data: &[u8]) -> Self {
		let name = interface::<C>();
		let Some((selector, arguments)) = data.split_first_chunk::<4>() else {
			return Calldata::Malformed(format!(
				"{name}: calldata has no 4-byte function selector"
			));
		};
		let Some(signature) = C::signature(*selector) else {
			let hex: String = selector.iter().map(|b| format!("{b:02x}")).collect();
			return Calldata::Malformed(format!("{name}: unknown function selector 0x{hex}"));
		};
		let strict = AbiDecoderConfig::new().strict(true).validate(true);
		match C::abi_decode_raw_with_config(*selector, arguments, strict) {
			Ok(call) => Calldata::Call(call),
			Err(_) => Calldata::Malformed(format!(
				"{name}: calldata for {signature} is not strictly ABI-encoded (short, padded wrongly \
				 or followed by extra bytes)"
			)),
		}
	}
}

impl<C: Signatures> SolInterface for Calldata<C> {
	const NAME: &'static str = C::NAME;
	const MIN_DATA_LENGTH: usize = 0;
	const COUNT: usize = C::COUNT;

	fn selector(&self) -> [u8; 4] {
		match self {
			Calldata::Call(call) => call.selector(),
			Calldata::Malformed(_) => [0; 4],
		}
	}

	fn selector_at(i: usize) -> Option<[u8; 4]> {
		C::selector_at(i)
	}

	fn valid_selector(_selector: [u8; 4]) -> bool {
		// Every input is accepted here and judged by `decode`.
		true
	}

	fn abi_decode_raw(selector: [u8; 4], data: &[u8]) -> alloy_result::Result<Self> {
		let mut input = Vec::with_capacity(4 + data.len());
		input.extend_from_slice(&selector);
		input.extend_from_slice(data);
		Ok(Self::decode(&input))
	}

	fn abi_decode_raw_with_config(
		selector: [u8; 4],
		data: &[u8],
		_config: AbiDecoderConfig,
	) -> alloy_result::Result<Self> {
		Self::abi_decode_raw(selector, data)
	}

	fn abi_decode(data: &[u8]) -> alloy_result::Result<Self> {
		Ok(Self::decode(data))
	}

	fn abi_decode_with_config(
		data: &[u8],
		_config: AbiDecoderConfig,
	) -> alloy_result::Result<Self> {
		Ok(Self::decode(data))
	}

	fn abi_decode_validate(data: &[u8]) -> alloy_result::Result<Self> {
		Ok(Self::decode(data))
	}

	fn abi_encoded_size(&self) -> usize {
		match self {
			Calldata::Call(call) => call.abi_encoded_size(),
			Calldata::Malformed(_) => 0,
		}
	}

	fn abi_encode_raw(&self, out: &mut Vec<u8>) {
		if let Calldata::Call(call) = self {
			call.abi_encode_raw(out)
		}
	}
}

mod alloy_result {
	pub use polkadot_sdk::pallet_revive::precompiles::alloy::sol_types::Result;
}
