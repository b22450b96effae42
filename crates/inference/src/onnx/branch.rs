//! ONNX `If` decided by what is known at load. PyTorch exports branch on a dim being 1
//! before a `Squeeze` (`Shape → Gather → Equal → If`), and Silero on its sample rate input;
//! once the input shapes (per-shape plans) or the sample rate (`LoadOptions::constant_inputs`)
//! are fixed, the condition is a constant. tract's own `If` analyses and types both branches,
//! and refuses branches whose outputs differ in shape — which is what those branches are — so
//! this one, registered in its place, analyses and types only the branch taken when the
//! condition is known, inlining it, and does what tract's does when it is not.

use std::collections::{BTreeSet, HashMap};
use tract_onnx::{
	model::{ParseResult, ParsingContext},
	pb::NodeProto,
	tract_core::ops::logic::IfThenElse,
	tract_hir::internal::*,
	Onnx,
};

/// Registers this `If` in place of tract's.
pub(super) fn register(onnx: &mut Onnx) {
	onnx.op_register.insert("If", parse);
}

fn parse(
	ctx: &ParsingContext,
	node: &NodeProto,
) -> TractResult<(Box<dyn InferenceOp>, Vec<String>)> {
	let ParseResult { model: then_body, unresolved_inputs: then_outer, .. } =
		ctx.parse_graph(node.get_attr("then_branch")?)?;
	let ParseResult { model: else_body, unresolved_inputs: else_outer, .. } =
		ctx.parse_graph(node.get_attr("else_branch")?)?;
	// The node's inputs: the condition, then every outer-scope tensor either branch reads.
	let outer: Vec<String> = then_outer
		.iter()
		.chain(&else_outer)
		.cloned()
		.collect::<BTreeSet<_>>()
		.into_iter()
		.collect();
	let mapping = |names: &[String]| -> Vec<usize> {
		names
			.iter()
			.filter_map(|name| outer.iter().position(|o| o == name))
			.map(|ix| ix + 1)
			.collect()
	};
	let op = KnownIf {
		then_inputs: mapping(&then_outer),
		else_inputs: mapping(&else_outer),
		then_body,
		else_body,
	};
	Ok((Box::new(op), outer))
}

#[derive(Debug, Clone)]
struct KnownIf {
	then_body: InferenceModel,
	/// Node input feeding each of the branch's inputs.
	then_inputs: Vec<usize>,
	else_body: InferenceModel,
	else_inputs: Vec<usize>,
}

impl KnownIf {
	fn branch(&self, condition: bool) -> (&InferenceModel, &[usize]) {
		if condition {
			(&self.then_body, &self.then_inputs)
		} else {
			(&self.else_body, &self.else_inputs)
		}
	}
}

impl PartialEq for KnownIf {
	fn eq(&self, _: &Self) -> bool {
		false
	}
}
impl Eq for KnownIf {}

impl Op for KnownIf {
	fn name(&self) -> StaticName {
		"If".into()
	}

	not_a_typed_op!();
}

impl EvalOp for KnownIf {
	op_out_of_plan!();

	fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
		let (body, mapping) = self.branch(inputs[0].cast_to_scalar::<bool>()?);
		let inputs: TVec<TValue> = mapping.iter().map(|&ix| inputs[ix].clone()).collect();
		body.clone().into_runnable()?.run(inputs)
	}
}

fn unify_branch(
	body: &mut InferenceModel,
	mapping: &[usize],
	inputs: &mut [InferenceFact],
	outputs: &mut [InferenceFact],
) -> TractResult<bool> {
	let mut changed = false;
	for (body_ix, &outer_ix) in mapping.iter().enumerate() {
		changed |= body.input_fact_mut(body_ix)?.unify_with_mut(&mut inputs[outer_ix])?;
	}
	for (ix, output) in outputs.iter_mut().enumerate() {
		changed |= body.output_fact_mut(ix)?.unify_with_mut(output)?;
	}
	Ok(changed)
}

