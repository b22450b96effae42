//! The request schema: which tensors a request for each task carries.
//!
//! | Task | Tensors |
//! |---|---|
//! | feature-extraction, text-classification, fill-mask | `text`: u8 `[bytes]` (one UTF-8 text) or `[n, width]` (`n` ≤ [`MAX_TEXTS`] texts, each NUL-padded to `width`, as numpy's fixed-width byte strings) |
//! | image-classification, ocr | `image`: u8 `[bytes]`, a PNG or JPEG file |
//! | speech-to-text | as voice-activity; optional `language`: u8 `[bytes]`, a Whisper language code (`en`, `fr`…; detected when absent), and `task`: u8 `[bytes]`, `transcribe` (default) or `translate` (to English) |
//! | voice-activity | exactly one of `audio`: u8 `[bytes]`, a WAV file, or `samples`: f32 `[n]`, [`SAMPLE_RATE`] Hz mono |
//! | text-generation, text2text-generation | `prompt`: u8 `[bytes]`, UTF-8; optional scalars (shape `[]` or `[1]`) `max_tokens` (i32/i64, 1..=[`MAX_NEW_TOKENS`]), `temperature` (f32, ≥ 0), `top_p` (f32, in (0, 1]), `seed` (i64) |
//! | zero-shot-image-classification | exactly one of `image` (as for image-classification) or `text` (as for feature-extraction: texts to embed); with `image`, optional `labels` (as `text`: the candidate labels to rank; without them the image's embedding is returned) and, with `labels`, optional `template`: u8 `[bytes]`, UTF-8 holding `{}` where each label goes (default [`DEFAULT_TEMPLATE`]) |
//! | raw-tensors | the model's registered inputs, by name ([`check_raw_request`]) |
//!
//! A tensor the task does not read is refused by name, so a misspelt field is an error, not a
//! default. What is inside the bytes (valid UTF-8, a decodable image) is the engine's to check.

use crate::InferenceTask;
use alloc::{string::String, vec::Vec};
use citrate_tensor_primitives::{DType, Dim, Tensor, TensorSpec};
use core::fmt;

/// Most texts one request may send.
pub const MAX_TEXTS: u32 = 256;
/// Most tokens one text-generation request may generate.
pub const MAX_NEW_TOKENS: u32 = 512;
/// Sample rate of `samples`, and the rate the speech models take.
pub const SAMPLE_RATE: u32 = 16_000;
/// The sentence each zero-shot label is put into, as Hugging Face's pipeline does.
pub const DEFAULT_TEMPLATE: &str = "This is a photo of {}.";
/// Longest zero-shot `template`.
pub const MAX_TEMPLATE_LEN: usize = 256;

/// The shape and dtype a field must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
	/// u8 `[bytes]`: a file or one UTF-8 text.
	Bytes,
	/// u8 `[bytes]` or u8 `[texts, width]`, at most [`MAX_TEXTS`] rows.
	Texts,
	/// f32 `[n]`.
	Samples,
	/// One value, shape `[]` or `[1]`, of one of these dtypes.
	Scalar(&'static [DType]),
}

impl fmt::Display for Form {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			Form::Bytes => f.write_str("u8 [bytes]"),
			Form::Texts => f.write_str("u8 [bytes] or u8 [texts, width]"),
			Form::Samples => f.write_str("f32 [samples]"),
			Form::Scalar(dtypes) => {
				f.write_str("one ")?;
				for (i, dtype) in dtypes.iter().enumerate() {
					if i > 0 {
						f.write_str(" or ")?;
					}
					write!(f, "{dtype}")?;
				}
				Ok(())
			}
		}
	}
}

/// One tensor a request may carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
	pub name: &'static str,
	pub form: Form,
	pub required: bool,
}

/// The tensors of one task's requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schema {
	pub fields: &'static [Field],
	/// Names of which exactly one must be sent (empty when no such rule applies).
	pub exactly_one_of: &'static [&'static str],
}

impl Schema {
	/// The field named `name`.
	pub fn field(&self, name: &str) -> Option<&'static Field> {
		self.fields.iter().find(|field| field.name == name)
	}
}

const fn field(name: &'static str, form: Form, required: bool) -> Field {
	Field { name, form, required }
}

