//! T5 on candle, on a checkpoint in t5-small's exact layout with random weights
//! (`citrate-hf-fixtures`, Tiny): relative positions are bucketed as transformers buckets them
//! (causally in the decoder), the encoder and the decoder's first steps compute what
//! candle-transformers' T5 does and differ where its decoder buckets do, cached greedy
//! decoding computes what a full recompute does, greedy and seeded decoding are reproducible
//! (and safe from several threads), gated feed-forward blocks and untied heads run, parameters
//! are counted as the file holds them, and bad checkpoints and requests are refused with
//! messages naming the file or the problem.

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::t5::{Config as CandleConfig, T5ForConditionalGeneration};
use citrate_hf_fixtures::{plan, Family, Size};
use citrate_inference::{
	candle::{
		device,
		t5::{relative_position_bucket, T5Model},
	},
	pipelines::{GenerationParams, Output, MAX_NEW_TOKENS},
	Limits,
};
use std::collections::HashMap;
use tokenizers::Tokenizer;

mod common;

use common::fixture::Fixture as Checkpoint;

impl Checkpoint {
	fn load_with(&self, weights: &[u8], config: &[u8]) -> citrate_inference::Result<T5Model> {
		T5Model::load(
			weights,
			config,
			&self.file("tokenizer.json"),
			&device(true).unwrap(),
			&Limits::default(),
		)
	}

	fn load(&self) -> citrate_inference::Result<T5Model> {
		self.load_with(&self.file("model.safetensors"), &self.file("config.json"))
	}

	fn config(&self) -> serde_json::Value {
		serde_json::from_slice(&self.file("config.json")).unwrap()
	}

	/// The fixture's tensors after `edit`, as a safetensors file's bytes.
	fn edited_weights(&self, edit: impl FnOnce(&mut HashMap<String, Tensor>)) -> Vec<u8> {
		let weights = self.file("model.safetensors");
		let mut tensors = candle_core::safetensors::load_buffer(&weights, &Device::Cpu).unwrap();
		edit(&mut tensors);
		let path = self.dir.join("edited.safetensors");
		candle_core::safetensors::save(&tensors, &path).unwrap();
		std::fs::read(&path).unwrap()
	}
}

/// candle-transformers' T5 loaded directly, without its cache: each forward pass recomputes
/// the whole decoder sequence.
fn candle_reference(weights: &[u8], config: &serde_json::Value) -> T5ForConditionalGeneration {
	let mut config: CandleConfig = serde_json::from_value(config.clone()).unwrap();
	config.use_cache = false;
	let vb = VarBuilder::from_slice_safetensors(weights, DType::F32, &Device::Cpu).unwrap();
	T5ForConditionalGeneration::load(vb, &config).unwrap()
}

fn text(output: Output) -> String {
	match output {
		Output::Text(text) => text,
		other => panic!("not text: {other:?}"),
	}
}

/// The greedy choice as candle's sampler makes it (the last of equal maxima).
fn argmax(logits: &[f32]) -> u32 {
	logits.iter().enumerate().max_by(|(_, a), (_, b)| a.total_cmp(b)).unwrap().0 as u32
}

/// The largest difference between two rows of equal length.
fn max_diff(a: &[f32], b: &[f32]) -> f32 {
	assert_eq!(a.len(), b.len());
	a.iter().zip(b).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max)
}

const EOS: u32 = 1;

const PROMPT: &str = "translate English to German: The house is wonderful.";

/// Decoder inputs of distinct tokens: with one token repeated (what greedy decoding of random
/// weights tends to give) every position holds the same values, so attention, and with it
/// the position bias, changes nothing.
const VARIED: [u32; 12] = [0, 713, 22, 31_999, 5, 1_000, 12_345, 3, 32_099, 77, 4_321, 9];

