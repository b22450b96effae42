//! Proofs of holding (`citrate_ipfs_primitives::proof`) over DAGs built by the real importer:
//! honest paths verify in both CID modes and at every tree depth; forged blocks, wrong leaves,
//! wrong sizes and missing blocks are refused.

use citrate_ipfs_primitives::{
	cid as pcid,
	proof::{prove, verify, ProofError, ProveError},
};
use citrate_storage::{import, CidMode, ImportOptions};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

fn sha256(bytes: &[u8]) -> [u8; 32] {
	Sha256::digest(bytes).into()
}

fn content(len: usize) -> Vec<u8> {
	(0..len).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect()
}

type Blocks = HashMap<cid::Cid, Vec<u8>>;

/// Imports `data` into memory; returns the blocks and the root as the runtime parses it.
fn dag(data: &[u8], mode: CidMode, chunk_size: usize, max_links: usize) -> (Blocks, pcid::Cid) {
	let mut blocks = Blocks::new();
	let imported =
		import(data, ImportOptions { mode, chunk_size, max_links }, &mut blocks).unwrap();
	let root = pcid::from_binary(&imported.root.to_bytes()).unwrap();
	(blocks, root)
}

fn get(blocks: &Blocks) -> impl FnMut(&pcid::Cid) -> Result<Vec<u8>, ()> + '_ {
	|cid| {
		let multihash = cid::multihash::Multihash::<64>::wrap(cid.hash_code, cid.digest()).unwrap();
		let key = if cid.version == 0 {
			cid::Cid::new_v0(multihash).unwrap()
		} else {
			cid::Cid::new_v1(cid.codec, multihash)
		};
		blocks.get(&key).cloned().ok_or(())
	}
}

fn check(
	root: &pcid::Cid,
	size: u64,
	offsets: &[u64],
	proof: &[Vec<u8>],
) -> Result<(), ProofError> {
	let refs: Vec<&[u8]> = proof.iter().map(Vec::as_slice).collect();
	verify(root, size, offsets, &refs, sha256)
}

#[test]
fn honest_paths_verify_at_every_depth_in_both_modes() {
	for mode in [CidMode::V0, CidMode::V1RawLeaves] {
		// 1 chunk (the root is the leaf), 4 chunks (one parent), 21 chunks (three levels).
		for chunks in [1usize, 4, 21] {
			let data = content(64 * chunks - 3);
			let size = data.len() as u64;
			let (blocks, root) = dag(&data, mode, 64, 4);
			let offsets = [0, size / 2, size - 1, 64, 65];
			let offsets: Vec<u64> = offsets.into_iter().filter(|&o| o < size).collect();
			let proof = prove(&root, size, &offsets, get(&blocks)).unwrap();
			assert_eq!(check(&root, size, &offsets, &proof), Ok(()), "{mode:?} {chunks}");
			// Shared blocks are sent once: never more blocks than the DAG has.
			assert!(proof.len() <= blocks.len());
			// Order does not matter.
			let mut reversed = proof.clone();
			reversed.reverse();
			assert_eq!(check(&root, size, &offsets, &reversed), Ok(()));
		}
	}
}

#[test]
fn kubo_default_layout_needs_one_parent_and_one_leaf() {
	// 174 chunks + 1 byte: a root over two parents, as in the CID tests.
	let data = content(64 * 174 + 1);
	let size = data.len() as u64;
	let (blocks, root) = dag(&data, CidMode::V1RawLeaves, 64, 174);
	let proof = prove(&root, size, &[size - 1], get(&blocks)).unwrap();
	assert_eq!(proof.len(), 3, "root, second parent, last leaf");
	assert_eq!(proof[2], [data[data.len() - 1]]);
	assert_eq!(check(&root, size, &[size - 1], &proof), Ok(()));
}

#[test]
fn forged_or_wrong_blocks_are_refused() {
	for mode in [CidMode::V0, CidMode::V1RawLeaves] {
		let data = content(64 * 21);
		let size = data.len() as u64;
		let (blocks, root) = dag(&data, mode, 64, 4);
		let offset = 700;
		let proof = prove(&root, size, &[offset], get(&blocks)).unwrap();
		let leaf = proof.len() - 1;

		// A forged leaf: one flipped bit no longer hashes to the parent's link.
		let mut forged = proof.clone();
		*forged[leaf].last_mut().unwrap() ^= 1;
		assert_eq!(check(&root, size, &[offset], &forged), Err(ProofError::MissingBlock));

		// The right path but another offset's leaf.
		let other = prove(&root, size, &[0], get(&blocks)).unwrap();
		let mut wrong_leaf = proof.clone();
		wrong_leaf[leaf] = other.last().unwrap().clone();
		assert_eq!(check(&root, size, &[offset], &wrong_leaf), Err(ProofError::MissingBlock));

		// Leaves only, without the parents that link them to the root.
		assert_eq!(check(&root, size, &[offset], &proof[leaf..]), Err(ProofError::MissingBlock));

		// A forged parent naming a leaf of the attacker's choosing hashes to nothing the root
		// links to.
		let mut forged_parent = proof.clone();
		forged_parent[1] = proof[1].iter().rev().copied().collect();
		assert_eq!(check(&root, size, &[offset], &forged_parent), Err(ProofError::MissingBlock));

		// A size other than the root's, and offsets outside the file.
		assert_eq!(check(&root, size + 1, &[offset], &proof), Err(ProofError::SizeMismatch));
		assert_eq!(check(&root, size, &[size], &proof), Err(ProofError::OffsetOutOfRange));

		// Nothing at all.
		assert_eq!(check(&root, size, &[offset], &[]), Err(ProofError::MissingBlock));
	}
}

