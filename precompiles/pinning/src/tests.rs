//! Tests of the precompile: calls through pallet-revive's `bare_call` on the mock runtime,
//! from accounts and from contracts in plain, static and delegate calls.

use crate::{
	mock::{Pinning, *},
	*,
};
use citrate_precompile_utils::testing::{self, deploy_forwarder, CallKind, Called, Log, Outcome};
use pallet_pinning::{Answer, BinaryCid, Pins};
use polkadot_sdk::{
	frame_support::traits::Hooks,
	pallet_revive::{precompiles::alloy::primitives::IntoLogData, AddressMapper, U256},
};

const PRECOMPILE: [u8; 20] = fixed_address();
const SIZE: u64 = 300;

#[test]
fn the_address_matches_the_interface_file() {
	let sol = include_str!("../IPinningIncentives.sol");
	let hex: alloc::string::String =
		crate::fixed_address().iter().map(|b| alloc::format!("{b:02x}")).collect();
	assert!(sol.contains(&alloc::format!("0x{hex}")), "address {hex} in the .sol file");
}

fn exec(who: &AccountId, call: impl SolCall) -> Called {
	testing::call::<Test>(who, PRECOMPILE, U256::zero(), call.abi_encode())
}

fn log(event: impl IntoLogData) -> Log {
	Log::new(PRECOMPILE, event)
}

/// A call that reverted with `reason`, leaving no logs.
fn reverted(reason: &str) -> Called {
	Called { outcome: Outcome::revert(reason), logs: Vec::new() }
}

fn success(logs: Vec<Log>) -> Called {
	Called { outcome: Outcome::Success(Vec::new()), logs }
}

fn binary(cid: &str) -> BinaryCid {
	Pinning::parse_cid(cid.as_bytes()).unwrap().0
}

fn report_call(cid: &str, size: u64) -> IPinningIncentives::reportPinningCall {
	IPinningIncentives::reportPinningCall { cid: cid.into(), size }
}

fn address(who: &AccountId) -> citrate_precompile_utils::alloy_address::Address {
	address_of::<Test>(who)
}

/// Model "model" with root `cid(1)` of `SIZE` bytes, and ALICE and BOB registered pinners.
fn setup() {
	register_model("model", &cid(1), SIZE);
	register_pinner(&ALICE, 1);
	register_pinner(&BOB, 2);
}

fn verify(who: &AccountId) -> Vec<u8> {
	let call = IPinningIncentives::verifyPinningCall { cid: cid(1), pinner: address(who) };
	exec(&OWNER, call).outcome.output()
}

fn pinning(pinned: bool, size: u64, era: u32, verified: bool) -> Vec<u8> {
	IPinningIncentives::verifyPinningCall::abi_encode_returns(&IPinningIncentives::Pinning {
		pinned,
		size,
		lastAnsweredEra: era,
		verified,
	})
}

fn pinners() -> Vec<citrate_precompile_utils::alloy_address::Address> {
	let output = exec(&OWNER, IPinningIncentives::pinnersOfCall { cid: cid(1) }).outcome.output();
	IPinningIncentives::pinnersOfCall::abi_decode_returns(&output).unwrap()
}

/// One call of every function, valid for ALICE's pin of `cid(1)`.
fn every_call() -> Vec<(&'static str, Vec<u8>)> {
	alloc::vec![
		("reportPinning", report_call(&cid(1), SIZE).abi_encode()),
		("removePinning", IPinningIncentives::removePinningCall { cid: cid(1) }.abi_encode()),
		(
			"verifyPinning",
			IPinningIncentives::verifyPinningCall { cid: cid(1), pinner: address(&ALICE) }
				.abi_encode(),
		),
		("pinnersOf", IPinningIncentives::pinnersOfCall { cid: cid(1) }.abi_encode()),
		("currentEra", IPinningIncentives::currentEraCall {}.abi_encode()),
	]
}

