//! Imports a directory tree as Kubo's `ipfs add -r` does, with the same CIDs in both of the
//! file importer's CID modes: each file through [`crate::import`], each directory a plain
//! UnixFS directory node whose links are its entries sorted by name bytes (each link's
//! `Tsize` the entry's whole DAG), empty files and empty directories kept. As in Kubo, hidden
//! entries (names starting with `.`) are skipped unless [`TreeOptions::hidden`] is set
//! (`--hidden`), and [`TreeOptions::wrap`] puts the imported file or directory inside one more
//! directory (`--wrap-with-directory`).
//!
//! What a model package never needs, and what could hurt whoever exports the tree, is refused
//! with an error naming the entry: names that are not one safe UTF-8 segment (the shared
//! `check_entry_name` rule), symbolic links leading out of the tree or to a directory
//! (links to a file inside the tree are followed, as `--dereference-symlinks` does), sockets
//! and devices, directories large enough for Kubo to shard them (HAMT), and trees over
//! [`TreeLimits`].

use crate::{
	dag_pb::{self, DirectoryEntry},
	exporter::TreeLimits,
	importer::{import, BlockSink, CidMode, ImportError, ImportOptions},
};
use cid::Cid;
use citrate_ipfs_primitives::cid::{DAG_PB, SHA2_256};
use multihash::Multihash;
use sha2::{Digest, Sha256};
use std::{
	fs, io,
	path::{Path, PathBuf},
};

/// Why a tree could not be imported; every variant names the entry at fault.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
	#[error("{path}: {source}")]
	Io { path: PathBuf, source: io::Error },
	#[error("{path}: {source}")]
	Import { path: PathBuf, source: ImportError },
	#[error("{path}: name refused: {reason}")]
	BadName { path: PathBuf, reason: dag_pb::NameError },
	#[error("{path}: symbolic link to {target}, which is outside the tree {root}")]
	SymlinkOutside { path: PathBuf, target: PathBuf, root: PathBuf },
	#[error("{path}: symbolic link to a directory; only links to files are followed")]
	SymlinkToDirectory { path: PathBuf },
	#[error("{path}: not a regular file, directory or symbolic link")]
	NotAFileOrDirectory { path: PathBuf },
	#[error("{path}: more than {limit} entries in the tree")]
	TooManyEntries { path: PathBuf, limit: usize },
	#[error("{path}: nested deeper than {limit} directories")]
	TooDeep { path: PathBuf, limit: usize },
	#[error(
		"{path}: the directory's entries take {size} bytes of names and CIDs; Kubo would shard \
		 it (HAMT, from {threshold} bytes), which model packages do not use"
	)]
	NeedsSharding { path: PathBuf, size: usize, threshold: usize },
	#[error("storing a directory block failed: {0}")]
	Store(io::Error),
}

/// How to walk a tree, beyond how each file is cut ([`ImportOptions`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct TreeOptions {
	pub limits: TreeLimits,
	/// Wrap the result in a directory holding it under its own name.
	pub wrap: bool,
	/// Include entries whose names start with `.`.
	pub hidden: bool,
}

/// What [`import_tree`] produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedTree {
	pub root: Cid,
	/// Total bytes of the files (what the registry records as a package's size).
	pub file_bytes: u64,
	/// Bytes of every block in the DAG (the root's cumulative size).
	pub dag_size: u64,
	pub files: u64,
	pub directories: u64,
	pub blocks: u64,
}

/// Imports the file or directory at `path`, writing every block to `sink`.
pub fn import_tree(
	path: &Path,
	options: ImportOptions,
	tree: TreeOptions,
	sink: &mut impl BlockSink,
) -> Result<ImportedTree, TreeError> {
	let io_error = |source| TreeError::Io { path: path.to_path_buf(), source };
	let root_dir = fs::canonicalize(path).map_err(io_error)?;
	let metadata = fs::metadata(path).map_err(io_error)?;
	let mut walk =
		Walk { options, tree, root: root_dir, entries: 0, sink, totals: Totals::default() };
	let (cid, tsize) = if metadata.is_dir() {
		walk.directory(path, 0)?
	} else if metadata.is_file() {
		// A file given directly is the tree; links may point anywhere, as for `ipfs add FILE`.
		walk.file(path)?
	} else {
		return Err(TreeError::NotAFileOrDirectory { path: path.to_path_buf() });
	};
	let (root, dag_size) = if tree.wrap {
		let name =
			path.file_name().and_then(|name| name.to_str()).unwrap_or_default().as_bytes().to_vec();
		dag_pb::check_entry_name(&name)
			.map_err(|reason| TreeError::BadName { path: path.to_path_buf(), reason })?;
		walk.directory_node(path, vec![(name, cid, tsize)])?
	} else {
		(cid, tsize)
	};
	let totals = walk.totals;
	Ok(ImportedTree {
		root,
		file_bytes: totals.file_bytes,
		dag_size,
		files: totals.files,
		directories: totals.directories,
		blocks: totals.blocks,
	})
}

#[derive(Default)]
struct Totals {
	file_bytes: u64,
	files: u64,
	directories: u64,
	blocks: u64,
}

