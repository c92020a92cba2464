//! The SIP front door: every UDP datagram is screened here before rsipstack sees it.
//!
//! rsipstack's UDP transport drops, with only a debug log, every datagram its
//! parser refuses: garbage, truncated messages, and requests whose method it
//! does not know (its `Method` enum has no extension variant). RFC 3261 wants a
//! 501 for an unknown method (§8.2.1) and a 400 for a malformed request that can
//! still be answered (§8.2.2, §18.3). rsipstack offers no hook between receive
//! and parse except the socket itself ([`rsipstack::transport::udp::UdpConnection::from_socket`]
//! takes any [`PlatformUdpSocket`]), so [`GuardedUdpSocket`] wraps the real
//! socket: it reads each datagram, [`screen`]s it, answers or drops what
//! rsipstack would mishandle, and hands only the rest on.
//!
//! The same socket applies the trusted-network list ([`TrustedNetworks`]):
//! datagrams from elsewhere are dropped unanswered (see [`TrustedNetworks`] for why).
//!
//! A flood of garbage must not become a flood of log lines: every drop is
//! counted ([`DroppedDatagrams`]), but [`LogLimiter`] lets only the first
//! [`LOG_BURST`] of each [`DropCause`] per [`LOG_INTERVAL`] be logged one by
//! one, then a single summary line says how many more were dropped.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ipnet::IpNet;
use rsipstack::platform::net::UdpSocket as PlatformUdpSocket;
use rsipstack::sip::prelude::{HeadersExt, ToTypedHeader};
use rsipstack::sip::{Method, SipMessage};
use tracing::{debug, info};

use super::ALLOWED_METHODS;

/// The largest datagram handed to rsipstack: its UDP receive buffer
/// (`MAX_UDP_BUF_SIZE`, 8 KiB). A larger datagram would reach it truncated.
pub const MAX_SIP_DATAGRAM: usize = 8192;

/// Largest datagram read from the socket (the UDP maximum), so an oversized
/// one is seen whole and refused instead of being parsed truncated.
const RECEIVE_BUFFER: usize = 65_535;

/// Where SIP may come from. `None` inside means everyone (the default, warned
/// about at start-up).
///
/// Requests from elsewhere are **dropped, not answered with 403**: SIP
/// scanners (sipvicious and the like) sweep address ranges looking for
/// anything that answers; a silent drop tells them nothing, costs nothing, and
/// cannot be used to reflect traffic at a spoofed source address. A
/// legitimate peer that is wrongly left out sees timeouts and a debug log line
/// names its address.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct TrustedNetworks {
    networks: Option<Vec<IpNet>>,
}

impl TrustedNetworks {
    /// Everyone may send SIP.
    pub fn allow_all() -> TrustedNetworks {
        TrustedNetworks { networks: None }
    }

    /// Only these networks may send SIP (an empty list refuses everyone).
    pub fn only(networks: Vec<IpNet>) -> TrustedNetworks {
        TrustedNetworks {
            networks: Some(networks),
        }
    }

    /// Whether no list was configured.
    pub fn is_allow_all(&self) -> bool {
        self.networks.is_none()
    }

    /// Whether SIP from `ip` is accepted. IPv4-mapped IPv6 addresses are
    /// checked as the IPv4 address they carry.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            IpAddr::V4(_) => ip,
        };
        match &self.networks {
            None => true,
            Some(networks) => networks.iter().any(|net| net.contains(&ip)),
        }
    }
}

/// What to do with one incoming datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screened {
    /// Hand it to rsipstack.
    Pass,
    /// Drop it unanswered (a response, or nothing a response could reach).
    Drop { reason: Problem },
    /// Send `response` back to the sender instead of handing the request on.
    Answer { status: u16, reason: Problem, response: Vec<u8> },
}

