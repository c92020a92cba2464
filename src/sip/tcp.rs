//! SIP over TCP with limits: our own listener and framing in front of rsipstack.
//!
//! rsipstack 0.7.14's TCP listener accepts every connection, retries a failed
//! `accept` at once (with `EMFILE` the pending connection stays queued, so the
//! loop spins and logs a warning per turn), and keeps a connection whose
//! message never completes until no byte has come for five minutes. One peer
//! could so hold every file descriptor, and then no call got an RTP socket.
//!
//! Here the listener is ours:
//! - connections are capped in total and per source address
//!   ([`TcpLimits`]); one over a cap is accepted and closed at once, so the
//!   peer learns at once and the backlog does not fill;
//! - a failed `accept` (out of file descriptors, out of memory) backs off,
//!   doubling from 10 ms to 1 s, instead of spinning;
//! - each connection is read by our task, framed with rsipstack's own codec,
//!   and closed when idle for [`TcpLimits::idle_timeout`] or when a message
//!   begun is not complete within [`TcpLimits::message_timeout`] (a
//!   Content-Length larger than the body, or a byte a minute);
//! - every refusal and closure is counted ([`TcpStats`]) and logged through a
//!   [`LogLimiter`]: a flood writes a bounded number of lines.
//!
//! Each complete message is handed to rsipstack as if its own TCP transport had
//! read it: a [`TransportEvent::Incoming`] carrying the connection
//! ([`SipConnection::Tcp`]), so responses and in-dialog requests go back on the
//! same connection. The events enter rsipstack through a
//! [`ChannelConnection`], the one public way to feed its transport layer.
//!
//! What this costs: the listener is not one of rsipstack's listeners, so the
//! Via of an in-dialog request we send over TCP carries the UDP listener's
//! address with `TCP` (right when both listen on one port, as by default;
//! the response comes back on the connection either way).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use rsipstack::sip::Transport;
use rsipstack::transport::channel::ChannelConnection;
use rsipstack::transport::connection::KEEPALIVE_RESPONSE;
use rsipstack::transport::stream::{SipCodec, SipCodecType};
use rsipstack::transport::tcp::TcpConnection;
use rsipstack::transport::{SipAddr, SipConnection, TransportEvent, TransportLayer};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;
use tokio_util::codec::Decoder;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::guard::{LOG_BURST, LOG_INTERVAL, LogLimiter, Suppressed, TrustedNetworks};

/// Limits of SIP over TCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpLimits {
    /// Connections open at once, from everyone.
    pub max_connections: usize,
    /// Connections open at once from one IP address.
    pub max_per_address: usize,
    /// A connection that sends nothing (not even a CRLF keep-alive) this long is closed.
    pub idle_timeout: Duration,
    /// A message begun must be complete this long after its first byte.
    pub message_timeout: Duration,
}

impl Default for TcpLimits {
    fn default() -> Self {
        TcpLimits {
            max_connections: 256,
            max_per_address: 32,
            idle_timeout: Duration::from_secs(300),
            message_timeout: Duration::from_secs(10),
        }
    }
}

/// What happened to TCP connections since start-up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TcpStats {
    /// Open now.
    pub open: u64,
    /// Accepted and served.
    pub accepted: u64,
    /// Closed at once: `max_connections` were open.
    pub refused_full: u64,
    /// Closed at once: `max_per_address` were open from that address.
    pub refused_per_address: u64,
    /// Closed at once: the address is not in `sip.trusted_networks`.
    pub refused_untrusted: u64,
    /// Closed after `idle_timeout` without a byte.
    pub closed_idle: u64,
    /// Closed because a message was not complete within `message_timeout`.
    pub closed_incomplete: u64,
    /// Closed because the stream could not be framed (bad Content-Length,
    /// message over 64 KiB, unparsable message).
    pub closed_malformed: u64,
    /// `accept` failures (e.g. out of file descriptors), each followed by a pause.
    pub accept_errors: u64,
}

/// Why the accept loop or a connection logs: each is rate-limited apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    AcceptError,
    RefusedFull,
    RefusedPerAddress,
    RefusedUntrusted,
    Closed,
}

impl Event {
    const COUNT: usize = 5;

