//! `citrate-infer`: runs a model the way a Citrate provider does, outside any chain.
//!
//! The model is a registered CID (its model package, from a local block store, else fetched
//! from trustless gateways or a Kubo API, every block verified) or a directory of files.
//! Prints one JSON object: the output hash a proof of inference signs, the output, and the
//! milliseconds loading the model and running the request took.
//!
//! ```text
//! citrate-infer --task ocr --cid bafy… --gateway http://127.0.0.1:8080 --input page.png
//! citrate-infer --task feature-extraction --dir ./all-minilm-l6-v2 --text "a sentence"
//! ```

use citrate_inference::{
	package::{parse_cid, ModelLoader},
	pipelines::{
		Audio, GenerationParams, ImageText, ModelFiles, Pipeline, PipelineOptions, Request,
		SpeechOptions, Task,
	},
	proof::output_hash,
	Error,
};
use citrate_model_primitives::Framework;
use citrate_storage::{Fetcher, FsBlockStore, GatewayFetcher, KuboClient, PackageLimits, Upstream};
use clap::{Parser, ValueEnum};
use std::{path::PathBuf, process::ExitCode, sync::Arc, time::Duration};

fn parse_task(name: &str) -> Result<Task, String> {
	Task::from_name(name).ok_or_else(|| {
		let names: Vec<_> = Task::ALL.iter().map(|task| task.name()).collect();
		format!("unknown task {name:?}; one of {}", names.join(", "))
	})
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FrameworkArg {
	Onnx,
	Safetensors,
	Gguf,
}

#[derive(Debug, Parser)]
#[command(
	name = "citrate-infer",
	version,
	about = "Run a Citrate model by CID or from a directory"
)]
struct Args {
	/// The model's task (its pipeline): feature-extraction, text-classification,
	/// image-classification, ocr, speech-to-text, voice-activity, text-generation.
	#[arg(long, value_parser = parse_task)]
	task: Task,
	/// The model's registered CID: a model package, or a single file.
	#[arg(long, conflicts_with = "dir", required_unless_present = "dir")]
	cid: Option<String>,
	/// The framework of a single-file CID (names its file `model.<ext>`).
	#[arg(long, value_enum, default_value = "onnx")]
	framework: FrameworkArg,
	/// A directory holding the model's files instead of a CID.
	#[arg(long)]
	dir: Option<PathBuf>,
	/// Block store for `--cid` [default: $XDG_CACHE_HOME/citrate/ipfs, else ~/.cache/citrate/ipfs].
	#[arg(long)]
	store: Option<PathBuf>,
	/// Trustless gateways to fetch missing blocks from, in order (repeatable).
	#[arg(long = "gateway", conflicts_with = "ipfs_api")]
	gateways: Vec<String>,
	/// A Kubo RPC API to fetch missing blocks from.
	#[arg(long)]
	ipfs_api: Option<String>,
	/// Most bytes the model's files may hold.
	#[arg(long, default_value_t = PackageLimits::default().max_bytes)]
	max_bytes: u64,
	/// Seconds each fetch may take.
	#[arg(long, default_value_t = 60)]
	timeout: u64,
	/// An input file: an image (PNG, JPEG), a WAV file, or for raw tensors the tensors in the
	/// codec's binary form (CTEN).
	#[arg(long, conflicts_with_all = ["prompt"])]
	input: Option<PathBuf>,
	/// An input text (repeatable); for zero-shot image classification with `--input`, the
	/// candidate labels.
	#[arg(long)]
	text: Vec<String>,
	/// A prompt to continue.
	#[arg(long)]
	prompt: Option<String>,
	/// Speech-to-text: the spoken language's code (`en`, `fr`…), detected when absent.
	#[arg(long)]
	language: Option<String>,
	/// Speech-to-text: translate to English instead of transcribing.
	#[arg(long)]
	translate: bool,
	/// Tokens to generate at most.
	#[arg(long, default_value_t = 32)]
	max_tokens: usize,
}

fn default_store() -> PathBuf {
	std::env::var_os("XDG_CACHE_HOME")
		.map(PathBuf::from)
		.or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
		.unwrap_or_else(std::env::temp_dir)
		.join("citrate")
		.join("ipfs")
}

