//! Bad media input on the wire against an in-process attendant: SDP offers
//! with absurd values get 400 or 488, lying RTP packets (wrong version, CSRC
//! count, padding, extension) and DTMF events out of range are dropped while
//! the call goes on, an INFO with an out-of-range digit gets 400, and a valid
//! key press afterwards still transfers the call.

mod common;

use common::attendant::{TestOptions, start};
use common::raw_sip::{ANSWER_WAIT, RawPeer, status};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absurd_sdp_offers_are_refused_with_the_right_status() {
    let attendant = start(TestOptions::default()).await;
    let peer = RawPeer::new(attendant.sip).await;
    let good = peer.offer();
    let port = peer.rtp.local_addr().unwrap().port();
    let cases: Vec<(&str, String, u16)> = vec![
        ("port above 65535", good.replace(&format!("m=audio {port} "), "m=audio 99999 "), 400),
        ("ptime of a day", format!("{good}a=ptime:86400000\r\n"), 400),
        ("ptime not a number", format!("{good}a=ptime:-20\r\n"), 400),
        ("connection address not an IP", good.replace("c=IN IP4 127.0.0.1", "c=IN IP4 999.1.1.1"), 400),
        ("no connection line", good.replace("c=IN IP4 127.0.0.1\r\n", ""), 400),
        ("audio disabled", good.replace(&format!("m=audio {port} "), "m=audio 0 "), 488),
        ("only unknown codecs", good.replace("RTP/AVP 0 101", "RTP/AVP 127 126").replace("a=rtpmap:0 PCMU/8000\r\n", ""), 488),
        ("SRTP only", good.replace("RTP/AVP", "RTP/SAVP"), 488),
        ("video only", good.replace("m=audio", "m=video"), 488),
        ("not SDP at all", "\u{0}\u{1}garbage=\r\n".repeat(50), 400),
        ("a thousand payload types", good.replace("RTP/AVP 0 101", &format!("RTP/AVP {}", (0..1000).map(|i| (i % 128).to_string()).collect::<Vec<_>>().join(" "))), 200),
    ];
    for (i, (name, sdp, expected)) in cases.into_iter().enumerate() {
        let call_id = format!("sdp-{i}");
        let response = peer.call_with(&call_id, &sdp).await;
        assert_eq!(status(&response), expected, "{name}: {response}");
        if expected == 200 {
            // Acknowledge and end it, so the next case starts clean.
            let to = common::raw_sip::header(&response, "To").unwrap();
            let contact = common::raw_sip::header(&response, "Contact").unwrap();
            let mut dialog = common::raw_sip::Dialog {
                call_id,
                from: format!("<sip:0612345678@127.0.0.1:{}>;tag=caller", peer.port()),
                to,
                contact: contact.trim_start_matches('<').split('>').next().unwrap().to_string(),
                remote_rtp: "127.0.0.1:9".parse().unwrap(),
                cseq: 1,
            };
            peer.send(peer.in_dialog(&dialog, 1, "ACK", "", "").as_bytes()).await;
            peer.hang_up(&mut dialog).await;
        } else {
            // Non-2xx final answers need an ACK (RFC 3261 §17.1.1.3).
            let ack = format!(
                "ACK sip:1000@127.0.0.1 SIP/2.0\r\n{}Content-Length: 0\r\n\r\n",
                peer.headers(&call_id, 1, "ACK").replace(
                    "To: <sip:1000@127.0.0.1>",
                    &format!("To: {}", common::raw_sip::header(&response, "To").unwrap())
                )
            );
            peer.send(ack.as_bytes()).await;
        }
    }
    peer.check_a_call_works("after-bad-sdp").await;
    attendant.stop().await;
}

/// An RTP packet from parts.
fn rtp(first: u8, payload_type: u8, seq: u16, timestamp: u32, payload: &[u8]) -> Vec<u8> {
    let mut packet = vec![first, payload_type];
    packet.extend_from_slice(&seq.to_be_bytes());
    packet.extend_from_slice(&timestamp.to_be_bytes());
    packet.extend_from_slice(&0x5eed_u32.to_be_bytes());
    packet.extend_from_slice(payload);
    packet
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lying_rtp_and_out_of_range_dtmf_are_dropped_and_the_call_goes_on() {
    let attendant = start(TestOptions::default()).await;
    let peer = RawPeer::new(attendant.sip).await;
    let mut dialog = peer.answered_call("bad-media").await;
    let to = dialog.remote_rtp;
    let bad_packets: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("shorter than a header", vec![0x80, 0, 0]),
        ("version 1", rtp(0x40, 0, 1, 160, &[0xff; 160])),
        ("version 0", rtp(0x00, 0, 2, 320, &[0xff; 160])),
        ("version 3", rtp(0xc0, 0, 3, 480, &[0xff; 160])),
        ("CSRC count 15, no CSRCs", rtp(0x8f, 0, 4, 640, &[0xff; 8])),
        ("padding longer than the packet", rtp(0xa0, 0, 5, 800, &[0xff, 0xff, 0xff, 200])),
        ("padding count zero", rtp(0xa0, 0, 6, 960, &[0xff, 0xff, 0xff, 0])),
        ("extension longer than the packet", rtp(0x90, 0, 7, 1120, &[0xbe, 0xde, 0xff, 0xff, 0x10])),
        ("payload type never negotiated", rtp(0x80, 99, 8, 1280, &[0xff; 160])),
        ("DTMF event 200 (out of range)", rtp(0x80, 0x80 | 101, 9, 1440, &[200, 0x0a, 0, 160])),
        ("DTMF event 16 (out of range)", rtp(0x80, 101, 10, 1600, &[16, 0x8a, 1, 64])),
        ("DTMF payload too short", rtp(0x80, 101, 11, 1760, &[1])),
    ];
    for (_, packet) in &bad_packets {
        peer.rtp.send_to(packet, to).await.unwrap();
    }
    // An INFO carrying a digit out of range is refused with 400.
    dialog.cseq += 1;
    let info = peer.in_dialog(&dialog, dialog.cseq, "INFO", "Content-Type: application/dtmf-relay\r\n", "Signal=99\r\nDuration=160\r\n");
    let response = peer.transact(&info, "INFO").await;
    assert_eq!(status(&response), 400, "{response}");

    // A real key press "1" (menu: bakery, ext 201) still transfers the call.
    for (seq, flags) in [(20u16, 0x0a_u8), (21, 0x8a), (22, 0x8a)] {
        peer.rtp.send_to(&rtp(0x80, 101, seq, 8000, &[1, flags, 0, 160]), to).await.unwrap();
    }
    let refer = peer.request("REFER", ANSWER_WAIT * 2).await.expect("no REFER after a valid key press");
    let refer_to = common::raw_sip::header(&refer, "Refer-To").unwrap_or_default();
    assert!(refer_to.contains("201@"), "{refer}");
    peer.answer(&refer, 603, "Decline").await;
    peer.hang_up(&mut dialog).await;
    peer.check_a_call_works("after-bad-media").await;
    attendant.stop().await;
}
