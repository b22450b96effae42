//! The cost schedule: from what a request needs to what it is charged.
//!
//! The engine estimates a request from the model's graph ([`Estimate`]: FLOPs, weight bytes,
//! peak activation bytes); the [`Schedule`] turns that into `ref_time`, picoseconds on the
//! reference provider machine:
//!
//! ```text
//! ref_time = base + flops × ps_per_flop + peak_memory_bytes × ps_per_byte
//! ```
//!
//! `base` covers request handling and the fixed cost of a run, `ps_per_flop` is the reciprocal
//! of the reference machine's sustained FLOP rate (`citrate-inference`'s bench binary measures
//! it on real models) and `ps_per_byte` charges for touching every byte of weights and
//! activations once. The runtime prices `ref_time` with its weight-to-fee rule, so inference
//! is paid in the same unit as everything else.

/// What one request is estimated to need.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Estimate {
	/// Floating-point (or integer) operations.
	pub flops: u128,
	/// Bytes of weights the model holds in memory.
	pub weight_bytes: u64,
	/// Most bytes of intermediate tensors alive at once.
	pub peak_activation_bytes: u64,
}

impl Estimate {
	/// Weights plus peak activations.
	pub fn peak_memory_bytes(&self) -> u64 {
		self.weight_bytes.saturating_add(self.peak_activation_bytes)
	}
}

/// Prices of the weight formula in the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
	pub base_ps: u64,
	pub ps_per_flop: u64,
	pub ps_per_byte: u64,
}

impl Default for Schedule {
	/// The reference machine: 2 CPU cores sustaining ~20 GFLOP/s on real models (50 ps per
	/// FLOP) and ~10 GB/s of memory traffic (100 ps per byte), with 100 µs per request.
	fn default() -> Self {
		Schedule { base_ps: 100_000_000, ps_per_flop: 50, ps_per_byte: 100 }
	}
}

impl Schedule {
	/// `ref_time` in picoseconds, saturating at `u64::MAX`.
	pub fn ref_time_ps(&self, estimate: &Estimate) -> u64 {
		let flops = estimate.flops.saturating_mul(u128::from(self.ps_per_flop));
		let bytes =
			u128::from(estimate.peak_memory_bytes()).saturating_mul(u128::from(self.ps_per_byte));
		u64::try_from(u128::from(self.base_ps).saturating_add(flops).saturating_add(bytes))
			.unwrap_or(u64::MAX)
	}
}