const TEXT: Schema = Schema { fields: &[field("text", Form::Texts, true)], exactly_one_of: &[] };
const IMAGE: Schema = Schema { fields: &[field("image", Form::Bytes, true)], exactly_one_of: &[] };
const AUDIO: Schema = Schema {
	fields: &[field("audio", Form::Bytes, false), field("samples", Form::Samples, false)],
	exactly_one_of: &["audio", "samples"],
};
const SPEECH: Schema = Schema {
	fields: &[
		field("audio", Form::Bytes, false),
		field("samples", Form::Samples, false),
		field("language", Form::Bytes, false),
		field("task", Form::Bytes, false),
	],
	exactly_one_of: &["audio", "samples"],
};
const PROMPT: Schema = Schema {
	fields: &[
		field("prompt", Form::Bytes, true),
		field("max_tokens", Form::Scalar(&[DType::I32, DType::I64]), false),
		field("temperature", Form::Scalar(&[DType::F32]), false),
		field("top_p", Form::Scalar(&[DType::F32]), false),
		field("seed", Form::Scalar(&[DType::I64]), false),
	],
	exactly_one_of: &[],
};

const IMAGE_TEXT: Schema = Schema {
	fields: &[
		field("image", Form::Bytes, false),
		field("labels", Form::Texts, false),
		field("template", Form::Bytes, false),
		field("text", Form::Texts, false),
	],
	exactly_one_of: &["image", "text"],
};

/// The schema of `task`'s requests; `None` for raw tensors, whose requests carry the model's
/// own inputs ([`check_raw_request`]).
pub fn schema(task: InferenceTask) -> Option<&'static Schema> {
	match task {
		InferenceTask::FeatureExtraction
		| InferenceTask::TextClassification
		| InferenceTask::FillMask => Some(&TEXT),
		InferenceTask::ImageClassification | InferenceTask::Ocr => Some(&IMAGE),
		InferenceTask::SpeechToText => Some(&SPEECH),
		InferenceTask::VoiceActivity => Some(&AUDIO),
		InferenceTask::TextGeneration | InferenceTask::Text2TextGeneration => Some(&PROMPT),
		InferenceTask::ZeroShotImageClassification => Some(&IMAGE_TEXT),
		InferenceTask::RawTensors => None,
	}
}

/// The value of a scalar field.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
	F32(f32),
	I32(i32),
	I64(i64),
}

impl Scalar {
	/// The value of a one-element f32, i32 or i64 tensor.
	pub fn of(tensor: &Tensor) -> Option<Scalar> {
		if tensor.shape.len() > 1 || tensor.shape.first().is_some_and(|&d| d != 1) {
			return None;
		}
		let bytes = tensor.data.as_slice();
		match tensor.dtype {
			DType::F32 => bytes.try_into().ok().map(|b| Scalar::F32(f32::from_le_bytes(b))),
			DType::I32 => bytes.try_into().ok().map(|b| Scalar::I32(i32::from_le_bytes(b))),
			DType::I64 => bytes.try_into().ok().map(|b| Scalar::I64(i64::from_le_bytes(b))),
			_ => None,
		}
	}

	/// The value as an integer, if it is one.
	pub fn as_i64(self) -> Option<i64> {
		match self {
			Scalar::F32(_) => None,
			Scalar::I32(v) => Some(i64::from(v)),
			Scalar::I64(v) => Some(v),
		}
	}

	/// The value as a float.
	pub fn as_f32(self) -> f32 {
		match self {
			Scalar::F32(v) => v,
			Scalar::I32(v) => v as f32,
			Scalar::I64(v) => v as f32,
		}
	}
}

