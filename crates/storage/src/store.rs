//! The embedded block store: one file per block under a directory (by default under the
//! node's base path), named by the block's CIDv1 so CIDv0 and CIDv1 of a block share it.
//! Writes are atomic (temporary file, then rename); every read is checked against its CID.

use crate::{
	block::{verify, BlockError, BlockSource},
	unixfs::{parse_block, ExportError},
};
use cid::Cid;
use citrate_ipfs_primitives::cid::RAW;
use std::{
	fs, io,
	path::{Path, PathBuf},
	sync::atomic::{AtomicU64, Ordering},
};

/// Blocks on disk under one directory.
#[derive(Clone)]
pub struct FsBlockStore {
	root: PathBuf,
}

impl FsBlockStore {
	/// Opens (creating it if needed) the store at `root`.
	pub fn open(root: impl AsRef<Path>) -> io::Result<Self> {
		let root = root.as_ref().to_path_buf();
		fs::create_dir_all(root.join("blocks"))?;
		Ok(Self { root })
	}

	/// The file a block lives in: `blocks/<last two chars>/<CIDv1 base32>`, like Kubo's
	/// flatfs sharding, so no directory grows too large.
	pub fn block_path(&self, cid: &Cid) -> PathBuf {
		let name = Cid::new_v1(cid.codec(), *cid.hash()).to_string();
		let shard = &name[name.len() - 2..];
		self.root.join("blocks").join(shard).join(name)
	}

	pub fn has(&self, cid: &Cid) -> bool {
		self.block_path(cid).is_file()
	}

	/// Stores a block after checking it matches `cid`.
	pub fn put(&self, cid: &Cid, block: &[u8]) -> Result<(), BlockError> {
		verify(cid, block)?;
		self.write(cid, block)
	}

	/// Stores a block whose CID was just computed from these bytes.
	fn write(&self, cid: &Cid, block: &[u8]) -> Result<(), BlockError> {
		let path = self.block_path(cid);
		if path.is_file() {
			return Ok(());
		}
		let io_error = |source| BlockError::Io { cid: *cid, source };
		let dir = path.parent().expect("block paths have a shard directory");
		// Unique per process and per write, so concurrent writers never share a file.
		static WRITES: AtomicU64 = AtomicU64::new(0);
		let temporary = dir.join(format!(
			".{}-{}.tmp",
			std::process::id(),
			WRITES.fetch_add(1, Ordering::Relaxed)
		));
		if let Err(error) = fs::write(&temporary, block) {
			// The shard directory is made on its first block only.
			if error.kind() != io::ErrorKind::NotFound {
				return Err(io_error(error));
			}
			fs::create_dir_all(dir).map_err(io_error)?;
			fs::write(&temporary, block).map_err(io_error)?;
		}
		fs::rename(&temporary, &path).map_err(io_error)
	}

	/// Reads a block, refusing it if its bytes no longer match its CID.
	/// (Also the store's [`BlockSource::get`].)
	pub fn get(&self, cid: &Cid) -> Result<Vec<u8>, BlockError> {
		let block = fs::read(self.block_path(cid)).map_err(|source| match source.kind() {
			io::ErrorKind::NotFound => BlockError::NotFound(*cid),
			_ => BlockError::Io { cid: *cid, source },
		})?;
		verify(cid, &block)?;
		Ok(block)
	}
}

impl BlockSource for FsBlockStore {
	fn get(&self, cid: &Cid) -> Result<Vec<u8>, BlockError> {
		FsBlockStore::get(self, cid)
	}
}

impl FsBlockStore {
	fn pin_path(&self, root: &Cid) -> PathBuf {
		self.root.join("pins").join(Cid::new_v1(root.codec(), *root.hash()).to_string())
	}

	/// Pins `root` and everything under it against garbage collection. The whole DAG must
	/// be in the store.
	pub fn pin(&self, root: &Cid) -> Result<(), ExportError> {
		self.reachable(root, &mut std::collections::HashSet::new())?;
		let path = self.pin_path(root);
		let io_error = |source| BlockError::Io { cid: *root, source };
		fs::create_dir_all(path.parent().expect("pins directory")).map_err(io_error)?;
		fs::write(&path, root.to_string()).map_err(io_error)?;
		Ok(())
	}

	/// Removes a pin; returns whether it existed. Blocks stay until [`Self::gc`].
	pub fn unpin(&self, root: &Cid) -> io::Result<bool> {
		match fs::remove_file(self.pin_path(root)) {
			Ok(()) => Ok(true),
			Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
			Err(e) => Err(e),
		}
	}

	/// The pinned roots, as CIDv1.
	pub fn pins(&self) -> io::Result<Vec<Cid>> {
		let dir = self.root.join("pins");
		if !dir.is_dir() {
			return Ok(Vec::new());
		}
		let mut pins = Vec::new();
		for entry in fs::read_dir(dir)? {
			let name = entry?.file_name();
			if let Ok(cid) = Cid::try_from(name.to_string_lossy().as_ref()) {
				pins.push(cid);
			}
		}
		pins.sort_by_key(|cid| cid.to_string());
		Ok(pins)
	}

