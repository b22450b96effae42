//! Plans: the optimised or decluttered plan built from a typed graph, the plans per input
//! shape, and running a request through one within the limits.

use super::{
	fold::fold_constants, guarded, scan::check_model_tensors, LoadOptions, OnnxModel, PlanKind,
};
use crate::{
	cost::{CostModel, Estimate},
	error::chain,
	tensor::{from_tract, to_tract},
	Error, Result,
};
use citrate_inference_primitives::request::check_raw_request;
use citrate_tensor_primitives::DType;
use citrate_tensor_primitives::Tensor;
use std::{
	fmt,
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};
use tract_onnx::{
	prelude::{
		tract_linalg::multithread::Executor, InferenceFact, InferenceModel, InferenceModelExt,
		RunOptions, SymbolValues, TDim, TValue, TractError, TypedFact, TypedModel, TypedSimplePlan,
		TypedSimpleState,
	},
	tract_core::plan::eval,
};

pub(super) enum Prepared {
	/// One plan for every input shape, with the graph's symbols resolved per request.
	Symbolic(Plan),
	/// Tract can only type the graph once its input shapes are known (symbolic arithmetic it
	/// cannot prove equal, e.g. padded feature maps): a plan per input shape, built on first
	/// use and kept for the last [`SHAPE_PLANS`] shapes.
	PerShape { graph: InferenceModel, relaxed: bool, plans: ShapePlans },
}

/// Plans by input shapes, most recently used last.
type ShapePlans = Mutex<Vec<(Vec<Vec<u32>>, Arc<Plan>)>>;

/// Time one kind of operator took in a profiled run ([`OnnxModel::profile`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpTime {
	/// Tract's name for the operator.
	pub op: String,
	/// Nodes of that kind run.
	pub calls: usize,
	pub spent: Duration,
}

/// Told each node's operator name and run time in a profiled run.
type NodeObserver<'a> = dyn FnMut(&str, Duration) + 'a;

/// Per-shape plans a model keeps.
pub const SHAPE_PLANS: usize = 8;

pub(super) struct Plan {
	pub(super) plan: Arc<TypedSimplePlan>,
	pub(super) input_facts: Vec<TypedFact>,
	pub(super) kind: PlanKind,
	pub(super) cost: CostModel,
}

impl OnnxModel {
	/// The cost of running these inputs, without running them.
	pub fn estimate(&self, inputs: &[Tensor]) -> Result<Estimate> {
		guarded("estimating", || {
			let ordered = self.match_inputs(inputs)?;
			let plan = self.plan_for(&ordered)?;
			let symbols = bind_symbols(&ordered, &plan.input_facts)?;
			Ok(self.with_weights(plan.cost.estimate(&symbols)))
		})
	}

	/// Runs the model. Inputs are matched by name; the outputs come in the model's order.
	pub fn run(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
		guarded("running the model", || self.run_unguarded(inputs, None))
	}

	/// Runs the model like [`Self::run`], timing every node: the outputs, and the time per
	/// kind of operator (tract's names, e.g. `OptMatMul`, `DepthWiseConv`), most first.
	pub fn profile(&self, inputs: &[Tensor]) -> Result<(Vec<Tensor>, Vec<OpTime>)> {
		let mut times: Vec<OpTime> = vec![];
		let mut observe = |op: &str, spent: Duration| match times.iter_mut().find(|t| t.op == op) {
			Some(time) => {
				time.calls += 1;
				time.spent += spent;
			}
			None => times.push(OpTime { op: op.to_string(), calls: 1, spent }),
		};
		let outputs =
			guarded("profiling the model", || self.run_unguarded(inputs, Some(&mut observe)))?;
		times.sort_by(|a, b| b.spent.cmp(&a.spent).then_with(|| a.op.cmp(&b.op)));
		Ok((outputs, times))
	}

	fn with_weights(&self, estimate: Estimate) -> Estimate {
		Estimate { weight_bytes: estimate.weight_bytes.max(self.weight_bytes), ..estimate }
	}

