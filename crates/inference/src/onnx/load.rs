//! Loading an ONNX model: size check, scan, parsing (strict, then relaxed), typing, and the
//! input and output specs of the graph.

use super::{
	guarded,
	plan::{Plan, Prepared},
	scan::scan,
	Dim, LoadOptions, OnnxModel, TensorSpec,
};
use crate::{
	error::chain,
	tensor::{codec_dtype, to_tract},
	Error, Result,
};
use citrate_tensor_primitives::Tensor;
use std::{collections::HashSet, sync::Arc, sync::Mutex};
use tract_onnx::tract_hir::ops::konst::Const;
use tract_onnx::tract_hir::{infer::Factoid, ops::unimpl::UnimplementedOp};
use tract_onnx::{
	pb,
	prelude::{
		DatumType, Framework, InferenceFact, InferenceModel, InferenceModelExt, OutletId, TDim,
		TractError, TypedModel,
	},
};

impl OnnxModel {
	/// Loads a model from the bytes of an `.onnx` file.
	pub fn load(bytes: &[u8], options: &LoadOptions) -> Result<Self> {
		super::pin_tract_knobs();
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
		let names = DeclaredNames::of(&proto).without(&options.constant_inputs)?;
		let parse = |relaxed| parse(&proto, relaxed, &options.constant_inputs);

		let strict = parse(false)?;
		refuse_unimplemented(&strict)?;
		let attempt = if options.specialize {
			Err(TractError::msg("specialised per input shape"))
		} else {
			strict.clone().into_typed()
		};
		let (typed, relaxed) = match attempt {
			Ok(typed) => (Ok(typed), false),
			Err(_) if options.specialize => (Err("specialised per input shape".to_string()), true),
			Err(strict_error) => {
				let relaxed = parse(true)?;
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
		let (prepared, inputs, outputs, output_names) = match typed {
			Ok(typed) => {
				let plan = Plan::build(typed, relaxed, options)?;
				let model = plan.plan.model();
				let inputs = specs(model, model.input_outlets(), &names.inputs, "input")?;
				let outputs = specs(model, model.output_outlets(), &names.outputs, "output")?;
				let names = outputs.iter().map(|spec| spec.name().to_string()).collect();
				(Prepared::Symbolic(plan), inputs, Some(outputs), names)
			}
			Err(reason) => {
				// Typing needs concrete shapes. The inputs' declared types and ranks must be
				// known, or no request could ever be checked against them.
				let graph = parse(true)?;
				let inputs = inference_specs(&graph, &names.inputs).map_err(|why| {
					Error::Unsupported(format!("tract cannot type the graph: {reason}{why}"))
				})?;
				log::debug!("typing per input shape: {reason}");
				let output_names = graph
					.output_outlets()
					.map_err(|e| Error::Runtime(chain(&e)))?
					.iter()
					.enumerate()
					.map(|(i, &o)| {
						declared_name(
							&names.outputs,
							i,
							graph.outlet_label(o),
							&graph.node(o.node).name,
							"output",
						)
					})
					.collect();
				(
					Prepared::PerShape { graph, relaxed: true, plans: Mutex::new(vec![]) },
					inputs,
					None,
					output_names,
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
			output_names,
			options: options.clone(),
			weight_bytes,
			metadata,
		})
	}
}

/// The names of the inputs an ONNX file declares (initializers aside), read without loading it.
pub fn declared_inputs(bytes: &[u8]) -> Result<Vec<String>> {
	let proto = tract_onnx::onnx()
		.proto_model_for_read(&mut &bytes[..])
		.map_err(|e| Error::InvalidModel(format!("not an ONNX protobuf: {}", chain(&e))))?;
	Ok(DeclaredNames::of(&proto).inputs)
}

/// The names the ONNX graph declares for its inputs (those not backed by an initializer) and
/// outputs, in tract's outlet order. They are what users call the tensors: tract may fold the
/// node behind one (an `Identity`, a no-op `Cast`) and label the outlet with another tensor's
/// name, so outlet labels are only a fallback.
struct DeclaredNames {
	inputs: Vec<String>,
	outputs: Vec<String>,
}

impl DeclaredNames {
	fn of(proto: &pb::ModelProto) -> Self {
		let Some(graph) = proto.graph.as_ref() else {
			return DeclaredNames { inputs: vec![], outputs: vec![] };
		};
		let initializers: HashSet<&str> =
			graph.initializer.iter().map(|tensor| tensor.name.as_str()).collect();
		DeclaredNames {
			inputs: graph
				.input
				.iter()
				.filter(|input| !initializers.contains(input.name.as_str()))
				.map(|input| input.name.clone())
				.collect(),
			outputs: graph.output.iter().map(|output| output.name.clone()).collect(),
		}
	}
}

impl DeclaredNames {
	/// The names left once `constants` are bound; each must be a declared input.
	fn without(mut self, constants: &[Tensor]) -> Result<Self> {
		for constant in constants {
			let ix =
				self.inputs.iter().position(|name| *name == constant.name).ok_or_else(|| {
					Error::InvalidModel(format!(
						"no input `{}` to fix at load; the inputs are [{}]",
						constant.name,
						self.inputs.join(", ")
					))
				})?;
			self.inputs.remove(ix);
		}
		Ok(self)
	}
}

/// Tensor `i`'s name: the declared one, else the outlet's label or node name, else `{prefix}{i}`.
fn declared_name(
	declared: &[String],
	i: usize,
	label: Option<&str>,
	node_name: &str,
	prefix: &str,
) -> String {
	declared
		.get(i)
		.filter(|name| valid_name(name))
		.cloned()
		.or_else(|| onnx_name(label, node_name))
		.unwrap_or_else(|| format!("{prefix}{i}"))
}

/// Specs of a typed graph's inputs or outputs, named by their declared ONNX names. A tensor
/// the codec cannot carry (a dtype it lacks, more than `MAX_RANK` dims) makes the model
/// unusable through the chain, so it is refused here with its name.
fn specs(
	model: &TypedModel,
	outlets: tract_onnx::prelude::TractResult<&[OutletId]>,
	declared: &[String],
	prefix: &str,
) -> Result<Vec<TensorSpec>> {
	let outlets = outlets.map_err(|e| Error::Runtime(chain(&e)))?;
	outlets
		.iter()
		.enumerate()
		.map(|(i, &o)| {
			let fact = model.outlet_fact(o).map_err(|e| Error::Runtime(chain(&e)))?;
			let name =
				declared_name(declared, i, model.outlet_label(o), &model.node(o.node).name, prefix);
			let dims = fact
				.shape
				.iter()
				.map(|d| match d.as_i64() {
					Some(n) => Dim::Fixed(n as u64),
					None => Dim::symbolic_lossy(&d.to_string()),
				})
				.collect();
			spec(prefix, name, fact.datum_type, dims)
		})
		.collect()
}

fn spec(side: &str, name: String, datum: DatumType, dims: Vec<Dim>) -> Result<TensorSpec> {
	let dtype = codec_dtype(datum).ok_or_else(|| {
		Error::Unsupported(format!(
			"{side} `{name}` is {datum:?}, which the tensor codec cannot carry"
		))
	})?;
	let rank = dims.len();
	TensorSpec::new(&name, dtype, dims)
		.map_err(|e| Error::Unsupported(format!("{side} `{name}` (rank {rank}): {e}")))
}

/// Specs of a parsed graph's inputs: types must be known, unknown dims become symbolic.
fn inference_specs(graph: &InferenceModel, declared: &[String]) -> Result<Vec<TensorSpec>, String> {
	let outlets = graph.input_outlets().map_err(|e| chain(&e))?;
	outlets
		.iter()
		.enumerate()
		.map(|(i, &o)| {
			let fact = graph.outlet_fact(o).map_err(|e| chain(&e))?;
			let unknown = || format!("; input {i} has no declared type and rank");
			let datum = fact.datum_type.concretize().ok_or_else(unknown)?;
			if fact.shape.is_open() {
				return Err(unknown());
			}
			let name = declared_name(
				declared,
				i,
				graph.outlet_label(o),
				&graph.node(o.node).name,
				"input",
			);
			let dims = fact
				.shape
				.dims()
				.enumerate()
				.map(|(d, dim)| match dim.concretize().and_then(|d| d.as_i64()) {
					Some(n) => Dim::Fixed(n as u64),
					None => Dim::symbolic_lossy(&format!("d{d}")),
				})
				.collect();
			spec("input", name, datum, dims).map_err(|e| format!("; {e}"))
		})
		.collect()
}

fn onnx_name(label: Option<&str>, node_name: &str) -> Option<String> {
	label.or(Some(node_name)).filter(|l| valid_name(l)).map(str::to_string)
}

/// Parses the graph; relaxed ignores declared output shapes and `value_info`. The `constants`
/// replace the inputs of their names. Inputs whose dims are unknown (not even named) get fresh
/// symbols, so the graph can be typed for any size.
fn parse(proto: &pb::ModelProto, relaxed: bool, constants: &[Tensor]) -> Result<InferenceModel> {
	let mut onnx =
		tract_onnx::onnx().with_ignore_output_shapes(relaxed).with_ignore_value_info(relaxed);
	super::branch::register(&mut onnx);
	let mut model = onnx
		.model_for_proto_model(proto)
		.map_err(|e| Error::Unsupported(format!("tract cannot read the graph: {}", chain(&e))))?;
	bind_constants(&mut model, constants)?;
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

/// Turns the inputs named like `constants` into constant nodes of their values.
fn bind_constants(model: &mut InferenceModel, constants: &[Tensor]) -> Result<()> {
	if constants.is_empty() {
		return Ok(());
	}
	let runtime = |e: TractError| Error::Runtime(chain(&e));
	let mut inputs = model.input_outlets().map_err(runtime)?.to_vec();
	for constant in constants {
		let ix = inputs
			.iter()
			.position(|o| model.node(o.node).name == constant.name)
			.ok_or_else(|| Error::InvalidModel(format!("no input `{}` to fix", constant.name)))?;
		let outlet = inputs.remove(ix);
		let value = Arc::new(to_tract(constant)?);
		model.nodes[outlet.node].op = Box::new(Const::new(value.clone()).map_err(runtime)?);
		model
			.set_outlet_fact(outlet, InferenceFact::from(value.as_ref().clone()))
			.map_err(runtime)?;
	}
	model.set_input_outlets(&inputs).map_err(runtime)
}

/// Refuses a graph holding an operator tract does not implement (tract-onnx parses it as a
/// placeholder that fails deep inside typing), naming the operator and its node.
fn refuse_unimplemented(graph: &InferenceModel) -> Result<()> {
	let Some(node) = graph.nodes().iter().find(|node| node.op_is::<UnimplementedOp>()) else {
		return Ok(());
	};
	let op = node.op.name();
	let op = op.strip_prefix("Unimplemented(").and_then(|o| o.strip_suffix(')')).unwrap_or(&op);
	Err(Error::Unsupported(format!(
		"operator `{op}` at node `{}` is not supported by the deterministic CPU backend (tract); \
		 export the model without it (another opset or exporter option), or move that step out \
		 of the graph",
		node.name
	)))
}

fn valid_name(name: &str) -> bool {
	!name.is_empty() && name.len() <= citrate_tensor_primitives::MAX_NAME_LEN
}
