//! The task pipelines on real models: against onnxruntime's goldens where the pipeline's
//! arithmetic is shared with `scripts/goldens.py`, and on inputs a person can judge.

mod common;

use citrate_inference::{
	codec::{DType, Tensor},
	onnx::{LoadOptions, OnnxModel},
	pipelines::{
		image::{imagenet_labels, ImageClassifier},
		preprocess::ImagePreprocessing,
		text::SentenceEmbedder,
		vad::{segments, SileroVad, VadStream, CHUNK},
		ModelFiles, Output, Pipeline, PipelineOptions, Request, Task,
	},
	proof::output_hash,
};
use common::*;

fn load(path: &str) -> OnnxModel {
	OnnxModel::load(&read_model(path), &LoadOptions::default()).expect("model loads")
}

fn minilm_int8() -> SentenceEmbedder {
	let tokenizer = std::fs::read(model("all-minilm-l6-v2/tokenizer.json")).unwrap();
	SentenceEmbedder::new(load("all-minilm-l6-v2-int8/model.onnx"), &tokenizer, 128).unwrap()
}

fn embeddings(output: Output) -> (usize, Vec<f32>) {
	match output {
		Output::Embeddings { dims, values } => (dims, values),
		other => panic!("not embeddings: {other:?}"),
	}
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
	let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
	let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
	dot / (norm(a) * norm(b))
}

#[test]
fn feature_extraction_matches_onnxruntime_and_sentence_transformers_pooling() {
	let embedder = minilm_int8();
	let texts = [
		"A man is playing a guitar.",
		"The new movie is awesome and everybody should watch it this weekend!",
	];
	let golden = golden("minilm-int8");
	// The tokenizer gives the ids the Python tokenizers package gave.
	let tokens =
		citrate_inference::pipelines::text::encode_texts(embedder.tokenizer(), &texts).unwrap();
	assert_eq!(&tokens[0], tensor(&golden, "input_ids"));
	assert_eq!(&tokens[1], tensor(&golden, "attention_mask"));

	let output = embedder.embed(&texts).unwrap();
	let tensors = output.to_tensors().unwrap();
	let diff = max_abs_diff(&tensors[0], tensor(&golden, "embeddings"));
	println!("MiniLM int8 embeddings max diff vs onnxruntime + numpy pooling = {diff:e}");
	assert!(diff < 1e-5, "{diff}");
	let (dims, values) = embeddings(output);
	assert_eq!(dims, 384);
	for row in values.chunks(dims) {
		let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt();
		assert!((norm - 1.0).abs() < 1e-5, "{norm}");
	}
}

#[test]
fn embeddings_put_paraphrases_together() {
	let embedder = minilm_int8();
	let (dims, v) = embeddings(
		embedder
			.embed(&[
				"A man is playing a guitar.",
				"Someone is strumming an acoustic guitar.",
				"The central bank raised interest rates again.",
			])
			.unwrap(),
	);
	let (a, b, c) = (&v[..dims], &v[dims..2 * dims], &v[2 * dims..]);
	let (close, far) = (cosine(a, b), cosine(a, c));
	println!("guitar/guitar {close:.3}, guitar/rates {far:.3}");
	assert!(close > 0.6 && far < 0.2 && close > far + 0.4, "{close} {far}");
}

#[test]
fn embedding_batches_match_single_texts() {
	let embedder = minilm_int8();
	let texts = ["short", "a somewhat longer sentence that needs padding in a batch"];
	let (dims, batch) = embeddings(embedder.embed(&texts).unwrap());
	for (i, text) in texts.iter().enumerate() {
		let (_, single) = embeddings(embedder.embed(&[text]).unwrap());
		let similarity = cosine(&single, &batch[i * dims..(i + 1) * dims]);
		assert!(similarity > 0.99999, "{text}: {similarity}");
	}
	assert!(embedder.embed(&[]).is_err());
}

