//! OCR with PP-OCR (PaddleOCR's det + rec, optional angle classifier), as RapidOCR runs it:
//! detect text regions on a probability map, crop each, recognise it with CTC decoding over
//! the recogniser's character list (kept in its ONNX metadata as `character`).
//!
//! Detection: the image is scaled so its longer side is at most [`DET_MAX_SIDE`] and both
//! sides are multiples of 32, normalised with ImageNet statistics in BGR order (PaddleOCR's
//! convention); pixels over 0.3 form regions (8-connected), a region is kept when its mean
//! probability is at least 0.5, and its box is grown by `area × 1.6 / perimeter` on each side
//! (PaddleOCR's unclip ratio) — axis-aligned boxes, so rotated text is out of scope.
//! Recognition: each crop is scaled to height 48 (width up to 320, padded to a multiple of 80
//! so the recogniser needs at most four shape plans), normalised to ±1.

use super::{image::decode, Output};
use crate::{codec::Tensor, onnx::OnnxModel, Error, Result};
use image::{imageops::FilterType, RgbImage};

/// Longest side the detector sees.
pub const DET_MAX_SIDE: u32 = 960;
const BINARY_THRESHOLD: f32 = 0.3;
const BOX_THRESHOLD: f32 = 0.5;
const UNCLIP_RATIO: f32 = 1.6;
const REC_HEIGHT: u32 = 48;
const REC_MAX_WIDTH: u32 = 320;
/// Most text regions recognised per image.
pub const MAX_REGIONS: usize = 64;

/// One recognised line: its box in the image (left, top, right, bottom) and confidence.
#[derive(Clone, Debug, PartialEq)]
pub struct TextLine {
	pub text: String,
	pub bounds: (u32, u32, u32, u32),
	pub confidence: f32,
}

/// PP-OCR: detector, recogniser and its character list, optional angle classifier.
pub struct Ocr {
	det: OnnxModel,
	rec: OnnxModel,
	cls: Option<OnnxModel>,
	characters: Vec<String>,
}

impl Ocr {
	/// An OCR pipeline; the recogniser must carry its character list in its metadata.
	pub fn new(det: OnnxModel, rec: OnnxModel, cls: Option<OnnxModel>) -> Result<Self> {
		let list = rec.metadata("character").ok_or_else(|| {
			Error::Pipeline("the recogniser has no `character` list in its metadata".into())
		})?;
		let mut characters: Vec<String> = list.lines().map(str::to_string).collect();
		// PP-OCR's class 0 is the CTC blank and the last class a space.
		characters.push(" ".into());
		Ok(Ocr { det, rec, cls, characters })
	}

	/// Bytes of weights the detector, recogniser and angle classifier hold.
	pub fn weight_bytes(&self) -> u64 {
		self.det.weight_bytes()
			+ self.rec.weight_bytes()
			+ self.cls.as_ref().map_or(0, OnnxModel::weight_bytes)
	}

	/// The text of an encoded image, lines top to bottom joined by newlines.
	pub fn read(&self, image: &[u8]) -> Result<Output> {
		let lines = self.lines(&decode(image)?)?;
		Ok(Output::Text(lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>().join("\n")))
	}

	/// Every recognised line with its box, top to bottom then left to right.
	pub fn lines(&self, image: &RgbImage) -> Result<Vec<TextLine>> {
		let mut boxes = self.detect(image)?;
		boxes.sort_by_key(|b| (b.1 / 16, b.0));
		boxes
			.into_iter()
			.take(MAX_REGIONS)
			.map(|bounds| {
				let (left, top, right, bottom) = bounds;
				let mut crop =
					image::imageops::crop_imm(image, left, top, right - left, bottom - top)
						.to_image();
				if self.is_upside_down(&crop)? {
					crop = image::imageops::rotate180(&crop);
				}
				let (text, confidence) = self.recognise(&crop)?;
				Ok(TextLine { text, bounds, confidence })
			})
			.filter(|line| line.as_ref().map_or(true, |l| !l.text.trim().is_empty()))
			.collect()
	}

	fn detect(&self, image: &RgbImage) -> Result<Vec<(u32, u32, u32, u32)>> {
		let (w, h) = image.dimensions();
		let scale = (DET_MAX_SIDE as f32 / w.max(h) as f32).min(1.0);
		let round = |v: u32| (((v as f32 * scale) / 32.0).round() as u32).max(1) * 32;
		let (dw, dh) = (round(w), round(h));
		let resized = image::imageops::resize(image, dw, dh, FilterType::Triangle);
		let plane = (dw * dh) as usize;
		let (mean, std) = ([0.485f32, 0.456, 0.406], [0.229f32, 0.224, 0.225]);
		let mut values = vec![0f32; 3 * plane];
		for (i, p) in resized.pixels().enumerate() {
			// BGR order, as PaddleOCR reads images with OpenCV.
			for (c, channel) in [2usize, 1, 0].into_iter().enumerate() {
				values[c * plane + i] = (f32::from(p[channel]) / 255.0 - mean[c]) / std[c];
			}
		}
		let input = Tensor::from_f32(self.det.inputs()[0].name(), vec![1, 3, dh, dw], &values)?;
		let map = self
			.det
			.run(&[input])?
			.first()
			.and_then(Tensor::to_f32)
			.filter(|m| m.len() == plane)
			.ok_or_else(|| Error::Pipeline("unexpected detector output".into()))?;
		let (sx, sy) = (w as f32 / dw as f32, h as f32 / dh as f32);
		Ok(regions(&map, dw as usize, dh as usize)
			.into_iter()
			.filter(|r| r.score >= BOX_THRESHOLD && r.width() >= 3 && r.height() >= 3)
			.map(|r| {
				let (rw, rh) = (r.width() as f32, r.height() as f32);
				let grow = rw * rh * UNCLIP_RATIO / (2.0 * (rw + rh));
				let clamp = |v: f32, max: u32| (v.max(0.0) as u32).min(max);
				(
					clamp((r.left as f32 - grow) * sx, w - 1),
					clamp((r.top as f32 - grow) * sy, h - 1),
					clamp((r.right as f32 + 1.0 + grow) * sx, w),
					clamp((r.bottom as f32 + 1.0 + grow) * sy, h),
				)
			})
			.filter(|(l, t, r, b)| r > l && b > t)
			.collect())
	}

