//! The dag-pb `PBNode`/`PBLink` and UnixFS `Data` messages of UnixFS files and directories:
//! encoded as Kubo encodes them (the node's importer) and decoded (the node's exporter and
//! gateway, the runtime's proof checks).
//!
//! Field order follows the dag-pb spec's canonical form (links before data) and proto2's
//! unpacked repeated fields, which is what makes the block bytes, and so the CIDs, match.
//!
//! Directories are plain (unsharded) UnixFS directories whose entries are named by their
//! links, sorted by name bytes. [`check_entry_name`] is the one rule for which names are
//! accepted, applied when importing a tree, exporting one and walking one in a proof.

use alloc::vec::Vec;
use core::fmt;

/// UnixFS `Data.Type` of a file.
pub const UNIXFS_FILE: u64 = 2;
/// UnixFS `Data.Type` some older importers gave leaves.
pub const UNIXFS_RAW: u64 = 0;
/// UnixFS `Data.Type` of a directory.
pub const UNIXFS_DIRECTORY: u64 = 1;
/// UnixFS `Data.Type` of a symbolic link.
pub const UNIXFS_SYMLINK: u64 = 4;
/// UnixFS `Data.Type` of a HAMT-sharded directory.
pub const UNIXFS_HAMT_SHARD: u64 = 5;

/// Kubo (`HAMTShardingSize`) and the JS importer (`shardSplitThresholdBytes`) shard a
/// directory once the sum of its entries' name and binary CID lengths reaches this; plain
/// directories stay below it.
pub const HAMT_SHARDING_THRESHOLD: usize = 256 * 1024;

/// The UnixFS `Data` of a plain directory (`Type = Directory`, nothing else), as Kubo and
/// the JS importer write it.
pub const DIRECTORY_DATA: [u8; 2] = [0x08, UNIXFS_DIRECTORY as u8];

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

/// One entry of a directory: a named link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryEntry<'a> {
	/// The entry's name (one path segment).
	pub name: &'a [u8],
	/// The entry's binary CID.
	pub cid: &'a [u8],
	/// Bytes of the entry's whole DAG (dag-pb `Tsize`).
	pub tsize: u64,
}

/// A plain UnixFS directory node with `entries`, which must already be sorted by name bytes
/// (see [`sort_entries`]).
pub fn directory(entries: &[DirectoryEntry<'_>]) -> Vec<u8> {
	let mut out = Vec::with_capacity(entries.len() * 64 + 4);
	let mut link_bytes = Vec::with_capacity(64);
	for entry in entries {
		link_bytes.clear();
		put_bytes(&mut link_bytes, 1, entry.cid);
		put_bytes(&mut link_bytes, 2, entry.name);
		put_uint(&mut link_bytes, 3, entry.tsize);
		put_bytes(&mut out, 2, &link_bytes);
	}
	put_bytes(&mut out, 1, &DIRECTORY_DATA);
	out
}

/// Sorts entries as Kubo and the dag-pb spec order a directory's links: by name bytes.
pub fn sort_entries(entries: &mut [DirectoryEntry<'_>]) {
	entries.sort_by(|a, b| a.name.cmp(b.name));
}

/// Why an entry name is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameError {
	/// The name is empty.
	Empty,
	/// The name is `.` or `..`, which would leave or alias the directory.
	DotSegment,
	/// The name holds a `/` (a path, not one segment).
	Slash,
	/// The name holds a NUL byte.
	Nul,
	/// The name is not UTF-8.
	NotUtf8,
	/// The name is longer than [`MAX_NAME_LEN`].
	TooLong,
}

/// Longest entry name accepted (bytes): the common file-system limit.
pub const MAX_NAME_LEN: usize = 255;

impl NameError {
	/// Why, in words.
	pub fn reason(&self) -> &'static str {
		match self {
			Self::Empty => "the name is empty",
			Self::DotSegment => "`.` and `..` are not entry names",
			Self::Slash => "the name contains `/`",
			Self::Nul => "the name contains a NUL byte",
			Self::NotUtf8 => "the name is not UTF-8",
			Self::TooLong => "the name is longer than 255 bytes",
		}
	}
}

