//! Prompts for the common flows: what an agent should call, in order, to do a task with
//! Citrate's models and show that the result is verified.

use rmcp::model::{GetPromptResult, Prompt, PromptArgument, PromptMessage, Role};
use serde_json::{Map, Value};

struct Spec {
	name: &'static str,
	description: &'static str,
	/// (argument, description, required)
	arguments: &'static [(&'static str, &'static str, bool)],
	/// The instructions, with `{argument}` placeholders.
	template: &'static str,
}

const VERIFY: &str = "Report the receipt's request_id, output_hash and providers, and say that \
	get_receipt with that request_id re-checks the result on chain.";

const PROMPTS: &[Spec] = &[
	Spec {
		name: "classify-image",
		description: "Classify an image with the best suited vision model on Citrate",
		arguments: &[
			("image", "The image: an http://127.0.0.1 URL, an IPFS CID, or base64", true),
			("labels", "Candidate labels, comma-separated, to rank with a zero-shot model", false),
		],
		template: "Classify this image with a model registered on Citrate: {image}\n\
			Candidate labels (if any): {labels}\n\
			1. Call search_models with task image-classification (or, when candidate labels are \
			given, zero-shot-image-classification). Prefer the model with the most calls \
			(usage.calls) whose fee_per_call fits the budget.\n\
			2. Call run_inference with its model_id and the image (as `url` for a URL or CID, as \
			`image` for base64; with `labels` for a zero-shot model).\n\
			3. Answer with the top labels and their scores.",
	},
	Spec {
		name: "compare-texts",
		description:
			"Find an embedding model and compare texts by the cosine similarity of their embeddings",
		arguments: &[("texts", "The texts to compare, one per line", true)],
		template: "Compare these texts by meaning, one per line:\n{texts}\n\
			1. Call search_models with task feature-extraction and pick a model whose \
			fee_per_call fits the budget.\n\
			2. Call run_inference once with its model_id and `text` set to the list of texts: the \
			result holds one embedding per text (`dims` values each, in order).\n\
			3. Compute the cosine similarity of every pair and answer with a table, most similar \
			first.",
	},
	Spec {
		name: "transcribe-audio",
		description: "Transcribe a WAV recording with a speech-to-text model on Citrate",
		arguments: &[
			("audio", "The WAV file: an http://127.0.0.1 URL, an IPFS CID, or base64", true),
			("language", "The spoken language's code (en, fr, …), if known", false),
		],
		template: "Transcribe this recording with a model registered on Citrate: {audio}\n\
			Language (if known): {language}\n\
			1. Call search_models with task speech-to-text.\n\
			2. Call run_inference with its model_id and the audio (as `url` or base64 `audio`; \
			`language` when known).\n\
			3. Answer with the transcript.",
	},
	Spec {
		name: "verify-result",
		description: "Check a past inference result against its on-chain receipt",
		arguments: &[("request_id", "The request's id, from run_inference's receipt", true)],
		template: "Verify the result of Citrate inference request {request_id}: call get_receipt \
			with request_id {request_id} and explain its checks (final on chain, signed by every \
			provider's key, output matching the signed hash), the model and package that ran, \
			and the fees paid.",
	},
];

/// Every prompt, as `prompts/list` gives them.
pub fn list() -> Vec<Prompt> {
	PROMPTS
		.iter()
		.map(|spec| {
			let arguments = spec
				.arguments
				.iter()
				.map(|(name, description, required)| {
					PromptArgument::new(*name)
						.with_description(*description)
						.with_required(*required)
				})
				.collect();
			Prompt::new(spec.name, Some(spec.description), Some(arguments))
		})
		.collect()
}

/// The prompt `name` filled with `arguments`; an error names what is missing or unknown.
pub fn get(name: &str, arguments: Option<&Map<String, Value>>) -> Result<GetPromptResult, String> {
	let spec = PROMPTS.iter().find(|spec| spec.name == name).ok_or_else(|| {
		let names: Vec<&str> = PROMPTS.iter().map(|spec| spec.name).collect();
		format!("no prompt `{name}`; the prompts are {}", names.join(", "))
	})?;
	let mut text = spec.template.to_string();
	for (argument, _, required) in spec.arguments {
		let value = match arguments.and_then(|a| a.get(*argument)) {
			Some(Value::String(value)) => value.clone(),
			Some(other) => other.to_string(),
			None if *required => {
				return Err(format!("prompt `{name}` needs the argument `{argument}`"))
			}
			None => "none".to_string(),
		};
		text = text.replace(&format!("{{{argument}}}"), &value);
	}
	text.push('\n');
	text.push_str(VERIFY);
	Ok(GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
		.with_description(spec.description))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn prompts_fill_their_arguments_and_name_what_is_missing() {
		let names: Vec<String> = list().into_iter().map(|p| p.name).collect();
		assert_eq!(names, ["classify-image", "compare-texts", "transcribe-audio", "verify-result"]);
		let mut arguments = Map::new();
		arguments.insert("request_id".into(), Value::from("7"));
		let prompt = get("verify-result", Some(&arguments)).unwrap();
		let text = serde_json::to_value(&prompt.messages[0]).unwrap()["content"]["text"].clone();
		assert!(text.as_str().unwrap().starts_with("Verify the result of Citrate inference request 7: call get_receipt with request_id 7 "), "{text}");
		assert_eq!(
			get("classify-image", None).unwrap_err(),
			"prompt `classify-image` needs the argument `image`"
		);
		assert_eq!(get("dance", None).unwrap_err(), "no prompt `dance`; the prompts are classify-image, compare-texts, transcribe-audio, verify-result");
	}
}