#[test]
fn raw_leaf_roots_check_their_length() {
	let data = content(50);
	let (blocks, root) = dag(&data, CidMode::V1RawLeaves, 64, 4);
	let proof = prove(&root, 50, &[49], get(&blocks)).unwrap();
	assert_eq!(proof, [data]);
	assert_eq!(check(&root, 50, &[49], &proof), Ok(()));
	assert_eq!(check(&root, 51, &[49], &proof), Err(ProofError::SizeMismatch));
}

#[test]
fn proving_from_a_store_without_the_blocks_fails_on_fetch() {
	let data = content(64 * 5);
	let (mut blocks, root) = dag(&data, CidMode::V0, 64, 4);
	// Drop every leaf: the parents are there but the data is not.
	blocks.retain(|_, block| {
		!citrate_storage::dag_pb::decode_file_node(block).unwrap().links.is_empty()
	});
	assert!(!blocks.is_empty());
	assert_eq!(prove(&root, 320, &[100], get(&blocks)), Err(ProveError::Fetch(())));
}

#[test]
fn sha2_256_is_the_only_hash_accepted() {
	// A blake2b-256 CIDv1 of a raw block: refused before any block is looked at.
	let text = b"f0155a0e40220aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	let root = pcid::parse(text).unwrap();
	assert_eq!(check(&root, 1, &[0], &[vec![0]]), Err(ProofError::UnsupportedCid));
}

/// A package: a directory of files (one empty) and a subdirectory, as the tree importer
/// makes it; offsets run over the files' bytes in link order.
fn package(mode: CidMode) -> (Blocks, pcid::Cid, u64) {
	let work =
		std::env::temp_dir().join(format!("citrate-proof-pkg-{}-{mode:?}", std::process::id()));
	let _ = std::fs::remove_dir_all(&work);
	std::fs::create_dir_all(work.join("sub")).unwrap();
	std::fs::write(work.join("a.json"), content(100)).unwrap();
	std::fs::write(work.join("empty"), b"").unwrap();
	std::fs::write(work.join("model.onnx"), content(64 * 21 + 7)).unwrap();
	std::fs::write(work.join("sub/tokenizer.json"), content(300)).unwrap();
	let mut blocks = Blocks::new();
	let options = ImportOptions { mode, chunk_size: 64, max_links: 4 };
	let imported =
		citrate_storage::import_tree(&work, options, Default::default(), &mut blocks).unwrap();
	std::fs::remove_dir_all(&work).unwrap();
	let root = pcid::from_binary(&imported.root.to_bytes()).unwrap();
	(blocks, root, imported.file_bytes)
}

#[test]
fn packages_are_proved_over_their_files_in_link_order() {
	for mode in [CidMode::V0, CidMode::V1RawLeaves] {
		let (blocks, root, size) = package(mode);
		assert_eq!(size, 100 + 64 * 21 + 7 + 300);
		// First byte, inside the big file, and the last byte (in the subdirectory's file).
		let offsets = [0, 100, 100 + 64 * 10, size - 1];
		let proof = prove(&root, size, &offsets, get(&blocks)).unwrap();
		assert_eq!(check(&root, size, &offsets, &proof), Ok(()), "{mode:?}");
		assert_eq!(citrate_ipfs_primitives::proof::package_size(&root, get(&blocks)), Ok(size));
		// The last byte is in the tokenizer's last leaf (a raw block of its last 44 bytes).
		if mode == CidMode::V1RawLeaves {
			assert!(proof.contains(&content(300)[256..].to_vec()));
		}
		// A size other than the files' total.
		assert_eq!(check(&root, size + 1, &offsets, &proof), Err(ProofError::SizeMismatch));
		assert_eq!(check(&root, size, &[size], &proof), Err(ProofError::OffsetOutOfRange));
		// Without the skeleton (the directory blocks) nothing verifies.
		let without_root: Vec<Vec<u8>> = proof
			.iter()
			.filter(|b| citrate_storage::dag_pb::decode_directory(b).is_err())
			.cloned()
			.collect();
		assert_eq!(check(&root, size, &offsets, &without_root), Err(ProofError::MissingBlock));
	}
}
