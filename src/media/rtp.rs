//! RTP for one G.711 call leg, sans-IO: a packetiser for what we send and a filter/decoder
//! for what we receive, on top of the `rtp` crate's header (un)marshalling.
//!
//! Choices:
//! - **Source filtering.** The receiver accepts packets only from the address the SDP
//!   negotiated (no symmetric-RTP latching onto whoever sends first). The stores' callers
//!   come through their operator's SBC, which sends from the address it advertises;
//!   latching would let any host that guesses the port inject audio or digits.
//! - **No jitter buffer.** Packets are passed on as they arrive. A packet older than the
//!   newest one seen (late or duplicated) is dropped: for speech recognition a missing 20 ms
//!   frame is harmless, while waiting to reorder adds latency to every frame. Telephone
//!   events are not affected: their decoder keys them by timestamp.

use std::net::SocketAddr;

use bytes::Bytes;
use rtp::header::Header;
use rtp::packet::Packet;
use webrtc_util::marshal::{Marshal, Unmarshal};

use super::dtmf::rfc4733::Rfc4733Decoder;
use super::g711::Codec;

/// A sequence number this far behind the newest is taken as a sender restart, not a late
/// packet (RFC 3550 A.1 uses the same idea with `MAX_MISORDER`).
const MAX_MISORDER: i32 = 100;

/// A forward jump in sequence numbers up to this is counted as loss; a bigger
/// one is taken as a sender restart (RFC 3550 A.1's `MAX_DROPOUT`).
pub const MAX_DROPOUT: i32 = 3000;

/// Builds outgoing RTP packets for one stream (one SSRC).
#[derive(Debug, Clone)]
pub struct RtpSender {
    payload_type: u8,
    ssrc: u32,
    sequence_number: u16,
    timestamp: u32,
    /// The next packet starts a talkspurt (first packet, or after [`RtpSender::pause`]).
    marker_pending: bool,
}

impl RtpSender {
    /// A sender with random SSRC, initial sequence number and timestamp (RFC 3550 §5.1).
    pub fn new(payload_type: u8) -> Self {
        Self::with_initial_state(payload_type, rand::random(), rand::random(), rand::random())
    }

    /// A sender with chosen initial values (tests, or keeping SSRC across a re-INVITE).
    pub fn with_initial_state(
        payload_type: u8,
        ssrc: u32,
        sequence_number: u16,
        timestamp: u32,
    ) -> Self {
        RtpSender {
            payload_type,
            ssrc,
            sequence_number,
            timestamp,
            marker_pending: true,
        }
    }

    /// Changes the payload type of the following packets (codec change by re-INVITE);
    /// SSRC, sequence and timestamp continue.
    pub fn set_payload_type(&mut self, payload_type: u8) {
        self.payload_type = payload_type;
    }

    /// Our SSRC.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// Wraps one frame of G.711 bytes (one byte per sample, 160 for 20 ms) into an RTP
    /// packet and advances sequence number and timestamp.
    pub fn next_packet(&mut self, payload: &[u8]) -> Bytes {
        let packet = Packet {
            header: Header {
                version: 2,
                marker: std::mem::take(&mut self.marker_pending),
                payload_type: self.payload_type,
                sequence_number: self.sequence_number,
                timestamp: self.timestamp,
                ssrc: self.ssrc,
                ..Default::default()
            },
            payload: Bytes::copy_from_slice(payload),
        };
        self.sequence_number = self.sequence_number.wrapping_add(1);
        // G.711 has one byte per sample at the 8 kHz RTP clock; frames are at most a few
        // hundred bytes, so the length always fits in u32.
        self.timestamp = self.timestamp.wrapping_add(payload.len() as u32);
        // Marshalling a header without CSRCs or extensions into a buffer the crate sizes
        // itself has no failure case.
        packet.marshal().expect("plain RTP header always marshals")
    }

    /// Records that we sent nothing for `samples` sample periods: the timestamp skips ahead
    /// so the receiver keeps timing, and the next packet carries the marker bit.
    pub fn pause(&mut self, samples: u32) {
        self.timestamp = self.timestamp.wrapping_add(samples);
        self.marker_pending = true;
    }
}

