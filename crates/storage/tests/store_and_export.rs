//! Import into the on-disk store, export back with verification, and refuse corruption.

use citrate_storage::{
	export, import, BlockError, CidMode, ExportError, FsBlockStore, ImportOptions,
};
use std::path::PathBuf;

fn temp_dir(name: &str) -> PathBuf {
	let dir = std::env::temp_dir().join(format!("citrate-store-{}-{name}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	dir
}

fn content(len: usize) -> Vec<u8> {
	(0..len).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}

/// Small chunks and links so a few KiB make a three-level tree.
fn options(mode: CidMode) -> ImportOptions {
	ImportOptions { mode, chunk_size: 64, max_links: 4 }
}

#[test]
fn files_round_trip_through_the_store_in_both_modes() {
	for mode in [CidMode::V0, CidMode::V1RawLeaves] {
		let dir = temp_dir(&format!("{mode:?}"));
		let mut store = FsBlockStore::open(&dir).unwrap();
		let data = content(64 * 21 + 5);
		let imported = import(&data[..], options(mode), &mut store).unwrap();
		let mut out = Vec::new();
		assert_eq!(export(&imported.root, &store, &mut out).unwrap(), data.len() as u64);
		assert_eq!(out, data);
		// The CIDv0 and CIDv1 of a block are the same file.
		let v1 = cid::Cid::new_v1(imported.root.codec(), *imported.root.hash());
		assert!(store.has(&v1));
		std::fs::remove_dir_all(&dir).unwrap();
	}
}

#[test]
fn a_corrupted_block_is_refused_naming_its_cid() {
	let dir = temp_dir("corrupt");
	// Record the leaves in order while importing into the store.
	struct Recording {
		store: FsBlockStore,
		cids: Vec<cid::Cid>,
	}
	impl citrate_storage::BlockSink for Recording {
		fn put(&mut self, cid: &cid::Cid, block: &[u8]) -> std::io::Result<()> {
			self.cids.push(*cid);
			citrate_storage::BlockSink::put(&mut self.store, cid, block)
		}
	}
	let mut sink = Recording { store: FsBlockStore::open(&dir).unwrap(), cids: Vec::new() };
	let data = content(64 * 3);
	let root = import(&data[..], options(CidMode::V1RawLeaves), &mut sink).unwrap().root;
	let first_leaf = sink.cids[0];

	// Flip one byte of the first leaf's file on disk.
	let file = sink.store.block_path(&first_leaf);
	assert!(file.ends_with(first_leaf.to_string()), "stored under its CIDv1");
	let mut bytes = std::fs::read(&file).unwrap();
	bytes[0] ^= 0xff;
	std::fs::write(&file, bytes).unwrap();

	let mut out = Vec::new();
	let error = export(&root, &sink.store, &mut out).unwrap_err();
	assert!(matches!(error, ExportError::Block(BlockError::Corrupted(cid)) if cid == first_leaf));
	assert!(error.to_string().contains(&first_leaf.to_string()), "{error}");
	assert!(out.is_empty(), "no byte of the corrupted block (or after it) was written");
	assert!(matches!(sink.store.get(&first_leaf), Err(BlockError::Corrupted(_))));

	// A missing block is named too.
	std::fs::remove_file(&file).unwrap();
	let error = export(&root, &sink.store, &mut Vec::new()).unwrap_err();
	assert!(matches!(error, ExportError::Block(BlockError::NotFound(cid)) if cid == first_leaf));
	std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_store_refuses_a_block_that_does_not_match_its_cid() {
	let dir = temp_dir("refuse");
	let mut store = FsBlockStore::open(&dir).unwrap();
	let root = import(&b"hello"[..], options(CidMode::V1RawLeaves), &mut store).unwrap().root;
	let other_dir = temp_dir("refuse-other");
	let other = FsBlockStore::open(&other_dir).unwrap();
	assert!(matches!(other.put(&root, b"not hello"), Err(BlockError::Corrupted(_))));
	assert!(!other.has(&root));
	for dir in [dir, other_dir] {
		std::fs::remove_dir_all(dir).unwrap();
	}
}

#[test]
fn the_background_writer_stores_everything_and_reports_write_errors() {
	let dir = temp_dir("background");
	let store = FsBlockStore::open(&dir).unwrap();
	let data = content(64 * 200 + 3);
	let mut writer = store.background_writer();
	let imported = import(&data[..], options(CidMode::V0), &mut writer).unwrap();
	writer.finish().unwrap();
	let mut out = Vec::new();
	export(&imported.root, &store, &mut out).unwrap();
	assert_eq!(out, data);

	// A store whose block directory is gone and replaced by a file cannot be written: the
	// error comes back from the import or from `finish`, never silently.
	let broken_dir = temp_dir("background-broken");
	let broken = FsBlockStore::open(&broken_dir).unwrap();
	std::fs::remove_dir_all(broken_dir.join("blocks")).unwrap();
	std::fs::write(broken_dir.join("blocks"), b"not a directory").unwrap();
	let mut writer = broken.background_writer();
	let imported = import(&data[..], options(CidMode::V1RawLeaves), &mut writer);
	let finished = writer.finish();
	assert!(imported.is_err() || finished.is_err());
	std::fs::remove_dir_all(&dir).unwrap();
	std::fs::remove_dir_all(&broken_dir).unwrap();
}