/// What is wrong with a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Larger than [`MAX_SIP_DATAGRAM`].
    Oversized { len: usize },
    /// Not a SIP message at all (no request or status line).
    NotSip,
    /// A request line with a method we do not know.
    UnknownMethod,
    /// A request or response the parser refuses (truncated, bad header syntax).
    Unparseable,
    /// A mandatory header is missing or does not parse.
    BadHeader { header: &'static str },
    /// Content-Length is not a number or claims more bytes than arrived.
    BadContentLength,
    /// CSeq names another method than the request line.
    CseqMethodMismatch,
}

impl Problem {
    /// Short text for logs and the `Warning` header of our answer.
    pub fn describe(self) -> String {
        match self {
            Problem::Oversized { len } => format!("datagram of {len} bytes exceeds {MAX_SIP_DATAGRAM}"),
            Problem::NotSip => "not a SIP message".to_string(),
            Problem::UnknownMethod => "unknown method".to_string(),
            Problem::Unparseable => "malformed message".to_string(),
            Problem::BadHeader { header } => format!("missing or malformed {header}"),
            Problem::BadContentLength => "Content-Length does not match the body".to_string(),
            Problem::CseqMethodMismatch => "CSeq method differs from the request method".to_string(),
        }
    }
}

/// Decide what to do with one datagram: the whole policy, free of IO (fuzzed
/// as `sip_message`).
pub fn screen(datagram: &[u8]) -> Screened {
    if datagram.len() > MAX_SIP_DATAGRAM {
        return refuse(datagram, 513, "Message Too Large", Problem::Oversized { len: datagram.len() });
    }
    // rsipstack answers keep-alives (CRLF CRLF) and ignores blank datagrams itself.
    if datagram.iter().all(u8::is_ascii_whitespace) {
        return Screened::Pass;
    }
    match SipMessage::try_from(datagram) {
        Ok(SipMessage::Request(request)) => match check_request(&request, datagram) {
            None => Screened::Pass,
            Some(problem) => refuse(datagram, 400, "Bad Request", problem),
        },
        // A response we cannot use is dropped (§18.3): there is nobody to tell.
        Ok(SipMessage::Response(_)) => Screened::Pass,
        Err(_) => match request_method(datagram) {
            Some(method) if method.parse::<Method>().is_err() => {
                refuse(datagram, 501, "Not Implemented", Problem::UnknownMethod)
            }
            Some(_) => refuse(datagram, 400, "Bad Request", Problem::Unparseable),
            None if datagram.starts_with(b"SIP/2.0 ") => Screened::Drop {
                reason: Problem::Unparseable,
            },
            None => Screened::Drop { reason: Problem::NotSip },
        },
    }
}

/// The first problem of a request rsipstack parsed: the headers every request
/// must carry for a transaction (RFC 3261 §8.1.1; Max-Forwards is not
/// required, as many peers leave it out of in-dialog requests), a CSeq that
/// agrees with the request line, and a Content-Length that does not claim
/// bytes that never arrived (§18.3: 400).
fn check_request(request: &rsipstack::sip::Request, datagram: &[u8]) -> Option<Problem> {
    if request.via_header().is_err() {
        return Some(Problem::BadHeader { header: "Via" });
    }
    if request.from_header().ok().and_then(|h| h.uri().ok()).is_none() {
        return Some(Problem::BadHeader { header: "From" });
    }
    if request.to_header().ok().and_then(|h| h.uri().ok()).is_none() {
        return Some(Problem::BadHeader { header: "To" });
    }
    if request.call_id_header().map_or(true, |h| h.value().trim().is_empty()) {
        return Some(Problem::BadHeader { header: "Call-ID" });
    }
    let Some(cseq) = request.cseq_header().ok().and_then(|h| h.typed().ok()) else {
        return Some(Problem::BadHeader { header: "CSeq" });
    };
    if cseq.method != request.method {
        return Some(Problem::CseqMethodMismatch);
    }
    match raw_header(datagram, &["content-length", "l"]) {
        None => None,
        Some(value) => match value.trim().parse::<usize>() {
            Ok(claimed) if claimed <= body_len(datagram) => None,
            _ => Some(Problem::BadContentLength),
        },
    }
}

