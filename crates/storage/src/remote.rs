//! Talking to other IPFS nodes, always verifying what comes back:
//!
//! - [`KuboClient`]: Kubo's HTTP RPC API (`/api/v0/…`), used when the operator runs a daemon.
//!   Tolerates what js-ipfs does differently: CIDs in base58btc or base32 (parsed, never
//!   compared as text), sizes as numbers or strings, content types on every multipart part,
//!   and requests for content nobody has (a `timeout=` parameter and a client timeout).
//! - [`GatewayFetcher`]: trustless gateways (`/ipfs/{cid}?format=raw`), tried in order; a
//!   block that does not hash to its CID is refused and the next gateway asked.
//!
//! Blocks reach the local store only through [`FsBlockStore::put`] or CAR import, both of
//! which check each block against its CID; [`crate::fetch`] walks DAGs through either.

use crate::{
	block::{verify, BlockError, MAX_BLOCK_LEN},
	import_car, CarError, FsBlockStore,
};
use bytes::Bytes;
use cid::Cid;
use futures::StreamExt;
use std::{
	io::{self, Read},
	path::Path,
	sync::Arc,
	time::Duration,
};
use tokio::sync::mpsc;

#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
	#[error("{url}: {source}")]
	Http { url: String, source: reqwest::Error },
	#[error("{url}: HTTP {status}: {message}")]
	Status { url: String, status: u16, message: String },
	#[error("{url}: unexpected response: {message}")]
	BadResponse { url: String, message: String },
	#[error("{url}: {source}")]
	Block { url: String, source: Box<BlockError> },
	#[error("importing the CAR from {url}: {source}")]
	Car { url: String, source: Box<CarError> },
	#[error("no gateway could serve block {cid}: {}", .failures.join("; "))]
	AllGatewaysFailed { cid: Cid, failures: Vec<String> },
	#[error(transparent)]
	Store(Box<BlockError>),
	#[error("reading a block's links: {0}")]
	Links(Box<crate::ExportError>),
	#[error("{0}")]
	Io(#[from] io::Error),
}

impl From<BlockError> for RemoteError {
	fn from(error: BlockError) -> Self {
		Self::Store(Box::new(error))
	}
}

impl From<crate::ExportError> for RemoteError {
	fn from(error: crate::ExportError) -> Self {
		Self::Links(Box::new(error))
	}
}

type Result<T> = std::result::Result<T, RemoteError>;

/// Parses a CID field as js-ipfs or Kubo write it: `"bafy…"`, `"Qm…"` or `{"/": "…"}`.
fn cid_field(value: &serde_json::Value) -> Option<Cid> {
	let text = value.as_str().or_else(|| value.get("/")?.as_str())?;
	Cid::try_from(text).ok()
}

/// A number that Kubo writes as a string and js-ipfs as a number.
fn size_field(value: &serde_json::Value) -> Option<u64> {
	value.as_u64().or_else(|| value.as_str()?.parse().ok())
}

/// A response's body, which must be the block `cid` names and at most [`MAX_BLOCK_LEN`]
/// bytes, checked before more than that is read.
async fn verified_body(response: reqwest::Response, url: String, cid: &Cid) -> Result<Vec<u8>> {
	let too_large = |url: String| RemoteError::BadResponse {
		url,
		message: format!("block {cid} is over {MAX_BLOCK_LEN} bytes, the most a block may hold"),
	};
	if response.content_length().is_some_and(|len| len > MAX_BLOCK_LEN as u64) {
		return Err(too_large(url));
	}
	let mut block = Vec::new();
	let mut body = response.bytes_stream();
	while let Some(chunk) = body.next().await {
		let chunk = chunk.map_err(|source| RemoteError::Http { url: url.clone(), source })?;
		if block.len() + chunk.len() > MAX_BLOCK_LEN {
			return Err(too_large(url));
		}
		block.extend_from_slice(&chunk);
	}
	verify(cid, &block).map_err(|source| RemoteError::Block { url, source: Box::new(source) })?;
	Ok(block)
}

