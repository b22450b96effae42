//! A contract calling the precompile owns what it registers.

use super::*;

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
