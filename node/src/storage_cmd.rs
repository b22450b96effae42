//! `citrate-node storage …`: the node's IPFS-compatible block store from the command line.
//! The store lives in `<base-path>/ipfs` (the node's base path by default), so files added
//! here are what the node serves. CIDs are the ones Kubo's `ipfs add` gives the same file.

use citrate_storage::{
	export, export_car, export_tree, import, import_car, import_tree, list_package, parse_block,
	CidMode, Fetcher, FsBlockStore, GatewayFetcher, ImportOptions, KuboClient, Node, PackageLimits,
	TreeLimits, TreeOptions, Upstream,
};
use polkadot_sdk::{sc_cli, sc_service::BasePath};
use std::{
	fs::File,
	io::{BufReader, BufWriter, Write},
	path::PathBuf,
};

/// Manage model files in the node's block store.
#[derive(Debug, clap::Args)]
pub struct StorageCmd {
	/// The node's base path; the store is its `ipfs` directory
	/// [default: the node's default base path].
	#[arg(long, short = 'd', value_name = "PATH")]
	pub base_path: Option<PathBuf>,

	#[command(subcommand)]
	pub action: StorageAction,
}

#[derive(Debug, clap::Subcommand)]
pub enum StorageAction {
	/// Import a file like `ipfs add` (a directory tree with `-r`, like `ipfs add -r`), store
	/// it, pin it and print its CID.
	Add {
		file: PathBuf,
		/// Import a directory tree.
		#[arg(long, short = 'r')]
		recursive: bool,
		/// Wrap the file or directory in a directory holding it under its name.
		#[arg(long, short = 'w')]
		wrap_with_directory: bool,
		/// Include entries whose names start with `.` (skipped by default, as in Kubo).
		#[arg(long, short = 'H')]
		hidden: bool,
		/// 0: `ipfs add` defaults (CIDv0); 1: `--cid-version 1 --raw-leaves`.
		#[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=1))]
		cid_version: u8,
		/// Bytes per chunk.
		#[arg(long, default_value_t = 262_144)]
		chunk_size: usize,
		/// Only print the CID; store nothing.
		#[arg(long)]
		only_hash: bool,
	},
	/// Write a stored file out, checking every block against its CID. With `--output`, the
	/// file or directory tree appears only if every block was intact (all or nothing).
	Get {
		cid: String,
		#[arg(long, short)]
		output: Option<PathBuf>,
	},
	/// Protect a stored DAG from garbage collection.
	Pin { cid: String },
	/// Remove a pin (the blocks go at the next `gc`).
	Unpin { cid: String },
	/// List the pinned roots; with a CID, what it holds, as `ipfs ls` does: one line per
	/// entry, `file` or `dir`, its bytes (a directory's: its files' together), CID and name.
	Ls { cid: Option<String> },
	/// What a CID names: `file` or `dir`, its number of files and their bytes together (the
	/// size to register a model package with), as JSON. Reads directory blocks and file root
	/// blocks only.
	Stat { cid: String },
	/// Delete every block no pin reaches.
	Gc,
	/// Write a stored DAG as a CARv1 file (like `ipfs dag export`).
	ExportCar {
		cid: String,
		#[arg(long, short)]
		output: PathBuf,
	},
	/// Import a CARv1 file, verifying every block, and pin its roots (like `ipfs dag import`).
	ImportCar { file: PathBuf },
	/// Fetch a DAG from other IPFS nodes into the store, verifying every block, and pin it:
	/// from trustless gateways tried in order (`--gateway`, repeatable), or from a Kubo RPC
	/// API (`--api`).
	Fetch {
		cid: String,
		#[arg(long = "gateway", value_name = "URL", required_unless_present = "api")]
		gateways: Vec<String>,
		#[arg(long, value_name = "URL", conflicts_with = "gateways")]
		api: Option<String>,
		/// Seconds each request may take.
		#[arg(long, default_value_t = 60)]
		timeout: u64,
	},
}

fn failed(error: impl std::fmt::Display) -> sc_cli::Error {
	sc_cli::Error::Input(error.to_string())
}

fn parse_cid(text: &str) -> sc_cli::Result<cid::Cid> {
	cid::Cid::try_from(text).map_err(|e| failed(format!("{text} is not a CID: {e}")))
}

