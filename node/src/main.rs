//! The Citrate node.

#![warn(missing_docs)]
// `sc_cli::Error` and `sc_service::Error` are polkadot-sdk's types, large by design; the
// node returns them as the framework expects.
#![allow(clippy::result_large_err)]

mod chain_client;
mod chain_spec;
mod cli;
mod command;
mod inference_service;
mod mcp;
mod model_cmd;
mod progress_bars;
mod rpc;
mod service;
mod signer;
mod storage_cmd;

fn main() -> polkadot_sdk::sc_cli::Result<()> {
	command::run()
}