    fn slot(self) -> usize {
        match self {
            Event::AcceptError => 0,
            Event::RefusedFull => 1,
            Event::RefusedPerAddress => 2,
            Event::RefusedUntrusted => 3,
            Event::Closed => 4,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Event::AcceptError => "failed TCP accepts",
            Event::RefusedFull => "TCP connections refused (limits.max_tcp_connections)",
            Event::RefusedPerAddress => {
                "TCP connections refused (limits.max_tcp_connections_per_address)"
            }
            Event::RefusedUntrusted => "TCP connections refused (untrusted address)",
            Event::Closed => "TCP connections closed by a limit",
        }
    }
}

/// Counters and per-address counts, shared by the accept loop and the
/// connection tasks.
#[derive(Debug, Default)]
struct Shared {
    open: AtomicU64,
    accepted: AtomicU64,
    refused_full: AtomicU64,
    refused_per_address: AtomicU64,
    refused_untrusted: AtomicU64,
    closed_idle: AtomicU64,
    closed_incomplete: AtomicU64,
    closed_malformed: AtomicU64,
    accept_errors: AtomicU64,
    per_address: Mutex<HashMap<IpAddr, usize>>,
    limiter: Mutex<Option<LogLimiter>>,
}

impl Shared {
    fn snapshot(&self) -> TcpStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        TcpStats {
            open: get(&self.open),
            accepted: get(&self.accepted),
            refused_full: get(&self.refused_full),
            refused_per_address: get(&self.refused_per_address),
            refused_untrusted: get(&self.refused_untrusted),
            closed_idle: get(&self.closed_idle),
            closed_incomplete: get(&self.closed_incomplete),
            closed_malformed: get(&self.closed_malformed),
            accept_errors: get(&self.accept_errors),
        }
    }

    /// Whether this occurrence of `event` may have its own log line; logs the
    /// summary of the interval before when it is due.
    fn may_log(&self, event: Event) -> bool {
        // A poisoned lock only means a panic while logging: keep limiting.
        let mut limiter = self
            .limiter
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let limiter = limiter
            .get_or_insert_with(|| LogLimiter::with_slots(LOG_BURST, LOG_INTERVAL, Event::COUNT));
        let decision = limiter.record_slot(event.slot(), std::time::Instant::now());
        if let Some(Suppressed { count, over }) = decision.summary {
            let (what, secs) = (event.describe(), over.as_secs());
            warn!(
                count,
                secs, "{count} more {what} in the last {secs} s (not logged one by one)"
            );
        }
        decision.log_this
    }

    /// Take a slot for a connection from `ip`, or say which cap is reached.
    fn admit(self: &Arc<Self>, ip: IpAddr, limits: &TcpLimits) -> Result<Slot, Refusal> {
        let mut per_address = self
            .per_address
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let total: usize = per_address.values().sum();
        if total >= limits.max_connections {
            return Err(Refusal::Full);
        }
        let from_ip = per_address.entry(ip).or_insert(0);
        if *from_ip >= limits.max_per_address {
            return Err(Refusal::PerAddress);
        }
        *from_ip += 1;
        self.open.fetch_add(1, Ordering::Relaxed);
        self.accepted.fetch_add(1, Ordering::Relaxed);
        Ok(Slot {
            shared: self.clone(),
            ip,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    Full,
    PerAddress,
}

/// One admitted connection's place in the counts; freed on drop, whichever
/// way the connection ends.
struct Slot {
    shared: Arc<Shared>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut per_address = self
            .shared
            .per_address
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = per_address.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                per_address.remove(&self.ip);
            }
        }
        self.shared.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Handle on the running TCP listener.
#[derive(Debug, Clone)]
pub(super) struct TcpListenerHandle {
    shared: Arc<Shared>,
}

impl TcpListenerHandle {
    pub(super) fn stats(&self) -> TcpStats {
        self.shared.snapshot()
    }
}

/// Start serving SIP on `listener` (already bound): connections' messages go
/// to `transport_layer`. Everything stops when `cancel` is cancelled.
pub(super) async fn serve(
    listener: std::net::TcpListener,
    transport_layer: &TransportLayer,
    limits: TcpLimits,
    trusted: TrustedNetworks,
    cancel: CancellationToken,
) -> rsipstack::Result<TcpListenerHandle> {
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    let listener = TcpListener::from_std(listener)?;
    let local_addr = SipAddr::new(Transport::Tcp, local.into());

    // The feed into rsipstack: a channel connection, served by the transport
    // layer like any connection, whose events we write. It is taken out of
    // the connection table at once (it is no peer to send to); its serving
    // task goes on until the transport layer is cancelled.
    let (feed, feed_rx) = tokio::sync::mpsc::unbounded_channel();
    let (unused_tx, _) = tokio::sync::mpsc::unbounded_channel();
    let channel =
        ChannelConnection::create_connection(feed_rx, unused_tx, local_addr.clone(), None).await?;
    let channel = SipConnection::Channel(channel);
    transport_layer.add_connection(channel.clone());
    transport_layer.remove_connection(&channel);

    let shared = Arc::new(Shared::default());
    let accept_loop = AcceptLoop {
        listener,
        local_addr,
        limits,
        trusted,
        shared: shared.clone(),
        feed,
        cancel,
    };
    tokio::spawn(accept_loop.run());
    Ok(TcpListenerHandle { shared })
}

/// Shortest and longest pause after a failed `accept`.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(10);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

struct AcceptLoop {
    listener: TcpListener,
    local_addr: SipAddr,
    limits: TcpLimits,
    trusted: TrustedNetworks,
    shared: Arc<Shared>,
    feed: UnboundedSender<TransportEvent>,
    cancel: CancellationToken,
}

impl AcceptLoop {
    async fn run(self) {
        let mut backoff = ACCEPT_BACKOFF_MIN;
        loop {
            let accepted = tokio::select! {
                accepted = self.listener.accept() => accepted,
                () = self.cancel.cancelled() => break,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => {
                    backoff = ACCEPT_BACKOFF_MIN;
                    accepted
                }
                Err(error) => {
                    // Out of descriptors or memory the pending connection stays
                    // queued and the next accept fails at once: pause, doubling.
                    let errors = self.shared.accept_errors.fetch_add(1, Ordering::Relaxed) + 1;
                    if self.shared.may_log(Event::AcceptError) {
                        warn!(%error, errors, pause_ms = backoff.as_millis() as u64, "cannot accept a SIP TCP connection; pausing");
                    }
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        () = self.cancel.cancelled() => break,
                    }
                    backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                    continue;
                }
            };
            self.admit(stream, peer);
        }
        debug!("SIP TCP listener stopped");
    }

    /// Serve `stream` if the limits allow, else close it (by dropping it).
    fn admit(&self, stream: TcpStream, peer: SocketAddr) {
        let ip = peer.ip();
        if !self.trusted.allows(ip) {
            self.shared
                .refused_untrusted
                .fetch_add(1, Ordering::Relaxed);
            if self.shared.may_log(Event::RefusedUntrusted) {
                debug!(%peer, "SIP TCP connection from an untrusted network closed");
            }
            return;
        }
        let shared = &self.shared;
        let slot = match shared.admit(ip, &self.limits) {
            Ok(slot) => slot,
            Err(refusal) => {
                let (counter, cap, what, event) = match refusal {
                    Refusal::Full => (
                        &shared.refused_full,
                        self.limits.max_connections,
                        "limits.max_tcp_connections",
                        Event::RefusedFull,
                    ),
                    Refusal::PerAddress => (
                        &shared.refused_per_address,
                        self.limits.max_per_address,
                        "limits.max_tcp_connections_per_address",
                        Event::RefusedPerAddress,
                    ),
                };
                let refused = counter.fetch_add(1, Ordering::Relaxed) + 1;
                if shared.may_log(event) {
                    warn!(%peer, cap, refused, "SIP TCP connection closed at once: {what} ({cap}) reached");
                }
                return;
            }
        };
        let connection = match TcpConnection::from_stream(
            stream,
            self.local_addr.clone(),
            Some(self.cancel.child_token()),
        ) {
            Ok(connection) => connection,
            Err(error) => {
                debug!(%error, %peer, "SIP TCP connection lost before it was served");
                return;
            }
        };
        let reader = ConnectionReader {
            connection,
            peer,
            limits: self.limits,
            feed: self.feed.clone(),
            cancel: self.cancel.clone(),
        };
        tokio::spawn(async move {
            let end = reader.run().await;
            slot.shared.count_end(end, peer);
            drop(slot);
        });
    }
}

