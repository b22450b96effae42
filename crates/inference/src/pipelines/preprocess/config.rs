//! Reading `preprocessor_config.json` (over the ONNX metadata's copy) into an
//! [`ImagePreprocessing`], refusing what cannot be determined with the field to set.

use super::{
	output_size, ChannelOrder, ImagePreprocessing, Layout, Resample, Resize, IMAGENET_MEAN,
	IMAGENET_STD, METADATA_KEY, PREPROCESSOR_CONFIG,
};
use crate::{onnx::Dim, Error, Result};
use citrate_tensor_primitives::{DType, TensorSpec};
use serde_json::{Map, Value};

impl ImagePreprocessing {
	/// Determines the preprocessing of a model whose image input is `input`, from the package's
	/// `preprocessor_config.json` (`file`) over the ONNX metadata's (`metadata`).
	pub fn resolve(
		file: Option<&[u8]>,
		metadata: Option<&str>,
		input: &TensorSpec,
	) -> Result<Self> {
		let config = Config::read(file, metadata)?;
		let layout = layout(&config, input)?;
		let (model_height, model_width) = match (layout, &input.dims[..]) {
			(Layout::Nchw, [_, _, h, w]) | (Layout::Nhwc, [_, h, w, _]) => (fixed(h), fixed(w)),
			_ => (None, None),
		};
		let model_size = model_height.zip(model_width);
		let (resize, crop) = geometry(&config, input, model_size)?;
		let (height, width) = output_size(resize, crop);
		if let Some((h, w)) = model_size {
			if (h, w) != (height, width) {
				return Err(config.bad(
					if crop.is_some() { "crop_size" } else { "size" },
					&format!(
						"gives {height}×{width} images, but input `{}` takes {h}×{w}",
						input.name()
					),
				));
			}
		}
		let dtype = input.dtype;
		let (scale, mean, std) = match dtype {
			DType::F32 => normalization(&config)?,
			DType::U8 => {
				for key in ["rescale_factor", "image_mean", "image_std"] {
					if config.has(key) {
						return Err(config.bad(
							key,
							&format!(
								"cannot apply: input `{}` is u8 and takes pixels as they are",
								input.name()
							),
						));
					}
				}
				(1.0, [0.0; 3], [1.0; 3])
			}
			other => {
				return Err(Error::InvalidModel(format!(
					"image input `{}` is {other}; image models take f32 (normalised) or u8 (pixels)",
					input.name()
				)))
			}
		};
		Ok(ImagePreprocessing {
			layout,
			channel_order: channel_order(&config)?,
			resize,
			resample: resample(&config)?,
			crop,
			scale,
			mean,
			std,
			dtype,
		})
	}
}

fn fixed(dim: &Dim) -> Option<u32> {
	match dim {
		Dim::Fixed(n) => u32::try_from(*n).ok(),
		_ => None,
	}
}

/// The merged configuration, remembering where each key came from for error messages.
struct Config {
	keys: Map<String, Value>,
	from_file: Vec<String>,
}

impl Config {
	fn read(file: Option<&[u8]>, metadata: Option<&str>) -> Result<Self> {
		let object = |bytes: &[u8], origin: &str| -> Result<Map<String, Value>> {
			match serde_json::from_slice(bytes) {
				Ok(Value::Object(map)) => Ok(map),
				Ok(_) => Err(Error::InvalidModel(format!("{origin}: must be a JSON object"))),
				Err(e) => Err(Error::InvalidModel(format!("{origin}: {e}"))),
			}
		};
		let mut keys = match metadata {
			Some(json) => object(json.as_bytes(), &format!("the ONNX metadata `{METADATA_KEY}`"))?,
			None => Map::new(),
		};
		let mut from_file = vec![];
		if let Some(bytes) = file {
			for (key, value) in object(bytes, PREPROCESSOR_CONFIG)? {
				from_file.push(key.clone());
				keys.insert(key, value);
			}
		}
		Ok(Config { keys, from_file })
	}

	fn get(&self, key: &str) -> Option<&Value> {
		self.keys.get(key).filter(|v| !v.is_null())
	}

	fn has(&self, key: &str) -> bool {
		self.get(key).is_some()
	}

	fn origin(&self, key: &str) -> String {
		if self.from_file.iter().any(|k| k == key) || !self.keys.contains_key(key) {
			PREPROCESSOR_CONFIG.to_string()
		} else {
			format!("the ONNX metadata `{METADATA_KEY}`")
		}
	}

	fn bad(&self, key: &str, why: &str) -> Error {
		Error::InvalidModel(format!("{}: `{key}` {why}", self.origin(key)))
	}

	fn flag(&self, key: &str, default: bool) -> Result<bool> {
		match self.get(key) {
			None => Ok(default),
			Some(value) => value.as_bool().ok_or_else(|| self.bad(key, "must be true or false")),
		}
	}

