//! Requests: prices, checked inputs, fees held up front, assignment and expiry.

use crate::*;
use citrate_inference_primitives::{
	cost::{Estimate, Schedule},
	request::{check_raw_request, check_request},
	tensor::{decode_with, Limits},
};
use codec::Encode;
use polkadot_sdk::{
	frame_support::weights::WeightToFee as _,
	sp_io::hashing::blake2_256,
	sp_runtime::{traits::One, DispatchResult},
};

/// Blocks after the wanted one that [`Pallet::schedule_expiry`] tries when that block's
/// expiries are full.
const RESCHEDULE_SPAN: u32 = 16;

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
	pub fn do_request_inference(
		who: T::AccountId,
		model_id: ModelId,
		input: Vec<u8>,
		max_fee: BalanceOf<T>,
	) -> Result<RequestId, DispatchError> {
		let input = input.try_into().map_err(|_| Error::<T>::InputTooLarge)?;
		Self::do_request(who, model_id, RequestInput::Inline(input), max_fee, None)
			.map(|(id, _)| id)
	}

	/// `who` asks for `model_id` to run on the input file `cid` (binary CID) names; see
	/// [`Pallet::request_inference_cid`].
	pub fn do_request_inference_cid(
		who: T::AccountId,
		model_id: ModelId,
		cid: Vec<u8>,
		max_fee: BalanceOf<T>,
	) -> Result<RequestId, DispatchError> {
		let cid = Self::storable_cid(&cid)?;
		Self::do_request(who, model_id, RequestInput::Cid(cid), max_fee, None).map(|(id, _)| id)
	}

	/// The binary CIDv1 of `cid` (a binary CIDv0 or CIDv1) if a Citrate store can hold what
	/// it names (sha2-256 over dag-pb or raw blocks).
	pub(crate) fn storable_cid(cid: &[u8]) -> Result<BinaryCid, Error<T>> {
		let parsed = citrate_ipfs_primitives::cid::from_binary(cid)
			.ok()
			.filter(|cid| cid.is_storable())
			.ok_or(Error::<T>::InvalidCid)?;
		let (bytes, len) = parsed.to_v1_bytes();
		BoundedVec::try_from(bytes[..len].to_vec()).map_err(|_| Error::<T>::InvalidCid)
	}

	/// Makes a request of `input`, with a callback of `(weight limit, data)` if given; the
	/// fee and the callback's fee together are at most `max_fee`. Every check comes before
	/// anything is written, spent or held. Returns the request's id and those fees.
	pub(crate) fn do_request(
		who: T::AccountId,
		model_id: ModelId,
		input: RequestInput<T::MaxInputLen>,
		max_fee: BalanceOf<T>,
		callback: Option<(Weight, Vec<u8>)>,
	) -> Result<(RequestId, BalanceOf<T>), DispatchError> {
		let model = T::Registry::model(model_id).ok_or(Error::<T>::ModelNotFound)?;
		ensure!(model.active, Error::<T>::ModelInactive);
		let interface = T::Registry::interface(model_id).ok_or(Error::<T>::NoMetadata)?;
		// The registry bounds CIDs well below this; a longer one is not a usable package.
		let package_cid: BinaryCid =
			interface.package_cid.clone().try_into().map_err(|_| Error::<T>::NoMetadata)?;
		if let RequestInput::Inline(bytes) = &input {
			Self::check_input(&interface, bytes)?;
		}
		ensure!(T::Access::has_access(&who, model_id), Error::<T>::NoAccess);

		let price = ModelPrices::<T>::get(model_id).unwrap_or_default();
		let compute_fee = Self::compute_fee(&interface);
		let terms = Self::terms(model_id);
		let runs: BalanceOf<T> = terms.verification.providers().into();
		let fee = Self::request_fee(model_id, &interface);
		let callback = callback
			.map(|(weight, data)| Self::new_callback(who.clone(), weight, data))
			.transpose()?;
		let fees = fee.saturating_add(callback.as_ref().map(|c| c.held).unwrap_or_default());
		ensure!(fees <= max_fee, Error::<T>::FeeAboveMax);

		let request_id = NextRequestId::<T>::get();
		let providers = Self::draw_providers(model_id, request_id, terms.verification)?;
		let now = frame_system::Pallet::<T>::block_number();
		let deadline = now.saturating_add(T::RequestTimeout::get());
		let mut expiring = Expiring::<T>::get(deadline);
		expiring.try_push(request_id).map_err(|_| Error::<T>::TooManyRequests)?;

		let deposit = T::ReceiptDeposit::get();
		T::Currency::hold(&HoldReason::RequestFees.into(), &who, fee)
			.map_err(|_| Error::<T>::InsufficientFunds)?;
		T::Currency::hold(&HoldReason::ReceiptDeposit.into(), &who, deposit)
			.map_err(|_| Error::<T>::InsufficientFunds)?;
		if let Some(callback) = callback {
			Self::hold_callback(request_id, callback)?;
		}
		T::Access::consume_use(&who, model_id)?;
		Self::assign(&providers, now);
		Expiring::<T>::insert(deadline, expiring);
		NextRequestId::<T>::put(request_id.saturating_add(1));
		let input_hash = input.hash();
		Requests::<T>::insert(
			request_id,
			InferenceRequest {
				requester: who.clone(),
				model_id,
				package_cid,
				input,
				input_hash,
				price,
				compute_fee,
				deposit,
				providers: providers.clone(),
				terms,
				stage: Stage::Open,
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
		Ok((request_id, fees))
	}

	/// The fee of a request for `model_id` now: its price plus each run's compute fee.
	pub(crate) fn request_fee(model_id: ModelId, interface: &ModelInterface) -> BalanceOf<T> {
		let price = ModelPrices::<T>::get(model_id).unwrap_or_default();
		let runs: BalanceOf<T> = Self::terms(model_id).verification.providers().into();
		price.saturating_add(Self::compute_fee(interface).saturating_mul(runs))
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

	/// The providers a request needs, drawn from the active providers of `model_id`; see
	/// [`Self::draw`].
	fn draw_providers(
		model_id: ModelId,
		request_id: RequestId,
		verification: Verification,
	) -> Result<BoundedVec<T::AccountId, T::MaxQuorum>, Error<T>> {
		let (active, free) = Self::free_providers_of(model_id, &[]);
		ensure!(active > 0, Error::<T>::NoProvider);
		let needed = verification.providers() as usize;
		ensure!(active >= needed, Error::<T>::NotEnoughProviders);
		ensure!(free.len() >= needed, Error::<T>::AtCapacity);
		Self::draw(free, request_id, needed)
	}

	/// How many of `model_id`'s providers are active, and those of them, other than
	/// `excluded`, that can take a request in this block.
	pub(crate) fn free_providers_of(
		model_id: ModelId,
		excluded: &[&T::AccountId],
	) -> (usize, Vec<T::AccountId>) {
		let now = frame_system::Pallet::<T>::block_number();
		let mut active = 0;
		let free = ProvidersOf::<T>::get(model_id)
			.into_iter()
			.filter(|p| {
				let Some(info) = Providers::<T>::get(p) else { return false };
				let serving = info.status == ProviderStatus::Active;
				active += usize::from(serving);
				serving && Self::taken_in(&info, now) < info.capacity && !excluded.contains(&p)
			})
			.collect();
		(active, free)
	}

	/// Draws `count` of `candidates` without repetition with
	/// `blake2_256(parent hash ‖ request id ‖ draw)`; a dispute's jurors are drawn after the
	/// request's providers, with the same request id in a later block.
	pub(crate) fn draw(
		mut candidates: Vec<T::AccountId>,
		request_id: RequestId,
		count: usize,
	) -> Result<BoundedVec<T::AccountId, T::MaxQuorum>, Error<T>> {
		let parent = frame_system::Pallet::<T>::parent_hash();
		let mut drawn = BoundedVec::new();
		for draw in 0..count.min(candidates.len()) as u32 {
			let seed = (parent, request_id, draw).using_encoded(blake2_256);
			let value = u64::from_le_bytes(seed[..8].try_into().unwrap_or_default());
			let provider = candidates.swap_remove((value % candidates.len() as u64) as usize);
			drawn.try_push(provider).map_err(|_| Error::<T>::InvalidQuorum)?;
		}
		Ok(drawn)
	}

	/// Counts one more request on each of `providers`, taken in block `now`.
	pub(crate) fn assign(providers: &[T::AccountId], now: BlockNumberFor<T>) {
		for provider in providers {
			Providers::<T>::mutate(provider, |info| {
				if let Some(info) = info {
					info.assigned = info.assigned.saturating_add(1);
					info.taken = (now, Self::taken_in(info, now).saturating_add(1));
				}
			});
		}
	}

	/// Makes `request_id` expire at block `at`, or the first of the next
	/// [`RESCHEDULE_SPAN`] blocks with room; returns that block.
	pub(crate) fn schedule_expiry(
		request_id: RequestId,
		at: BlockNumberFor<T>,
	) -> Result<BlockNumberFor<T>, Error<T>> {
		let mut block = at;
		for _ in 0..RESCHEDULE_SPAN {
			let scheduled = Expiring::<T>::try_mutate(block, |due| due.try_push(request_id));
			if scheduled.is_ok() {
				return Ok(block);
			}
			block = block.saturating_add(One::one());
		}
		Err(Error::<T>::TooManyRequests)
	}

	/// Settles the requests due at `now`: a quorum (or a dispute's jurors) is counted with
	/// what was revealed, a proposed optimistic result becomes final; other requests go
	/// unanswered, their fees go back and their providers are freed. A request whose deadline
	/// moved (proposed, disputed) is settled at its new deadline instead.
	pub(crate) fn expire(now: BlockNumberFor<T>) -> Weight {
		let due = Expiring::<T>::take(now);
		let mut weight = T::WeightInfo::expire(due.len() as u32);
		for request_id in due.iter() {
			let request_id = *request_id;
			let Some(request) = Requests::<T>::get(request_id) else { continue };
			if request.deadline != now {
				continue;
			}
			Requests::<T>::remove(request_id);
			if request.quorum().is_some() {
				weight.saturating_accrue(T::WeightInfo::reveal_result(T::MaxQuorum::get()));
				Self::settle_quorum(request_id, request);
			} else if request.stage == Stage::Proposed {
				weight.saturating_accrue(T::WeightInfo::submit_result(T::MaxOutputLen::get()));
				Self::finalize_proposal(request_id, request);
			} else {
				let refunded = Self::refund(request_id, &request);
				Self::deposit_event(Event::RequestExpired { request_id, refunded });
			}
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

	/// Gives a request that ends without a result everything held back (but its callback's
	/// fee, which the callback, now due, still needs), and frees its providers; returns what
	/// was refunded.
	pub(crate) fn refund(request_id: RequestId, request: &InferenceRequest<T>) -> BalanceOf<T> {
		Self::callback_due(request_id, ResultKind::Expired);
		let refunded = T::Currency::release(
			&HoldReason::RequestFees.into(),
			&request.requester,
			request.held(),
			Precision::BestEffort,
		)
		.unwrap_or_default();
		let _ = T::Currency::release(
			&HoldReason::ReceiptDeposit.into(),
			&request.requester,
			request.deposit,
			Precision::BestEffort,
		);
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
