//! Interop with a real IPFS daemon: js-ipfs 0.66.1 (Kubo-style `/api/v0` RPC) from npm,
//! installed by `scripts/test.sh` into `tests/interop/js-ipfs`, bound to 127.0.0.1 with no
//! bootstrap peers. Our client adds and gets the same CIDs our importer computes; content
//! only the daemon holds is fetched and verified; a CAR we export is accepted by the
//! daemon's `dag/import`.

use citrate_storage::{
	export, export_car, import, import_tree, CarWriter, CidMode, FsBlockStore, ImportOptions,
	KuboClient, TreeOptions,
};
use serde_json::json;
use std::{
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	sync::Arc,
	time::{Duration, Instant},
};

fn repo_root() -> PathBuf {
	Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
		.join("../..")
		.canonicalize()
		.unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
	let dir = std::env::temp_dir().join(format!("citrate-kubo-{}-{name}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	std::fs::create_dir_all(&dir).unwrap();
	dir
}

fn free_port() -> u16 {
	std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn content(len: usize, seed: u64) -> Vec<u8> {
	let mut state = seed;
	(0..len)
		.map(|_| {
			state = state
				.wrapping_mul(6_364_136_223_846_793_005)
				.wrapping_add(1_442_695_040_888_963_407);
			(state >> 56) as u8
		})
		.collect()
}

/// A running js-ipfs daemon; killed on drop.
struct Daemon {
	child: Child,
	api: String,
	_repo: PathBuf,
}

impl Drop for Daemon {
	fn drop(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

fn jsipfs() -> PathBuf {
	let bin = repo_root().join("tests/interop/js-ipfs/node_modules/.bin/jsipfs");
	assert!(
		bin.exists(),
		"js-ipfs is not installed: run `npm ci --prefix tests/interop/js-ipfs` (scripts/test.sh does)"
	);
	bin
}

fn start_daemon() -> Daemon {
	let repo = temp_dir("repo");
	let run = |args: &[&str]| {
		let status = Command::new(jsipfs())
			.args(args)
			.env("IPFS_PATH", &repo)
			.stdout(Stdio::null())
			.status()
			.unwrap();
		assert!(status.success(), "jsipfs {args:?} failed");
	};
	run(&["init", "--profile", "server,test"]);
	let config_path = repo.join("config");
	let mut config: serde_json::Value =
		serde_json::from_slice(&std::fs::read(&config_path).unwrap()).unwrap();
	let (api_port, gateway_port, swarm_port) = (free_port(), free_port(), free_port());
	config["Addresses"]["API"] = json!(format!("/ip4/127.0.0.1/tcp/{api_port}"));
	config["Addresses"]["Gateway"] = json!(format!("/ip4/127.0.0.1/tcp/{gateway_port}"));
	config["Addresses"]["Swarm"] = json!([format!("/ip4/127.0.0.1/tcp/{swarm_port}")]);
	config["Addresses"]["RPC"] = json!("");
	config["Addresses"]["Delegates"] = json!([]);
	config["Bootstrap"] = json!([]);
	config["Discovery"]["MDNS"]["Enabled"] = json!(false);
	config["Discovery"]["webRTCStar"]["Enabled"] = json!(false);
	config["Swarm"]["DisableNatPortMap"] = json!(true);
	config["Routing"] = json!({ "Type": "none" });
	config["Pubsub"]["Enabled"] = json!(false);
	std::fs::write(&config_path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();

	let log = std::fs::File::create(repo.join("daemon.log")).unwrap();
	let child = Command::new(jsipfs())
		.args(["daemon", "--enable-preload=false"])
		.env("IPFS_PATH", &repo)
		.stdout(log.try_clone().unwrap())
		.stderr(log)
		.spawn()
		.unwrap();
	let daemon = Daemon { child, api: format!("http://127.0.0.1:{api_port}"), _repo: repo.clone() };
	let deadline = Instant::now() + Duration::from_secs(60);
	while !accepts_connections(&daemon.api) {
		assert!(
			Instant::now() < deadline,
			"js-ipfs did not start: {}",
			std::fs::read_to_string(repo.join("daemon.log")).unwrap_or_default()
		);
		std::thread::sleep(Duration::from_millis(250));
	}
	daemon
}

/// Whether something accepts TCP connections at the API's address.
fn accepts_connections(api: &str) -> bool {
	std::net::TcpStream::connect(api.trim_start_matches("http://")).is_ok()
}

fn only_hash(data: &[u8], mode: CidMode) -> cid::Cid {
	import(data, ImportOptions { mode, ..Default::default() }, &mut ()).unwrap().root
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_daemon_agrees_on_cids_and_serves_verified_content() {
	let daemon = start_daemon();
	let client = KuboClient::new(&daemon.api, Duration::from_secs(30)).unwrap();
	let dir = temp_dir("files");

	// 1. Our client adds; the daemon's CIDs equal our importer's, in both modes. 3 MiB + 1
	//    byte: 13 chunks under one parent.
	let data = content(3 * 1024 * 1024 + 1, 1);
	let file = dir.join("model.bin");
	std::fs::write(&file, &data).unwrap();
	for (version, mode) in [(0, CidMode::V0), (1, CidMode::V1RawLeaves)] {
		let added = client.add(&file, version, 262_144).await.unwrap();
		assert_eq!(added.cid, only_hash(&data, mode), "CID version {version}");
		assert_eq!(client.cat(&added.cid).await.unwrap(), data);
		// Pins come back in another base; they are compared as parsed CIDs.
		let pins = client.pin_ls().await.unwrap();
		assert!(pins.iter().any(|pin| pin.hash() == added.cid.hash()), "{pins:?}");
		let root_block = client.block_get(&added.cid).await.unwrap();
		assert_eq!(client.block_stat(&added.cid).await.unwrap(), root_block.len() as u64);
	}

	// 2. Content only the daemon holds is fetched into our store, every block verified.
	let theirs = content(1024 * 1024 + 17, 2);
	let theirs_file = dir.join("theirs.bin");
	std::fs::write(&theirs_file, &theirs).unwrap();
	let cid = client.add(&theirs_file, 1, 262_144).await.unwrap().cid;
	let store = Arc::new(FsBlockStore::open(dir.join("store")).unwrap());
	assert!(client.get(&cid, store.clone()).await.unwrap() >= 5);
	let mut out = Vec::new();
	export(&cid, store.as_ref(), &mut out).unwrap();
	assert_eq!(out, theirs);

	// 3. A CAR we export is accepted by the daemon's dag/import, which then serves the file.
	let ours = content(700_000, 3);
	let mut local = FsBlockStore::open(dir.join("ours")).unwrap();
	let root = import(&ours[..], ImportOptions::default(), &mut local).unwrap().root;
	let car = dir.join("ours.car");
	export_car(&root, &local, &mut std::fs::File::create(&car).unwrap()).unwrap();
	let roots = client.dag_import(&car).await.unwrap();
	assert!(roots.iter().any(|r| r.hash() == root.hash()), "{roots:?}");
	assert_eq!(client.cat(&root).await.unwrap(), ours);

	// 3b. A directory streams straight from the importer into a CAR (root known from an
	//     only-hash pass); the daemon imports and pins it, and serves its files.
	let tree = dir.join("package");
	std::fs::create_dir_all(tree.join("sub")).unwrap();
	let weights = content(600_000, 4);
	std::fs::write(tree.join("model.onnx"), &weights).unwrap();
	std::fs::write(tree.join("sub/config.json"), b"{}").unwrap();
	let only_hash_tree =
		import_tree(&tree, ImportOptions::default(), TreeOptions::default(), &mut ()).unwrap();
	let car = dir.join("package.car");
	let mut writer =
		CarWriter::new(std::fs::File::create(&car).unwrap(), &only_hash_tree.root).unwrap();
	let written =
		import_tree(&tree, ImportOptions::default(), TreeOptions::default(), &mut writer).unwrap();
	assert_eq!(written, only_hash_tree);
	assert_eq!(writer.blocks(), written.blocks);
	writer.finish().unwrap();
	let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
	let counter = sent.clone();
	let roots = client
		.dag_import_observed(&car, move |bytes| {
			counter.fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
		})
		.await
		.unwrap();
	assert_eq!(
		sent.load(std::sync::atomic::Ordering::Relaxed),
		std::fs::metadata(&car).unwrap().len()
	);
	assert!(roots.iter().any(|r| r.hash() == written.root.hash()), "{roots:?}");
	assert!(client.pin_ls().await.unwrap().iter().any(|p| p.hash() == written.root.hash()));
	assert_eq!(client.cat(&only_hash(&weights, CidMode::V0)).await.unwrap(), weights);

	// 4. Unpinning works, and a read of content nobody has ends with an error, not a hang.
	client.pin_rm(&root).await.unwrap();
	assert!(!client.pin_ls().await.unwrap().iter().any(|p| p.hash() == root.hash()));
	let nobody = only_hash(b"held by nobody at all", CidMode::V1RawLeaves);
	let quick = KuboClient::new(&daemon.api, Duration::from_secs(3)).unwrap();
	assert!(quick.block_get(&nobody).await.is_err());
}
