//! SDP offer/answer (RFC 3264) for one G.711 audio stream, on top of the `sdp` crate.
//!
//! [`negotiate`] reads the caller's offer and picks what we will use; [`answer_sdp`] writes
//! the matching answer. We support exactly: plain `RTP/AVP` (no SRTP), static payload types
//! 0 (PCMU) and 8 (PCMA), and RFC 4733 `telephone-event/8000` on any dynamic payload type.
//! G.711 carried on a dynamic payload type is not recognised (no known peer does that).

use std::io::Cursor;
use std::net::{IpAddr, SocketAddr};

use sdp::description::common::{Address, Attribute, ConnectionInformation};
use sdp::description::media::{MediaDescription, MediaName, RangedPort};
use sdp::description::session::{Origin, SessionDescription, TimeDescription, Timing};

use super::g711::{CLOCK_RATE, Codec};

/// Packetisation time we send and ask for, in milliseconds.
pub const OUR_PTIME_MS: u32 = 20;

/// Longest `a=ptime` we accept as plausible (RFC 3551 allows large values, nobody uses >200).
const MAX_PTIME_MS: u32 = 1000;

/// Why an offer cannot be answered.
#[derive(Debug, thiserror::Error)]
pub enum SdpError {
    /// The text is not SDP the parser understands (includes ports above 65535).
    #[error("malformed SDP offer: {source}")]
    Malformed {
        /// The `sdp` crate's parse error.
        #[source]
        source: sdp::Error,
    },
    /// The offer has no `m=audio` line at all.
    #[error("SDP offer has no audio stream")]
    NoAudio,
    /// Every `m=audio` line has port 0 (stream disabled by the offerer).
    #[error("SDP offer's audio stream is disabled (port 0)")]
    AudioDisabled,
    /// Audio is offered only over a transport we do not speak (e.g. `RTP/SAVP`).
    #[error("SDP offer's audio uses unsupported transport {proto}")]
    UnsupportedTransport {
        /// The offered protocol, e.g. `RTP/SAVP`.
        proto: String,
    },
    /// Audio is offered, but neither PCMU nor PCMA: the SIP layer answers 488.
    #[error("no G.711 codec in SDP offer (offered payload types: {offered:?})")]
    NoCommonCodec {
        /// The payload types listed on the audio `m=` line.
        offered: Vec<String>,
    },
    /// Neither the audio stream nor the session has a `c=` line with an address.
    #[error("SDP offer has no connection address for audio")]
    MissingConnection,
    /// The `c=` address is not an IP literal (FQDNs and multicast are not supported).
    #[error("unsupported connection address {address:?} in SDP offer")]
    InvalidConnectionAddress {
        /// The address as written.
        address: String,
    },
    /// `a=ptime` is not a number of milliseconds in 1..=1000.
    #[error("invalid ptime {value:?} in SDP offer")]
    InvalidPtime {
        /// The attribute value as written.
        value: String,
    },
}

impl SdpError {
    /// SIP response status for an INVITE carrying this offer: 488 (Not Acceptable Here) when
    /// the offer is valid but incompatible with us, 400 (Bad Request) when it is malformed.
    pub fn sip_status(&self) -> u16 {
        match self {
            SdpError::NoAudio
            | SdpError::AudioDisabled
            | SdpError::UnsupportedTransport { .. }
            | SdpError::NoCommonCodec { .. } => 488,
            SdpError::Malformed { .. }
            | SdpError::MissingConnection
            | SdpError::InvalidConnectionAddress { .. }
            | SdpError::InvalidPtime { .. } => 400,
        }
    }
}

impl SdpError {
    /// The `warn-code` (RFC 3261 §20.43) that says why in a `Warning` header: 302
    /// incompatible transport, 304 media type not available, 305 incompatible media format,
    /// 399 for the rest (SDP we cannot read).
    pub fn warn_code(&self) -> u16 {
        match self {
            SdpError::UnsupportedTransport { .. } => 302,
            SdpError::NoAudio | SdpError::AudioDisabled => 304,
            SdpError::NoCommonCodec { .. } => 305,
            SdpError::Malformed { .. }
            | SdpError::MissingConnection
            | SdpError::InvalidConnectionAddress { .. }
            | SdpError::InvalidPtime { .. } => 399,
        }
    }
}

/// Stream direction, as declared by one side (RFC 3264 §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Both ways (the default when no attribute is present).
    SendRecv,
    /// The declaring side only sends.
    SendOnly,
    /// The declaring side only receives.
    RecvOnly,
    /// No media either way.
    Inactive,
}

