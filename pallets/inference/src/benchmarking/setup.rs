//! What the benchmarks set up: funded accounts, providers, served models, inputs, pending
//! requests at their worst case and the signed answers to them.

use super::*;
use alloc::vec;
use citrate_inference_primitives::tensor::{encode, DType, Tensor};
use polkadot_sdk::frame_support::traits::fungible::Mutate;

/// An account with plenty, small enough that many of them keep the total issuance in range.
pub(super) fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	T::Currency::set_balance(&who, BalanceOf::<T>::max_value() / 1_000_000u32.into());
	who
}

pub(super) fn provider<T: Config>(index: u32) -> T::AccountId {
	let who = funded::<T>("provider", index);
	let key = T::ProviderKey::generate_pair(None);
	let capacity = T::MaxCapacity::get();
	Pallet::<T>::do_register_provider(
		who.clone(),
		T::MinBond::get(),
		key,
		HardwareClass::Cpu,
		capacity,
	)
	.unwrap();
	who
}

/// A described, open-source feature-extraction model (no access needed), served by
/// `MaxProvidersPerModel` providers.
pub(super) fn served_model<T: Config>() -> ModelId {
	let model = T::BenchmarkHelper::create_model(&funded::<T>("owner", 0));
	for index in 0..T::MaxProvidersPerModel::get() {
		Pallet::<T>::do_serve_model(provider::<T>(index), model).unwrap();
	}
	model
}

/// A text request of `len` bytes in the codec's form (17 bytes of header for one rank-1
/// tensor named `text`).
pub(super) fn text_input(len: u32) -> Vec<u8> {
	let text = vec![b'a'; len.saturating_sub(17) as usize];
	encode(&[Tensor::new("text", DType::U8, vec![text.len() as u32], text).unwrap()]).unwrap()
}

/// A pending request and its assigned provider's signed result with `output_len` bytes of
/// output.
pub(super) fn signed_result<T: Config>(
	output_len: u32,
) -> (InferenceResult<T>, <T::ProviderKey as RuntimeAppPublic>::Signature) {
	let model = served_model::<T>();
	let requester = funded::<T>("requester", 0);
	let request_id = Pallet::<T>::do_request_inference(
		requester,
		model,
		text_input(64),
		BalanceOf::<T>::max_value(),
	)
	.unwrap();
	assigned_answer::<T>(request_id, output_len)
}

/// The signed result of `output_len` bytes of output from `request_id`'s first provider.
pub(super) fn assigned_answer<T: Config>(
	request_id: RequestId,
	output_len: u32,
) -> (InferenceResult<T>, <T::ProviderKey as RuntimeAppPublic>::Signature) {
	let provider = Requests::<T>::get(request_id).unwrap().providers[0].clone();
	let output = text_input(output_len).try_into().unwrap();
	let result = InferenceResult::<T> { request_id, provider, outcome: Outcome::Output(output) };
	let key = Providers::<T>::get(&result.provider).unwrap().key;
	let signature = result.using_encoded(|encoded| key.sign(&encoded)).unwrap();
	(result, signature)
}

/// A pending quorum request of `MaxQuorum` providers (a majority must agree) whose first
/// `votes` providers committed to the same output, the commit window closed and all but the
/// last of them revealed; returns the last one's reveal.
pub(super) fn quorum_reveal<T: Config>(
	votes: u32,
) -> (InferenceResult<T>, [u8; 32], <T::ProviderKey as RuntimeAppPublic>::Signature) {
	let owner = funded::<T>("owner", 0);
	let model = T::BenchmarkHelper::create_model(&owner);
	for index in 0..T::MaxQuorum::get() {
		Pallet::<T>::do_serve_model(provider::<T>(index), model).unwrap();
	}
	let n = T::MaxQuorum::get() as u8;
	let quorum = Verification::Quorum { n, k: n / 2 + 1 };
	Pallet::<T>::do_set_terms(owner, model, quorum, Comparison::Quantized { fraction_bits: 16 })
		.unwrap();
	let requester = funded::<T>("requester", 0);
	let request_id = Pallet::<T>::do_request_inference(
		requester,
		model,
		text_input(64),
		BalanceOf::<T>::max_value(),
	)
	.unwrap();
	let request = Requests::<T>::get(request_id).unwrap();
	let output: BoundedVec<u8, T::MaxOutputLen> =
		text_input(T::MaxOutputLen::get()).try_into().unwrap();
	let salt = [7u8; 32];
	let results: Vec<_> = request.providers[..votes as usize]
		.iter()
		.map(|provider| {
			let outcome = Outcome::Output(output.clone());
			let commitment = commitment_of(&outcome, provider, &salt);
			Pallet::<T>::do_commit_result(ResultCommitment {
				request_id,
				provider: provider.clone(),
				commitment,
			})
			.unwrap();
			let result = InferenceResult::<T> { request_id, provider: provider.clone(), outcome };
			let key = Providers::<T>::get(provider).unwrap().key;
			let signature = result.using_encoded(|encoded| key.sign(&encoded)).unwrap();
			(result, signature)
		})
		.collect();
	frame_system::Pallet::<T>::set_block_number(request.commits_close.saturating_add(1u32.into()));
	let mut results = results.into_iter();
	let last = results.next_back().unwrap();
	for (result, signature) in results {
		Pallet::<T>::do_reveal_result(result, salt, signature).unwrap();
	}
	(last.0, salt, last.1)
}

