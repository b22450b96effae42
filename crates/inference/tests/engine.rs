//! The tract backend's guarantees on a real model (MiniLM int8): determinism and the output
//! hash, the cost model, the caps, input checking and the shared model cache.

mod common;

use citrate_inference::{
	cache::ModelCache,
	codec::{DType, Dim, Tensor, TensorSpec},
	onnx::{LoadOptions, OnnxModel},
	proof::{output_hash, quantize_outputs, Quantization},
	Error, Limits,
};
use citrate_inference_primitives::request::RequestError;
use common::*;
use std::{sync::Arc, time::Duration};

const MINILM: &str = "all-minilm-l6-v2-int8/model.onnx";

fn load_with(limits: Limits, threads: usize) -> Result<OnnxModel, Error> {
	OnnxModel::load(&read_model(MINILM), &LoadOptions { limits, threads, ..LoadOptions::default() })
}

fn minilm() -> OnnxModel {
	load_with(Limits::default(), 1).expect("loads")
}

/// BERT inputs for `batch` rows of `sequence` tokens (token ids from an LCG).
fn bert_inputs(batch: u32, sequence: u32) -> Vec<Tensor> {
	let n = (batch * sequence) as usize;
	let ids: Vec<i64> = lcg_values(n, 9).iter().map(|v| 1000 + (v * 20_000.0) as i64).collect();
	let i64s = |name: &str, values: Vec<i64>| {
		Tensor::new(
			name,
			DType::I64,
			vec![batch, sequence],
			values.iter().flat_map(|v| v.to_le_bytes()).collect(),
		)
		.unwrap()
	};
	vec![
		i64s("input_ids", ids),
		i64s("attention_mask", vec![1; n]),
		i64s("token_type_ids", vec![0; n]),
	]
}

#[test]
fn a_profiled_run_computes_the_same_and_times_every_node() {
	let inputs = bert_inputs(1, 16);
	let model = minilm();
	let (outputs, times) = model.profile(&inputs).unwrap();
	assert_eq!(outputs, model.run(&inputs).unwrap());
	// Six encoder layers: at least their query, key, value, output and two feed-forward
	// products each, all through tract's optimised matrix product.
	let matmuls = times.iter().find(|t| t.op == "OptMatMul").expect("matrix products");
	assert!(matmuls.calls >= 36, "{times:?}");
	assert!(times.windows(2).all(|w| w[0].spent >= w[1].spent), "most first: {times:?}");
}

#[test]
fn outputs_are_bit_identical_across_runs_loads_and_thread_counts() {
	let inputs = bert_inputs(2, 24);
	let model = minilm();
	let first = model.run(&inputs).unwrap();
	let hash = output_hash(&first).unwrap();
	for _ in 0..3 {
		assert_eq!(output_hash(&model.run(&inputs).unwrap()).unwrap(), hash);
	}
	assert_eq!(output_hash(&minilm().run(&inputs).unwrap()).unwrap(), hash, "fresh load");
	let threaded = load_with(Limits::default(), 2).unwrap();
	assert_eq!(output_hash(&threaded.run(&inputs).unwrap()).unwrap(), hash, "2 threads");
	// Concurrent requests on one loaded model each get the same bits.
	let model = Arc::new(model);
	let handles: Vec<_> = (0..4)
		.map(|_| {
			let (model, inputs) = (model.clone(), inputs.clone());
			std::thread::spawn(move || output_hash(&model.run(&inputs).unwrap()).unwrap())
		})
		.collect();
	for handle in handles {
		assert_eq!(handle.join().unwrap(), hash);
	}
	// Another input gives another hash.
	assert_ne!(output_hash(&model.run(&bert_inputs(2, 23)).unwrap()).unwrap(), hash);
}

#[test]
fn quantised_outputs_absorb_last_bit_differences() {
	let outputs = minilm().run(&bert_inputs(1, 8)).unwrap();
	let values = outputs[0].to_f32().unwrap();
	// The same outputs with every value nudged by one ulp.
	let nudged: Vec<f32> = values.iter().map(|v| f32::from_bits(v.to_bits() ^ 1)).collect();
	let nudged =
		vec![Tensor::from_f32(&*outputs[0].name, outputs[0].shape.clone(), &nudged).unwrap()];
	assert_ne!(output_hash(&outputs).unwrap(), output_hash(&nudged).unwrap());
	let grid = Quantization::new(8).unwrap();
	let (a, b) = (quantize_outputs(&outputs, grid), quantize_outputs(&nudged, grid));
	let a_values = a[0].to_f32().unwrap();
	let b_values = b[0].to_f32().unwrap();
	let differing = a_values.iter().zip(&b_values).filter(|(x, y)| x != y).count();
	// Only values within an ulp of a rounding boundary can still differ.
	assert!(differing * 1000 < a_values.len(), "{differing} of {}", a_values.len());
}