impl Direction {
    /// The direction the answerer must declare for an offer with this direction.
    pub fn answer(self) -> Direction {
        match self {
            Direction::SendRecv => Direction::SendRecv,
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            Direction::Inactive => Direction::Inactive,
        }
    }

    /// Attribute name (`sendrecv`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// Whether the side declaring this direction sends media.
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// Whether the side declaring this direction receives media.
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    fn from_attributes(attrs: &[Attribute]) -> Option<Direction> {
        attrs.iter().find_map(|a| match a.key.as_str() {
            "sendrecv" => Some(Direction::SendRecv),
            "sendonly" => Some(Direction::SendOnly),
            "recvonly" => Some(Direction::RecvOnly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        })
    }
}

/// An `m=` line of the offer, kept so the answer can mirror it (RFC 3264 §6: same count, same order).
#[derive(Debug, Clone, PartialEq, Eq)]
struct OfferedLine {
    media: String,
    proto: String,
    formats: Vec<String>,
}

/// What we agreed with the caller for the audio stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedMedia {
    /// The G.711 variant, the first one in the caller's order of preference.
    pub codec: Codec,
    /// RFC 4733 telephone-event payload type, if the caller offered it (8000 Hz clock).
    pub telephone_event: Option<u8>,
    /// Where to send RTP. `None` when the offer's address is `0.0.0.0` / `::`
    /// (RFC 2543-style hold): send nothing until a re-INVITE gives an address.
    pub remote_rtp: Option<SocketAddr>,
    /// Direction the caller declared (`sendrecv` when absent).
    pub remote_direction: Direction,
    /// `a=ptime` the caller asked for, in ms (we still send 20 ms frames, which every
    /// G.711 endpoint accepts; the value is kept for logs).
    pub remote_ptime_ms: Option<u32>,
    /// Index of the chosen `m=` line in the offer.
    audio_index: usize,
    /// All offered `m=` lines, to reject the others with port 0 in the answer.
    offered_lines: Vec<OfferedLine>,
}

impl NegotiatedMedia {
    /// Whether we should send RTP: the caller has an address and wants to receive.
    pub fn we_send(&self) -> bool {
        self.remote_rtp.is_some() && self.remote_direction.receives()
    }

    /// Whether the caller said it would send RTP (so a silence timeout is meaningful).
    pub fn peer_sends(&self) -> bool {
        self.remote_direction.sends()
    }
}

/// Parses the caller's SDP offer and chooses codec, DTMF payload type and remote address.
pub fn negotiate(offer: &str) -> Result<NegotiatedMedia, SdpError> {
    let session = SessionDescription::unmarshal(&mut Cursor::new(offer.as_bytes()))
        .map_err(|source| SdpError::Malformed { source })?;

    let offered_lines: Vec<OfferedLine> = session
        .media_descriptions
        .iter()
        .map(|m| OfferedLine {
            media: m.media_name.media.clone(),
            proto: m.media_name.protos.join("/"),
            formats: m.media_name.formats.clone(),
        })
        .collect();

    let audio: Vec<(usize, &MediaDescription)> = session
        .media_descriptions
        .iter()
        .enumerate()
        .filter(|(_, m)| m.media_name.media == "audio")
        .collect();
    if audio.is_empty() {
        return Err(SdpError::NoAudio);
    }
    let enabled: Vec<&(usize, &MediaDescription)> = audio
        .iter()
        .filter(|(_, m)| m.media_name.port.value != 0)
        .collect();
    if enabled.is_empty() {
        return Err(SdpError::AudioDisabled);
    }
    let Some(&&(audio_index, media)) = enabled
        .iter()
        .find(|(_, m)| m.media_name.protos.join("/") == "RTP/AVP")
    else {
        return Err(SdpError::UnsupportedTransport {
            proto: enabled[0].1.media_name.protos.join("/"),
        });
    };

    let codec = choose_codec(media)?;
    let telephone_event = find_telephone_event(media);

    let connection = media
        .connection_information
        .as_ref()
        .or(session.connection_information.as_ref())
        .and_then(|c| c.address.as_ref())
        .ok_or(SdpError::MissingConnection)?;
    let ip = parse_connection_ip(&connection.address)?;
    // The parser stores the port as a u16 widened to isize, and port 0 was rejected above.
    let port =
        u16::try_from(media.media_name.port.value).expect("sdp crate parses m= ports as u16");
    let remote_rtp = (!ip.is_unspecified()).then(|| SocketAddr::new(ip, port));

    let remote_direction = Direction::from_attributes(&media.attributes)
        .or_else(|| Direction::from_attributes(&session.attributes))
        .unwrap_or(Direction::SendRecv);

    let remote_ptime_ms = media
        .attributes
        .iter()
        .find(|a| a.key == "ptime")
        .map(|a| {
            let raw = a.value.as_deref().unwrap_or("");
            raw.trim()
                .parse::<u32>()
                .ok()
                .filter(|ms| (1..=MAX_PTIME_MS).contains(ms))
                .ok_or_else(|| SdpError::InvalidPtime {
                    value: raw.to_owned(),
                })
        })
        .transpose()?;

    Ok(NegotiatedMedia {
        codec,
        telephone_event,
        remote_rtp,
        remote_direction,
        remote_ptime_ms,
        audio_index,
        offered_lines,
    })
}

