//! `MediaSession`: the one IO piece of the media layer. A tokio task owns one UDP socket for
//! a call's RTP, plays prompts paced at 20 ms, and reports digits, caller audio and loss of
//! media.
//!
//! Life cycle: [`RtpSocket::bind`] reserves a port (needed for the SDP answer), then
//! [`RtpSocket::start`] with the [`NegotiatedMedia`] spawns the task and returns the
//! [`MediaSession`] handle. Dropping the handle stops the task and frees the port.
//!
//! Choices:
//! - **Pacing** uses `tokio::time::interval` with [`MissedTickBehavior::Burst`]: after a
//!   stall (a busy 2-core box) the missed frames go out at once, so RTP timestamps stay in
//!   step with real time and prompts keep their length; a receiver's jitter buffer absorbs
//!   a short burst, whereas `Delay` would let our timestamps drift behind real time.
//! - **Comfort silence.** When nothing is playing we still send G.711 silence frames (not
//!   silence suppression): NATs and SBCs keep the binding, peers that latch onto our source
//!   address find it at once, and gateways that hang up on missing RTP stay happy. It costs
//!   64 kbit/s per call, which any store link carries.
//! - **No RTCP.** We neither send nor read RTCP; the RTCP port (ours + 1) is not reserved.
//! - **Channels.** Control events ([`MediaEvent`]) go through a bounded mpsc channel;
//!   caller audio goes through a separate `broadcast` channel that drops the oldest frames
//!   when the reader lags, so a slow recogniser never blocks RTP pacing and never pushes
//!   out a digit or `PlaybackFinished`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tokio::net::UdpSocket;
use tokio::sync::{broadcast, mpsc};
use tokio::time::MissedTickBehavior;
use tokio_util::task::AbortOnDropHandle;

use super::dtmf::inband::InbandDetector;
use super::g711::{Codec, SAMPLES_PER_20MS};
use super::prompt::{Playback, PlaybackTick, PromptAudio};
use super::rtp::{Received, RtpReceiver, RtpSender, RtpStats};
use super::sdp::NegotiatedMedia;

/// Time between two outgoing frames.
pub const FRAME_INTERVAL: Duration = Duration::from_millis(20);

/// Largest datagram we read; G.711 frames are 172 bytes, anything longer is not ours.
const MAX_DATAGRAM: usize = 1500;

/// Pending control events before new ones are dropped (with a warning): only a caller that
/// stopped reading its events, or an RTP flood of fake key presses, fills this.
const EVENT_CAPACITY: usize = 64;

/// Media settings, part of the server configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaConfig {
    /// Local address RTP sockets bind to (`0.0.0.0` for all interfaces).
    pub bind_ip: IpAddr,
    /// Lowest RTP port (inclusive); only even ports are used (RFC 3550 §11).
    pub rtp_port_min: u16,
    /// Highest RTP port (inclusive).
    pub rtp_port_max: u16,
    /// No RTP from a caller who said it sends for this long: [`MediaEvent::MediaTimeout`].
    #[serde(with = "crate::config::duration_ms", rename = "media_timeout_ms")]
    pub media_timeout: Duration,
    /// Caller audio frames (20 ms each) kept for a lagging reader before the oldest go.
    pub audio_buffer_frames: usize,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            bind_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            rtp_port_min: 20000,
            rtp_port_max: 29999,
            media_timeout: Duration::from_secs(30),
            audio_buffer_frames: 50,
        }
    }
}

/// Why a media session could not be set up or commanded.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The configured range holds no even port.
    #[error("RTP port range {min}-{max} contains no even port")]
    InvalidPortRange {
        /// Configured lowest port.
        min: u16,
        /// Configured highest port.
        max: u16,
    },
    /// Every even port of the range is in use.
    #[error("no free RTP port in {min}-{max} on {ip}")]
    NoFreePort {
        /// Bind address.
        ip: IpAddr,
        /// Configured lowest port.
        min: u16,
        /// Configured highest port.
        max: u16,
    },
    /// Binding failed for another reason than the port being in use (e.g. bad address).
    #[error("cannot bind RTP socket on {addr}: {source}")]
    Bind {
        /// The address tried.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The session task has ended (shut down, or the runtime is going away).
    #[error("media session has ended")]
    Closed,
}

/// Orders for a running session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaCommand {
    /// Play these prompts in order, replacing what is playing (its end is not reported).
    Play(Vec<PromptAudio>),
    /// Stop playing now (barge-in); no `PlaybackFinished` follows.
    Stop,
    /// Apply a new offer/answer (re-INVITE): new peer address, direction or codec. The
    /// SSRC and sequence numbering of what we send continue; the media timeout restarts.
    Renegotiate(Box<NegotiatedMedia>),
    /// End the session and release the socket.
    Shutdown,
}