	fn word(&self, key: &str) -> Result<Option<String>> {
		self.get(key)
			.map(|v| {
				v.as_str()
					.map(str::to_ascii_lowercase)
					.ok_or_else(|| self.bad(key, "must be a string"))
			})
			.transpose()
	}

	fn side(&self, key: &str, value: &Value) -> Result<u32> {
		value.as_u64().filter(|n| (1..=4096).contains(n)).map(|n| n as u32).ok_or_else(|| {
			self.bad(key, &format!("sizes must be whole numbers from 1 to 4096, not {value}"))
		})
	}

	/// A size as Hugging Face writes it: a number, or `{height, width}`; a number is square.
	fn height_width(&self, key: &str) -> Result<Option<(u32, u32)>> {
		let Some(value) = self.get(key) else { return Ok(None) };
		if value.is_number() {
			let side = self.side(key, value)?;
			return Ok(Some((side, side)));
		}
		match (value.get("height"), value.get("width")) {
			(Some(h), Some(w)) => Ok(Some((self.side(key, h)?, self.side(key, w)?))),
			_ => Err(self.bad(key, "must be a number or {\"height\", \"width\"}")),
		}
	}

	/// Three per-channel numbers (or one for all three).
	fn triple(&self, key: &str) -> Result<Option<[f32; 3]>> {
		let Some(value) = self.get(key) else { return Ok(None) };
		let number = |v: &Value| v.as_f64().map(|n| n as f32).filter(|n| n.is_finite());
		let triple = match value {
			Value::Array(items) if items.len() == 3 => {
				let parsed: Option<Vec<f32>> = items.iter().map(number).collect();
				parsed.map(|v| [v[0], v[1], v[2]])
			}
			other => number(other).map(|n| [n; 3]),
		};
		triple
			.map(Some)
			.ok_or_else(|| self.bad(key, "must be three numbers (one per channel) or one"))
	}
}

fn layout(config: &Config, input: &TensorSpec) -> Result<Layout> {
	let dims = &input.dims;
	if dims.len() != 4 {
		return Err(Error::InvalidModel(format!(
			"image input `{}` has rank {}; image models take [batch, 3, height, width] or \
			 [batch, height, width, 3]",
			input.name(),
			dims.len()
		)));
	}
	let channels = |dim: &Dim| fixed(dim) == Some(3);
	let fixed_not_three = |dim: &Dim| matches!(fixed(dim), Some(n) if n != 3);
	let shape = format!("{:?}", dims.iter().map(|d| d.to_string()).collect::<Vec<_>>());
	let declared = match config.word("data_format")?.as_deref() {
		None => None,
		Some("channels_first" | "nchw") => Some(Layout::Nchw),
		Some("channels_last" | "nhwc") => Some(Layout::Nhwc),
		Some(other) => {
			return Err(config.bad(
				"data_format",
				&format!("must be channels_first (NCHW) or channels_last (NHWC), not {other:?}"),
			))
		}
	};
	match declared {
		Some(layout) => {
			let channel_dim = if layout == Layout::Nchw { &dims[1] } else { &dims[3] };
			if fixed_not_three(channel_dim) {
				return Err(config.bad(
					"data_format",
					&format!(
						"says {layout:?}, but input `{}` {shape} does not have 3 channels there",
						input.name()
					),
				));
			}
			Ok(layout)
		}
		None => match (channels(&dims[1]), channels(&dims[3])) {
			(true, false) => Ok(Layout::Nchw),
			(false, true) => Ok(Layout::Nhwc),
			_ => Err(config.bad(
				"data_format",
				&format!(
					"is needed: the layout of input `{}` {shape} cannot be told from its shape; \
					 set it to channels_first (NCHW) or channels_last (NHWC)",
					input.name()
				),
			)),
		},
	}
}

