//! Tests of the precompile: calls through pallet-revive's `bare_call` on the mock runtime,
//! from accounts and from contracts in plain, static and delegate calls, with the value a
//! purchase carries split between the owner and the treasury.

use crate::{
	mock::{ModelAccess, *},
	*,
};
use citrate_precompile_utils::{
	address_of,
	testing::{self, deploy_forwarder, CallKind, Called, Log, Outcome},
};
use pallet_model_access::{AccessTier, HoldReason};
use pallet_model_registry::LicenseKind;
use polkadot_sdk::{
	frame_support::traits::fungible::InspectHold,
	pallet_revive::{precompiles::alloy::primitives::IntoLogData, AddressMapper, U256},
};

const PRECOMPILE: [u8; 20] = fixed_address();
const PRICE: u128 = 1_000;
const DURATION: u64 = 100;
const USES: u32 = 5;

#[test]
fn the_address_matches_the_interface_file() {
	let sol = include_str!("../IModelAccess.sol");
	let hex: alloc::string::String =
		crate::fixed_address().iter().map(|b| alloc::format!("{b:02x}")).collect();
	assert!(sol.contains(&alloc::format!("0x{hex}")), "address {hex} in the .sol file");
}

fn wei(amount: u128) -> U256 {
	U256::from(amount)
}

/// Calls the precompile from `who` with `value` wei.
fn exec_with(who: &AccountId, value: u128, call: impl SolCall) -> Called {
	testing::call::<Test>(who, PRECOMPILE, wei(value), call.abi_encode())
}

fn exec(who: &AccountId, call: impl SolCall) -> Called {
	exec_with(who, 0, call)
}

fn log(event: impl IntoLogData) -> Log {
	Log::new(PRECOMPILE, event)
}

/// A call that reverted with `reason`, leaving no logs.
fn reverted(reason: &str) -> Called {
	Called { outcome: Outcome::revert(reason), logs: Vec::new() }
}

fn success() -> Called {
	Called { outcome: Outcome::Success(Vec::new()), logs: Vec::new() }
}

fn set_tier_call(tier_id: u32, price: u128) -> IModelAccess::setTierCall {
	IModelAccess::setTierCall {
		modelId: 1,
		tierId: tier_id,
		price: to_abi_u256(price),
		duration: DURATION,
		maxUses: USES,
	}
}

fn purchase_call(tier_id: u32) -> IModelAccess::purchaseAccessCall {
	IModelAccess::purchaseAccessCall { modelId: 1, tierId: tier_id }
}

/// Model 1, commercial, owned by OWNER, with tier 0 for sale at `PRICE`.
fn model_with_tier() {
	assert_eq!(register_model(&OWNER, "llm", 1, LicenseKind::Commercial), 1);
	assert_eq!(exec(&OWNER, set_tier_call(0, PRICE)).outcome, Outcome::Success(Vec::new()));
}

fn free(who: &AccountId) -> Balance {
	Balances::free_balance(who)
}

fn tier_deposit(who: &AccountId) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::ModelAccess(HoldReason::TierDeposit), who)
}

fn has_access(user: &AccountId, model_id: u64) -> bool {
	let call = IModelAccess::hasAccessCall { user: address_of::<Test>(user), modelId: model_id };
	let output = exec(&OTHER, call).outcome.output();
	IModelAccess::hasAccessCall::abi_decode_returns(&output).unwrap()
}

fn access_of(user: &AccountId) -> Vec<u8> {
	let call = IModelAccess::accessOfCall { user: address_of::<Test>(user), modelId: 1 };
	exec(&OTHER, call).outcome.output()
}

fn get_tier(tier_id: u32) -> Vec<u8> {
	exec(&OTHER, IModelAccess::getTierCall { modelId: 1, tierId: tier_id }).outcome.output()
}

