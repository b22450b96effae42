//! `run_inference`: a request submitted with the server's signer within its spending caps,
//! followed block by block until its receipt is final, and the result decoded as the engine
//! prints it, with the receipt ([`super::receipt`]).

use super::{
	access,
	cards::{ctr, plancks_of},
	chain::{Chain, ModelView},
	input::{self, RunArgs},
	receipt,
	server::Shared,
};
use citrate_inference::{
	codec as tensor_codec,
	pipelines::{class_names, ImageText, Output, Request, Task},
};
use citrate_inference_primitives::request::check_request;
use citrate_runtime::{
	pallet_inference as inference, AccountId, Balance, Hash, Runtime, RuntimeCall, RuntimeEvent,
};
use citrate_storage::cid::Cid;
use futures::StreamExt;
use polkadot_sdk::{
	frame_support::traits::Get,
	sp_core::{sr25519, Pair},
	sp_runtime::{traits::IdentifyAccount, MultiSigner},
};
use serde_json::{json, Value};
use std::{future::Future, time::Duration};

/// How long `run_inference` waits for a final result unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// Most bytes of an encoded input (inputs over the chain's inline limit go by CID).
const MAX_INPUT_BYTES: usize = 64 << 20;
/// Most bytes of a model's `config.json` read for its class names.
const MAX_CONFIG_BYTES: u64 = 4 << 20;

/// Why a run returned no result.
#[derive(Debug)]
pub enum RunError {
	/// Refused, failed or timed out: text an agent can act on.
	Refused(String),
	/// The caller cancelled it (and the chain request was cancelled, or had been answered).
	Cancelled(String),
}

impl From<String> for RunError {
	fn from(text: String) -> Self {
		RunError::Refused(text)
	}
}

impl From<&str> for RunError {
	fn from(text: &str) -> Self {
		RunError::Refused(text.to_string())
	}
}

/// Where a pending request stands, reported once per finalized block.
pub struct Progress {
	/// Blocks since the request was made, and until its deadline.
	pub blocks: u32,
	pub of: u32,
	pub message: String,
}

