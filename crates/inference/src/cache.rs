//! Loaded models, kept by content id under a memory budget, least recently used out first.
//!
//! A model loads once: concurrent requests for a model that is loading wait for that load
//! rather than starting their own, and then share the loaded model (`Arc`). Evicting a model
//! drops the cache's reference; requests already holding it finish first, so memory can
//! exceed the budget by the models in flight.

use crate::{Error, Result};
use std::{
	collections::HashMap,
	sync::{Arc, Mutex, MutexGuard},
};

/// What the cache needs to know about a model.
pub trait CachedModel: Send + Sync {
	/// Bytes the loaded model keeps in memory.
	fn memory_bytes(&self) -> u64;
}

/// Counters, for metrics and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
	pub hits: u64,
	pub loads: u64,
	pub failed_loads: u64,
	pub evictions: u64,
	/// Bytes the cached models take.
	pub used_bytes: u64,
	pub models: usize,
}

/// An LRU cache of loaded models.
pub struct ModelCache<M> {
	budget_bytes: u64,
	inner: Mutex<Inner<M>>,
}

struct Inner<M> {
	entries: HashMap<Vec<u8>, Entry<M>>,
	clock: u64,
	stats: CacheStats,
}

struct Entry<M> {
	slot: Arc<Mutex<Option<Arc<M>>>>,
	last_used: u64,
	bytes: u64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
	// A panic elsewhere while holding the lock leaves consistent data behind: every update
	// here is completed before the guard drops.
	mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<M: CachedModel> ModelCache<M> {
	/// A cache that keeps at most `budget_bytes` of loaded models.
	pub fn new(budget_bytes: u64) -> Self {
		ModelCache {
			budget_bytes,
			inner: Mutex::new(Inner {
				entries: HashMap::new(),
				clock: 0,
				stats: Default::default(),
			}),
		}
	}

	/// The model with content id `key`, loading it with `load` if it is not cached.
	/// `size_hint` (the model file's size) refuses models that could never fit before loading.
	pub fn get_or_load(
		&self,
		key: &[u8],
		size_hint: u64,
		load: impl FnOnce() -> Result<M>,
	) -> Result<Arc<M>> {
		if size_hint > self.budget_bytes {
			return Err(Error::Cache(format!(
				"the model is {size_hint} bytes; the cache's budget is {}",
				self.budget_bytes
			)));
		}
		let slot = {
			let mut inner = lock(&self.inner);
			inner.clock += 1;
			let clock = inner.clock;
			let entry = inner.entries.entry(key.to_vec()).or_insert_with(|| Entry {
				slot: Arc::new(Mutex::new(None)),
				last_used: clock,
				bytes: 0,
			});
			entry.last_used = clock;
			entry.slot.clone()
		};
		// Held while loading: a second request for this key waits here.
		let mut loaded = lock(&slot);
		if let Some(model) = loaded.as_ref() {
			lock(&self.inner).stats.hits += 1;
			return Ok(model.clone());
		}
		let model = match load() {
			Ok(model) => Arc::new(model),
			Err(error) => {
				let mut inner = lock(&self.inner);
				inner.stats.failed_loads += 1;
				if inner.entries.get(key).is_some_and(|e| Arc::ptr_eq(&e.slot, &slot)) {
					inner.entries.remove(key);
				}
				return Err(error);
			}
		};
		*loaded = Some(model.clone());
		drop(loaded);

		let mut inner = lock(&self.inner);
		inner.stats.loads += 1;
		let bytes = model.memory_bytes();
		if let Some(entry) = inner.entries.get_mut(key).filter(|e| Arc::ptr_eq(&e.slot, &slot)) {
			entry.bytes = bytes;
		}
		inner.evict_over(self.budget_bytes, key);
		Ok(model)
	}

	/// Drops the model with content id `key`, if cached.
	pub fn remove(&self, key: &[u8]) -> bool {
		lock(&self.inner).entries.remove(key).is_some()
	}

	/// Current counters.
	pub fn stats(&self) -> CacheStats {
		let inner = lock(&self.inner);
		CacheStats { used_bytes: inner.used_bytes(), models: inner.entries.len(), ..inner.stats }
	}

	/// Whether `key` is cached (loaded or loading).
	pub fn contains(&self, key: &[u8]) -> bool {
		lock(&self.inner).entries.contains_key(key)
	}
}

impl<M> Inner<M> {
	fn used_bytes(&self) -> u64 {
		self.entries.values().map(|e| e.bytes).sum()
	}

