//! The decoding loop causal language models share: parameter checks, the FLOPs charge, greedy
//! or seeded sampling (candle's `LogitsProcessor`: the same seed gives the same text), the wall
//! time limit, and stopping at an end token.

use super::candle_error;
use crate::{
	cost::{charge, Estimate},
	pipelines::{GenerationParams, MAX_NEW_TOKENS},
	Error, Limits, Result,
};
use candle_core::Tensor as CandleTensor;
use candle_transformers::generation::{LogitsProcessor, Sampling};

/// A causal language model that takes tokens from `position` on (its key/value cache holding
/// the ones before) and returns the next token's logits, f32 `[vocab]`.
pub(crate) trait Decoder {
	fn step(&mut self, tokens: &[u32], position: usize) -> candle_core::Result<CandleTensor>;
}

/// Refuses generation parameters outside what requests may ask.
pub(crate) fn check_params(params: &GenerationParams) -> Result<()> {
	if params.max_tokens == 0 || params.max_tokens > MAX_NEW_TOKENS {
		return Err(Error::Pipeline(format!("max_tokens must be 1..={MAX_NEW_TOKENS}")));
	}
	if !(0.0..=10.0).contains(&params.temperature)
		|| params.top_p.is_some_and(|p| !(0.0..=1.0).contains(&p))
	{
		return Err(Error::Pipeline("temperature must be 0..=10 and top_p 0..=1".into()));
	}
	Ok(())
}

/// Charges a generation's cost — two FLOPs per parameter per token, prompt and generated — and
/// refuses it over the limit.
pub(crate) fn charge_generation(
	parameters: u64,
	weight_bytes: u64,
	tokens: usize,
	limits: &Limits,
) -> Result<()> {
	let flops = 2 * u128::from(parameters) * tokens as u128;
	charge(Estimate { flops, weight_bytes, peak_activation_bytes: 0 });
	if flops > limits.max_flops {
		return Err(Error::TooManyFlops { flops, limit: limits.max_flops });
	}
	Ok(())
}

/// Generates up to `params.max_tokens` tokens after `prompt`, stopping before any of `stop`.
pub(crate) fn generate(
	decoder: &mut impl Decoder,
	prompt: &[u32],
	stop: &[u32],
	params: &GenerationParams,
	limits: &Limits,
) -> Result<Vec<u32>> {
	let sampling = match (params.temperature, params.top_p) {
		(t, _) if t <= 0.0 => Sampling::ArgMax,
		(temperature, Some(p)) => Sampling::TopP { p, temperature },
		(temperature, None) => Sampling::All { temperature },
	};
	let mut sampler = LogitsProcessor::from_sampling(params.seed, sampling);
	let started = std::time::Instant::now();
	let mut generated: Vec<u32> = vec![];
	let mut input = prompt.to_vec();
	let mut position = 0;
	for _ in 0..params.max_tokens {
		if started.elapsed() > limits.max_wall_time {
			return Err(Error::Timeout { limit_ms: limits.max_wall_time.as_millis() as u64 });
		}
		let logits = decoder.step(&input, position).map_err(candle_error)?;
		position += input.len();
		let next = sampler.sample(&logits).map_err(candle_error)?;
		if stop.contains(&next) {
			break;
		}
		generated.push(next);
		input = vec![next];
	}
	Ok(generated)
}

/// A loaded text-generation model: Gemma 3 from GGUF, or GPT-2 from safetensors (causal), or
/// T5 from safetensors (encoder-decoder, text-to-text).
pub enum TextGenerator {
	Gemma(super::gemma::GemmaModel),
	Gpt2(super::gpt2::Gpt2Model),
	T5(Box<super::t5::T5Model>),
}

impl TextGenerator {
	/// Continues `prompt`; returns only the generated text.
	pub fn generate(
		&self,
		prompt: &str,
		params: &GenerationParams,
	) -> Result<crate::pipelines::Output> {
		match self {
			TextGenerator::Gemma(model) => model.generate(prompt, params),
			TextGenerator::Gpt2(model) => model.generate(prompt, params),
			TextGenerator::T5(model) => model.generate(prompt, params),
		}
	}

	/// Bytes of weights held.
	pub fn weight_bytes(&self) -> u64 {
		match self {
			TextGenerator::Gemma(model) => model.weight_bytes(),
			TextGenerator::Gpt2(model) => model.weight_bytes(),
			TextGenerator::T5(model) => model.weight_bytes(),
		}
	}
}
