//! The candle backend on real models: MiniLM fp32 (safetensors) against MiniLM int8 (ONNX,
//! tract) and onnxruntime's golden; Whisper tiny.en (converted from CTranslate2) transcribing
//! speech synthesised by espeak-ng; Silero VAD finding that speech.
#![cfg(feature = "candle")]

mod common;

use citrate_inference::{
	candle::{bert::BertEncoder, device, whisper::WhisperModel},
	onnx::{LoadOptions, OnnxModel},
	pipelines::{
		text::SentenceEmbedder,
		vad::{segments, SileroVad},
		Output, SpeechOptions,
	},
	Error, Limits,
};
use common::*;

const SENTENCES: [&str; 2] = [
	"A man is playing a guitar.",
	"The new movie is awesome and everybody should watch it this weekend!",
];

fn cosine(a: &[f32], b: &[f32]) -> f32 {
	let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
	let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
	dot / (norm(a) * norm(b))
}

fn vectors(output: Output) -> Vec<Vec<f32>> {
	let Output::Embeddings { dims, values } = output else { panic!("embeddings") };
	values.chunks(dims).map(<[f32]>::to_vec).collect()
}

#[test]
fn minilm_fp32_on_candle_agrees_with_int8_on_tract() {
	let tokenizer = std::fs::read(model("all-minilm-l6-v2/tokenizer.json")).unwrap();
	let bert = BertEncoder::load(
		&read_model("all-minilm-l6-v2/model.safetensors"),
		&read_model("all-minilm-l6-v2/config.json"),
		&device(true).unwrap(),
		&Limits::default(),
	)
	.unwrap();
	let estimate = bert.estimate(1, 16);
	assert!(estimate.flops > 300_000_000 && estimate.flops < 400_000_000, "{estimate:?}");
	let fp32 = SentenceEmbedder::new(bert, &tokenizer, 128).unwrap();
	let int8 = SentenceEmbedder::new(
		OnnxModel::load(&read_model("all-minilm-l6-v2-int8/model.onnx"), &LoadOptions::default())
			.unwrap(),
		&tokenizer,
		128,
	)
	.unwrap();
	let golden = tensor(&golden("minilm-int8"), "embeddings").to_f32().unwrap();
	let candle = vectors(fp32.embed(&SENTENCES).unwrap());
	let tract = vectors(int8.embed(&SENTENCES).unwrap());
	for (i, (c, t)) in candle.iter().zip(&tract).enumerate() {
		let (with_tract, with_golden) = (cosine(c, t), cosine(c, &golden[i * 384..(i + 1) * 384]));
		println!("sentence {i}: cosine fp32/int8 {with_tract:.5}, fp32/onnxruntime int8 {with_golden:.5}");
		assert!(with_tract >= 0.999 && with_golden >= 0.999, "{with_tract} {with_golden}");
	}
}

fn whisper_model() -> WhisperModel {
	whisper("whisper-tiny-en/model.safetensors", "whisper-tiny-en-ct2/tokenizer.json")
}

#[test]
fn whisper_transcribes_synthetic_speech() {
	let model = whisper_model();
	for sentence in [
		"The quick brown fox jumps over the lazy dog.",
		"Please send the model results to the blockchain.",
	] {
		let transcript = model.transcribe(&speak(sentence), &SpeechOptions::default()).unwrap();
		// English-only checkpoints report no language.
		let Output::Transcript { text, language: None } = transcript else { panic!() };
		let (said, heard) = (words(sentence), words(&text));
		let matched = said.iter().filter(|w| heard.contains(w)).count();
		println!("said {sentence:?}, heard {text:?}: {matched}/{} words", said.len());
		assert!(matched * 10 >= said.len() * 7, "{text:?}");
	}
}

#[test]
fn whisper_refuses_bad_audio() {
	let model = whisper_model();
	let english = SpeechOptions::default();
	assert!(matches!(model.transcribe(&[], &english), Err(Error::Pipeline(_))));
	assert!(matches!(model.transcribe(&[0.0, f32::NAN], &english), Err(Error::Pipeline(_))));
	let long = vec![0.0; 31 * 16_000];
	assert!(matches!(model.transcribe(&long, &english), Err(Error::Pipeline(_))));
	// What an English-only checkpoint cannot do is refused before any work.
	let french = SpeechOptions { language: Some("fr".into()), translate: false };
	assert_eq!(
		model.transcribe(&[0.0; 160], &french).unwrap_err().to_string(),
		"this Whisper checkpoint is English-only and cannot transcribe `fr`; use a \
		 multilingual checkpoint (e.g. Whisper base), or send `en`"
	);
	let translate = SpeechOptions { language: None, translate: true };
	assert_eq!(
		model.transcribe(&[0.0; 160], &translate).unwrap_err().to_string(),
		"this Whisper checkpoint is English-only and cannot translate; use a \
		 multilingual checkpoint (e.g. Whisper base), or the task `transcribe`"
	);
	assert_eq!(model.languages().count(), 0);
}

