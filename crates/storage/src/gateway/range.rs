//! `Range: bytes=…` on a file's bytes (RFC 9110 §14), streamed from only the blocks that hold
//! the range.

use crate::{
	block::BlockSource,
	dag_pb,
	unixfs::{parse_block, ExportError, Node},
};
use cid::Cid;
use citrate_ipfs_primitives::cid::DAG_PB;
use std::io::Write;

/// What a request's `Range` asks of a file `total` bytes long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Requested {
	/// The whole file: no `Range`, one this gateway ignores, or a stale `If-Range`.
	Whole,
	/// Bytes `start..end`: never empty, within the file.
	Part { start: u64, end: u64 },
	/// No byte of the file is selected (416).
	Unsatisfiable,
}

/// Reads `range` (the `Range` header) against a file of `total` bytes. Anything but a single
/// well-formed `bytes` range is ignored, as RFC 9110 allows: several ranges get the whole file
/// (a `multipart/byteranges` body is not worth its cost to the clients of a model store, which
/// resume downloads with one open range), and so do other units and malformed values. A file
/// of zero bytes has no byte to select, so every range of it is unsatisfiable.
pub(super) fn requested(range: Option<&str>, total: u64) -> Requested {
	let Some((unit, set)) = range.and_then(|range| range.split_once('=')) else {
		return Requested::Whole;
	};
	if !unit.trim().eq_ignore_ascii_case("bytes") || set.contains(',') {
		return Requested::Whole;
	}
	let Some((first, last)) = set.trim().split_once('-') else {
		return Requested::Whole;
	};
	// Positions past u64 saturate: they still mean "beyond the end".
	let position = |text: &str| {
		let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
		digits.then(|| text.parse().unwrap_or(u64::MAX))
	};
	if first.is_empty() {
		// `bytes=-n`: the last n bytes.
		return match position(last) {
			None => Requested::Whole,
			Some(0) => Requested::Unsatisfiable,
			Some(_) if total == 0 => Requested::Unsatisfiable,
			Some(suffix) => Requested::Part { start: total - suffix.min(total), end: total },
		};
	}
	let (Some(start), Some(last)) =
		(position(first), if last.is_empty() { Some(u64::MAX) } else { position(last) })
	else {
		return Requested::Whole;
	};
	if last < start {
		// An invalid range (RFC 9110 §14.1.1): ignored.
		Requested::Whole
	} else if start >= total {
		Requested::Unsatisfiable
	} else {
		Requested::Part { start, end: last.saturating_add(1).min(total) }
	}
}

/// Writes bytes `start..end` of the file under `root` to `out`, reading only the blocks on the
/// way to them: a child wholly before `start` is skipped by its parent's UnixFS `blocksizes`,
/// and the walk stops at `end`. Every block read is verified. Sizes are relied on only where
/// they add up (a node's own bytes plus its `blocksizes` make its `filesize`), and a child
/// read must hold what its parent says it does, so a DAG whose sizes lie ends the write with
/// an error instead of sending bytes from the wrong offset.
pub(super) fn export_range(
	root: &Cid,
	(start, end): (u64, u64),
	source: &impl BlockSource,
	out: &mut impl Write,
) -> Result<(), String> {
	// File offset of the next byte the walk reaches.
	let mut position = 0u64;
	// Depth-first, in link order: child lists still to visit, with the sizes declared for them.
	let mut stack: Vec<std::vec::IntoIter<(Cid, Option<u64>)>> =
		vec![vec![(*root, None)].into_iter()];
	while let Some(next) = stack.last_mut().map(Iterator::next) {
		if position >= end {
			return Ok(());
		}
		let Some((cid, declared)) = next else {
			stack.pop();
			continue;
		};
		if let Some(size) = declared.filter(|size| position.saturating_add(*size) <= start) {
			position += size;
			continue;
		}
		let block = source.get(&cid).map_err(|e| e.to_string())?;
		let sizes = block_sizes(&cid, &block);
		let (links, data, size) = match parse_block(&cid, block).map_err(|e| e.to_string())? {
			Node::File { links, data, size } => (links, data, size),
			Node::Directory(_) if cid == *root => {
				return Err(ExportError::IsDirectory { cid }.to_string())
			}
			Node::Directory(_) => return Err(ExportError::DirectoryInFile { cid }.to_string()),
		};
		if let Some(declared) = declared.filter(|declared| *declared != size) {
			return Err(format!(
				"block {cid} holds {size} bytes of the file, but its parent says {declared}"
			));
		}
		let own = data.len() as u64;
		if position.saturating_add(own) > start {
			let from = start.saturating_sub(position) as usize;
			let to = (end - position).min(own) as usize;
			out.write_all(&data[from..to]).map_err(|e| e.to_string())?;
		}
		position = position.saturating_add(own);
		let consistent = sizes.len() == links.len()
			&& sizes.iter().try_fold(own, |sum, size| sum.checked_add(*size)) == Some(size);
		let children: Vec<_> = if consistent {
			links.into_iter().zip(sizes.into_iter().map(Some)).collect()
		} else {
			links.into_iter().map(|link| (link, None)).collect()
		};
		if !children.is_empty() {
			stack.push(children.into_iter());
		}
	}
	if position < end {
		return Err(format!("the file under {root} ends at byte {position}, before {end}"));
	}
	Ok(())
}

/// A dag-pb node's UnixFS `blocksizes` (none for a raw leaf, or a block `parse_block` refuses).
fn block_sizes(cid: &Cid, block: &[u8]) -> Vec<u64> {
	if cid.codec() != DAG_PB {
		return Vec::new();
	}
	dag_pb::decode_node(block).map(|node| node.block_sizes).unwrap_or_default()
}
