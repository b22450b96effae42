//! A small client of a Citrate node's RPC for the node's own client commands (`model
//! import`): signed transactions built from the runtime's own types (so they always match the
//! runtime this binary was built with), submitted over WebSocket and followed to their block,
//! with their events and a named error when they fail.

use citrate_runtime::{
	Address, Hash, Nonce, Runtime, RuntimeCall, RuntimeError, RuntimeEvent, Signature,
	SignedPayload, TxExtension, UncheckedExtrinsic,
};
use codec::{Decode, Encode};
use jsonrpsee::{
	core::client::{ClientT, SubscriptionClientT},
	rpc_params,
	ws_client::{WsClient, WsClientBuilder},
};
use polkadot_sdk::{
	frame_system::{self, EventRecord, Phase},
	pallet_transaction_payment,
	sp_core::{crypto::Ss58Codec, sr25519, Pair},
	sp_runtime::{generic::Era, traits::IdentifyAccount, DispatchError, MultiSigner},
};
use std::time::Duration;

/// How long a transaction may take to reach a block.
const INCLUSION_TIMEOUT: Duration = Duration::from_secs(120);

/// A connection to a node and what signing for it needs.
pub struct ChainClient {
	rpc: WsClient,
	genesis: Hash,
	spec_version: u32,
	transaction_version: u32,
}

impl ChainClient {
	/// Connects to the node at `url` (`ws://…`) and reads its genesis hash and runtime version.
	pub async fn connect(url: &str) -> Result<Self, String> {
		let rpc = WsClientBuilder::default()
			.request_timeout(Duration::from_secs(60))
			.build(url)
			.await
			.map_err(|e| format!("cannot reach the node at {url}: {e}"))?;
		let genesis: Hash = rpc
			.request("chain_getBlockHash", rpc_params![0])
			.await
			.map_err(|e| format!("chain_getBlockHash: {e}"))?;
		let version: serde_json::Value = rpc
			.request("state_getRuntimeVersion", rpc_params![])
			.await
			.map_err(|e| format!("state_getRuntimeVersion: {e}"))?;
		let number = |key: &str| {
			version[key]
				.as_u64()
				.map(|n| n as u32)
				.ok_or_else(|| format!("no {key} in the runtime version"))
		};
		let (spec_version, transaction_version) =
			(number("specVersion")?, number("transactionVersion")?);
		let ours = citrate_runtime::VERSION.spec_version;
		if version["specName"].as_str() != Some(&*citrate_runtime::VERSION.spec_name) {
			return Err(format!(
				"the node at {url} does not run Citrate ({})",
				version["specName"]
			));
		}
		if spec_version != ours {
			log::warn!(
				"the node runs spec version {spec_version}, this binary was built for {ours}; \
				 calls are encoded for {ours}"
			);
		}
		Ok(ChainClient { rpc, genesis, spec_version, transaction_version })
	}

	/// The SCALE value stored under `key` at the best block, decoded as `T`.
	pub async fn storage<T: Decode>(&self, key: Vec<u8>) -> Result<Option<T>, String> {
		self.storage_at(key, None).await
	}

	/// The SCALE value stored under `key` at block `at` (the best block when `None`).
	pub async fn storage_at<T: Decode>(
		&self,
		key: Vec<u8>,
		at: Option<Hash>,
	) -> Result<Option<T>, String> {
		let value: Option<String> = self
			.rpc
			.request("state_getStorage", rpc_params![hex(&key), at])
			.await
			.map_err(|e| format!("state_getStorage: {e}"))?;
		value
			.map(|hex_value| {
				let bytes = unhex(&hex_value)?;
				T::decode(&mut &bytes[..]).map_err(|e| format!("decoding storage: {e}"))
			})
			.transpose()
	}