#[test]
fn voice_activity_finds_synthetic_speech_between_silences() {
	let vad = SileroVad::new(
		OnnxModel::load(&read_model("silero-vad/silero_vad_16k.onnx"), &LoadOptions::default())
			.unwrap(),
	)
	.unwrap();
	let speech = speak("Voice activity detection finds the words in this recording.");
	let mut audio = vec![0.0f32; 16_000];
	audio.extend(&speech);
	audio.extend(vec![0.0f32; 16_000]);
	let Output::SpeechProbabilities(p) = vad.detect(&audio).unwrap() else { panic!() };
	let found = segments(&p, 0.5);
	println!("{} chunks, speech segments {found:?}", p.len());
	// 32 ms chunks: the speech starts after 31.25 chunks of silence and ends 31.25 before the end.
	assert!(!found.is_empty());
	let (first, last) = (found[0].0, found[found.len() - 1].1);
	assert!((28..=40).contains(&first), "{found:?}");
	assert!(last + 28 <= p.len() && last + 45 >= p.len(), "{found:?} of {}", p.len());
	assert!(p[..25].iter().all(|&x| x < 0.2), "silence: {:?}", &p[..25]);
}

fn gemma() -> citrate_inference::candle::gemma::GemmaModel {
	citrate_inference::candle::gemma::GemmaModel::load(
		&read_model("gemma3-270m/gemma-3-270m-q4_k_m.gguf"),
		&device(true).unwrap(),
		&Limits::default(),
	)
	.unwrap()
}

#[test]
fn gemma_generates_greedily_and_samples_reproducibly() {
	use citrate_inference::candle::gemma::GenerationParams;
	let model = gemma();
	let encoding = model.tokenizer().encode("Hello world, naïve café!", false).unwrap();
	assert_eq!(
		model.tokenizer().decode(encoding.get_ids(), true).unwrap(),
		"Hello world, naïve café!"
	);

	let greedy = GenerationParams { max_tokens: 8, ..GenerationParams::default() };
	// Gemma 3 270M is a base model: it continues text rather than answering.
	let Output::Text(text) = model.generate("Paris is the capital of", &greedy).unwrap() else {
		panic!()
	};
	println!("greedy: {text:?}");
	assert!(text.contains("Fren") || text.contains("France"), "{text:?}");
	let again = model.generate("Paris is the capital of", &greedy).unwrap();
	assert_eq!(again, Output::Text(text));

	let sampled = |seed| {
		let params = GenerationParams { max_tokens: 16, temperature: 1.0, top_p: Some(0.95), seed };
		model.generate("Once upon a time", &params).unwrap()
	};
	let (first, second, other) = (sampled(7), sampled(7), sampled(8));
	println!("seed 7: {first:?}\nseed 8: {other:?}");
	assert_eq!(first, second);
	assert_ne!(first, other);
	assert!(model.generate("x", &GenerationParams { max_tokens: 0, ..greedy }).is_err());
}

#[test]
fn candle_models_share_the_model_cache() {
	use citrate_inference::cache::ModelCache;
	let bytes = read_model("all-minilm-l6-v2/model.safetensors");
	let config = read_model("all-minilm-l6-v2/config.json");
	let cache = ModelCache::new(1 << 30);
	let load = || BertEncoder::load(&bytes, &config, &device(true).unwrap(), &Limits::default());
	let first = cache.get_or_load(b"minilm-fp32", bytes.len() as u64, load).unwrap();
	let second =
		cache.get_or_load(b"minilm-fp32", bytes.len() as u64, || panic!("cached")).unwrap();
	assert!(std::sync::Arc::ptr_eq(&first, &second));
	// 22.7 M parameters held as f32.
	let stats = cache.stats();
	assert_eq!((stats.loads, stats.hits), (1, 1));
	assert!(stats.used_bytes > 85_000_000 && stats.used_bytes < 95_000_000, "{stats:?}");
}

