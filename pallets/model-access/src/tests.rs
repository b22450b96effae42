use crate::{mock::*, *};
use polkadot_sdk::{
	frame_support::{
		assert_noop, assert_ok,
		traits::fungible::{Inspect as _, InspectHold},
	},
	frame_system,
};

/// An account that can hold nothing beyond its existential deposit and a little.
const BROKE: AccountId = 5;

fn model(owner: AccountId, license: LicenseKind) -> ModelId {
	let next = pallet_model_registry::NextModelId::<Test>::get();
	register_model(owner, &format!("model-{next}"), next as u8, license)
}

fn commercial_model() -> ModelId {
	model(OWNER, LicenseKind::Commercial)
}

fn set_tier(model_id: ModelId, tier: TierId, price: Balance, duration: u64, max_uses: u32) {
	assert_ok!(ModelAccess::set_tier(
		RuntimeOrigin::signed(OWNER),
		model_id,
		tier,
		price,
		duration,
		max_uses
	));
}

fn buy(who: AccountId, model_id: ModelId, tier: TierId) -> DispatchResult {
	ModelAccess::purchase_access(RuntimeOrigin::signed(who), model_id, tier, Balance::MAX)
}

fn treasury() -> AccountId {
	ModelAccess::treasury_account()
}

fn tier_held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::TierDeposit.into(), &who)
}

fn go_to(block: u64) {
	System::set_block_number(block);
}

fn last_event() -> RuntimeEvent {
	frame_system::Pallet::<Test>::events().pop().expect("an event").event
}

#[test]
fn genesis_creates_the_treasury_account() {
	new_test_ext().execute_with(|| {
		assert_eq!(Balances::balance(&treasury()), EXISTENTIAL_DEPOSIT);
	});
}

#[test]
fn set_tier_creates_then_updates_and_holds_one_deposit() {
	new_test_ext().execute_with(|| {
		let id = commercial_model();
		set_tier(id, 0, 1_000, 100, 5);
		assert_eq!(tier_held(OWNER), TIER_DEPOSIT);
		assert_eq!(TierCount::<Test>::get(id), 1);
		assert_eq!(
			last_event(),
			Event::TierSet { model_id: id, tier_id: 0, price: 1_000, duration: 100, max_uses: 5 }
				.into()
		);

		set_tier(id, 0, 2_000, 50, 0);
		let tier = Tiers::<Test>::get(id, 0).unwrap();
		assert_eq!((tier.price, tier.duration, tier.max_uses), (2_000, 50, 0));
		assert_eq!(tier_held(OWNER), TIER_DEPOSIT, "an update holds nothing more");
		assert_eq!(TierCount::<Test>::get(id), 1);

		set_tier(id, MAX_TIERS - 1, 10, 1, 1);
		assert_eq!(tier_held(OWNER), 2 * TIER_DEPOSIT);
		assert_eq!(TierCount::<Test>::get(id), 2);
	});
}

#[test]
fn set_tier_error_paths() {
	new_test_ext().execute_with(|| {
		let id = commercial_model();
		let call = |who, model_id, tier, duration| {
			ModelAccess::set_tier(RuntimeOrigin::signed(who), model_id, tier, 10, duration, 0)
		};
		assert_noop!(call(OWNER, 99, 0, 10), Error::<Test>::ModelNotFound);
		assert_noop!(call(BUYER, id, 0, 10), Error::<Test>::NotModelOwner);
		assert_noop!(call(OWNER, id, MAX_TIERS, 10), Error::<Test>::TierIdOutOfRange);
		assert_noop!(call(OWNER, id, 0, 0), Error::<Test>::ZeroDuration);
		// Every purchase would expire past the largest block number.
		go_to(10);
		assert_noop!(call(OWNER, id, 0, u64::MAX - 9), Error::<Test>::DurationTooLong);
		assert_noop!(
			ModelAccess::set_tier(RuntimeOrigin::signed(OWNER), id, 0, 0, 10, 0),
			Error::<Test>::ZeroPrice
		);

		let _ = Balances::mint_into(&BROKE, EXISTENTIAL_DEPOSIT + TIER_DEPOSIT - 1);
		let broke_model = model(BROKE, LicenseKind::Commercial);
		assert_noop!(call(BROKE, broke_model, 0, 10), Error::<Test>::InsufficientDeposit);

		assert_ok!(ModelRegistry::deprecate(RuntimeOrigin::signed(OWNER), id));
		assert_noop!(call(OWNER, id, 0, 10), Error::<Test>::ModelNotActive);
		assert_eq!(tier_held(OWNER), 0);
		assert_eq!(TierCount::<Test>::get(id), 0);
	});
}