/// What a running session reports (caller audio comes separately, see
/// [`MediaSession::subscribe_audio`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaEvent {
    /// The prompts of the last `Play` have all been sent.
    PlaybackFinished,
    /// A key press, from RFC 4733, or from in-band detection when no telephone-event
    /// payload type was negotiated.
    Digit(char),
    /// No RTP from the caller for the configured time. Reported once; re-armed when RTP
    /// comes back.
    MediaTimeout,
}

/// Symmetric RTP (a per-trunk option): for a caller behind NAT whose RTP comes from
/// another port (or address) than its SDP says, follow the first valid packets' source,
/// with the safeguards of an SBC: only during `window` after the offer/answer (so a stray
/// or injected stream later in the call cannot take the media over), only from the IP the
/// SDP gave unless `any_address` is set, only packets that are valid RTP with a negotiated
/// payload type, and only once per offer/answer (the first accepted packet locks it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latching {
    /// How long after the (re-)negotiation a new source may be latched onto.
    pub window: Duration,
    /// Latch onto any source address, not only the IP the SDP gave (carriers that send
    /// media from another IP than their signalling; also a `c=0.0.0.0` caller).
    pub any_address: bool,
}

/// Where latching stands for the current offer/answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LatchState {
    /// Symmetric RTP is off for this call.
    Off,
    /// A new source may still be latched onto until this instant.
    Open { until: Instant },
    /// Latched, or the window passed, or the SDP address was heard from: no more moves.
    Locked,
}

/// An RTP socket bound to an even port of the configured range, not yet running.
#[derive(Debug)]
pub struct RtpSocket {
    socket: UdpSocket,
    local_addr: SocketAddr,
}

impl RtpSocket {
    /// Binds a UDP socket on the first free even port of the range, starting the search at
    /// a random port so that consecutive calls do not reuse a port a late packet may hit.
    /// Must be called within a tokio runtime.
    pub fn bind(config: &MediaConfig) -> Result<RtpSocket, MediaError> {
        let (min, max) = (config.rtp_port_min, config.rtp_port_max);
        let first_even = min.saturating_add(min % 2);
        if first_even > max || first_even % 2 != 0 {
            return Err(MediaError::InvalidPortRange { min, max });
        }
        let count = u32::from((max - first_even) / 2) + 1;
        let start: u32 = rand::random_range(0..count);
        for i in 0..count {
            // Both terms stay within `first_even..=max`, so the sum fits in u16.
            let port = first_even
                + u16::try_from(((start + i) % count) * 2).expect("offset within u16 range");
            let addr = SocketAddr::new(config.bind_ip, port);
            match std::net::UdpSocket::bind(addr) {
                Ok(socket) => {
                    let bind_error = |source| MediaError::Bind { addr, source };
                    socket.set_nonblocking(true).map_err(bind_error)?;
                    let socket = UdpSocket::from_std(socket).map_err(bind_error)?;
                    let local_addr = socket.local_addr().map_err(bind_error)?;
                    return Ok(RtpSocket { socket, local_addr });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => continue,
                Err(source) => return Err(MediaError::Bind { addr, source }),
            }
        }
        Err(MediaError::NoFreePort {
            ip: config.bind_ip,
            min,
            max,
        })
    }

    /// The bound address. With a wildcard `bind_ip`, put the advertised IP and this port
    /// in the SDP answer.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Starts the session task for the negotiated stream.
    pub fn start(self, negotiated: &NegotiatedMedia, config: &MediaConfig) -> MediaSession {
        self.start_latching(negotiated, config, None)
    }

    /// [`RtpSocket::start`], with symmetric RTP when `latching` is given.
    pub fn start_latching(
        self,
        negotiated: &NegotiatedMedia,
        config: &MediaConfig,
        latching: Option<Latching>,
    ) -> MediaSession {
        let (command_tx, command_rx) = mpsc::unbounded_channel();
        let (event_tx, event_rx) = mpsc::channel(EVENT_CAPACITY);
        let (audio_tx, _) = broadcast::channel(config.audio_buffer_frames.max(1));
        let local_addr = self.local_addr;
        let mut core = SessionCore::new(
            negotiated,
            config.media_timeout,
            Instant::from(tokio::time::Instant::now()),
        );
        core.set_latching(latching, Instant::from(tokio::time::Instant::now()));
        let task = tokio::spawn(run(
            self.socket,
            core,
            command_rx,
            event_tx,
            audio_tx.clone(),
        ));
        MediaSession {
            commands: command_tx,
            events: event_rx,
            audio: audio_tx,
            local_addr,
            task: AbortOnDropHandle::new(task),
        }
    }
}

/// Handle on a running media session. Dropping it stops the task and frees the port.
#[derive(Debug)]
pub struct MediaSession {
    commands: mpsc::UnboundedSender<MediaCommand>,
    events: mpsc::Receiver<MediaEvent>,
    audio: broadcast::Sender<Vec<i16>>,
    local_addr: SocketAddr,
    task: AbortOnDropHandle<RtpStats>,
}

impl MediaSession {
    /// The local RTP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Sends a command; fails only if the task has ended.
    pub fn command(&self, command: MediaCommand) -> Result<(), MediaError> {
        self.commands.send(command).map_err(|_| MediaError::Closed)
    }

