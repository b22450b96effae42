//! CLIP on candle, on a checkpoint in the Hub's exact layout with random weights
//! (`citrate-hf-fixtures`): embeddings are unit length, reproducible and independent of what a
//! text is batched with; zero-shot classification is the softmax of the scaled cosines of
//! those embeddings; bad checkpoints and requests are refused with their exact messages.

use citrate_hf_fixtures::Family;
use citrate_inference::{
	candle::{clip::ClipModel, device},
	cost::metered,
	pipelines::Output,
	Limits,
};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use std::io::Cursor;

mod common;

use common::fixture::Fixture as Checkpoint;

impl Checkpoint {
	fn config(&self) -> serde_json::Value {
		serde_json::from_slice(&self.file("config.json")).unwrap()
	}

	fn load_with(
		&self,
		safetensors: &[u8],
		config: &[u8],
		limits: &Limits,
	) -> citrate_inference::Result<ClipModel> {
		ClipModel::load(
			safetensors,
			config,
			&self.file("tokenizer.json"),
			&self.file("preprocessor_config.json"),
			&device(true).unwrap(),
			limits,
		)
	}

	fn load(&self) -> ClipModel {
		self.load_with(
			&self.file("model.safetensors"),
			&self.file("config.json"),
			&Limits::default(),
		)
		.unwrap()
	}

	/// The checkpoint's `logit_scale`, read from the file, not the model.
	fn logit_scale(&self) -> f32 {
		let tensors = candle_core::safetensors::load_buffer(
			&self.file("model.safetensors"),
			&candle_core::Device::Cpu,
		)
		.unwrap();
		tensors["logit_scale"].to_scalar::<f32>().unwrap()
	}
}

/// A PNG of a gradient whose colours depend on `seed`, `width` × `height`.
fn png(width: u32, height: u32, seed: u8) -> Vec<u8> {
	let image = RgbImage::from_fn(width, height, |x, y| {
		Rgb([
			(x * 255 / width) as u8 ^ seed,
			(y * 255 / height) as u8,
			((x + y) as u8).wrapping_mul(seed | 1),
		])
	});
	let mut bytes = vec![];
	DynamicImage::ImageRgb8(image)
		.write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
		.unwrap();
	bytes
}

fn embeddings(output: Output) -> (usize, Vec<f32>) {
	match output {
		Output::Embeddings { dims, values } => (dims, values),
		other => panic!("not embeddings: {other:?}"),
	}
}

fn norm(row: &[f32]) -> f32 {
	row.iter().map(|v| v * v).sum::<f32>().sqrt()
}

fn max_difference(a: &[f32], b: &[f32]) -> f32 {
	assert_eq!(a.len(), b.len());
	a.iter().zip(b).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max)
}

#[test]
fn embeddings_are_unit_length_reproducible_and_unaffected_by_padding() {
	let checkpoint = Checkpoint::tiny(Family::Clip, "embed", 1);
	let model = checkpoint.load();
	let projection = checkpoint.config()["projection_dim"].as_u64().unwrap() as usize;

	// Images: one row, unit length, the same twice, another image elsewhere.
	let photo = png(64, 48, 3);
	let (dims, image) = embeddings(model.embed_image(&photo).unwrap());
	assert_eq!((dims, image.len()), (projection, projection));
	assert!((norm(&image) - 1.0).abs() < 1e-5, "image norm {}", norm(&image));
	assert_eq!(embeddings(model.embed_image(&photo).unwrap()).1, image);
	let other = embeddings(model.embed_image(&png(40, 90, 200)).unwrap()).1;
	assert!(max_difference(&image, &other) > 1e-3, "different images embed alike");

	// Texts: one unit row each, the same twice.
	let short = "a photo of a cat";
	let long = "a long caption about a small brown dog running after a red ball in the park";
	let tokenizer = tokenizers::Tokenizer::from_bytes(checkpoint.file("tokenizer.json")).unwrap();
	let tokens = |text: &str| tokenizer.encode(text, true).unwrap().get_ids().len();
	assert!(tokens(long) > tokens(short) + 5, "the batch pads the short text");
	let (dims, alone) = embeddings(model.embed_texts(&[short]).unwrap());
	assert_eq!((dims, alone.len()), (projection, projection));
	assert!((norm(&alone) - 1.0).abs() < 1e-5);
	assert_eq!(embeddings(model.embed_texts(&[short]).unwrap()).1, alone);

	// Batched with a longer text, before or after it, the short text's row does not change.
	let (_, batched) = embeddings(model.embed_texts(&[short, long]).unwrap());
	assert_eq!(batched.len(), 2 * projection);
	for row in batched.chunks(projection) {
		assert!((norm(row) - 1.0).abs() < 1e-5);
	}
	let difference = max_difference(&batched[..projection], &alone);
	assert!(difference < 1e-5, "padding leaks into the short text: {difference}");
	let (_, reversed) = embeddings(model.embed_texts(&[long, short]).unwrap());
	assert!(max_difference(&reversed[projection..], &alone) < 1e-5);
	assert!(max_difference(&reversed[..projection], &batched[projection..]) < 1e-5);
	let (_, long_alone) = embeddings(model.embed_texts(&[long]).unwrap());
	assert!(max_difference(&long_alone, &batched[projection..]) < 1e-5);

	// Texts over the 77 positions are cut keeping the end-of-text token last: two that differ
	// only after the cut embed alike, and alike with a text of exactly the kept tokens.
	let words = "word ".repeat(100);
	assert!(tokens(&words) > 77);
	let (_, cut) =
		embeddings(model.embed_texts(&[&format!("{words} cat"), &format!("{words} dog")]).unwrap());
	assert!((norm(&cut[..projection]) - 1.0).abs() < 1e-5);
	assert!(max_difference(&cut[..projection], &cut[projection..]) < 1e-5);
	assert!(max_difference(&cut[..projection], &alone) > 1e-3);
}

