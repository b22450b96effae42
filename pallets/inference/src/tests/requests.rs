//! Requests: prices, inputs checked against the task, access, fees held, assignment, expiry.

use super::*;
use citrate_tensor_primitives::{encode, DType, Dim, Tensor, TensorSpec};
use pallet_model_registry::{LicenseKind, ModelMetadata};

const FLOPS: u64 = 1_000_000;
const MEMORY: u64 = 2_000;

/// Sets `model_id`'s metadata: `task`, `inputs`, and the cost figures above.
fn describe(model_id: ModelId, task: InferenceTask, inputs: Vec<TensorSpec>) {
	let metadata = ModelMetadata {
		description: Default::default(),
		task,
		inputs: inputs.try_into().unwrap(),
		outputs: Default::default(),
		parameter_count: 1,
		flops_per_inference: FLOPS,
		min_memory_bytes: MEMORY,
		tags: Default::default(),
		documentation: Default::default(),
		tokenizer_cid: None,
		import_attestation: None,
	};
	assert_ok!(ModelRegistry::set_metadata(RuntimeOrigin::signed(OWNER), model_id, metadata));
}

/// An open-source feature-extraction model served by Alice.
fn served_text_model() -> ModelId {
	let model = register_model(1);
	describe(model, InferenceTask::FeatureExtraction, vec![]);
	register(ALICE);
	assert_ok!(Inference::serve_model(RuntimeOrigin::signed(ALICE), model));
	model
}

fn text(value: &str) -> Vec<u8> {
	let tensor = Tensor::new("text", DType::U8, vec![value.len() as u32], value.into()).unwrap();
	encode(&[tensor]).unwrap()
}

/// `ref_time = 100 µs + 50 ps × FLOPs + 100 ps × bytes`, one planck per picosecond.
const COMPUTE_FEE: Balance = 100_000_000 + 50 * FLOPS as Balance + 100 * MEMORY as Balance;

fn fees_held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::RequestFees.into(), &who)
}

fn request(model: ModelId, input: Vec<u8>) -> DispatchResult {
	Inference::request_inference(RuntimeOrigin::signed(BUYER), model, input, Balance::MAX)
}

#[test]
fn a_request_is_checked_priced_held_and_assigned() {
	new_test_ext().execute_with(|| {
		let model = served_text_model();
		assert_ok!(Inference::set_price(RuntimeOrigin::signed(OWNER), model, 500));
		assert_eq!(Inference::quote(model), Some((500, COMPUTE_FEE)));
		let input = text("a sentence");
		assert_ok!(request(model, input.clone()));

		let stored = Inference::request(0).expect("stored");
		assert_eq!(stored.input, RequestInput::Inline(input.clone().try_into().unwrap()));
		assert_eq!(stored.input_hash, polkadot_sdk::sp_io::hashing::blake2_256(&input));
		assert_eq!((stored.price, stored.compute_fee), (500, COMPUTE_FEE));
		assert_eq!(
			(stored.providers.to_vec(), stored.submitted_at, stored.deadline),
			(vec![ALICE], 1, 11)
		);
		assert_eq!(
			(stored.terms, stored.commits_close),
			(ModelTerms::default(), 1 + COMMIT_WINDOW)
		);
		assert_eq!(fees_held(BUYER), 500 + COMPUTE_FEE);
		assert_eq!(Inference::provider(ALICE).unwrap().assigned, 1);
		assert_eq!(Expiring::<Test>::get(11).into_inner(), vec![0]);
		// The use was recorded in the registry through the access pallet.
		assert_eq!(pallet_model_registry::Models::<Test>::get(model).unwrap().usage_count, 1);
		assert_eq!(
			last_event(),
			Event::InferenceRequested {
				request_id: 0,
				requester: BUYER,
				model_id: model,
				providers: vec![ALICE],
				input_hash: stored.input_hash,
				price: 500,
				compute_fee: COMPUTE_FEE,
				deadline: 11,
			}
			.into()
		);
		assert_ok!(request(model, text("another")));
		assert_eq!(NextRequestId::<Test>::get(), 2);
	});
}