/// `(payload type, encoding name, clock rate)` of each `a=rtpmap` of a media section.
fn rtpmaps(media: &MediaDescription) -> impl Iterator<Item = (&str, &str, &str)> {
    media
        .attributes
        .iter()
        .filter(|a| a.key == "rtpmap")
        .filter_map(|a| {
            let value = a.value.as_deref()?;
            let (pt, rest) = value.trim().split_once(char::is_whitespace)?;
            let mut parts = rest.trim().split('/');
            let name = parts.next()?;
            let clock = parts.next().unwrap_or("");
            Some((pt, name, clock))
        })
}

fn choose_codec(media: &MediaDescription) -> Result<Codec, SdpError> {
    media
        .media_name
        .formats
        .iter()
        .find_map(|format| {
            let codec = Codec::from_payload_type(format.parse().ok()?)?;
            // A static payload type needs no rtpmap; if one is given it must agree.
            let consistent =
                rtpmaps(media)
                    .filter(|(pt, _, _)| pt == format)
                    .all(|(_, name, clock)| {
                        Codec::from_name(name) == Some(codec) && clock == CLOCK_RATE.to_string()
                    });
            consistent.then_some(codec)
        })
        .ok_or_else(|| SdpError::NoCommonCodec {
            offered: media.media_name.formats.clone(),
        })
}

fn find_telephone_event(media: &MediaDescription) -> Option<u8> {
    media.media_name.formats.iter().find_map(|format| {
        let pt: u8 = format.parse().ok()?;
        if !(96..=127).contains(&pt) {
            return None;
        }
        rtpmaps(media)
            .any(|(p, name, clock)| {
                p == format
                    && name.eq_ignore_ascii_case("telephone-event")
                    && clock == CLOCK_RATE.to_string()
            })
            .then_some(pt)
    })
}

fn parse_connection_ip(address: &str) -> Result<IpAddr, SdpError> {
    // A `/ttl` or `/count` suffix means multicast, which a phone call never uses.
    address
        .parse::<IpAddr>()
        .ok()
        .filter(|ip| !ip.is_multicast())
        .ok_or_else(|| SdpError::InvalidConnectionAddress {
            address: address.to_owned(),
        })
}

/// Builds our SDP answer: the chosen codec, telephone-event if offered (events 0-15),
/// `a=ptime:20` and the direction that answers the caller's. Other offered `m=` lines
/// are rejected with port 0, as RFC 3264 §6 requires.
///
/// `local_rtp` must be the address the caller can reach (not `0.0.0.0`). `session_id`
/// goes into `o=` as both id and version (an initial answer; for later answers in the same
/// dialog use [`answer_sdp_version`]).
pub fn answer_sdp(negotiated: &NegotiatedMedia, local_rtp: SocketAddr, session_id: u64) -> String {
    answer_sdp_version(negotiated, local_rtp, session_id, session_id)
}

/// [`answer_sdp`] with an explicit `o=` session version: answers to re-INVITEs in the same
/// dialog keep the session id and must increase the version (RFC 3264 §8).
pub fn answer_sdp_version(
    negotiated: &NegotiatedMedia,
    local_rtp: SocketAddr,
    session_id: u64,
    session_version: u64,
) -> String {
    let address_type = if local_rtp.is_ipv4() { "IP4" } else { "IP6" };
    let ip = local_rtp.ip().to_string();

    let media_descriptions = negotiated
        .offered_lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            if index == negotiated.audio_index {
                audio_answer(negotiated, local_rtp.port())
            } else {
                rejected_line(line)
            }
        })
        .collect();

    let session = SessionDescription {
        version: 0,
        origin: Origin {
            username: "attendant".to_owned(),
            session_id,
            session_version,
            network_type: "IN".to_owned(),
            address_type: address_type.to_owned(),
            unicast_address: ip.clone(),
        },
        session_name: "attendant".to_owned(),
        connection_information: Some(ConnectionInformation {
            network_type: "IN".to_owned(),
            address_type: address_type.to_owned(),
            address: Some(Address {
                address: ip,
                ttl: None,
                range: None,
            }),
        }),
        time_descriptions: vec![TimeDescription {
            timing: Timing {
                start_time: 0,
                stop_time: 0,
            },
            repeat_times: vec![],
        }],
        media_descriptions,
        ..Default::default()
    };
    session.marshal()
}

