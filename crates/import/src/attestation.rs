//! `citrate-import.json`: what an import read and wrote, so anyone can run it again and
//! check they get the same package.
//!
//! It lists the source repository and revision with the SHA-256 of every file in it, the
//! converter's and engine's versions, the task and backend, and each package file with the
//! repository file it came from, and the optimisation step when one ran (`--quantize`: the
//! scheme, the tensors quantized, the agreement with the unoptimised model measured). A file
//! cannot hold its own CID, so `package.cid` is the CID
//! of the package *without* `citrate-import.json` (what `ipfs add -r` gives the other files);
//! the registered CID covers this file too, and the registry records this file's SHA-256.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The package file it is written to.
pub const FILE_NAME: &str = "citrate-import.json";
/// The format written, first in the file.
pub const FORMAT: &str = "citrate-import/1";

/// A file and its digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileDigest {
	pub path: String,
	pub bytes: u64,
	pub sha256: String,
}

/// A package file and the repository file it is a copy of (or was quantized from: see
/// [`Attestation::quantization`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PackageFile {
	pub path: String,
	pub from: String,
	pub bytes: u64,
	pub sha256: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceRecord {
	pub repo: String,
	pub revision: String,
	pub files: Vec<FileDigest>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PackageRecord {
	/// CID of the package's other files (see the module docs).
	pub cid: String,
	pub files: Vec<PackageFile>,
}

/// A model file the optimisation step rewrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QuantizedFile {
	/// The package file.
	pub path: String,
	/// SHA-256 of the file before (the repository file's).
	pub source_sha256: String,
	/// Weights quantized, and their elements.
	pub tensors: usize,
	pub elements: u64,
	/// How the weights are given back as floats: `dequantize-linear` (opset ≥ 13) or
	/// `cast-mul` (older opsets); one scale per output channel either way.
	pub dequantization: crate::quantize::Dequantization,
	/// The model's default-domain opset (unchanged).
	pub opset: i64,
	pub bytes_before: u64,
	pub bytes_after: u64,
}

/// The agreement of the optimised model with the original on the reference inputs, to 4
/// decimals (cut, not rounded).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AgreementRecord {
	/// `top-1`, `same-text` or `cosine`.
	pub metric: &'static str,
	pub inputs: usize,
	/// Fraction of inputs agreeing (top-1, text) or minimum cosine.
	pub measured: f64,
	/// Mean cosine (top-1, text: as measured).
	pub mean: f64,
	/// The least agreement the import accepted.
	pub threshold: f64,
}

/// The optimisation step (`--quantize`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QuantizationRecord {
	/// `citrate-import/quantize` and the converter's version.
	pub converter: String,
	/// `int8`.
	pub quantization: &'static str,
	/// What the scheme does.
	pub scheme: &'static str,
	pub files: Vec<QuantizedFile>,
	pub agreement: AgreementRecord,
}

/// The attestation, in the order it is written.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Attestation {
	pub format: &'static str,
	pub source: SourceRecord,
	/// `citrate-import` and its version.
	pub converter: std::collections::BTreeMap<String, String>,
	/// The engine and backend versions that validated the package.
	pub engine: std::collections::BTreeMap<String, String>,
	pub task: String,
	pub backend: String,
	pub license: String,
	/// The optimisation step, when one ran (absent otherwise).
	#[serde(skip_serializing_if = "Option::is_none")]
	pub quantization: Option<QuantizationRecord>,
	pub package: PackageRecord,
}

impl Attestation {
	/// The file's bytes: pretty JSON, a newline at the end. Nothing in it depends on when or
	/// where the import ran.
	pub fn to_bytes(&self) -> Vec<u8> {
		let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
		bytes.push(b'\n');
		bytes
	}
}

/// SHA-256 of `bytes`, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
	hex::encode(Sha256::digest(bytes))
}

/// SHA-256 of a file, read in chunks (weights files are large), with its length.
pub fn sha256_file(
	path: &std::path::Path,
	progress: &dyn crate::progress::Progress,
) -> std::io::Result<(u64, String)> {
	use std::io::Read;
	let mut file = std::fs::File::open(path)?;
	let mut hasher = Sha256::new();
	let mut buffer = vec![0u8; 1 << 20];
	let mut total = 0u64;
	loop {
		let read = file.read(&mut buffer)?;
		if read == 0 {
			break;
		}
		total += read as u64;
		hasher.update(&buffer[..read]);
		progress.advance(read as u64);
	}
	Ok((total, hex::encode(hasher.finalize())))
}