#[test]
fn purchase_splits_ninety_ten_exactly_and_records_the_reward() {
	new_test_ext().execute_with(|| {
		let id = commercial_model();
		set_tier(id, 0, 1_000, 100, 0);
		let owner_before = Balances::balance(&OWNER);
		assert_ok!(buy(BUYER, id, 0));

		assert_eq!(Balances::balance(&BUYER), INITIAL_BALANCE - 1_000);
		assert_eq!(Balances::balance(&OWNER), owner_before + 900);
		assert_eq!(Balances::balance(&treasury()), EXISTENTIAL_DEPOSIT + 100);
		assert_eq!(pallet_model_registry::Models::<Test>::get(id).unwrap().total_rewards, 900);
		assert_eq!(
			last_event(),
			Event::AccessPurchased {
				model_id: id,
				tier_id: 0,
				buyer: BUYER,
				payer: BUYER,
				owner_share: 900,
				treasury_share: 100,
				expires_at: 101,
				uses_left: Uses::Unlimited,
			}
			.into()
		);
	});
}

#[test]
fn rounding_gives_the_owner_the_floor_and_loses_nothing() {
	new_test_ext().execute_with(|| {
		let id = commercial_model();
		// (price, owner's floor of 90 %, treasury's remainder)
		for (tier, (price, owner, rest)) in
			[(19, 17, 2), (1, 0, 1), (9, 8, 1)].into_iter().enumerate()
		{
			set_tier(id, tier as TierId, price, 10, 0);
			let (o, t, b) = (
				Balances::balance(&OWNER),
				Balances::balance(&treasury()),
				Balances::balance(&BUYER),
			);
			assert_ok!(buy(BUYER, id, tier as TierId));
			assert_eq!(Balances::balance(&OWNER) - o, owner, "owner share of {price}");
			assert_eq!(Balances::balance(&treasury()) - t, rest, "treasury share of {price}");
			assert_eq!(b - Balances::balance(&BUYER), price);
			assert_eq!(ModelAccess::split(price), (owner, rest));
		}
		// Large prices split exactly too.
		let price = Balance::MAX / 3;
		let (owner, rest) = ModelAccess::split(price);
		assert_eq!(owner + rest, price);
		assert_eq!(owner, Perbill::from_percent(90).mul_floor(price));
	});
}

#[test]
fn access_expires_at_its_expiry_block() {
	new_test_ext().execute_with(|| {
		let id = commercial_model();
		set_tier(id, 0, 100, 10, 0);
		assert!(!ModelAccess::has_access(&BUYER, id));
		assert_ok!(buy(BUYER, id, 0));
		assert_eq!(ModelAccess::access_of(BUYER, id).unwrap().expires_at, 11);

		go_to(10);
		assert!(ModelAccess::has_access(&BUYER, id));
		assert_ok!(ModelAccess::consume_use(&BUYER, id));
		go_to(11);
		assert!(!ModelAccess::has_access(&BUYER, id));
		assert_noop!(ModelAccess::consume_use(&BUYER, id), Error::<Test>::NoAccess);
	});
}

#[test]
fn uses_run_out_at_max_uses() {
	new_test_ext().execute_with(|| {
		let id = commercial_model();
		set_tier(id, 0, 100, 1_000, 2);
		assert_ok!(buy(BUYER, id, 0));
		assert_ok!(ModelAccess::consume_use(&BUYER, id));
		assert_eq!(
			last_event(),
			Event::UseConsumed { model_id: id, who: BUYER, uses_left: Uses::Limited(1) }.into()
		);
		assert_ok!(ModelAccess::consume_use(&BUYER, id));
		assert!(!ModelAccess::has_access(&BUYER, id));
		assert_noop!(ModelAccess::consume_use(&BUYER, id), Error::<Test>::NoAccess);
		assert_eq!(pallet_model_registry::Models::<Test>::get(id).unwrap().usage_count, 2);
	});
}

