//! Weights of the inference pallet's calls.
//!
//! Provisional: `scripts/benchmark.sh` (a release build with `runtime-benchmarks`) replaces
//! this file with `SubstrateWeight` measured from the benchmarks. Until then `()`, which the
//! runtime uses, gives each call its storage accesses at ParityDB's costs plus a fixed 50 µs
//! of execution, an overestimate of what these calls do.

use polkadot_sdk::frame_support::weights::{constants::ParityDbWeight, Weight};

/// Weight functions needed for `pallet_inference`.
pub trait WeightInfo {
	fn register_provider() -> Weight;
	fn update_provider() -> Weight;
	fn set_provider_key() -> Weight;
	fn serve_model() -> Weight;
	fn stop_serving() -> Weight;
	fn pause() -> Weight;
	fn resume() -> Weight;
	fn leave(models: u32) -> Weight;
	fn withdraw_bond() -> Weight;
	fn on_model_removed(providers: u32) -> Weight;
	fn set_price() -> Weight;
	fn request_inference(input_len: u32) -> Weight;
	fn expire(requests: u32) -> Weight;
	fn submit_result(output_len: u32) -> Weight;
	fn authorize_submit_result() -> Weight;
	fn set_terms() -> Weight;
	fn commit_result() -> Weight;
	fn authorize_commit_result() -> Weight;
	fn reveal_result(votes: u32) -> Weight;
	fn authorize_reveal_result() -> Weight;
	fn purge_receipt() -> Weight;
	fn dispute_result(output_len: u32) -> Weight;
	fn request_inference_cid() -> Weight;
	fn bond_extra() -> Weight;
	fn authorize_dispute_result() -> Weight;
}

/// 50 µs of execution and `proof` bytes of proof size, plus the accesses.
fn accesses(reads: u64, writes: u64, proof: u64) -> Weight {
	Weight::from_parts(50_000_000, proof)
		.saturating_add(ParityDbWeight::get().reads_writes(reads, writes))
}

impl WeightInfo for () {
	// Providers, ProviderOfKey, Balances::Holds, System::Account.
	fn register_provider() -> Weight {
		accesses(4, 4, 8_000)
	}
	fn update_provider() -> Weight {
		accesses(1, 1, 4_000)
	}
	fn set_provider_key() -> Weight {
		accesses(2, 3, 6_000)
	}
	// Registry model, ProvidersOf, Providers.
	fn serve_model() -> Weight {
		accesses(3, 2, 12_000)
	}
	fn stop_serving() -> Weight {
		accesses(2, 2, 8_000)
	}
	fn pause() -> Weight {
		accesses(1, 1, 4_000)
	}
	fn resume() -> Weight {
		accesses(1, 1, 4_000)
	}
	fn leave(models: u32) -> Weight {
		accesses(1, 1, 4_000).saturating_add(accesses(1, 1, 4_000).saturating_mul(models.into()))
	}
	fn withdraw_bond() -> Weight {
		accesses(4, 4, 8_000)
	}
	fn on_model_removed(providers: u32) -> Weight {
		accesses(1, 1, 4_000).saturating_add(accesses(1, 1, 4_000).saturating_mul(providers.into()))
	}
	fn set_price() -> Weight {
		accesses(1, 1, 4_000)
	}
	// Registry model and metadata, providers, access grant, holds, request, expiry list,
	// plus decoding and checking the input (1 ns per byte) and hashing it.
	fn request_inference(input_len: u32) -> Weight {
		accesses(10, 7, 20_000)
			.saturating_add(Weight::from_parts(1_000, 1).saturating_mul(input_len.into()))
	}
	fn expire(requests: u32) -> Weight {
		accesses(1, 1, 4_000).saturating_add(accesses(4, 4, 8_000).saturating_mul(requests.into()))
	}
	// Request, providers, holds, three accounts paid, registry, receipt, plus decoding and
	// hashing the output (2 ns per byte).
	fn submit_result(output_len: u32) -> Weight {
		accesses(10, 9, 24_000)
			.saturating_add(Weight::from_parts(2_000, 1).saturating_mul(output_len.into()))
	}
	// Request, provider, and a signature check.
	fn authorize_submit_result() -> Weight {
		accesses(2, 0, 8_000).saturating_add(Weight::from_parts(60_000_000, 0))
	}
	fn set_terms() -> Weight {
		accesses(1, 1, 4_000)
	}
	// Request, votes of the request, the vote.
	fn commit_result() -> Weight {
		accesses(3, 1, 12_000)
	}
	fn authorize_commit_result() -> Weight {
		accesses(3, 0, 12_000).saturating_add(Weight::from_parts(60_000_000, 0))
	}
	// Request, the votes, decoding and hashing the output twice (at most 64 KiB), and at
	// settlement per vote: the vote, the provider, a payment or a slash, and the receipt.
	fn reveal_result(votes: u32) -> Weight {
		accesses(12, 10, 24_000)
			.saturating_add(Weight::from_parts(300_000_000, 65_536))
			.saturating_add(accesses(4, 4, 16_000).saturating_mul(votes.into()))
	}
	fn authorize_reveal_result() -> Weight {
		accesses(3, 0, 12_000).saturating_add(Weight::from_parts(60_000_000 + 300_000_000, 0))
	}
	// Receipt, hold, account.
	fn purge_receipt() -> Weight {
		accesses(3, 3, 70_000)
	}
	// Request, proposal, provider, providers of the model and each of them, expiry list,
	// jurors; decoding and hashing the output twice (2 ns per byte each).
	fn dispute_result(output_len: u32) -> Weight {
		accesses(14, 8, 32_000)
			.saturating_add(Weight::from_parts(4_000, 1).saturating_mul(output_len.into()))
	}
	// As an inline request without the input's decoding, plus parsing the CID.
	fn request_inference_cid() -> Weight {
		accesses(10, 7, 20_000)
	}
	// Providers, Balances::Holds, System::Account.
	fn bond_extra() -> Weight {
		accesses(3, 3, 8_000)
	}
	fn authorize_dispute_result() -> Weight {
		accesses(5, 0, 16_000).saturating_add(Weight::from_parts(60_000_000 + 300_000_000, 0))
	}
}
