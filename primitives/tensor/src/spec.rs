//! Tensor specs: a tensor's name, dtype and shape as a model declares it.

use crate::{check_name, DType, MAX_NAME_LEN, MAX_RANK, MAX_SYMBOL_LEN};
use alloc::{string::String, vec::Vec};
use bounded_collections::{BoundedVec, ConstU32};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::fmt;
use scale_info::TypeInfo;

/// One dimension: a fixed size, or a size named by a symbol and chosen per request.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub enum Dim {
	Fixed(u64),
	/// A symbolic size such as `batch` or `sequence`: 1..=[`MAX_SYMBOL_LEN`] bytes of UTF-8.
	Symbolic(BoundedVec<u8, ConstU32<{ MAX_SYMBOL_LEN as u32 }>>),
}

impl Dim {
	/// A symbolic dim, checked.
	pub fn symbolic(symbol: &str) -> Result<Dim, SpecError> {
		if symbol.is_empty() {
			return Err(SpecError::BadSymbol);
		}
		BoundedVec::try_from(symbol.as_bytes().to_vec())
			.map(Dim::Symbolic)
			.map_err(|_| SpecError::BadSymbol)
	}

	/// A symbolic dim named `symbol`, cut to [`MAX_SYMBOL_LEN`] bytes at a character boundary
	/// (the engine reports graph expressions such as `2*sequence+1`, which can be longer).
	pub fn symbolic_lossy(symbol: &str) -> Dim {
		let mut end = symbol.len().min(MAX_SYMBOL_LEN);
		while !symbol.is_char_boundary(end) {
			end -= 1;
		}
		Dim::symbolic(&symbol[..end]).unwrap_or_else(|_| Dim::Symbolic(bounded(b"?")))
	}

	fn check(&self) -> Result<(), SpecError> {
		match self {
			Dim::Fixed(_) => Ok(()),
			Dim::Symbolic(s) if !s.is_empty() && core::str::from_utf8(s).is_ok() => Ok(()),
			Dim::Symbolic(_) => Err(SpecError::BadSymbol),
		}
	}
}

impl fmt::Display for Dim {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			Dim::Fixed(n) => write!(f, "{n}"),
			Dim::Symbolic(s) => f.write_str(core::str::from_utf8(s).unwrap_or("?")),
		}
	}
}

fn bounded<const N: u32>(bytes: &[u8]) -> BoundedVec<u8, ConstU32<N>> {
	BoundedVec::truncate_from(bytes.to_vec())
}

/// Name, element type and shape of one model input or output.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct TensorSpec {
	/// 1..=[`MAX_NAME_LEN`] bytes of UTF-8, as in the tensor codec.
	pub name: BoundedVec<u8, ConstU32<{ MAX_NAME_LEN as u32 }>>,
	pub dtype: DType,
	/// At most [`MAX_RANK`] dims; none for a scalar.
	pub dims: BoundedVec<Dim, ConstU32<{ MAX_RANK as u32 }>>,
}

impl TensorSpec {
	/// A spec, checked as [`TensorSpec::check`] does.
	pub fn new(name: &str, dtype: DType, dims: Vec<Dim>) -> Result<TensorSpec, SpecError> {
		let spec = TensorSpec {
			name: BoundedVec::try_from(name.as_bytes().to_vec()).map_err(|_| SpecError::BadName)?,
			dtype,
			dims: BoundedVec::try_from(dims).map_err(|_| SpecError::RankTooHigh)?,
		};
		spec.check()?;
		Ok(spec)
	}

	/// The name as text (empty if it is not UTF-8, which [`TensorSpec::check`] refuses).
	pub fn name(&self) -> &str {
		core::str::from_utf8(&self.name).unwrap_or("")
	}

	/// Refuses names that are empty or not UTF-8, and symbols that are empty or not UTF-8; the
	/// bounds hold by construction.
	pub fn check(&self) -> Result<(), SpecError> {
		check_name(&self.name).ok_or(SpecError::BadName)?;
		self.dims.iter().try_for_each(Dim::check)
	}
}

impl fmt::Display for TensorSpec {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		write!(f, "{}: {}[", self.name(), self.dtype)?;
		for (i, dim) in self.dims.iter().enumerate() {
			if i > 0 {
				f.write_str(", ")?;
			}
			write!(f, "{dim}")?;
		}
		f.write_str("]")
	}
}