/// Why a request was refused.
#[derive(Clone, Debug, PartialEq)]
pub enum RequestError {
	/// The task does not read a tensor of this name.
	NotAccepted { task: InferenceTask, name: String },
	/// A required tensor is missing.
	Missing(&'static str),
	/// Not exactly one of these was sent.
	ExactlyOneOf(&'static [&'static str]),
	/// A tensor has the wrong dtype or shape.
	WrongForm { name: &'static str, form: Form, dtype: DType, shape: Vec<u32> },
	/// More than [`MAX_TEXTS`] texts.
	TooManyTexts(u32),
	/// A parameter outside its range.
	OutOfRange { name: &'static str, range: &'static str },
	/// A field sent without the field it qualifies (`labels` without `image`).
	Requires { name: &'static str, requires: &'static str },
	/// Raw tensors: a tensor the model does not take.
	UnknownInput(String),
	/// Raw tensors: a model input that was not sent.
	MissingInput(String),
	/// Raw tensors: an input whose dtype or shape the registered spec does not allow.
	InputMismatch { spec: TensorSpec, dtype: DType, shape: Vec<u32> },
}

impl fmt::Display for RequestError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			RequestError::NotAccepted { task, name } => {
				write!(f, "{} requests take ", task.name())?;
				let fields = schema(*task).map(|s| s.fields).unwrap_or_default();
				for (i, field) in fields.iter().enumerate() {
					write!(f, "{}`{}`", if i > 0 { ", " } else { "" }, field.name)?;
				}
				write!(f, ", not `{name}`")
			}
			RequestError::Missing(name) => write!(f, "the request has no `{name}`"),
			RequestError::ExactlyOneOf(names) => {
				f.write_str("send exactly one of ")?;
				for (i, name) in names.iter().enumerate() {
					write!(f, "{}`{name}`", if i > 0 { ", " } else { "" })?;
				}
				Ok(())
			}
			RequestError::WrongForm { name, form, dtype, shape } => {
				write!(f, "`{name}` must be {form}, not {dtype} {shape:?}")
			}
			RequestError::TooManyTexts(n) => {
				write!(f, "{n} texts; send at most {MAX_TEXTS} per request")
			}
			RequestError::OutOfRange { name, range } => write!(f, "`{name}` must be {range}"),
			RequestError::Requires { name, requires } => {
				write!(f, "`{name}` is only read with `{requires}`")
			}
			RequestError::UnknownInput(name) => write!(f, "the model has no input `{name}`"),
			RequestError::MissingInput(name) => write!(f, "the model's input `{name}` is missing"),
			RequestError::InputMismatch { spec, dtype, shape } => {
				write!(f, "input `{}` must be {spec}, not {dtype} {shape:?}", spec.name())
			}
		}
	}
}

impl core::error::Error for RequestError {}

fn check_form(field: &Field, tensor: &Tensor) -> Result<(), RequestError> {
	let wrong = || RequestError::WrongForm {
		name: field.name,
		form: field.form,
		dtype: tensor.dtype,
		shape: tensor.shape.clone(),
	};
	match (field.form, tensor.dtype, tensor.shape.as_slice()) {
		(Form::Bytes, DType::U8, [_]) | (Form::Samples, DType::F32, [_]) => Ok(()),
		(Form::Texts, DType::U8, [_]) => Ok(()),
		(Form::Texts, DType::U8, [rows, _]) if *rows > MAX_TEXTS => {
			Err(RequestError::TooManyTexts(*rows))
		}
		(Form::Texts, DType::U8, [_, _]) => Ok(()),
		(Form::Scalar(dtypes), dtype, _) if dtypes.contains(&dtype) => {
			Scalar::of(tensor).map(|_| ()).ok_or_else(wrong)
		}
		_ => Err(wrong()),
	}
}

/// The parameters of text generation must lie in their ranges (see the module docs).
fn check_generation(tensors: &[Tensor]) -> Result<(), RequestError> {
	let value = |name| tensors.iter().find(|t| t.name == name).and_then(Scalar::of);
	if let Some(n) = value("max_tokens") {
		if !n.as_i64().is_some_and(|n| (1..=i64::from(MAX_NEW_TOKENS)).contains(&n)) {
			return Err(RequestError::OutOfRange { name: "max_tokens", range: "1..=512" });
		}
	}
	if let Some(t) = value("temperature") {
		if !(t.as_f32().is_finite() && t.as_f32() >= 0.0) {
			return Err(RequestError::OutOfRange {
				name: "temperature", range: "finite and ≥ 0"
			});
		}
	}
	if let Some(p) = value("top_p") {
		if !(p.as_f32() > 0.0 && p.as_f32() <= 1.0) {
			return Err(RequestError::OutOfRange { name: "top_p", range: "in (0, 1]" });
		}
	}
	Ok(())
}

/// Longest `language` code a speech request may send.
pub const MAX_LANGUAGE_LEN: usize = 16;