	fn run_unguarded(
		&self,
		inputs: &[Tensor],
		mut observe: Option<&mut NodeObserver>,
	) -> Result<Vec<Tensor>> {
		let started = Instant::now();
		let limits = &self.options.limits;
		let ordered = self.match_inputs(inputs)?;
		let plan = self.plan_for(&ordered)?;
		let symbols = bind_symbols(&ordered, &plan.input_facts)?;
		let estimate = self.with_weights(plan.cost.estimate(&symbols));
		crate::cost::charge(estimate);
		if estimate.flops > limits.max_flops {
			return Err(Error::TooManyFlops { flops: estimate.flops, limit: limits.max_flops });
		}
		if estimate.peak_memory_bytes() > limits.max_memory_bytes {
			return Err(Error::TooMuchMemory {
				bytes: estimate.peak_memory_bytes(),
				limit: limits.max_memory_bytes,
			});
		}
		let values = ordered
			.iter()
			.map(|t| to_tract(t).map(TValue::from))
			.collect::<Result<tract_onnx::prelude::TVec<_>>>()?;

		let deadline = started + limits.max_wall_time;
		let mut state = TypedSimpleState::new(&plan.plan).map_err(|e| Error::Runtime(chain(&e)))?;
		let results = state.run_plan_with_eval(values, |session, op_state, node, inputs| {
			let now = Instant::now();
			if now > deadline {
				return Err(TractError::new(DeadlinePassed));
			}
			let outputs = eval(session, op_state, node, inputs);
			if let Some(observe) = observe.as_mut() {
				observe(&node.op.name(), now.elapsed());
			}
			outputs
		});
		let results = match results {
			Ok(results) => results,
			Err(e) if e.chain().any(|c| c.is::<DeadlinePassed>()) => {
				return Err(Error::Timeout { limit_ms: limits.max_wall_time.as_millis() as u64 })
			}
			Err(e) => return Err(Error::Runtime(chain(&e))),
		};
		results
			.iter()
			.zip(&self.output_names)
			.map(|(value, name)| from_tract(name, value))
			.collect()
	}

	/// Plans the graph now for inputs of these dtypes and shapes (in the model's input order),
	/// so requests of that shape find it ready and a shape tract cannot plan is refused here,
	/// not at the first request. A model with one plan for every shape returns its kind.
	pub fn specialize(&self, inputs: &[(DType, Vec<u32>)]) -> Result<PlanKind> {
		guarded("planning for an input shape", || {
			if inputs.len() != self.inputs.len() {
				return Err(Error::Pipeline(format!(
					"{} input shapes for a model of {} inputs",
					inputs.len(),
					self.inputs.len()
				)));
			}
			Ok(self.plan_for_shapes(inputs)?.kind)
		})
	}

	/// The plan for these inputs: the one plan, or the one for their shapes.
	fn plan_for(&self, inputs: &[&Tensor]) -> Result<Arc<Plan>> {
		let shapes: Vec<(DType, Vec<u32>)> =
			inputs.iter().map(|t| (t.dtype, t.shape.clone())).collect();
		self.plan_for_shapes(&shapes)
	}

	fn plan_for_shapes(&self, inputs: &[(DType, Vec<u32>)]) -> Result<Arc<Plan>> {
		let (graph, relaxed, plans) = match &self.prepared {
			Prepared::Symbolic(plan) => return Ok(Arc::new(plan.shallow_clone())),
			Prepared::PerShape { graph, relaxed, plans } => (graph, *relaxed, plans),
		};
		let shapes: Vec<Vec<u32>> = inputs.iter().map(|(_, shape)| shape.clone()).collect();
		let mut plans = plans.lock().unwrap_or_else(|p| p.into_inner());
		if let Some(ix) = plans.iter().position(|(s, _)| *s == shapes) {
			let entry = plans.remove(ix);
			let plan = entry.1.clone();
			plans.push(entry);
			return Ok(plan);
		}
		let mut graph = graph.clone();
		for (ix, (dtype, shape)) in inputs.iter().enumerate() {
			let datum = crate::tensor::datum_type(*dtype)
				.ok_or_else(|| Error::Unsupported(format!("tract has no {dtype:?}")))?;
			let shape: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
			graph
				.set_input_fact(ix, InferenceFact::dt_shape(datum, shape))
				.map_err(|e| Error::Runtime(chain(&e)))?;
		}
		let typed = graph.into_typed().map_err(|e| {
			Error::Unsupported(format!(
				"tract cannot type the graph for input shapes {shapes:?}: {}",
				chain(&e)
			))
		})?;
		check_model_tensors(&typed, &self.options.limits)?;
		let plan = Arc::new(Plan::build(typed, relaxed, &self.options)?);
		if plans.len() >= SHAPE_PLANS {
			plans.remove(0);
		}
		plans.push((shapes, plan.clone()));
		Ok(plan)
	}

