//! `run_inference`'s input in the task's natural form (text, an image or audio as base64, a
//! URL on this machine or an IPFS CID, a prompt with its sampling options) made into the
//! pipelines' [`Request`], whose tensors the chain request carries.

use super::chain::Chain;
use base64::Engine;
use citrate_inference::pipelines::{
	Audio, GenerationParams, ImageText, Request, SpeechOptions, Task, DEFAULT_TEMPLATE,
};
use citrate_model_primitives::ModelId;
use citrate_storage::cid::Cid;
use schemars::JsonSchema;
use serde::Deserialize;

/// Most bytes an image or audio file read from a URL may have (the chain takes less inline).
const MAX_MEDIA_BYTES: u64 = 16 << 20;

/// One text, or several (each is embedded or classified on its own).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Texts {
	One(String),
	Many(Vec<String>),
}

impl Texts {
	fn list(&self) -> Vec<String> {
		match self {
			Texts::One(text) => vec![text.clone()],
			Texts::Many(texts) => texts.clone(),
		}
	}
}

/// A model and its input. Give the fields the model's task reads (its card lists them under
/// `inputs`); a field the task does not read is refused by name.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct RunArgs {
	/// The model's id (or give `name`).
	pub model_id: Option<ModelId>,
	/// The model's registered name; its latest version runs.
	pub name: Option<String>,
	/// Text to embed or classify (feature-extraction, text-classification, fill-mask), or the
	/// texts to embed with an image–text model: one text or a list.
	pub text: Option<Texts>,
	/// An image (PNG or JPEG) as base64 or a `data:` URL (image-classification, ocr,
	/// zero-shot-image-classification).
	pub image: Option<String>,
	/// Audio (a WAV file) as base64 or a `data:` URL (speech-to-text, voice-activity).
	pub audio: Option<String>,
	/// Read the image or audio from here instead: an `http://` URL on this machine
	/// (127.0.0.1, ::1 or localhost), or an IPFS CID (`ipfs://<cid>[/path]` or the bare CID)
	/// read through the node's gateway.
	pub url: Option<String>,
	/// The prompt (text-generation, text2text-generation).
	pub prompt: Option<String>,
	/// Most tokens to generate (1 to 512; default 32).
	pub max_tokens: Option<u32>,
	/// Sampling temperature; 0 (the default) is greedy.
	pub temperature: Option<f32>,
	/// Nucleus sampling's probability mass, in (0, 1].
	pub top_p: Option<f32>,
	/// Seed of the sampler: the same seed gives the same text.
	pub seed: Option<i64>,
	/// Candidate labels to rank for the image (zero-shot-image-classification).
	pub labels: Option<Vec<String>>,
	/// The sentence each label is put into, holding `{}` (default "This is a photo of {}.").
	pub template: Option<String>,
	/// The spoken language's code (`en`, `fr`, …) for multilingual speech models; detected
	/// when absent.
	pub language: Option<String>,
	/// Translate the speech to English instead of transcribing it.
	pub translate: Option<bool>,
	/// The model's inputs in Citrate's tensor codec, base64 (raw-tensors models).
	pub tensors: Option<String>,
	/// The most this call may cost, in CTR (the price plus the compute fees); at most the
	/// server's per-call cap, which applies when absent.
	pub max_fee: Option<f64>,
	/// How long to wait for the final result, in seconds (default 120). The request stays on
	/// chain after a timeout: `get_receipt` reads its result later.
	pub timeout_secs: Option<u64>,
}

impl RunArgs {
	/// The input fields given, by name.
	fn given(&self) -> Vec<&'static str> {
		[
			("text", self.text.is_some()),
			("image", self.image.is_some()),
			("audio", self.audio.is_some()),
			("url", self.url.is_some()),
			("prompt", self.prompt.is_some()),
			("max_tokens", self.max_tokens.is_some()),
			("temperature", self.temperature.is_some()),
			("top_p", self.top_p.is_some()),
			("seed", self.seed.is_some()),
			("labels", self.labels.is_some()),
			("template", self.template.is_some()),
			("language", self.language.is_some()),
			("translate", self.translate.is_some()),
			("tensors", self.tensors.is_some()),
		]
		.into_iter()
		.filter_map(|(name, given)| given.then_some(name))
		.collect()
	}
}