	/// Normalised ±1 crop at height 48, its width padded to `width`.
	fn rec_tensor(crop: &RgbImage, name: &str, width: u32, max: u32) -> Result<Tensor> {
		let (w, h) = crop.dimensions();
		let target = ((REC_HEIGHT as f32 * w as f32 / h.max(1) as f32).ceil() as u32).clamp(1, max);
		let resized = image::imageops::resize(crop, target, REC_HEIGHT, FilterType::Triangle);
		let plane = (width * REC_HEIGHT) as usize;
		let mut values = vec![0f32; 3 * plane];
		for (x, y, p) in resized.enumerate_pixels() {
			for (c, channel) in [2usize, 1, 0].into_iter().enumerate() {
				values[c * plane + (y * width + x) as usize] = f32::from(p[channel]) / 127.5 - 1.0;
			}
		}
		Ok(Tensor::from_f32(name, vec![1, 3, REC_HEIGHT, width], &values)?)
	}

	fn is_upside_down(&self, crop: &RgbImage) -> Result<bool> {
		let Some(cls) = &self.cls else { return Ok(false) };
		let input = Self::rec_tensor(crop, cls.inputs()[0].name(), 192, 192)?;
		let scores = cls.run(&[input])?.first().and_then(Tensor::to_f32).unwrap_or_default();
		Ok(scores.len() == 2 && scores[1] > scores[0] && scores[1] > 0.9)
	}

	fn recognise(&self, crop: &RgbImage) -> Result<(String, f32)> {
		let (w, h) = crop.dimensions();
		let wanted = (REC_HEIGHT as f32 * w as f32 / h.max(1) as f32).ceil() as u32;
		let width = wanted.div_ceil(80).clamp(1, REC_MAX_WIDTH / 80) * 80;
		let input = Self::rec_tensor(crop, self.rec.inputs()[0].name(), width, width)?;
		let output = self.rec.run(&[input])?;
		let probabilities = output.first().and_then(|t| Some((t.to_f32()?, t.shape.clone())));
		let Some((probabilities, shape)) = probabilities.filter(|(_, s)| s.len() == 3) else {
			return Err(Error::Pipeline("unexpected recogniser output".into()));
		};
		let classes = shape[2] as usize;
		if classes != self.characters.len() + 1 {
			return Err(Error::Pipeline(format!(
				"the recogniser has {classes} classes for {} characters",
				self.characters.len()
			)));
		}
		Ok(ctc_decode(&probabilities, classes, &self.characters))
	}
}

/// Greedy CTC: the best class per step, repeats collapsed, blanks (class 0) dropped; the
/// confidence is the mean probability of the kept steps.
pub fn ctc_decode(probabilities: &[f32], classes: usize, characters: &[String]) -> (String, f32) {
	let (mut text, mut kept, mut previous) = (String::new(), vec![], 0usize);
	for step in probabilities.chunks_exact(classes) {
		let (best, p) =
			step.iter()
				.enumerate()
				.fold((0, f32::MIN), |acc, (i, &p)| if p > acc.1 { (i, p) } else { acc });
		if best != 0 && best != previous {
			if let Some(c) = characters.get(best - 1) {
				text.push_str(c);
				kept.push(p);
			}
		}
		previous = best;
	}
	let confidence =
		if kept.is_empty() { 0.0 } else { kept.iter().sum::<f32>() / kept.len() as f32 };
	(text, confidence)
}

/// A connected region of the binarised map and its mean probability.
struct Region {
	left: usize,
	top: usize,
	right: usize,
	bottom: usize,
	score: f32,
}

impl Region {
	fn width(&self) -> usize {
		self.right - self.left + 1
	}
	fn height(&self) -> usize {
		self.bottom - self.top + 1
	}
}

/// 8-connected regions of `map > 0.3`, iteratively (no recursion on big regions).
fn regions(map: &[f32], width: usize, height: usize) -> Vec<Region> {
	let mut seen = vec![false; map.len()];
	let mut out = vec![];
	let mut stack = vec![];
	for start in 0..map.len() {
		if seen[start] || map[start] <= BINARY_THRESHOLD {
			continue;
		}
		seen[start] = true;
		stack.push(start);
		let (mut r, mut sum, mut count) = (
			Region { left: usize::MAX, top: usize::MAX, right: 0, bottom: 0, score: 0.0 },
			0f32,
			0,
		);
		while let Some(i) = stack.pop() {
			let (x, y) = (i % width, i / width);
			(r.left, r.right, r.top, r.bottom) =
				(r.left.min(x), r.right.max(x), r.top.min(y), r.bottom.max(y));
			sum += map[i];
			count += 1;
			for dy in [-1isize, 0, 1] {
				for dx in [-1isize, 0, 1] {
					let (nx, ny) = (x as isize + dx, y as isize + dy);
					if nx < 0 || ny < 0 || nx >= width as isize || ny >= height as isize {
						continue;
					}
					let j = ny as usize * width + nx as usize;
					if !seen[j] && map[j] > BINARY_THRESHOLD {
						seen[j] = true;
						stack.push(j);
					}
				}
			}
		}
		r.score = sum / count as f32;
		out.push(r);
	}
	out
}
