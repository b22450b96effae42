//! Requests: what a pipeline takes, and how it is read from the tensors a contract sends.
//!
//! Which tensors each task's requests carry is the chain↔engine contract
//! (`citrate_inference_primitives::request`, which documents them): [`Request::from_tensors`]
//! checks a request against it first, as the runtime does, and then reads the contents (UTF-8,
//! NUL-padded rows, scalars).

use super::{
	audio::{decode_wav, resample},
	GenerationParams, Task,
};
use crate::{Error, Result};
use citrate_inference_primitives::request::{check_request, Scalar};
pub use citrate_inference_primitives::request::{DEFAULT_TEMPLATE, MAX_TEXTS, SAMPLE_RATE};
use citrate_tensor_primitives::{DType, Tensor};

/// What a request sends.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
	/// Texts (feature extraction, text classification).
	Text(Vec<String>),
	/// An encoded image, PNG or JPEG (image classification, OCR).
	Image(Vec<u8>),
	/// Audio (speech-to-text, voice activity), and what to do with speech.
	Audio { audio: Audio, speech: SpeechOptions },
	/// A prompt to continue (text generation).
	Prompt { text: String, params: GenerationParams },
	/// An image and texts for an image–text model (zero-shot image classification).
	ImageText(ImageText),
	/// The model's inputs as they are (raw tensors).
	Tensors(Vec<Tensor>),
}

/// What an image–text model (CLIP) is asked.
#[derive(Clone, Debug, PartialEq)]
pub enum ImageText {
	/// Rank `labels` for `image`, each label put into `template` where it has `{}`.
	Classify { image: Vec<u8>, labels: Vec<String>, template: String },
	/// The image's embedding.
	EmbedImage(Vec<u8>),
	/// One embedding per text.
	EmbedTexts(Vec<String>),
}

/// Audio a request sends.
#[derive(Clone, Debug, PartialEq)]
pub enum Audio {
	/// A WAV file.
	Wav(Vec<u8>),
	/// 16 kHz mono samples, -1..1.
	Samples(Vec<f32>),
}

/// What speech-to-text is asked for (multilingual Whisper checkpoints).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpeechOptions {
	/// The spoken language's code (`en`, `fr`…); detected when `None`.
	pub language: Option<String>,
	/// Translate to English instead of transcribing in the spoken language.
	pub translate: bool,
}

fn utf8(tensor: &Tensor) -> Result<String> {
	String::from_utf8(tensor.data.clone())
		.map_err(|_| Error::Pipeline(format!("`{}` is not UTF-8", tensor.name)))
}

fn texts_of(tensor: &Tensor) -> Result<Vec<String>> {
	match *tensor.shape.as_slice() {
		[rows, 0] => Ok(vec![String::new(); rows as usize]),
		[_, width] => tensor
			.data
			.chunks(width as usize)
			.map(|row| {
				let end = row.iter().position(|&b| b == 0).unwrap_or(row.len());
				String::from_utf8(row[..end].to_vec()).map_err(|_| {
					Error::Pipeline(format!("a row of `{}` is not UTF-8", tensor.name))
				})
			})
			.collect(),
		_ => Ok(vec![utf8(tensor)?]),
	}
}