/// The input fields each task reads; the first is the one it needs.
fn fields(task: Task) -> &'static [&'static str] {
	match task {
		Task::FeatureExtraction | Task::TextClassification | Task::FillMask => &["text"],
		Task::ImageClassification | Task::Ocr => &["image", "url"],
		Task::SpeechToText => &["audio", "url", "language", "translate"],
		Task::VoiceActivity => &["audio", "url"],
		Task::TextGeneration | Task::Text2TextGeneration => {
			&["prompt", "max_tokens", "temperature", "top_p", "seed"]
		}
		Task::ZeroShotImageClassification => &["image", "url", "labels", "template", "text"],
		Task::RawTensors => &["tensors"],
	}
}

/// The request `args` make for a model of `task`, reading media from a URL or CID when
/// given one. Errors say what the task takes.
pub async fn request(task: Task, args: &RunArgs, chain: &Chain) -> Result<Request, String> {
	let takes = fields(task);
	let takes_text = format!("a {} model takes {}", task.name(), takes.join(", "));
	if let Some(stray) = args.given().into_iter().find(|field| !takes.contains(field)) {
		return Err(format!("`{stray}` is not an input of this model: {takes_text}"));
	}
	let media = match (&args.image, &args.audio, &args.url) {
		(Some(data), None, None) | (None, Some(data), None) => Some(decode_base64(data)?),
		(None, None, Some(url)) => Some(fetch(url, chain).await?),
		(None, None, None) => None,
		_ => {
			return Err(format!("give the file once, as `image`/`audio` or as `url`: {takes_text}"))
		}
	};
	let texts = args.text.as_ref().map(Texts::list);
	let missing = || format!("no input given: {takes_text}");
	Ok(match task {
		Task::FeatureExtraction | Task::TextClassification | Task::FillMask => {
			Request::Text(texts.ok_or_else(missing)?)
		}
		Task::ImageClassification | Task::Ocr => Request::Image(media.ok_or_else(missing)?),
		Task::SpeechToText | Task::VoiceActivity => Request::Audio {
			audio: Audio::Wav(media.ok_or_else(missing)?),
			speech: SpeechOptions {
				language: args.language.clone(),
				translate: args.translate.unwrap_or(false),
			},
		},
		Task::TextGeneration | Task::Text2TextGeneration => {
			let defaults = GenerationParams::default();
			Request::Prompt {
				text: args.prompt.clone().ok_or_else(missing)?,
				params: GenerationParams {
					max_tokens: args.max_tokens.map_or(defaults.max_tokens, |n| n as usize),
					temperature: args.temperature.map_or(defaults.temperature, f64::from),
					top_p: args.top_p.map(f64::from),
					seed: args.seed.map_or(defaults.seed, |seed| seed as u64),
				},
			}
		}
		Task::ZeroShotImageClassification => Request::ImageText(match (media, texts) {
			(Some(image), None) => match &args.labels {
				Some(labels) => ImageText::Classify {
					image,
					labels: labels.clone(),
					template: args.template.clone().unwrap_or_else(|| DEFAULT_TEMPLATE.into()),
				},
				None => ImageText::EmbedImage(image),
			},
			(None, Some(texts)) if args.labels.is_none() => ImageText::EmbedTexts(texts),
			(None, None) => return Err(missing()),
			_ => {
				return Err(format!(
					"give an image (with `labels` to rank) or `text` to embed, not both: {takes_text}"
				))
			}
		}),
		Task::RawTensors => {
			let bytes = decode_base64(args.tensors.as_deref().ok_or_else(missing)?)?;
			Request::Tensors(
				citrate_inference::codec::decode(&bytes)
					.map_err(|e| format!("`tensors` is not Citrate's tensor codec: {e}"))?,
			)
		}
	})
}

