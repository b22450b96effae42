//! Each function through `bare_call`: what it stores, returns and logs.

use super::*;

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
