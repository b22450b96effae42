//! The cost model: what a request will cost, estimated from the graph before it runs.
//!
//! For a tract model, with the graph's symbols (`batch`, `sequence`…) bound from the request's
//! input shapes:
//! - **FLOPs** = Σ over nodes of `2 × multiply-accumulates + divisions` as tract's operators
//!   report them (matrix products, convolutions, einsums, reductions); a node that reports
//!   neither counts one operation per element it produces (activations, element-wise maths).
//! - **Peak memory** = weight bytes + the peak, over the execution order, of the bytes of
//!   intermediate tensors still alive (a tensor dies after its last consumer; outputs live to
//!   the end). Tract reuses buffers, so this is an upper bound on activations.
//!
//! Candle models are costed from their architecture (see `candle` docs).
//!
//! ## From cost to weight
//! [`Schedule::ref_time_ps`] turns an estimate into `ref_time` (picoseconds on the reference
//! provider machine):
//!
//! ```text
//! ref_time = base + flops × ps_per_flop + peak_memory_bytes × ps_per_byte
//! ```
//!
//! `base` covers request handling and the fixed cost of a run, `ps_per_flop` is the reciprocal
//! of the reference machine's sustained FLOP rate (the bench binary measures it on real models)
//! and `ps_per_byte` charges for touching every byte of weights and activations once. Later
//! issues convert `ref_time` to fees and EVM gas with the runtime's existing weight-to-fee and
//! weight-to-gas rules, so inference is priced in the same unit as everything else.

use crate::onnx::datum_size;
use tract_onnx::prelude::{SymbolValues, TDim, TractResult, TypedModel};

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
	/// `ref_time` in picoseconds, saturating.
	pub fn ref_time_ps(&self, estimate: &Estimate) -> u64 {
		let flops = estimate.flops.saturating_mul(u128::from(self.ps_per_flop));
		let bytes =
			u128::from(estimate.peak_memory_bytes()).saturating_mul(u128::from(self.ps_per_byte));
		u64::try_from(u128::from(self.base_ps).saturating_add(flops).saturating_add(bytes))
			.unwrap_or(u64::MAX)
	}
}

/// A graph's costs as expressions of its symbols, evaluated per request.
#[derive(Clone, Debug, Default)]
pub(crate) struct CostModel {
	/// FLOPs known when the model loads.
	fixed_flops: u128,
	/// FLOPs that depend on symbols, with their multipliers.
	symbolic_flops: Vec<(TDim, u128)>,
	weight_bytes: u64,
	/// Per execution step: the bytes of each tensor it creates, and which earlier tensors die
	/// after it (indices into the created list).
	steps: Vec<Step>,
}

#[derive(Clone, Debug, Default)]
struct Step {
	creates: Vec<TDim>,
	frees: Vec<usize>,
}

impl CostModel {
	pub(crate) fn of(model: &TypedModel) -> TractResult<Self> {
		let mut cost = CostModel::default();
		// The order tract's plan runs (its default, memory-friendly ordering).
		let order = model.eval_order_opt_ram()?;
		// Index in `created` of each (node, slot) tensor, and its last consumer's step.
		let mut tensor_of = std::collections::HashMap::new();
		let mut last_use: Vec<usize> = vec![];
		let outputs = model.output_outlets()?.to_vec();
		let mut created = 0usize;

		for (step_ix, &node_id) in order.iter().enumerate() {
			let node = model.node(node_id);
			let (inputs, _) = model.node_facts(node_id)?;
			let mut step = Step::default();
			for input in &node.inputs {
				if let Some(&ix) = tensor_of.get(input) {
					last_use[ix] = step_ix;
				}
			}
			let mut counted = false;
			for (kind, count) in node.op.cost(&inputs)? {
				use tract_onnx::tract_core::ops::Cost;
				let multiplier = match kind {
					Cost::FMA(_) => 2,
					Cost::Div(_) => 1,
					_ => continue,
				};
				counted = true;
				cost.add_flops(count, multiplier);
			}
			for (slot, output) in node.outputs.iter().enumerate() {
				if let Some(konst) = &output.fact.konst {
					cost.weight_bytes = cost
						.weight_bytes
						.saturating_add(konst.len() as u64 * datum_size(konst.datum_type()));
					continue;
				}
				let elements: TDim = output.fact.shape.iter().product();
				if !counted {
					cost.add_flops(elements.clone(), 1);
				}
				step.creates.push(elements * datum_size(output.fact.datum_type) as i64);
				let outlet = tract_onnx::prelude::OutletId::new(node_id, slot);
				tensor_of.insert(outlet, created);
				last_use.push(if outputs.contains(&outlet) { usize::MAX } else { step_ix });
				created += 1;
			}
			cost.steps.push(step);
		}
		for (ix, &step) in last_use.iter().enumerate() {
			if let Some(step) = cost.steps.get_mut(step) {
				step.frees.push(ix);
			}
		}
		Ok(cost)
	}

	pub(crate) fn weight_bytes(&self) -> u64 {
		self.weight_bytes
	}

	fn add_flops(&mut self, count: TDim, multiplier: u128) {
		match count.as_i64() {
			Some(n) => {
				self.fixed_flops = self
					.fixed_flops
					.saturating_add(u128::try_from(n).unwrap_or(0).saturating_mul(multiplier))
			}
			None => self.symbolic_flops.push((count, multiplier)),
		}
	}

	/// The estimate with the symbols bound; a dimension that stays unknown (data-dependent
	/// shapes) counts as zero.
	pub(crate) fn estimate(&self, symbols: &SymbolValues) -> Estimate {
		let value = |d: &TDim| d.eval(symbols).as_i64().and_then(|n| u64::try_from(n).ok());
		let mut flops = self.fixed_flops;
		for (count, multiplier) in &self.symbolic_flops {
			flops = flops
				.saturating_add(u128::from(value(count).unwrap_or(0)).saturating_mul(*multiplier));
		}
		let mut sizes: Vec<u64> = vec![];
		let (mut live, mut peak) = (0u64, 0u64);
		for step in &self.steps {
			for bytes in &step.creates {
				let bytes = value(bytes).unwrap_or(0);
				sizes.push(bytes);
				live = live.saturating_add(bytes);
			}
			peak = peak.max(live);
			for &ix in &step.frees {
				live = live.saturating_sub(sizes.get(ix).copied().unwrap_or(0));
			}
		}
		Estimate { flops, weight_bytes: self.weight_bytes, peak_activation_bytes: peak }
	}
}
