//! G.711 (PCMU µ-law, PCMA A-law) encoding and decoding of whole frames.
//!
//! The per-sample companding comes from the `audio-codec-algorithms` crate; this module
//! only adds the RTP-facing facts (static payload types, SDP names, silence bytes).

use audio_codec_algorithms::{decode_alaw, decode_ulaw, encode_alaw, encode_ulaw};

/// Sampling rate (and RTP clock rate) of G.711, in Hz.
pub const CLOCK_RATE: u32 = 8000;

/// Samples in one 20 ms G.711 frame (also the RTP timestamp increment per frame).
pub const SAMPLES_PER_20MS: usize = 160;

/// A G.711 variant, as negotiated in SDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// µ-law, RTP static payload type 0.
    Pcmu,
    /// A-law, RTP static payload type 8 (the usual one on French/European trunks).
    Pcma,
}

impl Codec {
    /// Static RTP payload type (RFC 3551): 0 for PCMU, 8 for PCMA.
    pub const fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    /// Encoding name as written in `a=rtpmap` (`PCMU` / `PCMA`).
    pub const fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }

    /// The codec carried by a static payload type, if it is G.711.
    pub const fn from_payload_type(pt: u8) -> Option<Codec> {
        match pt {
            0 => Some(Codec::Pcmu),
            8 => Some(Codec::Pcma),
            _ => None,
        }
    }

    /// The codec for an `a=rtpmap` encoding name (case-insensitive, as RFC 4855 says).
    pub fn from_name(name: &str) -> Option<Codec> {
        if name.eq_ignore_ascii_case("PCMU") {
            Some(Codec::Pcmu)
        } else if name.eq_ignore_ascii_case("PCMA") {
            Some(Codec::Pcma)
        } else {
            None
        }
    }

    /// The encoded byte for digital silence (linear 0): `0xFF` for µ-law, `0xD5` for A-law.
    pub const fn silence_byte(self) -> u8 {
        match self {
            Codec::Pcmu => 0xFF,
            Codec::Pcma => 0xD5,
        }
    }

    /// Decodes G.711 bytes (one per sample) into 16-bit linear PCM.
    pub fn decode(self, encoded: &[u8]) -> Vec<i16> {
        match self {
            Codec::Pcmu => encoded.iter().map(|&b| decode_ulaw(b)).collect(),
            Codec::Pcma => encoded.iter().map(|&b| decode_alaw(b)).collect(),
        }
    }

    /// Encodes 16-bit linear PCM into G.711 bytes (one per sample).
    pub fn encode(self, pcm: &[i16]) -> Vec<u8> {
        match self {
            Codec::Pcmu => pcm.iter().map(|&s| encode_ulaw(s)).collect(),
            Codec::Pcma => pcm.iter().map(|&s| encode_alaw(s)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    //! Proves the G.711 codecs against published code points and that encode/decode round-trip.
    use super::*;

    #[test]
    fn decodes_known_code_points() {
        // Values from the ITU-T G.711 tables (as 16-bit linear, i.e. 14/13-bit value shifted).
        let cases: &[(Codec, u8, i16)] = &[
            (Codec::Pcmu, 0xFF, 0),
            (Codec::Pcmu, 0x7F, 0),
            (Codec::Pcmu, 0x80, 32124),
            (Codec::Pcmu, 0x00, -32124),
            (Codec::Pcmu, 0xFE, 8),
            (Codec::Pcmu, 0xF0, 120),
            (Codec::Pcma, 0xD5, 8),
            (Codec::Pcma, 0x55, -8),
            (Codec::Pcma, 0xAA, 32256),
            (Codec::Pcma, 0x2A, -32256),
        ];
        for &(codec, byte, linear) in cases {
            assert_eq!(codec.decode(&[byte]), vec![linear], "{codec:?} {byte:#04x}");
        }
    }

    #[test]
    fn encodes_known_values() {
        let cases: &[(Codec, i16, u8)] = &[
            (Codec::Pcmu, 0, 0xFF),
            (Codec::Pcmu, i16::MAX, 0x80),
            (Codec::Pcmu, i16::MIN, 0x00),
            (Codec::Pcma, 0, 0xD5),
            (Codec::Pcma, i16::MAX, 0xAA),
            (Codec::Pcma, i16::MIN, 0x2A),
        ];
        for &(codec, linear, byte) in cases {
            assert_eq!(codec.encode(&[linear]), vec![byte], "{codec:?} {linear}");
            assert_eq!(codec.encode(&[0])[0], codec.silence_byte());
        }
    }

    #[test]
    fn every_code_point_round_trips() {
        for codec in [Codec::Pcmu, Codec::Pcma] {
            let all: Vec<u8> = (0..=255).collect();
            let back = codec.encode(&codec.decode(&all));
            for (orig, again) in all.iter().zip(&back) {
                // µ-law has two zeros (0x7F "negative zero" and 0xFF); both decode to 0.
                if codec == Codec::Pcmu && *orig == 0x7F {
                    assert_eq!(*again, 0xFF);
                } else {
                    assert_eq!(orig, again, "{codec:?}");
                }
            }
        }
    }

    #[test]
    fn quantisation_error_is_bounded() {
        // G.711 keeps about 12 bits of relative precision: error under 1/16 of the value (+ small floor).
        for codec in [Codec::Pcmu, Codec::Pcma] {
            let pcm: Vec<i16> = (-32000..32000).step_by(97).map(|v| v as i16).collect();
            let back = codec.decode(&codec.encode(&pcm));
            for (a, b) in pcm.iter().zip(&back) {
                let err = (i32::from(*a) - i32::from(*b)).abs();
                assert!(err <= i32::from(*a).abs() / 16 + 40, "{codec:?} {a} -> {b}");
            }
        }
    }

    #[test]
    fn payload_types_and_names_map_both_ways() {
        for codec in [Codec::Pcmu, Codec::Pcma] {
            assert_eq!(Codec::from_payload_type(codec.payload_type()), Some(codec));
            assert_eq!(Codec::from_name(&codec.name().to_lowercase()), Some(codec));
        }
        assert_eq!(Codec::from_payload_type(18), None);
        assert_eq!(Codec::from_name("G729"), None);
    }
}
