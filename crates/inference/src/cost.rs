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
//! The schedule that turns an [`Estimate`] into `ref_time` is part of the chain↔engine
//! contract (`citrate_inference_primitives::cost`), so the runtime prices a request with the
//! same formula: `ref_time = base + flops × ps_per_flop + peak_memory_bytes × ps_per_byte`.

use crate::onnx::datum_size;
pub use citrate_inference_primitives::cost::{Estimate, Schedule};
use std::cell::RefCell;
use tract_onnx::prelude::{SymbolValues, TDim, TractResult, TypedModel};

thread_local! {
	/// What the runs on this thread have been charged since [`metered`] began, if it did.
	static METER: RefCell<Option<Estimate>> = const { RefCell::new(None) };
}

/// Runs `f` and returns what every model run inside it was estimated to need, as each run
/// checked it against its limits: FLOPs summed, weights and peak activations the largest of
/// any one run. A pipeline that runs several models (OCR's detector and recogniser, Whisper's
/// encoder and each decoder step) is costed as a whole; what a model would cost for a
/// reference request (the importer's metadata) is measured this way.
pub fn metered<T>(f: impl FnOnce() -> T) -> (T, Estimate) {
	let outer = METER.with(|meter| meter.borrow_mut().replace(Estimate::default()));
	let result = f();
	let spent = METER.with(|meter| {
		let mut meter = meter.borrow_mut();
		let spent = meter.take().unwrap_or_default();
		// A metered call inside another counts toward the outer one too.
		*meter = outer.map(|outer| add(outer, spent));
		spent
	});
	(result, spent)
}

/// Records a run's estimate for [`metered`] (nothing when no meter runs).
pub(crate) fn charge(estimate: Estimate) {
	METER.with(|meter| {
		if let Some(spent) = meter.borrow_mut().as_mut() {
			*spent = add(*spent, estimate);
		}
	});
}

fn add(a: Estimate, b: Estimate) -> Estimate {
	Estimate {
		flops: a.flops.saturating_add(b.flops),
		weight_bytes: a.weight_bytes.max(b.weight_bytes),
		peak_activation_bytes: a.peak_activation_bytes.max(b.peak_activation_bytes),
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