/// Answer `status` if the datagram is a request a response can reach (it has
/// a Via and is not an ACK, which is never answered); drop it otherwise.
fn refuse(datagram: &[u8], status: u16, phrase: &str, problem: Problem) -> Screened {
    match response_to(datagram, status, phrase, problem) {
        Some(response) => Screened::Answer {
            status,
            reason: problem,
            response,
        },
        None => Screened::Drop { reason: problem },
    }
}

/// The method token of a request line `METHOD SP URI SP SIP/2.0`, if the
/// first line is one.
fn request_method(datagram: &[u8]) -> Option<&str> {
    let line = first_line(datagram)?;
    let mut parts = line.split(' ');
    let (method, uri, version) = (parts.next()?, parts.next()?, parts.next()?);
    let is_token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b))
    };
    (parts.next().is_none() && is_token(method) && !uri.is_empty() && version == "SIP/2.0").then_some(method)
}

fn first_line(datagram: &[u8]) -> Option<&str> {
    let end = datagram.iter().position(|&b| b == b'\r' || b == b'\n')?;
    std::str::from_utf8(&datagram[..end]).ok()
}

/// Header lines (before the blank line), unfolded lines kept as they are.
fn header_lines(datagram: &[u8]) -> impl Iterator<Item = &str> {
    let head = match find(datagram, b"\r\n\r\n") {
        Some(end) => &datagram[..end],
        None => datagram,
    };
    head.split(|&b| b == b'\n')
        .skip(1)
        .filter_map(|line| std::str::from_utf8(line).ok())
        .map(|line| line.trim_end_matches('\r'))
        .filter(|line| !line.is_empty())
}

/// The value of the first header named by one of `names` (lower case; long
/// and compact forms).
fn raw_header<'a>(datagram: &'a [u8], names: &[&str]) -> Option<&'a str> {
    header_lines(datagram).find_map(|line| {
        let (name, value) = line.split_once(':')?;
        names
            .iter()
            .any(|n| name.trim().eq_ignore_ascii_case(n))
            .then_some(value)
    })
}

fn body_len(datagram: &[u8]) -> usize {
    find(datagram, b"\r\n\r\n").map_or(0, |end| datagram.len() - end - 4)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A response built from the request's own header lines (RFC 3261 §8.2.6.2:
/// Via, From, To, Call-ID and CSeq copied; a To tag added), so it reaches the
/// sender's client transaction even when the request did not parse.
fn response_to(datagram: &[u8], status: u16, phrase: &str, problem: Problem) -> Option<Vec<u8>> {
    if request_method(datagram)?.eq_ignore_ascii_case("ACK") {
        return None;
    }
    let copied: [(&str, &[&str]); 5] = [
        ("Via", &["via", "v"]),
        ("From", &["from", "f"]),
        ("To", &["to", "t"]),
        ("Call-ID", &["call-id", "i"]),
        ("CSeq", &["cseq"]),
    ];
    let mut response = format!("SIP/2.0 {status} {phrase}\r\n");
    let mut has_via = false;
    for line in header_lines(datagram) {
        let Some((name, value)) = line.split_once(':') else { continue };
        let Some((canonical, _)) = copied
            .iter()
            .find(|(_, names)| names.iter().any(|n| name.trim().eq_ignore_ascii_case(n)))
        else {
            continue;
        };
        let value = value.trim();
        // Control characters would let a request inject lines into our answer.
        if value.chars().any(char::is_control) {
            continue;
        }
        has_via |= *canonical == "Via";
        response.push_str(canonical);
        response.push_str(": ");
        response.push_str(value);
        if *canonical == "To" && !value.to_ascii_lowercase().contains(";tag=") {
            response.push_str(";tag=");
            response.push_str(&local_tag(datagram));
        }
        response.push_str("\r\n");
    }
    if !has_via {
        return None;
    }
    if status == 501 {
        response.push_str(&format!("Allow: {ALLOWED_METHODS}\r\n"));
    }
    response.push_str(&format!("Warning: 399 attendant \"{}\"\r\n", problem.describe()));
    response.push_str("Content-Length: 0\r\n\r\n");
    Some(response.into_bytes())
}

/// A To tag for our answer, the same for every retransmission of one request
/// (so the sender sees one consistent answer): a hash of the datagram's bytes.
fn local_tag(datagram: &[u8]) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    datagram.hash(&mut hasher);
    format!("g{:016x}", hasher.finish())
}

