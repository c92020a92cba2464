//! A raw SIP peer over a real UDP socket: sends any bytes (well formed or
//! not) and reads the answers, for the hostile-input tests.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::UdpSocket;

/// How long any answer may take before the test fails.
pub const ANSWER_WAIT: Duration = Duration::from_secs(5);

/// A SIP peer on 127.0.0.1 with its own UDP socket, plus an RTP socket.
pub struct RawPeer {
    pub sip: UdpSocket,
    pub rtp: UdpSocket,
    pub target: SocketAddr,
}

/// An answered call: what in-dialog requests need.
pub struct Dialog {
    pub call_id: String,
    pub from: String,
    pub to: String,
    pub contact: String,
    /// The attendant's RTP address from its SDP answer.
    pub remote_rtp: SocketAddr,
    pub cseq: u32,
}

impl RawPeer {
    pub async fn new(target: SocketAddr) -> RawPeer {
        RawPeer {
            sip: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            rtp: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            target,
        }
    }

    pub fn port(&self) -> u16 {
        self.sip.local_addr().unwrap().port()
    }

    pub async fn send(&self, bytes: &[u8]) {
        self.sip.send_to(bytes, self.target).await.unwrap();
    }

    /// The next SIP message received, or `None` after `wait`.
    pub async fn recv(&self, wait: Duration) -> Option<String> {
        let mut buf = vec![0u8; 65_535];
        match tokio::time::timeout(wait, self.sip.recv_from(&mut buf)).await {
            Ok(Ok((len, _))) => Some(String::from_utf8_lossy(&buf[..len]).into_owned()),
            _ => None,
        }
    }

    /// The next final response (1xx skipped); panics after [`ANSWER_WAIT`].
    pub async fn final_response(&self) -> String {
        loop {
            let message = self.recv(ANSWER_WAIT).await.expect("no answer from the attendant");
            if message.starts_with("SIP/2.0 1") {
                continue;
            }
            if message.starts_with("SIP/2.0 ") {
                return message;
            }
        }
    }

    /// The next final response whose CSeq names `method`.
    pub async fn final_response_to(&self, method: &str) -> String {
        loop {
            let response = self.final_response().await;
            if header(&response, "CSeq").is_some_and(|c| c.ends_with(method)) {
                return response;
            }
        }
    }

    /// Send a request and return its final response, retransmitting it every
    /// 500 ms (T1) like a real UA (RFC 3261 Timer E): a request that races the
    /// ACK is only answered on a retransmission.
    pub async fn transact(&self, request: &str, method: &str) -> String {
        for _ in 0..10 {
            self.send(request.as_bytes()).await;
            let deadline = tokio::time::Instant::now() + Duration::from_millis(500);
            loop {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                let Some(message) = self.recv(left).await else { break };
                if message.starts_with("SIP/2.0 ")
                    && !message.starts_with("SIP/2.0 1")
                    && header(&message, "CSeq").is_some_and(|c| c.ends_with(method))
                {
                    return message;
                }
            }
        }
        panic!("no final answer to {method}");
    }

