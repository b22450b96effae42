//! Which of a graph's constants are weights to quantize: float32, large enough, read only
//! as a MatMul/Gemm/Conv weight, and where their output channels lie.

use super::{is_default_domain, MIN_ELEMENTS};
use std::collections::{BTreeMap, BTreeSet};
use tract_onnx::pb;

/// Where a weight's value is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Source {
	/// The graph's initializer at this index.
	Initializer(usize),
	/// The `Constant` node at this index (exporters such as paddle2onnx store weights so).
	Constant(usize),
}

/// A weight to quantize: where it is, the name its consumers read, its shape and its
/// output-channel axis.
pub(super) struct Weight {
	pub(super) source: Source,
	pub(super) name: String,
	pub(super) shape: Vec<usize>,
	pub(super) axis: usize,
}

/// The weights of `graph` to quantize: initializers in their order, then `Constant` nodes in
/// theirs.
pub(super) fn plan(graph: &pb::GraphProto) -> Result<Vec<Weight>, String> {
	// Every use of every name: (node, input slot) in this graph; names used anywhere else
	// (subgraphs, graph outputs) are not weights only.
	let mut uses: BTreeMap<&str, Vec<(usize, usize)>> = BTreeMap::new();
	for (n, node) in graph.node.iter().enumerate() {
		for (slot, input) in node.input.iter().enumerate() {
			uses.entry(input.as_str()).or_default().push((n, slot));
		}
	}
	let mut other_uses = BTreeSet::new();
	for node in &graph.node {
		for attribute in &node.attribute {
			for subgraph in attribute.g.iter().chain(&attribute.graphs) {
				collect_inputs(subgraph, &mut other_uses);
			}
		}
	}
	other_uses.extend(graph.output.iter().map(|o| o.name.clone()));
	// A name defined twice (an initializer and a node output, two initializers) is left alone.
	let mut definitions: BTreeMap<&str, usize> = BTreeMap::new();
	for name in graph
		.initializer
		.iter()
		.map(|t| t.name.as_str())
		.chain(graph.node.iter().flat_map(|n| n.output.iter().map(String::as_str)))
	{
		*definitions.entry(name).or_default() += 1;
	}

	let candidates = graph
		.initializer
		.iter()
		.enumerate()
		.map(|(index, tensor)| (Source::Initializer(index), tensor.name.as_str(), tensor))
		.chain(graph.node.iter().enumerate().filter_map(|(index, node)| {
			let [attribute] = &node.attribute[..] else { return None };
			let [output] = &node.output[..] else { return None };
			let tensor = attribute.t.as_ref()?;
			(node.op_type == "Constant"
				&& is_default_domain(&node.domain)
				&& attribute.name == "value")
				.then_some((Source::Constant(index), output.as_str(), tensor))
		}));
	let mut plan = vec![];
	for (source, name, tensor) in candidates {
		if tensor.data_type != pb::tensor_proto::DataType::Float as i32
			|| tensor.data_location == Some(pb::tensor_proto::DataLocation::External as i32)
			|| tensor.segment.is_some()
			|| definitions.get(name) != Some(&1)
			|| other_uses.contains(name)
		{
			continue;
		}
		let Ok(shape) =
			tensor.dims.iter().map(|&d| usize::try_from(d)).collect::<Result<Vec<_>, _>>()
		else {
			continue;
		};
		if shape.iter().product::<usize>() < MIN_ELEMENTS {
			continue;
		}
		let Some(uses) = uses.get(name) else { continue };
		let axes: Vec<Option<usize>> =
			uses.iter().map(|&(n, slot)| weight_axis(&graph.node[n], slot, shape.len())).collect();
		match axes.first() {
			Some(&Some(axis)) if axes.iter().all(|a| *a == Some(axis)) => {
				plan.push(Weight { source, name: name.to_string(), shape, axis })
			}
			_ => {}
		}
	}
	Ok(plan)
}

/// The output-channel axis of a weight of rank `rank` read by `node` at input `slot`, or
/// `None` if that is not a weight this module quantizes.
pub(super) fn weight_axis(node: &pb::NodeProto, slot: usize, rank: usize) -> Option<usize> {
	if !is_default_domain(&node.domain) || slot != 1 {
		return None;
	}
	match node.op_type.as_str() {
		"MatMul" if rank == 2 => Some(1),
		"Gemm" if rank == 2 => {
			let trans_b = node.attribute.iter().find(|a| a.name == "transB").map_or(0, |a| a.i);
			Some(if trans_b != 0 { 0 } else { 1 })
		}
		"Conv" if rank >= 3 => Some(0),
		_ => None,
	}
}

/// Every name a node of `graph` or its subgraphs reads.
pub(super) fn collect_inputs(graph: &pb::GraphProto, into: &mut BTreeSet<String>) {
	for node in &graph.node {
		into.extend(node.input.iter().cloned());
		for attribute in &node.attribute {
			for subgraph in attribute.g.iter().chain(&attribute.graphs) {
				collect_inputs(subgraph, into);
			}
		}
	}
}

/// Every name `graph` and its subgraphs define or read.
pub(super) fn collect_names(graph: &pb::GraphProto, into: &mut BTreeSet<String>) {
	into.extend(graph.initializer.iter().map(|t| t.name.clone()));
	into.extend(
		graph.input.iter().chain(&graph.output).chain(&graph.value_info).map(|v| v.name.clone()),
	);
	for node in &graph.node {
		into.insert(node.name.clone());
		into.extend(node.input.iter().chain(&node.output).cloned());
		for attribute in &node.attribute {
			for subgraph in attribute.g.iter().chain(&attribute.graphs) {
				collect_names(subgraph, into);
			}
		}
	}
}
