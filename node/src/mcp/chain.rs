//! What the MCP server reads from the chain: registered models with their metadata, price,
//! access tiers, providers and verification terms, decoded with the runtime's own types.

use crate::chain_client::ChainClient;
use citrate_model_primitives::ModelId;
use citrate_runtime::{
	pallet_inference as inference, pallet_model_access as access,
	pallet_model_registry as registry, AccountId, Balance, Runtime,
};
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
}

/// Reads through one RPC connection.
pub struct Chain {
	client: ChainClient,
}

impl Chain {
	pub fn new(client: ChainClient) -> Self {
		Chain { client }
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
		Ok(Some(ModelView { id, info, metadata, versions, price, tiers, providers, terms }))
	}
}
