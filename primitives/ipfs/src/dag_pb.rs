//! The dag-pb `PBNode`/`PBLink` and UnixFS `Data` messages of a UnixFS file: encoded as Kubo
//! encodes them (the node's importer) and decoded (the node's exporter, the runtime's proof
//! checks).
//!
//! Field order follows the dag-pb spec's canonical form (links before data) and proto2's
//! unpacked repeated fields, which is what makes the block bytes, and so the CIDs, match.

use alloc::vec::Vec;
use core::fmt;

/// UnixFS `Data.Type` of a file.
pub const UNIXFS_FILE: u64 = 2;
/// UnixFS `Data.Type` some older importers gave leaves.
pub const UNIXFS_RAW: u64 = 0;

/// Appends a protobuf (LEB128) varint.
pub fn put_varint(out: &mut Vec<u8>, mut value: u64) {
	loop {
		let byte = (value & 0x7f) as u8;
		value >>= 7;
		if value == 0 {
			out.push(byte);
			return;
		}
		out.push(byte | 0x80);
	}
}

fn put_key(out: &mut Vec<u8>, field: u64, wire_type: u64) {
	put_varint(out, (field << 3) | wire_type);
}

fn put_bytes(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
	put_key(out, field, 2);
	put_varint(out, bytes.len() as u64);
	out.extend_from_slice(bytes);
}

fn put_uint(out: &mut Vec<u8>, field: u64, value: u64) {
	put_key(out, field, 0);
	put_varint(out, value);
}

/// A link from a parent to one child block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
	/// The child's binary CID.
	pub cid: Vec<u8>,
	/// Bytes of the child block plus everything below it (dag-pb `Tsize`).
	pub tsize: u64,
	/// File bytes under the child (UnixFS `blocksizes` entry).
	pub file_size: u64,
}

/// UnixFS `Data` of a file node: `data` for a leaf, `blocksizes` for a parent.
pub fn unixfs_file(data: &[u8], file_size: u64, block_sizes: impl Iterator<Item = u64>) -> Vec<u8> {
	let mut out = Vec::with_capacity(data.len() + 16);
	put_uint(&mut out, 1, UNIXFS_FILE);
	if !data.is_empty() {
		put_bytes(&mut out, 2, data);
	}
	put_uint(&mut out, 3, file_size);
	for size in block_sizes {
		put_uint(&mut out, 4, size);
	}
	out
}

fn varint_len(value: u64) -> u64 {
	u64::from((64 - value.max(1).leading_zeros()).div_ceil(7))
}

/// The bytes before and after the file data in the dag-pb leaf holding `len` file bytes, so a
/// leaf can be hashed and written from its parts without copying the data:
/// `prefix ‖ data ‖ suffix` equals `node(&[], &unixfs_file(data, len, empty))`.
pub fn file_leaf_parts(len: usize) -> (Vec<u8>, Vec<u8>) {
	let len = len as u64;
	let data_field = if len == 0 { 0 } else { 1 + varint_len(len) + len };
	let unixfs_len = 2 + data_field + 1 + varint_len(len);
	let mut prefix = Vec::with_capacity(16);
	put_key(&mut prefix, 1, 2);
	put_varint(&mut prefix, unixfs_len);
	put_uint(&mut prefix, 1, UNIXFS_FILE);
	if len > 0 {
		put_key(&mut prefix, 2, 2);
		put_varint(&mut prefix, len);
	}
	let mut suffix = Vec::with_capacity(11);
	put_uint(&mut suffix, 3, len);
	(prefix, suffix)
}

/// A dag-pb `PBNode`: its links (each with an empty name, as Kubo writes them), then `data`.
pub fn node(links: &[Link], data: &[u8]) -> Vec<u8> {
	let mut out = Vec::with_capacity(data.len() + links.len() * 48 + 8);
	let mut link_bytes = Vec::with_capacity(48);
	for link in links {
		link_bytes.clear();
		put_bytes(&mut link_bytes, 1, &link.cid);
		put_bytes(&mut link_bytes, 2, b"");
		put_uint(&mut link_bytes, 3, link.tsize);
		put_bytes(&mut out, 2, &link_bytes);
	}
	put_bytes(&mut out, 1, data);
	out
}

