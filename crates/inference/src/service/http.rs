//! The service's HTTP endpoint, for loopback sockets:
//! - `POST /v1/run`: a SCALE-encoded `RunBatch`, answered `200` with a SCALE-encoded
//!   `Vec<RunOutcome>`; `400` for a body that does not decode, `413` past [`MAX_BODY`];
//! - `GET /health`: `200 ok`;
//! - `GET /metrics`: the Prometheus text format, when serving a registry of its own (the
//!   standalone binary; an embedding node exposes the metrics on its own endpoint).

use super::{InferenceService, RunBatch, RUN_PATH};
use bytes::Bytes;
use codec::{Decode, Encode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::{body::Incoming, Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::{io, sync::Arc, time::Duration};
use tokio::net::TcpListener;

/// Longest batch accepted: 32 inputs of 256 KiB with their framing, and room to spare.
pub const MAX_BODY: usize = 16 << 20;

/// Serves `service` on `listener` until the listener fails.
pub async fn serve(
	listener: TcpListener,
	service: Arc<InferenceService>,
	registry: Option<prometheus::Registry>,
) -> io::Result<()> {
	let registry = registry.map(Arc::new);
	loop {
		let (stream, _) = listener.accept().await?;
		let (service, registry) = (service.clone(), registry.clone());
		tokio::spawn(async move {
			let handler = hyper::service::service_fn(move |request| {
				let (service, registry) = (service.clone(), registry.clone());
				async move { Ok::<_, io::Error>(handle(request, service, registry).await) }
			});
			let served = hyper::server::conn::http1::Builder::new()
				.timer(TokioTimer::new())
				.header_read_timeout(Duration::from_secs(30))
				.serve_connection(TokioIo::new(stream), handler)
				.await;
			if let Err(error) = served {
				log::debug!(target: super::LOG_TARGET, "connection ended: {error}");
			}
		});
	}
}

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
	let mut response = Response::new(Full::new(body.into()));
	*response.status_mut() = status;
	response
}

async fn handle(
	request: Request<Incoming>,
	service: Arc<InferenceService>,
	registry: Option<Arc<prometheus::Registry>>,
) -> Response<Full<Bytes>> {
	match (request.method(), request.uri().path()) {
		(&Method::POST, RUN_PATH) => {
			let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
				Ok(body) => body.to_bytes(),
				Err(_) => {
					let why = format!("a batch is at most {MAX_BODY} bytes");
					return reply(StatusCode::PAYLOAD_TOO_LARGE, why);
				}
			};
			let Ok(batch) = RunBatch::decode(&mut &body[..]) else {
				return reply(StatusCode::BAD_REQUEST, "the body is not a SCALE-encoded RunBatch");
			};
			reply(StatusCode::OK, service.run_batch(batch).await.encode())
		}
		(&Method::GET, "/health") => reply(StatusCode::OK, "ok"),
		(&Method::GET, "/metrics") => match registry {
			Some(registry) => {
				let mut text = Vec::new();
				let encoder = prometheus::TextEncoder::new();
				match prometheus::Encoder::encode(&encoder, &registry.gather(), &mut text) {
					Ok(()) => reply(StatusCode::OK, text),
					Err(error) => reply(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
				}
			}
			None => reply(StatusCode::NOT_FOUND, "metrics are on the node's Prometheus endpoint"),
		},
		(_, RUN_PATH | "/health" | "/metrics") => {
			reply(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
		}
		_ => reply(StatusCode::NOT_FOUND, "not found"),
	}
}
