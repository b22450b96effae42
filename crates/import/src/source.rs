//! Where a repository is: a directory, or a repository id resolved in the local Hugging Face
//! cache, laid out as `huggingface_hub` writes it:
//!
//! ```text
//! $HF_HOME/hub/models--{org}--{name}/refs/{branch or tag}   (holds the commit hash)
//! $HF_HOME/hub/models--{org}--{name}/snapshots/{commit}/…   (the files, often links to blobs/)
//! ```
//!
//! The cache is `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.

use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// A repository found on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
	/// Its files.
	pub dir: PathBuf,
	/// `org/name` on the Hub; for a plain directory, its name.
	pub repo_id: String,
	/// The commit its files are at; `local` for a plain directory.
	pub revision: String,
	/// Whether the repository id is the Hub's (a cache entry or snapshot directory), so the
	/// model's documentation link can point there.
	pub on_hub: bool,
}

impl Source {
	/// Finds `spec`: an existing directory, else `org/name` in the Hugging Face cache at
	/// `revision` (a branch, tag or commit; `main` by default).
	pub fn resolve(spec: &str, revision: Option<&str>) -> Result<Source> {
		Self::resolve_in(spec, revision, &hub_cache())
	}

	/// As [`Source::resolve`], with the cache at `cache`.
	pub fn resolve_in(spec: &str, revision: Option<&str>, cache: &Path) -> Result<Source> {
		let path = Path::new(spec);
		if path.is_dir() {
			if let Some(revision) = revision {
				return Err(Error::NotFound(format!(
					"--revision {revision} applies to a repository id in the Hugging Face cache, \
					 not to the directory {spec}"
				)));
			}
			return Ok(Self::of_dir(path));
		}
		let Some((org, name)) = repo_id(spec) else {
			return Err(Error::NotFound(format!(
				"{spec} is neither a directory nor a Hugging Face repository id (org/name)"
			)));
		};
		let repo = cache.join(format!("models--{org}--{name}"));
		if !repo.is_dir() {
			return Err(Error::NotFound(format!(
				"{spec} is not in the Hugging Face cache ({} does not exist); download it first \
				 (`huggingface-cli download {spec}`) or give its directory",
				repo.display()
			)));
		}
		let wanted = revision.unwrap_or("main");
		let commit = if is_commit(wanted) {
			wanted.to_string()
		} else {
			let reference = repo.join("refs").join(wanted);
			std::fs::read_to_string(&reference)
				.map_err(|_| {
					Error::NotFound(format!(
						"{spec} has no revision `{wanted}` in the cache ({} is missing)",
						reference.display()
					))
				})?
				.trim()
				.to_string()
		};
		let dir = repo.join("snapshots").join(&commit);
		if !dir.is_dir() {
			return Err(Error::NotFound(format!(
				"{spec} revision {commit} has no snapshot in the cache ({} is missing)",
				dir.display()
			)));
		}
		Ok(Source { dir, repo_id: format!("{org}/{name}"), revision: commit, on_hub: true })
	}

	/// A plain directory; a snapshot directory of the cache keeps its repository and commit.
	fn of_dir(path: &Path) -> Source {
		let dir = path.to_path_buf();
		let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| dir.clone());
		let name = |p: &Path| p.file_name().and_then(|n| n.to_str()).map(str::to_string);
		let snapshot = canonical.parent().filter(|p| name(p).as_deref() == Some("snapshots"));
		let cached = snapshot.and_then(Path::parent).and_then(|repo| {
			name(repo)?.strip_prefix("models--").map(|id| id.replacen("--", "/", 1))
		});
		match (cached, name(&canonical)) {
			(Some(repo_id), Some(commit)) if is_commit(&commit) => {
				Source { dir, repo_id, revision: commit, on_hub: true }
			}
			(_, dir_name) => Source {
				dir,
				repo_id: dir_name.unwrap_or_else(|| "model".into()),
				revision: "local".into(),
				on_hub: false,
			},
		}
	}
}

/// The Hugging Face cache directory the environment names.
pub fn hub_cache() -> PathBuf {
	if let Some(dir) = std::env::var_os("HF_HUB_CACHE") {
		return dir.into();
	}
	if let Some(home) = std::env::var_os("HF_HOME") {
		return PathBuf::from(home).join("hub");
	}
	let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
	home.join(".cache").join("huggingface").join("hub")
}

/// `org/name` split, if `spec` is a Hub repository id.
fn repo_id(spec: &str) -> Option<(&str, &str)> {
	let (org, name) = spec.split_once('/')?;
	let valid = |part: &str| {
		!part.is_empty()
			&& part.len() <= 96
			&& !part.starts_with('.')
			&& part.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
	};
	(valid(org) && valid(name)).then_some((org, name))
}

fn is_commit(revision: &str) -> bool {
	revision.len() == 40 && revision.chars().all(|c| c.is_ascii_hexdigit())
}
