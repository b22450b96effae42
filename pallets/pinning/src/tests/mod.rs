//! Pinning pallet tests: registration, pins of registered models, challenges answered with
//! real proofs over DAGs from the real importer, forged and late answers, rewards by bytes
//! and replicas, slashing, and the offchain worker.

use crate::{mock::*, *};
use citrate_storage::CidMode;
use polkadot_sdk::{
	frame_support::{
		assert_noop, assert_ok,
		traits::{fungible::InspectHold, Authorize},
	},
	frame_system::RawOrigin,
	sp_runtime::{
		testing::{TestSignature, UintAuthorityId},
		traits::Dispatchable,
		transaction_validity::{InvalidTransaction, TransactionSource, TransactionValidityError},
		DispatchError,
	},
};

fn key(who: AccountId) -> UintAuthorityId {
	UintAuthorityId(who)
}

fn text(bytes: &[u8]) -> CidText {
	CidText::try_from(bytes.to_vec()).unwrap()
}

fn register(who: AccountId) {
	assert_ok!(Pinning::register_pinner(RuntimeOrigin::signed(who), BOND, key(who)));
}

/// Registers `file` as a model (once) and reports `who`'s pin of it.
fn pin(who: AccountId, file: &File) {
	if pallet_model_registry::ModelIdByCid::<Test>::get(
		pallet_model_registry::binary_cid(&file.cid_text).unwrap(),
	)
	.is_none()
	{
		let name = format!("model-{}", pallet_model_registry::NextModelId::<Test>::get());
		register_model_with_cid(OWNER, &name, file.cid_text.clone(), file.size);
	}
	assert_ok!(Pinning::report_pin(RuntimeOrigin::signed(who), text(&file.cid_text), file.size));
}

/// `who`'s honest answer to this era's challenge of its pin of `file`, signed by its key.
fn honest_proof(who: AccountId, file: &File) -> (ProofOf<Test>, TestSignature) {
	let era = CurrentEra::<Test>::get();
	let offsets = Pinning::challenge_offsets(&era.seed, &who, &file.binary(), file.size);
	let root = citrate_ipfs_primitives::cid::from_binary(&file.binary()).unwrap();
	let blocks =
		citrate_ipfs_primitives::proof::prove(&root, file.size, &offsets, |cid| file.block(cid))
			.unwrap();
	proof_of(who, file, era.index, blocks)
}

fn proof_of(
	who: AccountId,
	file: &File,
	era: EraIndex,
	blocks: Vec<Vec<u8>>,
) -> (ProofOf<Test>, TestSignature) {
	let blocks = blocks.into_iter().map(|b| b.try_into().unwrap()).collect::<Vec<_>>();
	let proof =
		PinProof { era, pinner: who, cid: file.binary(), blocks: blocks.try_into().unwrap() };
	let signature = proof.using_encoded(|encoded| key(who).sign(&encoded)).unwrap();
	(proof, signature)
}

fn call(proof: ProofOf<Test>, signature: TestSignature) -> RuntimeCall {
	RuntimeCall::Pinning(Call::submit_proof { proof, signature })
}

/// What the transaction pool would say about this proof.
fn authorize(
	proof: &ProofOf<Test>,
	signature: &TestSignature,
) -> Result<(), TransactionValidityError> {
	call(proof.clone(), signature.clone())
		.authorize(TransactionSource::External)
		.expect("submit_proof has authorize logic")
		.map(|_| ())
}

/// Authorizes and dispatches a proof, as block building does.
fn submit(proof: ProofOf<Test>, signature: TestSignature) {
	assert_eq!(authorize(&proof, &signature), Ok(()));
	assert_ok!(call(proof, signature).dispatch(RawOrigin::Authorized.into()));
}

fn era_start(era: u64) -> u64 {
	era * ERA_LENGTH
}

fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Pinning(event) => Some(event),
			_ => None,
		})
		.collect()
}

fn balance(who: AccountId) -> Balance {
	Balances::free_balance(who)
}

fn bond_of(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::PinnerBond.into(), &who)
}

mod offchain;
mod pins;
mod proofs;
mod rewards;