#[test]
fn classification_is_the_softmax_of_scaled_cosines_over_every_label() {
	let checkpoint = Checkpoint::tiny(Family::Clip, "classify", 2);
	let model = checkpoint.load();
	let labels: Vec<String> =
		["cat", "dog", "airplane", "a bowl of soup", "cat"].map(String::from).to_vec();
	let template = "This is a photo of {}.";
	let photo = png(100, 70, 9);
	let row = match model.classify(&photo, &labels, template).unwrap() {
		Output::Labels(rows) => {
			assert_eq!(rows.len(), 1);
			rows.into_iter().next().unwrap()
		}
		other => panic!("not labels: {other:?}"),
	};

	// Every label once, named as given, best first, scores summing to 1.
	let mut ids: Vec<u32> = row.iter().map(|l| l.id).collect();
	ids.sort();
	assert_eq!(ids, (0..labels.len() as u32).collect::<Vec<_>>());
	for label in &row {
		assert_eq!(label.name, labels[label.id as usize]);
	}
	assert!(row.windows(2).all(|w| w[0].score >= w[1].score), "not best first: {row:?}");
	let sum: f32 = row.iter().map(|l| l.score).sum();
	assert!((sum - 1.0).abs() < 1e-5, "scores sum to {sum}");
	assert!(row[0].score > row[row.len() - 1].score, "random weights give distinct scores");

	// The same label twice scores the same.
	let score = |id: u32| row.iter().find(|l| l.id == id).unwrap().score;
	assert!((score(0) - score(4)).abs() < 1e-6);

	// softmax(exp(logit_scale) · cos(image, text)), from the embeddings and the file's scale.
	let (dims, image) = embeddings(model.embed_image(&photo).unwrap());
	let filled: Vec<String> = labels.iter().map(|l| format!("This is a photo of {l}.")).collect();
	let filled: Vec<&str> = filled.iter().map(String::as_str).collect();
	let (_, texts) = embeddings(model.embed_texts(&filled).unwrap());
	let scale = checkpoint.logit_scale().exp();
	assert!((checkpoint.logit_scale() - 2.6592).abs() < 1e-6);
	let logits: Vec<f64> = texts
		.chunks(dims)
		.map(|text| {
			f64::from(scale) * text.iter().zip(&image).map(|(t, i)| f64::from(t * i)).sum::<f64>()
		})
		.collect();
	let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
	let total: f64 = logits.iter().map(|l| (l - max).exp()).sum();
	for label in &row {
		let expected = ((logits[label.id as usize] - max).exp() / total) as f32;
		assert!(
			(label.score - expected).abs() < 1e-5,
			"label {}: {} against {expected}",
			label.id,
			label.score
		);
	}

	// A template may hold the label more than once; every `{}` is filled.
	match model.classify(&photo, &labels, "{} or {}").unwrap() {
		Output::Labels(rows) => assert_eq!(rows[0].len(), labels.len()),
		other => panic!("not labels: {other:?}"),
	}
}