#[test]
fn cost_estimate_matches_the_architecture() {
	let model = minilm();
	let estimate = |batch, sequence| model.estimate(&bert_inputs(batch, sequence)).unwrap();
	// BERT (6 layers, hidden 384, FFN 1536): per token and layer 2·(4·h² + 2·h·ff) FLOPs in
	// the projections, plus 2·2·sequence·h in attention.
	let formula = |sequence: u128| {
		let (h, ff, layers) = (384u128, 1536u128, 6u128);
		layers * sequence * (2 * (4 * h * h + 2 * h * ff) + 4 * sequence * h)
	};
	for sequence in [16u32, 64, 128] {
		let e = estimate(1, sequence);
		let expected = formula(u128::from(sequence));
		let ratio = e.flops as f64 / expected as f64;
		println!("sequence {sequence}: {} FLOPs, formula {expected}, ratio {ratio:.3}", e.flops);
		assert!((0.9..1.5).contains(&ratio), "ratio {ratio}");
		// 22 MB of int8 weights, with the word embeddings (30522 × 384) folded to f32 at load.
		assert!(e.weight_bytes > 45_000_000 && e.weight_bytes < 50_000_000, "{e:?}");
	}
	let (small, large) = (estimate(1, 16), estimate(4, 16));
	assert!(large.flops > 3 * small.flops && large.flops < 5 * small.flops);
	assert!(large.peak_activation_bytes > small.peak_activation_bytes);
	// The last hidden state alone (batch × sequence × 384 × 4 bytes) is alive at the end.
	assert!(large.peak_activation_bytes >= 4 * 16 * 384 * 4);
}

#[test]
fn a_metered_call_adds_up_the_runs_inside_it() {
	let model = minilm();
	let (one, two) = (bert_inputs(1, 16), bert_inputs(2, 32));
	let (outputs, spent) = citrate_inference::cost::metered(|| model.run(&one).unwrap());
	assert_eq!(outputs, model.run(&one).unwrap());
	assert_eq!(spent, model.estimate(&one).unwrap());
	let (_, both) = citrate_inference::cost::metered(|| {
		model.run(&one).unwrap();
		// A metered call inside another counts toward both.
		let (_, inner) = citrate_inference::cost::metered(|| model.run(&two).unwrap());
		assert_eq!(inner, model.estimate(&two).unwrap());
	});
	let (a, b) = (model.estimate(&one).unwrap(), model.estimate(&two).unwrap());
	assert_eq!(both.flops, a.flops + b.flops);
	assert_eq!(both.peak_activation_bytes, a.peak_activation_bytes.max(b.peak_activation_bytes));
	// Outside a meter, runs are not counted anywhere.
	model.run(&one).unwrap();
	assert_eq!(citrate_inference::cost::metered(|| ()).1, Default::default());
}

#[test]
fn caps_refuse_before_running() {
	let inputs = bert_inputs(1, 32);
	let flops = minilm().estimate(&inputs).unwrap().flops;

	let limits = Limits { max_flops: flops - 1, ..Limits::default() };
	let error = load_with(limits, 1).unwrap().run(&inputs).unwrap_err();
	assert!(matches!(error, Error::TooManyFlops { .. }), "{error}");

	let limits = Limits { max_memory_bytes: 1 << 20, ..Limits::default() };
	let error = load_with(limits, 1).unwrap().run(&inputs).unwrap_err();
	assert!(matches!(error, Error::TooMuchMemory { .. }), "{error}");

	let limits = Limits { max_input_elements: 31, ..Limits::default() };
	let error = load_with(limits, 1).unwrap().run(&inputs).unwrap_err();
	assert!(matches!(error, Error::TooManyElements { elements: 32, .. }), "{error}");

	let limits = Limits { max_model_bytes: 1 << 20, ..Limits::default() };
	let error = load_with(limits, 1).unwrap_err();
	assert!(matches!(error, Error::ModelTooLarge { .. }), "{error}");

	let limits = Limits { max_model_tensor_elements: 1000, ..Limits::default() };
	let error = load_with(limits, 1).unwrap_err();
	assert!(matches!(error, Error::InvalidModel(_)), "{error}");
	assert!(error.to_string().contains("over the limit"), "{error}");
}

#[test]
fn wall_time_limit_stops_a_run_between_nodes() {
	let limits = Limits { max_wall_time: Duration::from_millis(1), ..Limits::default() };
	let model = load_with(limits, 1).unwrap();
	let started = std::time::Instant::now();
	let error = model.run(&bert_inputs(8, 128)).unwrap_err();
	assert!(matches!(error, Error::Timeout { limit_ms: 1 }), "{error}");
	// The whole run takes far longer than the time to stop it (seconds in a debug build).
	println!("stopped after {:?}", started.elapsed());
}

