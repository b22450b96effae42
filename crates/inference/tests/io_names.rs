//! A model's inputs and outputs keep the names its ONNX graph declares, whatever tract folds
//! behind them, pipelines pick the output they read by name and form, not by position, and an
//! operator the engine lacks is named at load. The models are written by
//! `tests/assets/make_io_cases.py`.

mod common;

use citrate_inference::{
	codec::{DType, Tensor},
	onnx::{LoadOptions, OnnxModel},
	pipelines::{ModelFiles, Output, Pipeline, PipelineOptions, Task},
};

fn asset(name: &str) -> Vec<u8> {
	std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/assets").join(name))
		.unwrap()
}

fn ids(name: &str, values: &[i64]) -> Tensor {
	let data = values.iter().flat_map(|v| v.to_le_bytes()).collect();
	Tensor::new(name, DType::I64, vec![1, values.len() as u32], data).unwrap()
}

fn names(specs: &[citrate_inference::codec::TensorSpec]) -> Vec<&str> {
	specs.iter().map(|spec| spec.name()).collect()
}

#[test]
fn inputs_and_outputs_keep_their_declared_names() {
	let model = OnnxModel::load(&asset("echo-encoder.onnx"), &LoadOptions::default()).unwrap();
	// `input_ids` feeds an Identity and `attention_mask` a no-op Cast, and both outputs sit
	// behind one: tract folds them, and the names stay the graph's.
	assert_eq!(names(model.inputs()), ["input_ids", "attention_mask"]);
	assert_eq!(names(model.outputs().unwrap()), ["mask_echo", "last_hidden_state"]);
	assert_eq!(model.output_names(), ["mask_echo", "last_hidden_state"]);

	let outputs = model.run(&[ids("input_ids", &[1, 2]), ids("attention_mask", &[1, 1])]).unwrap();
	let named: Vec<(&str, DType)> = outputs.iter().map(|t| (t.name.as_str(), t.dtype)).collect();
	assert_eq!(named, [("mask_echo", DType::I64), ("last_hidden_state", DType::F32)]);
	assert_eq!(outputs[1].to_f32().unwrap(), [1.0, 2.0, 3.0, 4.0, 2.0, 4.0, 6.0, 8.0]);
	// Requests name the inputs as the graph declares them.
	let error = model.run(&[ids("input_ids", &[1]), ids("mask", &[1])]).unwrap_err();
	assert_eq!(error.to_string(), "request: the model has no input `mask`");
}

fn embedder_files(onnx: &str, config: Option<&str>) -> ModelFiles {
	let mut files = ModelFiles::new();
	files.insert("model.onnx", asset(onnx));
	files.insert("tokenizer.json", common::read_model("all-minilm-l6-v2/tokenizer.json"));
	if let Some(config) = config {
		files.insert("citrate.json", config.as_bytes().to_vec());
	}
	files
}

fn load(files: &ModelFiles) -> citrate_inference::Result<Pipeline> {
	Pipeline::load(Task::FeatureExtraction, files, &PipelineOptions::default())
}

/// (1, 2, 3, 4) at unit length: what both test encoders embed any text as.
fn expected_embedding() -> Vec<f32> {
	let norm = 30f32.sqrt();
	[1.0, 2.0, 3.0, 4.0].iter().map(|v| v / norm).collect()
}

fn embed(pipeline: &Pipeline, text: &str) -> Vec<f32> {
	let Pipeline::FeatureExtraction(embedder) = pipeline else { panic!("an embedder") };
	let Output::Embeddings { dims, values } = embedder.embed(&[text]).unwrap() else {
		panic!("embeddings")
	};
	assert_eq!(dims, 4);
	values
}

#[test]
fn the_embedder_reads_the_hidden_state_or_the_pooled_output_whatever_comes_first() {
	// The int64 echo comes first; the embedder takes the f32 [batch, seq, hidden] output.
	let echo = load(&embedder_files("echo-encoder.onnx", None)).unwrap();
	// A model that pools itself gives [batch, hidden]: used as it is, normalised.
	let pooled = load(&embedder_files("pooled-encoder.onnx", None)).unwrap();
	for pipeline in [&echo, &pooled] {
		let values = embed(pipeline, "a sentence");
		for (got, want) in values.iter().zip(expected_embedding()) {
			assert!((got - want).abs() < 1e-6, "{values:?}");
		}
	}
}

#[test]
fn the_package_config_names_the_output_and_bad_choices_are_refused_at_load() {
	let named =
		load(&embedder_files("echo-encoder.onnx", Some(r#"{"output": "last_hidden_state"}"#)));
	assert_eq!(embed(&named.unwrap(), "x").len(), 4);

	let error = |config: &str| {
		load(&embedder_files("echo-encoder.onnx", Some(config))).err().unwrap().to_string()
	};
	assert_eq!(
		error(r#"{"output": "mask_echo"}"#),
		"not a valid model file: citrate.json names output `mask_echo` for the embedding, which \
		 is i64 of rank 2; the embedding must be f32 of rank 3 or f32 of rank 2"
	);
	assert_eq!(
		error(r#"{"output": "pooler_output"}"#),
		"not a valid model file: citrate.json names output `pooler_output`, but the model's \
		 outputs are [mask_echo, last_hidden_state]"
	);
	assert_eq!(
		error(r#"{"output": 3}"#),
		"not a valid model file: citrate.json: `output` must be a tensor name, not 3"
	);
}

#[test]
fn a_model_without_a_usable_output_is_refused_at_load_with_its_outputs() {
	// The text classifier reads f32 logits of rank 2; the echo encoder has none.
	let mut files = embedder_files("echo-encoder.onnx", None);
	files.insert("config.json", br#"{"id2label": {"0": "a", "1": "b"}}"#.to_vec());
	let error = Pipeline::load(Task::TextClassification, &files, &PipelineOptions::default())
		.err()
		.unwrap();
	assert_eq!(
		error.to_string(),
		"not a valid model file: no output can be the logits: it must be f32 of rank 2, and the \
		 model's outputs are `mask_echo` (i64 of rank 2), `last_hidden_state` (f32 of rank 3); \
		 name one with `output` in citrate.json"
	);
}

#[test]
fn an_operator_tract_lacks_is_named_with_its_node_at_load() {
	let error = OnnxModel::load(&asset("unique.onnx"), &LoadOptions::default()).err().unwrap();
	assert_eq!(
		error.to_string(),
		"the model cannot run here: operator `Unique` at node `dedupe` is not supported by the \
		 deterministic CPU backend (tract); export the model without it (another opset or \
		 exporter option), or move that step out of the graph"
	);
}

#[test]
fn an_if_decided_by_a_known_dim_runs_its_branch() {
	// `x.squeeze(0)` as PyTorch exports it: tract's own `If` refuses branches of different
	// ranks; the engine takes the branch the known dim decides, with declared shapes and per
	// input shape alike.
	for specialize in [false, true] {
		let options = LoadOptions { specialize, ..LoadOptions::default() };
		let model = OnnxModel::load(&asset("squeeze-if.onnx"), &options).unwrap();
		let x = Tensor::from_f32("x", vec![1, 3], &[1.0, 2.0, 3.0]).unwrap();
		let outputs = model.run(&[x]).unwrap();
		assert_eq!((outputs[0].name.as_str(), outputs[0].shape.clone()), ("y", vec![3]));
		assert_eq!(outputs[0].to_f32().unwrap(), [2.0, 4.0, 6.0]);
	}
}
