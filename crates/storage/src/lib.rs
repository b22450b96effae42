//! Citrate model storage: IPFS-compatible, verified, usable without a chain.
//!
//! - [`block`]: the bottom layer: [`BlockSource`], the rule that a block matches its CID, and
//!   [`BlockError`];
//! - [`importer`] turns a byte stream into a UnixFS file DAG with exactly the CIDs Kubo's
//!   `ipfs add` gives it, in constant memory; [`directory`] does the same for a directory tree
//!   (`ipfs add -r`);
//! - [`store`] keeps blocks on disk, with pins and garbage collection;
//! - [`unixfs`] parses blocks, [`exporter`] writes files and trees back out, verified;
//! - [`car`] reads and writes CARv1; [`gateway`] serves any block source over HTTP as a
//!   trustless gateway; [`remote`] talks to Kubo daemons and other gateways, and [`fetch`]
//!   fills the store from them before a read needs the blocks;
//! - [`package`] reads a model package (a directory of named files, or one file) with its
//!   size checked before anything is allocated.

pub mod block;
pub mod car;
pub use cid;
pub use citrate_ipfs_primitives::dag_pb;
pub mod directory;
pub mod exporter;
pub mod fetch;
pub mod gateway;
pub mod importer;
pub mod package;
pub mod remote;
pub mod store;
pub mod unixfs;

pub use block::{BlockError, BlockSource, MAX_BLOCK_LEN};
pub use car::{export_car, import_car, CarError, CarWriter};
pub use directory::{import_tree, ImportedTree, TreeError, TreeOptions};
pub use exporter::{export, export_tree, resolve_path, ExportedTree, TreeLimits};
pub use fetch::{Fetcher, Upstream};
pub use importer::{import, BlockSink, CidMode, ImportOptions, Imported, Observed};
pub use package::{
	list_package, read_package, PackageError, PackageFile, PackageLimits, PackageListing,
};
pub use remote::{GatewayFetcher, KuboClient, RemoteError};
pub use store::{BackgroundWriter, FsBlockStore};
pub use unixfs::{parse_block, Entry, ExportError, Node};
