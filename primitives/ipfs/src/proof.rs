//! Proofs that a pinner holds a UnixFS file or a model package (a UnixFS directory): for a
//! byte offset, the blocks on the path from the root to the leaf holding that byte.
//!
//! Each block is named by the link in its parent, so a path whose blocks hash to those links
//! (sha2-256), starting from the registered root CID, can only be built from the DAG's own
//! blocks. The walk is chunker-agnostic: it follows UnixFS `blocksizes`, so any chunk size and
//! tree layout (Kubo's balanced DAG, trickle) is proved the same way.
//!
//! ## Directories
//! A directory's offsets run over the bytes of its files, taken depth-first in link order
//! (entries sorted by name, as in the directory block): offset 0 is the first byte of the
//! first file, and the directory's size is the total of its files — the size the registry
//! records for a package. A directory block does not say how large its files are, so a proof
//! of a directory carries its *skeleton* too: every directory block and the root block of
//! every file, from which the verifier learns each file's size (a raw leaf's length, a file
//! node's `filesize`). Then each offset is proved inside its file exactly as for a single
//! file. A package of `n` files therefore costs `n` root blocks more per proof, which is small
//! for model packages (a handful of files) and bounded by [`MAX_PACKAGE_ENTRIES`].

use crate::{
	cid::{self, Cid},
	dag_pb,
};
use alloc::vec::Vec;

/// Deepest path walked: a balanced DAG of 174-link nodes over 256 KiB chunks is 5 levels
/// deep at 2^50 bytes; anything deeper is malformed or hostile.
pub const MAX_DEPTH: usize = 16;

/// Why a proof was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProofError {
	/// A CID on the path is not sha2-256, or its codec is neither dag-pb nor raw.
	UnsupportedCid,
	/// No block in the proof hashes to the link being followed: the path is forged, or the
	/// wrong leaf was sent.
	MissingBlock,
	/// A block on the path is not a UnixFS file node, or links to a malformed CID.
	Malformed,
	/// A block's sizes disagree with its parent's, or the root's with the file's size.
	SizeMismatch,
	/// The offset is not inside the file.
	OffsetOutOfRange,
	/// The path is longer than [`MAX_DEPTH`].
	TooDeep,
	/// The directory tree has more than [`MAX_PACKAGE_ENTRIES`] entries.
	TooManyEntries,
}

/// Most entries (files and directories, all levels together) a directory proof walks.
pub const MAX_PACKAGE_ENTRIES: usize = 1024;

/// Where one block sends the walk towards `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
	/// This block holds the byte at `offset`.
	Leaf,
	/// Continue at `cid`, whose subtree holds `size` bytes, at offset `offset` inside it.
	Child { cid: Cid, offset: u64, size: u64 },
}

/// Checks that `cid` is a sha2-256 CID of a dag-pb or raw block.
fn supported(cid: &Cid) -> Result<(), ProofError> {
	let codec_ok = cid.codec == cid::DAG_PB || cid.codec == cid::RAW;
	if codec_ok && cid.hash_code == cid::SHA2_256 && cid.digest().len() == 32 {
		Ok(())
	} else {
		Err(ProofError::UnsupportedCid)
	}
}

/// One step of the walk: `block` is the block named by `cid`, holding `size` file bytes.
pub fn step(cid: &Cid, block: &[u8], size: u64, offset: u64) -> Result<Step, ProofError> {
	if offset >= size {
		return Err(ProofError::OffsetOutOfRange);
	}
	if cid.codec == cid::RAW {
		return if block.len() as u64 == size {
			Ok(Step::Leaf)
		} else {
			Err(ProofError::SizeMismatch)
		};
	}
	let node = dag_pb::decode_file_node(block).map_err(|_| ProofError::Malformed)?;
	if node.file_size.is_some_and(|declared| declared != size) {
		return Err(ProofError::SizeMismatch);
	}
	if node.links.is_empty() {
		return if node.data.len() as u64 == size {
			Ok(Step::Leaf)
		} else {
			Err(ProofError::SizeMismatch)
		};
	}
	if node.block_sizes.len() != node.links.len() || !node.data.is_empty() {
		return Err(ProofError::Malformed);
	}
	let mut start = 0u64;
	for (link, &child_size) in node.links.iter().zip(&node.block_sizes) {
		let end = start.checked_add(child_size).ok_or(ProofError::SizeMismatch)?;
		if offset < end {
			let child = cid::from_binary(link).map_err(|_| ProofError::Malformed)?;
			return Ok(Step::Child { cid: child, offset: offset - start, size: child_size });
		}
		start = end;
	}
	// The children cover fewer bytes than the node declares.
	Err(ProofError::SizeMismatch)
}

