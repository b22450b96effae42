//! Hostile and mutated model files: the loaders refuse them with an error, never a panic, an
//! abort or an allocation the file did not pay for. Seeds and hand-made hostile files live in
//! `tests/corpus/` (`make_corpus.py`); proptest mutates the seeds (fixed RNG seed, so CI runs
//! the same cases; `PROPTEST_CASES` runs more).

mod common;

use citrate_inference::{
	codec::{DType, Tensor},
	onnx::{Dim, LoadOptions, OnnxModel},
	Limits,
};
use proptest::{prelude::*, test_runner::RngSeed};
use std::path::PathBuf;

fn corpus(kind: &str) -> Vec<(String, Vec<u8>)> {
	let dir =
		PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
			.join("tests/corpus")
			.join(kind);
	let mut files: Vec<_> = std::fs::read_dir(&dir)
		.unwrap()
		.map(|e| e.unwrap().path())
		.map(|p| {
			(p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap())
		})
		.collect();
	files.sort();
	files
}

fn small_limits() -> LoadOptions {
	LoadOptions {
		limits: Limits {
			max_model_bytes: 1 << 20,
			max_model_tensor_elements: 1 << 20,
			max_input_elements: 1 << 16,
			max_flops: 1 << 30,
			max_memory_bytes: 256 << 20,
			max_wall_time: std::time::Duration::from_secs(2),
			..Limits::default()
		},
		..LoadOptions::default()
	}
}

/// Zero inputs matching the model's specs (symbolic dims 1).
fn zero_inputs(model: &OnnxModel) -> Vec<Tensor> {
	model
		.inputs()
		.iter()
		.filter_map(|spec| {
			let dtype = spec.dtype;
			let shape: Vec<u32> = spec
				.dims
				.iter()
				.map(|d| match d {
					Dim::Fixed(n) => (*n).min(64) as u32,
					Dim::Symbolic(_) => 1,
				})
				.collect();
			let elements: usize = shape.iter().map(|&d| d as usize).product();
			Tensor::new(spec.name(), dtype, shape, vec![0; elements * dtype.size()]).ok()
		})
		.collect()
}

#[test]
fn the_seed_model_runs() {
	let (_, mlp) = corpus("onnx").into_iter().find(|(n, _)| n == "mlp.onnx").unwrap();
	let model = OnnxModel::load(&mlp, &small_limits()).unwrap();
	let x = Tensor::from_f32("x", vec![2, 4], &[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]).unwrap();
	let y = model.run(&[x]).unwrap()[0].to_f32().unwrap();
	// Row 0 picks w[0] = [0, .1, .2] and row 1 w[3] = [.9, 1.0, 1.1]; + b, then ReLU.
	let expected = [0.5, 0.0, 0.2, 1.4, 0.5, 1.1];
	for (a, e) in y.iter().zip(expected) {
		assert!((a - e).abs() < 1e-6, "{y:?}");
	}
}

#[test]
fn hostile_onnx_files_are_refused_with_clear_errors() {
	for (name, bytes) in corpus("onnx").into_iter().filter(|(n, _)| n != "mlp.onnx") {
		let error = OnnxModel::load(&bytes, &small_limits())
			.and_then(|model| model.run(&zero_inputs(&model)))
			.expect_err(&name);
		println!("{name}: {error}");
		let message = error.to_string();
		assert!(!message.contains("panicked"), "{name}: {message}");
		assert!(!message.is_empty());
	}
}

#[cfg(feature = "candle")]
#[test]
fn hostile_safetensors_are_refused_before_candle_reads_them() {
	use citrate_inference::candle::check_safetensors;
	for (name, bytes) in corpus("safetensors") {
		let result = check_safetensors(&bytes, &small_limits().limits);
		println!("{name}: {result:?}");
		assert_eq!(result.is_ok(), name == "tiny.safetensors", "{name}");
	}
}

fn mutate(seed: &[u8], edits: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
	let mut bytes = seed.to_vec();
	for &(at, value) in edits {
		if !bytes.is_empty() {
			let i = at % bytes.len();
			bytes[i] = value;
		}
	}
	if let Some(cut) = cut {
		bytes.truncate(cut % (bytes.len() + 1));
	}
	bytes
}

