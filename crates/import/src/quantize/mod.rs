//! `--quantize int8`: weight-only int8 quantization of an ONNX model's constant weights.
//!
//! Every float32 constant — an initializer, or a `Constant` node's value (paddle2onnx stores
//! weights so) — that is the weight of a `MatMul` (input B, rank 2), a `Gemm` (input B, rank
//! 2, `transB` honoured) or a `Conv` (input W), and nothing else, is replaced by int8 values
//! with one f32 scale per output channel (symmetric: zero point 0, `scale = max|w| / 127`,
//! `q = round(w / scale)`, a channel of zeros scale 1). Nodes put at the front of the graph
//! give the float weight back under a new name, which the consumers read instead. The output
//! channel is MatMul's column (axis 1), Gemm's column (axis 1, or axis 0 with `transB`) and
//! Conv's output feature map (axis 0).
//!
//! How the weight is given back depends on the model's default-domain opset, which is never
//! changed (moving a model to another opset changes what some operators mean — Softmax's
//! axis, Squeeze's and Split's inputs, Resize's modes — and a table of which is a risk for no
//! gain):
//! - opset ≥ 13: `DequantizeLinear(q, scale [C], zero_point [C] int8 zeros, axis)`, the
//!   standard per-axis form;
//! - opset 7 to 12, whose `DequantizeLinear` takes one scale per tensor only:
//!   `Mul(Cast(q, to = FLOAT), scale)` with the scale shaped to broadcast along the channel
//!   axis (`[C, 1, 1, 1]`, `[1, N]`…) — the same arithmetic (`q · scale` in f32, exactly what
//!   `DequantizeLinear` computes with a zero point of 0), still per channel. Per-tensor scales
//!   were tried and rejected: on PP-OCRv4 (opset 12) they break the detector (no text found
//!   where the original reads two lines), per-channel scales read the same text;
//! - older opsets (no broadcasting `Mul`) are refused.
//!
//! What is left alone:
//! - tensors under [`MIN_ELEMENTS`] elements (biases, depthwise kernels of small layers: their
//!   bytes do not matter, their precision might);
//! - constants with any other use — an input of another node or slot, a graph output, a name
//!   a subgraph (`If`, `Loop` bodies) reads, a name defined twice — and initializers stored
//!   outside the file;
//! - everything else in the file, byte for byte: the rewrite works on the protobuf wire
//!   format, so fields this crate's ONNX schema does not know (metadata properties, newer
//!   fields) survive. Only the quantized initializers, the `Constant` nodes quantized (their
//!   values become initializers), their consumers' weight input, graph inputs naming a
//!   quantized initializer (IR < 4 models list initializers as inputs; the new initializers'
//!   entries replace it) and the new nodes change.
//!
//! A weight of more than [`MAX_CHUNK_ELEMENTS`] is given back in chunks of channels joined by
//! a `Concat` (see there): the engine must fold the dequantization into a float constant at
//! load, and does so for chunks of at most 4 MiB.
//!
//! The result is a function of the input bytes alone: no hash map order, no clock, no thread
//! count enters it, so the same model quantizes to the same bytes (and package CID) anywhere.

use std::collections::{BTreeMap, BTreeSet};
use tract_onnx::pb;
use wire::{
	fields, put_len, rename_weight_input, sub_message, GRAPH_INITIALIZER, GRAPH_INPUT, GRAPH_NODE,
	MODEL_GRAPH,
};

mod plan;
mod values;
mod wire;

use plan::{collect_names, plan, Source};
pub use values::quantize_values;

/// Weights with fewer elements are not quantized.
pub const MIN_ELEMENTS: usize = 1024;
/// The opset whose `DequantizeLinear` takes a per-axis scale.
pub const PER_AXIS_OPSET: i64 = 13;
/// The oldest opset quantized: `Mul` broadcasts from opset 7.
pub const MIN_OPSET: i64 = 7;

