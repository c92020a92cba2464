//! What real PBXs and trunks send, against an in-process attendant: a delayed
//! offer (answer in the ACK) that completes a transfer; hold and resume by
//! re-INVITE (RTP stops and starts again, the `o=` version moves only when our
//! SDP changes) and by UPDATE; the caller's media moved to a new port (RTP
//! follows, keys from the new port are heard); a call that starts with
//! `c=0.0.0.0`; a caller behind NAT on a symmetric-RTP trunk; a merged INVITE
//! (482); a 488 that says why in `Warning`. SIPp where it can, a raw UDP
//! client where SIPp cannot (two RTP sockets, timing of RTP; SIPp plays its
//! pcaps from the port its SDP names, so it cannot act a caller behind NAT).

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use attendant::flow::Prompt;
use common::Sipp;
use common::attendant::{self as harness, TestOptions, start};
use common::capture::Capture;
use common::raw_sip::{ANSWER_WAIT, Dialog, RawPeer, header, status};
use tokio::net::UdpSocket;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delayed_offer_with_the_answer_in_the_ack_completes_a_transfer() {
    let attendant = start(TestOptions::default()).await;
    let capture = Capture::start(&attendant.rtp.capture_filter()).await;
    let sipp = Sipp::uac(
        "pbx_delayed_offer_transfer.xml",
        attendant.sip,
        harness::STORE_NUMBER,
        &[],
    );
    let media_port = sipp.media_port;
    sipp.expect_success(Duration::from_secs(30)).await;
    let datagrams = capture.stop().await;
    assert_eq!(
        harness::prompts_heard(&datagrams, media_port),
        vec![Prompt::Greeting, Prompt::Menu, Prompt::Transferring],
        "prompts the caller heard, at the address of its answer"
    );
    attendant.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_and_resume_by_reinvite_then_a_key_transfers() {
    let attendant = start(TestOptions::default()).await;
    let sipp = Sipp::uac(
        "pbx_hold_resume_transfer.xml",
        attendant.sip,
        harness::STORE_NUMBER,
        &[],
    );
    sipp.expect_success(Duration::from_secs(30)).await;
    attendant.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merged_invite_gets_482_and_makes_no_second_call() {
    let attendant = start(TestOptions::default()).await;
    let sipp = Sipp::uac(
        "pbx_merged_invite_482.xml",
        attendant.sip,
        harness::STORE_NUMBER,
        &[],
    );
    sipp.expect_success(Duration::from_secs(30)).await;
    // The one call ended with the caller's BYE: no second dialog is left over.
    let deadline = tokio::time::Instant::now() + ANSWER_WAIT;
    while attendant.active_dialogs() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(attendant.active_dialogs(), 0);
    attendant.stop().await;
}

/// An SDP offer for RTP at `rtp` with this direction attribute.
fn offer_at(rtp: SocketAddr, direction: &str) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na={direction}\r\n",
        ip = rtp.ip(),
        port = rtp.port()
    )
}

/// re-INVITE (or UPDATE) with `sdp`; for an INVITE, the ACK too. Returns the answer.
async fn renegotiate(peer: &RawPeer, dialog: &mut Dialog, method: &str, sdp: &str) -> String {
    dialog.cseq += 1;
    let extra = format!(
        "Contact: <sip:caller@127.0.0.1:{}>\r\nContent-Type: application/sdp\r\n",
        peer.port()
    );
    let response = peer
        .transact(
            &peer.in_dialog(dialog, dialog.cseq, method, &extra, sdp),
            method,
        )
        .await;
    if method == "INVITE" {
        peer.send(
            peer.in_dialog(dialog, dialog.cseq, "ACK", "", "")
                .as_bytes(),
        )
        .await;
    }
    response
}

