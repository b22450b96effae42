//! Why an import was refused. Every message names the file or field and what was expected.

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
