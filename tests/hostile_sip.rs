//! Bad SIP on the wire (UDP and TCP, 127.0.0.1) against an in-process
//! attendant: each malformed request gets the status RFC 3261 asks for (400,
//! 501, 513) or is dropped, SIP from untrusted networks is dropped, and after
//! all of it the next call still works.

mod common;

use std::time::Duration;

use attendant::sip::TrustedNetworks;
use common::attendant::{TestOptions, start};
use common::raw_sip::{RawPeer, header, status};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A TCP connection to the attendant. rsipstack binds its TCP listener inside
/// its serve task, shortly after `Server::start` returns: retry until it is up.
async fn connect(addr: std::net::SocketAddr) -> TcpStream {
    for _ in 0..100 {
        if let Ok(stream) = TcpStream::connect(addr).await {
            return stream;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the attendant's TCP listener never came up on {addr}");
}

/// How long a test waits to conclude a datagram was dropped unanswered.
const DROP_WAIT: Duration = Duration::from_millis(700);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_udp_requests_get_the_right_answer_and_the_next_call_works() {
    let attendant = start(TestOptions::default()).await;
    let peer = RawPeer::new(attendant.sip).await;
    let options = "OPTIONS sip:1000@127.0.0.1 SIP/2.0\r\n";
    let invite = peer.invite("trunc", &peer.offer());
    let cases: Vec<(&str, String, Option<u16>)> = vec![
        (
            "unknown method",
            format!("FROBNICATE sip:1000@127.0.0.1 SIP/2.0\r\n{}Content-Length: 0\r\n\r\n", peer.headers("m1", 1, "FROBNICATE")),
            Some(501),
        ),
        (
            "missing Call-ID",
            format!("{options}{}Content-Length: 0\r\n\r\n", peer.headers("m2", 1, "OPTIONS").replace("Call-ID: m2\r\n", "")),
            Some(400),
        ),
        (
            "missing CSeq",
            format!("{options}{}Content-Length: 0\r\n\r\n", peer.headers("m3", 1, "OPTIONS").replace("CSeq: 1 OPTIONS\r\n", "")),
            Some(400),
        ),
        (
            "missing From",
            format!("{options}{}Content-Length: 0\r\n\r\n", peer.headers("m4", 1, "OPTIONS").replace("From: ", "X-From: ")),
            Some(400),
        ),
        (
            "Content-Length larger than the body",
            format!("{options}{}Content-Length: 900\r\n\r\nv=0\r\n", peer.headers("m5", 1, "OPTIONS")),
            Some(400),
        ),
        (
            "Content-Length not a number",
            format!("{options}{}Content-Length: -3\r\n\r\n", peer.headers("m6", 1, "OPTIONS")),
            Some(400),
        ),
        (
            "oversized datagram",
            format!("{options}{}X-Padding: {}\r\nContent-Length: 0\r\n\r\n", peer.headers("m7", 1, "OPTIONS"), "p".repeat(20_000)),
            Some(513),
        ),
        ("truncated INVITE (headers cut mid-line)", invite[..invite.find("Call-ID").unwrap() + 5].to_string(), Some(400)),
        ("truncated request line", "INVITE sip:1000@127.0.".to_string(), None),
        ("binary garbage", String::from_utf8_lossy(&[0x00, 0xff, 0x13, 0x37, 0x80, 0x0a]).into_owned(), None),
        ("unparseable response", "SIP/2.0 2OO OK\r\nVia: nonsense\r\n\r\n".to_string(), None),
        ("request without Via: nobody to answer", format!("{options}Call-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n"), None),
    ];
    for (name, datagram, expected) in cases {
        peer.send(datagram.as_bytes()).await;
        let answer = peer.recv(if expected.is_some() { common::raw_sip::ANSWER_WAIT } else { DROP_WAIT }).await;
        match expected {
            Some(code) => {
                let answer = answer.unwrap_or_else(|| panic!("{name}: no answer"));
                assert_eq!(status(&answer), code, "{name}: {answer}");
                assert!(header(&answer, "Via").is_some(), "{name}: answer without Via: {answer}");
                if code == 501 {
                    assert!(header(&answer, "Allow").is_some_and(|a| a.contains("INVITE")), "{answer}");
                }
            }
            None => assert_eq!(answer, None, "{name}: expected no answer"),
        }
    }
    peer.check_a_call_works("after-udp-garbage").await;
    attendant.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_tcp_streams_are_dropped_and_the_next_call_works() {
    let attendant = start(TestOptions::default()).await;
    let tcp = attendant.sip; // same port for UDP and TCP in the test fixture
    let peer = RawPeer::new(attendant.sip).await;
    let streams: [&[u8]; 4] = [
        b"\x00\xff\x13\x37 garbage \r\n\r\n",
        b"INVITE sip:1000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK-t\r\nFrom: <sip",
        b"FROBNICATE sip:1000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK-u\r\nContent-Length: 0\r\n\r\n",
        b"OPTIONS sip:1000@127.0.0.1 SIP/2.0\r\nContent-Length: 99999999\r\n\r\nshort",
    ];
    for bytes in streams {
        let mut stream = connect(tcp).await;
        stream.write_all(bytes).await.expect("write");
        stream.shutdown().await.ok();
        // Whatever the attendant does with it (close, or nothing), it reads no answer
        // for these and never hangs the test.
        let mut sink = Vec::new();
        let _ = tokio::time::timeout(DROP_WAIT, stream.read_to_end(&mut sink)).await;
    }
    // A well-formed OPTIONS over a fresh TCP connection is still answered.
    let mut stream = connect(tcp).await;
    let port = stream.local_addr().unwrap().port();
    let options = format!(
        "OPTIONS sip:1000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:{port};branch=z9hG4bK-tcp-ok\r\n\
         From: <sip:probe@127.0.0.1>;tag=p\r\nTo: <sip:1000@127.0.0.1>\r\nCall-ID: tcp-ok\r\nCSeq: 1 OPTIONS\r\n\
         Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    );
    stream.write_all(options.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let len = tokio::time::timeout(common::raw_sip::ANSWER_WAIT, stream.read(&mut buf))
        .await
        .expect("no OPTIONS answer over TCP")
        .unwrap();
    let answer = String::from_utf8_lossy(&buf[..len]);
    assert!(answer.starts_with("SIP/2.0 200"), "{answer}");
    peer.check_a_call_works("after-tcp-garbage").await;
    attendant.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sip_from_outside_the_trusted_networks_is_dropped() {
    let cases = [
        ("loopback not trusted", TrustedNetworks::only(vec!["10.0.0.0/8".parse().unwrap()]), false),
        ("loopback trusted", TrustedNetworks::only(vec!["10.0.0.0/8".parse().unwrap(), "127.0.0.0/8".parse().unwrap()]), true),
    ];
    for (name, trusted_networks, answered) in cases {
        let attendant = start(TestOptions {
            trusted_networks,
            ..TestOptions::default()
        })
        .await;
        let peer = RawPeer::new(attendant.sip).await;
        if answered {
            peer.check_a_call_works("trusted").await;
        } else {
            // A valid call, and a malformed request the guard would otherwise answer 501.
            peer.send(peer.invite("untrusted", &peer.offer()).as_bytes()).await;
            assert_eq!(peer.recv(DROP_WAIT).await, None, "{name}: untrusted INVITE answered");
            peer.send(format!("FROBNICATE sip:1000@127.0.0.1 SIP/2.0\r\n{}\r\n", peer.headers("t2", 1, "FROBNICATE")).as_bytes())
                .await;
            assert_eq!(peer.recv(DROP_WAIT).await, None, "{name}: untrusted request answered");
            let mut stream = connect(attendant.sip).await;
            stream.write_all(peer.invite("untrusted-tcp", &peer.offer()).as_bytes()).await.ok();
            let mut buf = vec![0u8; 4096];
            let read = tokio::time::timeout(DROP_WAIT, stream.read(&mut buf)).await;
            assert!(!matches!(read, Ok(Ok(n)) if n > 0), "{name}: untrusted TCP request answered");
        }
        attendant.stop().await;
    }
}
