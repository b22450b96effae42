//! Adding a package to the node's block store (pinned) or to an IPFS node's RPC API (as a CAR
//! of the package's own blocks, so the daemon holds exactly the DAG whose CID was computed).

use super::{failed, now_nanos};
use citrate_import::{Prepared, Reporter};
use citrate_storage::{
	import_tree, CarWriter, FsBlockStore, ImportOptions as CidOptions, KuboClient, Observed,
	TreeOptions,
};
use polkadot_sdk::{sc_cli, sc_service::BasePath};
use std::{path::Path, time::Duration};

/// Adds the package to the node's store (pinned) or the Kubo API; the CID must be the one
/// computed.
pub(super) async fn add(
	prepared: &Prepared,
	ipfs_api: Option<&str>,
	base_path: Option<&Path>,
	progress: &Reporter,
) -> sc_cli::Result<()> {
	let seen = |bytes| progress.advance(bytes);
	let cid = if let Some(api) = ipfs_api {
		// Written as a CAR of our own blocks and sent to `dag/import`: the daemon stores
		// exactly the DAG whose CID was computed, whatever its own `add` defaults.
		let root = prepared.cid.parse::<cid::Cid>().map_err(failed)?;
		let car = std::env::temp_dir().join(format!(
			"citrate-import-{}-{}.car",
			std::process::id(),
			now_nanos()
		));
		progress.start("writing the package as a CAR", Some(prepared.size_bytes));
		let written = write_car(&prepared.dir, &root, &car, seen);
		let uploaded = match written {
			Ok(bytes) => {
				progress.start(&format!("uploading it to the IPFS node at {api}"), Some(bytes));
				let kubo = KuboClient::new(api, Duration::from_secs(600)).map_err(failed)?;
				let reporter = progress.clone();
				kubo.dag_import_observed(&car, move |bytes| reporter.advance(bytes))
					.await
					.map_err(failed)
			}
			Err(error) => Err(error),
		};
		let _ = std::fs::remove_file(&car);
		let roots = uploaded?;
		if !roots.iter().any(|r| r.hash() == root.hash()) {
			return Err(failed(format!(
				"the IPFS node imported {roots:?}, not the package {root}"
			)));
		}
		prepared.cid.clone()
	} else {
		progress.start("adding the package to the store", Some(prepared.size_bytes));
		let store = FsBlockStore::open(store_dir(base_path)).map_err(failed)?;
		let mut writer = store.background_writer();
		let tree = import_tree(
			&prepared.dir,
			CidOptions::default(),
			TreeOptions::default(),
			&mut Observed { sink: &mut writer, seen },
		)
		.map_err(failed)?;
		writer.finish().map_err(failed)?;
		store.pin(&tree.root).map_err(failed)?;
		tree.root.to_string()
	};
	if cid != prepared.cid {
		return Err(failed(format!("the store gave {cid}, the package is {}", prepared.cid)));
	}
	Ok(())
}

/// The block store of the node with base path `base_path` (the node's default when `None`).
pub(crate) fn store_dir(base_path: Option<&Path>) -> std::path::PathBuf {
	let base = match base_path {
		Some(path) => path.to_path_buf(),
		None => BasePath::from_project("", "", "citrate-node").path().to_path_buf(),
	};
	base.join("ipfs")
}

/// Writes the DAG of `dir` as a CARv1 rooted at `root` into `car`; gives the CAR's bytes.
fn write_car(
	dir: &std::path::Path,
	root: &cid::Cid,
	car: &std::path::Path,
	seen: impl FnMut(u64),
) -> sc_cli::Result<u64> {
	let file = std::fs::File::create(car).map_err(|e| failed(format!("{}: {e}", car.display())))?;
	let mut writer = CarWriter::new(std::io::BufWriter::new(file), root).map_err(failed)?;
	let tree = import_tree(
		dir,
		CidOptions::default(),
		TreeOptions::default(),
		&mut Observed { sink: &mut writer, seen },
	)
	.map_err(failed)?;
	if tree.root != *root {
		return Err(failed(format!("the package is {}, its files give {}", root, tree.root)));
	}
	writer.finish().map_err(failed)?;
	std::fs::metadata(car).map(|m| m.len()).map_err(failed)
}
