//! Named tensors and their canonical byte form (layout in the crate docs).

use crate::{check_name, DType, MAX_RANK};
use alloc::{string::String, vec::Vec};
use core::fmt;

/// The first four bytes of every payload.
pub const MAGIC: [u8; 4] = *b"CTEN";
/// The version this crate writes and reads.
pub const VERSION: u8 = 1;

/// One named tensor: its dtype, shape and raw little-endian element bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tensor {
	pub name: String,
	pub dtype: DType,
	pub shape: Vec<u32>,
	pub data: Vec<u8>,
}

impl Tensor {
	/// A tensor, checked: the data length must match dtype and shape.
	pub fn new(
		name: impl Into<String>,
		dtype: DType,
		shape: Vec<u32>,
		data: Vec<u8>,
	) -> Result<Self, CodecError> {
		let tensor = Tensor { name: name.into(), dtype, shape, data };
		tensor.check(&Limits::default())?;
		Ok(tensor)
	}

	/// An f32 tensor from values.
	pub fn from_f32(
		name: impl Into<String>,
		shape: Vec<u32>,
		values: &[f32],
	) -> Result<Self, CodecError> {
		let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
		Tensor::new(name, DType::F32, shape, data)
	}

	/// The values of an f32 tensor, or `None` for other dtypes.
	pub fn to_f32(&self) -> Option<Vec<f32>> {
		(self.dtype == DType::F32).then(|| {
			self.data
				.chunks_exact(4)
				.map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
				.collect()
		})
	}

	/// The values of an i64 tensor, or `None` for other dtypes.
	pub fn to_i64(&self) -> Option<Vec<i64>> {
		(self.dtype == DType::I64).then(|| {
			self.data
				.chunks_exact(8)
				.map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
				.collect()
		})
	}

	/// Number of elements: the product of the dims (1 for a scalar).
	pub fn elements(&self) -> Result<u64, CodecError> {
		element_count(&self.shape)
	}

	fn check(&self, limits: &Limits) -> Result<(), CodecError> {
		check_name(self.name.as_bytes()).ok_or(CodecError::BadName)?;
		if self.shape.len() > MAX_RANK {
			return Err(CodecError::RankTooHigh(self.shape.len()));
		}
		let elements = self.elements()?;
		if elements > limits.max_elements {
			return Err(CodecError::TooManyElements { elements, limit: limits.max_elements });
		}
		let expected = elements * self.dtype.size() as u64;
		if self.data.len() as u64 != expected {
			return Err(CodecError::DataLength { expected, actual: self.data.len() as u64 });
		}
		if self.dtype == DType::Bool && self.data.iter().any(|&b| b > 1) {
			return Err(CodecError::BadBool);
		}
		Ok(())
	}
}

/// Bounds a decoder enforces before allocating anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
	/// Tensors per payload.
	pub max_tensors: usize,
	/// Elements of one tensor.
	pub max_elements: u64,
	/// Bytes of the whole payload.
	pub max_bytes: usize,
}

impl Default for Limits {
	/// 64 tensors, 16 Mi elements each, 64 MiB in all.
	fn default() -> Self {
		Limits { max_tensors: 64, max_elements: 16 << 20, max_bytes: 64 << 20 }
	}
}

/// Why a payload was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodecError {
	/// The payload does not start with `CTEN`.
	BadMagic,
	/// A version other than [`VERSION`].
	UnsupportedVersion(u8),
	/// The payload ends inside a field.
	Truncated,
	/// Bytes follow the last tensor.
	TrailingBytes(usize),
	/// More tensors than the limit allows.
	TooManyTensors { count: usize, limit: usize },
	/// The payload is larger than the limit allows.
	TooLarge { bytes: usize, limit: usize },
	/// An empty name, one over [`crate::MAX_NAME_LEN`] bytes, or one that is not UTF-8.
	BadName,
	/// Two tensors share a name.
	DuplicateName(String),
	/// A dtype code this version does not define.
	UnknownDType(u8),
	/// A rank above [`crate::MAX_RANK`].
	RankTooHigh(usize),
	/// The dims multiply past `u64`.
	ShapeOverflow,
	/// A tensor has more elements than the limit allows.
	TooManyElements { elements: u64, limit: u64 },
	/// The data length does not match dtype and shape.
	DataLength { expected: u64, actual: u64 },
	/// A bool element other than 0 or 1.
	BadBool,
}

impl fmt::Display for CodecError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			CodecError::BadMagic => write!(f, "not a Citrate tensor payload (no CTEN magic)"),
			CodecError::UnsupportedVersion(v) => {
				write!(f, "tensor payload version {v} is not supported (only {VERSION})")
			}
			CodecError::Truncated => write!(f, "tensor payload is truncated"),
			CodecError::TrailingBytes(n) => write!(f, "{n} bytes follow the last tensor"),
			CodecError::TooManyTensors { count, limit } => {
				write!(f, "{count} tensors, more than the limit of {limit}")
			}
			CodecError::TooLarge { bytes, limit } => {
				write!(f, "payload of {bytes} bytes is over the limit of {limit}")
			}
			CodecError::BadName => {
				write!(f, "tensor names must be 1..={} bytes of UTF-8", crate::MAX_NAME_LEN)
			}
			CodecError::DuplicateName(name) => write!(f, "two tensors are named {name:?}"),
			CodecError::UnknownDType(code) => write!(f, "unknown dtype code {code}"),
			CodecError::RankTooHigh(rank) => write!(f, "rank {rank} is above {MAX_RANK}"),
			CodecError::ShapeOverflow => write!(f, "the dims multiply past 2^64 elements"),
			CodecError::TooManyElements { elements, limit } => {
				write!(f, "{elements} elements, more than the limit of {limit}")
			}
			CodecError::DataLength { expected, actual } => {
				write!(f, "data is {actual} bytes but dtype and shape need {expected}")
			}
			CodecError::BadBool => write!(f, "bool elements must be 0 or 1"),
		}
	}
}

