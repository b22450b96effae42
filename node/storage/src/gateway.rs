//! A trustless IPFS gateway over the block store (the HTTP side of
//! <https://specs.ipfs.tech/http-gateways/trustless-gateway/>):
//!
//! - `GET /ipfs/{cid}?format=raw` (or `Accept: application/vnd.ipld.raw`): one block;
//! - `GET /ipfs/{cid}?format=car` (or `Accept: application/vnd.ipld.car`): the DAG as a
//!   CARv1, streamed; `dag-scope=block` sends the root block only;
//! - `GET /ipfs/{cid}`: the file's bytes, for people with `curl`.
//!
//! Every block is checked against its CID as it is read from disk; a corrupted block ends
//! the response (and is logged with its CID) rather than being sent. Blocks the store lacks
//! come from the configured upstream (a Kubo daemon or other gateways), verified, and are
//! kept. `HEAD` answers the same headers without a body. The node binds it to 127.0.0.1
//! unless told otherwise.

use crate::{car, export, exporter::BlockSource, remote::CachingSource, store::StoreError};
use bytes::Bytes;
use cid::Cid;
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::{
	body::{Frame, Incoming},
	header, Method, Request, Response, StatusCode,
};
use std::{io, sync::Arc};
use tokio::{net::TcpListener, sync::mpsc};

type Body = BoxBody<Bytes, io::Error>;

const RAW: &str = "application/vnd.ipld.raw";
const CAR: &str = "application/vnd.ipld.car";
/// Bytes per frame when streaming a CAR or a file.
const FRAME: usize = 256 * 1024;
const LOG_TARGET: &str = "ipfs-gateway";

/// Serves `source` on `listener` until the listener fails.
pub async fn serve(listener: TcpListener, source: CachingSource) -> io::Result<()> {
	let store = Arc::new(source);
	loop {
		let (stream, _) = listener.accept().await?;
		let store = store.clone();
		tokio::spawn(async move {
			let service = hyper::service::service_fn(move |request| {
				let store = store.clone();
				async move { Ok::<_, io::Error>(handle(request, store).await) }
			});
			let io = hyper_util::rt::TokioIo::new(stream);
			if let Err(error) =
				hyper::server::conn::http1::Builder::new().serve_connection(io, service).await
			{
				log::debug!(target: LOG_TARGET, "connection ended: {error}");
			}
		});
	}
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Format {
	Raw,
	Car { root_only: bool },
	File,
}

fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
	query.split('&').find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

fn format_of(request: &Request<Incoming>) -> Result<Format, String> {
	let query = request.uri().query().unwrap_or("");
	let accept =
		request.headers().get(header::ACCEPT).and_then(|value| value.to_str().ok()).unwrap_or("");
	let root_only = query_param(query, "dag-scope") == Some("block");
	match query_param(query, "format") {
		Some("raw") => Ok(Format::Raw),
		Some("car") => Ok(Format::Car { root_only }),
		Some(other) => Err(format!("unsupported format {other:?}; use raw or car")),
		None if accept.contains(RAW) => Ok(Format::Raw),
		None if accept.contains(CAR) => Ok(Format::Car { root_only }),
		None => Ok(Format::File),
	}
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

async fn handle(request: Request<Incoming>, store: Arc<CachingSource>) -> Response<Body> {
	if request.method() != Method::GET && request.method() != Method::HEAD {
		return text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD");
	}
	let Some(rest) = request.uri().path().strip_prefix("/ipfs/") else {
		return text(StatusCode::NOT_FOUND, "paths are /ipfs/{cid}");
	};
	if rest.contains('/') {
		return text(StatusCode::BAD_REQUEST, "paths inside a DAG are not supported");
	}
	let cid = match Cid::try_from(rest) {
		Ok(cid) => cid,
		Err(error) => {
			return text(StatusCode::BAD_REQUEST, format!("{rest} is not a CID: {error}"))
		}
	};
	let format = match format_of(&request) {
		Ok(format) => format,
		Err(message) => return text(StatusCode::BAD_REQUEST, message),
	};
	let head = request.method() == Method::HEAD;

	// The root block is read (and verified) first, so a missing or corrupted root is a clean
	// error status rather than a cut-off stream.
	let root = {
		let store = store.clone();
		tokio::task::spawn_blocking(move || store.get(&cid)).await
	};
	let root = match root {
		Ok(Ok(block)) => block,
		Ok(Err(StoreError::NotFound(_))) => {
			return text(StatusCode::NOT_FOUND, format!("{cid} is not held by this node"))
		}
		Ok(Err(error)) => {
			log::error!(target: LOG_TARGET, "{error}");
			return text(StatusCode::INTERNAL_SERVER_ERROR, error.to_string());
		}
		Err(error) => return text(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
	};

	let (content_type, etag, body) = match format {
		Format::Raw => (
			RAW,
			format!("\"{cid}.raw\""),
			Some(Full::new(Bytes::from(root)).map_err(|n| match n {}).boxed()),
		),
		Format::Car { root_only: true } => {
			let mut out = Vec::new();
			let written = car::export_root_block_car(&cid, &root, &mut out);
			if let Err(error) = written {
				return text(StatusCode::INTERNAL_SERVER_ERROR, error.to_string());
			}
			(
				CAR_V1,
				format!("\"{cid}.car.block\""),
				Some(Full::new(Bytes::from(out)).map_err(|n| match n {}).boxed()),
			)
		}
		Format::Car { root_only: false } => (CAR_V1, format!("\"{cid}.car\""), None),
		Format::File => ("application/octet-stream", format!("\"{cid}\""), None),
	};
	let builder = Response::builder()
		.status(StatusCode::OK)
		.header(header::CONTENT_TYPE, content_type)
		.header(header::ETAG, etag)
		.header(header::CACHE_CONTROL, "public, max-age=29030400, immutable")
		.header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
		.header("X-Ipfs-Path", format!("/ipfs/{cid}"))
		.header("X-Ipfs-Roots", cid.to_string());
	if head {
		let empty = Full::new(Bytes::new()).map_err(|n| match n {}).boxed();
		return builder.body(empty).expect("valid response");
	}
	let body = body.unwrap_or_else(|| {
		stream_blocking(move |out| {
			let result = match format {
				Format::File => {
					export(&cid, store.as_ref(), out).map(|_| ()).map_err(|e| e.to_string())
				}
				_ => car::export_car(&cid, store.as_ref(), out)
					.map(|_| ())
					.map_err(|e| e.to_string()),
			};
			if let Err(error) = &result {
				log::error!(target: LOG_TARGET, "serving {cid} stopped: {error}");
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