	/// Evicts least recently used models, never `keep`, until the loaded ones fit the budget.
	fn evict_over(&mut self, budget: u64, keep: &[u8]) {
		while self.used_bytes() > budget {
			let victim = self
				.entries
				.iter()
				.filter(|(key, entry)| key.as_slice() != keep && entry.bytes > 0)
				.min_by_key(|(_, entry)| entry.last_used)
				.map(|(key, _)| key.clone());
			let Some(victim) = victim else { break };
			self.entries.remove(&victim);
			self.stats.evictions += 1;
		}
	}
}

impl CachedModel for crate::onnx::OnnxModel {
	fn memory_bytes(&self) -> u64 {
		self.weight_bytes()
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use std::sync::atomic::{AtomicUsize, Ordering};

	struct Fake(u64);
	impl CachedModel for Fake {
		fn memory_bytes(&self) -> u64 {
			self.0
		}
	}

	#[test]
	fn evicts_least_recently_used_over_budget() {
		let cache = ModelCache::new(100);
		cache.get_or_load(b"a", 40, || Ok(Fake(40))).unwrap();
		cache.get_or_load(b"b", 40, || Ok(Fake(40))).unwrap();
		// Touch `a`, so `b` is the least recently used when `c` arrives.
		cache.get_or_load(b"a", 40, || panic!("a is cached")).unwrap();
		cache.get_or_load(b"c", 40, || Ok(Fake(40))).unwrap();
		assert!(cache.contains(b"a") && cache.contains(b"c") && !cache.contains(b"b"));
		let stats = cache.stats();
		assert_eq!((stats.loads, stats.hits, stats.evictions), (3, 1, 1));
		assert_eq!(stats.used_bytes, 80);
	}

	#[test]
	fn refuses_a_model_over_the_whole_budget_before_loading() {
		let cache = ModelCache::<Fake>::new(100);
		let error = cache.get_or_load(b"big", 101, || panic!("must not load")).err().unwrap();
		assert!(error.to_string().contains("budget"), "{error}");
	}

	#[test]
	fn a_failed_load_is_not_cached() {
		let cache = ModelCache::<Fake>::new(100);
		assert!(cache.get_or_load(b"x", 1, || Err(Error::Pipeline("boom".into()))).is_err());
		assert!(!cache.contains(b"x"));
		assert!(cache.get_or_load(b"x", 1, || Ok(Fake(1))).is_ok());
		assert_eq!(cache.stats().failed_loads, 1);
	}

	#[test]
	fn concurrent_requests_load_once() {
		let cache = Arc::new(ModelCache::new(100));
		let loads = Arc::new(AtomicUsize::new(0));
		let threads: Vec<_> = (0..8)
			.map(|_| {
				let (cache, loads) = (cache.clone(), loads.clone());
				std::thread::spawn(move || {
					cache
						.get_or_load(b"m", 10, || {
							loads.fetch_add(1, Ordering::SeqCst);
							std::thread::sleep(std::time::Duration::from_millis(50));
							Ok(Fake(10))
						})
						.unwrap()
				})
			})
			.collect();
		let models: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
		assert_eq!(loads.load(Ordering::SeqCst), 1);
		assert!(models.windows(2).all(|w| Arc::ptr_eq(&w[0], &w[1])));
		assert_eq!(cache.stats().hits, 7);
	}
}
