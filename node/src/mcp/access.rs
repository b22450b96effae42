//! Access to models that sell it: whether the signer has it (checked before a request pays a
//! transaction fee, as the access pallet decides), what to buy when not, and `purchase_access`.

use super::{
	cards::{amount, ctr},
	chain::{Chain, ModelView},
	server::Shared,
};
use citrate_runtime::{pallet_model_access as access, AccountId, RuntimeCall, RuntimeEvent};
use serde_json::{json, Value};

/// Refuses before paying a transaction fee when the signer has no access, as the access
/// pallet decides: free for the owner and for open-source models that sell no tiers, else a
/// grant with uses left (its expiry the chain checks).
pub async fn check_access(
	chain: &Chain,
	model: &ModelView,
	account: &AccountId,
) -> Result<(), String> {
	let open = model.info.license.kind == citrate_model_primitives::LicenseKind::OpenSource;
	if model.info.owner == *account || (open && model.tiers.is_empty()) {
		return Ok(());
	}
	let grant = chain.access(model.id, account).await?;
	if grant.is_some_and(|g| g.uses_left != access::Uses::Limited(0)) {
		return Ok(());
	}
	Err(no_access(model))
}

/// Why the signer may not run `model`, with the tiers it could buy.
pub fn no_access(model: &ModelView) -> String {
	if model.tiers.is_empty() {
		return format!(
			"no access to model {}: its license is not open source and it sells no access \
			 tiers, so only its owner can run it",
			model.id
		);
	}
	let tiers: Vec<String> = model
		.tiers
		.iter()
		.map(|(tier, t)| {
			let uses = if t.max_uses == 0 {
				"unlimited uses".into()
			} else {
				format!("{} uses", t.max_uses)
			};
			format!("tier {tier}: {} CTR for {} blocks, {uses}", ctr(t.price), t.duration)
		})
		.collect();
	format!(
		"no access to model {}: buy a tier with purchase_access (model_id {}, tier_id): {}",
		model.id,
		model.id,
		tiers.join("; ")
	)
}

/// Buys tier `tier_id` of `model` for the server's account, within the spending caps.
pub async fn purchase(shared: &Shared, model: &ModelView, tier_id: u32) -> Result<Value, String> {
	let signer = shared.signer.as_ref().ok_or(
		"this MCP server has no signing account, so it cannot pay: start it with --suri or \
		 --key-file",
	)?;
	let Some((_, tier)) = model.tiers.iter().find(|(id, _)| *id == tier_id) else {
		let ids: Vec<String> = model.tiers.iter().map(|(id, _)| id.to_string()).collect();
		return Err(format!(
			"model {} has no tier {}; its tiers are [{}]",
			model.id,
			tier_id,
			ids.join(", ")
		));
	};
	let reserved = shared.budget.reserve(tier.price, None)?;
	let call = RuntimeCall::ModelAccess(access::Call::purchase_access {
		model_id: model.id,
		tier_id,
		max_price: reserved,
	});
	let events = match shared.chain.client.submit(call, signer).await {
		Ok(events) => events,
		Err(e) => {
			shared.budget.settle(reserved, 0);
			return Err(e);
		}
	};
	let bought = events.iter().find_map(|event| match event {
		RuntimeEvent::ModelAccess(access::Event::AccessPurchased {
			owner_share,
			treasury_share,
			expires_at,
			uses_left,
			..
		}) => Some((owner_share + treasury_share, *expires_at, *uses_left)),
		_ => None,
	});
	let Some((paid, expires_at, uses_left)) = bought else {
		shared.budget.settle(reserved, 0);
		return Err("the purchase was included but the chain reported no grant".into());
	};
	shared.budget.settle(reserved, paid);
	Ok(json!({
		"model_id": model.id,
		"tier_id": tier_id,
		"paid": amount(paid),
		"expires_at_block": expires_at,
		"uses_left": match uses_left {
			access::Uses::Unlimited => Value::from("unlimited"),
			access::Uses::Limited(n) => n.into(),
		},
		"spending": shared.budget.summary(),
	}))
}
