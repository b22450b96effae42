//! Where the real models are: `scripts/fetch-models.py` puts them in `$CITRATE_MODELS_DIR`
//! (default `~/.cache/citrate/models`).
#![allow(dead_code)]

pub mod fixture;

use std::path::PathBuf;

pub fn models_dir() -> PathBuf {
	std::env::var_os("CITRATE_MODELS_DIR").map(PathBuf::from).unwrap_or_else(|| {
		PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/citrate/models")
	})
}

/// A model file's path; fails with the command that fetches it when it is missing.
pub fn model(relative: &str) -> PathBuf {
	let path = models_dir().join(relative);
	assert!(
		path.is_file(),
		"{} is missing: run `scripts/fetch-models.py` (the test script does)",
		path.display()
	);
	path
}

pub fn read_model(relative: &str) -> Vec<u8> {
	std::fs::read(model(relative)).expect("model file readable")
}

/// A Whisper checkpoint (converted safetensors, and the tokenizer beside its CTranslate2
/// original) on the CPU with the default limits.
#[cfg(feature = "candle")]
pub fn whisper(weights: &str, tokenizer: &str) -> citrate_inference::candle::whisper::WhisperModel {
	citrate_inference::candle::whisper::WhisperModel::load(
		&read_model(weights),
		&read_model(tokenizer),
		&citrate_inference::candle::device(true).unwrap(),
		&citrate_inference::Limits::default(),
	)
	.unwrap()
}

/// The directory of committed golden outputs.
pub fn goldens_dir() -> PathBuf {
	PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
		.join("tests/goldens")
}

/// `count` values k/255 (f32), k the top byte of a 32-bit LCG; `scripts/goldens.py` makes the
/// same values, bit for bit.
pub fn lcg_values(count: usize, seed: u32) -> Vec<f32> {
	let mut x = seed;
	(0..count)
		.map(|_| {
			x = x.wrapping_mul(1664525).wrapping_add(1013904223);
			(x >> 24) as f32 / 255.0
		})
		.collect()
}

/// An f32 tensor of LCG values.
pub fn lcg_tensor(name: &str, shape: &[u32], seed: u32) -> citrate_inference::codec::Tensor {
	let count = shape.iter().product::<u32>() as usize;
	citrate_inference::codec::Tensor::from_f32(name, shape.to_vec(), &lcg_values(count, seed))
		.expect("valid tensor")
}

/// The tensors of a committed golden file.
pub fn golden(name: &str) -> Vec<citrate_inference::codec::Tensor> {
	let bytes = std::fs::read(goldens_dir().join(format!("{name}.cten"))).expect("golden file");
	citrate_inference::codec::decode(&bytes).expect("golden decodes")
}

pub fn tensor<'a>(
	tensors: &'a [citrate_inference::codec::Tensor],
	name: &str,
) -> &'a citrate_inference::codec::Tensor {
	tensors.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("no tensor `{name}`"))
}

/// Largest absolute difference between two f32 tensors of the same shape.
pub fn max_abs_diff(
	actual: &citrate_inference::codec::Tensor,
	expected: &citrate_inference::codec::Tensor,
) -> f32 {
	assert_eq!(actual.shape, expected.shape, "shape of `{}`", actual.name);
	let (a, e) = (actual.to_f32().expect("f32"), expected.to_f32().expect("f32"));
	a.iter().zip(&e).map(|(a, e)| (a - e).abs()).fold(0.0, f32::max)
}

/// `text` spoken by espeak-ng (Debian package `espeak-ng`), as 16 kHz mono samples.
pub fn speak(text: &str) -> Vec<f32> {
	speak_in("en", text)
}

/// `text` spoken by espeak-ng's `voice` (a language code: `en`, `fr`, `de`…), as 16 kHz samples.
pub fn speak_in(voice: &str, text: &str) -> Vec<f32> {
	let output = std::process::Command::new("espeak-ng")
		.args(["--stdout", "-s", "150", "-v", voice, text])
		.output()
		.expect("espeak-ng runs (scripts/test.sh installs it)");
	assert!(output.status.success(), "espeak-ng failed");
	let (samples, rate) =
		citrate_inference::pipelines::audio::decode_wav(&output.stdout).expect("espeak-ng WAV");
	citrate_inference::pipelines::audio::resample(&samples, rate, 16_000)
}

/// Lowercase words without punctuation.
pub fn words(text: &str) -> Vec<String> {
	text.split_whitespace()
		.map(|w| w.chars().filter(|c| c.is_alphanumeric()).collect::<String>().to_lowercase())
		.filter(|w| !w.is_empty())
		.collect()
}