impl Request {
	/// The request a contract sent as tensors, read for a model of `task` (see the module
	/// docs for the names).
	pub fn from_tensors(task: Task, tensors: Vec<Tensor>) -> Result<Request> {
		check_request(task, &tensors)?;
		let named = |name: &str| tensors.iter().find(|t| t.name == name);
		// Present: `check_request` checked the required fields.
		let required =
			|name: &str| named(name).ok_or_else(|| Error::MissingInput(name.to_string()));
		let scalar = |name: &str| named(name).and_then(Scalar::of);
		Ok(match task {
			Task::FeatureExtraction | Task::TextClassification | Task::FillMask => {
				Request::Text(texts_of(required("text")?)?)
			}
			Task::ImageClassification | Task::Ocr => {
				Request::Image(required("image")?.data.clone())
			}
			Task::SpeechToText | Task::VoiceActivity => Request::Audio {
				audio: match named("audio") {
					Some(wav) => Audio::Wav(wav.data.clone()),
					None => Audio::Samples(required("samples")?.to_f32().unwrap_or_default()),
				},
				speech: SpeechOptions {
					language: named("language").map(utf8).transpose()?,
					translate: named("task").is_some_and(|t| t.data == b"translate"),
				},
			},
			Task::TextGeneration | Task::Text2TextGeneration => {
				let mut params = GenerationParams::default();
				if let Some(n) = scalar("max_tokens").and_then(Scalar::as_i64) {
					params.max_tokens = n as usize;
				}
				if let Some(t) = scalar("temperature") {
					params.temperature = f64::from(t.as_f32());
				}
				if let Some(p) = scalar("top_p") {
					params.top_p = Some(f64::from(p.as_f32()));
				}
				if let Some(seed) = scalar("seed").and_then(Scalar::as_i64) {
					params.seed = seed as u64;
				}
				Request::Prompt { text: utf8(required("prompt")?)?, params }
			}
			Task::ZeroShotImageClassification => {
				Request::ImageText(match (named("image"), named("labels"), named("text")) {
					(Some(image), Some(labels), _) => ImageText::Classify {
						image: image.data.clone(),
						labels: texts_of(labels)?,
						template: match named("template") {
							Some(template) => utf8(template)?,
							None => DEFAULT_TEMPLATE.to_string(),
						},
					},
					(Some(image), None, _) => ImageText::EmbedImage(image.data.clone()),
					// `check_request` allows exactly one of `image` and `text`.
					(None, _, _) => ImageText::EmbedTexts(texts_of(required("text")?)?),
				})
			}
			Task::RawTensors => Request::Tensors(tensors),
		})
	}

	/// The request as the tensors a chain request carries: the inverse of
	/// [`Request::from_tensors`] (the module docs of `citrate_inference_primitives::request`
	/// name them). Several texts go as NUL-padded rows, so a text may not hold NUL.
	pub fn to_tensors(&self) -> Result<Vec<Tensor>> {
		let bytes = |name: &str, data: &[u8]| {
			Tensor::new(name, DType::U8, vec![data.len() as u32], data.to_vec())
				.map_err(Error::from)
		};
		let texts = |name: &str, texts: &[String]| -> Result<Tensor> {
			if texts.iter().any(|t| t.contains('\0')) {
				return Err(Error::Pipeline(format!("a text of `{name}` holds a NUL character")));
			}
			match texts {
				[] => Err(Error::MissingInput(name.to_string())),
				[one] => bytes(name, one.as_bytes()),
				many => {
					let width = many.iter().map(String::len).max().unwrap_or_default();
					let mut data = vec![0u8; width * many.len()];
					for (row, text) in data.chunks_mut(width.max(1)).zip(many) {
						row[..text.len()].copy_from_slice(text.as_bytes());
					}
					Ok(Tensor::new(name, DType::U8, vec![many.len() as u32, width as u32], data)?)
				}
			}
		};
		Ok(match self {
			Request::Text(list) => vec![texts("text", list)?],
			Request::Image(image) => vec![bytes("image", image)?],
			Request::Audio { audio, speech } => {
				let mut tensors = vec![match audio {
					Audio::Wav(wav) => bytes("audio", wav)?,
					Audio::Samples(samples) => {
						Tensor::from_f32("samples", vec![samples.len() as u32], samples)?
					}
				}];
				if let Some(language) = &speech.language {
					tensors.push(bytes("language", language.as_bytes())?);
				}
				if speech.translate {
					tensors.push(bytes("task", b"translate")?);
				}
				tensors
			}
			Request::Prompt { text, params } => {
				let int = |name: &str, value: i64| {
					Tensor::new(name, DType::I64, vec![], value.to_le_bytes().to_vec())
				};
				let mut tensors = vec![
					bytes("prompt", text.as_bytes())?,
					int("max_tokens", params.max_tokens as i64)?,
				];
				if params.temperature != 0.0 {
					tensors.push(Tensor::from_f32(
						"temperature",
						vec![],
						&[params.temperature as f32],
					)?);
				}
				if let Some(top_p) = params.top_p {
					tensors.push(Tensor::from_f32("top_p", vec![], &[top_p as f32])?);
				}
				if params.seed != 0 {
					tensors.push(int("seed", params.seed as i64)?);
				}
				tensors
			}
			Request::ImageText(ImageText::Classify { image, labels, template }) => {
				let mut tensors = vec![bytes("image", image)?, texts("labels", labels)?];
				if template != DEFAULT_TEMPLATE {
					tensors.push(bytes("template", template.as_bytes())?);
				}
				tensors
			}
			Request::ImageText(ImageText::EmbedImage(image)) => vec![bytes("image", image)?],
			Request::ImageText(ImageText::EmbedTexts(list)) => vec![texts("text", list)?],
			Request::Tensors(tensors) => tensors.clone(),
		})
	}

