//! The provider worker: finds the pending requests assigned to the provider keys in the
//! node's keystore, asks the node's inference service to run them, and answers each with a
//! result signed by the provider key.
//!
//! The engine runs natively, never inside the runtime: the worker reaches the service over
//! offchain HTTP on a loopback URL the node writes at startup
//! ([`SERVICE_STORAGE_KEY`]; protocol in `citrate_inference_primitives::service`), so the
//! runtime needs no custom host function. Requests of one model go in one batch.
//!
//! Under a quorum (and as a dispute's juror) the worker commits to its result first, keeping
//! the result and the salt in the node's persistent offchain storage, and reveals them once
//! commits are closed.
//!
//! As a watcher it runs the input of each optimistic result proposed for a model one of its
//! providers serves (not its own), once, and disputes the result when its own differs under
//! the model's comparison.
//!
//! Restart-safe: the worker reads the pending requests from chain state in every block, and
//! remembers in the node's persistent offchain storage when it sent each answer, commitment
//! or reveal, so it sends each once, again only if it was not included a few blocks later (a
//! pool dropped it, the node restarted; [`resend_after`]), and never after the request settled
//! or expired. A commitment is sent again from the kept result, without running it again.

use crate::{
	commitment_of, Call, Comparison, Config, InferenceRequest, InferenceResult, Outcome, Pallet,
	ProviderStatus, Providers, ProvidersOf, RequestId, RequestInput, Requests, ResultCommitment,
	Stage, StoredOutput, Votes, LOG_TARGET,
};
use alloc::{collections::BTreeMap, format, string::String, vec::Vec};
use citrate_inference_primitives::service::{RunBatch, RunInput, RunOutcome, RUN_PATH};
use citrate_model_primitives::{ModelId, ModelRegistryInspect};
use citrate_offchain_primitives as offchain;
use codec::{Decode, Encode};
use polkadot_sdk::{
	frame_support::{traits::Get, BoundedVec},
	frame_system::{
		offchain::{CreateAuthorizedTransaction, SubmitTransaction},
		pallet_prelude::BlockNumberFor,
	},
	sp_io,
	sp_runtime::{
		offchain::storage::StorageValueRef,
		traits::{Bounded, Saturating},
		RuntimeAppPublic,
	},
};

/// Offchain-storage key (persistent) holding the inference service's base URL, e.g.
/// `http://127.0.0.1:8090`, SCALE-encoded as bytes; the node writes it at startup.
pub const SERVICE_STORAGE_KEY: &[u8] = b"citrate::inference::service";

/// Prefix of the per-request record of when its answer was sent.
const SENT_PREFIX: &[u8] = b"citrate::inference::sent::";

/// Prefix of the lists of sent records by the deadline after which they are removed.
const SENT_INDEX_PREFIX: &[u8] = b"citrate::inference::sent-index::";

/// The last deadline whose sent records were removed.
const SENT_CLEARED: &[u8] = b"citrate::inference::sent-cleared";

/// Most past deadlines one run of the worker clears (a node back from a long stop catches up
/// over several blocks).
const MAX_CLEARED_BLOCKS: u32 = 64;

/// Blocks after which a step that was not included is sent again: a single result is run
/// again, so it waits longer; commitments and reveals come from the kept vote and must land
/// within the commit window.
fn resend_after(step: Step) -> u32 {
	match step {
		Step::Answer | Step::Check => 5,
		Step::Commit | Step::Reveal => 2,
		Step::Deliver => 3,
	}
}

/// Most inputs in one call to the service.
pub const MAX_BATCH: usize = 32;

/// How long the service may take to run one batch.
const RUN_TIMEOUT_MS: u64 = 120_000;

/// Prefix of a quorum provider's kept result and salt, until the request's deadline.
const VOTE_PREFIX: &[u8] = b"citrate::inference::vote::";

/// The kept votes: (request, provider, deadline) of each, to clear them after the deadline.
const VOTES_INDEX: &[u8] = b"citrate::inference::votes";