    /// Plays prompts in order, replacing what is playing.
    pub fn play(&self, prompts: Vec<PromptAudio>) -> Result<(), MediaError> {
        self.command(MediaCommand::Play(prompts))
    }

    /// Stops playback (barge-in).
    pub fn stop(&self) -> Result<(), MediaError> {
        self.command(MediaCommand::Stop)
    }

    /// Next event; `None` once the task has ended. Cancel-safe (usable in `select!`).
    pub async fn next_event(&mut self) -> Option<MediaEvent> {
        self.events.recv().await
    }

    /// A receiver of the caller's audio as 20 ms frames of 8 kHz PCM, from now on. A reader
    /// that falls more than `audio_buffer_frames` behind gets `RecvError::Lagged` and loses
    /// the oldest frames.
    pub fn subscribe_audio(&self) -> broadcast::Receiver<Vec<i16>> {
        self.audio.subscribe()
    }

    /// Ends the session, waits for the task to release the socket, and returns its RTP
    /// counters since the start or the last `Renegotiate` (`None` if the task had panicked).
    pub async fn shutdown(mut self) -> Option<RtpStats> {
        // The task may already have ended; then the join below returns at once.
        let _ = self.commands.send(MediaCommand::Shutdown);
        (&mut self.task).await.ok()
    }
}

/// What the session does at one 20 ms tick.
#[derive(Debug, Default, PartialEq, Eq)]
struct TickOutput {
    packet: Option<Bytes>,
    events: Vec<MediaEvent>,
}

/// What one received datagram produced.
#[derive(Debug, Default, PartialEq, Eq)]
struct DatagramOutput {
    audio: Option<Vec<i16>>,
    events: Vec<MediaEvent>,
}

/// The session's logic, free of IO: the task feeds it ticks, datagrams and commands.
#[derive(Debug)]
struct SessionCore {
    codec: Codec,
    peer: Option<SocketAddr>,
    we_send: bool,
    peer_sends: bool,
    sender: RtpSender,
    receiver: RtpReceiver,
    playback: Playback,
    /// Present only when no telephone-event was negotiated.
    inband: Option<InbandDetector>,
    media_timeout: Duration,
    last_rtp: Instant,
    timeout_reported: bool,
    /// The IP the SDP gave (kept when it is `0.0.0.0`: `None`), for latching.
    signalled: Option<SocketAddr>,
    latching: Option<Latching>,
    latch: LatchState,
}

impl SessionCore {
    fn new(negotiated: &NegotiatedMedia, media_timeout: Duration, now: Instant) -> Self {
        let codec = negotiated.codec;
        SessionCore {
            codec,
            peer: negotiated.remote_rtp,
            we_send: negotiated.we_send(),
            peer_sends: negotiated.peer_sends(),
            sender: RtpSender::new(codec.payload_type()),
            receiver: RtpReceiver::new(codec, negotiated.telephone_event, negotiated.remote_rtp),
            playback: Playback::new(),
            inband: negotiated
                .telephone_event
                .is_none()
                .then(InbandDetector::new),
            media_timeout,
            last_rtp: now,
            timeout_reported: false,
            signalled: negotiated.remote_rtp,
            latching: None,
            latch: LatchState::Off,
        }
    }

    fn set_latching(&mut self, latching: Option<Latching>, now: Instant) {
        self.latching = latching;
        self.open_latch(now);
    }

    /// A new offer/answer opens a new latching window (an SBC re-latches on a re-INVITE).
    fn open_latch(&mut self, now: Instant) {
        self.latch = match self.latching {
            Some(latching) => LatchState::Open { until: now + latching.window },
            None => LatchState::Off,
        };
    }

    /// Whether a packet from `from` may move our peer there now.
    fn may_latch(&mut self, from: SocketAddr, bytes: &[u8], now: Instant) -> bool {
        let (LatchState::Open { until }, Some(latching)) = (self.latch, self.latching) else {
            return false;
        };
        if now >= until {
            self.latch = LatchState::Locked;
            return false;
        }
        let from_signalled_ip = self
            .signalled
            .is_some_and(|signalled| signalled.ip().to_canonical() == from.ip().to_canonical());
        (from_signalled_ip || latching.any_address) && self.receiver.is_negotiated_rtp(bytes)
    }

