//! How an image model wants its pixels, read from the model and its package, not assumed.
//!
//! The description comes from Hugging Face's image-processor file, `preprocessor_config.json`,
//! over the same JSON in the ONNX file's `metadata_props` entry `preprocessor_config` (for
//! exports that carry it; the file wins key by key). The keys are Hugging Face's — `do_resize`,
//! `size`, `resample`, `do_center_crop`, `crop_size`, `crop_pct`, `do_rescale`,
//! `rescale_factor`, `do_normalize`, `image_mean`, `image_std` — with their meaning there, plus
//! two for models that are not PyTorch's NCHW RGB:
//! - `data_format`: `channels_first` (NCHW) or `channels_last` (NHWC); by default read off
//!   the input's shape (the dim that is 3);
//! - `channel_order`: `rgb` (default) or `bgr` (Caffe and OpenCV models); `image_mean` and
//!   `image_std` are then listed in that order too.
//!
//! Defaults where a key is absent: bilinear resampling, pixels scaled by 1/255, ImageNet's
//! mean and standard deviation; VGG-style mean subtraction is `do_rescale: false` with
//! `image_mean` in pixel units and `image_std` of 1. An f32 input is fed the normalised values,
//! a u8 input the pixels as they are.
//!
//! The result of resizing (and cropping) must be one fixed size, the input's if it fixes one:
//! what cannot be determined (the layout of an input like `[1, 3, 3, 3]`, the size of an input
//! with symbolic height and width and no `size`) is refused when the model loads, naming the
//! field to set.

mod config;

use crate::Result;
use citrate_tensor_primitives::{DType, Tensor};
use image::{imageops::FilterType, RgbImage};

/// The Hugging Face image-processor file.
pub const PREPROCESSOR_CONFIG: &str = "preprocessor_config.json";
/// The ONNX `metadata_props` key that may carry the same JSON.
pub const METADATA_KEY: &str = "preprocessor_config";

/// torchvision's ImageNet statistics, the defaults.
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// Where the channels are in the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
	/// `[batch, channels, height, width]` (PyTorch).
	Nchw,
	/// `[batch, height, width, channels]` (TensorFlow, TF-Lite).
	Nhwc,
}

/// The order of the three colour channels the model reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelOrder {
	Rgb,
	Bgr,
}

/// How the image is first resized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resize {
	/// To exactly `height` × `width` (the aspect ratio is not kept).
	Exact { height: u32, width: u32 },
	/// The shorter side to this many pixels, the aspect ratio kept (then cropped).
	ShortestEdge(u32),
}

/// Resampling filter (Hugging Face's `resample`, PIL's codes 0–3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resample {
	Nearest,
	Bilinear,
	Bicubic,
	Lanczos,
}

/// A model's image preprocessing, fully determined.
#[derive(Clone, Debug, PartialEq)]
pub struct ImagePreprocessing {
	pub layout: Layout,
	pub channel_order: ChannelOrder,
	pub resize: Resize,
	pub resample: Resample,
	/// Centre crop to `(height, width)` after resizing (zero-padded where the image is smaller).
	pub crop: Option<(u32, u32)>,
	/// Pixels (0–255) are multiplied by this…
	pub scale: f32,
	/// …then `(value - mean) / std` per channel, in `channel_order`.
	pub mean: [f32; 3],
	pub std: [f32; 3],
	/// The input's dtype: f32 takes normalised values, u8 the pixels.
	pub dtype: DType,
}

impl ImagePreprocessing {
	/// Square `size` RGB NCHW f32 input, bilinear, `(pixel / 255 - mean) / std`.
	pub fn square(size: u32, mean: [f32; 3], std: [f32; 3]) -> Self {
		ImagePreprocessing {
			layout: Layout::Nchw,
			channel_order: ChannelOrder::Rgb,
			resize: Resize::Exact { height: size, width: size },
			resample: Resample::Bilinear,
			crop: None,
			scale: 1.0 / 255.0,
			mean,
			std,
			dtype: DType::F32,
		}
	}

	/// The `[1, …]` input shape every image becomes.
	pub fn input_shape(&self) -> Vec<u32> {
		let (height, width) = self.output_size();
		match self.layout {
			Layout::Nchw => vec![1, 3, height, width],
			Layout::Nhwc => vec![1, height, width, 3],
		}
	}

	fn output_size(&self) -> (u32, u32) {
		output_size(self.resize, self.crop)
	}

	/// The image as the model's input tensor `name`.
	pub fn tensor(&self, image: &RgbImage, name: &str) -> Result<Tensor> {
		let (target_height, target_width) = match self.resize {
			Resize::Exact { height, width } => (height, width),
			Resize::ShortestEdge(side) => shortest_edge(image.height(), image.width(), side),
		};
		let resized =
			image::imageops::resize(image, target_width, target_height, self.resample.filter());
		let (height, width) = self.output_size();
		// Hugging Face's centre crop: the offset rounds down, and pads where the image is smaller.
		let top = (i64::from(resized.height()) - i64::from(height)) / 2;
		let left = (i64::from(resized.width()) - i64::from(width)) / 2;
		let plane = (height * width) as usize;
		let mut values = vec![0f32; 3 * plane];
		for y in 0..height {
			for x in 0..width {
				let (sy, sx) = (i64::from(y) + top, i64::from(x) + left);
				let inside = (0..i64::from(resized.height())).contains(&sy)
					&& (0..i64::from(resized.width())).contains(&sx);
				let pixel = if inside { resized.get_pixel(sx as u32, sy as u32).0 } else { [0; 3] };
				let at = (y * width + x) as usize;
				for c in 0..3 {
					let source = match self.channel_order {
						ChannelOrder::Rgb => c,
						ChannelOrder::Bgr => 2 - c,
					};
					let value =
						(f32::from(pixel[source]) * self.scale - self.mean[c]) / self.std[c];
					let index = match self.layout {
						Layout::Nchw => c * plane + at,
						Layout::Nhwc => at * 3 + c,
					};
					values[index] = value;
				}
			}
		}
		let shape = self.input_shape();
		Ok(match self.dtype {
			DType::U8 => {
				Tensor::new(name, DType::U8, shape, values.iter().map(|&v| v as u8).collect())?
			}
			_ => Tensor::from_f32(name, shape, &values)?,
		})
	}
}

impl Resample {
	fn filter(self) -> FilterType {
		match self {
			Resample::Nearest => FilterType::Nearest,
			Resample::Bilinear => FilterType::Triangle,
			Resample::Bicubic => FilterType::CatmullRom,
			Resample::Lanczos => FilterType::Lanczos3,
		}
	}
}

/// Hugging Face's shortest-edge size: the short side becomes `side`, the long one scales and
/// rounds down.
fn shortest_edge(height: u32, width: u32, side: u32) -> (u32, u32) {
	let scaled = |long: u32, short: u32| {
		((u64::from(long) * u64::from(side)) / u64::from(short.max(1))) as u32
	};
	if height <= width {
		(side, scaled(width, height).max(1))
	} else {
		(scaled(height, width).max(1), side)
	}
}

/// The size images come out at: the crop's, else the exact resize's (`geometry` never leaves a
/// shortest-edge resize without a crop).
fn output_size(resize: Resize, crop: Option<(u32, u32)>) -> (u32, u32) {
	match (crop, resize) {
		(Some(crop), _) => crop,
		(None, Resize::Exact { height, width }) => (height, width),
		(None, Resize::ShortestEdge(side)) => (side, side),
	}
}
