//! Multilingual Whisper (base, converted from CTranslate2): the spoken language detected or
//! given, transcription in that language or translation to English, and the languages a
//! checkpoint lacks refused — on speech synthesised by espeak-ng's voices.
#![cfg(feature = "candle")]

mod common;

use citrate_inference::{
	candle::whisper::WhisperModel,
	codec::{DType, Tensor},
	pipelines::{ModelFiles, Output, Pipeline, PipelineOptions, Request, SpeechOptions, Task},
};
use common::*;

fn whisper_base() -> WhisperModel {
	whisper("whisper-base/model.safetensors", "whisper-base-ct2/tokenizer.json")
}

fn options(language: Option<&str>, translate: bool) -> SpeechOptions {
	SpeechOptions { language: language.map(str::to_string), translate }
}

fn transcript(output: Output) -> (String, String) {
	let Output::Transcript { text, language: Some(language) } = output else {
		panic!("a multilingual transcript names its language: {output:?}")
	};
	(text, language)
}

fn share_of_words(said: &str, heard: &str) -> f32 {
	let (said, heard) = (words(said), words(heard));
	said.iter().filter(|w| heard.contains(w)).count() as f32 / said.len() as f32
}

const ENGLISH: &str = "The quick brown fox jumps over the lazy dog.";
const FRENCH: &str = "Bonjour, je voudrais un café et un croissant, s'il vous plaît.";

#[test]
fn the_language_is_detected_and_transcribed_in_it() {
	let model = whisper_base();
	let codes: Vec<&str> = model.languages().collect();
	assert_eq!(codes.len(), 99, "{codes:?}");
	assert_eq!(&codes[..4], ["en", "zh", "de", "es"]);

	let (text, language) =
		transcript(model.transcribe(&speak(ENGLISH), &options(None, false)).unwrap());
	println!("English: {language} {text:?}");
	assert_eq!(language, "en");
	assert!(share_of_words(ENGLISH, &text) >= 0.7, "{text:?}");

	let french = speak_in("fr", FRENCH);
	let (text, language) = transcript(model.transcribe(&french, &options(None, false)).unwrap());
	println!("French: {language} {text:?}");
	assert_eq!(language, "fr");
	assert!(share_of_words(FRENCH, &text) >= 0.5, "{text:?}");
	// Naming the language gives what detecting it gave.
	let given = model.transcribe(&french, &options(Some("fr"), false)).unwrap();
	assert_eq!(transcript(given), (text, "fr".to_string()));
}

#[test]
fn translation_turns_french_speech_into_english() {
	let model = whisper_base();
	let french = speak_in("fr", FRENCH);
	let (text, language) =
		transcript(model.transcribe(&french, &options(Some("fr"), true)).unwrap());
	println!("translated: {text:?}");
	assert_eq!(language, "fr");
	let english = words(&text);
	assert!(
		english.iter().any(|w| ["coffee", "please", "hello", "like", "want"].contains(&w.as_str())),
		"{text:?}"
	);
	assert!(share_of_words(FRENCH, &text) < 0.5, "still French: {text:?}");
}

#[test]
fn a_language_the_checkpoint_lacks_is_refused_with_the_ones_it_has() {
	let model = whisper_base();
	let error = model.transcribe(&[0.0; 160], &options(Some("xx"), false)).unwrap_err().to_string();
	assert!(
		error.starts_with("this Whisper checkpoint has no language `xx`; it knows en, zh, de, es,"),
		"{error}"
	);
}

#[test]
fn the_pipeline_reads_language_and_task_from_the_request() {
	let mut files = ModelFiles::new();
	files
		.insert("model.safetensors", read_model("whisper-base/model.safetensors"))
		.insert("tokenizer.json", read_model("whisper-base-ct2/tokenizer.json"));
	let pipeline = Pipeline::load(Task::SpeechToText, &files, &PipelineOptions::default()).unwrap();
	let bytes = |name: &str, data: &[u8]| {
		Tensor::new(name, DType::U8, vec![data.len() as u32], data.to_vec()).unwrap()
	};
	let samples = speak_in("fr", FRENCH);
	let request = Request::from_tensors(
		Task::SpeechToText,
		vec![
			Tensor::from_f32("samples", vec![samples.len() as u32], &samples).unwrap(),
			bytes("language", b"fr"),
			bytes("task", b"translate"),
		],
	)
	.unwrap();
	let output = pipeline.run(&request).unwrap();
	assert_eq!(output, whisper_base().transcribe(&samples, &options(Some("fr"), true)).unwrap());
	// The canonical tensors carry the language after the text.
	let tensors = output.to_tensors().unwrap();
	assert_eq!(tensors.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["text", "language"]);
	assert_eq!(tensors[1].data, b"fr");
}