impl core::error::Error for CodecError {}

fn element_count(shape: &[u32]) -> Result<u64, CodecError> {
	shape
		.iter()
		.try_fold(1u64, |n, &d| n.checked_mul(u64::from(d)))
		.ok_or(CodecError::ShapeOverflow)
}

/// Encodes `tensors` (checked against `Limits::default()`, names unique).
pub fn encode(tensors: &[Tensor]) -> Result<Vec<u8>, CodecError> {
	let limits = Limits::default();
	if tensors.len() > limits.max_tensors.min(255) {
		return Err(CodecError::TooManyTensors { count: tensors.len(), limit: limits.max_tensors });
	}
	let mut size = 6;
	for (i, tensor) in tensors.iter().enumerate() {
		tensor.check(&limits)?;
		if tensors[..i].iter().any(|t| t.name == tensor.name) {
			return Err(CodecError::DuplicateName(tensor.name.clone()));
		}
		size += 3 + tensor.name.len() + 4 * tensor.shape.len() + tensor.data.len();
	}
	if size > limits.max_bytes {
		return Err(CodecError::TooLarge { bytes: size, limit: limits.max_bytes });
	}
	let mut out = Vec::with_capacity(size);
	out.extend_from_slice(&MAGIC);
	out.push(VERSION);
	out.push(tensors.len() as u8);
	for tensor in tensors {
		out.push(tensor.name.len() as u8);
		out.extend_from_slice(tensor.name.as_bytes());
		out.push(tensor.dtype as u8);
		out.push(tensor.shape.len() as u8);
		tensor.shape.iter().for_each(|d| out.extend_from_slice(&d.to_le_bytes()));
		out.extend_from_slice(&tensor.data);
	}
	Ok(out)
}

/// Decodes a payload within the default limits.
pub fn decode(bytes: &[u8]) -> Result<Vec<Tensor>, CodecError> {
	decode_with(bytes, &Limits::default())
}

/// Decodes a payload within `limits`. Every length is checked against the bytes present and
/// the limits before anything is allocated, so hostile input costs at most its own size.
pub fn decode_with(bytes: &[u8], limits: &Limits) -> Result<Vec<Tensor>, CodecError> {
	if bytes.len() > limits.max_bytes {
		return Err(CodecError::TooLarge { bytes: bytes.len(), limit: limits.max_bytes });
	}
	let mut input = Reader(bytes);
	if input.take(4)? != MAGIC {
		return Err(CodecError::BadMagic);
	}
	let version = input.byte()?;
	if version != VERSION {
		return Err(CodecError::UnsupportedVersion(version));
	}
	let count = usize::from(input.byte()?);
	if count > limits.max_tensors {
		return Err(CodecError::TooManyTensors { count, limit: limits.max_tensors });
	}
	let mut tensors: Vec<Tensor> = Vec::with_capacity(count);
	for _ in 0..count {
		let name_len = usize::from(input.byte()?);
		let name = input.take(name_len)?;
		let name = String::from(check_name(name).ok_or(CodecError::BadName)?);
		if tensors.iter().any(|t| t.name == name) {
			return Err(CodecError::DuplicateName(name));
		}
		let code = input.byte()?;
		let dtype = DType::from_code(code).ok_or(CodecError::UnknownDType(code))?;
		let rank = usize::from(input.byte()?);
		if rank > MAX_RANK {
			return Err(CodecError::RankTooHigh(rank));
		}
		let shape: Vec<u32> = input
			.take(4 * rank)?
			.chunks_exact(4)
			.map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
			.collect();
		let elements = element_count(&shape)?;
		if elements > limits.max_elements {
			return Err(CodecError::TooManyElements { elements, limit: limits.max_elements });
		}
		// Cannot overflow: elements ≤ max_elements (u64) and the size is at most 8, but a
		// hostile limit could make it; checked anyway.
		let len = elements.checked_mul(dtype.size() as u64).ok_or(CodecError::ShapeOverflow)?;
		let len = usize::try_from(len).map_err(|_| CodecError::Truncated)?;
		let data = input.take(len)?.to_vec();
		if dtype == DType::Bool && data.iter().any(|&b| b > 1) {
			return Err(CodecError::BadBool);
		}
		tensors.push(Tensor { name, dtype, shape, data });
	}
	if !input.0.is_empty() {
		return Err(CodecError::TrailingBytes(input.0.len()));
	}
	Ok(tensors)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
	fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
		if n > self.0.len() {
			return Err(CodecError::Truncated);
		}
		let (head, rest) = self.0.split_at(n);
		self.0 = rest;
		Ok(head)
	}

	fn byte(&mut self) -> Result<u8, CodecError> {
		Ok(self.take(1)?[0])
	}
}
