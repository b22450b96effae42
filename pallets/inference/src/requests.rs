//! Requests: prices, checked inputs, fees held up front, assignment and expiry.

use crate::*;
use citrate_inference_primitives::{
	cost::{Estimate, Schedule},
	request::{check_raw_request, check_request},
	tensor::{decode_with, Limits},
};
use codec::Encode;
use polkadot_sdk::{
	frame_support::weights::WeightToFee as _, sp_io::hashing::blake2_256,
	sp_runtime::DispatchResult,
};

impl<T: Config> Pallet<T> {
	/// Sets `model_id`'s per-call price for its owner `who`; see [`Pallet::set_price`].
	pub fn do_set_price(
		who: T::AccountId,
		model_id: ModelId,
		price: BalanceOf<T>,
	) -> DispatchResult {
		let model = T::Registry::model(model_id).ok_or(Error::<T>::ModelNotFound)?;
		ensure!(model.owner == who, Error::<T>::NotModelOwner);
		if price.is_zero() {
			ModelPrices::<T>::remove(model_id);
		} else {
			ModelPrices::<T>::insert(model_id, price);
		}
		Self::deposit_event(Event::PriceSet { model_id, price });
		Ok(())
	}

	/// `who` asks for `model_id` to run on `input`; see [`Pallet::request_inference`].
	/// Every check comes before anything is written, spent or held.
	pub fn do_request_inference(
		who: T::AccountId,
		model_id: ModelId,
		input: Vec<u8>,
		max_fee: BalanceOf<T>,
	) -> Result<RequestId, DispatchError> {
		let model = T::Registry::model(model_id).ok_or(Error::<T>::ModelNotFound)?;
		ensure!(model.active, Error::<T>::ModelInactive);
		let interface = T::Registry::interface(model_id).ok_or(Error::<T>::NoMetadata)?;
		let input: BoundedVec<u8, T::MaxInputLen> =
			input.try_into().map_err(|_| Error::<T>::InputTooLarge)?;
		Self::check_input(&interface, &input)?;
		ensure!(T::Access::has_access(&who, model_id), Error::<T>::NoAccess);

		let price = ModelPrices::<T>::get(model_id).unwrap_or_default();
		let compute_fee = Self::compute_fee(&interface);
		let fee = price.saturating_add(compute_fee);
		ensure!(fee <= max_fee, Error::<T>::FeeAboveMax);

		let request_id = NextRequestId::<T>::get();
		let provider = Self::draw_provider(model_id, request_id).ok_or(Error::<T>::NoProvider)?;
		let now = frame_system::Pallet::<T>::block_number();
		let deadline = now.saturating_add(T::RequestTimeout::get());
		let mut expiring = Expiring::<T>::get(deadline);
		expiring.try_push(request_id).map_err(|_| Error::<T>::TooManyRequests)?;

		T::Currency::hold(&HoldReason::RequestFees.into(), &who, fee)
			.map_err(|_| Error::<T>::InsufficientFunds)?;
		T::Access::consume_use(&who, model_id)?;
		Providers::<T>::mutate(&provider, |info| {
			if let Some(info) = info {
				info.assigned = info.assigned.saturating_add(1);
			}
		});
		Expiring::<T>::insert(deadline, expiring);
		NextRequestId::<T>::put(request_id.saturating_add(1));
		let input_hash = blake2_256(&input);
		Requests::<T>::insert(
			request_id,
			InferenceRequest {
				requester: who.clone(),
				model_id,
				input,
				input_hash,
				price,
				compute_fee,
				provider: provider.clone(),
				submitted_at: now,
				deadline,
			},
		);
		Self::deposit_event(Event::InferenceRequested {
			request_id,
			requester: who,
			model_id,
			provider,
			input_hash,
			price,
			compute_fee,
			deadline,
		});
		Ok(request_id)
	}

	/// The input decodes (within `MaxInputLen`) and carries what the model's task reads: the
	/// task's schema, or the registered inputs for raw tensors.
	fn check_input(interface: &ModelInterface, input: &[u8]) -> Result<(), Error<T>> {
		let limits = Limits { max_bytes: T::MaxInputLen::get() as usize, ..Limits::default() };
		let tensors = decode_with(input, &limits).map_err(|_| Error::<T>::MalformedInput)?;
		let checked = match interface.task {
			InferenceTask::RawTensors => check_raw_request(&interface.inputs, &tensors),
			task => check_request(task, &tensors),
		};
		checked.map_err(|_| Error::<T>::InputNotForTask)
	}

	/// The compute fee of one run: the shared cost schedule turns the model's registered FLOPs
	/// and memory into `ref_time`, which `WeightToFee` prices.
	pub fn compute_fee(interface: &ModelInterface) -> BalanceOf<T> {
		let estimate = Estimate {
			flops: u128::from(interface.flops_per_inference),
			weight_bytes: interface.min_memory_bytes,
			peak_activation_bytes: 0,
		};
		let ref_time = Schedule::default().ref_time_ps(&estimate);
		T::WeightToFee::weight_to_fee(&Weight::from_parts(ref_time, 0))
	}

	/// An active provider of `model_id`, drawn with `blake2_256(parent hash ‖ request id)`.
	fn draw_provider(model_id: ModelId, request_id: RequestId) -> Option<T::AccountId> {
		let active: Vec<T::AccountId> = ProvidersOf::<T>::get(model_id)
			.into_iter()
			.filter(|p| {
				Providers::<T>::get(p).is_some_and(|info| info.status == ProviderStatus::Active)
			})
			.collect();
		if active.is_empty() {
			return None;
		}
		let parent = frame_system::Pallet::<T>::parent_hash();
		let seed = (parent, request_id).using_encoded(blake2_256);
		let draw = u64::from_le_bytes(seed[..8].try_into().unwrap_or_default());
		active.get((draw % active.len() as u64) as usize).cloned()
	}

	/// Expires the requests due at `now`: their fees go back and their providers are freed.
	pub(crate) fn expire(now: BlockNumberFor<T>) -> Weight {
		let due = Expiring::<T>::take(now);
		for request_id in due.iter() {
			let Some(request) = Requests::<T>::take(request_id) else { continue };
			let held = request.price.saturating_add(request.compute_fee);
			let refunded = T::Currency::release(
				&HoldReason::RequestFees.into(),
				&request.requester,
				held,
				Precision::BestEffort,
			)
			.unwrap_or_default();
			Providers::<T>::mutate(&request.provider, |info| {
				if let Some(info) = info {
					info.assigned = info.assigned.saturating_sub(1);
				}
			});
			Self::deposit_event(Event::RequestExpired { request_id: *request_id, refunded });
		}
		T::WeightInfo::expire(due.len() as u32)
	}
}
