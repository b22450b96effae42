//! # Offchain workers and their node's native services
//!
//! The runtime imports no custom host function (it must run as a parachain too), so the
//! native work an offchain worker needs — blocks from the node's IPFS gateway, model runs
//! from its inference service — is reached over offchain HTTP on a loopback URL, which the
//! node writes at startup under a persistent offchain-storage key. This crate holds that
//! plumbing once: [`service_url`] reads the URL, [`call`] makes one bounded exchange.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

use alloc::{format, string::String, vec::Vec};
use polkadot_sdk::{
	sp_io,
	sp_runtime::offchain::{http, storage::StorageValueRef, Duration},
};

/// The base URL the node wrote under `key` (SCALE-encoded bytes), if any.
pub fn service_url(key: &[u8]) -> Option<String> {
	StorageValueRef::persistent(key)
		.get::<Vec<u8>>()
		.ok()
		.flatten()
		.and_then(|url| String::from_utf8(url).ok())
}

/// One HTTP exchange: `GET` when `body` is `None`, else `POST` of `body`; `headers` are
/// added as given. Succeeds with the body of a `200` answer of at most `max_len` bytes, all
/// within `timeout_ms`; every other outcome is an error naming the URL.
pub fn call(
	url: &str,
	body: Option<Vec<u8>>,
	headers: &[(&str, &str)],
	max_len: usize,
	timeout_ms: u64,
) -> Result<Vec<u8>, String> {
	let deadline = sp_io::offchain::timestamp().add(Duration::from_millis(timeout_ms));
	let (method, chunks) = match body {
		Some(body) => (http::Method::Post, alloc::vec![body]),
		None => (http::Method::Get, Vec::new()),
	};
	let mut request = http::Request::default().method(method).url(url).body(chunks);
	for (name, value) in headers {
		request = request.add_header(name, value);
	}
	let pending = request.deadline(deadline).send().map_err(|error| format!("{url}: {error:?}"))?;
	let response = pending
		.try_wait(deadline)
		.map_err(|_| format!("{url}: timed out"))?
		.map_err(|error| format!("{url}: {error:?}"))?;
	if response.code != 200 {
		return Err(format!("{url}: HTTP {}", response.code));
	}
	let mut body = response.body();
	body.deadline(deadline);
	let bytes: Vec<u8> = body.by_ref().take(max_len + 1).collect();
	if body.error().is_some() {
		return Err(format!("{url}: reading the answer failed"));
	}
	if bytes.len() > max_len {
		return Err(format!("{url}: the answer is longer than {max_len} bytes"));
	}
	Ok(bytes)
}