/// Result of [`KuboClient::add`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Added {
	pub cid: Cid,
	/// The DAG's cumulative size as the daemon reports it.
	pub size: u64,
}

/// A client of a Kubo-compatible HTTP RPC API, e.g. `http://127.0.0.1:5001`.
#[derive(Clone)]
pub struct KuboClient {
	api: String,
	http: reqwest::Client,
	/// Passed to the daemon as `timeout=` on reads, so it gives up on content nobody has.
	read_timeout: Duration,
}

impl KuboClient {
	/// A client of the API at `api_url`; each request must complete within `timeout`.
	pub fn new(api_url: &str, timeout: Duration) -> Result<Self> {
		let http = reqwest::Client::builder()
			.timeout(timeout)
			.connect_timeout(Duration::from_secs(5))
			.build()
			.map_err(|source| RemoteError::Http { url: api_url.into(), source })?;
		Ok(Self { api: api_url.trim_end_matches('/').into(), http, read_timeout: timeout })
	}

	fn url(&self, command: &str) -> String {
		format!("{}/api/v0/{command}", self.api)
	}

	async fn post(
		&self,
		command: &str,
		query: &[(&str, String)],
		form: Option<reqwest::multipart::Form>,
	) -> Result<reqwest::Response> {
		let url = self.url(command);
		let mut request = self.http.post(&url).query(query);
		if let Some(form) = form {
			request = request.multipart(form);
		}
		let response = request
			.send()
			.await
			.map_err(|source| RemoteError::Http { url: url.clone(), source })?;
		let status = response.status();
		if status.is_success() {
			return Ok(response);
		}
		let body = response.text().await.unwrap_or_default();
		let message = serde_json::from_str::<serde_json::Value>(&body)
			.ok()
			.and_then(|v| v.get("Message")?.as_str().map(String::from))
			.unwrap_or(body);
		Err(RemoteError::Status { url, status: status.as_u16(), message })
	}

	async fn json_lines(
		&self,
		response: reqwest::Response,
		url: &str,
	) -> Result<Vec<serde_json::Value>> {
		let text = response
			.text()
			.await
			.map_err(|source| RemoteError::Http { url: url.into(), source })?;
		text.lines()
			.filter(|line| !line.trim().is_empty())
			.map(|line| {
				serde_json::from_str(line).map_err(|e| RemoteError::BadResponse {
					url: url.into(),
					message: format!("{e}: {line}"),
				})
			})
			.collect()
	}

	fn read_args(&self, cid: &Cid) -> Vec<(&'static str, String)> {
		vec![("arg", cid.to_string()), ("timeout", format!("{}ms", self.read_timeout.as_millis()))]
	}

