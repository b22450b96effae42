//! Where the server adds files for the chain to name by CID: packages from `import_model`,
//! and inputs too large to send inline. The node's block store (which the node serves and its
//! provider reads), or a Kubo API.

use crate::model_cmd::store_dir;
use citrate_storage::{cid::Cid, CidMode, FsBlockStore, ImportOptions, KuboClient};
use std::{path::PathBuf, time::Duration};

/// A Kubo RPC API, else the node's store under a base path (the node's default when `None`).
#[derive(Debug, Clone, Default)]
pub struct StoreTarget {
	pub ipfs_api: Option<String>,
	pub base_path: Option<PathBuf>,
}

impl StoreTarget {
	/// Adds `bytes` as a pinned UnixFS file (CIDv1, raw leaves); returns its CID.
	pub async fn add_file(&self, bytes: Vec<u8>) -> Result<Cid, String> {
		match &self.ipfs_api {
			Some(api) => {
				let path = std::env::temp_dir().join(format!(
					"citrate-mcp-input-{}-{}",
					std::process::id(),
					crate::model_cmd::now_nanos()
				));
				std::fs::write(&path, &bytes).map_err(|e| format!("{}: {e}", path.display()))?;
				let added = match KuboClient::new(api, Duration::from_secs(600)) {
					Ok(kubo) => kubo.add(&path, 1, 256 * 1024).await.map_err(|e| e.to_string()),
					Err(e) => Err(e.to_string()),
				};
				let _ = std::fs::remove_file(&path);
				added.map(|added| added.cid).map_err(|e| format!("adding to {api}: {e}"))
			}
			None => {
				let dir = store_dir(self.base_path.as_deref());
				tokio::task::spawn_blocking(move || {
					let failed = |e: &dyn std::fmt::Display| format!("{}: {e}", dir.display());
					let store = FsBlockStore::open(&dir).map_err(|e| failed(&e))?;
					let mut writer = store.background_writer();
					let options =
						ImportOptions { mode: CidMode::V1RawLeaves, ..Default::default() };
					let imported = citrate_storage::import(&bytes[..], options, &mut writer)
						.map_err(|e| failed(&e))?;
					writer.finish().map_err(|e| failed(&e))?;
					store.pin(&imported.root).map_err(|e| failed(&e))?;
					Ok(imported.root)
				})
				.await
				.map_err(|e| format!("adding the input: {e}"))?
			}
		}
	}
}
