//! What the benchmark binaries share.

/// This process's peak resident memory so far (`VmHWM`), in bytes; 0 where /proc is absent.
pub fn peak_rss() -> u64 {
	status_bytes("VmHWM:")
}

/// This process's resident memory now (`VmRSS`), in bytes; 0 where /proc is absent.
#[allow(dead_code)] // not every benchmark reads it
pub fn rss() -> u64 {
	status_bytes("VmRSS:")
}

fn status_bytes(field: &str) -> u64 {
	std::fs::read_to_string("/proc/self/status")
		.ok()
		.and_then(|s| {
			s.lines()
				.find(|l| l.starts_with(field))
				.and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
		})
		.map_or(0, |kib| kib * 1024)
}