/// What one accepted incoming packet carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A frame of caller audio, decoded to 8 kHz linear PCM.
    Audio {
        /// RTP sequence number.
        seq: u16,
        /// RTP timestamp (8 kHz units).
        timestamp: u32,
        /// Decoded samples.
        pcm: Vec<i16>,
    },
    /// A new key press, from an RFC 4733 telephone-event.
    Dtmf(char),
}

/// Why an incoming datagram was dropped (logged at debug level, counted in [`RtpStats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Drop {
    WrongSource,
    Malformed,
    WrongVersion,
    UnknownPayloadType,
    LateOrDuplicate,
}

/// Counters of what the receiver did, for logs at the end of a call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RtpStats {
    /// Packets accepted (audio or telephone-event).
    pub accepted: u64,
    /// Datagrams from another address than the negotiated peer.
    pub wrong_source: u64,
    /// Datagrams that are not valid RTP version 2 (short, lying CSRC count or padding).
    pub malformed: u64,
    /// RTP packets with a payload type we did not negotiate.
    pub unknown_payload_type: u64,
    /// Packets older than or equal to the newest one seen.
    pub late_or_duplicate: u64,
    /// Packets skipped by the sequence numbers (a gap of up to [`MAX_DROPOUT`]);
    /// one that arrives later after all is counted here and as late.
    pub lost: u64,
}

/// Validates, filters and decodes the caller's RTP.
#[derive(Debug)]
pub struct RtpReceiver {
    codec: Codec,
    telephone_event: Option<u8>,
    peer: Option<SocketAddr>,
    /// SSRC and newest sequence number of the stream being followed.
    newest: Option<(u32, u16)>,
    dtmf: Rfc4733Decoder,
    stats: RtpStats,
}

impl RtpReceiver {
    /// A receiver for the negotiated codec and telephone-event payload type, accepting only
    /// datagrams from `peer` (`None`: the caller gave no address, accept nothing).
    pub fn new(codec: Codec, telephone_event: Option<u8>, peer: Option<SocketAddr>) -> Self {
        RtpReceiver {
            codec,
            telephone_event,
            peer,
            newest: None,
            dtmf: Rfc4733Decoder::new(),
            stats: RtpStats::default(),
        }
    }

    /// Follows RTP from `peer` from now on (symmetric RTP latching: the caller's RTP comes
    /// from another address than its SDP says). Sequence tracking goes on.
    pub fn set_peer(&mut self, peer: SocketAddr) {
        self.peer = Some(peer);
    }

