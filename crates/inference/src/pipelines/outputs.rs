//! Which of a model's outputs a pipeline reads. Exporters add outputs (an int64 echo of the
//! inputs, a pooled vector beside the hidden state) in any order, so a pipeline picks its
//! tensor by name and form, never by position:
//! - the name the package's `citrate.json` gives (`{"output": "sentence_embedding"}`), which
//!   must exist and have a form the pipeline reads;
//! - else the first f32 output of the forms the pipeline reads, in its order of preference.
//!
//! The choice is made at load where the model declares its outputs' dtypes and ranks (models
//! planned per input shape declare only names), and logged.

use super::ModelFiles;
use crate::{onnx::OnnxModel, Error, Result};
use citrate_tensor_primitives::{DType, Tensor, TensorSpec};

/// The package file that configures pipelines.
pub const PACKAGE_CONFIG: &str = "citrate.json";

/// The output a pipeline reads: by name, or (models planned per input shape, single-output
/// encoders) the first output of a form it reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputChoice {
	name: Option<String>,
	/// f32 ranks the pipeline reads, preferred first.
	ranks: &'static [usize],
	what: &'static str,
}

/// The `output` that `citrate.json` names, if it does.
pub fn configured_output(files: &ModelFiles) -> Result<Option<String>> {
	let Some(json) = files.get(PACKAGE_CONFIG) else { return Ok(None) };
	let bad = |why: String| Error::InvalidModel(format!("{PACKAGE_CONFIG}: {why}"));
	let config: serde_json::Value = serde_json::from_slice(json).map_err(|e| bad(e.to_string()))?;
	match config.get("output") {
		None => Ok(None),
		Some(serde_json::Value::String(name)) => Ok(Some(name.clone())),
		Some(other) => Err(bad(format!("`output` must be a tensor name, not {other}"))),
	}
}

fn form(spec: &TensorSpec) -> String {
	format!("{} of rank {}", spec.dtype, spec.dims.len())
}

impl OutputChoice {
	/// Chooses among `model`'s outputs the `what` (e.g. "embedding") pipeline reads: f32 of one
	/// of `ranks`, or `configured` by name. Refuses a model with no such output, naming its
	/// outputs.
	pub fn for_model(
		model: &OnnxModel,
		configured: Option<String>,
		ranks: &'static [usize],
		what: &'static str,
	) -> Result<Self> {
		let fits = |spec: &TensorSpec| spec.dtype == DType::F32 && ranks.contains(&spec.dims.len());
		let wanted = |rank: usize| format!("f32 of rank {rank}");
		let expected = ranks.iter().map(|&r| wanted(r)).collect::<Vec<_>>().join(" or ");
		let name = match (model.outputs(), configured) {
			(Some(specs), Some(name)) => match specs.iter().find(|s| s.name() == name) {
				Some(spec) if fits(spec) => name,
				Some(spec) => {
					return Err(Error::InvalidModel(format!(
						"{PACKAGE_CONFIG} names output `{name}` for the {what}, which is {}; \
						 the {what} must be {expected}",
						form(spec)
					)))
				}
				None => return Err(unknown_output(&name, model.output_names())),
			},
			(None, Some(name)) if model.output_names().contains(&name) => name,
			(None, Some(name)) => return Err(unknown_output(&name, model.output_names())),
			(Some(specs), None) => {
				let chosen = ranks
					.iter()
					.find_map(|&rank| {
						specs.iter().find(|s| s.dtype == DType::F32 && s.dims.len() == rank)
					})
					.ok_or_else(|| {
						let outputs: Vec<String> =
							specs.iter().map(|s| format!("`{}` ({})", s.name(), form(s))).collect();
						Error::InvalidModel(format!(
							"no output can be the {what}: it must be {expected}, and the model's \
							 outputs are {}; name one with `output` in {PACKAGE_CONFIG}",
							outputs.join(", ")
						))
					})?;
				chosen.name().to_string()
			}
			// Dtypes and ranks come with the first run: pick then.
			(None, None) => {
				return Ok(OutputChoice { name: None, ranks, what });
			}
		};
		log::info!("the {what} is output `{name}`");
		Ok(OutputChoice { name: Some(name), ranks, what })
	}

	/// The first output, whatever it is (models with one output, e.g. candle's).
	pub fn first(ranks: &'static [usize], what: &'static str) -> Self {
		OutputChoice { name: None, ranks, what }
	}

	/// The chosen tensor among a run's `outputs` for a batch of `rows`, and its rank.
	pub fn pick<'a>(&self, outputs: &'a [Tensor], rows: usize) -> Result<(&'a Tensor, usize)> {
		let fits = |t: &Tensor| t.dtype == DType::F32 && self.ranks.contains(&t.shape.len());
		let found = match &self.name {
			Some(name) => outputs.iter().find(|t| &t.name == name),
			None => self
				.ranks
				.iter()
				.find_map(|&rank| outputs.iter().find(|t| fits(t) && t.shape.len() == rank)),
		};
		match found {
			Some(tensor) if fits(tensor) && tensor.shape[0] as usize != rows => {
				Err(Error::Pipeline(format!(
					"output `{}` has {} rows for a batch of {rows}",
					tensor.name, tensor.shape[0]
				)))
			}
			Some(tensor) if fits(tensor) => Ok((tensor, tensor.shape.len())),
			Some(tensor) => Err(Error::Pipeline(format!(
				"output `{}` is {} of rank {}, not what the {} must be",
				tensor.name,
				tensor.dtype,
				tensor.shape.len(),
				self.what
			))),
			None => Err(Error::Pipeline(format!("the model returned no {}", self.what))),
		}
	}
}

fn unknown_output(name: &str, outputs: &[String]) -> Error {
	Error::InvalidModel(format!(
		"{PACKAGE_CONFIG} names output `{name}`, but the model's outputs are [{}]",
		outputs.join(", ")
	))
}
