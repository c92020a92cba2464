//! End to end: registration with SIPp as the registrar. The attendant answers
//! the 401 challenge with a digest SIPp verifies, honours the registrar's
//! granted 5 s by refreshing within it (not sooner than a few seconds), sends
//! `Expires: 0` when drained or shut down; with a wrong password it retries with a growing
//! delay instead of a tight loop; and no log line, even at trace level, shows
//! the password.

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use attendant::sip::registration::{FailureReason, Password, RegistrationTransport};
use attendant::sip::{RegistrationAccount, RegistrationState};
use common::attendant::{self as harness, TestOptions};
use common::{Sipp, scenario};

const RIGHT_PASSWORD: &str = "right-pa55";
const WRONG_PASSWORD: &str = "wrong-Pa55-7731";

/// Everything logged by this test process, at trace level for every crate
/// (rsipstack prints whole SIP messages there).
fn captured_logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        tracing_subscriber::fmt()
            .with_env_filter("trace")
            .with_ansi(false)
            .with_writer(move || LogSink(sink.clone()))
            .init();
        logs
    })
}

struct LogSink(Arc<Mutex<Vec<u8>>>);

impl Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logs_text() -> String {
    String::from_utf8_lossy(&captured_logs().lock().unwrap()).into_owned()
}

fn account(registrar: SocketAddr, password: &str, retry_initial: Duration, retry_max: Duration) -> RegistrationAccount {
    RegistrationAccount {
        registrar: format!("sip:{registrar}"),
        user: "store-1000".to_string(),
        auth_username: None,
        password: Some(Password::new(password)),
        // The registrar grants 5 s whatever we ask: the refresh must follow it.
        expires: 3600,
        transport: RegistrationTransport::Udp,
        outbound_proxy: None,
        retry_initial,
        retry_max,
    }
}

fn registrar(name: &str) -> Sipp {
    Sipp::start(&["-sf".to_string(), scenario(name).display().to_string()], &[])
}