/// Where a walk reads blocks: the proof's blocks ([`verify`]) or a store ([`prove`]).
trait Blocks {
	type Error: From<ProofError>;
	/// The block `cid` names.
	fn block(&mut self, cid: &Cid) -> Result<&[u8], Self::Error>;
}

/// A file of the DAG being proved: its root CID, its size, and where it starts in the
/// package's byte range.
#[derive(Clone, Copy)]
struct FileSpan {
	cid: Cid,
	size: u64,
	start: u64,
}

/// File bytes under a file node: its `filesize`, else its data (a leaf) or its blocksizes.
fn file_node_size(node: &dag_pb::FileNode<'_>) -> Result<u64, ProofError> {
	if let Some(size) = node.file_size {
		return Ok(size);
	}
	if node.links.is_empty() {
		return Ok(node.data.len() as u64);
	}
	node.block_sizes
		.iter()
		.try_fold(0u64, |sum, &size| sum.checked_add(size))
		.ok_or(ProofError::SizeMismatch)
}

/// The files under `root` in package order (depth-first, link order), with their sizes read
/// from their root blocks. A file root is its own one-file package.
fn files<B: Blocks>(root: &Cid, blocks: &mut B) -> Result<Vec<FileSpan>, B::Error> {
	let mut files = Vec::new();
	let mut start = 0u64;
	// Directories still being listed: their entries' CIDs and the next one to visit.
	let mut stack: Vec<(Vec<Cid>, usize)> = Vec::new();
	let mut next = Some(*root);
	let mut entries = 0usize;
	loop {
		if let Some(cid) = next.take() {
			supported(&cid)?;
			let block = blocks.block(&cid)?;
			let size = if cid.codec == cid::RAW {
				Some(block.len() as u64)
			} else {
				let node = dag_pb::decode_node(block).map_err(|_| ProofError::Malformed)?;
				match node.kind {
					dag_pb::NodeKind::File => {
						let file =
							dag_pb::decode_file_node(block).map_err(|_| ProofError::Malformed)?;
						Some(file_node_size(&file)?)
					}
					dag_pb::NodeKind::Directory => {
						let listed =
							dag_pb::decode_directory(block).map_err(|_| ProofError::Malformed)?;
						entries = entries.saturating_add(listed.len());
						if entries > MAX_PACKAGE_ENTRIES {
							return Err(ProofError::TooManyEntries.into());
						}
						if stack.len() >= MAX_DEPTH {
							return Err(ProofError::TooDeep.into());
						}
						let cids = listed
							.iter()
							.map(|entry| cid::from_binary(entry.cid))
							.collect::<Result<Vec<_>, _>>()
							.map_err(|_| ProofError::Malformed)?;
						stack.push((cids, 0));
						None
					}
				}
			};
			if let Some(size) = size {
				files.push(FileSpan { cid, size, start });
				start = start.checked_add(size).ok_or(ProofError::SizeMismatch)?;
			}
		}
		let Some((cids, index)) = stack.last_mut() else { return Ok(files) };
		match cids.get(*index) {
			Some(cid) => {
				next = Some(*cid);
				*index += 1;
			}
			None => {
				stack.pop();
			}
		}
	}
}

/// Walks from `file`'s root to the leaf holding `offset` (inside the file).
fn walk_file<B: Blocks>(file: &FileSpan, offset: u64, blocks: &mut B) -> Result<(), B::Error> {
	let (mut cid, mut size, mut offset) = (file.cid, file.size, offset);
	for depth in 0..=MAX_DEPTH {
		supported(&cid)?;
		match step(&cid, blocks.block(&cid)?, size, offset)? {
			Step::Leaf => return Ok(()),
			Step::Child { .. } if depth == MAX_DEPTH => break,
			Step::Child { cid: child, offset: child_offset, size: child_size } => {
				(cid, size, offset) = (child, child_size, child_offset);
			}
		}
	}
	Err(ProofError::TooDeep.into())
}

