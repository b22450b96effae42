//! Decoding of the dag-pb `PBNode` blocks of a UnixFS file (the node's importer writes them;
//! the node's exporter and the runtime's proof checks read them through this module).

use alloc::vec::Vec;
use core::fmt;

/// UnixFS `Data.Type` of a file.
pub const UNIXFS_FILE: u64 = 2;
/// UnixFS `Data.Type` some older importers gave leaves.
pub const UNIXFS_RAW: u64 = 0;

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
}