/// Why a datagram was not handed to rsipstack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropCause {
    /// It came from outside `sip.trusted_networks` (dropped unanswered).
    Untrusted,
    /// Malformed and dropped unanswered (nothing a response could reach).
    Malformed,
    /// Malformed and answered with an error status (400, 501, 513).
    Refused,
}

impl DropCause {
    fn index(self) -> usize {
        match self {
            DropCause::Untrusted => 0,
            DropCause::Malformed => 1,
            DropCause::Refused => 2,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            DropCause::Untrusted => "SIP datagrams from untrusted networks dropped",
            DropCause::Malformed => "malformed SIP datagrams dropped",
            DropCause::Refused => "malformed SIP requests refused",
        }
    }
}

/// Datagrams kept from rsipstack since start-up, per cause.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DroppedDatagrams {
    /// From outside `sip.trusted_networks`.
    pub untrusted: u64,
    /// Malformed, dropped unanswered.
    pub malformed: u64,
    /// Malformed requests answered with an error status.
    pub refused: u64,
}

/// Shared counters behind [`DroppedDatagrams`].
#[derive(Debug, Default)]
pub(super) struct DropCounters([AtomicU64; 3]);

impl DropCounters {
    fn count(&self, cause: DropCause) {
        self.0[cause.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn snapshot(&self) -> DroppedDatagrams {
        let get = |cause: DropCause| self.0[cause.index()].load(Ordering::Relaxed);
        DroppedDatagrams {
            untrusted: get(DropCause::Untrusted),
            malformed: get(DropCause::Malformed),
            refused: get(DropCause::Refused),
        }
    }
}

/// Drops of one cause logged one by one per interval.
pub const LOG_BURST: u32 = 10;
/// The interval of [`LOG_BURST`].
pub const LOG_INTERVAL: Duration = Duration::from_secs(60);

/// What to log for one dropped datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogDecision {
    /// Log this datagram's own line.
    pub log_this: bool,
    /// Before it, log that `count` more were dropped unlogged over `over`
    /// (the interval that just ended).
    pub summary: Option<Suppressed>,
}

/// Drops left out of the log in one interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suppressed {
    pub count: u64,
    pub over: Duration,
}

/// Per-cause log rate limit, free of IO and clock (`now` is passed in): the
/// first `burst` drops of a cause in an interval are logged, the rest only
/// counted; the first drop after the interval reports that count. A flood
/// thus logs at most `burst + 1` lines per cause and interval. The summary
/// waits for the next drop of the same cause (the socket has no timer of its
/// own); [`DroppedDatagrams`] is exact at any time.
#[derive(Debug, Clone)]
pub struct LogLimiter {
    burst: u32,
    interval: Duration,
    /// One per cause (slot).
    windows: Vec<LogWindow>,
}

#[derive(Debug, Clone, Copy, Default)]
struct LogWindow {
    started: Option<Instant>,
    logged: u32,
    suppressed: u64,
}

impl LogLimiter {
    /// At most `burst` lines per cause every `interval`.
    pub fn new(burst: u32, interval: Duration) -> LogLimiter {
        LogLimiter::with_slots(burst, interval, 3)
    }