	pub(super) fn kind(&self) -> &'static str {
		match self {
			Request::Text(_) => "text",
			Request::Image(_) => "an image",
			Request::Audio { .. } => "audio",
			Request::Prompt { .. } => "a prompt",
			Request::ImageText(_) => "an image or texts",
			Request::Tensors(_) => "raw tensors",
		}
	}

	/// A WAV file to transcribe or scan for speech, with default speech options.
	pub fn wav(bytes: Vec<u8>) -> Request {
		Request::Audio { audio: Audio::Wav(bytes), speech: SpeechOptions::default() }
	}

	/// 16 kHz mono samples to transcribe or scan for speech, with default speech options.
	pub fn samples(samples: Vec<f32>) -> Request {
		Request::Audio { audio: Audio::Samples(samples), speech: SpeechOptions::default() }
	}
}

impl Audio {
	/// The audio as 16 kHz mono samples.
	pub fn samples(&self) -> Result<Vec<f32>> {
		match self {
			Audio::Wav(wav) => {
				let (samples, rate) = decode_wav(wav)?;
				Ok(resample(&samples, rate, SAMPLE_RATE))
			}
			Audio::Samples(samples) => Ok(samples.clone()),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use citrate_inference_primitives::request::RequestError;
	use citrate_tensor_primitives::DType;

	fn u8_tensor(name: &str, shape: Vec<u32>, data: &[u8]) -> Tensor {
		Tensor::new(name, DType::U8, shape, data.to_vec()).unwrap()
	}

	#[test]
	fn every_request_reads_back_from_the_tensors_it_is_sent_as() {
		let params =
			GenerationParams { max_tokens: 9, temperature: 0.5, top_p: Some(0.25), seed: 7 };
		let cases = [
			(Task::FeatureExtraction, Request::Text(vec!["one".into()])),
			(Task::FeatureExtraction, Request::Text(vec!["a".into(), "".into(), "three".into()])),
			(Task::ImageClassification, Request::Image(b"\x89PNG".to_vec())),
			(
				Task::SpeechToText,
				Request::Audio {
					audio: Audio::Wav(b"RIFF".to_vec()),
					speech: SpeechOptions { language: Some("fr".into()), translate: true },
				},
			),
			(Task::VoiceActivity, Request::samples(vec![0.0, 0.5, -0.25])),
			(Task::TextGeneration, Request::Prompt { text: "Hi".into(), params }),
			(
				Task::Text2TextGeneration,
				Request::Prompt { text: "Hi".into(), params: GenerationParams::default() },
			),
			(
				Task::ZeroShotImageClassification,
				Request::ImageText(ImageText::Classify {
					image: b"jpg".to_vec(),
					labels: vec!["cat".into(), "dog".into()],
					template: "a {}".into(),
				}),
			),
			(
				Task::ZeroShotImageClassification,
				Request::ImageText(ImageText::Classify {
					image: b"jpg".to_vec(),
					labels: vec!["cat".into()],
					template: DEFAULT_TEMPLATE.into(),
				}),
			),
			(
				Task::ZeroShotImageClassification,
				Request::ImageText(ImageText::EmbedImage(b"i".to_vec())),
			),
			(
				Task::ZeroShotImageClassification,
				Request::ImageText(ImageText::EmbedTexts(vec!["t".into()])),
			),
		];
		for (task, request) in cases {
			let tensors = request.to_tensors().unwrap();
			assert_eq!(Request::from_tensors(task, tensors).unwrap(), request, "{task:?}");
		}
		let nul = Request::Text(vec!["a\0b".into(), "c".into()]).to_tensors().unwrap_err();
		assert_eq!(nul.to_string(), "a text of `text` holds a NUL character");
	}

	#[test]
	fn texts_read_from_one_or_many_rows() {
		let one = u8_tensor("text", vec![5], b"hello");
		assert_eq!(
			Request::from_tensors(Task::FeatureExtraction, vec![one]).unwrap(),
			Request::Text(vec!["hello".into()])
		);
		let rows = u8_tensor("text", vec![2, 4], b"ab\0\0cdef");
		assert_eq!(
			Request::from_tensors(Task::TextClassification, vec![rows]).unwrap(),
			Request::Text(vec!["ab".into(), "cdef".into()])
		);
		let bad = u8_tensor("text", vec![2], &[0xff, 0xfe]);
		assert_eq!(
			Request::from_tensors(Task::FeatureExtraction, vec![bad]).unwrap_err().to_string(),
			"`text` is not UTF-8"
		);
		// A batch of empty texts costs nothing to send, so its length is capped too.
		let empty = u8_tensor("text", vec![u32::MAX, 0], b"");
		assert!(matches!(
			Request::from_tensors(Task::FeatureExtraction, vec![empty]),
			Err(Error::Request(RequestError::TooManyTexts(u32::MAX)))
		));
		let three_empty = u8_tensor("text", vec![3, 0], b"");
		assert_eq!(
			Request::from_tensors(Task::FeatureExtraction, vec![three_empty]).unwrap(),
			Request::Text(vec![String::new(); 3])
		);
	}

	#[test]
	fn prompts_carry_their_sampling_parameters() {
		let request = Request::from_tensors(
			Task::TextGeneration,
			vec![
				u8_tensor("prompt", vec![2], b"Hi"),
				Tensor::new("max_tokens", DType::I64, vec![], 7i64.to_le_bytes().to_vec()).unwrap(),
				Tensor::from_f32("temperature", vec![1], &[0.5]).unwrap(),
				Tensor::new("seed", DType::I64, vec![], 42i64.to_le_bytes().to_vec()).unwrap(),
			],
		)
		.unwrap();
		assert_eq!(
			request,
			Request::Prompt {
				text: "Hi".into(),
				params: GenerationParams { max_tokens: 7, temperature: 0.5, top_p: None, seed: 42 }
			}
		);
		let too_many =
			Tensor::new("max_tokens", DType::I32, vec![], 10_000i32.to_le_bytes().into()).unwrap();
		let error = Request::from_tensors(
			Task::TextGeneration,
			vec![u8_tensor("prompt", vec![2], b"Hi"), too_many],
		)
		.unwrap_err();
		assert_eq!(error.to_string(), "request: `max_tokens` must be 1..=512");
	}

	#[test]
	fn stray_missing_and_ambiguous_tensors_are_refused() {
		let error =
			Request::from_tensors(Task::Ocr, vec![u8_tensor("imgae", vec![1], b"x")]).unwrap_err();
		assert_eq!(error.to_string(), "request: ocr requests take `image`, not `imgae`");
		assert!(matches!(
			Request::from_tensors(Task::ImageClassification, vec![]),
			Err(Error::Request(RequestError::Missing("image")))
		));
		let both = vec![
			u8_tensor("audio", vec![1], b"x"),
			Tensor::from_f32("samples", vec![1], &[0.0]).unwrap(),
		];
		assert!(matches!(
			Request::from_tensors(Task::SpeechToText, both),
			Err(Error::Request(RequestError::ExactlyOneOf(["audio", "samples"])))
		));
		let image_as_text = u8_tensor("image", vec![1, 1], b"x");
		assert_eq!(
			Request::from_tensors(Task::Ocr, vec![image_as_text]).unwrap_err().to_string(),
			"request: `image` must be u8 [bytes], not u8 [1, 1]"
		);
	}
}