/// A quantization scheme `--quantize` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantization {
	/// Weight-only int8 (see the module docs).
	Int8,
}

impl Quantization {
	/// Every scheme, by name.
	pub const ALL: [Quantization; 1] = [Quantization::Int8];

	pub fn name(self) -> &'static str {
		match self {
			Quantization::Int8 => "int8",
		}
	}

	/// The scheme named `name`.
	pub fn from_name(name: &str) -> Option<Self> {
		Self::ALL.into_iter().find(|q| q.name() == name)
	}

	/// What it does, in the words the attestation records.
	pub fn scheme(self) -> &'static str {
		match self {
			Quantization::Int8 => {
				"int8 weight-only: float32 MatMul/Gemm/Conv weights (initializers or Constant \
				 values) of at least 1024 elements, symmetric (zero point 0, scale max|w|/127, \
				 round half away from zero), one scale per output channel; dequantized by \
				 DequantizeLinear (opset >= 13) or Mul(Cast) (opsets 7 to 12), in chunks of at \
				 most 2^20 values joined by Concat"
			}
		}
	}
}

/// How a file's weights are given back as floats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dequantization {
	/// `DequantizeLinear` with a per-axis scale (opset ≥ 13).
	DequantizeLinear,
	/// `Mul(Cast(q), scale)`, the scale broadcast along the channel axis (opset 7 to 12).
	CastMul,
}

/// What quantizing one ONNX file did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
	/// Weights quantized.
	pub tensors: usize,
	/// Their elements.
	pub elements: u64,
	pub dequantization: Dequantization,
	/// The model's default-domain opset (unchanged).
	pub opset: i64,
	/// The file's bytes before and after.
	pub bytes_before: u64,
	pub bytes_after: u64,
}

pub(super) fn is_default_domain(domain: &str) -> bool {
	domain.is_empty() || domain == "ai.onnx"
}