impl Shared {
    fn count_end(&self, end: ConnectionEnd, peer: SocketAddr) {
        let counter = match end {
            ConnectionEnd::Idle => &self.closed_idle,
            ConnectionEnd::Incomplete => &self.closed_incomplete,
            ConnectionEnd::Malformed => &self.closed_malformed,
            ConnectionEnd::ClosedByPeer | ConnectionEnd::Stopped => return,
        };
        let count = counter.fetch_add(1, Ordering::Relaxed) + 1;
        if self.may_log(Event::Closed) {
            info!(%peer, reason = end.describe(), count, "SIP TCP connection closed");
        }
    }
}

/// How a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConnectionEnd {
    ClosedByPeer,
    Idle,
    Incomplete,
    Malformed,
    /// The endpoint is shutting down.
    Stopped,
}

impl ConnectionEnd {
    fn describe(self) -> &'static str {
        match self {
            ConnectionEnd::ClosedByPeer => "closed by the peer",
            ConnectionEnd::Idle => "idle timeout",
            ConnectionEnd::Incomplete => "message not completed in time",
            ConnectionEnd::Malformed => "stream cannot be framed",
            ConnectionEnd::Stopped => "shutdown",
        }
    }
}

/// The two timers of a connection, free of IO: `last_byte` restarts the idle
/// timer, the first byte of a message starts the message timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ConnectionTimers {
    last_byte: Instant,
    /// When the first byte of the message still incomplete arrived.
    message_started: Option<Instant>,
}

