//! The tract backend: ONNX models on the CPU, deterministic on one machine.
//!
//! ## Loading
//! 1. The file is size-checked, parsed, and scanned before tract sees it: node count, every
//!    initializer's and constant's element count (shapes are attacker-controlled), and no
//!    external data.
//! 2. The graph is typed with the shapes and types the file declares. PyTorch-2 exports often
//!    declare output and intermediate shapes that do not unify with what the operators compute
//!    (symbolic dims named differently on each side); when typing fails, the model is parsed
//!    again *relaxed* — declared output shapes and `value_info` ignored, so tract infers them.
//!    Inputs always keep their declared types and shapes.
//! 3. The typed graph is decluttered, then optimised into tract's kernels. If the optimiser
//!    rejects it, the decluttered graph runs as it is ([`PlanKind::Decluttered`]): it computes
//!    the same function with reference kernels, slower. Which plan a model got is deterministic
//!    for a given file and tract version, so every provider running it gets the same one; it is
//!    reported so operators and the cost model can see it. A model that cannot even be typed or
//!    decluttered is refused with tract's reason.

use crate::{
	cost::{CostModel, Estimate},
	error::chain,
	tensor::{codec_dtype, from_tract, to_tract},
	Error, Limits, Result,
};
use citrate_tensor_codec::{DType, Tensor};
use std::{
	fmt,
	sync::{Arc, Mutex},
	time::Instant,
};
use tract_onnx::tract_hir::infer::Factoid;
use tract_onnx::{
	pb,
	prelude::{
		tract_linalg::multithread::Executor, DatumType, Framework, InferenceFact, InferenceModel,
		InferenceModelExt, IntoTValue, OutletId, RunOptions, SpecialOps, SymbolValues, TDim,
		TValue, TractError, TypedFact, TypedModel, TypedSimplePlan, TypedSimpleState,
	},
	tract_core::plan::eval,
};

/// How the graph was prepared; see the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanKind {
	/// Declared shapes, tract's optimised kernels.
	Optimized,
	/// Relaxed parse (declared output shapes and value_info ignored), optimised kernels.
	RelaxedOptimized,
	/// The optimiser rejected the graph: decluttered graph, reference kernels.
	Decluttered,
}

/// How to load a model.
#[derive(Clone, Debug)]
pub struct LoadOptions {
	pub limits: Limits,
	/// Threads tract's kernels may use for one request; 1 runs on the caller's thread.
	pub threads: usize,
	/// Optimise the graph into tract's kernels (default). `false` runs the decluttered graph
	/// with reference kernels — the plan a model gets when the optimiser rejects it.
	pub optimize: bool,
	/// Plan per input shape even when the graph types with symbolic dims. Tract picks its
	/// fast convolution kernels only for concrete shapes (EfficientNet-Lite0 at 224²: 29 ms
	/// specialised, 150–245 ms symbolic), so image models whose requests come in a few shapes
	/// should set this; text models, whose sequence length changes per request, should not
	/// (each new shape costs a plan build).
	pub specialize: bool,
}

impl Default for LoadOptions {
	fn default() -> Self {
		LoadOptions { limits: Limits::default(), threads: 1, optimize: true, specialize: false }
	}
}

/// One model input or output as the graph declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorSpec {
	pub name: String,
	/// `None` for types the tensor codec cannot carry.
	pub dtype: Option<DType>,
	/// Fixed dims as numbers, symbolic ones by name (`batch`, `sequence`, `2*S`).
	pub shape: Vec<Dim>,
}

/// One dimension of a [`TensorSpec`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dim {
	Fixed(u64),
	Symbolic(String),
}

impl fmt::Display for TensorSpec {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self.dtype {
			Some(dtype) => write!(f, "{dtype:?}[")?,
			None => write!(f, "?[")?,
		}
		for (i, dim) in self.shape.iter().enumerate() {
			if i > 0 {
				write!(f, ", ")?;
			}
			match dim {
				Dim::Fixed(n) => write!(f, "{n}")?,
				Dim::Symbolic(s) => write!(f, "{s}")?,
			}
		}
		write!(f, "]")
	}
}

