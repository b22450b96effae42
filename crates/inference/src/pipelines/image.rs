//! Image classification: decode (PNG, JPEG), resize, normalise, top-k ImageNet labels.

use super::{softmax, top_k, Output};
use crate::{codec::Tensor, onnx::OnnxModel, Error, Result};
use image::{imageops::FilterType, ImageReader, RgbImage};
use std::io::Cursor;

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

/// How a classifier wants its pixels: `(pixel / 255 - mean) / std` per RGB channel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Normalization {
	pub mean: [f32; 3],
	pub std: [f32; 3],
}

impl Normalization {
	/// EfficientNet-Lite and other TF-Lite models: pixels centred at 127.5, scaled to ±1.
	pub const HALF: Normalization = Normalization { mean: [0.5; 3], std: [0.5; 3] };
	/// torchvision's ImageNet statistics.
	pub const IMAGENET: Normalization =
		Normalization { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
}

/// The image resized (bilinear, antialiased) to `width` × `height` as an f32 NCHW tensor.
pub fn to_tensor(
	image: &RgbImage,
	name: &str,
	width: u32,
	height: u32,
	normalization: Normalization,
) -> Result<Tensor> {
	let resized = image::imageops::resize(image, width, height, FilterType::Triangle);
	let plane = (width * height) as usize;
	let mut values = vec![0f32; 3 * plane];
	for (i, pixel) in resized.pixels().enumerate() {
		for c in 0..3 {
			values[c * plane + i] =
				(f32::from(pixel[c]) / 255.0 - normalization.mean[c]) / normalization.std[c];
		}
	}
	Ok(Tensor::from_f32(name, vec![1, 3, height, width], &values)?)
}

/// An ImageNet classifier taking one image `[1, 3, size, size]` and returning logits.
pub struct ImageClassifier {
	model: OnnxModel,
	labels: Vec<String>,
	size: u32,
	normalization: Normalization,
}

impl ImageClassifier {
	/// A classifier over `labels` for square inputs of `size` pixels. Load the model with
	/// `LoadOptions::specialize`: every request has the same shape, and tract's convolution
	/// kernels are several times faster on concrete shapes.
	pub fn new(
		model: OnnxModel,
		labels: Vec<String>,
		size: u32,
		normalization: Normalization,
	) -> Result<Self> {
		if model.inputs().len() != 1 {
			return Err(Error::Pipeline("an image classifier takes one input".into()));
		}
		Ok(ImageClassifier { model, labels, size, normalization })
	}

	/// Bytes of weights the model holds.
	pub fn weight_bytes(&self) -> u64 {
		self.model.weight_bytes()
	}

	/// The `k` most likely classes for an encoded image.
	pub fn classify(&self, image: &[u8], k: usize) -> Result<Output> {
		let image = decode(image)?;
		let name = self.model.inputs()[0].name().to_string();
		let input = to_tensor(&image, &name, self.size, self.size, self.normalization)?;
		let outputs = self.model.run(&[input])?;
		let logits = outputs
			.first()
			.and_then(Tensor::to_f32)
			.ok_or_else(|| Error::Pipeline("the classifier's output is not f32 logits".into()))?;
		Ok(Output::Labels(vec![top_k(&softmax(&logits), k, &self.labels)]))
	}
}