const WRITES: [&str; 2] = ["reportPinning", "removePinning"];

#[test]
fn report_pinning_records_the_pin_and_logs() {
	new_test_ext().execute_with(|| {
		setup();
		assert_eq!(
			exec(&ALICE, report_call(&cid(1), SIZE)),
			success(alloc::vec![log(IPinningIncentives::PinReported {
				pinner: address(&ALICE),
				cid: cid(1),
				size: SIZE,
				sinceEra: 1,
			})])
		);
		let pin = Pins::<Test>::get(&ALICE, binary(&cid(1))).unwrap();
		assert_eq!((pin.model_id, pin.size, pin.since_era, pin.last_answer), (1, SIZE, 1, None));
		assert_eq!(Pinning::pinners_of(binary(&cid(1))), alloc::vec![ALICE]);
	});
}

#[test]
fn remove_pinning_ends_the_pin_and_logs() {
	new_test_ext().execute_with(|| {
		setup();
		exec(&ALICE, report_call(&cid(1), SIZE)).outcome.output();
		assert_eq!(
			exec(&ALICE, IPinningIncentives::removePinningCall { cid: cid(1) }),
			success(alloc::vec![log(IPinningIncentives::PinRemoved {
				pinner: address(&ALICE),
				cid: cid(1),
			})])
		);
		assert!(Pins::<Test>::get(&ALICE, binary(&cid(1))).is_none());
		assert_eq!(Pinning::pinners_of(binary(&cid(1))), Vec::<AccountId>::new());
	});
}

#[test]
fn verify_pinning_reports_the_pin_and_its_latest_answer() {
	new_test_ext().execute_with(|| {
		setup();
		assert_eq!(verify(&ALICE), pinning(false, 0, 0, false));
		exec(&ALICE, report_call(&cid(1), SIZE)).outcome.output();
		assert_eq!(verify(&ALICE), pinning(true, SIZE, 0, false));
		assert_eq!(verify(&BOB), pinning(false, 0, 0, false));

		// A verified answer to this era's challenge, as `submit_proof` records it.
		Pins::<Test>::mutate(&ALICE, binary(&cid(1)), |pin| {
			pin.as_mut().unwrap().last_answer = Some(Answer { era: 0, valid: true });
		});
		assert_eq!(verify(&ALICE), pinning(true, SIZE, 0, true));
		// A failed one does not vouch for the pin.
		Pins::<Test>::mutate(&ALICE, binary(&cid(1)), |pin| {
			pin.as_mut().unwrap().last_answer = Some(Answer { era: 0, valid: false });
		});
		assert_eq!(verify(&ALICE), pinning(true, SIZE, 0, false));
		// Text that is no CID reverts.
		let call = IPinningIncentives::verifyPinningCall {
			cid: "not a cid".into(),
			pinner: address(&ALICE),
		};
		assert_eq!(exec(&OWNER, call), reverted("Pinning.verifyPinning: InvalidCid"));
	});
}

#[test]
fn pinners_of_lists_every_pinner() {
	new_test_ext().execute_with(|| {
		setup();
		assert!(pinners().is_empty());
		exec(&ALICE, report_call(&cid(1), SIZE)).outcome.output();
		exec(&BOB, report_call(&cid(1), SIZE)).outcome.output();
		assert_eq!(pinners(), alloc::vec![address(&ALICE), address(&BOB)]);
		assert_eq!(
			exec(&OWNER, IPinningIncentives::pinnersOfCall { cid: "Qm".into() }),
			reverted("Pinning.pinnersOf: InvalidCid")
		);
	});
}

