//! Whisper speech-to-text: 16 kHz audio → log-mel (computed filter bank) → encoder → greedy
//! decoding without timestamps.
//!
//! Multilingual checkpoints (their tokenizer has language tokens after
//! `<|startoftranscript|>`) take the request's language and task; with no language given, it
//! is detected as Whisper does: one decoder step after `<|startoftranscript|>`, the most
//! likely language token. English-only checkpoints (`*.en`) transcribe English and refuse
//! other languages and translation.
//!
//! The weights are HF-layout safetensors carrying the HF `config.json` in their metadata
//! (`scripts/convert/whisper_ct2.py` writes them from CTranslate2); the tokenizer is the
//! model's `tokenizer.json`. One loaded model serves concurrent requests: each request decodes
//! on its own copy (weights shared, key/value caches its own).

use super::{candle_error, check_safetensors, mel::mel_filters};
use crate::{
	cost::Estimate,
	pipelines::{Output, SpeechOptions},
	Error, Limits, Result,
};
use candle_core::{Device, IndexOp, Tensor as CandleTensor, D};
use candle_nn::VarBuilder;
use candle_transformers::models::whisper::{self as w, audio::pcm_to_mel, model::Whisper, Config};
use tokenizers::Tokenizer;

/// Longest audio one request may send: Whisper's 30-second window.
pub const MAX_SECONDS: usize = w::CHUNK_LENGTH;
/// Most tokens one transcription decodes (half of Whisper's 448-token context, as OpenAI's
/// decoder allows).
pub const MAX_TOKENS: usize = 224;

/// A loaded Whisper model and its tokenizer.
pub struct WhisperModel {
	model: Whisper,
	tokenizer: Tokenizer,
	filters: Vec<f32>,
	device: Device,
	sot: u32,
	/// Multilingual checkpoints: the language codes and their tokens, and the task tokens.
	languages: Vec<(String, u32)>,
	transcribe_token: u32,
	translate_token: Option<u32>,
	end_of_text: u32,
	no_timestamps: u32,
	suppress: Vec<u32>,
	begin_suppress: Vec<u32>,
	weight_bytes: u64,
	limits: Limits,
}

impl WhisperModel {
	/// Loads the safetensors (HF config in its metadata) and `tokenizer.json`.
	pub fn load(
		safetensors: &[u8],
		tokenizer_json: &[u8],
		device: &Device,
		limits: &Limits,
	) -> Result<Self> {
		let metadata =
			check_safetensors(safetensors, limits).map_err(|e| e.in_file("model.safetensors"))?;
		let config_text = metadata.get("config").and_then(|c| c.as_str()).ok_or_else(|| {
			Error::InvalidModel(
				"model.safetensors: no `config` (HF config.json) in its metadata".into(),
			)
		})?;
		let config: Config = serde_json::from_str(config_text).map_err(|e| {
			Error::InvalidModel(format!(
				"model.safetensors: its metadata's config is not a Whisper config: {e}"
			))
		})?;
		let raw: serde_json::Value = serde_json::from_str(config_text).unwrap_or_default();
		let begin_suppress: Vec<u32> = raw
			.get("begin_suppress_tokens")
			.and_then(|b| serde_json::from_value(b.clone()).ok())
			.unwrap_or_default();
		if config.num_mel_bins != 80 && config.num_mel_bins != 128 {
			return Err(Error::InvalidModel(format!(
				"model.safetensors: {} mel bins; Whisper has 80 or 128",
				config.num_mel_bins
			)));
		}
		let tokenizer = crate::pipelines::text::load_tokenizer(tokenizer_json, usize::MAX)?;
		let token = |t: &str| {
			tokenizer
				.token_to_id(t)
				.ok_or_else(|| Error::InvalidModel(format!("tokenizer.json: no {t} token")))
		};
		let (sot, end_of_text, no_timestamps) =
			(token(w::SOT_TOKEN)?, token(w::EOT_TOKEN)?, token(w::NO_TIMESTAMPS_TOKEN)?);
		let transcribe_token = token(w::TRANSCRIBE_TOKEN)?;
		// Multilingual vocabularies (51865 and up) follow <|startoftranscript|> with one token
		// per language; English-only ones (51864) have none.
		let languages =
			if config.vocab_size >= 51865 { languages(&tokenizer, sot) } else { vec![] };
		let translate_token =
			if languages.is_empty() { None } else { Some(token(w::TRANSLATE_TOKEN)?) };
		let vb = VarBuilder::from_slice_safetensors(safetensors, w::DTYPE, device)
			.map_err(candle_error)?;
		let model = Whisper::load(&vb, config.clone()).map_err(|e| {
			Error::InvalidModel(format!("model.safetensors: weights do not match its config: {e}"))
		})?;
		let d = config.d_model as u64;
		let layers = (config.encoder_layers + config.decoder_layers) as u64;
		let weight_bytes = 4
			* (config.vocab_size as u64 * d
				+ layers * 12 * d * d
				+ (config.max_source_positions + config.max_target_positions) as u64 * d);
		Ok(WhisperModel {
			model,
			tokenizer,
			filters: mel_filters(w::SAMPLE_RATE, w::N_FFT, config.num_mel_bins),
			device: device.clone(),
			sot,
			languages,
			transcribe_token,
			translate_token,
			end_of_text,
			no_timestamps,
			suppress: config.suppress_tokens.clone(),
			begin_suppress,
			weight_bytes,
			limits: limits.clone(),
		})
	}