/// RFC 4733 payload type we offer for telephone-event (when the caller sent no offer).
pub const OUR_TELEPHONE_EVENT_PT: u8 = 101;

/// Our own offer, for an INVITE (or re-INVITE) that carried none (delayed offer, RFC 3261
/// §13.2.1): PCMU and PCMA, telephone-event on [`OUR_TELEPHONE_EVENT_PT`], 20 ms, sendrecv.
/// The caller's answer (in the ACK) is read with [`accept_answer`].
pub fn offer_sdp(local_rtp: SocketAddr, session_id: u64, session_version: u64) -> String {
    let address_type = if local_rtp.is_ipv4() { "IP4" } else { "IP6" };
    let ip = local_rtp.ip();
    let port = local_rtp.port();
    let te = OUR_TELEPHONE_EVENT_PT;
    format!(
        "v=0\r\no=attendant {session_id} {session_version} IN {address_type} {ip}\r\ns=attendant\r\n\
         c=IN {address_type} {ip}\r\nt=0 0\r\nm=audio {port} RTP/AVP 0 8 {te}\r\n\
         a=rtpmap:0 PCMU/{CLOCK_RATE}\r\na=rtpmap:8 PCMA/{CLOCK_RATE}\r\n\
         a=rtpmap:{te} telephone-event/{CLOCK_RATE}\r\na=fmtp:{te} 0-15\r\n\
         a=ptime:{OUR_PTIME_MS}\r\na=sendrecv\r\n"
    )
}

/// Reads the caller's answer to our [`offer_sdp`]. The answer must pick one of the codecs we
/// offered (PCMU or PCMA) and give an address, exactly what [`negotiate`] checks of an
/// offer; the same errors apply.
pub fn accept_answer(answer: &str) -> Result<NegotiatedMedia, SdpError> {
    negotiate(answer)
}

impl NegotiatedMedia {
    /// The media of a call whose INVITE carried no offer, until the caller's answer arrives
    /// in the ACK: nothing is sent and nothing is expected (a silence timeout would be
    /// meaningless before the caller said where and whether it sends).
    pub fn awaiting_answer() -> NegotiatedMedia {
        NegotiatedMedia {
            codec: Codec::Pcmu,
            telephone_event: None,
            remote_rtp: None,
            remote_direction: Direction::Inactive,
            remote_ptime_ms: None,
            audio_index: 0,
            offered_lines: vec![OfferedLine {
                media: "audio".to_owned(),
                proto: "RTP/AVP".to_owned(),
                formats: vec!["0".to_owned()],
            }],
        }
    }
}

/// Our side of one call's SDP: its `o=` session id and version, and the last SDP we sent.
/// RFC 3264 §8: every SDP we send in the dialog keeps the session id, and the version goes
/// up by one exactly when the SDP differs from the previous one (a re-INVITE that changes
/// nothing on our side, e.g. a session refresh, gets the same version back).
#[derive(Debug, Clone)]
pub struct LocalSdp {
    local_rtp: SocketAddr,
    session_id: u64,
    version: u64,
    last: Option<String>,
}

impl LocalSdp {
    /// `local_rtp` is the address the caller can reach (never a wildcard); the first SDP
    /// carries `session_id` as its version too.
    pub fn new(local_rtp: SocketAddr, session_id: u64) -> LocalSdp {
        LocalSdp {
            local_rtp,
            session_id,
            version: session_id,
            last: None,
        }
    }

    /// Our answer to a (re-)offer.
    pub fn answer(&mut self, negotiated: &NegotiatedMedia) -> String {
        let (local_rtp, id) = (self.local_rtp, self.session_id);
        self.next(|version| answer_sdp_version(negotiated, local_rtp, id, version))
    }

    /// Our offer, for a request that carried none.
    pub fn offer(&mut self) -> String {
        let (local_rtp, id) = (self.local_rtp, self.session_id);
        self.next(|version| offer_sdp(local_rtp, id, version))
    }

    /// The `o=` version of the last SDP built.
    pub fn version(&self) -> u64 {
        self.version
    }

    fn next(&mut self, build: impl Fn(u64) -> String) -> String {
        let same_version = build(self.version);
        let sdp = match &self.last {
            Some(last) if *last != same_version => {
                self.version = self.version.wrapping_add(1);
                build(self.version)
            }
            _ => same_version,
        };
        self.last = Some(sdp.clone());
        sdp
    }
}

