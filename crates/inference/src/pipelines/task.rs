//! A model's pipeline chosen by its registered task.
//!
//! A model is a directory of named files, as in its UnixFS directory or Hugging Face
//! repository ([`ModelFiles`]). [`Pipeline::load`] picks the pipeline for the model's
//! [`Task`] and the files it needs:
//!
//! | task | files |
//! |---|---|
//! | feature-extraction | `tokenizer.json` and `model.onnx` (tract) or `model.safetensors` + `config.json` (candle BERT) |
//! | text-classification | `tokenizer.json`, `config.json` (`id2label`), and `model.onnx` (tract) or `model.safetensors` (`BertForSequenceClassification`, candle) |
//! | image-classification | `model.onnx`; labels from `config.json` `id2label`, else ImageNet-1k; preprocessing from `preprocessor_config.json` or the ONNX metadata (see [`super::preprocess`]) |
//! | OCR | `det.onnx`, `rec.onnx` (character list in its metadata), optional `cls.onnx` |
//! | speech-to-text | `model.safetensors` (Whisper, HF config in its metadata) + `tokenizer.json` (candle) |
//! | voice-activity | a Silero VAD v5 export: `model.onnx` or the silero-vad package's own file names (see [`super::vad`]) |
//! | text-generation | `model.gguf` (Gemma 3, candle), or `model.safetensors` + `config.json` + `tokenizer.json` (GPT-2, candle) |
//! | raw-tensors | `model.onnx` |
//! | fill-mask | `model.safetensors` (`BertForMaskedLM`) + `config.json` + `tokenizer.json` (candle) |
//! | text2text-generation | `model.safetensors` (T5) + `config.json` + `tokenizer.json` (candle) |
//! | zero-shot-image-classification | `model.safetensors` (CLIP) + `config.json` + `tokenizer.json` + `preprocessor_config.json` (candle) |
//!
//! Requests come as [`Request`]s, read from the tensor form that extrinsics and precompiles
//! carry by [`Request::from_tensors`].

#[cfg(feature = "candle")]
use super::request::ImageText;
use super::{
	image::{imagenet_labels, ImageClassifier},
	ocr::Ocr,
	outputs::configured_output,
	text::{labels_from_config, SentenceEmbedder, TextClassifier},
	vad::SileroVad,
	Output, Task,
};
use crate::{
	onnx::{LoadOptions, OnnxModel},
	Error, Result,
};

pub use super::{
	model_files::ModelFiles,
	request::{Request, MAX_TEXTS, SAMPLE_RATE},
};

/// How to load a model's pipeline.
#[derive(Clone, Debug)]
pub struct PipelineOptions {
	/// For the ONNX models (limits, threads). Image classifiers are always planned for their
	/// one input shape (see [`ImageClassifier::load`]).
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
	TextGeneration(crate::candle::generation::TextGenerator),
	RawTensors(OnnxModel),
	#[cfg(feature = "candle")]
	FillMask(super::fill_mask::FillMask, usize),
	#[cfg(feature = "candle")]
	Text2TextGeneration(crate::candle::generation::TextGenerator),
	#[cfg(feature = "candle")]
	ZeroShotImageClassification(Box<crate::candle::clip::ClipModel>),
}

#[cfg(feature = "candle")]
fn candle_device(options: &PipelineOptions) -> Result<crate::candle::Device> {
	crate::candle::device(options.cpu_only)
}

#[cfg(not(feature = "candle"))]
fn needs_candle<T>(task: Task) -> Result<T> {
	Err(Error::Unsupported(format!("{} models need the `candle` feature", task.name())))
}

/// The class names a classifier of `task` labels its outputs with: the package's
/// `config.json` `id2label`, else ImageNet-1k for an image classifier; none for other tasks
/// (their label ids index something else: a vocabulary, a request's labels).
pub fn class_names(task: Task, config_json: Option<&[u8]>) -> Result<Vec<String>> {
	match (task, config_json) {
		(Task::TextClassification | Task::ImageClassification, Some(config)) => {
			labels_from_config(config)
		}
		(Task::ImageClassification, None) => Ok(imagenet_labels()),
		_ => Ok(vec![]),
	}
}