fn efficientnet() -> ImageClassifier {
	let options = LoadOptions { specialize: true, ..LoadOptions::default() };
	ImageClassifier::new(
		OnnxModel::load(&read_model("efficientnet-lite0/model.onnx"), &options).unwrap(),
		imagenet_labels(),
		ImagePreprocessing::square(224, [0.5; 3], [0.5; 3]),
	)
	.unwrap()
}

#[test]
fn converted_efficientnet_matches_onnxruntime() {
	let model = load("efficientnet-lite0/model.onnx");
	let images = lcg_tensor("images", &[1, 3, 224, 224], 5);
	let images = citrate_inference::codec::Tensor::from_f32(
		"images",
		images.shape.clone(),
		&images.to_f32().unwrap().iter().map(|v| v * 2.0 - 1.0).collect::<Vec<_>>(),
	)
	.unwrap();
	let outputs = model.run(&[images]).unwrap();
	let diff = max_abs_diff(&outputs[0], tensor(&golden("efficientnet-lite0"), "logits"));
	println!("EfficientNet-Lite0 logits max diff = {diff:e}");
	// Observed 6.7e-6 on logits of magnitude ~10.
	assert!(diff < 1e-4, "{diff}");
}

#[test]
fn image_classification_recognises_a_cat_and_an_espresso() {
	let classifier = efficientnet();
	let assets = std::path::Path::new(
		&std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
	)
	.join("tests/assets");
	for (file, expected) in [
		// Any of the cat classes: tabby, tiger cat, Egyptian cat.
		("chelsea.jpg", &[281u32, 282, 285][..]),
		("coffee.jpg", &[967][..]),
	] {
		let output = classifier.classify(&std::fs::read(assets.join(file)).unwrap(), 5).unwrap();
		let Output::Labels(rows) = &output else { panic!("labels") };
		let best = &rows[0][0];
		println!("{file}: {} ({}) {:.3}", best.name, best.id, best.score);
		assert!(expected.contains(&best.id), "{file}: {rows:?}");
		assert!(best.score > 0.5, "{file}: {best:?}");
		let total: f32 = rows[0].iter().map(|l| l.score).sum();
		assert!(total <= 1.0 + 1e-5);
		assert_eq!(output_hash(&output.to_tensors().unwrap()).unwrap().len(), 32);
	}
	let error = classifier.classify(b"not an image", 5).unwrap_err();
	assert!(error.to_string().contains("image"), "{error}");
}

#[test]
fn voice_activity_streams_like_onnxruntime() {
	let vad = SileroVad::new(load("silero-vad/silero_vad_16k.onnx")).unwrap();
	let golden = golden("silero-vad");
	// The golden's chunks carry 64 samples of context; the audio is their last 512 samples.
	let audio: Vec<f32> = tensor(&golden, "chunks")
		.to_f32()
		.unwrap()
		.chunks(576)
		.flat_map(|c| c[64..].to_vec())
		.collect();
	let expected = tensor(&golden, "probabilities").to_f32().unwrap();

	// Whole clip, and the same audio in uneven pieces: identical probabilities.
	let Output::SpeechProbabilities(whole) = vad.detect(&audio).unwrap() else { panic!() };
	let mut stream = VadStream::default();
	let mut streamed = vec![];
	for piece in audio.chunks(700) {
		streamed.extend(vad.push(&mut stream, piece).unwrap());
	}
	assert_eq!(whole, streamed);
	assert_eq!(whole.len(), audio.len() / CHUNK);
	for (p, e) in whole.iter().zip(&expected) {
		assert!((p - e).abs() < 1e-5, "{p} vs {e}");
	}
	// Silence is not speech.
	let Output::SpeechProbabilities(silence) = vad.detect(&vec![0.0; 16_000]).unwrap() else {
		panic!()
	};
	assert!(silence.iter().all(|&p| p < 0.1), "{silence:?}");
	assert!(segments(&silence, 0.5).is_empty());
	assert_eq!(segments(&[0.1, 0.8, 0.9, 0.4, 0.2, 0.7], 0.5), vec![(1, 3), (5, 5)]);
}