/// The whole check, on any block source: the package's files add up to `size`, and every
/// offset's path is there.
fn walk<B: Blocks>(root: &Cid, size: u64, offsets: &[u64], blocks: &mut B) -> Result<(), B::Error> {
	let files = files(root, blocks)?;
	let total = files.last().map_or(0, |file| file.start + file.size);
	if total != size {
		return Err(ProofError::SizeMismatch.into());
	}
	for &offset in offsets {
		// The file holding the byte; empty files hold none.
		let index = files.partition_point(|file| file.start + file.size <= offset);
		let file = files.get(index).ok_or(ProofError::OffsetOutOfRange)?;
		walk_file(file, offset - file.start, blocks)?;
	}
	Ok(())
}

/// The proof's blocks, found by their sha2-256.
struct ProofBlocks<'a> {
	blocks: &'a [&'a [u8]],
	digests: Vec<[u8; 32]>,
}

impl Blocks for ProofBlocks<'_> {
	type Error = ProofError;

	fn block(&mut self, cid: &Cid) -> Result<&[u8], ProofError> {
		let index = self
			.digests
			.iter()
			.position(|digest| digest[..] == *cid.digest())
			.ok_or(ProofError::MissingBlock)?;
		Ok(self.blocks[index])
	}
}

/// Checks that `blocks` prove, for every offset in `offsets`, that their sender holds the
/// byte at that offset of the file or package `root`, whose size is `size` (for a directory,
/// the total of its files). Blocks may come in any order and are shared between paths; each
/// is hashed once with `sha256`.
pub fn verify(
	root: &Cid,
	size: u64,
	offsets: &[u64],
	blocks: &[&[u8]],
	sha256: impl Fn(&[u8]) -> [u8; 32],
) -> Result<(), ProofError> {
	// Refused before any block is hashed.
	supported(root)?;
	let digests = blocks.iter().map(|block| sha256(block)).collect();
	walk(root, size, offsets, &mut ProofBlocks { blocks, digests })
}

/// Blocks read through a caller's function, each once, kept as the proof.
struct Fetched<F> {
	get: F,
	names: Vec<Cid>,
	blocks: Vec<Vec<u8>>,
}

impl<E, F: FnMut(&Cid) -> Result<Vec<u8>, E>> Blocks for Fetched<F> {
	type Error = ProveError<E>;

	fn block(&mut self, cid: &Cid) -> Result<&[u8], ProveError<E>> {
		let index = match self.names.iter().position(|name| name.digest() == cid.digest()) {
			Some(index) => index,
			None => {
				self.blocks.push((self.get)(cid).map_err(ProveError::Fetch)?);
				self.names.push(*cid);
				self.blocks.len() - 1
			}
		};
		Ok(&self.blocks[index])
	}
}

/// Builds the proof [`verify`] accepts: the distinct blocks of the skeleton (for a directory)
/// and of the paths from the root to each offset, read through `get` (which returns the
/// block a CID names).
pub fn prove<E>(
	root: &Cid,
	size: u64,
	offsets: &[u64],
	get: impl FnMut(&Cid) -> Result<Vec<u8>, E>,
) -> Result<Vec<Vec<u8>>, ProveError<E>> {
	let mut fetched = Fetched { get, names: Vec::new(), blocks: Vec::new() };
	walk(root, size, offsets, &mut fetched)?;
	Ok(fetched.blocks)
}

/// The total size of the files under `root` (the size a pin of it must report), read
/// through `get`: one block per file and directory, never a file's leaves.
pub fn package_size<E>(
	root: &Cid,
	get: impl FnMut(&Cid) -> Result<Vec<u8>, E>,
) -> Result<u64, ProveError<E>> {
	let mut fetched = Fetched { get, names: Vec::new(), blocks: Vec::new() };
	let files = files(root, &mut fetched)?;
	Ok(files.last().map_or(0, |file| file.start + file.size))
}

/// Why [`prove`] could not build a proof.
#[derive(Debug, PartialEq, Eq)]
pub enum ProveError<E> {
	/// Reading a block failed.
	Fetch(E),
	/// The blocks read do not form a valid path (the store holds something else).
	Proof(ProofError),
}

impl<E> From<ProofError> for ProveError<E> {
	fn from(error: ProofError) -> Self {
		Self::Proof(error)
	}
}
