//! The embedded inference service: runs the requests assigned to this node's provider keys
//! for the inference pallet's offchain worker, which reaches it over HTTP on loopback (the
//! runtime imports no custom host function, so it can run as a parachain too).

use crate::cli::InferenceParams;
use citrate_inference::{
	package::ModelLoader,
	service::{http::serve, InferenceService, ServiceConfig},
};
use citrate_storage::{Fetcher, PackageLimits};
use polkadot_sdk::{sc_service::error::Error as ServiceError, substrate_prometheus_endpoint};
use std::sync::Arc;

/// Starts the service the flags ask for; returns the URL the offchain worker should use
/// (`None` with `--no-inference-service`).
pub fn start(
	params: &InferenceParams,
	fetcher: Fetcher,
	registry: Option<&substrate_prometheus_endpoint::Registry>,
	task_manager: &polkadot_sdk::sc_service::TaskManager,
) -> Result<Option<String>, ServiceError> {
	if params.no_inference_service {
		return Ok(None);
	}
	if let Some(url) = &params.inference_service_url {
		log::info!("🧠 Inference service at {url} (not embedded)");
		return Ok(Some(url.clone()));
	}
	let port = params.inference_service_port;
	let listener = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, port))
		.and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
		.map_err(|error| {
			ServiceError::Other(format!(
				"inference service port {port}: {error} (choose another with \
				 --inference-service-port, or --no-inference-service)"
			))
		})?;
	let address = listener.local_addr().map_err(|e| ServiceError::Other(e.to_string()))?;
	let config =
		ServiceConfig { cache_bytes: params.inference_cache_mb << 20, ..Default::default() };
	let loader = ModelLoader::new(fetcher, PackageLimits::default());
	let service = InferenceService::new(loader, config, registry)
		.map_err(|error| ServiceError::Other(format!("inference service metrics: {error}")))?;
	log::info!(
		"🧠 Inference service on http://{address} ({} MiB of models cached)",
		params.inference_cache_mb
	);
	task_manager.spawn_handle().spawn("inference-service", None, async move {
		let served = match tokio::net::TcpListener::from_std(listener) {
			Ok(listener) => serve(listener, Arc::new(service), None).await,
			Err(error) => Err(error),
		};
		if let Err(error) = served {
			log::error!("inference service stopped: {error}");
		}
	});
	Ok(Some(format!("http://127.0.0.1:{}", address.port())))
}