/// The resize and the crop. A number `size` is the shortest edge when a crop follows
/// (Hugging Face's `default_to_square=False` processors: CLIP, ConvNeXt, ResNet), else square.
fn geometry(
	config: &Config,
	input: &TensorSpec,
	model_size: Option<(u32, u32)>,
) -> Result<(Resize, Option<(u32, u32)>)> {
	if !config.flag("do_resize", true)? {
		return Err(config.bad(
			"do_resize",
			"is false, but requests are images of any size; give the `size` they are resized to",
		));
	}
	let crop_pct = match config.get("crop_pct") {
		None => None,
		Some(value) => Some(
			value
				.as_f64()
				.filter(|p| *p > 0.0 && *p <= 1.0)
				.ok_or_else(|| config.bad("crop_pct", "must be a fraction in (0, 1]"))?,
		),
	};
	let center_crop = config.flag("do_center_crop", config.has("crop_size"))?;
	let crop_size = if center_crop { config.height_width("crop_size")? } else { None };
	if center_crop && crop_size.is_none() && crop_pct.is_none() {
		return Err(config.bad("crop_size", "is missing, and do_center_crop is true"));
	}
	let crops = crop_size.is_some() || crop_pct.is_some();
	let resize =
		match config.get("size") {
			None => match model_size {
				Some((height, width)) => Resize::Exact { height, width },
				None => {
					return Err(config.bad(
						"size",
						&format!(
						"is missing, and input `{}` does not fix its height and width; give the \
						 size images are resized to",
						input.name()
					),
					))
				}
			},
			Some(value) if value.is_number() => {
				let side = config.side("size", value)?;
				if crops {
					Resize::ShortestEdge(side)
				} else {
					Resize::Exact { height: side, width: side }
				}
			}
			Some(value) => {
				if value.get("longest_edge").is_some() {
					return Err(config
						.bad("size", "with longest_edge (variable-size inputs) is not supported"));
				}
				match value.get("shortest_edge") {
					Some(side) => Resize::ShortestEdge(config.side("size", side)?),
					None => {
						let (height, width) =
							config.height_width("size")?.ok_or_else(|| {
								config.bad("size", "must be a number, {\"height\", \"width\"} or {\"shortest_edge\"}")
							})?;
						Resize::Exact { height, width }
					}
				}
			}
		};
	Ok(match (resize, crop_pct, crop_size) {
		// ConvNeXt: below 384, resize the short side to side / crop_pct, then crop side × side.
		(Resize::ShortestEdge(side), Some(pct), None) if side < 384 => {
			(Resize::ShortestEdge((f64::from(side) / pct) as u32), Some((side, side)))
		}
		(Resize::ShortestEdge(side), Some(_), None) => {
			(Resize::Exact { height: side, width: side }, None)
		}
		(Resize::ShortestEdge(_), _, None) => {
			return Err(config.bad(
				"size",
				"is a shortest edge without a centre crop, which gives every image its own shape; \
				 give crop_size (and do_center_crop) or size as {\"height\", \"width\"}",
			))
		}
		(resize, _, crop) => (resize, crop),
	})
}

fn resample(config: &Config) -> Result<Resample> {
	match config.get("resample").map(|v| v.as_u64()) {
		None => Ok(Resample::Bilinear),
		Some(Some(0)) => Ok(Resample::Nearest),
		Some(Some(1)) => Ok(Resample::Lanczos),
		Some(Some(2)) => Ok(Resample::Bilinear),
		Some(Some(3)) => Ok(Resample::Bicubic),
		Some(_) => Err(config.bad(
			"resample",
			"must be 0 (nearest), 1 (Lanczos), 2 (bilinear) or 3 (bicubic); box and Hamming are \
			 not supported",
		)),
	}
}

fn channel_order(config: &Config) -> Result<ChannelOrder> {
	match config.word("channel_order")?.as_deref() {
		None | Some("rgb") => Ok(ChannelOrder::Rgb),
		Some("bgr") => Ok(ChannelOrder::Bgr),
		Some(other) => {
			Err(config.bad("channel_order", &format!("must be rgb or bgr, not {other:?}")))
		}
	}
}

/// `(scale, mean, std)`. Hugging Face's `rescale_offset` (EfficientNet: pixels to [-1, 1] by
/// `pixel · rescale_factor - 1`) is folded into the mean: `(p·s - 1 - m) / σ = (p·s - (m + 1)) / σ`.
fn normalization(config: &Config) -> Result<(f32, [f32; 3], [f32; 3])> {
	let scale =
		if config.flag("do_rescale", true)? {
			match config.get("rescale_factor") {
				None => 1.0 / 255.0,
				Some(value) => value
					.as_f64()
					.map(|f| f as f32)
					.filter(|f| f.is_finite() && *f > 0.0)
					.ok_or_else(|| config.bad("rescale_factor", "must be a positive number"))?,
			}
		} else {
			1.0
		};
	let offset = if config.flag("do_rescale", true)? && config.flag("rescale_offset", false)? {
		1.0
	} else {
		0.0
	};
	if !config.flag("do_normalize", true)? {
		return Ok((scale, [offset; 3], [1.0; 3]));
	}
	let (mean, std) = match (config.triple("image_mean")?, config.triple("image_std")?) {
		(Some(mean), Some(std)) => (mean, std),
		(None, None) => (IMAGENET_MEAN, IMAGENET_STD),
		(Some(_), None) => {
			return Err(config.bad("image_std", "is missing; give it with image_mean"))
		}
		(None, Some(_)) => {
			return Err(config.bad("image_mean", "is missing; give it with image_std"))
		}
	};
	if std.iter().any(|s| *s <= 0.0) {
		return Err(config.bad("image_std", "must be above 0 for every channel"));
	}
	Ok((scale, mean.map(|m| m + offset), std))
}
