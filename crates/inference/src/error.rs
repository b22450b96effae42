//! Everything that can go wrong between a request and its result, each with a message a caller
//! can act on. Nothing in this crate panics on bad models or bad inputs.

use citrate_inference_primitives::request::RequestError;
use citrate_tensor_primitives::{CodecError, SpecMismatch};

/// The engine's error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
	#[error("the model's files are {size} bytes; the limit is {limit}")]
	ModelTooLarge { size: u64, limit: u64 },
	#[error("not a valid model file: {0}")]
	InvalidModel(String),
	#[error("the model cannot run here: {0}")]
	Unsupported(String),
	#[error("missing input `{0}`")]
	MissingInput(String),
	#[error("input `{name}` has shape {actual:?}; the model takes {expected}")]
	InputShape { name: String, expected: String, actual: Vec<u32> },
	#[error("input `{name}` has {elements} elements; the limit is {limit}")]
	TooManyElements { name: String, elements: u64, limit: u64 },
	#[error("this request needs about {flops} FLOPs; the limit is {limit}")]
	TooManyFlops { flops: u128, limit: u128 },
	#[error("this request needs about {bytes} bytes of memory; the limit is {limit}")]
	TooMuchMemory { bytes: u64, limit: u64 },
	#[error("inference stopped after the {limit_ms} ms time limit")]
	Timeout { limit_ms: u64 },
	#[error("inference failed: {0}")]
	Runtime(String),
	#[error("tensor codec: {0}")]
	Codec(#[from] CodecError),
	#[error("request: {0}")]
	Request(#[from] RequestError),
	#[error("registered metadata does not match the model: {0}")]
	Metadata(String),
	#[error("{0}")]
	Pipeline(String),
	#[error("model package: {0}")]
	Package(String),
	#[error("model cache: {0}")]
	Cache(String),
	#[error("i/o: {0}")]
	Io(#[from] std::io::Error),
}

impl Error {
	/// The error of loading the package file `file`, naming it: a package holds several files,
	/// and a user must know which one to fix.
	pub fn in_file(self, file: &str) -> Error {
		match self {
			Error::InvalidModel(why) => Error::InvalidModel(format!("{file}: {why}")),
			Error::Unsupported(why) => Error::Unsupported(format!("{file}: {why}")),
			Error::Metadata(why) => Error::Metadata(format!("{file}: {why}")),
			other => other,
		}
	}
}

impl From<SpecMismatch> for Error {
	fn from(mismatch: SpecMismatch) -> Self {
		Error::Metadata(mismatch.to_string())
	}
}

/// The crate's result.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Tract's error with its causes on one line, most specific last.
pub(crate) fn chain(error: &tract_onnx::prelude::TractError) -> String {
	format!("{error:#}")
}