/// Quantizes the ONNX model `bytes` (see the module docs). A model with nothing to quantize
/// comes back unchanged, with a report of 0 tensors.
pub fn quantize_onnx(bytes: &[u8]) -> Result<(Vec<u8>, Report), String> {
	use prost::Message;
	let model = pb::ModelProto::decode(bytes).map_err(|e| format!("not an ONNX protobuf: {e}"))?;
	let graph = model.graph.as_ref().ok_or("the model has no graph")?;
	let opset = model
		.opset_import
		.iter()
		.filter(|o| is_default_domain(&o.domain))
		.map(|o| o.version)
		.max()
		.ok_or("the model imports no default-domain (ai.onnx) opset")?;
	let dequantization = if opset >= PER_AXIS_OPSET {
		Dequantization::DequantizeLinear
	} else {
		Dequantization::CastMul
	};
	let plan = plan(graph)?;
	if plan.is_empty() {
		let report = Report {
			tensors: 0,
			elements: 0,
			dequantization,
			opset,
			bytes_before: bytes.len() as u64,
			bytes_after: bytes.len() as u64,
		};
		return Ok((bytes.to_vec(), report));
	}
	if opset < MIN_OPSET {
		return Err(format!(
			"the model's opset {opset} is older than {MIN_OPSET}, whose Mul broadcasts: its \
			 weights cannot be dequantized per channel"
		));
	}

	// New names, unique in the whole model.
	let mut names = BTreeSet::new();
	collect_names(graph, &mut names);
	let mut fresh = |base: String| {
		let mut name = base.clone();
		let mut n = 2;
		while names.contains(&name) {
			name = format!("{base}_{n}");
			n += 1;
		}
		names.insert(name.clone());
		name
	};

	// Quantize each planned weight: its replacement initializers, DequantizeLinear node and
	// the name its consumers read.
	let mut replacements: BTreeMap<usize, Vec<Vec<u8>>> = BTreeMap::new();
	let mut input_replacements: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
	// Constant nodes whose value becomes initializers, appended to the graph.
	let mut dropped_nodes = BTreeSet::new();
	let (mut appended_initializers, mut appended_inputs) = (vec![], vec![]);
	let mut renamed: BTreeMap<String, String> = BTreeMap::new();
	let mut nodes = vec![];
	let mut elements = 0u64;
	for weight in &plan {
		let tensor = match weight.source {
			Source::Initializer(index) => &graph.initializer[index],
			Source::Constant(index) => graph.node[index]
				.attribute
				.iter()
				.find_map(|a| a.t.as_ref())
				.ok_or("a Constant node without its value")?,
		};
		let values = float_values(tensor).map_err(|e| format!("weight `{}`: {e}", weight.name))?;
		let (quantized, scales) = quantize_values(&values, &weight.shape, Some(weight.axis))
			.map_err(|e| format!("weight `{}`: {e}", weight.name))?;
		elements += values.len() as u64;
		let output = fresh(format!("{}_dequantized", weight.name));
		let chunks = chunks(&weight.shape, weight.axis);
		let mut initializers = vec![];
		let mut chunk_outputs = vec![];
		for (i, &(from, to)) in chunks.iter().enumerate() {
			let suffix = if chunks.len() == 1 { String::new() } else { format!("_{i}") };
			let q_name = fresh(format!("{}_quantized{suffix}", weight.name));
			let scale_name = fresh(format!("{}_scale{suffix}", weight.name));
			let chunk_output = if chunks.len() == 1 {
				output.clone()
			} else {
				fresh(format!("{}_dequantized{suffix}", weight.name))
			};
			let mut dims = tensor.dims.clone();
			dims[weight.axis] = (to - from) as i64;
			let chunk_scales = &scales[from..to];
			initializers.push(pb::TensorProto {
				name: q_name.clone(),
				dims,
				data_type: pb::tensor_proto::DataType::Int8 as i32,
				raw_data: slice_axis(&quantized, &weight.shape, weight.axis, from, to)
					.iter()
					.map(|&q| q as u8)
					.collect(),
				..Default::default()
			});
			let scale = |dims| pb::TensorProto {
				name: scale_name.clone(),
				dims,
				data_type: pb::tensor_proto::DataType::Float as i32,
				raw_data: chunk_scales.iter().flat_map(|s| s.to_le_bytes()).collect(),
				..Default::default()
			};
			match dequantization {
				Dequantization::DequantizeLinear => {
					let zero_name = fresh(format!("{}_zero_point{suffix}", weight.name));
					initializers.push(scale(vec![chunk_scales.len() as i64]));
					initializers.push(pb::TensorProto {
						name: zero_name.clone(),
						dims: vec![chunk_scales.len() as i64],
						data_type: pb::tensor_proto::DataType::Int8 as i32,
						raw_data: vec![0; chunk_scales.len()],
						..Default::default()
					});
					nodes.push(node(
						fresh(format!("{}_DequantizeLinear{suffix}", weight.name)),
						"DequantizeLinear",
						vec![q_name, scale_name, zero_name],
						chunk_output.clone(),
						int_attribute("axis", weight.axis as i64),
					));
				}
				Dequantization::CastMul => {
					// [1, …, C, …, 1]: the scale broadcasts along the channel axis.
					let mut scale_dims = vec![1; weight.shape.len()];
					scale_dims[weight.axis] = chunk_scales.len() as i64;
					initializers.push(scale(scale_dims));
					let cast = fresh(format!("{}_cast{suffix}", weight.name));
					nodes.push(node(
						fresh(format!("{}_Cast{suffix}", weight.name)),
						"Cast",
						vec![q_name],
						cast.clone(),
						int_attribute("to", pb::tensor_proto::DataType::Float as i64),
					));
					nodes.push(
						pb::NodeProto {
							input: vec![cast, scale_name],
							output: vec![chunk_output.clone()],
							name: fresh(format!("{}_Mul{suffix}", weight.name)),
							op_type: "Mul".into(),
							..Default::default()
						}
						.encode_to_vec(),
					);
				}
			}
			chunk_outputs.push(chunk_output);
		}
		if chunks.len() > 1 {
			nodes.push(node(
				fresh(format!("{}_Concat", weight.name)),
				"Concat",
				chunk_outputs,
				output.clone(),
				int_attribute("axis", weight.axis as i64),
			));
		}
		let encoded = initializers.iter().map(Message::encode_to_vec).collect();
		let inputs = initializers.iter().map(|t| value_info(t).encode_to_vec()).collect();
		match weight.source {
			Source::Initializer(index) => {
				replacements.insert(index, encoded);
				input_replacements.insert(weight.name.clone(), inputs);
			}
			Source::Constant(index) => {
				dropped_nodes.insert(index);
				appended_initializers.extend::<Vec<_>>(encoded);
				// IR < 4: every initializer is a graph input too.
				if model.ir_version < 4 {
					appended_inputs.extend::<Vec<_>>(inputs);
				}
			}
		}
		renamed.insert(weight.name.clone(), output);
	}

	// The graph, field by field: everything not replaced is copied as it is.
	let graph_bytes = sub_message(bytes, MODEL_GRAPH)?;
	let mut new_graph = Vec::with_capacity(graph_bytes.len());
	let (mut node_index, mut initializer_index) = (0usize, 0usize);
	let mut nodes_written = false;
	for field in fields(graph_bytes)? {
		match field.number {
			GRAPH_NODE => {
				if !nodes_written {
					for node in &nodes {
						put_len(&mut new_graph, GRAPH_NODE, node);
					}
					nodes_written = true;
				}
				let node = &graph.node[node_index];
				node_index += 1;
				if dropped_nodes.contains(&(node_index - 1)) {
					continue;
				}
				if is_default_domain(&node.domain)
					&& node.input.get(1).is_some_and(|i| renamed.contains_key(i))
				{
					put_len(
						&mut new_graph,
						GRAPH_NODE,
						&rename_weight_input(field.payload, &renamed)?,
					);
				} else {
					new_graph.extend_from_slice(field.raw);
				}
			}
			GRAPH_INITIALIZER => {
				match replacements.get(&initializer_index) {
					Some(tensors) => {
						for tensor in tensors {
							put_len(&mut new_graph, GRAPH_INITIALIZER, tensor);
						}
					}
					None => new_graph.extend_from_slice(field.raw),
				}
				initializer_index += 1;
			}
			GRAPH_INPUT => {
				let input = pb::ValueInfoProto::decode(field.payload)
					.map_err(|e| format!("a graph input: {e}"))?;
				match input_replacements.get(&input.name) {
					Some(entries) => {
						for entry in entries {
							put_len(&mut new_graph, GRAPH_INPUT, entry);
						}
					}
					None => new_graph.extend_from_slice(field.raw),
				}
			}
			_ => new_graph.extend_from_slice(field.raw),
		}
	}
	if !nodes_written {
		return Err("the graph's nodes could not be found".into());
	}
	for tensor in &appended_initializers {
		put_len(&mut new_graph, GRAPH_INITIALIZER, tensor);
	}
	for input in &appended_inputs {
		put_len(&mut new_graph, GRAPH_INPUT, input);
	}

	// The model, field by field: the new graph.
	let mut out = Vec::with_capacity(bytes.len());
	for field in fields(bytes)? {
		match field.number {
			MODEL_GRAPH => put_len(&mut out, MODEL_GRAPH, &new_graph),
			_ => out.extend_from_slice(field.raw),
		}
	}
	let report = Report {
		tensors: plan.len(),
		elements,
		dequantization,
		opset,
		bytes_before: bytes.len() as u64,
		bytes_after: out.len() as u64,
	};
	Ok((out, report))
}

