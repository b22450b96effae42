//! Pins end with their model: the registry's [`OnModelRemoved`] hook.

use crate::*;

impl<T: Config> OnModelRemoved for Pallet<T> {
	/// Ends every pin of the removed model's CID; rewards are shared among the pins still
	/// stored when an era closes, so these earn nothing more.
	fn on_model_removed(model_id: ModelId, cid_v1: &[u8]) -> Weight {
		let Ok(cid) = BinaryCid::try_from(cid_v1.to_vec()) else {
			return T::DbWeight::get().reads(0);
		};
		let pinners = PinnersOf::<T>::get(&cid);
		let ended = pinners.len() as u64;
		for pinner in pinners {
			Self::remove_pin_entry(&pinner, &cid);
			Self::deposit_event(Event::PinEnded { pinner, cid: cid.clone(), model_id });
		}
		// Reading the pinner list, then per pin what `remove_pin` does.
		T::DbWeight::get()
			.reads(1)
			.saturating_add(T::WeightInfo::remove_pin().saturating_mul(ended))
	}

	fn max_weight() -> Weight {
		T::DbWeight::get().reads(1).saturating_add(
			T::WeightInfo::remove_pin().saturating_mul(u64::from(T::MaxPinnersPerCid::get())),
		)
	}
}