// transformers' `T5Attention._relative_position_bucket` (modeling_t5.py), transcribed into
// plain Python for one int (torch.abs / torch.min / torch.log / torch.where replaced by abs,
// min, math.log and a branch; `.to(torch.long)` by int(), which truncates the same way) and
// run with python3 for relative positions -d (key d tokens before its query) and +d (after),
// d = 0..=200 for (num_buckets, max_distance) = (32, 128) (t5's) and 0..=40 for (16, 32):
//
//     def bucket(relative_position, bidirectional=True, num_buckets=32, max_distance=128):
//         relative_buckets = 0
//         if bidirectional:
//             num_buckets //= 2
//             relative_buckets += (relative_position > 0) * num_buckets
//             relative_position = abs(relative_position)
//         else:
//             relative_position = -min(relative_position, 0)
//         max_exact = num_buckets // 2
//         if relative_position < max_exact:
//             return relative_buckets + relative_position
//         large = max_exact + int(math.log(relative_position / max_exact)
//             / math.log(max_distance / max_exact) * (num_buckets - max_exact))
//         return relative_buckets + min(large, num_buckets - 1)
//
// Computing the logarithms in f32 instead (as torch does) gives the same values for every
// position in -1000..=1000 and these configurations. The causal values for keys after their
// query (+d) are all 0.
const BIDIRECTIONAL_PAST_32_128: [u32; 201] = [
	0, 1, 2, 3, 4, 5, 6, 7, 8, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 10, 10, 10, 10, 11, 11, 11, 11, 11,
	11, 11, 11, 11, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 13, 13, 13, 13, 13, 13,
	13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14,
	14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 15, 15, 15, 15, 15, 15, 15, 15, 15,
	15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
	15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
	15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
	15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
	15, 15, 15, 15, 15,
];
const BIDIRECTIONAL_FUTURE_32_128: [u32; 201] = [
	0, 17, 18, 19, 20, 21, 22, 23, 24, 24, 24, 24, 25, 25, 25, 25, 26, 26, 26, 26, 26, 26, 26, 27,
	27, 27, 27, 27, 27, 27, 27, 27, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 29, 29,
	29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 30, 30, 30, 30, 30, 30, 30, 30,
	30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 31, 31, 31, 31, 31,
	31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31,
	31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31,
	31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31,
	31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31,
	31, 31, 31, 31, 31, 31, 31, 31, 31,
];
const CAUSAL_PAST_32_128: [u32; 201] = [
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 16, 16, 17, 17, 18, 18, 18, 19, 19,
	19, 20, 20, 20, 20, 21, 21, 21, 21, 22, 22, 22, 22, 22, 23, 23, 23, 23, 23, 23, 24, 24, 24, 24,
	24, 24, 25, 25, 25, 25, 25, 25, 25, 26, 26, 26, 26, 26, 26, 26, 26, 27, 27, 27, 27, 27, 27, 27,
	27, 27, 27, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29, 29,
	29, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 31, 31, 31, 31, 31, 31, 31, 31, 31,
	31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31,
	31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31,
	31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31,
	31, 31, 31, 31, 31, 31, 31,
];
const BIDIRECTIONAL_PAST_16_32: [u32; 41] = [
	0, 1, 2, 3, 4, 4, 4, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
	7, 7, 7, 7, 7, 7, 7, 7, 7,
];
const BIDIRECTIONAL_FUTURE_16_32: [u32; 41] = [
	0, 9, 10, 11, 12, 12, 12, 13, 13, 13, 13, 13, 14, 14, 14, 14, 14, 14, 14, 14, 15, 15, 15, 15,
	15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
];
const CAUSAL_PAST_16_32: [u32; 41] = [
	0, 1, 2, 3, 4, 5, 6, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 12, 12, 13, 13, 13, 14, 14, 14, 14,
	15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
];

/// transformers' buckets for one table, by distance: encoder keys before and after their
/// query, decoder keys before it.
struct Buckets {
	buckets: u32,
	max_distance: u32,
	past: &'static [u32],
	future: &'static [u32],
	causal: &'static [u32],
}