impl InferenceOp for KnownIf {
	fn infer_facts(
		&mut self,
		inputs: TVec<&InferenceFact>,
		outputs: TVec<&InferenceFact>,
		observed: TVec<&InferenceFact>,
	) -> TractResult<(TVec<InferenceFact>, TVec<InferenceFact>, TVec<InferenceFact>)> {
		let mut inputs: TVec<InferenceFact> = inputs.into_iter().cloned().collect();
		let mut outputs: TVec<InferenceFact> = outputs.into_iter().cloned().collect();
		inputs[0].datum_type.unify_with(&bool::datum_type().into())?;
		let condition =
			inputs[0].value.concretize().map(|c| c.cast_to_scalar::<bool>()).transpose()?;
		loop {
			let changed = match condition {
				// Only the branch taken: the other may not even type for these shapes.
				Some(condition) => {
					let (body, mapping) = if condition {
						(&mut self.then_body, &self.then_inputs)
					} else {
						(&mut self.else_body, &self.else_inputs)
					};
					unify_branch(body, mapping, &mut inputs, &mut outputs)? | body.analyse(false)?
				}
				// tract's rule: both branches, their outputs alike.
				None => {
					let mut changed = false;
					for (body, mapping) in [
						(&mut self.then_body, &self.then_inputs),
						(&mut self.else_body, &self.else_inputs),
					] {
						for (body_ix, &outer_ix) in mapping.iter().enumerate() {
							changed |= body
								.input_fact_mut(body_ix)?
								.unify_with_mut(&mut inputs[outer_ix])?;
						}
						for (ix, output) in outputs.iter_mut().enumerate() {
							let fact = body.output_fact_mut(ix)?;
							changed |= fact.shape.unify_with_mut(&mut output.shape)?;
							changed |= fact.datum_type.unify_with_mut(&mut output.datum_type)?;
						}
						changed |= body.analyse(false)?;
					}
					changed
				}
			};
			if !changed {
				return Ok((inputs, outputs, observed.into_iter().cloned().collect()));
			}
		}
	}

	fn nboutputs(&self) -> TractResult<usize> {
		ensure!(
			self.then_body.outputs.len() == self.else_body.outputs.len(),
			"If: the branches have different numbers of outputs"
		);
		Ok(self.then_body.outputs.len())
	}

	fn to_typed(
		&self,
		source: &InferenceModel,
		node: &InferenceNode,
		target: &mut TypedModel,
		mapping: &HashMap<OutletId, OutletId>,
	) -> TractResult<TVec<OutletId>> {
		let inputs: TVec<OutletId> = node.inputs.iter().map(|o| mapping[o]).collect();
		let condition = source.outlet_fact(node.inputs[0])?.value.concretize();
		let Some(condition) = condition else {
			let op = IfThenElse {
				then_body: self.then_body.clone().into_typed()?,
				else_body: self.else_body.clone().into_typed()?,
				then_input_mapping: self.then_inputs.clone(),
				else_input_mapping: self.else_inputs.clone(),
			};
			return target.wire_node(&node.name, op, &inputs);
		};
		// The branch taken, typed and wired in place of the node.
		let (body, body_inputs) = self.branch(condition.cast_to_scalar::<bool>()?);
		let body = body.clone().into_typed()?;
		let mut wired: HashMap<OutletId, OutletId> = HashMap::new();
		for (&outlet, &outer_ix) in body.input_outlets()?.iter().zip(body_inputs) {
			wired.insert(outlet, inputs[outer_ix]);
		}
		for id in body.eval_order()? {
			let inner = body.node(id);
			if TypedModel::is_source(&inner.op) {
				continue;
			}
			let node_inputs: TVec<OutletId> = inner.inputs.iter().map(|o| wired[o]).collect();
			let name = format!("{}.{}", node.name, inner.name);
			let outlets = target.wire_node(name, inner.op.clone(), &node_inputs)?;
			for (slot, outlet) in outlets.into_iter().enumerate() {
				wired.insert(OutletId::new(id, slot), outlet);
			}
		}
		body.output_outlets()?.iter().map(|o| Ok(wired[o])).collect()
	}

	as_op!();
}
