//! Tests of the precompile: ABI mapping, and calls through pallet-revive's `bare_call` on
//! the mock runtime, from accounts and from contracts in plain, static and delegate calls.
//! Shared helpers here; one file per concern: `abi`, `calls` (each function's effect and
//! logs), `reverts` (pallet errors, value, calldata, static and delegate calls), `contracts`.

use crate::{mock::*, *};
use citrate_precompile_utils::testing::{self, deploy_forwarder, CallKind, Called, Log, Outcome};
use pallet_model_registry::{HoldReason, ModelStatus};
use polkadot_sdk::{
	frame_support::traits::fungible::{Inspect, InspectHold},
	pallet_revive::{AddressMapper, U256},
};

fn dim(size: u64, symbol: &str) -> IModelRegistry::Dim {
	IModelRegistry::Dim { size, symbol: symbol.into() }
}

fn sample() -> IModelRegistry::ModelMetadata {
	IModelRegistry::ModelMetadata {
		description: "an image classifier".into(),
		task: IModelRegistry::InferenceTask::ImageClassification,
		inputs: alloc::vec![IModelRegistry::TensorSpec {
			name: "pixels".into(),
			dtype: IModelRegistry::TensorDType::F32,
			dims: alloc::vec![dim(0, "batch"), dim(3, ""), dim(224, ""), dim(224, "")],
		}],
		outputs: alloc::vec![IModelRegistry::TensorSpec {
			name: "logits".into(),
			dtype: IModelRegistry::TensorDType::F16,
			dims: alloc::vec![dim(0, "batch"), dim(1000, "")],
		}],
		parameterCount: 4_650_000,
		flopsPerInference: 800_000_000,
		minMemoryBytes: 64_000_000,
		tags: alloc::vec!["vision".into(), "imagenet".into()],
		documentation: "https://example.invalid/docs".into(),
		tokenizerCid: String::new(),
	}
}

fn reason(error: Error) -> String {
	match error {
		Error::Revert(revert) => revert.reason,
		other => panic!("not a revert: {other:?}"),
	}
}

const PRECOMPILE: [u8; 20] = fixed_address();

/// A storable CID (CIDv1, raw, sha2-256 of `[seed; 32]`) as text.
fn cid(seed: u8) -> String {
	String::from_utf8(pallet_model_registry::cid::raw_sha256_v1_base16(&[seed; 32])).unwrap()
}

fn register_call(name: &str, seed: u8) -> IModelRegistry::registerModelCall {
	IModelRegistry::registerModelCall {
		name: name.into(),
		cid: cid(seed),
		modelType: IModelRegistry::ModelType::Vision,
		framework: IModelRegistry::Framework::Onnx,
		sizeBytes: 1_000,
		licenseKind: IModelRegistry::LicenseKind::OpenSource,
		licenseId: "Apache-2.0".into(),
	}
}

/// Calls the precompile from `who` with no value.
fn exec(who: &AccountId, call: impl SolCall) -> Called {
	testing::call::<Test>(who, PRECOMPILE, U256::zero(), call.abi_encode())
}

/// Registers `name` for `who` through the precompile; returns the model id.
fn register(who: &AccountId, name: &str, seed: u8) -> u64 {
	let output = exec(who, register_call(name, seed)).outcome.output();
	IModelRegistry::registerModelCall::abi_decode_returns(&output).unwrap()
}

fn log(
	event: impl polkadot_sdk::pallet_revive::precompiles::alloy::primitives::IntoLogData,
) -> Log {
	Log::new(PRECOMPILE, event)
}

fn held(reason: HoldReason, who: &AccountId) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::ModelRegistry(reason), who)
}

/// A call that reverted with `reason`, leaving no logs.
fn reverted(reason: &str) -> Called {
	Called { outcome: Outcome::revert(reason), logs: Vec::new() }
}

/// One call of every function, with valid arguments for model 1 of `name`.
fn every_call(name: &str) -> Vec<(&'static str, Vec<u8>)> {
	alloc::vec![
		("registerModel", register_call("other", 9).abi_encode()),
		(
			"publishVersion",
			IModelRegistry::publishVersionCall {
				name: name.into(),
				cid: cid(8),
				framework: IModelRegistry::Framework::Gguf,
				sizeBytes: 5,
			}
			.abi_encode(),
		),
		(
			"setMetadata",
			IModelRegistry::setMetadataCall { modelId: 1, metadata: sample() }.abi_encode()
		),
		(
			"transferOwnership",
			IModelRegistry::transferOwnershipCall {
				modelId: 1,
				newOwner: address_of::<Test>(&BOB)
			}
			.abi_encode(),
		),
		("deprecate", IModelRegistry::deprecateCall { modelId: 1 }.abi_encode()),
		("removeModel", IModelRegistry::removeModelCall { modelId: 1 }.abi_encode()),
		("getModel", IModelRegistry::getModelCall { modelId: 1 }.abi_encode()),
		("versionsOf", IModelRegistry::versionsOfCall { name: name.into() }.abi_encode()),
		(
			"modelsOf",
			IModelRegistry::modelsOfCall { owner: address_of::<Test>(&ALICE) }.abi_encode()
		),
	]
}

const WRITES: [&str; 6] = [
	"registerModel",
	"publishVersion",
	"setMetadata",
	"transferOwnership",
	"deprecate",
	"removeModel",
];

/// What `getModel(1)` returns for a fresh registration of `register_call(name, seed)` by
/// ALICE at block 1.
fn expected_model(name: &str, seed: u8) -> IModelRegistry::Model {
	IModelRegistry::Model {
		id: 1,
		name: name.into(),
		cid: cid(seed),
		owner: address_of::<Test>(&ALICE),
		version: 1,
		modelType: IModelRegistry::ModelType::Vision,
		framework: IModelRegistry::Framework::Onnx,
		sizeBytes: 1_000,
		licenseKind: IModelRegistry::LicenseKind::OpenSource,
		licenseId: "Apache-2.0".into(),
		active: true,
		usageCount: 0,
		totalRewards: Default::default(),
		registeredAt: 1,
		hasMetadata: false,
		metadata: empty_metadata(),
	}
}

mod abi;
mod calls;
mod contracts;
mod reverts;