#[test]
fn requests_are_costed_and_refused_over_the_limit() {
	let checkpoint = Checkpoint::tiny(Family::Clip, "cost", 3);
	let model = checkpoint.load();
	let photo = png(32, 32, 1);
	let (result, spent) = metered(|| model.embed_image(&photo));
	result.unwrap();
	assert_eq!(spent.flops, model.estimate_image().flops);
	assert!(spent.flops > 0);
	let (result, spent) = metered(|| model.embed_texts(&["a", "b"]));
	result.unwrap();
	// "a" and "b" are one token each, between the start and end tokens.
	assert_eq!(spent.flops, model.estimate_texts(2, 3).flops);
	let labels = vec!["x".to_string(), "y".to_string()];
	let (result, spent) = metered(|| model.classify(&photo, &labels, "{}"));
	result.unwrap();
	assert_eq!(spent.flops, model.estimate_image().flops + model.estimate_texts(2, 3).flops);

	let tight = Limits { max_flops: 1000, ..Limits::default() };
	let model = checkpoint
		.load_with(&checkpoint.file("model.safetensors"), &checkpoint.file("config.json"), &tight)
		.unwrap();
	assert_eq!(
		model.embed_image(&photo).unwrap_err().to_string(),
		format!(
			"this request needs about {} FLOPs; the limit is 1000",
			model.estimate_image().flops
		)
	);
	assert!(matches!(
		model.embed_texts(&["a"]).unwrap_err(),
		citrate_inference::Error::TooManyFlops { limit: 1000, .. }
	));
}

#[test]
fn bad_checkpoints_and_requests_are_refused() {
	let checkpoint = Checkpoint::tiny(Family::Clip, "bad", 4);
	let weights = checkpoint.file("model.safetensors");
	let config = checkpoint.config();
	let load = |weights: &[u8], config: &serde_json::Value| {
		checkpoint
			.load_with(weights, config.to_string().as_bytes(), &Limits::default())
			.err()
			.map(|e| e.to_string())
			.unwrap_or_default()
	};

	let mut gelu = config.clone();
	gelu["text_config"]["hidden_act"] = "gelu".into();
	assert_eq!(
		load(&weights, &gelu),
		"the model cannot run here: config.json: text_config.hidden_act `gelu`; candle's CLIP \
		 computes quick_gelu only"
	);
	let mut gelu = config.clone();
	gelu["vision_config"]["hidden_act"] = "gelu".into();
	assert_eq!(
		load(&weights, &gelu),
		"the model cannot run here: config.json: vision_config.hidden_act `gelu`; candle's CLIP \
		 computes quick_gelu only"
	);

	assert_eq!(
		load(&weights[..4], &config),
		"not a valid model file: model.safetensors: not a valid safetensors file: shorter than \
		 its 8-byte header length"
	);
	let half = load(&weights[..weights.len() / 2], &config);
	assert!(
		half.starts_with(
			"not a valid model file: model.safetensors: not a valid safetensors file: `"
		) && half.ends_with("do not fit"),
		"{half}"
	);

	let mut wider = config.clone();
	wider["text_config"]["hidden_size"] = 64.into();
	assert_eq!(
		load(&weights, &wider),
		"not a valid model file: model.safetensors: weights do not match config.json: shape \
		 mismatch for text_model.embeddings.token_embedding.weight, expected: [49408, 64], got: \
		 [49408, 32]"
	);
	let mut huge = config.clone();
	huge["vision_config"]["num_hidden_layers"] = 100_000.into();
	assert!(load(&weights, &huge)
		.starts_with("not a valid model file: config.json: implausible CLIP vision_config"));

	// The tokenizer's special tokens must leave room for text (the tokenizer would overflow).
	let mut short = config.clone();
	short["text_config"]["max_position_embeddings"] = 2.into();
	assert_eq!(
		load(&weights, &short),
		"not a valid model file: tokenizer.json: adds 2 special tokens, leaving no room for \
		 text in 2 tokens"
	);

	// Old configs' placeholder eos_token_id (2) is not what the tokenizer ends texts with:
	// texts are pooled at <|endoftext|> all the same.
	let model = checkpoint.load();
	let mut legacy = config.clone();
	legacy["text_config"]["eos_token_id"] = 2.into();
	let legacy =
		checkpoint.load_with(&weights, legacy.to_string().as_bytes(), &Limits::default()).unwrap();
	let texts = ["a photo of a cat", "a dog"];
	assert_eq!(
		embeddings(legacy.embed_texts(&texts).unwrap()),
		embeddings(model.embed_texts(&texts).unwrap())
	);

	let photo = png(50, 50, 7);
	let labels = vec!["cat".to_string(), "dog".to_string()];
	let error = |result: citrate_inference::Result<Output>| result.unwrap_err().to_string();
	assert_eq!(
		error(model.classify(&photo, &labels, "a photo of a thing")),
		"the template \"a photo of a thing\" has no {} where the label goes"
	);
	assert_eq!(error(model.classify(&photo, &[], "{}")), "give 1 to 64 labels, not 0");
	assert_eq!(error(model.embed_texts(&[])), "send 1 to 64 texts, not 0");
	assert_eq!(error(model.embed_texts(&["a"; 65])), "send 1 to 64 texts, not 65");
	let not_an_image = b"this is not an image, just some text";
	assert_eq!(
		error(model.embed_image(not_an_image)),
		"decoding the image: The image format could not be determined"
	);
	assert_eq!(
		error(model.classify(not_an_image, &labels, "{}")),
		"decoding the image: The image format could not be determined"
	);
}
