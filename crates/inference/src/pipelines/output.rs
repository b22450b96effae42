//! What a pipeline returns ([`Output`]), as the canonical tensors a proof of inference hashes
//! and back (a client decoding a receipt reads the same values the provider produced), and as
//! the JSON clients print.

use super::Task;
use crate::{Error, Result};
use citrate_tensor_primitives::{DType, Tensor};
use serde_json::{json, Value};

/// One class and its probability.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
	pub id: u32,
	pub name: String,
	pub score: f32,
}

/// One line of text found in an image.
#[derive(Clone, Debug, PartialEq)]
pub struct TextLine {
	pub text: String,
	/// Its box in the image: left, top, right, bottom (exclusive), in pixels.
	pub bounds: (u32, u32, u32, u32),
	/// The recogniser's mean probability of the line's characters, 0 to 1.
	pub confidence: f32,
}

/// What a pipeline returns.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
	/// One vector per input text, `dims` long each.
	Embeddings { dims: usize, values: Vec<f32> },
	/// The top classes per input, best first.
	Labels(Vec<Vec<Label>>),
	/// Text (generation).
	Text(String),
	/// Speech-to-text: the text, and the spoken language (multilingual checkpoints; given or
	/// detected).
	Transcript { text: String, language: Option<String> },
	/// Lines of text read from an image (OCR), top to bottom.
	Lines(Vec<TextLine>),
	/// Speech probability per 32 ms chunk of 16 kHz audio.
	SpeechProbabilities(Vec<f32>),
	/// Raw tensors.
	Tensors(Vec<Tensor>),
}

impl Output {
	/// The canonical tensors of this output, which `proof::output_hash` hashes:
	/// - embeddings: `embeddings` f32 [n, dims];
	/// - labels: `label_ids` i64 [n, k] and `scores` f32 [n, k] (label names come from the
	///   model's label list, so ids are enough);
	/// - text: `text` u8 [bytes] (UTF-8);
	/// - transcript: `text` as for text, then `language` u8 [bytes] when the checkpoint is
	///   multilingual;
	/// - lines: `text` as for text, the lines joined by newlines, then `line_confidences` f32
	///   [lines] and `line_boxes` i64 [lines, 4] (left, top, right, bottom);
	/// - speech probabilities: `speech_probabilities` f32 [chunks];
	/// - tensors: as they are.
	pub fn to_tensors(&self) -> Result<Vec<Tensor>> {
		Ok(match self {
			Output::Embeddings { dims, values } => {
				let rows = values.len().checked_div(*dims).unwrap_or(0);
				vec![Tensor::from_f32("embeddings", vec![rows as u32, *dims as u32], values)?]
			}
			Output::Labels(rows) => {
				let k = rows.first().map_or(0, Vec::len);
				if rows.iter().any(|r| r.len() != k) {
					return Err(Error::Pipeline("label rows of different lengths".into()));
				}
				let shape = vec![rows.len() as u32, k as u32];
				let ids =
					rows.iter().flatten().flat_map(|l| i64::from(l.id).to_le_bytes()).collect();
				let scores: Vec<f32> = rows.iter().flatten().map(|l| l.score).collect();
				vec![
					Tensor::new("label_ids", DType::I64, shape.clone(), ids)?,
					Tensor::from_f32("scores", shape, &scores)?,
				]
			}
			Output::Text(text) => vec![Tensor::new(
				"text",
				DType::U8,
				vec![text.len() as u32],
				text.as_bytes().to_vec(),
			)?],
			Output::Transcript { text, language } => {
				let mut tensors = Output::Text(text.clone()).to_tensors()?;
				if let Some(language) = language {
					let bytes = language.as_bytes().to_vec();
					tensors.push(Tensor::new(
						"language",
						DType::U8,
						vec![bytes.len() as u32],
						bytes,
					)?);
				}
				tensors
			}
			Output::Lines(lines) => {
				let text = lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>().join("\n");
				let confidences: Vec<f32> = lines.iter().map(|l| l.confidence).collect();
				let boxes = lines
					.iter()
					.flat_map(|l| [l.bounds.0, l.bounds.1, l.bounds.2, l.bounds.3])
					.flat_map(|v| i64::from(v).to_le_bytes())
					.collect();
				let n = lines.len() as u32;
				let mut tensors = Output::Text(text).to_tensors()?;
				tensors.push(Tensor::from_f32("line_confidences", vec![n], &confidences)?);
				tensors.push(Tensor::new("line_boxes", DType::I64, vec![n, 4], boxes)?);
				tensors
			}
			Output::SpeechProbabilities(p) => {
				vec![Tensor::from_f32("speech_probabilities", vec![p.len() as u32], p)?]
			}
			Output::Tensors(tensors) => tensors.clone(),
		})
	}