	/// `ipfs add` of a file, streamed from disk: CIDv0 defaults, or `cid_version=1` with raw
	/// leaves; `chunk_size`-byte chunks. Returns the root the daemon computed.
	pub async fn add(&self, path: &Path, cid_version: u8, chunk_size: usize) -> Result<Added> {
		let file = tokio::fs::File::open(path).await?;
		let len = file.metadata().await?.len();
		let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(file));
		let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
		// js-ipfs needs a content type on every part.
		let part = reqwest::multipart::Part::stream_with_length(body, len)
			.file_name(name)
			.mime_str("application/octet-stream")
			.expect("valid mime type");
		let mut query = vec![
			("cid-version", cid_version.to_string()),
			("chunker", format!("size-{chunk_size}")),
			("pin", "true".into()),
			("progress", "false".into()),
		];
		if cid_version == 1 {
			query.push(("raw-leaves", "true".into()));
		}
		let url = self.url("add");
		let response = self
			.post("add", &query, Some(reqwest::multipart::Form::new().part("file", part)))
			.await?;
		let lines = self.json_lines(response, &url).await?;
		let last = lines.last().ok_or_else(|| RemoteError::BadResponse {
			url: url.clone(),
			message: "empty add response".into(),
		})?;
		let bad =
			|message: &str| RemoteError::BadResponse { url: url.clone(), message: message.into() };
		Ok(Added {
			cid: last.get("Hash").and_then(cid_field).ok_or_else(|| bad("no Hash"))?,
			size: last.get("Size").and_then(size_field).ok_or_else(|| bad("no Size"))?,
		})
	}

	/// `ipfs cat`: the file's bytes as the daemon sends them. Unverified (bytes cannot be
	/// checked without the DAG); use [`Self::get`] to fetch into the store with verification.
	pub async fn cat(&self, cid: &Cid) -> Result<Vec<u8>> {
		let url = self.url("cat");
		let response = self.post("cat", &self.read_args(cid), None).await?;
		Ok(response.bytes().await.map_err(|source| RemoteError::Http { url, source })?.to_vec())
	}

	/// Fetches the DAG under `cid` (`dag/export`) into `store`, verifying every block, and
	/// pins it. Returns the number of blocks.
	pub async fn get(&self, cid: &Cid, store: Arc<FsBlockStore>) -> Result<u64> {
		let url = self.url("dag/export");
		let response = self.post("dag/export", &self.read_args(cid), None).await?;
		let (sender, receiver) = mpsc::channel::<io::Result<Bytes>>(8);
		let import = tokio::task::spawn_blocking(move || {
			let mut reader = ChannelReader { receiver, current: Bytes::new() };
			import_car(&mut reader, &store)
		});
		let mut body = response.bytes_stream();
		while let Some(chunk) = body.next().await {
			let chunk = chunk.map_err(io::Error::other);
			let failed = chunk.is_err();
			if sender.send(chunk).await.is_err() || failed {
				break;
			}
		}
		drop(sender);
		let (roots, blocks) = import
			.await
			.map_err(io::Error::other)?
			.map_err(|source| RemoteError::Car { url: url.clone(), source: Box::new(source) })?;
		if !roots.iter().any(|root| root.hash() == cid.hash()) {
			return Err(RemoteError::BadResponse {
				url,
				message: format!("the CAR's roots are not {cid}"),
			});
		}
		Ok(blocks)
	}

	/// `ipfs pin add` (recursive).
	pub async fn pin_add(&self, cid: &Cid) -> Result<()> {
		self.post("pin/add", &self.read_args(cid), None).await.map(drop)
	}

	/// `ipfs pin rm`.
	pub async fn pin_rm(&self, cid: &Cid) -> Result<()> {
		self.post("pin/rm", &[("arg", cid.to_string())], None).await.map(drop)
	}

	/// The recursively pinned roots (`ipfs pin ls --type=recursive`).
	pub async fn pin_ls(&self) -> Result<Vec<Cid>> {
		let url = self.url("pin/ls");
		let response = self.post("pin/ls", &[("type", "recursive".into())], None).await?;
		let mut pins = Vec::new();
		for line in self.json_lines(response, &url).await? {
			// Kubo: {"Keys": {"<cid>": {"Type": …}}}; streamed form: {"Cid": …, "Type": …}.
			if let Some(keys) = line.get("Keys").and_then(|k| k.as_object()) {
				pins.extend(keys.keys().filter_map(|k| Cid::try_from(k.as_str()).ok()));
			} else if let Some(cid) = line.get("Cid").and_then(cid_field) {
				pins.push(cid);
			}
		}
		Ok(pins)
	}

	/// `ipfs block get`, verified against `cid`.
	pub async fn block_get(&self, cid: &Cid) -> Result<Vec<u8>> {
		let response = self.post("block/get", &self.read_args(cid), None).await?;
		verified_body(response, self.url("block/get"), cid).await
	}

	/// `ipfs block stat`: the block's size in bytes.
	pub async fn block_stat(&self, cid: &Cid) -> Result<u64> {
		let url = self.url("block/stat");
		let response = self.post("block/stat", &self.read_args(cid), None).await?;
		let lines = self.json_lines(response, &url).await?;
		lines
			.first()
			.and_then(|l| l.get("Size"))
			.and_then(size_field)
			.ok_or_else(|| RemoteError::BadResponse { url, message: "no Size".into() })
	}

	/// `ipfs dag import` of a CAR file; returns the roots the daemon imported.
	pub async fn dag_import(&self, car: &Path) -> Result<Vec<Cid>> {
		self.dag_import_observed(car, |_| {}).await
	}

	/// [`dag_import`](Self::dag_import), telling `sent` the size of each piece of the CAR as
	/// it is uploaded (for a progress report).
	pub async fn dag_import_observed(
		&self,
		car: &Path,
		mut sent: impl FnMut(u64) + Send + Sync + 'static,
	) -> Result<Vec<Cid>> {
		use futures::StreamExt;
		let file = tokio::fs::File::open(car).await?;
		let len = file.metadata().await?.len();
		let stream = tokio_util::io::ReaderStream::new(file).inspect(move |piece| {
			if let Ok(piece) = piece {
				sent(piece.len() as u64)
			}
		});
		let body = reqwest::Body::wrap_stream(stream);
		let part = reqwest::multipart::Part::stream_with_length(body, len)
			.file_name("dag.car")
			.mime_str("application/vnd.ipld.car")
			.expect("valid mime type");
		let url = self.url("dag/import");
		let response = self
			.post(
				"dag/import",
				&[("pin-roots", "true".into())],
				Some(reqwest::multipart::Form::new().part("file", part)),
			)
			.await?;
		let mut roots = Vec::new();
		for line in self.json_lines(response, &url).await? {
			let Some(root) = line.get("Root") else { continue };
			if let Some(message) =
				root.get("PinErrorMsg").and_then(|m| m.as_str()).filter(|m| !m.is_empty())
			{
				return Err(RemoteError::BadResponse { url, message: message.into() });
			}
			roots.extend(root.get("Cid").and_then(cid_field));
		}
		Ok(roots)
	}
}