/// Runs `model` on `args` with `signer`, reporting each finalized block to `progress`, until
/// the receipt is final; `cancelled` resolving cancels the request on chain.
pub async fn run(
	shared: &Shared,
	model: &ModelView,
	args: &RunArgs,
	progress: &(dyn Fn(Progress) + Send + Sync),
	cancelled: impl Future<Output = ()>,
) -> Result<Value, RunError> {
	let (chain, budget) = (&shared.chain, &shared.budget);
	let id = model.id;
	let signer = shared.signer.as_ref().ok_or(
		"this MCP server has no signing account, so it cannot pay for requests: start it with \
		 --suri or --key-file",
	)?;
	let task = model.metadata.as_ref().map(|m| m.task).ok_or_else(|| {
		format!("model {id} has no metadata, so its task is unknown: its owner must set it")
	})?;
	let request = input::request(task, args, chain).await?;
	let tensors = request.to_tensors().map_err(|e| format!("the input: {e}"))?;
	if task != Task::RawTensors {
		check_request(task, &tensors)
			.map_err(|e| format!("the input does not fit a {} model: {e}", task.name()))?;
	}
	let bytes = tensor_codec::encode(&tensors).map_err(|e| format!("encoding the input: {e}"))?;
	if bytes.len() > MAX_INPUT_BYTES {
		return Err(format!(
			"the input is {} bytes encoded; this server sends at most {MAX_INPUT_BYTES}",
			bytes.len()
		)
		.into());
	}
	if model.providers.is_empty() {
		return Err(format!("no provider serves model {id}, so no one would answer").into());
	}
	let account: AccountId = MultiSigner::from(signer.public()).into_account();
	access::check_access(chain, model, &account).await?;
	// Inline up to the chain's limit; larger inputs go to IPFS and the request names their CID.
	let max_inline = <<Runtime as inference::Config>::MaxInputLen as Get<u32>>::get() as usize;
	let input = if bytes.len() > max_inline {
		let len = bytes.len();
		let cid = shared.store.add_file(bytes).await.map_err(|e| {
			format!("the input ({len} bytes) is over the {max_inline} sent inline: {e}")
		})?;
		Err(cid.into_v1().map_err(|e| format!("the input's CID: {e}"))?.to_bytes())
	} else {
		Ok(bytes)
	};
	let fee = model.fee_per_call().ok_or("the model has no fee schedule")?;
	let wanted = args.max_fee.map(|ctr| plancks_of(&ctr.to_string())).transpose()?;
	let reserved = budget.reserve(fee, wanted)?;
	// `Ok`: the bytes, inline; `Err`: the CID they were added under.
	let call = RuntimeCall::Inference(match input {
		Ok(input) => inference::Call::request_inference { model_id: id, input, max_fee: reserved },
		Err(input_cid) => {
			inference::Call::request_inference_cid { model_id: id, input_cid, max_fee: reserved }
		}
	});
	let events = match chain.client.submit(call, signer).await {
		Ok(events) => events,
		Err(e) => {
			budget.settle(reserved, 0);
			return Err(explain_refusal(&e, model, reserved).into());
		}
	};
	let Some((request_id, held, deadline)) = events.iter().find_map(|event| match event {
		RuntimeEvent::Inference(inference::Event::InferenceRequested {
			request_id,
			price,
			compute_fee,
			deadline,
			..
		}) => Some((*request_id, price + compute_fee, *deadline)),
		_ => None,
	}) else {
		budget.settle(reserved, 0);
		return Err("the request was included but the chain reported no request id"
			.to_string()
			.into());
	};
	budget.settle(reserved, held);
	let timeout = args.timeout_secs.map_or(DEFAULT_TIMEOUT, Duration::from_secs);
	let (receipt, at) = match tokio::time::timeout(
		timeout,
		await_receipt(chain, signer, request_id, deadline, progress, cancelled),
	)
	.await
	{
		Ok(outcome) => outcome?,
		Err(_) => {
			return Err(format!(
				"no final result after {} s: request {request_id} stays open until block \
				 {deadline}; call get_receipt with request_id {request_id} later",
				timeout.as_secs()
			)
			.into())
		}
	};
	let names = label_names(chain, task, &request, &receipt.package_cid).await;
	let receipt_json = receipt::receipt_json(chain, request_id, &receipt, at).await;
	let result = decode(chain, task, &receipt.outcome, &names).await;
	match result {
		Ok(output) => Ok(json!({
			"model_id": id,
			"task": task.name(),
			"result": output.to_json(),
			"receipt": receipt_json,
			"spending": budget.summary(),
		})),
		Err(why) => Err(format!("{why}\nreceipt: {receipt_json}").into()),
	}
}

/// The chain's refusal in words an agent can act on.
fn explain_refusal(error: &str, model: &ModelView, reserved: Balance) -> String {
	let named = |name: &str| error.contains(&format!("Inference({name})"));
	if named("NoAccess") {
		access::no_access(model)
	} else if named("FeeAboveMax") {
		format!(
			"the chain charges more than the {} CTR this call may spend (its price or the compute \
			 fee rose); see get_model",
			ctr(reserved)
		)
	} else if named("InputNotForTask") || named("MalformedInput") {
		format!("the input does not fit model {}: {error}", model.id)
	} else if named("NoProvider") || named("AtCapacity") {
		format!("no provider of model {} can take the request now: {error}", model.id)
	} else if error.contains("Inability to pay") || named("InsufficientFunds") {
		format!("the signing account cannot pay: {error}")
	} else {
		error.to_string()
	}
}