	/// Bytes of weights held (f32).
	pub fn weight_bytes(&self) -> u64 {
		self.weight_bytes
	}

	/// The language codes a multilingual checkpoint knows (empty for English-only ones).
	pub fn languages(&self) -> impl Iterator<Item = &str> {
		self.languages.iter().map(|(code, _)| code.as_str())
	}

	/// Transcribes (or translates to English) up to 30 s of 16 kHz mono audio (-1..1).
	pub fn transcribe(&self, samples: &[f32], options: &SpeechOptions) -> Result<Output> {
		let language = self.check_options(options)?;
		if samples.is_empty() || samples.len() > MAX_SECONDS * w::SAMPLE_RATE {
			return Err(Error::Pipeline(format!(
				"send 1 sample to {MAX_SECONDS} s of 16 kHz audio, not {} samples",
				samples.len()
			)));
		}
		if samples.iter().any(|s| !s.is_finite()) {
			return Err(Error::Pipeline("the audio holds NaN or infinite samples".into()));
		}
		// The encoder's cost is known up front; decoding is charged step by step, so a request
		// stops as soon as it has spent the FLOPs limit.
		let mut spent = self.encoder_flops();
		let over = |flops| Error::TooManyFlops { flops, limit: self.limits.max_flops };
		if spent > self.limits.max_flops {
			return Err(over(spent));
		}
		let started = std::time::Instant::now();
		let config = &self.model.config;
		let mel = pcm_to_mel(config, samples, &self.filters);
		let frames = mel.len() / config.num_mel_bins;
		let mel = CandleTensor::from_vec(mel, (1, config.num_mel_bins, frames), &self.device)
			.and_then(|m| m.narrow(2, 0, frames.min(w::N_FRAMES)))
			.map_err(candle_error)?;

		let mut model = self.model.clone();
		let audio = model.encoder.forward(&mel, true).map_err(candle_error)?;
		let vocab = config.vocab_size;
		let mut mask = vec![0f32; vocab];
		for &t in self.suppress.iter().filter(|&&t| (t as usize) < vocab) {
			mask[t as usize] = f32::NEG_INFINITY;
		}
		// No timestamps: every timestamp token (after <|notimestamps|>) is suppressed.
		mask.iter_mut().skip(self.no_timestamps as usize + 1).for_each(|m| *m = f32::NEG_INFINITY);
		let mask = CandleTensor::new(mask.as_slice(), &self.device).map_err(candle_error)?;
		let mut begin = vec![0f32; vocab];
		for &t in self.begin_suppress.iter().filter(|&&t| (t as usize) < vocab) {
			begin[t as usize] = f32::NEG_INFINITY;
		}
		let begin = CandleTensor::new(begin.as_slice(), &self.device).map_err(candle_error)?;

		let step_logits = |model: &mut Whisper, tokens: &[u32], flush: bool| {
			let input = CandleTensor::new(tokens, &self.device)
				.and_then(|t| t.unsqueeze(0))
				.map_err(candle_error)?;
			let hidden = model.decoder.forward(&input, &audio, flush).map_err(candle_error)?;
			let last = hidden.dim(1).map_err(candle_error)? - 1;
			model
				.decoder
				.final_linear(&hidden.i((..1, last..)).map_err(candle_error)?)
				.and_then(|l| l.i(0))
				.and_then(|l| l.i(0))
				.map_err(candle_error)
		};
		let language = match language {
			Some(language) => Some(language),
			None if self.languages.is_empty() => None,
			None => {
				spent += self.decoder_step_flops(1);
				if spent > self.limits.max_flops {
					return Err(over(spent));
				}
				let logits = step_logits(&mut model, &[self.sot], true)?
					.to_vec1::<f32>()
					.map_err(candle_error)?;
				self.languages
					.iter()
					.max_by(|a, b| {
						let score = |t: u32| logits.get(t as usize).copied().unwrap_or(f32::MIN);
						score(a.1).total_cmp(&score(b.1)).then(b.1.cmp(&a.1))
					})
					.cloned()
			}
		};
		let mut tokens = vec![self.sot];
		if let Some((_, language)) = &language {
			tokens.push(*language);
			let translate = self.translate_token.filter(|_| options.translate);
			tokens.push(translate.unwrap_or(self.transcribe_token));
		}
		tokens.push(self.no_timestamps);
		let start = tokens.len();
		for step in 0..MAX_TOKENS {
			spent += self.decoder_step_flops(tokens.len());
			if spent > self.limits.max_flops {
				return Err(over(spent));
			}
			if started.elapsed() > self.limits.max_wall_time {
				return Err(Error::Timeout {
					limit_ms: self.limits.max_wall_time.as_millis() as u64,
				});
			}
			let mut logits = step_logits(&mut model, &tokens, step == 0)?
				.broadcast_add(&mask)
				.map_err(candle_error)?;
			if step == 0 {
				logits = logits.broadcast_add(&begin).map_err(candle_error)?;
			}
			let next: u32 =
				logits.argmax(D::Minus1).and_then(|t| t.to_scalar()).map_err(candle_error)?;
			if next == self.end_of_text {
				break;
			}
			tokens.push(next);
		}
		crate::cost::charge(crate::cost::Estimate {
			flops: spent,
			weight_bytes: self.weight_bytes,
			peak_activation_bytes: 0,
		});
		let text = self
			.tokenizer
			.decode(&tokens[start..], true)
			.map_err(|e| Error::Pipeline(format!("decoding tokens: {e}")))?;
		Ok(Output::Transcript {
			text: text.trim().to_string(),
			language: language.map(|(code, _)| code),
		})
	}

