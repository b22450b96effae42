//! The model card: `README.md` with YAML front matter between `---` lines, as the Hub writes
//! it (<https://huggingface.co/docs/hub/model-cards>).

use crate::{Error, Result};
use serde::Deserialize;

/// What the importer reads from a model card.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelCard {
	/// `license`: a Hub license id (`apache-2.0`, `mit`, `other`…).
	pub license: Option<String>,
	/// `license_name`, which names the license when `license` is `other`.
	pub license_name: Option<String>,
	/// `pipeline_tag`: the Hub's task (`feature-extraction`, `image-classification`…).
	pub pipeline_tag: Option<String>,
	pub tags: Vec<String>,
	/// `library_name`: `transformers`, `sentence-transformers`, `onnx`…
	pub library_name: Option<String>,
	/// `base_model`: the model(s) this one was trained or converted from.
	pub base_model: Vec<String>,
	/// The first paragraph of the card's text, for a description.
	pub summary: Option<String>,
}

/// A YAML value that may be one string or a list of them (`tags`, `base_model`).
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
	One(String),
	Many(Vec<serde_yaml::Value>),
}

impl OneOrMany {
	fn into_vec(self) -> Vec<String> {
		match self {
			OneOrMany::One(one) => vec![one],
			OneOrMany::Many(many) => many
				.into_iter()
				.filter_map(|v| match v {
					serde_yaml::Value::String(s) => Some(s),
					serde_yaml::Value::Number(n) => Some(n.to_string()),
					serde_yaml::Value::Bool(b) => Some(b.to_string()),
					_ => None,
				})
				.collect(),
		}
	}
}

#[derive(Deserialize, Default)]
struct FrontMatter {
	license: Option<OneOrMany>,
	license_name: Option<String>,
	pipeline_tag: Option<String>,
	tags: Option<OneOrMany>,
	library_name: Option<String>,
	base_model: Option<OneOrMany>,
}

impl ModelCard {
	/// Reads a card's front matter (a card without one has none of the fields).
	pub fn parse(text: &str) -> Result<ModelCard> {
		let text = text.strip_prefix('\u{feff}').unwrap_or(text);
		let (yaml, body) = match split_front_matter(text) {
			Some(parts) => parts,
			None => ("", text),
		};
		let front: FrontMatter = if yaml.trim().is_empty() {
			FrontMatter::default()
		} else {
			serde_yaml::from_str(yaml).map_err(|e| {
				Error::bad("README.md", format!("the model card's YAML front matter: {e}"))
			})?
		};
		let license = front.license.map(OneOrMany::into_vec).unwrap_or_default();
		if license.len() > 1 {
			return Err(Error::bad(
				"README.md",
				format!("the card lists several licenses ({}); one is needed", license.join(", ")),
			));
		}
		Ok(ModelCard {
			license: license.into_iter().next().map(|l| l.trim().to_string()),
			license_name: front.license_name,
			pipeline_tag: front.pipeline_tag.map(|t| t.trim().to_string()),
			tags: front.tags.map(OneOrMany::into_vec).unwrap_or_default(),
			library_name: front.library_name,
			base_model: front.base_model.map(OneOrMany::into_vec).unwrap_or_default(),
			summary: summary(body),
		})
	}
}

/// The YAML between a leading `---` line and the next `---` line, and the text after.
fn split_front_matter(text: &str) -> Option<(&str, &str)> {
	let rest = text.strip_prefix("---")?;
	let rest = rest.strip_prefix("\r\n").or_else(|| rest.strip_prefix('\n'))?;
	let mut offset = 0;
	for line in rest.split_inclusive('\n') {
		if line.trim_end() == "---" {
			return Some((&rest[..offset], &rest[offset + line.len()..]));
		}
		offset += line.len();
	}
	None
}

/// The first paragraph of prose: not a heading, HTML, image, table, list or code.
fn summary(body: &str) -> Option<String> {
	let mut paragraph = vec![];
	let mut in_code = false;
	for line in body.lines() {
		let line = line.trim();
		if line.starts_with("```") {
			in_code = !in_code;
			continue;
		}
		if in_code {
			continue;
		}
		let prose = !line.is_empty()
			&& !["#", "<", "!", "|", "-", "*", ">", "["].iter().any(|p| line.starts_with(p));
		if prose {
			paragraph.push(line);
		} else if !paragraph.is_empty() {
			break;
		}
	}
	(!paragraph.is_empty()).then(|| paragraph.join(" "))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn reads_the_front_matter_and_the_first_paragraph() {
		let card = ModelCard::parse(
			"---\nlicense: apache-2.0\npipeline_tag: sentence-similarity\ntags:\n- \
			 sentence-transformers\n- feature-extraction\nlibrary_name: sentence-transformers\n\
			 base_model: nreimers/MiniLM-L6-H384-uncased\n---\n\n# all-MiniLM-L6-v2\n\nThis is a \
			 sentence-transformers model:\nit maps sentences to vectors.\n\n## Usage\n",
		)
		.unwrap();
		assert_eq!(card.license.as_deref(), Some("apache-2.0"));
		assert_eq!(card.pipeline_tag.as_deref(), Some("sentence-similarity"));
		assert_eq!(card.tags, ["sentence-transformers", "feature-extraction"]);
		assert_eq!(card.base_model, ["nreimers/MiniLM-L6-H384-uncased"]);
		assert_eq!(
			card.summary.as_deref(),
			Some("This is a sentence-transformers model: it maps sentences to vectors.")
		);
	}

	#[test]
	fn a_card_without_front_matter_has_no_fields() {
		let card = ModelCard::parse("# A model\n\nSome text.").unwrap();
		assert_eq!(card.license, None);
		assert_eq!(card.summary.as_deref(), Some("Some text."));
	}

	#[test]
	fn broken_yaml_and_several_licenses_are_refused() {
		let error = ModelCard::parse("---\nlicense: [mit\n---\n").unwrap_err().to_string();
		assert!(error.starts_with("README.md: the model card's YAML front matter: "), "{error}");
		let error = ModelCard::parse("---\nlicense: [mit, apache-2.0]\n---\n").unwrap_err();
		assert_eq!(
			error.to_string(),
			"README.md: the card lists several licenses (mit, apache-2.0); one is needed"
		);
	}
}
