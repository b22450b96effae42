//! Import benchmark: throughput of `ipfs add`-compatible importing next to plain sha2-256
//! over the same bytes, and peak memory for a 100 MiB and a 1 GiB input.
//!
//! `cargo bench -p citrate-storage --bench import` prints a table and writes it to
//! `$CARGO_TARGET_DIR/citrate-storage-import-bench.md`. Each measurement runs in its own
//! process so its peak RSS (VmHWM) is its own. Goals: importing ≥ 0.8× sha2-256's
//! throughput; peak RSS flat across sizes and below 100 MB.
//!
//! `add-v*` compute the CIDs only (`ipfs add --only-hash`); `add-v*-store` also write every
//! block into an on-disk store through a background writer, as `citrate-node storage add`
//! does; `copy-file` writes the same bytes to one file with nothing hashed, the ceiling the
//! file system puts on any store. Store writes land in the page cache (no fsync per block, like Kubo's flatfs with
//! `sync: false`); the OS writes them back afterwards.

use citrate_storage::{import, CidMode, FsBlockStore, ImportOptions};
use sha2::{Digest, Sha256};
use std::{
	fs::File,
	io::{BufReader, BufWriter, Read, Write},
	path::{Path, PathBuf},
	process::Command,
	time::Instant,
};

/// Runs per measurement; the table shows the fastest and the highest peak RSS.
const RUNS: usize = 3;
const MIB: u64 = 1024 * 1024;

fn write_input(path: &Path, len: u64) {
	if path.metadata().map(|m| m.len() == len).unwrap_or(false) {
		return;
	}
	let mut out = BufWriter::new(File::create(path).unwrap());
	let mut state = 0x9e37_79b9_7f4a_7c15u64;
	let mut buf = vec![0u8; MIB as usize];
	for _ in 0..len / MIB {
		for word in buf.chunks_mut(8) {
			state ^= state << 13;
			state ^= state >> 7;
			state ^= state << 17;
			word.copy_from_slice(&state.to_le_bytes());
		}
		out.write_all(&buf).unwrap();
	}
	out.flush().unwrap();
}

fn peak_rss_mb() -> f64 {
	let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
	status
		.lines()
		.find_map(|l| l.strip_prefix("VmHWM:"))
		.and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
		.map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Runs one measurement in this process and prints `seconds peak_rss_mb`.
fn child(what: &str, input: &Path, store: &Path) {
	let file = File::open(input).unwrap();
	let started = Instant::now();
	match what {
		"sha256" => {
			let mut hasher = Sha256::new();
			let mut reader = file;
			let mut buf = vec![0u8; 256 * 1024];
			loop {
				let n = reader.read(&mut buf).unwrap();
				if n == 0 {
					break;
				}
				hasher.update(&buf[..n]);
			}
			std::hint::black_box(hasher.finalize());
		}
		"copy-file" => {
			// The file system's ceiling: the same bytes written to one file, nothing hashed.
			std::fs::create_dir_all(store).unwrap();
			let mut out = File::create(store.join("copy")).unwrap();
			std::io::copy(&mut BufReader::with_capacity(256 * 1024, file), &mut out).unwrap();
		}
		"add-v0" | "add-v1" => {
			let mode = if what == "add-v0" { CidMode::V0 } else { CidMode::V1RawLeaves };
			let options = ImportOptions { mode, ..Default::default() };
			std::hint::black_box(import(file, options, &mut ()).unwrap());
		}
		"add-v0-store" | "add-v1-store" => {
			let mode = if what == "add-v0-store" { CidMode::V0 } else { CidMode::V1RawLeaves };
			let _ = std::fs::remove_dir_all(store);
			let store = FsBlockStore::open(store).unwrap();
			let mut writer = store.background_writer();
			let options = ImportOptions { mode, ..Default::default() };
			std::hint::black_box(import(file, options, &mut writer).unwrap());
			writer.finish().unwrap();
		}
		other => panic!("unknown measurement {other}"),
	}
	println!("{} {}", started.elapsed().as_secs_f64(), peak_rss_mb());
}

fn main() {
	let args: Vec<String> = std::env::args().collect();
	let dir = std::env::temp_dir().join("citrate-import-bench");
	std::fs::create_dir_all(&dir).unwrap();
	if let Some(at) = args.iter().position(|a| a == "--child") {
		child(&args[at + 1], Path::new(&args[at + 2]), Path::new(&args[at + 3]));
		return;
	}
	let exe = std::env::current_exe().unwrap();
	let mut table = String::from(
		"| input | measurement | time (s) | MiB/s | × sha2-256 | peak RSS (MB) |\n|---|---|---|---|---|---|\n",
	);
	for size_mib in [100u64, 1024] {
		let input: PathBuf = dir.join(format!("{size_mib}MiB.bin"));
		write_input(&input, size_mib * MIB);
		let mut sha_rate = f64::NAN;
		// Untimed: bring the input into the page cache, so no measurement reads the disk.
		std::io::copy(&mut File::open(&input).unwrap(), &mut std::io::sink()).unwrap();
		for what in ["sha256", "add-v0", "add-v1", "copy-file", "add-v0-store", "add-v1-store"] {
			// The best of three runs (the least disturbed by the rest of the machine).
			let (mut seconds, mut rss) = (f64::INFINITY, 0f64);
			for run in 0..RUNS {
				// Each run gets a new, empty store and starts with no dirty pages (earlier
				// runs' writes flushed), outside the timing. Stores are deleted only at the
				// end: deleting gigabytes between runs would have the file system busy
				// freeing (and discarding) blocks during the next one.
				let store = dir.join(format!("store-{size_mib}-{what}-{run}"));
				let _ = Command::new("sync").status();
				let output = Command::new(&exe)
					.args(["--child", what, input.to_str().unwrap(), store.to_str().unwrap()])
					.output()
					.unwrap();
				let text = String::from_utf8_lossy(&output.stdout);
				let mut fields =
					text.split_whitespace().map(|f| f.parse::<f64>().unwrap_or(f64::NAN));
				let (run_seconds, run_rss) =
					(fields.next().unwrap_or(f64::NAN), fields.next().unwrap_or(f64::NAN));
				seconds = seconds.min(run_seconds);
				rss = rss.max(run_rss);
			}
			let rate = size_mib as f64 / seconds;
			if what == "sha256" {
				sha_rate = rate;
			}
			table.push_str(&format!(
				"| {size_mib} MiB | {what} | {seconds:.2} | {rate:.0} | {:.2} | {rss:.1} |\n",
				rate / sha_rate
			));
		}
	}
	for entry in std::fs::read_dir(&dir).unwrap().flatten() {
		if entry.file_name().to_string_lossy().starts_with("store-") {
			let _ = std::fs::remove_dir_all(entry.path());
		}
	}
	print!("{table}");
	let target =
		std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| "target".into());
	let report = target.join("citrate-storage-import-bench.md");
	if std::fs::write(&report, &table).is_ok() {
		println!("written to {}", report.display());
	}
}
