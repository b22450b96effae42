//! Caps that keep one request or one model from taking the node down.

use std::time::Duration;

/// Caps checked before a model loads and before each request runs.
///
/// The defaults suit an inference provider on a small machine: model files up to 1 GiB (f32
/// GPT-2 124M is 548 MB, CLIP ViT-B/32 605 MB), inputs up
/// to 16 Mi elements, 200 GFLOPs and 4 GiB of estimated memory per request, 30 s of wall time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
	/// Largest model file, in bytes, checked before parsing.
	pub max_model_bytes: u64,
	/// Most nodes in a model graph.
	pub max_graph_nodes: usize,
	/// Most elements in one input tensor.
	pub max_input_elements: u64,
	/// Most elements in one tensor the model holds or computes from its constants.
	pub max_model_tensor_elements: u64,
	/// Most floating-point operations one request may need (from the cost model).
	pub max_flops: u128,
	/// Most memory one request may need: weights plus peak activations (from the cost model).
	pub max_memory_bytes: u64,
	/// Longest a request may run; checked between graph nodes, so a request stops within one
	/// node of the limit.
	pub max_wall_time: Duration,
}

impl Default for Limits {
	fn default() -> Self {
		Limits {
			max_model_bytes: 1 << 30,
			max_graph_nodes: 100_000,
			max_input_elements: 16 << 20,
			max_model_tensor_elements: 256 << 20,
			max_flops: 200_000_000_000,
			max_memory_bytes: 4 << 30,
			max_wall_time: Duration::from_secs(30),
		}
	}
}
