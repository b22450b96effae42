//! The provider worker: finds the pending requests assigned to the provider keys in the
//! node's keystore, asks the node's inference service to run them, and answers each with a
//! result signed by the provider key.
//!
//! The engine runs natively, never inside the runtime: the worker reaches the service over
//! offchain HTTP on a loopback URL the node writes at startup
//! ([`SERVICE_STORAGE_KEY`]; protocol in `citrate_inference_primitives::service`), so the
//! runtime needs no custom host function. Requests of one model go in one batch.
//!
//! Restart-safe: the worker reads the pending requests from chain state in every block, and
//! remembers in the node's persistent offchain storage when it sent each answer, so it sends
//! an answer once, again only if it was not included `RESEND_AFTER` blocks later (a pool
//! dropped it, the node restarted), and never after the request settled or expired.

use crate::{Call, Config, InferenceResult, Outcome, RequestId, Requests, LOG_TARGET};
use alloc::{collections::BTreeMap, format, string::String, vec::Vec};
use citrate_inference_primitives::service::{RunBatch, RunOutcome, RUN_PATH};
use citrate_model_primitives::{ModelId, ModelRegistryInspect};
use codec::{Decode, Encode};
use polkadot_sdk::{
	frame_support::{traits::Get, BoundedVec},
	frame_system::{
		offchain::{CreateAuthorizedTransaction, SubmitTransaction},
		pallet_prelude::BlockNumberFor,
	},
	sp_io,
	sp_runtime::{
		offchain::{http, storage::StorageValueRef, Duration},
		traits::Saturating,
		RuntimeAppPublic,
	},
};

/// Offchain-storage key (persistent) holding the inference service's base URL, e.g.
/// `http://127.0.0.1:8090`, SCALE-encoded as bytes; the node writes it at startup.
pub const SERVICE_STORAGE_KEY: &[u8] = b"citrate::inference::service";

/// Prefix of the per-request record of when its answer was sent.
const SENT_PREFIX: &[u8] = b"citrate::inference::sent::";

/// Blocks after which an answer that was not included is sent again.
const RESEND_AFTER: u32 = 5;

/// Most inputs in one call to the service.
pub const MAX_BATCH: usize = 32;

/// How long the service may take to run one batch.
const RUN_TIMEOUT_MS: u64 = 120_000;

/// One request this node's provider must answer.
struct Assignment<T: Config> {
	request_id: RequestId,
	provider: T::AccountId,
	key: T::ProviderKey,
	input: Vec<u8>,
}

/// Runs and answers the requests assigned to this node's provider keys.
pub(crate) fn answer_requests<T: Config>(now: BlockNumberFor<T>) {
	let mut keys = BTreeMap::new();
	for key in T::ProviderKey::all() {
		if let Some(provider) = crate::ProviderOfKey::<T>::get(&key) {
			keys.insert(provider, key);
		}
	}
	if keys.is_empty() {
		return;
	}
	let Some(service) = StorageValueRef::persistent(SERVICE_STORAGE_KEY)
		.get::<Vec<u8>>()
		.ok()
		.flatten()
		.and_then(|url| String::from_utf8(url).ok())
	else {
		log::warn!(target: LOG_TARGET, "no inference service configured; not answering requests");
		return;
	};

	let mut by_model: BTreeMap<ModelId, Vec<Assignment<T>>> = BTreeMap::new();
	for (request_id, request) in Requests::<T>::iter() {
		let Some(key) = keys.get(&request.provider) else { continue };
		if now > request.deadline || !claim::<T>(request_id, now) {
			continue;
		}
		by_model.entry(request.model_id).or_default().push(Assignment {
			request_id,
			provider: request.provider,
			key: key.clone(),
			input: request.input.into_inner(),
		});
	}

	for (model_id, assignments) in by_model {
		let Some(interface) = T::Registry::interface(model_id) else {
			// Removed or undescribed since the request: nothing to run; it expires.
			continue;
		};
		for chunk in assignments.chunks(MAX_BATCH) {
			let batch = RunBatch {
				model_id,
				package_cid: interface.package_cid.clone(),
				framework: interface.framework,
				task: interface.task,
				inputs: chunk.iter().map(|a| a.input.clone()).collect(),
				max_output_len: T::MaxOutputLen::get(),
			};
			match run(&service, &batch) {
				Ok(outcomes) => {
					for (assignment, outcome) in chunk.iter().zip(outcomes) {
						answer::<T>(assignment, outcome);
					}
				}
				Err(error) => {
					log::warn!(
						target: LOG_TARGET,
						"inference service could not run {} request(s) of model {model_id}: {error}",
						chunk.len(),
					);
					chunk.iter().for_each(|a| unclaim(a.request_id));
				}
			}
		}
	}
}