/// Follows request `id` over finalized blocks until its receipt is final (returned with the
/// block it was read at), it ends without one, or `cancelled` resolves.
async fn await_receipt(
	chain: &Chain,
	signer: &sr25519::Pair,
	id: inference::RequestId,
	deadline: u32,
	progress: &(dyn Fn(Progress) + Send + Sync),
	cancelled: impl Future<Output = ()>,
) -> Result<(inference::Receipt<Runtime>, (u32, Hash)), RunError> {
	let mut blocks = chain.client.finalized_blocks().await?;
	let mut submitted_at = None;
	tokio::pin!(cancelled);
	loop {
		let (number, hash) = tokio::select! {
			next = blocks.next() => next.ok_or("the node stopped reporting finalized blocks")??,
			_ = &mut cancelled => return Err(cancel(chain, signer, id).await),
		};
		if let Some(receipt) = chain.receipt(id, Some(hash)).await? {
			return Ok((receipt, (number, hash)));
		}
		// Finality trails the block the request is in: absent before it, absent after it ended.
		let Some(request) = chain.request(id, Some(hash)).await? else {
			if submitted_at.is_none() && number < deadline {
				continue;
			}
			return Err(format!(
				"request {id} ended without a result (no provider answered before block \
				 {deadline}, or it was cancelled); its fees were refunded"
			)
			.into());
		};
		let start = *submitted_at.get_or_insert(request.submitted_at);
		progress(Progress {
			blocks: number.saturating_sub(start),
			of: deadline.saturating_sub(start),
			message: format!(
				"request {id}: block {number}, waiting for its result (deadline block {deadline})"
			),
		});
	}
}

/// Cancels request `id` on chain for a caller who gave up on it.
async fn cancel(chain: &Chain, signer: &sr25519::Pair, id: inference::RequestId) -> RunError {
	let call = RuntimeCall::Inference(inference::Call::cancel_request { request_id: id });
	match chain.client.submit(call, signer).await {
		Ok(_) => RunError::Cancelled(format!(
			"cancelled: request {id} was cancelled on chain and its fees refunded"
		)),
		Err(e) => RunError::Cancelled(format!(
			"cancelled here, but the chain kept request {id} ({e}): a provider had already \
			 answered, so get_receipt {id} shows its result"
		)),
	}
}

/// Names for the labels of `task`'s output: the model's classes, read from its package's
/// `config.json` through the gateway, or a zero-shot request's own labels.
async fn label_names(chain: &Chain, task: Task, request: &Request, package: &[u8]) -> Vec<String> {
	if let Request::ImageText(ImageText::Classify { labels, .. }) = request {
		return labels.clone();
	}
	if !matches!(task, Task::ImageClassification | Task::TextClassification) {
		return vec![];
	}
	let Ok(root) = Cid::try_from(package) else { return vec![] };
	let config = match chain.gateway.read_file(&root, "config.json", MAX_CONFIG_BYTES).await {
		Ok(config) => config,
		Err(e) => {
			log::warn!("the class names of package {root}: {e}; labels are named by id");
			return vec![];
		}
	};
	class_names(task, config.as_deref()).unwrap_or_default()
}

/// The output a receipt holds (inline, or stored in IPFS and read through the gateway, its
/// hash checked), decoded; a failure's reason as the error.
async fn decode(
	chain: &Chain,
	task: Task,
	outcome: &inference::Outcome<<Runtime as inference::Config>::MaxOutputLen>,
	names: &[String],
) -> Result<Output, String> {
	let bytes = match outcome {
		inference::Outcome::Output(bytes) => bytes.to_vec(),
		inference::Outcome::Failed(reason) => {
			return Err(format!(
				"the model could not run on this input: {} (its price was refunded; the compute \
				 fee was paid)",
				String::from_utf8_lossy(reason)
			))
		}
		inference::Outcome::Stored(stored) => {
			let cid = Cid::try_from(&stored.cid[..]).map_err(|e| format!("output CID: {e}"))?;
			chain
				.gateway
				.read_file(&cid, "", stored.size)
				.await
				.map_err(|e| format!("reading the output {cid} through the gateway: {e}"))?
				.ok_or_else(|| format!("the output {cid} is not a file"))?
		}
	};
	let tensors = tensor_codec::decode(&bytes).map_err(|e| format!("the output: {e}"))?;
	Output::from_tensors(task, tensors, names).map_err(|e| format!("the output: {e}"))
}
