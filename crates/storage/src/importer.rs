//! Streaming UnixFS file importer with Kubo's `ipfs add` layout.
//!
//! Fixed-size chunks (256 KiB by default) become leaves; leaves are grouped, in order, under
//! parents of at most 174 links, and parents under parents, until one root is left (Kubo's
//! "balanced" layout). A file of one chunk is that chunk's leaf. Two CID modes:
//! - [`CidMode::V0`], `ipfs add` defaults: dag-pb leaves holding UnixFS file data, CIDv0;
//! - [`CidMode::V1RawLeaves`], `--cid-version 1 --raw-leaves`: raw leaves, CIDv1 dag-pb parents.
//!
//! Only one chunk and at most `max_links` pending links per tree level are held at a time,
//! so memory stays flat whatever the file size. Every block goes to a [`BlockSink`].

use crate::dag_pb::{self, Link};
use cid::Cid;
use citrate_ipfs_primitives::cid::{DAG_PB, RAW, SHA2_256};
use multihash::Multihash;
use sha2::{Digest, Sha256};
use std::io::{self, Read};

/// Which of `ipfs add`'s two CID settings to reproduce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CidMode {
	/// `ipfs add` defaults: CIDv0, dag-pb leaves.
	V0,
	/// `ipfs add --cid-version 1 --raw-leaves`.
	V1RawLeaves,
}

/// How to cut and link a file.
#[derive(Clone, Copy, Debug)]
pub struct ImportOptions {
	pub mode: CidMode,
	/// Bytes per leaf; Kubo's default is 262144.
	pub chunk_size: usize,
	/// Most links per parent; Kubo's default is 174.
	pub max_links: usize,
}

impl Default for ImportOptions {
	fn default() -> Self {
		Self { mode: CidMode::V0, chunk_size: 256 * 1024, max_links: 174 }
	}
}

/// Receives every block of an import, leaves first and the root last.
pub trait BlockSink {
	fn put(&mut self, cid: &Cid, block: &[u8]) -> io::Result<()>;

	/// A block given as consecutive parts (a dag-pb leaf: header, file data, trailer), so
	/// sinks that copy anyway need not have it joined first.
	fn put_parts(&mut self, cid: &Cid, parts: &[&[u8]]) -> io::Result<()> {
		self.put(cid, &parts.concat())
	}

	/// Told, after each leaf, how many bytes of file data it carries (for progress reports:
	/// they add up to the files' bytes).
	fn file_data(&mut self, _bytes: u64) {}
}

/// Counts blocks and drops them: for computing a CID only (`ipfs add --only-hash`).
impl BlockSink for () {
	fn put(&mut self, _: &Cid, _: &[u8]) -> io::Result<()> {
		Ok(())
	}

	fn put_parts(&mut self, _: &Cid, _: &[&[u8]]) -> io::Result<()> {
		Ok(())
	}
}

/// Passes every block on to `sink` and tells `seen` the file bytes of each leaf: for progress
/// reports of a long import.
pub struct Observed<S, F> {
	pub sink: S,
	pub seen: F,
}

impl<S: BlockSink, F: FnMut(u64)> BlockSink for Observed<S, F> {
	fn put(&mut self, cid: &Cid, block: &[u8]) -> io::Result<()> {
		self.sink.put(cid, block)
	}

	fn put_parts(&mut self, cid: &Cid, parts: &[&[u8]]) -> io::Result<()> {
		self.sink.put_parts(cid, parts)
	}

	fn file_data(&mut self, bytes: u64) {
		self.sink.file_data(bytes);
		(self.seen)(bytes)
	}
}

impl<S: BlockSink + ?Sized> BlockSink for &mut S {
	fn put(&mut self, cid: &Cid, block: &[u8]) -> io::Result<()> {
		(**self).put(cid, block)
	}

	fn put_parts(&mut self, cid: &Cid, parts: &[&[u8]]) -> io::Result<()> {
		(**self).put_parts(cid, parts)
	}

	fn file_data(&mut self, bytes: u64) {
		(**self).file_data(bytes)
	}
}

/// Keeps every block in memory: for tests and small files.
impl BlockSink for std::collections::HashMap<Cid, Vec<u8>> {
	fn put(&mut self, cid: &Cid, block: &[u8]) -> io::Result<()> {
		self.insert(*cid, block.to_vec());
		Ok(())
	}
}