#[test]
fn relative_positions_are_bucketed_as_transformers_buckets_them() {
	let tables = [
		Buckets {
			buckets: 32,
			max_distance: 128,
			past: &BIDIRECTIONAL_PAST_32_128,
			future: &BIDIRECTIONAL_FUTURE_32_128,
			causal: &CAUSAL_PAST_32_128,
		},
		Buckets {
			buckets: 16,
			max_distance: 32,
			past: &BIDIRECTIONAL_PAST_16_32,
			future: &BIDIRECTIONAL_FUTURE_16_32,
			causal: &CAUSAL_PAST_16_32,
		},
	];
	for Buckets { buckets, max_distance, past, future, causal } in tables {
		let bucket = |relative: i64, bidirectional| {
			relative_position_bucket(relative, bidirectional, buckets, max_distance)
		};
		for d in 0..past.len() {
			let at = format!("distance {d}, {buckets} buckets, max_distance {max_distance}");
			let relative = d as i64;
			assert_eq!(bucket(-relative, true), past[d], "encoder, key before query: {at}");
			assert_eq!(bucket(relative, true), future[d], "encoder, key after query: {at}");
			assert_eq!(bucket(-relative, false), causal[d], "decoder, key before query: {at}");
			assert_eq!(bucket(relative, false), 0, "decoder, key after query: {at}");
		}
	}
	// Far beyond max_distance, and degenerate tables: the last bucket, never past it.
	assert_eq!(relative_position_bucket(-1_000_000, false, 32, 128), 31);
	assert_eq!(relative_position_bucket(i64::MIN, true, 32, 128), 15);
	assert_eq!(relative_position_bucket(i64::MAX, true, 32, 128), 31);
	assert_eq!(relative_position_bucket(-5, false, 32, 16), 5);
	assert!(relative_position_bucket(-40, false, 32, 16) < 32);
	assert!(relative_position_bucket(40, true, 4, 2) < 4);
	assert_eq!(relative_position_bucket(-3, true, 0, 0), 0);
}

/// Compares our T5 with candle-transformers' on `weights` and `config`: the encoder's output
/// within 1e-4; the decoder's logits along [`VARIED`] within 1e-4 while every distance seen
/// (up to the step) falls in the same bucket both ways, and not at the first step where one
/// does not (candle buckets the decoder's past bidirectionally, transformers causally).
/// candle scales tied logits by `√d_model` where transformers scales by `1/√d_model`: its
/// logits are divided by `d_model` first.
fn compare_with_candle(checkpoint: &Checkpoint, weights: &[u8], config: &serde_json::Value) {
	let number = |field: &str| config[field].as_u64().unwrap();
	let (buckets, max_distance) = (
		number("relative_attention_num_buckets") as u32,
		number("relative_attention_max_distance") as u32,
	);
	let first_difference = (0..)
		.find(|&d: &i64| {
			relative_position_bucket(-d, true, buckets, max_distance)
				!= relative_position_bucket(-d, false, buckets, max_distance)
		})
		.unwrap() as usize;
	assert!(first_difference < VARIED.len(), "the steps do not reach distance {first_difference}");

	let model = checkpoint.load_with(weights, config.to_string().as_bytes()).unwrap();
	let reference = candle_reference(weights, config);
	let input = model.prompt_ids(PROMPT).unwrap();
	let input_ids = Tensor::new(input.as_slice(), &Device::Cpu).unwrap().unsqueeze(0).unwrap();
	let encoded = reference.clone().encode(&input_ids).unwrap();
	let theirs: Vec<Vec<f32>> = encoded.squeeze(0).unwrap().to_vec2().unwrap();
	let ours = model.encoder_output(PROMPT).unwrap();
	assert_eq!(ours.len(), input.len());
	assert_eq!(ours.len(), theirs.len());
	for (token, (ours, theirs)) in ours.iter().zip(&theirs).enumerate() {
		let diff = max_diff(ours, theirs);
		assert!(diff < 1e-4, "encoder output of token {token} differs by {diff}");
	}

	let scale = if config["tie_word_embeddings"] == false { 1.0 } else { number("d_model") as f32 };
	let ours = model.decoder_logits(PROMPT, &VARIED).unwrap();
	for (step, ours) in ours.iter().enumerate() {
		let ids = Tensor::new(&VARIED[..=step], &Device::Cpu).unwrap().unsqueeze(0).unwrap();
		let logits = reference.clone().forward(&input_ids, &ids).unwrap();
		let theirs: Vec<f32> = logits.squeeze(0).unwrap().to_vec1().unwrap();
		let theirs: Vec<f32> = theirs.iter().map(|l| l / scale).collect();
		let diff = max_diff(ours, &theirs);
		// Step `step` has keys up to `step` tokens before its query.
		if step < first_difference {
			assert!(diff < 1e-4, "step {step}: logits differ from candle's by {diff}");
		} else if step == first_difference {
			assert!(diff > 1e-3, "step {step}: logits differ from candle's by only {diff}");
		}
	}
}

