//! `run_inference` and `get_receipt`: a request submitted with the server's signer within
//! its spending caps, followed block by block until its receipt is final, and the result
//! decoded as the engine prints it; a receipt read back and checked (final, signed by its
//! providers' keys, the output hashing to what they signed).

use super::{
	super::chain_client::hex,
	cards::{amount, ctr, plancks_of},
	chain::{Chain, ModelView},
	input::{self, RunArgs},
	server::Shared,
};
use citrate_inference::{
	codec as tensor_codec,
	pipelines::{class_names, ImageText, Output, Request, Task},
	proof::output_hash,
};
use citrate_inference_primitives::request::check_request;
use citrate_runtime::{
	pallet_inference as inference, AccountId, Balance, Hash, Runtime, RuntimeCall, RuntimeEvent,
};
use citrate_storage::cid::Cid;
use codec::{Decode, Encode};
use futures::StreamExt;
use polkadot_sdk::{
	frame_support::traits::Get,
	sp_core::{crypto::Ss58Codec, sr25519, Pair},
	sp_runtime::{traits::IdentifyAccount, MultiSigner, RuntimeAppPublic},
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

fn cid_text(binary: &[u8]) -> String {
	Cid::try_from(binary).map_or_else(|_| hex(binary), |cid| cid.to_string())
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
	check_access(chain, model, &account).await?;
	// Inline up to the chain's limit; larger inputs go to IPFS and the request names their CID.
	let max_inline = <<Runtime as inference::Config>::MaxInputLen as Get<u32>>::get() as usize;
	let input_cid = if bytes.len() > max_inline {
		let cid = shared.store.add_file(bytes.clone()).await.map_err(|e| {
			format!("the input ({} bytes) is over the {max_inline} sent inline: {e}", bytes.len())
		})?;
		Some(cid.into_v1().map_err(|e| format!("the input's CID: {e}"))?.to_bytes())
	} else {
		None
	};
	let fee = model.fee_per_call().ok_or("the model has no fee schedule")?;
	let wanted = args.max_fee.map(|ctr| plancks_of(&ctr.to_string())).transpose()?;
	let reserved = budget.reserve(fee, wanted)?;
	let call = RuntimeCall::Inference(match input_cid {
		Some(input_cid) => {
			inference::Call::request_inference_cid { model_id: id, input_cid, max_fee: reserved }
		}
		None => {
			inference::Call::request_inference { model_id: id, input: bytes, max_fee: reserved }
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
	let receipt_json = receipt_json(chain, request_id, &receipt, at).await;
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

/// Refuses before paying a transaction fee when the signer has no access, as the access
/// pallet decides: free for the owner and for open-source models that sell no tiers, else a
/// grant with uses left (its expiry the chain checks).
async fn check_access(chain: &Chain, model: &ModelView, account: &AccountId) -> Result<(), String> {
	let open = model.info.license.kind == citrate_model_primitives::LicenseKind::OpenSource;
	if model.info.owner == *account || (open && model.tiers.is_empty()) {
		return Ok(());
	}
	let grant = chain.access(model.id, account).await?;
	if grant.is_some_and(|g| g.uses_left != citrate_runtime::pallet_model_access::Uses::Limited(0))
	{
		return Ok(());
	}
	Err(no_access(model))
}

fn no_access(model: &ModelView) -> String {
	if model.tiers.is_empty() {
		return format!(
			"no access to model {}: its license is not open source and it sells no access \
			 tiers, so only its owner can run it",
			model.id
		);
	}
	let tiers: Vec<String> = model
		.tiers
		.iter()
		.map(|(tier, t)| {
			let uses = if t.max_uses == 0 {
				"unlimited uses".into()
			} else {
				format!("{} uses", t.max_uses)
			};
			format!("tier {tier}: {} CTR for {} blocks, {uses}", ctr(t.price), t.duration)
		})
		.collect();
	format!(
		"no access to model {}: buy a tier with purchase_access (model_id {}, tier_id): {}",
		model.id,
		model.id,
		tiers.join("; ")
	)
}

/// The chain's refusal in words an agent can act on.
fn explain_refusal(error: &str, model: &ModelView, reserved: Balance) -> String {
	let named = |name: &str| error.contains(&format!("Inference({name})"));
	if named("NoAccess") {
		no_access(model)
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

/// Whether the output bytes of `outcome` hash to `expected` (stored outputs are checked
/// when read).
fn output_matches(
	outcome: &inference::Outcome<<Runtime as inference::Config>::MaxOutputLen>,
	expected: Option<[u8; 32]>,
) -> Option<bool> {
	match outcome {
		inference::Outcome::Output(bytes) => {
			let tensors = tensor_codec::decode(bytes).ok()?;
			Some(output_hash(&tensors).ok() == expected)
		}
		inference::Outcome::Failed(_) => Some(expected.is_none()),
		inference::Outcome::Stored(stored) => Some(Some(stored.output_hash) == expected),
	}
}

/// A receipt as JSON, with what a client can check itself: it is in finalized state, each
/// provider's key signed this outcome, and the output hashes to the receipt's output hash.
pub async fn receipt_json(
	chain: &Chain,
	request_id: inference::RequestId,
	receipt: &inference::Receipt<Runtime>,
	(block, hash): (u32, Hash),
) -> Value {
	let mut providers = vec![];
	let mut all_signed = true;
	for (account, signature) in receipt.providers.iter() {
		let signed = match chain.provider(account).await {
			Ok(Some(info)) => {
				let result = inference::InferenceResult::<Runtime> {
					request_id,
					provider: account.clone(),
					outcome: receipt.outcome.clone(),
				};
				type Signature =
					<<Runtime as inference::Config>::ProviderKey as RuntimeAppPublic>::Signature;
				Signature::decode(&mut &signature[..])
					.is_ok_and(|s| result.using_encoded(|message| info.key.verify(&message, &s)))
			}
			_ => false,
		};
		all_signed &= signed;
		providers.push(json!({
			"account": account.to_ss58check(),
			"signature": hex(signature),
			"signed_this_result": signed,
		}));
	}
	let (outcome, reason) = match &receipt.outcome {
		inference::Outcome::Output(_) => ("output", None),
		inference::Outcome::Failed(why) => {
			("failed", Some(String::from_utf8_lossy(why).into_owned()))
		}
		inference::Outcome::Stored(stored) => ("stored", Some(cid_text(&stored.cid))),
	};
	let output_ok = output_matches(&receipt.outcome, receipt.output_hash);
	json!({
		"request_id": request_id,
		"model_id": receipt.model_id,
		"requester": receipt.requester.to_ss58check(),
		"package_cid": cid_text(&receipt.package_cid),
		"input_hash": hex(&receipt.input_hash),
		"input_cid": receipt.input_cid.as_ref().map(|cid| cid_text(cid)),
		"output_hash": receipt.output_hash.map(|h| hex(&h)),
		"outcome": outcome,
		"failure_reason": if outcome == "failed" { reason.clone() } else { None },
		"output_cid": if outcome == "stored" { reason } else { None },
		"providers": providers,
		"verification": format!("{:?}", receipt.verification),
		"requested_at": receipt.requested_at,
		"answered_at": receipt.answered_at,
		"price_paid": amount(receipt.price_paid),
		"compute_fee": amount(receipt.compute_fee),
		"deposit": amount(receipt.deposit),
		"finalized": { "block": block, "hash": format!("{hash:?}") },
		"checks": {
			"final": true,
			"signed_by_every_provider": all_signed,
			"output_matches_hash": output_ok,
		},
	})
}

/// `get_receipt`: the receipt of request `id` at the finalized head, checked; or where the
/// request stands when it has none.
pub async fn get_receipt(chain: &Chain, id: inference::RequestId) -> Result<Value, String> {
	let head = chain.client.finalized_head().await?;
	match chain.receipt(id, Some(head.1)).await? {
		Some(receipt) => Ok(receipt_json(chain, id, &receipt, head).await),
		None => match chain.request(id, None).await? {
			Some(request) => Err(format!(
				"request {id} has no result yet: it is open until block {}",
				request.deadline
			)),
			None => match chain.receipt(id, None).await? {
				Some(_) => Err(format!(
					"request {id} was answered in a block not final yet: ask again in a few \
					 seconds"
				)),
				None => Err(format!(
					"no receipt for request {id}: it was never made, ended without a result, or \
					 its receipt was removed"
				)),
			},
		},
	}
}
