//! CARv1 export and import (the format of Kubo's `ipfs dag export` / `dag import`).
//!
//! A CAR is a varint-prefixed dag-cbor header `{roots: [CID], version: 1}` followed by
//! varint-prefixed `(CID bytes ‖ block)` sections. Export writes the root first and the
//! rest depth-first, as Kubo does. Import verifies every block against its CID before
//! storing it, and pins the roots only once every block arrived intact.

use crate::{
	block::{verify, BlockError, BlockSource},
	dag_pb::{self, put_varint},
	store::FsBlockStore,
	unixfs::{parse_block, ExportError},
};
use cid::Cid;
use citrate_ipfs_primitives::cid::DAG_PB;
use std::io::{self, Read, Write};

/// Largest header or block section accepted on import, so a hostile CAR cannot make the
/// node allocate without bound (Kubo's own blocks are at most 2 MiB).
pub const MAX_SECTION: u64 = 8 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum CarError {
	#[error(transparent)]
	Export(#[from] ExportError),
	#[error(transparent)]
	Block(#[from] BlockError),
	#[error("CAR I/O: {0}")]
	Io(#[from] io::Error),
	#[error("malformed CAR: {0}")]
	Malformed(&'static str),
}

/// The dag-cbor header naming `roots`.
fn header(roots: &[Cid]) -> Vec<u8> {
	let mut out = vec![0xa2, 0x65];
	out.extend_from_slice(b"roots");
	cbor_head(&mut out, 4, roots.len() as u64);
	for root in roots {
		let bytes = root.to_bytes();
		out.extend_from_slice(&[0xd8, 42]);
		// A CID in dag-cbor is tag 42 over its bytes with a leading 0x00 (identity multibase).
		cbor_head(&mut out, 2, bytes.len() as u64 + 1);
		out.push(0);
		out.extend_from_slice(&bytes);
	}
	out.push(0x67);
	out.extend_from_slice(b"version");
	out.push(0x01);
	out
}

/// A CBOR item head: major type and length, in the shortest form (as dag-cbor requires).
fn cbor_head(out: &mut Vec<u8>, major: u8, len: u64) {
	let major = major << 5;
	match len {
		0..=23 => out.push(major | len as u8),
		24..=0xff => out.extend_from_slice(&[major | 24, len as u8]),
		0x100..=0xffff => {
			out.push(major | 25);
			out.extend_from_slice(&(len as u16).to_be_bytes());
		}
		_ => {
			out.push(major | 27);
			out.extend_from_slice(&len.to_be_bytes());
		}
	}
}

fn section(out: &mut impl Write, parts: &[&[u8]]) -> io::Result<()> {
	let mut prefix = Vec::with_capacity(10);
	put_varint(&mut prefix, parts.iter().map(|p| p.len() as u64).sum());
	out.write_all(&prefix)?;
	parts.iter().try_for_each(|part| out.write_all(part))
}

/// Writes the blocks it is given as a CARv1 whose header names `root`, known beforehand (a
/// CID computed with `--only-hash`): so [`import_tree`](crate::import_tree) can stream a
/// directory straight into a CAR for `ipfs dag import`, the root block last.
pub struct CarWriter<W: Write> {
	out: W,
	blocks: u64,
}

impl<W: Write> CarWriter<W> {
	pub fn new(mut out: W, root: &Cid) -> io::Result<Self> {
		section(&mut out, &[&header(&[*root])])?;
		Ok(Self { out, blocks: 0 })
	}

	/// The blocks written so far.
	pub fn blocks(&self) -> u64 {
		self.blocks
	}

	/// Flushes and gives back the writer.
	pub fn finish(mut self) -> io::Result<W> {
		self.out.flush()?;
		Ok(self.out)
	}
}

impl<W: Write> crate::BlockSink for CarWriter<W> {
	fn put(&mut self, cid: &Cid, block: &[u8]) -> io::Result<()> {
		self.put_parts(cid, &[block])
	}

	fn put_parts(&mut self, cid: &Cid, parts: &[&[u8]]) -> io::Result<()> {
		let cid = cid.to_bytes();
		let mut all = Vec::with_capacity(parts.len() + 1);
		all.push(cid.as_slice());
		all.extend_from_slice(parts);
		section(&mut self.out, &all)?;
		self.blocks += 1;
		Ok(())
	}
}

/// How much of the requested DAG a CAR carries (the trustless gateway's `dag-scope`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DagScope {
	/// Every block under the target.
	All,
	/// The target's own content: a whole file, or a directory's block without its entries.
	Entity,
	/// The target's block only.
	Block,
}

/// Writes the DAG under `root` as a CARv1; returns the number of blocks written.
pub fn export_car(
	root: &Cid,
	source: &impl BlockSource,
	out: &mut impl Write,
) -> Result<u64, CarError> {
	export_car_path(&[*root], DagScope::All, source, out)
}

/// Writes a CARv1 for a path inside a DAG: `path` holds the CIDs from the root (the CAR's
/// root) to the target, whose blocks come first so a client can verify the path, then the
/// target's DAG as far as `scope` says, depth-first in link order as Kubo writes it. Returns
/// the number of blocks written.
pub fn export_car_path(
	path: &[Cid],
	scope: DagScope,
	source: &impl BlockSource,
	out: &mut impl Write,
) -> Result<u64, CarError> {
	let (root, target) = match (path.first(), path.last()) {
		(Some(root), Some(target)) => (root, *target),
		_ => return Err(CarError::Malformed("empty path")),
	};
	section(out, &[&header(&[*root])])?;
	let mut blocks = 0;
	for cid in &path[..path.len() - 1] {
		section(out, &[&cid.to_bytes(), &source.get(cid)?])?;
		blocks += 1;
	}
	let mut stack = vec![target];
	while let Some(cid) = stack.pop() {
		let block = source.get(&cid)?;
		section(out, &[&cid.to_bytes(), &block])?;
		blocks += 1;
		let descend = match scope {
			DagScope::Block => false,
			DagScope::All => true,
			DagScope::Entity => cid.codec() != DAG_PB || !is_directory(&block),
		};
		if descend {
			stack.extend(parse_block(&cid, block)?.links().into_iter().rev());
		}
	}
	Ok(blocks)
}

fn is_directory(block: &[u8]) -> bool {
	dag_pb::decode_node(block).is_ok_and(|node| node.kind == dag_pb::NodeKind::Directory)
}

fn read_varint(input: &mut impl Read) -> Result<Option<u64>, CarError> {
	let mut value = 0u64;
	for (i, shift) in (0..64).step_by(7).enumerate() {
		let mut byte = [0u8];
		if input.read(&mut byte)? == 0 {
			return if i == 0 { Ok(None) } else { Err(CarError::Malformed("truncated varint")) };
		}
		value |= u64::from(byte[0] & 0x7f) << shift;
		if byte[0] & 0x80 == 0 {
			return Ok(Some(value));
		}
	}
	Err(CarError::Malformed("varint too long"))
}

fn read_section(input: &mut impl Read) -> Result<Option<Vec<u8>>, CarError> {
	let Some(len) = read_varint(input)? else { return Ok(None) };
	if len > MAX_SECTION {
		return Err(CarError::Malformed("section larger than MAX_SECTION"));
	}
	let mut bytes = vec![0u8; len as usize];
	input.read_exact(&mut bytes).map_err(|_| CarError::Malformed("truncated section"))?;
	Ok(Some(bytes))
}

/// Reads one CBOR item head: `(major type, argument)`.
fn cbor_item(input: &mut &[u8]) -> Result<(u8, u64), CarError> {
	let malformed = || CarError::Malformed("bad CBOR in header");
	let (&first, rest) = input.split_first().ok_or_else(malformed)?;
	let width = match first & 0x1f {
		n @ 0..=23 => {
			*input = rest;
			return Ok((first >> 5, u64::from(n)));
		}
		24 => 1,
		25 => 2,
		26 => 4,
		27 => 8,
		_ => return Err(malformed()),
	};
	let bytes = rest.get(..width).ok_or_else(malformed)?;
	*input = &rest[width..];
	Ok((first >> 5, bytes.iter().fold(0, |acc, b| (acc << 8) | u64::from(*b))))
}

/// Takes `len` bytes off the front of `input`.
fn take<'a>(input: &mut &'a [u8], len: u64) -> Result<&'a [u8], CarError> {
	let len = usize::try_from(len).map_err(|_| CarError::Malformed("length"))?;
	let bytes = input.get(..len).ok_or(CarError::Malformed("truncated header"))?;
	*input = &input[len..];
	Ok(bytes)
}

/// The roots of a CARv1 header `{roots: [CID…], version: 1}` (dag-cbor).
fn parse_header(mut input: &[u8]) -> Result<Vec<Cid>, CarError> {
	let input = &mut input;
	let (major, entries) = cbor_item(input)?;
	if major != 5 {
		return Err(CarError::Malformed("header is not a map"));
	}
	let (mut roots, mut version) = (Vec::new(), None);
	for _ in 0..entries {
		let (major, len) = cbor_item(input)?;
		if major != 3 {
			return Err(CarError::Malformed("header key is not text"));
		}
		match take(input, len)? {
			b"version" => version = Some(cbor_item(input)?),
			b"roots" => {
				let (major, count) = cbor_item(input)?;
				if major != 4 {
					return Err(CarError::Malformed("roots is not an array"));
				}
				for _ in 0..count.min(1024) {
					let (tag_major, tag) = cbor_item(input)?;
					let (bytes_major, len) = cbor_item(input)?;
					if (tag_major, tag, bytes_major) != (6, 42, 2) {
						return Err(CarError::Malformed("root is not a CID"));
					}
					let bytes = take(input, len)?;
					let cid = bytes
						.split_first()
						.filter(|(prefix, _)| **prefix == 0)
						.and_then(|(_, cid)| Cid::try_from(cid).ok())
						.ok_or(CarError::Malformed("root is not a CID"))?;
					roots.push(cid);
				}
			}
			_ => return Err(CarError::Malformed("unknown header key")),
		}
	}
	if version != Some((0, 1)) {
		return Err(CarError::Malformed("only CARv1 is supported"));
	}
	if roots.is_empty() {
		return Err(CarError::Malformed("header names no root"));
	}
	Ok(roots)
}

/// Imports a CARv1 into `store` and pins its roots; returns the roots and the block count.
/// A block that does not match its CID stops the import, naming the CID; nothing is pinned.
pub fn import_car(
	input: &mut impl Read,
	store: &FsBlockStore,
) -> Result<(Vec<Cid>, u64), CarError> {
	let header = read_section(input)?.ok_or(CarError::Malformed("empty input"))?;
	let roots = parse_header(&header)?;
	let mut blocks = 0;
	while let Some(bytes) = read_section(input)? {
		let mut cursor = io::Cursor::new(&bytes[..]);
		let cid = Cid::read_bytes(&mut cursor).map_err(|_| CarError::Malformed("bad block CID"))?;
		let block = &bytes[cursor.position() as usize..];
		verify(&cid, block)?;
		store.put(&cid, block)?;
		blocks += 1;
	}
	for root in &roots {
		store.pin(root)?;
	}
	Ok((roots, blocks))
}