    /// Whether `datagram` is valid RTP version 2 with a payload type we negotiated: what
    /// a packet must be before its source may be latched onto.
    pub fn is_negotiated_rtp(&self, datagram: &[u8]) -> bool {
        if datagram.first().map(|b| b >> 6) != Some(2) || !header_extension_fits(datagram) {
            return false;
        }
        match Packet::unmarshal(&mut &datagram[..]) {
            Ok(packet) => {
                let pt = packet.header.payload_type;
                pt == self.codec.payload_type() || Some(pt) == self.telephone_event
            }
            Err(_) => false,
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> RtpStats {
        self.stats
    }

    /// Handles one datagram received from `from`. Returns audio or a new digit; `None` for
    /// anything dropped and for telephone-event packets that add no new key press.
    pub fn handle(&mut self, from: SocketAddr, datagram: &[u8]) -> Option<Received> {
        match self.accept(from, datagram) {
            Ok(received) => received,
            Err(reason) => {
                tracing::debug!(?reason, %from, len = datagram.len(), "dropping RTP datagram");
                let counter = match reason {
                    Drop::WrongSource => &mut self.stats.wrong_source,
                    Drop::Malformed | Drop::WrongVersion => &mut self.stats.malformed,
                    Drop::UnknownPayloadType => &mut self.stats.unknown_payload_type,
                    Drop::LateOrDuplicate => &mut self.stats.late_or_duplicate,
                };
                *counter += 1;
                None
            }
        }
    }

    fn accept(&mut self, from: SocketAddr, datagram: &[u8]) -> Result<Option<Received>, Drop> {
        if !same_endpoint(Some(from), self.peer) {
            return Err(Drop::WrongSource);
        }
        // The crate checks lengths (CSRC count, extension, padding) but not the version.
        if datagram.first().map(|b| b >> 6) != Some(2) {
            return Err(Drop::WrongVersion);
        }
        // A padding count of 0 is invalid (RFC 3550 §5.1) but the crate would accept it.
        if datagram[0] & 0x20 != 0 && datagram.last() == Some(&0) {
            return Err(Drop::Malformed);
        }
        if !header_extension_fits(datagram) {
            return Err(Drop::Malformed);
        }
        let packet = Packet::unmarshal(&mut &datagram[..]).map_err(|_| Drop::Malformed)?;
        let header = &packet.header;
        let is_audio = header.payload_type == self.codec.payload_type();
        let is_event = Some(header.payload_type) == self.telephone_event;
        if !is_audio && !is_event {
            return Err(Drop::UnknownPayloadType);
        }
        self.check_sequence(header.ssrc, header.sequence_number)?;
        self.stats.accepted += 1;
        if is_event {
            return Ok(self
                .dtmf
                .handle(header.timestamp, &packet.payload)
                .map(Received::Dtmf));
        }
        Ok(Some(Received::Audio {
            seq: header.sequence_number,
            timestamp: header.timestamp,
            pcm: self.codec.decode(&packet.payload),
        }))
    }

    /// Accepts a packet newer than the newest seen (with 16-bit wraparound); a new SSRC or a
    /// big jump backwards restarts tracking.
    fn check_sequence(&mut self, ssrc: u32, seq: u16) -> Result<(), Drop> {
        if let Some((known_ssrc, newest)) = self.newest
            && known_ssrc == ssrc
        {
            // Distance in the circular sequence space, in -32768..=32767.
            let ahead = i32::from(seq.wrapping_sub(newest) as i16);
            if (-MAX_MISORDER..=0).contains(&ahead) {
                return Err(Drop::LateOrDuplicate);
            }
            if (2..=MAX_DROPOUT).contains(&ahead) {
                // In range by the check just above: 1..=2999 fits a u64.
                self.stats.lost += (ahead - 1) as u64;
            }
        }
        self.newest = Some((ssrc, seq));
        Ok(())
    }
}

/// Whether the RFC 8285 header extension elements (if any) stay inside their block.
///
/// `rtp` 0.17.2 walks the elements without bounds checks and panics on a packet whose
/// element length overruns the datagram (found by the random-datagram test below), so the
/// walk is checked here first. Profiles other than the two RFC 8285 ones are opaque to the
/// crate and need no check beyond the block length, which it verifies itself.
fn header_extension_fits(datagram: &[u8]) -> bool {
    let Some(&first) = datagram.first() else {
        return false;
    };
    if first & 0x10 == 0 {
        return true;
    }
    let start = 12 + 4 * usize::from(first & 0x0F);
    let Some(&[p0, p1, l0, l1]) = datagram.get(start..start + 4) else {
        return false;
    };
    let length = 4 * usize::from(u16::from_be_bytes([l0, l1]));
    let Some(block) = datagram.get(start + 4..start + 4 + length) else {
        return false;
    };
    let mut at = 0;
    match u16::from_be_bytes([p0, p1]) {
        rtp::header::EXTENSION_PROFILE_ONE_BYTE => {
            while let Some(&b) = block.get(at) {
                at += 1;
                if b == 0 {
                    continue; // padding
                }
                if b >> 4 == rtp::header::EXTENSION_ID_RESERVED {
                    break; // the crate stops here too
                }
                at += usize::from(b & 0x0F) + 1;
            }
        }
        rtp::header::EXTENSION_PROFILE_TWO_BYTE => {
            while let Some(&b) = block.get(at) {
                at += 1;
                if b == 0 {
                    continue; // padding
                }
                let Some(&len) = block.get(at) else {
                    return false;
                };
                at += 1 + usize::from(len);
            }
        }
        _ => {}
    }
    at <= block.len()
}

/// Compares addresses, treating an IPv4-mapped IPv6 address (seen on dual-stack sockets) as
/// the IPv4 address it carries.
fn same_endpoint(a: Option<SocketAddr>, b: Option<SocketAddr>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            a.port() == b.port() && a.ip().to_canonical() == b.ip().to_canonical()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    //! Proves our packets are well-formed RTP (seq/timestamp/marker rules) and that the
    //! receiver filters by source, validity and payload type, and never emits duplicates.
    use super::*;

    /// Random datagrams tried per run (small: the suite runs on a shared 2-core box).
    const RANDOM_DATAGRAMS: usize = 20000;

    fn peer() -> SocketAddr {
        "192.0.2.10:40000".parse().unwrap()
    }

    fn packet(pt: u8, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
        RtpSender::with_initial_state(pt, ssrc, seq, ts)
            .next_packet(payload)
            .to_vec()
    }

    #[test]
    fn sender_numbers_packets_and_marks_talkspurts() {
        let mut sender = RtpSender::with_initial_state(8, 0xDEADBEEF, 65534, u32::MAX - 100);
        let frame = [0xD5u8; 160];
        let mut headers = vec![];
        for i in 0..4 {
            if i == 3 {
                sender.pause(800); // 100 ms not sent
            }
            let bytes = sender.next_packet(&frame);
            let p = Packet::unmarshal(&mut &bytes[..]).unwrap();
            assert_eq!(p.payload.as_ref(), &frame);
            assert_eq!(bytes.len(), 12 + 160);
            headers.push(p.header);
        }
        let got: Vec<(bool, u16, u32)> = headers
            .iter()
            .map(|h| (h.marker, h.sequence_number, h.timestamp))
            .collect();
        assert_eq!(
            got,
            vec![
                (true, 65534, u32::MAX - 100),
                (false, 65535, 59),
                (false, 0, 219),
                (true, 1, 219 + 160 + 800),
            ]
        );
        assert!(
            headers
                .iter()
                .all(|h| h.version == 2 && h.payload_type == 8 && h.ssrc == 0xDEADBEEF)
        );
    }

    #[test]
    fn random_senders_differ() {
        // Not a proof of randomness, but guards against a constant SSRC/seq/timestamp.
        let a = RtpSender::new(0).next_packet(&[0; 160]);
        let b = RtpSender::new(0).next_packet(&[0; 160]);
        assert_ne!(a[2..12], b[2..12]);
    }

    #[test]
    fn receiver_decodes_audio_and_dtmf() {
        let mut rx = RtpReceiver::new(Codec::Pcmu, Some(101), Some(peer()));
        let audio = rx.handle(peer(), &packet(0, 10, 1000, 7, &[0xFF, 0x80, 0x00]));
        assert_eq!(
            audio,
            Some(Received::Audio {
                seq: 10,
                timestamp: 1000,
                pcm: vec![0, 32124, -32124]
            })
        );
        let press = [5u8, 0x0A, 0x00, 0xA0];
        let end = [5u8, 0x8A, 0x01, 0x40];
        let got: Vec<_> = [
            packet(101, 11, 1160, 7, &press),
            packet(101, 12, 1160, 7, &end),
            packet(101, 13, 1160, 7, &end),
        ]
        .iter()
        .map(|d| rx.handle(peer(), d))
        .collect();
        assert_eq!(got, vec![Some(Received::Dtmf('5')), None, None]);
        assert_eq!(rx.stats().accepted, 4);
    }

    #[test]
    fn receiver_drops_invalid_datagrams() {
        let good = packet(0, 10, 1000, 7, &[0xFF; 160]);
        let mut wrong_version = good.clone();
        wrong_version[0] = (wrong_version[0] & 0x3F) | 0x40;
        let mut lying_csrc = good[..20].to_vec();
        lying_csrc[0] |= 0x0F; // 15 CSRCs claimed, 8 bytes present
        let mut lying_padding = good.clone();
        lying_padding[0] |= 0x20;
        *lying_padding.last_mut().unwrap() = 200; // more padding than payload
        let mut zero_padding = good.clone();
        zero_padding[0] |= 0x20;
        *zero_padding.last_mut().unwrap() = 0;
        let mut lying_extension = good[..16].to_vec();
        lying_extension[0] |= 0x10;
        lying_extension[14] = 0xFF; // extension length far past the end
        lying_extension[15] = 0xFF;

        // RFC 8285 one-byte extension, one 4-byte word, whose element claims 11 bytes.
        let mut overrunning_one_byte = good[..12].to_vec();
        overrunning_one_byte[0] |= 0x10;
        overrunning_one_byte.extend_from_slice(&[0xBE, 0xDE, 0x00, 0x01, 0x1A, 0, 0, 0, 0xFF]);
        // Two-byte profile, element length 200 in a 4-byte block.
        let mut overrunning_two_byte = good[..12].to_vec();
        overrunning_two_byte[0] |= 0x10;
        overrunning_two_byte.extend_from_slice(&[0x10, 0x00, 0x00, 0x01, 0x01, 200, 0, 0]);

        type Stat = fn(&RtpStats) -> u64;
        let cases: Vec<(&str, SocketAddr, Vec<u8>, Stat)> = vec![
            (
                "other host",
                "192.0.2.99:40000".parse().unwrap(),
                good.clone(),
                |s| s.wrong_source,
            ),
            (
                "other port",
                "192.0.2.10:40002".parse().unwrap(),
                good.clone(),
                |s| s.wrong_source,
            ),
            ("empty", peer(), vec![], |s| s.malformed),
            ("short header", peer(), good[..8].to_vec(), |s| s.malformed),
            ("version 1", peer(), wrong_version, |s| s.malformed),
            ("lying CSRC count", peer(), lying_csrc, |s| s.malformed),
            ("lying padding", peer(), lying_padding, |s| s.malformed),
            ("zero padding count", peer(), zero_padding, |s| s.malformed),
            ("lying extension", peer(), lying_extension, |s| s.malformed),
            (
                "one-byte extension overruns (panicked rtp 0.17.2)",
                peer(),
                overrunning_one_byte,
                |s| s.malformed,
            ),
            (
                "two-byte extension overruns",
                peer(),
                overrunning_two_byte,
                |s| s.malformed,
            ),
            (
                "PCMA on a PCMU call",
                peer(),
                packet(8, 10, 1000, 7, &[0xD5; 160]),
                |s| s.unknown_payload_type,
            ),
            (
                "comfort noise PT 13",
                peer(),
                packet(13, 10, 1000, 7, &[40]),
                |s| s.unknown_payload_type,
            ),
            (
                "telephone-event not negotiated",
                peer(),
                packet(101, 10, 1000, 7, &[5, 0x80, 0, 160]),
                |s| s.unknown_payload_type,
            ),
        ];
        for (name, from, datagram, stat) in cases {
            let mut rx = RtpReceiver::new(Codec::Pcmu, None, Some(peer()));
            assert_eq!(rx.handle(from, &datagram), None, "{name}");
            assert_eq!(stat(&rx.stats()), 1, "{name}: {:?}", rx.stats());
            assert_eq!(rx.stats().accepted, 0, "{name}");
        }
    }

    #[test]
    fn receiver_without_peer_address_accepts_nothing() {
        let mut rx = RtpReceiver::new(Codec::Pcmu, None, None);
        assert_eq!(rx.handle(peer(), &packet(0, 1, 1, 1, &[0xFF])), None);
        assert_eq!(rx.stats().wrong_source, 1);
    }

    #[test]
    fn well_formed_extensions_are_accepted() {
        let mut with_one_byte = packet(0, 1, 1, 1, &[])[..12].to_vec();
        with_one_byte[0] |= 0x10;
        // Element id 1 with 2 bytes, then padding, then the payload.
        with_one_byte
            .extend_from_slice(&[0xBE, 0xDE, 0x00, 0x01, 0x11, 0xAA, 0xBB, 0x00, 0xFF, 0xFF]);
        let mut rx = RtpReceiver::new(Codec::Pcmu, None, Some(peer()));
        let got = rx.handle(peer(), &with_one_byte);
        assert_eq!(
            got,
            Some(Received::Audio {
                seq: 1,
                timestamp: 1,
                pcm: vec![0, 0]
            })
        );
    }

    #[test]
    fn ipv4_mapped_source_matches_ipv4_peer() {
        let mut rx = RtpReceiver::new(Codec::Pcma, None, Some(peer()));
        let mapped: SocketAddr = "[::ffff:192.0.2.10]:40000".parse().unwrap();
        assert!(rx.handle(mapped, &packet(8, 1, 1, 1, &[0xD5])).is_some());
    }

    #[test]
    fn sequence_tracking_handles_loss_reorder_wrap_and_restart() {
        // (ssrc, seq) arrivals -> which are accepted.
        type Arrivals = &'static [(u32, u16)];
        let cases: &[(&str, Arrivals, &[bool])] = &[
            ("in order", &[(1, 5), (1, 6), (1, 7)], &[true, true, true]),
            (
                "gap (loss) is fine",
                &[(1, 5), (1, 9), (1, 10)],
                &[true, true, true],
            ),
            (
                "duplicate dropped",
                &[(1, 5), (1, 6), (1, 6), (1, 5)],
                &[true, true, false, false],
            ),
            (
                "late packet dropped, no duplicate emitted",
                &[(1, 5), (1, 7), (1, 6), (1, 8)],
                &[true, true, false, true],
            ),
            (
                "wraparound",
                &[(1, 65534), (1, 65535), (1, 0), (1, 1), (1, 65535)],
                &[true, true, true, true, false],
            ),
            (
                "sender restart far behind",
                &[(1, 30000), (1, 30001), (1, 12)],
                &[true, true, true],
            ),
            (
                "new SSRC restarts",
                &[(1, 500), (2, 3), (2, 4), (1, 400)],
                &[true, true, true, true],
            ),
        ];
        for (name, arrivals, expected) in cases {
            let mut rx = RtpReceiver::new(Codec::Pcmu, None, Some(peer()));
            let got: Vec<bool> = arrivals
                .iter()
                .map(|&(ssrc, seq)| {
                    rx.handle(
                        peer(),
                        &packet(0, seq, u32::from(seq) * 160, ssrc, &[0xFF; 160]),
                    )
                    .is_some()
                })
                .collect();
            assert_eq!(&got, expected, "{name}");
        }
    }

    #[test]
    fn gaps_count_as_lost_and_restarts_do_not() {
        // (arrivals, lost, late)
        let cases: &[(&[u16], u64, u64)] = &[
            (&[5, 6, 7], 0, 0),
            (&[5, 9, 10], 3, 0),
            (&[5, 7, 6, 8], 1, 1),
            (&[65534, 1], 2, 0),
            (&[10, 3010], 2999, 0),
            (&[10, 3011], 0, 0),
        ];
        for (arrivals, lost, late) in cases {
            let mut rx = RtpReceiver::new(Codec::Pcmu, None, Some(peer()));
            for &seq in *arrivals {
                rx.handle(peer(), &packet(0, seq, u32::from(seq) * 160, 1, &[0xFF; 160]));
            }
            let stats = rx.stats();
            assert_eq!((stats.lost, stats.late_or_duplicate), (*lost, *late), "{arrivals:?}");
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut rx = RtpReceiver::new(Codec::Pcmu, Some(101), Some(peer()));
        let good = packet(101, 1, 1, 1, &[5, 0x80, 0, 160]);
        for len in 0..=good.len() {
            for flip in 0..8 {
                let mut d = good[..len].to_vec();
                if let Some(b) = d.first_mut() {
                    *b ^= 1 << flip;
                }
                let _ = rx.handle(peer(), &d);
            }
        }
        // Random bodies behind a plausible first byte (any flags, extension profiles included).
        use rand::rngs::StdRng;
        use rand::{RngExt, SeedableRng};
        let mut rng = StdRng::seed_from_u64(3550);
        for _ in 0..RANDOM_DATAGRAMS {
            let len = rng.random_range(0..64);
            let mut d: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            if let Some(b) = d.first_mut() {
                *b = 0x80 | (*b & 0x3F);
            }
            if d.len() > 13 && rng.random_bool(0.5) {
                d[12..14].copy_from_slice(&[0xBE, 0xDE]);
            }
            let _ = rx.handle(peer(), &d);
        }
        for first in 0..=255u8 {
            let _ = rx.handle(peer(), &[first, 101, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xFF]);
        }
    }
}