    /// The same for `slots` causes of another kind, numbered `0..slots`
    /// (the TCP listener's refusals and closures).
    pub fn with_slots(burst: u32, interval: Duration, slots: usize) -> LogLimiter {
        LogLimiter {
            burst,
            interval,
            windows: vec![LogWindow::default(); slots],
        }
    }

    /// Record one drop of `cause` at `now` and say what to log.
    #[must_use]
    pub fn record(&mut self, cause: DropCause, now: Instant) -> LogDecision {
        self.record_slot(cause.index(), now)
    }

    /// Record one event of cause number `slot` (below the `slots` given to
    /// [`LogLimiter::with_slots`]) at `now` and say what to log.
    #[must_use]
    pub fn record_slot(&mut self, slot: usize, now: Instant) -> LogDecision {
        let window = &mut self.windows[slot];
        let mut summary = None;
        let expired = window
            .started
            .is_none_or(|started| now.saturating_duration_since(started) >= self.interval);
        if expired {
            if let Some(started) = window.started
                && window.suppressed > 0
            {
                summary = Some(Suppressed {
                    count: window.suppressed,
                    over: now.saturating_duration_since(started),
                });
            }
            *window = LogWindow {
                started: Some(now),
                logged: 0,
                suppressed: 0,
            };
        }
        let log_this = window.logged < self.burst;
        if log_this {
            window.logged += 1;
        } else {
            window.suppressed += 1;
        }
        LogDecision { log_this, summary }
    }
}

/// The SIP UDP socket: the real socket behind [`screen`] and [`TrustedNetworks`].
#[derive(Debug)]
pub struct GuardedUdpSocket {
    socket: tokio::net::UdpSocket,
    trusted: TrustedNetworks,
    counters: Arc<DropCounters>,
    /// Taken once per dropped datagram by the one receive loop: never contended.
    limiter: Mutex<LogLimiter>,
}

impl GuardedUdpSocket {
    /// Bind `addr` (no address reuse, as rsipstack's own socket) with a receive
    /// buffer of `receive_buffer` bytes: the default (~208 KiB on Linux) dropped
    /// 17 % of a 200-datagram burst (docs/pbx.md has the figures). The kernel
    /// caps it at `net.core.rmem_max`: a warning names the size obtained.
    pub async fn bind(
        addr: SocketAddr,
        trusted: TrustedNetworks,
        receive_buffer: usize,
    ) -> std::io::Result<GuardedUdpSocket> {
        let socket = socket2::Socket::new(
            socket2::Domain::for_address(addr),
            socket2::Type::DGRAM,
            Some(socket2::Protocol::UDP),
        )?;
        if receive_buffer > 0 {
            socket.set_recv_buffer_size(receive_buffer)?;
            // Linux reports twice the size asked (its bookkeeping), capped by rmem_max.
            let got = socket.recv_buffer_size()?;
            if got < receive_buffer {
                tracing::warn!(
                    asked = receive_buffer,
                    got,
                    "SIP UDP receive buffer smaller than asked: raise net.core.rmem_max"
                );
            } else {
                debug!(bytes = got, "SIP UDP receive buffer");
            }
        }
        socket.set_nonblocking(true)?;
        socket.bind(&addr.into())?;
        let socket = tokio::net::UdpSocket::from_std(socket.into())?;
        Ok(GuardedUdpSocket {
            socket,
            trusted,
            counters: Arc::default(),
            limiter: Mutex::new(LogLimiter::new(LOG_BURST, LOG_INTERVAL)),
        })
    }

    /// The drop counters, shared with the endpoint for its stats.
    pub(super) fn counters(&self) -> Arc<DropCounters> {
        self.counters.clone()
    }

