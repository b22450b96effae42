//! `citrate-inference-service`: the inference service on its own, for provider nodes that do
//! not embed it (a parachain collator on a stock node). `citrate-node` embeds the same
//! service by default.
//!
//! ```text
//! citrate-inference-service --store ~/.local/share/citrate-node/chains/dev/ipfs \
//!     --gateway http://127.0.0.1:8080 --port 8090 --cache-mb 4096
//! ```
//!
//! Then point the node's offchain worker at it: write `http://127.0.0.1:8090` (SCALE bytes)
//! under the persistent offchain key `citrate::inference::service`, e.g. with the RPC
//! `offchain_localStorageSet("PERSISTENT", key, value)`.

use citrate_inference::{
	package::ModelLoader,
	service::{http::serve, InferenceService, ServiceConfig},
};
use citrate_storage::{Fetcher, FsBlockStore, GatewayFetcher, KuboClient, PackageLimits, Upstream};
use clap::Parser;
use std::{path::PathBuf, process::ExitCode, sync::Arc, time::Duration};

#[derive(Debug, Parser)]
#[command(
	name = "citrate-inference-service",
	version,
	about = "Run Citrate's inference service for a provider node's offchain worker"
)]
struct Args {
	/// Port on 127.0.0.1 to serve on (only loopback: the offchain worker is local).
	#[arg(long, default_value_t = 8090)]
	port: u16,
	/// Block store model packages are read from (and fetched into).
	#[arg(long)]
	store: PathBuf,
	/// Trustless gateways to fetch missing blocks from, in order (repeatable).
	#[arg(long = "gateway", conflicts_with = "ipfs_api")]
	gateways: Vec<String>,
	/// A Kubo RPC API to fetch missing blocks from.
	#[arg(long)]
	ipfs_api: Option<String>,
	/// Mebibytes of loaded models kept in memory.
	#[arg(long, default_value_t = 4096)]
	cache_mb: u64,
	/// Most bytes a model package may hold.
	#[arg(long, default_value_t = PackageLimits::default().max_bytes)]
	max_package_bytes: u64,
}

fn main() -> ExitCode {
	let args = Args::parse();
	match run(args) {
		Ok(()) => ExitCode::SUCCESS,
		Err(error) => {
			eprintln!("citrate-inference-service: {error}");
			ExitCode::FAILURE
		}
	}
}

fn run(args: Args) -> Result<(), String> {
	let timeout = Duration::from_secs(60);
	let upstream = match (&args.ipfs_api, args.gateways.is_empty()) {
		(Some(api), _) => {
			Some(Upstream::Kubo(KuboClient::new(api, timeout).map_err(|e| e.to_string())?))
		}
		(None, false) => Some(Upstream::Gateways(
			GatewayFetcher::new(args.gateways.clone(), timeout).map_err(|e| e.to_string())?,
		)),
		(None, true) => None,
	};
	let store = FsBlockStore::open(&args.store)
		.map_err(|e| format!("block store {}: {e}", args.store.display()))?;
	let limits = PackageLimits { max_bytes: args.max_package_bytes, ..Default::default() };
	let loader = ModelLoader::new(Fetcher::new(Arc::new(store), upstream), limits);
	let registry = prometheus::Registry::new();
	let config = ServiceConfig { cache_bytes: args.cache_mb << 20, ..Default::default() };
	let service =
		InferenceService::new(loader, config, Some(&registry)).map_err(|e| e.to_string())?;
	let runtime = tokio::runtime::Builder::new_multi_thread()
		.enable_all()
		.build()
		.map_err(|e| e.to_string())?;
	runtime.block_on(async move {
		let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
			.await
			.map_err(|e| format!("port {}: {e}", args.port))?;
		eprintln!(
			"inference service on http://127.0.0.1:{} (/v1/run, /health, /metrics)",
			args.port
		);
		serve(listener, Arc::new(service), Some(registry)).await.map_err(|e| e.to_string())
	})
}
