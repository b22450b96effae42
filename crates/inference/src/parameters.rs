//! How many trained parameters a weights file holds (what the registry records), read from
//! the file's structure without loading the model.

use crate::{Error, Result};

/// Elements of every weight of an ONNX graph (and its subgraphs'): its initializers and the
/// tensors of its `Constant` nodes, which some exporters (PaddlePaddle's, OpenVINO's) use for
/// weights instead.
pub fn onnx_parameters(bytes: &[u8]) -> Result<u64> {
	use tract_onnx::{pb, prelude::Framework};
	let proto = tract_onnx::onnx()
		.proto_model_for_read(&mut &bytes[..])
		.map_err(|e| Error::InvalidModel(format!("not an ONNX protobuf: {e}")))?;
	fn elements(tensor: &pb::TensorProto) -> u64 {
		tensor.dims.iter().map(|&d| d.max(0) as u64).product()
	}
	fn count(graph: &pb::GraphProto) -> u64 {
		let initializers: u64 = graph.initializer.iter().map(elements).sum();
		let constants: u64 = graph
			.node
			.iter()
			.filter(|n| n.op_type == "Constant")
			.flat_map(|n| &n.attribute)
			.filter_map(|a| a.t.as_ref())
			.map(elements)
			.sum();
		let subgraphs: u64 = graph
			.node
			.iter()
			.flat_map(|n| &n.attribute)
			.flat_map(|a| a.g.iter().chain(&a.graphs))
			.map(count)
			.sum();
		initializers + constants + subgraphs
	}
	Ok(proto.graph.as_ref().map_or(0, count))
}

/// Tensors PyTorch checkpoints store that are buffers, not trained parameters: GPT-2's causal
/// masks, BERT's and CLIP's position and token-type id tables.
const BUFFERS: &[&str] = &[".attn.bias", ".attn.masked_bias", "position_ids", "token_type_ids"];

/// Elements of every trained tensor of a safetensors file, from its header ([`BUFFERS`] aside).
pub fn safetensors_parameters(bytes: &[u8]) -> Result<u64> {
	let bad = |why: String| Error::InvalidModel(format!("not a valid safetensors file: {why}"));
	let length = bytes
		.get(..8)
		.map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()))
		.ok_or_else(|| bad("shorter than its 8-byte header length".into()))?;
	let header = usize::try_from(length)
		.ok()
		.and_then(|n| bytes.get(8..8usize.checked_add(n)?))
		.ok_or_else(|| bad(format!("header length {length} does not fit the file")))?;
	let header: serde_json::Map<String, serde_json::Value> =
		serde_json::from_slice(header).map_err(|e| bad(format!("header is not JSON: {e}")))?;
	Ok(header
		.iter()
		.filter(|(name, _)| *name != "__metadata__" && !BUFFERS.iter().any(|b| name.ends_with(b)))
		.map(|(_, info)| {
			info.get("shape")
				.and_then(|s| s.as_array())
				.map_or(0, |dims| dims.iter().map(|d| d.as_u64().unwrap_or(0)).product())
		})
		.sum())
}

/// Elements of every tensor of a GGUF file, from its tensor infos.
#[cfg(feature = "candle")]
pub fn gguf_parameters(bytes: &[u8]) -> Result<u64> {
	let content =
		candle_core::quantized::gguf_file::Content::read(&mut std::io::Cursor::new(bytes))
			.map_err(|e| Error::InvalidModel(format!("not a GGUF file: {e}")))?;
	Ok(content.tensor_infos.values().map(|t| t.shape.elem_count() as u64).sum())
}
