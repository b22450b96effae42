//! Tests of the precompile: ABI mapping, and calls through pallet-revive's `bare_call` on
//! the mock runtime, from accounts and from contracts in plain, static and delegate calls.

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

#[test]
fn metadata_survives_the_round_trip_through_the_pallet_types() {
	let abi = sample();
	let pallet = metadata_from_abi(&abi).unwrap();
	assert_eq!(pallet.task, InferenceTask::ImageClassification);
	assert_eq!(pallet.inputs[0].dtype, DType::F32);
	assert_eq!(pallet.outputs[0].dtype, DType::F16);
	assert_eq!(pallet.inputs[0].dims[1], Dim::Fixed(3));
	assert!(matches!(&pallet.inputs[0].dims[0], Dim::Symbolic(s) if &s[..] == b"batch"));
	assert_eq!(pallet.tokenizer_cid, None);
	// alloy structs have no PartialEq: compare their ABI encodings.
	use polkadot_sdk::pallet_revive::precompiles::alloy::sol_types::SolValue;
	assert_eq!(metadata_to_abi(&pallet).unwrap().abi_encode(), abi.abi_encode());
}

#[test]
fn over_long_metadata_reverts_naming_the_field() {
	let mut abi = sample();
	abi.tags = (0..=metadata_limits::MAX_TAGS).map(|i| format!("t{i}")).collect();
	assert_eq!(
		reason(metadata_from_abi(&abi).unwrap_err()),
		"ModelRegistry.setMetadata: more than 16 tags"
	);
	let mut abi = sample();
	abi.inputs[0].name = "x".repeat(65);
	assert_eq!(
		reason(metadata_from_abi(&abi).unwrap_err()),
		"ModelRegistry.setMetadata: tensor name longer than 64 bytes"
	);
	let mut abi = sample();
	abi.outputs[0].dims = alloc::vec![dim(1, ""); 9];
	assert_eq!(
		reason(metadata_from_abi(&abi).unwrap_err()),
		"ModelRegistry.setMetadata: more than 8 dimensions"
	);
}