/// The result of an import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Imported {
	pub root: Cid,
	/// File bytes read.
	pub file_size: u64,
	/// Bytes of every block in the DAG (Kubo's `CumulativeSize`).
	pub dag_size: u64,
	pub blocks: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
	#[error("reading the input failed: {0}")]
	Read(io::Error),
	#[error("storing a block failed: {0}")]
	Store(io::Error),
	#[error("chunk size and links per node must both be at least 1 (and 2 links)")]
	BadOptions,
}

/// Imports everything `input` yields, writing blocks to `sink`.
pub fn import(
	input: impl Read,
	options: ImportOptions,
	sink: &mut impl BlockSink,
) -> Result<Imported, ImportError> {
	if options.chunk_size == 0 || options.max_links < 2 {
		return Err(ImportError::BadOptions);
	}
	let mut builder = Builder { options, sink, levels: Vec::new(), blocks: 0 };
	let mut input = input;
	let mut chunk = vec![0u8; options.chunk_size];
	let mut chunks = 0u64;
	loop {
		let filled = read_full(&mut input, &mut chunk).map_err(ImportError::Read)?;
		// An empty file is one empty chunk, as in Kubo.
		if filled == 0 && chunks > 0 {
			break;
		}
		let leaf = builder.leaf(&chunk[..filled])?;
		builder.push(0, leaf)?;
		chunks += 1;
		if filled < chunk.len() {
			break;
		}
	}
	let (root, link) = builder.finish()?;
	Ok(Imported { root, file_size: link.file_size, dag_size: link.tsize, blocks: builder.blocks })
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
	let mut filled = 0;
	while filled < buf.len() {
		match input.read(&mut buf[filled..]) {
			Ok(0) => break,
			Ok(n) => filled += n,
			Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
			Err(e) => return Err(e),
		}
	}
	Ok(filled)
}

struct Builder<'a, S> {
	options: ImportOptions,
	sink: &'a mut S,
	/// Links waiting for a parent, per level (0 = leaves), each with its CID.
	levels: Vec<Vec<(Cid, Link)>>,
	blocks: u64,
}