/// Why a spec is malformed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpecError {
	/// The name is empty, over [`MAX_NAME_LEN`] bytes, or not UTF-8.
	BadName,
	/// A symbolic dim is empty, over [`MAX_SYMBOL_LEN`] bytes, or not UTF-8.
	BadSymbol,
	/// More than [`MAX_RANK`] dims.
	RankTooHigh,
}

impl fmt::Display for SpecError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			SpecError::BadName => {
				write!(f, "tensor names must be 1..={MAX_NAME_LEN} bytes of UTF-8")
			}
			SpecError::BadSymbol => {
				write!(f, "dimension symbols must be 1..={MAX_SYMBOL_LEN} bytes of UTF-8")
			}
			SpecError::RankTooHigh => write!(f, "tensors have at most {MAX_RANK} dims"),
		}
	}
}

impl core::error::Error for SpecError {}

/// Whether specs describe a model's inputs or its outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpecSide {
	Input,
	Output,
}

impl fmt::Display for SpecSide {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str(match self {
			SpecSide::Input => "input",
			SpecSide::Output => "output",
		})
	}
}

/// How registered specs disagree with the ones a loaded model declares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpecMismatch {
	/// A different number of tensors.
	Count { side: SpecSide, registered: usize, model: usize },
	/// The tensor at `index` has another name.
	Name { side: SpecSide, index: usize, registered: String, model: String },
	/// Same name, another dtype.
	DType { side: SpecSide, name: String, registered: DType, model: DType },
	/// Same name, another number of dims.
	Rank { side: SpecSide, name: String, registered: usize, model: usize },
	/// Both fix dim `axis`, to different sizes.
	Size { side: SpecSide, name: String, axis: usize, registered: u64, model: u64 },
}

impl fmt::Display for SpecMismatch {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			SpecMismatch::Count { side, registered, model } => {
				write!(f, "the metadata registers {registered} {side}s but the model has {model}")
			}
			SpecMismatch::Name { side, index, registered, model } => write!(
				f,
				"{side} {index} is `{model}` in the model but `{registered}` in the metadata"
			),
			SpecMismatch::DType { side, name, registered, model } => write!(
				f,
				"{side} `{name}` is {model} in the model but {registered} in the metadata"
			),
			SpecMismatch::Rank { side, name, registered, model } => write!(
				f,
				"{side} `{name}` has {model} dims in the model but {registered} in the metadata"
			),
			SpecMismatch::Size { side, name, axis, registered, model } => write!(
				f,
				"dim {axis} of {side} `{name}` is {model} in the model but {registered} in the \
				 metadata"
			),
		}
	}
}

impl core::error::Error for SpecMismatch {}

/// Checks registered specs against the ones a loaded model declares: the same tensors in the
/// same order (outputs are hashed in model order), with the same names, dtypes and ranks, and
/// no dim that both fix to different sizes. A dim the model leaves symbolic may be fixed by the
/// registration (it narrows what requests may send); symbol names are labels and not compared.
pub fn check_specs(
	side: SpecSide,
	registered: &[TensorSpec],
	model: &[TensorSpec],
) -> Result<(), SpecMismatch> {
	if registered.len() != model.len() {
		return Err(SpecMismatch::Count { side, registered: registered.len(), model: model.len() });
	}
	for (index, (r, m)) in registered.iter().zip(model).enumerate() {
		let name = || String::from(m.name());
		if r.name != m.name {
			return Err(SpecMismatch::Name {
				side,
				index,
				registered: String::from_utf8_lossy(&r.name).into_owned(),
				model: name(),
			});
		}
		if r.dtype != m.dtype {
			return Err(SpecMismatch::DType {
				side,
				name: name(),
				registered: r.dtype,
				model: m.dtype,
			});
		}
		if r.dims.len() != m.dims.len() {
			return Err(SpecMismatch::Rank {
				side,
				name: name(),
				registered: r.dims.len(),
				model: m.dims.len(),
			});
		}
		for (axis, pair) in r.dims.iter().zip(m.dims.iter()).enumerate() {
			if let (Dim::Fixed(registered), Dim::Fixed(model)) = pair {
				if registered != model {
					return Err(SpecMismatch::Size {
						side,
						name: name(),
						axis,
						registered: *registered,
						model: *model,
					});
				}
			}
		}
	}
	Ok(())
}