/// The most elements one `DequantizeLinear` gives: 4 MiB of f32, what tract folds into a
/// constant when it declutters a model (`CONST_FOLD_MEM_BUDGET`). A larger weight is
/// dequantized in chunks of channels joined by a `Concat`, which tract folds too (its output
/// is no larger than its inputs), so that every weight is a constant again before the
/// optimiser packs it for its matrix products; a dequantization left in the optimised graph
/// feeds tract's weight packing, which citrate-inference's own folding cannot fold
/// (`Trying to substitute … PackedExoticFact`).
pub const MAX_CHUNK_ELEMENTS: usize = 1 << 20;

/// The channel ranges a weight of `shape` is dequantized in along `axis`: one, unless it
/// holds more than [`MAX_CHUNK_ELEMENTS`] (and a channel fewer).
fn chunks(shape: &[usize], axis: usize) -> Vec<(usize, usize)> {
	let channels = shape[axis];
	let per_channel = shape.iter().product::<usize>() / channels.max(1);
	let step = (MAX_CHUNK_ELEMENTS / per_channel.max(1)).clamp(1, channels.max(1));
	(0..channels).step_by(step).map(|from| (from, (from + step).min(channels))).collect()
}

/// The values of channels `from..to` along `axis` of a tensor of `shape`, in order.
fn slice_axis<T: Copy>(
	values: &[T],
	shape: &[usize],
	axis: usize,
	from: usize,
	to: usize,
) -> Vec<T> {
	let channels = shape[axis];
	let inner: usize = shape[axis + 1..].iter().product();
	let outer: usize = shape[..axis].iter().product();
	let mut out = Vec::with_capacity(outer * (to - from) * inner);
	for o in 0..outer {
		let base = o * channels * inner;
		out.extend_from_slice(&values[base + from * inner..base + to * inner]);
	}
	out
}

