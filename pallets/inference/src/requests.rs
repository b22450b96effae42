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
		let terms = Self::terms(model_id);
		let runs: BalanceOf<T> = terms.verification.providers().into();
		let fee = price.saturating_add(compute_fee.saturating_mul(runs));
		ensure!(fee <= max_fee, Error::<T>::FeeAboveMax);

		let request_id = NextRequestId::<T>::get();
		let providers = Self::draw_providers(model_id, request_id, terms.verification)?;
		let now = frame_system::Pallet::<T>::block_number();
		let deadline = now.saturating_add(T::RequestTimeout::get());
		let mut expiring = Expiring::<T>::get(deadline);
		expiring.try_push(request_id).map_err(|_| Error::<T>::TooManyRequests)?;

		T::Currency::hold(&HoldReason::RequestFees.into(), &who, fee)
			.map_err(|_| Error::<T>::InsufficientFunds)?;
		T::Access::consume_use(&who, model_id)?;
		for provider in providers.iter() {
			Providers::<T>::mutate(provider, |info| {
				if let Some(info) = info {
					info.assigned = info.assigned.saturating_add(1);
					info.taken = (now, Self::taken_in(info, now).saturating_add(1));
				}
			});
		}
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
				providers: providers.clone(),
				terms,
				submitted_at: now,
				commits_close: now.saturating_add(T::CommitWindow::get()),
				deadline,
			},
		);
		Self::deposit_event(Event::InferenceRequested {
			request_id,
			requester: who,
			model_id,
			providers: providers.into_inner(),
			input_hash,
			price,
			compute_fee: compute_fee.saturating_mul(runs),
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

	/// The providers a request needs, drawn without repetition from the active providers of
	/// `model_id` with `blake2_256(parent hash ‖ request id ‖ draw)`.
	fn draw_providers(
		model_id: ModelId,
		request_id: RequestId,
		verification: Verification,
	) -> Result<BoundedVec<T::AccountId, T::MaxQuorum>, Error<T>> {
		let now = frame_system::Pallet::<T>::block_number();
		let mut active = 0;
		let mut free: Vec<T::AccountId> = ProvidersOf::<T>::get(model_id)
			.into_iter()
			.filter(|p| {
				let Some(info) = Providers::<T>::get(p) else { return false };
				let serving = info.status == ProviderStatus::Active;
				active += usize::from(serving);
				serving && Self::taken_in(&info, now) < info.capacity
			})
			.collect();
		ensure!(active > 0, Error::<T>::NoProvider);
		let needed = verification.providers() as usize;
		ensure!(active >= needed, Error::<T>::NotEnoughProviders);
		ensure!(free.len() >= needed, Error::<T>::AtCapacity);
		let parent = frame_system::Pallet::<T>::parent_hash();
		let mut drawn = BoundedVec::new();
		for draw in 0..needed as u32 {
			let seed = (parent, request_id, draw).using_encoded(blake2_256);
			let value = u64::from_le_bytes(seed[..8].try_into().unwrap_or_default());
			let provider = free.swap_remove((value % free.len() as u64) as usize);
			drawn.try_push(provider).map_err(|_| Error::<T>::InvalidQuorum)?;
		}
		Ok(drawn)
	}

	/// Expires the requests due at `now`: a quorum is counted with what was revealed; other
	/// requests go unanswered, their fees go back and their providers are freed.
	pub(crate) fn expire(now: BlockNumberFor<T>) -> Weight {
		let due = Expiring::<T>::take(now);
		let mut weight = T::WeightInfo::expire(due.len() as u32);
		for request_id in due.iter() {
			let Some(request) = Requests::<T>::take(request_id) else { continue };
			if matches!(request.terms.verification, Verification::Quorum { .. }) {
				weight.saturating_accrue(T::WeightInfo::reveal_result(T::MaxQuorum::get()));
				Self::settle_quorum(*request_id, request);
				continue;
			}
			let refunded = Self::refund(&request);
			Self::deposit_event(Event::RequestExpired { request_id: *request_id, refunded });
		}
		weight
	}

	/// Requests `info`'s provider took in block `now`.
	fn taken_in(info: &ProviderInfo<T>, now: BlockNumberFor<T>) -> u32 {
		if info.taken.0 == now {
			info.taken.1
		} else {
			0
		}
	}

	/// Gives a request that ends without a result everything held back, and frees its
	/// providers; returns what was refunded.
	pub(crate) fn refund(request: &InferenceRequest<T>) -> BalanceOf<T> {
		let refunded = T::Currency::release(
			&HoldReason::RequestFees.into(),
			&request.requester,
			request.held(),
			Precision::BestEffort,
		)
		.unwrap_or_default();
		Self::free_providers(&request.providers);
		refunded
	}

	/// Counts one settled or expired request off each of its providers.
	pub(crate) fn free_providers(providers: &[T::AccountId]) {
		for provider in providers {
			Providers::<T>::mutate(provider, |info| {
				if let Some(info) = info {
					info.assigned = info.assigned.saturating_sub(1);
				}
			});
		}
	}
}
