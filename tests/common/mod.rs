//! Helpers shared by the end-to-end tests: free ports, and real SIP peers
//! (SIPp, baresip) run as bounded child processes.
#![allow(dead_code)]

pub mod attendant;
pub mod capture;
pub mod raw_sip;
pub mod speech;

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

/// Fails the test (never skips) when a peer program is missing.
pub fn require_tool(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "`{name}` is not installed: run `make setup` (it installs sip-tester and baresip); this test does not skip"
        )
    })
}

/// A UDP port free right now on 127.0.0.1.
/// A block of RTP ports for one test attendant. Tests run in parallel (nextest
/// gives each its own process), so each attendant gets ports, and a capture
/// filter, that no other test uses.
pub struct RtpBlock {
    pub min: u16,
    pub max: u16,
    /// Held for the block's lifetime: the odd port just below the block. The
    /// attendant binds only even ports inside the block, so this claims the block
    /// against other test processes without taking a port the attendant needs.
    _reservation: UdpSocket,
}

impl RtpBlock {
    const FIRST: u16 = 10_000;
    const SIZE: u16 = 100;
    /// Blocks stay below the kernel's ephemeral range (32768 and up), where SIPp
    /// and the tests' own sockets get their ports.
    const COUNT: u16 = 220;

    pub fn reserve() -> RtpBlock {
        let start = (std::process::id() as u16).wrapping_mul(7919) % Self::COUNT;
        for i in 0..Self::COUNT {
            let min = Self::FIRST + ((start + i) % Self::COUNT) * Self::SIZE;
            if let Ok(socket) = UdpSocket::bind(("127.0.0.1", min - 1)) {
                return RtpBlock {
                    min,
                    max: min + Self::SIZE - 2,
                    _reservation: socket,
                };
            }
        }
        panic!(
            "no free block of RTP ports between {} and {}",
            Self::FIRST,
            Self::FIRST + Self::COUNT * Self::SIZE
        );
    }

    /// tcpdump filter for this block's traffic.
    pub fn capture_filter(&self) -> String {
        format!("udp and portrange {}-{}", self.min, self.max)
    }
}

pub fn free_udp_port() -> u16 {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind an ephemeral UDP port");
    socket.local_addr().expect("local addr").port()
}

/// An even port `p` with `p..=p+3` free for UDP right now on 127.0.0.1: SIPp's
/// `-mp` binds the audio RTP and RTCP ports and the video pair above them, so a
/// single free port is not enough (a taken `p+2` made SIPp exit with
/// "Unable to bind video RTP socket").
pub fn free_sipp_media_port() -> u16 {
    loop {
        let probe = free_udp_port() & !1;
        let held: Vec<UdpSocket> = (0..4).filter_map(|i| UdpSocket::bind(("127.0.0.1", probe.checked_add(i)?)).ok()).collect();
        if held.len() == 4 {
            return probe;
        }
    }
}

/// A port free for both UDP and TCP right now on 127.0.0.1.
pub fn free_udp_tcp_port() -> u16 {
    loop {
        let tcp = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral TCP port");
        let port = tcp.local_addr().expect("local addr").port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Path of a SIPp scenario under tests/sipp.
pub fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sipp")
        .join(name)
}

/// A SIPp process, killed when dropped.
pub struct Sipp {
    child: Child,
    pub port: u16,
    pub media_port: u16,
    log_dir: tempfile::TempDir,
}

impl Sipp {
    /// Start SIPp running `scenario` once against `target`, as a UAC dialling
    /// `service` (the Request-URI user part). `extra` args are appended.
    pub fn uac(scenario_name: &str, target: SocketAddr, service: &str, extra: &[&str]) -> Sipp {
        let mut args: Vec<String> = vec!["-s".into(), service.into()];
        args.extend(extra.iter().map(|s| s.to_string()));
        args.push(target.to_string());
        let scenario_args = [
            "-sf".to_string(),
            scenario(scenario_name).display().to_string(),
        ];
        Sipp::start(&scenario_args, &args)
    }

    /// Start SIPp's built-in UAS (`-sn uas`) for one call: it answers an
    /// INVITE with 180 and 200 and expects the caller's BYE.
    pub fn builtin_uas() -> Sipp {
        Sipp::start(&["-sn".to_string(), "uas".to_string()], &[])
    }

    /// Start SIPp with a scenario (`-sf FILE` or `-sn NAME`) and arguments
    /// (local address options added).
    pub fn start(scenario_args: &[String], args: &[String]) -> Sipp {
        require_tool("sipp");
        let port = free_udp_port();
        let media_port = free_sipp_media_port();
        let log_dir = tempfile::tempdir().expect("temp dir");
        let child = Command::new("sipp")
            .current_dir(log_dir.path())
            .args(scenario_args)
            .args(["-m", "1", "-i", "127.0.0.1", "-mi", "127.0.0.1"])
            .args(["-p", &port.to_string(), "-mp", &media_port.to_string()])
            .args([
                "-timeout",
                "30s",
                "-timeout_error",
                "-trace_err",
                "-trace_msg",
                "-nostdin",
            ])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start sipp");
        Sipp {
            child,
            port,
            media_port,
            log_dir,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Wait for SIPp to end (at most `limit`) and assert it ran its scenario
    /// through; on failure, print its message and error logs.
    pub async fn expect_success(mut self, limit: Duration) {
        let status = match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(status) => status.expect("wait for sipp"),
            Err(_) => {
                self.child.kill().await.ok();
                panic!("sipp did not finish within {limit:?}\n{}", self.logs());
            }
        };
        assert!(status.success(), "sipp failed ({status})\n{}", self.logs());
    }

    /// Wait for SIPp to end and assert it failed (the scenario did not complete);
    /// returns its logs, to check why.
    pub async fn expect_failure(mut self, limit: Duration) -> String {
        let status = match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(status) => status.expect("wait for sipp"),
            Err(_) => {
                self.child.kill().await.ok();
                panic!("sipp did not finish within {limit:?}\n{}", self.logs());
            }
        };
        assert!(
            !status.success(),
            "sipp unexpectedly succeeded\n{}",
            self.logs()
        );
        self.logs()
    }

    /// Wait for SIPp to end (at most `limit`, then it is killed) and say
    /// whether it ran its scenario through, for tests that count failures.
    pub async fn succeeded(mut self, limit: Duration) -> bool {
        match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(status) => status.is_ok_and(|s| s.success()),
            Err(_) => {
                self.child.kill().await.ok();
                false
            }
        }
    }

    /// The contents of SIPp's log files (messages and errors), for diagnostics.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        if let Ok(entries) = std::fs::read_dir(self.log_dir.path()) {
            for entry in entries.flatten() {
                let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                let tail: String = text
                    .chars()
                    .rev()
                    .take(6000)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                out.push_str(&format!("==== {}\n{}\n", entry.path().display(), tail));
            }
        }
        out
    }
}