/// Fetches blocks from trustless gateways, in the order given, verifying each.
#[derive(Clone)]
pub struct GatewayFetcher {
	gateways: Vec<String>,
	http: reqwest::Client,
}

impl GatewayFetcher {
	/// Gateways are base URLs (`https://ipfs.example`); each request must end within `timeout`.
	pub fn new(gateways: Vec<String>, timeout: Duration) -> Result<Self> {
		let http = reqwest::Client::builder()
			.timeout(timeout)
			.build()
			.map_err(|source| RemoteError::Http { url: gateways.join(", "), source })?;
		let gateways = gateways.into_iter().map(|g| g.trim_end_matches('/').to_string()).collect();
		Ok(Self { gateways, http })
	}

	async fn fetch_from(&self, gateway: &str, cid: &Cid) -> Result<Vec<u8>> {
		let url = format!("{gateway}/ipfs/{cid}?format=raw");
		let response = self
			.http
			.get(&url)
			.header(reqwest::header::ACCEPT, "application/vnd.ipld.raw")
			.send()
			.await
			.map_err(|source| RemoteError::Http { url: url.clone(), source })?;
		let status = response.status();
		if !status.is_success() {
			let message = response.text().await.unwrap_or_default().trim().to_string();
			return Err(RemoteError::Status { url, status: status.as_u16(), message });
		}
		verified_body(response, url, cid).await
	}

	/// One block, from the first gateway that returns bytes matching `cid`.
	pub async fn block(&self, cid: &Cid) -> Result<Vec<u8>> {
		let mut failures = Vec::new();
		for gateway in &self.gateways {
			match self.fetch_from(gateway, cid).await {
				Ok(block) => return Ok(block),
				Err(error) => {
					log::debug!(target: "ipfs-fetch", "{error}");
					failures.push(error.to_string());
				}
			}
		}
		Err(RemoteError::AllGatewaysFailed { cid: *cid, failures })
	}
}

/// A blocking `Read` over chunks sent from an async task.
struct ChannelReader {
	receiver: mpsc::Receiver<io::Result<Bytes>>,
	current: Bytes,
}

impl Read for ChannelReader {
	fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
		while self.current.is_empty() {
			match self.receiver.blocking_recv() {
				Some(chunk) => self.current = chunk?,
				None => return Ok(0),
			}
		}
		let n = out.len().min(self.current.len());
		out[..n].copy_from_slice(&self.current.split_to(n));
		Ok(n)
	}
}
