//! Citrate model storage.
//!
//! [`importer`] turns a byte stream into a UnixFS file DAG with exactly the CIDs Kubo's
//! `ipfs add` gives it, in constant memory whatever the file size.

pub mod dag_pb;
pub mod importer;

pub use importer::{import, BlockSink, CidMode, ImportOptions, Imported};
