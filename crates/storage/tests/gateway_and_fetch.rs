//! The trustless gateway served over a real loopback socket, and the verifying fetcher
//! reading from it: honest gateways, a lying gateway (right status, wrong bytes) and a
//! corrupted block on disk all give the expected outcome, naming the CID on failure.

use citrate_storage::{
	gateway, import, CidMode, Fetcher, FsBlockStore, GatewayFetcher, ImportOptions, RemoteError,
	Upstream,
};
use std::{path::PathBuf, sync::Arc, time::Duration};
use tokio::{io::AsyncWriteExt, net::TcpListener};

fn temp_dir(name: &str) -> PathBuf {
	let dir = std::env::temp_dir().join(format!("citrate-gw-{}-{name}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	dir
}

fn content(len: usize) -> Vec<u8> {
	(0..len).map(|i| (i.wrapping_mul(2_654_435_761) >> 9) as u8).collect()
}

/// A store holding one file of 21 chunks (a three-level tree); returns it and the root.
fn store_with_file(name: &str, mode: CidMode) -> (Arc<FsBlockStore>, cid::Cid, Vec<u8>) {
	let mut store = FsBlockStore::open(temp_dir(name)).unwrap();
	let data = content(1024 * 21 + 7);
	let options = ImportOptions { mode, chunk_size: 1024, max_links: 4 };
	let root = import(&data[..], options, &mut store).unwrap().root;
	store.pin(&root).unwrap();
	(Arc::new(store), root, data)
}

async fn serve(store: Arc<FsBlockStore>) -> String {
	serve_with_upstream(store, None).await
}

async fn serve_with_upstream(store: Arc<FsBlockStore>, upstream: Option<Upstream>) -> String {
	let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
	let url = format!("http://{}", listener.local_addr().unwrap());
	tokio::spawn(gateway::serve_fetching(listener, Fetcher::new(store, upstream)));
	url
}

/// A gateway that answers every request `200 OK` with the same wrong bytes.
async fn lying_gateway() -> String {
	let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
	let url = format!("http://{}", listener.local_addr().unwrap());
	tokio::spawn(async move {
		loop {
			let (mut socket, _) = listener.accept().await.unwrap();
			tokio::spawn(async move {
				let mut request = [0u8; 4096];
				let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut request).await;
				let body = b"definitely not the block you asked for";
				let head = format!(
					"HTTP/1.1 200 OK\r\ncontent-type: application/vnd.ipld.raw\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
					body.len()
				);
				let _ = socket.write_all(head.as_bytes()).await;
				let _ = socket.write_all(body).await;
			});
		}
	});
	url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_serves_raw_blocks_cars_and_files() {
	let (store, root, data) = store_with_file("serve", CidMode::V0);
	let url = serve(store.clone()).await;
	let http = reqwest::Client::new();

	let raw = http.get(format!("{url}/ipfs/{root}?format=raw")).send().await.unwrap();
	assert_eq!(raw.status(), 200);
	assert_eq!(raw.headers()["content-type"], "application/vnd.ipld.raw");
	assert_eq!(raw.bytes().await.unwrap().to_vec(), store.get(&root).unwrap());

	// The CAR, by Accept header, holds every block of the DAG and imports into a fresh store.
	let car = http
		.get(format!("{url}/ipfs/{root}"))
		.header("accept", "application/vnd.ipld.car")
		.send()
		.await
		.unwrap();
	assert_eq!(car.status(), 200);
	let car = car.bytes().await.unwrap();
	let other = FsBlockStore::open(temp_dir("serve-import")).unwrap();
	let (roots, blocks) = citrate_storage::import_car(&mut &car[..], &other).unwrap();
	assert_eq!(roots, [root]);
	assert!(blocks > 21, "leaves and parents");

	// dag-scope=block: the root block alone.
	let scoped =
		http.get(format!("{url}/ipfs/{root}?format=car&dag-scope=block")).send().await.unwrap();
	let scoped = scoped.bytes().await.unwrap();
	let single = FsBlockStore::open(temp_dir("serve-block")).unwrap();
	let result = citrate_storage::import_car(&mut &scoped[..], &single);
	// Pinning needs the whole DAG, which a root-only CAR lacks; the root block itself arrived.
	assert!(result.is_err());
	assert!(single.has(&root));

	let file = http.get(format!("{url}/ipfs/{root}")).send().await.unwrap();
	assert_eq!(file.bytes().await.unwrap().to_vec(), data);

	let head = http.head(format!("{url}/ipfs/{root}?format=raw")).send().await.unwrap();
	assert_eq!(
		(head.status().as_u16(), head.headers()["x-ipfs-roots"].to_str().unwrap()),
		(200, root.to_string().as_str())
	);

	let missing = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
	let status = |path: String| {
		let http = http.clone();
		async move { http.get(path).send().await.unwrap().status().as_u16() }
	};
	assert_eq!(status(format!("{url}/ipfs/{missing}?format=raw")).await, 404);
	assert_eq!(status(format!("{url}/ipfs/nonsense?format=raw")).await, 400);
	assert_eq!(status(format!("{url}/ipfs/{root}?format=tar")).await, 400);
	assert_eq!(status(format!("{url}/ipns/{root}")).await, 404);
	let post = http.post(format!("{url}/ipfs/{root}")).send().await.unwrap();
	assert_eq!(post.status(), 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupted_block_on_disk_is_never_served() {
	let (store, root, _) = store_with_file("corrupt", CidMode::V1RawLeaves);
	let path = store.block_path(&root);
	let mut bytes = std::fs::read(&path).unwrap();
	bytes[3] ^= 0x40;
	std::fs::write(&path, bytes).unwrap();
	let url = serve(store).await;
	let response = reqwest::get(format!("{url}/ipfs/{root}?format=raw")).await.unwrap();
	assert_eq!(response.status(), 500);
	let message = response.text().await.unwrap();
	assert!(message.contains(&root.to_string()) && message.contains("corrupted"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fetcher_skips_a_lying_gateway_and_verifies_every_block() {
	for mode in [CidMode::V0, CidMode::V1RawLeaves] {
		let (source, root, data) = store_with_file(&format!("source-{mode:?}"), mode);
		let honest = serve(source).await;
		let liar = lying_gateway().await;

		let gateways =
			GatewayFetcher::new(vec![liar.clone(), honest], Duration::from_secs(10)).unwrap();
		let local = Arc::new(FsBlockStore::open(temp_dir(&format!("local-{mode:?}"))).unwrap());
		let fetcher = Fetcher::new(local.clone(), Some(Upstream::Gateways(gateways)));
		let fetched = fetcher.fetch_dag(&root).await.unwrap();
		assert!(fetched > 21);
		let mut out = Vec::new();
		citrate_storage::export(&root, local.as_ref(), &mut out).unwrap();
		assert_eq!(out, data);
		// Pins are listed in CIDv1 form.
		let pins: Vec<_> = local.pins().unwrap().iter().map(|pin| *pin.hash()).collect();
		assert_eq!(pins, [*root.hash()]);
		// A second fetch finds everything local.
		assert_eq!(fetcher.fetch_dag(&root).await.unwrap(), 0);

		// With only the liar: an error naming the CID, and nothing stored.
		let only_liar = GatewayFetcher::new(vec![liar], Duration::from_secs(10)).unwrap();
		let empty = Arc::new(FsBlockStore::open(temp_dir(&format!("empty-{mode:?}"))).unwrap());
		let fetcher = Fetcher::new(empty.clone(), Some(Upstream::Gateways(only_liar)));
		match fetcher.fetch_dag(&root).await {
			Err(RemoteError::AllGatewaysFailed { cid, failures }) => {
				assert_eq!(cid, root);
				assert!(failures[0].contains("does not match its CID"), "{failures:?}");
			}
			other => panic!("expected a refusal, got {other:?}"),
		}
		assert!(!empty.has(&root));
		assert!(empty.pins().unwrap().is_empty());
	}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_gateway_is_skipped() {
	let (source, root, _) = store_with_file("unreachable", CidMode::V0);
	let honest = serve(source).await;
	// Nothing listens on port 9 of the loopback (discard); connection refused at once.
	let fetcher =
		GatewayFetcher::new(vec!["http://127.0.0.1:9".into(), honest], Duration::from_secs(10))
			.unwrap();
	assert!(fetcher.block(&root).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_serves_what_only_its_upstream_holds_and_keeps_it() {
	let (source, root, data) = store_with_file("upstream-source", CidMode::V1RawLeaves);
	let honest = serve(source).await;
	let liar = lying_gateway().await;
	let timeout = Duration::from_secs(10);

	// The node's store is empty; its upstream is [liar, honest].
	let local = Arc::new(FsBlockStore::open(temp_dir("upstream-local")).unwrap());
	let upstream =
		Upstream::Gateways(GatewayFetcher::new(vec![liar.clone(), honest], timeout).unwrap());
	let url = serve_with_upstream(local.clone(), Some(upstream)).await;
	let file = reqwest::get(format!("{url}/ipfs/{root}")).await.unwrap();
	assert_eq!(file.status(), 200);
	assert_eq!(file.bytes().await.unwrap().to_vec(), data);
	assert!(local.has(&root), "fetched blocks are kept");

	// With only the liar upstream, nothing is served and nothing kept.
	let empty = Arc::new(FsBlockStore::open(temp_dir("upstream-empty")).unwrap());
	let upstream = Upstream::Gateways(GatewayFetcher::new(vec![liar], timeout).unwrap());
	let url = serve_with_upstream(empty.clone(), Some(upstream)).await;
	let raw = reqwest::get(format!("{url}/ipfs/{root}?format=raw")).await.unwrap();
	assert_eq!(raw.status(), 404);
	assert!(!empty.has(&root));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_serves_directories_and_paths_inside_them() {
	let work = temp_dir("tree");
	let tree = work.join("package");
	std::fs::create_dir_all(tree.join("sub")).unwrap();
	let weights = content(5000);
	std::fs::write(tree.join("model.onnx"), &weights).unwrap();
	std::fs::write(tree.join("sub/tokenizer.json"), content(3000)).unwrap();
	let mut store = FsBlockStore::open(work.join("store")).unwrap();
	let options = ImportOptions { mode: CidMode::V0, chunk_size: 1024, max_links: 174 };
	let imported = citrate_storage::import_tree(
		&tree,
		options,
		citrate_storage::TreeOptions::default(),
		&mut store,
	)
	.unwrap();
	let root = imported.root;
	let store = Arc::new(store);
	let url = serve(store.clone()).await;
	let get = |path: String| {
		let url = format!("{url}{path}");
		async move { reqwest::get(url).await.unwrap() }
	};

	// The directory node itself, as a raw block.
	let raw = get(format!("/ipfs/{root}?format=raw")).await;
	assert_eq!(raw.status(), 200);
	assert_eq!(raw.bytes().await.unwrap().to_vec(), store.get(&root).unwrap());

	// A file inside, as bytes and as a trustless CAR of the path and the file.
	let file = get(format!("/ipfs/{root}/sub/tokenizer.json")).await;
	assert_eq!(file.status(), 200);
	let roots = file.headers()["x-ipfs-roots"].to_str().unwrap().to_string();
	assert_eq!(roots.split(',').count(), 3, "root, sub, file: {roots}");
	assert_eq!(file.bytes().await.unwrap().to_vec(), content(3000));
	let car = get(format!("/ipfs/{root}/sub/tokenizer.json?format=car")).await;
	assert_eq!(car.status(), 200);
	let car = car.bytes().await.unwrap();
	let client = FsBlockStore::open(work.join("client")).unwrap();
	// The CAR holds the path, not the whole DAG: its root cannot be pinned, but the file can
	// be resolved and read from the blocks it brought, and nothing else came.
	let imported = citrate_storage::import_car(&mut &car[..], &client);
	let path = citrate_storage::resolve_path(&root, "sub/tokenizer.json", &client).unwrap();
	let mut out = Vec::new();
	citrate_storage::export(path.last().unwrap(), &client, &mut out).unwrap();
	assert_eq!(out, content(3000));
	let entries = match citrate_storage::parse_block(&root, store.get(&root).unwrap()).unwrap() {
		citrate_storage::Node::Directory(entries) => entries,
		other => panic!("a directory, not {other:?}"),
	};
	assert_eq!(entries[0].name, "model.onnx");
	assert!(!client.has(&entries[0].cid), "model.onnx is not on the path");
	assert!(
		matches!(&imported, Err(citrate_storage::CarError::Export(citrate_storage::ExportError::Block(
			citrate_storage::BlockError::NotFound(cid)
		))) if *cid == entries[0].cid),
		"pinning the root stops at model.onnx: {imported:?}"
	);

	// dag-scope=entity of a directory: its block alone.
	let entity = get(format!("/ipfs/{root}?format=car&dag-scope=entity")).await;
	let entity = entity.bytes().await.unwrap();
	let only_root = FsBlockStore::open(work.join("entity")).unwrap();
	let _ = citrate_storage::import_car(&mut &entity[..], &only_root);
	assert!(only_root.has(&root) && !only_root.has(&entries[1].cid));

	// A plain GET of a directory lists it; bad paths get clear statuses.
	let listing = get(format!("/ipfs/{root}")).await.text().await.unwrap();
	assert_eq!(listing.lines().count(), 2);
	assert!(listing.starts_with(&format!("model.onnx\t{}\t", entries[0].cid)), "{listing}");
	assert_eq!(get(format!("/ipfs/{root}/sub/nope.json")).await.status(), 404);
	assert_eq!(get(format!("/ipfs/{root}/model.onnx/inner")).await.status(), 400);
	assert_eq!(get(format!("/ipfs/{root}/sub%2")).await.status(), 400);
}
