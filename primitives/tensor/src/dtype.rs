//! Element types.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// Element types. The discriminant is the code everywhere: the codec's dtype byte, the SCALE
/// index in storage and extrinsics, and the Solidity `TensorDType` enum.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Hash,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[repr(u8)]
pub enum DType {
	#[codec(index = 0)]
	F32 = 0,
	#[codec(index = 1)]
	F16 = 1,
	#[codec(index = 2)]
	BF16 = 2,
	#[codec(index = 3)]
	F64 = 3,
	#[codec(index = 4)]
	I8 = 4,
	#[codec(index = 5)]
	U8 = 5,
	#[codec(index = 6)]
	I16 = 6,
	#[codec(index = 7)]
	I32 = 7,
	#[codec(index = 8)]
	I64 = 8,
	#[codec(index = 9)]
	Bool = 9,
}

impl DType {
	/// Every dtype, in code order.
	pub const ALL: [DType; 10] = [
		DType::F32,
		DType::F16,
		DType::BF16,
		DType::F64,
		DType::I8,
		DType::U8,
		DType::I16,
		DType::I32,
		DType::I64,
		DType::Bool,
	];

	/// Bytes per element.
	pub const fn size(self) -> usize {
		match self {
			DType::I8 | DType::U8 | DType::Bool => 1,
			DType::F16 | DType::BF16 | DType::I16 => 2,
			DType::F32 | DType::I32 => 4,
			DType::F64 | DType::I64 => 8,
		}
	}

	/// The dtype with this code.
	pub fn from_code(code: u8) -> Option<DType> {
		DType::ALL.get(usize::from(code)).copied()
	}

	/// Lower-case name, as in numpy and ONNX tooling (`f32`, `bf16`, `bool`).
	pub const fn name(self) -> &'static str {
		match self {
			DType::F32 => "f32",
			DType::F16 => "f16",
			DType::BF16 => "bf16",
			DType::F64 => "f64",
			DType::I8 => "i8",
			DType::U8 => "u8",
			DType::I16 => "i16",
			DType::I32 => "i32",
			DType::I64 => "i64",
			DType::Bool => "bool",
		}
	}
}

impl core::fmt::Display for DType {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		f.write_str(self.name())
	}
}