/// One call of every function, valid for model 1 and tier 0.
fn every_call() -> Vec<(&'static str, Vec<u8>)> {
	let user = address_of::<Test>(&BUYER);
	alloc::vec![
		("setTier", set_tier_call(1, PRICE).abi_encode()),
		("retireTier", IModelAccess::retireTierCall { modelId: 1, tierId: 0 }.abi_encode()),
		("purchaseAccess", purchase_call(0).abi_encode()),
		("hasAccess", IModelAccess::hasAccessCall { user, modelId: 1 }.abi_encode()),
		("accessOf", IModelAccess::accessOfCall { user, modelId: 1 }.abi_encode()),
		("getTier", IModelAccess::getTierCall { modelId: 1, tierId: 0 }.abi_encode()),
	]
}

const WRITES: [&str; 3] = ["setTier", "retireTier", "purchaseAccess"];

#[test]
fn set_tier_creates_the_tier_holds_its_deposit_and_logs() {
	new_test_ext().execute_with(|| {
		register_model(&OWNER, "llm", 1, LicenseKind::Commercial);
		assert_eq!(
			exec(&OWNER, set_tier_call(0, PRICE)),
			Called {
				logs: alloc::vec![log(IModelAccess::TierSet {
					modelId: 1,
					tierId: 0,
					price: to_abi_u256(PRICE),
					duration: DURATION,
					maxUses: USES,
				})],
				..success()
			}
		);
		assert_eq!(
			ModelAccess::tier(1, 0),
			Some(AccessTier {
				price: PRICE,
				duration: DURATION,
				max_uses: USES,
				depositor: OWNER,
				deposit: TIER_DEPOSIT,
			})
		);
		assert_eq!(tier_deposit(&OWNER), TIER_DEPOSIT);
		let terms = IModelAccess::getTierReturn {
			exists: true,
			price: to_abi_u256(PRICE),
			duration: DURATION,
			maxUses: USES,
		};
		assert_eq!(get_tier(0), IModelAccess::getTierCall::abi_encode_returns(&terms));

		// New terms keep the deposit.
		let called = exec(&OWNER, set_tier_call(0, 2 * PRICE));
		assert_eq!(called.outcome, Outcome::Success(Vec::new()));
		assert_eq!(ModelAccess::tier(1, 0).unwrap().price, 2 * PRICE);
		assert_eq!(tier_deposit(&OWNER), TIER_DEPOSIT);
	});
}

#[test]
fn retire_tier_ends_the_sale_releases_the_deposit_and_logs() {
	new_test_ext().execute_with(|| {
		model_with_tier();
		assert_eq!(
			exec(&OWNER, IModelAccess::retireTierCall { modelId: 1, tierId: 0 }),
			Called {
				logs: alloc::vec![log(IModelAccess::TierRetired { modelId: 1, tierId: 0 })],
				..success()
			}
		);
		assert_eq!(ModelAccess::tier(1, 0), None);
		assert_eq!(tier_deposit(&OWNER), 0);
		let none = IModelAccess::getTierReturn {
			exists: false,
			price: Default::default(),
			duration: 0,
			maxUses: 0,
		};
		assert_eq!(get_tier(0), IModelAccess::getTierCall::abi_encode_returns(&none));
	});
}

#[test]
fn purchase_access_pays_ninety_percent_to_the_owner_and_ten_to_the_treasury() {
	new_test_ext().execute_with(|| {
		model_with_tier();
		let treasury = ModelAccess::treasury_account();
		let before = (free(&BUYER), free(&OWNER), free(&treasury), free(&precompile_account()));
		assert_eq!(before.3, EXISTENTIAL_DEPOSIT);

		let called = exec_with(&BUYER, PRICE, purchase_call(0));
		assert_eq!(
			called,
			Called {
				logs: alloc::vec![log(IModelAccess::AccessPurchased {
					modelId: 1,
					buyer: address_of::<Test>(&BUYER),
					tierId: 0,
					ownerShare: to_abi_u256(900),
					treasuryShare: to_abi_u256(100),
					expiresAt: 1 + DURATION,
				})],
				..success()
			}
		);
		assert_eq!(
			(free(&BUYER), free(&OWNER), free(&treasury), free(&precompile_account())),
			(before.0 - PRICE, before.1 + 900, before.2 + 100, EXISTENTIAL_DEPOSIT)
		);
		assert_eq!(
			ModelAccess::access_of(BUYER, 1),
			Some(AccessGrant {
				tier_id: 0,
				expires_at: 1 + DURATION,
				uses_left: Uses::Limited(USES)
			})
		);
		assert_eq!(pallet_model_registry::Pallet::<Test>::model(1).unwrap().total_rewards, 900);
		assert!(has_access(&BUYER, 1));
		let access = IModelAccess::Access {
			exists: true,
			tierId: 0,
			expiresAt: 1 + DURATION,
			unlimitedUses: false,
			usesLeft: USES,
		};
		assert_eq!(access_of(&BUYER), IModelAccess::accessOfCall::abi_encode_returns(&access));

		// Buying again extends the access.
		let called = exec_with(&BUYER, PRICE, purchase_call(0));
		assert_eq!(called.outcome, Outcome::Success(Vec::new()));
		assert_eq!(
			ModelAccess::access_of(BUYER, 1),
			Some(AccessGrant {
				tier_id: 0,
				expires_at: 1 + 2 * DURATION,
				uses_left: Uses::Limited(2 * USES),
			})
		);
		assert_eq!(free(&BUYER), before.0 - 2 * PRICE);
	});
}

