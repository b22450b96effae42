//! The gateway against clients that misbehave or ask for parts: connections that send no or
//! slow headers, sit idle or stop reading are closed on time (while a slow upstream fetch is
//! waited for); `Range` on file bytes is answered exactly and reads only the blocks it needs;
//! `dag-scope` outside a CAR request is refused.

use citrate_storage::{
	cid::Cid,
	dag_pb,
	gateway::{self, GatewayConfig},
	import, BlockError, BlockSource, CidMode, Fetcher, FsBlockStore, GatewayFetcher, ImportOptions,
	Upstream,
};
use sha2::{Digest, Sha256};
use std::{
	collections::HashMap,
	io,
	path::PathBuf,
	sync::{
		atomic::{AtomicUsize, Ordering},
		Arc,
	},
	time::{Duration, Instant},
};
use tokio::{
	io::{AsyncReadExt, AsyncWriteExt},
	net::{TcpListener, TcpSocket, TcpStream},
};

fn temp_dir(name: &str) -> PathBuf {
	let dir = std::env::temp_dir().join(format!("citrate-gwh-{}-{name}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	dir
}

fn content(len: usize) -> Vec<u8> {
	(0..len).map(|i| (i.wrapping_mul(2_654_435_761) >> 9) as u8).collect()
}

/// Blocks in memory, counting reads.
#[derive(Clone, Default)]
struct Blocks {
	blocks: HashMap<Cid, Vec<u8>>,
	reads: Arc<AtomicUsize>,
}

impl BlockSource for Blocks {
	fn get(&self, cid: &Cid) -> Result<Vec<u8>, BlockError> {
		self.reads.fetch_add(1, Ordering::Relaxed);
		BlockSource::get(&self.blocks, cid)
	}
}

/// A file of `len` bytes cut into `chunk`-byte leaves under parents of at most 8 links.
fn file(len: usize, chunk: usize, mode: CidMode) -> (Blocks, Cid, Vec<u8>) {
	let data = content(len);
	let mut blocks = HashMap::new();
	let options = ImportOptions { mode, chunk_size: chunk, max_links: 8 };
	let root = import(&data[..], options, &mut blocks).unwrap().root;
	(Blocks { blocks, reads: Arc::default() }, root, data)
}

async fn serve(source: Blocks, config: GatewayConfig) -> String {
	let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
	let url = format!("http://{}", listener.local_addr().unwrap());
	tokio::spawn(gateway::serve_with_config(listener, source, config));
	url
}

fn config(header_read_ms: u64, idle_ms: u64) -> GatewayConfig {
	GatewayConfig {
		header_read_timeout: Duration::from_millis(header_read_ms),
		idle_timeout: Duration::from_millis(idle_ms),
	}
}

async fn connect(url: &str) -> TcpStream {
	TcpStream::connect(url.trim_start_matches("http://")).await.unwrap()
}

/// Reads until the server closes the connection (EOF or reset); returns the bytes read and
/// how long that took. Fails if the connection is still open after `bound`.
async fn read_until_closed(socket: &mut TcpStream, bound: Duration) -> (usize, Duration) {
	let started = Instant::now();
	let mut total = 0;
	let mut buffer = vec![0u8; 64 * 1024];
	let closed = tokio::time::timeout(bound, async {
		loop {
			match socket.read(&mut buffer).await {
				Ok(0) => return,
				Ok(n) => total += n,
				Err(error) if error.kind() == io::ErrorKind::ConnectionReset => return,
				Err(error) => panic!("reading: {error}"),
			}
		}
	})
	.await;
	assert!(closed.is_ok(), "still open after {bound:?}, {total} bytes read");
	(total, started.elapsed())
}

/// One HTTP/1.1 response with a `content-length`: its head (lowercased) and body.
async fn read_response(socket: &mut TcpStream) -> (String, Vec<u8>) {
	let mut head = Vec::new();
	while !head.ends_with(b"\r\n\r\n") {
		head.push(socket.read_u8().await.unwrap());
	}
	let head = String::from_utf8(head).unwrap().to_ascii_lowercase();
	let length = head
		.lines()
		.find_map(|line| line.strip_prefix("content-length: "))
		.map(|value| value.trim().parse().unwrap())
		.expect("a content-length");
	let mut body = vec![0u8; length];
	socket.read_exact(&mut body).await.unwrap();
	(head, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_or_slow_client_is_disconnected_after_the_header_timeout() {
	let (blocks, root, _) = file(1000, 1024, CidMode::V1RawLeaves);
	// Idle timeout far away: the header timeout alone closes these.
	let url = serve(blocks, config(200, 30_000)).await;
	let bound = Duration::from_secs(3);

	// Nothing sent at all.
	let mut silent = connect(&url).await;
	let (read, took) = read_until_closed(&mut silent, bound).await;
	assert_eq!(read, 0);
	assert!(took >= Duration::from_millis(150), "closed after {took:?}");

	// Half a header, then nothing.
	let mut half = connect(&url).await;
	half.write_all(format!("GET /ipfs/{root} HTTP/1.1\r\nHost: x\r\n").as_bytes()).await.unwrap();
	let (read, took) = read_until_closed(&mut half, bound).await;
	assert_eq!(read, 0);
	assert!(took >= Duration::from_millis(150), "closed after {took:?}");

	// A header trickled a byte at a time: progress, but never a whole header in time.
	let mut trickle = connect(&url).await;
	let started = Instant::now();
	let writer = tokio::spawn(async move {
		for byte in b"GET /ipfs/bafy HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
			if trickle.write_all(&[*byte]).await.is_err() {
				return started.elapsed();
			}
			tokio::time::sleep(Duration::from_millis(20)).await;
		}
		panic!("the whole slow header was accepted");
	});
	let refused_after = tokio::time::timeout(bound, writer).await.unwrap().unwrap();
	assert!(refused_after < Duration::from_secs(2), "{refused_after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_requests_are_served_until_the_connection_goes_idle() {
	let (blocks, root, _) = file(3000, 1024, CidMode::V1RawLeaves);
	let block = blocks.blocks[&root].clone();
	let url = serve(blocks, config(500, 500)).await;
	let mut socket = connect(&url).await;
	let request = format!("GET /ipfs/{root}?format=raw HTTP/1.1\r\nHost: x\r\n\r\n");
	for _ in 0..3 {
		socket.write_all(request.as_bytes()).await.unwrap();
		let (head, body) = read_response(&mut socket).await;
		assert!(head.starts_with("http/1.1 200 ok\r\n"), "{head}");
		assert_eq!(body, block);
		// Well within both timeouts: the same connection takes the next request.
		tokio::time::sleep(Duration::from_millis(100)).await;
	}
	let (read, took) = read_until_closed(&mut socket, Duration::from_secs(3)).await;
	assert_eq!(read, 0);
	assert!(took >= Duration::from_millis(150), "closed after {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_is_closed_after_the_idle_timeout() {
	let (blocks, _, _) = file(1000, 1024, CidMode::V1RawLeaves);
	// Header timeout far away: the idle timeout alone closes this.
	let url = serve(blocks, config(30_000, 200)).await;
	let mut socket = connect(&url).await;
	let (read, took) = read_until_closed(&mut socket, Duration::from_secs(3)).await;
	assert_eq!(read, 0);
	assert!(took >= Duration::from_millis(150), "closed after {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_a_response_is_dropped() {
	// Far more than the socket buffers and the gateway's frames hold together.
	let len = 16 * 1024 * 1024;
	let (blocks, root, _) = file(len, 1024 * 1024, CidMode::V1RawLeaves);
	let url = serve(blocks, config(30_000, 300)).await;
	let socket = TcpSocket::new_v4().unwrap();
	socket.set_recv_buffer_size(4096).unwrap();
	let mut socket =
		socket.connect(url.trim_start_matches("http://").parse().unwrap()).await.unwrap();
	socket
		.write_all(format!("GET /ipfs/{root} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
		.await
		.unwrap();
	// The response stalls on a full window; the gateway gives up on it.
	tokio::time::sleep(Duration::from_millis(1500)).await;
	let (read, _) = read_until_closed(&mut socket, Duration::from_secs(10)).await;
	assert!(read < len, "the whole file arrived ({read} bytes)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_upstream_fetch_is_not_taken_for_idleness() {
	let (blocks, root, data) = file(700, 1024, CidMode::V1RawLeaves);
	let block = blocks.blocks[&root].clone();
	assert_eq!(block, data, "a single raw leaf");
	// An upstream gateway that takes 800 ms to answer with the right block.
	let upstream = TcpListener::bind("127.0.0.1:0").await.unwrap();
	let upstream_url = format!("http://{}", upstream.local_addr().unwrap());
	tokio::spawn(async move {
		loop {
			let (mut socket, _) = upstream.accept().await.unwrap();
			let block = block.clone();
			tokio::spawn(async move {
				let mut request = [0u8; 4096];
				let _ = socket.read(&mut request).await;
				tokio::time::sleep(Duration::from_millis(800)).await;
				let head = format!(
					"HTTP/1.1 200 OK\r\ncontent-type: application/vnd.ipld.raw\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
					block.len()
				);
				let _ = socket.write_all(head.as_bytes()).await;
				let _ = socket.write_all(&block).await;
			});
		}
	});
	let fetcher = GatewayFetcher::new(vec![upstream_url], Duration::from_secs(10)).unwrap();
	let store = Arc::new(FsBlockStore::open(temp_dir("slow-upstream")).unwrap());
	let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
	let url = format!("http://{}", listener.local_addr().unwrap());
	let fetcher = Fetcher::new(store, Some(Upstream::Gateways(fetcher)));
	tokio::spawn(gateway::serve_fetching_with_config(listener, fetcher, config(200, 200)));

	let response = reqwest::get(format!("{url}/ipfs/{root}?format=raw")).await.unwrap();
	assert_eq!(response.status(), 200);
	assert_eq!(response.bytes().await.unwrap().to_vec(), data);
}

/// `(status, content-range, content-length, body)` of a GET with `range`.
async fn get_range(url: &str, range: &str) -> (u16, Option<String>, Option<String>, Vec<u8>) {
	let response = reqwest::Client::new().get(url).header("range", range).send().await.unwrap();
	let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_string());
	let (range, length) = (header("content-range"), header("content-length"));
	let status = response.status().as_u16();
	(status, range, length, response.bytes().await.unwrap().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_ranges_are_answered_with_206_and_the_exact_bytes() {
	for mode in [CidMode::V0, CidMode::V1RawLeaves] {
		// 76 leaves of 4 KiB under parents of 8: four levels.
		let len = 300 * 1024 + 123;
		let (blocks, root, data) = file(len, 4096, mode);
		let url = serve(blocks, GatewayConfig::default()).await;
		let file_url = format!("{url}/ipfs/{root}");

		let whole = reqwest::get(&file_url).await.unwrap();
		let accept_ranges = whole.headers()["accept-ranges"].to_str().unwrap().to_string();
		assert_eq!((whole.status().as_u16(), accept_ranges.as_str()), (200, "bytes"));
		assert_eq!(whole.bytes().await.unwrap().to_vec(), data);

		let last = len as u64 - 1;
		let final_byte = format!("bytes={last}-{last}");
		let cases = [
			("bytes=0-0", 0, 0),
			// Across a leaf boundary, and across a parent's (8 leaves of 4096).
			("bytes=4090-4105", 4090, 4105),
			("bytes=32760-65540", 32760, 65540),
			("bytes=100000-", 100_000, last),
			("bytes=-5000", len as u64 - 5000, last),
			// A suffix longer than the file is the whole file; an end past it is clamped.
			("bytes=-999999999", 0, last),
			("bytes=10-999999999", 10, last),
			("bytes=10-99999999999999999999999", 10, last),
			(final_byte.as_str(), last, last),
		];
		for (range, first, end) in cases {
			let (status, content_range, length, body) = get_range(&file_url, range).await;
			assert_eq!(
				(status, content_range, length),
				(
					206,
					Some(format!("bytes {first}-{end}/{len}")),
					Some((end - first + 1).to_string())
				),
				"{mode:?} {range}"
			);
			assert!(body == data[first as usize..=end as usize], "{mode:?} {range}: wrong bytes");
		}

		// Nothing of the file selected: 416, naming its size.
		for range in
			[format!("bytes={len}-"), "bytes=999999999-999999999".into(), "bytes=-0".into()]
		{
			let (status, content_range, _, body) = get_range(&file_url, &range).await;
			assert_eq!((status, content_range), (416, Some(format!("bytes */{len}"))), "{range}");
			let message = String::from_utf8(body).unwrap();
			assert_eq!(message, format!("the range is outside the file's {len} bytes\n"));
		}

		// Several ranges, other units and malformed ranges are ignored: the whole file.
		for range in ["bytes=0-1,5-6", "items=0-5", "bytes=5-1", "bytes=abc", "bytes=+1-2", "bytes"]
		{
			let (status, content_range, _, body) = get_range(&file_url, range).await;
			assert_eq!((status, content_range), (200, None), "{mode:?} {range}");
			assert!(body == data, "{mode:?} {range}: not the whole file");
		}
	}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn range_is_for_file_bytes_only_and_honours_if_range_and_head() {
	let (blocks, root, data) = file(20_000, 4096, CidMode::V0);
	let root_block = blocks.blocks[&root].clone();
	let url = serve(blocks, GatewayConfig::default()).await;
	let http = reqwest::Client::new();
	let etag = format!("\"{root}\"");

	// Raw blocks and CARs are never ranged.
	let raw = http
		.get(format!("{url}/ipfs/{root}?format=raw"))
		.header("range", "bytes=0-3")
		.send()
		.await
		.unwrap();
	assert_eq!((raw.status().as_u16(), raw.headers().get("accept-ranges")), (200, None));
	assert_eq!(raw.bytes().await.unwrap().to_vec(), root_block);
	let car = http
		.get(format!("{url}/ipfs/{root}?format=car"))
		.header("range", "bytes=0-3")
		.send()
		.await
		.unwrap();
	assert_eq!((car.status().as_u16(), car.headers().get("content-range")), (200, None));
	assert!(car.bytes().await.unwrap().len() > data.len());

	// If-Range: the file's ETag keeps the range; anything else gets the whole file.
	let with_if_range = |if_range: String| {
		http.get(format!("{url}/ipfs/{root}"))
			.header("range", "bytes=5000-5009")
			.header("if-range", if_range)
			.send()
	};
	let fresh = with_if_range(etag.clone()).await.unwrap();
	assert_eq!(fresh.status(), 206);
	assert_eq!(fresh.bytes().await.unwrap().to_vec(), data[5000..5010]);
	for stale in
		["\"bafy-other\"".to_string(), format!("W/{etag}"), "Wed, 21 Oct 2015 07:28:00 GMT".into()]
	{
		let response = with_if_range(stale.clone()).await.unwrap();
		assert_eq!(response.status(), 200, "{stale}");
		assert_eq!(response.bytes().await.unwrap().to_vec(), data, "{stale}");
	}

	// A file of zero bytes has no byte to select.
	let (empty, empty_root, _) = file(0, 4096, CidMode::V1RawLeaves);
	let empty_url = serve(empty, GatewayConfig::default()).await;
	let (status, content_range, _, _) =
		get_range(&format!("{empty_url}/ipfs/{empty_root}"), "bytes=-1").await;
	assert_eq!((status, content_range.as_deref()), (416, Some("bytes */0")));

	// HEAD answers a range's headers without its bytes.
	let head =
		http.head(format!("{url}/ipfs/{root}")).header("range", "bytes=-100").send().await.unwrap();
	let header = |name| head.headers()[name].to_str().unwrap().to_string();
	assert_eq!(
		(head.status().as_u16(), header("content-range"), header("content-length")),
		(206, "bytes 19900-19999/20000".to_string(), "100".to_string())
	);
	assert!(head.bytes().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_range_reads_only_the_blocks_on_its_way() {
	for mode in [CidMode::V0, CidMode::V1RawLeaves] {
		let (blocks, root, data) = file(300 * 1024 + 123, 4096, mode);
		let reads = blocks.reads.clone();
		let url = serve(blocks, GatewayConfig::default()).await;
		let file_url = format!("{url}/ipfs/{root}");

		let (status, _, _, body) = get_range(&file_url, "bytes=-10").await;
		assert_eq!((status, body), (206, data[data.len() - 10..].to_vec()));
		// The root twice (resolved, then walked), a parent on each level and one leaf.
		assert_eq!(reads.swap(0, Ordering::Relaxed), 5, "{mode:?}");

		let (status, _, _, body) = get_range(&file_url, "bytes=150000-150001").await;
		assert_eq!((status, body), (206, data[150_000..150_002].to_vec()));
		assert_eq!(reads.swap(0, Ordering::Relaxed), 5, "{mode:?}");

		// The whole file reads every block: 76 leaves, 13 parents, and the root once more.
		let whole = reqwest::get(&file_url).await.unwrap().bytes().await.unwrap();
		assert_eq!(whole.to_vec(), data);
		assert_eq!(reads.swap(0, Ordering::Relaxed), 76 + 13 + 1, "{mode:?}");
	}
}

fn raw_cid(block: &[u8]) -> Cid {
	let hash = multihash::Multihash::<64>::wrap(0x12, &Sha256::digest(block)).unwrap();
	Cid::new_v1(0x55, hash)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_range_over_lying_block_sizes_is_cut_off() {
	// A parent whose sizes add up but understate its second leaf (12 bytes, said to be 10).
	let (first, second) = (vec![1u8; 10], vec![2u8; 12]);
	let links: Vec<_> = [&first, &second]
		.map(|leaf| dag_pb::Link { cid: raw_cid(leaf).to_bytes(), tsize: 10, file_size: 10 })
		.into();
	let parent = dag_pb::node(&links, &dag_pb::unixfs_file(&[], 20, [10, 10].into_iter()));
	let hash = multihash::Multihash::<64>::wrap(0x12, &Sha256::digest(&parent)).unwrap();
	let root = Cid::new_v1(0x70, hash);
	let mut blocks = Blocks::default();
	blocks.blocks.insert(raw_cid(&first), first);
	blocks.blocks.insert(raw_cid(&second), second);
	blocks.blocks.insert(root, parent);
	let url = serve(blocks, GatewayConfig::default()).await;

	// Within the first leaf: served.
	let (status, content_range, _, body) =
		get_range(&format!("{url}/ipfs/{root}"), "bytes=2-5").await;
	assert_eq!((status, content_range.as_deref(), body), (206, Some("bytes 2-5/20"), vec![1; 4]));
	// In the second: the response breaks off rather than lie (before or after its head).
	let result = async {
		let response = reqwest::Client::new()
			.get(format!("{url}/ipfs/{root}"))
			.header("range", "bytes=15-19")
			.send()
			.await?;
		assert_eq!(response.status(), 206);
		response.bytes().await
	}
	.await;
	// The connection closes: hyper reports an incomplete body (after the head) or an
	// incomplete message (before it), nothing else.
	let error = format!("{:?}", result.expect_err("a cut-off body is an error to the client"));
	assert!(error.contains("IncompleteBody") || error.contains("IncompleteMessage"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dag_scope_is_checked_and_only_for_cars() {
	let (blocks, root, _) = file(20_000, 4096, CidMode::V0);
	let url = serve(blocks, GatewayConfig::default()).await;
	let get = |query: &str| {
		let url = format!("{url}/ipfs/{root}?{query}");
		async move {
			let response = reqwest::get(url).await.unwrap();
			(response.status().as_u16(), response.text().await.unwrap())
		}
	};
	assert_eq!(
		get("format=car&dag-scope=bogus").await,
		(400, "unsupported dag-scope \"bogus\"; use all, entity or block\n".into())
	);
	assert_eq!(
		get("format=car&dag-scope=").await,
		(400, "unsupported dag-scope \"\"; use all, entity or block\n".into())
	);
	let car_only = (400, "dag-scope applies to format=car only\n".to_string());
	assert_eq!(get("dag-scope=entity").await, car_only);
	assert_eq!(get("format=raw&dag-scope=block").await, car_only);
	for scope in ["all", "entity", "block"] {
		assert_eq!(get(&format!("format=car&dag-scope={scope}")).await.0, 200, "{scope}");
	}
	// Asked for by Accept, a CAR takes a scope too.
	let car = reqwest::Client::new()
		.get(format!("{url}/ipfs/{root}?dag-scope=block"))
		.header("accept", "application/vnd.ipld.car")
		.send()
		.await
		.unwrap();
	assert_eq!(car.status(), 200);
}
