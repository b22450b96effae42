//! The two protobuf messages a UnixFS file needs, encoded as Kubo encodes them: dag-pb's
//! `PBNode`/`PBLink` and UnixFS's `Data`.
//!
//! Field order follows the dag-pb spec's canonical form (links before data) and proto2's
//! unpacked repeated fields, which is what makes the block bytes, and so the CIDs, match.

/// UnixFS `Data.Type` of a file.
const UNIXFS_FILE: u64 = 2;

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
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
	fn varints_use_seven_bit_groups() {
		let mut out = Vec::new();
		put_varint(&mut out, 262_144);
		assert_eq!(out, [0x80, 0x80, 0x10]);
	}
}
