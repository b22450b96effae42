//! One gateway connection, with the limits that keep idle and stalled clients from holding
//! sockets (and the threads streaming their responses) forever.

use super::LOG_TARGET;
use futures::future::{self, Either};
use hyper::{body::Incoming, service::HttpService};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::{
	io,
	pin::{pin, Pin},
	sync::{
		atomic::{AtomicU64, AtomicUsize, Ordering},
		Arc,
	},
	task::{Context, Poll},
	time::Duration,
};
use tokio::{
	io::{AsyncRead, AsyncWrite, ReadBuf},
	net::TcpStream,
	time::Instant,
};

/// How long the gateway waits on its clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GatewayConfig {
	/// The longest a client may take to send a request's headers, counted from when the
	/// gateway starts waiting for them: on connecting, and again after each response (hyper
	/// runs the same timer between kept-alive requests), so it also bounds how long an idle
	/// kept-alive connection stays open.
	pub header_read_timeout: Duration,
	/// The longest a connection may move no bytes while none of its requests is being
	/// prepared (time spent resolving or fetching from upstream does not count): a client that
	/// stops reading a response is dropped after this, which also ends the stream feeding it.
	pub idle_timeout: Duration,
}

impl Default for GatewayConfig {
	/// 30 s for headers (hyper's own default), 60 s without progress.
	fn default() -> Self {
		Self { header_read_timeout: Duration::from_secs(30), idle_timeout: Duration::from_secs(60) }
	}
}

/// When a connection last made progress, and how many of its requests are being prepared.
pub(super) struct Activity {
	start: Instant,
	/// Milliseconds from `start` to the last progress.
	last: AtomicU64,
	busy: AtomicUsize,
}

impl Activity {
	fn new() -> Arc<Self> {
		Arc::new(Self { start: Instant::now(), last: AtomicU64::new(0), busy: AtomicUsize::new(0) })
	}

	fn touch(&self) {
		let now = self.start.elapsed().as_millis().try_into().unwrap_or(u64::MAX);
		self.last.fetch_max(now, Ordering::Relaxed);
	}

	fn last(&self) -> Instant {
		self.start + Duration::from_millis(self.last.load(Ordering::Relaxed))
	}

	/// Marks a request as being prepared until the guard drops.
	pub(super) fn busy(self: &Arc<Self>) -> BusyGuard {
		self.busy.fetch_add(1, Ordering::Relaxed);
		BusyGuard(self.clone())
	}
}

pub(super) struct BusyGuard(Arc<Activity>);

impl Drop for BusyGuard {
	fn drop(&mut self) {
		// The idle clock restarts when the response is ready, not at the last byte before
		// a slow preparation.
		self.0.touch();
		self.0.busy.fetch_sub(1, Ordering::Relaxed);
	}
}

/// Serves one connection until it ends, its headers time out, or it sits idle too long.
/// `service` is given the connection's [`Activity`] to mark the requests it prepares.
pub(super) async fn serve_connection<S>(
	stream: TcpStream,
	config: GatewayConfig,
	service: impl FnOnce(Arc<Activity>) -> S,
) where
	S: HttpService<Incoming>,
	S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
	S::ResBody: 'static,
	<S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
	let activity = Activity::new();
	let io = TokioIo::new(Watched { inner: stream, activity: activity.clone() });
	let connection = hyper::server::conn::http1::Builder::new()
		.timer(TokioTimer::new())
		.header_read_timeout(config.header_read_timeout)
		.serve_connection(io, service(activity.clone()));
	let watchdog = watchdog(activity, config.idle_timeout);
	match future::select(pin!(connection), pin!(watchdog)).await {
		Either::Left((Err(error), _)) => {
			log::debug!(target: LOG_TARGET, "connection ended: {error}");
		}
		Either::Left((Ok(()), _)) => {}
		// Dropping the connection closes the socket and the response body with it.
		Either::Right(((), _)) => log::debug!(target: LOG_TARGET, "closing an idle connection"),
	}
}

/// Returns once the connection has made no progress for `idle` with nothing being prepared.
async fn watchdog(activity: Arc<Activity>, idle: Duration) {
	loop {
		let deadline = activity.last() + idle;
		if Instant::now() < deadline {
			tokio::time::sleep_until(deadline).await;
		} else if activity.busy.load(Ordering::Relaxed) == 0 {
			return;
		} else {
			// Being prepared; the guard restarts the clock when done.
			tokio::time::sleep(idle).await;
		}
	}
}

/// A socket that records its progress (bytes read or written) in an [`Activity`].
struct Watched<T> {
	inner: T,
	activity: Arc<Activity>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
	fn poll_read(
		self: Pin<&mut Self>,
		cx: &mut Context<'_>,
		buf: &mut ReadBuf<'_>,
	) -> Poll<io::Result<()>> {
		let this = self.get_mut();
		let before = buf.filled().len();
		let result = Pin::new(&mut this.inner).poll_read(cx, buf);
		if buf.filled().len() > before {
			this.activity.touch();
		}
		result
	}
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
	fn poll_write(
		self: Pin<&mut Self>,
		cx: &mut Context<'_>,
		buf: &[u8],
	) -> Poll<io::Result<usize>> {
		let this = self.get_mut();
		let result = Pin::new(&mut this.inner).poll_write(cx, buf);
		if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
			this.activity.touch();
		}
		result
	}

	fn poll_write_vectored(
		self: Pin<&mut Self>,
		cx: &mut Context<'_>,
		bufs: &[io::IoSlice<'_>],
	) -> Poll<io::Result<usize>> {
		let this = self.get_mut();
		let result = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
		if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
			this.activity.touch();
		}
		result
	}

	fn is_write_vectored(&self) -> bool {
		self.inner.is_write_vectored()
	}

	fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
		Pin::new(&mut self.get_mut().inner).poll_flush(cx)
	}

	fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
		Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
	}
}