impl StorageCmd {
	pub fn run(&self) -> sc_cli::Result<()> {
		let base = match &self.base_path {
			Some(path) => path.clone(),
			None => BasePath::from_project("", "", "citrate-node").path().to_path_buf(),
		};
		let open = || FsBlockStore::open(base.join("ipfs")).map_err(failed);
		let out = std::io::stdout();
		let mut out = out.lock();
		match &self.action {
			StorageAction::Add {
				file,
				recursive,
				wrap_with_directory,
				hidden,
				cid_version,
				chunk_size,
				only_hash,
			} => {
				let mode = if *cid_version == 0 { CidMode::V0 } else { CidMode::V1RawLeaves };
				let options = ImportOptions { mode, chunk_size: *chunk_size, ..Default::default() };
				if file.is_dir() && !recursive {
					return Err(failed(format!("{} is a directory; use -r", file.display())));
				}
				if *recursive || *wrap_with_directory {
					let tree = TreeOptions {
						limits: TreeLimits::default(),
						wrap: *wrap_with_directory,
						hidden: *hidden,
					};
					let root = if *only_hash {
						import_tree(file, options, tree, &mut ()).map_err(failed)?.root
					} else {
						let store = open()?;
						let mut writer = store.background_writer();
						let imported =
							import_tree(file, options, tree, &mut writer).map_err(failed)?;
						writer.finish().map_err(failed)?;
						store.pin(&imported.root).map_err(failed)?;
						imported.root
					};
					writeln!(out, "{root}")?;
					return Ok(());
				}
				let input = BufReader::new(File::open(file).map_err(failed)?);
				let imported = if *only_hash {
					import(input, options, &mut ()).map_err(failed)?
				} else {
					let store = open()?;
					let mut writer = store.background_writer();
					let imported = import(input, options, &mut writer).map_err(failed)?;
					writer.finish().map_err(failed)?;
					store.pin(&imported.root).map_err(failed)?;
					imported
				};
				writeln!(out, "{}", imported.root)?;
			}
			StorageAction::Get { cid, output } => {
				let (cid, store) = (parse_cid(cid)?, open()?);
				match output {
					None => {
						export(&cid, &store, &mut out).map_err(failed)?;
					}
					Some(path) => {
						export_tree(&cid, &store, path, TreeLimits::default()).map_err(failed)?;
					}
				}
			}
			StorageAction::Pin { cid } => open()?.pin(&parse_cid(cid)?).map_err(failed)?,
			StorageAction::Unpin { cid } => {
				if !open()?.unpin(&parse_cid(cid)?)? {
					return Err(failed(format!("{cid} is not pinned")));
				}
			}
			StorageAction::Ls { cid: None } => {
				for pin in open()?.pins()? {
					writeln!(out, "{pin}")?;
				}
			}
			StorageAction::Ls { cid: Some(cid) } => {
				let (cid, store) = (parse_cid(cid)?, open()?);
				let entries = match parse_block(&cid, store.get(&cid).map_err(failed)?) {
					Ok(Node::Directory(entries)) => entries,
					Ok(Node::File { size, .. }) => {
						writeln!(out, "file\t{size}\t{cid}\t")?;
						return Ok(());
					}
					Err(error) => return Err(failed(error)),
				};
				for entry in entries {
					let listing = list_package(&entry.cid, "", PackageLimits::default(), &store)
						.map_err(|e| failed(format!("{}: {e}", entry.name)))?;
					let directory = matches!(
						parse_block(&entry.cid, store.get(&entry.cid).map_err(failed)?),
						Ok(Node::Directory(_))
					);
					let (kind, slash) = if directory { ("dir", "/") } else { ("file", "") };
					let (bytes, name) = (listing.total_bytes, entry.name);
					writeln!(out, "{kind}\t{bytes}\t{}\t{name}{slash}", entry.cid)?;
				}
			}
			StorageAction::Stat { cid } => {
				let (cid, store) = (parse_cid(cid)?, open()?);
				let directory = matches!(
					parse_block(&cid, store.get(&cid).map_err(failed)?),
					Ok(Node::Directory(_))
				);
				let listing =
					list_package(&cid, "", PackageLimits::default(), &store).map_err(failed)?;
				let stat = serde_json::json!({
					"cid": cid.to_string(),
					"kind": if directory { "dir" } else { "file" },
					"files": listing.files.len(),
					"bytes": listing.total_bytes,
				});
				writeln!(out, "{stat}")?;
			}
			StorageAction::Gc => {
				let deleted = open()?.gc().map_err(failed)?;
				writeln!(out, "removed {deleted} blocks")?;
			}
			StorageAction::ExportCar { cid, output } => {
				let (cid, store) = (parse_cid(cid)?, open()?);
				let mut writer = BufWriter::new(File::create(output)?);
				export_car(&cid, &store, &mut writer).map_err(failed)?;
				writer.flush()?;
			}
			StorageAction::ImportCar { file } => {
				let mut input = BufReader::new(File::open(file)?);
				let (roots, blocks) = import_car(&mut input, &open()?).map_err(failed)?;
				for root in roots {
					writeln!(out, "{root} ({blocks} blocks)")?;
				}
			}
			StorageAction::Fetch { cid, gateways, api, timeout } => {
				let (cid, store) = (parse_cid(cid)?, std::sync::Arc::new(open()?));
				let timeout = std::time::Duration::from_secs(*timeout);
				let runtime = tokio::runtime::Builder::new_current_thread()
					.enable_all()
					.build()
					.map_err(failed)?;
				let blocks = runtime.block_on(async {
					match api {
						Some(api) => KuboClient::new(api, timeout)?.get(&cid, store).await,
						None => {
							let upstream =
								Upstream::Gateways(GatewayFetcher::new(gateways.clone(), timeout)?);
							Fetcher::new(store, Some(upstream)).fetch_dag(&cid).await
						}
					}
				});
				writeln!(out, "{cid} ({} blocks fetched)", blocks.map_err(failed)?)?;
			}
		}
		Ok(())
	}
}
