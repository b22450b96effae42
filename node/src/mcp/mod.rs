//! `citrate-node mcp`: an MCP (Model Context Protocol) server through which AI agents find the
//! models registered on a Citrate chain and run them. Each model is a resource
//! (`citrate://models/{id}`, its card); tools search and describe them, run verified inference
//! paid by the server's signer within spending caps, read receipts and buy access. Served over
//! stdio (what desktop MCP clients start) or streamable HTTP on a loopback address, where every
//! request must carry the bearer token and no browser `Origin` is accepted.

mod access;
mod cards;
mod chain;
mod import;
mod inference;
mod input;
mod notify;
mod prompts;
mod receipt;
mod server;
mod spending;
mod store;

use crate::{chain_client::ChainClient, signer::SignerArgs};
use chain::Chain;
use citrate_storage::{GatewayFetcher, Upstream};
use polkadot_sdk::sc_cli;
use rmcp::{task_manager::TaskManager, ServiceExt};
use server::{CitrateMcp, Shared};
use std::{net::SocketAddr, sync::Arc, time::Duration};

/// Serve Citrate's models to AI agents over the Model Context Protocol.
#[derive(Debug, clap::Args)]
pub struct McpCmd {
	/// The node's RPC endpoint.
	#[arg(long, default_value = "ws://127.0.0.1:9944")]
	pub rpc: String,

	/// The node's IPFS gateway, for model packages' files (class names), stored outputs and
	/// inputs given by CID.
	#[arg(long, default_value = "http://127.0.0.1:8080")]
	pub gateway: String,

	/// The account that pays for requests and access (without one, the tools that pay refuse).
	#[command(flatten)]
	pub signer: SignerArgs,

	/// The node's base path: packages from `import_model`, and inputs too large to send
	/// inline, are added to its store (`<base-path>/ipfs`) [default: the node's default base
	/// path].
	#[arg(long, short = 'd', value_name = "PATH")]
	pub base_path: Option<std::path::PathBuf>,

	/// Add packages and large inputs to this Kubo RPC API instead.
	#[arg(long, value_name = "URL", conflicts_with = "base_path")]
	pub ipfs_api: Option<String>,

	/// The most one call may spend, in CTR (price plus compute fees, or a tier's price).
	#[arg(long, value_name = "CTR", default_value = "1")]
	pub max_fee_per_call: String,

	/// The most this server may spend while it runs, in CTR, over all its sessions.
	#[arg(long, value_name = "CTR", default_value = "10")]
	pub max_spend: String,

	/// Serve streamable HTTP at this address (path `/mcp`) instead of stdio.
	#[arg(long, value_name = "ADDR")]
	pub http: Option<SocketAddr>,

	/// The bearer token HTTP clients must send (`Authorization: Bearer …`). Read from
	/// `$CITRATE_MCP_TOKEN` when not given; generated and printed to stderr when neither is.
	#[arg(long, value_name = "TOKEN")]
	pub token: Option<String>,

	/// Allow `--http` on an address other than loopback (anyone who can reach it and holds
	/// the token can use the server).
	#[arg(long)]
	pub allow_remote: bool,
}

fn failed(error: impl std::fmt::Display) -> sc_cli::Error {
	sc_cli::Error::Input(error.to_string())
}

impl McpCmd {
	pub fn run(&self) -> sc_cli::Result<()> {
		let runtime =
			tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(failed)?;
		runtime.block_on(self.serve())
	}

