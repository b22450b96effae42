//! Our CARs read by the reference reader (npm @ipld/car), and its CARs imported by us.
//! Needs Node and the repository's npm packages (`npm ci`), which `scripts/test.sh` installs.

use citrate_storage::{
	export, export_car, export_tree, import, import_car, import_tree, CidMode, FsBlockStore,
	ImportOptions, TreeLimits, TreeOptions,
};
use std::{path::Path, process::Command};

fn reference_car(args: &[&str]) -> String {
	let root =
		Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
			.join("../..");
	let output = Command::new("node")
		.arg(root.join("scripts/reference-car.mjs"))
		.args(args)
		.current_dir(&root)
		.output()
		.expect("node runs (install Node 20 and run `npm ci`)");
	assert!(
		output.status.success(),
		"reference CAR tool failed: {}",
		String::from_utf8_lossy(&output.stderr)
	);
	String::from_utf8(output.stdout).unwrap()
}

#[test]
fn cars_travel_both_ways_with_the_reference_implementation() {
	let dir = std::env::temp_dir().join(format!("citrate-car-interop-{}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	std::fs::create_dir_all(&dir).unwrap();
	// Three 256 KiB chunks and a bit: a two-level DAG in Kubo's layout.
	let data: Vec<u8> =
		(0..3 * 262_144 + 1_000).map(|i: usize| (i.wrapping_mul(31) >> 3) as u8).collect();
	let file = dir.join("content.bin");
	std::fs::write(&file, &data).unwrap();

	// The reference writes a CAR of the file; we import it, pin it and read the file back.
	let theirs = dir.join("theirs.car");
	let printed = reference_car(&["write", file.to_str().unwrap(), theirs.to_str().unwrap()]);
	let their_root = cid::Cid::try_from(printed.trim().strip_prefix("root ").unwrap()).unwrap();
	let store = FsBlockStore::open(dir.join("store")).unwrap();
	let (roots, _) = import_car(&mut std::fs::File::open(&theirs).unwrap(), &store).unwrap();
	assert_eq!(roots, vec![their_root]);
	let mut out = Vec::new();
	export(&their_root, &store, &mut out).unwrap();
	assert_eq!(out, data);

	// We write a CAR of our own import of the same bytes; the reference reads and verifies it.
	let mut ours = FsBlockStore::open(dir.join("ours")).unwrap();
	let options = ImportOptions { mode: CidMode::V1RawLeaves, ..Default::default() };
	let imported = import(&data[..], options, &mut ours).unwrap();
	assert_eq!(imported.root, their_root, "same bytes, same CID");
	let car = dir.join("ours.car");
	export_car(&imported.root, &ours, &mut std::fs::File::create(&car).unwrap()).unwrap();
	let read = reference_car(&["read", car.to_str().unwrap()]);
	assert_eq!(read, format!("root {}\nblocks {}\n", imported.root, imported.blocks));
	std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn directory_cars_travel_both_ways_with_the_reference_implementation() {
	let dir = std::env::temp_dir().join(format!("citrate-car-tree-{}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	let tree = dir.join("package");
	std::fs::create_dir_all(tree.join("1_Pooling")).unwrap();
	std::fs::create_dir_all(tree.join("empty")).unwrap();
	let weights: Vec<u8> = (0..600_000).map(|i: usize| (i.wrapping_mul(17) >> 2) as u8).collect();
	std::fs::write(tree.join("model.onnx"), &weights).unwrap();
	std::fs::write(tree.join("tokenizer.json"), b"{\"version\": \"1.0\"}").unwrap();
	std::fs::write(tree.join("1_Pooling/config.json"), b"{}").unwrap();

	// The reference's CAR of the tree imports here, and the tree comes back out whole.
	let theirs = dir.join("theirs.car");
	let printed = reference_car(&["write", tree.to_str().unwrap(), theirs.to_str().unwrap()]);
	let their_root = cid::Cid::try_from(printed.trim().strip_prefix("root ").unwrap()).unwrap();
	let store = FsBlockStore::open(dir.join("store")).unwrap();
	let (roots, _) = import_car(&mut std::fs::File::open(&theirs).unwrap(), &store).unwrap();
	assert_eq!(roots, vec![their_root]);
	let copy = dir.join("copy");
	export_tree(&their_root, &store, &copy, TreeLimits::default()).unwrap();
	assert_eq!(std::fs::read(copy.join("model.onnx")).unwrap(), weights);
	assert_eq!(std::fs::read(copy.join("1_Pooling/config.json")).unwrap(), b"{}");
	assert!(copy.join("empty").is_dir());

	// Our import of the same tree has the same root; our CAR of it reads and verifies there.
	let mut ours = FsBlockStore::open(dir.join("ours")).unwrap();
	let options = ImportOptions { mode: CidMode::V1RawLeaves, ..Default::default() };
	let imported = import_tree(&tree, options, TreeOptions::default(), &mut ours).unwrap();
	assert_eq!(imported.root, their_root, "same tree, same CID");
	let car = dir.join("ours.car");
	let written = export_car(&imported.root, &ours, &mut std::fs::File::create(&car).unwrap());
	let read = reference_car(&["read", car.to_str().unwrap()]);
	assert_eq!(read, format!("root {}\nblocks {}\n", imported.root, written.unwrap()));
	std::fs::remove_dir_all(&dir).unwrap();
}
