//! Citrate model storage.
//!
//! [`importer`] turns a byte stream into a UnixFS file DAG with exactly the CIDs Kubo's
//! `ipfs add` gives it, in constant memory whatever the file size. [`store`] keeps blocks on
//! disk and [`exporter`] streams a file back out, refusing any block that does not match its
//! CID.

pub mod car;
pub use citrate_ipfs_primitives::dag_pb;
pub mod exporter;
pub mod gateway;
pub mod importer;
pub mod remote;
pub mod store;

pub use car::{export_car, import_car, CarError};
pub use exporter::{export, BlockSource, ExportError};
pub use importer::{import, BlockSink, CidMode, ImportOptions, Imported};
pub use remote::{CachingSource, GatewayFetcher, KuboClient, RemoteError, Upstream};
pub use store::{BackgroundWriter, FsBlockStore, StoreError};