/// A loaded ONNX model, ready to serve any number of concurrent requests.
pub struct OnnxModel {
	prepared: Prepared,
	inputs: Vec<TensorSpec>,
	outputs: Vec<TensorSpec>,
	options: LoadOptions,
	weight_bytes: u64,
	metadata: Vec<(String, String)>,
}

enum Prepared {
	/// One plan for every input shape, with the graph's symbols resolved per request.
	Symbolic(Plan),
	/// Tract can only type the graph once its input shapes are known (symbolic arithmetic it
	/// cannot prove equal, e.g. padded feature maps): a plan per input shape, built on first
	/// use and kept for the last [`SHAPE_PLANS`] shapes.
	PerShape { graph: InferenceModel, relaxed: bool, plans: ShapePlans },
}

/// Plans by input shapes, most recently used last.
type ShapePlans = Mutex<Vec<(Vec<Vec<u32>>, Arc<Plan>)>>;

/// Per-shape plans a model keeps.
pub const SHAPE_PLANS: usize = 8;

struct Plan {
	plan: Arc<TypedSimplePlan>,
	input_facts: Vec<TypedFact>,
	kind: PlanKind,
	cost: CostModel,
}

impl fmt::Debug for OnnxModel {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.debug_struct("OnnxModel")
			.field("inputs", &self.inputs)
			.field("outputs", &self.outputs)
			.field("plan_kind", &self.plan_kind())
			.finish_non_exhaustive()
	}
}

/// Runs `f`, turning a panic inside tract into an error: a hostile model must not take the
/// node down even where tract asserts instead of returning an error.
fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
	std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
		let message = panic
			.downcast_ref::<&str>()
			.map(|s| s.to_string())
			.or_else(|| panic.downcast_ref::<String>().cloned())
			.unwrap_or_default();
		Err(Error::Unsupported(format!("tract panicked while {what}: {message}")))
	})
}

impl OnnxModel {
	/// Loads a model from the bytes of an `.onnx` file.
	pub fn load(bytes: &[u8], options: &LoadOptions) -> Result<Self> {
		guarded("loading the model", || Self::load_unguarded(bytes, options))
	}

	fn load_unguarded(bytes: &[u8], options: &LoadOptions) -> Result<Self> {
		let limits = &options.limits;
		if bytes.len() as u64 > limits.max_model_bytes {
			return Err(Error::ModelTooLarge {
				size: bytes.len() as u64,
				limit: limits.max_model_bytes,
			});
		}
		let proto = tract_onnx::onnx()
			.proto_model_for_read(&mut &bytes[..])
			.map_err(|e| Error::InvalidModel(format!("not an ONNX protobuf: {}", chain(&e))))?;
		let weight_bytes = scan(&proto, limits)?;

		let strict = parse(&proto, false)?;
		let attempt = if options.specialize {
			Err(TractError::msg("specialised per input shape"))
		} else {
			strict.clone().into_typed()
		};
		let (typed, relaxed) = match attempt {
			Ok(typed) => (Ok(typed), false),
			Err(_) if options.specialize => (Err("specialised per input shape".to_string()), true),
			Err(strict_error) => {
				let relaxed = parse(&proto, true)?;
				match relaxed.into_typed() {
					Ok(typed) => (Ok(typed), true),
					Err(relaxed_error) => (
						Err(format!(
							"{} (with declared shapes: {})",
							chain(&relaxed_error),
							chain(&strict_error)
						)),
						true,
					),
				}
			}
		};
		let (prepared, inputs, outputs) = match typed {
			Ok(typed) => {
				let plan = Plan::build(typed, relaxed, options)?;
				let model = plan.plan.model();
				let inputs = specs(model, model.input_outlets(), "input")?;
				let outputs = specs(model, model.output_outlets(), "output")?;
				(Prepared::Symbolic(plan), inputs, outputs)
			}
			Err(reason) => {
				// Typing needs concrete shapes. The inputs' declared types and ranks must be
				// known, or no request could ever be checked against them.
				let graph = parse(&proto, true)?;
				let inputs = inference_specs(&graph).map_err(|_| {
					Error::Unsupported(format!("tract cannot type the graph: {reason}"))
				})?;
				log::debug!("typing per input shape: {reason}");
				let outputs = graph
					.output_outlets()
					.map_err(|e| Error::Runtime(chain(&e)))?
					.iter()
					.enumerate()
					.map(|(i, &o)| TensorSpec {
						name: graph
							.outlet_label(o)
							.filter(|l| valid_name(l))
							.map(str::to_string)
							.unwrap_or_else(|| format!("output{i}")),
						dtype: None,
						shape: vec![],
					})
					.collect();
				(
					Prepared::PerShape { graph, relaxed: true, plans: Mutex::new(vec![]) },
					inputs,
					outputs,
				)
			}
		};
		// Folding can hold weights larger than the file's (dequantised int8).
		let weight_bytes = match &prepared {
			Prepared::Symbolic(plan) => weight_bytes.max(plan.cost.weight_bytes()),
			Prepared::PerShape { .. } => weight_bytes,
		};
		let metadata =
			proto.metadata_props.iter().map(|p| (p.key.clone(), p.value.clone())).collect();
		Ok(OnnxModel {
			prepared,
			inputs,
			outputs,
			options: options.clone(),
			weight_bytes,
			metadata,
		})
	}