impl Pipeline {
	/// Loads `files` as a model of `task`.
	pub fn load(task: Task, files: &ModelFiles, options: &PipelineOptions) -> Result<Pipeline> {
		let onnx = |name: &str, load: &LoadOptions| {
			OnnxModel::load(files.require(name, task)?, load).map_err(|e| e.in_file(name))
		};
		Ok(match task {
			Task::FeatureExtraction => {
				let tokenizer = files.require("tokenizer.json", task)?;
				if files.get("model.onnx").is_some() {
					Pipeline::FeatureExtraction(SentenceEmbedder::with_output(
						onnx("model.onnx", &options.load)?,
						tokenizer,
						options.max_tokens,
						configured_output(files)?,
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
			Task::TextClassification => {
				let tokenizer = files.require("tokenizer.json", task)?;
				let config = files.require("config.json", task)?;
				let labels = class_names(task, Some(config))?;
				let classifier = match files.get("model.safetensors") {
					#[cfg(feature = "candle")]
					Some(weights) if files.get("model.onnx").is_none() => TextClassifier::new(
						crate::candle::bert::BertClassifier::load(
							weights,
							config,
							&candle_device(options)?,
							&options.load.limits,
						)?,
						tokenizer,
						options.max_tokens,
						labels,
					)?,
					_ => TextClassifier::with_output(
						onnx("model.onnx", &options.load)?,
						tokenizer,
						options.max_tokens,
						labels,
						configured_output(files)?,
					)?,
				};
				Pipeline::TextClassification(classifier, options.top_k)
			}
			Task::ImageClassification => {
				let labels = class_names(task, files.get("config.json"))?;
				Pipeline::ImageClassification(
					ImageClassifier::load(
						files.require("model.onnx", task)?,
						"model.onnx",
						files,
						labels,
						&options.load,
						configured_output(files)?,
					)?,
					options.top_k,
				)
			}
			Task::Ocr => Pipeline::Ocr(Ocr::new(
				onnx("det.onnx", &options.load)?,
				onnx("rec.onnx", &options.load)?,
				files
					.get("cls.onnx")
					.map(|bytes| {
						OnnxModel::load(bytes, &options.load).map_err(|e| e.in_file("cls.onnx"))
					})
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
				Pipeline::VoiceActivity(SileroVad::load_package(files, &options.load)?)
			}
			#[cfg(feature = "candle")]
			Task::TextGeneration => {
				use crate::candle::{
					gemma::GemmaModel, generation::TextGenerator, gpt2::Gpt2Model,
				};
				let device = candle_device(options)?;
				let limits = &options.load.limits;
				Pipeline::TextGeneration(match files.get("model.gguf") {
					Some(gguf) => TextGenerator::Gemma(
						GemmaModel::load(gguf, &device, limits)
							.map_err(|e| e.in_file("model.gguf"))?,
					),
					// Hugging Face safetensors: GPT-2's architecture.
					None => TextGenerator::Gpt2(Gpt2Model::load(
						files.require("model.safetensors", task)?,
						files.require("config.json", task)?,
						files.require("tokenizer.json", task)?,
						&device,
						limits,
					)?),
				})
			}
			#[cfg(feature = "candle")]
			Task::FillMask => Pipeline::FillMask(
				super::fill_mask::FillMask::new(
					crate::candle::bert::BertMaskedLm::load(
						files.require("model.safetensors", task)?,
						files.require("config.json", task)?,
						&candle_device(options)?,
						&options.load.limits,
					)?,
					files.require("tokenizer.json", task)?,
					options.max_tokens,
				)?,
				options.top_k,
			),
			#[cfg(feature = "candle")]
			Task::Text2TextGeneration => {
				Pipeline::Text2TextGeneration(crate::candle::generation::TextGenerator::T5(
					Box::new(crate::candle::t5::T5Model::load(
						files.require("model.safetensors", task)?,
						files.require("config.json", task)?,
						files.require("tokenizer.json", task)?,
						&candle_device(options)?,
						&options.load.limits,
					)?),
				))
			}
			#[cfg(feature = "candle")]
			Task::ZeroShotImageClassification => Pipeline::ZeroShotImageClassification(Box::new(
				crate::candle::clip::ClipModel::load(
					files.require("model.safetensors", task)?,
					files.require("config.json", task)?,
					files.require("tokenizer.json", task)?,
					files.require(super::preprocess::PREPROCESSOR_CONFIG, task)?,
					&candle_device(options)?,
					&options.load.limits,
				)?,
			)),
			#[cfg(not(feature = "candle"))]
			Task::SpeechToText
			| Task::TextGeneration
			| Task::FillMask
			| Task::Text2TextGeneration
			| Task::ZeroShotImageClassification => return needs_candle(task),
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
			#[cfg(feature = "candle")]
			Pipeline::FillMask(..) => Task::FillMask,
			#[cfg(feature = "candle")]
			Pipeline::Text2TextGeneration(_) => Task::Text2TextGeneration,
			#[cfg(feature = "candle")]
			Pipeline::ZeroShotImageClassification(_) => Task::ZeroShotImageClassification,
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
			(Pipeline::SpeechToText(whisper), Request::Audio { audio, speech }) => {
				whisper.transcribe(&audio.samples()?, speech)
			}
			(Pipeline::VoiceActivity(vad), Request::Audio { audio, .. }) => {
				vad.detect(&audio.samples()?)
			}
			#[cfg(feature = "candle")]
			(Pipeline::TextGeneration(generator), Request::Prompt { text, params }) => {
				generator.generate(text, params)
			}
			(Pipeline::RawTensors(model), Request::Tensors(inputs)) => {
				Ok(Output::Tensors(model.run(inputs)?))
			}
			#[cfg(feature = "candle")]
			(Pipeline::FillMask(model, k), Request::Text(t)) => model.fill(&texts(t), *k),
			#[cfg(feature = "candle")]
			(Pipeline::Text2TextGeneration(generator), Request::Prompt { text, params }) => {
				generator.generate(text, params)
			}
			#[cfg(feature = "candle")]
			(Pipeline::ZeroShotImageClassification(clip), Request::ImageText(request)) => match request {
				ImageText::Classify { image, labels, template } => {
					clip.classify(image, labels, template)
				}
				ImageText::EmbedImage(image) => clip.embed_image(image),
				ImageText::EmbedTexts(t) => clip.embed_texts(&texts(t)),
			},
			(pipeline, request) => Err(Error::Pipeline(format!(
				"{} models do not take {}",
				pipeline.task().name(),
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
			Pipeline::TextGeneration(generator) => generator.weight_bytes(),
			Pipeline::RawTensors(model) => model.weight_bytes(),
			#[cfg(feature = "candle")]
			Pipeline::FillMask(model, _) => model.weight_bytes(),
			#[cfg(feature = "candle")]
			Pipeline::Text2TextGeneration(generator) => generator.weight_bytes(),
			#[cfg(feature = "candle")]
			Pipeline::ZeroShotImageClassification(clip) => clip.weight_bytes(),
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