	async fn serve(&self) -> sc_cli::Result<()> {
		if let Some(address) = self.http {
			if !address.ip().is_loopback() && !self.allow_remote {
				return Err(failed(format!(
					"--http {address} is not a loopback address: pass --allow-remote to serve \
					 other machines"
				)));
			}
		}
		let per_call = cards::plancks_of(&self.max_fee_per_call)
			.map_err(|e| failed(format!("--max-fee-per-call: {e}")))?;
		let per_session =
			cards::plancks_of(&self.max_spend).map_err(|e| failed(format!("--max-spend: {e}")))?;
		let signer = self.signer.pair().map_err(failed)?;
		let gateway = GatewayFetcher::new(vec![self.gateway.clone()], Duration::from_secs(60))
			.map_err(|e| failed(format!("--gateway {}: {e}", self.gateway)))?;
		let client = ChainClient::connect(&self.rpc).await.map_err(failed)?;
		let shared = Arc::new(Shared {
			chain: Chain::new(client, Upstream::Gateways(gateway)),
			signer,
			budget: spending::Budget::new(per_call, per_session),
			tasks: TaskManager::new(),
			peers: Default::default(),
			store: store::StoreTarget {
				ipfs_api: self.ipfs_api.clone(),
				base_path: self.base_path.clone(),
			},
		});
		tokio::spawn(notify::watch(shared.clone()));
		match self.http {
			None => {
				let running = CitrateMcp::new(shared)
					.serve(rmcp::transport::stdio())
					.await
					.map_err(|e| failed(format!("MCP over stdio: {e}")))?;
				running.waiting().await.map_err(failed)?;
				Ok(())
			}
			Some(address) => self.serve_http(address, shared).await,
		}
	}

	async fn serve_http(&self, address: SocketAddr, shared: Arc<Shared>) -> sc_cli::Result<()> {
		use rmcp::transport::streamable_http_server::{
			session::local::LocalSessionManager, StreamableHttpServerConfig, StreamableHttpService,
		};
		let token = match self.token.clone().or_else(|| std::env::var("CITRATE_MCP_TOKEN").ok()) {
			Some(token) if !token.is_empty() => token,
			_ => {
				let token = random_token().map_err(failed)?;
				eprintln!("MCP bearer token (pass it as `Authorization: Bearer …`): {token}");
				token
			}
		};
		let mut sessions = LocalSessionManager::default();
		sessions.session_config.keep_alive = Some(Duration::from_secs(3600));
		let mut config = StreamableHttpServerConfig::default().enforce_origin_validation();
		if self.allow_remote {
			config = config.with_allowed_hosts(Vec::<String>::new());
		}
		let service = StreamableHttpService::new(
			move || Ok(CitrateMcp::new(shared.clone())),
			Arc::new(sessions),
			config,
		);
		let app = axum::Router::new()
			.nest_service("/mcp", service)
			.layer(axum::middleware::from_fn_with_state(Arc::<str>::from(token), bearer));
		let listener = tokio::net::TcpListener::bind(address).await.map_err(failed)?;
		eprintln!(
			"MCP over streamable HTTP on http://{}/mcp",
			listener.local_addr().map_err(failed)?
		);
		axum::serve(listener, app)
			.with_graceful_shutdown(async {
				let _ = tokio::signal::ctrl_c().await;
			})
			.await
			.map_err(failed)
	}
}

/// Refuses a request without the bearer token (compared in constant time).
async fn bearer(
	axum::extract::State(token): axum::extract::State<Arc<str>>,
	request: axum::extract::Request,
	next: axum::middleware::Next,
) -> axum::response::Response {
	use axum::{http::header, response::IntoResponse};
	let given = request
		.headers()
		.get(header::AUTHORIZATION)
		.and_then(|value| value.to_str().ok())
		.and_then(|value| value.strip_prefix("Bearer "))
		.unwrap_or_default();
	let same = given.len() == token.len()
		&& given.bytes().zip(token.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
	if !same {
		return (
			axum::http::StatusCode::UNAUTHORIZED,
			[(header::WWW_AUTHENTICATE, "Bearer")],
			"missing or wrong bearer token",
		)
			.into_response();
	}
	next.run(request).await
}

/// 32 random bytes, hex.
fn random_token() -> std::io::Result<String> {
	use std::io::Read;
	let mut bytes = [0u8; 32];
	std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
	Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
