//! The import's summary: model id, CID, size, task, cost per call, the reference run and the
//! optimisation step, as a table or JSON.

use citrate_import::{agreement::Metric, Prepared};
use citrate_model_primitives::{ModelId, ModelInterface};
use citrate_runtime::{pallet_inference, Runtime};
use polkadot_sdk::sc_cli;
use std::{io::Write, time::Duration};

/// The import's summary as JSON (what `--json` prints and the MCP `import_model` returns).
pub(crate) fn json(prepared: &Prepared, id: Option<ModelId>, outcome: &str) -> serde_json::Value {
	let m = &prepared.metadata;
	let fee = pallet_inference::Pallet::<Runtime>::compute_fee(&interface(prepared));
	let ms = |d: Duration| d.as_secs_f64() * 1000.0;
	let quantization = prepared.quantized.as_ref().map(|q| {
		let a = &q.agreement;
		serde_json::json!({
			"scheme": q.quantization.name(),
			"files": q.files.iter().map(|(path, r)| serde_json::json!({
				"path": path,
				"tensors": r.tensors,
				"dequantization": r.dequantization,
				"opset": r.opset,
				"bytes_before": r.bytes_before,
				"bytes_after": r.bytes_after,
			})).collect::<Vec<_>>(),
			"bytes_before": q.bytes_before,
			"bytes_after": q.bytes_after,
			"agreement": {
				"metric": a.metric.name(),
				"inputs": a.inputs,
				"agreeing": a.agreeing,
				"measured": a.value,
				"mean": a.mean,
				"threshold": q.threshold,
			},
			"before": {
				"load_ms": ms(q.speed_before.load),
				"median_run_ms": ms(q.speed_before.run),
				"output": q.original.summary,
			},
			"after": {
				"load_ms": ms(q.speed_after.load),
				"median_run_ms": ms(q.speed_after.run),
				"output": prepared.validation.summary,
			},
			"runs": q.speed_after.runs,
		})
	});
	serde_json::json!({
		"outcome": outcome,
		"model_id": id,
		"name": prepared.name,
		"cid": prepared.cid,
		"size_bytes": prepared.size_bytes,
		"task": m.task.name(),
		"backend": prepared.plan.backend.name(),
		"license": prepared.license.id,
		"parameters": m.parameter_count,
		"flops_per_inference": m.flops_per_inference,
		"min_memory_bytes": m.min_memory_bytes,
		"compute_fee_per_call": fee.to_string(),
		"attestation_sha256": hex(&prepared.attestation_sha256),
		"reference_run": {
			"output": prepared.validation.summary,
			"load_ms": prepared.validation.load_time.as_millis() as u64,
			"run_ms": prepared.validation.run_time.as_millis() as u64,
		},
		"quantization": quantization,
	})
}

/// Prints the import's summary: JSON with `json`, else a table.
pub(super) fn report(
	prepared: &Prepared,
	id: Option<ModelId>,
	outcome: &str,
	json: bool,
) -> sc_cli::Result<()> {
	let m = &prepared.metadata;
	let fee = pallet_inference::Pallet::<Runtime>::compute_fee(&interface(prepared));
	let ms = |d: Duration| d.as_secs_f64() * 1000.0;
	let mut out = std::io::stdout().lock();
	if json {
		writeln!(out, "{}", self::json(prepared, id, outcome))?;
	} else {
		let id = id.map_or("—".to_string(), |id| id.to_string());
		writeln!(out, "{outcome}")?;
		writeln!(out, "  model id     {id}")?;
		writeln!(out, "  name         {}", prepared.name)?;
		writeln!(out, "  CID          {}", prepared.cid)?;
		writeln!(out, "  size         {} bytes", prepared.size_bytes)?;
		writeln!(out, "  task         {} ({})", m.task.name(), prepared.plan.backend.name())?;
		writeln!(out, "  license      {}", prepared.license.id)?;
		writeln!(out, "  parameters   {}", m.parameter_count)?;
		writeln!(
			out,
			"  cost/call    {} FLOPs, {} bytes; compute fee {fee} plancks",
			m.flops_per_inference, m.min_memory_bytes
		)?;
		writeln!(
			out,
			"  reference    {} (load {} ms, run {} ms)",
			prepared.validation.summary,
			prepared.validation.load_time.as_millis(),
			prepared.validation.run_time.as_millis()
		)?;
		if let Some(q) = &prepared.quantized {
			let tensors: usize = q.files.iter().map(|(_, r)| r.tensors).sum();
			let files: Vec<&str> = q.files.iter().map(|(path, _)| path.as_str()).collect();
			writeln!(
				out,
				"  quantized    {}: {tensors} weights in {}; {} → {} bytes ({:.1}%)",
				q.quantization.name(),
				files.join(", "),
				q.bytes_before,
				q.bytes_after,
				100.0 * q.bytes_after as f64 / q.bytes_before.max(1) as f64
			)?;
			let a = &q.agreement;
			let agreement = match a.metric {
				Metric::Top1 | Metric::SameText => format!(
					"{} {} of {} reference inputs (required {:.0}%)",
					if a.metric == Metric::Top1 { "same top-1 label on" } else { "same text on" },
					a.agreeing,
					a.inputs,
					q.threshold * 100.0
				),
				Metric::Cosine => format!(
					"cosine similarity min {:.6}, mean {:.6} over {} reference inputs \
					 (required {})",
					a.value, a.mean, a.inputs, q.threshold
				),
			};
			writeln!(out, "  agreement    {agreement}")?;
			writeln!(
				out,
				"  speed        load {:.0} → {:.0} ms; run {:.1} → {:.1} ms (median of {})",
				ms(q.speed_before.load),
				ms(q.speed_after.load),
				ms(q.speed_before.run),
				ms(q.speed_after.run),
				q.speed_after.runs
			)?;
		}
		writeln!(
			out,
			"  attestation  citrate-import.json, SHA-256 {}",
			hex(&prepared.attestation_sha256)
		)?;
	}
	Ok(())
}

/// What the inference pallet prices a call of the model from.
fn interface(prepared: &Prepared) -> ModelInterface {
	ModelInterface {
		task: prepared.metadata.task,
		package_cid: vec![],
		framework: prepared.plan.framework,
		inputs: vec![],
		flops_per_inference: prepared.metadata.flops_per_inference,
		min_memory_bytes: prepared.metadata.min_memory_bytes,
	}
}

fn hex(bytes: &[u8]) -> String {
	bytes.iter().map(|b| format!("{b:02x}")).collect()
}