/// An `Optimistic` request (the longest window, quantised comparison) of a model with
/// `MaxProvidersPerModel` providers, whose proposed result is `MaxOutputLen` bytes; returns
/// another provider's signed, different result of `output_len` bytes that disputes it.
pub(super) fn optimistic_dispute<T: Config>(
	output_len: u32,
) -> (InferenceResult<T>, <T::ProviderKey as RuntimeAppPublic>::Signature) {
	let owner = funded::<T>("owner", 0);
	let model = T::BenchmarkHelper::create_model(&owner);
	for index in 0..T::MaxProvidersPerModel::get() {
		Pallet::<T>::do_serve_model(provider::<T>(index), model).unwrap();
	}
	let terms = Verification::Optimistic { window: T::MaxChallengeWindow::get() };
	Pallet::<T>::do_set_terms(owner, model, terms, Comparison::Quantized { fraction_bits: 16 })
		.unwrap();
	let request_id = Pallet::<T>::do_request_inference(
		funded::<T>("requester", 0),
		model,
		text_input(64),
		BalanceOf::<T>::max_value(),
	)
	.unwrap();
	let sign = |result: &InferenceResult<T>| {
		let key = Providers::<T>::get(&result.provider).unwrap().key;
		result.using_encoded(|encoded| key.sign(&encoded)).unwrap()
	};
	let proposer = Requests::<T>::get(request_id).unwrap().providers[0].clone();
	let output = text_input(T::MaxOutputLen::get()).try_into().unwrap();
	let proposal = InferenceResult::<T> {
		request_id,
		provider: proposer.clone(),
		outcome: Outcome::Output(output),
	};
	let signature = sign(&proposal);
	Pallet::<T>::do_submit_result(proposal, signature).unwrap();

	let challenger = ProvidersOf::<T>::get(model).into_iter().find(|p| *p != proposer).unwrap();
	let mut output = text_input(output_len);
	if let Some(last) = output.last_mut() {
		*last = b'b';
	}
	let outcome = Outcome::Output(output.try_into().unwrap());
	let result = InferenceResult::<T> { request_id, provider: challenger, outcome };
	let signature = sign(&result);
	(result, signature)
}

/// A pending request with a callback of the most data (no callback when the runtime has none),
/// from a funded requester.
pub(super) fn callback_request<T: Config>() -> Result<(RequestId, T::AccountId), BenchmarkError> {
	if !T::Callbacks::ENABLED {
		return Err(BenchmarkError::Weightless);
	}
	let model = served_model::<T>();
	let requester = funded::<T>("requester", 0);
	let data = vec![7; T::MaxCallbackData::get() as usize];
	let (request_id, _) = Pallet::<T>::do_request(
		requester.clone(),
		model,
		RequestInput::Inline(text_input(64).try_into().unwrap()),
		BalanceOf::<T>::max_value(),
		Some((callback_limit::<T>(), data)),
	)
	.unwrap();
	Ok((request_id, requester))
}

/// A callback weight limit that can still be raised (the delivery's own weight excludes the
/// callee's, which the call adds).
pub(super) fn callback_limit<T: Config>() -> Weight {
	T::MaxCallbackWeight::get() / 4
}

/// [`callback_request`] answered with the most output, its callback due.
pub(super) fn due_callback<T: Config>() -> Result<RequestId, BenchmarkError> {
	let (request_id, _) = callback_request::<T>()?;
	let (result, signature) = assigned_answer::<T>(request_id, T::MaxOutputLen::get());
	Pallet::<T>::do_submit_result(result, signature).unwrap();
	Ok(request_id)
}

/// Runs `call`'s `#[pallet::authorize]` check as the pool would for an external transaction;
/// `name` says which call lacked one.
pub(super) fn authorize<T: Config>(
	call: &<T as frame_system::Config>::RuntimeCall,
	name: &'static str,
) -> Result<(), BenchmarkError> {
	use polkadot_sdk::{
		frame_support::traits::Authorize, sp_runtime::transaction_validity::TransactionSource,
	};
	call.authorize(TransactionSource::External)
		.ok_or(BenchmarkError::Stop(name))?
		.map_err(|_| BenchmarkError::Stop("authorized"))?;
	Ok(())
}
