//! Registered models by CID: real models' files imported as `citrate-node storage add -r`
//! does, then read back as the engine's `ModelFiles` — byte for byte the files loaded from
//! disk, so the same pipeline gives the same outputs (the end-to-end test runs both) — and a
//! package over the size limit refused before its files are read.

mod common;

use citrate_inference::{pipelines::ModelFiles, Error};
use citrate_model_primitives::Framework;
use citrate_storage::{import, import_tree, CidMode, ImportOptions, PackageLimits, TreeOptions};
use common::*;
use std::collections::HashMap;

#[test]
fn an_ocr_package_loads_as_the_files_on_disk() {
	let dir = models_dir().join("pp-ocrv4");
	let from_disk = ModelFiles::from_dir(&dir, 64 << 20).unwrap();
	for mode in [CidMode::V0, CidMode::V1RawLeaves] {
		let mut blocks = HashMap::new();
		let options = ImportOptions { mode, ..Default::default() };
		let package = import_tree(&dir, options, TreeOptions::default(), &mut blocks).unwrap();
		assert_eq!(package.file_bytes, from_disk.total_bytes());
		let limits = PackageLimits::default();
		let from_cid = ModelFiles::from_package(&package.root, Framework::Onnx, limits, &blocks);
		assert_eq!(from_cid.unwrap(), from_disk);

		let small = PackageLimits { max_bytes: 1 << 20, ..Default::default() };
		match ModelFiles::from_package(&package.root, Framework::Onnx, small, &blocks) {
			Err(Error::ModelTooLarge { limit, .. }) => assert_eq!(limit, 1 << 20),
			other => panic!("expected ModelTooLarge, got {other:?}"),
		}
	}
}

#[test]
fn a_single_file_cid_loads_under_its_frameworks_name() {
	let bytes = read_model("all-minilm-l6-v2-int8/model.onnx");
	let mut blocks = HashMap::new();
	let root = import(&bytes[..], ImportOptions::default(), &mut blocks).unwrap().root;
	let files = ModelFiles::from_package(&root, Framework::Onnx, PackageLimits::default(), &blocks)
		.unwrap();
	assert_eq!(files.get("model.onnx"), Some(&bytes[..]));
	assert_eq!(files.total_bytes(), bytes.len() as u64);
}
