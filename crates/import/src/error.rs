//! Why an import was refused. Every message names the file or field and what was expected.

use crate::{
	agreement::{Agreement, Metric},
	quantize::Quantization,
};

/// An import refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
	/// The repository could not be found.
	#[error("{0}")]
	NotFound(String),
	/// A file of the repository is missing, unreadable or not what it should be.
	#[error("{file}: {problem}")]
	BadFile { file: String, problem: String },
	/// The engine cannot run this repository.
	#[error("{0}")]
	Unsupported(String),
	/// The engine refused the package it was given.
	#[error("the inference engine refused the package: {0}")]
	Engine(#[from] citrate_inference::Error),
	/// Reading or writing a file failed.
	#[error("{path}: {source}")]
	Io { path: String, source: std::io::Error },
	/// The optimised package agrees with the original less than required.
	#[error("{}", refusal(*.quantization, .agreement, *.threshold))]
	Disagreement { quantization: Quantization, agreement: Agreement, threshold: f64 },
}

/// `x` cut (never rounded up) to `digits` decimals, so a value below a threshold never
/// reads as equal to it.
pub(crate) fn floor_fixed(x: f64, digits: i32) -> String {
	let scale = 10f64.powi(digits);
	format!("{:.*}", digits as usize, (x * scale).floor() / scale)
}

fn refusal(quantization: Quantization, agreement: &Agreement, threshold: f64) -> String {
	let percent = |x: f64| format!("{}%", floor_fixed(x * 100.0, 2));
	let measured = match agreement.metric {
		Metric::Top1 => format!(
			"gives the original's top-1 label on {} of {} reference inputs ({})",
			agreement.agreeing,
			agreement.inputs,
			percent(agreement.value)
		),
		Metric::SameText => format!(
			"reads the original's text on {} of {} reference inputs ({})",
			agreement.agreeing,
			agreement.inputs,
			percent(agreement.value)
		),
		Metric::Cosine => format!(
			"has outputs of cosine similarity {} to the original's (the minimum over {} \
			 reference inputs; mean {})",
			floor_fixed(agreement.value, 6),
			agreement.inputs,
			floor_fixed(agreement.mean, 6)
		),
	};
	let required = match agreement.metric {
		Metric::Top1 | Metric::SameText => percent(threshold),
		Metric::Cosine => floor_fixed(threshold, 6),
	};
	format!(
		"--quantize {} refused: the quantized model {measured}, below the required {required}; \
		 nothing was written. --min-agreement <fraction> sets the threshold",
		quantization.name()
	)
}

impl Error {
	pub(crate) fn bad(file: impl Into<String>, problem: impl Into<String>) -> Self {
		Error::BadFile { file: file.into(), problem: problem.into() }
	}

	pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
		Error::Io { path: path.display().to_string(), source }
	}
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
