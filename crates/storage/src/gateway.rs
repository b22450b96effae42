//! A trustless IPFS gateway over the block store (the HTTP side of
//! <https://specs.ipfs.tech/http-gateways/trustless-gateway/>):
//!
//! - `GET /ipfs/{cid}[/path/inside]?format=raw` (or `Accept: application/vnd.ipld.raw`): the
//!   target's block;
//! - `GET /ipfs/{cid}[/path/inside]?format=car` (or `Accept: application/vnd.ipld.car`): a
//!   CARv1, streamed, holding the blocks of the path (so a client can verify it) and then the
//!   target's DAG as `dag-scope` says (`all`, the default; `entity`; `block`);
//! - `GET /ipfs/{cid}[/path/inside]`: a file's bytes, or a directory's listing as text
//!   (`name<TAB>cid<TAB>size` per entry), for people with `curl`. A file answers a single
//!   `Range: bytes=…` with 206 (reading only the blocks the range needs); `Range` is ignored
//!   for raw blocks, CARs and listings. `dag-scope` is refused unless a CAR is asked for.
//!
//! Paths are resolved through directory blocks checked against their CIDs, and every block
//! is checked as it is read; a corrupted block ends the response (and is logged with its CID)
//! rather than being sent. The gateway serves any [`BlockSource`] ([`serve`]), or a store
//! filled on demand from an upstream ([`serve_fetching`]: the blocks a request touches are
//! fetched asynchronously before the response is read from the store). `HEAD` answers the
//! same headers without a body. The node binds it to 127.0.0.1 unless told otherwise.
//! Connections that are slow to send headers, or idle, are closed ([`GatewayConfig`]).

use crate::{
	block::{BlockError, BlockSource},
	car::{self, DagScope},
	export,
	exporter::resolve_path,
	fetch::Fetcher,
	unixfs::{parse_block, ExportError, Node},
};
use bytes::Bytes;
use cid::Cid;
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::{body::Frame, header, Method, Request, Response, StatusCode};
use range::Requested;
use std::{io, sync::Arc};
use tokio::{net::TcpListener, sync::mpsc};

mod conn;
mod range;

pub use conn::GatewayConfig;

type Body = BoxBody<Bytes, io::Error>;

const RAW: &str = "application/vnd.ipld.raw";
const CAR: &str = "application/vnd.ipld.car";
/// Bytes per frame when streaming a CAR or a file.
const FRAME: usize = 256 * 1024;
const LOG_TARGET: &str = "ipfs-gateway";

/// Serves `source` on `listener` with the default [`GatewayConfig`] until the listener fails.
pub async fn serve<S>(listener: TcpListener, source: S) -> io::Result<()>
where
	S: BlockSource + Send + Sync + 'static,
{
	serve_with_config(listener, source, GatewayConfig::default()).await
}

/// [`serve`] with the given connection limits.
pub async fn serve_with_config<S>(
	listener: TcpListener,
	source: S,
	config: GatewayConfig,
) -> io::Result<()>
where
	S: BlockSource + Send + Sync + 'static,
{
	serve_with(listener, Arc::new(source), None, config).await
}

/// Serves the fetcher's store on `listener` with the default [`GatewayConfig`] until the
/// listener fails; blocks a request needs and the store lacks are fetched from the fetcher's
/// upstream first.
pub async fn serve_fetching(listener: TcpListener, fetcher: Fetcher) -> io::Result<()> {
	serve_fetching_with_config(listener, fetcher, GatewayConfig::default()).await
}

/// [`serve_fetching`] with the given connection limits.
pub async fn serve_fetching_with_config(
	listener: TcpListener,
	fetcher: Fetcher,
	config: GatewayConfig,
) -> io::Result<()> {
	serve_with(listener, fetcher.store().clone(), Some(Arc::new(fetcher)), config).await
}

