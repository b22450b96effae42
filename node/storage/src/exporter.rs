//! Streams a UnixFS file back out of a block store, verifying every block against its CID
//! before any of its bytes are written. Memory holds one path from the root to a leaf.

use crate::{dag_pb, store::StoreError};
use cid::Cid;
use std::io::{self, Write};

const DAG_PB: u64 = 0x70;
const RAW: u64 = 0x55;

/// Anything that returns verified blocks by CID.
pub trait BlockSource {
	fn get(&self, cid: &Cid) -> Result<Vec<u8>, StoreError>;
}

impl BlockSource for crate::store::FsBlockStore {
	fn get(&self, cid: &Cid) -> Result<Vec<u8>, StoreError> {
		crate::store::FsBlockStore::get(self, cid)
	}
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
	#[error(transparent)]
	Block(#[from] StoreError),
	#[error("block {cid}: {source}")]
	Decode { cid: Cid, source: dag_pb::DecodeError },
	#[error("block {cid} has codec {codec:#x}; only raw and dag-pb UnixFS files are exported")]
	UnsupportedCodec { cid: Cid, codec: u64 },
	#[error("block {cid} links to a malformed CID")]
	BadLink { cid: Cid },
	#[error("writing the output failed: {0}")]
	Write(io::Error),
}

/// A block's links, in order, and the file bytes it carries itself.
pub fn parse_block(cid: &Cid, block: Vec<u8>) -> Result<(Vec<Cid>, Vec<u8>), ExportError> {
	match cid.codec() {
		RAW => Ok((Vec::new(), block)),
		DAG_PB => {
			let node = dag_pb::decode_file_node(&block)
				.map_err(|source| ExportError::Decode { cid: *cid, source })?;
			let links = node
				.links
				.iter()
				.map(|bytes| Cid::try_from(*bytes))
				.collect::<Result<Vec<_>, _>>()
				.map_err(|_| ExportError::BadLink { cid: *cid })?;
			Ok((links, node.data.to_vec()))
		}
		codec => Err(ExportError::UnsupportedCodec { cid: *cid, codec }),
	}
}

/// Writes the file under `root` to `out`; returns the bytes written.
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
		let (links, data) = parse_block(&cid, source.get(&cid)?)?;
		out.write_all(&data).map_err(ExportError::Write)?;
		written += data.len() as u64;
		if !links.is_empty() {
			stack.push(links.into_iter());
		}
	}
	Ok(written)
}