fn audio_answer(negotiated: &NegotiatedMedia, port: u16) -> MediaDescription {
    let codec = negotiated.codec;
    let mut formats = vec![codec.payload_type().to_string()];
    let mut attributes = vec![attr(
        "rtpmap",
        format!("{} {}/{}", codec.payload_type(), codec.name(), CLOCK_RATE),
    )];
    if let Some(pt) = negotiated.telephone_event {
        formats.push(pt.to_string());
        attributes.push(attr("rtpmap", format!("{pt} telephone-event/{CLOCK_RATE}")));
        attributes.push(attr("fmtp", format!("{pt} 0-15")));
    }
    attributes.push(attr("ptime", OUR_PTIME_MS.to_string()));
    attributes.push(Attribute::new(
        negotiated.remote_direction.answer().as_str().to_owned(),
        None,
    ));
    MediaDescription {
        media_name: MediaName {
            media: "audio".to_owned(),
            port: RangedPort {
                value: port as isize, // lossless: isize has at least 32 bits on our targets
                range: None,
            },
            protos: vec!["RTP".to_owned(), "AVP".to_owned()],
            formats,
        },
        media_title: None,
        connection_information: None,
        bandwidth: vec![],
        encryption_key: None,
        attributes,
    }
}

fn rejected_line(line: &OfferedLine) -> MediaDescription {
    MediaDescription {
        media_name: MediaName {
            media: line.media.clone(),
            port: RangedPort {
                value: 0,
                range: None,
            },
            protos: line.proto.split('/').map(str::to_owned).collect(),
            formats: line.formats.clone(),
        },
        media_title: None,
        connection_information: None,
        bandwidth: vec![],
        encryption_key: None,
        attributes: vec![],
    }
}

fn attr(key: &str, value: String) -> Attribute {
    Attribute::new(key.to_owned(), Some(value))
}

#[cfg(test)]
mod tests {
    //! Proves offer parsing picks codec/DTMF/address as RFC 3264 says, rejects bad offers
    //! with the right error (never a panic), and that our answer parses back consistently.
    use super::*;

    fn offer(media_and_attrs: &str) -> String {
        format!(
            "v=0\r\no=caller 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n{media_and_attrs}"
        )
    }

    /// Random mutations tried per run (kept small: the suite runs on a shared 2-core box).
    const ITERATIONS: usize = 3000;

    const BARESIP_LIKE: &str = "m=audio 40000 RTP/AVP 8 0 101\r\n\
        a=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n\
        a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n";

    #[test]
    fn picks_codec_dtmf_and_address() {
        struct Case {
            name: &'static str,
            sdp: String,
            codec: Codec,
            dtmf: Option<u8>,
            remote: Option<&'static str>,
            direction: Direction,
        }
        let cases = [
            Case {
                name: "PCMA preferred, with telephone-event",
                sdp: offer(BARESIP_LIKE),
                codec: Codec::Pcma,
                dtmf: Some(101),
                remote: Some("192.0.2.10:40000"),
                direction: Direction::SendRecv,
            },
            Case {
                name: "PCMU first, G.729 ignored, no rtpmap for static types",
                sdp: offer("m=audio 5004 RTP/AVP 18 0 8\r\n"),
                codec: Codec::Pcmu,
                dtmf: None,
                remote: Some("192.0.2.10:5004"),
                direction: Direction::SendRecv,
            },
            Case {
                name: "media-level c= overrides session level; other dynamic PT",
                sdp: offer(
                    "m=audio 6000 RTP/AVP 0 96\r\nc=IN IP4 198.51.100.7\r\n\
                     a=rtpmap:96 telephone-event/8000\r\n",
                ),
                codec: Codec::Pcmu,
                dtmf: Some(96),
                remote: Some("198.51.100.7:6000"),
                direction: Direction::SendRecv,
            },
            Case {
                name: "telephone-event at 16 kHz is not usable",
                sdp: offer("m=audio 6000 RTP/AVP 8 97\r\na=rtpmap:97 telephone-event/16000\r\n"),
                codec: Codec::Pcma,
                dtmf: None,
                remote: Some("192.0.2.10:6000"),
                direction: Direction::SendRecv,
            },
            Case {
                name: "hold with c=0.0.0.0 and sendonly",
                sdp: offer("m=audio 6000 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\na=sendonly\r\n"),
                codec: Codec::Pcmu,
                dtmf: None,
                remote: None,
                direction: Direction::SendOnly,
            },
            Case {
                name: "session-level inactive",
                sdp:
                    "v=0\r\no=- 1 1 IN IP6 2001:db8::1\r\ns=-\r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\n\
                      a=inactive\r\nm=audio 7000 RTP/AVP 8\r\n"
                        .to_owned(),
                codec: Codec::Pcma,
                dtmf: None,
                remote: Some("[2001:db8::1]:7000"),
                direction: Direction::Inactive,
            },
            Case {
                name: "disabled first audio, video before; second audio used",
                sdp: offer(
                    "m=video 9000 RTP/AVP 96\r\nm=audio 0 RTP/AVP 0\r\nm=audio 7002 RTP/AVP 8\r\n",
                ),
                codec: Codec::Pcma,
                dtmf: None,
                remote: Some("192.0.2.10:7002"),
                direction: Direction::SendRecv,
            },
            Case {
                name: "bare LF line endings",
                sdp: offer(BARESIP_LIKE).replace("\r\n", "\n"),
                codec: Codec::Pcma,
                dtmf: Some(101),
                remote: Some("192.0.2.10:40000"),
                direction: Direction::SendRecv,
            },
        ];
        for case in cases {
            let got = negotiate(&case.sdp).unwrap_or_else(|e| panic!("{}: {e}", case.name));
            assert_eq!(got.codec, case.codec, "{}", case.name);
            assert_eq!(got.telephone_event, case.dtmf, "{}", case.name);
            assert_eq!(
                got.remote_rtp,
                case.remote.map(|r| r.parse().unwrap()),
                "{}",
                case.name
            );
            assert_eq!(got.remote_direction, case.direction, "{}", case.name);
        }
    }