#[test]
fn the_address_matches_the_interface_file() {
	let sol = include_str!("../IModelRegistry.sol");
	let hex: String = fixed_address().iter().map(|b| format!("{b:02x}")).collect();
	assert!(sol.to_lowercase().contains(&format!("0x{hex}")), "address {hex} in the .sol file");
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

#[test]
fn register_model_stores_the_model_returns_its_id_and_logs() {
	new_test_ext().execute_with(|| {
		let called = exec(&ALICE, register_call("resnet", 1));
		assert_eq!(
			called,
			Called {
				outcome: Outcome::Success(IModelRegistry::registerModelCall::abi_encode_returns(
					&1
				)),
				logs: alloc::vec![log(IModelRegistry::ModelRegistered {
					modelId: 1,
					owner: address_of::<Test>(&ALICE),
					name: "resnet".into(),
					cid: cid(1),
				})],
			}
		);
		let model = Registry::<Test>::model(1).unwrap();
		assert_eq!(model.owner, ALICE);
		assert_eq!((&model.name[..], &model.cid[..]), (&b"resnet"[..], cid(1).as_bytes()));
		assert_eq!(model.model_type, pallet_model_registry::ModelType::Vision);
		assert_eq!(model.framework, pallet_model_registry::Framework::Onnx);
		assert_eq!(model.size_bytes, 1_000);
		assert_eq!(model.license.kind, pallet_model_registry::LicenseKind::OpenSource);
		assert_eq!(&model.license.identifier[..], b"Apache-2.0");
		assert_eq!(model.status, ModelStatus::Active);
		assert_eq!(Registry::<Test>::models_of(ALICE), alloc::vec![1]);
		// The caller paid the deposit, as for the extrinsic.
		assert_eq!(model.deposit.depositor, ALICE);
		assert!(model.deposit.amount >= DEPOSIT_BASE);
		assert_eq!(held(HoldReason::ModelDeposit, &ALICE), model.deposit.amount);
	});
}

#[test]
fn publish_version_adds_the_next_version_and_logs() {
	new_test_ext().execute_with(|| {
		assert_eq!(register(&ALICE, "resnet", 1), 1);
		let called = exec(
			&ALICE,
			IModelRegistry::publishVersionCall {
				name: "resnet".into(),
				cid: cid(2),
				framework: IModelRegistry::Framework::Safetensors,
				sizeBytes: 2_000,
			},
		);
		assert_eq!(
			called,
			Called {
				outcome: Outcome::Success(IModelRegistry::publishVersionCall::abi_encode_returns(
					&2
				)),
				logs: alloc::vec![log(IModelRegistry::VersionPublished {
					modelId: 2,
					previousId: 1,
					version: 2,
					cid: cid(2),
				})],
			}
		);
		let model = Registry::<Test>::model(2).unwrap();
		assert_eq!((model.version, model.size_bytes), (2, 2_000));
		assert_eq!(model.framework, pallet_model_registry::Framework::Safetensors);
		assert_eq!(Registry::<Test>::versions_of(b"resnet".to_vec()), alloc::vec![1, 2]);
	});
}

#[test]
fn set_metadata_stores_it_and_logs() {
	new_test_ext().execute_with(|| {
		register(&ALICE, "resnet", 1);
		let called =
			exec(&ALICE, IModelRegistry::setMetadataCall { modelId: 1, metadata: sample() });
		assert_eq!(
			called,
			Called {
				outcome: Outcome::Success(Vec::new()),
				logs: alloc::vec![log(IModelRegistry::MetadataSet {
					modelId: 1,
					owner: address_of::<Test>(&ALICE),
				})],
			}
		);
		assert_eq!(Registry::<Test>::metadata(1), Some(metadata_from_abi(&sample()).unwrap()));
		assert!(held(HoldReason::MetadataDeposit, &ALICE) >= METADATA_DEPOSIT_BASE);
		// `getModel` returns it.
		let mut expected = expected_model("resnet", 1);
		expected.hasMetadata = true;
		expected.metadata = sample();
		assert_eq!(
			exec(&BOB, IModelRegistry::getModelCall { modelId: 1 }).outcome,
			Outcome::Success(IModelRegistry::getModelCall::abi_encode_returns(&expected))
		);
	});
}

#[test]
fn transfer_ownership_moves_the_model_and_logs() {
	new_test_ext().execute_with(|| {
		register(&ALICE, "resnet", 1);
		let called = exec(
			&ALICE,
			IModelRegistry::transferOwnershipCall {
				modelId: 1,
				newOwner: address_of::<Test>(&BOB),
			},
		);
		assert_eq!(
			called,
			Called {
				outcome: Outcome::Success(Vec::new()),
				logs: alloc::vec![log(IModelRegistry::OwnershipTransferred {
					modelId: 1,
					from: address_of::<Test>(&ALICE),
					to: address_of::<Test>(&BOB),
				})],
			}
		);
		assert_eq!(Registry::<Test>::model(1).unwrap().owner, BOB);
		assert_eq!(Registry::<Test>::models_of(BOB), alloc::vec![1]);
		assert_eq!(Registry::<Test>::models_of(ALICE), Vec::<u64>::new());
	});
}

#[test]
fn deprecate_and_remove_model_retire_the_model_and_log() {
	new_test_ext().execute_with(|| {
		register(&ALICE, "resnet", 1);
		let deposit = held(HoldReason::ModelDeposit, &ALICE);
		assert_eq!(
			exec(&ALICE, IModelRegistry::deprecateCall { modelId: 1 }),
			Called {
				outcome: Outcome::Success(Vec::new()),
				logs: alloc::vec![log(IModelRegistry::ModelDeprecated { modelId: 1 })],
			}
		);
		assert_eq!(Registry::<Test>::model(1).unwrap().status, ModelStatus::Deprecated);
		let mut expected = expected_model("resnet", 1);
		expected.active = false;
		assert_eq!(
			exec(&ALICE, IModelRegistry::getModelCall { modelId: 1 }).outcome,
			Outcome::Success(IModelRegistry::getModelCall::abi_encode_returns(&expected))
		);

		let free = Balances::balance(&ALICE);
		assert_eq!(
			exec(&ALICE, IModelRegistry::removeModelCall { modelId: 1 }),
			Called {
				outcome: Outcome::Success(Vec::new()),
				logs: alloc::vec![log(IModelRegistry::ModelRemoved { modelId: 1 })],
			}
		);
		assert!(Registry::<Test>::model(1).is_none());
		assert_eq!(Registry::<Test>::versions_of(b"resnet".to_vec()), Vec::<u64>::new());
		// The deposit came back.
		assert_eq!(held(HoldReason::ModelDeposit, &ALICE), 0);
		assert_eq!(Balances::balance(&ALICE), free + deposit);
	});
}

#[test]
fn get_model_returns_the_model_and_reverts_for_unknown_ids() {
	new_test_ext().execute_with(|| {
		register(&ALICE, "resnet", 1);
		let called = exec(&BOB, IModelRegistry::getModelCall { modelId: 1 });
		assert_eq!(
			called,
			Called {
				outcome: Outcome::Success(IModelRegistry::getModelCall::abi_encode_returns(
					&expected_model("resnet", 1)
				)),
				logs: Vec::new(),
			}
		);
		let model =
			IModelRegistry::getModelCall::abi_decode_returns(&called.outcome.output()).unwrap();
		assert_eq!(
			(model.id, model.name.as_str(), model.owner),
			(1, "resnet", address_of::<Test>(&ALICE))
		);
		assert_eq!(
			exec(&BOB, IModelRegistry::getModelCall { modelId: 7 }),
			reverted("ModelRegistry.getModel: ModelNotFound")
		);
	});
}

#[test]
fn versions_of_and_models_of_list_ids() {
	new_test_ext().execute_with(|| {
		let versions = |name: &str| {
			let output = exec(&CHARLIE, IModelRegistry::versionsOfCall { name: name.into() })
				.outcome
				.output();
			IModelRegistry::versionsOfCall::abi_decode_returns(&output).unwrap()
		};
		let models = |who: &AccountId| {
			let call = IModelRegistry::modelsOfCall { owner: address_of::<Test>(who) };
			let output = exec(&CHARLIE, call).outcome.output();
			IModelRegistry::modelsOfCall::abi_decode_returns(&output).unwrap()
		};
		assert_eq!(versions("resnet"), Vec::<u64>::new());
		assert_eq!(models(&ALICE), Vec::<u64>::new());

		register(&ALICE, "resnet", 1);
		register(&BOB, "bert", 2);
		let publish = IModelRegistry::publishVersionCall {
			name: "resnet".into(),
			cid: cid(3),
			framework: IModelRegistry::Framework::Onnx,
			sizeBytes: 3,
		};
		exec(&ALICE, publish).outcome.output();
		assert_eq!(versions("resnet"), alloc::vec![1, 3]);
		assert_eq!(versions("bert"), alloc::vec![2]);
		assert_eq!(models(&ALICE), alloc::vec![1, 3]);
		assert_eq!(models(&BOB), alloc::vec![2]);
		assert_eq!(models(&CHARLIE), Vec::<u64>::new());
	});
}

#[test]
fn pallet_errors_revert_with_the_function_and_error_names() {
	new_test_ext().execute_with(|| {
		register(&ALICE, "resnet", 1);
		let cases: Vec<(AccountId, Vec<u8>, &str)> = alloc::vec![
			(
				BOB,
				register_call("resnet", 2).abi_encode(),
				"ModelRegistry.registerModel: NameAlreadyRegistered",
			),
			(
				BOB,
				register_call("other", 1).abi_encode(),
				"ModelRegistry.registerModel: CidAlreadyRegistered",
			),
			(
				BOB,
				IModelRegistry::registerModelCall {
					cid: "not a cid".into(),
					..register_call("x", 3)
				}
				.abi_encode(),
				"ModelRegistry.registerModel: InvalidCid",
			),
			(
				BOB,
				IModelRegistry::publishVersionCall {
					name: "resnet".into(),
					cid: cid(2),
					framework: IModelRegistry::Framework::Onnx,
					sizeBytes: 1,
				}
				.abi_encode(),
				"ModelRegistry.publishVersion: NotOwner",
			),
			(
				ALICE,
				IModelRegistry::publishVersionCall {
					name: "unknown".into(),
					cid: cid(2),
					framework: IModelRegistry::Framework::Onnx,
					sizeBytes: 1,
				}
				.abi_encode(),
				"ModelRegistry.publishVersion: NameNotFound",
			),
			(
				BOB,
				IModelRegistry::setMetadataCall { modelId: 1, metadata: sample() }.abi_encode(),
				"ModelRegistry.setMetadata: NotOwner",
			),
			(
				ALICE,
				IModelRegistry::setMetadataCall { modelId: 9, metadata: sample() }.abi_encode(),
				"ModelRegistry.setMetadata: ModelNotFound",
			),
			(
				ALICE,
				IModelRegistry::transferOwnershipCall {
					modelId: 1,
					newOwner: address_of::<Test>(&ALICE),
				}
				.abi_encode(),
				"ModelRegistry.transferOwnership: AlreadyOwner",
			),
			(
				BOB,
				IModelRegistry::transferOwnershipCall {
					modelId: 1,
					newOwner: address_of::<Test>(&BOB)
				}
				.abi_encode(),
				"ModelRegistry.transferOwnership: NotOwner",
			),
			(
				BOB,
				IModelRegistry::deprecateCall { modelId: 1 }.abi_encode(),
				"ModelRegistry.deprecate: NotOwner",
			),
			(
				ALICE,
				IModelRegistry::deprecateCall { modelId: 9 }.abi_encode(),
				"ModelRegistry.deprecate: ModelNotFound",
			),
			(
				ALICE,
				IModelRegistry::removeModelCall { modelId: 1 }.abi_encode(),
				"ModelRegistry.removeModel: NotDeprecated",
			),
		];
		let before = Registry::<Test>::model(1);
		for (who, data, reason) in cases {
			assert_eq!(
				testing::call::<Test>(&who, PRECOMPILE, U256::zero(), data),
				reverted(reason)
			);
		}
		assert_eq!(Registry::<Test>::model(1), before);
		assert_eq!(Registry::<Test>::models_of(BOB), Vec::<u64>::new());
		assert!(Registry::<Test>::metadata(1).is_none());
	});
}

#[test]
fn value_sent_to_any_function_reverts_and_changes_nothing() {
	new_test_ext().execute_with(|| {
		register(&ALICE, "resnet", 1);
		let before = (Registry::<Test>::model(1), Balances::balance(&ALICE));
		for (function, data) in every_call("resnet") {
			let called = testing::call::<Test>(&ALICE, PRECOMPILE, U256::from(1_000u32), data);
			assert_eq!(
				called,
				reverted(&format!("ModelRegistry.{function}: function is not payable"))
			);
		}
		assert_eq!((Registry::<Test>::model(1), Balances::balance(&ALICE)), before);
		assert_eq!(Registry::<Test>::models_of(ALICE), alloc::vec![1]);
		let precompile =
			<Test as polkadot_sdk::pallet_revive::Config>::AddressMapper::to_account_id(
				&PRECOMPILE.into(),
			);
		assert_eq!(Balances::balance(&precompile), 0);
	});
}

#[test]
fn malformed_calldata_reverts_with_the_reason() {
	new_test_ext().execute_with(|| {
		register(&ALICE, "resnet", 1);
		let deprecate = IModelRegistry::deprecateCall { modelId: 1 }.abi_encode();
		let not_strict = "IModelRegistry: calldata for deprecate(uint64) is not strictly \
		                  ABI-encoded (short, padded wrongly or followed by extra bytes)";
		let mut dirty = deprecate.clone();
		dirty[4] = 1;
		let mut bad_enum = register_call("x", 3).abi_encode();
		// modelType is the third head word: ModelType has 6 variants.
		bad_enum[4 + 2 * 32 + 31] = 6;
		let cases: Vec<(Vec<u8>, String)> = alloc::vec![
			(Vec::new(), "IModelRegistry: calldata has no 4-byte function selector".into()),
			(
				alloc::vec![0x01, 0x02, 0x03],
				"IModelRegistry: calldata has no 4-byte function selector".into()
			),
			(
				alloc::vec![0xde, 0xad, 0xbe, 0xef],
				"IModelRegistry: unknown function selector 0xdeadbeef".into()
			),
			([&deprecate[..], &[0]].concat(), not_strict.into()),
			(deprecate[..deprecate.len() - 1].to_vec(), not_strict.into()),
			(deprecate[..4].to_vec(), not_strict.into()),
			(dirty, not_strict.into()),
			(
				bad_enum,
				"IModelRegistry: calldata for registerModel(string,string,uint8,uint8,uint64,\
				 uint8,string) is not strictly ABI-encoded (short, padded wrongly or followed by \
				 extra bytes)"
					.into()
			),
		];
		for (data, reason) in cases {
			assert_eq!(
				testing::call::<Test>(&ALICE, PRECOMPILE, U256::zero(), data),
				reverted(&reason)
			);
		}
		assert_eq!(Registry::<Test>::model(1).unwrap().status, ModelStatus::Active);
		assert_eq!(Registry::<Test>::models_of(ALICE), alloc::vec![1]);
	});
}

#[test]
fn writes_revert_in_a_static_call_and_views_answer() {
	new_test_ext().execute_with(|| {
		register(&ALICE, "resnet", 1);
		let forwarder =
			deploy_forwarder::<Test>(&ALICE, CallKind::StaticCall, PRECOMPILE, U256::zero());
		let before = Registry::<Test>::model(1);
		for (function, data) in every_call("resnet") {
			let called = testing::call::<Test>(&ALICE, forwarder, U256::zero(), data.clone());
			if WRITES.contains(&function) {
				assert_eq!(
					called,
					reverted(&format!(
						"ModelRegistry.{function}: cannot change state in a static call"
					))
				);
			} else {
				// The same answer as a direct call.
				let direct = testing::call::<Test>(&ALICE, PRECOMPILE, U256::zero(), data);
				assert_eq!(called.outcome, direct.outcome, "{function}");
				assert!(matches!(called.outcome, Outcome::Success(_)), "{function}");
			}
		}
		assert_eq!(Registry::<Test>::model(1), before);
		assert_eq!(Registry::<Test>::versions_of(b"other".to_vec()), Vec::<u64>::new());
	});
}

#[test]
fn writes_revert_through_delegatecall_and_views_answer() {
	new_test_ext().execute_with(|| {
		register(&ALICE, "resnet", 1);
		let forwarder =
			deploy_forwarder::<Test>(&ALICE, CallKind::DelegateCall, PRECOMPILE, U256::zero());
		let before = Registry::<Test>::model(1);
		for (function, data) in every_call("resnet") {
			let called = testing::call::<Test>(&ALICE, forwarder, U256::zero(), data.clone());
			if WRITES.contains(&function) {
				assert_eq!(
					called,
					reverted(&format!(
						"ModelRegistry.{function}: cannot be called through delegatecall"
					))
				);
			} else {
				let direct = testing::call::<Test>(&ALICE, PRECOMPILE, U256::zero(), data);
				assert_eq!(called.outcome, direct.outcome, "{function}");
				assert!(matches!(called.outcome, Outcome::Success(_)), "{function}");
			}
		}
		assert_eq!(Registry::<Test>::model(1), before);
	});
}

#[test]
fn a_contract_registers_a_model_it_then_owns() {
	new_test_ext().execute_with(|| {
		// The contract pays the deposit from its own balance.
		let forwarder =
			deploy_forwarder::<Test>(&ALICE, CallKind::Call, PRECOMPILE, U256::from(1_000_000u32));
		let contract =
			<Test as polkadot_sdk::pallet_revive::Config>::AddressMapper::to_account_id(&forwarder);
		let called = testing::call::<Test>(
			&ALICE,
			forwarder,
			U256::zero(),
			register_call("resnet", 1).abi_encode(),
		);
		assert_eq!(
			called,
			Called {
				outcome: Outcome::Success(IModelRegistry::registerModelCall::abi_encode_returns(
					&1
				)),
				logs: alloc::vec![log(IModelRegistry::ModelRegistered {
					modelId: 1,
					owner: forwarder.0.into(),
					name: "resnet".into(),
					cid: cid(1),
				})],
			}
		);
		assert_eq!(Registry::<Test>::model(1).unwrap().owner, contract);
		assert_eq!(Registry::<Test>::models_of(contract.clone()), alloc::vec![1]);
		assert!(held(HoldReason::ModelDeposit, &contract) >= DEPOSIT_BASE);
		assert_eq!(Registry::<Test>::models_of(ALICE), Vec::<u64>::new());
	});
}