#[test]
fn the_encoder_and_early_decoder_steps_agree_with_candle_transformers() {
	let checkpoint = Checkpoint::tiny(Family::T5, "candle", 5);
	let config = checkpoint.config();
	// The fixture's table is t5-small's: 32 buckets up to distance 128.
	assert_eq!(config["relative_attention_num_buckets"], 32);
	assert_eq!(config["relative_attention_max_distance"], 128);
	// Random weights bias positions by about 0.02: too little for the buckets to show. A
	// bias of about 1, as trained checkpoints have, makes them.
	let weights = checkpoint.edited_weights(|tensors| {
		for (name, tensor) in tensors.iter_mut() {
			if name.ends_with("relative_attention_bias.weight") {
				*tensor = tensor.affine(50.0, 0.0).unwrap();
			}
		}
	});
	compare_with_candle(&checkpoint, &weights, &config);
}

#[test]
fn gated_feed_forward_blocks_and_untied_heads_agree_with_candle_transformers() {
	let checkpoint = Checkpoint::tiny(Family::T5, "gated", 6);
	for (feed_forward_proj, tied) in [("gated-gelu", true), ("gated-silu", false)] {
		// Each `wi` becomes `wi_0`, and `wi_1` another matrix; an untied head is `lm_head`.
		let weights = checkpoint.edited_weights(|tensors| {
			let names: Vec<String> = tensors
				.keys()
				.filter(|n| n.ends_with("DenseReluDense.wi.weight"))
				.cloned()
				.collect();
			for name in names {
				let wi = tensors.remove(&name).unwrap();
				let prefix = name.trim_end_matches("wi.weight");
				tensors.insert(format!("{prefix}wi_1.weight"), wi.affine(-0.5, 0.01).unwrap());
				tensors.insert(format!("{prefix}wi_0.weight"), wi);
			}
			if !tied {
				let head = tensors["shared.weight"].affine(3.0, 0.001).unwrap();
				tensors.insert("lm_head.weight".into(), head);
			}
			for (name, tensor) in tensors.iter_mut() {
				if name.ends_with("relative_attention_bias.weight") {
					*tensor = tensor.affine(50.0, 0.0).unwrap();
				}
			}
		});
		let mut config = checkpoint.config();
		config["feed_forward_proj"] = feed_forward_proj.into();
		config["tie_word_embeddings"] = tied.into();
		compare_with_candle(&checkpoint, &weights, &config);

		let model = checkpoint.load_with(&weights, config.to_string().as_bytes()).unwrap();
		let in_file = candle_core::safetensors::load_buffer(&weights, &Device::Cpu).unwrap();
		let in_file: u64 = in_file.values().map(|t| t.elem_count() as u64).sum();
		assert_eq!(model.parameters(), in_file, "{feed_forward_proj}, tied {tied}");
		let greedy = GenerationParams { max_tokens: 4, ..Default::default() };
		model.generate_ids(PROMPT, &greedy).unwrap();
	}
}

