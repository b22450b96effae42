//! Filling the local store from other nodes, asynchronously, before a reader needs it.
//!
//! Readers (the exporter, the CAR writer, the gateway's responses, package reads) are
//! synchronous and read the local store only. A [`Fetcher`] walks the part of a DAG a read
//! will touch, fetching each block the store lacks from its [`Upstream`] (verified against its
//! CID, then kept), so no read ever waits on the network from inside a blocking call.

use crate::{
	block::BlockError,
	car::DagScope,
	package::{PackageError, PackageLimits, PackageListing, PackageWalk},
	unixfs::{parse_block, ExportError, Node},
	FsBlockStore, GatewayFetcher, KuboClient, RemoteError,
};
use cid::Cid;
use std::sync::Arc;

/// Where blocks the local store lacks come from.
#[derive(Clone)]
pub enum Upstream {
	/// A Kubo-compatible daemon's RPC API (`block/get`).
	Kubo(KuboClient),
	/// Trustless gateways, tried in order.
	Gateways(GatewayFetcher),
}

impl Upstream {
	/// The block `cid` names, verified.
	pub async fn block(&self, cid: &Cid) -> Result<Vec<u8>, RemoteError> {
		match self {
			Self::Kubo(client) => client.block_get(cid).await,
			Self::Gateways(fetcher) => fetcher.block(cid).await,
		}
	}

	/// Reads the file at `path` under `root` (`""`: `root` is the file) into memory, every
	/// block verified, keeping nothing: for a client that needs one small file of a DAG (a
	/// model's `config.json`). `None` when the path names no entry or a directory; a file
	/// larger than `max_bytes` is refused before its bytes are fetched.
	pub async fn read_file(
		&self,
		root: &Cid,
		path: &str,
		max_bytes: u64,
	) -> Result<Option<Vec<u8>>, RemoteError> {
		let mut target = *root;
		for segment in path.split('/').filter(|segment| !segment.is_empty()) {
			let Node::Directory(entries) = parse_block(&target, self.block(&target).await?)? else {
				return Ok(None);
			};
			match entries.binary_search_by(|entry| entry.name.as_str().cmp(segment)) {
				Ok(index) => target = entries[index].cid,
				Err(_) => return Ok(None),
			}
		}
		let mut blocks = std::collections::HashMap::new();
		let mut stack = vec![target];
		while let Some(cid) = stack.pop() {
			let block = self.block(&cid).await?;
			match parse_block(&cid, block.clone())? {
				Node::Directory(_) => return Ok(None),
				Node::File { size, .. } if cid == target && size > max_bytes => {
					return Err(RemoteError::Io(std::io::Error::other(format!(
						"{root}/{path} is {size} bytes, more than the {max_bytes} read here"
					))))
				}
				node => stack.extend(node.links()),
			}
			blocks.insert(cid, block);
		}
		let mut bytes = vec![];
		crate::export(&target, &blocks, &mut bytes)?;
		Ok(Some(bytes))
	}
}

/// The local store and, if configured, an upstream to fill it from.
#[derive(Clone)]
pub struct Fetcher {
	store: Arc<FsBlockStore>,
	upstream: Option<Upstream>,
}

impl Fetcher {
	pub fn new(store: Arc<FsBlockStore>, upstream: Option<Upstream>) -> Self {
		Self { store, upstream }
	}

	/// The store this fetcher fills.
	pub fn store(&self) -> &Arc<FsBlockStore> {
		&self.store
	}

	/// The block `cid` names, from the store, else from upstream (then stored); and whether
	/// it was fetched.
	pub async fn block(&self, cid: &Cid) -> Result<(Vec<u8>, bool), RemoteError> {
		match (self.store.get(cid), &self.upstream) {
			(Ok(block), _) => Ok((block, false)),
			(Err(BlockError::NotFound(_)), Some(upstream)) => {
				let block = upstream.block(cid).await?;
				self.store.put(cid, &block)?;
				Ok((block, true))
			}
			(Err(error), _) => Err(error.into()),
		}
	}

