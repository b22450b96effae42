//! The two protobuf messages a UnixFS file needs, encoded as Kubo encodes them: dag-pb's
//! `PBNode`/`PBLink` and UnixFS's `Data`.
//!
//! Field order follows the dag-pb spec's canonical form (links before data) and proto2's
//! unpacked repeated fields, which is what makes the block bytes, and so the CIDs, match.

pub use citrate_ipfs_primitives::dag_pb::{decode_file_node, DecodeError, FileNode, UNIXFS_FILE};

pub(crate) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
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

/// Writes into `out` (cleared first) the dag-pb leaf holding file bytes `data`: the same
/// bytes as `node(&[], &unixfs_file(data, len, empty))`, built in one reused buffer.
pub fn file_leaf_into(out: &mut Vec<u8>, data: &[u8]) {
	let len = data.len() as u64;
	let data_field = if data.is_empty() { 0 } else { 1 + varint_len(len) + len };
	let unixfs_len = 2 + data_field + 1 + varint_len(len);
	out.clear();
	put_key(out, 1, 2);
	put_varint(out, unixfs_len);
	put_uint(out, 1, UNIXFS_FILE);
	if !data.is_empty() {
		put_bytes(out, 2, data);
	}
	put_uint(out, 3, len);
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

#[cfg(test)]
mod tests {
	use super::*;

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
	fn leaves_built_in_place_equal_the_general_encoding() {
		let mut out = vec![9; 3];
		for len in [0usize, 1, 127, 128, 300, 16_383, 16_384, 262_144] {
			let data = vec![7u8; len];
			file_leaf_into(&mut out, &data);
			assert_eq!(
				out,
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