impl<S: BlockSink> Builder<'_, S> {
	/// Hashes and stores the block made of `parts`, in order.
	fn store(&mut self, codec: u64, parts: &[&[u8]]) -> Result<Cid, ImportError> {
		let mut hasher = Sha256::new();
		parts.iter().for_each(|part| hasher.update(part));
		let hash =
			Multihash::<64>::wrap(SHA2_256, &hasher.finalize()).expect("32-byte digest fits");
		let cid = match self.options.mode {
			CidMode::V0 => Cid::new_v0(hash).expect("sha2-256 dag-pb is a valid CIDv0"),
			CidMode::V1RawLeaves => Cid::new_v1(codec, hash),
		};
		match parts {
			[block] => self.sink.put(&cid, block),
			_ => self.sink.put_parts(&cid, parts),
		}
		.map_err(ImportError::Store)?;
		self.blocks += 1;
		Ok(cid)
	}

	fn leaf(&mut self, data: &[u8]) -> Result<(Cid, Link), ImportError> {
		let (cid, tsize) = match self.options.mode {
			CidMode::V1RawLeaves => (self.store(RAW, &[data])?, data.len() as u64),
			CidMode::V0 => {
				// The data is hashed and handed on in place, between its small header and
				// trailer, never copied into a leaf buffer.
				let (prefix, suffix) = dag_pb::file_leaf_parts(data.len());
				let size = (prefix.len() + data.len() + suffix.len()) as u64;
				(self.store(DAG_PB, &[&prefix, data, &suffix])?, size)
			}
		};
		self.sink.file_data(data.len() as u64);
		let link = Link { cid: cid.to_bytes(), tsize, file_size: data.len() as u64 };
		Ok((cid, link))
	}

	/// Adds a node at `level`, making a parent one level up whenever `max_links` wait.
	fn push(&mut self, level: usize, node: (Cid, Link)) -> Result<(), ImportError> {
		if self.levels.len() <= level {
			self.levels.push(Vec::with_capacity(self.options.max_links));
		}
		self.levels[level].push(node);
		if self.levels[level].len() == self.options.max_links {
			let parent = self.parent(level)?;
			self.push(level + 1, parent)?;
		}
		Ok(())
	}

	/// Replaces the links waiting at `level` by their parent.
	fn parent(&mut self, level: usize) -> Result<(Cid, Link), ImportError> {
		let children = std::mem::take(&mut self.levels[level]);
		let links: Vec<Link> = children.into_iter().map(|(_, link)| link).collect();
		let file_size = links.iter().map(|l| l.file_size).sum();
		let data = dag_pb::unixfs_file(b"", file_size, links.iter().map(|l| l.file_size));
		let block = dag_pb::node(&links, &data);
		let cid = self.store(DAG_PB, &[&block])?;
		let tsize = block.len() as u64 + links.iter().map(|l| l.tsize).sum::<u64>();
		Ok((cid, Link { cid: cid.to_bytes(), tsize, file_size }))
	}

	/// Links what is left, bottom up: a level's last lone node with nothing above it is the
	/// root; anything else gets a parent one level up.
	fn finish(&mut self) -> Result<(Cid, Link), ImportError> {
		let mut level = 0;
		loop {
			let above = self.levels[level + 1..].iter().any(|l| !l.is_empty());
			let pending = self.levels[level].len();
			if !above && pending == 1 {
				return Ok(self.levels[level].pop().expect("one node is pending"));
			}
			if pending > 0 {
				let parent = self.parent(level)?;
				self.push(level + 1, parent)?;
			}
			level += 1;
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	/// Keeps every block it is given.
	#[derive(Default)]
	struct Blocks(Vec<(Cid, Vec<u8>)>);

	impl BlockSink for Blocks {
		fn put(&mut self, cid: &Cid, block: &[u8]) -> io::Result<()> {
			self.0.push((*cid, block.to_vec()));
			Ok(())
		}
	}

	fn import_bytes(len: usize, mode: CidMode) -> (Imported, Blocks) {
		let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
		let options = ImportOptions { mode, chunk_size: 10, max_links: 3 };
		let mut blocks = Blocks::default();
		(import(&data[..], options, &mut blocks).unwrap(), blocks)
	}

	#[test]
	fn every_block_hashes_to_its_cid_and_the_root_comes_last() {
		for mode in [CidMode::V0, CidMode::V1RawLeaves] {
			// 10 leaves of 10 bytes, 3 links per parent: 4 + 2 + 1 parents.
			let (imported, blocks) = import_bytes(95, mode);
			assert_eq!(imported.file_size, 95);
			assert_eq!(imported.blocks, 10 + 4 + 2 + 1);
			assert_eq!(blocks.0.len() as u64, imported.blocks);
			assert_eq!(blocks.0.last().unwrap().0, imported.root);
			for (cid, block) in &blocks.0 {
				assert_eq!(cid.hash().digest(), Sha256::digest(block).as_slice());
			}
			let total: u64 = blocks.0.iter().map(|(_, b)| b.len() as u64).sum();
			assert_eq!(imported.dag_size, total, "Tsize of the root covers every block");
		}
	}

	#[test]
	fn an_observed_import_counts_every_file_byte_once_and_keeps_the_blocks() {
		for mode in [CidMode::V0, CidMode::V1RawLeaves] {
			let data = vec![7u8; 1000];
			let options = ImportOptions { mode, chunk_size: 64, max_links: 3 };
			let mut seen = vec![];
			let mut observed = Observed { sink: Blocks::default(), seen: |n| seen.push(n) };
			let imported = import(&data[..], options, &mut observed).unwrap();
			assert_eq!(observed.sink.0.len() as u64, imported.blocks);
			assert_eq!(observed.sink.0.last().unwrap().0, imported.root);
			// 15 full chunks and the 40 bytes left.
			let mut expected = vec![64; 15];
			expected.push(40);
			assert_eq!(seen, expected, "{mode:?}");
		}
	}

	#[test]
	fn a_single_chunk_is_its_own_root() {
		let (imported, blocks) = import_bytes(10, CidMode::V1RawLeaves);
		assert_eq!(imported.root.codec(), RAW);
		assert_eq!(blocks.0.len(), 1);
		let (imported, _) = import_bytes(11, CidMode::V1RawLeaves);
		assert_eq!(imported.root.codec(), DAG_PB);
	}

	#[test]
	fn bad_options_and_failing_input_are_errors() {
		let options = ImportOptions { chunk_size: 0, ..Default::default() };
		assert!(matches!(import(&b"x"[..], options, &mut ()), Err(ImportError::BadOptions)));

		struct Failing;
		impl Read for Failing {
			fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
				Err(io::Error::other("disk gone"))
			}
		}
		let error = import(Failing, ImportOptions::default(), &mut ()).unwrap_err();
		assert_eq!(error.to_string(), "reading the input failed: disk gone");
	}
}