impl fmt::Display for NameError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str(self.reason())
	}
}

/// Checks that `name` is one safe path segment: non-empty, UTF-8, at most [`MAX_NAME_LEN`]
/// bytes, not `.` or `..`, without `/` or NUL.
pub fn check_entry_name(name: &[u8]) -> Result<(), NameError> {
	if name.is_empty() {
		return Err(NameError::Empty);
	}
	if name.len() > MAX_NAME_LEN {
		return Err(NameError::TooLong);
	}
	if name == b"." || name == b".." {
		return Err(NameError::DotSegment);
	}
	if name.contains(&b'/') {
		return Err(NameError::Slash);
	}
	if name.contains(&0) {
		return Err(NameError::Nul);
	}
	core::str::from_utf8(name).map_err(|_| NameError::NotUtf8)?;
	Ok(())
}

/// The UnixFS kind of a dag-pb node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
	/// A file (or an old-style raw leaf).
	File,
	/// A plain directory.
	Directory,
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

/// A decoded dag-pb UnixFS node of either kind, borrowing from the block.
#[derive(Debug, PartialEq, Eq)]
pub struct UnixfsNode<'a> {
	pub kind: NodeKind,
	/// The links, in block order; for a directory, its entries.
	pub links: Vec<DirectoryEntry<'a>>,
	/// UnixFS `Data.Data` (file bytes of a leaf).
	pub data: &'a [u8],
	/// UnixFS `filesize`, when written.
	pub file_size: Option<u64>,
	/// UnixFS `blocksizes`.
	pub block_sizes: Vec<u64>,
}

/// Decodes a dag-pb block holding a UnixFS file or plain directory node. Sharded directories
/// and symlinks are refused by name; anything else is "not UnixFS".
pub fn decode_node(block: &[u8]) -> Result<UnixfsNode<'_>, DecodeError> {
	let mut links = Vec::new();
	let mut unixfs = None;
	for item in fields(block) {
		match item? {
			(2, Field::Bytes(link)) => {
				let (mut hash, mut name, mut tsize) = (None, &[][..], 0);
				for item in fields(link) {
					match item? {
						(1, Field::Bytes(bytes)) => hash = Some(bytes),
						(2, Field::Bytes(bytes)) => name = bytes,
						(3, Field::Varint(size)) => tsize = size,
						_ => return Err(DecodeError("unexpected PBLink field")),
					}
				}
				let cid = hash.ok_or(DecodeError("link without a hash"))?;
				links.push(DirectoryEntry { name, cid, tsize });
			}
			(1, Field::Bytes(data)) => unixfs = Some(data),
			_ => return Err(DecodeError("unexpected PBNode field")),
		}
	}
	let (mut kind, mut data, mut file_size, mut block_sizes) = (None, &[][..], None, Vec::new());
	for item in fields(unixfs.ok_or(DecodeError("no UnixFS data"))?) {
		match item? {
			(1, Field::Varint(value)) => kind = Some(value),
			(2, Field::Bytes(bytes)) => data = bytes,
			(3, Field::Varint(size)) => file_size = Some(size),
			(4, Field::Varint(size)) => block_sizes.push(size),
			_ => {}
		}
	}
	let kind = match kind {
		Some(UNIXFS_FILE) | Some(UNIXFS_RAW) => NodeKind::File,
		Some(UNIXFS_DIRECTORY) => NodeKind::Directory,
		Some(UNIXFS_HAMT_SHARD) => {
			return Err(DecodeError("HAMT-sharded directories are not supported"))
		}
		Some(UNIXFS_SYMLINK) => return Err(DecodeError("symbolic links are not supported")),
		_ => return Err(DecodeError("not a UnixFS file or directory")),
	};
	Ok(UnixfsNode { kind, links, data, file_size, block_sizes })
}