	/// Fetches what a read of `path` inside `root` with `scope` touches: the directory blocks
	/// along the path, then the target's DAG as far as `scope` goes. Returns the number of
	/// blocks fetched. A path that does not resolve stops the walk without an error; the read
	/// that follows reports it.
	pub async fn fetch_path(
		&self,
		root: &Cid,
		path: &str,
		scope: DagScope,
	) -> Result<u64, RemoteError> {
		let mut fetched = 0;
		let mut target = *root;
		for segment in path.split('/').filter(|segment| !segment.is_empty()) {
			let (block, new) = self.block(&target).await?;
			fetched += u64::from(new);
			let Node::Directory(entries) = parse_block(&target, block)? else { return Ok(fetched) };
			match entries.binary_search_by(|entry| entry.name.as_str().cmp(segment)) {
				Ok(index) => target = entries[index].cid,
				Err(_) => return Ok(fetched),
			}
		}
		let mut stack = vec![target];
		while let Some(cid) = stack.pop() {
			let (block, new) = self.block(&cid).await?;
			fetched += u64::from(new);
			let node = parse_block(&cid, block)?;
			let descend = match scope {
				DagScope::Block => false,
				DagScope::All => true,
				DagScope::Entity => matches!(node, Node::File { .. }),
			};
			if descend {
				stack.extend(node.links().into_iter().rev());
			}
		}
		Ok(fetched)
	}

	/// Fetches the whole DAG under `root` and pins it. Returns the number of blocks fetched;
	/// a block no upstream serves intact stops the fetch, naming its CID, and verified blocks
	/// already stored stay (and are reused next time).
	pub async fn fetch_dag(&self, root: &Cid) -> Result<u64, RemoteError> {
		let fetched = self.fetch_path(root, "", DagScope::All).await?;
		self.store.pin(root)?;
		Ok(fetched)
	}

	/// Fetches the model package `root` (see [`crate::package`]): first its directory blocks
	/// and file root blocks, refusing a package over `limits` before any file's bytes are
	/// fetched, then each file's DAG, refusing a file whose blocks hold more than it declares.
	/// Pins the package and returns its listing.
	pub async fn fetch_package(
		&self,
		root: &Cid,
		single_file_name: &str,
		limits: PackageLimits,
	) -> Result<PackageListing, PackageError> {
		let mut walk = PackageWalk::new(*root, single_file_name, limits);
		while let Some((cid, path)) = walk.next_block() {
			let path = path.to_string();
			let (block, _) = self.block(&cid).await.map_err(|source| fetch_error(&path, source))?;
			walk.visit(block)?;
		}
		let listing = walk.finish();
		for file in &listing.files {
			let mut stack = vec![file.cid];
			let mut bytes = 0u64;
			while let Some(cid) = stack.pop() {
				let (block, _) =
					self.block(&cid).await.map_err(|source| fetch_error(&file.path, source))?;
				let node = parse_block(&cid, block).map_err(|source| PackageError::File {
					path: file.path.clone(),
					source: Box::new(source),
				})?;
				let Node::File { links, data, .. } = node else {
					let source = Box::new(ExportError::DirectoryInFile { cid });
					return Err(PackageError::File { path: file.path.clone(), source });
				};
				bytes += data.len() as u64;
				if bytes > file.size {
					return Err(PackageError::SizeMismatch {
						path: file.path.clone(),
						declared: file.size,
						actual: bytes,
						more: true,
					});
				}
				stack.extend(links.into_iter().rev());
			}
		}
		self.store.pin(root).map_err(|source| PackageError::Directory {
			path: "/".into(),
			source: Box::new(source),
		})?;
		Ok(listing)
	}
}

fn fetch_error(path: &str, source: RemoteError) -> PackageError {
	let path = if path.is_empty() { "/".into() } else { path.into() };
	PackageError::Fetch { path, source: Box::new(source) }
}
