//! A small deterministic PRNG (splitmix64) and a "normal-ish" sampler.
//!
//! The sampler uses only integer arithmetic and one f32 multiply, so the same seed gives the
//! same bits on every platform (no libm `ln`/`cos` whose last ulp may differ between C
//! libraries), which is what makes the written checkpoints byte-identical across machines.

/// splitmix64: tiny, fast and statistically good enough for test weights.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
	state: u64,
}

impl SplitMix64 {
	pub fn new(seed: u64) -> Self {
		Self { state: seed }
	}

	pub fn next_u64(&mut self) -> u64 {
		self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
		let mut z = self.state;
		z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
		z ^ (z >> 31)
	}

	/// An approximately standard-normal sample: the Irwin–Hall sum of four 16-bit uniforms,
	/// centred and scaled to unit variance. Bounded to about ±3.46, which keeps forward passes
	/// finite while still looking Gaussian to anything that inspects the weights.
	pub fn normal(&mut self) -> f32 {
		let x = self.next_u64();
		let sum = (x & 0xFFFF) + ((x >> 16) & 0xFFFF) + ((x >> 32) & 0xFFFF) + (x >> 48);
		// Mean of the sum is 4 * 65535 / 2; its standard deviation is 65536 / sqrt(3).
		let centred = sum as i64 - 131_070;
		centred as f32 * (1.732_050_8 / 65_536.0)
	}
}

/// FNV-1a, used to give every tensor its own stream derived from (seed, name), so a tensor's
/// values do not depend on which other tensors the plan contains or on their order.
pub fn stream_seed(seed: u64, name: &str) -> u64 {
	let mut h: u64 = 0xCBF2_9CE4_8422_2325;
	for b in name.bytes() {
		h ^= u64::from(b);
		h = h.wrapping_mul(0x0000_0100_0000_01B3);
	}
	SplitMix64::new(seed ^ h).next_u64()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn normal_has_unit_variance_and_zero_mean() {
		let mut rng = SplitMix64::new(7);
		let n = 200_000;
		let (mut s, mut s2) = (0f64, 0f64);
		for _ in 0..n {
			let x = f64::from(rng.normal());
			s += x;
			s2 += x * x;
		}
		let mean = s / n as f64;
		let var = s2 / n as f64 - mean * mean;
		assert!(mean.abs() < 0.01, "mean {mean}");
		assert!((var - 1.0).abs() < 0.02, "variance {var}");
	}

	#[test]
	fn streams_differ_by_name_and_seed() {
		assert_ne!(stream_seed(1, "a"), stream_seed(1, "b"));
		assert_ne!(stream_seed(1, "a"), stream_seed(2, "a"));
		assert_eq!(stream_seed(3, "wte.weight"), stream_seed(3, "wte.weight"));
	}
}