#[test]
fn unlimited_tier_never_runs_out_of_uses() {
	new_test_ext().execute_with(|| {
		let id = commercial_model();
		set_tier(id, 0, 100, 1_000, 0);
		assert_ok!(buy(BUYER, id, 0));
		for _ in 0..50 {
			assert_ok!(ModelAccess::consume_use(&BUYER, id));
		}
		assert_eq!(ModelAccess::access_of(BUYER, id).unwrap().uses_left, Uses::Unlimited);
		assert_eq!(pallet_model_registry::Models::<Test>::get(id).unwrap().usage_count, 50);
	});
}

#[test]
fn buying_again_extends_time_and_adds_uses() {
	new_test_ext().execute_with(|| {
		let id = commercial_model();
		set_tier(id, 0, 100, 10, 3);
		set_tier(id, 1, 500, 20, 0);
		assert_ok!(buy(BUYER, id, 0));
		assert_ok!(ModelAccess::consume_use(&BUYER, id));
		go_to(5);
		// Still valid: time stacks on the expiry (11 + 10), uses add (2 + 3).
		assert_ok!(buy(BUYER, id, 0));
		let grant = ModelAccess::access_of(BUYER, id).unwrap();
		assert_eq!((grant.expires_at, grant.uses_left), (21, Uses::Limited(5)));
		// An unlimited tier makes the grant unlimited.
		assert_ok!(buy(BUYER, id, 1));
		let grant = ModelAccess::access_of(BUYER, id).unwrap();
		assert_eq!((grant.tier_id, grant.expires_at, grant.uses_left), (1, 41, Uses::Unlimited));
		// After the grant lapses, a purchase starts from now with the tier's own uses.
		go_to(100);
		assert_ok!(buy(BUYER, id, 0));
		let grant = ModelAccess::access_of(BUYER, id).unwrap();
		assert_eq!((grant.expires_at, grant.uses_left), (110, Uses::Limited(3)));
	});
}

#[test]
fn a_buyer_without_funds_gets_nothing_and_pays_nothing() {
	new_test_ext().execute_with(|| {
		let id = commercial_model();
		// POOR can spend its balance minus the existential deposit.
		let spendable = POOR_BALANCE - EXISTENTIAL_DEPOSIT;
		set_tier(id, 0, spendable + 1, 10, 0);
		set_tier(id, 1, spendable, 10, 0);
		let owner_before = Balances::balance(&OWNER);
		assert_noop!(buy(POOR, id, 0), Error::<Test>::InsufficientBalance);
		assert!(ModelAccess::access_of(POOR, id).is_none());
		assert_eq!(Balances::balance(&POOR), POOR_BALANCE);
		assert_eq!(Balances::balance(&OWNER), owner_before);

		assert_ok!(buy(POOR, id, 1));
		assert_eq!(Balances::balance(&POOR), EXISTENTIAL_DEPOSIT);
		assert!(ModelAccess::has_access(&POOR, id));
	});
}

#[test]
fn purchase_error_paths_change_nothing() {
	new_test_ext().execute_with(|| {
		let id = commercial_model();
		set_tier(id, 0, 100, 10, 0);
		assert_noop!(buy(BUYER, 99, 0), Error::<Test>::ModelNotFound);
		assert_noop!(buy(BUYER, id, 1), Error::<Test>::TierNotFound);
		assert_noop!(buy(OWNER, id, 0), Error::<Test>::OwnerHasAccess);
		assert_noop!(
			ModelAccess::purchase_access(RuntimeOrigin::signed(BUYER), id, 0, 99),
			Error::<Test>::PriceAboveLimit
		);
		assert_ok!(ModelAccess::purchase_access(RuntimeOrigin::signed(BUYER), id, 0, 100));
		assert_ok!(ModelRegistry::deprecate(RuntimeOrigin::signed(OWNER), id));
		assert_noop!(buy(OTHER, id, 0), Error::<Test>::ModelNotActive);
	});
}