#[test]
fn unlimited_tiers_show_as_unlimited() {
	new_test_ext().execute_with(|| {
		register_model(&OWNER, "llm", 1, LicenseKind::Commercial);
		let tier = IModelAccess::setTierCall { maxUses: 0, ..set_tier_call(0, PRICE) };
		assert_eq!(exec(&OWNER, tier).outcome, Outcome::Success(Vec::new()));
		assert_eq!(
			exec_with(&BUYER, PRICE, purchase_call(0)).outcome,
			Outcome::Success(Vec::new())
		);
		let access = IModelAccess::Access {
			exists: true,
			tierId: 0,
			expiresAt: 1 + DURATION,
			unlimitedUses: true,
			usesLeft: 0,
		};
		assert_eq!(access_of(&BUYER), IModelAccess::accessOfCall::abi_encode_returns(&access));
	});
}

#[test]
fn has_access_and_access_of_answer_without_a_purchase() {
	new_test_ext().execute_with(|| {
		model_with_tier();
		assert!(!has_access(&BUYER, 1));
		assert!(has_access(&OWNER, 1));
		let none = IModelAccess::Access {
			exists: false,
			tierId: 0,
			expiresAt: 0,
			unlimitedUses: false,
			usesLeft: 0,
		};
		assert_eq!(access_of(&BUYER), IModelAccess::accessOfCall::abi_encode_returns(&none));
		// An open-source model without tiers is free for everyone; unknown models for no one.
		assert_eq!(register_model(&OWNER, "free", 2, LicenseKind::OpenSource), 2);
		assert!(has_access(&BUYER, 2));
		assert!(!has_access(&BUYER, 9));
	});
}

#[test]
fn a_payment_other_than_the_price_reverts_and_moves_nothing() {
	new_test_ext().execute_with(|| {
		model_with_tier();
		let before = (free(&BUYER), free(&OWNER), free(&precompile_account()));
		for value in [0, PRICE - 1, PRICE + 1, 10 * PRICE] {
			assert_eq!(
				exec_with(&BUYER, value, purchase_call(0)),
				reverted("ModelAccess.purchaseAccess: PaymentNotPrice"),
				"value {value}"
			);
		}
		assert_eq!((free(&BUYER), free(&OWNER), free(&precompile_account())), before);
		assert_eq!(ModelAccess::access_of(BUYER, 1), None);
	});
}