	/// Reads an output back from its canonical tensors ([`Output::to_tensors`]) for a model of
	/// `task`: what a client does with a receipt. Labels are named from `names` (the model's
	/// classes, or a zero-shot request's labels), as the pipeline named them.
	pub fn from_tensors(task: Task, tensors: Vec<Tensor>, names: &[String]) -> Result<Output> {
		let named = |name: &str| tensors.iter().find(|t| t.name == name);
		let missing = |name: &str| Error::Pipeline(format!("the output has no `{name}`"));
		let f32s = |name: &str| -> Result<(Vec<f32>, &Tensor)> {
			let tensor = named(name).ok_or_else(|| missing(name))?;
			let values =
				tensor.to_f32().ok_or_else(|| Error::Pipeline(format!("`{name}` is not f32")))?;
			Ok((values, tensor))
		};
		let text = |name: &str| -> Result<String> {
			let tensor = named(name).ok_or_else(|| missing(name))?;
			String::from_utf8(tensor.data.clone())
				.map_err(|_| Error::Pipeline(format!("`{name}` is not UTF-8")))
		};
		if task == Task::RawTensors {
			return Ok(Output::Tensors(tensors));
		}
		if named("embeddings").is_some() {
			let (values, tensor) = f32s("embeddings")?;
			let dims = tensor.shape.get(1).copied().unwrap_or_default() as usize;
			return Ok(Output::Embeddings { dims, values });
		}
		if let Some(ids) = named("label_ids") {
			let (scores, _) = f32s("scores")?;
			let (rows, k) = match *ids.shape.as_slice() {
				[rows, k] if ids.dtype == DType::I64 => (rows as usize, k as usize),
				_ => return Err(Error::Pipeline("`label_ids` is not i64 [rows, k]".into())),
			};
			let ids = ids.to_i64().unwrap_or_default();
			if ids.len() != rows * k || scores.len() != rows * k {
				return Err(Error::Pipeline("`label_ids` and `scores` differ in shape".into()));
			}
			let label = |(&id, &score): (&i64, &f32)| {
				let index = usize::try_from(id).unwrap_or(usize::MAX);
				Label {
					id: id as u32,
					name: names.get(index).cloned().unwrap_or_else(|| format!("class {id}")),
					score,
				}
			};
			let all: Vec<Label> = ids.iter().zip(&scores).map(label).collect();
			return Ok(Output::Labels(all.chunks(k.max(1)).map(<[Label]>::to_vec).collect()));
		}
		if named("speech_probabilities").is_some() {
			return Ok(Output::SpeechProbabilities(f32s("speech_probabilities")?.0));
		}
		if named("line_boxes").is_some() {
			let joined = text("text")?;
			let (confidences, _) = f32s("line_confidences")?;
			let boxes: Vec<u32> = named("line_boxes")
				.and_then(Tensor::to_i64)
				.unwrap_or_default()
				.into_iter()
				.map(|v| v as u32)
				.collect();
			let texts: Vec<&str> =
				if joined.is_empty() { vec![] } else { joined.split('\n').collect() };
			if texts.len() != confidences.len() || boxes.len() != 4 * texts.len() {
				return Err(Error::Pipeline("the OCR output's lines differ in count".into()));
			}
			let lines = texts
				.iter()
				.zip(&confidences)
				.zip(boxes.chunks_exact(4))
				.map(|((text, &confidence), b)| TextLine {
					text: text.to_string(),
					bounds: (b[0], b[1], b[2], b[3]),
					confidence,
				})
				.collect();
			return Ok(Output::Lines(lines));
		}
		let body = text("text")?;
		Ok(match task {
			Task::SpeechToText => Output::Transcript {
				text: body,
				language: named("language").map(|_| text("language")).transpose()?,
			},
			_ => Output::Text(body),
		})
	}

