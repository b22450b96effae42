//! Prometheus metrics of the inference service (`citrate_inference_*`).

use crate::cache::CacheStats;
use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, Opts, Registry};
use std::sync::Mutex;

/// What the service counts.
pub struct Metrics {
	/// Inputs received from the offchain worker.
	pub requests_seen: IntCounter,
	/// Inputs run, by outcome (`output`, `failed`, `unavailable`).
	pub runs: IntCounterVec,
	/// Seconds one input took to run (model loaded).
	pub run_seconds: Histogram,
	/// Failed or unavailable runs by reason (`input`, `output`, `model`, `cache`, `limits`,
	/// `engine`).
	pub failures: IntCounterVec,
	cache_hits: IntCounter,
	cache_misses: IntCounter,
	cache_evictions: IntCounter,
	/// The cache's counters when they were last recorded.
	seen: Mutex<CacheStats>,
}

impl Metrics {
	/// Registers the metrics in `registry`.
	pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
		let counter = |name: &str, help: &str| -> Result<IntCounter, prometheus::Error> {
			let counter = IntCounter::new(name, help)?;
			registry.register(Box::new(counter.clone()))?;
			Ok(counter)
		};
		let counter_vec = |name: &str, help: &str, label: &str| {
			let counter = IntCounterVec::new(Opts::new(name, help), &[label])?;
			registry.register(Box::new(counter.clone()))?;
			Ok::<_, prometheus::Error>(counter)
		};
		let run_seconds = Histogram::with_opts(
			HistogramOpts::new(
				"citrate_inference_run_seconds",
				"Seconds one request took to run, its model loaded",
			)
			.buckets(vec![
				0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
			]),
		)?;
		registry.register(Box::new(run_seconds.clone()))?;
		Ok(Self {
			requests_seen: counter(
				"citrate_inference_requests_seen_total",
				"Requests the offchain worker asked this service to run",
			)?,
			runs: counter_vec(
				"citrate_inference_runs_total",
				"Requests run, by outcome: output, failed (answered), unavailable (retried)",
				"outcome",
			)?,
			run_seconds,
			failures: counter_vec(
				"citrate_inference_failures_total",
				"Failed or unavailable runs by reason: input, output, model, cache, limits, engine",
				"reason",
			)?,
			cache_hits: counter(
				"citrate_inference_cache_hits_total",
				"Batches whose model was already loaded",
			)?,
			cache_misses: counter(
				"citrate_inference_cache_misses_total",
				"Model loads (successful or not)",
			)?,
			cache_evictions: counter(
				"citrate_inference_cache_evictions_total",
				"Models dropped from the cache to stay within its memory budget",
			)?,
			seen: Mutex::new(CacheStats::default()),
		})
	}

	/// Adds what the cache counted since the last call.
	pub fn record_cache(&self, now: &CacheStats) {
		let mut seen = self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		self.cache_hits.inc_by(now.hits.saturating_sub(seen.hits));
		let loads = now.loads + now.failed_loads;
		self.cache_misses.inc_by(loads.saturating_sub(seen.loads + seen.failed_loads));
		self.cache_evictions.inc_by(now.evictions.saturating_sub(seen.evictions));
		*seen = *now;
	}
}
