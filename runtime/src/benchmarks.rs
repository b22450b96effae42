//! Runtime benchmarks, run through `citrate-node benchmark pallet` (feature
//! `runtime-benchmarks`); `scripts/benchmark.sh` regenerates the pallets' `weights.rs`.

use crate::*;
use alloc::{string::String, vec::Vec};
use polkadot_sdk::{
	frame_benchmarking::{self, baseline, BenchmarkBatch, BenchmarkConfig, BenchmarkList},
	frame_support::traits::{StorageInfo, StorageInfoTrait, WhitelistedStorageKeys},
	frame_system_benchmarking,
	sp_storage::TrackedStorageKey,
};

type SystemBench = frame_system_benchmarking::Pallet<Runtime>;
type BaselineBench = baseline::Pallet<Runtime>;

impl frame_system_benchmarking::Config for Runtime {}
impl baseline::Config for Runtime {}

frame_benchmarking::define_benchmarks!(
	[frame_benchmarking, BaselineBench]
	[frame_system, SystemBench]
	[pallet_balances, Balances]
	[pallet_timestamp, Timestamp]
	[pallet_sudo, Sudo]
	[pallet_model_registry, ModelRegistry]
	[pallet_model_access, ModelAccess]
	[pallet_pinning, Pinning]
	[pallet_inference, Inference]
);

pub fn benchmark_metadata(extra: bool) -> (Vec<BenchmarkList>, Vec<StorageInfo>) {
	let mut list = Vec::<BenchmarkList>::new();
	list_benchmarks!(list, extra);
	(list, AllPalletsWithSystem::storage_info())
}

pub fn dispatch_benchmark(config: BenchmarkConfig) -> Result<Vec<BenchmarkBatch>, String> {
	let whitelist: Vec<TrackedStorageKey> = AllPalletsWithSystem::whitelisted_storage_keys();
	let mut batches = Vec::<BenchmarkBatch>::new();
	let params = (&config, &whitelist);
	add_benchmarks!(params, batches);
	Ok(batches)
}
