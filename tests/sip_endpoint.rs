//! The SIP user agent alone (no runtime) against SIPp: answer, INFO digits,
//! REFER with 202 and sipfrag NOTIFY, our BYE, rejection, CANCEL, caller BYE,
//! missing ACK, OPTIONS probes, out-of-dialog requests and garbage datagrams.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use attendant::sip::{IncomingCall, Rejection, SipEndpoint, SipEvent, SipSettings};
use common::Sipp;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const LIMIT: Duration = Duration::from_secs(20);

const ANSWER: &str = "v=0\r\no=attendant 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n";

struct Server {
    endpoint: SipEndpoint,
    calls: mpsc::Receiver<IncomingCall>,
    cancel: CancellationToken,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

async fn start(ack_timeout: Duration) -> Server {
    start_with(SipSettings {
        udp: "127.0.0.1:0".parse().unwrap(),
        ack_timeout,
        ..SipSettings::default()
    })
    .await
}

async fn start_with(settings: SipSettings) -> Server {
    let cancel = CancellationToken::new();
    let (endpoint, calls) = SipEndpoint::start(&settings, cancel.clone())
        .await
        .expect("start the SIP endpoint");
    Server {
        endpoint,
        calls,
        cancel,
    }
}

impl Server {
    fn addr(&self) -> SocketAddr {
        self.endpoint.udp_addr()
    }