	/// The output as JSON (numbers as the f64 of each f32, printed the same whatever
	/// serde_json's features in the build): embeddings `{dims, values}`, label rows `[[{id, name, score}]]`,
	/// text as a string (a transcript with its language as `{text, language}`), OCR lines
	/// `{text, lines: [{text, confidence, box}]}`, speech probabilities as numbers, raw tensors
	/// as `[{name, dtype, shape, values}]` (values flat, row-major; `null` for f16/bf16 and for
	/// tensors over [`MAX_JSON_ELEMENTS`]).
	pub fn to_json(&self) -> Value {
		match self {
			Output::Embeddings { dims, values } => json!({ "dims": dims, "values": wide(values) }),
			Output::Labels(rows) => json!(rows
				.iter()
				.map(|row| row
					.iter()
					.map(|l| json!({ "id": l.id, "name": l.name, "score": f64::from(l.score) }))
					.collect::<Vec<_>>())
				.collect::<Vec<_>>()),
			Output::Text(text) | Output::Transcript { text, language: None } => json!(text),
			Output::Transcript { text, language: Some(language) } => {
				json!({ "text": text, "language": language })
			}
			Output::Lines(lines) => json!({
				"text": lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>().join("\n"),
				"lines": lines
					.iter()
					.map(|l| {
						let (left, top, right, bottom) = l.bounds;
						json!({
							"text": l.text,
							"confidence": f64::from(l.confidence),
							"box": [left, top, right, bottom],
						})
					})
					.collect::<Vec<_>>(),
			}),
			Output::SpeechProbabilities(p) => json!(wide(p)),
			Output::Tensors(tensors) => json!(tensors
				.iter()
				.map(|t| json!({
					"name": t.name,
					"dtype": t.dtype.to_string(),
					"shape": t.shape,
					"values": values_of(t),
				}))
				.collect::<Vec<_>>()),
		}
	}
}

/// Most elements of a raw tensor whose values the JSON lists.
pub const MAX_JSON_ELEMENTS: usize = 1 << 16;

/// What a model of `task` returns, as [`Output::to_json`] writes it: for model cards.
pub fn output_description(task: Task) -> &'static str {
	match task {
		Task::FeatureExtraction => {
			"embeddings: {dims, values}, one vector of `dims` values per text, in order"
		}
		Task::TextClassification | Task::ImageClassification => {
			"labels: per input, the top classes best first, [[{id, name, score}]]"
		}
		Task::FillMask => "labels: per mask, the top tokens best first, [[{id, name, score}]]",
		Task::ZeroShotImageClassification => {
			"with labels, the labels ranked for the image [[{id, name, score}]]; else \
			 embeddings {dims, values} of the image or of each text"
		}
		Task::Ocr => "the text read, with its lines: {text, lines: [{text, confidence, box}]}",
		Task::SpeechToText => "the transcript, or {text, language} from a multilingual checkpoint",
		Task::VoiceActivity => "the probability of speech in each 32 ms chunk, [p]",
		Task::TextGeneration | Task::Text2TextGeneration => "the generated text",
		Task::RawTensors => "the model's output tensors, [{name, dtype, shape, values}]",
	}
}

