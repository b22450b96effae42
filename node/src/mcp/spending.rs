//! The spending caps that keep an agent from draining the signer's account: at most
//! `per_call` for one call and `per_session` over an MCP session. A call reserves its most
//! before it is sent (the chain is told the same most, so it can never charge more) and gives
//! back what it did not spend, so calls in flight together cannot pass the session's cap.

use super::cards::{amount, ctr};
use citrate_runtime::Balance;
use serde_json::{json, Value};
use std::sync::Mutex;

pub struct Budget {
	per_call: Balance,
	per_session: Balance,
	/// Spent and reserved.
	committed: Mutex<Balance>,
}

impl Budget {
	pub fn new(per_call: Balance, per_session: Balance) -> Self {
		Budget { per_call, per_session, committed: Mutex::new(0) }
	}

	fn committed(&self) -> std::sync::MutexGuard<'_, Balance> {
		self.committed.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}

	/// Reserves up to `wanted` (the caller's own most, if it gave one) for a call that costs
	/// `fee` now; returns the amount reserved, which is the most the call may be charged. An
	/// error says which cap the fee is above.
	pub fn reserve(&self, fee: Balance, wanted: Option<Balance>) -> Result<Balance, String> {
		let mut committed = self.committed();
		let session_left = self.per_session.saturating_sub(*committed);
		let (limit, which) = [
			(self.per_call, "the per-call cap (--max-fee-per-call)"),
			(session_left, "what the session's cap (--max-spend) has left"),
		]
		.into_iter()
		.chain(wanted.map(|w| (w, "the max_fee given")))
		.min_by_key(|(limit, _)| *limit)
		.unwrap_or((0, ""));
		if fee > limit {
			return Err(format!(
				"the fee of {} CTR is above {which}, {} CTR",
				ctr(fee),
				ctr(limit)
			));
		}
		*committed += limit;
		Ok(limit)
	}

	/// Settles a reservation of `reserved` of which `spent` was charged.
	pub fn settle(&self, reserved: Balance, spent: Balance) {
		let mut committed = self.committed();
		*committed = committed.saturating_sub(reserved.saturating_sub(spent));
	}

	/// The caps and what is spent, for agents to plan with.
	pub fn summary(&self) -> Value {
		let committed = *self.committed();
		json!({
			"per_call": amount(self.per_call),
			"per_session": amount(self.per_session),
			"spent_or_reserved": amount(committed),
			"left": amount(self.per_session.saturating_sub(committed)),
		})
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn calls_stay_within_both_caps_and_unspent_reservations_come_back() {
		let budget = Budget::new(10, 25);
		assert_eq!(budget.reserve(11, None).unwrap_err(), "the fee of 0.000000000000000011 CTR is above the per-call cap (--max-fee-per-call), 0.00000000000000001 CTR");
		assert_eq!(budget.reserve(4, Some(6)), Ok(6));
		assert_eq!(budget.reserve(4, None), Ok(10));
		// 16 reserved: 9 left for the session.
		assert_eq!(budget.reserve(10, None).unwrap_err(), "the fee of 0.00000000000000001 CTR is above what the session's cap (--max-spend) has left, 0.000000000000000009 CTR");
		budget.settle(6, 4);
		budget.settle(10, 4);
		assert_eq!(budget.summary()["spent_or_reserved"]["plancks"], "8");
		assert_eq!(budget.reserve(3, Some(2)).unwrap_err(), "the fee of 0.000000000000000003 CTR is above the max_fee given, 0.000000000000000002 CTR");
	}
}