	/// Adds every block under `root` to `seen` (as CIDv1). Parents are read and verified to
	/// follow their links; raw leaves carry no links, so they are only checked to be present,
	/// which keeps pinning and GC from re-hashing gigabytes of weights.
	fn reachable(
		&self,
		root: &Cid,
		seen: &mut std::collections::HashSet<Cid>,
	) -> Result<(), ExportError> {
		let mut todo = vec![*root];
		while let Some(cid) = todo.pop() {
			if !seen.insert(Cid::new_v1(cid.codec(), *cid.hash())) {
				continue;
			}
			if cid.codec() == RAW {
				if !self.has(&cid) {
					return Err(BlockError::NotFound(cid).into());
				}
				continue;
			}
			todo.extend(parse_block(&cid, self.get(&cid)?)?.links());
		}
		Ok(())
	}

	/// Deletes every block no pin reaches; returns how many were deleted.
	pub fn gc(&self) -> Result<u64, ExportError> {
		let mut keep = std::collections::HashSet::new();
		for pin in self.pins().map_err(BlockError::Dir)? {
			self.reachable(&pin, &mut keep)?;
		}
		let mut deleted = 0;
		let shards = fs::read_dir(self.root.join("blocks")).map_err(BlockError::Dir)?;
		for shard in shards.flatten() {
			for entry in fs::read_dir(shard.path()).into_iter().flatten().flatten() {
				let name = entry.file_name();
				let Ok(cid) = Cid::try_from(name.to_string_lossy().as_ref()) else { continue };
				if !keep.contains(&cid) && fs::remove_file(entry.path()).is_ok() {
					deleted += 1;
				}
			}
		}
		Ok(deleted)
	}
}

/// The importer's sink: it computed each CID from the block's bytes, so they are not hashed
/// a second time.
impl crate::BlockSink for FsBlockStore {
	fn put(&mut self, cid: &Cid, block: &[u8]) -> io::Result<()> {
		self.write(cid, block).map_err(io::Error::other)
	}
}

/// The same through a shared reference: a store shared between tasks (an `Arc`) imports too.
impl crate::BlockSink for &FsBlockStore {
	fn put(&mut self, cid: &Cid, block: &[u8]) -> io::Result<()> {
		self.write(cid, block).map_err(io::Error::other)
	}
}

/// Blocks in flight between the importer and the writer thread; bounds the memory a
/// [`BackgroundWriter`] holds to this many chunks.
const IN_FLIGHT: usize = 8;

/// An importer sink that writes blocks on a second thread, so hashing the next chunk overlaps
/// writing this one (an import is otherwise hashing, then file-system time, in turn). Block
/// buffers go back and forth, so a multi-GB import allocates [`IN_FLIGHT`] + 1 of them.
/// Call [`BackgroundWriter::finish`] before relying on the blocks being stored.
pub struct BackgroundWriter {
	blocks: Option<std::sync::mpsc::SyncSender<(Cid, Vec<u8>)>>,
	spare: std::sync::mpsc::Receiver<Vec<u8>>,
	thread: Option<std::thread::JoinHandle<Result<(), BlockError>>>,
}

impl FsBlockStore {
	/// A sink writing into this store from a background thread.
	pub fn background_writer(&self) -> BackgroundWriter {
		let (blocks, incoming) = std::sync::mpsc::sync_channel::<(Cid, Vec<u8>)>(IN_FLIGHT);
		let (give_back, spare) = std::sync::mpsc::sync_channel(IN_FLIGHT + 1);
		let store = self.clone();
		let thread = std::thread::spawn(move || {
			for (cid, block) in incoming {
				store.write(&cid, &block)?;
				let _ = give_back.try_send(block);
			}
			Ok(())
		});
		BackgroundWriter { blocks: Some(blocks), spare, thread: Some(thread) }
	}
}

impl BackgroundWriter {
	/// Waits until every block is written; returns the first write error.
	pub fn finish(mut self) -> Result<(), BlockError> {
		self.join()
	}

	fn join(&mut self) -> Result<(), BlockError> {
		self.blocks = None;
		match self.thread.take().map(|thread| thread.join()) {
			Some(Ok(result)) => result,
			Some(Err(_)) => Err(BlockError::Dir(io::Error::other("the block writer panicked"))),
			None => Ok(()),
		}
	}
}

impl crate::BlockSink for BackgroundWriter {
	fn put(&mut self, cid: &Cid, block: &[u8]) -> io::Result<()> {
		self.put_parts(cid, &[block])
	}

	fn put_parts(&mut self, cid: &Cid, parts: &[&[u8]]) -> io::Result<()> {
		let mut buffer = self.spare.try_recv().unwrap_or_default();
		buffer.clear();
		parts.iter().for_each(|part| buffer.extend_from_slice(part));
		let sent = self.blocks.as_ref().map(|blocks| blocks.send((*cid, buffer)));
		match sent {
			Some(Ok(())) => Ok(()),
			// The writer stopped at an error: report it.
			_ => Err(io::Error::other(
				self.join().err().map_or("the block writer stopped".into(), |e| e.to_string()),
			)),
		}
	}
}

impl Drop for BackgroundWriter {
	fn drop(&mut self) {
		let _ = self.join();
	}
}