    /// Count a drop and say whether its own line may be logged (logging the
    /// summary of the interval before, if any).
    fn note_drop(&self, cause: DropCause) -> bool {
        self.counters.count(cause);
        // A poisoned lock only means a panic while logging: keep limiting.
        let mut limiter = self.limiter.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let decision = limiter.record(cause, Instant::now());
        if let Some(Suppressed { count, over }) = decision.summary {
            let what = cause.describe();
            let secs = over.as_secs();
            match cause {
                DropCause::Untrusted => debug!(count, secs, "{count} more {what} in the last {secs} s (not logged one by one)"),
                DropCause::Malformed | DropCause::Refused => {
                    info!(count, secs, "{count} more {what} in the last {secs} s (not logged one by one)")
                }
            }
        }
        decision.log_this
    }
}

#[async_trait::async_trait]
impl PlatformUdpSocket for GuardedUdpSocket {
    async fn recv_from(&self, buf: &mut [u8]) -> rsipstack::Result<(usize, SocketAddr)> {
        let mut datagram = vec![0u8; RECEIVE_BUFFER];
        loop {
            let (len, from) = self.socket.recv_from(&mut datagram).await?;
            if !self.trusted.allows(from.ip()) {
                if self.note_drop(DropCause::Untrusted) {
                    debug!(%from, "SIP from an untrusted network dropped");
                }
                continue;
            }
            let datagram = &datagram[..len];
            match screen(datagram) {
                Screened::Pass if len <= buf.len() => {
                    buf[..len].copy_from_slice(datagram);
                    return Ok((len, from));
                }
                // rsipstack's buffer is MAX_SIP_DATAGRAM, so screen() refused
                // anything longer already; this only guards a smaller buffer.
                Screened::Pass => {
                    if self.note_drop(DropCause::Malformed) {
                        info!(%from, len, "SIP datagram larger than the receive buffer dropped");
                    }
                }
                Screened::Drop { reason } => {
                    if self.note_drop(DropCause::Malformed) {
                        info!(%from, len, reason = %reason.describe(), "malformed SIP datagram dropped");
                    }
                }
                Screened::Answer {
                    status,
                    reason,
                    response,
                } => {
                    if self.note_drop(DropCause::Refused) {
                        info!(%from, len, status, reason = %reason.describe(), "malformed SIP request refused");
                    }
                    if let Err(error) = self.socket.send_to(&response, from).await {
                        debug!(%from, %error, "could not answer a malformed SIP request");
                    }
                }
            }
        }
    }

    async fn send_to(&self, buf: &[u8], addr: SocketAddr) -> rsipstack::Result<usize> {
        Ok(self.socket.send_to(buf, addr).await?)
    }