    fn command(&mut self, command: MediaCommand, now: Instant) {
        match command {
            MediaCommand::Renegotiate(negotiated) => self.renegotiate(&negotiated, now),
            MediaCommand::Play(prompts) => self.playback.play(prompts),
            MediaCommand::Stop => {
                self.playback.stop();
            }
            // Handled by the task loop, which owns the socket.
            MediaCommand::Shutdown => {}
        }
    }

    fn renegotiate(&mut self, negotiated: &NegotiatedMedia, now: Instant) {
        self.codec = negotiated.codec;
        self.peer = negotiated.remote_rtp;
        self.we_send = negotiated.we_send();
        self.peer_sends = negotiated.peer_sends();
        self.sender
            .set_payload_type(negotiated.codec.payload_type());
        self.receiver = RtpReceiver::new(
            negotiated.codec,
            negotiated.telephone_event,
            negotiated.remote_rtp,
        );
        match (negotiated.telephone_event, &self.inband) {
            (Some(_), _) => self.inband = None,
            (None, None) => self.inband = Some(InbandDetector::new()),
            (None, Some(_)) => {}
        }
        self.last_rtp = now;
        self.timeout_reported = false;
        self.signalled = negotiated.remote_rtp;
        self.open_latch(now);
    }

    fn tick(&mut self, now: Instant) -> TickOutput {
        let mut out = TickOutput::default();
        let payload = match self.playback.tick() {
            PlaybackTick::Audio(frame) => self.codec.encode(&frame[..]),
            PlaybackTick::Finished => {
                out.events.push(MediaEvent::PlaybackFinished);
                vec![self.codec.silence_byte(); SAMPLES_PER_20MS]
            }
            PlaybackTick::Idle => vec![self.codec.silence_byte(); SAMPLES_PER_20MS],
        };
        if self.we_send {
            out.packet = Some(self.sender.next_packet(&payload));
        } else {
            // Keep RTP time running while on hold, so resumed audio is timed right and marked.
            self.sender.pause(SAMPLES_PER_20MS as u32);
        }
        if self.peer_sends
            && !self.timeout_reported
            && now.duration_since(self.last_rtp) >= self.media_timeout
        {
            self.timeout_reported = true;
            out.events.push(MediaEvent::MediaTimeout);
        }
        out
    }

    fn datagram(&mut self, from: SocketAddr, bytes: &[u8], now: Instant) -> DatagramOutput {
        let mut out = DatagramOutput::default();
        if self.peer != Some(from) && self.may_latch(from, bytes, now) {
            tracing::info!(signalled = ?self.signalled, latched = %from, "symmetric RTP: following the caller's RTP source");
            self.peer = Some(from);
            self.receiver.set_peer(from);
            self.latch = LatchState::Locked;
        }
        let accepted_before = self.receiver.stats().accepted;
        let received = self.receiver.handle(from, bytes);
        if self.receiver.stats().accepted != accepted_before {
            // Heard from the address in use: nothing left to latch onto.
            if matches!(self.latch, LatchState::Open { .. }) {
                self.latch = LatchState::Locked;
            }
            self.last_rtp = now;
            self.timeout_reported = false;
        }
        match received {
            Some(Received::Dtmf(digit)) => out.events.push(MediaEvent::Digit(digit)),
            Some(Received::Audio { pcm, .. }) => {
                if let Some(detector) = &mut self.inband {
                    out.events
                        .extend(detector.push(&pcm).into_iter().map(MediaEvent::Digit));
                }
                out.audio = Some(pcm);
            }
            None => {}
        }
        out
    }
}

async fn run(
    socket: UdpSocket,
    mut core: SessionCore,
    mut commands: mpsc::UnboundedReceiver<MediaCommand>,
    events: mpsc::Sender<MediaEvent>,
    audio: broadcast::Sender<Vec<i16>>,
) -> RtpStats {
    let mut interval = tokio::time::interval(FRAME_INTERVAL);
    interval.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let emit = |event: MediaEvent| {
        if let Err(error) = events.try_send(event) {
            tracing::warn!(?event, %error, "media event dropped: the call task is not reading its events");
        }
    };
    loop {
        tokio::select! {
            // Commands first, so a Play sent before a tick is heard in that tick.
            biased;
            command = commands.recv() => match command {
                None | Some(MediaCommand::Shutdown) => break,
                Some(command) => core.command(command, tokio::time::Instant::now().into_std()),
            },
            tick = interval.tick() => {
                let out = core.tick(tick.into_std());
                if let (Some(packet), Some(peer)) = (out.packet, core.peer)
                    && let Err(error) = socket.send_to(&packet, peer).await
                {
                    // Typically ICMP-induced or a route change; the next frame may succeed.
                    tracing::debug!(%error, %peer, "RTP send failed");
                }
                out.events.into_iter().for_each(emit);
            },
            received = socket.recv_from(&mut buf) => match received {
                Ok((len, from)) => {
                    let out = core.datagram(from, &buf[..len], tokio::time::Instant::now().into_std());
                    if let Some(pcm) = out.audio {
                        // No subscriber is normal (no speech recognition in this state).
                        let _ = audio.send(pcm);
                    }
                    out.events.into_iter().for_each(emit);
                }
                Err(error) => tracing::debug!(%error, "RTP receive failed"),
            },
        }
    }
    core.receiver.stats()
}

#[cfg(test)]
mod tests {
    //! Proves, over loopback UDP with tokio's paused clock, that a session binds even ports
    //! and frees them, paces prompts at 20 ms with correct RTP, reports PlaybackFinished,
    //! digits (RFC 4733 and in-band), caller audio, and media timeouts, and ignores strangers.
    use super::*;
    use crate::media::sdp::negotiate;
    use tokio::time::timeout;
    use webrtc_util::marshal::Unmarshal;

