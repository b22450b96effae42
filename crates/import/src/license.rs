//! The license a model card states, as the registry records it: an SPDX id and a kind.
//!
//! The Hub's license ids are lower-case SPDX ids for most licenses (`apache-2.0`, `mit`,
//! `cc-by-4.0`…) plus its own for model licenses (`openrail`, `llama3`, `gemma`…) and
//! `other` with a `license_name`. Open source (OSI-approved or open content) licenses are
//! [`LicenseKind::OpenSource`]; model licenses with use restrictions and `other` are
//! [`LicenseKind::Custom`]; non-commercial ones are [`LicenseKind::ResearchOnly`].

use crate::{card::ModelCard, Error, Result};
use citrate_model_primitives::LicenseKind;

/// Longest license id the registry stores.
pub const MAX_LICENSE_ID_LEN: usize = 64;

/// A license to register a model under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct License {
	/// SPDX id where one exists (`Apache-2.0`), else the Hub's id or the card's
	/// `license_name`.
	pub id: String,
	pub kind: LicenseKind,
}

/// Hub license ids with an SPDX form, and their kind.
const KNOWN: &[(&str, &str, LicenseKind)] = &[
	("apache-2.0", "Apache-2.0", LicenseKind::OpenSource),
	("mit", "MIT", LicenseKind::OpenSource),
	("bsd", "BSD-4-Clause", LicenseKind::OpenSource),
	("bsd-2-clause", "BSD-2-Clause", LicenseKind::OpenSource),
	("bsd-3-clause", "BSD-3-Clause", LicenseKind::OpenSource),
	("bsd-3-clause-clear", "BSD-3-Clause-Clear", LicenseKind::OpenSource),
	("isc", "ISC", LicenseKind::OpenSource),
	("mpl-2.0", "MPL-2.0", LicenseKind::OpenSource),
	("gpl-2.0", "GPL-2.0-only", LicenseKind::OpenSource),
	("gpl-3.0", "GPL-3.0-only", LicenseKind::OpenSource),
	("lgpl-3.0", "LGPL-3.0-only", LicenseKind::OpenSource),
	("agpl-3.0", "AGPL-3.0-only", LicenseKind::OpenSource),
	("unlicense", "Unlicense", LicenseKind::OpenSource),
	("cc0-1.0", "CC0-1.0", LicenseKind::OpenSource),
	("cc-by-2.0", "CC-BY-2.0", LicenseKind::OpenSource),
	("cc-by-3.0", "CC-BY-3.0", LicenseKind::OpenSource),
	("cc-by-4.0", "CC-BY-4.0", LicenseKind::OpenSource),
	("cc-by-sa-3.0", "CC-BY-SA-3.0", LicenseKind::OpenSource),
	("cc-by-sa-4.0", "CC-BY-SA-4.0", LicenseKind::OpenSource),
	("odc-by", "ODC-By-1.0", LicenseKind::OpenSource),
	("cc-by-nc-2.0", "CC-BY-NC-2.0", LicenseKind::ResearchOnly),
	("cc-by-nc-3.0", "CC-BY-NC-3.0", LicenseKind::ResearchOnly),
	("cc-by-nc-4.0", "CC-BY-NC-4.0", LicenseKind::ResearchOnly),
	("cc-by-nc-sa-4.0", "CC-BY-NC-SA-4.0", LicenseKind::ResearchOnly),
	("cc-by-nc-nd-4.0", "CC-BY-NC-ND-4.0", LicenseKind::ResearchOnly),
	("openrail", "OpenRAIL", LicenseKind::Custom),
	("openrail++", "OpenRAIL++", LicenseKind::Custom),
	("creativeml-openrail-m", "CreativeML-OpenRAIL-M", LicenseKind::Custom),
	("bigscience-openrail-m", "BigScience-OpenRAIL-M", LicenseKind::Custom),
	("llama2", "Llama-2", LicenseKind::Custom),
	("llama3", "Llama-3", LicenseKind::Custom),
	("llama3.1", "Llama-3.1", LicenseKind::Custom),
	("llama3.2", "Llama-3.2", LicenseKind::Custom),
	("gemma", "Gemma", LicenseKind::Custom),
];

