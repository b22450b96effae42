//! Refusals: pallet errors, value to non-payable functions, malformed calldata, writes in static and delegate calls.

use super::*;

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
