//! A model's card as MCP resources serve it (`citrate://models/{id}`, JSON): what an agent
//! needs to choose a model and call it — name, versions, task, inputs, license, price and
//! tiers, usage, providers and how results are verified.

use super::chain::ModelView;
use citrate_inference_primitives::request::{schema, Form};
use citrate_model_primitives::ModelId;
use citrate_runtime::Balance;
use polkadot_sdk::sp_core::crypto::Ss58Codec;
use serde_json::{json, Value};

/// Plancks in one CTR (18 decimals, as the chain's native token).
pub const PLANCKS_PER_UNIT: Balance = 1_000_000_000_000_000_000;

pub const MIME: &str = "application/json";

/// The resource URI of model `id`.
pub fn uri(id: ModelId) -> String {
	format!("citrate://models/{id}")
}

/// The model id a `citrate://models/{id}` URI names.
pub fn id_of(uri: &str) -> Option<ModelId> {
	uri.strip_prefix("citrate://models/")?.parse().ok()
}

/// The registered name a `citrate://models/by-name/{name}` URI names (percent-decoded).
pub fn name_of(uri: &str) -> Option<String> {
	let encoded = uri.strip_prefix("citrate://models/by-name/")?;
	percent_decode(encoded)
}

fn percent_decode(text: &str) -> Option<String> {
	let mut bytes = Vec::with_capacity(text.len());
	let mut input = text.bytes();
	while let Some(byte) = input.next() {
		if byte == b'%' {
			let high = (input.next()? as char).to_digit(16)?;
			let low = (input.next()? as char).to_digit(16)?;
			bytes.push((high * 16 + low) as u8);
		} else {
			bytes.push(byte);
		}
	}
	String::from_utf8(bytes).ok()
}

/// An amount in plancks and in CTR.
pub fn amount(plancks: Balance) -> Value {
	json!({ "plancks": plancks.to_string(), "ctr": ctr(plancks) })
}

/// `plancks` in CTR, as a decimal without trailing zeros.
pub fn ctr(plancks: Balance) -> String {
	let whole = plancks / PLANCKS_PER_UNIT;
	match plancks % PLANCKS_PER_UNIT {
		0 => whole.to_string(),
		fraction => format!("{whole}.{}", format!("{fraction:018}").trim_end_matches('0')),
	}
}

/// An amount in CTR as agents write it (`0.5`, `"2"`, `"0.000001"`) in plancks; at most 18
/// decimals, not negative.
pub fn plancks_of(ctr: &str) -> Result<Balance, String> {
	let bad = || format!("`{ctr}` is not an amount of CTR (e.g. 0.5)");
	let (whole, fraction) = ctr.trim().split_once('.').unwrap_or((ctr.trim(), ""));
	let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
	if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
		return Err(bad());
	}
	if fraction.len() > 18 {
		return Err(format!("`{ctr}` has more than 18 decimals"));
	}
	let whole: Balance = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| bad())? };
	let fraction: Balance = if fraction.is_empty() {
		0
	} else {
		format!("{fraction:0<18}").parse().map_err(|_| bad())?
	};
	whole.checked_mul(PLANCKS_PER_UNIT).and_then(|w| w.checked_add(fraction)).ok_or_else(bad)
}

fn text(bytes: &[u8]) -> String {
	String::from_utf8_lossy(bytes).into_owned()
}

