//! CID identity with the reference importer (npm `ipfs-unixfs-importer` with Kubo's
//! settings, run by `scripts/reference-cid.mjs`) at the sizes where the layout changes.
//! Needs Node and the repository's npm packages (`npm ci`), which `scripts/test.sh` installs.

use citrate_storage::{import, CidMode, ImportOptions};
use std::{
	fs::File,
	io::{BufWriter, Write},
	path::{Path, PathBuf},
	process::Command,
};

const CHUNK: u64 = 256 * 1024;

/// Deterministic incompressible bytes (xorshift64*), so every chunk differs.
fn write_content(path: &Path, len: u64, seed: u64) {
	let mut out = BufWriter::new(File::create(path).unwrap());
	let mut state = seed | 1;
	let mut left = len;
	while left > 0 {
		state ^= state >> 12;
		state ^= state << 25;
		state ^= state >> 27;
		let word = state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
		let n = left.min(8) as usize;
		out.write_all(&word[..n]).unwrap();
		left -= n as u64;
	}
	out.flush().unwrap();
}

fn repo_root() -> PathBuf {
	Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
		.join("../..")
}

/// `(v0, v1)` CIDs from the reference importer.
fn reference(path: &Path, chunk_size: usize) -> (cid::Cid, cid::Cid) {
	let output = Command::new("node")
		.arg(repo_root().join("scripts/reference-cid.mjs"))
		.arg(path)
		.arg(chunk_size.to_string())
		.current_dir(repo_root())
		.output()
		.expect("node runs (install Node 20 and run `npm ci`)");
	assert!(
		output.status.success(),
		"reference importer failed (run `npm ci`): {}",
		String::from_utf8_lossy(&output.stderr)
	);
	let text = String::from_utf8(output.stdout).unwrap();
	let cid_of = |mode: &str| {
		let line = text.lines().find(|l| l.starts_with(mode)).expect("a CID per mode");
		cid::Cid::try_from(&line[mode.len() + 1..]).unwrap()
	};
	(cid_of("v0"), cid_of("v1"))
}

fn ours(path: &Path, mode: CidMode, chunk_size: usize) -> cid::Cid {
	let options = ImportOptions { mode, chunk_size, ..Default::default() };
	import(File::open(path).unwrap(), options, &mut ()).unwrap().root
}

fn check(len: u64, chunk_size: usize) {
	let dir = std::env::temp_dir().join(format!("citrate-kubo-cids-{}", std::process::id()));
	std::fs::create_dir_all(&dir).unwrap();
	let path = dir.join(format!("{len}-{chunk_size}.bin"));
	write_content(&path, len, len ^ 0x5eed);
	let (v0, v1) = reference(&path, chunk_size);
	assert_eq!(ours(&path, CidMode::V0, chunk_size), v0, "CIDv0 of {len} bytes");
	assert_eq!(ours(&path, CidMode::V1RawLeaves, chunk_size), v1, "CIDv1 of {len} bytes");
	std::fs::remove_file(&path).unwrap();
}

#[test]
fn empty_and_one_byte_files() {
	check(0, CHUNK as usize);
	check(1, CHUNK as usize);
}

#[test]
fn one_chunk_and_one_byte_more() {
	check(CHUNK, CHUNK as usize);
	check(CHUNK + 1, CHUNK as usize);
}

#[test]
fn a_full_parent_and_one_byte_more() {
	// 174 chunks fill one parent; one more byte needs a second level.
	check(174 * CHUNK, CHUNK as usize);
	check(174 * CHUNK + 1, CHUNK as usize);
}

#[test]
fn three_levels_with_a_small_chunk_size() {
	// 1 KiB chunks reach a third level (174² + 1 leaves) in 30 MiB.
	check(174 * 174 * 1024 + 1, 1024);
}

#[test]
fn tens_of_mib() {
	check(40 * 1024 * 1024 + 12_345, CHUNK as usize);
}
