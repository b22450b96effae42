//! Command-line interface: Substrate's standard node flags plus its maintenance subcommands.

use polkadot_sdk::sc_cli;
use std::path::PathBuf;

/// Subcommands besides running the node.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management utilities.
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Build a chain specification.
	/// DEPRECATED: `build-spec` will be removed; use `export-chain-spec`.
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Export the chain specification.
	ExportChainSpec(sc_cli::ExportChainSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Benchmark runtime pallets (needs `--features runtime-benchmarks`).
	#[cfg(feature = "runtime-benchmarks")]
	#[command(subcommand)]
	Benchmark(polkadot_sdk::frame_benchmarking_cli::BenchmarkCmd),

	/// Db meta columns information.
	ChainInfo(sc_cli::ChainInfoCmd),

	/// Model files in the node's IPFS-compatible block store: add, get, pin, unpin, ls, gc,
	/// export-car, import-car.
	Storage(crate::storage_cmd::StorageCmd),

	/// Import Hugging Face models into the chain (`model import <dir | org/name>`).
	Model(crate::model_cmd::ModelCmd),

	/// Serve the chain's models to AI agents over the Model Context Protocol (stdio, or
	/// streamable HTTP on loopback with a bearer token).
	Mcp(crate::mcp::McpCmd),
}

/// The `citrate-node` command line.
#[derive(Debug, clap::Parser)]
pub struct Cli {
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	#[clap(flatten)]
	pub run: sc_cli::RunCmd,

	#[clap(flatten)]
	pub wasm_cache: WasmCacheParams,

	#[clap(flatten)]
	pub ipfs: IpfsParams,

	#[clap(flatten)]
	pub inference: InferenceParams,
}

/// The native inference service the inference pallet's offchain worker has the requests
/// assigned to this node's provider keys run by (over HTTP on loopback).
#[derive(Debug, Clone, clap::Args)]
pub struct InferenceParams {
	/// Port on 127.0.0.1 of the embedded inference service.
	#[arg(long, value_name = "PORT", default_value_t = 8090)]
	pub inference_service_port: u16,

	/// Use an inference service running on its own (`citrate-inference-service`) at this URL
	/// instead of embedding one.
	#[arg(long, value_name = "URL", conflicts_with = "inference_service_port")]
	pub inference_service_url: Option<String>,

	/// Run no inference service: this node's provider keys answer no requests.
	#[arg(long, conflicts_with_all = ["inference_service_port", "inference_service_url"])]
	pub no_inference_service: bool,

	/// Mebibytes of loaded models the embedded service keeps in memory.
	#[arg(long, value_name = "MIB", default_value_t = 4096)]
	pub inference_cache_mb: u64,
}

/// The node's IPFS side: its block store (`<base-path>/ipfs`) served as a trustless gateway,
/// which the pinning offchain worker also reads its proofs from.
#[derive(Debug, Clone, clap::Args)]
pub struct IpfsParams {
	/// Port of the trustless gateway (`/ipfs/{cid}?format=raw|car`); 0 picks a free one.
	#[arg(long, value_name = "PORT", default_value_t = 8080)]
	pub ipfs_gateway_port: u16,

	/// Listen on every interface instead of 127.0.0.1 only.
	#[arg(long)]
	pub ipfs_gateway_external: bool,

	/// Do not serve the gateway (the pinning offchain worker then cannot answer challenges).
	#[arg(long, conflicts_with_all = ["ipfs_gateway_port", "ipfs_gateway_external"])]
	pub no_ipfs_gateway: bool,

	/// A Kubo RPC API (e.g. http://127.0.0.1:5001) to fetch blocks the store lacks from;
	/// each is verified against its CID and kept.
	#[arg(long, value_name = "URL")]
	pub ipfs_api: Option<String>,

	/// Trustless gateways to fetch blocks the store lacks from, tried in order (repeatable);
	/// each block is verified against its CID and kept.
	#[arg(long = "ipfs-fetch-gateway", value_name = "URL", conflicts_with = "ipfs_api")]
	pub ipfs_fetch_gateways: Vec<String>,
}

/// Where the runtime compiled to machine code is kept between starts. Compiling the runtime
/// takes seconds on every start without it; with it, only the first start after a runtime
/// change pays.
#[derive(Debug, Clone, clap::Args)]
pub struct WasmCacheParams {
	/// Directory for the compiled-runtime cache
	/// [default: $XDG_CACHE_HOME/citrate/wasmtime, else ~/.cache/citrate/wasmtime].
	#[arg(long, value_name = "PATH")]
	pub wasm_cache_dir: Option<PathBuf>,

	/// Compile the runtime afresh on every start.
	#[arg(long, conflicts_with = "wasm_cache_dir")]
	pub no_wasm_cache: bool,
}

impl WasmCacheParams {
	/// The cache directory to use, if any.
	pub fn dir(&self) -> Option<PathBuf> {
		if self.no_wasm_cache {
			return None;
		}
		self.wasm_cache_dir.clone().or_else(|| {
			std::env::var_os("XDG_CACHE_HOME")
				.map(PathBuf::from)
				.or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
				.map(|cache| cache.join("citrate").join("wasmtime"))
		})
	}
}
