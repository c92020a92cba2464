//! RFC 4733 telephone-event payloads turned into digits, one digit per key press.
//!
//! A key press is sent as many packets sharing one RTP timestamp (start, updates, and an
//! end packet usually sent three times). The decoder reports the digit on the first packet
//! it sees for a timestamp, so a lost start packet costs nothing, and ignores the rest.
//! Long events split into segments (> 8 s) would be reported once per segment: no keypad
//! press lasts that long in an attendant call.

use std::collections::VecDeque;

use super::event_to_digit;

/// Timestamps of recent events remembered for de-duplication. Retransmissions of an event
/// arrive within tens of ms, while a new key press needs a new timestamp: a few suffice.
const REMEMBERED_EVENTS: usize = 8;

/// One decoded telephone-event payload (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code (0-15 for DTMF).
    pub event: u8,
    /// The E bit: this packet ends the event.
    pub end: bool,
    /// Power level in -dBm0 (0-63).
    pub volume: u8,
    /// Duration so far, in RTP timestamp units.
    pub duration: u16,
}

/// Why a telephone-event payload was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rfc4733Error {
    /// Fewer than the 4 bytes of an event.
    #[error("telephone-event payload too short: {len} bytes")]
    TooShort {
        /// Payload length received.
        len: usize,
    },
}

impl TelephoneEvent {
    /// Parses the first event of a payload (redundant events, if any, are ignored).
    pub fn parse(payload: &[u8]) -> Result<TelephoneEvent, Rfc4733Error> {
        let &[event, flags, d0, d1, ..] = payload else {
            return Err(Rfc4733Error::TooShort { len: payload.len() });
        };
        Ok(TelephoneEvent {
            event,
            end: flags & 0x80 != 0,
            volume: flags & 0x3F,
            duration: u16::from_be_bytes([d0, d1]),
        })
    }
}

/// Turns a stream of telephone-event packets into digits without duplicates.
#[derive(Debug, Default)]
pub struct Rfc4733Decoder {
    /// RTP timestamps of the most recent events already reported (or dropped), newest last.
    seen: VecDeque<u32>,
}

impl Rfc4733Decoder {
    /// A decoder that has seen nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one packet (its RTP timestamp and payload); returns a digit for a new key press.
    ///
    /// Malformed payloads and event codes above 15 (tones, trunk events) yield `None`.
    pub fn handle(&mut self, timestamp: u32, payload: &[u8]) -> Option<char> {
        let event = match TelephoneEvent::parse(payload) {
            Ok(event) => event,
            Err(error) => {
                tracing::debug!(%error, "dropping telephone-event packet");
                return None;
            }
        };
        if self.seen.contains(&timestamp) {
            return None;
        }
        if self.seen.len() == REMEMBERED_EVENTS {
            self.seen.pop_front();
        }
        self.seen.push_back(timestamp);
        let digit = event_to_digit(event.event);
        if digit.is_none() {
            tracing::debug!(event = event.event, "ignoring non-DTMF telephone-event");
        }
        digit
    }
}

#[cfg(test)]
mod tests {
    //! Proves one digit per key press from RFC 4733 streams (including SIPp's capture files),
    //! with retransmissions, loss and out-of-range events handled.
    use super::*;

    fn payload(event: u8, end: bool, duration: u16) -> [u8; 4] {
        let d = duration.to_be_bytes();
        [event, if end { 0x80 | 10 } else { 10 }, d[0], d[1]]
    }

    #[test]
    fn parses_payload_fields() {
        let e = TelephoneEvent::parse(&[11, 0x8A, 0x03, 0x20]).unwrap();
        assert_eq!(
            e,
            TelephoneEvent {
                event: 11,
                end: true,
                volume: 10,
                duration: 800
            }
        );
        assert_eq!(
            TelephoneEvent::parse(&[1, 2, 3]),
            Err(Rfc4733Error::TooShort { len: 3 })
        );
    }

    #[test]
    fn one_digit_per_event() {
        // (timestamp, event, end, duration) packets -> digits reported, in order.
        type Packet = (u32, u8, bool, u16);
        let cases: &[(&str, &[Packet], &str)] = &[
            (
                "typical press with triple end",
                &[
                    (100, 5, false, 160),
                    (100, 5, false, 320),
                    (100, 5, true, 480),
                    (100, 5, true, 480),
                    (100, 5, true, 480),
                ],
                "5",
            ),
            (
                "start lost, only end packets",
                &[(100, 7, true, 800), (100, 7, true, 800)],
                "7",
            ),
            (
                "same digit twice = two timestamps",
                &[
                    (100, 1, false, 160),
                    (100, 1, true, 320),
                    (900, 1, false, 160),
                    (900, 1, true, 320),
                ],
                "11",
            ),
            (
                "late retransmission after next press",
                &[
                    (100, 2, true, 320),
                    (900, 3, false, 160),
                    (100, 2, true, 320),
                ],
                "23",
            ),
            (
                "out of range events dropped",
                &[
                    (100, 16, false, 160),
                    (200, 64, true, 160),
                    (300, 10, false, 160),
                    (400, 15, true, 160),
                ],
                "*D",
            ),
            (
                "timestamp wraps",
                &[
                    (u32::MAX, 0, true, 160),
                    (0, 0, true, 160),
                    (0, 0, true, 160),
                ],
                "00",
            ),
        ];
        for (name, packets, expected) in cases {
            let mut decoder = Rfc4733Decoder::new();
            let got: String = packets
                .iter()
                .filter_map(|&(ts, ev, end, dur)| decoder.handle(ts, &payload(ev, end, dur)))
                .collect();
            assert_eq!(&got, expected, "{name}");
        }
    }

    #[test]
    fn short_payload_is_dropped() {
        let mut decoder = Rfc4733Decoder::new();
        assert_eq!(decoder.handle(1, &[5, 0x80]), None);
        // The timestamp was not burnt by the garbage packet.
        assert_eq!(decoder.handle(1, &payload(5, true, 160)), Some('5'));
    }

    #[test]
    fn sipp_capture_files_give_exactly_their_digit() {
        let files = [
            ("0", '0'),
            ("1", '1'),
            ("2", '2'),
            ("3", '3'),
            ("4", '4'),
            ("5", '5'),
            ("6", '6'),
            ("7", '7'),
            ("8", '8'),
            ("9", '9'),
            ("star", '*'),
            ("pound", '#'),
        ];
        for (name, digit) in files {
            let path = format!("dtmf_2833_{name}.pcap");
            let Some(packets) = crate::media::test_pcap::sipp_pcap(&path) else {
                continue;
            };
            assert!(packets.len() > 3, "{path}");
            let mut decoder = Rfc4733Decoder::new();
            let got: String = packets
                .iter()
                .filter(|p| p.payload_type == 101)
                .filter_map(|p| decoder.handle(p.timestamp, &p.payload))
                .collect();
            assert_eq!(got, digit.to_string(), "{path}");
        }
    }
}
