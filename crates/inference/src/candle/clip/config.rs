//! CLIP's `config.json` (transformers' `CLIPConfig`): the two towers' settings with
//! transformers' defaults, refused where candle's CLIP cannot compute them or beyond any
//! CLIP's sizes.

use crate::{Error, Result};
use candle_transformers::models::clip::{
	text_model::{Activation, ClipTextConfig},
	vision_model::ClipVisionConfig,
};
use serde::Deserialize;
use serde_json::{Map, Value};

/// The end-of-text token's name in CLIP's vocabulary.
pub(super) const END_OF_TEXT: &str = "<|endoftext|>";
/// The layer-norm epsilon candle's CLIP computes with.
const LAYER_NORM_EPS: f64 = 1e-5;

/// The text tower's `config.json` fields (`text_config`), with transformers' defaults.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct TextConfig {
	pub vocab_size: usize,
	pub hidden_size: usize,
	pub intermediate_size: usize,
	pub num_hidden_layers: usize,
	pub num_attention_heads: usize,
	pub max_position_embeddings: usize,
	pub hidden_act: String,
	pub layer_norm_eps: f64,
	/// A number within the vocabulary to be used; anything else is ignored.
	pub eos_token_id: Option<Value>,
}

impl Default for TextConfig {
	fn default() -> Self {
		TextConfig {
			vocab_size: 49408,
			hidden_size: 512,
			intermediate_size: 2048,
			num_hidden_layers: 12,
			num_attention_heads: 8,
			max_position_embeddings: 77,
			hidden_act: "quick_gelu".into(),
			layer_norm_eps: LAYER_NORM_EPS,
			eos_token_id: None,
		}
	}
}

/// The vision tower's `config.json` fields (`vision_config`), with transformers' defaults.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct VisionConfig {
	pub hidden_size: usize,
	pub intermediate_size: usize,
	pub num_hidden_layers: usize,
	pub num_attention_heads: usize,
	pub image_size: usize,
	pub patch_size: usize,
	pub num_channels: usize,
	pub hidden_act: String,
	pub layer_norm_eps: f64,
}

impl Default for VisionConfig {
	fn default() -> Self {
		VisionConfig {
			hidden_size: 768,
			intermediate_size: 3072,
			num_hidden_layers: 12,
			num_attention_heads: 12,
			image_size: 224,
			patch_size: 32,
			num_channels: 3,
			hidden_act: "quick_gelu".into(),
			layer_norm_eps: LAYER_NORM_EPS,
		}
	}
}

impl VisionConfig {
	/// Patches per side.
	pub(super) fn grid(&self) -> usize {
		self.image_size / self.patch_size
	}

	/// Positions: the patches and the class token.
	pub(super) fn positions(&self) -> usize {
		self.grid() * self.grid() + 1
	}
}

/// A CLIP checkpoint's configuration, resolved from `config.json`.
#[derive(Clone, Debug)]
pub struct Config {
	pub text: TextConfig,
	pub vision: VisionConfig,
	pub projection_dim: usize,
	pub logit_scale_init_value: f64,
}

impl Config {
	/// Reads Hugging Face's `CLIPConfig`, refusing what candle's CLIP cannot compute and sizes
	/// beyond any CLIP's.
	pub fn from_json(config_json: &[u8]) -> Result<Self> {
		let invalid = |why: String| Error::InvalidModel(format!("config.json: {why}"));
		let top: Map<String, Value> = serde_json::from_slice(config_json)
			.map_err(|e| invalid(format!("not a CLIP config: {e}")))?;
		if let Some(model_type) = top.get("model_type").filter(|v| !v.is_null()) {
			if model_type.as_str() != Some("clip") {
				return Err(Error::Unsupported(format!(
					"config.json: model_type {model_type}; this loads CLIP (`clip`) checkpoints"
				)));
			}
		}
		// transformers: `*_config`, overlaid by `*_config_dict` where an old file has both.
		let tower = |name: &str| -> Result<Value> {
			let mut merged = Map::new();
			for key in [format!("{name}_config"), format!("{name}_config_dict")] {
				match top.get(&key) {
					None | Some(Value::Null) => {}
					Some(Value::Object(fields)) => merged.extend(fields.clone()),
					Some(_) => return Err(invalid(format!("`{key}` is not an object"))),
				}
			}
			Ok(Value::Object(merged))
		};
		let text: TextConfig = serde_json::from_value(tower("text")?)
			.map_err(|e| invalid(format!("text_config: {e}")))?;
		let vision: VisionConfig = serde_json::from_value(tower("vision")?)
			.map_err(|e| invalid(format!("vision_config: {e}")))?;
		let number = |key: &str, default: f64| match top.get(key) {
			None | Some(Value::Null) => Ok(default),
			Some(value) => {
				value.as_f64().ok_or_else(|| invalid(format!("`{key}` is not a number")))
			}
		};
		let projection_dim = number("projection_dim", 512.0)?;
		let logit_scale_init_value = number("logit_scale_init_value", 2.6592)?;
		if projection_dim.fract() != 0.0 || !(1.0..=8192.0).contains(&projection_dim) {
			return Err(invalid(format!("implausible projection_dim {projection_dim}")));
		}
		let config = Config {
			text,
			vision,
			projection_dim: projection_dim as usize,
			logit_scale_init_value,
		};
		config.check()?;
		Ok(config)
	}

