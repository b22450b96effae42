//! UnixFS blocks as the walkers (exporter, CAR writer, pins, fetchers, gateway) need them:
//! a file node's links and bytes, or a directory's named entries, with every name checked by
//! the one rule in `citrate_ipfs_primitives::dag_pb::check_entry_name`.

use crate::block::BlockError;
use cid::Cid;
use citrate_ipfs_primitives::{
	cid::{DAG_PB, RAW},
	dag_pb::{self, NodeKind},
};
use std::{io, path::PathBuf};

/// Why a DAG could not be read or written out.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
	#[error(transparent)]
	Block(#[from] BlockError),
	#[error("block {cid}: {source}")]
	Decode { cid: Cid, source: dag_pb::DecodeError },
	#[error("block {cid} has codec {codec:#x}; only raw and dag-pb UnixFS blocks are read")]
	UnsupportedCodec { cid: Cid, codec: u64 },
	#[error("block {cid} links to a malformed CID")]
	BadLink { cid: Cid },
	#[error("directory {directory} has an entry {name:?} that is refused: {reason}")]
	BadEntry { directory: String, name: String, reason: dag_pb::NameError },
	#[error("{cid} is a directory; export it as a tree (`get --output DIR`)")]
	IsDirectory { cid: Cid },
	#[error("block {cid} is a directory inside a file's DAG")]
	DirectoryInFile { cid: Cid },
	#[error("{path} is not a directory (block {block})")]
	NotADirectory { block: String, path: String },
	#[error("{path} does not exist in the DAG")]
	NoSuchEntry { path: String },
	#[error("the tree has more than {limit} entries")]
	TooManyEntries { limit: usize },
	#[error("{path} is nested deeper than {limit} directories")]
	TooDeep { path: String, limit: usize },
	#[error("{0} already exists; refusing to overwrite it")]
	Exists(PathBuf),
	#[error("writing the output failed: {0}")]
	Write(io::Error),
}

/// A directory entry, its name checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
	pub name: String,
	pub cid: Cid,
	/// Bytes of the entry's whole DAG (dag-pb `Tsize`).
	pub tsize: u64,
}

/// A parsed UnixFS block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
	/// A file node (or raw leaf): its children in file order, the bytes it holds itself, and
	/// the size of the whole file under it as the node declares it (UnixFS `filesize`).
	File { links: Vec<Cid>, data: Vec<u8>, size: u64 },
	/// A plain directory: its entries, sorted by name.
	Directory(Vec<Entry>),
}

impl Node {
	/// Every CID the block links to, in link order.
	pub fn links(&self) -> Vec<Cid> {
		match self {
			Self::File { links, .. } => links.clone(),
			Self::Directory(entries) => entries.iter().map(|entry| entry.cid).collect(),
		}
	}
}

fn link(cid: &Cid, bytes: &[u8]) -> Result<Cid, ExportError> {
	Cid::try_from(bytes).map_err(|_| ExportError::BadLink { cid: *cid })
}

/// Parses the block `cid` names.
pub fn parse_block(cid: &Cid, block: Vec<u8>) -> Result<Node, ExportError> {
	match cid.codec() {
		RAW => Ok(Node::File { links: Vec::new(), size: block.len() as u64, data: block }),
		DAG_PB => {
			let decode = |source| ExportError::Decode { cid: *cid, source };
			let node = dag_pb::decode_node(&block).map_err(decode)?;
			match node.kind {
				NodeKind::File => {
					let links =
						node.links.iter().map(|l| link(cid, l.cid)).collect::<Result<_, _>>()?;
					let size = node.file_size.unwrap_or_else(|| {
						node.block_sizes
							.iter()
							.fold(node.data.len() as u64, |a, b| a.saturating_add(*b))
					});
					Ok(Node::File { links, data: node.data.to_vec(), size })
				}
				NodeKind::Directory => {
					// Names first, so a refused name is reported as such, not as disorder.
					for entry in &node.links {
						dag_pb::check_entry_name(entry.name).map_err(|reason| {
							ExportError::BadEntry {
								directory: cid.to_string(),
								name: String::from_utf8_lossy(entry.name).into_owned(),
								reason,
							}
						})?;
					}
					let entries = dag_pb::decode_directory(&block).map_err(decode)?;
					let entries = entries
						.iter()
						.map(|entry| {
							Ok(Entry {
								name: String::from_utf8(entry.name.to_vec())
									.expect("checked to be UTF-8"),
								cid: link(cid, entry.cid)?,
								tsize: entry.tsize,
							})
						})
						.collect::<Result<_, ExportError>>()?;
					Ok(Node::Directory(entries))
				}
			}
		}
		codec => Err(ExportError::UnsupportedCodec { cid: *cid, codec }),
	}
}
