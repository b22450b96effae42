//! Moving tensors between the codec's byte form and tract's.

use crate::{Error, Result};
use citrate_tensor_primitives::{DType, Tensor};
use tract_onnx::prelude::{DatumType, Tensor as TractTensor};

#[cfg(target_endian = "big")]
compile_error!("the tensor codec is little-endian and tensors are moved byte for byte");

/// The tract type of a codec dtype; tract has no bfloat16.
pub fn datum_type(dtype: DType) -> Option<DatumType> {
	Some(match dtype {
		DType::F32 => DatumType::F32,
		DType::F16 => DatumType::F16,
		DType::F64 => DatumType::F64,
		DType::I8 => DatumType::I8,
		DType::U8 => DatumType::U8,
		DType::I16 => DatumType::I16,
		DType::I32 => DatumType::I32,
		DType::I64 => DatumType::I64,
		DType::Bool => DatumType::Bool,
		DType::BF16 => return None,
	})
}

/// The codec dtype of a tract type, for the types results can have.
pub fn codec_dtype(datum: DatumType) -> Option<DType> {
	Some(match datum.unquantized() {
		DatumType::F32 => DType::F32,
		DatumType::F16 => DType::F16,
		DatumType::F64 => DType::F64,
		DatumType::I8 => DType::I8,
		DatumType::U8 => DType::U8,
		DatumType::I16 => DType::I16,
		DatumType::I32 => DType::I32,
		// tract types int64 tensors it can reason about symbolically (an echo of a mask, a
		// shape) as TDim; their values are i64.
		DatumType::I64 | DatumType::TDim => DType::I64,
		DatumType::Bool => DType::Bool,
		_ => return None,
	})
}

/// A codec tensor as a tract tensor, checked (the codec's fields are public, so a tensor may
/// not have come through its checks).
pub fn to_tract(tensor: &Tensor) -> Result<TractTensor> {
	let datum = datum_type(tensor.dtype).ok_or_else(|| {
		Error::Unsupported(format!("input `{}`: tract has no {:?}", tensor.name, tensor.dtype))
	})?;
	let elements = tensor.elements()?;
	if elements.checked_mul(tensor.dtype.size() as u64) != Some(tensor.data.len() as u64) {
		return Err(Error::Codec(citrate_tensor_primitives::CodecError::DataLength {
			expected: elements.saturating_mul(tensor.dtype.size() as u64),
			actual: tensor.data.len() as u64,
		}));
	}
	if tensor.dtype == DType::Bool && tensor.data.iter().any(|&b| b > 1) {
		return Err(Error::Codec(citrate_tensor_primitives::CodecError::BadBool));
	}
	let shape: Vec<usize> = tensor.shape.iter().map(|&d| d as usize).collect();
	// SAFETY: the length matches dtype and shape (checked above, and again by tract) and every
	// byte pattern is a valid value of these types (bools were checked to be 0 or 1).
	unsafe { TractTensor::from_raw_dt(datum, &shape, &tensor.data) }
		.map_err(|e| Error::Runtime(crate::error::chain(&e)))
}

/// A tract tensor as a codec tensor named `name`.
pub fn from_tract(name: &str, tensor: &TractTensor) -> Result<Tensor> {
	let dtype = codec_dtype(tensor.datum_type()).ok_or_else(|| {
		Error::Unsupported(format!(
			"output `{name}` is {:?}, which the tensor codec cannot carry",
			tensor.datum_type()
		))
	})?;
	let as_i64;
	let tensor = if tensor.datum_type() == DatumType::TDim {
		as_i64 = tensor
			.cast_to::<i64>()
			.map_err(|e| Error::Runtime(format!("output `{name}` is not concrete: {e}")))?
			.into_owned();
		&as_i64
	} else {
		tensor
	};
	let shape = tensor
		.shape()
		.iter()
		.map(|&d| u32::try_from(d))
		.collect::<Result<Vec<_>, _>>()
		.map_err(|_| Error::Runtime(format!("output `{name}` has a dimension over u32")))?;
	Ok(Tensor::new(name, dtype, shape, tensor.as_bytes().to_vec())?)
}