	fn check(&self) -> Result<()> {
		let (t, v) = (&self.text, &self.vision);
		let tower = |hidden: usize, heads: usize, layers: usize, intermediate: usize| {
			hidden > 0
				&& hidden <= 8192
				&& heads > 0 && hidden.is_multiple_of(heads)
				&& layers <= 128
				&& intermediate > 0
				&& intermediate <= 65536
		};
		let text_sane =
			tower(t.hidden_size, t.num_attention_heads, t.num_hidden_layers, t.intermediate_size)
				&& t.vocab_size > 0
				&& t.vocab_size <= 1 << 20
				&& (2..=4096).contains(&t.max_position_embeddings);
		if !text_sane {
			return Err(Error::InvalidModel(format!(
				"config.json: implausible CLIP text_config: {t:?}"
			)));
		}
		let vision_sane =
			tower(v.hidden_size, v.num_attention_heads, v.num_hidden_layers, v.intermediate_size)
				&& (1..=4096).contains(&v.image_size)
				&& (1..=v.image_size).contains(&v.patch_size)
				&& v.positions() <= 1 << 16;
		if !vision_sane {
			return Err(Error::InvalidModel(format!(
				"config.json: implausible CLIP vision_config: {v:?}"
			)));
		}
		for (name, act, eps) in
			[("text", &t.hidden_act, t.layer_norm_eps), ("vision", &v.hidden_act, v.layer_norm_eps)]
		{
			if act != "quick_gelu" {
				return Err(Error::Unsupported(format!(
					"config.json: {name}_config.hidden_act `{act}`; candle's CLIP computes \
					 quick_gelu only"
				)));
			}
			if (eps - LAYER_NORM_EPS).abs() > 1e-12 {
				return Err(Error::Unsupported(format!(
					"config.json: {name}_config.layer_norm_eps {eps}; candle's CLIP computes \
					 with 1e-5"
				)));
			}
		}
		if v.num_channels != 3 {
			return Err(Error::Unsupported(format!(
				"config.json: vision_config.num_channels {}; images are RGB (3 channels)",
				v.num_channels
			)));
		}
		Ok(())
	}

	pub(super) fn text(&self) -> ClipTextConfig {
		let t = &self.text;
		ClipTextConfig {
			vocab_size: t.vocab_size,
			embed_dim: t.hidden_size,
			activation: Activation::QuickGelu,
			intermediate_size: t.intermediate_size,
			max_position_embeddings: t.max_position_embeddings,
			pad_with: None,
			num_hidden_layers: t.num_hidden_layers,
			num_attention_heads: t.num_attention_heads,
			projection_dim: self.projection_dim,
		}
	}

	pub(super) fn vision(&self) -> ClipVisionConfig {
		let v = &self.vision;
		ClipVisionConfig {
			embed_dim: v.hidden_size,
			activation: Activation::QuickGelu,
			intermediate_size: v.intermediate_size,
			num_hidden_layers: v.num_hidden_layers,
			num_attention_heads: v.num_attention_heads,
			projection_dim: self.projection_dim,
			num_channels: v.num_channels,
			image_size: v.image_size,
			patch_size: v.patch_size,
		}
	}

	/// Trained parameters: both towers, both projections and the logit scale.
	pub(super) fn parameters(&self) -> u64 {
		let layer = |h: u64, ff: u64| 4 * (h * h + h) + 2 * 2 * h + (h * ff + ff) + (ff * h + h);
		let (t, v) = (&self.text, &self.vision);
		let (ht, hv, p) = (t.hidden_size as u64, v.hidden_size as u64, self.projection_dim as u64);
		let text = (t.vocab_size + t.max_position_embeddings) as u64 * ht
			+ t.num_hidden_layers as u64 * layer(ht, t.intermediate_size as u64)
			+ 2 * ht;
		let patch = (v.num_channels * v.patch_size * v.patch_size) as u64;
		let vision =
			hv + patch * hv
				+ v.positions() as u64 * hv
				+ 2 * 2 * hv + v.num_hidden_layers as u64 * layer(hv, v.intermediate_size as u64);
		text + vision + p * (ht + hv) + 1
	}
}