#[test]
fn greedy_decoding_is_reproducible_and_matches_a_full_recompute() {
	let checkpoint = Checkpoint::tiny(Family::T5, "greedy", 1);
	let model = checkpoint.load().unwrap();
	let prompt = PROMPT;

	// The encoder sees the tokenizer's ids, which end in exactly one `</s>`.
	let tokenizer = Tokenizer::from_bytes(checkpoint.file("tokenizer.json")).unwrap();
	let input = tokenizer.encode(prompt, true).unwrap().get_ids().to_vec();
	assert_eq!(input.last(), Some(&EOS));
	assert_eq!(input.iter().filter(|&&t| t == EOS).count(), 1, "{input:?}");
	assert_eq!(model.prompt_ids(prompt).unwrap(), input);

	// Full recompute: the whole decoder sequence at each step, without a cache, from
	// decoder_start_token_id (0), greedily.
	let steps = 12;
	let full_recompute = |sequence: &[u32]| -> Vec<f32> {
		model.recomputed_logits(prompt, sequence).unwrap().pop().unwrap()
	};
	let mut sequence = vec![0u32];
	let mut reference_logits = vec![];
	for _ in 0..steps {
		let logits = full_recompute(&sequence);
		sequence.push(argmax(&logits));
		reference_logits.push(logits);
	}
	assert_eq!(model.recomputed_logits(prompt, &sequence[..steps]).unwrap(), reference_logits);

	// The cached path, fed the same tokens one at a time, gives the same logits: along the
	// greedy sequence (random weights repeat one token), and along varied tokens.
	let varied_logits = model.recomputed_logits(prompt, &VARIED).unwrap();
	for (tokens, full) in [(&sequence[..steps], reference_logits), (&VARIED[..], varied_logits)] {
		let cached = model.decoder_logits(prompt, tokens).unwrap();
		assert_eq!(cached.len(), steps);
		assert_eq!(full.len(), steps);
		for (step, (cached, full)) in cached.iter().zip(&full).enumerate() {
			assert_eq!(cached.len(), model.config().vocab_size);
			assert!(cached.iter().all(|l| l.is_finite()));
			let diff = max_diff(cached, full);
			assert!(diff < 1e-4, "step {step} of {tokens:?}: cached and full differ by {diff}");
		}
	}

	// Greedy generation picks the reference's tokens up to `</s>`, every time.
	let greedy = GenerationParams { max_tokens: steps, ..Default::default() };
	let ids = model.generate_ids(prompt, &greedy).unwrap();
	let expected: Vec<u32> = sequence[1..].iter().copied().take_while(|&t| t != EOS).collect();
	assert!(!expected.is_empty(), "the reference stopped at once: {sequence:?}");
	assert_eq!(ids, expected);
	assert_eq!(model.generate_ids(prompt, &greedy).unwrap(), ids);
	let generated = text(model.generate(prompt, &greedy).unwrap());
	assert_eq!(generated, tokenizer.decode(&ids, true).unwrap());
	assert_eq!(text(model.generate(prompt, &greedy).unwrap()), generated);
}

#[test]
fn seeded_sampling_is_reproducible_and_concurrent_requests_agree() {
	let checkpoint = Checkpoint::tiny(Family::T5, "sampling", 2);
	let model = checkpoint.load().unwrap();
	let sampled = |prompt: &str, seed| {
		let params = GenerationParams { max_tokens: 12, temperature: 0.8, top_p: None, seed };
		text(model.generate(prompt, &params).unwrap())
	};
	let prompts = [
		"translate English to German: The house is wonderful.",
		"summarize: the quick brown fox jumps over the lazy dog",
		"translate English to French: What time is it?",
	];
	for prompt in prompts {
		assert_eq!(sampled(prompt, 7), sampled(prompt, 7), "the same seed gives the same text");
	}
	assert!(
		prompts.iter().any(|prompt| sampled(prompt, 7) != sampled(prompt, 8)),
		"another seed gives another text"
	);

	// Requests share the loaded model: each runs its own copy of the cache.
	let expected: Vec<String> = prompts.iter().map(|p| sampled(p, 7)).collect();
	std::thread::scope(|scope| {
		let handles: Vec<_> =
			prompts.iter().map(|prompt| scope.spawn(|| sampled(prompt, 7))).collect();
		let results: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
		assert_eq!(results, expected);
	});
}

#[test]
fn parameters_are_counted_as_the_file_holds_them() {
	let checkpoint = Checkpoint::tiny(Family::T5, "parameters", 3);
	let model = checkpoint.load().unwrap();
	// The file holds the shared embedding once (encoder, decoder and head all use it).
	let in_file: u64 = plan(Family::T5, Size::Tiny).iter().map(|t| t.elements()).sum();
	assert_eq!(model.parameters(), in_file);
	assert_eq!(model.weight_bytes(), 4 * in_file);
}

