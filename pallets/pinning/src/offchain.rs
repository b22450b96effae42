//! The offchain worker: answers this era's challenges of the pins whose proof keys are in the
//! node's keystore, reading the blocks from the node's IPFS gateway over HTTP.

use crate::{BinaryCid, Call, Config, CurrentEra, Pin, PinnerOfKey, Pins, ProofOf, LOG_TARGET};
use alloc::{format, string::String, vec::Vec};
use citrate_ipfs_primitives::{cid, proof};
use codec::Encode;
use polkadot_sdk::{
	frame_support::{traits::Get, BoundedVec},
	frame_system::{
		offchain::{CreateAuthorizedTransaction, SubmitTransaction},
		pallet_prelude::BlockNumberFor,
	},
	sp_io,
	sp_runtime::{offchain::storage::StorageValueRef, traits::Saturating, RuntimeAppPublic},
};

/// Offchain-storage key (persistent) holding the base URL of the gateway the worker reads
/// blocks from, e.g. `http://127.0.0.1:8080`, SCALE-encoded as bytes; the node writes it at
/// startup.
pub const GATEWAY_STORAGE_KEY: &[u8] = b"citrate::pinning::gateway";

/// Prefix of the per-pin record of the last answer sent, so each is sent once per era
/// unless it was not included after `RESEND_AFTER` blocks.
const SENT_PREFIX: &[u8] = b"citrate::pinning::sent::";
const RESEND_AFTER: u32 = 5;

/// How long one block read from the gateway may take.
const FETCH_TIMEOUT_MS: u64 = 10_000;

// The fields are read through `Debug` in the worker's log.
#[allow(dead_code)]
#[derive(Debug)]
enum AnswerError {
	Fetch(String),
	Proof(proof::ProofError),
	TooLarge,
	Submit,
}

pub(crate) fn answer_challenges<T: Config>(now: BlockNumberFor<T>) {
	let era = CurrentEra::<T>::get();
	if era.index == 0 || now > era.start.saturating_add(T::ResponseWindow::get()) {
		return;
	}
	let Some(gateway) = citrate_offchain_primitives::service_url(GATEWAY_STORAGE_KEY) else {
		log::debug!(target: LOG_TARGET, "no IPFS gateway configured; not answering challenges");
		return;
	};
	for key in T::ProofKey::all() {
		let Some(pinner) = PinnerOfKey::<T>::get(&key) else { continue };
		for (cid, pin) in Pins::<T>::iter_prefix(&pinner) {
			let answered = pin.last_answer.is_some_and(|answer| answer.era == era.index);
			if pin.since_era > era.index
				|| answered || !claim_send::<T>(&pinner, &cid, era.index, now)
			{
				continue;
			}
			match answer::<T>(&gateway, &key, &pinner, &cid, &pin, era.index, &era.seed) {
				Ok(()) => log::info!(
					target: LOG_TARGET,
					"answered era {} challenge of {}",
					era.index,
					String::from_utf8_lossy(&cid::base16_text(&cid)),
				),
				Err(error) => log::warn!(
					target: LOG_TARGET,
					"could not answer era {} challenge of {}: {error:?}",
					era.index,
					String::from_utf8_lossy(&cid::base16_text(&cid)),
				),
			}
		}
	}
}

/// Records that the answer for this pin and era is being sent now, unless one was sent less
/// than `RESEND_AFTER` blocks ago.
fn claim_send<T: Config>(
	pinner: &T::AccountId,
	cid: &BinaryCid,
	era: crate::EraIndex,
	now: BlockNumberFor<T>,
) -> bool {
	let key = [SENT_PREFIX, &(pinner, cid).encode()].concat();
	let record = StorageValueRef::persistent(&key);
	record
		.mutate::<(crate::EraIndex, BlockNumberFor<T>), (), _>(|sent| match sent {
			Ok(Some((sent_era, at)))
				if sent_era == era && now < at.saturating_add(RESEND_AFTER.into()) =>
			{
				Err(())
			}
			_ => Ok((era, now)),
		})
		.is_ok()
}

fn answer<T: Config>(
	gateway: &str,
	key: &T::ProofKey,
	pinner: &T::AccountId,
	binary: &BinaryCid,
	pin: &Pin,
	era: crate::EraIndex,
	seed: &[u8; 32],
) -> Result<(), AnswerError> {
	let root = cid::from_binary(binary)
		.map_err(|_| AnswerError::Proof(proof::ProofError::UnsupportedCid))?;
	let offsets = crate::Pallet::<T>::challenge_offsets(seed, pinner, binary, pin.size);
	let blocks = proof::prove(&root, pin.size, &offsets, |cid| {
		fetch_block(gateway, cid, T::MaxProofBlockLen::get() as usize)
	})
	.map_err(|error| match error {
		proof::ProveError::Fetch(message) => AnswerError::Fetch(message),
		proof::ProveError::Proof(error) => AnswerError::Proof(error),
	})?;
	let blocks = blocks
		.into_iter()
		.map(BoundedVec::try_from)
		.collect::<Result<Vec<_>, _>>()
		.ok()
		.and_then(|blocks| BoundedVec::try_from(blocks).ok())
		.ok_or(AnswerError::TooLarge)?;
	let proof: ProofOf<T> =
		crate::PinProof { era, pinner: pinner.clone(), cid: binary.clone(), blocks };
	let signature = proof.using_encoded(|encoded| key.sign(&encoded)).ok_or(AnswerError::Submit)?;
	let call = Call::<T>::submit_proof { proof, signature };
	let xt =
		<T as CreateAuthorizedTransaction<Call<T>>>::create_authorized_transaction(call.into());
	SubmitTransaction::<T, Call<T>>::submit_transaction(xt).map_err(|()| AnswerError::Submit)
}

/// Reads one block from the gateway (`GET /ipfs/{cid}?format=raw`) and checks its hash.
fn fetch_block(gateway: &str, cid: &cid::Cid, max_len: usize) -> Result<Vec<u8>, String> {
	let (bytes, len) = cid.to_v1_bytes();
	let text = cid::base16_text(&bytes[..len]);
	let url = format!(
		"{}/ipfs/{}?format=raw",
		gateway.trim_end_matches('/'),
		String::from_utf8_lossy(&text)
	);
	let headers = [("Accept", "application/vnd.ipld.raw")];
	let block = citrate_offchain_primitives::call(&url, None, &headers, max_len, FETCH_TIMEOUT_MS)?;
	if sp_io::hashing::sha2_256(&block)[..] != *cid.digest() {
		return Err(format!("{url}: the gateway sent a block that does not match the CID"));
	}
	Ok(block)
}
