//! The limits checked on a model's tensors: on the protobuf before tract sees it (node count,
//! initializer and constant element counts, no external data), and on the graph once typed.

use crate::{Error, Limits, Result};
use tract_onnx::{pb, prelude::TypedModel};

/// Refuses files whose declared tensors would make tract allocate more than the limits allow,
/// before tract allocates anything. Returns the bytes of weights the file declares.
pub(super) fn scan(proto: &pb::ModelProto, limits: &Limits) -> Result<u64> {
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
pub(super) fn check_model_tensors(model: &TypedModel, limits: &Limits) -> Result<()> {
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