/// Decodes a dag-pb block holding a UnixFS file node.
pub fn decode_file_node(block: &[u8]) -> Result<FileNode<'_>, DecodeError> {
	let node = decode_node(block)?;
	if node.kind != NodeKind::File {
		return Err(DecodeError("not a UnixFS file"));
	}
	Ok(FileNode {
		links: node.links.iter().map(|link| link.cid).collect(),
		data: node.data,
		file_size: node.file_size,
		block_sizes: node.block_sizes,
	})
}

/// Decodes a dag-pb block holding a plain UnixFS directory: every entry has a name that
/// passes [`check_entry_name`], and names are strictly increasing (sorted, no duplicates).
pub fn decode_directory(block: &[u8]) -> Result<Vec<DirectoryEntry<'_>>, DecodeError> {
	let node = decode_node(block)?;
	if node.kind != NodeKind::Directory {
		return Err(DecodeError("not a UnixFS directory"));
	}
	for (i, entry) in node.links.iter().enumerate() {
		check_entry_name(entry.name).map_err(|_| DecodeError("directory entry name refused"))?;
		if i > 0 && node.links[i - 1].name >= entry.name {
			return Err(DecodeError("directory entries are not sorted or repeat a name"));
		}
	}
	Ok(node.links)
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
		assert_eq!(
			decode_file_node(&[0x0a, 2, 8, 5]),
			Err(DecodeError("HAMT-sharded directories are not supported"))
		);
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
	fn the_empty_directory_is_kubos_block() {
		// The block behind QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn.
		assert_eq!(directory(&[]), [0x0a, 2, 8, 1]);
		assert_eq!(decode_directory(&[0x0a, 2, 8, 1]).unwrap(), []);
	}

	#[test]
	fn directories_round_trip_and_refuse_bad_names_and_order() {
		let cid = [1u8, 0x55, 0x12, 2, 0xaa, 0xbb];
		let entry = |name: &'static [u8]| DirectoryEntry { name, cid: &cid, tsize: 9 };
		let mut entries = [entry(b"b.onnx"), entry(b"a.json")];
		sort_entries(&mut entries);
		let block = directory(&entries);
		assert_eq!(decode_directory(&block).unwrap(), entries);
		assert_eq!(decode_file_node(&block), Err(DecodeError("not a UnixFS file")));
		for len in 0..block.len() {
			assert!(decode_directory(&block[..len]).is_err(), "prefix of {len} bytes");
		}
		let unsorted = directory(&[entry(b"b"), entry(b"a")]);
		let repeated = directory(&[entry(b"a"), entry(b"a")]);
		for bad in [unsorted, repeated] {
			assert_eq!(
				decode_directory(&bad),
				Err(DecodeError("directory entries are not sorted or repeat a name"))
			);
		}
		for name in [&b".."[..], b"a/b", b"a\0b", b"", &[0xff, 0xfe]] {
			assert_eq!(
				decode_directory(&directory(&[DirectoryEntry { name, cid: &cid, tsize: 1 }])),
				Err(DecodeError("directory entry name refused")),
				"{name:?}"
			);
		}
	}

	#[test]
	fn entry_names_are_single_safe_segments() {
		assert_eq!(check_entry_name(b"model.onnx"), Ok(()));
		assert_eq!(check_entry_name("modèle.onnx".as_bytes()), Ok(()));
		assert_eq!(check_entry_name(b"..."), Ok(()));
		assert_eq!(check_entry_name(b""), Err(NameError::Empty));
		assert_eq!(check_entry_name(b"."), Err(NameError::DotSegment));
		assert_eq!(check_entry_name(b".."), Err(NameError::DotSegment));
		assert_eq!(check_entry_name(b"../x"), Err(NameError::Slash));
		assert_eq!(check_entry_name(b"a\0"), Err(NameError::Nul));
		assert_eq!(check_entry_name(&[b'a', 0xc3]), Err(NameError::NotUtf8));
		assert_eq!(check_entry_name(&[b'a'; 256]), Err(NameError::TooLong));
		assert_eq!(check_entry_name(&[b'a'; 255]), Ok(()));
	}

	#[test]
	fn varints_use_seven_bit_groups() {
		let mut out = Vec::new();
		put_varint(&mut out, 262_144);
		assert_eq!(out, [0x80, 0x80, 0x10]);
	}
}