    /// The next request the attendant sends with `method`, or `None` after `wait`.
    pub async fn request(&self, method: &str, wait: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let message = self.recv(left).await?;
            if message.starts_with(&format!("{method} ")) {
                return Some(message);
            }
        }
    }

    /// Answer a request the attendant sent with `status`.
    pub async fn answer(&self, request: &str, status: u16, phrase: &str) {
        let mut response = format!("SIP/2.0 {status} {phrase}\r\n");
        for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
            if let Some(value) = header(request, name) {
                response.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        response.push_str("Content-Length: 0\r\n\r\n");
        self.send(response.as_bytes()).await;
    }

    /// Headers every request of this peer carries.
    pub fn headers(&self, call_id: &str, cseq: u32, method: &str) -> String {
        format!(
            "Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-{call_id}-{cseq};rport\r\n\
             From: <sip:0612345678@127.0.0.1:{port}>;tag=caller\r\n\
             To: <sip:1000@127.0.0.1>\r\n\
             Call-ID: {call_id}\r\n\
             CSeq: {cseq} {method}\r\n\
             Max-Forwards: 70\r\n",
            port = self.port()
        )
    }

    /// Our SDP offer: PCMU and telephone-event 101, RTP on our socket.
    pub fn offer(&self) -> String {
        let port = self.rtp.local_addr().unwrap().port();
        format!(
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
             a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n"
        )
    }

    pub fn invite(&self, call_id: &str, sdp: &str) -> String {
        format!(
            "INVITE sip:1000@127.0.0.1 SIP/2.0\r\n{}Contact: <sip:caller@127.0.0.1:{}>\r\n\
             Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
            self.headers(call_id, 1, "INVITE"),
            self.port(),
            sdp.len()
        )
    }

    /// INVITE with `sdp`, and the final answer.
    pub async fn call_with(&self, call_id: &str, sdp: &str) -> String {
        self.send(self.invite(call_id, sdp).as_bytes()).await;
        self.final_response().await
    }

    /// INVITE, 200 OK, ACK: an answered call (panics otherwise).
    pub async fn answered_call(&self, call_id: &str) -> Dialog {
        let response = self.call_with(call_id, &self.offer()).await;
        assert!(response.starts_with("SIP/2.0 200"), "call not answered: {response}");
        assert!(header(&response, "CSeq").is_some_and(|c| c.ends_with("INVITE")), "{response}");
        let to = header(&response, "To").expect("To in 200");
        let contact = header(&response, "Contact").expect("Contact in 200");
        let contact = contact.trim_start_matches('<').split('>').next().unwrap().to_string();
        let (_, body) = response.split_once("\r\n\r\n").expect("SDP in 200");
        let ip = body.lines().find_map(|l| l.strip_prefix("c=IN IP4 ")).expect("c= line").trim();
        let port = body
            .lines()
            .find_map(|l| l.strip_prefix("m=audio "))
            .and_then(|l| l.split(' ').next())
            .expect("m= line");
        let dialog = Dialog {
            call_id: call_id.to_string(),
            from: format!("<sip:0612345678@127.0.0.1:{}>;tag=caller", self.port()),
            to,
            contact,
            remote_rtp: format!("{ip}:{port}").parse().unwrap(),
            cseq: 1,
        };
        self.send(self.in_dialog(&dialog, 1, "ACK", "", "").as_bytes()).await;
        dialog
    }

    /// An in-dialog request of `dialog`.
    pub fn in_dialog(&self, dialog: &Dialog, cseq: u32, method: &str, extra: &str, body: &str) -> String {
        format!(
            "{method} {contact} SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-{id}-{method}-{cseq};rport\r\n\
             From: {from}\r\nTo: {to}\r\nCall-ID: {id}\r\nCSeq: {cseq} {method}\r\nMax-Forwards: 70\r\n\
             {extra}Content-Length: {len}\r\n\r\n{body}",
            contact = dialog.contact,
            port = self.port(),
            id = dialog.call_id,
            from = dialog.from,
            to = dialog.to,
            len = body.len(),
        )
    }

    /// BYE, answered 200 (panics otherwise). Requests the attendant sends
    /// meanwhile (e.g. its own BYE) are skipped.
    pub async fn hang_up(&self, dialog: &mut Dialog) {
        dialog.cseq += 1;
        let response = self.transact(&self.in_dialog(dialog, dialog.cseq, "BYE", "", ""), "BYE").await;
        assert!(response.starts_with("SIP/2.0 200"), "BYE not answered 200: {response}");
    }

    /// A whole call (INVITE, 200, ACK, BYE, 200): the attendant still works.
    pub async fn check_a_call_works(&self, call_id: &str) {
        let mut dialog = self.answered_call(call_id).await;
        self.hang_up(&mut dialog).await;
    }
}

/// The value of the first header `name` in a message.
pub fn header(message: &str, name: &str) -> Option<String> {
    message.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

/// The status code of a response.
pub fn status(message: &str) -> u16 {
    message.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}