    fn config(min: u16, max: u16) -> MediaConfig {
        MediaConfig {
            bind_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            rtp_port_min: min,
            rtp_port_max: max,
            media_timeout: Duration::from_secs(2),
            audio_buffer_frames: 4,
        }
    }

    /// A caller socket on loopback and the negotiated media for its offer.
    async fn caller(formats: &str, extra: &str) -> (UdpSocket, NegotiatedMedia) {
        let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let port = peer.local_addr().unwrap().port();
        let offer = format!(
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio {port} RTP/AVP {formats}\r\na=rtpmap:101 telephone-event/8000\r\n{extra}"
        );
        (peer, negotiate(&offer).unwrap())
    }

    async fn start(formats: &str, extra: &str) -> (UdpSocket, MediaSession) {
        let (peer, negotiated) = caller(formats, extra).await;
        let socket = RtpSocket::bind(&config(46000, 46999)).unwrap();
        let session = socket.start(&negotiated, &config(46000, 46999));
        (peer, session)
    }

    async fn recv_rtp(peer: &UdpSocket) -> rtp::packet::Packet {
        let mut buf = [0u8; 1500];
        let (len, _) = timeout(Duration::from_secs(1), peer.recv_from(&mut buf))
            .await
            .unwrap()
            .unwrap();
        rtp::packet::Packet::unmarshal(&mut &buf[..len]).unwrap()
    }

    fn rtp_bytes(pt: u8, seq: u16, ts: u32, payload: &[u8]) -> Bytes {
        RtpSender::with_initial_state(pt, 99, seq, ts).next_packet(payload)
    }