#[test]
fn current_era_follows_the_era_changes() {
	new_test_ext().execute_with(|| {
		let current_era = || {
			let output = exec(&OWNER, IPinningIncentives::currentEraCall {}).outcome.output();
			let era = IPinningIncentives::currentEraCall::abi_decode_returns(&output).unwrap();
			(era.era, era.startBlock)
		};
		assert_eq!(current_era(), (0, 0));
		System::set_block_number(ERA_LENGTH);
		Pinning::on_initialize(ERA_LENGTH);
		assert_eq!(current_era(), (1, ERA_LENGTH));
		assert_eq!(
			exec(&OWNER, IPinningIncentives::currentEraCall {}).outcome,
			Outcome::Success(IPinningIncentives::currentEraCall::abi_encode_returns(
				&IPinningIncentives::currentEraReturn { era: 1, startBlock: ERA_LENGTH }
			))
		);
	});
}

#[test]
fn pallet_errors_revert_with_the_function_and_error_names() {
	new_test_ext().execute_with(|| {
		setup();
		register_model("other", &cid(2), SIZE);
		pallet_model_registry::Pallet::<Test>::do_deprecate(OWNER, 2).unwrap();
		exec(&BOB, report_call(&cid(1), SIZE)).outcome.output();
		let cases: Vec<(AccountId, Vec<u8>, &str)> = alloc::vec![
			(
				OWNER,
				report_call(&cid(1), SIZE).abi_encode(),
				"Pinning.reportPinning: NotRegistered",
			),
			(
				ALICE,
				report_call(&cid(1), SIZE + 1).abi_encode(),
				"Pinning.reportPinning: SizeMismatch",
			),
			(ALICE, report_call(&cid(1), 0).abi_encode(), "Pinning.reportPinning: EmptyFile"),
			(
				ALICE,
				report_call(&cid(9), SIZE).abi_encode(),
				"Pinning.reportPinning: ModelNotRegistered",
			),
			(
				ALICE,
				report_call(&cid(2), SIZE).abi_encode(),
				"Pinning.reportPinning: ModelInactive",
			),
			(ALICE, report_call("bafy", SIZE).abi_encode(), "Pinning.reportPinning: InvalidCid"),
			(BOB, report_call(&cid(1), SIZE).abi_encode(), "Pinning.reportPinning: AlreadyPinned"),
			(
				ALICE,
				IPinningIncentives::removePinningCall { cid: cid(1) }.abi_encode(),
				"Pinning.removePinning: NotPinned",
			),
		];
		for (who, data, reason) in cases {
			assert_eq!(
				testing::call::<Test>(&who, PRECOMPILE, U256::zero(), data),
				reverted(reason)
			);
		}
		assert_eq!(Pinning::pinners_of(binary(&cid(1))), alloc::vec![BOB]);
		assert!(Pins::<Test>::get(&ALICE, binary(&cid(1))).is_none());
	});
}

#[test]
fn value_sent_to_any_function_reverts_and_changes_nothing() {
	new_test_ext().execute_with(|| {
		setup();
		let before = Balances::free_balance(&ALICE);
		for (function, data) in every_call() {
			assert_eq!(
				testing::call::<Test>(&ALICE, PRECOMPILE, U256::from(1_000u32), data),
				reverted(&format!("Pinning.{function}: function is not payable"))
			);
		}
		assert_eq!(Balances::free_balance(&ALICE), before);
		assert!(Pins::<Test>::get(&ALICE, binary(&cid(1))).is_none());
	});
}

