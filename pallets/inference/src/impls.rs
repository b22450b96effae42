//! Providers stop serving a model the registry removed: the registry's [`OnModelRemoved`]
//! hook.

use crate::*;

impl<T: Config> OnModelRemoved for Pallet<T> {
	fn on_model_removed(model_id: ModelId, _cid_v1: &[u8]) -> Weight {
		let providers = ProvidersOf::<T>::take(model_id);
		for provider in providers.iter() {
			Providers::<T>::mutate(provider, |entry| {
				if let Some(info) = entry {
					info.models.retain(|id| *id != model_id);
				}
			});
		}
		let count = providers.len() as u32;
		if count > 0 {
			Self::deposit_event(Event::ModelServiceEnded { model_id, providers: count });
		}
		T::WeightInfo::on_model_removed(count)
	}

	fn max_weight() -> Weight {
		T::WeightInfo::on_model_removed(T::MaxProvidersPerModel::get())
	}
}
