//! How an import reports its long steps, for a command line to draw progress bars.

use std::{fmt::Debug, sync::Arc};

/// Receives an import's progress. Steps come one at a time: [`start`](Self::start) begins
/// one, with the bytes it will go through when it reads a known amount (hashing, copying,
/// computing the CID, adding, uploading), and [`advance`](Self::advance) counts bytes done.
pub trait Progress: Debug + Send + Sync {
	fn start(&self, step: &str, bytes: Option<u64>);
	fn advance(&self, bytes: u64);
	/// No more steps (the import ended or was refused): a bar still drawn is cleared.
	fn finish(&self) {}
}

/// Reports nothing.
impl Progress for () {
	fn start(&self, _: &str, _: Option<u64>) {}
	fn advance(&self, _: u64) {}
}

/// A progress receiver shared between the import and its caller.
pub type Reporter = Arc<dyn Progress>;

/// Copies `from` to `to` in pieces, telling `progress` each piece's size; returns the bytes.
pub fn copy_file(
	from: &std::path::Path,
	to: &std::path::Path,
	progress: &dyn Progress,
) -> std::io::Result<u64> {
	use std::io::{Read, Write};
	let mut input = std::fs::File::open(from)?;
	let mut output = std::io::BufWriter::new(std::fs::File::create(to)?);
	let mut buffer = vec![0u8; 1 << 20];
	let mut total = 0;
	loop {
		let read = input.read(&mut buffer)?;
		if read == 0 {
			break;
		}
		output.write_all(&buffer[..read])?;
		total += read as u64;
		progress.advance(read as u64);
	}
	output.into_inner().map_err(|e| e.into_error())?;
	Ok(total)
}
