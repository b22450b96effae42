//! `eth-rpc`: the Ethereum JSON-RPC server of pallet-revive, in front of a Citrate node.
//!
//! Built inside this workspace so its lock file pins the crates `pallet-revive` needs.
fn main() -> anyhow::Result<()> {
	pallet_revive_eth_rpc::cli::run(pallet_revive_eth_rpc::cli::CliCommand::parse_cli()?)
}