#[test]
fn bad_inputs_get_clear_errors() {
	let model = minilm();
	let mut inputs = bert_inputs(1, 8);

	let missing = model.run(&inputs[..2]).unwrap_err();
	assert!(
		matches!(&missing, Error::Request(RequestError::MissingInput(n)) if n == "token_type_ids"),
		"{missing}"
	);

	let mut extra = inputs.clone();
	extra.push(Tensor::from_f32("pixels", vec![1], &[0.0]).unwrap());
	let error = model.run(&extra).unwrap_err();
	assert!(
		matches!(&error, Error::Request(RequestError::UnknownInput(n)) if n == "pixels"),
		"{error}"
	);

	let mut wrong_type = inputs.clone();
	wrong_type[0] = Tensor::new("input_ids", DType::I32, vec![1, 8], vec![0; 32]).unwrap();
	assert_eq!(
		model.run(&wrong_type).unwrap_err().to_string(),
		"request: input `input_ids` must be input_ids: i64[batch, sequence], not i32 [1, 8]"
	);

	let mut wrong_rank = inputs.clone();
	wrong_rank[1] = Tensor::new("attention_mask", DType::I64, vec![8], vec![0; 64]).unwrap();
	let error = model.run(&wrong_rank).unwrap_err();
	assert!(
		matches!(&error, Error::Request(RequestError::InputMismatch { shape, .. }) if shape == &[8]),
		"{error}"
	);

	// `sequence` is 8 in input_ids and 7 here.
	inputs[2] = Tensor::new("token_type_ids", DType::I64, vec![1, 7], vec![0; 56]).unwrap();
	let error = model.run(&inputs).unwrap_err();
	assert!(error.to_string().contains("sequence = 8"), "{error}");

	// A tensor built without the codec's checks.
	let mut lying = bert_inputs(1, 8);
	lying[0].data.truncate(10);
	assert!(matches!(model.run(&lying).unwrap_err(), Error::Codec(_)));
}

#[test]
fn registered_metadata_is_checked_against_the_loaded_model() {
	let model = minilm();
	let inputs = model.inputs().to_vec();
	let outputs = model.outputs().expect("typed with symbolic dims").to_vec();
	assert_eq!(
		inputs.iter().map(ToString::to_string).collect::<Vec<_>>(),
		[
			"input_ids: i64[batch, sequence]",
			"attention_mask: i64[batch, sequence]",
			"token_type_ids: i64[batch, sequence]"
		]
	);
	model.check_registered(&inputs, &outputs).expect("the model's own specs match");

	// A registration that fixes the batch narrows the model and is accepted.
	let mut narrowed = inputs.clone();
	narrowed[0] = TensorSpec::new(
		"input_ids",
		DType::I64,
		vec![Dim::Fixed(1), Dim::symbolic("seq").unwrap()],
	)
	.unwrap();
	model.check_registered(&narrowed, &outputs).unwrap();

	let mut int32 = inputs.clone();
	int32[0].dtype = DType::I32;
	assert_eq!(
		model.check_registered(&int32, &outputs).unwrap_err().to_string(),
		"registered metadata does not match the model: input `input_ids` is i64 in the model but \
		 i32 in the metadata"
	);
	assert_eq!(
		model.check_registered(&inputs[..2], &outputs).unwrap_err().to_string(),
		"registered metadata does not match the model: the metadata registers 2 inputs but the \
		 model has 3"
	);
	let mut renamed = outputs.clone();
	renamed[0].name = b"embedding".to_vec().try_into().unwrap();
	let error = model.check_registered(&inputs, &renamed).unwrap_err().to_string();
	assert!(error.ends_with("in the model but `embedding` in the metadata"), "{error}");
}

#[test]
fn the_cache_loads_a_real_model_once_for_concurrent_requests() {
	let bytes = Arc::new(read_model(MINILM));
	let cache = Arc::new(ModelCache::new(256 << 20));
	let inputs = bert_inputs(1, 8);
	let handles: Vec<_> = (0..4)
		.map(|_| {
			let (cache, bytes, inputs) = (cache.clone(), bytes.clone(), inputs.clone());
			std::thread::spawn(move || {
				let model = cache
					.get_or_load(b"minilm", bytes.len() as u64, || {
						OnnxModel::load(&bytes, &LoadOptions::default())
					})
					.unwrap();
				output_hash(&model.run(&inputs).unwrap()).unwrap()
			})
		})
		.collect();
	let hashes: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
	assert!(hashes.windows(2).all(|w| w[0] == w[1]));
	let stats = cache.stats();
	assert_eq!((stats.loads, stats.hits, stats.models), (1, 3, 1));
	assert!(stats.used_bytes > 45_000_000, "{stats:?}");
}
