//! The provider worker's callback delivery: for each due callback it sends
//! [`Pallet::deliver_callback`](crate::Pallet::deliver_callback), once, and again only if it was
//! not included a few blocks later. Only nodes with a provider key deliver; several providers'
//! nodes sending the same delivery is harmless (the pool keeps one, by its tag).

use crate::{
	offchain::{claim, Step},
	Call, Callbacks, Config, ProviderOfKey, LOG_TARGET,
};
use polkadot_sdk::{
	frame_system::{
		offchain::{CreateAuthorizedTransaction, SubmitTransaction},
		pallet_prelude::BlockNumberFor,
	},
	sp_runtime::{traits::Saturating, RuntimeAppPublic},
};

/// Blocks a delivery's sent record is kept (it is due, so it lands well before).
const DELIVERY_RECORD_BLOCKS: u32 = 32;

/// Sends a delivery of every due callback not sent recently.
pub(crate) fn deliver_callbacks<T: Config>(now: BlockNumberFor<T>) {
	let Some(provider) = T::ProviderKey::all().into_iter().find_map(ProviderOfKey::<T>::get) else {
		return;
	};
	for (request_id, callback) in Callbacks::<T>::iter() {
		if callback.due.is_none() {
			continue;
		}
		let forget_at = now.saturating_add(DELIVERY_RECORD_BLOCKS.into());
		if !claim::<T>(request_id, &provider, Step::Deliver, now, forget_at) {
			continue;
		}
		let call = Call::<T>::deliver_callback { request_id, weight_limit: callback.weight_limit };
		let xt =
			<T as CreateAuthorizedTransaction<Call<T>>>::create_authorized_transaction(call.into());
		match SubmitTransaction::<T, Call<T>>::submit_transaction(xt) {
			Ok(()) => {
				log::info!(target: LOG_TARGET, "request {request_id}: callback delivery sent")
			}
			Err(()) => {
				log::warn!(target: LOG_TARGET, "request {request_id}: the pool refused the callback delivery")
			}
		}
	}
}
