//! Model packages: a directory's files by path (or one file under its framework's name), read
//! from a store or fetched from a gateway, with the size checked before any file's bytes are
//! fetched or allocated, and errors that name the file and the block at fault.

use citrate_storage::{
	dag_pb, gateway, import, import_tree, list_package, read_package, BlockError, CidMode,
	ExportError, Fetcher, FsBlockStore, GatewayFetcher, ImportOptions, PackageError, PackageLimits,
	TreeOptions, Upstream,
};
use std::{fs, path::PathBuf, sync::Arc, time::Duration};

fn temp(name: &str) -> PathBuf {
	let dir = std::env::temp_dir().join(format!("citrate-pkg-{}-{name}", std::process::id()));
	let _ = fs::remove_dir_all(&dir);
	fs::create_dir_all(&dir).unwrap();
	dir
}

fn content(len: usize, seed: usize) -> Vec<u8> {
	(0..len).map(|i| ((i + seed).wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}

/// The files of an OCR-like package, including one in a subdirectory.
fn files() -> Vec<(&'static str, Vec<u8>)> {
	vec![
		("cls.onnx", content(1500, 1)),
		("det.onnx", content(9000, 2)),
		("pooling/config.json", b"{\"pooling_mode_mean_tokens\": true}\n".to_vec()),
		("rec.onnx", content(4000, 3)),
	]
}

/// A store holding the package, imported from disk as `storage add -r` does; its root.
fn stored_package(name: &str, mode: CidMode) -> (Arc<FsBlockStore>, cid::Cid) {
	let work = temp(name);
	let tree = work.join("package");
	for (path, bytes) in files() {
		let path = tree.join(path);
		fs::create_dir_all(path.parent().unwrap()).unwrap();
		fs::write(path, bytes).unwrap();
	}
	let mut store = FsBlockStore::open(work.join("store")).unwrap();
	let options = ImportOptions { mode, chunk_size: 1024, ..Default::default() };
	let root = import_tree(&tree, options, TreeOptions::default(), &mut store).unwrap().root;
	store.pin(&root).unwrap();
	(Arc::new(store), root)
}

fn expected() -> Vec<(String, Vec<u8>)> {
	files().into_iter().map(|(path, bytes)| (path.to_string(), bytes)).collect()
}

#[test]
fn a_directory_package_reads_as_its_files_by_path() {
	for mode in [CidMode::V0, CidMode::V1RawLeaves] {
		let (store, root) = stored_package(&format!("read-{mode:?}"), mode);
		let listing = list_package(&root, "model.onnx", PackageLimits::default(), &store).unwrap();
		let sizes: Vec<_> = listing.files.iter().map(|f| (f.path.as_str(), f.size)).collect();
		assert_eq!(
			sizes,
			[
				("cls.onnx", 1500),
				("det.onnx", 9000),
				("pooling/config.json", 35),
				("rec.onnx", 4000)
			]
		);
		assert_eq!(listing.total_bytes, 1500 + 9000 + 35 + 4000);
		let read = read_package(&root, "model.onnx", PackageLimits::default(), &store).unwrap();
		assert_eq!(read, expected());
	}
}

#[test]
fn a_single_file_cid_is_a_package_of_one_file_named_by_its_framework() {
	let mut store = FsBlockStore::open(temp("single")).unwrap();
	let bytes = content(5000, 9);
	let options = ImportOptions { chunk_size: 1024, ..Default::default() };
	let root = import(&bytes[..], options, &mut store).unwrap().root;
	let read = read_package(&root, "model.gguf", PackageLimits::default(), &store).unwrap();
	assert_eq!(read, [("model.gguf".to_string(), bytes)]);
}

#[test]
fn a_package_over_the_limit_is_refused_before_its_files_are_read() {
	let (store, root) = stored_package("limit", CidMode::V1RawLeaves);
	let limits = PackageLimits { max_bytes: 10_000, ..Default::default() };
	// cls (1500) + det (9000) already exceed 10,000 bytes.
	match read_package(&root, "model.onnx", limits, &store) {
		Err(PackageError::TooLarge { size: 10_500, limit: 10_000 }) => {}
		other => panic!("expected TooLarge, got {other:?}"),
	}
	// Only directory blocks and file root blocks are read to decide: with every leaf of
	// det.onnx gone, the refusal is the same.
	let listing = list_package(&root, "model.onnx", PackageLimits::default(), &store).unwrap();
	let det = &listing.files[1];
	let leaves = citrate_storage::parse_block(&det.cid, store.get(&det.cid).unwrap()).unwrap();
	for leaf in leaves.links() {
		fs::remove_file(store.block_path(&leaf)).unwrap();
	}
	assert!(matches!(
		list_package(&root, "model.onnx", limits, &store),
		Err(PackageError::TooLarge { size: 10_500, .. })
	));
}

#[test]
fn a_missing_or_corrupted_block_is_reported_with_its_file() {
	let (store, root) = stored_package("broken", CidMode::V1RawLeaves);
	let listing = list_package(&root, "model.onnx", PackageLimits::default(), &store).unwrap();
	let rec = listing.files.iter().find(|f| f.path == "rec.onnx").unwrap();
	let node = citrate_storage::parse_block(&rec.cid, store.get(&rec.cid).unwrap()).unwrap();
	let (first, second) = (node.links()[0], node.links()[1]);

	let path = store.block_path(&first);
	let mut bytes = fs::read(&path).unwrap();
	bytes[0] ^= 1;
	fs::write(&path, bytes).unwrap();
	let error = read_package(&root, "model.onnx", PackageLimits::default(), &store).unwrap_err();
	assert!(
		matches!(&error, PackageError::File { path, source }
			if path == "rec.onnx" && matches!(**source, ExportError::Block(BlockError::Corrupted(cid)) if cid == first)),
		"{error:?}"
	);
	assert!(
		error.to_string().contains("rec.onnx") && error.to_string().contains(&first.to_string())
	);

	fs::remove_file(store.block_path(&first)).unwrap();
	fs::remove_file(store.block_path(&second)).unwrap();
	let error = read_package(&root, "model.onnx", PackageLimits::default(), &store).unwrap_err();
	assert!(
		matches!(&error, PackageError::File { path, source }
			if path == "rec.onnx" && matches!(**source, ExportError::Block(BlockError::NotFound(cid)) if cid == first)),
		"{error:?}"
	);
}

#[test]
fn a_file_holding_more_than_it_declares_is_refused() {
	// A file root declaring 10 bytes over a 100-byte leaf.
	let mut blocks = std::collections::HashMap::new();
	let leaf = content(100, 4);
	let leaf_cid = cid::Cid::new_v1(0x55, multihash_of(&leaf));
	blocks.insert(leaf_cid, leaf);
	let data = dag_pb::unixfs_file(&[], 10, [100u64].into_iter());
	let link = dag_pb::Link { cid: leaf_cid.to_bytes(), tsize: 100, file_size: 100 };
	let root_block = dag_pb::node(&[link], &data);
	let root = cid::Cid::new_v1(0x70, multihash_of(&root_block));
	blocks.insert(root, root_block);
	match read_package(&root, "model.onnx", PackageLimits::default(), &blocks) {
		Err(PackageError::SizeMismatch { path, declared: 10, more: true, .. }) => {
			assert_eq!(path, "model.onnx")
		}
		other => panic!("expected SizeMismatch, got {other:?}"),
	}
}

fn multihash_of(bytes: &[u8]) -> multihash::Multihash<64> {
	use sha2::Digest;
	multihash::Multihash::wrap(0x12, &sha2::Sha256::digest(bytes)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_package_is_fetched_from_a_gateway_within_its_limit() {
	let (source, root) = stored_package("fetch-source", CidMode::V0);
	let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
	let url = format!("http://{}", listener.local_addr().unwrap());
	tokio::spawn(gateway::serve(listener, source));
	let upstream = || {
		Some(Upstream::Gateways(
			GatewayFetcher::new(vec![url.clone()], Duration::from_secs(10)).unwrap(),
		))
	};

	// Over the limit: refused after the directory and root blocks, with no leaf fetched.
	let small = Arc::new(FsBlockStore::open(temp("fetch-small")).unwrap());
	let limits = PackageLimits { max_bytes: 10_000, ..Default::default() };
	let fetcher = Fetcher::new(small.clone(), upstream());
	match fetcher.fetch_package(&root, "model.onnx", limits).await {
		Err(PackageError::TooLarge { size: 10_500, limit: 10_000 }) => {}
		other => panic!("expected TooLarge, got {other:?}"),
	}
	assert!(small.pins().unwrap().is_empty());

	let local = Arc::new(FsBlockStore::open(temp("fetch-local")).unwrap());
	let fetcher = Fetcher::new(local.clone(), upstream());
	let listing =
		fetcher.fetch_package(&root, "model.onnx", PackageLimits::default()).await.unwrap();
	assert_eq!(listing.files.len(), 4);
	let pins: Vec<_> = local.pins().unwrap().iter().map(|pin| *pin.hash()).collect();
	assert_eq!(pins, [*root.hash()]);
	let read = read_package(&root, "model.onnx", PackageLimits::default(), &local).unwrap();
	assert_eq!(read, expected());

	// A path inside the package, through a node that fetches on demand.
	let empty = Arc::new(FsBlockStore::open(temp("fetch-path")).unwrap());
	let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
	let relay = format!("http://{}", listener.local_addr().unwrap());
	tokio::spawn(gateway::serve_fetching(listener, Fetcher::new(empty.clone(), upstream())));
	let file = reqwest::get(format!("{relay}/ipfs/{root}/pooling/config.json")).await.unwrap();
	assert_eq!(file.status(), 200);
	assert_eq!(file.bytes().await.unwrap().to_vec(), files()[2].1);
	let missing = reqwest::get(format!("{relay}/ipfs/{root}/pooling/nope.json")).await.unwrap();
	assert_eq!(missing.status(), 404);
	assert!(missing.text().await.unwrap().contains("/pooling/nope.json"));
}
