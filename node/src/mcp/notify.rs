//! List-changed notifications: each finalized block's events are read, and when one changes
//! what the model cards show (a model registered, updated or removed, its metadata, price,
//! tiers, terms or providers), every connected client is told to list the resources again.

use super::server::Shared;
use citrate_runtime::{pallet_inference as inference, RuntimeEvent};
use futures::StreamExt;
use std::sync::Arc;

/// Whether `event` changes a model card.
fn changes_cards(event: &RuntimeEvent) -> bool {
	match event {
		RuntimeEvent::ModelRegistry(_) | RuntimeEvent::ModelAccess(_) => true,
		RuntimeEvent::Inference(event) => matches!(
			event,
			inference::Event::PriceSet { .. }
				| inference::Event::TermsSet { .. }
				| inference::Event::ModelServed { .. }
				| inference::Event::ModelDropped { .. }
				| inference::Event::ModelServiceEnded { .. }
		),
		_ => false,
	}
}

/// Watches finalized blocks for as long as the node reports them.
pub async fn watch(shared: Arc<Shared>) {
	let mut blocks = match shared.chain.client.finalized_blocks().await {
		Ok(blocks) => blocks,
		Err(e) => {
			log::warn!("list-changed notifications are off: {e}");
			return;
		}
	};
	while let Some(block) = blocks.next().await {
		let changed = match block {
			Ok((_, hash)) => match shared.chain.client.events_at(hash).await {
				Ok(records) => records.iter().any(|record| changes_cards(&record.event)),
				Err(e) => {
					log::warn!("reading block {hash:?}'s events: {e}");
					false
				}
			},
			Err(e) => {
				log::warn!("{e}");
				false
			}
		};
		if changed {
			for peer in shared.peers() {
				if let Err(e) = peer.notify_resource_list_changed().await {
					log::debug!("a client did not take list_changed: {e}");
				}
			}
		}
	}
	log::warn!("the node stopped reporting finalized blocks: list-changed notifications end");
}