    fn local_addr(&self) -> rsipstack::Result<SocketAddr> {
        Ok(self.socket.local_addr()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method_line: &str, headers: &[&str], body: &str) -> Vec<u8> {
        let mut text = format!("{method_line}\r\n");
        for h in headers {
            text.push_str(h);
            text.push_str("\r\n");
        }
        text.push_str("\r\n");
        text.push_str(body);
        text.into_bytes()
    }

    const VIA: &str = "Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-1;rport";
    const FROM: &str = "From: <sip:caller@127.0.0.1>;tag=a";
    const TO: &str = "To: <sip:1000@127.0.0.1>";
    const CALL_ID: &str = "Call-ID: guard-test";
    const MF: &str = "Max-Forwards: 70";

    fn status_of(screened: &Screened) -> Option<u16> {
        match screened {
            Screened::Answer { status, .. } => Some(*status),
            _ => None,
        }
    }

    #[test]
    fn screens_each_kind_of_bad_datagram() {
        let options = "OPTIONS sip:1000@127.0.0.1 SIP/2.0";
        let cseq = "CSeq: 1 OPTIONS";
        let cases: Vec<(&str, Vec<u8>, Option<u16>, Option<Problem>)> = vec![
            ("well formed", request(options, &[VIA, FROM, TO, CALL_ID, cseq, MF, "Content-Length: 0"], ""), None, None),
            ("keep-alive", b"\r\n\r\n".to_vec(), None, None),
            (
                "unknown method",
                request("FROBNICATE sip:1000@127.0.0.1 SIP/2.0", &[VIA, FROM, TO, CALL_ID, "CSeq: 1 FROBNICATE"], ""),
                Some(501),
                Some(Problem::UnknownMethod),
            ),
            (
                "no Call-ID",
                request(options, &[VIA, FROM, TO, cseq, MF], ""),
                Some(400),
                Some(Problem::BadHeader { header: "Call-ID" }),
            ),
            (
                "no CSeq",
                request(options, &[VIA, FROM, TO, CALL_ID, MF], ""),
                Some(400),
                Some(Problem::BadHeader { header: "CSeq" }),
            ),
            (
                "no From",
                request(options, &[VIA, TO, CALL_ID, cseq, MF], ""),
                Some(400),
                Some(Problem::BadHeader { header: "From" }),
            ),
            ("no Via: nobody to answer", request(options, &[FROM, TO, CALL_ID, cseq], ""), None, Some(Problem::BadHeader { header: "Via" })),
            (
                "Content-Length larger than the body",
                request(options, &[VIA, FROM, TO, CALL_ID, cseq, "Content-Length: 500"], "v=0\r\n"),
                Some(400),
                Some(Problem::BadContentLength),
            ),
            (
                "Content-Length not a number",
                request(options, &[VIA, FROM, TO, CALL_ID, cseq, "Content-Length: lots"], ""),
                Some(400),
                Some(Problem::BadContentLength),
            ),
            (
                "CSeq of another method",
                request(options, &[VIA, FROM, TO, CALL_ID, "CSeq: 1 INVITE"], ""),
                Some(400),
                Some(Problem::CseqMethodMismatch),
            ),
            ("garbage", b"\x00\x01hello there".to_vec(), None, Some(Problem::NotSip)),
            ("bad response", b"SIP/2.0 abc\r\n\r\n".to_vec(), None, Some(Problem::Unparseable)),
            (
                "oversized",
                request(options, &[VIA, FROM, TO, CALL_ID, cseq, &format!("X-Pad: {}", "a".repeat(9000))], ""),
                Some(513),
                Some(Problem::Oversized { len: 9000 + 186 }),
            ),
        ];
        for (name, datagram, status, problem) in cases {
            let screened = screen(&datagram);
            assert_eq!(status_of(&screened), status, "{name}: {screened:?}");
            let reason = match &screened {
                Screened::Pass => None,
                Screened::Drop { reason } | Screened::Answer { reason, .. } => Some(*reason),
            };
            match (reason, problem) {
                (Some(Problem::Oversized { .. }), Some(Problem::Oversized { .. })) => {}
                (reason, problem) => assert_eq!(reason, problem, "{name}"),
            }
        }
    }

    #[test]
    fn answer_copies_the_transaction_headers_and_tags_to() {
        let datagram = request(
            "FROBNICATE sip:1000@127.0.0.1 SIP/2.0",
            &[VIA, FROM, TO, CALL_ID, "CSeq: 7 FROBNICATE", "X-Other: dropped"],
            "",
        );
        let Screened::Answer { response, .. } = screen(&datagram) else {
            panic!("no answer")
        };
        let text = String::from_utf8(response).unwrap();
        assert!(text.starts_with("SIP/2.0 501 Not Implemented\r\n"), "{text}");
        for header in [VIA, FROM, CALL_ID, "CSeq: 7 FROBNICATE", "Allow: INVITE"] {
            assert!(text.contains(header), "{header} missing from {text}");
        }
        assert!(text.contains("To: <sip:1000@127.0.0.1>;tag=g"), "{text}");
        assert!(!text.contains("X-Other"), "{text}");
        // Our own answer parses as a SIP response.
        assert!(matches!(SipMessage::try_from(text.as_bytes()), Ok(SipMessage::Response(_))), "{text}");
    }

    #[test]
    fn ack_is_never_answered() {
        let datagram = request("ACK sip:1000@127.0.0.1 SIP/2.0", &[VIA, FROM, TO, CALL_ID, "CSeq: 1 INVITE"], "");
        assert_eq!(screen(&datagram), Screened::Drop { reason: Problem::CseqMethodMismatch });
    }

    #[test]
    fn log_limiter_logs_a_burst_then_one_summary_per_interval() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut limiter = LogLimiter::new(2, Duration::from_secs(10));
        let logged = |log_this| LogDecision { log_this, summary: None };
        let steps = [
            // (cause, ms, expected)
            (DropCause::Malformed, 0, logged(true)),
            (DropCause::Malformed, 1, logged(true)),
            (DropCause::Malformed, 2, logged(false)),
            (DropCause::Malformed, 9_999, logged(false)),
            // Causes are limited apart: a burst of refusals is still logged.
            (DropCause::Refused, 3, logged(true)),
            (DropCause::Untrusted, 4, logged(true)),
            // The interval is over: the summary of the two left out, and this one logged.
            (
                DropCause::Malformed,
                12_000,
                LogDecision {
                    log_this: true,
                    summary: Some(Suppressed { count: 2, over: Duration::from_secs(12) }),
                },
            ),
            (DropCause::Malformed, 12_001, logged(true)),
            // An interval with nothing left out ends with no summary.
            (DropCause::Malformed, 30_000, logged(true)),
            (DropCause::Refused, 30_000, logged(true)),
        ];
        for (i, (cause, ms, expected)) in steps.into_iter().enumerate() {
            assert_eq!(limiter.record(cause, at(ms)), expected, "step {i}: {cause:?} at {ms} ms");
        }
    }

