//! Model packages: what a registered model's CID names.
//!
//! A package is a UnixFS directory whose file names are the roles the inference engine reads
//! (`model.onnx`, `tokenizer.json`, `det.onnx`, …); files in subdirectories keep their path
//! (`1_Pooling/config.json`). A CID naming a single file is a package of that one file under
//! the name its registered framework gives it (`model.onnx` for ONNX, see
//! `citrate_model_primitives::Framework::single_file_name`).
//!
//! Reading a package happens in two passes. [`PackageWalk`] reads only the directory blocks
//! and each file's root block, which declares the file's size, and refuses a package over
//! [`PackageLimits`] before any file's bytes are fetched or allocated; then each file is read
//! into a buffer of its declared size, every block verified, and a file whose blocks hold
//! more or less than it declared is refused. Errors name the file (and the block) at fault.

use crate::{
	block::BlockSource,
	exporter::{export, TreeLimits},
	unixfs::{parse_block, ExportError, Node},
	RemoteError,
};
use cid::Cid;
use std::io::{self, Write};

/// How large a package may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PackageLimits {
	/// Most bytes of all files together.
	pub max_bytes: u64,
	/// Most entries and nesting.
	pub tree: TreeLimits,
}

impl Default for PackageLimits {
	/// 8 GiB: a 7B-parameter model quantised to 8 bits, with its tokenizer.
	fn default() -> Self {
		Self { max_bytes: 8 << 30, tree: TreeLimits::default() }
	}
}

/// Why a package could not be listed, fetched or read.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
	#[error("the package's files hold {size} bytes, over the limit of {limit}")]
	TooLarge { size: u64, limit: u64 },
	#[error("directory {path:?} of the package: {source}")]
	Directory { path: String, source: Box<ExportError> },
	#[error("file {path:?} of the package: {source}")]
	File { path: String, source: Box<ExportError> },
	#[error("fetching {path:?} of the package: {source}")]
	Fetch { path: String, source: Box<RemoteError> },
	#[error("file {path:?} declares {declared} bytes but its blocks hold {}",
		if *.more { "more".to_string() } else { .actual.to_string() })]
	SizeMismatch { path: String, declared: u64, actual: u64, more: bool },
}

/// One file of a package, as its root block declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageFile {
	/// Its path in the package, `/`-separated (`tokenizer.json`, `1_Pooling/config.json`).
	pub path: String,
	pub cid: Cid,
	/// Bytes, as declared by the file's root block.
	pub size: u64,
}

/// A package's files, in path order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PackageListing {
	pub files: Vec<PackageFile>,
	/// Bytes of all files, as declared.
	pub total_bytes: u64,
}

/// The walk over a package's directory blocks and file root blocks, one block at a time, so
/// the same rules serve a local read ([`list_package`]) and a fetch from other nodes
/// (`Fetcher::fetch_package`): ask [`Self::next_block`] which block it needs, hand it to
/// [`Self::visit`], and take the listing from [`Self::finish`].
pub struct PackageWalk {
	root: Cid,
	single_file_name: String,
	limits: PackageLimits,
	/// Blocks still to visit: their path and depth.
	todo: Vec<(Cid, String, usize)>,
	entries: usize,
	listing: PackageListing,
}

impl PackageWalk {
	/// A walk of the package `root`; a single-file root is named `single_file_name`.
	pub fn new(root: Cid, single_file_name: &str, limits: PackageLimits) -> Self {
		Self {
			root,
			single_file_name: single_file_name.into(),
			limits,
			todo: vec![(root, String::new(), 0)],
			entries: 0,
			listing: PackageListing::default(),
		}
	}

	/// The block the walk needs next, with its path, if any.
	pub fn next_block(&self) -> Option<(Cid, &str)> {
		self.todo.last().map(|(cid, path, _)| (*cid, path.as_str()))
	}

