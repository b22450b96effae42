//! Requests: what a pipeline takes, and how it is read from the tensors a contract sends.
//!
//! ## Requests as tensors
//! [`Request::from_tensors`] reads what a contract sends, in the tensor codec's form:
//! - `text`: u8, UTF-8. Rank 1 is one text; rank 2 `[n, width]` is `n` texts, each padded
//!   with NUL bytes to `width` (numpy's fixed-width byte strings).
//! - `image`: u8 `[bytes]`, a PNG or JPEG file.
//! - `audio`: u8 `[bytes]`, a WAV file (any rate, mono or stereo); or `samples`: f32 `[n]`,
//!   16 kHz mono.
//! - `prompt`: u8 `[bytes]`, UTF-8, with optional scalars `max_tokens` (i32/i64),
//!   `temperature` (f32), `top_p` (f32) and `seed` (i64).
//! - raw-tensors: the model's own inputs, as they are.
//!
//! A tensor the task does not read is refused by name, so a misspelt field is an error, not a
//! default.

use super::{
	audio::{decode_wav, resample},
	task::task_name,
	GenerationParams, Task,
};
use crate::{Error, Result};
use citrate_tensor_codec::{DType, Tensor};

/// Most texts one request may send.
pub const MAX_TEXTS: usize = 256;

/// Sample rate the speech models take.
pub const SAMPLE_RATE: u32 = 16_000;

/// What a request sends.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
	/// Texts (feature extraction, text classification).
	Text(Vec<String>),
	/// An encoded image, PNG or JPEG (image classification, OCR).
	Image(Vec<u8>),
	/// A WAV file (speech-to-text, voice activity).
	Wav(Vec<u8>),
	/// 16 kHz mono samples, -1..1 (speech-to-text, voice activity).
	Samples(Vec<f32>),
	/// A prompt to continue (text generation).
	Prompt { text: String, params: GenerationParams },
	/// The model's inputs as they are (raw tensors).
	Tensors(Vec<Tensor>),
}

fn utf8(tensor: &Tensor) -> Result<String> {
	String::from_utf8(tensor.data.clone())
		.map_err(|_| Error::Pipeline(format!("`{}` is not UTF-8", tensor.name)))
}

fn bytes_of(tensor: &Tensor) -> Result<Vec<u8>> {
	if tensor.dtype != DType::U8 || tensor.shape.len() != 1 {
		return Err(Error::Pipeline(format!("`{}` must be u8 [bytes]", tensor.name)));
	}
	Ok(tensor.data.clone())
}

fn texts_of(tensor: &Tensor) -> Result<Vec<String>> {
	if tensor.shape.len() == 2 && tensor.shape[0] as usize > MAX_TEXTS {
		return Err(Error::Pipeline(format!("send at most {MAX_TEXTS} texts per request")));
	}
	match (tensor.dtype, tensor.shape.as_slice()) {
		(DType::U8, &[_]) => Ok(vec![utf8(tensor)?]),
		(DType::U8, &[rows, 0]) => Ok(vec![String::new(); rows as usize]),
		(DType::U8, &[_, width]) => tensor
			.data
			.chunks(width as usize)
			.map(|row| {
				let end = row.iter().position(|&b| b == 0).unwrap_or(row.len());
				String::from_utf8(row[..end].to_vec()).map_err(|_| {
					Error::Pipeline(format!("a row of `{}` is not UTF-8", tensor.name))
				})
			})
			.collect(),
		_ => Err(Error::Pipeline(format!(
			"`{}` must be u8 [bytes] or [texts, width], not {:?} {:?}",
			tensor.name, tensor.dtype, tensor.shape
		))),
	}
}

/// A scalar (shape `[]` or `[1]`) as f64.
fn scalar(tensor: &Tensor) -> Result<f64> {
	let word = |n: usize| tensor.data.get(..n).map(|b| b.to_vec());
	let value = match (tensor.dtype, tensor.shape.iter().product::<u32>()) {
		(DType::F32, 1) => word(4).map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))),
		(DType::I32, 1) => word(4).map(|b| f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))),
		(DType::I64, 1) => word(8)
			.map(|b| i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f64),
		_ => None,
	};
	value.ok_or_else(|| {
		Error::Pipeline(format!(
			"`{}` must be one f32, i32 or i64, not {:?} {:?}",
			tensor.name, tensor.dtype, tensor.shape
		))
	})
}