#[test]
fn a_retired_tier_cannot_be_bought_but_its_grants_stay_valid() {
	new_test_ext().execute_with(|| {
		let id = commercial_model();
		set_tier(id, 0, 100, 10, 0);
		assert_ok!(buy(BUYER, id, 0));
		assert_ok!(ModelAccess::retire_tier(RuntimeOrigin::signed(OWNER), id, 0));
		assert_eq!(last_event(), Event::TierRetired { model_id: id, tier_id: 0 }.into());
		assert_eq!(tier_held(OWNER), 0);
		assert_eq!(TierCount::<Test>::get(id), 0);

		assert_noop!(buy(OTHER, id, 0), Error::<Test>::TierNotFound);
		assert!(ModelAccess::has_access(&BUYER, id));
		assert_ok!(ModelAccess::consume_use(&BUYER, id));

		assert_noop!(
			ModelAccess::retire_tier(RuntimeOrigin::signed(OWNER), id, 0),
			Error::<Test>::TierNotFound
		);
		set_tier(id, 1, 100, 10, 0);
		assert_noop!(
			ModelAccess::retire_tier(RuntimeOrigin::signed(BUYER), id, 1),
			Error::<Test>::NotModelOwner
		);
		assert_noop!(
			ModelAccess::retire_tier(RuntimeOrigin::signed(OWNER), 99, 1),
			Error::<Test>::ModelNotFound
		);
	});
}

#[test]
fn open_source_models_without_tiers_are_free() {
	new_test_ext().execute_with(|| {
		let open = model(OWNER, LicenseKind::OpenSource);
		let closed = commercial_model();
		assert!(ModelAccess::has_access(&BUYER, open));
		assert_ok!(ModelAccess::consume_use(&BUYER, open));
		assert_eq!(pallet_model_registry::Models::<Test>::get(open).unwrap().usage_count, 1);
		assert!(!ModelAccess::has_access(&BUYER, closed));
		assert_noop!(ModelAccess::consume_use(&BUYER, closed), Error::<Test>::NoAccess);

		// Putting a tier on sale ends free use; retiring it restores it.
		set_tier(open, 0, 100, 10, 0);
		assert!(!ModelAccess::has_access(&BUYER, open));
		assert_ok!(ModelAccess::retire_tier(RuntimeOrigin::signed(OWNER), open, 0));
		assert!(ModelAccess::has_access(&BUYER, open));
	});
}

#[test]
fn the_owner_always_has_access_and_unknown_models_none() {
	new_test_ext().execute_with(|| {
		let id = commercial_model();
		set_tier(id, 0, 100, 10, 1);
		assert!(ModelAccess::has_access(&OWNER, id));
		assert_ok!(ModelAccess::consume_use(&OWNER, id));
		assert_ok!(ModelAccess::consume_use(&OWNER, id));
		assert!(!ModelAccess::has_access(&OWNER, 99));
		assert_noop!(ModelAccess::consume_use(&OWNER, 99), Error::<Test>::ModelNotFound);
	});
}

#[test]
fn expiry_and_use_overflows_are_refused_and_change_nothing() {
	new_test_ext().execute_with(|| {
		let id = commercial_model();
		// The longest duration accepted: one purchase reaches the largest block number, a
		// second would pass it.
		let long = commercial_model();
		set_tier(long, 0, 100, u64::MAX - System::block_number(), 0);
		assert_ok!(buy(BUYER, long, 0));
		assert_noop!(buy(BUYER, long, 0), Error::<Test>::Overflow);

		set_tier(id, 1, 100, 10, u32::MAX);
		assert_ok!(buy(BUYER, id, 1));
		assert_noop!(buy(BUYER, id, 1), Error::<Test>::Overflow);
		assert_eq!(ModelAccess::access_of(BUYER, id).unwrap().uses_left, Uses::Limited(u32::MAX));
	});
}