#[test]
fn speech_and_generation_pipelines_take_requests_as_tensors() {
	use citrate_inference::{
		codec::{DType, Tensor},
		pipelines::{GenerationParams, ModelFiles, Pipeline, PipelineOptions, Request, Task},
	};
	let bytes = |name: &str, data: &[u8]| {
		Tensor::new(name, DType::U8, vec![data.len() as u32], data.to_vec()).unwrap()
	};
	let options = PipelineOptions::default();

	// espeak-ng's own WAV (22.05 kHz), resampled by the pipeline.
	let mut files = ModelFiles::new();
	files
		.insert("model.safetensors", read_model("whisper-tiny-en/model.safetensors"))
		.insert("tokenizer.json", read_model("whisper-tiny-en-ct2/tokenizer.json"));
	let whisper = Pipeline::load(Task::SpeechToText, &files, &options).unwrap();
	let sentence = "The quick brown fox jumps over the lazy dog.";
	let wav = std::process::Command::new("espeak-ng")
		.args(["--stdout", "-s", "150", sentence])
		.output()
		.expect("espeak-ng runs")
		.stdout;
	let request = Request::from_tensors(Task::SpeechToText, vec![bytes("audio", &wav)]).unwrap();
	let transcript = whisper.run(&request).unwrap();
	// The same transcript as the model given the decoded, resampled samples directly.
	let direct = whisper_model().transcribe(&speak(sentence), &SpeechOptions::default()).unwrap();
	assert_eq!(transcript, direct);
	let Output::Transcript { text, .. } = transcript else { panic!("text") };
	let (said, heard) = (words(sentence), words(&text));
	let matched = said.iter().filter(|w| heard.contains(w)).count();
	println!("said {sentence:?}, heard {text:?}");
	assert!(matched * 10 >= said.len() * 7, "{text:?}");
	let error = whisper.run(&Request::wav(b"RIFF....WAVEjunk".to_vec())).unwrap_err();
	assert!(error.to_string().contains("WAV"), "{error}");

	let mut files = ModelFiles::new();
	let gguf = read_model("gemma3-270m/gemma-3-270m-q4_k_m.gguf");
	files.insert("model.gguf", gguf);
	let generator = Pipeline::load(Task::TextGeneration, &files, &options).unwrap();
	let max_tokens = Tensor::new("max_tokens", DType::I64, vec![], 6i64.to_le_bytes().into());
	let request = Request::from_tensors(
		Task::TextGeneration,
		vec![bytes("prompt", b"Paris is the capital of"), max_tokens.unwrap()],
	)
	.unwrap();
	let params = GenerationParams { max_tokens: 6, ..GenerationParams::default() };
	assert_eq!(
		generator.run(&request).unwrap(),
		gemma().generate("Paris is the capital of", &params).unwrap()
	);
	assert!(generator.run(&Request::Text(vec!["hi".into()])).is_err());
	assert!(Pipeline::load(Task::TextGeneration, &ModelFiles::new(), &options).is_err());
}

#[test]
fn candle_refusals_name_the_package_file() {
	use citrate_inference::pipelines::{ModelFiles, Pipeline, PipelineOptions, Task};
	let options = PipelineOptions::default();
	let refusal = |task, files: &[(&str, Vec<u8>)]| {
		let mut package = ModelFiles::new();
		for (name, bytes) in files {
			package.insert(*name, bytes.clone());
		}
		let error = Pipeline::load(task, &package, &options).err().expect("refused").to_string();
		error.strip_prefix("not a valid model file: ").map(str::to_string).unwrap_or(error)
	};
	let minilm = read_model("all-minilm-l6-v2/model.safetensors");
	let tokenizer = read_model("all-minilm-l6-v2/tokenizer.json");
	let config = read_model("all-minilm-l6-v2/config.json");
	let embedder = |weights: &[u8], config: &[u8]| {
		refusal(
			Task::FeatureExtraction,
			&[
				("model.safetensors", weights.to_vec()),
				("config.json", config.to_vec()),
				("tokenizer.json", tokenizer.clone()),
			],
		)
	};
	let truncated = embedder(&minilm[..1000], &config);
	assert!(
		truncated.starts_with("model.safetensors: not a valid safetensors file: "),
		"{truncated}"
	);
	let not_json = embedder(&minilm, b"{ hidden_size");
	assert!(not_json.starts_with("config.json: not a BERT config: "), "{not_json}");
	// A config that disagrees with the weights' shapes.
	let mut wider: serde_json::Value = serde_json::from_slice(&config).unwrap();
	wider["hidden_size"] = 768.into();
	wider["num_attention_heads"] = 12.into();
	let disagrees = embedder(&minilm, wider.to_string().as_bytes());
	assert!(
		disagrees.starts_with("model.safetensors: weights do not match config.json: "),
		"{disagrees}"
	);

	let whisper = read_model("whisper-tiny-en/model.safetensors");
	let no_tokens = refusal(
		Task::SpeechToText,
		&[("model.safetensors", whisper), ("tokenizer.json", tokenizer.clone())],
	);
	assert_eq!(no_tokens, "tokenizer.json: no <|startoftranscript|> token");
	let bert_as_whisper = refusal(
		Task::SpeechToText,
		&[("model.safetensors", minilm), ("tokenizer.json", tokenizer)],
	);
	assert_eq!(bert_as_whisper, "model.safetensors: no `config` (HF config.json) in its metadata");
}