/// Base64 (standard or URL-safe, padded or not) or a `data:…;base64,` URL.
fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
	let payload = match text.strip_prefix("data:") {
		Some(url) => url
			.split_once(";base64,")
			.map(|(_, data)| data)
			.ok_or("a `data:` URL must be base64 (`data:<type>;base64,<data>`)".to_string())?,
		None => text,
	};
	let cleaned: String = payload.chars().filter(|c| !c.is_whitespace()).collect();
	let engines = [
		base64::engine::general_purpose::STANDARD,
		base64::engine::general_purpose::STANDARD_NO_PAD,
		base64::engine::general_purpose::URL_SAFE,
		base64::engine::general_purpose::URL_SAFE_NO_PAD,
	];
	engines
		.iter()
		.find_map(|engine| engine.decode(&cleaned).ok())
		.ok_or_else(|| "the file is not valid base64".to_string())
}

/// Reads a file from a loopback `http://` URL, or from IPFS through the node's gateway
/// (every block verified against its CID).
async fn fetch(url: &str, chain: &Chain) -> Result<Vec<u8>, String> {
	if url.starts_with("http://") {
		let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
		let host = parsed.host_str().unwrap_or_default();
		let host = host.trim_start_matches('[').trim_end_matches(']');
		let loopback = host.eq_ignore_ascii_case("localhost")
			|| host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
		if !loopback {
			return Err(format!(
				"{url} is not on this machine: only 127.0.0.1, ::1 and localhost URLs (or IPFS \
				 CIDs) are read; pass other files as base64"
			));
		}
		let response = reqwest::Client::builder()
			.redirect(reqwest::redirect::Policy::none())
			.timeout(std::time::Duration::from_secs(30))
			.build()
			.map(|client| client.get(url))
			.map_err(|e| format!("{url}: {e}"))?
			.send()
			.await
			.and_then(|response| response.error_for_status())
			.map_err(|e| format!("{url}: {e}"))?;
		if response.content_length().is_some_and(|n| n > MAX_MEDIA_BYTES) {
			return Err(format!("{url} is larger than {MAX_MEDIA_BYTES} bytes"));
		}
		let bytes = response.bytes().await.map_err(|e| format!("{url}: {e}"))?;
		return Ok(bytes.to_vec());
	}
	let path = url.strip_prefix("ipfs://").or_else(|| url.strip_prefix("/ipfs/")).unwrap_or(url);
	let (cid, inner) = path.split_once('/').unwrap_or((path, ""));
	let root: Cid = cid.parse().map_err(|_| {
		format!("`{url}` is neither an http://127.0.0.1 URL nor an IPFS CID (ipfs://<cid>)")
	})?;
	chain
		.gateway
		.read_file(&root, inner, MAX_MEDIA_BYTES)
		.await
		.map_err(|e| format!("reading {url} through the gateway: {e}"))?
		.ok_or_else(|| format!("{url} is not a file"))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn files_come_as_base64_or_data_urls() {
		assert_eq!(decode_base64("aGVsbG8=").unwrap(), b"hello");
		assert_eq!(decode_base64("aGVsbG8").unwrap(), b"hello");
		assert_eq!(decode_base64("data:image/png;base64,aGVs\nbG8=").unwrap(), b"hello");
		assert_eq!(
			decode_base64("data:text/plain,hello").unwrap_err(),
			"a `data:` URL must be base64 (`data:<type>;base64,<data>`)"
		);
		assert_eq!(decode_base64("not base64!").unwrap_err(), "the file is not valid base64");
	}

	#[test]
	fn each_task_names_the_fields_it_reads() {
		let args = RunArgs { image: Some("x".into()), ..Default::default() };
		assert_eq!(args.given(), vec!["image"]);
		assert!(!fields(Task::FeatureExtraction).contains(&"image"));
		for task in Task::ALL {
			assert!(!fields(task).is_empty(), "{task:?}");
		}
	}
}
