//! Receipts as agents read them: a settled request's proof of inference from finalized state,
//! with what a client can check itself (final, each provider's key signed this result, the
//! output hashes to the signed hash). `get_receipt`, and the receipt `run_inference` returns.

use super::{super::chain_client::hex, cards::amount, chain::Chain};
use citrate_inference::{codec as tensor_codec, proof::output_hash};
use citrate_runtime::{pallet_inference as inference, Hash, Runtime};
use citrate_storage::cid::Cid;
use codec::{Decode, Encode};
use polkadot_sdk::{sp_core::crypto::Ss58Codec, sp_runtime::RuntimeAppPublic};
use serde_json::{json, Value};

/// A binary CID as text (hex when it does not parse).
fn cid_text(binary: &[u8]) -> String {
	Cid::try_from(binary).map_or_else(|_| hex(binary), |cid| cid.to_string())
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
