//! Directory trees: CIDs identical to the reference importer (npm `ipfs-unixfs-importer` with
//! Kubo's settings, `scripts/reference-tree-cid.mjs`) in both modes for a nested tree with an
//! empty file, an empty directory and a file crossing the 174-link boundary; export back to
//! disk, all or nothing; paths resolved through verified blocks; and every refusal by name.

use citrate_storage::{
	export, export_tree, import_tree, resolve_path, BlockError, CidMode, ExportError, FsBlockStore,
	ImportOptions, TreeError, TreeLimits, TreeOptions,
};
use std::{
	collections::HashMap,
	fs,
	path::{Path, PathBuf},
	process::Command,
};

fn temp(name: &str) -> PathBuf {
	let dir = std::env::temp_dir().join(format!("citrate-dirs-{}-{name}", std::process::id()));
	let _ = fs::remove_dir_all(&dir);
	fs::create_dir_all(&dir).unwrap();
	dir
}

fn content(len: usize, seed: usize) -> Vec<u8> {
	(0..len).map(|i| ((i + seed).wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}

const CHUNK: usize = 1024;

/// A package-like tree: files at two depths, an empty file, an empty directory, and a file
/// of 174 chunks + 1 byte (a second tree level).
fn make_tree(root: &Path) {
	fs::create_dir_all(root.join("sub/deeper")).unwrap();
	fs::create_dir_all(root.join("empty-dir")).unwrap();
	fs::write(root.join("model.onnx"), content(5000, 1)).unwrap();
	fs::write(root.join("empty.txt"), b"").unwrap();
	fs::write(root.join("config.json"), b"{\"a\": 1}\n").unwrap();
	fs::write(root.join("sub/tokenizer.json"), content(3000, 2)).unwrap();
	fs::write(root.join("sub/deeper/big.bin"), content(174 * CHUNK + 1, 3)).unwrap();
}

fn options(mode: CidMode) -> ImportOptions {
	ImportOptions { mode, chunk_size: CHUNK, ..Default::default() }
}

fn reference(dir: &Path) -> (cid::Cid, cid::Cid) {
	let repo =
		Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
			.join("../..");
	let output = Command::new("node")
		.arg(repo.join("scripts/reference-tree-cid.mjs"))
		.arg(dir)
		.arg(CHUNK.to_string())
		.current_dir(&repo)
		.output()
		.expect("node runs (install Node 20 and run `npm ci`)");
	assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
	let text = String::from_utf8(output.stdout).unwrap();
	let cid_of = |mode: &str| {
		let line = text.lines().find(|l| l.starts_with(mode)).expect("a CID per mode");
		cid::Cid::try_from(&line[mode.len() + 1..]).unwrap()
	};
	(cid_of("v0"), cid_of("v1"))
}

#[test]
fn trees_get_the_reference_importers_cids_in_both_modes() {
	let work = temp("reference");
	let tree = work.join("pkg");
	make_tree(&tree);
	let (v0, v1) = reference(&tree);
	println!("reference nested tree: v0 {v0}, v1 {v1}");
	let ours =
		|mode| import_tree(&tree, options(mode), TreeOptions::default(), &mut ()).unwrap().root;
	assert_eq!(ours(CidMode::V0), v0);
	assert_eq!(ours(CidMode::V1RawLeaves), v1);
	// Wrapping one file gives a directory holding it under its name, as `ipfs add -w` does.
	let wrapped = work.join("wrapped");
	fs::create_dir_all(&wrapped).unwrap();
	fs::copy(tree.join("model.onnx"), wrapped.join("model.onnx")).unwrap();
	let wrap = TreeOptions { wrap: true, ..Default::default() };
	let file = import_tree(&tree.join("model.onnx"), options(CidMode::V0), wrap, &mut ()).unwrap();
	assert_eq!(file.root, reference(&wrapped).0);
	fs::remove_dir_all(&work).unwrap();
}

#[test]
fn the_empty_directory_is_kubos() {
	let work = temp("empty");
	let tree = work.join("nothing");
	fs::create_dir_all(&tree).unwrap();
	let imported =
		import_tree(&tree, options(CidMode::V0), TreeOptions::default(), &mut ()).unwrap();
	assert_eq!(imported.root.to_string(), "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn");
	fs::remove_dir_all(&work).unwrap();
}

#[test]
fn trees_round_trip_through_the_store_and_paths_resolve() {
	for mode in [CidMode::V0, CidMode::V1RawLeaves] {
		let work = temp(&format!("round-trip-{mode:?}"));
		let tree = work.join("pkg");
		make_tree(&tree);
		let mut store = FsBlockStore::open(work.join("store")).unwrap();
		let imported =
			import_tree(&tree, options(mode), TreeOptions::default(), &mut store).unwrap();
		assert_eq!(imported.files, 5);
		assert_eq!(imported.file_bytes, 5000 + 9 + 3000 + 174 * CHUNK as u64 + 1);

		let out = work.join("out");
		let exported = export_tree(&imported.root, &store, &out, TreeLimits::default()).unwrap();
		assert_eq!((exported.files, exported.bytes), (imported.files, imported.file_bytes));
		for file in ["model.onnx", "empty.txt", "config.json", "sub/tokenizer.json"] {
			assert_eq!(fs::read(out.join(file)).unwrap(), fs::read(tree.join(file)).unwrap());
		}
		assert_eq!(fs::read(out.join("sub/deeper/big.bin")).unwrap(), content(174 * CHUNK + 1, 3));
		assert!(out.join("empty-dir").is_dir());
		assert!(matches!(
			export_tree(&imported.root, &store, &out, TreeLimits::default()),
			Err(ExportError::Exists(_))
		));

		let path = resolve_path(&imported.root, "sub/deeper/big.bin", &store).unwrap();
		assert_eq!(path.len(), 4);
		let mut bytes = Vec::new();
		export(path.last().unwrap(), &store, &mut bytes).unwrap();
		assert_eq!(bytes, content(174 * CHUNK + 1, 3));
		let missing = resolve_path(&imported.root, "sub/nope.json", &store).unwrap_err();
		assert_eq!(missing.to_string(), "/sub/nope.json does not exist in the DAG");
		let through_file = resolve_path(&imported.root, "model.onnx/x", &store).unwrap_err();
		assert!(
			matches!(&through_file, ExportError::NotADirectory { path, .. } if path == "/model.onnx"),
			"{through_file}"
		);
		let as_file = export(&imported.root, &store, &mut Vec::new()).unwrap_err();
		assert!(matches!(as_file, ExportError::IsDirectory { cid } if cid == imported.root));
		fs::remove_dir_all(&work).unwrap();
	}
}

#[test]
fn a_corrupted_block_leaves_no_partial_tree() {
	let work = temp("corrupt");
	let tree = work.join("pkg");
	make_tree(&tree);
	let mut blocks: HashMap<cid::Cid, Vec<u8>> = HashMap::new();
	let imported =
		import_tree(&tree, options(CidMode::V1RawLeaves), TreeOptions::default(), &mut blocks)
			.unwrap();
	// Corrupt the 1-byte last leaf of the big file, deep in the tree.
	let leaf = blocks.iter().find(|(_, block)| block.len() == 1).map(|(cid, _)| *cid).unwrap();
	blocks.get_mut(&leaf).unwrap()[0] ^= 1;
	let out = work.join("out");
	let error = export_tree(&imported.root, &blocks, &out, TreeLimits::default()).unwrap_err();
	assert!(
		matches!(error, ExportError::Block(BlockError::Corrupted(cid)) if cid == leaf),
		"{error}"
	);
	assert!(!out.exists());
	assert_eq!(fs::read_dir(&work).unwrap().count(), 1, "no staging directory left behind");
	fs::remove_dir_all(&work).unwrap();
}

#[test]
fn what_a_package_never_needs_is_refused_by_name() {
	use std::os::unix::{ffi::OsStrExt, fs::symlink};
	let work = temp("refusals");
	let refuse = |tree: &Path, tree_options: TreeOptions| {
		import_tree(tree, options(CidMode::V0), tree_options, &mut ()).unwrap_err()
	};

	let outside = work.join("outside");
	fs::create_dir_all(outside.join("pkg")).unwrap();
	fs::write(work.join("secret"), b"x").unwrap();
	symlink(work.join("secret"), outside.join("pkg/link")).unwrap();
	let error = refuse(&outside.join("pkg"), TreeOptions::default());
	assert!(matches!(&error, TreeError::SymlinkOutside { path, .. } if path.ends_with("link")));

	// A link to a file inside the tree is followed: same CID as the file itself.
	let inside = work.join("inside");
	fs::create_dir_all(&inside).unwrap();
	fs::write(inside.join("a"), b"same").unwrap();
	symlink(inside.join("a"), inside.join("b")).unwrap();
	let copy = work.join("copy");
	fs::create_dir_all(&copy).unwrap();
	fs::write(copy.join("a"), b"same").unwrap();
	fs::write(copy.join("b"), b"same").unwrap();
	let root = |tree: &Path| {
		import_tree(tree, options(CidMode::V0), TreeOptions::default(), &mut ()).unwrap().root
	};
	assert_eq!(root(&inside), root(&copy));
	symlink(&inside, inside.join("loop")).unwrap();
	assert!(matches!(
		refuse(&inside, TreeOptions::default()),
		TreeError::SymlinkToDirectory { .. }
	));

	let bad_name = work.join("bad-name");
	fs::create_dir_all(&bad_name).unwrap();
	fs::write(bad_name.join(std::ffi::OsStr::from_bytes(b"caf\xe9")), b"x").unwrap();
	let error = refuse(&bad_name, TreeOptions::default());
	assert!(error.to_string().ends_with("name refused: the name is not UTF-8"), "{error}");

	let deep = work.join("deep");
	fs::create_dir_all(deep.join("1/2/3")).unwrap();
	let limits = TreeLimits { max_depth: 2, ..Default::default() };
	let error = refuse(&deep, TreeOptions { limits, ..Default::default() });
	assert!(matches!(&error, TreeError::TooDeep { path, limit: 2 } if path.ends_with("1/2/3")));

	let many = work.join("many");
	fs::create_dir_all(&many).unwrap();
	for i in 0..5 {
		fs::write(many.join(format!("f{i}")), b"x").unwrap();
	}
	let limits = TreeLimits { max_entries: 4, ..Default::default() };
	let error = refuse(&many, TreeOptions { limits, ..Default::default() });
	assert!(matches!(error, TreeError::TooManyEntries { limit: 4, .. }));

	// Names and CIDs over 256 KiB in one directory: Kubo would shard it.
	let wide = work.join("wide");
	fs::create_dir_all(&wide).unwrap();
	for i in 0..1200 {
		fs::write(wide.join(format!("{i:0>200}")), b"").unwrap();
	}
	let error = refuse(&wide, TreeOptions::default());
	assert!(matches!(error, TreeError::NeedsSharding { .. }), "{error}");

	// Hidden entries are skipped unless asked for, as in Kubo.
	let hidden = work.join("hidden");
	fs::create_dir_all(&hidden).unwrap();
	fs::write(hidden.join(".git-thing"), b"x").unwrap();
	let empty = root(&hidden);
	assert_eq!(empty.to_string(), "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn");
	let with_hidden = TreeOptions { hidden: true, ..Default::default() };
	let imported = import_tree(&hidden, options(CidMode::V0), with_hidden, &mut ()).unwrap();
	assert_eq!(imported.files, 1);
	fs::remove_dir_all(&work).unwrap();
}