/// What a run of a request is for.
#[derive(Clone, Copy, PartialEq, Eq, Encode)]
pub(crate) enum Step {
	/// A single provider's result.
	Answer,
	/// A quorum provider's commitment.
	Commit,
	/// A quorum provider's reveal (nothing to run).
	Reveal,
	/// A watcher's check of a proposed optimistic result, disputed if it differs.
	Check,
	/// A due callback's delivery (`delivery.rs`; nothing to run).
	Deliver,
}

/// What requests run in one batch share: the model, its package and the quantisation a
/// stored output's hash is taken on.
type BatchKey = (ModelId, Vec<u8>, Option<u8>);

/// For a check: the proposed result's comparison key and the model's comparison.
type Proposed = ([u8; 32], Comparison);

/// One request this node's provider must answer.
struct Assignment<T: Config> {
	request_id: RequestId,
	provider: T::AccountId,
	key: T::ProviderKey,
	input: RunInput,
	step: Step,
	deadline: BlockNumberFor<T>,
	proposed: Option<Proposed>,
}

/// What `provider` has to do now for `request`, if anything.
fn step_of<T: Config>(
	request_id: RequestId,
	request: &InferenceRequest<T>,
	provider: &T::AccountId,
	now: BlockNumberFor<T>,
) -> Option<Step> {
	if now > request.deadline {
		return None;
	}
	if request.quorum().is_none() {
		return (request.stage == Stage::Open).then_some(Step::Answer);
	}
	match Votes::<T>::get(request_id, provider) {
		None => (now <= request.commits_close).then_some(Step::Commit),
		Some(vote) if vote.reveal.is_none() => {
			let committed = Votes::<T>::iter_prefix(request_id).count();
			let closed = now > request.commits_close || committed >= request.providers.len();
			closed.then_some(Step::Reveal)
		}
		Some(_) => None,
	}
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
	let Some(service) = offchain::service_url(SERVICE_STORAGE_KEY) else {
		log::warn!(target: LOG_TARGET, "no inference service configured; not answering requests");
		return;
	};

	clear_old_votes::<T>(now);
	clear_old_claims::<T>(now);
	let mut by_model: BTreeMap<BatchKey, Vec<Assignment<T>>> = BTreeMap::new();
	for (request_id, request) in Requests::<T>::iter() {
		let mut steps: Vec<(&T::AccountId, Step)> = request
			.providers
			.iter()
			.filter(|provider| keys.contains_key(*provider))
			.filter_map(|provider| {
				Some((provider, step_of::<T>(request_id, &request, provider, now)?))
			})
			.collect();
		let proposed = watch::<T>(request_id, &request, &keys, now);
		steps.extend(proposed.as_ref().map(|(watcher, _)| (watcher, Step::Check)));
		for (provider, step) in steps {
			let Some(key) = keys.get(provider) else { continue };
			if !claim::<T>(request_id, provider, step, now, request.deadline) {
				continue;
			}
			let assignment = Assignment {
				request_id,
				provider: provider.clone(),
				key: key.clone(),
				input: match &request.input {
					RequestInput::Inline(bytes) => RunInput::Inline(bytes.to_vec()),
					RequestInput::Cid(cid) => RunInput::Cid(cid.to_vec()),
				},
				step,
				deadline: request.deadline,
				proposed: proposed.as_ref().map(|(_, checked)| *checked),
			};
			if step == Step::Reveal {
				reveal::<T>(&assignment);
			} else if step == Step::Commit && kept_vote::<T>(&assignment).is_some() {
				recommit::<T>(&assignment);
			} else {
				let quantization = match request.terms.comparison {
					Comparison::Quantized { fraction_bits } => Some(fraction_bits),
					Comparison::ExactHash => None,
				};
				let batch = (request.model_id, request.package_cid.to_vec(), quantization);
				by_model.entry(batch).or_default().push(assignment);
			}
		}
	}

	for ((model_id, package_cid, quantization), assignments) in by_model {
		let Some(interface) = T::Registry::interface(model_id) else {
			// Removed or undescribed since the request: nothing to run; it expires.
			continue;
		};
		for chunk in assignments.chunks(MAX_BATCH) {
			let batch = RunBatch {
				model_id,
				package_cid: package_cid.clone(),
				framework: interface.framework,
				task: interface.task,
				inputs: chunk.iter().map(|a| a.input.clone()).collect(),
				max_output_len: T::MaxOutputLen::get(),
				quantization,
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
					for assignment in chunk {
						unclaim(assignment);
					}
				}
			}
		}
	}
}