#[test]
fn text_classification_names_the_labels_of_id2label() {
	use citrate_inference::pipelines::text::{labels_from_config, TextClassifier};
	let assets = std::path::Path::new(
		&std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
	)
	.join("tests/assets");
	let counter = OnnxModel::load(
		&std::fs::read(assets.join("word-sentiment.onnx")).unwrap(),
		&LoadOptions::default(),
	)
	.unwrap();
	let labels =
		labels_from_config(br#"{"id2label": {"1": "negative", "0": "positive"}}"#).unwrap();
	assert_eq!(labels, ["positive", "negative"]);
	let tokenizer = std::fs::read(model("all-minilm-l6-v2/tokenizer.json")).unwrap();
	let classifier = TextClassifier::new(counter, &tokenizer, 128, labels).unwrap();
	let Output::Labels(rows) = classifier
		.classify(&["What a great film, I love it!", "An awful, terrible evening."], 2)
		.unwrap()
	else {
		panic!("labels")
	};
	assert_eq!(rows[0][0].name, "positive");
	assert_eq!(rows[1][0].name, "negative");
	// Two positive words against none: softmax([2, 0]).
	assert!((rows[0][0].score - 0.880_797).abs() < 1e-5, "{rows:?}");
	assert!(labels_from_config(br#"{"id2label": {"0": "a", "2": "c"}}"#).is_err());
	assert!(labels_from_config(b"{}").is_err());
}

/// A model's files as a registered model's directory would hold them.
fn files(entries: &[(&str, Vec<u8>)]) -> ModelFiles {
	let mut files = ModelFiles::new();
	for (name, bytes) in entries {
		files.insert(*name, bytes.clone());
	}
	files
}

fn u8_tensor(name: &str, bytes: &[u8]) -> Tensor {
	Tensor::new(name, DType::U8, vec![bytes.len() as u32], bytes.to_vec()).unwrap()
}

#[test]
fn pipelines_are_chosen_by_the_models_task_and_take_requests_as_tensors() {
	let options = PipelineOptions::default();
	let assets = std::path::Path::new(
		&std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
	)
	.join("tests/assets");

	// OCR from the model's directory as fetched: det.onnx, rec.onnx, cls.onnx.
	let dir = ModelFiles::from_dir(&models_dir().join("pp-ocrv4"), 64 << 20).unwrap();
	let ocr = Pipeline::load(Task::Ocr, &dir, &options).unwrap();
	assert_eq!(ocr.task(), Task::Ocr);
	let png = std::fs::read(assets.join("ocr-text.png")).unwrap();
	let request = Request::from_tensors(Task::Ocr, vec![u8_tensor("image", &png)]).unwrap();
	let Output::Lines(lines) = ocr.run(&request).unwrap() else { panic!("lines") };
	assert_eq!(lines.len(), 2, "{lines:?}");
	assert!(lines[1].text.to_lowercase().contains("chain"), "{lines:?}");
	let error = ocr.run(&Request::Text(vec!["hi".into()])).unwrap_err();
	assert_eq!(error.to_string(), "ocr models do not take text");
	assert!(ModelFiles::from_dir(&models_dir().join("pp-ocrv4"), 1 << 20).is_err());

	// Image classification: the size and normalisation come from preprocessor_config.json,
	// so the result is the hand-built classifier's.
	let model = read_model("efficientnet-lite0/model.onnx");
	let config = br#"{"size": 224, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]}"#;
	let classifier = Pipeline::load(
		Task::ImageClassification,
		&files(&[("model.onnx", model.clone()), ("preprocessor_config.json", config.to_vec())]),
		&options,
	)
	.unwrap();
	let jpeg = std::fs::read(assets.join("coffee.jpg")).unwrap();
	let labels = classifier.run(&Request::Image(jpeg.clone())).unwrap();
	assert_eq!(labels, efficientnet().classify(&jpeg, options.top_k).unwrap());
	let Output::Labels(rows) = &labels else { panic!("labels") };
	assert_eq!((rows[0][0].id, rows[0].len()), (967, 5), "{rows:?}");
	// Without a size the preprocessing cannot be determined: the model's input has symbolic
	// height and width. With one it normalises with ImageNet statistics: other scores.
	let error = Pipeline::load(
		Task::ImageClassification,
		&files(&[("model.onnx", model.clone())]),
		&options,
	)
	.err()
	.unwrap();
	assert_eq!(
		error.to_string(),
		"not a valid model file: preprocessor_config.json: `size` is missing, and input `images` \
		 does not fix its height and width; give the size images are resized to"
	);
	let plain = Pipeline::load(
		Task::ImageClassification,
		&files(&[
			("model.onnx", model),
			("preprocessor_config.json", br#"{"size": 224}"#.to_vec()),
		]),
		&options,
	)
	.unwrap();
	assert_ne!(plain.run(&Request::Image(jpeg)).unwrap(), labels);
	let missing = Pipeline::load(Task::ImageClassification, &files(&[]), &options);
	assert!(
		missing.as_ref().is_err_and(|e| e.to_string().contains("need `model.onnx`")),
		"{:?}",
		missing.err()
	);

	// Feature extraction (tract) with two texts in one NUL-padded u8 [2, width] tensor.
	let embedder = Pipeline::load(
		Task::FeatureExtraction,
		&files(&[
			("model.onnx", read_model("all-minilm-l6-v2-int8/model.onnx")),
			("tokenizer.json", read_model("all-minilm-l6-v2/tokenizer.json")),
		]),
		&PipelineOptions { max_tokens: 128, ..PipelineOptions::default() },
	)
	.unwrap();
	let texts = ["A man is playing a guitar.", "Someone plays music."];
	let width = texts.iter().map(|t| t.len()).max().unwrap();
	let padded: Vec<u8> =
		texts.iter().flat_map(|t| t.bytes().chain(std::iter::repeat(0)).take(width)).collect();
	let rows = Tensor::new("text", DType::U8, vec![2, width as u32], padded).unwrap();
	let request = Request::from_tensors(Task::FeatureExtraction, vec![rows]).unwrap();
	assert_eq!(embedder.run(&request).unwrap(), minilm_int8().embed(&texts).unwrap());

	// Voice activity from 16 kHz samples, and the same model as raw tensors.
	let vad_model = read_model("silero-vad/silero_vad_16k.onnx");
	let vad =
		Pipeline::load(Task::VoiceActivity, &files(&[("model.onnx", vad_model.clone())]), &options)
			.unwrap();
	let audio = lcg_values(2_000, 3).iter().map(|v| v - 0.5).collect::<Vec<_>>();
	let samples = Tensor::from_f32("samples", vec![2_000], &audio).unwrap();
	let request = Request::from_tensors(Task::VoiceActivity, vec![samples]).unwrap();
	let direct = SileroVad::new(load("silero-vad/silero_vad_16k.onnx")).unwrap();
	assert_eq!(vad.run(&request).unwrap(), direct.detect(&audio).unwrap());
	let raw =
		Pipeline::load(Task::RawTensors, &files(&[("model.onnx", vad_model)]), &options).unwrap();
	let inputs = vec![
		lcg_tensor("input", &[1, 576], 4),
		Tensor::from_f32("state", vec![2, 1, 128], &[0.0; 256]).unwrap(),
	];
	let Output::Tensors(outputs) = raw.run(&Request::Tensors(inputs.clone())).unwrap() else {
		panic!("tensors")
	};
	assert_eq!(outputs, load("silero-vad/silero_vad_16k.onnx").run(&inputs).unwrap());

	// Loaded pipelines go in the model cache like single models.
	let cache = citrate_inference::cache::ModelCache::new(1 << 30);
	let load_ocr = || Pipeline::load(Task::Ocr, &dir, &options);
	let first = cache.get_or_load(b"pp-ocrv4", dir.total_bytes(), load_ocr).unwrap();
	let again = cache.get_or_load(b"pp-ocrv4", dir.total_bytes(), || panic!("cached")).unwrap();
	assert!(std::sync::Arc::ptr_eq(&first, &again));
	assert_eq!(cache.stats().used_bytes, first.weight_bytes());
	assert!(first.weight_bytes() > 5_000_000, "{}", first.weight_bytes());
}

#[test]
fn voice_activity_takes_the_silero_exports_of_its_package() {
	use citrate_inference::pipelines::vad::SileroExport;
	let options = LoadOptions::default();
	let load = |file: &str| {
		SileroVad::load(&read_model(&format!("silero-vad/{file}")), file, &options).unwrap()
	};
	let streaming = load("silero_vad_16k.onnx");
	let sequence = load("silero_vad_16k_sequence.onnx");
	assert_eq!(
		(streaming.export(), sequence.export()),
		(SileroExport::Streaming, SileroExport::Sequence)
	);
	// Speech (espeak) between silences: both exports give the same probabilities, the
	// sequence export in one run per 256 chunks.
	let mut audio = vec![0.0; 8_000];
	audio.extend(common::speak("voice activity"));
	audio.extend(vec![0.0; 8_000]);
	let Output::SpeechProbabilities(expected) = streaming.detect(&audio).unwrap() else { panic!() };
	let Output::SpeechProbabilities(batched) = sequence.detect(&audio).unwrap() else { panic!() };
	assert_eq!(expected.len(), batched.len());
	let diff = expected.iter().zip(&batched).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
	println!("Silero streaming vs sequence: max diff {diff:e} over {} chunks", expected.len());
	assert!(diff < 1e-3, "{diff}");
	assert!(!segments(&expected, 0.5).is_empty(), "speech found: {expected:?}");
	// Streamed in uneven pieces, the sequence export carries its LSTM state across calls.
	let mut stream = VadStream::default();
	let mut pieces = vec![];
	for part in audio.chunks(3_000) {
		pieces.extend(sequence.push(&mut stream, part).unwrap());
	}
	assert_eq!(pieces[..], batched[..pieces.len()]);

	// The exports with a sample-rate input (fixed to 16 kHz at load, resolving their `If`s)
	// give the streaming export's probabilities.
	for file in ["silero_vad.onnx", "silero_vad_16k_op15.onnx", "silero_vad_op18_ifless.onnx"] {
		let vad = load(file);
		assert_eq!(vad.export(), SileroExport::Streaming);
		let Output::SpeechProbabilities(p) = vad.detect(&audio).unwrap() else { panic!() };
		let diff = expected.iter().zip(&p).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
		assert!(p.len() == expected.len() && diff < 1e-5, "{file}: {diff}");
	}

	// A package is searched in the documented order; a file of another shape is refused.
	let pipeline = Pipeline::load(
		Task::VoiceActivity,
		&files(&[(
			"silero_vad_16k_sequence.onnx",
			read_model("silero-vad/silero_vad_16k_sequence.onnx"),
		)]),
		&PipelineOptions::default(),
	)
	.unwrap();
	let Output::SpeechProbabilities(from_package) = pipeline.run(&Request::samples(audio)).unwrap()
	else {
		panic!()
	};
	assert_eq!(from_package, batched);
	let error = Pipeline::load(
		Task::VoiceActivity,
		&files(&[("vad.onnx", vec![])]),
		&PipelineOptions::default(),
	)
	.err()
	.unwrap();
	assert!(
		error.to_string().starts_with(
			"not a valid model file: voice-activity models need one of [\"model.onnx\", "
		),
		"{error}"
	);
	let error =
		SileroVad::load(&read_model("efficientnet-lite0/model.onnx"), "model.onnx", &options)
			.err()
			.unwrap();
	assert_eq!(
		error.to_string(),
		"not a valid model file: model.onnx: not a Silero VAD v5 export: its inputs are \
		 [\"images\"]; voice activity takes [input, state] (silero_vad_openvino_16k.onnx), \
		 [input, state, sr] (silero_vad.onnx) or [input, h, c] (silero_vad_16k_sequence.onnx) \
		 from the silero-vad package, version 5 or later"
	);
}
