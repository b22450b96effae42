//! Constant folding of an optimised graph, whatever the size of the folded constants.

use crate::{error::chain, Error, Limits, Result};
use tract_onnx::prelude::{IntoArcTensor, IntoTValue, OutletId, TractError, TypedModel};

/// Folds every node whose inputs are all constants into a constant, whatever its size. Tract
/// folds only results not much larger than their inputs, so int8 weights dequantised to f32
/// (MiniLM's 30522 × 384 word embeddings) would otherwise be recomputed on every run: folding
/// trades that memory for latency.
pub(super) fn fold_constants(mut model: TypedModel, limits: &Limits) -> Result<TypedModel> {
	use tract_onnx::tract_core::ops::{konst::Const, source::TypedSource};
	let err = |e: TractError| Error::Unsupported(format!("folding constants: {}", chain(&e)));
	// Nodes before `start` were tried already; patches append, so ids stay put until compaction.
	let mut start = 0;
	loop {
		let mut patch = None;
		for node in &model.nodes()[start..] {
			start = node.id + 1;
			if node.inputs.is_empty() || node.op_is::<Const>() || node.op_is::<TypedSource>() {
				continue;
			}
			let facts = model.node_input_facts(node.id).map_err(err)?;
			let Some(inputs) = facts
				.iter()
				.map(|f| f.konst.clone().map(|k| k.into_tvalue()))
				.collect::<Option<tract_onnx::prelude::TVec<_>>>()
			else {
				continue;
			};
			let Ok(Some(outputs)) = node.op.eval_out_of_plan(inputs) else { continue };
			if outputs.iter().any(|t| t.len() as u64 > limits.max_model_tensor_elements) {
				continue;
			}
			let mut folded = tract_onnx::prelude::TypedModelPatch::default();
			for (slot, value) in outputs.into_iter().enumerate() {
				// Keep the output's exotic fact (a matrix product's packed weights), as tract's
				// own folding does: without it the packed constant no longer fits its consumer.
				let outlet = OutletId::new(node.id, slot);
				let exotic = model.outlet_fact(outlet).map_err(err)?.exotic_fact.clone();
				let konst = Const::new_with_opt_exotic_fact(value.into_arc_tensor(), exotic)
					.map_err(err)?;
				let wire = folded
					.wire_node(format!("{}.folded{slot}", node.name), konst, &[])
					.map_err(err)?[0];
				folded.shunt_outside(&model, outlet, wire).map_err(err)?;
			}
			patch = Some(folded);
			break;
		}
		match patch {
			Some(patch) => patch.apply(&mut model).map_err(err)?,
			None => break,
		}
	}
	model.into_compact().map_err(err)
}