async fn serve_with<S>(
	listener: TcpListener,
	store: Arc<S>,
	fetcher: Option<Arc<Fetcher>>,
	config: GatewayConfig,
) -> io::Result<()>
where
	S: BlockSource + Send + Sync + 'static,
{
	loop {
		let (stream, _) = listener.accept().await?;
		let (store, fetcher) = (store.clone(), fetcher.clone());
		tokio::spawn(conn::serve_connection(stream, config, move |activity| {
			hyper::service::service_fn(move |request| {
				let (store, fetcher) = (store.clone(), fetcher.clone());
				let busy = activity.busy();
				async move {
					let response = handle(request, store, fetcher).await;
					drop(busy);
					Ok::<_, io::Error>(response)
				}
			})
		}));
	}
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Format {
	Raw,
	Car(DagScope),
	File,
}

fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
	query.split('&').find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

fn format_of<B>(request: &Request<B>) -> Result<Format, String> {
	let query = request.uri().query().unwrap_or("");
	let accept =
		request.headers().get(header::ACCEPT).and_then(|value| value.to_str().ok()).unwrap_or("");
	let scope_param = query_param(query, "dag-scope");
	let scope = match scope_param {
		None | Some("all") => DagScope::All,
		Some("entity") => DagScope::Entity,
		Some("block") => DagScope::Block,
		Some(other) => {
			return Err(format!("unsupported dag-scope {other:?}; use all, entity or block"))
		}
	};
	let format = match query_param(query, "format") {
		Some("raw") => Format::Raw,
		Some("car") => Format::Car(scope),
		Some(other) => return Err(format!("unsupported format {other:?}; use raw or car")),
		None if accept.contains(RAW) => Format::Raw,
		None if accept.contains(CAR) => Format::Car(scope),
		None => Format::File,
	};
	// Refused rather than ignored: the response would not be scoped as the client asked.
	if scope_param.is_some() && !matches!(format, Format::Car(_)) {
		return Err("dag-scope applies to format=car only".into());
	}
	Ok(format)
}

/// Decodes `%XX` escapes of a URL path; `None` if an escape is malformed or the result is
/// not UTF-8.
fn percent_decode(path: &str) -> Option<String> {
	let bytes = path.as_bytes();
	let mut out = Vec::with_capacity(bytes.len());
	let mut i = 0;
	while i < bytes.len() {
		if bytes[i] == b'%' {
			let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
			out.push(u8::from_str_radix(hex, 16).ok()?);
			i += 3;
		} else {
			out.push(bytes[i]);
			i += 1;
		}
	}
	String::from_utf8(out).ok()
}

fn text(status: StatusCode, message: impl Into<String>) -> Response<Body> {
	let body =
		Full::new(Bytes::from(message.into() + "\n")).map_err(|never| match never {}).boxed();
	Response::builder()
		.status(status)
		.header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
		.body(body)
		.expect("valid response")
}

/// The status a failed read or path resolution answers with.
fn error_response(error: ExportError) -> Response<Body> {
	let status = match &error {
		ExportError::Block(BlockError::NotFound(_)) => StatusCode::NOT_FOUND,
		ExportError::NoSuchEntry { .. } => StatusCode::NOT_FOUND,
		ExportError::NotADirectory { .. } => StatusCode::BAD_REQUEST,
		_ => {
			log::error!(target: LOG_TARGET, "{error}");
			StatusCode::INTERNAL_SERVER_ERROR
		}
	};
	let message = match &error {
		ExportError::Block(BlockError::NotFound(cid)) => format!("{cid} is not held by this node"),
		_ => error.to_string(),
	};
	text(status, message)
}

/// The path's CIDs (root first) and the target's parsed block.
fn resolve(
	root: Cid,
	path: &str,
	store: &impl BlockSource,
) -> Result<(Vec<Cid>, Vec<u8>, Node), ExportError> {
	let cids = resolve_path(&root, path, store)?;
	let target = *cids.last().expect("the path starts at the root");
	let block = store.get(&target)?;
	let node = parse_block(&target, block.clone())?;
	Ok((cids, block, node))
}

async fn handle<S, B>(
	request: Request<B>,
	store: Arc<S>,
	fetcher: Option<Arc<Fetcher>>,
) -> Response<Body>
where
	S: BlockSource + Send + Sync + 'static,
{
	if request.method() != Method::GET && request.method() != Method::HEAD {
		return text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD");
	}
	let Some(rest) = request.uri().path().strip_prefix("/ipfs/") else {
		return text(StatusCode::NOT_FOUND, "paths are /ipfs/{cid}[/path]");
	};
	let (cid_text, path) = rest.split_once('/').unwrap_or((rest, ""));
	let cid = match Cid::try_from(cid_text) {
		Ok(cid) => cid,
		Err(error) => {
			return text(StatusCode::BAD_REQUEST, format!("{cid_text} is not a CID: {error}"))
		}
	};
	let Some(path) = percent_decode(path) else {
		return text(StatusCode::BAD_REQUEST, "the path has a malformed %-escape or is not UTF-8");
	};
	let format = match format_of(&request) {
		Ok(format) => format,
		Err(message) => return text(StatusCode::BAD_REQUEST, message),
	};
	let head = request.method() == Method::HEAD;
	let [range, if_range] = [header::RANGE, header::IF_RANGE].map(|name| {
		request.headers().get(name).and_then(|value| value.to_str().ok()).map(str::to_owned)
	});

	if let Some(fetcher) = fetcher {
		let scope = match format {
			Format::Raw => DagScope::Block,
			Format::Car(scope) => scope,
			Format::File => DagScope::Entity,
		};
		if let Err(error) = fetcher.fetch_path(&cid, &path, scope).await {
			// The read below reports what is missing.
			log::warn!(target: LOG_TARGET, "fetching /ipfs/{cid}/{path}: {error}");
		}
	}

	// The path and the target's block are read (and verified) first, so a missing or
	// corrupted block there is a clean error status rather than a cut-off stream.
	let resolved = {
		let (store, path) = (store.clone(), path.clone());
		tokio::task::spawn_blocking(move || resolve(cid, &path, store.as_ref())).await
	};
	let (cids, block, node) = match resolved {
		Ok(Ok(resolved)) => resolved,
		Ok(Err(error)) => return error_response(error),
		Err(error) => return text(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
	};
	let target = *cids.last().expect("the path starts at the root");
	let ipfs_path = if path.is_empty() {
		format!("/ipfs/{cid}")
	} else {
		format!("/ipfs/{cid}/{}", path.trim_matches('/'))
	};

	let full = |bytes: Vec<u8>| Some(Full::new(Bytes::from(bytes)).map_err(|n| match n {}).boxed());
	let (content_type, etag, body) = match (format, &node) {
		(Format::Raw, _) => (RAW, format!("\"{target}.raw\""), full(block)),
		(Format::Car(scope), _) => (CAR_V1, format!("\"{target}.car.{scope:?}\""), None),
		(Format::File, Node::File { .. }) => {
			("application/octet-stream", format!("\"{target}\""), None)
		}
		(Format::File, Node::Directory(entries)) => {
			let listing: String = entries
				.iter()
				.map(|entry| format!("{}\t{}\t{}\n", entry.name, entry.cid, entry.tsize))
				.collect();
			("text/plain; charset=utf-8", format!("\"{target}.dir\""), full(listing.into_bytes()))
		}
	};
	// Only a file's bytes are ranged, not raw blocks, CARs or listings; an `If-Range` other
	// than the file's ETag asks for the whole file.
	let file_size = match &node {
		Node::File { size, .. } if format == Format::File => Some(*size),
		_ => None,
	};
	let fresh = if_range.as_deref().is_none_or(|value| value == etag);
	let requested = match file_size {
		Some(size) if fresh => range::requested(range.as_deref(), size),
		_ => Requested::Whole,
	};
	let total = file_size.unwrap_or(0);
	if requested == Requested::Unsatisfiable {
		let mut response = text(
			StatusCode::RANGE_NOT_SATISFIABLE,
			format!("the range is outside the file's {total} bytes"),
		);
		let content_range = header::HeaderValue::from_str(&format!("bytes */{total}"));
		response.headers_mut().insert(header::CONTENT_RANGE, content_range.expect("ASCII"));
		return response;
	}
	let mut builder = Response::builder()
		.status(StatusCode::OK)
		.header(header::CONTENT_TYPE, content_type)
		.header(header::ETAG, etag)
		.header(header::CACHE_CONTROL, "public, max-age=29030400, immutable")
		.header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
		.header("X-Ipfs-Path", ipfs_path)
		.header("X-Ipfs-Roots", cids.iter().map(Cid::to_string).collect::<Vec<_>>().join(","));
	if file_size.is_some() {
		builder = builder.header(header::ACCEPT_RANGES, "bytes");
	}
	if let Requested::Part { start, end } = requested {
		builder = builder
			.status(StatusCode::PARTIAL_CONTENT)
			.header(header::CONTENT_RANGE, format!("bytes {start}-{}/{total}", end - 1))
			.header(header::CONTENT_LENGTH, end - start);
	}
	if head {
		let empty = Full::new(Bytes::new()).map_err(|n| match n {}).boxed();
		return builder.body(empty).expect("valid response");
	}
	let body = body.unwrap_or_else(|| {
		stream_blocking(move |out| {
			let result = match (format, requested) {
				(Format::Car(scope), _) => car::export_car_path(&cids, scope, store.as_ref(), out)
					.map(|_| ())
					.map_err(|e| e.to_string()),
				(_, Requested::Part { start, end }) => {
					range::export_range(&target, (start, end), store.as_ref(), out)
				}
				_ => export(&target, store.as_ref(), out).map(|_| ()).map_err(|e| e.to_string()),
			};
			if let Err(error) = &result {
				log::error!(target: LOG_TARGET, "serving {target} stopped: {error}");
			}
			result
		})
	});
	builder.body(body).expect("valid response")
}

const CAR_V1: &str = "application/vnd.ipld.car; version=1";

/// A body fed by `write` running on a blocking thread; an error ends the stream with an error,
/// which aborts the response so a client never mistakes it for a complete one.
fn stream_blocking(
	write: impl FnOnce(&mut ChannelWriter) -> Result<(), String> + Send + 'static,
) -> Body {
	let (sender, receiver) = mpsc::channel::<io::Result<Bytes>>(4);
	tokio::task::spawn_blocking(move || {
		let mut writer = ChannelWriter { sender, buffer: Vec::with_capacity(FRAME) };
		let result =
			write(&mut writer).and_then(|()| writer.flush_frame().map_err(|e| e.to_string()));
		if let Err(error) = result {
			let _ = writer.sender.blocking_send(Err(io::Error::other(error)));
		}
	});
	let frames = futures::stream::unfold(receiver, |mut receiver| async move {
		let item = receiver.recv().await?;
		Some((item.map(Frame::data), receiver))
	});
	StreamBody::new(frames).boxed()
}

/// Buffers writes into frames for [`stream_blocking`].
struct ChannelWriter {
	sender: mpsc::Sender<io::Result<Bytes>>,
	buffer: Vec<u8>,
}

impl ChannelWriter {
	fn flush_frame(&mut self) -> io::Result<()> {
		if self.buffer.is_empty() {
			return Ok(());
		}
		let frame = Bytes::from(std::mem::replace(&mut self.buffer, Vec::with_capacity(FRAME)));
		self.sender
			.blocking_send(Ok(frame))
			.map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "client went away"))
	}
}

impl io::Write for ChannelWriter {
	fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
		self.buffer.extend_from_slice(bytes);
		if self.buffer.len() >= FRAME {
			self.flush_frame()?;
		}
		Ok(bytes.len())
	}

	fn flush(&mut self) -> io::Result<()> {
		Ok(())
	}
}