    #[test]
    fn a_flood_logs_a_bounded_number_of_lines() {
        let start = Instant::now();
        let mut limiter = LogLimiter::new(LOG_BURST, LOG_INTERVAL);
        let (mut lines, mut summarised) = (0u64, 0u64);
        // 100,000 garbage datagrams over 10 minutes (one every 6 ms).
        for i in 0..100_000u64 {
            let decision = limiter.record(DropCause::Malformed, start + Duration::from_millis(i * 6));
            lines += u64::from(decision.log_this) + u64::from(decision.summary.is_some());
            summarised += decision.summary.map_or(0, |s| s.count);
        }
        // Ten intervals: each logs its burst, and every one but the first opens with a summary.
        assert_eq!(lines, 10 * u64::from(LOG_BURST) + 9);
        // Every drop is either logged or summarised, except the last interval's, not yet summarised.
        let last_interval_left_out = 10_000 - u64::from(LOG_BURST);
        assert_eq!(summarised + 10 * u64::from(LOG_BURST) + last_interval_left_out, 100_000);
    }

    #[test]
    fn drop_counters_count_every_cause() {
        let counters = DropCounters::default();
        for cause in [DropCause::Refused, DropCause::Untrusted, DropCause::Refused] {
            counters.count(cause);
        }
        assert_eq!(counters.snapshot(), DroppedDatagrams { untrusted: 1, malformed: 0, refused: 2 });
    }

    #[test]
    fn trusted_networks_match_cidrs_and_mapped_addresses() {
        let trusted = TrustedNetworks::only(vec!["10.1.0.0/16".parse().unwrap(), "::1/128".parse().unwrap()]);
        let cases = [
            ("10.1.2.3", true),
            ("10.2.0.1", false),
            ("::ffff:10.1.9.9", true),
            ("::1", true),
            ("127.0.0.1", false),
        ];
        for (ip, allowed) in cases {
            assert_eq!(trusted.allows(ip.parse().unwrap()), allowed, "{ip}");
        }
        assert!(TrustedNetworks::allow_all().allows("192.0.2.1".parse().unwrap()));
        assert!(!TrustedNetworks::only(vec![]).allows("127.0.0.1".parse().unwrap()));
    }
}