/// Signs and submits the answer to one request, or gives the claim back when this provider
/// could not run it.
fn answer<T: Config>(assignment: &Assignment<T>, outcome: RunOutcome) {
	let request_id = assignment.request_id;
	let outcome = match outcome {
		RunOutcome::Output(bytes) => match BoundedVec::try_from(bytes) {
			Ok(bytes) => Outcome::Output(bytes),
			Err(_) => {
				// The service answers an output over the limit it was given as a failure.
				log::warn!(
					target: LOG_TARGET,
					"the inference service sent request {request_id} an output over the limit"
				);
				unclaim(request_id);
				return;
			}
		},
		RunOutcome::Failed(reason) => failed(String::from_utf8_lossy(&reason).into()),
		RunOutcome::Unavailable(reason) => {
			log::warn!(
				target: LOG_TARGET,
				"request {request_id} not run: {}",
				String::from_utf8_lossy(&reason)
			);
			unclaim(request_id);
			return;
		}
	};
	let result: InferenceResult<T> =
		InferenceResult { request_id, provider: assignment.provider.clone(), outcome };
	let Some(signature) = result.using_encoded(|encoded| assignment.key.sign(&encoded)) else {
		log::warn!(target: LOG_TARGET, "the keystore could not sign request {request_id}'s result");
		unclaim(request_id);
		return;
	};
	let call = Call::<T>::submit_result { result, signature };
	let xt =
		<T as CreateAuthorizedTransaction<Call<T>>>::create_authorized_transaction(call.into());
	match SubmitTransaction::<T, Call<T>>::submit_transaction(xt) {
		Ok(()) => log::info!(target: LOG_TARGET, "answered request {request_id}"),
		Err(()) => log::warn!(target: LOG_TARGET, "the pool refused request {request_id}'s result"),
	}
}

/// A deterministic failure's reason, cut to the length a result carries.
fn failed<M: Get<u32>>(reason: String) -> Outcome<M> {
	let mut bytes = reason.into_bytes();
	bytes.truncate(crate::MAX_FAILURE_LEN as usize);
	// A cut inside a UTF-8 sequence is dropped rather than stored half.
	while core::str::from_utf8(&bytes).is_err() {
		bytes.pop();
	}
	Outcome::Failed(BoundedVec::truncate_from(bytes))
}

fn sent_key(request_id: RequestId) -> Vec<u8> {
	[SENT_PREFIX, &request_id.encode()].concat()
}

/// Records that request `request_id` is being answered now, unless that happened less than
/// `RESEND_AFTER` blocks ago.
fn claim<T: Config>(request_id: RequestId, now: BlockNumberFor<T>) -> bool {
	StorageValueRef::persistent(&sent_key(request_id))
		.mutate::<BlockNumberFor<T>, (), _>(|sent| match sent {
			Ok(Some(at)) if now < at.saturating_add(RESEND_AFTER.into()) => Err(()),
			_ => Ok(now),
		})
		.is_ok()
}

fn unclaim(request_id: RequestId) {
	StorageValueRef::persistent(&sent_key(request_id)).clear();
}

/// Posts `batch` to the service and reads one outcome per input.
fn run(service: &str, batch: &RunBatch) -> Result<Vec<RunOutcome>, String> {
	let url = format!("{}{RUN_PATH}", service.trim_end_matches('/'));
	let deadline = sp_io::offchain::timestamp().add(Duration::from_millis(RUN_TIMEOUT_MS));
	let pending = http::Request::post(&url, alloc::vec![batch.encode()])
		.add_header("Content-Type", "application/octet-stream")
		.deadline(deadline)
		.send()
		.map_err(|error| format!("{url}: {error:?}"))?;
	let response = pending
		.try_wait(deadline)
		.map_err(|_| format!("{url}: timed out"))?
		.map_err(|error| format!("{url}: {error:?}"))?;
	if response.code != 200 {
		return Err(format!("{url}: HTTP {}", response.code));
	}
	// Each outcome is at most an output (or a reason) with its framing.
	let max_len = batch.inputs.len().saturating_mul(batch.max_output_len as usize + 16) + 16;
	let mut body = response.body();
	body.deadline(deadline);
	let bytes: Vec<u8> = body.by_ref().take(max_len + 1).collect();
	if body.error().is_some() {
		return Err(format!("{url}: reading the answer failed"));
	}
	if bytes.len() > max_len {
		return Err(format!("{url}: the answer is longer than {max_len} bytes"));
	}
	let outcomes = Vec::<RunOutcome>::decode(&mut &bytes[..])
		.map_err(|_| format!("{url}: the answer does not decode"))?;
	if outcomes.len() != batch.inputs.len() {
		return Err(format!(
			"{url}: {} outcomes for {} inputs",
			outcomes.len(),
			batch.inputs.len()
		));
	}
	Ok(outcomes)
}
