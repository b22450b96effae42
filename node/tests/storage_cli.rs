//! `citrate-node storage`: add, get, ls, stat, export-car, import-car, unpin and gc on real files,
//! and a corrupted block refused with nothing written.

use std::{
	path::{Path, PathBuf},
	process::Command,
};

fn storage(base: &Path, args: &[&str]) -> std::process::Output {
	Command::new(env!("CARGO_BIN_EXE_citrate-node"))
		.arg("storage")
		.arg("--base-path")
		.arg(base)
		.args(args)
		.output()
		.expect("citrate-node runs")
}

fn ok(base: &Path, args: &[&str]) -> String {
	let output = storage(base, args);
	assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
	String::from_utf8(output.stdout).unwrap()
}

fn temp(name: &str) -> PathBuf {
	let dir = std::env::temp_dir().join(format!("citrate-cli-{}-{name}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	std::fs::create_dir_all(&dir).unwrap();
	dir
}

#[test]
fn files_go_in_out_and_between_nodes() {
	let work = temp("work");
	let (node_a, node_b) = (work.join("a"), work.join("b"));
	let data: Vec<u8> =
		(0..600_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
	let file = work.join("model.onnx");
	std::fs::write(&file, &data).unwrap();
	let path = file.to_str().unwrap();

	let hash_only = ok(&node_a, &["add", "--only-hash", path]);
	let cid = ok(&node_a, &["add", path]).trim().to_string();
	assert_eq!(hash_only.trim(), cid);
	assert!(cid.starts_with("Qm"), "ipfs add defaults give a CIDv0: {cid}");
	let cid_v1 = ok(&node_a, &["add", "--cid-version", "1", path]).trim().to_string();
	assert!(cid_v1.starts_with("bafy"), "{cid_v1}");
	assert_eq!(ok(&node_a, &["ls"]).lines().count(), 2);

	let out = work.join("out.onnx");
	ok(&node_a, &["get", &cid, "--output", out.to_str().unwrap()]);
	assert_eq!(std::fs::read(&out).unwrap(), data);

	// Node B gets the file through a CAR and serves the same bytes.
	let car = work.join("model.car");
	ok(&node_a, &["export-car", &cid_v1, "--output", car.to_str().unwrap()]);
	let imported = ok(&node_b, &["import-car", car.to_str().unwrap()]);
	assert!(imported.starts_with(&cid_v1), "{imported}");
	let stdout_copy = storage(&node_b, &["get", &cid_v1]);
	assert_eq!(stdout_copy.stdout, data);

	// Unpinned blocks go at gc; the other pin keeps what it reaches.
	ok(&node_a, &["unpin", &cid_v1]);
	let removed = ok(&node_a, &["gc"]);
	assert!(removed.starts_with("removed ") && !removed.starts_with("removed 0 "), "{removed}");
	ok(&node_a, &["get", &cid, "--output", out.to_str().unwrap()]);
	assert!(!storage(&node_a, &["get", &cid_v1]).status.success());
	assert!(!storage(&node_a, &["unpin", &cid_v1]).status.success(), "not pinned any more");

	// A directory tree goes in with -r and comes back whole.
	let tree = work.join("package");
	std::fs::create_dir_all(tree.join("sub")).unwrap();
	std::fs::write(tree.join("model.onnx"), &data).unwrap();
	std::fs::write(tree.join("sub/config.json"), b"{}").unwrap();
	let refused = storage(&node_a, &["add", tree.to_str().unwrap()]);
	assert!(String::from_utf8_lossy(&refused.stderr).contains("is a directory; use -r"));
	let dir_cid = ok(&node_a, &["add", "-r", tree.to_str().unwrap()]).trim().to_string();
	let copy = work.join("copy");
	ok(&node_a, &["get", &dir_cid, "--output", copy.to_str().unwrap()]);
	assert_eq!(std::fs::read(copy.join("model.onnx")).unwrap(), data);
	assert_eq!(std::fs::read(copy.join("sub/config.json")).unwrap(), b"{}");
	let again = storage(&node_a, &["get", &dir_cid, "--output", copy.to_str().unwrap()]);
	assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

	// ls shows what is a file and what a directory; stat gives the size to register.
	let listing = ok(&node_a, &["ls", &dir_cid]);
	let rows: Vec<Vec<&str>> = listing.lines().map(|line| line.split('\t').collect()).collect();
	assert_eq!(rows.len(), 2, "{listing}");
	assert_eq!(
		(rows[0][0], rows[0][1], rows[0][3]),
		("file", &*data.len().to_string(), "model.onnx")
	);
	assert_eq!((rows[1][0], rows[1][1], rows[1][3]), ("dir", "2", "sub/"));
	let stat: serde_json::Value = serde_json::from_str(&ok(&node_a, &["stat", &dir_cid])).unwrap();
	assert_eq!(stat["kind"], "dir");
	assert_eq!(stat["files"], 2);
	assert_eq!(stat["bytes"], data.len() as u64 + 2);
	assert!(ok(&node_a, &["ls", &cid]).starts_with(&format!("file\t{}\t", data.len())));
	std::fs::remove_dir_all(&work).unwrap();
}

#[test]
fn a_corrupted_block_fails_the_get_and_writes_no_file() {
	let work = temp("corrupt");
	let node = work.join("node");
	let file = work.join("small.bin");
	std::fs::write(&file, b"a model small enough for one raw block").unwrap();
	let cid = ok(&node, &["add", "--cid-version", "1", file.to_str().unwrap()]).trim().to_string();

	let store = citrate_storage::FsBlockStore::open(node.join("ipfs")).unwrap();
	let block = store.block_path(&cid::Cid::try_from(cid.as_str()).unwrap());
	std::fs::write(&block, b"a model small enough for one raw blocK").unwrap();

	let out = work.join("out.bin");
	let output = storage(&node, &["get", &cid, "--output", out.to_str().unwrap()]);
	assert!(!output.status.success());
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(stderr.contains(&cid) && stderr.contains("does not match its CID"), "{stderr}");
	assert!(!out.exists() && !out.with_extension("partial").exists(), "nothing was written");
	std::fs::remove_dir_all(&work).unwrap();
}