    #[test]
    fn real_client_offers_negotiate() {
        let cases = [
            (
                "baresip-1.0.0-offer.sdp",
                Codec::Pcmu,
                Some(101),
                "192.0.2.2:10112",
            ),
            ("sipp-uac-offer.sdp", Codec::Pcmu, None, "127.0.0.1:6000"),
            (
                "sipp-uac_pcap-offer.sdp",
                Codec::Pcma,
                Some(101),
                "127.0.0.1:6000",
            ),
        ];
        for (file, codec, dtmf, remote) in cases {
            let path = format!("{}/fixtures/sdp/{file}", env!("CARGO_MANIFEST_DIR"));
            let sdp = std::fs::read_to_string(&path).unwrap();
            let got = negotiate(&sdp).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(got.codec, codec, "{file}");
            assert_eq!(got.telephone_event, dtmf, "{file}");
            assert_eq!(got.remote_rtp, Some(remote.parse().unwrap()), "{file}");
            assert_eq!(got.remote_direction, Direction::SendRecv, "{file}");
        }
    }

    #[test]
    fn rejects_bad_offers_with_distinct_errors() {
        type Check = fn(&SdpError) -> bool;
        let cases: Vec<(&str, String, Check)> = vec![
            ("garbage", "hello world".into(), |e| {
                matches!(e, SdpError::Malformed { .. })
            }),
            ("empty", String::new(), |e| {
                matches!(e, SdpError::Malformed { .. })
            }),
            (
                "port too large",
                offer("m=audio 70000 RTP/AVP 0\r\n"),
                |e| matches!(e, SdpError::Malformed { .. }),
            ),
            ("negative port", offer("m=audio -5 RTP/AVP 0\r\n"), |e| {
                matches!(e, SdpError::Malformed { .. })
            }),
            ("no media", offer(""), |e| matches!(e, SdpError::NoAudio)),
            ("video only", offer("m=video 9000 RTP/AVP 96\r\n"), |e| {
                matches!(e, SdpError::NoAudio)
            }),
            ("port 0", offer("m=audio 0 RTP/AVP 0\r\n"), |e| {
                matches!(e, SdpError::AudioDisabled)
            }),
            (
                "SRTP only",
                offer("m=audio 5004 RTP/SAVP 0\r\n"),
                |e| matches!(e, SdpError::UnsupportedTransport { proto } if proto == "RTP/SAVP"),
            ),
            (
                "G.729 only",
                offer("m=audio 5004 RTP/AVP 18 101\r\n"),
                |e| matches!(e, SdpError::NoCommonCodec { offered } if offered == &["18", "101"]),
            ),
            (
                "rtpmap lies about PT 0",
                offer("m=audio 5004 RTP/AVP 0\r\na=rtpmap:0 opus/48000\r\n"),
                |e| matches!(e, SdpError::NoCommonCodec { .. }),
            ),
            (
                "no c= anywhere",
                "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 5004 RTP/AVP 0\r\n"
                    .into(),
                |e| matches!(e, SdpError::MissingConnection),
            ),
            (
                "hostname",
                offer("m=audio 5004 RTP/AVP 0\r\nc=IN IP4 pbx.example.com\r\n"),
                |e| matches!(e, SdpError::InvalidConnectionAddress { .. }),
            ),
            (
                "multicast",
                offer("m=audio 5004 RTP/AVP 0\r\nc=IN IP4 224.2.1.1/127\r\n"),
                |e| matches!(e, SdpError::InvalidConnectionAddress { .. }),
            ),
            (
                "ptime 0",
                offer("m=audio 5004 RTP/AVP 0\r\na=ptime:0\r\n"),
                |e| matches!(e, SdpError::InvalidPtime { .. }),
            ),
            (
                "ptime text",
                offer("m=audio 5004 RTP/AVP 0\r\na=ptime:soon\r\n"),
                |e| matches!(e, SdpError::InvalidPtime { .. }),
            ),
        ];
        for (name, sdp, check) in cases {
            match negotiate(&sdp) {
                Ok(n) => panic!("{name}: accepted {n:?}"),
                Err(e) => assert!(check(&e), "{name}: wrong error {e:?}"),
            }
        }
    }