	/// The inputs the model takes, in order.
	pub fn inputs(&self) -> &[TensorSpec] {
		&self.inputs
	}

	/// The outputs the model produces, in order. Models planned per input shape declare only
	/// their outputs' names (dtype `None`, no dims).
	pub fn outputs(&self) -> &[TensorSpec] {
		&self.outputs
	}

	/// Which plan loading produced; `None` for models planned per input shape.
	pub fn plan_kind(&self) -> Option<PlanKind> {
		match &self.prepared {
			Prepared::Symbolic(plan) => Some(plan.kind),
			Prepared::PerShape { .. } => None,
		}
	}

	/// A `metadata_props` entry of the file (PP-OCR keeps its character list there).
	pub fn metadata(&self, key: &str) -> Option<&str> {
		self.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
	}

	/// Bytes of weights the loaded model holds.
	pub fn weight_bytes(&self) -> u64 {
		self.weight_bytes
	}

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
		guarded("running the model", || self.run_unguarded(inputs))
	}

	fn with_weights(&self, estimate: Estimate) -> Estimate {
		Estimate { weight_bytes: estimate.weight_bytes.max(self.weight_bytes), ..estimate }
	}

	fn run_unguarded(&self, inputs: &[Tensor]) -> Result<Vec<Tensor>> {
		let started = Instant::now();
		let limits = &self.options.limits;
		let ordered = self.match_inputs(inputs)?;
		let plan = self.plan_for(&ordered)?;
		let symbols = bind_symbols(&ordered, &plan.input_facts)?;
		let estimate = self.with_weights(plan.cost.estimate(&symbols));
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
			if Instant::now() > deadline {
				return Err(TractError::new(DeadlinePassed));
			}
			eval(session, op_state, node, inputs)
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
			.zip(&self.outputs)
			.map(|(value, spec)| from_tract(&spec.name, value))
			.collect()
	}

	/// The plan for these inputs: the one plan, or the one for their shapes.
	fn plan_for(&self, inputs: &[&Tensor]) -> Result<Arc<Plan>> {
		let (graph, relaxed, plans) = match &self.prepared {
			Prepared::Symbolic(plan) => return Ok(Arc::new(plan.shallow_clone())),
			Prepared::PerShape { graph, relaxed, plans } => (graph, *relaxed, plans),
		};
		let shapes: Vec<Vec<u32>> = inputs.iter().map(|t| t.shape.clone()).collect();
		let mut plans = plans.lock().unwrap_or_else(|p| p.into_inner());
		if let Some(ix) = plans.iter().position(|(s, _)| *s == shapes) {
			let entry = plans.remove(ix);
			let plan = entry.1.clone();
			plans.push(entry);
			return Ok(plan);
		}
		let mut graph = graph.clone();
		for (ix, tensor) in inputs.iter().enumerate() {
			let datum = crate::tensor::datum_type(tensor.dtype)
				.ok_or_else(|| Error::Unsupported(format!("tract has no {:?}", tensor.dtype)))?;
			let shape: Vec<usize> = tensor.shape.iter().map(|&d| d as usize).collect();
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

	/// The caller's tensors in the model's input order, each checked against its declaration.
	fn match_inputs<'a>(&self, inputs: &'a [Tensor]) -> Result<Vec<&'a Tensor>> {
		let limits = &self.options.limits;
		for tensor in inputs {
			if !self.inputs.iter().any(|spec| spec.name == tensor.name) {
				return Err(Error::UnexpectedInput {
					name: tensor.name.clone(),
					expected: self.inputs.iter().map(|s| s.name.clone()).collect(),
				});
			}
		}
		self.inputs
			.iter()
			.map(|spec| {
				let tensor = inputs
					.iter()
					.find(|t| t.name == spec.name)
					.ok_or_else(|| Error::MissingInput(spec.name.clone()))?;
				if Some(tensor.dtype) != spec.dtype {
					return Err(Error::InputDType {
						name: spec.name.clone(),
						expected: spec.to_string(),
						actual: tensor.dtype,
					});
				}
				let shape_matches = tensor.shape.len() == spec.shape.len()
					&& tensor.shape.iter().zip(&spec.shape).all(|(&n, dim)| match dim {
						Dim::Fixed(m) => u64::from(n) == *m,
						Dim::Symbolic(_) => true,
					});
				if !shape_matches {
					return Err(Error::InputShape {
						name: spec.name.clone(),
						expected: spec.to_string(),
						actual: tensor.shape.clone(),
					});
				}
				let elements = tensor.elements()?;
				if elements > limits.max_input_elements {
					return Err(Error::TooManyElements {
						name: spec.name.clone(),
						elements,
						limit: limits.max_input_elements,
					});
				}
				Ok(tensor)
			})
			.collect()
	}
}