impl ConnectionTimers {
    fn new(now: Instant) -> ConnectionTimers {
        ConnectionTimers {
            last_byte: now,
            message_started: None,
        }
    }

    /// Bytes arrived at `now`; `partial` says whether a message is left
    /// incomplete in the buffer after framing.
    fn on_bytes(&mut self, now: Instant, partial: bool) {
        self.last_byte = now;
        self.message_started = match (partial, self.message_started) {
            (false, _) => None,
            (true, Some(started)) => Some(started),
            (true, None) => Some(now),
        };
    }

    /// When the connection must be closed, and why, if nothing arrives before.
    fn deadline(&self, limits: &TcpLimits) -> (Instant, ConnectionEnd) {
        let idle = (self.last_byte + limits.idle_timeout, ConnectionEnd::Idle);
        match self.message_started {
            Some(started) => {
                let incomplete = (started + limits.message_timeout, ConnectionEnd::Incomplete);
                if incomplete.0 <= idle.0 {
                    incomplete
                } else {
                    idle
                }
            }
            None => idle,
        }
    }
}

/// Bytes read at once; a message may take several reads.
const READ_CHUNK: usize = 4096;

struct ConnectionReader {
    connection: TcpConnection,
    peer: SocketAddr,
    limits: TcpLimits,
    feed: UnboundedSender<TransportEvent>,
    cancel: CancellationToken,
}

impl ConnectionReader {
    async fn run(self) -> ConnectionEnd {
        let end = self.read_messages().await;
        // Flow affinity stops choosing this connection once its token is
        // cancelled; shutting the write half down tells the peer.
        if let Some(token) = self.connection.cancel_token() {
            token.cancel();
        }
        let _ = rsipstack::transport::stream::StreamConnection::close(&self.connection).await;
        end
    }

