//! A model's pipeline chosen by its registered task, and requests in the tensor form that
//! extrinsics and precompiles carry.
//!
//! A model is a directory of named files, as in its UnixFS directory or Hugging Face
//! repository ([`ModelFiles`]). [`Pipeline::load`] picks the pipeline for the model's
//! [`Task`] and the files it needs:
//!
//! | task | files |
//! |---|---|
//! | feature-extraction | `tokenizer.json` and `model.onnx` (tract) or `model.safetensors` + `config.json` (candle BERT) |
//! | text-classification | `model.onnx`, `tokenizer.json`, `config.json` (`id2label`) |
//! | image-classification | `model.onnx`; labels from `config.json` `id2label`, else ImageNet-1k; size and normalisation from `preprocessor_config.json` (`size`, `image_mean`, `image_std`), else the model's input shape and ImageNet statistics |
//! | OCR | `det.onnx`, `rec.onnx` (character list in its metadata), optional `cls.onnx` |
//! | speech-to-text | `model.safetensors` (Whisper, HF config in its metadata) + `tokenizer.json` (candle) |
//! | voice-activity | `model.onnx` (Silero VAD v5) |
//! | text-generation | `model.gguf` (Gemma 3, candle) |
//! | raw-tensors | `model.onnx` |
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
	image::{imagenet_labels, ImageClassifier, Normalization},
	ocr::Ocr,
	text::{labels_from_config, SentenceEmbedder, TextClassifier},
	vad::SileroVad,
	GenerationParams, Output, Task,
};
use crate::{
	onnx::{Dim, LoadOptions, OnnxModel},
	Error, Result,
};
use citrate_tensor_codec::{DType, Tensor};
use std::{collections::BTreeMap, path::Path};

/// Most texts one request may send.
pub const MAX_TEXTS: usize = 256;

/// Sample rate the speech models take.
pub const SAMPLE_RATE: u32 = 16_000;

/// A model's files by name (`model.onnx`, `tokenizer.json`, …).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelFiles {
	files: BTreeMap<String, Vec<u8>>,
	total_bytes: u64,
}

impl ModelFiles {
	/// No files yet.
	pub fn new() -> Self {
		Self::default()
	}

	/// Adds or replaces the file `name`.
	pub fn insert(&mut self, name: impl Into<String>, bytes: Vec<u8>) -> &mut Self {
		let name = name.into();
		self.total_bytes += bytes.len() as u64;
		if let Some(old) = self.files.insert(name, bytes) {
			self.total_bytes -= old.len() as u64;
		}
		self
	}

	/// The regular files directly in `dir`, refusing a directory over `max_bytes` in all
	/// before reading it.
	pub fn from_dir(dir: &Path, max_bytes: u64) -> Result<Self> {
		let mut entries = vec![];
		let mut total = 0u64;
		for entry in std::fs::read_dir(dir)? {
			let entry = entry?;
			let metadata = entry.metadata()?;
			if !metadata.is_file() {
				continue;
			}
			total = total.saturating_add(metadata.len());
			if total > max_bytes {
				return Err(Error::ModelTooLarge { size: total, limit: max_bytes });
			}
			let name = entry
				.file_name()
				.into_string()
				.map_err(|name| Error::InvalidModel(format!("file name {name:?} is not UTF-8")))?;
			entries.push((name, entry.path()));
		}
		let mut files = ModelFiles::new();
		for (name, path) in entries {
			files.insert(name, std::fs::read(path)?);
		}
		Ok(files)
	}

	/// The file `name`, if the model has it.
	pub fn get(&self, name: &str) -> Option<&[u8]> {
		self.files.get(name).map(Vec::as_slice)
	}

	/// The file `name`, or an error that says which file `task` needs and which files exist.
	pub fn require(&self, name: &str, task: Task) -> Result<&[u8]> {
		self.get(name).ok_or_else(|| {
			Error::InvalidModel(format!(
				"{} models need `{name}`; this one has {:?}",
				task_name(task),
				self.files.keys().collect::<Vec<_>>()
			))
		})
	}

	/// Bytes of all files.
	pub fn total_bytes(&self) -> u64 {
		self.total_bytes
	}
}