/// A decoded dag-pb UnixFS file node, borrowing from the block.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FileNode<'a> {
	/// Binary CIDs of the children, in file order.
	pub links: Vec<&'a [u8]>,
	/// UnixFS `Data.Data`: the file bytes of a leaf, empty for a parent.
	pub data: &'a [u8],
	/// UnixFS `filesize`: file bytes under this node, when written.
	pub file_size: Option<u64>,
	/// UnixFS `blocksizes`: file bytes under each child, one per link.
	pub block_sizes: Vec<u64>,
}

/// Why a block is not a UnixFS file node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeError(pub &'static str);

impl fmt::Display for DecodeError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		write!(f, "malformed dag-pb/UnixFS block: {}", self.0)
	}
}

impl core::error::Error for DecodeError {}

/// Reads a protobuf (LEB128) varint of at most ten bytes.
pub fn get_varint(input: &mut &[u8]) -> Result<u64, DecodeError> {
	let mut value = 0u64;
	for shift in (0..64).step_by(7) {
		let (&byte, rest) = input.split_first().ok_or(DecodeError("truncated varint"))?;
		*input = rest;
		value |= u64::from(byte & 0x7f) << shift;
		if byte & 0x80 == 0 {
			return Ok(value);
		}
	}
	Err(DecodeError("varint too long"))
}

enum Field<'a> {
	Varint(u64),
	Bytes(&'a [u8]),
}

/// Splits a protobuf message into `(field number, value)` items; stops after the first error.
fn fields(mut input: &[u8]) -> impl Iterator<Item = Result<(u64, Field<'_>), DecodeError>> {
	core::iter::from_fn(move || {
		if input.is_empty() {
			return None;
		}
		let item = (|| {
			let key = get_varint(&mut input)?;
			let field = match key & 7 {
				0 => Field::Varint(get_varint(&mut input)?),
				2 => {
					let len = usize::try_from(get_varint(&mut input)?)
						.map_err(|_| DecodeError("length too large"))?;
					if len > input.len() {
						return Err(DecodeError("truncated field"));
					}
					let (bytes, rest) = input.split_at(len);
					input = rest;
					Field::Bytes(bytes)
				}
				_ => return Err(DecodeError("unsupported wire type")),
			};
			Ok((key >> 3, field))
		})();
		if item.is_err() {
			input = &[];
		}
		Some(item)
	})
}

