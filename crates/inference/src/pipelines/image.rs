//! Image classification: decode (PNG, JPEG), preprocess as the model describes, top-k labels.

use super::{
	outputs::OutputChoice,
	preprocess::{ImagePreprocessing, METADATA_KEY, PREPROCESSOR_CONFIG},
	softmax, top_k, ModelFiles, Output,
};
use crate::{
	onnx::{LoadOptions, OnnxModel, PlanKind, TensorSpec},
	Error, Result,
};
use image::{ImageReader, RgbImage};
use std::{fmt, io::Cursor};

/// Largest encoded image accepted.
pub const MAX_IMAGE_BYTES: usize = 16 << 20;
/// Largest decoded image, per side.
pub const MAX_IMAGE_SIDE: u32 = 8192;

/// The 1000 ImageNet-1k class names, in class order (from timm's synset list, Apache-2.0).
pub fn imagenet_labels() -> Vec<String> {
	include_str!("../../assets/imagenet-1k-labels.txt").lines().map(str::to_string).collect()
}

/// Decodes a PNG or JPEG to RGB, refusing oversized files and images before allocating.
pub fn decode(bytes: &[u8]) -> Result<RgbImage> {
	if bytes.len() > MAX_IMAGE_BYTES {
		return Err(Error::Pipeline(format!(
			"the image is {} bytes; the limit is {MAX_IMAGE_BYTES}",
			bytes.len()
		)));
	}
	let mut reader = ImageReader::new(Cursor::new(bytes))
		.with_guessed_format()
		.map_err(|e| Error::Pipeline(format!("reading the image: {e}")))?;
	let mut limits = image::Limits::default();
	limits.max_image_width = Some(MAX_IMAGE_SIDE);
	limits.max_image_height = Some(MAX_IMAGE_SIDE);
	limits.max_alloc = Some(512 << 20);
	reader.limits(limits);
	let image = reader.decode().map_err(|e| Error::Pipeline(format!("decoding the image: {e}")))?;
	Ok(image.to_rgb8())
}

/// How the classifier's graph was planned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImagePlan {
	/// Planned at load for the one input shape every request has (tract's fast convolution
	/// kernels need concrete shapes), with that plan's kind.
	Specialized(PlanKind),
	/// Tract could not plan the graph for that shape (`reason`), so it runs the plan for any
	/// shape, which works but is slower.
	Symbolic { kind: Option<PlanKind>, reason: String },
}

impl fmt::Display for ImagePlan {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			ImagePlan::Specialized(kind) => write!(f, "{kind:?}, specialised to the input shape"),
			ImagePlan::Symbolic { kind, reason } => {
				write!(f, "{kind:?}, symbolic ({reason})")
			}
		}
	}
}

/// An image classifier: one image in, preprocessed as the model describes ([`ImagePreprocessing`]),
/// and the top-k classes of its logits out.
pub struct ImageClassifier {
	model: OnnxModel,
	labels: Vec<String>,
	input: String,
	preprocessing: ImagePreprocessing,
	output: OutputChoice,
	plan: ImagePlan,
}

impl ImageClassifier {
	/// Loads `onnx` (the package's `model_file`) with its preprocessing from the package's
	/// `preprocessor_config.json` or the file's metadata, and its logits output by form or as
	/// `output` names it. The graph is planned now for the one shape requests have; if tract
	/// cannot, the symbolic plan serves instead ([`ImagePlan::Symbolic`]).
	pub fn load(
		onnx: &[u8],
		model_file: &str,
		files: &ModelFiles,
		labels: Vec<String>,
		options: &LoadOptions,
		output: Option<String>,
	) -> Result<Self> {
		let specialized = LoadOptions { specialize: true, ..options.clone() };
		let model = OnnxModel::load(onnx, &specialized).map_err(|e| e.in_file(model_file))?;
		let input = single_input(&model, model_file)?;
		let preprocessing = ImagePreprocessing::resolve(
			files.get(PREPROCESSOR_CONFIG),
			model.metadata(METADATA_KEY),
			input,
		)?;
		let shape = [(input.dtype, preprocessing.input_shape())];
		let (model, plan) = match model.specialize(&shape) {
			Ok(kind) => (model, ImagePlan::Specialized(kind)),
			Err(specialized_error) => {
				let symbolic = LoadOptions { specialize: false, ..options.clone() };
				match OnnxModel::load(onnx, &symbolic) {
					Ok(model) => {
						let plan = ImagePlan::Symbolic {
							kind: model.plan_kind(),
							reason: format!(
								"tract cannot plan the input shape: {specialized_error}"
							),
						};
						log::warn!("{model_file}: {plan}");
						(model, plan)
					}
					Err(_) => return Err(specialized_error.in_file(model_file)),
				}
			}
		};
		Self::with_plan(model, labels, preprocessing, output, plan)
	}

	/// A classifier over `labels` for a loaded model, preprocessing as given; the graph is
	/// planned for its input shape now when the model was loaded with `specialize`.
	pub fn new(
		model: OnnxModel,
		labels: Vec<String>,
		preprocessing: ImagePreprocessing,
	) -> Result<Self> {
		let input = single_input(&model, "the model")?;
		let kind = model.specialize(&[(input.dtype, preprocessing.input_shape())])?;
		let plan = match model.plan_kind() {
			Some(kind) => {
				ImagePlan::Symbolic { kind: Some(kind), reason: "loaded unspecialised".into() }
			}
			None => ImagePlan::Specialized(kind),
		};
		Self::with_plan(model, labels, preprocessing, None, plan)
	}

	fn with_plan(
		model: OnnxModel,
		labels: Vec<String>,
		preprocessing: ImagePreprocessing,
		output: Option<String>,
		plan: ImagePlan,
	) -> Result<Self> {
		let output = OutputChoice::for_model(&model, output, &[2], "logits")?;
		let input = model.inputs()[0].name().to_string();
		log::info!("image input `{input}`: {preprocessing:?}; plan {plan}");
		Ok(ImageClassifier { model, labels, input, preprocessing, output, plan })
	}

	/// How each image becomes the model's input.
	pub fn preprocessing(&self) -> &ImagePreprocessing {
		&self.preprocessing
	}

	/// How the graph was planned.
	pub fn plan(&self) -> &ImagePlan {
		&self.plan
	}

	/// Bytes of weights the model holds.
	pub fn weight_bytes(&self) -> u64 {
		self.model.weight_bytes()
	}

	/// The `k` most likely classes for an encoded image.
	pub fn classify(&self, image: &[u8], k: usize) -> Result<Output> {
		let input = self.preprocessing.tensor(&decode(image)?, &self.input)?;
		let outputs = self.model.run(&[input])?;
		let (logits, _) = self.output.pick(&outputs, 1)?;
		let logits = logits.to_f32().ok_or_else(|| Error::Pipeline("logits are not f32".into()))?;
		Ok(Output::Labels(vec![top_k(&softmax(&logits), k, &self.labels)]))
	}
}

/// The one input of an image model.
fn single_input<'a>(model: &'a OnnxModel, file: &str) -> Result<&'a TensorSpec> {
	match model.inputs() {
		[input] => Ok(input),
		inputs => Err(Error::InvalidModel(format!(
			"{file}: an image classifier takes one input (the image); this one takes [{}]",
			inputs.iter().map(|i| format!("`{}`", i.name())).collect::<Vec<_>>().join(", ")
		))),
	}
}