/// The card of `model`.
pub fn card(model: &ModelView) -> Value {
	let info = &model.info;
	let metadata = model.metadata.as_ref();
	let task = metadata.map(|m| m.task);
	let inputs = task.and_then(schema).map(|schema| {
		schema
			.fields
			.iter()
			.map(|field| {
				json!({
					"name": field.name,
					"form": match field.form {
						Form::Bytes if field.name == "image" => "an image file (JPEG, PNG, …)".into(),
						Form::Bytes if field.name == "audio" => "an audio file (WAV, …)".into(),
						Form::Bytes => "UTF-8 text".into(),
						Form::Texts => "one text or a list of texts".into(),
						other => other.to_string(),
					},
					"required": field.required,
				})
			})
			.collect::<Vec<_>>()
	});
	let verification = model.terms.as_ref().map_or(Value::from("Single"), |terms| {
		json!({
			"verification": format!("{:?}", terms.verification),
			"comparison": format!("{:?}", terms.comparison),
		})
	});
	let compute_fee = model.compute_fee().map(amount);
	json!({
		"id": model.id,
		"uri": uri(model.id),
		"name": text(&info.name),
		"version": info.version,
		"versions": model.versions,
		"status": format!("{:?}", info.status),
		"owner": info.owner.to_ss58check(),
		"task": task.map(|t| t.name()),
		"model_type": format!("{:?}", info.model_type),
		"framework": format!("{:?}", info.framework),
		"package_cid": text(&info.cid),
		"size_bytes": info.size_bytes,
		"license": { "id": text(&info.license.identifier), "kind": format!("{:?}", info.license.kind) },
		"description": metadata.map(|m| text(&m.description)),
		"tags": metadata.map(|m| m.tags.iter().map(|t| text(t)).collect::<Vec<_>>()),
		"parameters": metadata.map(|m| m.parameter_count),
		"flops_per_inference": metadata.map(|m| m.flops_per_inference),
		"documentation": metadata.map(|m| text(&m.documentation)).filter(|d| !d.is_empty()),
		"import_attestation_sha256": metadata.and_then(|m| m.import_attestation).map(|h| h.iter().map(|b| format!("{b:02x}")).collect::<String>()),
		"inputs": inputs,
		"outputs": task.map(citrate_inference::pipelines::output_description),
		"price_per_call": amount(model.price),
		"compute_fee_per_call": compute_fee,
		"fee_per_call": model.fee_per_call().map(amount),
		"access_tiers": model.tiers.iter().map(|(id, tier)| json!({
			"tier_id": id,
			"price": amount(tier.price),
			"duration_blocks": tier.duration,
			"max_uses": if tier.max_uses == 0 { Value::from("unlimited") } else { tier.max_uses.into() },
		})).collect::<Vec<_>>(),
		"providers": model.providers.iter().map(|p| p.to_ss58check()).collect::<Vec<_>>(),
		"pinners": model.pinners.iter().map(|p| p.to_ss58check()).collect::<Vec<_>>(),
		"verification": verification,
		"usage": { "calls": info.usage_count, "rewards": amount(info.total_rewards) },
		"how_to_call": format!(
			"call the run_inference tool with model_id {} and the inputs above",
			model.id
		),
	})
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn uris_name_models_by_id_or_by_percent_encoded_name() {
		assert_eq!(uri(7), "citrate://models/7");
		assert_eq!(id_of("citrate://models/7"), Some(7));
		assert_eq!(id_of("citrate://models/by-name/x"), None);
		assert_eq!(id_of("citrate://models/-1"), None);
		assert_eq!(
			name_of("citrate://models/by-name/sentence-transformers%2Fall-MiniLM-L6-v2"),
			Some("sentence-transformers/all-MiniLM-L6-v2".to_string())
		);
		assert_eq!(name_of("citrate://models/by-name/bad%2"), None);
		assert_eq!(name_of("citrate://models/7"), None);
	}

	#[test]
	fn amounts_in_ctr_read_to_plancks() {
		assert_eq!(plancks_of("0.5"), Ok(PLANCKS_PER_UNIT / 2));
		assert_eq!(plancks_of("2"), Ok(2 * PLANCKS_PER_UNIT));
		assert_eq!(plancks_of(".000000000000000001"), Ok(1));
		assert_eq!(plancks_of("1.5e3"), Err("`1.5e3` is not an amount of CTR (e.g. 0.5)".into()));
		assert_eq!(plancks_of("-1"), Err("`-1` is not an amount of CTR (e.g. 0.5)".into()));
		assert_eq!(
			plancks_of("0.0000000000000000001"),
			Err("`0.0000000000000000001` has more than 18 decimals".into())
		);
	}

	#[test]
	fn amounts_are_given_in_plancks_and_in_ctr() {
		assert_eq!(amount(0), json!({ "plancks": "0", "ctr": "0" }));
		assert_eq!(
			amount(PLANCKS_PER_UNIT / 2),
			json!({ "plancks": "500000000000000000", "ctr": "0.5" })
		);
		assert_eq!(
			amount(3 * PLANCKS_PER_UNIT + 1),
			json!({ "plancks": "3000000000000000001", "ctr": "3.000000000000000001" })
		);
	}
}
