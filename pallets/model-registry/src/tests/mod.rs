use crate::{mock::*, *};
use polkadot_sdk::{
	frame_support::{assert_noop, assert_ok, traits::fungible::InspectHold},
	frame_system,
	sp_runtime::{DispatchError, TokenError},
};

/// A distinct, valid CIDv1 (raw, sha2-256, base16) for each `n`.
fn cid(n: u8) -> Vec<u8> {
	cid::raw_sha256_v1_base16(&[n; 32])
}

const CID_V0: &[u8] = b"QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o";
const CID_V1_OF_V0: &[u8] = b"bafybeicg2rebjoofv4kbyovkw7af3rpiitvnl6i7ckcywaq6xjcxnc2mby";

fn register(who: AccountId, name: &[u8], cid: Vec<u8>) -> DispatchResult {
	ModelRegistry::register_model(
		RuntimeOrigin::signed(who),
		name.to_vec(),
		cid,
		ModelType::Embedding,
		Framework::Onnx,
		90_000_000,
		LicenseKind::OpenSource,
		b"Apache-2.0".to_vec(),
	)
}

fn publish(who: AccountId, name: &[u8], cid: Vec<u8>) -> DispatchResult {
	ModelRegistry::publish_version(
		RuntimeOrigin::signed(who),
		name.to_vec(),
		cid,
		Framework::Safetensors,
		45_000_000,
	)
}

fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::ModelDeposit.into(), &who)
}

fn last_event() -> RuntimeEvent {
	frame_system::Pallet::<Test>::events().pop().expect("an event").event
}

fn bounded<S: Get<u32>>(bytes: &[u8]) -> BoundedVec<u8, S> {
	bytes.to_vec().try_into().unwrap()
}

/// Storage is untouched: no model, no index entry, nothing held.
fn assert_nothing_stored() {
	assert_eq!(Models::<Test>::iter().count(), 0);
	assert_eq!(ModelVersions::<Test>::iter().count(), 0);
	assert_eq!(ModelIdByCid::<Test>::iter().count(), 0);
	assert_eq!(ModelsByOwner::<Test>::iter().count(), 0);
	assert_eq!(NextModelId::<Test>::get(), 1);
	assert_eq!(held(ALICE), 0);
}

mod lifecycle;
mod metadata;
mod registration;
