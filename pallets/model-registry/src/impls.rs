//! The traits other pallets use the registry through.

use crate::*;
use polkadot_sdk::sp_runtime::{traits::Saturating, DispatchResult};

impl<T: Config> ModelRegistryInspect<T::AccountId> for Pallet<T> {
	fn model(model_id: ModelId) -> Option<ModelSummary<T::AccountId>> {
		Models::<T>::get(model_id).map(|m| ModelSummary {
			owner: m.owner,
			active: m.status == ModelStatus::Active,
			license_kind: m.license.kind,
			size_bytes: m.size_bytes,
		})
	}

	fn model_of_cid(cid_v1: &[u8]) -> Option<ModelId> {
		ModelIdByCid::<T>::get(BinaryCid::try_from(cid_v1.to_vec()).ok()?)
	}

	fn interface(model_id: ModelId) -> Option<ModelInterface> {
		let metadata = Metadata::<T>::get(model_id)?.metadata;
		let model = Models::<T>::get(model_id)?;
		Some(ModelInterface {
			task: metadata.task,
			package_cid: crate::binary_cid(&model.cid)?.into_inner(),
			framework: model.framework,
			inputs: metadata.inputs.into_inner(),
			flops_per_inference: metadata.flops_per_inference,
			min_memory_bytes: metadata.min_memory_bytes,
		})
	}
}

impl<T: Config> ModelStatsRecorder<BalanceOf<T>> for Pallet<T> {
	fn record_usage(model_id: ModelId, uses: u64) -> DispatchResult {
		let usage_count = Models::<T>::try_mutate(model_id, |entry| {
			let model = entry.as_mut().ok_or(Error::<T>::ModelNotFound)?;
			model.usage_count = model.usage_count.checked_add(uses).ok_or(Error::<T>::Overflow)?;
			Ok::<_, Error<T>>(model.usage_count)
		})?;
		Self::deposit_event(Event::UsageRecorded { model_id, uses, usage_count });
		Ok(())
	}

	fn record_reward(model_id: ModelId, amount: BalanceOf<T>) -> DispatchResult {
		let total_rewards = Models::<T>::try_mutate(model_id, |entry| {
			let model = entry.as_mut().ok_or(Error::<T>::ModelNotFound)?;
			model.total_rewards = model.total_rewards.saturating_add(amount);
			Ok::<_, Error<T>>(model.total_rewards)
		})?;
		Self::deposit_event(Event::RewardRecorded { model_id, amount, total_rewards });
		Ok(())
	}
}