/// The `o=` version and the direction attribute of an SDP answer.
fn version_and_direction(response: &str) -> (u64, String) {
    let (_, body) = response.split_once("\r\n\r\n").expect("a body");
    let version = body
        .lines()
        .find_map(|l| l.strip_prefix("o="))
        .and_then(|o| o.split(' ').nth(2))
        .and_then(|v| v.parse().ok())
        .expect("o= version");
    let direction = body
        .lines()
        .filter_map(|l| l.strip_prefix("a="))
        .find(|a| matches!(*a, "sendrecv" | "sendonly" | "recvonly" | "inactive"))
        .expect("a direction")
        .to_string();
    (version, direction)
}

/// Whether RTP reaches `socket` within `wait` (older datagrams are read first).
async fn rtp_arrives(socket: &UdpSocket, wait: Duration) -> bool {
    let mut buf = [0u8; 1500];
    tokio::time::timeout(wait, socket.recv_from(&mut buf))
        .await
        .is_ok()
}

/// Read what is queued, then whether the socket stays silent for `quiet`.
async fn stays_silent(socket: &UdpSocket, quiet: Duration) -> bool {
    // Frames sent before the change may still be in flight: 200 ms to drain them.
    let drain_until = tokio::time::Instant::now() + Duration::from_millis(200);
    let mut buf = [0u8; 1500];
    while tokio::time::timeout_at(drain_until, socket.recv_from(&mut buf))
        .await
        .is_ok()
    {}
    !rtp_arrives(socket, quiet).await
}