	/// Takes the block [`Self::next_block`] asked for, already verified against its CID (as
	/// every [`BlockSource`] and the fetcher return blocks).
	pub fn visit(&mut self, block: Vec<u8>) -> Result<(), PackageError> {
		let Some((cid, path, depth)) = self.todo.pop() else { return Ok(()) };
		let in_directory = |source| PackageError::Directory {
			path: display(&path).into(),
			source: Box::new(source),
		};
		match parse_block(&cid, block) {
			Ok(Node::File { size, .. }) => {
				let path = if cid == self.root { self.single_file_name.clone() } else { path };
				self.listing.total_bytes = self.listing.total_bytes.saturating_add(size);
				if self.listing.total_bytes > self.limits.max_bytes {
					return Err(PackageError::TooLarge {
						size: self.listing.total_bytes,
						limit: self.limits.max_bytes,
					});
				}
				self.listing.files.push(PackageFile { path, cid, size });
			}
			Ok(Node::Directory(entries)) => {
				if cid != self.root && depth > self.limits.tree.max_depth {
					let limit = self.limits.tree.max_depth;
					return Err(in_directory(ExportError::TooDeep { path: path.clone(), limit }));
				}
				self.entries += entries.len();
				if self.entries > self.limits.tree.max_entries {
					let limit = self.limits.tree.max_entries;
					return Err(in_directory(ExportError::TooManyEntries { limit }));
				}
				// Reversed, so entries are visited (and listed) in name order.
				for entry in entries.into_iter().rev() {
					let child =
						if path.is_empty() { entry.name } else { format!("{path}/{}", entry.name) };
					self.todo.push((entry.cid, child, depth + 1));
				}
			}
			Err(source) if path.is_empty() => return Err(in_directory(source)),
			Err(source) => return Err(PackageError::File { path, source: Box::new(source) }),
		}
		Ok(())
	}

	/// The listing, once [`Self::next_block`] has nothing more to ask.
	pub fn finish(self) -> PackageListing {
		self.listing
	}
}

fn display(path: &str) -> &str {
	if path.is_empty() {
		"/"
	} else {
		path
	}
}

/// Lists the package `root` from `source`, reading directory blocks and file root blocks
/// only.
pub fn list_package(
	root: &Cid,
	single_file_name: &str,
	limits: PackageLimits,
	source: &impl BlockSource,
) -> Result<PackageListing, PackageError> {
	let mut walk = PackageWalk::new(*root, single_file_name, limits);
	while let Some((cid, path)) = walk.next_block() {
		let block = source.get(&cid).map_err(|error| {
			let source = Box::new(ExportError::Block(error));
			match path {
				"" => PackageError::Directory { path: "/".into(), source },
				path => PackageError::File { path: path.into(), source },
			}
		})?;
		walk.visit(block)?;
	}
	Ok(walk.finish())
}

/// Reads every file of the package `root` from `source`: `(path, bytes)` in path order.
pub fn read_package(
	root: &Cid,
	single_file_name: &str,
	limits: PackageLimits,
	source: &impl BlockSource,
) -> Result<Vec<(String, Vec<u8>)>, PackageError> {
	let listing = list_package(root, single_file_name, limits, source)?;
	listing
		.files
		.into_iter()
		.map(|file| Ok((file.path.clone(), read_file(&file, source)?)))
		.collect()
}

/// One file, into a buffer of its declared size that it may not outgrow.
fn read_file(file: &PackageFile, source: &impl BlockSource) -> Result<Vec<u8>, PackageError> {
	let mismatch = |actual, more| PackageError::SizeMismatch {
		path: file.path.clone(),
		declared: file.size,
		actual,
		more,
	};
	let capacity = usize::try_from(file.size).map_err(|_| mismatch(0, true))?;
	let mut out = Bounded { bytes: Vec::with_capacity(capacity), limit: capacity };
	match export(&file.cid, source, &mut out) {
		Ok(_) if out.bytes.len() == capacity => Ok(out.bytes),
		Ok(_) => Err(mismatch(out.bytes.len() as u64, false)),
		Err(ExportError::Write(error)) if error.kind() == io::ErrorKind::FileTooLarge => {
			Err(mismatch(0, true))
		}
		Err(source) => {
			Err(PackageError::File { path: file.path.clone(), source: Box::new(source) })
		}
	}
}

/// A buffer that refuses to grow past `limit`.
struct Bounded {
	bytes: Vec<u8>,
	limit: usize,
}

impl Write for Bounded {
	fn write(&mut self, data: &[u8]) -> io::Result<usize> {
		if self.bytes.len() + data.len() > self.limit {
			return Err(io::Error::new(io::ErrorKind::FileTooLarge, "more than declared"));
		}
		self.bytes.extend_from_slice(data);
		Ok(data.len())
	}

	fn flush(&mut self) -> io::Result<()> {
		Ok(())
	}
}
