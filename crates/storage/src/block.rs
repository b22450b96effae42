//! The bottom layer everything else builds on: blocks named by CIDs, the rule that a block
//! matches its CID (sha2-256, the only hash this store verifies), and [`BlockSource`], the
//! one trait the exporter, CAR writer, gateway and fetchers read blocks through.

use cid::Cid;
use citrate_ipfs_primitives::cid::SHA2_256;
use multihash::Multihash;
use sha2::{Digest, Sha256};
use std::io;

/// The largest block fetched from another node: 2 MiB, the limit Kubo and bitswap keep to
/// (Kubo's largest chunk is 1 MiB). A response claiming more is refused before it is read.
pub const MAX_BLOCK_LEN: usize = 2 * 1024 * 1024;

/// Why a block could not be served.
#[derive(Debug, thiserror::Error)]
pub enum BlockError {
	#[error("block {0} is not in the store")]
	NotFound(Cid),
	#[error("block {0} on disk does not match its CID (corrupted); it was not returned")]
	Corrupted(Cid),
	#[error("block {0} uses a hash other than sha2-256, which this store cannot verify")]
	UnsupportedHash(Cid),
	#[error("block store I/O on {cid}: {source}")]
	Io { cid: Cid, source: io::Error },
	#[error("block store I/O: {0}")]
	Dir(io::Error),
}

/// Whether `block` hashes to the digest in `cid`.
pub fn verify(cid: &Cid, block: &[u8]) -> Result<(), BlockError> {
	if cid.hash().code() != SHA2_256 {
		return Err(BlockError::UnsupportedHash(*cid));
	}
	let expected = Multihash::<64>::wrap(SHA2_256, &Sha256::digest(block)).expect("fits");
	if cid.hash() == &expected {
		Ok(())
	} else {
		Err(BlockError::Corrupted(*cid))
	}
}

/// Anything that returns verified blocks by CID: the local store, a store with an upstream,
/// blocks in memory.
pub trait BlockSource {
	/// The block `cid` names; implementations return only blocks that match their CID.
	fn get(&self, cid: &Cid) -> Result<Vec<u8>, BlockError>;
}

impl<S: BlockSource + ?Sized> BlockSource for &S {
	fn get(&self, cid: &Cid) -> Result<Vec<u8>, BlockError> {
		(**self).get(cid)
	}
}

impl<S: BlockSource + ?Sized> BlockSource for std::sync::Arc<S> {
	fn get(&self, cid: &Cid) -> Result<Vec<u8>, BlockError> {
		(**self).get(cid)
	}
}

/// Blocks in memory (what the importer's `HashMap` sink collects), verified on read like any
/// other source. Lookups go by multihash, so a CIDv0 finds the block stored under its CIDv1.
impl BlockSource for std::collections::HashMap<Cid, Vec<u8>> {
	fn get(&self, cid: &Cid) -> Result<Vec<u8>, BlockError> {
		let block = self
			.get(cid)
			.or_else(|| self.iter().find(|(key, _)| key.hash() == cid.hash()).map(|(_, b)| b))
			.ok_or(BlockError::NotFound(*cid))?;
		verify(cid, block)?;
		Ok(block.clone())
	}
}
