//! What the benchmark binaries share.

/// This process's peak resident memory so far (`VmHWM`), in bytes; 0 where /proc is absent.
pub fn peak_rss() -> u64 {
	std::fs::read_to_string("/proc/self/status")
		.ok()
		.and_then(|s| {
			s.lines()
				.find(|l| l.starts_with("VmHWM:"))
				.and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
		})
		.map_or(0, |kib| kib * 1024)
}
