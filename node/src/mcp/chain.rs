//! What the MCP server reads from the chain: registered models with their metadata, price,
//! access tiers, providers and verification terms, decoded with the runtime's own types.

use crate::chain_client::ChainClient;
use citrate_model_primitives::{ModelId, ModelInterface};
use citrate_runtime::{
	pallet_inference as inference, pallet_model_access as access,
	pallet_model_registry as registry, pallet_pinning as pinning, AccountId, Balance, Hash,
	Runtime,
};
use citrate_storage::Upstream;
use polkadot_sdk::frame_support::traits::Get;

/// A model as an agent sees it: everything its card shows.
pub struct ModelView {
	pub id: ModelId,
	pub info: registry::ModelInfo<Runtime>,
	pub metadata: Option<registry::ModelMetadata>,
	/// Every version's id under the model's name, oldest first.
	pub versions: Vec<ModelId>,
	/// The per-call price the owner set (0 when none).
	pub price: Balance,
	pub tiers: Vec<(access::TierId, access::AccessTier<Runtime>)>,
	pub providers: Vec<AccountId>,
	pub terms: Option<inference::ModelTerms>,
	/// The bonded pinners holding the model's package.
	pub pinners: Vec<AccountId>,
}

impl ModelView {
	/// One provider's compute fee from the cost schedule; `None` without metadata.
	pub fn compute_fee(&self) -> Option<Balance> {
		let metadata = self.metadata.as_ref()?;
		let interface = ModelInterface {
			task: metadata.task,
			package_cid: vec![],
			framework: self.info.framework,
			inputs: vec![],
			flops_per_inference: metadata.flops_per_inference,
			min_memory_bytes: metadata.min_memory_bytes,
		};
		Some(inference::Pallet::<Runtime>::compute_fee(&interface))
	}

	/// What one request is charged: the price and every assigned provider's compute fee
	/// (as the pallet's `quote`); `None` without metadata.
	pub fn fee_per_call(&self) -> Option<Balance> {
		let runs = self.terms.unwrap_or_default().verification.providers();
		Some(self.price.saturating_add(self.compute_fee()?.saturating_mul(runs.into())))
	}
}

/// Reads (and, for the tools that pay, writes) through one RPC connection; files of model
/// packages and outputs come from the gateway.
pub struct Chain {
	pub client: ChainClient,
	pub gateway: Upstream,
}

impl Chain {
	pub fn new(client: ChainClient, gateway: Upstream) -> Self {
		Chain { client, gateway }
	}

	/// A pending request, at block `at` (the best block when `None`).
	pub async fn request(
		&self,
		id: inference::RequestId,
		at: Option<Hash>,
	) -> Result<Option<inference::InferenceRequest<Runtime>>, String> {
		self.client.storage_at(inference::Requests::<Runtime>::hashed_key_for(id), at).await
	}

	/// A settled request's receipt, at block `at` (the best block when `None`).
	pub async fn receipt(
		&self,
		id: inference::RequestId,
		at: Option<Hash>,
	) -> Result<Option<inference::Receipt<Runtime>>, String> {
		self.client.storage_at(inference::Receipts::<Runtime>::hashed_key_for(id), at).await
	}

	/// A registered provider.
	pub async fn provider(
		&self,
		account: &AccountId,
	) -> Result<Option<inference::ProviderInfo<Runtime>>, String> {
		self.client.storage(inference::Providers::<Runtime>::hashed_key_for(account)).await
	}

	/// `account`'s grant to use `model`, if it bought one.
	pub async fn access(
		&self,
		model: ModelId,
		account: &AccountId,
	) -> Result<Option<access::AccessGrant<Runtime>>, String> {
		self.client.storage(access::Access::<Runtime>::hashed_key_for(model, account)).await
	}

	/// Every registered model's id and entry, by id (removed ids skipped).
	pub async fn models(&self) -> Result<Vec<(ModelId, registry::ModelInfo<Runtime>)>, String> {
		let next = self
			.client
			.storage::<ModelId>(registry::NextModelId::<Runtime>::hashed_key().to_vec())
			.await?
			.unwrap_or(1);
		let mut models = vec![];
		for id in 1..next {
			if let Some(info) = self.info(id).await? {
				models.push((id, info));
			}
		}
		Ok(models)
	}

	async fn info(&self, id: ModelId) -> Result<Option<registry::ModelInfo<Runtime>>, String> {
		self.client.storage(registry::Models::<Runtime>::hashed_key_for(id)).await
	}

	/// The model with id `id` and all its card shows; `None` when no such model exists.
	pub async fn model(&self, id: ModelId) -> Result<Option<ModelView>, String> {
		let Some(info) = self.info(id).await? else { return Ok(None) };
		self.view(id, info).await.map(Some)
	}

	/// The view of model `id`, whose registry entry `info` was read already.
	pub async fn view(
		&self,
		id: ModelId,
		info: registry::ModelInfo<Runtime>,
	) -> Result<ModelView, String> {
		let metadata = self
			.client
			.storage::<registry::MetadataRecord<Runtime>>(
				registry::Metadata::<Runtime>::hashed_key_for(id),
			)
			.await?
			.map(|record| record.metadata);
		let versions = self
			.client
			.storage::<registry::VersionHistory<Runtime>>(
				registry::ModelVersions::<Runtime>::hashed_key_for(info.name.clone()),
			)
			.await?
			.map(|history| history.versions.into_inner())
			.unwrap_or_else(|| vec![id]);
		let price = self
			.client
			.storage::<Balance>(inference::ModelPrices::<Runtime>::hashed_key_for(id))
			.await?
			.unwrap_or_default();
		let tier_count = self
			.client
			.storage::<u32>(access::TierCount::<Runtime>::hashed_key_for(id))
			.await?
			.unwrap_or_default();
		let mut tiers = vec![];
		let max_tiers = <Runtime as access::Config>::MaxTiersPerModel::get();
		for tier_id in 0..max_tiers {
			if tiers.len() as u32 >= tier_count {
				break;
			}
			if let Some(tier) = self
				.client
				.storage::<access::AccessTier<Runtime>>(access::Tiers::<Runtime>::hashed_key_for(
					id, tier_id,
				))
				.await?
			{
				tiers.push((tier_id, tier));
			}
		}
		let providers = self
			.client
			.storage::<Vec<AccountId>>(inference::ProvidersOf::<Runtime>::hashed_key_for(id))
			.await?
			.unwrap_or_default();
		let terms = self.client.storage(inference::Terms::<Runtime>::hashed_key_for(id)).await?;
		let pinners = match registry::binary_cid(&info.cid) {
			Some(cid) => self
				.client
				.storage::<Vec<AccountId>>(pinning::PinnersOf::<Runtime>::hashed_key_for(cid))
				.await?
				.unwrap_or_default(),
			None => vec![],
		};
		Ok(ModelView { id, info, metadata, versions, price, tiers, providers, terms, pinners })
	}
}
