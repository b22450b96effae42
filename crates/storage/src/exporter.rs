//! Writes a UnixFS file or directory tree back out of a block source, verifying every block
//! against its CID before any of its bytes are written.
//!
//! - [`export`] streams one file; memory holds one path from the root to a leaf.
//! - [`export_tree`] writes a directory tree (or a file) to a path on disk, all or nothing:
//!   everything goes into a temporary sibling first and is renamed into place only once every
//!   block verified, so an error leaves no partial tree behind. Entry names are checked by
//!   the shared rule, and [`TreeLimits`] caps the entries and depth a hostile DAG could claim.

use crate::{
	block::BlockSource,
	unixfs::{parse_block, ExportError, Node},
};
use cid::Cid;
use std::{
	fs,
	io::{BufWriter, Write},
	path::{Path, PathBuf},
	sync::atomic::{AtomicU64, Ordering},
};

/// How large a directory tree may be, on import and on export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeLimits {
	/// Most entries (files and directories, all levels together, the root excluded).
	pub max_entries: usize,
	/// Most directories nested under the root.
	pub max_depth: usize,
}

impl Default for TreeLimits {
	/// 10,000 entries and 32 levels: far above any model package, far below what would
	/// exhaust a node.
	fn default() -> Self {
		Self { max_entries: 10_000, max_depth: 32 }
	}
}

/// Writes the file under `root` to `out`; returns the bytes written. A directory is refused
/// ([`ExportError::IsDirectory`]); use [`export_tree`].
pub fn export(
	root: &Cid,
	source: &impl BlockSource,
	out: &mut impl Write,
) -> Result<u64, ExportError> {
	let mut written = 0u64;
	// Depth-first, in link order: a stack of child lists still to visit.
	let mut stack: Vec<std::vec::IntoIter<Cid>> = vec![vec![*root].into_iter()];
	while let Some(next) = stack.last_mut().map(Iterator::next) {
		let Some(cid) = next else {
			stack.pop();
			continue;
		};
		match parse_block(&cid, source.get(&cid)?)? {
			Node::File { links, data, .. } => {
				out.write_all(&data).map_err(ExportError::Write)?;
				written += data.len() as u64;
				if !links.is_empty() {
					stack.push(links.into_iter());
				}
			}
			Node::Directory(_) if cid == *root => return Err(ExportError::IsDirectory { cid }),
			Node::Directory(_) => return Err(ExportError::DirectoryInFile { cid }),
		}
	}
	Ok(written)
}

/// What [`export_tree`] wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExportedTree {
	pub files: u64,
	pub directories: u64,
	/// File bytes written.
	pub bytes: u64,
}

/// Writes the file or directory tree under `root` to `path`, which must not exist (a file may
/// replace a file). Nothing appears at `path` unless every block verified and every name
/// passed.
pub fn export_tree(
	root: &Cid,
	source: &impl BlockSource,
	path: &Path,
	limits: TreeLimits,
) -> Result<ExportedTree, ExportError> {
	// A file replaces a file (atomically, by the final rename), as `ipfs get -o` does; a tree
	// never merges into or replaces anything that exists.
	if let Ok(existing) = fs::symlink_metadata(path) {
		let tree = matches!(parse_block(root, source.get(root)?)?, Node::Directory(_));
		if tree || existing.is_dir() {
			return Err(ExportError::Exists(path.to_path_buf()));
		}
	}
	let staging = staging_path(path);
	let result = write_tree(root, source, &staging, limits).and_then(|exported| {
		fs::rename(&staging, path).map_err(ExportError::Write)?;
		Ok(exported)
	});
	if result.is_err() {
		let _ = fs::remove_dir_all(&staging).or_else(|_| fs::remove_file(&staging));
	}
	result
}

/// A unique hidden sibling of `path` to build the tree in.
fn staging_path(path: &Path) -> PathBuf {
	static EXPORTS: AtomicU64 = AtomicU64::new(0);
	let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
	let unique = EXPORTS.fetch_add(1, Ordering::Relaxed);
	path.with_file_name(format!(".{name}.partial-{}-{unique}", std::process::id()))
}

fn write_file(cid: &Cid, source: &impl BlockSource, path: &Path) -> Result<u64, ExportError> {
	let mut out = BufWriter::new(fs::File::create(path).map_err(ExportError::Write)?);
	let written = export(cid, source, &mut out)?;
	out.flush().map_err(ExportError::Write)?;
	Ok(written)
}

fn write_tree(
	root: &Cid,
	source: &impl BlockSource,
	path: &Path,
	limits: TreeLimits,
) -> Result<ExportedTree, ExportError> {
	let mut exported = ExportedTree::default();
	let entries = match parse_block(root, source.get(root)?)? {
		Node::File { .. } => {
			exported.bytes = write_file(root, source, path)?;
			exported.files = 1;
			return Ok(exported);
		}
		Node::Directory(entries) => entries,
	};
	fs::create_dir(path).map_err(ExportError::Write)?;
	// Directories still to write: their entries and where they go, with their depth.
	let mut todo = vec![(entries, path.to_path_buf(), 0usize)];
	let mut count = 0usize;
	while let Some((entries, dir, depth)) = todo.pop() {
		count += entries.len();
		if count > limits.max_entries {
			return Err(ExportError::TooManyEntries { limit: limits.max_entries });
		}
		for entry in entries {
			let target = dir.join(&entry.name);
			match parse_block(&entry.cid, source.get(&entry.cid)?)? {
				Node::File { .. } => {
					exported.bytes += write_file(&entry.cid, source, &target)?;
					exported.files += 1;
				}
				Node::Directory(children) => {
					if depth + 1 > limits.max_depth {
						let path = target.display().to_string();
						return Err(ExportError::TooDeep { path, limit: limits.max_depth });
					}
					fs::create_dir(&target).map_err(ExportError::Write)?;
					exported.directories += 1;
					todo.push((children, target, depth + 1));
				}
			}
		}
	}
	Ok(exported)
}

/// Resolves `path` (segments separated by `/`, empty segments ignored) from `root` through
/// verified directory blocks; returns the CIDs from the root to the target, root first.
pub fn resolve_path(
	root: &Cid,
	path: &str,
	source: &impl BlockSource,
) -> Result<Vec<Cid>, ExportError> {
	let mut cids = vec![*root];
	let mut walked = String::new();
	for segment in path.split('/').filter(|segment| !segment.is_empty()) {
		let current = *cids.last().expect("starts with the root");
		let Node::Directory(entries) = parse_block(&current, source.get(&current)?)? else {
			let path = if walked.is_empty() { "/".into() } else { walked };
			return Err(ExportError::NotADirectory { block: current.to_string(), path });
		};
		walked.push('/');
		walked.push_str(segment);
		let entry = entries
			.binary_search_by(|entry| entry.name.as_str().cmp(segment))
			.map(|index| &entries[index])
			.map_err(|_| ExportError::NoSuchEntry { path: walked.clone() })?;
		cids.push(entry.cid);
	}
	Ok(cids)
}