	/// The caller's tensors in the model's input order, each checked against its declaration
	/// by the contract's raw-request rule and against the element limit.
	fn match_inputs<'a>(&self, inputs: &'a [Tensor]) -> Result<Vec<&'a Tensor>> {
		check_raw_request(&self.inputs, inputs)?;
		let limit = self.options.limits.max_input_elements;
		self.inputs
			.iter()
			.map(|spec| {
				let tensor = inputs
					.iter()
					.find(|t| t.name == spec.name())
					.ok_or_else(|| Error::MissingInput(spec.name().to_string()))?;
				let elements = tensor.elements()?;
				if elements > limit {
					return Err(Error::TooManyElements {
						name: tensor.name.clone(),
						elements,
						limit,
					});
				}
				Ok(tensor)
			})
			.collect()
	}
}

impl Plan {
	pub(super) fn build(typed: TypedModel, relaxed: bool, options: &LoadOptions) -> Result<Plan> {
		let decluttered = typed
			.into_decluttered()
			.map_err(|e| Error::Unsupported(format!("tract cannot declutter: {}", chain(&e))))?;
		let optimized = if options.optimize {
			decluttered.clone().into_optimized()
		} else {
			Err(TractError::msg("optimisation turned off"))
		};
		let (model, kind) = match optimized {
			Ok(optimized) => (
				fold_constants(optimized, &options.limits)?,
				if relaxed { PlanKind::RelaxedOptimized } else { PlanKind::Optimized },
			),
			Err(e) => {
				log::warn!("tract's optimiser rejected the model, running it unoptimised: {e:#}");
				(decluttered, PlanKind::Decluttered)
			}
		};
		let input_facts = model
			.input_outlets()
			.and_then(|outlets| outlets.iter().map(|&o| model.outlet_fact(o).cloned()).collect())
			.map_err(|e| Error::Runtime(chain(&e)))?;
		let cost = CostModel::of(&model).map_err(|e| Error::Runtime(chain(&e)))?;
		let run_options = RunOptions {
			executor: (options.threads > 1).then(|| Executor::multithread(options.threads)),
			..RunOptions::default()
		};
		let plan = model
			.into_runnable_with_options(&run_options)
			.map_err(|e| Error::Unsupported(format!("tract cannot plan: {}", chain(&e))))?;
		Ok(Plan { plan, input_facts, kind, cost })
	}

	fn shallow_clone(&self) -> Plan {
		Plan {
			plan: self.plan.clone(),
			input_facts: self.input_facts.clone(),
			kind: self.kind,
			cost: self.cost.clone(),
		}
	}
}

/// Values of the graph's symbols (`batch`, `sequence`…) from the inputs' shapes; a symbol
/// bound twice must agree.
fn bind_symbols(inputs: &[&Tensor], facts: &[TypedFact]) -> Result<SymbolValues> {
	let mut values = SymbolValues::default();
	let mut bound: Vec<(String, i64)> = vec![];
	for (tensor, fact) in inputs.iter().zip(facts) {
		for (&n, dim) in tensor.shape.iter().zip(fact.shape.iter()) {
			if let TDim::Sym(symbol) = dim {
				let name = symbol.to_string();
				match bound.iter().find(|(s, _)| *s == name) {
					Some((_, v)) if *v != i64::from(n) => {
						return Err(Error::InputShape {
							name: tensor.name.clone(),
							expected: format!("{name} = {v} as in the other inputs"),
							actual: tensor.shape.clone(),
						})
					}
					Some(_) => {}
					None => {
						bound.push((name, i64::from(n)));
						values = values.with(symbol, i64::from(n));
					}
				}
			}
		}
	}
	Ok(values)
}

/// The error the per-node check returns once the wall-time limit has passed.
#[derive(Debug)]
struct DeadlinePassed;

impl fmt::Display for DeadlinePassed {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str("wall-time limit passed")
	}
}

impl std::error::Error for DeadlinePassed {}
