//! CARv1 round trips, pins and garbage collection on the on-disk store.

use citrate_storage::{
	export, export_car, import, import_car, BlockError, CarError, CidMode, FsBlockStore,
	ImportOptions,
};
use std::path::PathBuf;

fn temp_dir(name: &str) -> PathBuf {
	let dir = std::env::temp_dir().join(format!("citrate-car-{}-{name}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	dir
}

fn content(len: usize, seed: usize) -> Vec<u8> {
	(0..len).map(|i| ((i + seed).wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}

fn options(mode: CidMode) -> ImportOptions {
	ImportOptions { mode, chunk_size: 64, max_links: 4 }
}

fn exported(store: &FsBlockStore, root: &cid::Cid) -> Vec<u8> {
	let mut out = Vec::new();
	export(root, store, &mut out).unwrap();
	out
}

#[test]
fn a_car_carries_a_file_to_another_store_and_pins_its_root() {
	for mode in [CidMode::V0, CidMode::V1RawLeaves] {
		let (from_dir, to_dir) =
			(temp_dir(&format!("from-{mode:?}")), temp_dir(&format!("to-{mode:?}")));
		let mut from = FsBlockStore::open(&from_dir).unwrap();
		let data = content(64 * 19 + 3, 1);
		let imported = import(&data[..], options(mode), &mut from).unwrap();

		let mut car = Vec::new();
		let blocks = export_car(&imported.root, &from, &mut car).unwrap();
		assert_eq!(blocks, imported.blocks);

		let to = FsBlockStore::open(&to_dir).unwrap();
		let (roots, count) = import_car(&mut &car[..], &to).unwrap();
		assert_eq!((roots, count), (vec![imported.root], imported.blocks));
		assert_eq!(exported(&to, &imported.root), data);
		let pinned = cid::Cid::new_v1(imported.root.codec(), *imported.root.hash());
		assert_eq!(to.pins().unwrap(), vec![pinned]);
		for dir in [from_dir, to_dir] {
			std::fs::remove_dir_all(dir).unwrap();
		}
	}
}

#[test]
fn a_car_with_a_forged_block_is_refused_and_nothing_is_pinned() {
	let (from_dir, to_dir) = (temp_dir("forged-from"), temp_dir("forged-to"));
	let mut from = FsBlockStore::open(&from_dir).unwrap();
	let data = content(64 * 5, 2);
	let root = import(&data[..], options(CidMode::V1RawLeaves), &mut from).unwrap().root;
	let mut car = Vec::new();
	export_car(&root, &from, &mut car).unwrap();
	// The last section is the last leaf: flip its last byte.
	let last = car.len() - 1;
	car[last] ^= 0x01;

	let to = FsBlockStore::open(&to_dir).unwrap();
	let error = import_car(&mut &car[..], &to).unwrap_err();
	assert!(matches!(error, CarError::Block(BlockError::Corrupted(_))), "{error}");
	assert!(error.to_string().contains("does not match its CID"));
	assert!(to.pins().unwrap().is_empty());

	// Truncated and oversized inputs are malformed, not panics.
	assert!(matches!(import_car(&mut &car[..car.len() - 5], &to), Err(CarError::Malformed(_))));
	assert!(matches!(
		import_car(&mut &[0xff, 0xff, 0xff, 0x7f][..], &to),
		Err(CarError::Malformed(_))
	));
	assert!(matches!(import_car(&mut &[][..], &to), Err(CarError::Malformed(_))));
	for dir in [from_dir, to_dir] {
		std::fs::remove_dir_all(dir).unwrap();
	}
}

#[test]
fn gc_deletes_what_no_pin_reaches() {
	let dir = temp_dir("gc");
	let mut store = FsBlockStore::open(&dir).unwrap();
	let kept = content(64 * 9, 3);
	let dropped = content(64 * 9, 4);
	let kept_root = import(&kept[..], options(CidMode::V0), &mut store).unwrap().root;
	let dropped_import = import(&dropped[..], options(CidMode::V0), &mut store).unwrap();
	store.pin(&kept_root).unwrap();
	store.pin(&dropped_import.root).unwrap();
	assert_eq!(store.gc().unwrap(), 0, "everything is pinned");

	assert!(store.unpin(&dropped_import.root).unwrap());
	assert!(!store.unpin(&dropped_import.root).unwrap());
	assert_eq!(store.gc().unwrap(), dropped_import.blocks);
	assert!(!store.has(&dropped_import.root));
	assert_eq!(exported(&store, &kept_root), kept);
	std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn pinning_needs_the_whole_dag() {
	let dir = temp_dir("pin-missing");
	let store = FsBlockStore::open(&dir).unwrap();
	let missing =
		cid::Cid::try_from("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku").unwrap();
	assert!(store.pin(&missing).is_err());
	assert!(store.pins().unwrap().is_empty());
	std::fs::remove_dir_all(&dir).unwrap();
}