#[test]
fn removing_a_model_retires_its_tiers_and_releases_their_deposits() {
	new_test_ext().execute_with(|| {
		let id = commercial_model();
		let other = commercial_model();
		set_tier(id, 0, 100, 10, 0);
		set_tier(id, MAX_TIERS - 1, 200, 10, 0);
		set_tier(other, 0, 100, 10, 0);
		assert_ok!(buy(BUYER, id, 0));
		assert_eq!(tier_held(OWNER), 3 * TIER_DEPOSIT);

		assert_ok!(ModelRegistry::deprecate(RuntimeOrigin::signed(OWNER), id));
		assert_ok!(ModelRegistry::remove_model(RuntimeOrigin::signed(OWNER), id));

		assert_eq!(Tiers::<Test>::iter_prefix(id).count(), 0);
		assert_eq!(TierCount::<Test>::get(id), 0);
		assert_eq!(tier_held(OWNER), TIER_DEPOSIT, "only the other model's tier is held");
		let mut retired: Vec<_> = frame_system::Pallet::<Test>::events()
			.into_iter()
			.filter_map(|record| match record.event {
				RuntimeEvent::ModelAccess(Event::TierRetired { model_id, tier_id }) => {
					Some((model_id, tier_id))
				}
				_ => None,
			})
			.collect();
		// Storage order, which follows the key hashes.
		retired.sort();
		assert_eq!(retired, [(id, 0), (id, MAX_TIERS - 1)]);
		// The grant gives nothing once its model is gone, and nothing can be bought.
		assert!(!ModelAccess::has_access(&BUYER, id));
		assert_noop!(buy(BUYER, id, 0), Error::<Test>::ModelNotFound);
		assert_eq!(Tiers::<Test>::iter_prefix(other).count(), 1);
	});
}

#[test]
fn the_removal_hook_declares_its_worst_case() {
	use polkadot_sdk::frame_support::{
		traits::Get,
		weights::{RuntimeDbWeight, Weight},
	};
	let per_tier = <() as WeightInfo>::retire_tier();
	let db: RuntimeDbWeight = <Test as frame_system::Config>::DbWeight::get();
	let db = db.reads_writes(1, 1);
	assert_eq!(
		<ModelAccess as OnModelRemoved>::max_weight(),
		db + per_tier.saturating_mul(u64::from(MAX_TIERS))
	);
	new_test_ext().execute_with(|| {
		let id = commercial_model();
		set_tier(id, 0, 100, 10, 0);
		let used = <ModelAccess as OnModelRemoved>::on_model_removed(id, &[]);
		assert_eq!(used, db + per_tier);
		assert!(used.all_lte(<ModelAccess as OnModelRemoved>::max_weight()));
		assert_eq!(<ModelAccess as OnModelRemoved>::on_model_removed(id, &[]), db + Weight::zero());
	});
}

#[test]
fn a_paid_purchase_must_pay_exactly_the_price_and_reports_the_split() {
	new_test_ext().execute_with(|| {
		let id = commercial_model();
		set_tier(id, 0, 19, 10, 0);
		// What a precompile call carried: more or less than the price is refused.
		for paid in [18, 20] {
			assert_noop!(
				ModelAccess::do_purchase_paid(&BUYER, &BUYER, id, 0, paid),
				Error::<Test>::PaymentNotPrice
			);
		}
		let purchase = ModelAccess::do_purchase_paid(&BUYER, &BUYER, id, 0, 19).unwrap();
		// The owner gets the floor of 90 %, the treasury the rest.
		assert_eq!((purchase.owner_share, purchase.treasury_share), (17, 2));
		assert_eq!(purchase.grant, ModelAccess::access_of(BUYER, id).unwrap());
		assert_eq!(ModelAccess::tier(id, 0).unwrap().price, 19);
		assert!(ModelAccess::may_use(BUYER, id));
		assert_noop!(
			ModelAccess::do_purchase_paid(&BUYER, &BUYER, id, 5, 19),
			Error::<Test>::TierNotFound
		);
	});
}
