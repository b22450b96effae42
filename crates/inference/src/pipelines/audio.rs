//! Audio input: WAV decoding and resampling to the 16 kHz mono the speech models take.

use crate::{Error, Result};

/// Largest WAV file accepted (about 12 minutes of 16-bit 44.1 kHz stereo).
pub const MAX_WAV_BYTES: usize = 128 << 20;

/// Samples (-1..1, channels averaged to mono) and the sample rate of a PCM WAV file
/// (8/16/24/32-bit integer or 32-bit float).
pub fn decode_wav(bytes: &[u8]) -> Result<(Vec<f32>, u32)> {
	let bad = |why: &str| Error::Pipeline(format!("not a usable WAV file: {why}"));
	if bytes.len() > MAX_WAV_BYTES {
		return Err(bad("over the size limit"));
	}
	if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
		return Err(bad("no RIFF/WAVE header"));
	}
	let (mut format, mut data) = (None, None);
	let mut pos = 12;
	while pos + 8 <= bytes.len() {
		let id = &bytes[pos..pos + 4];
		let len =
			u32::from_le_bytes([bytes[pos + 4], bytes[pos + 5], bytes[pos + 6], bytes[pos + 7]])
				as usize;
		let body =
			bytes.get(pos + 8..(pos + 8).saturating_add(len).min(bytes.len())).unwrap_or(&[]);
		match id {
			b"fmt " if body.len() >= 16 => format = Some(body),
			b"data" => data = Some(body),
			_ => {}
		}
		pos = pos.saturating_add(8).saturating_add(len).saturating_add(len & 1);
	}
	let format = format.ok_or_else(|| bad("no fmt chunk"))?;
	let data = data.ok_or_else(|| bad("no data chunk"))?;
	let u16_at = |i: usize| u16::from_le_bytes([format[i], format[i + 1]]);
	let (tag, channels, bits) = (u16_at(0), usize::from(u16_at(2)), u16_at(14));
	let rate = u32::from_le_bytes([format[4], format[5], format[6], format[7]]);
	if channels == 0 || channels > 8 || !(1_000..=384_000).contains(&rate) {
		return Err(bad("implausible channels or sample rate"));
	}
	// 0xFFFE (extensible) keeps the sub-format's meaning; its bit depth tells int from float
	// for the depths used in practice.
	let float = tag == 3 || (tag == 0xFFFE && bits == 32 && format.len() >= 26 && format[24] == 3);
	let width = usize::from(bits / 8);
	let sample = |b: &[u8]| -> f32 {
		match (float, bits) {
			(true, 32) => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
			(false, 8) => (f32::from(b[0]) - 128.0) / 128.0,
			(false, 16) => f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0,
			(false, 24) => (i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8) as f32 / 8_388_608.0,
			_ => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32 / 2_147_483_648.0,
		}
	};
	if !(tag == 1 || tag == 3 || tag == 0xFFFE)
		|| !matches!(bits, 8 | 16 | 24 | 32)
		|| (float && bits != 32)
	{
		return Err(bad("only PCM integer or 32-bit float samples"));
	}
	let frame = width * channels;
	let samples = data
		.chunks_exact(frame)
		.map(|f| f.chunks_exact(width).map(sample).sum::<f32>() / channels as f32)
		.collect();
	Ok((samples, rate))
}

/// `samples` at `from` Hz resampled to `to` Hz by linear interpolation, after a moving-average
/// low-pass when downsampling (enough for speech models, which look at mel bands up to 8 kHz).
pub fn resample(samples: &[f32], from: u32, to: u32) -> Vec<f32> {
	if from == to || samples.is_empty() {
		return samples.to_vec();
	}
	let ratio = f64::from(from) / f64::from(to);
	let smoothed: Vec<f32> = if ratio > 1.0 {
		let half = (ratio / 2.0).floor() as usize;
		let mut prefix = vec![0f64; samples.len() + 1];
		for (i, &s) in samples.iter().enumerate() {
			prefix[i + 1] = prefix[i] + f64::from(s);
		}
		(0..samples.len())
			.map(|i| {
				let (lo, hi) = (i.saturating_sub(half), (i + half + 1).min(samples.len()));
				((prefix[hi] - prefix[lo]) / (hi - lo) as f64) as f32
			})
			.collect()
	} else {
		samples.to_vec()
	};
	let count = (samples.len() as f64 / ratio).floor() as usize;
	(0..count)
		.map(|i| {
			let x = i as f64 * ratio;
			let j = x.floor() as usize;
			let frac = (x - j as f64) as f32;
			let a = smoothed[j.min(smoothed.len() - 1)];
			let b = smoothed[(j + 1).min(smoothed.len() - 1)];
			a + (b - a) * frac
		})
		.collect()
}