#[test]
fn malformed_calldata_reverts_with_the_reason() {
	new_test_ext().execute_with(|| {
		setup();
		let report = report_call(&cid(1), SIZE).abi_encode();
		let not_strict = "IPinningIncentives: calldata for reportPinning(string,uint64) is \
		                  not strictly ABI-encoded (short, padded wrongly or followed by extra \
		                  bytes)";
		let cases: Vec<(Vec<u8>, &str)> = alloc::vec![
			(Vec::new(), "IPinningIncentives: calldata has no 4-byte function selector"),
			(
				alloc::vec![0xde, 0xad, 0xbe, 0xef],
				"IPinningIncentives: unknown function selector 0xdeadbeef"
			),
			([&report[..], &[0]].concat(), not_strict),
			(report[..report.len() - 1].to_vec(), not_strict),
			(
				[&IPinningIncentives::currentEraCall {}.abi_encode()[..], &[0]].concat(),
				"IPinningIncentives: calldata for currentEra() is not strictly ABI-encoded \
				 (short, padded wrongly or followed by extra bytes)",
			),
		];
		for (data, reason) in cases {
			assert_eq!(
				testing::call::<Test>(&ALICE, PRECOMPILE, U256::zero(), data),
				reverted(reason)
			);
		}
		assert!(Pins::<Test>::get(&ALICE, binary(&cid(1))).is_none());
	});
}

#[test]
fn writes_revert_in_a_static_call_and_views_answer() {
	new_test_ext().execute_with(|| {
		setup();
		let forwarder =
			deploy_forwarder::<Test>(&ALICE, CallKind::StaticCall, PRECOMPILE, U256::zero());
		for (function, data) in every_call() {
			let called = testing::call::<Test>(&ALICE, forwarder, U256::zero(), data.clone());
			if WRITES.contains(&function) {
				assert_eq!(
					called,
					reverted(&format!("Pinning.{function}: cannot change state in a static call"))
				);
			} else {
				let direct = testing::call::<Test>(&ALICE, PRECOMPILE, U256::zero(), data);
				assert_eq!(called.outcome, direct.outcome, "{function}");
				assert!(matches!(called.outcome, Outcome::Success(_)), "{function}");
			}
		}
		assert!(Pins::<Test>::get(&ALICE, binary(&cid(1))).is_none());
	});
}

#[test]
fn writes_revert_through_delegatecall_and_views_answer() {
	new_test_ext().execute_with(|| {
		setup();
		let forwarder =
			deploy_forwarder::<Test>(&ALICE, CallKind::DelegateCall, PRECOMPILE, U256::zero());
		for (function, data) in every_call() {
			let called = testing::call::<Test>(&ALICE, forwarder, U256::zero(), data.clone());
			if WRITES.contains(&function) {
				assert_eq!(
					called,
					reverted(&format!("Pinning.{function}: cannot be called through delegatecall"))
				);
			} else {
				let direct = testing::call::<Test>(&ALICE, PRECOMPILE, U256::zero(), data);
				assert_eq!(called.outcome, direct.outcome, "{function}");
				assert!(matches!(called.outcome, Outcome::Success(_)), "{function}");
			}
		}
		assert!(Pins::<Test>::get(&ALICE, binary(&cid(1))).is_none());
	});
}

#[test]
fn a_contract_pins_as_itself_so_must_be_a_registered_pinner() {
	new_test_ext().execute_with(|| {
		setup();
		let forwarder = deploy_forwarder::<Test>(&ALICE, CallKind::Call, PRECOMPILE, U256::zero());
		let report = report_call(&cid(1), SIZE).abi_encode();
		// ALICE is a pinner; the contract she calls through is not.
		assert_eq!(
			testing::call::<Test>(&ALICE, forwarder, U256::zero(), report.clone()),
			reverted("Pinning.reportPinning: NotRegistered")
		);
		let contract =
			<Test as polkadot_sdk::pallet_revive::Config>::AddressMapper::to_account_id(&forwarder);
		Balances::force_set_balance(RuntimeOrigin::root(), contract.clone(), 1_000_000).unwrap();
		register_pinner(&contract, 3);
		assert_eq!(
			testing::call::<Test>(&ALICE, forwarder, U256::zero(), report),
			success(alloc::vec![log(IPinningIncentives::PinReported {
				pinner: forwarder.0.into(),
				cid: cid(1),
				size: SIZE,
				sinceEra: 1,
			})])
		);
		assert_eq!(Pinning::pinners_of(binary(&cid(1))), alloc::vec![contract]);
	});
}