/// The provider of this node that checks `request`'s proposed result, with the proposal's
/// comparison key and the comparison: an active provider serving the model, not the
/// proposer, while the proposal can be disputed.
fn watch<T: Config>(
	request_id: RequestId,
	request: &InferenceRequest<T>,
	keys: &BTreeMap<T::AccountId, T::ProviderKey>,
	now: BlockNumberFor<T>,
) -> Option<(T::AccountId, Proposed)> {
	if request.stage != Stage::Proposed || now > request.deadline {
		return None;
	}
	let proposal = crate::Proposals::<T>::get(request_id)?;
	let serving = ProvidersOf::<T>::get(request.model_id);
	let watcher = keys.keys().find(|provider| {
		**provider != proposal.proposer
			&& serving.contains(provider)
			&& Providers::<T>::get(provider)
				.is_some_and(|info| info.status == ProviderStatus::Active)
	})?;
	Some((watcher.clone(), (proposal.result.comparison_key, request.terms.comparison)))
}

/// Signs and submits the answer (or the commitment, or the dispute) to one request, or gives
/// the claim back when this provider could not run it.
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
				unclaim(assignment);
				return;
			}
		},
		RunOutcome::Failed(reason) => failed(String::from_utf8_lossy(&reason).into()),
		RunOutcome::Stored(stored) => match BoundedVec::try_from(stored.cid) {
			Ok(cid) => Outcome::Stored(StoredOutput {
				cid,
				size: stored.size,
				output_hash: stored.output_hash,
				quantized_hash: stored.quantized_hash,
			}),
			Err(_) => {
				log::warn!(
					target: LOG_TARGET,
					"the inference service stored request {request_id}'s output under an overlong CID"
				);
				unclaim(assignment);
				return;
			}
		},
		RunOutcome::Unavailable(reason) => {
			log::warn!(
				target: LOG_TARGET,
				"request {request_id} not run: {}",
				String::from_utf8_lossy(&reason)
			);
			unclaim(assignment);
			return;
		}
	};
	let provider = assignment.provider.clone();
	let call = match assignment.step {
		Step::Answer => {
			let result = InferenceResult { request_id, provider, outcome };
			let Some(signature) = sign(assignment, &result) else { return };
			Call::<T>::submit_result { result, signature }
		}
		Step::Commit => {
			let salt = sp_io::offchain::random_seed();
			let commitment = commitment_of(&outcome, &provider, &salt);
			keep_vote::<T>(assignment, &outcome, &salt);
			let commitment = ResultCommitment { request_id, provider, commitment };
			let Some(signature) = sign(assignment, &commitment) else { return };
			Call::<T>::commit_result { commitment, signature }
		}
		Step::Check => {
			let Some((proposed, comparison)) = assignment.proposed else { return };
			match Pallet::<T>::comparison_key(&outcome, comparison) {
				Ok(key) if key != proposed => {}
				checked => {
					if checked.is_ok() {
						log::debug!(target: LOG_TARGET, "request {request_id}: the proposed result checks out");
					}
					// Checked once: not run again.
					let sent = sent_key(request_id, &assignment.provider, Step::Check);
					StorageValueRef::persistent(&sent).set(&BlockNumberFor::<T>::max_value());
					return;
				}
			}
			let result = InferenceResult { request_id, provider, outcome };
			let Some(signature) = sign(assignment, &result) else { return };
			Call::<T>::dispute_result { result, signature }
		}
		Step::Reveal | Step::Deliver => return,
	};
	submit::<T>(assignment, call);
}