	/// The requested language and its token, refusing what the checkpoint cannot do.
	fn check_options(&self, options: &SpeechOptions) -> Result<Option<(String, u32)>> {
		if self.languages.is_empty() {
			return match options.language.as_deref() {
				Some(code) if code != "en" => Err(Error::Pipeline(format!(
					"this Whisper checkpoint is English-only and cannot transcribe `{code}`; \
					 use a multilingual checkpoint (e.g. Whisper base), or send `en`"
				))),
				_ if options.translate => Err(Error::Pipeline(
					"this Whisper checkpoint is English-only and cannot translate; use a \
					 multilingual checkpoint (e.g. Whisper base), or the task `transcribe`"
						.into(),
				)),
				_ => Ok(None),
			};
		}
		let Some(code) = options.language.as_deref() else { return Ok(None) };
		match self.languages.iter().find(|(known, _)| known == code) {
			Some(language) => Ok(Some(language.clone())),
			None => Err(Error::Pipeline(format!(
				"this Whisper checkpoint has no language `{code}`; it knows {}",
				self.languages().collect::<Vec<_>>().join(", ")
			))),
		}
	}

	/// FLOPs of the encoder over its 1500 positions (30 s of audio), convolutions included.
	pub fn encoder_flops(&self) -> u128 {
		let c = &self.model.config;
		let (d, frames) = (c.d_model as u128, c.max_source_positions as u128);
		c.encoder_layers as u128 * frames * (2 * 12 * d * d + 4 * frames * d)
			+ 2 * frames * 2 * (3 * c.num_mel_bins as u128 * d + 3 * d * d)
	}

	/// FLOPs of one decoding step over a prefix of `prefix` tokens: the decoder re-runs the
	/// whole prefix (self-attention has no cache), cross-attends to 1500 encoder positions,
	/// and projects the last position onto the vocabulary.
	pub fn decoder_step_flops(&self, prefix: usize) -> u128 {
		let c = &self.model.config;
		let (d, frames, t) = (c.d_model as u128, c.max_source_positions as u128, prefix as u128);
		t * c.decoder_layers as u128 * (2 * 16 * d * d + 4 * frames * d + 4 * t * d)
			+ 2 * d * c.vocab_size as u128
	}

	/// The cost of transcribing 30 s of audio into `tokens` tokens.
	pub fn estimate(&self, tokens: usize) -> Estimate {
		let frames = self.model.config.max_source_positions as u128;
		let d = self.model.config.d_model as u128;
		// <|startoftranscript|>, language, task, <|notimestamps|>.
		let start = if self.languages.is_empty() { 2 } else { 4 };
		let decoder: u128 = (start..start + tokens).map(|p| self.decoder_step_flops(p)).sum();
		Estimate {
			flops: self.encoder_flops() + decoder,
			weight_bytes: self.weight_bytes,
			peak_activation_bytes: u64::try_from(4 * 4 * frames * (4 * d + frames))
				.unwrap_or(u64::MAX),
		}
	}
}

/// The language tokens `<|xx|>` that follow `<|startoftranscript|>` in a multilingual
/// vocabulary, up to the task tokens.
fn languages(tokenizer: &Tokenizer, sot: u32) -> Vec<(String, u32)> {
	(sot + 1..)
		.map_while(|id| {
			let token = tokenizer.id_to_token(id)?;
			let code = token.strip_prefix("<|")?.strip_suffix("|>")?;
			let is_code = !code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase());
			(is_code && code != "translate" && code != "transcribe").then(|| (code.to_string(), id))
		})
		.collect()
}