impl Plan {
	fn build(typed: TypedModel, relaxed: bool, options: &LoadOptions) -> Result<Plan> {
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

/// Folds every node whose inputs are all constants into a constant, whatever its size. Tract
/// folds only results not much larger than their inputs, so int8 weights dequantised to f32
/// (MiniLM's 30522 × 384 word embeddings) would otherwise be recomputed on every run: folding
/// trades that memory for latency.
fn fold_constants(mut model: TypedModel, limits: &Limits) -> Result<TypedModel> {
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
				let wire =
					folded.add_const(format!("{}.folded{slot}", node.name), value).map_err(err)?;
				folded.shunt_outside(&model, OutletId::new(node.id, slot), wire).map_err(err)?;
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

/// Specs of a typed graph's inputs or outputs, named by their ONNX names.
fn specs(
	model: &TypedModel,
	outlets: tract_onnx::prelude::TractResult<&[OutletId]>,
	prefix: &str,
) -> Result<Vec<TensorSpec>> {
	let outlets = outlets.map_err(|e| Error::Runtime(chain(&e)))?;
	outlets
		.iter()
		.enumerate()
		.map(|(i, &o)| {
			let fact = model.outlet_fact(o).map_err(|e| Error::Runtime(chain(&e)))?;
			Ok(TensorSpec {
				name: onnx_name(model.outlet_label(o), &model.node(o.node).name)
					.unwrap_or_else(|| format!("{prefix}{i}")),
				dtype: codec_dtype(fact.datum_type),
				shape: fact
					.shape
					.iter()
					.map(|d| match d.as_i64() {
						Some(n) => Dim::Fixed(n as u64),
						None => Dim::Symbolic(d.to_string()),
					})
					.collect(),
			})
		})
		.collect()
}

/// Specs of a parsed graph's inputs: types must be known, unknown dims become symbolic.
fn inference_specs(graph: &InferenceModel) -> Result<Vec<TensorSpec>, ()> {
	let outlets = graph.input_outlets().map_err(|_| ())?;
	outlets
		.iter()
		.enumerate()
		.map(|(i, &o)| {
			let fact = graph.outlet_fact(o).map_err(|_| ())?;
			let datum = fact.datum_type.concretize().ok_or(())?;
			if fact.shape.is_open() {
				return Err(());
			}
			Ok(TensorSpec {
				name: onnx_name(graph.outlet_label(o), &graph.node(o.node).name)
					.unwrap_or_else(|| format!("input{i}")),
				dtype: codec_dtype(datum),
				shape: fact
					.shape
					.dims()
					.enumerate()
					.map(|(d, dim)| match dim.concretize().and_then(|d| d.as_i64()) {
						Some(n) => Dim::Fixed(n as u64),
						None => Dim::Symbolic(format!("d{d}")),
					})
					.collect(),
			})
		})
		.collect()
}

fn onnx_name(label: Option<&str>, node_name: &str) -> Option<String> {
	label.or(Some(node_name)).filter(|l| valid_name(l)).map(str::to_string)
}

/// Parses the graph; relaxed ignores declared output shapes and `value_info`. Inputs whose
/// dims are unknown (not even named) get fresh symbols, so the graph can be typed for any size.
fn parse(proto: &pb::ModelProto, relaxed: bool) -> Result<InferenceModel> {
	let onnx =
		tract_onnx::onnx().with_ignore_output_shapes(relaxed).with_ignore_value_info(relaxed);
	let mut model = onnx
		.model_for_proto_model(proto)
		.map_err(|e| Error::Unsupported(format!("tract cannot read the graph: {}", chain(&e))))?;
	let inputs = model.input_outlets().map_err(|e| Error::Runtime(chain(&e)))?.len();
	for ix in 0..inputs {
		let mut fact = model.input_fact(ix).map_err(|e| Error::Runtime(chain(&e)))?.clone();
		if fact.shape.is_open() {
			continue;
		}
		let dims: Vec<_> = fact.shape.dims().cloned().collect();
		for (d, dim) in dims.iter().enumerate() {
			if dim.concretize().is_none() {
				let symbol = model.symbols.new_with_prefix(&format!("in{ix}_d{d}"));
				fact.shape.set_dim(d, TDim::Sym(symbol));
			}
		}
		model.set_input_fact(ix, fact).map_err(|e| Error::Runtime(chain(&e)))?;
	}
	Ok(model)
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

fn valid_name(name: &str) -> bool {
	!name.is_empty() && name.len() <= citrate_tensor_codec::MAX_NAME_LEN
}

/// Refuses files whose declared tensors would make tract allocate more than the limits allow,
/// before tract allocates anything. Returns the bytes of weights the file declares.
fn scan(proto: &pb::ModelProto, limits: &Limits) -> Result<u64> {
	let graph =
		proto.graph.as_ref().ok_or_else(|| Error::InvalidModel("the file has no graph".into()))?;
	let (mut nodes, mut weight_bytes) = (0usize, 0u64);
	scan_graph(graph, limits, &mut nodes, &mut weight_bytes, 0)?;
	Ok(weight_bytes)
}

fn scan_graph(
	graph: &pb::GraphProto,
	limits: &Limits,
	nodes: &mut usize,
	weight_bytes: &mut u64,
	depth: usize,
) -> Result<()> {
	if depth > 8 {
		return Err(Error::InvalidModel("subgraphs nested deeper than 8".into()));
	}
	*nodes += graph.node.len();
	if *nodes > limits.max_graph_nodes {
		return Err(Error::InvalidModel(format!(
			"more than {} nodes in the graph",
			limits.max_graph_nodes
		)));
	}
	for tensor in &graph.initializer {
		*weight_bytes = weight_bytes.saturating_add(scan_tensor(tensor, limits)?);
	}
	// Small integer constants by name: the shapes ConstantOfShape and Expand would build.
	let shapes: std::collections::HashMap<&str, Vec<i64>> = graph
		.initializer
		.iter()
		.map(|t| (t.name.as_str(), t))
		.chain(graph.node.iter().filter(|n| n.op_type == "Constant").filter_map(|n| {
			Some((n.output.first()?.as_str(), n.attribute.iter().find_map(|a| a.t.as_ref())?))
		}))
		.filter_map(|(name, t)| Some((name, small_ints(t)?)))
		.collect();
	for node in &graph.node {
		let shape_input = match node.op_type.as_str() {
			"ConstantOfShape" => node.input.first(),
			"Expand" => node.input.get(1),
			_ => None,
		};
		if let Some(shape) = shape_input.and_then(|name| shapes.get(name.as_str())) {
			let elements = shape
				.iter()
				.try_fold(1u64, |acc, &d| u64::try_from(d).ok().and_then(|d| acc.checked_mul(d)));
			if elements.is_none_or(|n| n > limits.max_model_tensor_elements) {
				return Err(Error::InvalidModel(format!(
					"{} node `{}` would build a tensor of shape {shape:?}, over the limit of {} elements",
					node.op_type, node.name, limits.max_model_tensor_elements
				)));
			}
		}
	}
	for node in &graph.node {
		for attribute in &node.attribute {
			for tensor in attribute.t.iter().chain(&attribute.tensors) {
				*weight_bytes = weight_bytes.saturating_add(scan_tensor(tensor, limits)?);
			}
			for subgraph in attribute.g.iter().chain(&attribute.graphs) {
				scan_graph(subgraph, limits, nodes, weight_bytes, depth + 1)?;
			}
		}
	}
	Ok(())
}

/// The values of a stored int64 tensor of at most 8 elements.
fn small_ints(tensor: &pb::TensorProto) -> Option<Vec<i64>> {
	if tensor.data_type != 7 {
		return None;
	}
	let values: Vec<i64> = if tensor.raw_data.is_empty() {
		tensor.int64_data.clone()
	} else {
		tensor
			.raw_data
			.chunks_exact(8)
			.map(|c| i64::from_le_bytes(c.try_into().unwrap_or_default()))
			.collect()
	};
	(values.len() <= 8).then_some(values)
}

/// Checks one stored tensor; returns its size in bytes.
fn scan_tensor(tensor: &pb::TensorProto, limits: &Limits) -> Result<u64> {
	if !tensor.external_data.is_empty() || tensor.data_location == Some(1) {
		return Err(Error::InvalidModel(format!(
			"tensor `{}` keeps its data in an external file; models must be one self-contained file",
			tensor.name
		)));
	}
	let elements = tensor
		.dims
		.iter()
		.try_fold(1u64, |acc, &d| u64::try_from(d).ok().and_then(|d| acc.checked_mul(d)));
	match elements {
		Some(n) if n <= limits.max_model_tensor_elements => {
			// ONNX TensorProto.DataType codes to element sizes; strings count one byte.
			let size = match tensor.data_type {
				1 | 6 | 12 => 4,
				7 | 11 | 13 => 8,
				4 | 5 | 10 | 16 => 2,
				_ => 1,
			};
			Ok(n * size)
		}
		_ => Err(Error::InvalidModel(format!(
			"tensor `{}` declares shape {:?}, over the limit of {} elements",
			tensor.name, tensor.dims, limits.max_model_tensor_elements
		))),
	}
}

/// After typing, every tensor whose shape is known must be within the limits: constant folding
/// and shape inference can produce tensors no declared shape mentioned.
fn check_model_tensors(model: &TypedModel, limits: &Limits) -> Result<()> {
	for node in model.nodes() {
		for output in &node.outputs {
			let elements = output.fact.shape.iter().try_fold(1u64, |acc, d| match d.as_i64() {
				Some(n) => u64::try_from(n).ok().and_then(|n| acc.checked_mul(n)),
				None => Some(acc),
			});
			if elements.is_none_or(|n| n > limits.max_model_tensor_elements) {
				return Err(Error::InvalidModel(format!(
					"node `{}` produces a tensor of shape {:?}, over the limit of {} elements",
					node.name, output.fact.shape, limits.max_model_tensor_elements
				)));
			}
		}
	}
	Ok(())
}

/// The tract datum type's byte size, for the cost model.
pub(crate) fn datum_size(datum: DatumType) -> u64 {
	datum.size_of() as u64
}