    #[tokio::test(start_paused = true)]
    async fn binds_even_ports_in_range_and_frees_them() {
        let cfg = config(47001, 47011); // even ports 47002..=47010: five of them
        let sockets: Vec<RtpSocket> = (0..5).map(|_| RtpSocket::bind(&cfg).unwrap()).collect();
        let mut ports: Vec<u16> = sockets.iter().map(|s| s.local_addr().port()).collect();
        ports.sort();
        assert_eq!(ports, vec![47002, 47004, 47006, 47008, 47010]);
        assert!(matches!(
            RtpSocket::bind(&cfg),
            Err(MediaError::NoFreePort { .. })
        ));

        // A started session that is dropped gives its port back.
        let (_peer, negotiated) = caller("0", "").await;
        let mut sockets = sockets;
        let session = sockets.pop().unwrap().start(&negotiated, &cfg);
        let freed = session.local_addr().port();
        drop(session);
        tokio::task::yield_now().await;
        assert_eq!(RtpSocket::bind(&cfg).unwrap().local_addr().port(), freed);

        assert!(matches!(
            RtpSocket::bind(&config(47013, 47013)),
            Err(MediaError::InvalidPortRange { .. })
        ));
        assert!(matches!(
            RtpSocket::bind(&config(47020, 47010)),
            Err(MediaError::InvalidPortRange { .. })
        ));
        assert!(matches!(
            RtpSocket::bind(&config(65535, 65535)),
            Err(MediaError::InvalidPortRange { .. })
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn plays_prompt_paced_then_finishes_then_sends_silence() {
        let (peer, mut session) = start("8 101", "").await;
        let prompt: Vec<i16> = (0..400).map(|i| ((i * 37) % 2000 - 1000) as i16).collect();
        session
            .play(vec![PromptAudio::from_samples(prompt.clone())])
            .unwrap();

        let mut packets = vec![];
        let mut arrivals = vec![];
        for _ in 0..5 {
            packets.push(recv_rtp(&peer).await);
            arrivals.push(tokio::time::Instant::now());
        }
        let mut expected = prompt.clone();
        expected.resize(480, 0);
        for (i, chunk) in expected.chunks(160).enumerate() {
            assert_eq!(
                packets[i].payload.as_ref(),
                &Codec::Pcma.encode(chunk)[..],
                "frame {i}"
            );
        }
        for p in &packets[3..] {
            assert!(
                p.payload.iter().all(|&b| b == 0xD5),
                "comfort silence after the prompt"
            );
        }
        assert!(packets[0].header.marker && packets[1..].iter().all(|p| !p.header.marker));
        for pair in packets.windows(2) {
            assert_eq!(
                pair[1].header.sequence_number,
                pair[0].header.sequence_number.wrapping_add(1)
            );
            assert_eq!(
                pair[1].header.timestamp,
                pair[0].header.timestamp.wrapping_add(160)
            );
            assert_eq!(pair[1].header.ssrc, pair[0].header.ssrc);
            assert_eq!(pair[1].header.payload_type, 8);
        }
        for pair in arrivals.windows(2) {
            assert_eq!(pair[1] - pair[0], FRAME_INTERVAL);
        }
        assert_eq!(
            session.next_event().await,
            Some(MediaEvent::PlaybackFinished)
        );
        assert!(session.shutdown().await.is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn stop_cuts_playback_without_finished() {
        let (peer, mut session) = start("0", "").await;
        session
            .play(vec![PromptAudio::from_samples(vec![5000; 8000])])
            .unwrap();
        let first = recv_rtp(&peer).await;
        assert!(first.payload.iter().all(|&b| b != 0xFF));
        session.stop().unwrap();
        // Frames already queued in the socket may still carry prompt audio; after that, silence.
        let mut silent = 0;
        for _ in 0..10 {
            if recv_rtp(&peer).await.payload.iter().all(|&b| b == 0xFF) {
                silent += 1;
            }
        }
        assert!(silent >= 9, "playback stopped: {silent}/10 silent");
        assert!(
            session.events.try_recv().is_err(),
            "no PlaybackFinished after Stop"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn rfc4733_digit_reported_once_and_strangers_ignored() {
        let (peer, mut session) = start("0 101", "").await;
        let stranger = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let to = session.local_addr();
        stranger
            .send_to(&rtp_bytes(101, 1, 500, &[9, 0x80, 0, 160]), to)
            .await
            .unwrap();
        for (seq, flags) in [
            (10u16, 0x0A),
            (11, 0x0A),
            (12, 0x8A),
            (13, 0x8A),
            (14, 0x8A),
        ] {
            peer.send_to(&rtp_bytes(101, seq, 8000, &[5, flags, 0, 160]), to)
                .await
                .unwrap();
        }
        assert_eq!(session.next_event().await, Some(MediaEvent::Digit('5')));
        let stats = session.shutdown().await.unwrap();
        assert_eq!(stats.accepted, 5);
        assert_eq!(stats.wrong_source, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn inband_digit_and_audio_frames_without_telephone_event() {
        let (peer, mut session) = start("0", "").await;
        let mut audio = session.subscribe_audio();
        let to = session.local_addr();
        // 100 ms of key 7 (852 + 1209 Hz) then 100 ms of silence, as 20 ms PCMU frames.
        let pcm: Vec<i16> = (0..1600)
            .map(|i| {
                if i >= 800 {
                    return 0;
                }
                let t = i as f32 / 8000.0;
                (6000.0
                    * ((2.0 * std::f32::consts::PI * 852.0 * t).sin()
                        + (2.0 * std::f32::consts::PI * 1209.0 * t).sin())) as i16
            })
            .collect();
        for (i, frame) in pcm.chunks(160).enumerate() {
            let seq = i as u16;
            peer.send_to(
                &rtp_bytes(0, seq, u32::from(seq) * 160, &Codec::Pcmu.encode(frame)),
                to,
            )
            .await
            .unwrap();
            // Let the session read it before the next one (keeps the audio buffer of 4 from lagging).
            let frame_pcm = timeout(Duration::from_secs(1), audio.recv())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(frame_pcm, Codec::Pcmu.decode(&Codec::Pcmu.encode(frame)));
        }
        assert_eq!(session.next_event().await, Some(MediaEvent::Digit('7')));
    }

    #[tokio::test(start_paused = true)]
    async fn telephone_event_disables_inband_detection() {
        let (peer, mut session) = start("0 101", "").await;
        let to = session.local_addr();
        let pcm: Vec<i16> = (0..1600)
            .map(|i| {
                let t = i as f32 / 8000.0;
                (6000.0
                    * ((2.0 * std::f32::consts::PI * 852.0 * t).sin()
                        + (2.0 * std::f32::consts::PI * 1209.0 * t).sin())) as i16
            })
            .collect();
        for (i, frame) in pcm.chunks(160).enumerate() {
            peer.send_to(
                &rtp_bytes(0, i as u16, i as u32 * 160, &Codec::Pcmu.encode(frame)),
                to,
            )
            .await
            .unwrap();
        }
        // Let the session run well past the tone: only the media-timeout may come, never a digit.
        let event = timeout(Duration::from_secs(1), session.next_event()).await;
        assert!(event.is_err(), "no event expected, got {event:?}");
        assert_eq!(
            session.shutdown().await.unwrap().accepted,
            10,
            "the tone frames were received"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn lagging_audio_reader_loses_oldest_frames() {
        let (peer, session) = start("0", "").await;
        let mut audio = session.subscribe_audio();
        let to = session.local_addr();
        for seq in 0..10u16 {
            peer.send_to(
                &rtp_bytes(0, seq, u32::from(seq) * 160, &[seq as u8; 160]),
                to,
            )
            .await
            .unwrap();
        }
        // Let the session read every datagram (virtual time: the clock is paused).
        tokio::time::sleep(Duration::from_millis(100)).await;
        match audio.recv().await {
            Err(broadcast::error::RecvError::Lagged(lost)) => assert_eq!(lost, 6),
            other => panic!("expected lag, got {other:?}"),
        }
        for seq in 6..10u8 {
            assert_eq!(audio.recv().await.unwrap(), Codec::Pcmu.decode(&[seq; 160]));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn media_timeout_reported_once_and_rearmed() {
        let (peer, mut session) = start("0", "").await;
        let started = tokio::time::Instant::now();
        assert_eq!(session.next_event().await, Some(MediaEvent::MediaTimeout));
        let elapsed = started.elapsed();
        assert!(
            elapsed >= Duration::from_secs(2) && elapsed < Duration::from_millis(2040),
            "{elapsed:?}"
        );

        // Not repeated while the silence goes on.
        assert!(
            timeout(Duration::from_secs(5), session.next_event())
                .await
                .is_err()
        );

        peer.send_to(&rtp_bytes(0, 1, 160, &[0xFF; 160]), session.local_addr())
            .await
            .unwrap();
        let resumed = tokio::time::Instant::now();
        assert_eq!(session.next_event().await, Some(MediaEvent::MediaTimeout));
        assert!(resumed.elapsed() >= Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn renegotiation_moves_the_stream_to_the_new_peer() {
        let (old_peer, session) = start("0 101", "").await;
        let first = recv_rtp(&old_peer).await;
        assert_eq!(first.header.payload_type, 0);

        let (new_peer, negotiated) = caller("8", "").await;
        session
            .command(MediaCommand::Renegotiate(Box::new(negotiated)))
            .unwrap();
        let moved = recv_rtp(&new_peer).await;
        assert_eq!(moved.header.payload_type, 8, "codec changed to PCMA");
        assert_eq!(moved.header.ssrc, first.header.ssrc, "same stream");
        assert!(moved.payload.iter().all(|&b| b == 0xD5));

        // The old peer is now a stranger; the new one is heard.
        let to = session.local_addr();
        old_peer
            .send_to(&rtp_bytes(8, 1, 160, &[0xD5; 160]), to)
            .await
            .unwrap();
        new_peer
            .send_to(&rtp_bytes(8, 1, 160, &[0xD5; 160]), to)
            .await
            .unwrap();
        // Let the session read both (virtual time).
        tokio::time::sleep(Duration::from_millis(40)).await;
        let stats = session.shutdown().await.unwrap();
        assert_eq!((stats.accepted, stats.wrong_source), (1, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn hold_offer_sends_nothing_and_expects_nothing() {
        let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let negotiated = negotiate(
            "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\na=inactive\r\n",
        )
        .unwrap();
        let cfg = config(46000, 46999);
        let mut session = RtpSocket::bind(&cfg).unwrap().start(&negotiated, &cfg);
        session
            .play(vec![PromptAudio::from_samples(vec![1000; 320])])
            .unwrap();
        assert_eq!(
            session.next_event().await,
            Some(MediaEvent::PlaybackFinished)
        );
        let mut buf = [0u8; 100];
        assert!(
            timeout(Duration::from_secs(5), peer.recv_from(&mut buf))
                .await
                .is_err()
        );
        assert!(
            timeout(Duration::from_secs(5), session.next_event())
                .await
                .is_err(),
            "no timeout when inactive"
        );
    }

    #[test]
    fn rtp_time_runs_on_through_hold() {
        let active = negotiate(
            "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n",
        )
        .unwrap();
        let hold = negotiate(
            "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\na=sendonly\r\n",
        )
        .unwrap();
        let t0 = Instant::now();
        let mut core = SessionCore::new(&active, Duration::from_secs(30), t0);
        let header = |out: TickOutput| {
            let bytes = out.packet.expect("a packet while active");
            rtp::packet::Packet::unmarshal(&mut &bytes[..])
                .unwrap()
                .header
        };
        let before = header(core.tick(t0));
        core.command(MediaCommand::Renegotiate(Box::new(hold)), t0);
        for i in 1..=5 {
            assert_eq!(
                core.tick(t0 + FRAME_INTERVAL * i).packet,
                None,
                "silent on hold"
            );
        }
        core.command(MediaCommand::Renegotiate(Box::new(active)), t0);
        let after = header(core.tick(t0 + FRAME_INTERVAL * 6));
        assert!(after.marker);
        assert_eq!(
            after.sequence_number,
            before.sequence_number.wrapping_add(1)
        );
        assert_eq!(after.timestamp, before.timestamp.wrapping_add(6 * 160));
    }

    #[test]
    fn latching_follows_first_rtp_from_the_signalled_ip_within_the_window() {
        let signalled = negotiate(
            "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n",
        )
        .unwrap();
        let nat: SocketAddr = "192.0.2.1:6000".parse().unwrap();
        let other_ip: SocketAddr = "198.51.100.9:6000".parse().unwrap();
        let window = Duration::from_secs(5);
        let rtp = rtp_bytes(0, 1, 160, &[0xFF; 160]);
        let rtcp_like = [0x80u8, 200, 0, 1, 0, 0, 0, 1];
        struct Case {
            name: &'static str,
            latching: Option<Latching>,
            from: SocketAddr,
            after: Duration,
            bytes: Vec<u8>,
            heard: bool,
        }
        let on = Some(Latching { window, any_address: false });
        let cases = [
            Case { name: "off: another port is a stranger", latching: None, from: nat, after: Duration::ZERO, bytes: rtp.to_vec(), heard: false },
            Case { name: "signalled IP, another port, in the window", latching: on, from: nat, after: Duration::from_secs(1), bytes: rtp.to_vec(), heard: true },
            Case { name: "after the window", latching: on, from: nat, after: window, bytes: rtp.to_vec(), heard: false },
            Case { name: "another IP", latching: on, from: other_ip, after: Duration::ZERO, bytes: rtp.to_vec(), heard: false },
            Case { name: "another IP, any_address", latching: Some(Latching { window, any_address: true }), from: other_ip, after: Duration::ZERO, bytes: rtp.to_vec(), heard: true },
            Case { name: "not RTP of a negotiated payload type", latching: on, from: nat, after: Duration::ZERO, bytes: rtcp_like.to_vec(), heard: false },
        ];
        for case in cases {
            let t0 = Instant::now();
            let mut core = SessionCore::new(&signalled, Duration::from_secs(30), t0);
            core.set_latching(case.latching, t0);
            core.datagram(case.from, &case.bytes, t0 + case.after);
            let heard = core.receiver.stats().accepted == 1;
            assert_eq!(heard, case.heard, "{}", case.name);
            assert_eq!(core.peer == Some(case.from), case.heard, "{}: we send there too", case.name);
        }

        // Latched once: a second new source in the window is a stranger.
        let t0 = Instant::now();
        let mut core = SessionCore::new(&signalled, Duration::from_secs(30), t0);
        core.set_latching(on, t0);
        core.datagram(nat, &rtp, t0);
        core.datagram("192.0.2.1:7000".parse().unwrap(), &rtp_bytes(0, 2, 320, &[0xFF; 160]), t0);
        assert_eq!(core.peer, Some(nat));
        assert_eq!((core.receiver.stats().accepted, core.receiver.stats().wrong_source), (1, 1));
        // Heard from the SDP address first: locked there.
        let mut core = SessionCore::new(&signalled, Duration::from_secs(30), t0);
        core.set_latching(on, t0);
        core.datagram("192.0.2.1:5000".parse().unwrap(), &rtp, t0);
        core.datagram(nat, &rtp_bytes(0, 2, 320, &[0xFF; 160]), t0);
        assert_eq!(core.peer, Some("192.0.2.1:5000".parse().unwrap()));
    }

    #[test]
    fn config_reads_from_toml_with_defaults() {
        let cfg: MediaConfig =
            toml::from_str("rtp_port_min = 30000\nmedia_timeout_ms = 15000\n").unwrap();
        assert_eq!(cfg.rtp_port_min, 30000);
        assert_eq!(cfg.rtp_port_max, MediaConfig::default().rtp_port_max);
        assert_eq!(cfg.media_timeout, Duration::from_secs(15));
        assert!(toml::from_str::<MediaConfig>("rtp_port = 1").is_err());
    }
}
