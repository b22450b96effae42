//! OCR with the real PP-OCRv4 models: rendered lines read back with their boxes and
//! confidences, and a line far wider than the recogniser's input read in pieces cut at the
//! gaps between words, as well as the short lines it is made of.

mod common;

use citrate_inference::{
	onnx::{LoadOptions, OnnxModel},
	pipelines::{
		ocr::{split_at_gaps, Ocr, Piece},
		Output, TextLine,
	},
};
use common::read_model;
use image::{Rgb, RgbImage};

fn ocr() -> Ocr {
	let load = |file: &str| OnnxModel::load(&read_model(file), &LoadOptions::default()).unwrap();
	Ocr::new(load("pp-ocrv4/det.onnx"), load("pp-ocrv4/rec.onnx"), Some(load("pp-ocrv4/cls.onnx")))
		.unwrap()
}

fn rendered_text() -> Vec<u8> {
	std::fs::read(
		std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/assets/ocr-text.png"),
	)
	.unwrap()
}

/// The Chinese-English recogniser sometimes drops the spaces between English words.
fn squash(text: &str) -> String {
	text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase()
}

#[test]
fn rendered_lines_come_with_boxes_and_confidences() {
	let Output::Lines(lines) = ocr().read(&rendered_text()).unwrap() else { panic!("lines") };
	println!("OCR: {lines:?}");
	let texts: Vec<String> = lines.iter().map(|l| squash(&l.text)).collect();
	assert_eq!(texts, [squash("Citrate runs models"), squash("on chain 2026")]);
	for TextLine { bounds: (left, top, right, bottom), confidence, .. } in &lines {
		assert!(left < right && top < bottom && *right <= 520 && *bottom <= 150, "{lines:?}");
		assert!((0.8..=1.0).contains(confidence), "{lines:?}");
	}
	assert!(lines[0].bounds.3 <= lines[1].bounds.1, "top to bottom: {lines:?}");
	let tensors = Output::Lines(lines).to_tensors().unwrap();
	let names: Vec<&str> = tensors.iter().map(|t| t.name.as_str()).collect();
	assert_eq!(names, ["text", "line_confidences", "line_boxes"]);
	assert_eq!(tensors[2].shape, [2, 4]);
}

#[test]
fn a_line_wider_than_the_recogniser_reads_as_well_as_its_parts() {
	let ocr = ocr();
	let page = image::load_from_memory(&rendered_text()).unwrap().to_rgb8();
	let lines = ocr.lines(&page).unwrap();
	let crop = |line: &TextLine| {
		let (left, top, right, bottom) = line.bounds;
		image::imageops::crop_imm(&page, left, top, right - left, bottom - top).to_image()
	};
	// "Citrate runs models on chain 2026 Citrate runs models": about 900 × 45 pixels, which
	// squashed into the recogniser's 320 × 48 would read as noise.
	let parts = [crop(&lines[0]), crop(&lines[1]), crop(&lines[0])];
	let gap = 16;
	let width = parts.iter().map(|p| p.width() + gap).sum::<u32>() + 2 * gap;
	let height = parts.iter().map(RgbImage::height).max().unwrap() + 2 * gap;
	let mut long = RgbImage::from_pixel(width, height, Rgb([255, 255, 255]));
	let mut x = gap;
	for part in &parts {
		image::imageops::replace(&mut long, part, i64::from(x), i64::from(gap));
		x += part.width() + gap;
	}
	let read = ocr.lines(&long).unwrap();
	println!("long line: {read:?}");
	assert_eq!(read.len(), 1, "{read:?}");
	let expected = [&lines[0], &lines[1], &lines[0]].map(|l| squash(&l.text)).concat();
	assert_eq!(squash(&read[0].text), expected);
	assert!(read[0].confidence > 0.8, "{read:?}");
}

#[test]
fn lines_are_cut_in_the_widest_gap_of_each_window() {
	// Words of ink 10 columns wide, 1-column gaps inside them and 6-column gaps between them.
	let ink = |x: u32| {
		let (word, column) = (x / 16, x % 16);
		word < 6 && column < 10 && column % 4 != 3
	};
	let image = RgbImage::from_fn(96, 12, |x, y| {
		if ink(x) && (2..10).contains(&y) {
			Rgb([0, 0, 0])
		} else {
			Rgb([250, 250, 250])
		}
	});
	let pieces = split_at_gaps(&image, 40);
	// Each cut is in the middle of the longest gap in the second half of its window: columns
	// 26–31 → 29, then 58–63 → 61; a 1-column gap inside a word is passed over.
	assert_eq!(
		pieces,
		[
			Piece { start: 0, end: 29, after_word_gap: false },
			Piece { start: 29, end: 61, after_word_gap: true },
			Piece { start: 61, end: 96, after_word_gap: true },
		]
	);
	assert!(pieces.iter().all(|p| p.end - p.start <= 40));
	assert_eq!(split_at_gaps(&image, 200), [Piece { start: 0, end: 96, after_word_gap: false }]);
}