/// Key 1 as RFC 4733 telephone-event packets (PT 101) from `socket` to `to`.
async fn press_1(socket: &UdpSocket, to: SocketAddr) {
    for (i, end) in [(0u16, false), (1, false), (2, true), (3, true), (4, true)] {
        let mut packet = vec![0x80, 101 | if i == 0 { 0x80 } else { 0 }];
        packet.extend_from_slice(&(1000 + i).to_be_bytes());
        packet.extend_from_slice(&8000u32.to_be_bytes());
        packet.extend_from_slice(&0x1234_5678u32.to_be_bytes());
        packet.extend_from_slice(&[1, if end { 0x8a } else { 0x0a }]);
        packet.extend_from_slice(&(160 * (i + 1)).to_be_bytes());
        socket.send_to(&packet, to).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The key was heard: the attendant REFERs the call to ext 201 (answered 202).
async fn expect_refer_to_201(peer: &RawPeer) {
    let refer = peer
        .request("REFER", Duration::from_secs(5))
        .await
        .expect("a REFER after key 1");
    assert!(
        header(&refer, "Refer-To").is_some_and(|to| to.contains("sip:201@")),
        "{refer}"
    );
    peer.answer(&refer, 202, "Accepted").await;
}

/// Let the greeting start, as a caller would, before pressing a key.
async fn after_greeting() {
    tokio::time::sleep(Duration::from_millis(600)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hold_stops_our_rtp_and_resume_restarts_it_with_versions_bumped_only_on_change() {
    let attendant = start(TestOptions::default()).await;
    let peer = RawPeer::new(attendant.sip).await;
    let mut dialog = peer.answered_call("hold-raw").await;
    let ours = peer.rtp.local_addr().unwrap();
    assert!(
        rtp_arrives(&peer.rtp, ANSWER_WAIT).await,
        "RTP once answered"
    );

    let same = renegotiate(&peer, &mut dialog, "INVITE", &peer.offer()).await;
    assert_eq!(status(&same), 200, "{same}");
    let (v0, direction) = version_and_direction(&same);
    assert_eq!(direction, "sendrecv");

    let hold = renegotiate(&peer, &mut dialog, "INVITE", &offer_at(ours, "sendonly")).await;
    assert_eq!(status(&hold), 200, "{hold}");
    assert!(
        header(&hold, "Allow").is_some_and(|a| a.contains("UPDATE")),
        "{hold}"
    );
    let (v1, direction) = version_and_direction(&hold);
    assert_eq!((v1, direction.as_str()), (v0 + 1, "recvonly"), "{hold}");
    assert!(
        stays_silent(&peer.rtp, Duration::from_secs(1)).await,
        "no RTP to a caller on hold"
    );

    let inactive = renegotiate(&peer, &mut dialog, "UPDATE", &offer_at(ours, "inactive")).await;
    assert_eq!(status(&inactive), 200, "{inactive}");
    let (v2, direction) = version_and_direction(&inactive);
    assert_eq!((v2, direction.as_str()), (v1 + 1, "inactive"), "{inactive}");
    assert!(
        stays_silent(&peer.rtp, Duration::from_millis(600)).await,
        "no RTP while inactive"
    );

    let resume = renegotiate(&peer, &mut dialog, "UPDATE", &offer_at(ours, "sendrecv")).await;
    let (v3, direction) = version_and_direction(&resume);
    assert_eq!((v3, direction.as_str()), (v2 + 1, "sendrecv"), "{resume}");
    assert!(
        rtp_arrives(&peer.rtp, ANSWER_WAIT).await,
        "RTP again after resume"
    );
    let again = renegotiate(&peer, &mut dialog, "INVITE", &offer_at(ours, "sendrecv")).await;
    assert_eq!(
        version_and_direction(&again).0,
        v3,
        "nothing changed on our side: same version"
    );

    press_1(&peer.rtp, dialog.remote_rtp).await;
    expect_refer_to_201(&peer).await;
    peer.hang_up(&mut dialog).await;
    attendant.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_moved_to_a_new_port_is_followed_and_its_keys_heard() {
    let attendant = start(TestOptions::default()).await;
    let peer = RawPeer::new(attendant.sip).await;
    let mut dialog = peer.answered_call("move-raw").await;
    assert!(rtp_arrives(&peer.rtp, ANSWER_WAIT).await);

    let moved = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let answer = renegotiate(
        &peer,
        &mut dialog,
        "INVITE",
        &offer_at(moved.local_addr().unwrap(), "sendrecv"),
    )
    .await;
    assert_eq!(status(&answer), 200, "{answer}");
    assert!(
        rtp_arrives(&moved, ANSWER_WAIT).await,
        "our RTP goes to the new port"
    );
    assert!(
        stays_silent(&peer.rtp, Duration::from_millis(500)).await,
        "and no longer to the old one"
    );

    after_greeting().await;
    press_1(&moved, dialog.remote_rtp).await;
    expect_refer_to_201(&peer).await;
    peer.hang_up(&mut dialog).await;
    attendant.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_starting_on_0_0_0_0_gets_media_once_a_reinvite_gives_an_address() {
    let attendant = start(TestOptions::default()).await;
    let peer = RawPeer::new(attendant.sip).await;
    let port = peer.rtp.local_addr().unwrap().port();
    let nowhere = offer_at(SocketAddr::from(([0, 0, 0, 0], port)), "sendrecv");
    let response = peer.call_with("zero-raw", &nowhere).await;
    assert_eq!(status(&response), 200, "{response}");
    let to = header(&response, "To").unwrap();
    let contact = header(&response, "Contact").unwrap();
    let (_, body) = response.split_once("\r\n\r\n").unwrap();
    let our_port: u16 = body
        .lines()
        .find_map(|l| l.strip_prefix("m=audio "))
        .and_then(|l| l.split(' ').next())
        .unwrap()
        .parse()
        .unwrap();
    let mut dialog = Dialog {
        call_id: "zero-raw".to_string(),
        from: format!("<sip:0612345678@127.0.0.1:{}>;tag=caller", peer.port()),
        to,
        contact: contact
            .trim_start_matches('<')
            .split('>')
            .next()
            .unwrap()
            .to_string(),
        remote_rtp: SocketAddr::from(([127, 0, 0, 1], our_port)),
        cseq: 1,
    };
    peer.send(peer.in_dialog(&dialog, 1, "ACK", "", "").as_bytes())
        .await;
    assert!(
        stays_silent(&peer.rtp, Duration::from_secs(1)).await,
        "no address, no RTP"
    );

    let answer = renegotiate(&peer, &mut dialog, "INVITE", &peer.offer()).await;
    assert_eq!(status(&answer), 200, "{answer}");
    assert!(
        rtp_arrives(&peer.rtp, ANSWER_WAIT).await,
        "RTP once the address is known"
    );
    after_greeting().await;
    press_1(&peer.rtp, dialog.remote_rtp).await;
    expect_refer_to_201(&peer).await;
    peer.hang_up(&mut dialog).await;
    attendant.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_behind_nat_is_heard_on_a_symmetric_rtp_trunk() {
    let trunk: attendant::config::TrunkConfig = toml::from_str(
        "name = \"nat-pbx\"\nnetworks = [\"127.0.0.0/8\"]\nsymmetric_rtp = true\nlatch_window_ms = 10000\n",
    )
    .unwrap();
    let attendant = start(TestOptions {
        trunks: vec![trunk],
        ..TestOptions::default()
    })
    .await;
    let peer = RawPeer::new(attendant.sip).await;
    // The SDP names peer.rtp; the NAT sends from another port.
    let mut dialog = peer.answered_call("nat-raw").await;
    let nat = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    after_greeting().await;
    press_1(&nat, dialog.remote_rtp).await;
    expect_refer_to_201(&peer).await;
    assert!(
        rtp_arrives(&nat, ANSWER_WAIT).await,
        "our RTP follows the latched source"
    );
    peer.hang_up(&mut dialog).await;
    attendant.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_symmetric_rtp_keys_from_another_port_are_not_heard() {
    let attendant = start(TestOptions::default()).await;
    let peer = RawPeer::new(attendant.sip).await;
    let mut dialog = peer.answered_call("no-nat-raw").await;
    let nat = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    after_greeting().await;
    press_1(&nat, dialog.remote_rtp).await;
    assert!(
        peer.request("REFER", Duration::from_secs(2))
            .await
            .is_none(),
        "a stranger's key is ignored"
    );
    // The same key from the SDP's port is heard.
    press_1(&peer.rtp, dialog.remote_rtp).await;
    expect_refer_to_201(&peer).await;
    peer.hang_up(&mut dialog).await;
    attendant.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_say_why_in_warning_and_a_bad_reoffer_leaves_the_call_up() {
    let attendant = start(TestOptions::default()).await;
    let peer = RawPeer::new(attendant.sip).await;
    let g729 = peer
        .offer()
        .replace("RTP/AVP 0 101", "RTP/AVP 18 101")
        .replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:18 G729/8000");
    let refused = peer.call_with("warning-raw", &g729).await;
    assert_eq!(status(&refused), 488, "{refused}");
    let warning = header(&refused, "Warning").expect("a Warning on the 488");
    assert!(
        warning.starts_with("305 attendant \"no G.711 codec"),
        "{warning}"
    );
    // ACK the 488 (same branch as the INVITE).
    let to = header(&refused, "To").expect("To in the 488");
    let ack = peer
        .invite("warning-raw", "")
        .replacen("INVITE sip:", "ACK sip:", 1)
        .replace("CSeq: 1 INVITE", "CSeq: 1 ACK")
        .replace("To: <sip:1000@127.0.0.1>", &format!("To: {to}"));
    peer.send(ack.as_bytes()).await;

    let mut dialog = peer.answered_call("reoffer-raw").await;
    let answered = renegotiate(&peer, &mut dialog, "INVITE", &g729).await;
    assert_eq!(status(&answered), 488, "{answered}");
    assert!(
        header(&answered, "Warning").is_some_and(|w| w.starts_with("305 ")),
        "{answered}"
    );
    assert!(
        rtp_arrives(&peer.rtp, ANSWER_WAIT).await,
        "the session goes on as before"
    );
    after_greeting().await;
    press_1(&peer.rtp, dialog.remote_rtp).await;
    expect_refer_to_201(&peer).await;
    peer.hang_up(&mut dialog).await;
    attendant.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_answer_in_the_ack_ends_the_call_with_a_bye_saying_why() {
    let attendant = start(TestOptions::default()).await;
    let peer = RawPeer::new(attendant.sip).await;
    let cases = [
        (
            "g729-answer",
            peer.offer()
                .replace("RTP/AVP 0 101", "RTP/AVP 18")
                .replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:18 G729/8000"),
            "no G.711 codec",
        ),
        ("empty-ack", String::new(), "no SDP answer in the ACK"),
    ];
    for (call_id, answer, why) in cases {
        let response = peer.call_with(call_id, "").await;
        assert_eq!(status(&response), 200, "{response}");
        assert!(
            response.contains("m=audio ") && response.contains(" RTP/AVP 0 8 101"),
            "our offer: {response}"
        );
        let dialog = Dialog {
            call_id: call_id.to_string(),
            from: format!("<sip:0612345678@127.0.0.1:{}>;tag=caller", peer.port()),
            to: header(&response, "To").unwrap(),
            contact: header(&response, "Contact")
                .unwrap()
                .trim_start_matches('<')
                .split('>')
                .next()
                .unwrap()
                .to_string(),
            remote_rtp: SocketAddr::from(([127, 0, 0, 1], 9)),
            cseq: 1,
        };
        let extra = if answer.is_empty() {
            ""
        } else {
            "Content-Type: application/sdp\r\n"
        };
        peer.send(peer.in_dialog(&dialog, 1, "ACK", extra, &answer).as_bytes())
            .await;
        let bye = peer
            .request("BYE", ANSWER_WAIT)
            .await
            .expect("a BYE for an unusable answer");
        let reason = header(&bye, "Reason").expect("the BYE says why");
        assert!(
            reason.starts_with("SIP;cause=488;text=\"") && reason.contains(why),
            "{call_id}: {reason}"
        );
        peer.answer(&bye, 200, "OK").await;
    }
    attendant.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_starting_on_0_0_0_0_gets_media_after_its_reinvite() {
    let attendant = start(TestOptions::default()).await;
    let capture = Capture::start(&attendant.rtp.capture_filter()).await;
    let sipp = Sipp::uac(
        "pbx_zero_address_then_real.xml",
        attendant.sip,
        harness::STORE_NUMBER,
        &[],
    );
    let media_port = sipp.media_port;
    sipp.expect_success(Duration::from_secs(30)).await;
    let datagrams = capture.stop().await;
    assert!(harness::prompts_heard(&datagrams, media_port).ends_with(&[Prompt::Transferring]));
    assert!(
        harness::rtp_packets_to(&datagrams, media_port) > 0,
        "RTP once the address was known"
    );
    attendant.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reinvite_without_sdp_gets_our_offer_and_the_acks_answer_moves_the_media() {
    let attendant = start(TestOptions::default()).await;
    let peer = RawPeer::new(attendant.sip).await;
    let mut dialog = peer.answered_call("reoffer-less-raw").await;
    assert!(rtp_arrives(&peer.rtp, ANSWER_WAIT).await);

    dialog.cseq += 1;
    let extra = format!("Contact: <sip:caller@127.0.0.1:{}>\r\n", peer.port());
    let response = peer
        .transact(&peer.in_dialog(&dialog, dialog.cseq, "INVITE", &extra, ""), "INVITE")
        .await;
    assert_eq!(status(&response), 200, "{response}");
    assert!(response.contains(" RTP/AVP 0 8 101\r\n"), "our offer: {response}");
    let moved = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let answer = offer_at(moved.local_addr().unwrap(), "sendrecv");
    let ack = peer.in_dialog(&dialog, dialog.cseq, "ACK", "Content-Type: application/sdp\r\n", &answer);
    peer.send(ack.as_bytes()).await;
    assert!(rtp_arrives(&moved, ANSWER_WAIT).await, "our RTP goes where the ACK's answer says");
    after_greeting().await;
    press_1(&moved, dialog.remote_rtp).await;
    expect_refer_to_201(&peer).await;
    peer.hang_up(&mut dialog).await;
    attendant.stop().await;
}
