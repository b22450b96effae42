//! Proofs that a pinner holds a UnixFS file: for a byte offset, the blocks on the path from
//! the file's root to the leaf holding that byte.
//!
//! Each block is named by the link in its parent, so a path whose blocks hash to those links
//! (sha2-256), starting from the registered root CID, can only be built from the file's own
//! blocks. The walk is chunker-agnostic: it follows UnixFS `blocksizes`, so any chunk size and
//! tree layout (Kubo's balanced DAG, trickle) is proved the same way.

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
}

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

/// Checks that `blocks` hold, for every offset in `offsets`, the path from `root` (a file of
/// `file_size` bytes) to the leaf holding that byte. Blocks may come in any order and are
/// shared between paths; each is hashed once with `sha256`.
pub fn verify(
	root: &Cid,
	file_size: u64,
	offsets: &[u64],
	blocks: &[&[u8]],
	sha256: impl Fn(&[u8]) -> [u8; 32],
) -> Result<(), ProofError> {
	let digests: Vec<[u8; 32]> = blocks.iter().map(|block| sha256(block)).collect();
	for &offset in offsets {
		let (mut cid, mut size, mut offset) = (*root, file_size, offset);
		let mut depth = 0;
		loop {
			supported(&cid)?;
			let index = digests
				.iter()
				.position(|digest| digest[..] == *cid.digest())
				.ok_or(ProofError::MissingBlock)?;
			match step(&cid, blocks[index], size, offset)? {
				Step::Leaf => break,
				Step::Child { cid: child, offset: child_offset, size: child_size } => {
					depth += 1;
					if depth > MAX_DEPTH {
						return Err(ProofError::TooDeep);
					}
					(cid, size, offset) = (child, child_size, child_offset);
				}
			}
		}
	}
	Ok(())
}

/// Builds the proof [`verify`] accepts: the distinct blocks on the paths from `root` to each
/// offset, read through `get` (which returns the block named by a CID, or `None`).
pub fn prove<E>(
	root: &Cid,
	file_size: u64,
	offsets: &[u64],
	mut get: impl FnMut(&Cid) -> Result<Vec<u8>, E>,
) -> Result<Vec<Vec<u8>>, ProveError<E>> {
	let mut names: Vec<Cid> = Vec::new();
	let mut blocks = Vec::new();
	for &offset in offsets {
		let (mut cid, mut size, mut offset) = (*root, file_size, offset);
		for depth in 0..=MAX_DEPTH {
			supported(&cid).map_err(ProveError::Proof)?;
			let index = match names.iter().position(|name| name.digest() == cid.digest()) {
				Some(index) => index,
				None => {
					blocks.push(get(&cid).map_err(ProveError::Fetch)?);
					names.push(cid);
					blocks.len() - 1
				}
			};
			match step(&cid, &blocks[index], size, offset).map_err(ProveError::Proof)? {
				Step::Leaf => break,
				Step::Child { .. } if depth == MAX_DEPTH => {
					return Err(ProveError::Proof(ProofError::TooDeep))
				}
				Step::Child { cid: child, offset: child_offset, size: child_size } => {
					(cid, size, offset) = (child, child_size, child_offset);
				}
			}
		}
	}
	Ok(blocks)
}

/// Why [`prove`] could not build a proof.
#[derive(Debug, PartialEq, Eq)]
pub enum ProveError<E> {
	/// Reading a block failed.
	Fetch(E),
	/// The blocks read do not form a valid path (the store holds something else).
	Proof(ProofError),
}