/// A tensor's values for JSON, flat and row-major.
fn values_of(tensor: &Tensor) -> Value {
	let elements = tensor.elements().unwrap_or(u64::MAX);
	if elements > MAX_JSON_ELEMENTS as u64 {
		return Value::Null;
	}
	let data = &tensor.data;
	let chunks = |n: usize| data.chunks_exact(n);
	match tensor.dtype {
		DType::F32 => json!(wide(&tensor.to_f32().unwrap_or_default())),
		DType::F64 => json!(chunks(8)
			.map(|c| f64::from_le_bytes(c.try_into().unwrap_or_default()))
			.collect::<Vec<_>>()),
		DType::I64 => json!(tensor.to_i64().unwrap_or_default()),
		DType::I32 => json!(chunks(4)
			.map(|c| i32::from_le_bytes(c.try_into().unwrap_or_default()))
			.collect::<Vec<_>>()),
		DType::I16 => json!(chunks(2)
			.map(|c| i16::from_le_bytes(c.try_into().unwrap_or_default()))
			.collect::<Vec<_>>()),
		DType::I8 => json!(data.iter().map(|&b| b as i8).collect::<Vec<_>>()),
		DType::U8 => json!(data),
		DType::Bool => json!(data.iter().map(|&b| b != 0).collect::<Vec<_>>()),
		DType::F16 | DType::BF16 => Value::Null,
	}
}

fn wide(values: &[f32]) -> Vec<f64> {
	values.iter().copied().map(f64::from).collect()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn every_output_reads_back_from_its_canonical_tensors() {
		let names: Vec<String> = vec!["cat".into(), "dog".into(), "fox".into()];
		let label = |id: u32, score: f32| Label { id, name: names[id as usize].clone(), score };
		let cases = [
			(
				Task::FeatureExtraction,
				Output::Embeddings { dims: 2, values: vec![1.0, 2.0, 3.0, 4.0] },
			),
			(
				Task::ImageClassification,
				Output::Labels(vec![
					vec![label(2, 0.75), label(0, 0.25)],
					vec![label(1, 1.0), label(2, 0.0)],
				]),
			),
			(Task::TextGeneration, Output::Text("once upon".into())),
			(
				Task::SpeechToText,
				Output::Transcript { text: "bonjour".into(), language: Some("fr".into()) },
			),
			(Task::SpeechToText, Output::Transcript { text: "hello".into(), language: None }),
			(
				Task::Ocr,
				Output::Lines(vec![
					TextLine { text: "top".into(), bounds: (1, 2, 30, 12), confidence: 0.9 },
					TextLine { text: "bottom".into(), bounds: (1, 20, 40, 32), confidence: 0.5 },
				]),
			),
			(Task::Ocr, Output::Lines(vec![])),
			(Task::VoiceActivity, Output::SpeechProbabilities(vec![0.1, 0.9])),
		];
		for (task, output) in cases {
			let tensors = output.to_tensors().unwrap();
			assert_eq!(Output::from_tensors(task, tensors, &names).unwrap(), output, "{task:?}");
		}
		// A class the names do not cover is named as the pipelines name it.
		let unnamed =
			Output::Labels(vec![vec![Label { id: 7, name: "class 7".into(), score: 1.0 }]]);
		let read =
			Output::from_tensors(Task::TextClassification, unnamed.to_tensors().unwrap(), &[]);
		assert_eq!(read.unwrap(), unnamed);
		let raw = Output::Tensors(vec![
			Tensor::from_f32("y", vec![2], &[0.5, -1.0]).unwrap(),
			Tensor::new("n", DType::I32, vec![1], 7i32.to_le_bytes().to_vec()).unwrap(),
		]);
		assert_eq!(
			raw.to_json(),
			json!([
				{ "name": "y", "dtype": "f32", "shape": [2], "values": [0.5, -1.0] },
				{ "name": "n", "dtype": "i32", "shape": [1], "values": [7] },
			])
		);
		let error = Output::from_tensors(Task::ImageClassification, vec![], &names).unwrap_err();
		assert_eq!(error.to_string(), "the output has no `text`");
	}
}