    #[test]
    fn no_common_codec_maps_to_488_and_garbage_to_400() {
        let e = negotiate(&offer("m=audio 5004 RTP/AVP 18\r\n")).unwrap_err();
        assert_eq!(e.sip_status(), 488);
        assert_eq!(negotiate("x").unwrap_err().sip_status(), 400);
    }

    #[test]
    fn truncated_offers_never_panic() {
        // Every prefix of a realistic offer, and a few byte-level corruptions.
        let full = offer(BARESIP_LIKE);
        for end in 0..=full.len() {
            let _ = negotiate(&full[..end]);
        }
        for (i, b) in full.bytes().enumerate() {
            if b.is_ascii_digit() || b == b' ' || b == b'=' {
                let mut s = full.clone().into_bytes();
                s[i] = b'/';
                let _ = negotiate(&String::from_utf8(s).unwrap());
            }
        }
    }

    #[test]
    fn random_mutations_never_panic() {
        use rand::rngs::StdRng;
        use rand::{RngExt, SeedableRng};
        let full = offer(BARESIP_LIKE).into_bytes();
        let alphabet = b"0123456789 =:/\r\nacmotvsIP4-";
        let mut rng = StdRng::seed_from_u64(4733);
        for _ in 0..ITERATIONS {
            let mut s = full.clone();
            for _ in 0..rng.random_range(1..6) {
                let at = rng.random_range(0..s.len());
                match rng.random_range(0..3) {
                    0 => s[at] = alphabet[rng.random_range(0..alphabet.len())],
                    1 => {
                        s.remove(at);
                    }
                    _ => s.insert(at, alphabet[rng.random_range(0..alphabet.len())]),
                }
            }
            let _ = negotiate(&String::from_utf8_lossy(&s));
        }
    }

    #[test]
    fn answer_mirrors_offer_and_parses_back() {
        let negotiated = negotiate(&offer(
            "m=video 9000 RTP/AVP 96\r\nm=audio 40000 RTP/AVP 0 8 101\r\n\
             a=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n",
        ))
        .unwrap();
        let local: SocketAddr = "203.0.113.5:30000".parse().unwrap();
        let answer = answer_sdp(&negotiated, local, 4242);

        assert!(
            answer.starts_with("v=0\r\no=attendant 4242 4242 IN IP4 203.0.113.5\r\n"),
            "{answer}"
        );
        assert!(answer.contains("\r\nc=IN IP4 203.0.113.5\r\n"), "{answer}");
        assert!(answer.contains("\r\nm=video 0 RTP/AVP 96\r\n"), "{answer}");
        assert!(
            answer.contains("\r\nm=audio 30000 RTP/AVP 0 101\r\n"),
            "{answer}"
        );
        for line in [
            "a=rtpmap:0 PCMU/8000",
            "a=rtpmap:101 telephone-event/8000",
            "a=fmtp:101 0-15",
            "a=ptime:20",
            "a=recvonly",
        ] {
            assert!(
                answer.contains(&format!("\r\n{line}\r\n")),
                "missing {line}: {answer}"
            );
        }
        assert!(!answer.contains("PCMA"), "{answer}");

        // Our answer is itself valid SDP that negotiates to the same choices.
        let back = negotiate(&answer).unwrap();
        assert_eq!(back.codec, Codec::Pcmu);
        assert_eq!(back.telephone_event, Some(101));
        assert_eq!(back.remote_rtp, Some(local));
        assert_eq!(back.remote_direction, Direction::RecvOnly);
        assert_eq!(back.remote_ptime_ms, Some(20));
    }