#[test]
fn bad_checkpoints_and_requests_are_refused() {
	let checkpoint = Checkpoint::tiny(Family::T5, "bad", 4);
	let weights = checkpoint.file("model.safetensors");
	let config: serde_json::Value =
		serde_json::from_slice(&checkpoint.file("config.json")).unwrap();
	let load = |weights: &[u8], config: &serde_json::Value| {
		checkpoint
			.load_with(weights, config.to_string().as_bytes())
			.err()
			.map(|e| e.to_string())
			.unwrap_or_default()
	};
	let edited = |field: &str, value: serde_json::Value| {
		let mut config = config.clone();
		config[field] = value;
		load(&weights, &config)
	};

	assert_eq!(
		edited("is_encoder_decoder", false.into()),
		"not a valid model file: config.json: is_encoder_decoder is false; \
		 T5ForConditionalGeneration is an encoder-decoder"
	);
	assert_eq!(
		edited("num_heads", 0.into()),
		"not a valid model file: config.json: implausible T5 config: num_heads = 0"
	);
	assert_eq!(
		edited("relative_attention_num_buckets", 2.into()),
		"not a valid model file: config.json: implausible T5 config: \
		 relative_attention_num_buckets = 2"
	);
	assert_eq!(
		edited("relative_attention_max_distance", 31.into()),
		"not a valid model file: config.json: implausible T5 config: \
		 relative_attention_max_distance = 31"
	);
	// Activations as transformers names them: plain ones load (the fixture's block is
	// ungated), gated ones need `wi_0` and `wi_1`, unknown ones are refused.
	for plain in ["relu", "gelu", "gelu_new", "silu"] {
		assert_eq!(edited("feed_forward_proj", plain.into()), "", "{plain}");
	}
	assert_eq!(
		edited("feed_forward_proj", "gated-gelu".into()),
		"not a valid model file: model.safetensors: weights do not match config.json: tensor \
		 `encoder.block.0.layer.1.DenseReluDense.wi_0.weight` not found"
	);
	for unknown in [serde_json::json!("tanh"), serde_json::json!("gated-gelu-new"), 1.into()] {
		assert_eq!(
			edited("feed_forward_proj", unknown.clone()),
			format!(
				"the model cannot run here: config.json: feed_forward_proj {unknown}; T5 runs \
				 relu, gelu, gelu_new or silu, each optionally gated (gated-gelu, gated-silu, …)"
			)
		);
	}
	let no_vocab = {
		let mut config = config.clone();
		config.as_object_mut().unwrap().remove("vocab_size");
		load(&weights, &config)
	};
	assert_eq!(
		no_vocab,
		"not a valid model file: config.json: not a T5 config: missing field `vocab_size`"
	);
	assert_eq!(
		edited("d_model", 64.into()),
		"not a valid model file: model.safetensors: weights do not match config.json: shape \
		 mismatch for shared.weight, expected: [32128, 64], got: [32128, 32]"
	);
	assert_eq!(
		load(&weights[..4], &config),
		"not a valid model file: model.safetensors: not a valid safetensors file: shorter than \
		 its 8-byte header length"
	);
	let truncated = load(&weights[..weights.len() / 2], &config);
	assert!(
		truncated.starts_with(
			"not a valid model file: model.safetensors: not a valid safetensors file: `"
		),
		"{truncated}"
	);

	let model = checkpoint.load().unwrap();
	let params = GenerationParams { max_tokens: 4, ..Default::default() };
	let refusal = |prompt: &str, params: &GenerationParams| {
		model.generate(prompt, params).err().map(|e| e.to_string()).unwrap_or_default()
	};
	assert_eq!(refusal("", &params), "the prompt is empty");
	assert_eq!(refusal("  \n ", &params), "the prompt is empty");
	let long = vec!["word"; 600].join(" ");
	assert_eq!(refusal(&long, &params), "the prompt is 601 tokens; the limit is 512");
	let none = GenerationParams { max_tokens: 0, ..Default::default() };
	assert_eq!(
		refusal("summarize: hello", &none),
		format!("max_tokens must be 1..={MAX_NEW_TOKENS}")
	);
	let logits = |tokens: &[u32]| {
		model.decoder_logits("summarize: hello", tokens).err().map(|e| e.to_string())
	};
	assert_eq!(logits(&[]), None);
	assert_eq!(
		logits(&[0, 32_128]).unwrap_or_default(),
		"inference failed: candle: token id 32128 is outside the vocabulary of 32128"
	);
}