impl License {
	/// The license `card` states; `override_id` (an SPDX or Hub id) replaces it. A card that
	/// states none is refused: a model is not registered under a license nobody gave it.
	pub fn of_card(card: Option<&ModelCard>, override_id: Option<&str>) -> Result<License> {
		let stated = override_id.map(str::to_string).or_else(|| card?.license.clone());
		let Some(stated) = stated.filter(|l| !l.trim().is_empty()) else {
			return Err(Error::bad(
				"README.md",
				match card {
					None => "no model card, so no license: add a README.md whose front matter \
					         states one (`license: apache-2.0`), or pass --license <SPDX id>"
						.to_string(),
					Some(_) => "the model card states no `license` in its front matter; add \
					            one (`license: apache-2.0`), or pass --license <SPDX id>"
						.to_string(),
				},
			));
		};
		let stated = stated.trim();
		let license = match KNOWN.iter().find(|(hub, spdx, _)| {
			hub.eq_ignore_ascii_case(stated) || spdx.eq_ignore_ascii_case(stated)
		}) {
			Some((_, spdx, kind)) => License { id: spdx.to_string(), kind: *kind },
			None if stated.eq_ignore_ascii_case("other") => {
				let name = card.and_then(|c| c.license_name.clone()).ok_or_else(|| {
					Error::bad(
						"README.md",
						"the card's license is `other` with no `license_name`; name it, or pass \
						 --license <id>",
					)
				})?;
				License { id: name, kind: LicenseKind::Custom }
			}
			None => License { id: stated.to_string(), kind: LicenseKind::Custom },
		};
		if license.id.len() > MAX_LICENSE_ID_LEN {
			return Err(Error::bad(
				"README.md",
				format!("license id `{}` is over {MAX_LICENSE_ID_LEN} bytes", license.id),
			));
		}
		Ok(license)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn card(license: Option<&str>, name: Option<&str>) -> ModelCard {
		ModelCard {
			license: license.map(String::from),
			license_name: name.map(String::from),
			..ModelCard::default()
		}
	}

	#[test]
	fn hub_ids_become_spdx_ids_with_their_kind() {
		let of = |id| License::of_card(Some(&card(Some(id), None)), None).unwrap();
		assert_eq!(
			of("apache-2.0"),
			License { id: "Apache-2.0".into(), kind: LicenseKind::OpenSource }
		);
		assert_eq!(of("MIT"), License { id: "MIT".into(), kind: LicenseKind::OpenSource });
		assert_eq!(of("cc-by-nc-4.0").kind, LicenseKind::ResearchOnly);
		assert_eq!(of("gemma"), License { id: "Gemma".into(), kind: LicenseKind::Custom });
		assert_eq!(
			of("some-new-license"),
			License { id: "some-new-license".into(), kind: LicenseKind::Custom }
		);
		let other = License::of_card(Some(&card(Some("other"), Some("acme-model-license"))), None);
		assert_eq!(
			other.unwrap(),
			License { id: "acme-model-license".into(), kind: LicenseKind::Custom }
		);
	}

	#[test]
	fn a_card_without_a_license_is_refused_unless_one_is_given() {
		let error = License::of_card(Some(&card(None, None)), None).unwrap_err();
		assert_eq!(
			error.to_string(),
			"README.md: the model card states no `license` in its front matter; add one \
			 (`license: apache-2.0`), or pass --license <SPDX id>"
		);
		assert!(License::of_card(None, None).unwrap_err().to_string().contains("no model card"));
		assert_eq!(License::of_card(None, Some("mit")).unwrap().id, "MIT");
		let error = License::of_card(Some(&card(Some("other"), None)), None).unwrap_err();
		assert!(error.to_string().contains("`other` with no `license_name`"), "{error}");
	}
}
