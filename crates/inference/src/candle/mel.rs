//! Whisper's mel filter bank, computed rather than shipped: librosa's
//! `filters.mel(sr=16000, n_fft=400, n_mels=80)` (Slaney mel scale, Slaney area
//! normalisation), which is what OpenAI's `mel_filters.npz` holds.

/// Mel value of a frequency on the Slaney scale: linear below 1 kHz, logarithmic above.
fn hz_to_mel(hz: f64) -> f64 {
	let (f_sp, min_log_hz) = (200.0 / 3.0, 1000.0);
	let min_log_mel = min_log_hz / f_sp;
	let log_step = 6.4f64.ln() / 27.0;
	if hz >= min_log_hz {
		min_log_mel + (hz / min_log_hz).ln() / log_step
	} else {
		hz / f_sp
	}
}

fn mel_to_hz(mel: f64) -> f64 {
	let (f_sp, min_log_hz) = (200.0 / 3.0, 1000.0);
	let min_log_mel = min_log_hz / f_sp;
	let log_step = 6.4f64.ln() / 27.0;
	if mel >= min_log_mel {
		min_log_hz * (log_step * (mel - min_log_mel)).exp()
	} else {
		f_sp * mel
	}
}

/// `n_mels × (n_fft / 2 + 1)` triangular filters, row-major, as f32.
pub fn mel_filters(sample_rate: usize, n_fft: usize, n_mels: usize) -> Vec<f32> {
	let bins = n_fft / 2 + 1;
	let nyquist = sample_rate as f64 / 2.0;
	let fft_freqs: Vec<f64> = (0..bins).map(|i| i as f64 * nyquist / (bins - 1) as f64).collect();
	let (min_mel, max_mel) = (hz_to_mel(0.0), hz_to_mel(nyquist));
	let mel_freqs: Vec<f64> = (0..n_mels + 2)
		.map(|i| mel_to_hz(min_mel + (max_mel - min_mel) * i as f64 / (n_mels + 1) as f64))
		.collect();
	let mut filters = vec![0f32; n_mels * bins];
	for m in 0..n_mels {
		let (lower_edge, center, upper_edge) = (mel_freqs[m], mel_freqs[m + 1], mel_freqs[m + 2]);
		let norm = 2.0 / (upper_edge - lower_edge);
		for (k, &f) in fft_freqs.iter().enumerate() {
			let lower = (f - lower_edge) / (center - lower_edge);
			let upper = (upper_edge - f) / (upper_edge - center);
			filters[m * bins + k] = (lower.min(upper).max(0.0) * norm) as f32;
		}
	}
	filters
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn matches_librosa_reference_values() {
		let filters = mel_filters(16_000, 400, 80);
		assert_eq!(filters.len(), 80 * 201);
		// Reference points from librosa.filters.mel(sr=16000, n_fft=400, n_mels=80).
		let at = |m: usize, k: usize| filters[m * 201 + k];
		for (m, k, expected) in [
			(0, 1, 0.024_862_595),
			(1, 2, 0.022_871_772),
			(40, 43, 0.014_735_566),
			(79, 192, 0.003_164_711_9),
			(79, 200, 0.0),
		] {
			assert!((at(m, k) - expected).abs() < 1e-7, "[{m}, {k}] = {}", at(m, k));
		}
		// Every filter is a non-negative triangle with some weight.
		for m in 0..80 {
			let row = &filters[m * 201..(m + 1) * 201];
			assert!(row.iter().all(|&w| w >= 0.0) && row.iter().any(|&w| w > 0.0), "filter {m}");
		}
	}
}
