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
//!
//! The files: `load` (parsing, relaxed parsing, typing), `plan` (optimised, decluttered and
//! per-shape plans, and running them), `scan` (the limits checked on the protobuf and the
//! typed graph), `fold` (constant folding), `branch` (`If` resolved where its condition is known).

mod branch;
mod fold;
mod load;
mod plan;
mod scan;

pub use load::declared_inputs;
pub use plan::{OpTime, SHAPE_PLANS};

use crate::{Error, Limits, Result};
use citrate_tensor_primitives::{check_specs, SpecSide, Tensor};
pub use citrate_tensor_primitives::{Dim, TensorSpec};
use plan::Prepared;
use std::fmt;
use tract_onnx::prelude::DatumType;

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
	/// Inputs fixed at load to these values, by name (Silero's sample rate `sr`): the graph is
	/// typed and optimised with them as constants, so branches they decide (`If` on the
	/// sample rate) are resolved, and requests no longer send them.
	pub constant_inputs: Vec<Tensor>,
}

impl Default for LoadOptions {
	fn default() -> Self {
		LoadOptions {
			limits: Limits::default(),
			threads: 1,
			optimize: true,
			specialize: false,
			constant_inputs: vec![],
		}
	}
}

/// A loaded ONNX model, ready to serve any number of concurrent requests.
pub struct OnnxModel {
	prepared: Prepared,
	inputs: Vec<TensorSpec>,
	/// `None` for models planned per input shape, whose output types depend on the shapes.
	outputs: Option<Vec<TensorSpec>>,
	/// Names of the outputs, in order, which results carry.
	output_names: Vec<String>,
	options: LoadOptions,
	weight_bytes: u64,
	metadata: Vec<(String, String)>,
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

/// Pins every tract knob (kernel choices and thresholds, e.g. `TRACT_DISABLE_DIRECT_SPATIAL`)
/// to its compiled-in default, once per process. Tract reads knobs from the environment, and a
/// knob that changes which kernel a node gets can change its floating-point result: every
/// provider must plan a model the same way, so a `TRACT_*` variable is ignored, with a warning.
fn pin_tract_knobs() {
	static PINNED: std::sync::Once = std::sync::Once::new();
	PINNED.call_once(|| {
		use tract_onnx::tract_core::knobs;
		for knob in knobs::all() {
			if let Ok(value) = std::env::var(knob.name) {
				log::warn!(
					"{}={value} is ignored: the engine plans models with tract's defaults, as \
					 every provider must",
					knob.name
				);
			}
			knobs::set_str(knob.name, &(knob.default)());
		}
	});
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
	/// The inputs the model takes, in order.
	pub fn inputs(&self) -> &[TensorSpec] {
		&self.inputs
	}

	/// The outputs the model produces, in order; `None` for models planned per input shape,
	/// whose output dtypes and shapes are known only for given input shapes.
	pub fn outputs(&self) -> Option<&[TensorSpec]> {
		self.outputs.as_deref()
	}

	/// Names of the outputs, in order.
	pub fn output_names(&self) -> &[String] {
		&self.output_names
	}

	/// Checks a model's registered inputs and outputs (its on-chain metadata) against the
	/// graph: the same tensors in the same order, with the same names, dtypes and ranks, and no
	/// dim both fix to different sizes (`citrate_tensor_primitives::check_specs`). Outputs of
	/// models planned per input shape are compared by name only.
	pub fn check_registered(&self, inputs: &[TensorSpec], outputs: &[TensorSpec]) -> Result<()> {
		check_specs(SpecSide::Input, inputs, &self.inputs)?;
		match &self.outputs {
			Some(model) => check_specs(SpecSide::Output, outputs, model)?,
			None => {
				let registered: Vec<&str> = outputs.iter().map(TensorSpec::name).collect();
				if registered != self.output_names {
					let model = self.output_names.join(", ");
					return Err(Error::Metadata(format!(
						"the metadata registers outputs [{}] but the model has [{model}]",
						registered.join(", ")
					)));
				}
			}
		}
		Ok(())
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
}

/// The tract datum type's byte size, for the cost model.
pub(crate) fn datum_size(datum: DatumType) -> u64 {
	datum.size_of() as u64
}