    #[test]
    fn reanswer_keeps_session_id_and_bumps_version() {
        let negotiated = negotiate(&offer("m=audio 5004 RTP/AVP 8\r\n")).unwrap();
        let answer = answer_sdp_version(&negotiated, "192.0.2.1:30000".parse().unwrap(), 77, 78);
        assert!(
            answer.contains("\r\no=attendant 77 78 IN IP4 192.0.2.1\r\n"),
            "{answer}"
        );
    }

    #[test]
    fn answer_without_telephone_event_lists_only_the_codec() {
        let negotiated = negotiate(&offer("m=audio 5004 RTP/AVP 8\r\n")).unwrap();
        let answer = answer_sdp(&negotiated, "[2001:db8::5]:30002".parse().unwrap(), 1);
        assert!(answer.contains("\r\nc=IN IP6 2001:db8::5\r\n"), "{answer}");
        assert!(
            answer.contains("\r\nm=audio 30002 RTP/AVP 8\r\n"),
            "{answer}"
        );
        assert!(answer.contains("\r\na=sendrecv\r\n"), "{answer}");
        assert!(
            !answer.contains("telephone-event") && !answer.contains("fmtp"),
            "{answer}"
        );
    }

    #[test]
    fn send_and_receive_expectations_follow_direction() {
        let hold = negotiate(&offer(
            "m=audio 6000 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\na=sendonly\r\n",
        ))
        .unwrap();
        assert!(!hold.we_send());
        assert!(hold.peer_sends());
        let normal = negotiate(&offer(BARESIP_LIKE)).unwrap();
        assert!(normal.we_send() && normal.peer_sends());
        assert_eq!(normal.remote_ptime_ms, Some(20));
    }

    #[test]
    fn local_sdp_bumps_the_version_only_when_our_sdp_changes() {
        let local: SocketAddr = "192.0.2.1:30000".parse().unwrap();
        let active = negotiate(&offer("m=audio 5004 RTP/AVP 8\r\n")).unwrap();
        let hold = negotiate(&offer("m=audio 5004 RTP/AVP 8\r\na=sendonly\r\n")).unwrap();
        let inactive = negotiate(&offer("m=audio 5004 RTP/AVP 8\r\na=inactive\r\n")).unwrap();
        // The caller moving its own port changes nothing in our answer.
        let moved = negotiate(&offer("m=audio 6004 RTP/AVP 8\r\n")).unwrap();
        let mut sdp = LocalSdp::new(local, 500);
        let cases: [(&NegotiatedMedia, u64, &str); 6] = [
            (&active, 500, "a=sendrecv"),
            (&active, 500, "a=sendrecv"),
            (&hold, 501, "a=recvonly"),
            (&inactive, 502, "a=inactive"),
            (&active, 503, "a=sendrecv"),
            (&moved, 503, "a=sendrecv"),
        ];
        for (i, (negotiated, version, direction)) in cases.into_iter().enumerate() {
            let answer = sdp.answer(negotiated);
            assert!(answer.contains(&format!("\r\no=attendant 500 {version} IN IP4 192.0.2.1\r\n")), "step {i}: {answer}");
            assert!(answer.contains(direction), "step {i}: {answer}");
            assert_eq!(sdp.version(), version);
        }
    }

    #[test]
    fn our_offer_parses_as_an_offer_and_an_answer_to_it_is_accepted() {
        let mut sdp = LocalSdp::new("192.0.2.1:30000".parse().unwrap(), 9);
        let ours = sdp.offer();
        let back = negotiate(&ours).unwrap();
        assert_eq!(back.codec, Codec::Pcmu);
        assert_eq!(back.telephone_event, Some(OUR_TELEPHONE_EVENT_PT));
        assert_eq!(back.remote_rtp, Some("192.0.2.1:30000".parse().unwrap()));
        assert!(ours.contains("\r\nm=audio 30000 RTP/AVP 0 8 101\r\n"), "{ours}");
        assert_eq!(sdp.offer(), ours, "same offer, same version");

        let answer = accept_answer(&offer(
            "m=audio 7000 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n",
        ))
        .unwrap();
        assert_eq!(answer.codec, Codec::Pcma);
        assert_eq!(answer.remote_rtp, Some("192.0.2.10:7000".parse().unwrap()));
        let refused = accept_answer(&offer("m=audio 7000 RTP/AVP 18\r\n")).unwrap_err();
        assert_eq!(refused.sip_status(), 488);

        let waiting = NegotiatedMedia::awaiting_answer();
        assert!(!waiting.we_send() && !waiting.peer_sends());
    }
}