	/// Finalized blocks as they come: each one's number and hash (a block finalized with
	/// others in one step is reported once, as the last of them).
	pub async fn finalized_blocks(
		&self,
	) -> Result<futures::stream::BoxStream<'_, Result<(u32, Hash), String>>, String> {
		let heads = self
			.rpc
			.subscribe::<serde_json::Value, _>(
				"chain_subscribeFinalizedHeads",
				rpc_params![],
				"chain_unsubscribeFinalizedHeads",
			)
			.await
			.map_err(|e| format!("chain_subscribeFinalizedHeads: {e}"))?;
		Ok(futures::StreamExt::boxed(futures::StreamExt::then(heads, move |head| async move {
			let head = head.map_err(|e| format!("finalized heads: {e}"))?;
			let number = number_of(&head)?;
			let hash: Hash = self
				.rpc
				.request("chain_getBlockHash", rpc_params![number])
				.await
				.map_err(|e| format!("chain_getBlockHash: {e}"))?;
			Ok((number, hash))
		})))
	}

	/// The latest finalized block's number and hash.
	pub async fn finalized_head(&self) -> Result<(u32, Hash), String> {
		let hash: Hash = self
			.rpc
			.request("chain_getFinalizedHead", rpc_params![])
			.await
			.map_err(|e| format!("chain_getFinalizedHead: {e}"))?;
		let header: serde_json::Value = self
			.rpc
			.request("chain_getHeader", rpc_params![hash])
			.await
			.map_err(|e| format!("chain_getHeader: {e}"))?;
		Ok((number_of(&header)?, hash))
	}

	/// Every event of block `at`, with the phase it was emitted in.
	pub async fn events_at(
		&self,
		at: Hash,
	) -> Result<Vec<EventRecord<RuntimeEvent, Hash>>, String> {
		let key =
			polkadot_sdk::frame_support::storage::storage_prefix(b"System", b"Events").to_vec();
		Ok(self.storage_at(key, Some(at)).await?.unwrap_or_default())
	}

	/// Signs `call` with `signer`, submits it and waits until it is in a block; returns the
	/// events it emitted there. A call that failed is an error naming the runtime's error.
	pub async fn submit(
		&self,
		call: RuntimeCall,
		signer: &sr25519::Pair,
	) -> Result<Vec<RuntimeEvent>, String> {
		let account = MultiSigner::from(signer.public()).into_account();
		let nonce: Nonce = self
			.rpc
			.request("system_accountNextIndex", rpc_params![account.to_ss58check()])
			.await
			.map_err(|e| format!("system_accountNextIndex: {e}"))?;
		let extension: TxExtension = (
			frame_system::AuthorizeCall::<Runtime>::new(),
			frame_system::CheckNonZeroSender::<Runtime>::new(),
			frame_system::CheckSpecVersion::<Runtime>::new(),
			frame_system::CheckTxVersion::<Runtime>::new(),
			frame_system::CheckGenesis::<Runtime>::new(),
			frame_system::CheckEra::<Runtime>::from(Era::Immortal),
			frame_system::CheckNonce::<Runtime>::from(nonce),
			frame_system::CheckWeight::<Runtime>::new(),
			pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
			Default::default(),
			frame_system::WeightReclaim::<Runtime>::new(),
		);
		let implicit = (
			(),
			(),
			self.spec_version,
			self.transaction_version,
			self.genesis,
			self.genesis,
			(),
			(),
			(),
			(),
			(),
		);
		let payload = SignedPayload::from_raw(call.clone(), extension.clone(), implicit);
		let signature = payload.using_encoded(|bytes| signer.sign(bytes));
		let extrinsic: UncheckedExtrinsic =
			polkadot_sdk::sp_runtime::generic::UncheckedExtrinsic::new_signed(
				call,
				Address::Id(account),
				Signature::Sr25519(signature),
				extension,
			)
			.into();
		let encoded = extrinsic.encode();
		let mut watch = self
			.rpc
			.subscribe::<serde_json::Value, _>(
				"author_submitAndWatchExtrinsic",
				rpc_params![hex(&encoded)],
				"author_unwatchExtrinsic",
			)
			.await
			.map_err(|e| format!("the node refused the transaction: {e}"))?;
		let block = tokio::time::timeout(INCLUSION_TIMEOUT, async {
			while let Some(status) = watch.next().await {
				let status = status.map_err(|e| format!("watching the transaction: {e}"))?;
				if let Some(block) = status.get("inBlock").or_else(|| status.get("finalized")) {
					return serde_json::from_value::<Hash>(block.clone())
						.map_err(|e| format!("block hash: {e}"));
				}
				if let Some(reason) = ["dropped", "invalid", "usurped", "finalityTimeout"]
					.iter()
					.find(|k| status == **k || status.get(**k).is_some())
				{
					return Err(format!("the transaction was {reason}"));
				}
			}
			Err("the node stopped reporting the transaction".to_string())
		})
		.await
		.map_err(|_| format!("the transaction was not in a block after {INCLUSION_TIMEOUT:?}"))??;
		self.events_of(block, &encoded).await
	}

	/// The events `extrinsic` emitted in `block`, or its error if it failed.
	async fn events_of(&self, block: Hash, extrinsic: &[u8]) -> Result<Vec<RuntimeEvent>, String> {
		let body: serde_json::Value = self
			.rpc
			.request("chain_getBlock", rpc_params![block])
			.await
			.map_err(|e| format!("chain_getBlock: {e}"))?;
		let wanted = hex(extrinsic);
		let index = body["block"]["extrinsics"]
			.as_array()
			.and_then(|all| all.iter().position(|x| x.as_str() == Some(wanted.as_str())))
			.ok_or("the transaction is not in the block the node reported")? as u32;
		let records = self.events_at(block).await?;
		let mut events = vec![];
		for record in records {
			if record.phase != Phase::ApplyExtrinsic(index) {
				continue;
			}
			if let RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
				dispatch_error,
				..
			}) = &record.event
			{
				return Err(describe(*dispatch_error));
			}
			events.push(record.event);
		}
		Ok(events)
	}
}