    async fn next_call(&mut self) -> IncomingCall {
        tokio::time::timeout(LIMIT, self.calls.recv())
            .await
            .expect("no INVITE reached the runtime in time")
            .expect("endpoint stopped")
    }
}

async fn next_event(call: &mut attendant::sip::SipCall) -> SipEvent {
    tokio::time::timeout(LIMIT, call.next_event())
        .await
        .expect("no SIP event in time")
        .expect("call task ended without a terminal event")
}

#[tokio::test]
async fn answered_call_reports_info_digit_transfer_and_ends_with_our_bye() {
    let mut server = start(Duration::from_secs(8)).await;
    let sipp = Sipp::uac("sip_layer_uac.xml", server.addr(), "1000", &[]);
    let mut incoming = server.next_call().await;
    assert_eq!(incoming.dialled.as_deref(), Some("1000"));
    assert_eq!(incoming.caller.as_deref(), Some("0611223344"));
    assert!(incoming.offer.as_deref().unwrap_or_default().contains("PCMU/8000"));

    let call = &mut incoming.call;
    call.ring().unwrap();
    call.accept(ANSWER.to_string()).unwrap();
    assert_eq!(next_event(call).await, SipEvent::Answered);
    assert_eq!(next_event(call).await, SipEvent::Digit('5'));
    call.refer(
        "sip:201@pbx.example".to_string(),
        Some("sip:attendant@127.0.0.1".to_string()),
    )
    .unwrap();
    // The 202 and the NOTIFY race (they travel on separate transactions).
    let mut events = vec![next_event(call).await, next_event(call).await];
    events.sort_by_key(|e| format!("{e:?}"));
    assert_eq!(
        events,
        vec![
            SipEvent::ReferAccepted { status: 202 },
            SipEvent::TransferProgress {
                status: 200,
                subscription_terminated: true
            },
        ]
    );
    call.hangup().unwrap();
    assert_eq!(next_event(call).await, SipEvent::LocalHangup);
    sipp.expect_success(LIMIT).await;
    assert_eq!(call.next_event().await, None, "no event after the terminal one");
}

#[tokio::test]
async fn rejected_invite_gets_the_runtime_status() {
    for (scenario, rejection) in [
        ("uac_rejected_404.xml", Rejection::NotFound),
        ("uac_rejected_488.xml", Rejection::NotAcceptableHere),
    ] {
        let mut server = start(Duration::from_secs(8)).await;
        let sipp = Sipp::uac(scenario, server.addr(), "9999", &[]);
        let mut incoming = server.next_call().await;
        incoming.call.reject(rejection).unwrap();
        assert_eq!(
            next_event(&mut incoming.call).await,
            SipEvent::LocalHangup,
            "{scenario}"
        );
        sipp.expect_success(LIMIT).await;
    }
}

#[tokio::test]
async fn cancel_before_answer_is_reported() {
    let mut server = start(Duration::from_secs(8)).await;
    let sipp = Sipp::uac("uac_cancel.xml", server.addr(), "1000", &[]);
    let mut incoming = server.next_call().await;
    incoming.call.ring().unwrap();
    assert_eq!(next_event(&mut incoming.call).await, SipEvent::Cancelled);
    sipp.expect_success(LIMIT).await;
    // Answering after the CANCEL is refused: the call is gone.
    assert!(incoming.call.accept(ANSWER.to_string()).is_err());
}

#[tokio::test]
async fn caller_bye_is_answered_and_reported() {
    let mut server = start(Duration::from_secs(8)).await;
    let sipp = Sipp::uac("uac_caller_bye.xml", server.addr(), "1000", &[]);
    let mut incoming = server.next_call().await;
    incoming.call.accept(ANSWER.to_string()).unwrap();
    assert_eq!(next_event(&mut incoming.call).await, SipEvent::Answered);
    assert_eq!(next_event(&mut incoming.call).await, SipEvent::RemoteHangup);
    sipp.expect_success(LIMIT).await;
}

#[tokio::test]
async fn missing_ack_tears_the_dialog_down_with_bye() {
    let mut server = start(Duration::from_millis(1500)).await;
    let sipp = Sipp::uac("uac_no_ack.xml", server.addr(), "1000", &[]);
    let mut incoming = server.next_call().await;
    incoming.call.accept(ANSWER.to_string()).unwrap();
    assert_eq!(next_event(&mut incoming.call).await, SipEvent::AckTimeout);
    sipp.expect_success(LIMIT).await;
}

#[tokio::test]
async fn dropping_an_undecided_call_rejects_it() {
    let mut server = start(Duration::from_secs(8)).await;
    // 480 is not in a scenario of its own: the 404 one fails on it, proving an answer came.
    let sipp = Sipp::uac("uac_rejected_404.xml", server.addr(), "1000", &[]);
    drop(server.next_call().await);
    let logs = sipp.expect_failure(LIMIT).await;
    assert!(logs.contains("SIP/2.0 480"), "no 480 in SIPp's logs:\n{logs}");
}

#[tokio::test]
async fn out_of_dialog_requests_get_rfc_answers_even_after_garbage() {
    let server = start(Duration::from_secs(8)).await;
    let garbage = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let datagrams: [&[u8]; 5] = [
        b"\x00\x01\x02\x03 not sip at all \xff\xfe",
        b"INVITE\r\n\r\n",
        b"FOO sip:x@y SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4\r\n\r\n",
        b"SIP/2.0 200 OK\r\nCSeq: banana\r\n\r\n",
        &[0x80u8; 1400],
    ];
    for datagram in datagrams {
        garbage.send_to(datagram, server.addr()).await.unwrap();
    }
    let sipp = Sipp::uac("uac_out_of_dialog.xml", server.addr(), "1000", &[]);
    sipp.expect_success(LIMIT).await;
}

#[tokio::test]
async fn call_over_tcp_is_answered_and_hung_up_by_the_caller() {
    let port = common::free_udp_tcp_port();
    let tcp: SocketAddr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut server = start_with(SipSettings {
        udp: "127.0.0.1:0".parse().unwrap(),
        tcp: Some(tcp),
        ..SipSettings::default()
    })
    .await;
    let sipp = Sipp::uac("uac_caller_bye.xml", tcp, "1000", &["-t", "t1"]);
    let mut incoming = server.next_call().await;
    incoming.call.accept(ANSWER.to_string()).unwrap();
    assert_eq!(next_event(&mut incoming.call).await, SipEvent::Answered);
    assert_eq!(next_event(&mut incoming.call).await, SipEvent::RemoteHangup);
    sipp.expect_success(LIMIT).await;
}