#[test]
fn pallet_errors_revert_with_the_function_and_error_names() {
	new_test_ext().execute_with(|| {
		model_with_tier();
		let cases: Vec<(AccountId, u128, Vec<u8>, &str)> = alloc::vec![
			(BUYER, 0, set_tier_call(1, PRICE).abi_encode(), "ModelAccess.setTier: NotModelOwner"),
			(OWNER, 0, set_tier_call(1, 0).abi_encode(), "ModelAccess.setTier: ZeroPrice"),
			(
				OWNER,
				0,
				set_tier_call(MAX_TIERS, PRICE).abi_encode(),
				"ModelAccess.setTier: TierIdOutOfRange",
			),
			(
				OWNER,
				0,
				IModelAccess::setTierCall { duration: 0, ..set_tier_call(1, PRICE) }.abi_encode(),
				"ModelAccess.setTier: ZeroDuration",
			),
			(
				OWNER,
				0,
				IModelAccess::setTierCall { modelId: 9, ..set_tier_call(1, PRICE) }.abi_encode(),
				"ModelAccess.setTier: ModelNotFound",
			),
			(
				OWNER,
				0,
				IModelAccess::retireTierCall { modelId: 1, tierId: 2 }.abi_encode(),
				"ModelAccess.retireTier: TierNotFound",
			),
			(
				BUYER,
				0,
				IModelAccess::retireTierCall { modelId: 1, tierId: 0 }.abi_encode(),
				"ModelAccess.retireTier: NotModelOwner",
			),
			(
				BUYER,
				PRICE,
				purchase_call(2).abi_encode(),
				"ModelAccess.purchaseAccess: TierNotFound",
			),
			(
				BUYER,
				PRICE,
				IModelAccess::purchaseAccessCall { modelId: 9, tierId: 0 }.abi_encode(),
				"ModelAccess.purchaseAccess: ModelNotFound",
			),
			(
				OWNER,
				PRICE,
				purchase_call(0).abi_encode(),
				"ModelAccess.purchaseAccess: OwnerHasAccess"
			),
		];
		let before = (free(&BUYER), free(&OWNER), ModelAccess::tier(1, 0));
		for (who, value, data, reason) in cases {
			assert_eq!(testing::call::<Test>(&who, PRECOMPILE, wei(value), data), reverted(reason));
		}
		assert_eq!((free(&BUYER), free(&OWNER), ModelAccess::tier(1, 0)), before);
		assert_eq!(ModelAccess::tier(1, 1), None);

		// Deprecated models are not sold.
		pallet_model_registry::Pallet::<Test>::do_deprecate(OWNER, 1).unwrap();
		assert_eq!(
			exec_with(&BUYER, PRICE, purchase_call(0)),
			reverted("ModelAccess.purchaseAccess: ModelNotActive")
		);
	});
}

#[test]
fn a_price_beyond_the_balance_type_reverts() {
	new_test_ext().execute_with(|| {
		register_model(&OWNER, "llm", 1, LicenseKind::Commercial);
		let call = IModelAccess::setTierCall {
			price: to_abi_u256(u128::MAX) + to_abi_u256(1),
			..set_tier_call(0, PRICE)
		};
		assert_eq!(
			exec(&OWNER, call),
			reverted("ModelAccess.setTier: price does not fit a balance")
		);
		assert_eq!(ModelAccess::tier(1, 0), None);
	});
}

#[test]
fn value_sent_to_a_non_payable_function_reverts_and_changes_nothing() {
	new_test_ext().execute_with(|| {
		model_with_tier();
		let before = (free(&OWNER), ModelAccess::tier(1, 0), free(&precompile_account()));
		for (function, data) in every_call() {
			if function == "purchaseAccess" {
				continue;
			}
			assert_eq!(
				testing::call::<Test>(&OWNER, PRECOMPILE, wei(PRICE), data),
				reverted(&format!("ModelAccess.{function}: function is not payable"))
			);
		}
		assert_eq!((free(&OWNER), ModelAccess::tier(1, 0), free(&precompile_account())), before);
		assert_eq!(ModelAccess::tier(1, 1), None);
	});
}

#[test]
fn malformed_calldata_reverts_with_the_reason() {
	new_test_ext().execute_with(|| {
		model_with_tier();
		let retire = IModelAccess::retireTierCall { modelId: 1, tierId: 0 }.abi_encode();
		let not_strict = "IModelAccess: calldata for retireTier(uint64,uint32) is not \
		                  strictly ABI-encoded (short, padded wrongly or followed by extra bytes)";
		let cases: Vec<(Vec<u8>, &str)> = alloc::vec![
			(alloc::vec![0x01], "IModelAccess: calldata has no 4-byte function selector"),
			(
				alloc::vec![0xde, 0xad, 0xbe, 0xef, 0, 0],
				"IModelAccess: unknown function selector 0xdeadbeef"
			),
			([&retire[..], &[0]].concat(), not_strict),
			(retire[..retire.len() - 1].to_vec(), not_strict),
		];
		for (data, reason) in cases {
			assert_eq!(
				testing::call::<Test>(&OWNER, PRECOMPILE, U256::zero(), data),
				reverted(reason)
			);
		}
		assert!(ModelAccess::tier(1, 0).is_some());
	});
}