/// The block number of a header in JSON.
fn number_of(header: &serde_json::Value) -> Result<u32, String> {
	header["number"]
		.as_str()
		.and_then(|n| u32::from_str_radix(n.trim_start_matches("0x"), 16).ok())
		.ok_or_else(|| format!("a header without a number: {header}"))
}

/// A dispatch error as `Pallet::Error` names it.
fn describe(error: DispatchError) -> String {
	match RuntimeError::from_dispatch_error(error) {
		Some(named) => format!("the chain refused it: {named:?}"),
		None => format!("the chain refused it: {error:?}"),
	}
}

/// `0x` and every byte in hex (`HexDisplay` elides the middle of anything over 1 KiB, which
/// the node refuses as a transaction).
pub fn hex(bytes: &[u8]) -> String {
	use std::fmt::Write;
	let mut text = String::with_capacity(2 + 2 * bytes.len());
	text.push_str("0x");
	for byte in bytes {
		let _ = write!(text, "{byte:02x}");
	}
	text
}

fn unhex(text: &str) -> Result<Vec<u8>, String> {
	let digits = text.strip_prefix("0x").unwrap_or(text);
	(0..digits.len())
		.step_by(2)
		.map(|i| u8::from_str_radix(digits.get(i..i + 2).unwrap_or("zz"), 16))
		.collect::<Result<_, _>>()
		.map_err(|_| format!("not hex: {text}"))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn hex_writes_every_byte_and_reads_back() {
		let bytes: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
		let text = hex(&bytes);
		assert_eq!(text.len(), 2 + 2 * bytes.len());
		assert!(!text.contains('.'));
		assert_eq!(unhex(&text).unwrap(), bytes);
		assert_eq!(number_of(&serde_json::json!({ "number": "0x1a" })), Ok(26));
	}
}
