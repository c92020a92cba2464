//! Bodies of the `cargo fuzz` targets (fuzz/fuzz_targets/*.rs), kept in the
//! library so `cargo test` replays the committed corpus (fuzz/corpus/<target>/)
//! through exactly the same code (tests/fuzz_corpus.rs).
//!
//! Each function takes raw bytes from outside, drives one parser the way the
//! attendant does, and panics only if a property the attendant relies on
//! breaks (the parsers themselves must never panic).

use std::net::SocketAddr;

use crate::directory::import::{self, Format, ImportLimits};
use crate::media::dtmf::info::parse_info;
use crate::media::dtmf::rfc4733::{Rfc4733Decoder, TelephoneEvent};
use crate::media::g711::Codec;
use crate::media::rtp::RtpReceiver;
use crate::media::sdp::{answer_sdp, negotiate};
use crate::sip::guard::{Screened, screen};

/// A fuzz target's body: raw bytes in, a panic on a broken property.
pub type FuzzTarget = fn(&[u8]);

/// The fuzz targets by name, for the corpus replay.
pub const TARGETS: [(&str, FuzzTarget); 8] = [
    ("sip_message", sip_message),
    ("sdp", sdp),
    ("rtp", rtp),
    ("rfc4733", rfc4733),
    ("sip_info", sip_info),
    ("directory_csv", directory_csv),
    ("directory_json", directory_json),
    ("admin_body", admin_body),
];

/// A SIP datagram as the UDP transport gets it: our screen first, then
/// rsipstack's parser and the header accessors the dispatcher uses, then the
/// sipfrag parser on the body (NOTIFY). A 400/501/513 we build must itself be
/// a SIP response, and a datagram screened as fine must parse.
pub fn sip_message(data: &[u8]) {
    use rsipstack::sip::prelude::HeadersExt;
    match screen(data) {
        Screened::Answer { response, .. } => {
            let parsed = rsipstack::sip::SipMessage::try_from(response.as_slice());
            assert!(
                matches!(parsed, Ok(rsipstack::sip::SipMessage::Response(_))),
                "our answer does not parse: {:?}",
                String::from_utf8_lossy(&response)
            );
        }
        Screened::Drop { .. } => {}
        Screened::Pass => {
            if let Ok(rsipstack::sip::SipMessage::Request(request)) = rsipstack::sip::SipMessage::try_from(data) {
                // What the dispatcher and call task read from a request.
                let _ = request.to_header().ok().and_then(|to| to.tag().ok().flatten());
                let _ = request.from_header().ok().and_then(|f| f.uri().ok()).map(|u| u.user().map(str::to_string));
                let _ = request.call_id_header().map(|c| c.value().to_string());
                let _ = request.uri.user();
                // The call task's INFO and NOTIFY handling.
                let body = String::from_utf8_lossy(&request.body);
                let content_type = request.header_value("Content-Type").unwrap_or_default();
                let _ = parse_info(&content_type, &body);
                let _ = request.header_value("Subscription-State");
                let _ = crate::sip::parse_sipfrag_status(&body);
            }
        }
    }
}

/// An SDP offer: negotiate it, and answer it when it is acceptable.
pub fn sdp(data: &[u8]) {
    let offer = String::from_utf8_lossy(data);
    if let Ok(negotiated) = negotiate(&offer) {
        let local: SocketAddr = ([127, 0, 0, 1], 40_000).into();
        let answer = answer_sdp(&negotiated, local, 1);
        // Our answer must be acceptable to ourselves.
        assert!(negotiate(&answer).is_ok(), "our answer does not negotiate: {answer}");
    }
}

/// RTP datagrams into one receiver (the first byte picks codec, telephone-event
/// payload type, latching and sender; the rest is split into datagrams at
/// `|` bytes, so one input is a sequence of packets).
pub fn rtp(data: &[u8]) {
    let Some((&config, rest)) = data.split_first() else { return };
    let codec = if config & 1 == 0 { Codec::Pcmu } else { Codec::Pcma };
    let telephone_event = (config & 2 != 0).then_some(96 + (config >> 4));
    let peer: SocketAddr = ([127, 0, 0, 1], 30_000).into();
    let mut receiver = RtpReceiver::new(codec, telephone_event, (config & 4 != 0).then_some(peer));
    for datagram in rest.split(|&b| b == b'|') {
        let from = if config & 8 != 0 { ([127, 0, 0, 2], 30_000).into() } else { peer };
        let _ = receiver.handle(from, datagram);
    }
    let _ = receiver.stats();
}