/// The result and salt this node committed to for `assignment`, if it did.
fn kept_vote<T: Config>(
	assignment: &Assignment<T>,
) -> Option<(Outcome<T::MaxOutputLen>, [u8; 32])> {
	StorageValueRef::persistent(&vote_key::<T>(assignment)).get().ok().flatten()
}

/// Sends again a commitment that was not included, from the kept result and salt.
fn recommit<T: Config>(assignment: &Assignment<T>) {
	let Some((outcome, salt)) = kept_vote::<T>(assignment) else { return };
	let provider = assignment.provider.clone();
	let commitment = commitment_of(&outcome, &provider, &salt);
	let commitment = ResultCommitment { request_id: assignment.request_id, provider, commitment };
	let Some(signature) = sign(assignment, &commitment) else { return };
	submit::<T>(assignment, Call::<T>::commit_result { commitment, signature });
}

/// Reveals the result and salt this node committed to.
fn reveal<T: Config>(assignment: &Assignment<T>) {
	let request_id = assignment.request_id;
	let Some((outcome, salt)) = kept_vote::<T>(assignment) else {
		log::warn!(target: LOG_TARGET, "request {request_id}: the committed result is lost");
		return;
	};
	let result = InferenceResult { request_id, provider: assignment.provider.clone(), outcome };
	let Some(signature) = sign(assignment, &result) else { return };
	submit::<T>(assignment, Call::<T>::reveal_result { result, salt, signature });
}

fn sign<T: Config>(
	assignment: &Assignment<T>,
	message: &impl Encode,
) -> Option<<T::ProviderKey as RuntimeAppPublic>::Signature> {
	let signature = message.using_encoded(|encoded| assignment.key.sign(&encoded));
	if signature.is_none() {
		log::warn!(
			target: LOG_TARGET,
			"the keystore could not sign for request {}",
			assignment.request_id
		);
		unclaim(assignment);
	}
	signature
}

fn submit<T: Config>(assignment: &Assignment<T>, call: Call<T>) {
	let request_id = assignment.request_id;
	let xt =
		<T as CreateAuthorizedTransaction<Call<T>>>::create_authorized_transaction(call.into());
	match SubmitTransaction::<T, Call<T>>::submit_transaction(xt) {
		Ok(()) => {
			log::info!(target: LOG_TARGET, "request {request_id}: {} sent", step_name(assignment.step))
		}
		Err(()) => {
			log::warn!(target: LOG_TARGET, "request {request_id}: the pool refused the {}", step_name(assignment.step))
		}
	}
}

fn step_name(step: Step) -> &'static str {
	match step {
		Step::Answer => "result",
		Step::Commit => "commitment",
		Step::Reveal => "reveal",
		Step::Check => "dispute",
		Step::Deliver => "callback delivery",
	}
}

fn vote_key<T: Config>(assignment: &Assignment<T>) -> Vec<u8> {
	[VOTE_PREFIX, &(assignment.request_id, &assignment.provider).encode()].concat()
}

/// Keeps the result and salt a commitment was made with, until the request's deadline.
fn keep_vote<T: Config>(
	assignment: &Assignment<T>,
	outcome: &Outcome<T::MaxOutputLen>,
	salt: &[u8; 32],
) {
	StorageValueRef::persistent(&vote_key::<T>(assignment)).set(&(outcome, salt));
	let entry = (assignment.request_id, assignment.provider.clone(), assignment.deadline);
	let _ = StorageValueRef::persistent(VOTES_INDEX).mutate::<Vec<_>, (), _>(|index| {
		let mut index = index.ok().flatten().unwrap_or_default();
		index.push(entry);
		Ok(index)
	});
}

