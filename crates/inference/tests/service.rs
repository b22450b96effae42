//! The inference service over HTTP, as a provider's offchain worker uses it: a real model
//! package (MiniLM int8 + its tokenizer) in a block store, batches posted to `/v1/run`.
//! Outputs equal the pipeline's own; input errors are answered as failures, a package the
//! store lacks is unavailable; inputs named by CID are read from the store; an output longer
//! than the chain stores is added to the store, pinned and answered by CID; the model loads
//! once; metrics count all of it.

mod common;

use citrate_inference::{
	codec::{encode, DType, Tensor},
	package::ModelLoader,
	pipelines::{ModelFiles, Pipeline, PipelineOptions, Request, Task},
	proof::{output_hash, quantize_outputs, Quantization},
	service::{
		http::serve, InferenceService, RunBatch, RunInput, RunOutcome, ServiceConfig, RUN_PATH,
	},
};
use citrate_model_primitives::Framework;
use citrate_storage::{
	export, import, import_tree, CidMode, Fetcher, FsBlockStore, ImportOptions, PackageLimits,
	TreeOptions,
};
use codec::{Decode, Encode};
use common::*;
use std::{path::PathBuf, sync::Arc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn temp_dir(name: &str) -> PathBuf {
	let dir = std::env::temp_dir().join(format!("citrate-service-{name}-{}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	std::fs::create_dir_all(&dir).unwrap();
	dir
}

/// MiniLM's package directory, and its binary CIDv1 once added to a new store.
fn minilm_package() -> (PathBuf, FsBlockStore, Vec<u8>) {
	let dir = temp_dir("package");
	std::fs::copy(model("all-minilm-l6-v2-int8/model.onnx"), dir.join("model.onnx")).unwrap();
	std::fs::copy(model("all-minilm-l6-v2/tokenizer.json"), dir.join("tokenizer.json")).unwrap();
	let mut store = FsBlockStore::open(temp_dir("store")).unwrap();
	let tree = import_tree(&dir, ImportOptions::default(), TreeOptions::default(), &mut store);
	let root = tree.unwrap().root;
	let cid = citrate_storage::cid::Cid::new_v1(root.codec(), *root.hash()).to_bytes();
	(dir, store, cid)
}

fn text(value: &str) -> Vec<u8> {
	encode(&[Tensor::new("text", DType::U8, vec![value.len() as u32], value.into()).unwrap()])
		.unwrap()
}

/// One HTTP/1.1 exchange; the status and the body.
async fn http(port: u16, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
	let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
	let head = format!(
		"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
		body.len()
	);
	stream.write_all(head.as_bytes()).await.unwrap();
	stream.write_all(body).await.unwrap();
	let mut response = Vec::new();
	stream.read_to_end(&mut response).await.unwrap();
	let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
	let status = std::str::from_utf8(&response[9..12]).unwrap().parse().unwrap();
	(status, response[split + 4..].to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_run_over_http_like_the_pipeline_and_the_model_loads_once() {
	let (dir, store, package_cid) = minilm_package();
	let store = Arc::new(store);
	let loader = ModelLoader::new(Fetcher::new(store.clone(), None), PackageLimits::default());
	let registry = prometheus::Registry::new();
	let service =
		Arc::new(InferenceService::new(loader, ServiceConfig::default(), Some(&registry)).unwrap());
	let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
	let port = listener.local_addr().unwrap().port();
	tokio::spawn(serve(listener, service.clone(), Some(registry)));

	let sentences = ["A man is playing a guitar.", "The new movie is awesome."];
	let image = encode(&[Tensor::new("image", DType::U8, vec![3], vec![1, 2, 3]).unwrap()]);
	let batch = RunBatch {
		model_id: 3,
		package_cid: package_cid.clone(),
		framework: Framework::Onnx,
		task: Task::FeatureExtraction,
		inputs: [text(sentences[0]), text(sentences[1]), b"nope".to_vec(), image.unwrap()]
			.map(RunInput::Inline)
			.to_vec(),
		max_output_len: 65_536,
		quantization: None,
	};
	let (status, body) = http(port, "POST", RUN_PATH, &batch.encode()).await;
	assert_eq!(status, 200);
	let outcomes = Vec::<RunOutcome>::decode(&mut &body[..]).unwrap();
	assert_eq!(outcomes.len(), 4);

	// Each output is the pipeline's own for that input alone, in the codec's form.
	let files = ModelFiles::from_dir(&dir, 1 << 30).unwrap();
	let pipeline = Pipeline::load(Task::FeatureExtraction, &files, &PipelineOptions::default());
	let pipeline = pipeline.unwrap();
	for (sentence, outcome) in sentences.iter().zip(&outcomes) {
		let output = pipeline.run(&Request::Text(vec![sentence.to_string()])).unwrap();
		let expected = encode(&output.to_tensors().unwrap()).unwrap();
		assert_eq!(outcome, &RunOutcome::Output(expected), "{sentence}");
	}
	let RunOutcome::Failed(reason) = &outcomes[2] else { panic!("{:?}", outcomes[2]) };
	assert!(String::from_utf8_lossy(reason).starts_with("tensor codec: "), "{reason:?}");
	let RunOutcome::Failed(reason) = &outcomes[3] else { panic!("{:?}", outcomes[3]) };
	assert!(String::from_utf8_lossy(reason).starts_with("request: "), "{reason:?}");

	// The second batch of the model finds it loaded.
	let again = RunBatch { inputs: vec![RunInput::Inline(text(sentences[0]))], ..batch.clone() };
	let (_, body) = http(port, "POST", RUN_PATH, &again.encode()).await;
	assert_eq!(Vec::<RunOutcome>::decode(&mut &body[..]).unwrap()[0], outcomes[0]);
	let stats = service.cache_stats();
	assert_eq!((stats.loads, stats.hits), (1, 1));

	// An output longer than the chain stores is added to the store, pinned, and answered by
	// its CID with its hashes.
	let small = RunBatch { max_output_len: 100, quantization: Some(8), ..again.clone() };
	let (_, body) = http(port, "POST", RUN_PATH, &small.encode()).await;
	let RunOutcome::Stored(stored) = &Vec::<RunOutcome>::decode(&mut &body[..]).unwrap()[0] else {
		panic!("not stored")
	};
	let RunOutcome::Output(inline) = &outcomes[0] else { panic!("not an output") };
	let cid = citrate_storage::cid::Cid::try_from(&stored.cid[..]).unwrap();
	assert_eq!(cid.version(), citrate_storage::cid::Version::V1);
	let mut kept = Vec::new();
	export(&cid, &*store, &mut kept).unwrap();
	assert_eq!((&kept, stored.size), (inline, inline.len() as u64));
	assert!(store.pins().unwrap().contains(&cid), "pinned");
	let tensors = citrate_inference::codec::decode(inline).unwrap();
	assert_eq!(stored.output_hash, output_hash(&tensors).unwrap());
	let grid = Quantization::new(8).unwrap();
	let quantized = output_hash(&quantize_outputs(&tensors, grid)).unwrap();
	assert_eq!(stored.quantized_hash, Some(quantized));

	// Inputs named by CID: a file in the store runs as the same bytes inline; a directory is a
	// failure; a file the store lacks (and no upstream) is unavailable.
	let options = ImportOptions { mode: CidMode::V1RawLeaves, ..ImportOptions::default() };
	let file = import(&text(sentences[0])[..], options, &mut &*store).unwrap().root;
	let mut missing_input = file.to_bytes();
	*missing_input.last_mut().unwrap() ^= 1;
	let by_cid = RunBatch {
		inputs: vec![
			RunInput::Cid(file.to_bytes()),
			RunInput::Cid(package_cid.clone()),
			RunInput::Cid(missing_input),
		],
		..again.clone()
	};
	let (_, body) = http(port, "POST", RUN_PATH, &by_cid.encode()).await;
	let read = Vec::<RunOutcome>::decode(&mut &body[..]).unwrap();
	assert_eq!(read[0], outcomes[0]);
	let RunOutcome::Failed(reason) = &read[1] else { panic!("{:?}", read[1]) };
	assert!(String::from_utf8_lossy(reason).ends_with("is a directory, not a file"), "{reason:?}");
	let RunOutcome::Unavailable(reason) = &read[2] else { panic!("{:?}", read[2]) };
	assert!(String::from_utf8_lossy(reason).starts_with("fetching input "), "{reason:?}");

	// A package the store lacks (and no upstream to fetch it from): unavailable, not failed.
	let mut missing = package_cid.clone();
	*missing.last_mut().unwrap() ^= 1;
	let lost = RunBatch { package_cid: missing, ..again };
	let (_, body) = http(port, "POST", RUN_PATH, &lost.encode()).await;
	let RunOutcome::Unavailable(reason) = &Vec::<RunOutcome>::decode(&mut &body[..]).unwrap()[0]
	else {
		panic!("not unavailable")
	};
	assert!(String::from_utf8_lossy(reason).starts_with("loading model 3: "), "{reason:?}");

	// Bad requests.
	assert_eq!(http(port, "POST", RUN_PATH, b"\xff").await.0, 400);
	assert_eq!(http(port, "GET", RUN_PATH, b"").await.0, 405);
	assert_eq!(http(port, "GET", "/health", b"").await, (200, b"ok".to_vec()));

	let (status, metrics) = http(port, "GET", "/metrics", b"").await;
	assert_eq!(status, 200);
	let metrics = String::from_utf8(metrics).unwrap();
	for line in [
		"citrate_inference_requests_seen_total 10",
		"citrate_inference_runs_total{outcome=\"output\"} 4",
		"citrate_inference_runs_total{outcome=\"stored\"} 1",
		"citrate_inference_runs_total{outcome=\"failed\"} 3",
		"citrate_inference_runs_total{outcome=\"unavailable\"} 2",
		"citrate_inference_failures_total{reason=\"input\"} 3",
		"citrate_inference_failures_total{reason=\"fetch\"} 1",
		"citrate_inference_failures_total{reason=\"model\"} 1",
		"citrate_inference_cache_hits_total 3",
		"citrate_inference_cache_misses_total 1",
		"citrate_inference_run_seconds_count 7",
	] {
		assert!(metrics.lines().any(|l| l == line), "{line} not in\n{metrics}");
	}
}