fn model_files(args: &Args) -> Result<ModelFiles, Error> {
	if let Some(dir) = &args.dir {
		return ModelFiles::from_dir(dir, args.max_bytes);
	}
	let cid = parse_cid(args.cid.as_deref().unwrap_or_default())?;
	let framework = match args.framework {
		FrameworkArg::Onnx => Framework::Onnx,
		FrameworkArg::Safetensors => Framework::Safetensors,
		FrameworkArg::Gguf => Framework::Gguf,
	};
	let timeout = Duration::from_secs(args.timeout);
	let other = |error: citrate_storage::RemoteError| Error::Package(error.to_string());
	let upstream = match (&args.ipfs_api, args.gateways.is_empty()) {
		(Some(api), _) => Some(Upstream::Kubo(KuboClient::new(api, timeout).map_err(other)?)),
		(None, false) => Some(Upstream::Gateways(
			GatewayFetcher::new(args.gateways.clone(), timeout).map_err(other)?,
		)),
		(None, true) => None,
	};
	let store = args.store.clone().unwrap_or_else(default_store);
	let store = FsBlockStore::open(&store)
		.map_err(|e| Error::Package(format!("block store {}: {e}", store.display())))?;
	let limits = PackageLimits { max_bytes: args.max_bytes, ..Default::default() };
	let loader = ModelLoader::new(Fetcher::new(Arc::new(store), upstream), limits);
	tokio::runtime::Builder::new_multi_thread()
		.worker_threads(1)
		.enable_all()
		.build()?
		.block_on(loader.load(&cid, framework))
}

fn request(args: &Args, task: Task) -> Result<Request, Error> {
	if task == Task::ZeroShotImageClassification {
		let template = citrate_inference::pipelines::DEFAULT_TEMPLATE.to_string();
		return Ok(Request::ImageText(match (&args.input, args.text.is_empty()) {
			(Some(path), false) => ImageText::Classify {
				image: std::fs::read(path)?,
				labels: args.text.clone(),
				template,
			},
			(Some(path), true) => ImageText::EmbedImage(std::fs::read(path)?),
			(None, false) => ImageText::EmbedTexts(args.text.clone()),
			(None, true) => return Err(Error::MissingInput("--input and/or --text".into())),
		}));
	}
	if let Some(path) = &args.input {
		let bytes = std::fs::read(path)?;
		return Ok(match task {
			Task::SpeechToText | Task::VoiceActivity => Request::Audio {
				audio: Audio::Wav(bytes),
				speech: SpeechOptions {
					language: args.language.clone(),
					translate: args.translate,
				},
			},
			Task::RawTensors => Request::Tensors(citrate_inference::codec::decode(&bytes)?),
			_ => Request::Image(bytes),
		});
	}
	if let Some(text) = &args.prompt {
		let params = GenerationParams { max_tokens: args.max_tokens, ..Default::default() };
		return Ok(Request::Prompt { text: text.clone(), params });
	}
	if args.text.is_empty() {
		return Err(Error::MissingInput("--input, --text or --prompt".into()));
	}
	Ok(Request::Text(args.text.clone()))
}

fn run(args: &Args) -> Result<serde_json::Value, Error> {
	let task = args.task;
	let files = model_files(args)?;
	let started = std::time::Instant::now();
	let pipeline = Pipeline::load(task, &files, &PipelineOptions::default())?;
	let load_ms = started.elapsed().as_secs_f64() * 1000.0;
	let request = request(args, task)?;
	let started = std::time::Instant::now();
	let output = pipeline.run(&request)?;
	let run_ms = started.elapsed().as_secs_f64() * 1000.0;
	let hash = output_hash(&output.to_tensors()?)?;
	let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
	Ok(serde_json::json!({
		"model_bytes": files.total_bytes(),
		"output_hash": format!("0x{hex}"),
		"output": output.to_json(),
		"load_ms": load_ms,
		"run_ms": run_ms,
	}))
}

fn main() -> ExitCode {
	let args = Args::parse();
	match run(&args) {
		Ok(result) => {
			println!("{result}");
			ExitCode::SUCCESS
		}
		Err(error) => {
			eprintln!("citrate-infer: {error}");
			ExitCode::FAILURE
		}
	}
}