#[test]
fn bad_requests_are_refused_and_store_hold_and_spend_nothing() {
	new_test_ext().execute_with(|| {
		let model = served_text_model();
		assert_noop!(request(99, text("x")), Error::<Test>::ModelNotFound);
		let undescribed = register_model(2);
		assert_noop!(request(undescribed, text("x")), Error::<Test>::NoMetadata);
		assert_noop!(
			request(model, vec![0; MAX_INPUT_LEN as usize + 1]),
			Error::<Test>::InputTooLarge
		);
		assert_noop!(
			request(model, b"not a tensor payload".to_vec()),
			Error::<Test>::MalformedInput
		);
		let mut trailing = text("x");
		trailing.push(0);
		assert_noop!(request(model, trailing), Error::<Test>::MalformedInput);
		let image = encode(&[Tensor::new("image", DType::U8, vec![1], vec![0]).unwrap()]).unwrap();
		assert_noop!(request(model, image), Error::<Test>::InputNotForTask);
		assert_noop!(
			Inference::request_inference(
				RuntimeOrigin::signed(BUYER),
				model,
				text("x"),
				COMPUTE_FEE - 1
			),
			Error::<Test>::FeeAboveMax
		);
		assert_noop!(
			Inference::request_inference(
				RuntimeOrigin::signed(POOR),
				model,
				text("x"),
				Balance::MAX
			),
			Error::<Test>::InsufficientFunds
		);
		// Only paused providers: nobody would answer.
		assert_ok!(Inference::pause(RuntimeOrigin::signed(ALICE)));
		assert_noop!(request(model, text("x")), Error::<Test>::NoProvider);
		assert_ok!(Inference::resume(RuntimeOrigin::signed(ALICE)));
		// A deprecated model takes no requests.
		assert_ok!(ModelRegistry::deprecate(RuntimeOrigin::signed(OWNER), model));
		assert_noop!(request(model, text("x")), Error::<Test>::ModelInactive);
		assert_eq!(fees_held(BUYER), 0);
		assert_eq!(Requests::<Test>::iter().count(), 0);
	});
}

#[test]
fn a_model_with_tiers_needs_access_and_spends_a_use() {
	new_test_ext().execute_with(|| {
		let model = register_licensed_model(3, LicenseKind::Commercial);
		describe(model, InferenceTask::FeatureExtraction, vec![]);
		register(ALICE);
		assert_ok!(Inference::serve_model(RuntimeOrigin::signed(ALICE), model));
		assert_ok!(ModelAccess::set_tier(RuntimeOrigin::signed(OWNER), model, 0, 100, 50, 1));
		assert_noop!(request(model, text("x")), Error::<Test>::NoAccess);
		assert_ok!(ModelAccess::purchase_access(RuntimeOrigin::signed(BUYER), model, 0, 100));
		assert_ok!(request(model, text("x")));
		// The one use bought is spent.
		assert_eq!(
			ModelAccess::access_of(BUYER, model).unwrap().uses_left,
			pallet_model_access::Uses::Limited(0)
		);
		assert_noop!(request(model, text("y")), Error::<Test>::NoAccess);
		// The owner always may.
		assert_ok!(Inference::request_inference(
			RuntimeOrigin::signed(OWNER),
			model,
			text("z"),
			Balance::MAX
		));
	});
}

#[test]
fn raw_tensor_requests_follow_the_registered_inputs() {
	new_test_ext().execute_with(|| {
		let model = register_model(4);
		let x =
			TensorSpec::new("x", DType::F32, vec![Dim::symbolic("batch").unwrap(), Dim::Fixed(2)])
				.unwrap();
		describe(model, InferenceTask::RawTensors, vec![x]);
		register(ALICE);
		assert_ok!(Inference::serve_model(RuntimeOrigin::signed(ALICE), model));
		let fits = encode(&[Tensor::from_f32("x", vec![3, 2], &[0.0; 6]).unwrap()]).unwrap();
		assert_ok!(request(model, fits));
		let wide = encode(&[Tensor::from_f32("x", vec![1, 3], &[0.0; 3]).unwrap()]).unwrap();
		assert_noop!(request(model, wide), Error::<Test>::InputNotForTask);
	});
}