/// Poll the first registration's state until `done` holds (at most `limit`).
async fn wait_for_registration(
    attendant: &harness::TestAttendant,
    limit: Duration,
    done: impl Fn(&attendant::sip::RegistrationStatus) -> bool,
) -> attendant::sip::RegistrationStatus {
    let waited = tokio::time::timeout(limit, async {
        loop {
            let status = attendant.server().registrations().remove(0);
            if done(&status) {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    waited.unwrap_or_else(|_| {
        panic!(
            "registration not as expected within {limit:?}: {:?}",
            attendant.server().registrations()
        )
    })
}

/// How the test ends the attendant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// `Server::drain`, as on SIGTERM.
    Drain,
    /// `Server::shutdown` and `wait` with no drain before.
    Shutdown,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_with_digest_refreshes_within_the_granted_lifetime_and_unregisters_on_drain() {
    register_refresh_then(RegistrationTransport::Udp, Ending::Drain).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unregisters_on_shutdown_without_a_drain() {
    register_refresh_then(RegistrationTransport::Udp, Ending::Shutdown).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_refreshes_and_unregisters_over_tcp() {
    register_refresh_then(RegistrationTransport::Tcp, Ending::Drain).await;
}

async fn register_refresh_then(transport: RegistrationTransport, ending: Ending) {
    captured_logs();
    let sipp = match transport {
        RegistrationTransport::Udp => registrar("registrar_refresh_unregister.xml"),
        // SIPp answers on the connection the attendant opens to it.
        RegistrationTransport::Tcp => Sipp::start(
            &[
                "-sf".to_string(),
                scenario("registrar_refresh_unregister.xml").display().to_string(),
            ],
            &["-t".to_string(), "t1".to_string()],
        ),
    };
    let mut registration = account(
        sipp.addr(),
        RIGHT_PASSWORD,
        Duration::from_secs(1),
        Duration::from_secs(2),
    );
    registration.transport = transport;
    let attendant = harness::start(TestOptions {
        registrations: vec![registration],
        ..TestOptions::default()
    })
    .await;

    let first = wait_for_registration(&attendant, Duration::from_secs(10), |s| s.registered_count >= 1).await;
    let registered_at = tokio::time::Instant::now();
    assert_eq!(
        first.state,
        RegistrationState::Registered { granted: 5 },
        "the registrar's 5 s, not the 3600 asked"
    );
    assert_eq!(first.aor, format!("sip:store-1000@{}", sipp.addr()));

    wait_for_registration(&attendant, Duration::from_secs(6), |s| s.registered_count >= 2).await;
    let refreshed_after = registered_at.elapsed();
    // 80 % of 5 s, counted from the first REGISTER: about 4 s after the first
    // 200 (SIPp itself checks it came before the 5 s ran out).
    assert!(
        refreshed_after > Duration::from_millis(3000) && refreshed_after < Duration::from_millis(5000),
        "refresh {refreshed_after:?} after the first registration"
    );

    match ending {
        Ending::Drain => {
            // The drain removes the binding alongside the wait for calls.
            assert!(
                attendant.server().drain(Duration::from_secs(5)).await,
                "no calls to wait for"
            );
            assert_eq!(
                attendant.server().registrations()[0].state,
                RegistrationState::Unregistered
            );
            sipp.expect_success(Duration::from_secs(10)).await;
            attendant.stop().await;
        }
        Ending::Shutdown => {
            attendant.stop().await;
            // SIPp succeeds only once it has received and checked the Expires: 0.
            sipp.expect_success(Duration::from_secs(10)).await;
        }
    }

    let logs = logs_text();
    assert!(logs.contains("registered") && logs.contains("unregistered"), "{logs}");
    assert!(
        logs.contains("Authorization: Digest"),
        "the trace level shows the messages: {logs}"
    );
    assert!(!logs.contains(RIGHT_PASSWORD), "the password appears in the logs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_refused_and_retried_with_a_growing_delay() {
    captured_logs();
    let sipp = registrar("registrar_wrong_password.xml");
    let started = tokio::time::Instant::now();
    let attendant = harness::start(TestOptions {
        registrations: vec![account(
            sipp.addr(),
            WRONG_PASSWORD,
            Duration::from_secs(1),
            Duration::from_secs(60),
        )],
        ..TestOptions::default()
    })
    .await;

    // Three refused attempts: retries after about 1 s then 2 s (jitter takes
    // at most a fifth off), so at least 2.4 s; a tight loop would take
    // milliseconds.
    sipp.expect_success(Duration::from_secs(15)).await;
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(2400), "three attempts in {took:?}");
    let status = wait_for_registration(&attendant, Duration::from_secs(2), |s| {
        matches!(s.state, RegistrationState::Retrying { failures: 3.., .. })
    })
    .await;
    assert_eq!(
        status.state,
        RegistrationState::Retrying {
            failures: 3,
            reason: FailureReason::Rejected { status: 403 }
        },
        "the fourth attempt is about 4 s away"
    );
    assert_eq!(status.registered_count, 0);
    attendant.stop().await;

    let logs = logs_text();
    assert!(
        logs.contains("registration failed") && logs.contains("rejected with 403"),
        "{logs}"
    );
    assert!(!logs.contains(WRONG_PASSWORD), "the password appears in the logs");
}

/// A registrar of our own, for digest algorithms SIPp cannot check: it
/// challenges one REGISTER with `algorithm`, checks the SHA-256 digest of
/// the retry itself (RFC 7616 §3.4.1, `qop=auth`, computed here with `sha2`),
/// and answers 200 (`Expires: 60`) or 403. Returns whether the digest checked
/// out, or `None` if no authenticated REGISTER came within `limit`.
async fn sha256_registrar(
    socket: tokio::net::UdpSocket,
    algorithm: &str,
    password: &str,
    limit: Duration,
) -> Option<bool> {
    use sha2::{Digest, Sha256};
    let hex = |text: String| {
        Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let mut buf = vec![0u8; 65_535];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let (len, from) = tokio::time::timeout_at(deadline, socket.recv_from(&mut buf))
            .await
            .ok()?
            .ok()?;
        let request = String::from_utf8_lossy(&buf[..len]).into_owned();
        if !request.starts_with("REGISTER ") {
            continue;
        }
        let header = |name: &str| {
            request
                .lines()
                .find(|line| {
                    line.to_ascii_lowercase()
                        .starts_with(&format!("{}:", name.to_ascii_lowercase()))
                })
                .map(|line| line.to_string())
        };
        let echoed: String = ["Via", "From", "To", "Call-ID", "CSeq"]
            .iter()
            .filter_map(|name| header(name))
            .map(|line| {
                if line.starts_with("To:") {
                    format!("{line};tag=reg\r\n")
                } else {
                    format!("{line}\r\n")
                }
            })
            .collect();
        let Some(authorization) = header("Authorization") else {
            let challenge = format!(
                "SIP/2.0 401 Unauthorized\r\n{echoed}WWW-Authenticate: Digest realm=\"attendant.test\", nonce=\"sha-nonce\", qop=\"auth\", algorithm={algorithm}\r\nContent-Length: 0\r\n\r\n"
            );
            socket.send_to(challenge.as_bytes(), from).await.ok()?;
            continue;
        };
        let param = |name: &str| {
            authorization.split([',', ' ']).find_map(|part| {
                let (key, value) = part.trim().split_once('=')?;
                (key == name).then(|| value.trim_matches('"').to_string())
            })
        };
        let (user, realm, nonce, uri, nc, cnonce, response) = (
            param("username")?,
            param("realm")?,
            param("nonce")?,
            param("uri")?,
            param("nc")?,
            param("cnonce")?,
            param("response")?,
        );
        let ha1 = hex(format!("{user}:{realm}:{password}"));
        let ha2 = hex(format!("REGISTER:{uri}"));
        let verified = user == "store-1000" && response == hex(format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"));
        let answer = if verified {
            format!("SIP/2.0 200 OK\r\n{echoed}Expires: 60\r\nContent-Length: 0\r\n\r\n")
        } else {
            format!("SIP/2.0 403 Forbidden\r\n{echoed}Content-Length: 0\r\n\r\n")
        };
        socket.send_to(answer.as_bytes(), from).await.ok()?;
        return Some(verified);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sha256_challenges_are_answered_and_rfc8760_spelling_is_reported() {
    captured_logs();
    // (algorithm in the challenge, digest checked by the registrar, state after)
    let cases = [
        ("SHA256", Some(true), RegistrationState::Registered { granted: 60 }),
        (
            "SHA-256",
            None,
            RegistrationState::Retrying {
                failures: 1,
                reason: FailureReason::UnusableAnswer,
            },
        ),
    ];
    for (algorithm, verified, state) in cases {
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let registrar = tokio::spawn(sha256_registrar(
            socket,
            algorithm,
            RIGHT_PASSWORD,
            Duration::from_secs(3),
        ));
        let attendant = harness::start(TestOptions {
            registrations: vec![account(
                addr,
                RIGHT_PASSWORD,
                Duration::from_secs(30),
                Duration::from_secs(60),
            )],
            ..TestOptions::default()
        })
        .await;
        assert_eq!(registrar.await.unwrap(), verified, "{algorithm}");
        let status = wait_for_registration(&attendant, Duration::from_secs(5), |s| {
            s.state != RegistrationState::Registering
        })
        .await;
        assert_eq!(status.state, state, "{algorithm}");
        attendant.stop().await;
    }
    assert!(
        !logs_text().contains(RIGHT_PASSWORD),
        "the password appears in the logs"
    );
}
