//! IPFS formats both the runtime (no_std) and the node use, so each rule lives in one place:
//!
//! - [`cid`]: textual and binary CID parsing;
//! - [`dag_pb`]: decoding the dag-pb/UnixFS blocks of a file;
//! - [`proof`]: the walk from a file's root to the leaf holding a byte offset, which pinners
//!   use to build proofs of holding and the runtime uses to check them.
//!
//! The crate has no dependencies; the caller supplies sha2-256 (`sp_io::hashing::sha2_256` in
//! the runtime, the `sha2` crate on the node).

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod cid;
pub mod dag_pb;
pub mod proof;