struct Walk<'a, S> {
	options: ImportOptions,
	tree: TreeOptions,
	/// The canonical path of the tree, which symbolic links must stay inside.
	root: PathBuf,
	entries: usize,
	sink: &'a mut S,
	totals: Totals,
}

impl<S: BlockSink> Walk<'_, S> {
	/// Imports one file; returns its root and cumulative size.
	fn file(&mut self, path: &Path) -> Result<(Cid, u64), TreeError> {
		let io_error = |source| TreeError::Io { path: path.to_path_buf(), source };
		let file = fs::File::open(path).map_err(io_error)?;
		let imported = import(io::BufReader::with_capacity(1 << 20, file), self.options, self.sink)
			.map_err(|source| TreeError::Import { path: path.to_path_buf(), source })?;
		self.totals.file_bytes += imported.file_size;
		self.totals.files += 1;
		self.totals.blocks += imported.blocks;
		Ok((imported.root, imported.dag_size))
	}

	/// Imports the directory at `path`, `depth` levels under the root.
	fn directory(&mut self, path: &Path, depth: usize) -> Result<(Cid, u64), TreeError> {
		let io_error = |source| TreeError::Io { path: path.to_path_buf(), source };
		let mut children = Vec::new();
		for entry in fs::read_dir(path).map_err(io_error)? {
			let entry = entry.map_err(io_error)?;
			if self.tree.hidden || !entry.file_name().as_encoded_bytes().starts_with(b".") {
				children.push(entry.path());
			}
		}
		self.entries += children.len();
		if self.entries > self.tree.limits.max_entries {
			let limit = self.tree.limits.max_entries;
			return Err(TreeError::TooManyEntries { path: path.to_path_buf(), limit });
		}
		let mut links = Vec::with_capacity(children.len());
		for child in children {
			let name = child.file_name().expect("read_dir entries have names");
			let bytes = name.as_encoded_bytes().to_vec();
			// `as_encoded_bytes` is the raw name on Unix, so a non-UTF-8 name is caught here.
			dag_pb::check_entry_name(&bytes)
				.map_err(|reason| TreeError::BadName { path: child.clone(), reason })?;
			let (cid, tsize) = self.entry(&child, depth)?;
			links.push((bytes, cid, tsize));
		}
		self.directory_node(path, links)
	}

	/// Imports one entry of a directory at `depth`.
	fn entry(&mut self, path: &Path, depth: usize) -> Result<(Cid, u64), TreeError> {
		let io_error = |source| TreeError::Io { path: path.to_path_buf(), source };
		let kind = fs::symlink_metadata(path).map_err(io_error)?.file_type();
		if kind.is_dir() {
			if depth + 1 > self.tree.limits.max_depth {
				let limit = self.tree.limits.max_depth;
				return Err(TreeError::TooDeep { path: path.to_path_buf(), limit });
			}
			return self.directory(path, depth + 1);
		}
		if kind.is_file() {
			return self.file(path);
		}
		if kind.is_symlink() {
			let target = fs::canonicalize(path).map_err(io_error)?;
			if !target.starts_with(&self.root) {
				let (path, root) = (path.to_path_buf(), self.root.clone());
				return Err(TreeError::SymlinkOutside { path, target, root });
			}
			if target.is_dir() {
				return Err(TreeError::SymlinkToDirectory { path: path.to_path_buf() });
			}
			if target.is_file() {
				return self.file(&target);
			}
		}
		Err(TreeError::NotAFileOrDirectory { path: path.to_path_buf() })
	}

	/// Stores the directory node linking `links` (name, CID, cumulative size), sorted by name.
	fn directory_node(
		&mut self,
		path: &Path,
		mut links: Vec<(Vec<u8>, Cid, u64)>,
	) -> Result<(Cid, u64), TreeError> {
		links.sort_by(|a, b| a.0.cmp(&b.0));
		let cids: Vec<Vec<u8>> = links.iter().map(|(_, cid, _)| cid.to_bytes()).collect();
		let size = links.iter().zip(&cids).map(|((name, ..), cid)| name.len() + cid.len()).sum();
		if size >= dag_pb::HAMT_SHARDING_THRESHOLD {
			let threshold = dag_pb::HAMT_SHARDING_THRESHOLD;
			return Err(TreeError::NeedsSharding { path: path.to_path_buf(), size, threshold });
		}
		let entries: Vec<DirectoryEntry<'_>> = links
			.iter()
			.zip(&cids)
			.map(|((name, _, tsize), cid)| DirectoryEntry { name, cid, tsize: *tsize })
			.collect();
		let block = dag_pb::directory(&entries);
		let hash = Multihash::<64>::wrap(SHA2_256, &Sha256::digest(&block)).expect("fits");
		let cid = match self.options.mode {
			CidMode::V0 => Cid::new_v0(hash).expect("sha2-256 dag-pb is a valid CIDv0"),
			CidMode::V1RawLeaves => Cid::new_v1(DAG_PB, hash),
		};
		self.sink.put(&cid, &block).map_err(TreeError::Store)?;
		self.totals.directories += 1;
		self.totals.blocks += 1;
		let tsize = block.len() as u64 + links.iter().map(|(_, _, tsize)| tsize).sum::<u64>();
		Ok((cid, tsize))
	}
}