/// Speech options must be well formed (see the module docs); whether the model knows the
/// language is the engine's to check.
fn check_speech(tensors: &[Tensor]) -> Result<(), RequestError> {
	let bytes = |name| tensors.iter().find(|t| t.name == name).map(|t| t.data.as_slice());
	if let Some(task) = bytes("task") {
		if task != b"transcribe" && task != b"translate" {
			return Err(RequestError::OutOfRange {
				name: "task",
				range: "`transcribe` or `translate`",
			});
		}
	}
	if let Some(language) = bytes("language") {
		let code = |b: &u8| b.is_ascii_alphabetic() || *b == b'-';
		if language.is_empty() || language.len() > MAX_LANGUAGE_LEN || !language.iter().all(code) {
			return Err(RequestError::OutOfRange {
				name: "language",
				range: "a language code such as `en` (1 to 16 ASCII letters or `-`)",
			});
		}
	}
	Ok(())
}

/// Zero-shot options must go together (see the module docs).
fn check_image_text(tensors: &[Tensor]) -> Result<(), RequestError> {
	let sent = |name: &str| tensors.iter().find(|t| t.name == name);
	if sent("labels").is_some() && sent("image").is_none() {
		return Err(RequestError::Requires { name: "labels", requires: "image" });
	}
	if let Some(template) = sent("template") {
		if sent("labels").is_none() {
			return Err(RequestError::Requires { name: "template", requires: "labels" });
		}
		let text = core::str::from_utf8(&template.data).unwrap_or_default();
		if text.len() > MAX_TEMPLATE_LEN || text.matches("{}").count() != 1 {
			return Err(RequestError::OutOfRange {
				name: "template",
				range: "UTF-8 of at most 256 bytes with one `{}` where the label goes",
			});
		}
	}
	Ok(())
}

/// Checks a request for a model of `task` against the task's [`schema`]: every tensor is a
/// field of the task, in its form; required fields are present; parameters are in range. Raw
/// tensors are checked against the model's inputs with [`check_raw_request`] instead, so this
/// accepts any tensors for them.
pub fn check_request(task: InferenceTask, tensors: &[Tensor]) -> Result<(), RequestError> {
	let Some(schema) = schema(task) else { return Ok(()) };
	for tensor in tensors {
		let field = schema
			.field(&tensor.name)
			.ok_or_else(|| RequestError::NotAccepted { task, name: tensor.name.clone() })?;
		check_form(field, tensor)?;
	}
	let sent = |name: &str| tensors.iter().any(|t| t.name == name);
	if let Some(missing) = schema.fields.iter().find(|f| f.required && !sent(f.name)) {
		return Err(RequestError::Missing(missing.name));
	}
	if !schema.exactly_one_of.is_empty()
		&& schema.exactly_one_of.iter().filter(|name| sent(name)).count() != 1
	{
		return Err(RequestError::ExactlyOneOf(schema.exactly_one_of));
	}
	match task {
		InferenceTask::TextGeneration | InferenceTask::Text2TextGeneration => {
			check_generation(tensors)
		}
		InferenceTask::SpeechToText => check_speech(tensors),
		InferenceTask::ZeroShotImageClassification => check_image_text(tensors),
		_ => Ok(()),
	}
}

/// Checks a raw-tensors request against the model's registered inputs: exactly those tensors,
/// each of its spec's dtype and rank, with every fixed dim as registered.
pub fn check_raw_request(inputs: &[TensorSpec], tensors: &[Tensor]) -> Result<(), RequestError> {
	for tensor in tensors {
		let spec = inputs
			.iter()
			.find(|spec| spec.name() == tensor.name)
			.ok_or_else(|| RequestError::UnknownInput(tensor.name.clone()))?;
		let fits = spec.dtype == tensor.dtype
			&& spec.dims.len() == tensor.shape.len()
			&& spec.dims.iter().zip(&tensor.shape).all(|(dim, &size)| match dim {
				Dim::Fixed(n) => *n == u64::from(size),
				Dim::Symbolic(_) => true,
			});
		if !fits {
			return Err(RequestError::InputMismatch {
				spec: spec.clone(),
				dtype: tensor.dtype,
				shape: tensor.shape.clone(),
			});
		}
	}
	match inputs.iter().find(|spec| !tensors.iter().any(|t| t.name == spec.name())) {
		Some(spec) => Err(RequestError::MissingInput(String::from(spec.name()))),
		None => Ok(()),
	}
}
