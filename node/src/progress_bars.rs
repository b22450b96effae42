//! Progress of the `model import` command on stderr: a line per step and, on a terminal, a
//! byte bar (or a spinner) for the step running. Off a terminal (CI, pipes) only the lines.

use citrate_import::Progress;
use indicatif::{ProgressBar, ProgressStyle};
use std::{sync::Mutex, time::Duration};

#[derive(Debug, Default)]
pub struct Bars {
	current: Mutex<Option<ProgressBar>>,
}

impl Bars {
	fn replace(&self, next: Option<ProgressBar>) {
		let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
		if let Some(done) = current.take() {
			done.finish_and_clear();
		}
		*current = next;
	}
}

impl Progress for Bars {
	fn start(&self, step: &str, bytes: Option<u64>) {
		self.replace(None);
		eprintln!("• {step}…");
		// Hidden by indicatif when stderr is not a terminal.
		let bar = match bytes {
			Some(total) => ProgressBar::new(total).with_style(
				ProgressStyle::with_template(
					"  [{bar:40.cyan/blue}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
				)
				.unwrap_or_else(|_| ProgressStyle::default_bar())
				.progress_chars("=> "),
			),
			None => {
				let spinner = ProgressBar::new_spinner().with_message(step.to_string());
				spinner.enable_steady_tick(Duration::from_millis(120));
				spinner
			}
		};
		self.replace(Some(bar));
	}

	fn advance(&self, bytes: u64) {
		if let Some(bar) = self.current.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
			bar.inc(bytes);
		}
	}

	fn finish(&self) {
		self.replace(None);
	}
}
