//! Inference pallet tests: providers (registration, models served, pausing, leaving, the
//! registry's removal hook).

use crate::{mock::*, *};
use polkadot_sdk::{
	frame_support::{assert_noop, assert_ok, traits::fungible::InspectHold},
	sp_runtime::{testing::UintAuthorityId, DispatchError, TokenError},
};

fn key(n: u64) -> UintAuthorityId {
	UintAuthorityId(n)
}

fn register(who: AccountId) {
	assert_ok!(Inference::register_provider(
		RuntimeOrigin::signed(who),
		MIN_BOND,
		key(who),
		HardwareClass::Cpu,
		100
	));
}

fn bond_held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::ProviderBond.into(), &who)
}

fn last_event() -> RuntimeEvent {
	frame_system::Pallet::<Test>::events().pop().expect("an event").event
}

mod callbacks;
mod ipfs;
mod optimistic;
mod providers;
mod quorum;
mod requests;
mod results;
mod worker;