/// RFC 4733 payloads: the parser, and the decoder fed 4-byte payloads with
/// timestamps taken from the input. Any digit it reports is a DTMF key.
pub fn rfc4733(data: &[u8]) {
    let _ = TelephoneEvent::parse(data);
    let mut decoder = Rfc4733Decoder::new();
    for chunk in data.chunks(6) {
        if chunk.len() < 2 {
            break;
        }
        let timestamp = u32::from(u16::from_be_bytes([chunk[0], chunk[1]]));
        if let Some(digit) = decoder.handle(timestamp, &chunk[2..]) {
            assert!(crate::media::dtmf::digit_to_event(digit).is_some(), "decoded {digit:?}");
        }
    }
}

/// A SIP INFO: first line the Content-Type, the rest the body. A digit
/// reported is a DTMF key.
pub fn sip_info(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (content_type, body) = text.split_once('\n').unwrap_or((&text, ""));
    if let Ok(digit) = parse_info(content_type, body) {
        assert!(crate::media::dtmf::digit_to_event(digit).is_some(), "decoded {digit:?}");
    }
}

/// A directory file in CSV.
pub fn directory_csv(data: &[u8]) {
    directory(data, Format::Csv);
}

/// A directory file in JSON.
pub fn directory_json(data: &[u8]) {
    directory(data, Format::Json);
}

/// An accepted import exports and re-imports to the same entries: what the
/// admin exports, the admin can import again.
fn directory(data: &[u8], format: Format) {
    let limits = ImportLimits {
        max_bytes: 64 * 1024,
        max_entries: 500,
    };
    if let Ok(entries) = import::parse(data, format, limits) {
        let exported = import::export(&entries, format);
        let again = import::parse(&exported, format, ImportLimits::default());
        assert_eq!(again.as_ref().ok(), Some(&entries), "export of {entries:?} does not re-import");
    }
}

/// An admin API request body. The first byte picks the route (store, token,
/// entry, menu, hours, CSV or JSON import), the rest is the body, read and
/// checked as the route's handler does. A refused body is a client error
/// (4xx, never a 500); an accepted one, shown back as the API shows it and
/// sent again, gives the same value; accepted opening hours that pass the
/// store's check can always answer "open now?" (the after-hours flow asks).
pub fn admin_body(data: &[u8]) {
    use crate::admin::{BodyRoute, CheckedBody, check_request_body};
    use axum::response::IntoResponse;

    let Some((&selector, body)) = data.split_first() else { return };
    let route = match selector % 7 {
        0 => BodyRoute::CreateStore,
        1 => BodyRoute::IssueToken,
        2 => BodyRoute::Entry,
        3 => BodyRoute::Menu,
        4 => BodyRoute::Hours,
        5 => BodyRoute::Import(Format::Csv),
        _ => BodyRoute::Import(Format::Json),
    };
    // A fixed instant: 2026-11-28T00:00:00Z.
    let now = jiff::Timestamp::from_second(1_795_824_000).expect("a valid instant");
    let limits = ImportLimits { max_bytes: 64 * 1024, max_entries: 500 };
    match check_request_body(route, body, now, limits) {
        Err(error) => {
            let code = error.code();
            let status = error.into_response().status();
            assert!(status.is_client_error(), "{route:?} body refused with {status} ({code})");
        }
        Ok(checked) => {
            if let CheckedBody::Token { label, expires_at } = &checked {
                assert!(!label.is_empty() && label == label.trim(), "label {label:?}");
                assert!(expires_at.is_none_or(|at| at > now), "expiry {expires_at:?} not after now");
            }
            if let CheckedBody::Hours(Some(hours)) = &checked
                && hours.validate().is_ok()
            {
                assert!(hours.is_open_at(now).is_ok(), "valid hours cannot answer: {hours:?}");
            }
            if let Some(shown) = checked.shown_as() {
                let again = check_request_body(route, &shown, now, ImportLimits::default());
                assert_eq!(again.as_ref().ok(), Some(&checked), "{route:?}: {:?} shown as {:?}", checked, String::from_utf8_lossy(&shown));
            }
        }
    }
}