proptest! {
	#![proptest_config(ProptestConfig {
		cases: 2000,
		rng_seed: RngSeed::Fixed(0xC17A_7E00),
		failure_persistence: None,
		..ProptestConfig::default()
	})]

	#[test]
	fn mutated_onnx_never_panics(
		seed in 0usize..16,
		edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..6),
		cut in prop::option::of(any::<usize>()),
	) {
		let seeds = corpus("onnx");
		let (_, bytes) = &seeds[seed % seeds.len()];
		let bytes = mutate(bytes, &edits, cut);
		if let Ok(model) = OnnxModel::load(&bytes, &small_limits()) {
			let _ = model.run(&zero_inputs(&model));
		}
	}

	#[test]
	fn random_bytes_are_not_models(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
		prop_assert!(OnnxModel::load(&bytes, &small_limits()).is_err() || bytes.len() < 4);
	}
}

#[cfg(feature = "candle")]
proptest! {
	#![proptest_config(ProptestConfig {
		cases: 2000,
		rng_seed: RngSeed::Fixed(0xC17A_7E01),
		failure_persistence: None,
		..ProptestConfig::default()
	})]

	#[test]
	fn mutated_safetensors_never_panic(
		seed in 0usize..8,
		edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..6),
		cut in prop::option::of(any::<usize>()),
	) {
		let seeds = corpus("safetensors");
		let (_, bytes) = &seeds[seed % seeds.len()];
		let bytes = mutate(bytes, &edits, cut);
		if citrate_inference::candle::check_safetensors(&bytes, &small_limits().limits).is_ok() {
			// What passes the check is safe for candle to read.
			let device = citrate_inference::candle::device(true).unwrap();
			let _ = candle_nn::VarBuilder::from_slice_safetensors(&bytes, candle_core::DType::F32, &device)
				.and_then(|vb| vb.get((2, 2), "w"));
		}
	}
}

#[test]
fn dtype_and_name_checks_hold_for_every_codec_dtype() {
	// The codec's dtypes either map to tract or are refused by name (bf16).
	for dtype in DType::ALL {
		let t = Tensor::new("t", dtype, vec![1], vec![0; dtype.size()]).unwrap();
		let converted = citrate_inference::tensor::to_tract(&t);
		assert_eq!(converted.is_err(), dtype == DType::BF16, "{dtype:?}");
	}
}

#[cfg(feature = "candle")]
proptest! {
	#![proptest_config(ProptestConfig {
		cases: 2000,
		rng_seed: RngSeed::Fixed(0xC17A_7E02),
		failure_persistence: None,
		..ProptestConfig::default()
	})]

	/// GGUF headers with hostile counts and lengths: refused, never a panic or a huge
	/// allocation.
	#[test]
	fn hostile_gguf_headers_are_refused(
		version in 1u32..4,
		tensors in any::<u64>(),
		entries in any::<u64>(),
		body in prop::collection::vec(any::<u8>(), 0..256),
	) {
		let mut bytes = b"GGUF".to_vec();
		bytes.extend(version.to_le_bytes());
		bytes.extend(tensors.to_le_bytes());
		bytes.extend(entries.to_le_bytes());
		bytes.extend(body);
		let device = citrate_inference::candle::device(true).unwrap();
		let loaded = citrate_inference::candle::gemma::GemmaModel::load(&bytes, &device, &Limits::default());
		prop_assert!(loaded.is_err());
	}
}

/// A GGUF file whose one tensor claims 2^40 × 2^40 elements: refused by its shape before
/// anything multiplies the dims out or reads the data.
#[cfg(feature = "candle")]
#[test]
fn gguf_tensor_shapes_are_checked_before_use() {
	let mut bytes = b"GGUF".to_vec();
	bytes.extend(3u32.to_le_bytes()); // version
	bytes.extend(1u64.to_le_bytes()); // tensors
	bytes.extend(0u64.to_le_bytes()); // metadata entries
	bytes.extend(4u64.to_le_bytes());
	bytes.extend(b"huge");
	bytes.extend(2u32.to_le_bytes()); // dims
	bytes.extend((1u64 << 40).to_le_bytes());
	bytes.extend((1u64 << 40).to_le_bytes());
	bytes.extend(0u32.to_le_bytes()); // f32
	bytes.extend(0u64.to_le_bytes()); // offset
	bytes.resize(bytes.len() + 64, 0);
	let device = citrate_inference::candle::device(true).unwrap();
	let error =
		citrate_inference::candle::gemma::GemmaModel::load(&bytes, &device, &Limits::default())
			.err()
			.expect("refused");
	assert!(error.to_string().contains("tensor `huge` has shape"), "{error}");
}