impl Request {
	/// The request a contract sent as tensors, read for a model of `task` (see the module
	/// docs for the names).
	pub fn from_tensors(task: Task, tensors: Vec<Tensor>) -> Result<Request> {
		if task == Task::RawTensors {
			return Ok(Request::Tensors(tensors));
		}
		let accepted: &[&str] = match task {
			Task::FeatureExtraction | Task::TextClassification => &["text"],
			Task::ImageClassification | Task::Ocr => &["image"],
			Task::SpeechToText | Task::VoiceActivity => &["audio", "samples"],
			Task::TextGeneration => &["prompt", "max_tokens", "temperature", "top_p", "seed"],
			Task::RawTensors => &[],
		};
		if let Some(stray) = tensors.iter().find(|t| !accepted.contains(&t.name.as_str())) {
			return Err(Error::Pipeline(format!(
				"{} requests take {accepted:?}, not `{}`",
				task_name(task),
				stray.name
			)));
		}
		let named = |name: &str| tensors.iter().find(|t| t.name == name);
		let first = accepted[0];
		let missing = || Error::MissingInput(first.to_string());
		Ok(match task {
			Task::FeatureExtraction | Task::TextClassification => {
				Request::Text(texts_of(named("text").ok_or_else(missing)?)?)
			}
			Task::ImageClassification | Task::Ocr => {
				Request::Image(bytes_of(named("image").ok_or_else(missing)?)?)
			}
			Task::SpeechToText | Task::VoiceActivity => match (named("audio"), named("samples")) {
				(Some(wav), None) => Request::Wav(bytes_of(wav)?),
				(None, Some(samples)) => Request::Samples(
					samples
						.to_f32()
						.filter(|_| samples.shape.len() == 1)
						.ok_or_else(|| Error::Pipeline("`samples` must be f32 [n]".into()))?,
				),
				_ => {
					return Err(Error::Pipeline(
						"send either `audio` (a WAV file) or `samples` (16 kHz f32)".into(),
					))
				}
			},
			Task::TextGeneration => {
				let mut params = GenerationParams::default();
				if let Some(t) = named("max_tokens") {
					let n = scalar(t)?;
					if !(1.0..=super::MAX_NEW_TOKENS as f64).contains(&n) {
						return Err(Error::Pipeline(format!(
							"max_tokens must be 1..={}",
							super::MAX_NEW_TOKENS
						)));
					}
					params.max_tokens = n as usize;
				}
				if let Some(t) = named("temperature") {
					params.temperature = scalar(t)?;
				}
				if let Some(t) = named("top_p") {
					params.top_p = Some(scalar(t)?);
				}
				if let Some(t) = named("seed") {
					params.seed = scalar(t)? as i64 as u64;
				}
				Request::Prompt { text: utf8(named("prompt").ok_or_else(missing)?)?, params }
			}
			Task::RawTensors => Request::Tensors(tensors),
		})
	}

	pub(super) fn kind(&self) -> &'static str {
		match self {
			Request::Text(_) => "text",
			Request::Image(_) => "an image",
			Request::Wav(_) | Request::Samples(_) => "audio",
			Request::Prompt { .. } => "a prompt",
			Request::Tensors(_) => "raw tensors",
		}
	}

	/// 16 kHz mono samples of an audio request.
	pub(super) fn samples(&self) -> Result<Vec<f32>> {
		match self {
			Request::Wav(wav) => {
				let (samples, rate) = decode_wav(wav)?;
				Ok(resample(&samples, rate, SAMPLE_RATE))
			}
			Request::Samples(samples) => Ok(samples.clone()),
			_ => Err(Error::Pipeline("not audio".into())),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn u8_tensor(name: &str, shape: Vec<u32>, data: &[u8]) -> Tensor {
		Tensor::new(name, DType::U8, shape, data.to_vec()).unwrap()
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
		assert!(Request::from_tensors(Task::FeatureExtraction, vec![bad])
			.unwrap_err()
			.to_string()
			.contains("UTF-8"));
		// A batch of empty texts costs nothing to send, so its length is capped too.
		let empty = u8_tensor("text", vec![u32::MAX, 0], b"");
		assert!(Request::from_tensors(Task::FeatureExtraction, vec![empty]).is_err());
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
		assert!(error.to_string().contains("max_tokens must be"), "{error}");
	}

	#[test]
	fn stray_missing_and_ambiguous_tensors_are_refused() {
		let error =
			Request::from_tensors(Task::Ocr, vec![u8_tensor("imgae", vec![1], b"x")]).unwrap_err();
		assert!(error.to_string().contains("not `imgae`"), "{error}");
		assert!(matches!(
			Request::from_tensors(Task::ImageClassification, vec![]),
			Err(Error::MissingInput(name)) if name == "image"
		));
		let both = vec![
			u8_tensor("audio", vec![1], b"x"),
			Tensor::from_f32("samples", vec![1], &[0.0]).unwrap(),
		];
		assert!(Request::from_tensors(Task::SpeechToText, both).is_err());
		let image_as_text = u8_tensor("image", vec![1, 1], b"x");
		assert!(Request::from_tensors(Task::Ocr, vec![image_as_text]).is_err());
	}
}
