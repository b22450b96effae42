//! A registered model by its CID: its model package (a UnixFS directory of files named by
//! role, or one file named by its framework; see `citrate_storage::package`) read into the
//! engine's [`ModelFiles`], from the local store, else fetched from the configured gateways or
//! Kubo API, every block verified, the size checked before any file is fetched or allocated.

use crate::{pipelines::ModelFiles, Error, Result};
use citrate_model_primitives::Framework;
use citrate_storage::{read_package, BlockSource, Fetcher, PackageError, PackageLimits};

pub use citrate_storage::cid::Cid;

impl ModelFiles {
	/// The package `root` as held by `source` (no fetching); a single-file root is named by
	/// `framework`.
	pub fn from_package(
		root: &Cid,
		framework: Framework,
		limits: PackageLimits,
		source: &impl BlockSource,
	) -> Result<Self> {
		let files = read_package(root, framework.single_file_name(), limits, source)?;
		Ok(files.into_iter().collect())
	}
}

impl FromIterator<(String, Vec<u8>)> for ModelFiles {
	fn from_iter<I: IntoIterator<Item = (String, Vec<u8>)>>(files: I) -> Self {
		let mut model = ModelFiles::new();
		for (name, bytes) in files {
			model.insert(name, bytes);
		}
		model
	}
}

impl From<PackageError> for Error {
	fn from(error: PackageError) -> Self {
		match error {
			PackageError::TooLarge { size, limit } => Error::ModelTooLarge { size, limit },
			other => Error::Package(other.to_string()),
		}
	}
}

/// Loads registered models by CID through a [`Fetcher`] (the local store and its upstream).
#[derive(Clone)]
pub struct ModelLoader {
	fetcher: Fetcher,
	limits: PackageLimits,
}

impl ModelLoader {
	pub fn new(fetcher: Fetcher, limits: PackageLimits) -> Self {
		Self { fetcher, limits }
	}

	/// The store and upstream packages are read through; inputs named by CID too.
	pub fn fetcher(&self) -> &Fetcher {
		&self.fetcher
	}

	/// The model package `root`: fetched into the store where blocks are missing (and
	/// pinned), then read from the store on a blocking thread.
	pub async fn load(&self, root: &Cid, framework: Framework) -> Result<ModelFiles> {
		let name = framework.single_file_name();
		self.fetcher.fetch_package(root, name, self.limits).await?;
		let (store, root, limits) = (self.fetcher.store().clone(), *root, self.limits);
		tokio::task::spawn_blocking(move || {
			ModelFiles::from_package(&root, framework, limits, &store)
		})
		.await
		.map_err(|error| Error::Package(format!("reading the package: {error}")))?
	}
}

/// Parses a CID as users write it (`Qm…`, `bafy…`).
pub fn parse_cid(text: &str) -> Result<Cid> {
	Cid::try_from(text).map_err(|error| Error::Package(format!("{text:?} is not a CID: {error}")))
}