/// A new node's bytes: one output, one attribute.
fn node(
	name: String,
	op: &str,
	inputs: Vec<String>,
	output: String,
	attribute: pb::AttributeProto,
) -> Vec<u8> {
	use prost::Message;
	pb::NodeProto {
		input: inputs,
		output: vec![output],
		name,
		op_type: op.into(),
		attribute: vec![attribute],
		..Default::default()
	}
	.encode_to_vec()
}

fn int_attribute(name: &str, value: i64) -> pb::AttributeProto {
	pb::AttributeProto {
		name: name.into(),
		r#type: pb::attribute_proto::AttributeType::Int as i32,
		i: value,
		..Default::default()
	}
}

/// A float32 initializer's values.
fn float_values(tensor: &pb::TensorProto) -> Result<Vec<f32>, String> {
	let elements: usize = tensor.dims.iter().map(|&d| d as usize).product();
	let values: Vec<f32> = if !tensor.raw_data.is_empty() {
		tensor
			.raw_data
			.chunks_exact(4)
			.map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
			.collect()
	} else {
		tensor.float_data.clone()
	};
	if values.len() != elements
		|| (!tensor.raw_data.is_empty() && tensor.raw_data.len() != 4 * elements)
	{
		return Err(format!("holds {} values for dims {:?}", values.len(), tensor.dims));
	}
	Ok(values)
}

/// A graph input entry declaring initializer `tensor` (IR < 4 models list them).
fn value_info(tensor: &pb::TensorProto) -> pb::ValueInfoProto {
	use pb::tensor_shape_proto::{dimension::Value, Dimension};
	pb::ValueInfoProto {
		name: tensor.name.clone(),
		r#type: Some(pb::TypeProto {
			value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
				elem_type: tensor.data_type,
				shape: Some(pb::TensorShapeProto {
					dim: tensor
						.dims
						.iter()
						.map(|&d| Dimension {
							value: Some(Value::DimValue(d)),
							..Default::default()
						})
						.collect(),
				}),
			})),
			..Default::default()
		}),
		..Default::default()
	}
}

#[cfg(test)]
mod tests;