/// The Hugging Face name of a task, for messages.
pub fn task_name(task: Task) -> &'static str {
	match task {
		Task::FeatureExtraction => "feature-extraction",
		Task::TextClassification => "text-classification",
		Task::ImageClassification => "image-classification",
		Task::Ocr => "OCR",
		Task::SpeechToText => "speech-to-text",
		Task::VoiceActivity => "voice-activity",
		Task::TextGeneration => "text-generation",
		Task::RawTensors => "raw-tensors",
	}
}

/// How to load a model's pipeline.
#[derive(Clone, Debug)]
pub struct PipelineOptions {
	/// For the ONNX models (limits, threads). Image classifiers are always specialised per
	/// input shape: every request has the same shape.
	pub load: LoadOptions,
	/// Tokens per text at most (longer texts are truncated).
	pub max_tokens: usize,
	/// Labels each classification returns per input.
	pub top_k: usize,
	/// Run candle models on the CPU even when built with `cuda` or `metal` (deterministic
	/// providers).
	pub cpu_only: bool,
}

impl Default for PipelineOptions {
	fn default() -> Self {
		PipelineOptions { load: LoadOptions::default(), max_tokens: 256, top_k: 5, cpu_only: true }
	}
}

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

	fn kind(&self) -> &'static str {
		match self {
			Request::Text(_) => "text",
			Request::Image(_) => "an image",
			Request::Wav(_) | Request::Samples(_) => "audio",
			Request::Prompt { .. } => "a prompt",
			Request::Tensors(_) => "raw tensors",
		}
	}

	/// 16 kHz mono samples of an audio request.
	fn samples(&self) -> Result<Vec<f32>> {
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

/// A loaded model with the pipeline of its task, serving any number of concurrent requests.
pub enum Pipeline {
	FeatureExtraction(SentenceEmbedder),
	TextClassification(TextClassifier, usize),
	ImageClassification(ImageClassifier, usize),
	Ocr(Ocr),
	#[cfg(feature = "candle")]
	SpeechToText(Box<crate::candle::whisper::WhisperModel>),
	VoiceActivity(SileroVad),
	#[cfg(feature = "candle")]
	TextGeneration(crate::candle::gemma::GemmaModel),
	RawTensors(OnnxModel),
}

#[cfg(feature = "candle")]
fn candle_device(options: &PipelineOptions) -> Result<crate::candle::Device> {
	crate::candle::device(options.cpu_only)
}

#[cfg(not(feature = "candle"))]
fn needs_candle<T>(task: Task) -> Result<T> {
	Err(Error::Unsupported(format!("{} models need the `candle` feature", task_name(task))))
}

/// `preprocessor_config.json`'s square `size` (a number, `{height, width}` or
/// `{shortest_edge}`) and normalisation, where given.
fn preprocessor(files: &ModelFiles) -> Result<(Option<u32>, Option<Normalization>)> {
	let Some(json) = files.get("preprocessor_config.json") else { return Ok((None, None)) };
	let bad = |why: &str| Error::InvalidModel(format!("preprocessor_config.json: {why}"));
	let config: serde_json::Value =
		serde_json::from_slice(json).map_err(|e| bad(&e.to_string()))?;
	let side = |v: &serde_json::Value| v.as_u64().filter(|&n| (1..=4096).contains(&n));
	let size = match config.get("size") {
		None => None,
		Some(size) => Some(
			side(size)
				.or_else(|| match (size.get("height"), size.get("width")) {
					(Some(h), Some(w)) if side(h).is_some() && side(h) == side(w) => side(h),
					_ => size.get("shortest_edge").and_then(side),
				})
				.ok_or_else(|| bad("`size` must be one side, a square or shortest_edge"))? as u32,
		),
	};
	let triple = |key: &str| -> Result<Option<[f32; 3]>> {
		config
			.get(key)
			.map(|v| {
				serde_json::from_value::<[f32; 3]>(v.clone())
					.map_err(|_| bad(&format!("`{key}` must be three numbers")))
			})
			.transpose()
	};
	let normalization = match (triple("image_mean")?, triple("image_std")?) {
		(Some(mean), Some(std)) if std.iter().all(|s| *s > 0.0) => {
			Some(Normalization { mean, std })
		}
		(None, None) => None,
		_ => return Err(bad("give both image_mean and image_std (std above 0)")),
	};
	Ok((size, normalization))
}

impl Pipeline {
	/// Loads `files` as a model of `task`.
	pub fn load(task: Task, files: &ModelFiles, options: &PipelineOptions) -> Result<Pipeline> {
		let onnx =
			|name: &str, load: &LoadOptions| OnnxModel::load(files.require(name, task)?, load);
		Ok(match task {
			Task::FeatureExtraction => {
				let tokenizer = files.require("tokenizer.json", task)?;
				if files.get("model.onnx").is_some() {
					Pipeline::FeatureExtraction(SentenceEmbedder::new(
						onnx("model.onnx", &options.load)?,
						tokenizer,
						options.max_tokens,
					)?)
				} else {
					#[cfg(feature = "candle")]
					{
						let encoder = crate::candle::bert::BertEncoder::load(
							files.require("model.safetensors", task)?,
							files.require("config.json", task)?,
							&candle_device(options)?,
							&options.load.limits,
						)?;
						Pipeline::FeatureExtraction(SentenceEmbedder::new(
							encoder,
							tokenizer,
							options.max_tokens,
						)?)
					}
					#[cfg(not(feature = "candle"))]
					return Err(files.require("model.onnx", task).err().unwrap_or_else(|| {
						Error::Unsupported("safetensors encoders need `candle`".into())
					}));
				}
			}
			Task::TextClassification => Pipeline::TextClassification(
				TextClassifier::new(
					onnx("model.onnx", &options.load)?,
					files.require("tokenizer.json", task)?,
					options.max_tokens,
					labels_from_config(files.require("config.json", task)?)?,
				)?,
				options.top_k,
			),
			Task::ImageClassification => {
				let specialized = LoadOptions { specialize: true, ..options.load.clone() };
				let model = onnx("model.onnx", &specialized)?;
				let (size, normalization) = preprocessor(files)?;
				let input_side = model.inputs().first().and_then(|spec| match spec.shape[..] {
					[_, _, Dim::Fixed(h), Dim::Fixed(w)] if h == w => u32::try_from(h).ok(),
					_ => None,
				});
				let labels = match files.get("config.json") {
					Some(config) => labels_from_config(config)?,
					None => imagenet_labels(),
				};
				Pipeline::ImageClassification(
					ImageClassifier::new(
						model,
						labels,
						size.or(input_side).unwrap_or(224),
						normalization.unwrap_or(Normalization::IMAGENET),
					)?,
					options.top_k,
				)
			}
			Task::Ocr => Pipeline::Ocr(Ocr::new(
				onnx("det.onnx", &options.load)?,
				onnx("rec.onnx", &options.load)?,
				files
					.get("cls.onnx")
					.map(|bytes| OnnxModel::load(bytes, &options.load))
					.transpose()?,
			)?),
			#[cfg(feature = "candle")]
			Task::SpeechToText => {
				Pipeline::SpeechToText(Box::new(crate::candle::whisper::WhisperModel::load(
					files.require("model.safetensors", task)?,
					files.require("tokenizer.json", task)?,
					&candle_device(options)?,
					&options.load.limits,
				)?))
			}
			Task::VoiceActivity => {
				Pipeline::VoiceActivity(SileroVad::new(onnx("model.onnx", &options.load)?)?)
			}
			#[cfg(feature = "candle")]
			Task::TextGeneration => Pipeline::TextGeneration(crate::candle::gemma::GemmaModel::load(
				files.require("model.gguf", task)?,
				&candle_device(options)?,
				&options.load.limits,
			)?),
			#[cfg(not(feature = "candle"))]
			Task::SpeechToText | Task::TextGeneration => return needs_candle(task),
			Task::RawTensors => Pipeline::RawTensors(onnx("model.onnx", &options.load)?),
		})
	}

	/// The task this pipeline serves.
	pub fn task(&self) -> Task {
		match self {
			Pipeline::FeatureExtraction(_) => Task::FeatureExtraction,
			Pipeline::TextClassification(..) => Task::TextClassification,
			Pipeline::ImageClassification(..) => Task::ImageClassification,
			Pipeline::Ocr(_) => Task::Ocr,
			#[cfg(feature = "candle")]
			Pipeline::SpeechToText(_) => Task::SpeechToText,
			Pipeline::VoiceActivity(_) => Task::VoiceActivity,
			#[cfg(feature = "candle")]
			Pipeline::TextGeneration(_) => Task::TextGeneration,
			Pipeline::RawTensors(_) => Task::RawTensors,
		}
	}

	/// Runs `request`; a request of the wrong kind for the task is refused.
	pub fn run(&self, request: &Request) -> Result<Output> {
		match (self, request) {
			(Pipeline::FeatureExtraction(embedder), Request::Text(t)) => embedder.embed(&texts(t)),
			(Pipeline::TextClassification(classifier, k), Request::Text(t)) => {
				classifier.classify(&texts(t), *k)
			}
			(Pipeline::ImageClassification(classifier, k), Request::Image(image)) => {
				classifier.classify(image, *k)
			}
			(Pipeline::Ocr(ocr), Request::Image(image)) => ocr.read(image),
			#[cfg(feature = "candle")]
			(Pipeline::SpeechToText(whisper), Request::Wav(_) | Request::Samples(_)) => {
				whisper.transcribe(&request.samples()?)
			}
			(Pipeline::VoiceActivity(vad), Request::Wav(_) | Request::Samples(_)) => {
				vad.detect(&request.samples()?)
			}
			#[cfg(feature = "candle")]
			(Pipeline::TextGeneration(gemma), Request::Prompt { text, params }) => {
				gemma.generate(text, params)
			}
			(Pipeline::RawTensors(model), Request::Tensors(inputs)) => {
				Ok(Output::Tensors(model.run(inputs)?))
			}
			(pipeline, request) => Err(Error::Pipeline(format!(
				"{} models do not take {}",
				task_name(pipeline.task()),
				request.kind()
			))),
		}
	}

	/// Bytes of weights the pipeline's models hold.
	pub fn weight_bytes(&self) -> u64 {
		match self {
			Pipeline::FeatureExtraction(embedder) => embedder.weight_bytes(),
			Pipeline::TextClassification(classifier, _) => classifier.weight_bytes(),
			Pipeline::ImageClassification(classifier, _) => classifier.weight_bytes(),
			Pipeline::Ocr(ocr) => ocr.weight_bytes(),
			#[cfg(feature = "candle")]
			Pipeline::SpeechToText(whisper) => whisper.weight_bytes(),
			Pipeline::VoiceActivity(vad) => vad.weight_bytes(),
			#[cfg(feature = "candle")]
			Pipeline::TextGeneration(gemma) => gemma.weight_bytes(),
			Pipeline::RawTensors(model) => model.weight_bytes(),
		}
	}
}

fn texts(texts: &[String]) -> Vec<&str> {
	texts.iter().map(String::as_str).collect()
}

impl crate::cache::CachedModel for Pipeline {
	fn memory_bytes(&self) -> u64 {
		self.weight_bytes()
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

	#[test]
	fn preprocessor_configs_in_the_hugging_face_forms() {
		let mut files = ModelFiles::new();
		assert_eq!(preprocessor(&files).unwrap(), (None, None));
		for (json, size) in [
			(r#"{"size": 240}"#, 240),
			(r#"{"size": {"height": 260, "width": 260}}"#, 260),
			(r#"{"size": {"shortest_edge": 224}}"#, 224),
		] {
			files.insert("preprocessor_config.json", json.as_bytes().to_vec());
			assert_eq!(preprocessor(&files).unwrap(), (Some(size), None));
		}
		files.insert(
			"preprocessor_config.json",
			br#"{"image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]}"#.to_vec(),
		);
		assert_eq!(preprocessor(&files).unwrap(), (None, Some(Normalization::HALF)));
		for bad in [
			r#"{"size": {"height": 200, "width": 300}}"#,
			r#"{"image_mean": [0.5, 0.5, 0.5]}"#,
			r#"{"image_mean": [0.5, 0.5, 0.5], "image_std": [0, 1, 1]}"#,
			"not json",
		] {
			files.insert("preprocessor_config.json", bad.as_bytes().to_vec());
			assert!(preprocessor(&files).is_err(), "{bad}");
		}
		assert_eq!(files.total_bytes(), "not json".len() as u64);
	}
}