/// Decodes a dag-pb block holding a UnixFS file node.
pub fn decode_file_node(block: &[u8]) -> Result<FileNode<'_>, DecodeError> {
	let mut node = FileNode::default();
	let mut unixfs = None;
	for item in fields(block) {
		match item? {
			(2, Field::Bytes(link)) => {
				let mut hash = None;
				for item in fields(link) {
					if let (1, Field::Bytes(bytes)) = item? {
						hash = Some(bytes);
					}
				}
				node.links.push(hash.ok_or(DecodeError("link without a hash"))?);
			}
			(1, Field::Bytes(data)) => unixfs = Some(data),
			_ => return Err(DecodeError("unexpected PBNode field")),
		}
	}
	let mut kind = None;
	for item in fields(unixfs.ok_or(DecodeError("no UnixFS data"))?) {
		match item? {
			(1, Field::Varint(value)) => kind = Some(value),
			(2, Field::Bytes(data)) => node.data = data,
			(3, Field::Varint(size)) => node.file_size = Some(size),
			(4, Field::Varint(size)) => node.block_sizes.push(size),
			_ => {}
		}
	}
	match kind {
		Some(UNIXFS_FILE) | Some(UNIXFS_RAW) => Ok(node),
		_ => Err(DecodeError("not a UnixFS file")),
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use alloc::vec;

	// A parent with two links and blocksizes [256, 256], built by hand:
	// PBLink{Hash=[1,0x55,0x12,2,0xaa,0xbb], Name="", Tsize=300} twice, then
	// Data{Type=File, filesize=512, blocksizes=[256,256]}.
	fn parent() -> Vec<u8> {
		let link = [0x0a, 6, 1, 0x55, 0x12, 2, 0xaa, 0xbb, 0x12, 0, 0x18, 0xac, 0x02];
		let data = [0x08, 2, 0x18, 0x80, 0x04, 0x20, 0x80, 0x02, 0x20, 0x80, 0x02];
		let mut block = Vec::new();
		for _ in 0..2 {
			block.extend_from_slice(&[0x12, link.len() as u8]);
			block.extend_from_slice(&link);
		}
		block.extend_from_slice(&[0x0a, data.len() as u8]);
		block.extend_from_slice(&data);
		block
	}

	#[test]
	fn reads_links_sizes_and_data() {
		let block = parent();
		let node = decode_file_node(&block).unwrap();
		assert_eq!(node.links, [&[1, 0x55, 0x12, 2, 0xaa, 0xbb][..]; 2]);
		assert_eq!(node.file_size, Some(512));
		assert_eq!(node.block_sizes, [256, 256]);
		assert!(node.data.is_empty());
		// Kubo's empty file: Data{Type=File, filesize=0}.
		let empty = decode_file_node(&[0x0a, 4, 8, 2, 0x18, 0]).unwrap();
		assert_eq!((empty.links.len(), empty.file_size), (0, Some(0)));
	}

	#[test]
	fn refuses_every_truncation_without_panicking() {
		let block = parent();
		for len in 0..block.len() {
			assert!(decode_file_node(&block[..len]).is_err(), "prefix of {len} bytes");
		}
		assert!(decode_file_node(&[0xff; 12]).is_err());
		// A directory (Type=1) is not a file.
		assert_eq!(decode_file_node(&[0x0a, 2, 8, 1]), Err(DecodeError("not a UnixFS file")));
	}

	#[test]
	fn empty_file_leaf_is_kubos_block() {
		// The block behind QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH.
		assert_eq!(node(&[], &unixfs_file(b"", 0, core::iter::empty())), [0x0a, 4, 8, 2, 0x18, 0]);
	}

	#[test]
	fn decoding_reads_back_links_and_data_and_refuses_truncations() {
		let link = Link { cid: vec![1, 0x55, 0x12, 2, 0xaa, 0xbb], tsize: 300, file_size: 256 };
		let parent = node(&[link.clone(), link], &unixfs_file(b"", 512, [256, 256].into_iter()));
		let decoded = decode_file_node(&parent).unwrap();
		assert_eq!(decoded.links.len(), 2);
		assert_eq!(decoded.block_sizes, [256, 256]);
		assert!(decoded.data.is_empty());
		let leaf = node(&[], &unixfs_file(b"abc", 3, core::iter::empty()));
		assert_eq!(decode_file_node(&leaf).unwrap().data, b"abc");
		// Every strict prefix is malformed; none panics.
		for len in 0..parent.len() {
			assert!(decode_file_node(&parent[..len]).is_err(), "prefix of {len} bytes");
		}
		assert!(decode_file_node(&[0xff; 12]).is_err());
	}

	#[test]
	fn leaves_built_from_parts_equal_the_general_encoding() {
		for len in [0usize, 1, 127, 128, 300, 16_383, 16_384, 262_144, 1 << 20] {
			let data = vec![7u8; len];
			let (prefix, suffix) = file_leaf_parts(len);
			assert_eq!(
				[prefix, data.clone(), suffix].concat(),
				node(&[], &unixfs_file(&data, len as u64, core::iter::empty())),
				"{len}"
			);
		}
	}

	#[test]
	fn varints_use_seven_bit_groups() {
		let mut out = Vec::new();
		put_varint(&mut out, 262_144);
		assert_eq!(out, [0x80, 0x80, 0x10]);
	}
}