/// Clears the kept votes of requests past their deadline.
fn clear_old_votes<T: Config>(now: BlockNumberFor<T>) {
	let index = StorageValueRef::persistent(VOTES_INDEX);
	let _ = index.mutate::<Vec<(RequestId, T::AccountId, BlockNumberFor<T>)>, (), _>(|kept| {
		let mut kept = kept.ok().flatten().unwrap_or_default();
		kept.retain(|(request_id, provider, deadline)| {
			let stale = now > *deadline;
			if stale {
				let key = [VOTE_PREFIX, &(request_id, provider).encode()].concat();
				StorageValueRef::persistent(&key).clear();
			}
			!stale
		});
		Ok(kept)
	});
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

pub(crate) fn sent_key(request_id: RequestId, provider: &impl Encode, step: Step) -> Vec<u8> {
	[SENT_PREFIX, &(request_id, provider, step).encode()].concat()
}

/// Records that `provider`'s `step` for request `request_id` is being sent now, unless that
/// happened less than [`resend_after`] blocks ago. The record is listed under the request's
/// `deadline`, after which [`clear_old_claims`] removes it.
pub(crate) fn claim<T: Config>(
	request_id: RequestId,
	provider: &T::AccountId,
	step: Step,
	now: BlockNumberFor<T>,
	deadline: BlockNumberFor<T>,
) -> bool {
	let key = sent_key(request_id, provider, step);
	let claimed = StorageValueRef::persistent(&key)
		.mutate::<BlockNumberFor<T>, (), _>(|sent| match sent {
			Ok(Some(at)) if now < at.saturating_add(resend_after(step).into()) => Err(()),
			_ => Ok(now),
		})
		.is_ok();
	if claimed {
		let index = [SENT_INDEX_PREFIX, &deadline.encode()].concat();
		let _ = StorageValueRef::persistent(&index).mutate::<Vec<Vec<u8>>, (), _>(|keys| {
			let mut keys = keys.ok().flatten().unwrap_or_default();
			if !keys.contains(&key) {
				keys.push(key);
			}
			Ok(keys)
		});
	}
	claimed
}

/// Removes the records of requests whose deadline passed (at most [`MAX_CLEARED_BLOCKS`]
/// deadlines per run, resuming where the last run stopped), so a provider node's offchain
/// storage does not grow with every request it ever answered.
fn clear_old_claims<T: Config>(now: BlockNumberFor<T>) {
	let cleared = StorageValueRef::persistent(SENT_CLEARED);
	let Ok(Some(last)) = cleared.get::<BlockNumberFor<T>>() else {
		// First run: nothing older was listed.
		cleared.set(&now.saturating_sub(1u32.into()));
		return;
	};
	let mut block = last;
	for _ in 0..MAX_CLEARED_BLOCKS {
		let next = block.saturating_add(1u32.into());
		if next >= now {
			break;
		}
		block = next;
		let index_key = [SENT_INDEX_PREFIX, &block.encode()].concat();
		let mut index = StorageValueRef::persistent(&index_key);
		if let Ok(Some(keys)) = index.get::<Vec<Vec<u8>>>() {
			for key in keys {
				StorageValueRef::persistent(&key).clear();
			}
		}
		index.clear();
	}
	if block != last {
		cleared.set(&block);
	}
}

fn unclaim<T: Config>(assignment: &Assignment<T>) {
	let key = sent_key(assignment.request_id, &assignment.provider, assignment.step);
	StorageValueRef::persistent(&key).clear();
}

/// Posts `batch` to the service and reads one outcome per input.
fn run(service: &str, batch: &RunBatch) -> Result<Vec<RunOutcome>, String> {
	let url = format!("{}{RUN_PATH}", service.trim_end_matches('/'));
	// Each outcome is at most an output (or a reason) with its framing.
	let max_len = batch.inputs.len().saturating_mul(batch.max_output_len as usize + 16) + 16;
	let headers = [("Content-Type", "application/octet-stream")];
	let bytes = offchain::call(&url, Some(batch.encode()), &headers, max_len, RUN_TIMEOUT_MS)?;
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
