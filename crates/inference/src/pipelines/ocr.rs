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
//! so the recogniser needs at most four shape plans), normalised to ±1; a wider line is read in
//! pieces cut at the gaps between words. Each line comes with its box and the recogniser's
//! confidence (the mean probability of its characters).

use super::{image::decode, Output, TextLine};
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
			Error::InvalidModel(
				"rec.onnx: the recogniser has no `character` entry (its character list, one per \
				 line) in its ONNX metadata_props, where PP-OCR exports keep it"
					.into(),
			)
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

	/// The lines of an encoded image, top to bottom, each with its box and confidence.
	pub fn read(&self, image: &[u8]) -> Result<Output> {
		Ok(Output::Lines(self.lines(&decode(image)?)?))
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

	/// A line's text and confidence. A line wider than the recogniser takes (320 × 48) is read
	/// in pieces cut at the gaps between words ([`split_at_gaps`]), not squashed, and the
	/// pieces joined with a space where the gap was a word's; the confidence is the pieces'
	/// mean weighted by their characters.
	fn recognise(&self, crop: &RgbImage) -> Result<(String, f32)> {
		let h = crop.height();
		let max_width = (REC_MAX_WIDTH as f32 * h.max(1) as f32 / REC_HEIGHT as f32) as u32;
		let (mut text, mut weighted, mut characters) = (String::new(), 0f32, 0usize);
		for piece in split_at_gaps(crop, max_width.max(1)) {
			let image = image::imageops::crop_imm(crop, piece.start, 0, piece.end - piece.start, h);
			let (piece_text, confidence) = self.recognise_piece(&image.to_image())?;
			let piece_text = piece_text.trim();
			if piece_text.is_empty() {
				continue;
			}
			if !text.is_empty() && piece.after_word_gap {
				text.push(' ');
			}
			text.push_str(piece_text);
			let count = piece_text.chars().count();
			weighted += confidence * count as f32;
			characters += count;
		}
		Ok((text, if characters == 0 { 0.0 } else { weighted / characters as f32 }))
	}

	fn recognise_piece(&self, crop: &RgbImage) -> Result<(String, f32)> {
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

/// Columns `start..end` of a line crop, and whether the cut before it fell in a gap as wide as
/// the space between words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
	pub start: u32,
	pub end: u32,
	pub after_word_gap: bool,
}

/// Cuts a line crop into pieces at most `max_width` columns wide. Each cut is made in the second
/// half of the allowed width, in the middle of the longest run of the columns with the least
/// ink (pixels far from the crop's median grey): a gap between words or letters where there
/// is one, the palest column where there is none.
pub fn split_at_gaps(crop: &RgbImage, max_width: u32) -> Vec<Piece> {
	let (width, height) = crop.dimensions();
	let grey = |p: &image::Rgb<u8>| {
		(u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000
	};
	let mut levels: Vec<u32> = crop.pixels().map(grey).collect();
	let background = match levels.len() {
		0 => return vec![],
		n => *levels.select_nth_unstable(n / 2).1,
	};
	let ink: Vec<u32> = (0..width)
		.map(|x| {
			(0..height).filter(|&y| grey(crop.get_pixel(x, y)).abs_diff(background) > 48).count()
				as u32
		})
		.collect();
	let word_gap = (height / 4).max(2);
	let (mut pieces, mut start, mut after_word_gap) = (vec![], 0u32, false);
	while width - start > max_width {
		let window = (start + max_width / 2).max(start + 1)..start + max_width;
		let least = window.clone().map(|x| ink[x as usize]).min().unwrap_or(0);
		// The longest run of least-ink columns in the window.
		let (mut best, mut run_start) = ((window.start, 0u32), None);
		for x in window.clone().chain([window.end]) {
			let quiet = x < window.end && ink[x as usize] == least;
			match (quiet, run_start) {
				(true, None) => run_start = Some(x),
				(false, Some(first)) => {
					if x - first > best.1 {
						best = (first, x - first);
					}
					run_start = None;
				}
				_ => {}
			}
		}
		let cut = best.0 + best.1 / 2;
		pieces.push(Piece { start, end: cut, after_word_gap });
		after_word_gap = least == 0 && best.1 >= word_gap;
		start = cut;
	}
	pieces.push(Piece { start, end: width, after_word_gap });
	pieces
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
