//! Benchmarks for the inference pallet, each at its worst case: full model and provider
//! lists, the longest input, a full expiry list.

use super::*;
use codec::Encode;
use polkadot_sdk::{
	frame_benchmarking::v2::*, frame_system::RawOrigin, sp_runtime::traits::Bounded,
};

mod setup;
use setup::*;

#[benchmarks(where <T as frame_system::Config>::RuntimeCall: From<Call<T>>)]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_provider() {
		let who = funded::<T>("provider", 0);
		let key = T::ProviderKey::generate_pair(None);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), T::MinBond::get(), key, HardwareClass::Gpu, 1);

		assert!(Providers::<T>::contains_key(&who));
	}

	#[benchmark]
	fn bond_extra() {
		let who = provider::<T>(0);
		let amount = T::MinBond::get();

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), amount);

		assert_eq!(Providers::<T>::get(&who).unwrap().bond, amount.saturating_add(amount));
	}

	#[benchmark]
	fn update_provider() {
		let who = provider::<T>(0);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), HardwareClass::Gpu, T::MaxCapacity::get());

		assert_eq!(Providers::<T>::get(&who).unwrap().hardware, HardwareClass::Gpu);
	}

	#[benchmark]
	fn set_provider_key() {
		let who = provider::<T>(0);
		let key = T::ProviderKey::generate_pair(None);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), key.clone());

		assert_eq!(ProviderOfKey::<T>::get(&key), Some(who));
	}

	#[benchmark]
	fn serve_model() {
		// The last free place on both lists.
		let who = provider::<T>(0);
		for _ in 1..T::MaxModelsPerProvider::get() {
			let other = T::BenchmarkHelper::create_model(&funded::<T>("owner", 1));
			Pallet::<T>::do_serve_model(who.clone(), other).unwrap();
		}
		let model = T::BenchmarkHelper::create_model(&funded::<T>("owner", 0));
		for index in 1..T::MaxProvidersPerModel::get() {
			Pallet::<T>::do_serve_model(provider::<T>(index), model).unwrap();
		}

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), model);

		assert!(ProvidersOf::<T>::get(model).contains(&who));
	}

	#[benchmark]
	fn stop_serving() {
		let model = served_model::<T>();
		let who = ProvidersOf::<T>::get(model).last().cloned().unwrap();

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), model);

		assert!(!ProvidersOf::<T>::get(model).contains(&who));
	}

	#[benchmark]
	fn pause() {
		let who = provider::<T>(0);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert_eq!(Providers::<T>::get(&who).unwrap().status, ProviderStatus::Paused);
	}

	#[benchmark]
	fn resume() {
		let who = provider::<T>(0);
		Pallet::<T>::do_pause(who.clone()).unwrap();

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert_eq!(Providers::<T>::get(&who).unwrap().status, ProviderStatus::Active);
	}

	#[benchmark]
	fn leave(m: Linear<0, { T::MaxModelsPerProvider::get() }>) {
		let who = provider::<T>(0);
		for _ in 0..m {
			let model = T::BenchmarkHelper::create_model(&funded::<T>("owner", 0));
			Pallet::<T>::do_serve_model(who.clone(), model).unwrap();
		}

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert!(Providers::<T>::get(&who).unwrap().models.is_empty());
	}

	#[benchmark]
	fn withdraw_bond() {
		let who = provider::<T>(0);
		Pallet::<T>::do_leave(who.clone()).unwrap();
		frame_system::Pallet::<T>::set_block_number(
			frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingDelay::get()),
		);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));

		assert!(!Providers::<T>::contains_key(&who));
	}

	#[benchmark]
	fn set_price() {
		let owner = funded::<T>("owner", 0);
		let model = T::BenchmarkHelper::create_model(&owner);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), model, 1_000u32.into());

		assert!(ModelPrices::<T>::contains_key(model));
	}

	#[benchmark]
	fn request_inference(l: Linear<32, { T::MaxInputLen::get() }>) {
		let model = served_model::<T>();
		let requester = funded::<T>("requester", 0);
		let input = text_input(l);

		#[extrinsic_call]
		_(RawOrigin::Signed(requester), model, input, BalanceOf::<T>::max_value());

		assert!(Requests::<T>::contains_key(0));
	}

	#[benchmark]
	fn request_inference_cid() {
		let model = served_model::<T>();
		let requester = funded::<T>("requester", 0);
		// A CIDv0 in binary form (a bare sha2-256 multihash): the longest path, converted to
		// CIDv1.
		let cid = [&[0x12, 0x20][..], &[7; 32]].concat();

		#[extrinsic_call]
		_(RawOrigin::Signed(requester), model, cid, BalanceOf::<T>::max_value());

		let request = Requests::<T>::get(0).unwrap();
		assert!(matches!(request.input, RequestInput::Cid(_)));
	}

	#[benchmark]
	fn expire(n: Linear<0, { T::MaxRequestsPerBlock::get() }>) {
		let model = served_model::<T>();
		let requester = funded::<T>("requester", 0);
		for _ in 0..n {
			Pallet::<T>::do_request_inference(
				requester.clone(),
				model,
				text_input(T::MaxInputLen::get()),
				BalanceOf::<T>::max_value(),
			)
			.unwrap();
		}
		let deadline =
			frame_system::Pallet::<T>::block_number().saturating_add(T::RequestTimeout::get());

		#[block]
		{
			Pallet::<T>::expire(deadline);
		}

		assert_eq!(Requests::<T>::iter().count(), 0);
	}

	#[benchmark]
	fn on_model_removed(p: Linear<0, { T::MaxProvidersPerModel::get() }>) {
		let model = T::BenchmarkHelper::create_model(&funded::<T>("owner", 0));
		for index in 0..p {
			Pallet::<T>::do_serve_model(provider::<T>(index), model).unwrap();
		}

		#[block]
		{
			<Pallet<T> as OnModelRemoved>::on_model_removed(model, &[]);
		}

		assert!(!ProvidersOf::<T>::contains_key(model));
	}

	#[benchmark]
	fn submit_result(o: Linear<32, { T::MaxOutputLen::get() }>) {
		let (result, signature) = signed_result::<T>(o);
		let request_id = result.request_id;

		#[extrinsic_call]
		_(RawOrigin::Authorized, result, signature);

		assert!(Receipts::<T>::contains_key(request_id));
	}

	#[benchmark]
	fn authorize_submit_result() -> Result<(), BenchmarkError> {
		let (result, signature) = signed_result::<T>(T::MaxOutputLen::get());
		let call: <T as frame_system::Config>::RuntimeCall =
			Call::submit_result { result, signature }.into();

		#[block]
		{
			authorize::<T>(&call, "submit_result")?;
		}
		Ok(())
	}

	#[benchmark]
	fn set_terms() {
		let owner = funded::<T>("owner", 0);
		let model = T::BenchmarkHelper::create_model(&owner);
		let n = T::MaxQuorum::get() as u8;
		let quorum = Verification::Quorum { n, k: n };

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), model, quorum, Comparison::Quantized { fraction_bits: 16 });

		assert_eq!(Pallet::<T>::terms(model).verification, quorum);
	}

	#[benchmark]
	fn commit_result() {
		// The request's one commitment taken back: the first commitment, before the window
		// closes.
		let (result, _, _) = quorum_reveal::<T>(1);
		let (request_id, provider) = (result.request_id, result.provider);
		Votes::<T>::remove(request_id, &provider);
		let request = Requests::<T>::get(request_id).unwrap();
		frame_system::Pallet::<T>::set_block_number(request.submitted_at);
		let commitment =
			ResultCommitment::<T> { request_id, provider: provider.clone(), commitment: [1; 32] };
		let key = Providers::<T>::get(&provider).unwrap().key;
		let signature = commitment.using_encoded(|encoded| key.sign(&encoded)).unwrap();

		#[extrinsic_call]
		_(RawOrigin::Authorized, commitment, signature);

		assert!(Votes::<T>::contains_key(request_id, &provider));
	}

	#[benchmark]
	fn authorize_commit_result() -> Result<(), BenchmarkError> {
		let (result, _, _) = quorum_reveal::<T>(1);
		let (request_id, provider) = (result.request_id, result.provider);
		Votes::<T>::remove(request_id, &provider);
		let request = Requests::<T>::get(request_id).unwrap();
		frame_system::Pallet::<T>::set_block_number(request.submitted_at);
		let commitment =
			ResultCommitment::<T> { request_id, provider: provider.clone(), commitment: [1; 32] };
		let key = Providers::<T>::get(&provider).unwrap().key;
		let signature = commitment.using_encoded(|encoded| key.sign(&encoded)).unwrap();
		let call: <T as frame_system::Config>::RuntimeCall =
			Call::commit_result { commitment, signature }.into();

		#[block]
		{
			authorize::<T>(&call, "commit_result")?;
		}
		Ok(())
	}

	#[benchmark]
	fn reveal_result(v: Linear<1, { T::MaxQuorum::get() }>) {
		let (result, salt, signature) = quorum_reveal::<T>(v);
		let request_id = result.request_id;

		#[extrinsic_call]
		_(RawOrigin::Authorized, result, salt, signature);

		// Every vote is in: the request settled.
		assert!(!Requests::<T>::contains_key(request_id));
	}

	#[benchmark]
	fn authorize_reveal_result() -> Result<(), BenchmarkError> {
		let (result, salt, signature) = quorum_reveal::<T>(T::MaxQuorum::get());
		let call: <T as frame_system::Config>::RuntimeCall =
			Call::reveal_result { result, salt, signature }.into();

		#[block]
		{
			authorize::<T>(&call, "reveal_result")?;
		}
		Ok(())
	}

	#[benchmark]
	fn purge_receipt() {
		let (result, signature) = signed_result::<T>(T::MaxOutputLen::get());
		let request_id = result.request_id;
		Pallet::<T>::do_submit_result(result, signature).unwrap();
		let old = frame_system::Pallet::<T>::block_number()
			.saturating_add(T::ReceiptRetention::get())
			.saturating_add(1u32.into());
		frame_system::Pallet::<T>::set_block_number(old);
		let caller = funded::<T>("purger", 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), request_id);

		assert!(!Receipts::<T>::contains_key(request_id));
	}

	#[benchmark]
	fn dispute_result(o: Linear<32, { T::MaxOutputLen::get() }>) {
		let (result, signature) = optimistic_dispute::<T>(o);
		let request_id = result.request_id;

		#[extrinsic_call]
		_(RawOrigin::Authorized, result, signature);

		let request = Requests::<T>::get(request_id).unwrap();
		assert!(matches!(request.stage, Stage::Disputed { .. }));
	}

	#[benchmark]
	fn authorize_dispute_result() -> Result<(), BenchmarkError> {
		let (result, signature) = optimistic_dispute::<T>(T::MaxOutputLen::get());
		let call: <T as frame_system::Config>::RuntimeCall =
			Call::dispute_result { result, signature }.into();

		#[block]
		{
			authorize::<T>(&call, "dispute_result")?;
		}
		Ok(())
	}

	#[benchmark]
	fn deliver_callback() -> Result<(), BenchmarkError> {
		let request_id = due_callback::<T>()?;

		#[extrinsic_call]
		_(RawOrigin::Authorized, request_id, callback_limit::<T>());

		assert!(!Callbacks::<T>::contains_key(request_id));
		Ok(())
	}

	#[benchmark]
	fn authorize_deliver_callback() -> Result<(), BenchmarkError> {
		let request_id = due_callback::<T>()?;
		let call: <T as frame_system::Config>::RuntimeCall =
			Call::deliver_callback { request_id, weight_limit: callback_limit::<T>() }.into();

		#[block]
		{
			authorize::<T>(&call, "deliver_callback")?;
		}
		Ok(())
	}

	#[benchmark]
	fn raise_callback_limit() -> Result<(), BenchmarkError> {
		let (request_id, requester) = callback_request::<T>()?;
		let higher = callback_limit::<T>().saturating_mul(2);

		#[extrinsic_call]
		_(RawOrigin::Signed(requester), request_id, higher);

		assert_eq!(Callbacks::<T>::get(request_id).unwrap().weight_limit, higher);
		Ok(())
	}

	#[benchmark]
	fn cancel_request() -> Result<(), BenchmarkError> {
		let (request_id, requester) = callback_request::<T>()?;

		#[extrinsic_call]
		_(RawOrigin::Signed(requester), request_id);

		assert!(!Requests::<T>::contains_key(request_id));
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