    async fn read_messages(&self) -> ConnectionEnd {
        // Taken once, here: rsipstack's own serve loop is never started for
        // this connection, its write half stays for the responses.
        let Some(mut read_half) = self.connection.inner.read_half.lock().await.take() else {
            return ConnectionEnd::Stopped;
        };
        let sip_connection = SipConnection::Tcp(self.connection.clone());
        let remote = SipAddr::new(Transport::Tcp, self.peer.into());
        let mut codec = SipCodec::new();
        let mut buffer = BytesMut::new();
        let mut timers = ConnectionTimers::new(Instant::now());
        loop {
            let (deadline, why) = timers.deadline(&self.limits);
            buffer.reserve(READ_CHUNK);
            let read = tokio::select! {
                read = read_half.read_buf(&mut buffer) => read,
                () = tokio::time::sleep_until(deadline) => return why,
                () = self.cancel.cancelled() => return ConnectionEnd::Stopped,
            };
            match read {
                Ok(0) => return ConnectionEnd::ClosedByPeer,
                Ok(_) => {}
                Err(error) => {
                    debug!(%error, peer = %self.peer, "SIP TCP read failed");
                    return ConnectionEnd::ClosedByPeer;
                }
            }
            loop {
                match codec.decode(&mut buffer) {
                    Ok(Some(SipCodecType::Message(message))) => {
                        let message = match SipConnection::update_msg_received(
                            message,
                            self.peer,
                            Transport::Tcp,
                        ) {
                            Ok(message) => message,
                            Err(error) => {
                                debug!(%error, peer = %self.peer, "SIP TCP message without a usable Via");
                                return ConnectionEnd::Malformed;
                            }
                        };
                        let event = TransportEvent::Incoming(
                            message,
                            sip_connection.clone(),
                            remote.clone(),
                        );
                        if self.feed.send(event).is_err() {
                            return ConnectionEnd::Stopped;
                        }
                    }
                    Ok(Some(SipCodecType::KeepaliveRequest)) => {
                        if self
                            .connection
                            .inner
                            .send_raw(KEEPALIVE_RESPONSE)
                            .await
                            .is_err()
                        {
                            return ConnectionEnd::ClosedByPeer;
                        }
                    }
                    Ok(Some(SipCodecType::KeepaliveResponse)) => {}
                    Ok(None) => break,
                    Err(error) => {
                        debug!(%error, peer = %self.peer, "SIP TCP stream cannot be framed");
                        return ConnectionEnd::Malformed;
                    }
                }
            }
            timers.on_bytes(Instant::now(), !buffer.is_empty());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> TcpLimits {
        TcpLimits {
            max_connections: 3,
            max_per_address: 2,
            idle_timeout: Duration::from_secs(300),
            message_timeout: Duration::from_secs(10),
        }
    }

    #[test]
    fn timers_close_an_idle_connection_after_the_idle_timeout() {
        let start = Instant::now();
        let mut timers = ConnectionTimers::new(start);
        assert_eq!(
            timers.deadline(&limits()),
            (start + Duration::from_secs(300), ConnectionEnd::Idle)
        );
        // A complete message (nothing left in the buffer) restarts the idle timer.
        timers.on_bytes(start + Duration::from_secs(100), false);
        assert_eq!(
            timers.deadline(&limits()),
            (start + Duration::from_secs(400), ConnectionEnd::Idle)
        );
    }

    #[test]
    fn timers_close_a_message_not_completed_in_time_even_if_bytes_trickle() {
        let start = Instant::now();
        let mut timers = ConnectionTimers::new(start);
        timers.on_bytes(start + Duration::from_secs(1), true);
        // One byte a second keeps the idle timer fresh but not the message timer.
        for s in 2..=9 {
            timers.on_bytes(start + Duration::from_secs(s), true);
        }
        assert_eq!(
            timers.deadline(&limits()),
            (start + Duration::from_secs(11), ConnectionEnd::Incomplete)
        );
        // Once the message completes, only the idle timer is left.
        timers.on_bytes(start + Duration::from_secs(10), false);
        assert_eq!(
            timers.deadline(&limits()),
            (start + Duration::from_secs(310), ConnectionEnd::Idle)
        );
    }

    #[test]
    fn timers_take_the_idle_timeout_when_it_is_the_sooner() {
        let start = Instant::now();
        let mut timers = ConnectionTimers::new(start);
        timers.on_bytes(start, true);
        let short_idle = TcpLimits {
            idle_timeout: Duration::from_secs(5),
            ..limits()
        };
        assert_eq!(
            timers.deadline(&short_idle),
            (start + Duration::from_secs(5), ConnectionEnd::Idle)
        );
    }

    #[test]
    fn admission_caps_per_address_and_in_total_and_frees_on_drop() {
        let shared = Arc::new(Shared::default());
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let a1 = shared.admit(a, &limits()).unwrap();
        let a2 = shared.admit(a, &limits()).unwrap();
        assert_eq!(shared.admit(a, &limits()).err(), Some(Refusal::PerAddress));
        let b1 = shared.admit(b, &limits()).unwrap();
        assert_eq!(shared.admit(b, &limits()).err(), Some(Refusal::Full));
        assert_eq!(shared.snapshot().open, 3);
        drop(a1);
        assert_eq!(shared.snapshot().open, 2);
        let _b2 = shared.admit(b, &limits()).unwrap();
        drop((a2, b1));
        assert_eq!(
            shared.per_address.lock().unwrap().get(&a),
            None,
            "an address with no connection is forgotten"
        );
    }
}
