//! Every real ONNX model through tract on a fixed input, against onnxruntime's output for the
//! same input (`scripts/goldens.py`), within a per-model tolerance.
//!
//! Tolerances (max absolute difference): tract and onnxruntime sum in different orders and use
//! different kernels, so float outputs differ in the last bits. Each tolerance is about ten
//! times what was observed on the reference machine: MiniLM int8 hidden states 7.7e-6 (1e-4),
//! Silero VAD 1e-6 (1e-4), PP-OCR det 4.5e-7 (1e-5), rec 4.9e-6 (1e-4), cls 6e-8 (1e-5),
//! terrain UNet 1.7e-5 (2e-4).

mod common;

use citrate_inference::{
	codec::{DType, Tensor},
	onnx::{LoadOptions, OnnxModel, PlanKind},
};
use common::*;

fn load(path: &str) -> OnnxModel {
	OnnxModel::load(&read_model(path), &LoadOptions::default()).expect("model loads")
}

fn i64_tensor(golden: &[Tensor], name: &str) -> Tensor {
	let t = tensor(golden, name);
	assert_eq!(t.dtype, DType::I64);
	t.clone()
}

#[test]
fn minilm_int8_matches_onnxruntime() {
	let model = load("all-minilm-l6-v2-int8/model.onnx");
	assert_eq!(model.plan_kind(), Some(PlanKind::Optimized));
	let golden = golden("minilm-int8");
	let inputs: Vec<Tensor> = ["input_ids", "attention_mask", "token_type_ids"]
		.iter()
		.map(|n| i64_tensor(&golden, n))
		.collect();
	let outputs = model.run(&inputs).expect("runs");
	let diff = max_abs_diff(&outputs[0], tensor(&golden, "last_hidden_state"));
	println!("MiniLM int8 last_hidden_state max |tract - onnxruntime| = {diff:e}");
	assert!(diff < 1e-4, "{diff}");
}

#[test]
fn silero_vad_matches_onnxruntime_chunk_by_chunk() {
	let model = load("silero-vad/silero_vad_16k.onnx");
	let golden = golden("silero-vad");
	let chunks = tensor(&golden, "chunks").to_f32().unwrap();
	let mut state = Tensor::from_f32("state", vec![2, 1, 128], &[0.0; 256]).unwrap();
	let mut probabilities = vec![];
	for chunk in chunks.chunks(576) {
		let input = Tensor::from_f32("input", vec![1, 576], chunk).unwrap();
		let outputs = model.run(&[input, state.clone()]).expect("runs");
		probabilities.extend(outputs[0].to_f32().unwrap());
		state = Tensor { name: "state".into(), ..outputs[1].clone() };
	}
	let probabilities = Tensor::from_f32("p", vec![3], &probabilities).unwrap();
	let diff = max_abs_diff(&probabilities, tensor(&golden, "probabilities"));
	println!("Silero VAD probabilities max diff = {diff:e}");
	assert!(diff < 1e-4, "{diff}");
	let state = Tensor { name: "state".into(), ..state };
	assert!(max_abs_diff(&state, tensor(&golden, "state")) < 1e-4);
}

#[test]
fn silero_vad_sequence_matches_onnxruntime() {
	let model = load("silero-vad/silero_vad_16k_sequence.onnx");
	assert_eq!(model.plan_kind(), Some(PlanKind::RelaxedOptimized));
	let chunks = golden("silero-vad").into_iter().find(|t| t.name == "chunks").unwrap();
	let zeros = vec![0.0f32; 128];
	let inputs = [
		Tensor { name: "input".into(), ..chunks },
		Tensor::from_f32("h", vec![1, 1, 128], &zeros).unwrap(),
		Tensor::from_f32("c", vec![1, 1, 128], &zeros).unwrap(),
	];
	let outputs = model.run(&inputs).expect("runs");
	let golden = golden("silero-vad-sequence");
	for (output, name) in outputs.iter().zip(["speech_probs", "hn", "cn"]) {
		let diff = max_abs_diff(output, tensor(&golden, name));
		println!("Silero VAD sequence {name} max diff = {diff:e}");
		assert!(diff < 1e-4, "{name}: {diff}");
	}
}

#[test]
fn pp_ocr_models_match_onnxruntime() {
	for (file, golden_name, shape, seed, tolerance) in [
		("pp-ocrv4/det.onnx", "ppocr-det", [1, 3, 64, 96], 1, 1e-5),
		("pp-ocrv4/rec.onnx", "ppocr-rec", [1, 3, 48, 32], 2, 1e-4),
		("pp-ocrv4/cls.onnx", "ppocr-cls", [1, 3, 48, 192], 3, 1e-5),
	] {
		let model = load(file);
		// Tract types these graphs only for concrete input shapes.
		assert_eq!(model.plan_kind(), None, "{file}");
		let outputs = model.run(&[lcg_tensor("x", &shape, seed)]).expect("runs");
		let diff = max_abs_diff(&outputs[0], tensor(&golden(golden_name), "output"));
		println!("{file} max diff = {diff:e}");
		assert!(diff < tolerance, "{file}: {diff}");
	}
}

#[test]
fn the_unoptimised_plan_computes_the_same_function() {
	// The plan a model gets when tract's optimiser rejects it: decluttered graph, reference
	// kernels. Same goldens, same tolerance.
	let options = LoadOptions { optimize: false, ..LoadOptions::default() };
	let model = OnnxModel::load(&read_model("all-minilm-l6-v2-int8/model.onnx"), &options).unwrap();
	assert_eq!(model.plan_kind(), Some(PlanKind::Decluttered));
	let golden = golden("minilm-int8");
	let inputs: Vec<Tensor> = ["input_ids", "attention_mask", "token_type_ids"]
		.iter()
		.map(|n| i64_tensor(&golden, n))
		.collect();
	let diff = max_abs_diff(&model.run(&inputs).unwrap()[0], tensor(&golden, "last_hidden_state"));
	println!("MiniLM int8, decluttered plan, max diff = {diff:e}");
	assert!(diff < 1e-4, "{diff}");
}

#[test]
fn terrain_unet_matches_onnxruntime() {
	let model = load("terrain-unet/unet.onnx");
	let noisy = lcg_tensor("noisy", &[1, 1, 128, 128], 4);
	let noisy = Tensor::from_f32(
		"noisy",
		noisy.shape.clone(),
		&noisy.to_f32().unwrap().iter().map(|v| v * 2.0 - 1.0).collect::<Vec<_>>(),
	)
	.unwrap();
	let inputs = [
		noisy,
		Tensor::from_f32("sigma", vec![1], &[0.5]).unwrap(),
		Tensor::from_f32("difficulty", vec![1], &[1.0]).unwrap(),
	];
	let outputs = model.run(&inputs).expect("runs");
	let diff = max_abs_diff(&outputs[0], tensor(&golden("terrain-unet"), "denoised"));
	println!("terrain UNet max diff = {diff:e}");
	assert!(diff < 2e-4, "{diff}");
}