#[test]
fn writes_revert_in_a_static_call_and_views_answer() {
	new_test_ext().execute_with(|| {
		model_with_tier();
		let forwarder =
			deploy_forwarder::<Test>(&BUYER, CallKind::StaticCall, PRECOMPILE, U256::zero());
		for (function, data) in every_call() {
			let called = testing::call::<Test>(&BUYER, forwarder, U256::zero(), data.clone());
			if WRITES.contains(&function) {
				assert_eq!(
					called,
					reverted(&format!(
						"ModelAccess.{function}: cannot change state in a static call"
					))
				);
			} else {
				let direct = testing::call::<Test>(&BUYER, PRECOMPILE, U256::zero(), data);
				assert_eq!(called.outcome, direct.outcome, "{function}");
				assert!(matches!(called.outcome, Outcome::Success(_)), "{function}");
			}
		}
		assert!(ModelAccess::tier(1, 0).is_some());
		assert_eq!(ModelAccess::tier(1, 1), None);
	});
}

#[test]
fn writes_revert_through_delegatecall_even_with_the_price_sent() {
	new_test_ext().execute_with(|| {
		model_with_tier();
		let forwarder =
			deploy_forwarder::<Test>(&BUYER, CallKind::DelegateCall, PRECOMPILE, U256::zero());
		let before = (free(&BUYER), free(&OWNER));
		for (function, data) in every_call() {
			let value = if function == "purchaseAccess" { PRICE } else { 0 };
			let called = testing::call::<Test>(&BUYER, forwarder, wei(value), data.clone());
			if WRITES.contains(&function) {
				assert_eq!(
					called,
					reverted(&format!(
						"ModelAccess.{function}: cannot be called through delegatecall"
					))
				);
			} else {
				let direct = testing::call::<Test>(&BUYER, PRECOMPILE, U256::zero(), data);
				assert_eq!(called.outcome, direct.outcome, "{function}");
				assert!(matches!(called.outcome, Outcome::Success(_)), "{function}");
			}
		}
		assert_eq!((free(&BUYER), free(&OWNER)), before);
		assert_eq!(ModelAccess::access_of(BUYER, 1), None);
		assert!(ModelAccess::tier(1, 0).is_some());
	});
}

#[test]
fn a_contract_buys_access_for_itself_with_the_value_it_forwards() {
	new_test_ext().execute_with(|| {
		model_with_tier();
		let forwarder = deploy_forwarder::<Test>(&BUYER, CallKind::Call, PRECOMPILE, U256::zero());
		let contract =
			<Test as polkadot_sdk::pallet_revive::Config>::AddressMapper::to_account_id(&forwarder);
		let treasury = ModelAccess::treasury_account();
		let before = (free(&BUYER), free(&OWNER), free(&treasury));
		let called =
			testing::call::<Test>(&BUYER, forwarder, wei(PRICE), purchase_call(0).abi_encode());
		assert_eq!(
			called,
			Called {
				logs: alloc::vec![log(IModelAccess::AccessPurchased {
					modelId: 1,
					buyer: forwarder.0.into(),
					tierId: 0,
					ownerShare: to_abi_u256(900),
					treasuryShare: to_abi_u256(100),
					expiresAt: 1 + DURATION,
				})],
				..success()
			}
		);
		assert_eq!(
			(free(&BUYER), free(&OWNER), free(&treasury)),
			(before.0 - PRICE, before.1 + 900, before.2 + 100)
		);
		assert!(ModelAccess::access_of(contract, 1).is_some());
		assert_eq!(ModelAccess::access_of(BUYER, 1), None);
	});
}