#[test]
fn only_the_owner_prices_a_model() {
	new_test_ext().execute_with(|| {
		let model = register_model(5);
		assert_noop!(
			Inference::set_price(RuntimeOrigin::signed(ALICE), model, 1),
			Error::<Test>::NotModelOwner
		);
		assert_noop!(
			Inference::set_price(RuntimeOrigin::signed(OWNER), 99, 1),
			Error::<Test>::ModelNotFound
		);
		assert_ok!(Inference::set_price(RuntimeOrigin::signed(OWNER), model, 7));
		assert_eq!(last_event(), Event::PriceSet { model_id: model, price: 7 }.into());
		assert_ok!(Inference::set_price(RuntimeOrigin::signed(OWNER), model, 0));
		assert!(!ModelPrices::<Test>::contains_key(model));
		assert_eq!(Inference::quote(model), None, "no metadata, no quote");
	});
}

#[test]
fn requests_are_assigned_among_active_providers_only() {
	new_test_ext().execute_with(|| {
		let model = served_text_model();
		register(BOB);
		assert_ok!(Inference::serve_model(RuntimeOrigin::signed(BOB), model));
		let mut seen = std::collections::BTreeSet::new();
		for block in 1..=8u64 {
			System::set_block_number(block);
			System::set_parent_hash([block as u8; 32].into());
			assert_ok!(request(model, text("x")));
			seen.insert(Inference::request(block - 1).unwrap().providers[0]);
		}
		assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec![ALICE, BOB], "both drawn");
		assert_ok!(Inference::pause(RuntimeOrigin::signed(BOB)));
		for n in 0..3u8 {
			System::set_parent_hash([100 + n; 32].into());
			assert_ok!(request(model, text("x")));
			assert_eq!(
				Inference::request(8 + u64::from(n)).unwrap().providers.to_vec(),
				vec![ALICE]
			);
		}
	});
}

#[test]
fn unanswered_requests_expire_and_give_the_fees_back() {
	new_test_ext().execute_with(|| {
		let model = served_text_model();
		assert_ok!(Inference::set_price(RuntimeOrigin::signed(OWNER), model, 500));
		for _ in 0..MAX_REQUESTS_PER_BLOCK {
			assert_ok!(request(model, text("x")));
		}
		assert_noop!(request(model, text("x")), Error::<Test>::TooManyRequests);
		let free_before = Balances::free_balance(BUYER);
		let held = fees_held(BUYER);
		assert_eq!(held, u128::from(MAX_REQUESTS_PER_BLOCK) * (500 + COMPUTE_FEE));

		Inference::on_initialize(1 + REQUEST_TIMEOUT);
		assert_eq!(fees_held(BUYER), 0);
		let deposits = u128::from(MAX_REQUESTS_PER_BLOCK) * RECEIPT_DEPOSIT;
		assert_eq!(Balances::free_balance(BUYER), free_before + held + deposits);
		assert_eq!(Requests::<Test>::iter().count(), 0);
		assert_eq!(Inference::provider(ALICE).unwrap().assigned, 0);
		assert!(frame_system::Pallet::<Test>::events().iter().any(|r| r.event
			== Event::RequestExpired { request_id: 3, refunded: 500 + COMPUTE_FEE }.into()));
	});
}

#[test]
fn a_provider_takes_at_most_its_capacity_per_block() {
	new_test_ext().execute_with(|| {
		let model = served_text_model();
		assert_ok!(Inference::update_provider(RuntimeOrigin::signed(ALICE), HardwareClass::Cpu, 2));
		assert_ok!(request(model, text("one")));
		assert_ok!(request(model, text("two")));
		assert_noop!(request(model, text("three")), Error::<Test>::AtCapacity);
		System::set_block_number(2);
		assert_ok!(request(model, text("three")));
		assert_eq!(Inference::provider(ALICE).unwrap().taken, (2, 1));
		assert_eq!(Inference::provider(ALICE).unwrap().assigned, 3);
	});
}
