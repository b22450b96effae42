//! GPT-2 on candle, on a checkpoint in the Hub's exact layout with random weights
//! (`citrate-hf-fixtures`): the key/value cache computes what a full pass does, greedy and
//! seeded decoding are reproducible, the pipeline serves it as text generation, and bad
//! checkpoints are refused naming the file.

use citrate_hf_fixtures::Family;
use citrate_inference::{
	candle::{device, gpt2::Gpt2Model},
	pipelines::{GenerationParams, Output, Pipeline, PipelineOptions, Request, Task},
	Limits,
};

mod common;

use common::fixture::Fixture as Checkpoint;

impl Checkpoint {
	fn load(&self) -> citrate_inference::Result<Gpt2Model> {
		Gpt2Model::load(
			&self.file("model.safetensors"),
			&self.file("config.json"),
			&self.file("tokenizer.json"),
			&device(true).unwrap(),
			&Limits::default(),
		)
	}
}

fn text(output: Output) -> String {
	match output {
		Output::Text(text) => text,
		other => panic!("not text: {other:?}"),
	}
}

#[test]
fn the_cache_computes_what_a_full_pass_does() {
	let checkpoint = Checkpoint::tiny(Family::Gpt2, "cache", 1);
	let model = checkpoint.load().unwrap();
	let prompt = "The quick brown fox jumps over the lazy dog";
	let full = model.next_token_logits(prompt).unwrap();
	let cached = model.next_token_logits_cached(prompt).unwrap();
	assert_eq!(full.len(), model.config().vocab_size);
	let diff = full.iter().zip(&cached).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
	assert!(diff < 1e-4, "cached and full logits differ by {diff}");
	assert!(full.iter().all(|l| l.is_finite()));
}

#[test]
fn greedy_and_seeded_decoding_are_reproducible() {
	let checkpoint = Checkpoint::tiny(Family::Gpt2, "decode", 2);
	let model = checkpoint.load().unwrap();
	let greedy = GenerationParams { max_tokens: 12, ..Default::default() };
	let first = text(model.generate("Once upon a time", &greedy).unwrap());
	assert!(!first.is_empty());
	assert_eq!(text(model.generate("Once upon a time", &greedy).unwrap()), first);

	let sampled = |seed| {
		let params = GenerationParams { max_tokens: 12, temperature: 1.0, top_p: Some(0.95), seed };
		text(model.generate("Once upon a time", &params).unwrap())
	};
	assert_eq!(sampled(7), sampled(7), "the same seed gives the same text");
	assert!((8..12).any(|seed| sampled(seed) != sampled(7)), "other seeds give other texts");
}

#[test]
fn the_pipeline_serves_gpt2_as_text_generation() {
	let checkpoint = Checkpoint::tiny(Family::Gpt2, "pipeline", 3);
	let files = checkpoint.files();
	let pipeline =
		Pipeline::load(Task::TextGeneration, &files, &PipelineOptions::default()).unwrap();
	let params = GenerationParams { max_tokens: 6, ..Default::default() };
	let request = Request::Prompt { text: "Hello".into(), params };
	let via_pipeline = text(pipeline.run(&request).unwrap());
	assert_eq!(via_pipeline, text(checkpoint.load().unwrap().generate("Hello", &params).unwrap()));
}

#[test]
fn bad_checkpoints_and_requests_are_refused() {
	let checkpoint = Checkpoint::tiny(Family::Gpt2, "bad", 4);
	let model = checkpoint.load().unwrap();
	let positions = model.config().n_positions;
	let long = GenerationParams { max_tokens: positions, ..Default::default() };
	assert_eq!(
		model.generate("Hello world", &long).unwrap_err().to_string(),
		format!(
			"the prompt (2 tokens) and max_tokens ({positions}) exceed the model's \
			 {positions} positions"
		)
	);

	let config: serde_json::Value =
		serde_json::from_slice(&checkpoint.file("config.json")).unwrap();
	let load = |config: serde_json::Value| {
		Gpt2Model::load(
			&checkpoint.file("model.safetensors"),
			config.to_string().as_bytes(),
			&checkpoint.file("tokenizer.json"),
			&device(true).unwrap(),
			&Limits::default(),
		)
		.err()
		.map(|e| e.to_string())
		.unwrap_or_default()
	};
	let mut wider = config.clone();
	wider["n_embd"] = 64.into();
	assert!(load(wider).starts_with(
		"not a valid model file: model.safetensors: weights do not match config.json"
	));
	let mut relu = config.clone();
	relu["activation_function"] = "relu".into();
	assert_eq!(
		load(relu),
		"the model cannot run here: config.json: activation `relu`; GPT-2 checkpoints use gelu_new"
	);
	let weights = checkpoint.file("model.safetensors");
	let truncated = Gpt2Model::load(
		&weights[..weights.len() / 2],
		&checkpoint.file("config.json"),
		&checkpoint.file("tokenizer.json"),
		&device(true).unwrap(),
		&Limits::default(),
	);
	let error = truncated.err().unwrap().to_string();
	assert!(error.contains("model.safetensors: not a valid safetensors file"), "{error}");
}
